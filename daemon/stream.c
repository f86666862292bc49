/*
 * stream.c - sending a range of a blob: read off the loop by the workers
 * into the shared buffers, handed to the connection by reference (no
 * copy), refilled as the socket takes them.
 *
 * Flow control: a stream owns at most BOUND_STREAM_DEPTH buffers, counting the
 * one being read and those still in the connection's output; a buffer
 * comes back when evbuffer has written its last byte to the socket (the
 * reference's cleanup callback), and only then is the next read started.
 * A client that stops reading therefore holds BOUND_STREAM_DEPTH buffers and
 * nothing more, and the others go on; its write time-out closes it, or,
 * when every buffer is held and others wait, stall_check() does sooner.
 *
 * One read is out at a time, so the buffers reach the socket in order.
 * Each read is one short store_blob_read() call: no transaction lives
 * across a slow client.  A read that fails or comes back short ends the
 * connection without another byte: a client sees a truncated body, never
 * a wrong one.
 *
 * With sendfile (the default), a stream sends windows instead of
 * buffers: a worker opens a store view, finds where the window's chunks
 * lie in the data file (extents.c) and waits for any of them that are
 * not in the page cache; the loop then hands those extents to the socket
 * as file segments, which evbuffer writes with sendfile(2), and the
 * bytes are never copied into airlockd.  The view, and with it the read
 * transaction that keeps those pages from reuse, is closed when the last
 * byte of the window is sent.  Each place sent is one that view vouches
 * for: a chunk with pages of its own is where any view of the cache
 * entry's generation found it, and a small chunk, which lies in a leaf
 * page that writes move, is looked up again under the window's view.
 * Windows, like buffers, are counted: each holds one of LMDB's reader
 * slots.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "airlockd.h"

#define WINDOW_EXTENTS	(BOUND_STREAM_WINDOW / STORE_CHUNK_MIN + 2)

struct window {
	struct stream		*w_st;
	struct store_view	*w_view;
	uint64_t		 w_len;
	size_t			 w_n;
	struct store_extent	 w_ext[WINDOW_EXTENTS];	/* at, len trimmed */
};

struct stream {
	TAILQ_ENTRY(stream)	 st_entry;	/* all streams */
	TAILQ_ENTRY(stream)	 st_wait;	/* waiting for a buffer */
	struct server		*st_srv;
	struct evhttp_request	*st_ev;		/* NULL once ended or gone */
	struct conn		*st_conn;
	struct evhttp_connection *st_evcon;
	struct evbuffer		*st_evb;
	uint8_t			 st_blob[STORE_HASH_LEN];
	uint64_t		 st_next;	/* next offset to read */
	uint64_t		 st_end;
	int			 st_refs;	/* see unref() */
	int			 st_owned;	/* buffers read or being sent */
	int			 st_reading;
	int			 st_waiting;
	int			 st_done;	/* ended, failed or gone */
	int			 st_sendfile;	/* windows, not buffers */
	int			 st_corked;
	time_t			 st_progress;	/* when the socket last took a buffer */

	/* The read under way. */
	struct job		 st_job;
	struct buf		*st_buf;
	struct window		*st_win;
	uint64_t		 st_off;
	size_t			 st_len;
	size_t			 st_got;
	int			 st_rc;
	char			 st_err[256];
};

static TAILQ_HEAD(, stream) streams = TAILQ_HEAD_INITIALIZER(streams);
static TAILQ_HEAD(, stream) waiters = TAILQ_HEAD_INITIALIZER(waiters);
static struct event	*stall_ev;	/* pending while streams wait */
static int		 nwindows;	/* being filled or sent */
static int		 sendfile_ok;	/* the store can give extents */

static time_t
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void	pump(struct stream *);

/*
 * With sendfile, each call ends a chunk mid-segment; corked, the socket
 * fills whole segments across calls instead of sending a short one per
 * chunk (nginx's tcp_nopush).  Uncorking sends what is left.
 */
static void
cork(struct stream *st, int on)
{
	struct bufferevent *bev;
	evutil_socket_t fd;

	if (!st->st_corked == !on || st->st_evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(st->st_evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) == -1)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0)
		st->st_corked = on;
}

