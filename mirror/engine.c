/*
 * engine.c - libcurl's multi-socket API on a libevent base, and the
 * transfers that other threads ask of it.
 *
 * Only the loop's thread touches the multi handle and the easy handles
 * once they are added.  Another thread hands over a transfer through the
 * queue and makes the wake event active; it then waits on the engine's
 * condition variable for the headers, the bytes or the end.  A streamed
 * body goes through a bounded ring: when it is full the write callback
 * pauses the transfer, and the reader asks the loop to unpause it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <event2/thread.h>

#include "lib/bounds.h"
#include "mirror/mirror.h"
#include "mirror/mirror_int.h"

/* curl's receive buffer for a transfer (at most CURL_MAX_READ_SIZE). */
#define XFER_RECV	(512 * 1024)

static _Thread_local char lasterr[1024];

const char *
mirror_lasterror(void)
{
	return lasterr;
}

int
mirror_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr), fmt, ap);
	va_end(ap);
	return code;
}

int
mirror_failwrap(int code, const char *fmt, ...)
{
	char prev[sizeof(lasterr)];
	size_t n, k;
	va_list ap;

	memcpy(prev, lasterr, sizeof(prev));
	va_start(ap, fmt);
	vsnprintf(lasterr, sizeof(lasterr) - 2, fmt, ap);
	va_end(ap);
	n = strlen(lasterr);
	memcpy(lasterr + n, ": ", 2);
	n += 2;
	k = strnlen(prev, sizeof(lasterr) - n - 1);
	memcpy(lasterr + n, prev, k);
	lasterr[n + k] = '\0';
	return code;
}

const char *
mirror_strerror(int code)
{
	switch (code) {
	case MIRROR_ENOTFOUND:	return "not found upstream";
	case MIRROR_EAUTH:	return "needs a token or does not exist";
	case MIRROR_EGATED:	return "gated: accept the terms on the Hub "
				    "for this token's user";
	case MIRROR_EUPSTREAM:	return "the upstream refused";
	case MIRROR_ENET:	return "transfer failed";
	case MIRROR_EPROTO:	return "unreadable answer from the upstream";
	case MIRROR_ECORRUPT:	return "bytes do not match their hash";
	case MIRROR_EINVAL:	return "invalid argument";
	case MIRROR_ENOMEM:	return "out of memory";
	case MIRROR_EREFUSED:	return "refused by this store's policy";
	case MIRROR_ECANCELED:	return "cancelled";
	}
	return store_strerror(code);
}

struct sock {
	struct event	*ev;
	curl_socket_t	 fd;
};

static void	check_done(struct mirror *);

static void
event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	int action = 0, running;

	if (what & EV_READ)
		action |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		action |= CURL_CSELECT_OUT;
	curl_multi_socket_action(m->multi, fd, action, &running);
	check_done(m);
	if (running <= 0 && evtimer_pending(m->timer, NULL))
		evtimer_del(m->timer);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

static int
multi_timer_cb(CURLM *multi, long ms, void *arg)
{
	struct mirror *m = arg;
	struct timeval tv;

	(void)multi;
	if (ms < 0) {
		evtimer_del(m->timer);
		return 0;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(m->timer, &tv);
	return 0;
}

static int
multi_sock_cb(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct mirror *m = arg;
	struct sock *s = sockp;
	short kind;

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			event_free(s->ev);
			free(s);
			curl_multi_assign(m->multi, fd, NULL);
		}
		return 0;
	}
	kind = EV_PERSIST | ((what & CURL_POLL_IN) ? EV_READ : 0) |
	    ((what & CURL_POLL_OUT) ? EV_WRITE : 0);
	if (s == NULL) {
		if ((s = calloc(1, sizeof(*s))) == NULL)
			return -1;
		s->fd = fd;
		curl_multi_assign(m->multi, fd, s);
	} else
		event_free(s->ev);
	if ((s->ev = event_new(m->base, fd, kind, event_cb, m)) == NULL) {
		curl_multi_assign(m->multi, fd, NULL);
		free(s);
		return -1;
	}
	event_add(s->ev, NULL);
	return 0;
}

