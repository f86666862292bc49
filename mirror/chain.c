/*
 * chain.c - pulling from another airlockd by its own API (MIRROR.md,
 * "Chaining"): the manifest and its signatures, then only the chunks the
 * store lacks, each checked against its hash, each file checked whole,
 * committed through the one revision pipeline with the manifest's own
 * bytes, so that the upstream's signatures hold, and its commit id.
 *
 * An upstream is an airlockd when GET /v1/ answers its discovery
 * document; anything else (the Hub's 404, a page that is not JSON) is
 * left to the Hub's sequence in pull.c.
 */
#include "config.h"

#include <errno.h>
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

#define CHAIN_API	1		/* the /v1/ API this client speaks */

struct chain {
	struct mirror			*m;
	struct store			*st;
	const struct mirror_pull_spec	*spec;
	struct mirror_pull_result	*res;
	const char			*base;
	struct store_manifest		*manifest;
	int				 by_commit;	/* rev is a commit id */
	struct store_chunkref		*refs;	/* the file being put */
	size_t				 nrefs, cap;
};

/* The last error again, prefixed with what it was about. */
static int
chain_prefix(int rc, const char *what)
{
	char why[1024];

	snprintf(why, sizeof(why), "%s", mirror_lasterror());
	return mirror_fail(rc, "%s: %s", what, why);
}

/*
 * Waits before attempt + 1, as pull.c's backoff: a 429 holds every
 * transfer to its host through the engine's limiter (for as long as the
 * answer said, else the back-off) rather than this pull alone sleeping.
 */
static void
chain_backoff(struct chain *c, int attempt, const struct xfer *x)
{
	long ms = c->m->opts.backoff_ms << (attempt < 6 ? attempt : 6);

	c->res->retries++;
	if (x != NULL && x->status == 429) {
		if (!x->held)
			mirror_hold(c->m, x, ms);
		return;
	}
	mirror_sleep(c->m, ms, c->spec->cancel);
}

static int
chain_cancel_fail(const struct chain *c)
{
	return mirror_fail(MIRROR_ECANCELED, "%s: cancelled", c->spec->repo);
}

/* What the upstream said about a refusal of what. */
static int
chain_refused(const struct xfer *x, const char *what)
{
	char words[600];
	int rc;

	if (x->status == 401 || x->status == 403)
		rc = MIRROR_EAUTH;
	else if (x->status == 404 || x->status == 410)
		rc = MIRROR_ENOTFOUND;
	else
		rc = MIRROR_EUPSTREAM;
	upstream_words(x->h[XH_ERROR_CODE], x->h[XH_ERROR_MESSAGE], x->body,
	    x->len, words, sizeof(words));
	return mirror_fail(rc, "%s: HTTP %ld (%s): %s", what, x->status, words,
	    mirror_strerror(rc));
}

/*
 * GET a body of at most max bytes, whole, from the upstream; transient
 * failures are retried with back-off.  *out is the caller's (xfer_free).
 */
static int
chain_get(struct chain *c, const char *what, const char *url, size_t max,
    struct xfer **out)
{
	struct xfer *x;
	int attempt = 0, rc;

	*out = NULL;
	for (;;) {
		if (mirror_cancelled(c->spec->cancel))
			return chain_cancel_fail(c);
		if ((rc = xfer_new(c->m, url, c->spec->token, 0, 0, &x)) != 0)
			return rc;
		x->cancelp = c->spec->cancel;
		x->body_max = max;
		c->res->requests++;
		xfer_start(x);
		xfer_wait(x);
		c->res->fetched += x->received;
		if (mirror_cancelled(c->spec->cancel)) {
			xfer_free(x);
			return chain_cancel_fail(c);
		}
		if (x->toolarge) {
			xfer_free(x);
			return mirror_fail(MIRROR_EPROTO, "%s: answer larger "
			    "than %zu bytes", what, max);
		}
		if (x->result != CURLE_OK) {
			if (attempt < c->m->opts.retries) {
				xfer_free(x);
				chain_backoff(c, attempt++, NULL);
				continue;
			}
			rc = mirror_fail(MIRROR_ENET, "%s: %s", what,
			    x->errbuf[0] != '\0' ? x->errbuf :
			    curl_easy_strerror(x->result));
			xfer_free(x);
			return rc;
		}
		if (x->status >= 200 && x->status <= 299) {
			*out = x;
			return 0;
		}
		if ((x->status == 408 || x->status == 429 ||
		    x->status >= 500) && attempt < c->m->opts.retries) {
			chain_backoff(c, attempt++, x);
			xfer_free(x);
			continue;
		}
		rc = chain_refused(x, what);
		xfer_free(x);
		return rc;
	}
}

/*
 * The parsers of what an airlockd answers: pure functions of the bytes,
 * so that tests/fuzz/fuzz_chain.c reaches each.
 */

/* 1 if the bytes are an airlockd's /v1/ document (*api its version), 0 if
 * they are not. */
