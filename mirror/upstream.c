/*
 * upstream.c - reading what a Hub-speaking upstream answers (MIRROR.md):
 * the revision's JSON, the tree's pages, and the headers the engine acts
 * on (Link, RateLimit, Retry-After, Content-Range, sizes, ETags, error
 * bodies).  Pure functions of untrusted bytes, with no transfer and no
 * store, so that each has a fuzz target (tests/fuzz/fuzz_upstream_*.c).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "lib/bounds.h"
#include "lib/names.h"
#include "mirror/mirror.h"
#include "mirror/mirror_int.h"

int
upstream_revision(const char *body, size_t len, char commit[])
{
	json_t *j;
	const char *sha;
	int rc = 0;

	j = json_loadb(body != NULL ? body : "", body != NULL ? len : 0, 0,
	    NULL);
	sha = json_string_value(json_object_get(j, "sha"));
	if (!json_is_object(j))
		rc = mirror_fail(MIRROR_EPROTO, "the revision's answer is not "
		    "a JSON object");
	else if (!hex_valid(sha, STORE_COMMIT_LEN))
		rc = mirror_fail(MIRROR_EPROTO, "the revision's answer has no "
		    "commit (\"sha\" of %d hex digits)", STORE_COMMIT_LEN);
	else
		memcpy(commit, sha, STORE_COMMIT_LEN + 1);
	json_decref(j);
	return rc;
}

/* A JSON string of 2 * len lower-case hex digits, into out. */
static int
hex_field(json_t *v, uint8_t *out, size_t len)
{
	const char *s = json_string_value(v);

	if (!hex_valid(s, 2 * len))
		return -1;
	return store_unhex(s, out, len) == 0 ? 0 : -1;
}