/* The loop's thread: x has ended with rc; tell its waiter. */
static void
xfer_finish(struct mirror *m, struct xfer *x, CURLcode rc)
{
	char *loc = NULL;

	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_URL, &loc);
	curl_multi_remove_handle(m->multi, x->easy);
	pthread_mutex_lock(&m->mu);
	TAILQ_REMOVE(&m->active, x, link);
	if (loc != NULL && x->location == NULL)
		x->location = strdup(loc);
	x->result = rc;
	x->done = 1;
	x->headers_done = 1;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
}

static void
check_done(struct mirror *m)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct xfer *x;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		    (char **)&x);
		xfer_finish(m, x, msg->data.result);
	}
}

char *
mirror_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL, *o = NULL;

	if (u == NULL)
		return NULL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	    CURLUE_OK) {
		size_t len = strlen(scheme) + strlen(host) + strlen(port) + 5;

		if ((o = malloc(len)) != NULL)
			snprintf(o, len, "%s://%s:%s", scheme, host, port);
		for (char *p = o; p != NULL && *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p += 'a' - 'A';
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return o;
}

/* Under m->mu: the slot that holds origin, or NULL. */
static struct mirror_hold *
hold_find(struct mirror *m, const char *origin)
{
	for (size_t i = 0; i < BOUND_UPSTREAM_HOSTS; i++)
		if (m->holds[i].origin != NULL &&
		    strcmp(m->holds[i].origin, origin) == 0)
			return &m->holds[i];
	return NULL;
}

static int
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* Under m->mu: whether the limiter holds new requests to origin, and for
 * how long. */
static int
held(struct mirror *m, const char *origin, struct timeval *left)
{
	struct mirror_hold *h;
	struct timespec now;
	long long ns;

	if ((h = hold_find(m, origin)) == NULL)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	ns = (long long)(h->until.tv_sec - now.tv_sec) * 1000000000LL +
	    (h->until.tv_nsec - now.tv_nsec);
	if (ns <= 0)
		return 0;
	left->tv_sec = (time_t)(ns / 1000000000LL);
	left->tv_usec = (suseconds_t)(ns % 1000000000LL / 1000 + 1);
	return 1;
}

/*
 * Under m->mu: no new request to origin before ms milliseconds from now.
 * Its slot, else a free one, else the one whose hold ends first (a hold
 * that has ended holds nothing).
 */
static void
hold_locked(struct mirror *m, const char *origin, long ms)
{
	struct mirror_hold *h;
	struct timespec until;
	char *o;

	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	if ((h = hold_find(m, origin)) != NULL) {
		if (ts_before(&h->until, &until))
			h->until = until;
		return;
	}
	for (size_t i = 0; i < BOUND_UPSTREAM_HOSTS; i++)
		if (h == NULL || m->holds[i].origin == NULL ||
		    (h->origin != NULL &&
		    ts_before(&m->holds[i].until, &h->until)))
			h = &m->holds[i];
	if ((o = strdup(origin)) == NULL)
		return;		/* a hold lost: the upstream refuses again */
	free(h->origin);
	h->origin = o;
	h->until = until;
}

void
mirror_hold(struct mirror *m, const struct xfer *x, long ms)
{
	pthread_mutex_lock(&m->mu);
	hold_locked(m, x->origin, ms);
	pthread_mutex_unlock(&m->mu);
}

/*
 * Under m->mu, on the loop: what the final answer of x says about the
 * pace of every transfer.  A 429 waits Retry-After, else RateLimit's t + 1
 * (MIRROR.md); any other answer whose RateLimit says the window is spent
 * waits t + 1 before the next request, so it is never refused.
 */
static void
limit_answer(struct mirror *m, struct xfer *x)
{
	long s = -1, t = upstream_ratelimit(x->h[XH_RATELIMIT]);

	if (x->status == 429)
		s = upstream_retry_after(x->h[XH_RETRY_AFTER], time(NULL));
	if (s < 0 && t > 0)
		s = t + 1;
	if (s <= 0)
		return;
	x->held = 1;
	hold_locked(m, x->origin, s * 1000);
}

/* Under m->mu, on the loop: x from the queue into the multi handle. */
static void
add_one(struct mirror *m, struct xfer *x)
{
	TAILQ_REMOVE(&m->queue, x, link);
	TAILQ_INSERT_TAIL(&m->active, x, link);
	pthread_mutex_unlock(&m->mu);
	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
		pthread_mutex_lock(&m->mu);
		TAILQ_REMOVE(&m->active, x, link);
		x->result = CURLE_OUT_OF_MEMORY;
		x->done = x->headers_done = 1;
		pthread_cond_broadcast(&m->cv);
		return;
	}
	pthread_mutex_lock(&m->mu);
}

