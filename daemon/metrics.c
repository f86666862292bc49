/*
 * metrics.c - /metrics in Prometheus' text format: requests by route and
 * status, bytes sent (of files, and of every body), the store's size and chunk count, and what the
 * daemon holds (connections, streams, buffers).
 *
 * Counters are bumped on a loop and read by a worker, atomically; each
 * loop has its own, so that loops on other cores do not share their
 * cache lines, and /metrics sums them.  The
 * store's figures walk every manifest (store_stats), so they are kept
 * for a while rather than taken at every scrape.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>

#include "daemon/airlockd.h"


static const int statuses[] = {
	200, 202, 204, 206, 304, 400, 401, 403, 404, 405, 409, 413, 414, 416,
	500, 503,
};
#define NSTATUS		(sizeof(statuses) / sizeof(statuses[0]))

struct loop_counters {
	uint64_t	requests[ROUTE_NKINDS][NSTATUS + 1];	/* last: other */
	uint64_t	sent_bytes;
	uint64_t	body_bytes;	/* of every answer, streams included */
} __attribute__((aligned(64)));

static struct loop_counters	counters[BOUND_LOOPS];

static struct {
	pthread_mutex_t		mtx;
	struct store_stats	st;
	time_t			when;
	int			ok;
} stats = { .mtx = PTHREAD_MUTEX_INITIALIZER };

void
metrics_request(int loop, enum route_kind kind, int status)
{
	size_t i;

	if ((unsigned)kind >= ROUTE_NKINDS)
		kind = ROUTE_UNKNOWN;
	for (i = 0; i < NSTATUS; i++)
		if (statuses[i] == status)
			break;
	__atomic_add_fetch(&counters[loop].requests[kind][i], 1,
	    __ATOMIC_RELAXED);
}

void
metrics_bytes(int loop, uint64_t n)
{
	__atomic_add_fetch(&counters[loop].sent_bytes, n, __ATOMIC_RELAXED);
	__atomic_add_fetch(&counters[loop].body_bytes, n, __ATOMIC_RELAXED);
}

/* A body sent whole (JSON, a chunk, an error), not streamed. */
void
metrics_body(int loop, uint64_t n)
{
	__atomic_add_fetch(&counters[loop].body_bytes, n, __ATOMIC_RELAXED);
}

static uint64_t
sum_requests(int nloops, size_t k, size_t i)
{
	uint64_t n = 0;
	int l;

	for (l = 0; l < nloops; l++)
		n += __atomic_load_n(&counters[l].requests[k][i],
		    __ATOMIC_RELAXED);
	return n;
}

static uint64_t
loop_requests(int loop)
{
	uint64_t n = 0;
	size_t k, i;

	for (k = 0; k < ROUTE_NKINDS; k++)
		for (i = 0; i <= NSTATUS; i++)
			n += __atomic_load_n(&counters[loop].requests[k][i],
			    __ATOMIC_RELAXED);
	return n;
}

static int
store_figures(struct store *st, struct store_stats *out)
{
	time_t now = time(NULL);
	int ok;

	pthread_mutex_lock(&stats.mtx);
	if (!stats.ok || now - stats.when >= BOUND_STATS_TTL) {
		stats.ok = store_stats(st, &stats.st) == 0;
		stats.when = now;
		if (!stats.ok)
			log_warnx("%s: %s", __func__, store_lasterror());
	}
	*out = stats.st;
	ok = stats.ok;
	pthread_mutex_unlock(&stats.mtx);
	return ok;
}

static void
gauge(struct evbuffer *b, const char *name, const char *help, double v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s gauge\n%s %.0f\n",
	    name, help, name, name, v);
}

