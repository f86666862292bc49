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
 * slots.  Each loop has its own streams, waiters, buffers and its share
 * of the windows, so none of it is locked.
 *
 * Those chunks lie a page header apart in the file, and sendfile takes
 * one range a call: a call, and a send on the socket, per chunk of about
 * 128 kB.  So a stream with a pipe of its own (splice, the default)
 * splices its chunks into the pipe, still references to the page
 * cache's pages, and the pipe into the socket, up to 1 MB at once: the
 * socket sees nginx's few large sends.  A window ends once its last byte
 * has left the pipe, as a segment's does once sendfile has sent it.
 * Pipes are counted with the windows; a stream past them, or refused a
 * pipe that large, sends a chunk a sendfile.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/queue.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>

#include "daemon/airlockd.h"

#define WINDOW_EXTENTS	(BOUND_STREAM_WINDOW / STORE_CHUNK_MIN + 2)

struct window {
	TAILQ_ENTRY(window)	 w_entry;	/* a piped stream's queue */
	struct stream		*w_sm;
	struct store_view	*w_view;
	uint64_t		 w_len;
	uint64_t		 w_unsent;	/* not yet out of the pipe */
	size_t			 w_n;
	size_t			 w_i;		/* next extent into the pipe */
	uint32_t		 w_piped;	/* bytes of it already in */
	struct store_extent	 w_ext[WINDOW_EXTENTS];	/* at, len trimmed */
};

struct stream {
	TAILQ_ENTRY(stream)	 sm_entry;	/* all streams */
	TAILQ_ENTRY(stream)	 sm_wait;	/* waiting for a buffer */
	struct loop		*sm_loop;
	struct evhttp_request	*sm_ev;		/* NULL once ended or gone */
	struct conn		*sm_conn;
	struct evhttp_connection *sm_evcon;
	struct evbuffer		*sm_evb;
	uint8_t			 sm_blob[STORE_HASH_LEN];
	uint64_t		 sm_next;	/* next offset to read */
	uint64_t		 sm_end;
	int			 sm_refs;	/* see unref() */
	int			 sm_owned;	/* buffers read or being sent */
	int			 sm_reading;
	int			 sm_waiting;
	int			 sm_done;	/* ended, failed or gone */
	int			 sm_sendfile;	/* windows, not buffers */
	int			 sm_corked;
	int			 sm_pipe[2];	/* or -1: see flush_piped() */
	size_t			 sm_inpipe;	/* bytes in it */
	uint64_t		 sm_out;	/* offset of the next out of it */
	TAILQ_HEAD(, window)	 sm_wins;	/* queued for the pipe */
	struct event		*sm_wev;	/* the socket can take more */
	int			 sm_dry;	/* writable turns that sent nothing */
	time_t			 sm_progress;	/* when the socket last took a buffer */

	/* The read under way. */
	struct task		 sm_task;
	struct buf		*sm_buf;
	struct window		*sm_win;
	uint64_t		 sm_off;
	size_t			 sm_len;
	size_t			 sm_got;
	int			 sm_rc;
	char			 sm_err[256];
};

static int		 sendfile_ok;	/* the store can give extents */
static int		 splice_ok;	/* its data file splices to a pipe */
static int		 pipes_max;	/* a loop's: pipes_budget() */

static time_t
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static void	pump(struct stream *);
static void	wait_turn(struct stream *);
static void	unpipe(struct stream *);

/*
 * With sendfile, each call ends a chunk mid-segment; corked, the socket
 * fills whole segments across calls instead of sending a short one per
 * chunk (nginx's tcp_nopush).  Uncorking sends what is left.
 */
static void
cork(struct stream *sm, int on)
{
	struct bufferevent *bev;
	evutil_socket_t fd;

	if (!sm->sm_corked == !on || sm->sm_evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(sm->sm_evcon)) == NULL ||
	    (fd = bufferevent_getfd(bev)) == -1)
		return;
	if (setsockopt(fd, IPPROTO_TCP, TCP_CORK, &on, sizeof(on)) == 0)
		sm->sm_corked = on;
}

/*
 * While a stream sends, its connection is idle only when the socket
 * takes nothing.  evhttp's read time-out, armed again at each write it
 * is handed, would cut off a client that reads the last windows slowly
 * and, as clients do, sends nothing meanwhile: it is off until the
 * stream finishes, when the connection waits for the next request.
 */
static void
idle_timeouts(struct stream *sm, int reading)
{
	struct timeval tv = { sm->sm_loop->l_conf->cf_timeout, 0 };
	struct bufferevent *bev;

	if (sm->sm_evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(sm->sm_evcon)) != NULL)
		bufferevent_set_timeouts(bev, reading ? &tv : NULL, &tv);
}