/*
 * References: the stream's own, dropped when it finishes; one for the
 * read under way; one for each buffer not yet sent.  Each entry point
 * holds one of them while it works.
 */
static void
unref(struct stream *st)
{
	if (--st->st_refs > 0)
		return;
	if (st->st_waiting)
		TAILQ_REMOVE(&waiters, st, st_wait);
	TAILQ_REMOVE(&streams, st, st_entry);
	if (st->st_evb != NULL)
		evbuffer_free(st->st_evb);
	free(st);
}

/*
 * The stream has nothing more to send, for whatever reason.  Drops the
 * stream's own reference: the caller must hold another.
 */
static void
finish(struct stream *st)
{
	struct server *srv = st->st_srv;

	if (st->st_done)
		return;
	st->st_done = 1;
	cork(st, 0);
	conn_unset_stream(st->st_conn, st);
	st->st_conn = NULL;
	st->st_evcon = NULL;
	srv->srv_nstreams--;
	st->st_refs--;
	http_request_done(srv);
}

/*
 * Hands the evhttp request back once the last bytes are queued.  The
 * stream stays on the connection until the socket has taken them: until
 * then it holds buffers or windows, and stall_check() may cut it off.
 */
static void
end_reply(struct stream *st)
{
	struct evhttp_request *ev = st->st_ev;

	st->st_ev = NULL;
	if (ev != NULL) {
		conn_track_flush(st->st_conn, ev);
		/* With nothing left to write, may close: stream_gone(). */
		evhttp_send_reply_end(ev);
	}
	if (st->st_owned == 0)
		finish(st);
}

/* A buffer or window came back: the socket took all of it. */
static void
returned(struct stream *st)
{
	st->st_progress = monotime();
	st->st_owned--;
	if (!st->st_done && st->st_ev == NULL && st->st_owned == 0)
		finish(st);	/* the reply was ended: that was the last */
	else
		pump(st);
	stream_kick_waiters();
	unref(st);
}

/* The reference's cleanup: the socket has taken every byte of b. */
static void
buf_sent(const void *data, size_t len, void *arg)
{
	struct buf *b = arg;
	struct stream *st = b->b_owner;

	(void)data, (void)len;
	buf_put(b);
	returned(st);
}

static void
window_free(struct window *w)
{
	store_view_close(w->w_view);
	free(w);
	nwindows--;
}

/* The segment's cleanup: the socket has taken every byte of w. */
static void
window_sent(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
	struct window *w = arg;
	struct stream *st = w->w_st;

	(void)seg, (void)flags;
	window_free(w);
	returned(st);
}

/*
 * Brings the window's extents into the page cache.  Chunks written
 * together lie a page header apart in the file: each run of them is one
 * call, not one per chunk.
 */
static int
prefetch(struct window *w)
{
	uint64_t lo = 0, hi = 0;
	size_t i;
	int rc;

	for (i = 0; i < w->w_n; i++) {
		const struct store_extent *e = &w->w_ext[i];

		if (i > 0 && e->at >= hi && e->at - hi <= BOUND_PREFETCH_GAP) {
			hi = e->at + e->len;
			continue;
		}
		if (i > 0 && (rc = store_view_prefetch(w->w_view, lo,
		    hi - lo)) != 0)
			return rc;
		lo = e->at;
		hi = e->at + e->len;
	}
	return w->w_n > 0 ? store_view_prefetch(w->w_view, lo, hi - lo) : 0;
}

/*
 * On a worker: the extents of the next window, from st_off on, each of
 * them in the page cache when this returns.
 */
