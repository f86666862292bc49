/*
 * http.c - the evhttp server: connections, limits, reading a request into
 * a struct request, handing it to a worker, and sending what comes back.
 *
 * A request's life: http_request() (loop) parses and checks everything it
 * can without the store and answers at once when it can; otherwise a
 * worker runs its handler (request_run), which fills in the response;
 * request_done() (loop) sends it, or starts a stream for a blob's bytes.
 * If the client goes away meanwhile, evhttp detaches the request from its
 * connection and tells conn_closed(), which frees it; the worker's result
 * is then dropped.
 *
 * Each loop (struct loop) runs one of these servers on a listening socket
 * of its own, and keeps its connections to itself: a connection, its
 * requests and its stream never leave the loop that accepted it.
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

#include "daemon/airlockd.h"

#define EXPOSE_HEADERS	"X-Repo-Commit, X-Request-Id, X-Error-Code, " \
	"X-Error-Message, X-Total-Count, ETag, Link, Accept-Ranges, " \
	"Content-Range, X-Linked-Size, X-Linked-ETag"
#define ALLOW_METHODS	"GET, HEAD, POST, OPTIONS"
#define CORS_METHODS	"GET, HEAD, POST, DELETE, OPTIONS"
#define ALLOW_HEADERS	"Authorization, Range, Content-Type, Accept, " \
	"User-Agent, X-Requested-With"

struct conn {
	struct conn			*c_next;
	struct loop			*c_loop;
	struct evhttp_connection	*c_evcon;
	struct request			*c_req;		/* at a worker */
	struct stream			*c_stream;	/* sending a blob */
	int				 c_flushing;	/* answered, not all written */
};

static size_t
conn_hash(const struct evhttp_connection *evcon)
{
	uintptr_t p = (uintptr_t)evcon;

	return (size_t)((p >> 4) ^ (p >> 14)) % BOUND_CONN_BUCKETS;
}

static struct conn *
conn_find(struct loop *l, struct evhttp_connection *evcon)
{
	struct conn *c;

	for (c = l->l_conns[conn_hash(evcon)]; c != NULL; c = c->c_next)
		if (c->c_evcon == evcon)
			return c;
	return NULL;
}

static void request_free(struct request *);

/*
 * evhttp calls this when it frees a connection.  If a request of ours is
 * still unanswered, evhttp has detached it from the connection (it was
 * not done), so freeing it is ours to do.
 */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg, **cp;
	struct loop *l = c->c_loop;

	if (c->c_req != NULL) {
		if (c->c_req->r_ev != NULL)
			evhttp_request_free(c->c_req->r_ev);
		c->c_req->r_ev = NULL;
		c->c_req->r_conn = NULL;
	}
	if (c->c_stream != NULL)
		stream_gone(c->c_stream);
	if (c->c_flushing) {
		c->c_flushing = 0;
		LOOP_ADD(l->l_nflushing, -1);
	}
	for (cp = &l->l_conns[conn_hash(evcon)]; *cp != NULL;
	    cp = &(*cp)->c_next)
		if (*cp == c) {
			*cp = c->c_next;
			break;
		}
	free(c);
	LOOP_ADD(l->l_nconns, -1);
	LOOP_ADD(l->l_srv->srv_nconns, -1);
	if (l->l_draining)
		http_request_done(l);
}

void
conn_set_stream(struct conn *c, struct stream *sm)
{
	if (c != NULL)
		c->c_stream = sm;
}

/* Only if sm is still the connection's: it may have a later one. */
void
conn_unset_stream(struct conn *c, struct stream *sm)
{
	if (c != NULL && c->c_stream == sm)
		c->c_stream = NULL;
}

static void
flushed(struct evhttp_request *ev, void *arg)
{
	struct conn *c = arg;

	(void)ev;
	if (c->c_flushing) {
		c->c_flushing = 0;
		LOOP_ADD(c->c_loop->l_nflushing, -1);
		http_request_done(c->c_loop);
	}
}

