/*
 * native_api.c - airlock's own read API under /v1/, for mirrors that
 * chain to this one: refs, manifests (their exact canonical bytes),
 * signatures, blobs, chunks, "which of these chunks do you lack", and the
 * published release.  Runs on a worker.
 *
 * Content named by its hash never changes and is sent with immutable
 * cache headers.  A blob's hash can be known without its repository (the
 * file is a public one's too, or was named in a log), so a blob that only
 * private repositories hold is answered as they are: 401 without one of
 * their tokens.  Chunks are served to whoever names them: their hashes are
 * learnt from a blob's chunk list, which is answered as the blob is --
 * except that a file of one chunk is its chunk, hash and all, so a chunk
 * that is also a blob is answered as that blob.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/airlockd.h"
#include "daemon/body.h"
#include "keys/keys.h"

/* The version of this API, in /v1/'s answer; a client refuses another. */
#define V1_API	1


static void
immutable(struct request *req, const uint8_t sha[STORE_HASH_LEN])
{
	char hex[STORE_HEX_LEN + 1], etag[STORE_HEX_LEN + 8];

	store_hex(sha, STORE_HASH_LEN, hex);
	snprintf(etag, sizeof(etag), "\"%s\"", hex);
	resp_header(req, "ETag", etag);
	resp_header(req, "Cache-Control", IMMUTABLE);
}

static int
store_error(struct request *req, int rc, const char *what)
{
	if (rc == STORE_ENOTFOUND) {
		resp_fail(req, API_NOT_FOUND, what, NULL);
		return -1;
	}
	log_warnx("%s: %s: %s", __func__, what, store_lasterror());
	resp_fail(req, API_STORE, what, NULL);
	return -1;
}

/*
 * GET /v1/: what this server is, so that a mirror pointed at it knows to
 * fetch manifests and chunks rather than files:
 * {"airlock": {"version", "api", "store", "offers": [...]}}.  A store
 * that never published a release is still an airlockd; "release" is
 * offered only once there is one.
 */
void
v1_index(struct request *req)
{
	struct store *st = req->r_srv->srv_store;
	json_t *offers, *doc;
	void *val;
	size_t len;
	int rc;

	offers = json_pack("[s,s,s,s,s,s]", "refs", "manifests", "signatures",
	    "blobs", "chunks", "missing");
	rc = store_kv_get(st, STORE_SETTING, "release", 7, &val, &len);
	if (rc == 0) {
		free(val);
		json_array_append_new(offers, json_string("release"));
	} else if (rc != STORE_ENOTFOUND) {
		json_decref(offers);
		store_error(req, rc, "release");
		return;
	}
	doc = json_pack("{s:{s:s,s:i,s:s,s:o}}", "airlock", "version",
	    PACKAGE_VERSION, "api", V1_API, "store", store_id(st), "offers",
	    offers);
	resp_json(req, 200, doc);
}

struct v1refs {
	struct request	*req;
	json_t		*list;
};

static int
v1_ref(void *arg, const struct store_ref *ref)
{
	struct v1refs *w = arg;
	char digest[STORE_DIGEST_STRLEN + 1];

	if (!conf_may_read(w->req->r_conf, ref->repo, w->req->r_token))
		return 0;
	store_digest_str(ref->digest, digest);
	json_array_append_new(w->list, json_pack("{s:s,s:s,s:s,s:s,s:b,s:s}",
	    "type", ref->type, "repo", ref->repo, "name", ref->name,
	    "manifest", digest, "commit", ref->is_commit, "kind",
	    ref->is_commit ? "commit" : ref->is_tag ? "tag" : "branch"));
	return 0;
}