/*
 * References: the stream's own, dropped when it finishes; one for the
 * read under way; one for each buffer not yet sent.  Each entry point
 * holds one of them while it works.
 */
static void
unref(struct stream *sm)
{
	if (--sm->sm_refs > 0)
		return;
	if (sm->sm_waiting)
		TAILQ_REMOVE(&sm->sm_loop->l_waiters, sm, sm_wait);
	TAILQ_REMOVE(&sm->sm_loop->l_streams, sm, sm_entry);
	if (sm->sm_evb != NULL)
		evbuffer_free(sm->sm_evb);
	if (sm->sm_wev != NULL)
		event_free(sm->sm_wev);
	free(sm);
}

/*
 * The stream has nothing more to send, for whatever reason.  Drops the
 * stream's own reference: the caller must hold another.
 */
static void
finish(struct stream *sm)
{
	struct loop *l = sm->sm_loop;
	struct bufferevent *bev;

	if (sm->sm_done)
		return;
	sm->sm_done = 1;
	if (sm->sm_wev != NULL) {
		event_del(sm->sm_wev);
		/* What is still queued (a window of leaves, copied, can end
		 * before it is written), the bufferevent writes itself. */
		if (sm->sm_evcon != NULL &&
		    (bev = evhttp_connection_get_bufferevent(sm->sm_evcon)) !=
		    NULL && evbuffer_get_length(bufferevent_get_output(bev)) > 0)
			bufferevent_enable(bev, EV_WRITE);
	}
	unpipe(sm);
	cork(sm, 0);
	idle_timeouts(sm, 1);
	conn_unset_stream(sm->sm_conn, sm);
	sm->sm_conn = NULL;
	sm->sm_evcon = NULL;
	LOOP_ADD(l->l_nstreams, -1);
	sm->sm_refs--;
	http_request_done(l);
}

/*
 * Hands the evhttp request back once the last bytes are queued.  The
 * stream stays on the connection until the socket has taken them: until
 * then it holds buffers or windows, and stall_check() may cut it off.
 */
static void
end_reply(struct stream *sm)
{
	struct evhttp_request *ev = sm->sm_ev;

	sm->sm_ev = NULL;
	if (ev != NULL) {
		conn_track_flush(sm->sm_conn, ev);
		/* With nothing left to write, may close: stream_gone(). */
		evhttp_send_reply_end(ev);
	}
	if (sm->sm_owned == 0)
		finish(sm);
}

/* A buffer or window came back: the socket took all of it. */
static void
returned(struct stream *sm)
{
	sm->sm_progress = monotime();
	sm->sm_owned--;
	if (!sm->sm_done && sm->sm_ev == NULL && sm->sm_owned == 0)
		finish(sm);	/* the reply was ended: that was the last */
	else
		pump(sm);
	stream_kick_waiters(sm->sm_loop);
	unref(sm);
}

/* The reference's cleanup: the socket has taken every byte of b. */
static void
buf_sent(const void *data, size_t len, void *arg)
{
	struct buf *b = arg;
	struct stream *sm = b->b_owner;

	(void)data, (void)len;
	buf_put(b);
	returned(sm);
}

static void
window_free(struct window *w)
{
	LOOP_ADD(w->w_sm->sm_loop->l_nwindows, -1);
	store_view_close(w->w_view);
	free(w);
}

/*
 * A piped stream that ends: what the pipe holds is dropped with it, and
 * the windows queued for it end now, as a connection's output does.
 */
static void
unpipe(struct stream *sm)
{
	struct window *w;

	if (sm->sm_pipe[0] == -1)
		return;
	while ((w = TAILQ_FIRST(&sm->sm_wins)) != NULL) {
		TAILQ_REMOVE(&sm->sm_wins, w, w_entry);
		window_free(w);
		sm->sm_owned--;
		sm->sm_refs--;	/* the window's; the caller holds another */
	}
	close(sm->sm_pipe[0]);
	close(sm->sm_pipe[1]);
	sm->sm_pipe[0] = sm->sm_pipe[1] = -1;
	sm->sm_inpipe = 0;
	LOOP_ADD(sm->sm_loop->l_npipes, -1);
}