/*
 * An answer is given but its bytes may still sit in the connection's
 * output: a drain waits for evhttp to say they were all written (or for
 * the connection to close), not only for the answer to be handed over.
 */
void
conn_track_flush(struct conn *c, struct evhttp_request *ev)
{
	if (c == NULL || c->c_flushing)
		return;
	c->c_flushing = 1;
	LOOP_ADD(c->c_loop->l_nflushing, 1);
	evhttp_request_set_on_complete_cb(ev, flushed, c);
}

/* Headers every answer carries, so that browsers may read them. */
/* Ids unique across loops: the loop's number in the top byte. */
static void
add_common_headers(struct loop *l, struct evkeyvalq *h)
{
	char rid[32];

	snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)
	    ((uint64_t)l->l_id << 56 | ++l->l_request_ids));
	evhttp_add_header(h, "X-Request-Id", rid);
	evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
	evhttp_add_header(h, "Access-Control-Expose-Headers", EXPOSE_HEADERS);
	evhttp_add_header(h, "Server", "airlockd/" PACKAGE_VERSION);
	if (l->l_draining)
		evhttp_add_header(h, "Connection", "close");
}

/* Answers on the loop, for what needs no store: errors and /healthz. */
static void
reply_now(struct loop *l, struct evhttp_request *ev,
    enum route_kind kind, int status, const char *code, const char *msg,
    const char *allow)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
	struct evbuffer *out;
	json_t *j;
	char *text = NULL, len[32];

	add_common_headers(l, h);
	if ((out = evbuffer_new()) == NULL) {
		evhttp_send_error(ev, 500, NULL);
		return;
	}
	if (code != NULL) {
		j = json_pack("{s:s}", "error", msg);
		text = j != NULL ? json_dumps(j, JSON_COMPACT) : NULL;
		json_decref(j);
		evhttp_add_header(h, "Content-Type",
		    "application/json; charset=utf-8");
		evhttp_add_header(h, "X-Error-Code", code);
		evhttp_add_header(h, "X-Error-Message", msg);
		if (text != NULL) {
			evbuffer_add(out, text, strlen(text));
			evbuffer_add(out, "\n", 1);
		}
		free(text);
	} else if (msg != NULL) {
		evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
		evbuffer_add(out, msg, strlen(msg));
	}
	if (allow != NULL)
		evhttp_add_header(h, "Allow", allow);
	snprintf(len, sizeof(len), "%zu", evbuffer_get_length(out));
	evhttp_add_header(h, "Content-Length", len);
	if (evhttp_request_get_command(ev) == EVHTTP_REQ_HEAD)
		evbuffer_drain(out, evbuffer_get_length(out));
	metrics_request(l->l_id, kind, status);
	metrics_body(l->l_id, evbuffer_get_length(out));
	conn_track_flush(conn_find(l, evhttp_request_get_connection(ev)), ev);
	evhttp_send_reply(ev, status, NULL, out);
	evbuffer_free(out);
}

/* An API error, answered on the loop. */
static void
reply_error(struct loop *l, struct evhttp_request *ev,
    enum route_kind kind, enum api_error e, const char *detail,
    const char *allow)
{
	const struct api_error_def *def = api_error(e);
	char msg[BOUND_ERROR_MESSAGE];

	api_message(e, detail, NULL, msg, sizeof(msg));
	reply_now(l, ev, kind, def->status, def->code, msg, allow);
}

static void
reply_options(struct loop *l, struct evhttp_request *ev)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);

	add_common_headers(l, h);
	evhttp_add_header(h, "Access-Control-Allow-Methods", CORS_METHODS);
	evhttp_add_header(h, "Access-Control-Allow-Headers", ALLOW_HEADERS);
	evhttp_add_header(h, "Access-Control-Max-Age", "86400");
	evhttp_add_header(h, "Allow", CORS_METHODS);
	evhttp_add_header(h, "Content-Length", "0");
	metrics_request(l->l_id, ROUTE_UNKNOWN, 204);
	conn_track_flush(conn_find(l, evhttp_request_get_connection(ev)), ev);
	evhttp_send_reply(ev, 204, NULL, NULL);
}