/*
 * The loop's thread: new transfers (those to a host the limiter holds
 * wait, in order, until its hold ends), unpauses, cancels, the stop.
 * Only this thread takes transfers off the queue, so next stays in it
 * while add_one lets go of the lock.
 */
static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mirror *m = arg;
	struct xfer *x, *next;
	struct timeval left, soonest;
	int waiting = 0;

	(void)fd;
	(void)what;
	pthread_mutex_lock(&m->mu);
	for (x = TAILQ_FIRST(&m->queue); x != NULL; x = next) {
		next = TAILQ_NEXT(x, link);
		if (x->cancel) {
			TAILQ_REMOVE(&m->queue, x, link);
			x->result = CURLE_ABORTED_BY_CALLBACK;
			x->done = x->headers_done = 1;
			pthread_cond_broadcast(&m->cv);
		} else if (held(m, x->origin, &left)) {
			if (!waiting || timercmp(&left, &soonest, <))
				soonest = left;
			waiting = 1;
		} else
			add_one(m, x);
	}
	if (waiting)
		evtimer_add(m->hold, &soonest);
	for (x = TAILQ_FIRST(&m->active); x != NULL; x = next) {
		next = TAILQ_NEXT(x, link);
		if (x->cancel) {
			pthread_mutex_unlock(&m->mu);
			xfer_finish(m, x, CURLE_ABORTED_BY_CALLBACK);
			pthread_mutex_lock(&m->mu);
		} else if (x->paused && x->want_unpause) {
			x->paused = x->want_unpause = 0;
			pthread_mutex_unlock(&m->mu);
			curl_easy_pause(x->easy, CURLPAUSE_CONT);
			pthread_mutex_lock(&m->mu);
		}
	}
	if (m->stopping)
		event_base_loopbreak(m->base);
	pthread_mutex_unlock(&m->mu);
	check_done(m);
}

struct event_base *
mirror_base_new(void)
{
	evthread_use_pthreads();
	return event_base_new();
}

int
mirror_new(struct event_base *base, const struct mirror_opts *o,
    struct mirror **out)
{
	struct mirror *m;

	*out = NULL;
	evthread_use_pthreads();
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return mirror_fail(MIRROR_ENOMEM, "curl_global_init failed");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	if (o != NULL)
		m->opts = *o;
	if (m->opts.transfers <= 0)
		m->opts.transfers = 4;
	if (m->opts.connect_timeout <= 0)
		m->opts.connect_timeout = 30;
	if (m->opts.stall_time <= 0)
		m->opts.stall_time = 60;
	if (m->opts.retries == 0)
		m->opts.retries = 5;
	else if (m->opts.retries < 0)
		m->opts.retries = 0;
	if (m->opts.backoff_ms <= 0)
		m->opts.backoff_ms = 1000;
	if (m->opts.buffer < 64 * 1024)
		m->opts.buffer = m->opts.buffer == 0 ? 4u << 20 : 64 * 1024;
	if (m->opts.user_agent == NULL)
		m->opts.user_agent = "airlock/" PACKAGE_VERSION;
	m->base = base;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	TAILQ_INIT(&m->queue);
	TAILQ_INIT(&m->active);
	m->multi = curl_multi_init();
	m->timer = evtimer_new(base, timer_cb, m);
	m->wake = event_new(base, -1, 0, wake_cb, m);
	m->hold = evtimer_new(base, wake_cb, m);
	if (m->multi == NULL || m->timer == NULL || m->wake == NULL ||
	    m->hold == NULL) {
		mirror_free(m);
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, multi_sock_cb);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, multi_timer_cb);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)m->opts.transfers);
	*out = m;
	return 0;
}

void
mirror_free(struct mirror *m)
{
	if (m == NULL)
		return;
	if (m->multi != NULL)
		curl_multi_cleanup(m->multi);
	if (m->timer != NULL)
		event_free(m->timer);
	if (m->wake != NULL)
		event_free(m->wake);
	if (m->hold != NULL)
		event_free(m->hold);
	for (size_t i = 0; i < BOUND_UPSTREAM_HOSTS; i++)
		free(m->holds[i].origin);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m);
}