int
chain_parse_index(const char *buf, size_t len, int *api)
{
	json_t *j, *a, *v;
	int yes = 0;

	*api = 0;
	if ((j = json_loadb(buf, len, 0, NULL)) == NULL)
		return 0;
	a = json_object_get(j, "airlock");
	v = json_object_get(a, "api");
	if (json_is_object(a) && json_is_integer(v) &&
	    json_integer_value(v) > 0 && json_integer_value(v) < 1000) {
		*api = (int)json_integer_value(v);
		yes = 1;
	}
	json_decref(j);
	return yes;
}

/* Whether rev is a commit id or a short one (7 hex digits or more). */
static int
commit_prefix(const char *rev)
{
	size_t len = strlen(rev);

	return len >= 7 && len <= STORE_COMMIT_LEN && hex_valid(rev, len);
}

/* The one commit ref that a short commit id names, as the store resolves
 * one; none or two is MIRROR_ENOTFOUND. */
static int
refs_prefix(json_t *j, const char *type, const char *repo, const char *name,
    uint8_t digest[STORE_HASH_LEN])
{
	size_t len = strlen(name), i, found = 0;
	const char *d = NULL;
	json_t *e;

	if (commit_prefix(name) && len < STORE_COMMIT_LEN) {
		json_array_foreach(j, i, e) {
			const char *t = json_string_value(json_object_get(e,
			    "type"));
			const char *r = json_string_value(json_object_get(e,
			    "repo"));
			const char *n = json_string_value(json_object_get(e,
			    "name"));

			if (t != NULL && r != NULL && n != NULL &&
			    json_is_true(json_object_get(e, "commit")) &&
			    strcmp(t, type) == 0 && strcmp(r, repo) == 0 &&
			    strncmp(n, name, len) == 0) {
				found++;
				d = json_string_value(json_object_get(e,
				    "manifest"));
			}
		}
	}
	if (found == 1 && d != NULL && strncmp(d, "sha256:", 7) == 0 &&
	    store_digest_parse(d, digest) == 0)
		return 0;
	return mirror_fail(MIRROR_ENOTFOUND, "%s@%s: %s upstream", repo, name,
	    found > 1 ? "more than one commit starts so" :
	    "no such revision");
}