static const char *
allow_header(unsigned methods)
{
	if (methods == ROUTE_POST)
		return "POST, OPTIONS";
	if (methods & ROUTE_DELETE)
		return "GET, HEAD, DELETE, OPTIONS";
	if (methods & ROUTE_POST)
		return ALLOW_METHODS;
	return "GET, HEAD, OPTIONS";
}

static char *
base_url(struct server *srv, struct conf *cf, struct evhttp_request *ev)
{
	const char *host;
	char *s;

	if (cf->cf_public_url != NULL)
		return strdup(cf->cf_public_url);
	host = route_host(evhttp_find_header(
	    evhttp_request_get_input_headers(ev), "Host"));
	if (asprintf(&s, "http://%s", host != NULL ? host :
	    srv->srv_addr) == -1)
		return NULL;
	return s;
}

static char *
bearer_token(struct evhttp_request *ev)
{
	const char *h;

	h = route_bearer(evhttp_find_header(
	    evhttp_request_get_input_headers(ev), "Authorization"));
	return h != NULL ? strdup(h) : NULL;
}

static char *
header_dup(struct evhttp_request *ev, const char *name)
{
	const char *v;

	v = evhttp_find_header(evhttp_request_get_input_headers(ev), name);
	return v != NULL ? strdup(v) : NULL;
}

/* Each route's handler and needs, from the one table in route.h. */
static const struct {
	void		(*run)(struct request *);
	unsigned	 needs;
} handlers[ROUTE_NKINDS] = {
#define ROUTE_HANDLER(kind, name, methods, fn, needs) \
	[kind] = { fn, needs },
	ROUTE_TABLE(ROUTE_HANDLER)
#undef ROUTE_HANDLER
};

static void
request_run(struct task *tk)
{
	struct request *req = (struct request *)((char *)tk -
	    offsetof(struct request, r_task));
	enum route_kind kind = req->r_route.kind;

	if ((unsigned)kind < ROUTE_NKINDS && handlers[kind].run != NULL)
		handlers[kind].run(req);
	else
		resp_fail(req, API_ENDPOINT_NOT_FOUND, "no such route", NULL);
	if (req->r_status == 0)
		resp_fail(req, API_INTERNAL, "no response", NULL);
}

static void
log_request(struct request *req)
{
	struct timespec now;
	double ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (double)(now.tv_sec - req->r_start.tv_sec) * 1e3 +
	    (double)(now.tv_nsec - req->r_start.tv_nsec) / 1e6;
	log_debug("%s %d %.1fms", req->r_target != NULL ? req->r_target : "-",
	    req->r_status, ms);
}

static void
request_done(struct task *tk)
{
	struct request *req = (struct request *)((char *)tk -
	    offsetof(struct request, r_task));
	struct loop *l = req->r_loop;
	struct evkeyvalq *out;
	struct evkeyval *kv;

	LOOP_ADD(l->l_nrequests, -1);
	if (req->r_conn != NULL)
		req->r_conn->c_req = NULL;
	if (req->r_ev == NULL) {
		/* The client went away while a worker was busy. */
		request_free(req);
		http_request_done(l);
		return;
	}
	out = evhttp_request_get_output_headers(req->r_ev);
	add_common_headers(l, out);
	TAILQ_FOREACH(kv, &req->r_headers, next)
		evhttp_add_header(out, kv->key, kv->value);
	metrics_request(l->l_id, req->r_route.kind, req->r_status);
	log_request(req);
	if (req->r_stream && !req->r_head && req->r_len > 0) {
		/* The stream takes the evhttp request and the connection. */
		if (stream_start(req) == 0) {
			request_free(req);
			http_request_done(l);
			return;
		}
		log_warnx("%s: cannot start a stream", __func__);
		evhttp_remove_header(out, "Content-Length");
		evhttp_remove_header(out, "Content-Range");
		evhttp_add_header(out, "Content-Length", "0");
		evhttp_add_header(out, "Connection", "close");
		req->r_status = 500;
	}
	if (!req->r_head && req->r_out != NULL)
		metrics_body(l->l_id, evbuffer_get_length(req->r_out));
	conn_track_flush(req->r_conn, req->r_ev);
	evhttp_send_reply(req->r_ev, req->r_status, NULL,
	    req->r_head ? NULL : req->r_out);
	req->r_ev = NULL;
	request_free(req);
	http_request_done(l);
}