static void *
loop_main(void *arg)
{
	struct mirror *m = arg;

	/* A persistent event that never fires keeps the loop from ending
	 * while no transfer runs. */
	while (!m->stopping)
		event_base_loop(m->base, EVLOOP_NO_EXIT_ON_EMPTY);
	return NULL;
}

int
mirror_thread_start(struct mirror *m)
{
	int rc;

	if ((rc = pthread_create(&m->thread, NULL, loop_main, m)) != 0)
		return mirror_fail(rc, "pthread_create: %s", strerror(rc));
	m->threaded = 1;
	return 0;
}

void
mirror_thread_stop(struct mirror *m)
{
	if (!m->threaded)
		return;
	pthread_mutex_lock(&m->mu);
	m->stopping = 1;
	pthread_mutex_unlock(&m->mu);
	event_active(m->wake, EV_READ, 0);
	pthread_join(m->thread, NULL);
	m->threaded = 0;
}

/* The loop's thread: a header line of the current response. */
static size_t
header_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct mirror *m = x->m;
	size_t len = size * n, vl;
	const char *v;
	char line[4096];
	int code;

	if (len >= sizeof(line))
		return len;	/* a header this long is none we read */
	memcpy(line, buf, len);
	line[len] = '\0';
	while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		line[--len] = '\0';
	pthread_mutex_lock(&m->mu);
	if (strncmp(line, "HTTP/", 5) == 0) {
		/* A new response (after a 100): its headers only. */
		xfer_reset_headers(x);
		if ((v = strchr(line, ' ')) != NULL &&
		    sscanf(v, " %d", &code) == 1)
			x->status = code;
	} else if (len == 0) {
		if (x->status >= 200) {
			limit_answer(m, x);
			x->headers_done = 1;
			pthread_cond_broadcast(&m->cv);
		}
	} else if ((v = strchr(line, ':')) != NULL) {
		size_t nl = (size_t)(v - line);

		for (v++; *v == ' ' || *v == '\t'; v++)
			;
		vl = strlen(v);
		for (size_t i = 0; i < XH_COUNT; i++)
			if (strlen(xh_names[i]) == nl &&
			    strncasecmp(line, xh_names[i], nl) == 0 &&
			    x->h[i] == NULL)
				x->h[i] = strndup(v, vl);
	}
	pthread_mutex_unlock(&m->mu);
	return size * n;
}

/* The loop's thread: body bytes. */
static size_t
write_cb(char *buf, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	struct mirror *m = x->m;
	size_t len = size * n;

	pthread_mutex_lock(&m->mu);
	if (x->cancel) {
		pthread_mutex_unlock(&m->mu);
		return 0;
	}
	if (!x->stream || x->status < 200 || x->status > 299) {
		/* A body kept whole: metadata, or an error's words. */
		size_t max = x->stream ? 4096 : x->body_max;

		if (x->len + len > max) {
			/* A head's 2xx ends at its bytes; a redirect's or an
			 * error's words are kept as far as they fit. */
			if (x->head && x->status >= 200 && x->status <= 299)
				x->cut = 1;
			else if (!x->stream && !x->head) {
				x->toolarge = 1;
				pthread_mutex_unlock(&m->mu);
				return 0;
			}
			len = max - x->len;
		}
		if (x->len + len + 1 > x->cap) {
			size_t cap = x->cap == 0 ? 16384 : x->cap;
			char *p;

			while (cap < x->len + len + 1)
				cap *= 2;
			if ((p = realloc(x->body, cap)) == NULL) {
				pthread_mutex_unlock(&m->mu);
				return 0;
			}
			x->body = p;
			x->cap = cap;
		}
		memcpy(x->body + x->len, buf, len);
		x->len += len;
		x->body[x->len] = '\0';
		x->received += size * n;
		pthread_mutex_unlock(&m->mu);
		/* Less than curl gave ends the transfer. */
		return x->cut ? 0 : size * n;
	}
	if (x->rsize - x->rlen < len) {
		if (x->rlen > 0) {
			x->paused = 1;
			pthread_mutex_unlock(&m->mu);
			return CURL_WRITEFUNC_PAUSE;
		}
		/* More than the ring at once, into an empty one: grow it to
		 * what curl hands over (bounded by curl, not by the peer). */
		free(x->ring);
		if ((x->ring = malloc(len)) == NULL) {
			pthread_mutex_unlock(&m->mu);
			return 0;
		}
		x->rsize = len;
		x->rhead = 0;
	}
	for (size_t done = 0; done < len;) {
		size_t tail = (x->rhead + x->rlen) % x->rsize;
		size_t room = x->rsize - tail;
		size_t k = len - done < room ? len - done : room;

		memcpy(x->ring + tail, buf + done, k);
		x->rlen += k;
		done += k;
	}
	x->received += len;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	return len;
}

