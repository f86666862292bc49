/*
 * response.c - building an answer into a struct request, on any thread:
 * headers, a JSON or text body, an API error, or a blob's range to be
 * streamed by the loop afterwards.
 *
 * Only the request's own fields are touched, and evbuffers made here are
 * handed to the loop whole.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "daemon/airlockd.h"

void
resp_header(struct request *req, const char *name, const char *value)
{
	if (evhttp_add_header(&req->r_headers, name, value) != 0)
		log_warnx("%s: %s: refused header value", __func__, name);
}

static void
set_length(struct request *req, uint64_t len)
{
	char s[32];

	evhttp_remove_header(&req->r_headers, "Content-Length");
	snprintf(s, sizeof(s), "%llu", (unsigned long long)len);
	resp_header(req, "Content-Length", s);
}

void
resp_text(struct request *req, int status, const char *type,
    const void *body, size_t len)
{
	if (req->r_out == NULL && (req->r_out = evbuffer_new()) == NULL) {
		req->r_status = 500;
		return;
	}
	evbuffer_drain(req->r_out, evbuffer_get_length(req->r_out));
	if (len > 0 && evbuffer_add(req->r_out, body, len) != 0) {
		req->r_status = 500;
		return;
	}
	req->r_status = status;
	evhttp_remove_header(&req->r_headers, "Content-Type");
	resp_header(req, "Content-Type", type);
	set_length(req, len);
}

void
resp_json(struct request *req, int status, json_t *j)
{
	char *text;

	if (j == NULL || (text = json_dumps(j, JSON_COMPACT |
	    JSON_ENSURE_ASCII)) == NULL) {
		json_decref(j);
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	json_decref(j);
	resp_text(req, status, "application/json; charset=utf-8", text,
	    strlen(text));
	free(text);
}

/*
 * Every error the API answers: its status, its X-Error-Code, and its
 * message, a format of at most two "%s" (the details a caller gives).
 */
static const struct api_error_def api_errors[API_NERRORS] = {
	[API_OK] =		{ 200, NULL, "" },
	[API_BAD_REQUEST] =	{ 400, "BadRequest", "%s" },
	[API_REPO_HIDDEN] =	{ 401, "RepoNotFound", "repository not found" },
	[API_UNAUTHORIZED] =	{ 401, "Unauthorized",
				  "Invalid credentials in Authorization header: "
				  "%s" },
	[API_NOT_FOUND] =	{ 404, "NotFound", "%s: not in the store" },
	[API_REPO_NOT_FOUND] =	{ 404, "RepoNotFound",
				  "Repository not found: %s" },
	[API_REVISION_NOT_FOUND] = { 404, "RevisionNotFound",
				  "Invalid rev id: %s" },
	[API_ENTRY_NOT_FOUND] =	{ 404, "EntryNotFound",
				  "%s does not exist on \"%s\"" },
	[API_RELEASE_NOT_FOUND] = { 404, "ReleaseNotFound",
				  "this store has not published a release" },
	[API_ENDPOINT_NOT_FOUND] = { 404, "EndpointNotFound", "%s" },
	[API_METHOD_NOT_ALLOWED] = { 405, "MethodNotAllowed",
				  "method not allowed" },
	[API_URI_TOO_LONG] =	{ 414, "URITooLong", "%s" },
	[API_RANGE_NOT_SATISFIABLE] = { 416, "RangeNotSatisfiable",
				  "%s: %s" },
	[API_INTERNAL] =	{ 500, "InternalError", "%s" },
	[API_NOMEM] =		{ 500, "InternalError", "out of memory" },
	[API_STORE] =		{ 500, "InternalError", "%s: store error" },
	[API_POLICY_DENIED] =	{ 403, "PolicyDenied",
				  "%s: refused by the policy: %s" },
	[API_UNAVAILABLE] =	{ 503, "ServiceUnavailable",
				  "too many connections" },
	[API_ADMIN_UNAUTHORIZED] = { 401, "Unauthorized", "a bearer token with "
				  "the admin role is needed" },
	[API_FORBIDDEN] =	{ 403, "Forbidden", "this token does not have "
				  "the admin role" },
	[API_JOB_NOT_FOUND] =	{ 404, "JobNotFound", "no mirror job %s" },
	[API_JOB_ENDED] =	{ 409, "JobEnded", "mirror job %s has ended: %s" },
	[API_TOO_MANY_JOBS] =	{ 503, "TooManyJobs", "%s" },
	[API_READ_ONLY] =	{ 503, "ReadOnly", "airlockd serves the store "
				  "read-only: restart it with a [mirror] or "
				  "[admin] section to mirror" },
	[API_STORE_AGAIN] =	{ 503, "StoreRemapping", "the store's data "
				  "file is being mapped again: retry" },
};