static void
request_free(struct request *req)
{
	if (req == NULL)
		return;
	evhttp_clear_headers(&req->r_headers);
	if (req->r_out != NULL)
		evbuffer_free(req->r_out);
	if (req->r_conf != NULL)
		conf_unref(req->r_conf);
	free(req->r_range);
	if (req->r_token != NULL) {
		explicit_bzero(req->r_token, strlen(req->r_token));
		free(req->r_token);
	}
	free(req->r_ctype);
	free(req->r_body);
	free(req->r_base);
	free(req->r_target);
	free(req);
}

static unsigned
method_of(struct evhttp_request *ev)
{
	switch (evhttp_request_get_command(ev)) {
	case EVHTTP_REQ_GET:
		return ROUTE_GET;
	case EVHTTP_REQ_HEAD:
		return ROUTE_HEAD;
	case EVHTTP_REQ_POST:
		return ROUTE_POST;
	case EVHTTP_REQ_DELETE:
		return ROUTE_DELETE;
	default:
		return 0;
	}
}

static const char *
method_name(struct evhttp_request *ev)
{
	switch (evhttp_request_get_command(ev)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	default:
		return "OTHER";
	}
}

/* Whether the route names a repository whose privacy must be checked. */
static int
route_has_repo(const struct route *r)
{
	return (handlers[r->kind].needs & ROUTE_REPO) && r->repo[0] != '\0';
}

/* The connection's record, made at its first request; NULL if answered. */
static struct conn *
conn_get(struct loop *l, struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct conn *c;

	if ((c = conn_find(l, evcon)) != NULL)
		return c;
	/* max-connections counts every loop's. */
	if (LOOP_GET(l->l_srv->srv_nconns) >= l->l_conf->cf_max_connections) {
		evhttp_add_header(evhttp_request_get_output_headers(ev),
		    "Connection", "close");
		reply_error(l, ev, ROUTE_UNKNOWN, API_UNAVAILABLE, NULL,
		    NULL);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		evhttp_send_error(ev, 500, NULL);
		return NULL;
	}
	c->c_evcon = evcon;
	c->c_loop = l;
	c->c_next = l->l_conns[conn_hash(evcon)];
	l->l_conns[conn_hash(evcon)] = c;
	LOOP_ADD(l->l_nconns, 1);
	LOOP_ADD(l->l_srv->srv_nconns, 1);
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	/* Whole read buffers at a time, not 16 KiB pieces. */
	bufferevent_set_max_single_write(
	    evhttp_connection_get_bufferevent(evcon), BOUND_SINGLE_WRITE);
	return c;
}

static struct request *
request_new(struct loop *l, struct evhttp_request *ev, const char *target)
{
	struct request *req;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &req->r_start);
	TAILQ_INIT(&req->r_headers);
	req->r_srv = l->l_srv;
	req->r_loop = l;
	req->r_method = method_of(ev);
	req->r_head = req->r_method == ROUTE_HEAD;
	if (asprintf(&req->r_target, "%s %.512s", method_name(ev),
	    target) == -1)
		req->r_target = NULL;
	return req;
}

/*
 * Everything checked without the store: the route, the method, the query
 * and the token a private repository needs.  0, or -1 when answered.
 */