static int
window_fill(struct stream *st)
{
	struct window *w = st->st_win;
	struct extents *ex;
	uint64_t off = st->st_off, left = st->st_end - st->st_off;
	size_t i;
	int rc;

	if ((rc = store_view_open(server->srv_store, &w->w_view)) != 0)
		return rc;
	if ((ex = extents_get(w->w_view, st->st_blob)) == NULL)
		return -1;
	if (ex->ex_n == 0) {
		extents_put(ex);
		return 0;
	}
	for (i = extents_find(ex, off); i < ex->ex_n && left > 0 &&
	    w->w_len < BOUND_STREAM_WINDOW && w->w_n < WINDOW_EXTENTS; i++) {
		const struct store_extent *e = &ex->ex_ext[i];
		struct store_extent *o = &w->w_ext[w->w_n], here;
		uint64_t skip = off - e->off;

		if (off < e->off || skip >= e->len)
			break;
		/* In a leaf: where this window's view has it (store.h). */
		if (e->flags & STORE_EXTENT_LEAF) {
			if ((rc = store_view_extent(w->w_view, st->st_blob,
			    e->off, &here)) != 0)
				break;
			if (here.len != e->len) {
				snprintf(st->st_err, sizeof(st->st_err), "the "
				    "chunk at offset %llu has %u bytes, not %u",
				    (unsigned long long)e->off, here.len,
				    e->len);
				rc = -1;
				break;
			}
			e = &here;
		}
		o->off = off;
		o->at = e->at + skip;
		o->len = (uint32_t)(e->len - skip < left ? e->len - skip : left);
		w->w_n++;
		w->w_len += o->len;
		off += o->len;
		left -= o->len;
	}
	extents_put(ex);
	return rc != 0 ? rc : prefetch(w);
}

static void
read_run(struct job *j)
{
	struct stream *st = (struct stream *)((char *)j -
	    offsetof(struct stream, st_job));

	if (st->st_sendfile) {
		st->st_rc = window_fill(st);
		st->st_got = st->st_win->w_len;
	} else
		st->st_rc = store_blob_read(server->srv_store, st->st_blob,
		    st->st_off, st->st_buf->b_data, st->st_len, &st->st_got);
	if (st->st_rc != 0 && st->st_err[0] == '\0')
		snprintf(st->st_err, sizeof(st->st_err), "%s",
		    store_lasterror());
	pool_trim_map();
}

/*
 * Ends the response early, by dropping the connection: the client sees
 * fewer bytes than Content-Length promised, never a wrong one.  evhttp
 * frees the request with the connection, and the buffers in its output
 * come back through buf_sent().
 */
static void
abort_stream(struct stream *st)
{
	struct evhttp_connection *evcon = st->st_done ? NULL : st->st_evcon;

	st->st_ev = NULL;
	finish(st);
	if (evcon != NULL)
		evhttp_connection_free(evcon);
}

/* A read or window failed: say so and end the connection. */
static void
read_failed(struct stream *st, const char *why)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(st->st_blob, STORE_HASH_LEN, hex);
	log_warnx("blob %s at %llu: %s", hex, (unsigned long long)st->st_off,
	    st->st_rc != 0 ? st->st_err : why);
	abort_stream(st);
}

/* n more bytes are in st_evb, each holding what it was read into. */
static void
queued(struct stream *st, uint64_t n)
{
	st->st_next += n;
	metrics_bytes(n);
	evhttp_send_reply_chunk(st->st_ev, st->st_evb);
	/* If evhttp did not take them, draining them gives them back. */
	if (evbuffer_get_length(st->st_evb) != 0)
		evbuffer_drain(st->st_evb, evbuffer_get_length(st->st_evb));
	if (st->st_next >= st->st_end)
		end_reply(st);
	else
		pump(st);
}

/*
 * On the loop: the window's extents go to the connection as segments of
 * the data file, one segment spanning them all, whose cleanup ends the
 * window.
 */
static void
window_done(struct stream *st)
{
	struct window *w = st->st_win;
	struct evbuffer_file_segment *seg;
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i;

	st->st_win = NULL;
	if (st->st_done || st->st_rc != 0 || w->w_len == 0) {
		st->st_owned--;
		window_free(w);
		if (!st->st_done)
			read_failed(st, "no extents");
		return;
	}
	for (i = 0; i < w->w_n; i++) {
		if (w->w_ext[i].at < lo)
			lo = w->w_ext[i].at;
		if (w->w_ext[i].at + w->w_ext[i].len > hi)
			hi = w->w_ext[i].at + w->w_ext[i].len;
	}
	seg = evbuffer_file_segment_new(store_view_fd(w->w_view), (ev_off_t)lo,
	    (ev_off_t)(hi - lo), EVBUF_FS_DISABLE_LOCKING);
	if (seg == NULL) {
		st->st_owned--;
		window_free(w);
		read_failed(st, "evbuffer_file_segment_new failed");
		return;
	}
	st->st_refs++;		/* the window's, dropped by window_sent() */
	evbuffer_file_segment_add_cleanup_cb(seg, window_sent, w);
	for (i = 0; i < w->w_n; i++)
		if (evbuffer_add_file_segment(st->st_evb, seg,
		    (ev_off_t)(w->w_ext[i].at - lo),
		    (ev_off_t)w->w_ext[i].len) != 0)
			break;
	if (i < w->w_n) {
		st->st_refs++;
		read_failed(st, "evbuffer_add_file_segment failed");
		evbuffer_drain(st->st_evb, evbuffer_get_length(st->st_evb));
		evbuffer_file_segment_free(seg);	/* runs window_sent() */
		unref(st);
		return;
	}
	evbuffer_file_segment_free(seg);	/* the chains hold it now */
	queued(st, w->w_len);
}