void
metrics_handle(struct request *req)
{
	int l, nloops = req->r_srv->srv_nloops;
	struct store_stats ss;
	struct evbuffer *b;
	size_t k, i, len;
	uint64_t n, sent = 0, body = 0;
	char *text;

	if ((b = evbuffer_new()) == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	evbuffer_add_printf(b, "# HELP airlockd_requests_total Requests "
	    "answered, by route and status.\n"
	    "# TYPE airlockd_requests_total counter\n");
	for (k = 0; k < ROUTE_NKINDS; k++)
		for (i = 0; i <= NSTATUS; i++) {
			if ((n = sum_requests(nloops, k, i)) == 0)
				continue;
			if (i < NSTATUS)
				evbuffer_add_printf(b, "airlockd_requests_total"
				    "{route=\"%s\",status=\"%d\"} %llu\n",
				    route_name((enum route_kind)k), statuses[i],
				    (unsigned long long)n);
			else
				evbuffer_add_printf(b, "airlockd_requests_total"
				    "{route=\"%s\",status=\"other\"} %llu\n",
				    route_name((enum route_kind)k),
				    (unsigned long long)n);
		}
	/* Which loop answered: how the connections were spread. */
	evbuffer_add_printf(b, "# HELP airlockd_loop_requests_total Requests "
	    "answered, by serving loop (workers).\n"
	    "# TYPE airlockd_loop_requests_total counter\n");
	for (l = 0; l < nloops; l++) {
		evbuffer_add_printf(b, "airlockd_loop_requests_total"
		    "{loop=\"%d\"} %llu\n", l,
		    (unsigned long long)loop_requests(l));
		sent += __atomic_load_n(&counters[l].sent_bytes,
		    __ATOMIC_RELAXED);
		body += __atomic_load_n(&counters[l].body_bytes,
		    __ATOMIC_RELAXED);
	}
	/* Taken in turn (http.c): no two differ by more than one. */
	evbuffer_add_printf(b, "# HELP airlockd_loop_connections_total "
	    "Connections accepted, by serving loop (workers).\n"
	    "# TYPE airlockd_loop_connections_total counter\n");
	for (l = 0; l < nloops; l++)
		evbuffer_add_printf(b, "airlockd_loop_connections_total"
		    "{loop=\"%d\"} %llu\n", l, (unsigned long long)
		    LOOP_GET(req->r_srv->srv_loops[l]->l_accepted));
	evbuffer_add_printf(b, "# HELP airlockd_sent_bytes_total File and "
	    "blob bytes sent.\n# TYPE airlockd_sent_bytes_total counter\n"
	    "airlockd_sent_bytes_total %llu\n", (unsigned long long)sent);
	/* What a chained mirror costs on the wire: chunks and manifests
	 * are answered whole, not streamed. */
	evbuffer_add_printf(b, "# HELP airlockd_body_bytes_total Response "
	    "body bytes sent, of every route.\n"
	    "# TYPE airlockd_body_bytes_total counter\n"
	    "airlockd_body_bytes_total %llu\n", (unsigned long long)body);
	gauge(b, "airlockd_connections", "Open client connections.",
	    (double)req->r_gauge[0]);
	gauge(b, "airlockd_requests_in_progress", "Requests at a worker.",
	    (double)req->r_gauge[1]);
	gauge(b, "airlockd_streams", "Responses sending a file's bytes.",
	    (double)req->r_gauge[2]);
	gauge(b, "airlockd_read_buffers_in_use", "Read buffers read or "
	    "being sent.", (double)req->r_gauge[3]);
	gauge(b, "airlockd_send_windows_in_use", "Windows of files, each "
	    "holding a read transaction, being sent with sendfile.",
	    (double)req->r_gauge[4]);
	gauge(b, "airlockd_send_pipes", "Streams whose chunks go to the "
	    "socket through a pipe of their own (splice).",
	    (double)req->r_gauge[5]);
	gauge(b, "airlockd_read_queue", "Jobs waiting for a worker.",
	    (double)pool_queued());
	if (store_figures(req->r_srv->srv_store, &ss)) {
		gauge(b, "airlockd_store_file_bytes", "Size of the store's "
		    "data file.", (double)ss.file_bytes);
		gauge(b, "airlockd_store_chunk_bytes", "Bytes of stored chunks.",
		    (double)ss.chunk_bytes);
		gauge(b, "airlockd_store_chunks", "Chunks in the store.",
		    (double)ss.chunks);
		gauge(b, "airlockd_store_blobs", "Files (blobs) in the store.",
		    (double)ss.blobs);
		gauge(b, "airlockd_store_revisions", "Revisions (manifests) in "
		    "the store.", (double)ss.revisions);
		gauge(b, "airlockd_store_repositories", "Repositories in the "
		    "store.", (double)ss.repos);
	}
	jobs_metrics(b);
	len = evbuffer_get_length(b);
	if ((text = (char *)evbuffer_pullup(b, -1)) == NULL) {
		evbuffer_free(b);
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	resp_text(req, 200, "text/plain; version=0.0.4; charset=utf-8", text,
	    len);
	evbuffer_free(b);
}