static int
request_check(struct loop *l, struct evhttp_request *ev,
    struct request *req, const char *path, size_t plen, const char *query,
    size_t qlen)
{
	const char *why;
	unsigned methods;
	int rc;

	if ((rc = route_parse(path, plen, &req->r_route, &why)) != 0) {
		reply_error(l, ev, ROUTE_UNKNOWN, rc == 404 ?
		    API_ENDPOINT_NOT_FOUND : rc == 414 ? API_URI_TOO_LONG :
		    API_BAD_REQUEST, why, NULL);
		return -1;
	}
	methods = route_methods(req->r_route.kind);
	if ((req->r_method & methods) == 0) {
		reply_error(l, ev, req->r_route.kind, API_METHOD_NOT_ALLOWED,
		    NULL, allow_header(methods));
		return -1;
	}
	if (query != NULL && query_parse(query, qlen, &req->r_query) != 0) {
		reply_error(l, ev, req->r_route.kind, API_BAD_REQUEST,
		    "malformed query string", NULL);
		return -1;
	}
	if (handlers[req->r_route.kind].needs & ROUTE_ON_LOOP) {
		/* Only /healthz: whether the daemon takes requests. */
		reply_now(l, ev, req->r_route.kind,
		    l->l_draining ? 503 : 200, NULL,
		    l->l_draining ? "draining\n" : "ok\n", NULL);
		return -1;
	}
	req->r_token = bearer_token(ev);
	if (handlers[req->r_route.kind].needs & ROUTE_ADMIN) {
		if (req->r_token == NULL) {
			reply_error(l, ev, req->r_route.kind,
			    API_ADMIN_UNAUTHORIZED, NULL, NULL);
			return -1;
		}
		if (!conf_is_admin(l->l_conf, req->r_token)) {
			reply_error(l, ev, req->r_route.kind, API_FORBIDDEN,
			    NULL, NULL);
			return -1;
		}
	}
	/*
	 * A private repository without a token is not found, as on the
	 * Hub: its name is not confirmed to whoever asks.
	 */
	if (route_has_repo(&req->r_route) && !conf_may_read(l->l_conf,
	    req->r_route.repo, req->r_token)) {
		reply_error(l, ev, req->r_route.kind, API_REPO_HIDDEN,
		    NULL, NULL);
		return -1;
	}
	return 0;
}

/* What the worker reads off the evhttp request.  0, or -1 when answered. */
static int
request_take(struct loop *l, struct evhttp_request *ev,
    struct request *req)
{
	struct evbuffer *in;
	size_t blen;

	if (req->r_method == ROUTE_POST) {
		in = evhttp_request_get_input_buffer(ev);
		blen = evbuffer_get_length(in);
		if ((req->r_body = malloc(blen + 1)) == NULL) {
			reply_error(l, ev, req->r_route.kind, API_NOMEM,
			    NULL, NULL);
			return -1;
		}
		evbuffer_remove(in, req->r_body, blen);
		req->r_body[blen] = '\0';
		req->r_bodylen = blen;
		req->r_ctype = header_dup(ev, "Content-Type");
	}
	req->r_range = header_dup(ev, "Range");
	if (handlers[req->r_route.kind].needs & ROUTE_GAUGES)
		http_gauges(l->l_srv, req->r_gauge);
	req->r_conf = conf_ref(l->l_conf);
	if ((req->r_base = base_url(l->l_srv, req->r_conf, ev)) == NULL) {
		reply_error(l, ev, req->r_route.kind, API_NOMEM, NULL,
		    NULL);
		return -1;
	}
	return 0;
}