const char *const xh_names[XH_COUNT] = {
	"Location", "X-Repo-Commit", "X-Linked-Etag", "X-Linked-Size",
	"ETag", "Link", "Content-Range", "X-Error-Code", "X-Error-Message",
	"Retry-After", "RateLimit", "Content-Length",
};

void
xfer_reset_headers(struct xfer *x)
{
	for (size_t i = 0; i < XH_COUNT; i++) {
		free(x->h[i]);
		x->h[i] = NULL;
	}
	x->status = 0;
}

/*
 * A transfer of url, not started.  auth: send the token.  offset > 0 asks
 * for the bytes from there on.  stream: the 2xx body goes to the ring.
 */
int
xfer_new(struct mirror *m, const char *url, const char *token,
    uint64_t offset, int stream, struct xfer **out)
{
	struct xfer *x;
	char h[600];

	*out = NULL;
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->easy = curl_easy_init()) == NULL ||
	    (x->url = strdup(url)) == NULL) {
		if (x != NULL) {
			if (x->easy != NULL)
				curl_easy_cleanup(x->easy);
			free(x);
		}
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	}
	/* A URL curl cannot read is held with the others of its kind. */
	if ((x->origin = mirror_origin(url)) == NULL &&
	    (x->origin = strdup("")) == NULL) {
		xfer_free(x);
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	}
	x->m = m;
	x->stream = stream;
	x->body_max = BOUND_UPSTREAM_JSON;
	if (stream) {
		x->rsize = m->opts.buffer;
		if ((x->ring = malloc(x->rsize)) == NULL) {
			xfer_free(x);
			return mirror_fail(MIRROR_ENOMEM, "out of memory");
		}
	}
	x->hdrs = curl_slist_append(x->hdrs, "Accept-Encoding: identity");
	if (token != NULL) {
		snprintf(h, sizeof(h), "Authorization: Bearer %s", token);
		x->hdrs = curl_slist_append(x->hdrs, h);
	}
	if (offset > 0) {
		snprintf(h, sizeof(h), "Range: bytes=%llu-",
		    (unsigned long long)offset);
		x->hdrs = curl_slist_append(x->hdrs, h);
	}
	curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
	curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(x->easy, CURLOPT_USERAGENT, m->opts.user_agent);
	/* Bytes reach the ring in big pieces: fewer callbacks, locks and
	 * wake-ups of the reader than curl's 16 KiB. */
	curl_easy_setopt(x->easy, CURLOPT_BUFFERSIZE, (long)XFER_RECV);
	curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->easy, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->easy, CURLOPT_CONNECTTIMEOUT,
	    m->opts.connect_timeout);
	curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(x->easy, CURLOPT_LOW_SPEED_TIME, m->opts.stall_time);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(x->easy, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	*out = x;
	return 0;
}

