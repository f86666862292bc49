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
 */
#include "config.h"

#include <sys/socket.h>

#include <ctype.h>
#include <errno.h>
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
	struct server			*c_srv;		/* its counts */
	struct evhttp_connection	*c_evcon;
	struct request			*c_req;		/* at a worker */
	struct stream			*c_stream;	/* sending a blob */
	int				 c_flushing;	/* answered, not all written */
};

static struct conn	*conns[BOUND_CONN_BUCKETS];
static uint64_t		 request_ids;

static size_t
conn_hash(const struct evhttp_connection *evcon)
{
	uintptr_t p = (uintptr_t)evcon;

	return (size_t)((p >> 4) ^ (p >> 14)) % BOUND_CONN_BUCKETS;
}

static struct conn *
conn_find(struct evhttp_connection *evcon)
{
	struct conn *c;

	for (c = conns[conn_hash(evcon)]; c != NULL; c = c->c_next)
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
	struct server *srv;

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
		c->c_srv->srv_nflushing--;
	}
	for (cp = &conns[conn_hash(evcon)]; *cp != NULL; cp = &(*cp)->c_next)
		if (*cp == c) {
			*cp = c->c_next;
			break;
		}
	srv = c->c_srv;
	free(c);
	srv->srv_nconns--;
	if (srv->srv_draining)
		http_request_done(srv);
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
		c->c_srv->srv_nflushing--;
		http_request_done(c->c_srv);
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
	c->c_srv->srv_nflushing++;
	evhttp_request_set_on_complete_cb(ev, flushed, c);
}

/* Headers every answer carries, so that browsers may read them. */
static void
add_common_headers(struct server *srv, struct evkeyvalq *h, uint64_t id)
{
	char rid[32];

	snprintf(rid, sizeof(rid), "%016llx", (unsigned long long)id);
	evhttp_add_header(h, "X-Request-Id", rid);
	evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
	evhttp_add_header(h, "Access-Control-Expose-Headers", EXPOSE_HEADERS);
	evhttp_add_header(h, "Server", "airlockd/" PACKAGE_VERSION);
	if (srv->srv_draining)
		evhttp_add_header(h, "Connection", "close");
}

/* Answers on the loop, for what needs no store: errors and /healthz. */
static void
reply_now(struct server *srv, struct evhttp_request *ev,
    enum route_kind kind, int status, const char *code, const char *msg,
    const char *allow)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);
	struct evbuffer *out;
	json_t *j;
	char *text = NULL, len[32];

	add_common_headers(srv, h, ++request_ids);
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
	metrics_request(kind, status);
	metrics_body(evbuffer_get_length(out));
	conn_track_flush(conn_find(evhttp_request_get_connection(ev)), ev);
	evhttp_send_reply(ev, status, NULL, out);
	evbuffer_free(out);
}

/* An API error, answered on the loop. */
static void
reply_error(struct server *srv, struct evhttp_request *ev,
    enum route_kind kind, enum api_error e, const char *detail,
    const char *allow)
{
	const struct api_error_def *def = api_error(e);
	char msg[BOUND_ERROR_MESSAGE];

	api_message(e, detail, NULL, msg, sizeof(msg));
	reply_now(srv, ev, kind, def->status, def->code, msg, allow);
}