static void
http_request(struct evhttp_request *ev, void *arg)
{
	struct loop *l = arg;
	struct request *req;
	struct conn *c;
	const char *target, *path, *query;
	size_t plen, qlen;

	if ((c = conn_get(l, ev)) == NULL)
		return;
	if (evhttp_request_get_command(ev) == EVHTTP_REQ_OPTIONS) {
		reply_options(l, ev);
		return;
	}
	target = evhttp_request_get_uri(ev);
	if (target == NULL || route_target(target, &path, &plen, &query,
	    &qlen) != 0) {
		reply_error(l, ev, ROUTE_UNKNOWN, API_BAD_REQUEST,
		    "malformed request target", NULL);
		return;
	}
	if ((req = request_new(l, ev, target)) == NULL) {
		evhttp_send_error(ev, 500, NULL);
		return;
	}
	if (request_check(l, ev, req, path, plen, query, qlen) != 0 ||
	    request_take(l, ev, req) != 0) {
		request_free(req);
		return;
	}
	req->r_ev = ev;
	req->r_conn = c;
	c->c_req = req;
	LOOP_ADD(l->l_nrequests, 1);
	req->r_task.tk_run = request_run;
	req->r_task.tk_done = request_done;
	req->r_task.tk_loop = l;
	pool_submit(&req->r_task);
}

/*
 * Limits that apply to connections accepted from now on (SIGHUP), on the
 * loop's thread.
 */
void
http_apply_limits(struct loop *l)
{
	struct conf *cf = l->l_conf;
	int n = cf->cf_buffers / l->l_srv->srv_nloops;

	evhttp_set_max_headers_size(l->l_http, cf->cf_max_header_size);
	evhttp_set_max_body_size(l->l_http, cf->cf_max_body_size);
	evhttp_set_timeout(l->l_http, cf->cf_timeout);
	/* read-buffers is for all loops: each has its share. */
	buf_init(&l->l_bufs, cf->cf_buffer_size, n > 0 ? n : 1);
	pool_map_budget(cf->cf_map_budget);
}