int
xfer_head(struct xfer *x, size_t n)
{
	struct curl_slist *l;
	char h[64];

	if (n == 0 || x->stream || x->started)
		return mirror_fail(MIRROR_EINVAL, "xfer_head: %zu bytes", n);
	snprintf(h, sizeof(h), "Range: bytes=0-%zu", n - 1);
	if ((l = curl_slist_append(x->hdrs, h)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	x->hdrs = l;
	curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
	x->head = 1;
	x->body_max = n;
	return 0;
}

void
xfer_start(struct xfer *x)
{
	struct mirror *m = x->m;

	pthread_mutex_lock(&m->mu);
	x->started = 1;
	if (x->cancelp != NULL && *x->cancelp) {
		/* Cancelled before it began: it ends here, never sent. */
		x->result = CURLE_ABORTED_BY_CALLBACK;
		x->done = x->headers_done = 1;
		pthread_mutex_unlock(&m->mu);
		return;
	}
	TAILQ_INSERT_TAIL(&m->queue, x, link);
	pthread_mutex_unlock(&m->mu);
	event_active(m->wake, EV_READ, 0);
}

int
mirror_cancelled(const int *cancel)
{
	return cancel != NULL && __atomic_load_n(cancel, __ATOMIC_ACQUIRE);
}

void
mirror_sleep(struct mirror *m, long ms, const int *cancel)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000 + (ts.tv_nsec + (ms % 1000) * 1000000L) /
	    1000000000L;
	ts.tv_nsec = (ts.tv_nsec + (ms % 1000) * 1000000L) % 1000000000L;
	/* mirror_cancel() broadcasts cv, so a cancel ends the wait. */
	pthread_mutex_lock(&m->mu);
	while (!mirror_cancelled(cancel) &&
	    pthread_cond_timedwait(&m->cv, &m->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&m->mu);
}

void
mirror_cancel(struct mirror *m, int *flag)
{
	struct xfer *x;

	pthread_mutex_lock(&m->mu);
	__atomic_store_n(flag, 1, __ATOMIC_RELEASE);
	TAILQ_FOREACH(x, &m->active, link)
		if (x->cancelp == flag)
			x->cancel = 1;
	TAILQ_FOREACH(x, &m->queue, link)
		if (x->cancelp == flag)
			x->cancel = 1;
	/* Wakes a back-off of the pull too (pull.c waits on cv). */
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	event_active(m->wake, EV_READ, 0);
}

/* Waits for the headers of the final response (or the end). */
void
xfer_wait_headers(struct xfer *x)
{
	struct mirror *m = x->m;

	pthread_mutex_lock(&m->mu);
	while (!x->headers_done)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
}

void
xfer_wait(struct xfer *x)
{
	struct mirror *m = x->m;

	pthread_mutex_lock(&m->mu);
	while (!x->done)
		pthread_cond_wait(&m->cv, &m->mu);
	pthread_mutex_unlock(&m->mu);
}

/* Bytes of a streamed body: blocks until some are there or it ended.
 * Returns 0 at the end (see x->result). */
size_t
xfer_read(struct xfer *x, void *buf, size_t len)
{
	struct mirror *m = x->m;
	size_t n = 0;

	pthread_mutex_lock(&m->mu);
	while (x->rlen == 0 && !x->done)
		pthread_cond_wait(&m->cv, &m->mu);
	while (n < len && x->rlen > 0) {
		size_t k = x->rsize - x->rhead;

		if (k > x->rlen)
			k = x->rlen;
		if (k > len - n)
			k = len - n;
		memcpy((char *)buf + n, x->ring + x->rhead, k);
		x->rhead = (x->rhead + k) % x->rsize;
		x->rlen -= k;
		n += k;
	}
	if (x->rlen == 0)
		x->rhead = 0;
	if (x->paused && !x->want_unpause && x->rsize - x->rlen >=
	    x->rsize / 2) {
		x->want_unpause = 1;
		pthread_mutex_unlock(&m->mu);
		event_active(m->wake, EV_READ, 0);
		return n;
	}
	pthread_mutex_unlock(&m->mu);
	return n;
}

uint64_t
xfer_received(struct xfer *x)
{
	uint64_t n;

	pthread_mutex_lock(&x->m->mu);
	n = x->received;
	pthread_mutex_unlock(&x->m->mu);
	return n;
}

/* Ends x, if it runs, and frees it. */
void
xfer_free(struct xfer *x)
{
	if (x == NULL)
		return;
	if (x->started) {
		struct mirror *m = x->m;

		pthread_mutex_lock(&m->mu);
		if (!x->done) {
			x->cancel = 1;
			pthread_mutex_unlock(&m->mu);
			event_active(m->wake, EV_READ, 0);
			xfer_wait(x);
		} else
			pthread_mutex_unlock(&m->mu);
	}
	xfer_reset_headers(x);
	free(x->location);
	free(x->origin);
	free(x->body);
	free(x->ring);
	free(x->url);
	curl_slist_free_all(x->hdrs);
	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	free(x);
}
