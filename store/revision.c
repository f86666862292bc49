/*
 * revision.c - from files to a signed revision: what add, the import of a
 * HF cache, the mirror and uploads share (store.h, "Revisions").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "store/internal.h"

int
store_source_claims(struct store_source *src, json_t **claims)
{
	char *buf, why[sizeof("README.md: ") + 1024];
	size_t len;
	int rc;

	*claims = NULL;
	for (size_t i = 0; i < store_source_count(src); i++) {
		if (strcmp(store_source_entry(src, i)->path, "README.md") != 0)
			continue;
		if ((rc = store_source_slurp(src, i, BOUND_CARD, &buf,
		    &len)) != 0)
			return rc;
		rc = store_card_parse(buf, len, NULL, claims);
		free(buf);
		if (rc != 0) {
			/* The detail names the card, as the reason alone
			 * would not say which file it is about. */
			snprintf(why, sizeof(why), "%s", store_lasterror());
			return store_fail(rc, "README.md: %s", why);
		}
		return 0;
	}
	return 0;
}

struct store_revision {
	struct store_ingest	*ing;
	struct store_file	*files;
	size_t			 nfiles;
	size_t			 cap;
	uint64_t		 bytes;
	uint64_t		 new_bytes;
	uint64_t		 new_chunks;
	uint64_t		 held;
	uint64_t		 resumed;
	const char		*failed;
};

static int
revision_grow(struct store_revision *r)
{
	struct store_file *files;
	size_t cap;

	if (r->nfiles < r->cap)
		return 0;
	if (r->nfiles >= BOUND_FILES)
		return store_fail(STORE_EINVAL, "more than %d files",
		    BOUND_FILES);
	cap = r->cap == 0 ? 64 : 2 * r->cap;
	if ((files = realloc(r->files, cap * sizeof(*files))) == NULL)
		return store_fail(ENOMEM, "%zu files: out of memory", cap);
	r->files = files;
	r->cap = cap;
	return 0;
}

static const uint8_t nosha1[STORE_SHA1_LEN];

/* Whether a hash of the bytes read is the one the feed said to expect. */
static int
revision_check(const char *path, const char *what, const uint8_t *want,
    const uint8_t *got, size_t len)
{
	char w[STORE_HEX_LEN + 1], g[STORE_HEX_LEN + 1];

	if (want == NULL || memcmp(want, got, len) == 0)
		return 0;
	store_hex(want, len, w);
	store_hex(got, len, g);
	return store_fail(STORE_ECORRUPT, "%s: %s %.12s, expected %.12s",
	    path, what, g, w);
}

int
store_revision_put(struct store_revision *r,
    const struct store_revision_file *in, store_read_fn rd, void *rarg)
{
	struct store_blobinfo info;
	struct store_file *f;
	int rc;

	int known = in->sha256 != NULL && in->size >= 0, held = 0;

	r->failed = in->path;
	if ((rc = revision_grow(r)) != 0)
		return rc;
	/* A blob held already needs no read, if its git sha1 is known
	 * where the file needs one. */
	if (known && in->reuse) {
		rc = store_ingest_blob_held(r->ing, in->sha256,
		    (uint64_t)in->size, &info);
		if (rc != 0 && rc != STORE_ENOTFOUND)
			return rc;
		held = rc == 0 && (in->lfs || memcmp(info.git_sha1, nosha1,
		    STORE_SHA1_LEN) != 0);
	}
	/* Only files that are not LFS need the content's git sha1. */
	if (held)
		r->held += info.size;
	else if (known && in->resume_from != NULL)
		rc = store_ingest_file_known(r->ing, in->sha256,
		    in->resume_from, rd, rarg, in->size,
		    in->lfs ? 0 : STORE_INGEST_SHA1, &info);
	else
		rc = store_ingest_file(r->ing, rd, rarg, in->size,
		    in->lfs ? 0 : STORE_INGEST_SHA1, &info);
	if (rc != 0)
		return rc;
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof(*f));
	f->size = info.size;
	memcpy(f->sha256, info.sha256, STORE_HASH_LEN);
	f->lfs = in->lfs;
	if (in->lfs)
		store_lfs_pointer_sha1(info.sha256, info.size, f->git_sha1);
	else
		memcpy(f->git_sha1, info.git_sha1, STORE_SHA1_LEN);
	if ((rc = revision_check(in->path, "sha256", in->sha256, f->sha256,
	    STORE_HASH_LEN)) != 0 || (rc = revision_check(in->path,
	    "git blob id", in->git_sha1, f->git_sha1, STORE_SHA1_LEN)) != 0)
		return rc;
	if ((f->path = strdup(in->path)) == NULL)
		return store_fail(ENOMEM, "%s: out of memory", in->path);
	r->nfiles++;
	r->bytes += info.size;
	r->new_bytes += info.new_bytes;
	r->new_chunks += info.new_chunks;
	r->resumed += info.resumed;
	r->failed = NULL;
	return 0;
}