const struct api_error_def *
api_error(enum api_error e)
{
	if ((unsigned)e >= API_NERRORS)
		e = API_INTERNAL;
	return &api_errors[e];
}

/* The error's message with its details (NULL: none) put in. */
void
api_message(enum api_error e, const char *a, const char *b, char *out,
    size_t size)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	/* Each format is the table's own, with at most two "%s". */
	snprintf(out, size, api_error(e)->fmt, a != NULL ? a : "",
	    b != NULL ? b : "");
#pragma GCC diagnostic pop
}

void
resp_fail(struct request *req, enum api_error e, const char *a,
    const char *b)
{
	const struct api_error_def *def;
	char msg[BOUND_ERROR_MESSAGE], *text;
	json_t *j;
	size_t i;

	/*
	 * A store error because the map is moving (store.h, STORE_FOLLOW)
	 * is over in a moment, whichever path met it: no wrong answer and
	 * no 500, but a retry.
	 */
	if (api_error(e)->status == 500 && store_lastcode() == STORE_EAGAIN) {
		e = API_STORE_AGAIN;
		a = b = NULL;
		evhttp_remove_header(&req->r_headers, "Retry-After");
		resp_header(req, "Retry-After", "1");
	}
	def = api_error(e);
	api_message(e, a, b, msg, sizeof(msg));
	j = json_pack("{s:s}", "error", msg);
	text = j != NULL ? json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII) :
	    NULL;
	json_decref(j);
	/* A header carries printable ASCII only. */
	for (i = 0; msg[i] != '\0'; i++)
		if ((unsigned char)msg[i] < ' ' || (unsigned char)msg[i] > '~')
			msg[i] = '?';
	evhttp_remove_header(&req->r_headers, "X-Error-Code");
	evhttp_remove_header(&req->r_headers, "X-Error-Message");
	resp_header(req, "X-Error-Code", def->code);
	resp_header(req, "X-Error-Message", msg);
	req->r_stream = 0;
	if (text == NULL) {
		resp_text(req, def->status, "text/plain; charset=utf-8", msg,
		    strlen(msg));
		return;
	}
	resp_text(req, def->status, "application/json; charset=utf-8", text,
	    strlen(text));
	free(text);
}

void
resp_blob(struct request *req, const uint8_t sha[STORE_HASH_LEN],
    uint64_t size, const char *etag)
{
	char s[96];
	uint64_t first = 0, last = 0;
	int r;

	if (etag != NULL) {
		snprintf(s, sizeof(s), "\"%s\"", etag);
		resp_header(req, "ETag", s);
	}
	resp_header(req, "Accept-Ranges", "bytes");
	if (evhttp_find_header(&req->r_headers, "Content-Type") == NULL)
		resp_header(req, "Content-Type", "application/octet-stream");
	r = range_parse(req->r_range, size, &first, &last);
	/*
	 * An empty file has no byte to range over.  It is sent whole, with
	 * its size where @huggingface/hub looks for it after probing with
	 * "bytes=0-0": Content-Range's total.
	 */
	if (size == 0 && (r == RANGE_OK || r == RANGE_UNSAT)) {
		resp_header(req, "Content-Range", "bytes */0");
		r = RANGE_NONE;
	}
	if (r == RANGE_UNSAT || r == RANGE_INVALID) {
		snprintf(s, sizeof(s), "bytes */%llu", (unsigned long long)size);
		resp_header(req, "Content-Range", s);
		resp_fail(req, API_RANGE_NOT_SATISFIABLE, r == RANGE_UNSAT ?
		    "range outside the file" : "malformed range", req->r_range);
		return;
	}
	if (r == RANGE_OK) {
		snprintf(s, sizeof(s), "bytes %llu-%llu/%llu",
		    (unsigned long long)first, (unsigned long long)last,
		    (unsigned long long)size);
		resp_header(req, "Content-Range", s);
		req->r_status = 206;
		req->r_first = first;
		req->r_len = last - first + 1;
	} else {
		req->r_status = 200;
		req->r_first = 0;
		req->r_len = size;
	}
	set_length(req, req->r_len);
	memcpy(req->r_blob, sha, STORE_HASH_LEN);
	req->r_stream = 1;
}