/* The segment's cleanup: the socket has taken every byte of w. */
static void
window_sent(struct evbuffer_file_segment const *seg, int flags, void *arg)
{
	struct window *w = arg;
	struct stream *sm = w->w_sm;

	(void)seg, (void)flags;
	window_free(w);
	returned(sm);
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
 * On a worker: the extents of the next window, from sm_off on, each of
 * them in the page cache when this returns.
 */
static int
window_fill(struct stream *sm)
{
	struct window *w = sm->sm_win;
	struct extents *ex;
	uint64_t off = sm->sm_off, left = sm->sm_end - sm->sm_off;
	size_t i;
	int rc;

	if ((rc = store_view_open(sm->sm_loop->l_srv->srv_store, &w->w_view)) != 0)
		return rc;
	if ((ex = extents_get(w->w_view, sm->sm_blob)) == NULL)
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
		uint32_t flags = e->flags;

		if (off < e->off || skip >= e->len)
			break;
		/* In a leaf: where this window's view has it (store.h). */
		if (e->flags & STORE_EXTENT_LEAF) {
			if ((rc = store_view_extent(w->w_view, sm->sm_blob,
			    e->off, &here)) != 0)
				break;
			if (here.len != e->len) {
				snprintf(sm->sm_err, sizeof(sm->sm_err), "the "
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
		o->flags = flags;
		w->w_n++;
		w->w_len += o->len;
		off += o->len;
		left -= o->len;
	}
	extents_put(ex);
	return rc != 0 ? rc : prefetch(w);
}

static void
read_run(struct task *tk)
{
	struct stream *sm = (struct stream *)((char *)tk -
	    offsetof(struct stream, sm_task));

	if (sm->sm_sendfile) {
		sm->sm_rc = window_fill(sm);
		sm->sm_got = sm->sm_win->w_len;
	} else
		sm->sm_rc = store_blob_read(sm->sm_loop->l_srv->srv_store, sm->sm_blob,
		    sm->sm_off, sm->sm_buf->b_data, sm->sm_len, &sm->sm_got);
	if (sm->sm_rc != 0 && sm->sm_err[0] == '\0')
		snprintf(sm->sm_err, sizeof(sm->sm_err), "%s",
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
abort_stream(struct stream *sm)
{
	struct evhttp_connection *evcon = sm->sm_done ? NULL : sm->sm_evcon;

	sm->sm_ev = NULL;
	finish(sm);
	if (evcon != NULL)
		evhttp_connection_free(evcon);
}

/*
 * Sending what a window holds failed, at offset off of the blob: said
 * without the read's fields, which a worker may be filling meanwhile.
 */
static void
send_failed(struct stream *sm, uint64_t off, const char *why)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(sm->sm_blob, STORE_HASH_LEN, hex);
	log_warnx("blob %s at %llu: %s", hex, (unsigned long long)off, why);
	abort_stream(sm);
}

/* A read or window failed: say so and end the connection. */
static void
read_failed(struct stream *sm, const char *why)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(sm->sm_blob, STORE_HASH_LEN, hex);
	log_warnx("blob %s at %llu: %s", hex, (unsigned long long)sm->sm_off,
	    sm->sm_rc != 0 ? sm->sm_err : why);
	abort_stream(sm);
}

/*
 * A writable turn of a stream that writes its own body: the connection's
 * bufferevent, with a reference the caller drops (a window's or a
 * segment's end may finish the stream meanwhile), or NULL when there is
 * nothing to do, or the client took nothing for `timeout` seconds and is
 * cut off.
 */
static struct bufferevent *
turn_begin(struct stream *sm, short what)
{
	struct bufferevent *bev;

	if (sm->sm_done || sm->sm_evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(sm->sm_evcon)) == NULL) {
		event_del(sm->sm_wev);
		return NULL;
	}
	sm->sm_refs++;
	if (what & EV_TIMEOUT) {
		log_info("%s: client took nothing for %ds: disconnected",
		    __func__, sm->sm_loop->l_conf->cf_timeout);
		abort_stream(sm);
		unref(sm);
		return NULL;
	}
	return bev;
}

/*
 * evbuffer sends one file segment, one chunk, each time the socket is
 * writable.  With sendfile the stream writes its body itself: segment
 * after segment while the socket takes them, up to BOUND_SEND_BURST a
 * turn, as nginx's sendfile loop does, which means fewer and fuller sends
 * and fewer wake-ups on both sides.  The bufferevent's own writes stay off
 * meanwhile (both on one readiness, the second would take the EAGAIN for
 * the peer's end), and this keeps its write time-out.  It is given the
 * connection back to meet an error, and once the ended reply's last byte
 * is out, to finish the reply as its own last write would.
 */
static void
flush_ahead(evutil_socket_t fd, short what, void *arg)
{
	struct stream *sm = arg;
	struct bufferevent *bev;
	struct evbuffer *out;
	ev_ssize_t left = BOUND_SEND_BURST;
	int n;

	if ((bev = turn_begin(sm, what)) == NULL)
		return;
	out = bufferevent_get_output(bev);
	while (left > 0 && evbuffer_get_length(out) > 0) {
		/* As the bufferevent's own write does: its buffer's start is
		 * frozen but while it writes. */
		evbuffer_unfreeze(out, 1);
		n = evbuffer_write_atmost(out, fd, left);
		evbuffer_freeze(out, 1);
		if (n < 0) {
			/* Its own write meets the error and says so to evhttp,
			 * which closes the connection. */
			event_del(sm->sm_wev);
			bufferevent_enable(bev, EV_WRITE);
			goto out;
		}
		if (n == 0)
			break;		/* full: on the next turn */
		left -= n;
	}
	/*
	 * Said writable, the socket took nothing: the data file ended under
	 * the segment, which nothing else would notice.
	 */
	if (left < BOUND_SEND_BURST)
		sm->sm_dry = 0;
	else if (evbuffer_get_length(out) > 0 && ++sm->sm_dry > 16) {
		send_failed(sm, sm->sm_next, "the data file sends nothing");
		goto out;
	}
	if (evbuffer_get_length(out) == 0) {
		if (!sm->sm_done)
			event_del(sm->sm_wev);	/* until the next window */
		if (sm->sm_ev == NULL)
			bufferevent_enable(bev, EV_WRITE);
	}
out:
	unref(sm);
}

/*
 * A chunk in a leaf page goes into the pipe as a copy, read under the
 * window's view: a splice would put the page itself there, and once the
 * view is closed a write may reuse that page while the socket, or the
 * client's end of it, still holds it.  Pieces of PIPE_BUF, each written
 * whole or not at all.
 */
static ssize_t
copy_leaf(int fd, loff_t at, size_t len, int pw)
{
	char buf[PIPE_BUF];
	ssize_t n;

	if (len > sizeof(buf))
		len = sizeof(buf);
	if ((n = pread(fd, buf, len, at)) <= 0)
		return n;
	return write(pw, buf, (size_t)n);
}

/*
 * Into the pipe, in order, the extents of the queued windows, as many as
 * it takes: each is a reference to the data file's pages, not a copy
 * (but for leaves: copy_leaf()).  -1 when the data file ended under an
 * extent, which nothing else would notice, with *off where in the blob.
 */
static int
fill_pipe(struct stream *sm, uint64_t *off)
{
	struct window *w;
	ssize_t n;

	TAILQ_FOREACH(w, &sm->sm_wins, w_entry) {
		while (w->w_i < w->w_n) {
			const struct store_extent *e = &w->w_ext[w->w_i];
			loff_t at = (loff_t)(e->at + w->w_piped);

			*off = e->off + w->w_piped;
			if (e->flags & STORE_EXTENT_LEAF)
				n = copy_leaf(store_view_fd(w->w_view), at,
				    e->len - w->w_piped, sm->sm_pipe[1]);
			else
				n = splice(store_view_fd(w->w_view), &at,
				    sm->sm_pipe[1], NULL, e->len - w->w_piped,
				    SPLICE_F_NONBLOCK);
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno == EAGAIN)
				return 0;	/* full */
			if (n <= 0)
				return -1;
			sm->sm_inpipe += (size_t)n;
			if ((w->w_piped += (uint32_t)n) == e->len) {
				w->w_i++;
				w->w_piped = 0;
			}
		}
	}
	return 0;
}

/* n bytes left the pipe: the windows they were are sent. */
static void
drained(struct stream *sm, size_t n)
{
	struct window *w;

	sm->sm_inpipe -= n;
	while (n > 0 && (w = TAILQ_FIRST(&sm->sm_wins)) != NULL) {
		uint64_t take = n < w->w_unsent ? n : w->w_unsent;

		n -= take;
		if ((w->w_unsent -= take) > 0)
			break;
		TAILQ_REMOVE(&sm->sm_wins, w, w_entry);
		window_free(w);
		returned(sm);
	}
}

/*
 * With a pipe, a stream's chunks go into it one splice each, and out of
 * it to the socket in runs of up to the pipe's size: the socket sees a
 * few large sends instead of one per chunk, since the chunks lie a page
 * header apart in the file and sendfile takes one range a call.  The
 * connection's output, the headers, goes first.  The reply is ended
 * once the pipe is empty, so evhttp finds nothing left to write.
 */
static void
flush_piped(evutil_socket_t fd, short what, void *arg)
{
	struct stream *sm = arg;
	struct bufferevent *bev;
	struct evbuffer *out;
	struct conn *c;
	struct evhttp_request *ev;
	size_t left = BOUND_SEND_BURST, len;
	uint64_t off = 0;
	ssize_t n;

	if ((bev = turn_begin(sm, what)) == NULL)
		return;
	out = bufferevent_get_output(bev);
	if (evbuffer_get_length(out) > 0) {
		evbuffer_unfreeze(out, 1);
		n = evbuffer_write(out, fd);
		evbuffer_freeze(out, 1);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			abort_stream(sm);
			goto out;
		}
		if (evbuffer_get_length(out) > 0)
			goto out;	/* on the next turn */
	}
	while (!sm->sm_done && left > 0) {
		if (fill_pipe(sm, &off) != 0) {
			send_failed(sm, off, "the data file ended under a chunk");
			goto out;
		}
		if (sm->sm_inpipe == 0)
			break;
		/* More to follow unless these are the body's last bytes. */
		len = sm->sm_inpipe < left ? sm->sm_inpipe : left;
		n = splice(sm->sm_pipe[0], NULL, fd, NULL, len, SPLICE_F_NONBLOCK |
		    (sm->sm_out + len < sm->sm_end ? SPLICE_F_MORE : 0));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			goto out;	/* full: on the next turn */
		if (n <= 0) {
			/* The peer is gone: nothing more will reach it. */
			abort_stream(sm);
			goto out;
		}
		left -= (size_t)n;
		sm->sm_out += (uint64_t)n;
		drained(sm, (size_t)n);
	}
	if (sm->sm_done || sm->sm_inpipe > 0 || !TAILQ_EMPTY(&sm->sm_wins))
		goto out;
	if (sm->sm_next < sm->sm_end || sm->sm_owned > 0) {
		event_del(sm->sm_wev);	/* until the next window */
		goto out;
	}
	/* The last byte is out: the stream ends before its reply does, so
	 * that a next request on the connection finds it gone. */
	c = sm->sm_conn;
	ev = sm->sm_ev;
	sm->sm_ev = NULL;
	if (ev != NULL)
		conn_track_flush(c, ev);
	finish(sm);
	if (ev != NULL)
		evhttp_send_reply_end(ev);	/* may close: nothing to do */
out:
	unref(sm);
}