void
v1_refs(struct request *req)
{
	const struct route *r = &req->r_route;
	struct v1refs w = { req, json_array() };
	int rc;

	if (w.list == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	rc = store_refs(req->r_srv->srv_store, r->type,
	    r->repo[0] ? r->repo : NULL, v1_ref, &w);
	if (rc != 0) {
		json_decref(w.list);
		store_error(req, rc, "refs");
		return;
	}
	if (r->repo[0] != '\0' && json_array_size(w.list) == 0) {
		json_decref(w.list);
		resp_fail(req, API_REPO_NOT_FOUND, r->repo, NULL);
		return;
	}
	resp_json(req, 200, w.list);
}

/* The manifest, after checking that the client may see its repository. */
static int
manifest_get(struct request *req, struct store_manifest **m)
{
	int rc;

	if ((rc = store_manifest_get(req->r_srv->srv_store, req->r_route.hash,
	    m)) != 0)
		return store_error(req, rc, "manifest");
	if (!conf_may_read(req->r_conf, (*m)->repo, req->r_token)) {
		store_manifest_free(*m);
		*m = NULL;
		resp_fail(req, API_REPO_HIDDEN, NULL, NULL);
		return -1;
	}
	return 0;
}

void
v1_manifest(struct request *req)
{
	struct store_manifest *m;

	if (manifest_get(req, &m) != 0)
		return;
	immutable(req, req->r_route.hash);
	resp_text(req, 200, "application/json", m->bytes, m->len);
	store_manifest_free(m);
}

static int
v1_sig(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	json_t *list = arg;
	char id[KEYS_KEYID_HEXLEN + 1];

	keys_keyid_hex(keyid, id);
	json_array_append_new(list, json_pack("{s:s,s:s%}", "keyid", id,
	    "signature", text, len));
	return 0;
}

void
v1_signatures(struct request *req)
{
	struct store_manifest *m;
	json_t *list;
	int rc;

	if (manifest_get(req, &m) != 0)
		return;
	store_manifest_free(m);
	if ((list = json_array()) == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	if ((rc = store_sigs(req->r_srv->srv_store, req->r_route.hash, v1_sig,
	    list)) != 0) {
		json_decref(list);
		store_error(req, rc, "signatures");
		return;
	}
	resp_json(req, 200, list);
}

struct holders {
	struct request	*req;
	int		 readable;	/* the refs the client may read, or not */
	uint8_t		(*digests)[STORE_HASH_LEN];
	size_t		 n, cap;
};

static int
holder_ref(void *arg, const struct store_ref *ref)
{
	struct holders *h = arg;
	void *v;

	if (conf_may_read(h->req->r_conf, ref->repo, h->req->r_token) !=
	    h->readable)
		return 0;
	if (h->n > 0 && memcmp(h->digests[h->n - 1], ref->digest,
	    STORE_HASH_LEN) == 0)
		return 0;	/* a branch and its commit, side by side */
	if (h->n == h->cap) {
		size_t cap = h->cap != 0 ? h->cap * 2 : 64;

		if ((v = realloc(h->digests, cap * STORE_HASH_LEN)) == NULL)
			return ENOMEM;
		h->digests = v;
		h->cap = cap;
	}
	memcpy(h->digests[h->n++], ref->digest, STORE_HASH_LEN);
	return 0;
}

/* 1 if a revision the client may (readable) or may not read has the
 * blob, 0 if none has, or a store error. */
static int
blob_held(struct request *req, const uint8_t sha[STORE_HASH_LEN],
    int readable)
{
	struct holders h = { req, readable, NULL, 0, 0 };
	struct store_manifest *m;
	int rc, found = 0;

	if ((rc = store_refs(req->r_srv->srv_store, NULL, NULL, holder_ref,
	    &h)) != 0) {
		free(h.digests);
		return rc;
	}
	for (size_t i = 0; i < h.n && !found; i++) {
		if ((rc = store_manifest_get(req->r_srv->srv_store,
		    h.digests[i], &m)) != 0) {
			free(h.digests);
			return rc;
		}
		for (size_t f = 0; f < m->nfiles && !found; f++)
			found = memcmp(m->files[f].sha256, sha,
			    STORE_HASH_LEN) == 0;
		store_manifest_free(m);
	}
	free(h.digests);
	return found;
}

/*
 * 0 if the client may read the blob: it is in a revision the client may
 * read, or in none that it may not.  Only the private repositories'
 * revisions are read first, so a store without any pays nothing.
 */
static int
blob_may_read(struct request *req, const uint8_t sha[STORE_HASH_LEN])
{
	int rc;

	if (req->r_conf->cf_nprivate == 0)
		return 0;
	if ((rc = blob_held(req, sha, 0)) == 1)
		rc = blob_held(req, sha, 1);
	else if (rc == 0)
		return 0;
	if (rc == 1)
		return 0;
	if (rc == 0)
		resp_fail(req, API_REPO_HIDDEN, NULL, NULL);
	else
		store_error(req, rc, "blob");
	return -1;
}

void
v1_blob(struct request *req)
{
	struct store_blobinfo info;
	char hex[STORE_HEX_LEN + 1];
	int rc;

	if (blob_may_read(req, req->r_route.hash) != 0)
		return;
	if ((rc = store_blob_stat(req->r_srv->srv_store, req->r_route.hash,
	    &info)) != 0) {
		store_error(req, rc, "blob");
		return;
	}
	store_hex(req->r_route.hash, STORE_HASH_LEN, hex);
	resp_header(req, "Cache-Control", IMMUTABLE);
	resp_blob(req, req->r_route.hash, info.size, hex);
}

struct chunkpage {
	json_t		*list;
	size_t		 index;
	size_t		 skip;
	int		 more;
};

static int
v1_chunk_entry(void *arg, uint64_t off, const uint8_t sha[STORE_HASH_LEN],
    uint32_t len)
{
	struct chunkpage *p = arg;
	char hex[STORE_HEX_LEN + 1];

	if (p->index++ < p->skip)
		return 0;
	if (json_array_size(p->list) == BOUND_CHUNKS_PAGE) {
		p->more = 1;
		return 1;
	}
	store_hex(sha, STORE_HASH_LEN, hex);
	json_array_append_new(p->list, json_pack("{s:I,s:s,s:i}", "offset",
	    (json_int_t)off, "sha256", hex, "size", (int)len));
	return 0;
}

/* The blob's chunks, in order, a page at a time (Link: rel="next"). */
void
v1_blob_chunks(struct request *req)
{
	struct chunkpage p = { NULL, 0, 0, 0 };
	const char *cursor = query_get(&req->r_query, "cursor");
	char hex[STORE_HEX_LEN + 1], *end, *link;
	int rc;

	if (cursor != NULL) {
		unsigned long long v = strtoull(cursor, &end, 10);

		if (*cursor < '0' || *cursor > '9' || *end != '\0' ||
		    v > (1ULL << 40)) {
			resp_fail(req, API_BAD_REQUEST, "invalid cursor", NULL);
			return;
		}
		p.skip = (size_t)v;
	}
	if (blob_may_read(req, req->r_route.hash) != 0)
		return;
	if ((p.list = json_array()) == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	rc = store_blob_chunks(req->r_srv->srv_store, req->r_route.hash,
	    v1_chunk_entry, &p);
	if (rc != 0 && rc != 1) {
		json_decref(p.list);
		store_error(req, rc, "blob");
		return;
	}
	if (p.index == 0 && p.skip == 0) {
		struct store_blobinfo info;

		/* No chunk: an empty blob, or none at all. */
		if ((rc = store_blob_stat(req->r_srv->srv_store,
		    req->r_route.hash, &info)) != 0) {
			json_decref(p.list);
			store_error(req, rc, "blob");
			return;
		}
	}
	store_hex(req->r_route.hash, STORE_HASH_LEN, hex);
	if (p.more) {
		if (asprintf(&link, "<%s/v1/blobs/sha256:%s/chunks?cursor=%zu>; "
		    "rel=\"next\"", req->r_base, hex,
		    p.skip + BOUND_CHUNKS_PAGE) != -1) {
			resp_header(req, "Link", link);
			free(link);
		}
	}
	resp_header(req, "Cache-Control", IMMUTABLE);
	resp_json(req, 200, p.list);
}

void
v1_chunk(struct request *req)
{
	uint8_t *buf, got[STORE_HASH_LEN];
	char hex[STORE_HEX_LEN + 1];
	size_t len;
	int rc;

	if (req->r_conf->cf_nprivate != 0) {
		struct store_blobinfo info;

		rc = store_blob_stat(req->r_srv->srv_store, req->r_route.hash,
		    &info);
		if (rc == 0 && blob_may_read(req, req->r_route.hash) != 0)
			return;
		if (rc != 0 && rc != STORE_ENOTFOUND) {
			store_error(req, rc, "chunk");
			return;
		}
	}
	if ((buf = malloc(STORE_CHUNK_MAX)) == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	if ((rc = store_chunk_get(req->r_srv->srv_store, req->r_route.hash,
	    buf, STORE_CHUNK_MAX, &len)) != 0) {
		free(buf);
		store_error(req, rc, "chunk");
		return;
	}
	/* Small enough to check whole before a byte of it goes out. */
	store_sha256(buf, len, got);
	if (memcmp(got, req->r_route.hash, STORE_HASH_LEN) != 0) {
		store_hex(req->r_route.hash, STORE_HASH_LEN, hex);
		log_warnx("%s: chunk %s: stored bytes do not match their hash",
		    __func__, hex);
		free(buf);
		resp_fail(req, API_INTERNAL, "chunk is corrupt", NULL);
		return;
	}
	immutable(req, req->r_route.hash);
	resp_text(req, 200, "application/octet-stream", buf, len);
	free(buf);
}

/*
 * POST /v1/chunks/missing with {"chunks": ["hex", ...]} (or the bare
 * array): answers {"missing": [...]}, the ones this store lacks, so that
 * a peer sends or fetches only those.
 */
void
v1_missing(struct request *req)
{
	json_t *list, *missing = NULL, *v;
	uint8_t (*sha)[32];
	char why[BODY_WHY];
	size_t i;
	int rc;

	rc = body_chunks(req->r_body, req->r_bodylen, &list, &sha, why);
	if (rc != 0) {
		resp_fail(req, rc == 400 ? API_BAD_REQUEST : API_INTERNAL, why,
		    NULL);
		return;
	}
	if ((missing = json_array()) == NULL) {
		resp_fail(req, API_NOMEM, NULL, NULL);
		goto out;
	}
	json_array_foreach(list, i, v) {
		rc = store_chunk_has(req->r_srv->srv_store, sha[i]);
		if (rc == STORE_ENOTFOUND)
			json_array_append(missing, v);
		else if (rc != 0) {
			store_error(req, rc, "chunk");
			goto out;
		}
	}
	resp_json(req, 200, json_pack("{s:O}", "missing", missing));
out:
	json_decref(missing);
	json_decref(list);
	free(sha);
}

/*
 * The release this store publishes, and its signature, kept in the
 * store's settings by whoever signed it; 404 until there is one.
 */
static void
release_file(struct request *req, int sig)
{
	const char *name = sig ? "release.minisig" : "release";
	void *val;
	size_t len;
	int rc;

	rc = store_kv_get(req->r_srv->srv_store, STORE_SETTING, name,
	    strlen(name), &val, &len);
	if (rc == STORE_ENOTFOUND) {
		resp_fail(req, API_RELEASE_NOT_FOUND, NULL, NULL);
		return;
	}
	if (rc != 0) {
		store_error(req, rc, "release");
		return;
	}
	resp_text(req, 200, sig ? "text/plain; charset=utf-8" :
	    "application/json", val, len);
	free(val);
}

void
v1_release(struct request *req)
{
	release_file(req, 0);
}

void
v1_release_sig(struct request *req)
{
	release_file(req, 1);
}