static void
read_done(struct job *j)
{
	struct stream *st = (struct stream *)((char *)j -
	    offsetof(struct stream, st_job));
	struct buf *b = st->st_buf;

	/* The read's reference is this function's until it returns. */
	st->st_reading = 0;
	if (st->st_sendfile) {
		window_done(st);
		goto out;
	}
	st->st_buf = NULL;
	if (st->st_done || st->st_rc != 0 || st->st_got != st->st_len) {
		st->st_owned--;
		buf_put(b);
		if (!st->st_done)
			read_failed(st, "short read");
		goto out;
	}
	b->b_len = st->st_got;
	b->b_owner = st;
	st->st_refs++;		/* the buffer's */
	if (evbuffer_add_reference(st->st_evb, b->b_data, b->b_len, buf_sent,
	    b) != 0) {
		st->st_refs--;
		st->st_owned--;
		buf_put(b);
		read_failed(st, "evbuffer_add_reference failed");
		goto out;
	}
	queued(st, b->b_len);
out:
	stream_kick_waiters();
	unref(st);
}

static void
wait_turn(struct stream *st)
{
	st->st_waiting = 1;
	TAILQ_INSERT_TAIL(&waiters, st, st_wait);
	if (stall_ev != NULL && !evtimer_pending(stall_ev, NULL)) {
		struct timeval tv = { 1, 0 };

		evtimer_add(stall_ev, &tv);
	}
}

/* Hands the stream's next read, from st_next on, to a worker. */
static void
submit(struct stream *st)
{
	st->st_off = st->st_next;
	st->st_got = 0;
	st->st_rc = 0;
	st->st_err[0] = '\0';
	st->st_reading = 1;
	st->st_owned++;
	st->st_refs++;
	pool_submit(&st->st_job);
}

static void
pump_window(struct stream *st)
{
	struct window *w;

	if (nwindows >= st->st_srv->srv_conf->cf_windows ||
	    (w = malloc(sizeof(*w))) == NULL) {
		wait_turn(st);
		return;
	}
	nwindows++;
	w->w_st = st;
	w->w_view = NULL;
	w->w_len = 0;
	w->w_n = 0;
	st->st_win = w;
	submit(st);
}

/* Starts the next read if the stream may own another buffer. */
static void
pump(struct stream *st)
{
	struct buf *b;
	uint64_t left;

	if (st->st_done || st->st_reading || st->st_waiting ||
	    st->st_next >= st->st_end || st->st_owned >= BOUND_STREAM_DEPTH)
		return;
	if (st->st_sendfile) {
		pump_window(st);
		return;
	}
	if ((b = buf_get()) == NULL) {
		wait_turn(st);
		return;
	}
	left = st->st_end - st->st_next;
	st->st_buf = b;
	st->st_len = left < b->b_size ? (size_t)left : b->b_size;
	submit(st);
}

/* A buffer came back: the streams that wait for one go first. */
void
stream_kick_waiters(void)
{
	struct stream *st;

	while ((st = TAILQ_FIRST(&waiters)) != NULL) {
		TAILQ_REMOVE(&waiters, st, st_wait);
		st->st_waiting = 0;
		pump(st);
		if (st->st_waiting)
			break;	/* still none: it went back to the end */
	}
}

/*
 * Every buffer is out and streams wait for one: a client that has not
 * taken a whole buffer for stall-timeout seconds is holding what others
 * need, and is disconnected (it may resume with a Range request).  The
 * oldest such stream goes first, one a second, until nobody waits.
 */