/* n more bytes are in sm_evb, each holding what it was read into. */
static void
queued(struct stream *sm, uint64_t n)
{
	sm->sm_next += n;
	metrics_bytes(sm->sm_loop->l_id, n);
	if (sm->sm_pipe[0] == -1)
		evhttp_send_reply_chunk(sm->sm_ev, sm->sm_evb);
	if (sm->sm_wev != NULL) {
		struct timeval tv = { sm->sm_loop->l_conf->cf_timeout, 0 };

		bufferevent_disable(evhttp_connection_get_bufferevent(
		    sm->sm_evcon), EV_WRITE);
		event_add(sm->sm_wev, &tv);
	}
	/* If evhttp did not take them, draining them gives them back. */
	if (evbuffer_get_length(sm->sm_evb) != 0)
		evbuffer_drain(sm->sm_evb, evbuffer_get_length(sm->sm_evb));
	if (sm->sm_next >= sm->sm_end && sm->sm_pipe[0] == -1)
		end_reply(sm);
	else
		pump(sm);
}

/* A chunk in a leaf page, copied under the window's view (copy_leaf()). */
static int
add_leaf(struct evbuffer *evb, int fd, const struct store_extent *e)
{
	char buf[PIPE_BUF];
	uint32_t done = 0;
	ssize_t n;

	while (done < e->len) {
		n = pread(fd, buf, e->len - done < sizeof(buf) ?
		    e->len - done : sizeof(buf), (off_t)(e->at + done));
		if (n <= 0 || evbuffer_add(evb, buf, (size_t)n) != 0)
			return -1;
		done += (uint32_t)n;
	}
	return 0;
}