int
store_revision_chunk(struct store_revision *r,
    const uint8_t sha[STORE_HASH_LEN], const void *data, size_t len,
    int *isnew)
{
	int rc;

	if ((rc = store_ingest_chunk(r->ing, sha, data, len, isnew)) != 0)
		return rc;
	if (*isnew)
		r->new_bytes += len;
	return 0;
}

int
store_revision_blob(struct store_revision *r,
    const struct store_revision_file *in, const struct store_chunkref *v,
    size_t n)
{
	static const uint8_t none[STORE_SHA1_LEN];
	struct store_blobinfo info;
	struct store_file *f;
	uint8_t sha1[STORE_SHA1_LEN];
	int rc;

	r->failed = in->path;
	if (in->sha256 == NULL || in->size < 0)
		return store_fail(STORE_EINVAL, "%s: a file given as chunks "
		    "needs its sha256 and size", in->path);
	if ((rc = revision_grow(r)) != 0)
		return rc;
	if ((rc = store_ingest_blob(r->ing, in->sha256, (uint64_t)in->size, v,
	    n, &info)) != 0) {
		char why[1024];

		snprintf(why, sizeof(why), "%s", store_lasterror());
		return store_fail(rc, "%s: %s", in->path, why);
	}
	if (in->lfs)
		store_lfs_pointer_sha1(in->sha256, info.size, sha1);
	else
		memcpy(sha1, info.git_sha1, STORE_SHA1_LEN);
	/* A large file that is not LFS has no git sha1 kept: its sha256,
	 * checked whole, is the check. */
	if (!in->lfs && memcmp(sha1, none, STORE_SHA1_LEN) == 0 &&
	    in->git_sha1 != NULL)
		memcpy(sha1, in->git_sha1, STORE_SHA1_LEN);
	if ((rc = revision_check(in->path, "git blob id", in->git_sha1, sha1,
	    STORE_SHA1_LEN)) != 0)
		return rc;
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof(*f));
	f->size = info.size;
	memcpy(f->sha256, in->sha256, STORE_HASH_LEN);
	memcpy(f->git_sha1, sha1, STORE_SHA1_LEN);
	f->lfs = in->lfs;
	if ((f->path = strdup(in->path)) == NULL)
		return store_fail(ENOMEM, "%s: out of memory", in->path);
	r->nfiles++;
	r->bytes += info.size;
	r->failed = NULL;
	return 0;
}

struct source_feed {
	struct store_source	*src;
	struct store_revision	*rev;
};

static int
source_feed_one(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	struct source_feed *sf = arg;
	const struct store_entry *e = store_source_entry(sf->src, idx);
	struct store_revision_file in = { 0 };

	in.path = e->path;
	in.size = (int64_t)e->size;
	/* Large and binary files are LFS files, as the Hub would have them. */
	in.lfs = store_lfs_by_name(e->path, e->size);
	return store_revision_put(sf->rev, &in, rd, rarg);
}

int
store_revision_feed_source(void *src, struct store_revision *rev)
{
	struct source_feed sf = { src, rev };

	return store_source_each(src, source_feed_one, &sf);
}

static int
json_same(json_t *a, json_t *b)
{
	return a == NULL || b == NULL ? a == b : json_equal(a, b);
}

/*
 * The stored revision that m is again, as spec->flags ask, or NULL: the
 * one ref names with the same source, files and claims; or the one m's
 * commit id names with the same files and claims (m then differs only in
 * when it was made, or by which ref it was found).  A commit id with other
 * files is left to the commit, which refuses to move it.
 */
static struct store_manifest *
revision_same(struct store *st, const struct store_revision_spec *spec,
    const struct store_manifest *m)
{
	/* A partial mirror has no commit id of its own: found by its ref. */
	int by_commit = (spec->flags & STORE_REVISION_KEEP_COMMIT) != 0 &&
	    !store_manifest_partial(m);
	const char *name = by_commit ? m->commit :
	    (spec->flags & (STORE_REVISION_KEEP | STORE_REVISION_KEEP_COMMIT)) ?
	    spec->ref : NULL;
	struct store_manifest *cur;
	uint8_t digest[STORE_HASH_LEN];

	if (name == NULL ||
	    store_resolve(st, m->type, m->repo, name, digest) != 0 ||
	    store_manifest_get(st, digest, &cur) != 0)
		return NULL;
	if ((by_commit ? strcmp(cur->commit, m->commit) == 0 :
	    json_same(cur->source, m->source)) &&
	    json_equal(json_object_get(cur->root, "files"),
	    json_object_get(m->root, "files")) &&
	    json_equal(cur->claims, m->claims))
		return cur;
	store_manifest_free(cur);
	return NULL;
}

/*
 * What a revision found again still commits.  Found by its ref: nothing.
 * Found by its commit id: it was signed when it came, so at most the ref
 * moves to it, unsigned; else what the ingest has pending.
 */
static int
revision_keep(struct store *st, const struct store_revision_spec *spec,
    struct store_revision *r, const struct store_manifest *cur)
{
	uint8_t digest[STORE_HASH_LEN];