static void
stall_check(evutil_socket_t fd, short what, void *arg)
{
	struct stream *st, *victim = NULL;
	struct timeval tv = { 1, 0 };
	time_t now = monotime();
	char hex[STORE_HEX_LEN + 1];

	(void)fd, (void)what, (void)arg;
	if (TAILQ_EMPTY(&waiters))
		return;
	TAILQ_FOREACH(st, &streams, st_entry) {
		if (st->st_done || st->st_owned == 0 || st->st_reading ||
		    now - st->st_progress < server->srv_conf->cf_stall_timeout)
			continue;
		if (victim == NULL || st->st_progress < victim->st_progress)
			victim = st;
	}
	if (victim != NULL) {
		store_hex(victim->st_blob, STORE_HASH_LEN, hex);
		log_info("%s: blob %s: client took nothing for %llds while %s "
		    "waited: disconnected", __func__, hex,
		    (long long)(now - victim->st_progress),
		    "other clients");
		victim->st_refs++;
		abort_stream(victim);
		unref(victim);
	}
	if (!TAILQ_EMPTY(&waiters))
		evtimer_add(stall_ev, &tv);
}

int
stream_init(struct event_base *base)
{
	struct store_view *v;

	if ((stall_ev = evtimer_new(base, stall_check, NULL)) == NULL)
		return -1;
	if (store_view_open(server->srv_store, &v) != 0) {
		log_warnx("%s: no sendfile, files are read into buffers: %s",
		    __func__, store_lasterror());
		return 0;
	}
	store_view_close(v);
	sendfile_ok = 1;
	return 0;
}

void
stream_cleanup(void)
{
	if (stall_ev != NULL)
		event_free(stall_ev);
	stall_ev = NULL;
}

int
stream_windows(void)
{
	return nwindows;
}

int
stream_start(struct request *req)
{
	struct server *srv = req->r_srv;
	struct stream *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		return -1;
	if ((st->st_evb = evbuffer_new()) == NULL) {
		free(st);
		return -1;
	}
	/*
	 * File segments reach the socket by sendfile only through buffers
	 * that are never read; this one only moves to the connection's.
	 */
	st->st_sendfile = srv->srv_conf->cf_sendfile && sendfile_ok;
	if (st->st_sendfile && evbuffer_set_flags(st->st_evb,
	    EVBUFFER_FLAG_DRAINS_TO_FD) != 0)
		st->st_sendfile = 0;
	st->st_srv = srv;
	st->st_ev = req->r_ev;
	st->st_evcon = evhttp_request_get_connection(req->r_ev);
	st->st_conn = req->r_conn;
	memcpy(st->st_blob, req->r_blob, STORE_HASH_LEN);
	st->st_next = req->r_first;
	st->st_end = req->r_first + req->r_len;
	st->st_refs = 2;	/* its own, and this function's */
	st->st_progress = monotime();
	st->st_job.j_run = read_run;
	st->st_job.j_done = read_done;
	TAILQ_INSERT_TAIL(&streams, st, st_entry);
	srv->srv_nstreams++;
	req->r_ev = NULL;
	conn_set_stream(st->st_conn, st);
	if (st->st_sendfile)
		cork(st, 1);
	evhttp_send_reply_start(st->st_ev, req->r_status, NULL);
	pump(st);
	unref(st);
	return 0;
}

/*
 * The connection closed under the stream: evhttp detached the request
 * (it was not ended), so freeing it is ours to do.
 */
void
stream_gone(struct stream *st)
{
	st->st_refs++;
	if (st->st_ev != NULL)
		evhttp_request_free(st->st_ev);
	st->st_ev = NULL;
	st->st_conn = NULL;
	finish(st);
	unref(st);
}

/* Shutdown: evhttp is about to free every connection and request. */
void
stream_abandon_all(void)
{
	struct stream *st, *next;

	for (st = TAILQ_FIRST(&streams); st != NULL; st = next) {
		st->st_refs++;
		st->st_ev = NULL;
		st->st_conn = NULL;
		finish(st);
		next = TAILQ_NEXT(st, st_entry);
		unref(st);
	}
}