/*
 * On the loop: the window's extents go to the connection as segments of
 * the data file, one segment spanning them all, whose cleanup ends the
 * window; chunks in leaf pages as copies.
 */
static void
window_done(struct stream *sm)
{
	struct window *w = sm->sm_win;
	struct evbuffer_file_segment *seg;
	uint64_t lo = UINT64_MAX, hi = 0;
	size_t i;

	sm->sm_win = NULL;
	if (sm->sm_done || sm->sm_rc != 0 || w->w_len == 0) {
		sm->sm_owned--;
		window_free(w);
		if (!sm->sm_done && sm->sm_rc == STORE_EAGAIN)
			wait_turn(sm);
		else if (!sm->sm_done)
			read_failed(sm, "no extents");
		return;
	}
	if (sm->sm_pipe[0] != -1) {
		w->w_unsent = w->w_len;
		w->w_i = 0;
		w->w_piped = 0;
		TAILQ_INSERT_TAIL(&sm->sm_wins, w, w_entry);
		sm->sm_refs++;		/* the window's, dropped by drained() */
		queued(sm, w->w_len);
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
		sm->sm_owned--;
		window_free(w);
		read_failed(sm, "evbuffer_file_segment_new failed");
		return;
	}
	sm->sm_refs++;		/* the window's, dropped by window_sent() */
	evbuffer_file_segment_add_cleanup_cb(seg, window_sent, w);
	for (i = 0; i < w->w_n; i++)
		if ((w->w_ext[i].flags & STORE_EXTENT_LEAF ?
		    add_leaf(sm->sm_evb, store_view_fd(w->w_view), &w->w_ext[i]) :
		    evbuffer_add_file_segment(sm->sm_evb, seg,
		    (ev_off_t)(w->w_ext[i].at - lo),
		    (ev_off_t)w->w_ext[i].len)) != 0)
			break;
	if (i < w->w_n) {
		sm->sm_refs++;
		read_failed(sm, "the window could not be queued");
		evbuffer_drain(sm->sm_evb, evbuffer_get_length(sm->sm_evb));
		evbuffer_file_segment_free(seg);	/* runs window_sent() */
		unref(sm);
		return;
	}
	queued(sm, w->w_len);
	/* The chains hold it now, if any do: a window of leaves only (a
	 * small file) ends here, once queued() has counted its bytes. */
	evbuffer_file_segment_free(seg);
}