/* The manifest digest that /v1/refs/TYPE/REPO's answer gives name. */
int
chain_parse_refs(const char *buf, size_t len, const char *type,
    const char *repo, const char *name, uint8_t digest[STORE_HASH_LEN],
    int *is_commit)
{
	json_t *j, *e;
	size_t i;
	int rc = MIRROR_ENOTFOUND;

	*is_commit = 0;
	if ((j = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_array(j)) {
		json_decref(j);
		return mirror_fail(MIRROR_EPROTO, "%s: the refs are not a "
		    "JSON array", repo);
	}
	json_array_foreach(j, i, e) {
		const char *t = json_string_value(json_object_get(e, "type"));
		const char *r = json_string_value(json_object_get(e, "repo"));
		const char *n = json_string_value(json_object_get(e, "name"));
		const char *d = json_string_value(json_object_get(e,
		    "manifest"));

		if (t == NULL || r == NULL || n == NULL ||
		    strcmp(t, type) != 0 || strcmp(r, repo) != 0 ||
		    strcmp(n, name) != 0)
			continue;
		if (d == NULL || strncmp(d, "sha256:", 7) != 0 ||
		    store_digest_parse(d, digest) != 0)
			rc = mirror_fail(MIRROR_EPROTO, "%s@%s: the ref names "
			    "no manifest digest", repo, name);
		else
			rc = 0;
		*is_commit = json_is_true(json_object_get(e, "commit"));
		break;
	}
	if (rc == MIRROR_ENOTFOUND &&
	    (rc = refs_prefix(j, type, repo, name, digest)) == 0)
		*is_commit = 1;
	json_decref(j);
	return rc;
}

/*
 * The signatures of /v1/signatures/...: *sigs gets up to max texts
 * (malloc'd, each NUL-terminated) and *n their count.
 */
int
chain_parse_sigs(const char *buf, size_t len, char **texts, size_t *lens,
    size_t max, size_t *n)
{
	json_t *j, *e, *s;
	size_t i;

	*n = 0;
	if ((j = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_array(j)) {
		json_decref(j);
		return mirror_fail(MIRROR_EPROTO, "the signatures are not a "
		    "JSON array");
	}
	if (json_array_size(j) > max) {
		json_decref(j);
		return mirror_fail(MIRROR_EPROTO, "more than %zu signatures",
		    max);
	}
	json_array_foreach(j, i, e) {
		s = json_object_get(e, "signature");
		if (!json_is_string(s) || json_string_length(s) == 0 ||
		    json_string_length(s) > BOUND_SIGFILE) {
			json_decref(j);
			return mirror_fail(MIRROR_EPROTO, "signature %zu is not "
			    "a signature file's text", i);
		}
		lens[*n] = json_string_length(s);
		if ((texts[*n] = strndup(json_string_value(s), lens[*n])) ==
		    NULL) {
			json_decref(j);
			return mirror_fail(MIRROR_ENOMEM, "out of memory");
		}
		(*n)++;
	}
	json_decref(j);
	return 0;
}

/*
 * A page of a blob's chunk list, appended to *v (*n of *cap): offsets
 * must follow on from *off, sizes be chunk sizes, and the whole no
 * larger than size.
 */
int
chain_parse_chunks(const char *buf, size_t len, uint64_t size, uint64_t *off,
    struct store_chunkref **v, size_t *n, size_t *cap)
{
	json_t *j, *e;
	size_t i;
	int rc = 0;

	if ((j = json_loadb(buf, len, 0, NULL)) == NULL || !json_is_array(j)) {
		json_decref(j);
		return mirror_fail(MIRROR_EPROTO, "the chunk list is not a "
		    "JSON array");
	}
	json_array_foreach(j, i, e) {
		json_t *o = json_object_get(e, "offset");
		json_t *z = json_object_get(e, "size");
		const char *h = json_string_value(json_object_get(e, "sha256"));
		struct store_chunkref *r;

		if (!json_is_integer(o) || !json_is_integer(z) || h == NULL ||
		    strlen(h) != STORE_HEX_LEN ||
		    json_integer_value(o) != (json_int_t)*off ||
		    json_integer_value(z) <= 0 ||
		    json_integer_value(z) > STORE_CHUNK_MAX ||
		    (uint64_t)json_integer_value(z) > size - *off) {
			rc = mirror_fail(MIRROR_EPROTO, "chunk %zu at byte "
			    "%llu: not a chunk of this file", *n,
			    (unsigned long long)*off);
			break;
		}
		if (*n == *cap) {
			size_t c = *cap == 0 ? 64 : *cap * 2;

			if ((r = realloc(*v, c * sizeof(*r))) == NULL) {
				rc = mirror_fail(MIRROR_ENOMEM, "out of memory");
				break;
			}
			*v = r;
			*cap = c;
		}
		r = &(*v)[*n];
		if (store_unhex(h, r->sha256, STORE_HASH_LEN) != 0) {
			rc = mirror_fail(MIRROR_EPROTO, "chunk %zu: not a "
			    "sha256", *n);
			break;
		}
		r->len = (uint32_t)json_integer_value(z);
		*off += r->len;
		(*n)++;
	}
	json_decref(j);
	return rc;
}

/* Whether the upstream is an airlockd: 1 yes, 0 no, or an error. */
static int
chain_probe(struct chain *c)
{
	char url[2100];
	struct xfer *x;
	int api, rc;

	snprintf(url, sizeof(url), "%s/v1/", c->base);
	if ((rc = xfer_new(c->m, url, c->spec->token, 0, 0, &x)) != 0)
		return rc;
	x->cancelp = c->spec->cancel;
	x->body_max = BOUND_CHAIN_META;
	c->res->requests++;
	xfer_start(x);
	xfer_wait(x);
	if (mirror_cancelled(c->spec->cancel)) {
		xfer_free(x);
		return chain_cancel_fail(c);
	}
	/* One try: a Hub, or a server that is down, is for pull.c's
	 * sequence to find out and say. */
	rc = x->result == CURLE_OK && x->status == 200 &&
	    chain_parse_index(x->body != NULL ? x->body : "", x->len, &api);
	if (rc)
		c->res->fetched += x->received;
	xfer_free(x);
	if (rc && api != CHAIN_API)
		return mirror_fail(MIRROR_EPROTO, "%s: an airlockd whose API is "
		    "version %d; this airlock speaks version %d", c->base, api,
		    CHAIN_API);
	return rc;
}

/*
 * Whether the local ref came from this upstream by the Hub's sequence
 * (its manifest names it as the source): the pull stays on that
 * sequence, so that an unchanged branch costs one request, not a probe
 * as well.
 */
static int
chain_hub_before(struct chain *c)
{
	const struct mirror_pull_spec *s = c->spec;
	struct store_manifest *cur;
	uint8_t digest[STORE_HASH_LEN];
	const char *up;
	int yes;

	if (store_resolve(c->st, s->type, s->repo, s->revision, digest) != 0 ||
	    store_manifest_get(c->st, digest, &cur) != 0)
		return 0;
	up = json_string_value(json_object_get(cur->source, "upstream"));
	yes = up != NULL && strcmp(up, c->base) == 0;
	store_manifest_free(cur);
	return yes;
}

/* Its chunk list, all pages, into c->refs. */
static int
chain_chunk_list(struct chain *c, const struct store_file *f)
{
	char hex[STORE_HEX_LEN + 1], prefix[2200], *url, *next;
	struct xfer *x;
	uint64_t off = 0;
	int rc = 0, pages = 0;

	c->nrefs = 0;
	store_hex(f->sha256, STORE_HASH_LEN, hex);
	snprintf(prefix, sizeof(prefix), "%s/v1/blobs/sha256:%s/chunks",
	    c->base, hex);
	if ((url = strdup(prefix)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	while (url != NULL) {
		if (++pages > BOUND_FILES) {
			rc = mirror_fail(MIRROR_EPROTO, "%s: the chunk list's "
			    "pages do not end", f->path);
			break;
		}
		if ((rc = chain_get(c, f->path, url, BOUND_CHAIN_PAGE, &x)) != 0)
			break;
		rc = chain_parse_chunks(x->body != NULL ? x->body : "", x->len,
		    f->size, &off, &c->refs, &c->nrefs, &c->cap);
		next = rc == 0 ? upstream_link_next(x->h[XH_LINK]) : NULL;
		xfer_free(x);
		free(url);
		url = NULL;
		if (rc != 0) {
			rc = chain_prefix(rc, f->path);
			break;
		}
		/* The next page only from the same list on the same host:
		 * the token goes nowhere else. */
		if (next != NULL && strncmp(next, prefix, strlen(prefix)) != 0) {
			rc = mirror_fail(MIRROR_EPROTO, "%s: the chunk list's "
			    "next page is elsewhere (%s)", f->path, next);
			free(next);
			break;
		}
		url = next;
	}
	free(url);
	if (rc == 0 && off != f->size)
		rc = mirror_fail(MIRROR_EPROTO, "%s: the chunks add up to %llu "
		    "bytes, the manifest says %llu", f->path,
		    (unsigned long long)off, (unsigned long long)f->size);
	return rc;
}

/* The chunks of a blob this store holds already. */
static int
local_chunk(void *arg, uint64_t off, const uint8_t sha[STORE_HASH_LEN],
    uint32_t len)
{
	struct chain *c = arg;
	struct store_chunkref *r;

	(void)off;
	if (c->nrefs == c->cap) {
		size_t cap = c->cap == 0 ? 64 : c->cap * 2;

		if ((r = realloc(c->refs, cap * sizeof(*r))) == NULL)
			return ENOMEM;
		c->refs = r;
		c->cap = cap;
	}
	memcpy(c->refs[c->nrefs].sha256, sha, STORE_HASH_LEN);
	c->refs[c->nrefs++].len = len;
	return 0;
}

static void
chunk_url(const struct chain *c, size_t i, char *url, size_t size)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(c->refs[i].sha256, STORE_HASH_LEN, hex);
	snprintf(url, size, "%s/v1/chunks/sha256:%s", c->base, hex);
}

static void
chunk_what(const struct chain *c, const struct store_file *f, size_t i,
    uint64_t off, char *what, size_t size)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(c->refs[i].sha256, STORE_HASH_LEN, hex);
	snprintf(what, size, "%s: chunk %zu (sha256:%s, offset %llu)",
	    f->path, i, hex, (unsigned long long)off);
}

/* Whether a transfer's body is chunk i's bytes. */
static int
chunk_matches(const struct chain *c, size_t i, const struct xfer *x)
{
	uint8_t got[STORE_HASH_LEN];

	if (x->len != c->refs[i].len || x->body == NULL)
		return 0;
	store_sha256(x->body, x->len, got);
	return memcmp(got, c->refs[i].sha256, STORE_HASH_LEN) == 0;
}

static int
chunk_keep(struct chain *c, struct store_revision *rev,
    const struct store_file *f, size_t i, uint64_t off, struct xfer *x)
{
	char what[BOUND_PATH + 200];
	int isnew, rc;

	if ((rc = store_revision_chunk(rev, c->refs[i].sha256, x->body, x->len,
	    &isnew)) != 0) {
		chunk_what(c, f, i, off, what, sizeof(what));
		return mirror_fail(rc, "%s: %s", what, store_lasterror());
	}
	return 0;
}

/*
 * Chunk i alone, with the retries of chain_get, until it has been fetched
 * twice (fetched: times so far); bytes that are not its hash twice are
 * refused, naming it.
 */
static int
chain_chunk(struct chain *c, struct store_revision *rev,
    const struct store_file *f, size_t i, uint64_t off, int fetched)
{
	char url[2200], what[BOUND_PATH + 200];
	struct xfer *x;
	int rc;

	chunk_url(c, i, url, sizeof(url));
	chunk_what(c, f, i, off, what, sizeof(what));
	for (;; fetched++) {
		if ((rc = chain_get(c, what, url, STORE_CHUNK_MAX, &x)) != 0)
			return rc;
		if (chunk_matches(c, i, x))
			break;
		xfer_free(x);
		if (fetched >= 1)
			return mirror_fail(MIRROR_ECORRUPT, "%s: the upstream's "
			    "bytes do not match the chunk's hash (fetched "
			    "twice)", what);
		c->res->retries++;
	}
	rc = chunk_keep(c, rev, f, i, off, x);
	xfer_free(x);
	return rc;
}

#define CHAIN_WINDOW	16	/* chunks in flight at most */

/*
 * The chunks of f that the store lacks, as many in flight as the engine
 * runs transfers (the bodies are at most a chunk each), each checked and
 * stored as it lands, in order.  One that does not come whole and right
 * is fetched again alone.
 */
static int
chain_chunks(struct chain *c, struct store_revision *rev,
    const struct store_file *f)
{
	struct xfer *win[CHAIN_WINDOW], *x;
	size_t idx[CHAIN_WINDOW], head = 0, n = 0, next = 0, window;
	uint64_t offs[CHAIN_WINDOW], off = 0;
	char url[2200];
	int rc = 0;

	window = (size_t)c->m->opts.transfers;
	if (window > CHAIN_WINDOW)
		window = CHAIN_WINDOW;
	while (rc == 0 && (next < c->nrefs || n > 0)) {
		if (mirror_cancelled(c->spec->cancel)) {
			rc = chain_cancel_fail(c);
			break;
		}
		if (n < window && next < c->nrefs) {
			size_t i = next++, slot;
			uint64_t o = off;

			off += c->refs[i].len;
			if ((rc = store_chunk_has(c->st, c->refs[i].sha256)) ==
			    0)
				continue;
			if (rc != STORE_ENOTFOUND) {
				rc = mirror_fail(rc, "%s: %s", f->path,
				    store_lasterror());
				break;
			}
			chunk_url(c, i, url, sizeof(url));
			if ((rc = xfer_new(c->m, url, c->spec->token, 0, 0,
			    &x)) != 0)
				break;
			x->cancelp = c->spec->cancel;
			x->body_max = STORE_CHUNK_MAX;
			c->res->requests++;
			xfer_start(x);
			slot = (head + n++) % CHAIN_WINDOW;
			win[slot] = x;
			idx[slot] = i;
			offs[slot] = o;
			continue;
		}
		x = win[head];
		n--;
		xfer_wait(x);
		c->res->fetched += x->received;
		if (x->result == CURLE_OK && x->status == 200 &&
		    chunk_matches(c, idx[head], x))
			rc = chunk_keep(c, rev, f, idx[head], offs[head], x);
		else {
			int fetched = x->result == CURLE_OK &&
			    x->status == 200 && !x->toolarge;

			xfer_free(x);
			x = NULL;
			if (fetched)
				c->res->retries++;
			rc = chain_chunk(c, rev, f, idx[head], offs[head],
			    fetched);
		}
		xfer_free(x);
		head = (head + 1) % CHAIN_WINDOW;
	}
	for (; n > 0; n--, head = (head + 1) % CHAIN_WINDOW)
		xfer_free(win[head]);
	return rc;
}

/* One file: its chunks, those the store lacks fetched, then checked whole. */
static int
chain_file(struct chain *c, struct store_revision *rev,
    const struct store_file *f)
{
	struct store_revision_file in = { 0 };
	int held, rc;

	c->nrefs = 0;
	held = store_blob_chunks(c->st, f->sha256, local_chunk, c) == 0 &&
	    c->nrefs > 0;
	if (!held && f->size > 0 && ((rc = chain_chunk_list(c, f)) != 0 ||
	    (rc = chain_chunks(c, rev, f)) != 0))
		return rc;
	in.path = f->path;
	in.size = (int64_t)f->size;
	in.lfs = f->lfs;
	in.sha256 = f->sha256;
	in.git_sha1 = f->git_sha1;
	if ((rc = store_revision_blob(rev, &in, c->refs, c->nrefs)) != 0)
		return mirror_fail(rc == STORE_ECORRUPT ? MIRROR_ECORRUPT : rc,
		    "%s", store_lasterror());
	return 0;
}

static int
chain_feed(void *arg, struct store_revision *rev)
{
	struct chain *c = arg;
	const struct store_manifest *m = c->manifest;
	int rc;

	for (size_t i = 0; i < m->nfiles; i++) {
		c->res->failed = m->files[i].path;
		if ((rc = chain_file(c, rev, &m->files[i])) != 0)
			return rc;
	}
	c->res->failed = NULL;
	return 0;
}

/* The manifest rev names upstream, its bytes checked against its digest. */
static int
chain_manifest(struct chain *c, const uint8_t digest[STORE_HASH_LEN])
{
	const struct mirror_pull_spec *s = c->spec;
	char d[STORE_DIGEST_STRLEN + 1], url[2200];
	uint8_t got[STORE_HASH_LEN];
	struct xfer *x;
	int rc;

	store_digest_str(digest, d);
	snprintf(url, sizeof(url), "%s/v1/manifests/%s", c->base, d);
	if ((rc = chain_get(c, d, url, BOUND_MANIFEST, &x)) != 0)
		return rc;
	store_sha256(x->body != NULL ? x->body : "", x->len, got);
	if (memcmp(got, digest, STORE_HASH_LEN) != 0)
		rc = mirror_fail(MIRROR_ECORRUPT, "manifest %s: the upstream's "
		    "bytes do not hash to it", d);
	else if ((rc = store_manifest_parse(x->body, x->len, &c->manifest))
	    != 0)
		rc = mirror_fail(MIRROR_EPROTO, "manifest %s: %s", d,
		    store_lasterror());
	else if (strcmp(c->manifest->type, s->type) != 0 ||
	    strcmp(c->manifest->repo, s->repo) != 0)
		rc = mirror_fail(MIRROR_EPROTO, "manifest %s is of %s %s, not "
		    "of %s %s", d, c->manifest->type, c->manifest->repo,
		    s->type, s->repo);
	else if (c->by_commit &&
	    strncmp(c->manifest->commit, s->revision,
	    strlen(s->revision)) != 0)
		rc = mirror_fail(MIRROR_EPROTO, "manifest %s has commit %s, "
		    "not %s", d, c->manifest->commit, s->revision);
	xfer_free(x);
	return rc;
}

/* A document the upstream may not publish (404): *buf NULL then. */
static int
chain_optional(struct chain *c, const char *path, size_t max, char **buf,
    size_t *len)
{
	char url[2200];
	struct xfer *x;
	int rc;

	*buf = NULL;
	*len = 0;
	snprintf(url, sizeof(url), "%s%s", c->base, path);
	rc = chain_get(c, path, url, max, &x);
	if (rc == MIRROR_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	if ((*buf = malloc(x->len + 1)) == NULL) {
		xfer_free(x);
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	}
	memcpy(*buf, x->body != NULL ? x->body : "", x->len);
	(*buf)[x->len] = '\0';
	*len = x->len;
	xfer_free(x);
	return 0;
}

/* What the upstream vouches for, judged by the caller before any chunk. */
static int
chain_vouch(struct chain *c, struct mirror_chain_vouch *v, char **texts,
    size_t *lens)
{
	char d[STORE_DIGEST_STRLEN + 1], url[2200];
	struct xfer *x;
	int rc;

	store_digest_str(c->manifest->digest, d);
	snprintf(url, sizeof(url), "%s/v1/signatures/%s", c->base, d);
	if ((rc = chain_get(c, "signatures", url, BOUND_CHAIN_META, &x)) != 0)
		return rc;
	rc = chain_parse_sigs(x->body != NULL ? x->body : "", x->len, texts,
	    lens, BOUND_BUNDLE_SIGS, &v->nsigs);
	xfer_free(x);
	if (rc != 0)
		return chain_prefix(rc, d);
	for (size_t i = 0; i < v->nsigs; i++) {
		v->sigs[i].text = texts[i];
		v->sigs[i].len = lens[i];
	}
	if ((rc = chain_optional(c, "/v1/release", BOUND_RELEASE,
	    &v->release, &v->release_len)) != 0 || v->release == NULL)
		return rc;
	if ((rc = chain_optional(c, "/v1/release.minisig", BOUND_SIGFILE,
	    &v->release_sig, &v->release_sig_len)) != 0)
		return rc;
	if (v->release_sig == NULL)
		return mirror_fail(MIRROR_EPROTO, "%s: publishes a release "
		    "without its signature", c->base);
	return 0;
}

/* The local ref already names the upstream's manifest: nothing to do. */
static int
chain_unchanged(struct chain *c, const uint8_t digest[STORE_HASH_LEN])
{
	const struct mirror_pull_spec *s = c->spec;
	struct store_manifest *cur;
	uint8_t have[STORE_HASH_LEN];

	if (store_resolve(c->st, s->type, s->repo, s->revision, have) != 0 ||
	    memcmp(have, digest, STORE_HASH_LEN) != 0 ||
	    store_manifest_get(c->st, have, &cur) != 0)
		return 0;
	c->res->manifest = cur;
	c->res->unchanged = 1;
	c->res->files = cur->nfiles;
	for (size_t i = 0; i < cur->nfiles; i++)
		c->res->bytes += cur->files[i].size;
	c->res->held = c->res->bytes;
	return 1;
}

static int
chain_commit(struct chain *c, struct mirror_chain_vouch *v)
{
	const struct mirror_pull_spec *s = c->spec;
	struct store_revision_spec rs = { 0 };
	struct store_revision_result rr = { 0 };
	struct store_sig keep[BOUND_BUNDLE_SIGS];
	size_t nkeep = 0;
	int rc;

	for (size_t i = 0; i < v->nsigs; i++)
		if (v->sigs[i].keep) {
			memcpy(keep[nkeep].keyid, v->sigs[i].keyid, 8);
			keep[nkeep].text = v->sigs[i].text;
			keep[nkeep++].len = v->sigs[i].len;
		}
	rs.manifest = c->manifest;
	rs.sigs = keep;
	rs.nsigs = nkeep;
	/* A commit id, or a short one, names the revision: no ref moves. */
	rs.ref = c->by_commit ? NULL : s->revision;
	rs.why = s->why;
	rs.flags = STORE_REVISION_KEEP_COMMIT;
	rs.feed = chain_feed;
	rs.feed_arg = c;
	rs.sign = s->sign;
	rs.sign_arg = s->sign_arg;
	rs.kv = v->kv;
	rs.kv_arg = v->kv_arg;
	rs.progress = s->progress;
	rs.progress_arg = s->progress_arg;
	c->res->files = c->manifest->nfiles;
	rc = store_revision_add(c->st, &rs, &rr);
	if (rc != 0) {
		if (rr.step != STORE_REVISION_FILES && rc > -32000)
			mirror_fail(rc, "%s@%s: %s", s->repo,
			    c->manifest->commit, store_lasterror());
		if (c->res->failed != NULL) {
			snprintf(c->res->failed_buf,
			    sizeof(c->res->failed_buf), "%s", c->res->failed);
			c->res->failed = c->res->failed_buf;
		}
		return rc;
	}
	c->res->manifest = rr.manifest;
	c->res->unchanged = rr.unchanged;
	c->res->bytes = rr.bytes;
	c->res->held = rr.bytes > rr.new_bytes ? rr.bytes - rr.new_bytes : 0;
	return 0;
}

/* A pull --lock whose commit the upstream has as another manifest. */
static int
chain_not_locked(const struct mirror_pull_spec *s,
    const uint8_t digest[STORE_HASH_LEN])
{
	char got[STORE_DIGEST_STRLEN + 1], want[STORE_DIGEST_STRLEN + 1];

	store_digest_str(digest, got);
	store_digest_str(s->exact->digest, want);
	return mirror_fail(MIRROR_ECORRUPT, "%s@%s: the upstream's manifest is "
	    "%s, the lockfile's %s", s->repo, s->revision, got, want);
}

/*
 * The head of a GGUF file for the gate (mirror.h): its first chunks, each
 * checked against its hash, as far as BOUND_GGUF_PREFIX bytes; read from
 * the store when it holds the blob.  *buf for free(3).
 */
static int
chain_head(struct chain *c, const struct store_file *f, char **buf,
    size_t *len)
{
	char url[2200], what[BOUND_PATH + 200];
	uint64_t off = 0;
	size_t want, got = 0;
	struct xfer *x;
	int rc = 0;

	*buf = NULL;
	*len = 0;
	want = f->size < BOUND_GGUF_PREFIX ? (size_t)f->size :
	    BOUND_GGUF_PREFIX;
	if ((*buf = malloc(want)) == NULL)
		return mirror_fail(MIRROR_ENOMEM, "out of memory");
	if (store_blob_read(c->st, f->sha256, 0, *buf, want, &got) == 0 &&
	    got == want) {
		*len = got;
		return 0;
	}
	got = 0;
	if ((rc = chain_chunk_list(c, f)) != 0)
		goto fail;
	for (size_t i = 0; i < c->nrefs && got < want; i++) {
		size_t k;

		chunk_url(c, i, url, sizeof(url));
		chunk_what(c, f, i, off, what, sizeof(what));
		if ((rc = chain_get(c, what, url, STORE_CHUNK_MAX, &x)) != 0)
			goto fail;
		if (!chunk_matches(c, i, x)) {
			xfer_free(x);
			rc = mirror_fail(MIRROR_ECORRUPT, "%s: the upstream's "
			    "bytes do not match the chunk's hash", what);
			goto fail;
		}
		k = x->len < want - got ? x->len : want - got;
		memcpy(*buf + got, x->body, k);
		got += k;
		off += x->len;
		xfer_free(x);
	}
	c->nrefs = 0;
	if (got != want) {
		rc = mirror_fail(MIRROR_EPROTO, "%s: the chunks hold %zu of its "
		    "first %zu bytes", f->path, got, want);
		goto fail;
	}
	*len = got;
	return 0;
fail:
	c->nrefs = 0;
	free(*buf);
	*buf = NULL;
	return rc;
}

static int
is_gguf(const char *path)
{
	size_t n = strlen(path);

	return n >= 5 && strcasecmp(path + n - 5, ".gguf") == 0;
}

/*
 * The gate (mirror.h, mirror_gate_fn) on the card, licence and small
 * evidence files, fetched as blobs by their sha256 and checked, and the
 * heads of the first GGUF files (chain_head), before any other chunk
 * moves.
 */
static int
chain_gate(struct chain *c, struct mirror_chain_vouch *v)
{
	const struct store_manifest *m = c->manifest;
	struct mirror_meta_file meta[MIRROR_META_FILES];
	size_t n = 0, heads = 0;
	int rc = 0;

	for (size_t i = 0; i < m->nfiles && rc == 0 &&
	    n < MIRROR_META_FILES - MIRROR_GATE_GGUF; i++) {
		const struct store_file *f = &m->files[i];
		char hex[STORE_HEX_LEN + 1], url[2200];
		uint8_t sha[STORE_HASH_LEN];
		struct xfer *x;

		if (upstream_rank(f->path, f->size) >= 2 || f->size > BOUND_CARD)
			continue;
		store_hex(f->sha256, STORE_HASH_LEN, hex);
		snprintf(url, sizeof(url), "%s/v1/blobs/sha256:%s", c->base,
		    hex);
		if ((rc = chain_get(c, f->path, url, BOUND_CARD, &x)) != 0)
			break;
		store_sha256(x->body != NULL ? x->body : "", x->len, sha);
		if (x->len != f->size ||
		    memcmp(sha, f->sha256, STORE_HASH_LEN) != 0) {
			xfer_free(x);
			rc = mirror_fail(MIRROR_ECORRUPT, "%s: the blob's bytes "
			    "do not match its sha256", f->path);
			break;
		}
		meta[n].path = f->path;
		meta[n].size = f->size;
		meta[n].sha256 = f->sha256;
		meta[n].len = x->len;
		if ((meta[n].buf = malloc(x->len + 1)) == NULL) {
			xfer_free(x);
			rc = mirror_fail(MIRROR_ENOMEM, "out of memory");
			break;
		}
		memcpy((char *)meta[n].buf, x->body != NULL ? x->body : "",
		    x->len);
		n++;
		xfer_free(x);
	}
	for (size_t i = 0; i < m->nfiles && rc == 0 &&
	    heads < MIRROR_GATE_GGUF; i++) {
		const struct store_file *f = &m->files[i];
		char *buf;
		size_t len;

		if (!is_gguf(f->path) || f->size == 0)
			continue;
		if ((rc = chain_head(c, f, &buf, &len)) != 0)
			break;
		meta[n].path = f->path;
		meta[n].size = f->size;
		meta[n].sha256 = f->sha256;
		meta[n].buf = buf;
		meta[n].len = len;
		n++;
		heads++;
	}
	if (rc == 0)
		rc = c->spec->gate(c->spec->gate_arg, m->commit, meta, n, v);
	for (size_t i = 0; i < n; i++)
		free((char *)meta[i].buf);
	return rc;
}

int
chain_pull(struct mirror *m, struct store *st,
    const struct mirror_pull_spec *s, const char *base,
    struct mirror_pull_result *res, int *chained)
{
	struct chain c = { m, st, s, res, base, NULL, 0, NULL, 0, 0 };
	struct mirror_chain_vouch v;
	struct mirror_upstream_sig sigs[BOUND_BUNDLE_SIGS];
	char *texts[BOUND_BUNDLE_SIGS], url[2600];
	size_t lens[BOUND_BUNDLE_SIGS];
	uint8_t digest[STORE_HASH_LEN];
	struct xfer *x;
	int rc = 0;

	*chained = 0;
	memset(&v, 0, sizeof(v));
	memset(sigs, 0, sizeof(sigs));
	v.sigs = sigs;
	/* A partial revision is a manifest of its own, which no upstream
	 * signature covers: the Hub's sequence makes it. */
	if ((s->include != NULL && s->include[0] != NULL) ||
	    (s->exclude != NULL && s->exclude[0] != NULL))
		return 0;
	if (chain_hub_before(&c) || (rc = chain_probe(&c)) != 1)
		return rc;
	*chained = 1;
	res->chained = 1;
	snprintf(url, sizeof(url), "%s/v1/refs/%s/%s", base, s->type, s->repo);
	if ((rc = chain_get(&c, s->repo, url, BOUND_MANIFEST, &x)) != 0)
		return rc;
	rc = chain_parse_refs(x->body != NULL ? x->body : "", x->len, s->type,
	    s->repo, s->revision, digest, &c.by_commit);
	xfer_free(x);
	if (rc == 0 && s->exact != NULL &&
	    memcmp(digest, s->exact->digest, STORE_HASH_LEN) != 0)
		return chain_not_locked(s, digest);
	if (rc != 0 || chain_unchanged(&c, digest))
		return rc;
	if ((rc = chain_manifest(&c, digest)) != 0)
		goto out;
	if ((rc = chain_vouch(&c, &v, texts, lens)) != 0)
		goto out;
	v.manifest = c.manifest;
	v.upstream = base;
	if (s->judge != NULL && (rc = s->judge(s->judge_arg, &v)) != 0)
		goto out;
	if (s->gate != NULL && (rc = chain_gate(&c, &v)) != 0)
		goto out;
	rc = chain_commit(&c, &v);
out:
	for (size_t i = 0; i < v.nsigs; i++)
		free(texts[i]);
	free(v.release);
	free(v.release_sig);
	free(c.refs);
	store_manifest_free(c.manifest);
	return rc;
}