static int
tree_grow(struct upstream_tree *t)
{
	struct upstream_file *v;
	size_t cap;

	if (t->n < t->cap)
		return 0;
	if (t->n >= BOUND_FILES)
		return mirror_fail(MIRROR_EPROTO, "the tree lists more than %d "
		    "files", BOUND_FILES);
	cap = t->cap == 0 ? 64 : 2 * t->cap;
	if ((v = realloc(t->v, cap * sizeof(*v))) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	t->v = v;
	t->cap = cap;
	return 0;
}

static int
tree_entry(struct upstream_tree *t, json_t *e)
{
	const char *path = json_string_value(json_object_get(e, "path"));
	const char *type = json_string_value(json_object_get(e, "type"));
	json_t *size = json_object_get(e, "size"), *lfs;
	struct upstream_file *f;
	int rc;

	if (!json_is_object(e))
		return mirror_fail(MIRROR_EPROTO, "a tree entry that is not a "
		    "JSON object");
	if (type != NULL && strcmp(type, "file") != 0)
		return 0;	/* a directory */
	if (path == NULL || !store_path_valid(path) ||
	    strlen(path) > BOUND_PATH || !json_is_integer(size) ||
	    json_integer_value(size) < 0)
		return mirror_fail(MIRROR_EPROTO, "%s: a tree entry without a "
		    "valid path and size", path != NULL ? path : "(no path)");
	if ((t->wanted != NULL && !t->wanted(t->wanted_arg, path)) ||
	    (t->max_size != 0 &&
	    (uint64_t)json_integer_value(size) > t->max_size)) {
		t->skipped++;
		return 0;
	}
	if ((rc = tree_grow(t)) != 0)
		return rc;
	f = &t->v[t->n];
	memset(f, 0, sizeof(*f));
	f->size = (uint64_t)json_integer_value(size);
	if (hex_field(json_object_get(e, "oid"), f->sha1, STORE_SHA1_LEN) != 0)
		return mirror_fail(MIRROR_EPROTO, "%s: a tree entry without a "
		    "git blob id (\"oid\")", path);
	if ((lfs = json_object_get(e, "lfs")) != NULL && !json_is_null(lfs)) {
		json_t *lsize = json_object_get(lfs, "size");

		if (hex_field(json_object_get(lfs, "oid"), f->sha256,
		    STORE_HASH_LEN) != 0)
			return mirror_fail(MIRROR_EPROTO, "%s: an LFS entry "
			    "without a sha256 (\"lfs.oid\")", path);
		if (lsize != NULL && (!json_is_integer(lsize) ||
		    (uint64_t)json_integer_value(lsize) != f->size))
			return mirror_fail(MIRROR_EPROTO, "%s: the LFS size "
			    "is not the entry's size", path);
		f->lfs = 1;
	}
	if ((f->path = strdup(path)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	t->n++;
	return 0;
}

int
upstream_tree_page(struct upstream_tree *t, const char *body, size_t len)
{
	json_t *j, *e;
	size_t i;
	int rc = 0;

	j = json_loadb(body != NULL ? body : "", body != NULL ? len : 0, 0,
	    NULL);
	if (!json_is_array(j))
		rc = mirror_fail(MIRROR_EPROTO, "the tree's page is not a JSON "
		    "array");
	json_array_foreach(j, i, e) {
		if ((rc = tree_entry(t, e)) != 0)
			break;
	}
	json_decref(j);
	return rc;
}

static int
path_cmp(const void *a, const void *b)
{
	const struct upstream_file *x = a, *y = b;

	return strcmp(x->path, y->path);
}

/* The card and the licence first: what a policy reads before weights. */
/* The card or a licence, notice or use policy at the top. */
int
upstream_always(const char *path)
{
	if (strcmp(path, "README.md") == 0)
		return 1;
	return strchr(path, '/') == NULL && (strncasecmp(path, "LICENSE", 7) ==
	    0 || strncasecmp(path, "LICENCE", 7) == 0 ||
	    strncasecmp(path, "COPYING", 7) == 0 ||
	    strncasecmp(path, "NOTICE", 6) == 0 ||
	    strncasecmp(path, "USE_POLICY", 10) == 0);
}

int
upstream_rank(const char *path, uint64_t size)
{
	if (strcmp(path, "README.md") == 0)
		return 0;
	if (upstream_always(path))
		return 1;
	/* The small files policy/ reads as evidence (policy_evidence_wants):
	 * before the gate, so that it judges on them.  One past the bound
	 * is not read as evidence, and waits for the gate like a weight. */
	if ((strcmp(path, "config.json") == 0 ||
	    strcmp(path, "adapter_config.json") == 0 ||
	    strcmp(path, "mergekit_config.yml") == 0) &&
	    size <= BOUND_EVIDENCE_FILE)
		return 1;
	return 2;
}

static int
fetch_cmp(const void *a, const void *b)
{
	const struct upstream_file *x = a, *y = b;
	int rx = upstream_rank(x->path, x->size);
	int ry = upstream_rank(y->path, y->size);

	return rx != ry ? rx - ry : strcmp(x->path, y->path);
}

int
upstream_tree_finish(struct upstream_tree *t)
{
	if (t->n == 0)
		return 0;
	qsort(t->v, t->n, sizeof(*t->v), path_cmp);
	for (size_t i = 1; i < t->n; i++)
		if (strcmp(t->v[i - 1].path, t->v[i].path) == 0)
			return mirror_fail(MIRROR_EPROTO, "%s: listed twice in "
			    "the tree", t->v[i].path);
	qsort(t->v, t->n, sizeof(*t->v), fetch_cmp);
	return 0;
}

void
upstream_tree_free(struct upstream_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].path);
	free(t->v);
	t->v = NULL;
	t->n = t->cap = 0;
}

/* The link-value's parameters from p to end: whether one is rel="next"
 * (rel's value is a list of space-separated types). */
static int
rel_next(const char *p, const char *end)
{
	while (p < end) {
		const char *semi, *v;
		size_t vl;

		if ((semi = memchr(p, ';', (size_t)(end - p))) == NULL)
			return 0;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p < 4 || strncasecmp(p, "rel", 3) != 0)
			continue;
		v = p + 3;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		if (v >= end || *v != '=')
			continue;
		for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
			;
		vl = strcspn(v, ";,");
		if (v + vl > end)
			vl = (size_t)(end - v);
		if (vl > 0 && *v == '"') {
			v++;
			vl = 0;
			while (v + vl < end && v[vl] != '"')
				vl++;
		}
		for (size_t i = 0; i < vl;) {
			size_t w = 0;

			while (i + w < vl && v[i + w] != ' ')
				w++;
			if (w == 4 && strncasecmp(v + i, "next", 4) == 0)
				return 1;
			i += w + 1;
		}
	}
	return 0;
}

/* Whether the n bytes at s could be a URL: no space, control, quote or
 * angle bracket. */
static int
url_like(const char *s, size_t n)
{
	if (n == 0 || n > BOUND_UPSTREAM_URL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f ||
		    strchr("<>\"", s[i]) != NULL)
			return 0;
	return 1;
}

char *
upstream_link_next(const char *link)
{
	const char *p = link, *gt, *end;

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p != '<' || (gt = strchr(p, '>')) == NULL)
			return NULL;
		/* A ',' inside a quoted parameter does not end the value. */
		for (end = gt + 1; *end != '\0' && *end != ','; end++)
			if (*end == '"' &&
			    *(end += 1 + strcspn(end + 1, "\"")) == '\0')
				break;
		if (rel_next(gt + 1, end) && url_like(p + 1,
		    (size_t)(gt - p - 1)))
			return strndup(p + 1, (size_t)(gt - p - 1));
		p = end;
	}
	return NULL;
}