static void
read_done(struct task *tk)
{
	struct stream *sm = (struct stream *)((char *)tk -
	    offsetof(struct stream, sm_task));
	struct buf *b = sm->sm_buf;

	/* The read's reference is this function's until it returns. */
	sm->sm_reading = 0;
	if (sm->sm_sendfile) {
		window_done(sm);
		goto out;
	}
	sm->sm_buf = NULL;
	if (sm->sm_done || sm->sm_rc != 0 || sm->sm_got != sm->sm_len) {
		sm->sm_owned--;
		buf_put(b);
		if (!sm->sm_done && sm->sm_rc == STORE_EAGAIN)
			wait_turn(sm);
		else if (!sm->sm_done)
			read_failed(sm, "short read");
		goto out;
	}
	b->b_len = sm->sm_got;
	b->b_owner = sm;
	sm->sm_refs++;		/* the buffer's */
	if (evbuffer_add_reference(sm->sm_evb, b->b_data, b->b_len, buf_sent,
	    b) != 0) {
		sm->sm_refs--;
		sm->sm_owned--;
		buf_put(b);
		read_failed(sm, "evbuffer_add_reference failed");
		goto out;
	}
	queued(sm, b->b_len);
out:
	/* Not when it went to wait for the store: it would be first. */
	if (!sm->sm_waiting)
		stream_kick_waiters(sm->sm_loop);
	unref(sm);
}

static void
wait_turn(struct stream *sm)
{
	struct loop *l = sm->sm_loop;

	sm->sm_waiting = 1;
	TAILQ_INSERT_TAIL(&l->l_waiters, sm, sm_wait);
	if (l->l_stall_ev != NULL && !evtimer_pending(l->l_stall_ev, NULL)) {
		struct timeval tv = { 1, 0 };

		evtimer_add(l->l_stall_ev, &tv);
	}
}

/* Hands the stream's next read, from sm_next on, to a worker. */
static void
submit(struct stream *sm)
{
	sm->sm_off = sm->sm_next;
	sm->sm_got = 0;
	sm->sm_rc = 0;
	sm->sm_err[0] = '\0';
	sm->sm_reading = 1;
	sm->sm_owned++;
	sm->sm_refs++;
	pool_submit(&sm->sm_task);
}

/* A loop's share of send-windows: together no more than LMDB's slots. */
static int
windows_max(const struct loop *l)
{
	int n = l->l_conf->cf_windows / l->l_srv->srv_nloops;

	return n > 0 ? n : 1;
}

static void
pump_window(struct stream *sm)
{
	struct loop *l = sm->sm_loop;
	struct window *w;

	if (l->l_nwindows >= windows_max(l) ||
	    (w = malloc(sizeof(*w))) == NULL) {
		wait_turn(sm);
		return;
	}
	LOOP_ADD(l->l_nwindows, 1);
	w->w_sm = sm;
	w->w_view = NULL;
	w->w_len = 0;
	w->w_n = 0;
	sm->sm_win = w;
	submit(sm);
}