	if (!(spec->flags & STORE_REVISION_KEEP_COMMIT))
		return 0;
	if (spec->ref == NULL || (store_resolve(st, cur->type, cur->repo,
	    spec->ref, digest) == 0 &&
	    memcmp(digest, cur->digest, STORE_HASH_LEN) == 0))
		return store_ingest_end(r->ing);
	return store_ingest_revision(r->ing, cur, spec->ref, spec->why, NULL,
	    0);
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_file *)a)->path,
	    ((const struct store_file *)b)->path);
}

/*
 * A manifest made elsewhere, to be committed as it is: the files put
 * must be its files.  *out is a copy of it, read again from its bytes.
 */
static int
revision_given(const struct store_manifest *given, struct store_revision *r,
    struct store_manifest **out)
{
	const struct store_file *a, *b;
	size_t i;

	*out = NULL;
	qsort(r->files, r->nfiles, sizeof(*r->files), file_cmp);
	for (i = 0; i < r->nfiles && i < given->nfiles; i++) {
		a = &r->files[i];
		b = &given->files[i];
		if (strcmp(a->path, b->path) != 0)
			break;
		if (a->size != b->size || a->lfs != b->lfs ||
		    memcmp(a->sha256, b->sha256, STORE_HASH_LEN) != 0 ||
		    memcmp(a->git_sha1, b->git_sha1, STORE_SHA1_LEN) != 0)
			return store_fail(STORE_EINVAL, "%s: not the file the "
			    "manifest names", a->path);
	}
	if (i < given->nfiles)
		return store_fail(STORE_EINVAL, "%s: the manifest's file was "
		    "not put", given->files[i].path);
	if (i < r->nfiles)
		return store_fail(STORE_EINVAL, "%s: not in the manifest",
		    r->files[i].path);
	return store_manifest_parse(given->bytes, given->len, out);
}

/* Builds (or takes), signs and commits the revision of the files r holds. */
static int
revision_commit(struct store *st, const struct store_revision_spec *spec,
    struct store_revision *r, struct store_revision_result *res)
{
	struct store_manifest_parts parts = spec->parts;
	struct store_manifest *m, *cur;
	struct store_sig sig = { 0 }, *sigs = NULL;
	size_t nsigs;
	int rc;

	res->step = STORE_REVISION_MANIFEST;
	parts.files = r->files;
	parts.nfiles = r->nfiles;
	if (spec->manifest != NULL)
		rc = revision_given(spec->manifest, r, &m);
	else
		rc = store_manifest_build(&parts, &m);
	if (rc != 0)
		return rc;
	if ((cur = revision_same(st, spec, m)) != NULL) {
		store_manifest_free(m);
		res->step = STORE_REVISION_COMMIT;
		if ((rc = revision_keep(st, spec, r, cur)) != 0) {
			store_manifest_free(cur);
			return rc;
		}
		res->manifest = cur;
		res->unchanged = 1;
		return 0;
	}
	res->step = STORE_REVISION_SIGN;
	if (spec->sign != NULL &&
	    (rc = spec->sign(spec->sign_arg, m, &sig)) != 0)
		goto out;
	res->step = STORE_REVISION_COMMIT;
	nsigs = spec->nsigs + (spec->sign != NULL);
	if (nsigs > 0 && (sigs = calloc(nsigs, sizeof(*sigs))) == NULL) {
		rc = store_fail(ENOMEM, "signatures: out of memory");
		goto out;
	}
	for (size_t i = 0; i < spec->nsigs; i++)
		sigs[i] = spec->sigs[i];
	if (spec->sign != NULL)
		sigs[spec->nsigs] = sig;
	if ((rc = store_ingest_revision(r->ing, m, spec->ref, spec->why, sigs,
	    nsigs)) != 0)
		goto out;
	res->manifest = m;
	m = NULL;
out:
	free(sigs);
	free((char *)sig.text);
	store_manifest_free(m);
	return rc;
}

int
store_revision_add(struct store *st, const struct store_revision_spec *spec,
    struct store_revision_result *res)
{
	struct store_revision r = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	res->step = STORE_REVISION_BEGIN;
	if ((rc = store_ingest_begin(st, &r.ing)) != 0)
		return rc;
	if (spec->progress != NULL)
		store_ingest_progress(r.ing, spec->progress,
		    spec->progress_arg);
	if (spec->kv != NULL)
		store_ingest_kv(r.ing, spec->kv, spec->kv_arg);
	res->step = STORE_REVISION_FILES;
	if ((rc = spec->feed(spec->feed_arg, &r)) != 0) {
		res->failed = r.failed;
		goto out;
	}
	res->bytes = r.bytes;
	res->new_bytes = r.new_bytes;
	res->new_chunks = r.new_chunks;
	res->held = r.held;
	res->resumed = r.resumed;
	rc = revision_commit(st, spec, &r, res);
out:
	store_ingest_free(r.ing);
	for (size_t i = 0; i < r.nfiles; i++)
		free(r.files[i].path);
	free(r.files);
	return rc;
}