/* A decimal number of digits only, at most max. */
static int
decimal(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 20)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int
upstream_size(const char *value, uint64_t *out)
{
	size_t len;

	if (value == NULL)
		return -1;
	while (*value == ' ' || *value == '\t')
		value++;
	len = strlen(value);
	while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	return decimal(value, len, BOUND_UPSTREAM_SIZE, out);
}

int
upstream_content_range(const char *value, uint64_t *first, uint64_t *last,
    uint64_t *total)
{
	const char *dash, *slash;

	if (value == NULL || strncasecmp(value, "bytes ", 6) != 0)
		return -1;
	value += 6;
	while (*value == ' ')
		value++;
	if ((dash = strchr(value, '-')) == NULL ||
	    (slash = strchr(dash, '/')) == NULL ||
	    decimal(value, (size_t)(dash - value), BOUND_UPSTREAM_SIZE,
	    first) != 0 ||
	    decimal(dash + 1, (size_t)(slash - dash - 1), BOUND_UPSTREAM_SIZE,
	    last) != 0 ||
	    upstream_size(slash + 1, total) != 0)
		return -1;
	if (*first > *last || *last >= *total)
		return -1;
	return 0;
}

int
upstream_etag(const char *value, char *out, size_t size)
{
	size_t len;

	if (value == NULL)
		return -1;
	while (*value == ' ')
		value++;
	if (strncmp(value, "W/", 2) == 0)
		value += 2;
	len = strlen(value);
	while (len > 0 && value[len - 1] == ' ')
		len--;
	if (len >= 2 && value[0] == '"' && value[len - 1] == '"') {
		value++;
		len -= 2;
	}
	if (len == 0 || len >= size || memchr(value, '"', len) != NULL)
		return -1;
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	out[len] = '\0';
	return 0;
}

/*
 * RateLimit (draft-ietf-httpapi-ratelimit-headers, as the Hub sends it:
 * "api";r=0;t=55): a list of items, each with parameters; r is what is
 * left in the window, t the seconds until it resets.  Returns the seconds
 * to wait (the longest t of an item with nothing left), 0 when no item is
 * spent, -1 when the value cannot be read.
 */
long
upstream_ratelimit(const char *value)
{
	const char *p = value;
	long wait = 0;
	int items = 0;

	if (value == NULL)
		return -1;
	while (*p != '\0') {
		int64_t r = -1, t = -1;

		while (*p == ' ' || *p == '\t')
			p++;
		/* The item: a quoted string or a token. */
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p != '"')
				return -1;
			p++;
		} else
			while (*p != '\0' && *p != ';' && *p != ',' &&
			    *p != ' ')
				p++;
		/* Its parameters. */
		while (*p == ';') {
			const char *k = ++p, *eq;
			uint64_t v;
			size_t vl;

			while (*k == ' ')
				k++;
			if ((eq = strchr(k, '=')) == NULL)
				return -1;
			vl = strcspn(eq + 1, ";, ");
			if (decimal(eq + 1, vl, BOUND_UPSTREAM_SIZE, &v) == 0) {
				if (v > BOUND_UPSTREAM_WAIT)
					v = BOUND_UPSTREAM_WAIT;
				if (eq - k == 1 && *k == 'r')
					r = (int64_t)v;
				else if (eq - k == 1 && *k == 't')
					t = (int64_t)v;
			}
			p = eq + 1 + vl;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != ',' && *p != '\0')
			return -1;
		if (*p == ',')
			p++;
		items++;
		if (r == 0 && t > wait)
			wait = (long)t;
	}
	return items > 0 ? wait : -1;
}

/* Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). */
long
upstream_retry_after(const char *value, time_t now)
{
	uint64_t v;
	time_t when;

	if (value == NULL)
		return -1;
	if (upstream_size(value, &v) == 0)
		return v > BOUND_UPSTREAM_WAIT ? BOUND_UPSTREAM_WAIT : (long)v;
	if (strlen(value) > 64 || (when = curl_getdate(value, NULL)) == -1)
		return -1;
	if (when <= now)
		return 0;
	return when - now > BOUND_UPSTREAM_WAIT ? BOUND_UPSTREAM_WAIT :
	    (long)(when - now);
}

void
upstream_words(const char *code, const char *msg, const char *body,
    size_t len, char *out, size_t size)
{
	json_t *j = NULL;

	if (msg == NULL && body != NULL && len > 0 &&
	    (j = json_loadb(body, len, 0, NULL)) != NULL &&
	    json_is_string(json_object_get(j, "error")))
		msg = json_string_value(json_object_get(j, "error"));
	snprintf(out, size, "%s%s%s%s", code != NULL ? code : "",
	    code != NULL && msg != NULL ? ": " : "", msg != NULL ? msg : "",
	    code == NULL && msg == NULL ? "no reason given" : "");
	/* The words go into one line of a message. */
	for (char *q = out; *q != '\0'; q++)
		if ((unsigned char)*q < ' ' || *q == 0x7f)
			*q = ' ';
	json_decref(j);
}