/* Starts the next read if the stream may own another buffer. */
static void
pump(struct stream *sm)
{
	struct buf *b;
	uint64_t left;

	if (sm->sm_done || sm->sm_reading || sm->sm_waiting ||
	    sm->sm_next >= sm->sm_end || sm->sm_owned >= BOUND_STREAM_DEPTH)
		return;
	if (sm->sm_sendfile) {
		pump_window(sm);
		return;
	}
	if ((b = buf_get(&sm->sm_loop->l_bufs)) == NULL) {
		wait_turn(sm);
		return;
	}
	left = sm->sm_end - sm->sm_next;
	sm->sm_buf = b;
	sm->sm_len = left < b->b_size ? (size_t)left : b->b_size;
	submit(sm);
}

/* A buffer came back: the streams that wait for one go first. */
void
stream_kick_waiters(struct loop *l)
{
	struct stream *sm;

	while ((sm = TAILQ_FIRST(&l->l_waiters)) != NULL) {
		TAILQ_REMOVE(&l->l_waiters, sm, sm_wait);
		sm->sm_waiting = 0;
		pump(sm);
		if (sm->sm_waiting)
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
	struct loop *l = arg;
	struct stream *sm, *victim = NULL;
	struct timeval tv = { 1, 0 };
	time_t now = monotime();
	char hex[STORE_HEX_LEN + 1];

	(void)fd, (void)what;
	/*
	 * A stream whose read met the store being mapped again (read_done)
	 * waits here too, for nothing the others give back: try it again.
	 */
	stream_kick_waiters(l);
	if (TAILQ_EMPTY(&l->l_waiters))
		return;
	TAILQ_FOREACH(sm, &l->l_streams, sm_entry) {
		if (sm->sm_done || sm->sm_owned == 0 || sm->sm_reading ||
		    now - sm->sm_progress < l->l_conf->cf_stall_timeout)
			continue;
		if (victim == NULL || sm->sm_progress < victim->sm_progress)
			victim = sm;
	}
	if (victim != NULL) {
		store_hex(victim->sm_blob, STORE_HASH_LEN, hex);
		log_info("%s: blob %s: client took nothing for %llds while %s "
		    "waited: disconnected", __func__, hex,
		    (long long)(now - victim->sm_progress),
		    "other clients");
		victim->sm_refs++;
		abort_stream(victim);
		unref(victim);
	}
	if (!TAILQ_EMPTY(&l->l_waiters))
		evtimer_add(l->l_stall_ev, &tv);
}

/* Whether the data file's first byte splices into a pipe. */
static int
splice_probe(int fd)
{
	int p[2];
	loff_t at = 0;
	ssize_t n;

	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) == -1)
		return 0;
	n = splice(fd, &at, p[1], NULL, 1, SPLICE_F_NONBLOCK);
	close(p[0]);
	close(p[1]);
	if (n != 1)
		log_warnx("%s: chunks are sent one sendfile each: splice: %s",
		    __func__, n == -1 ? strerror(errno) : "no byte");
	return n == 1;
}

/*
 * A loop's share of pipes: its windows, and, for a user other than root,
 * no more than half of fs.pipe-user-pages-soft over all loops.  Past that
 * soft limit, every new pipe of the user, airlockd's or any other
 * process's, would get two pages instead of sixteen.
 */
static int
pipes_budget(const struct loop *l)
{
	unsigned long soft = 0, per;
	long page = sysconf(_SC_PAGESIZE);
	FILE *f;
	int n = windows_max(l);

	if (geteuid() == 0 || page <= 0 ||
	    (f = fopen("/proc/sys/fs/pipe-user-pages-soft", "r")) == NULL)
		return n;
	if (fscanf(f, "%lu", &soft) != 1)
		soft = 0;
	fclose(f);
	if (soft == 0)
		return n;	/* no limit */
	per = soft / 2 / (BOUND_SPLICE_PIPE / (unsigned long)page) /
	    (unsigned long)l->l_srv->srv_nloops;
	return per < (unsigned long)n ? (int)per : n;
}

int
stream_init(struct loop *l)
{
	struct store_view *v;

	TAILQ_INIT(&l->l_streams);
	TAILQ_INIT(&l->l_waiters);
	if ((l->l_stall_ev = evtimer_new(l->l_base, stall_check, l)) == NULL)
		return -1;
	if (store_view_open(l->l_srv->srv_store, &v) != 0) {
		log_warnx("%s: no sendfile, files are read into buffers: %s",
		    __func__, store_lasterror());
		return 0;
	}
	sendfile_ok = 1;
	splice_ok = splice_probe(store_view_fd(v));
	pipes_max = pipes_budget(l);
	store_view_close(v);
	return 0;
}

void
stream_cleanup(struct loop *l)
{
	if (l->l_stall_ev != NULL)
		event_free(l->l_stall_ev);
	l->l_stall_ev = NULL;
}