static void
reply_options(struct server *srv, struct evhttp_request *ev)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(ev);

	add_common_headers(srv, h, ++request_ids);
	evhttp_add_header(h, "Access-Control-Allow-Methods", CORS_METHODS);
	evhttp_add_header(h, "Access-Control-Allow-Headers", ALLOW_HEADERS);
	evhttp_add_header(h, "Access-Control-Max-Age", "86400");
	evhttp_add_header(h, "Allow", CORS_METHODS);
	evhttp_add_header(h, "Content-Length", "0");
	metrics_request(ROUTE_UNKNOWN, 204);
	conn_track_flush(conn_find(evhttp_request_get_connection(ev)), ev);
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
	struct server *srv = req->r_srv;
	struct evkeyvalq *out;
	struct evkeyval *kv;

	srv->srv_nrequests--;
	if (req->r_conn != NULL)
		req->r_conn->c_req = NULL;
	if (req->r_ev == NULL) {
		/* The client went away while a worker was busy. */
		request_free(req);
		http_request_done(srv);
		return;
	}
	out = evhttp_request_get_output_headers(req->r_ev);
	add_common_headers(srv, out, ++request_ids);
	TAILQ_FOREACH(kv, &req->r_headers, next)
		evhttp_add_header(out, kv->key, kv->value);
	metrics_request(req->r_route.kind, req->r_status);
	log_request(req);
	if (req->r_stream && !req->r_head && req->r_len > 0) {
		/* The stream takes the evhttp request and the connection. */
		if (stream_start(req) == 0) {
			request_free(req);
			http_request_done(srv);
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
		metrics_body(evbuffer_get_length(req->r_out));
	conn_track_flush(req->r_conn, req->r_ev);
	evhttp_send_reply(req->r_ev, req->r_status, NULL,
	    req->r_head ? NULL : req->r_out);
	req->r_ev = NULL;
	request_free(req);
	http_request_done(srv);
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
conn_get(struct server *srv, struct evhttp_request *ev)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(ev);
	struct conn *c;

	if ((c = conn_find(evcon)) != NULL)
		return c;
	if (srv->srv_nconns >= srv->srv_conf->cf_max_connections) {
		evhttp_add_header(evhttp_request_get_output_headers(ev),
		    "Connection", "close");
		reply_error(srv, ev, ROUTE_UNKNOWN, API_UNAVAILABLE, NULL,
		    NULL);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("%s: calloc", __func__);
		evhttp_send_error(ev, 500, NULL);
		return NULL;
	}
	c->c_evcon = evcon;
	c->c_srv = srv;
	c->c_next = conns[conn_hash(evcon)];
	conns[conn_hash(evcon)] = c;
	srv->srv_nconns++;
	evhttp_connection_set_closecb(evcon, conn_closed, c);
	/* Whole read buffers at a time, not 16 KiB pieces. */
	bufferevent_set_max_single_write(
	    evhttp_connection_get_bufferevent(evcon), BOUND_SINGLE_WRITE);
	return c;
}

static struct request *
request_new(struct server *srv, struct evhttp_request *ev, const char *target)
{
	struct request *req;

	if ((req = calloc(1, sizeof(*req))) == NULL) {
		log_warn("%s: calloc", __func__);
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &req->r_start);
	TAILQ_INIT(&req->r_headers);
	req->r_srv = srv;
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
request_check(struct server *srv, struct evhttp_request *ev,
    struct request *req, const char *path, size_t plen, const char *query,
    size_t qlen)
{
	const char *why;
	unsigned methods;
	int rc;

	if ((rc = route_parse(path, plen, &req->r_route, &why)) != 0) {
		reply_error(srv, ev, ROUTE_UNKNOWN, rc == 404 ?
		    API_ENDPOINT_NOT_FOUND : rc == 414 ? API_URI_TOO_LONG :
		    API_BAD_REQUEST, why, NULL);
		return -1;
	}
	methods = route_methods(req->r_route.kind);
	if ((req->r_method & methods) == 0) {
		reply_error(srv, ev, req->r_route.kind, API_METHOD_NOT_ALLOWED,
		    NULL, allow_header(methods));
		return -1;
	}
	if (query != NULL && query_parse(query, qlen, &req->r_query) != 0) {
		reply_error(srv, ev, req->r_route.kind, API_BAD_REQUEST,
		    "malformed query string", NULL);
		return -1;
	}
	if (handlers[req->r_route.kind].needs & ROUTE_ON_LOOP) {
		/* Only /healthz: whether the daemon takes requests. */
		reply_now(srv, ev, req->r_route.kind,
		    srv->srv_draining ? 503 : 200, NULL,
		    srv->srv_draining ? "draining\n" : "ok\n", NULL);
		return -1;
	}
	req->r_token = bearer_token(ev);
	if (handlers[req->r_route.kind].needs & ROUTE_ADMIN) {
		if (req->r_token == NULL) {
			reply_error(srv, ev, req->r_route.kind,
			    API_ADMIN_UNAUTHORIZED, NULL, NULL);
			return -1;
		}
		if (!conf_is_admin(srv->srv_conf, req->r_token)) {
			reply_error(srv, ev, req->r_route.kind, API_FORBIDDEN,
			    NULL, NULL);
			return -1;
		}
	}
	/*
	 * A private repository without a token is not found, as on the
	 * Hub: its name is not confirmed to whoever asks.
	 */
	if (route_has_repo(&req->r_route) && !conf_may_read(srv->srv_conf,
	    req->r_route.repo, req->r_token)) {
		reply_error(srv, ev, req->r_route.kind, API_REPO_HIDDEN,
		    NULL, NULL);
		return -1;
	}
	return 0;
}

/* What the worker reads off the evhttp request.  0, or -1 when answered. */
static int
request_take(struct server *srv, struct evhttp_request *ev,
    struct request *req)
{
	struct evbuffer *in;
	size_t blen;

	if (req->r_method == ROUTE_POST) {
		in = evhttp_request_get_input_buffer(ev);
		blen = evbuffer_get_length(in);
		if ((req->r_body = malloc(blen + 1)) == NULL) {
			reply_error(srv, ev, req->r_route.kind, API_NOMEM,
			    NULL, NULL);
			return -1;
		}
		evbuffer_remove(in, req->r_body, blen);
		req->r_body[blen] = '\0';
		req->r_bodylen = blen;
		req->r_ctype = header_dup(ev, "Content-Type");
	}
	req->r_range = header_dup(ev, "Range");
	if (handlers[req->r_route.kind].needs & ROUTE_GAUGES) {
		req->r_gauge[0] = srv->srv_nconns;
		req->r_gauge[1] = srv->srv_nrequests;
		req->r_gauge[2] = srv->srv_nstreams;
		req->r_gauge[3] = buf_out();
		req->r_gauge[4] = stream_windows();
	}
	req->r_conf = conf_ref(srv->srv_conf);
	if ((req->r_base = base_url(srv, req->r_conf, ev)) == NULL) {
		reply_error(srv, ev, req->r_route.kind, API_NOMEM, NULL,
		    NULL);
		return -1;
	}
	return 0;
}

static void
http_request(struct evhttp_request *ev, void *arg)
{
	struct server *srv = arg;
	struct request *req;
	struct conn *c;
	const char *target, *path, *query;
	size_t plen, qlen;

	if ((c = conn_get(srv, ev)) == NULL)
		return;
	if (evhttp_request_get_command(ev) == EVHTTP_REQ_OPTIONS) {
		reply_options(srv, ev);
		return;
	}
	target = evhttp_request_get_uri(ev);
	if (target == NULL || route_target(target, &path, &plen, &query,
	    &qlen) != 0) {
		reply_error(srv, ev, ROUTE_UNKNOWN, API_BAD_REQUEST,
		    "malformed request target", NULL);
		return;
	}
	if ((req = request_new(srv, ev, target)) == NULL) {
		evhttp_send_error(ev, 500, NULL);
		return;
	}
	if (request_check(srv, ev, req, path, plen, query, qlen) != 0 ||
	    request_take(srv, ev, req) != 0) {
		request_free(req);
		return;
	}
	req->r_ev = ev;
	req->r_conn = c;
	c->c_req = req;
	srv->srv_nrequests++;
	req->r_task.tk_run = request_run;
	req->r_task.tk_done = request_done;
	pool_submit(&req->r_task);
}

/*
 * Limits that apply to connections accepted from now on (SIGHUP).
 */
void
http_apply_limits(struct server *srv)
{
	struct conf *cf = srv->srv_conf;

	evhttp_set_max_headers_size(srv->srv_http, cf->cf_max_header_size);
	evhttp_set_max_body_size(srv->srv_http, cf->cf_max_body_size);
	evhttp_set_timeout(srv->srv_http, cf->cf_timeout);
	buf_init(cf->cf_buffer_size, cf->cf_buffers);
	pool_map_budget(cf->cf_map_budget);
}

int
http_start(struct server *srv)
{
	struct sockaddr_storage ss;
	struct evconnlistener *lev;
	socklen_t sslen = sizeof(ss);
	char host[INET6_ADDRSTRLEN];
	const char *listen = srv->srv_conf->cf_listen;
	char *addr, *port;
	evutil_socket_t fd;

	if ((srv->srv_http = evhttp_new(srv->srv_base)) == NULL) {
		log_warnx("%s: evhttp_new failed", __func__);
		return -1;
	}
	/*
	 * Every method is parsed so that the ones not served get a 405 with
	 * a JSON body; TRACE and CONNECT are refused by evhttp itself.
	 */
	evhttp_set_allowed_methods(srv->srv_http, EVHTTP_REQ_GET |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST | EVHTTP_REQ_OPTIONS |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(srv->srv_http, NULL);
	http_apply_limits(srv);
	evhttp_set_gencb(srv->srv_http, http_request, srv);

	/* "[::1]:8080" or "127.0.0.1:8080" */
	if ((addr = strdup(listen)) == NULL)
		return -1;
	if ((port = strrchr(addr, ':')) == NULL) {
		log_warnx("%s: %s: no port", __func__, listen);
		free(addr);
		return -1;
	}
	*port++ = '\0';
	if (addr[0] == '[' && addr[strlen(addr) - 1] == ']') {
		addr[strlen(addr) - 1] = '\0';
		memmove(addr, addr + 1, strlen(addr));
	}
	srv->srv_bound = evhttp_bind_socket_with_handle(srv->srv_http, addr,
	    (ev_uint16_t)atoi(port));
	free(addr);
	if (srv->srv_bound == NULL) {
		log_warn("%s: cannot listen on %s", __func__, listen);
		return -1;
	}
	lev = evhttp_bound_socket_get_listener(srv->srv_bound);
	fd = evconnlistener_get_fd(lev);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == -1) {
		log_warn("%s: getsockname", __func__);
		return -1;
	}
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		evutil_inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
		snprintf(srv->srv_addr, sizeof(srv->srv_addr), "[%s]:%u", host,
		    ntohs(s6->sin6_port));
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		evutil_inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(srv->srv_addr, sizeof(srv->srv_addr), "%s:%u", host,
		    ntohs(s4->sin_port));
	}
	return 0;
}

/*
 * SIGTERM: accept nothing more, answer what is under way, then leave the
 * loop (or leave at drain-timeout, whichever comes first).
 */
void
http_drain(struct server *srv)
{
	if (srv->srv_draining)
		return;
	srv->srv_draining = 1;
	if (srv->srv_bound != NULL) {
		evhttp_del_accept_socket(srv->srv_http, srv->srv_bound);
		srv->srv_bound = NULL;
	}
	log_info("draining: %d requests, %d streams, %d connections",
	    srv->srv_nrequests, srv->srv_nstreams, srv->srv_nconns);
	http_request_done(srv);
}

/* After each answer: when draining and nothing is left, stop. */
void
http_request_done(struct server *srv)
{
	if (!srv->srv_draining)
		return;
	if (srv->srv_nrequests == 0 && srv->srv_nstreams == 0 &&
	    srv->srv_nflushing == 0)
		event_base_loopexit(srv->srv_base, NULL);
}

/* Releases every connection; only after the loop has stopped. */
void
http_stop(struct server *srv)
{
	size_t i;
	struct conn *c;

	/*
	 * evhttp_free() frees each connection and, with it, any request
	 * not yet answered: ours must forget theirs first.
	 */
	for (i = 0; i < BOUND_CONN_BUCKETS; i++)
		for (c = conns[i]; c != NULL; c = c->c_next) {
			if (c->c_req != NULL) {
				c->c_req->r_ev = NULL;
				c->c_req->r_conn = NULL;
				c->c_req = NULL;
			}
			evhttp_connection_set_closecb(c->c_evcon, NULL, NULL);
		}
	stream_abandon_all();
	if (srv->srv_http != NULL)
		evhttp_free(srv->srv_http);
	srv->srv_http = NULL;
	for (i = 0; i < BOUND_CONN_BUCKETS; i++)
		while ((c = conns[i]) != NULL) {
			conns[i] = c->c_next;
			free(c);
		}
}