/* The socket, bound to the address in listen, looked up. */
static evutil_socket_t
listen_socket(struct server *srv, const char *listen)
{
	struct evutil_addrinfo hints, *ai = NULL;
	char *addr, *port;
	evutil_socket_t fd = -1;
	int rc, on = 1;

	/* "[::1]:8080" or "127.0.0.1:8080" */
	if ((addr = strdup(listen)) == NULL)
		return -1;
	if ((port = strrchr(addr, ':')) == NULL) {
		log_warnx("%s: %s: no port", __func__, listen);
		goto out;
	}
	*port++ = '\0';
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		addr[strlen(addr) - 1] = '\0';
		memmove(addr, addr + 1, strlen(addr));
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_ADDRCONFIG;
	if ((rc = evutil_getaddrinfo(addr, port, &hints, &ai)) != 0) {
		log_warnx("%s: %s: %s", __func__, listen,
		    evutil_gai_strerror(rc));
		goto out;
	}
	if ((fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto out;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
	    bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		evutil_closesocket(fd);
		fd = -1;
		goto out;
	}
	srv->srv_sslen = sizeof(srv->srv_ss);
	if (getsockname(fd, (struct sockaddr *)&srv->srv_ss,
	    &srv->srv_sslen) != 0) {
		evutil_closesocket(fd);
		fd = -1;
	}
out:
	if (ai != NULL)
		evutil_freeaddrinfo(ai);
	free(addr);
	return fd;
}

/*
 * Whether this loop takes connections now: while it has taken more than
 * another loop still serving, it leaves the next to the others.
 */
static void
take_turn(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg, *o;
	struct server *srv = l->l_srv;
	struct evconnlistener *lev;
	uint64_t mine = LOOP_GET(l->l_accepted), least = mine, n;
	int i, off;

	(void)fd, (void)what;
	if (l->l_bound == NULL)
		return;
	for (i = 0; i < srv->srv_nloops; i++) {
		o = srv->srv_loops[i];
		if (o != l && LOOP_GET(o->l_accepting) &&
		    (n = LOOP_GET(o->l_accepted)) < least)
			least = n;
	}
	off = mine > least;
	if (off == l->l_turn_off)
		return;
	lev = evhttp_bound_socket_get_listener(l->l_bound);
	if ((off ? evconnlistener_disable(lev) :
	    evconnlistener_enable(lev)) == 0)
		l->l_turn_off = off;
}

/* Each loop that waits for its turn looks again. */
static void
turns_changed(struct loop *l)
{
	struct server *srv = l->l_srv;
	int i;

	for (i = 0; i < srv->srv_nloops; i++)
		if (srv->srv_loops[i] != l)
			event_active(srv->srv_loops[i]->l_turn_ev, EV_READ, 0);
}

/*
 * evhttp's hook for each connection it accepts, on its loop, in its
 * accept loop: a loop that has had its turn stops it there.  Returns no
 * bufferevent, so that evhttp makes its own.
 */
static struct bufferevent *
accepted(struct event_base *base, void *arg)
{
	struct loop *l = arg;

	(void)base;
	LOOP_ADD(l->l_accepted, 1);
	if (l->l_turn_ev != NULL) {
		take_turn(-1, 0, l);
		turns_changed(l);
	}
	return NULL;
}

int
http_start(struct loop *l)
{
	struct server *srv = l->l_srv;
	struct evconnlistener *lev;
	char host[INET6_ADDRSTRLEN];
	const char *listen = l->l_conf->cf_listen;
	evutil_socket_t fd;
	/*
	 * Every loop listens on the one socket, and takes connections in
	 * turn: one that has accepted more than another stops listening
	 * until the others catch up (take_turn()).  So 32 clients arriving
	 * at once are 16 and 16 on two loops.  SO_REUSEPORT's hash of their
	 * addresses gave 5, 6, 9 and 14 to four loops: the clients of the
	 * busiest finished long after the others', when the job that waits
	 * for all of them could begin.  Every listening loop wakes for each
	 * connection, and one takes it.
	 */
	int flags = LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE |
	    LEV_OPT_CLOSE_ON_EXEC;

	if ((l->l_http = evhttp_new(l->l_base)) == NULL) {
		log_warnx("%s: evhttp_new failed", __func__);
		return -1;
	}
	/*
	 * Every method is parsed so that the ones not served get a 405 with
	 * a JSON body; TRACE and CONNECT are refused by evhttp itself.
	 */
	evhttp_set_allowed_methods(l->l_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(l->l_http, NULL);
	http_apply_limits(l);
	evhttp_set_gencb(l->l_http, http_request, l);

	/* Loop 0 binds; each other listens on a copy of its socket. */
	if (l->l_id == 0) {
		if ((fd = listen_socket(srv, listen)) == -1) {
			log_warn("%s: cannot listen on %s", __func__, listen);
			return -1;
		}
		srv->srv_listen_fd = fd;
	} else if ((fd = fcntl(srv->srv_listen_fd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("%s: loop %d: cannot share the socket", __func__,
		    l->l_id);
		return -1;
	}
	if ((lev = evconnlistener_new(l->l_base, NULL, NULL, flags,
	    l->l_id == 0 ? 128 * srv->srv_nloops : 0, fd)) == NULL)
		evutil_closesocket(fd);
	if (lev == NULL || (l->l_bound = evhttp_bind_listener(l->l_http,
	    lev)) == NULL) {
		log_warn("%s: loop %d: cannot listen on %s", __func__, l->l_id,
		    listen);
		if (lev != NULL)
			evconnlistener_free(lev);
		return -1;
	}
	if (srv->srv_nloops > 1) {
		if ((l->l_turn_ev = event_new(l->l_base, -1, 0, take_turn,
		    l)) == NULL)
			return -1;
		LOOP_ADD(l->l_accepting, 1);
	}
	evhttp_set_bevcb(l->l_http, accepted, l);
	if (l->l_id != 0)
		return 0;
	if (srv->srv_ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&srv->srv_ss;

		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(srv->srv_addr, sizeof(srv->srv_addr), "[%s]:%u", host,
		    ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&srv->srv_ss;

		evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(srv->srv_addr, sizeof(srv->srv_addr), "%s:%u", host,
		    ntohs(s4->sin_port));
	}
	return 0;
}

/*
 * SIGTERM, on the loop's thread: accept nothing more, answer what is
 * under way, then tell the main thread (or stop at drain-timeout,
 * whichever comes first).
 */
void
http_drain(struct loop *l)
{
	if (l->l_draining)
		return;
	l->l_draining = 1;
	if (l->l_bound != NULL) {
		evhttp_del_accept_socket(l->l_http, l->l_bound);
		l->l_bound = NULL;
		if (l->l_turn_ev != NULL) {
			/* The others take connections without waiting for
			 * this one's turn. */
			LOOP_ADD(l->l_accepting, -1);
			turns_changed(l);
		}
	}
	if (l->l_srv->srv_nloops > 1)
		log_info("draining loop %d: %d requests, %d streams, "
		    "%d connections", l->l_id, l->l_nrequests, l->l_nstreams,
		    l->l_nconns);
	else
		log_info("draining: %d requests, %d streams, %d connections",
		    l->l_nrequests, l->l_nstreams, l->l_nconns);
	http_request_done(l);
}

/*
 * A loop has nothing left to send (or its drain timed out): it stops,
 * and the main thread's loop when it was the last.  Any loop's thread.
 */
void
loop_drained(struct loop *l)
{
	struct server *srv = l->l_srv;

	if (l->l_drained)
		return;
	l->l_drained = 1;
	if (l->l_id != 0)
		event_base_loopexit(l->l_base, NULL);
	if (__atomic_sub_fetch(&srv->srv_serving, 1, __ATOMIC_ACQ_REL) == 0)
		event_base_loopexit(srv->srv_base, NULL);
}

/* After each answer: when draining and nothing is left, this loop is done. */
void
http_request_done(struct loop *l)
{
	if (!l->l_draining)
		return;
	if (l->l_nrequests == 0 && l->l_nstreams == 0 &&
	    l->l_nflushing == 0)
		loop_drained(l);
}

/* For /metrics: what every loop holds, summed. */
void
http_gauges(struct server *srv, int64_t g[6])
{
	struct loop *l;
	int i;

	g[0] = LOOP_GET(srv->srv_nconns);
	g[1] = g[2] = g[3] = g[4] = g[5] = 0;
	for (i = 0; i < srv->srv_nloops; i++) {
		l = srv->srv_loops[i];
		g[1] += LOOP_GET(l->l_nrequests);
		g[2] += LOOP_GET(l->l_nstreams);
		g[3] += buf_out(&l->l_bufs);
		g[4] += LOOP_GET(l->l_nwindows);
		g[5] += LOOP_GET(l->l_npipes);
	}
}

/* Releases every connection; only after the loop has stopped. */
void
http_stop(struct loop *l)
{
	size_t i;
	struct conn *c;

	/*
	 * evhttp_free() frees each connection and, with it, any request
	 * not yet answered: ours must forget theirs first.
	 */
	for (i = 0; i < BOUND_CONN_BUCKETS; i++)
		for (c = l->l_conns[i]; c != NULL; c = c->c_next) {
			if (c->c_req != NULL) {
				c->c_req->r_ev = NULL;
				c->c_req->r_conn = NULL;
				c->c_req = NULL;
			}
			evhttp_connection_set_closecb(c->c_evcon, NULL, NULL);
		}
	stream_abandon_all(l);
	if (l->l_turn_ev != NULL)
		event_free(l->l_turn_ev);
	l->l_turn_ev = NULL;
	if (l->l_http != NULL)
		evhttp_free(l->l_http);
	l->l_http = NULL;
	for (i = 0; i < BOUND_CONN_BUCKETS; i++)
		while ((c = l->l_conns[i]) != NULL) {
			l->l_conns[i] = c->c_next;
			free(c);
		}
}