/*
 * A pipe for the stream's chunks, as large as BOUND_SPLICE_PIPE, while
 * the loop holds fewer than its share (pipes_budget()): a stream past
 * them sends by sendfile, as does one the kernel refuses a pipe that
 * size.
 */
static void
open_pipe(struct stream *sm, struct loop *l)
{
	if (!l->l_conf->cf_splice || !splice_ok ||
	    l->l_npipes >= pipes_max ||
	    pipe2(sm->sm_pipe, O_NONBLOCK | O_CLOEXEC) == -1) {
		sm->sm_pipe[0] = sm->sm_pipe[1] = -1;
		return;
	}
	if (fcntl(sm->sm_pipe[1], F_SETPIPE_SZ, BOUND_SPLICE_PIPE) <
	    (int)BOUND_SPLICE_PIPE) {
		close(sm->sm_pipe[0]);
		close(sm->sm_pipe[1]);
		sm->sm_pipe[0] = sm->sm_pipe[1] = -1;
		return;
	}
	LOOP_ADD(l->l_npipes, 1);
}

int
stream_start(struct request *req)
{
	struct loop *l = req->r_loop;
	struct stream *sm;

	if ((sm = calloc(1, sizeof(*sm))) == NULL)
		return -1;
	if ((sm->sm_evb = evbuffer_new()) == NULL) {
		free(sm);
		return -1;
	}
	/*
	 * File segments reach the socket by sendfile only through buffers
	 * that are never read; this one only moves to the connection's.
	 */
	sm->sm_sendfile = l->l_conf->cf_sendfile && sendfile_ok;
	if (sm->sm_sendfile && evbuffer_set_flags(sm->sm_evb,
	    EVBUFFER_FLAG_DRAINS_TO_FD) != 0)
		sm->sm_sendfile = 0;
	sm->sm_pipe[0] = sm->sm_pipe[1] = -1;
	TAILQ_INIT(&sm->sm_wins);
	if (sm->sm_sendfile)
		open_pipe(sm, l);
	sm->sm_loop = l;
	sm->sm_ev = req->r_ev;
	sm->sm_evcon = evhttp_request_get_connection(req->r_ev);
	sm->sm_conn = req->r_conn;
	memcpy(sm->sm_blob, req->r_blob, STORE_HASH_LEN);
	sm->sm_next = sm->sm_out = req->r_first;
	sm->sm_end = req->r_first + req->r_len;
	sm->sm_refs = 2;	/* its own, and this function's */
	sm->sm_progress = monotime();
	sm->sm_task.tk_run = read_run;
	sm->sm_task.tk_done = read_done;
	sm->sm_task.tk_loop = l;
	TAILQ_INSERT_TAIL(&l->l_streams, sm, sm_entry);
	LOOP_ADD(l->l_nstreams, 1);
	req->r_ev = NULL;
	conn_set_stream(sm->sm_conn, sm);
	if (sm->sm_sendfile) {
		struct bufferevent *bev;

		cork(sm, 1);
		if ((bev = evhttp_connection_get_bufferevent(sm->sm_evcon)) !=
		    NULL)
			sm->sm_wev = event_new(l->l_base, bufferevent_getfd(bev),
			    EV_WRITE | EV_PERSIST, sm->sm_pipe[0] != -1 ?
			    flush_piped : flush_ahead, sm);
		if (sm->sm_wev == NULL)
			unpipe(sm);	/* nothing would drain it */
	}
	evhttp_send_reply_start(sm->sm_ev, req->r_status, NULL);
	idle_timeouts(sm, 0);
	pump(sm);
	unref(sm);
	return 0;
}

/*
 * The connection closed under the stream: evhttp detached the request
 * (it was not ended), so freeing it is ours to do.
 */
void
stream_gone(struct stream *sm)
{
	sm->sm_refs++;
	if (sm->sm_ev != NULL)
		evhttp_request_free(sm->sm_ev);
	sm->sm_ev = NULL;
	sm->sm_conn = NULL;
	sm->sm_evcon = NULL;	/* closing: nothing to set on it */
	finish(sm);
	unref(sm);
}

/* Shutdown: evhttp is about to free every connection and request. */
void
stream_abandon_all(struct loop *l)
{
	struct stream *sm, *next;

	for (sm = TAILQ_FIRST(&l->l_streams); sm != NULL; sm = next) {
		sm->sm_refs++;
		sm->sm_ev = NULL;
		sm->sm_conn = NULL;
		finish(sm);
		next = TAILQ_NEXT(sm, sm_entry);
		unref(sm);
	}
}
