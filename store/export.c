/*
 * export.c - writing a bundle: the plan (which chunks, manifests and
 * signatures go, leaving out what the receiver's inventory holds), then
 * the pax tar itself with libarchive, cut into volumes of at most --split
 * bytes.  The layout is in bundle.c.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/bounds.h"
#include "store/internal.h"

struct store_export {
	struct xchunk	*chunks;	/* carried, in the order files need them */
	size_t		 nchunks, cap;
	json_t		*manifests;	/* [{hex, bytes}] */
	json_t		*sigs;		/* [{name, text}] */
	uint64_t	 chunk_bytes;
	uint64_t	 omitted;
	uint64_t	 split;
	size_t		 nrevs;
	char		*index;
	size_t		 index_len;
	uint64_t	 written;
	uint64_t	 volumes;
};

struct plan {
	struct store_export		*x;
	const struct store_inventory	*have;
	struct hashset			 carried, omitted;
	json_t				*chunklist;	/* of the blob at hand */
};

static int
plan_chunk(void *arg, uint64_t off, const uint8_t sha[STORE_HASH_LEN],
    uint32_t len)
{
	struct plan *p = arg;
	struct store_export *x = p->x;
	char hex[STORE_HEX_LEN + 1];
	int isnew, rc;

	(void)off;
	store_hex(sha, STORE_HASH_LEN, hex);
	if (json_array_append_new(p->chunklist, json_pack("[s,I]", hex,
	    (json_int_t)len)) != 0)
		return ENOMEM;
	if (inventory_has(p->have, sha))
		return hs_add(&p->omitted, sha, &isnew);
	if ((rc = hs_add(&p->carried, sha, &isnew)) != 0 || !isnew)
		return rc;
	if (x->nchunks == x->cap) {
		size_t cap = x->cap != 0 ? x->cap * 2 : 1024;
		void *v = realloc(x->chunks, cap * sizeof(*x->chunks));

		if (v == NULL)
			return ENOMEM;
		x->chunks = v;
		x->cap = cap;
	}
	memcpy(x->chunks[x->nchunks].sha, sha, STORE_HASH_LEN);
	x->chunks[x->nchunks++].len = len;
	x->chunk_bytes += len;
	return 0;
}

struct sigs {
	const char	*mhex;
	json_t		*list;		/* the index's entries */
	json_t		*files;		/* the bundle's signature files */
};

static int
plan_sig(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	struct sigs *s = arg;
	char kid[17], name[128], sha[STORE_HEX_LEN + 1];
	uint8_t d[STORE_HASH_LEN];

	store_hex(keyid, 8, kid);
	store_sha256(text, len, d);
	store_hex(d, STORE_HASH_LEN, sha);
	snprintf(name, sizeof(name), "signatures/%s.%s.minisig", s->mhex, kid);
	if (json_array_append_new(s->list, json_pack("{s:s,s:s,s:I}", "keyid",
	    kid, "sha256", sha, "size", (json_int_t)len)) != 0 ||
	    json_array_append_new(s->files, json_pack("{s:s,s:s%}", "name",
	    name, "text", text, len)) != 0)
		return ENOMEM;
	return 0;
}

static int
sorted_hex(struct hashset *h, json_t **out)
{
	uint8_t (*v)[STORE_HASH_LEN];
	char hex[STORE_HEX_LEN + 1];
	size_t n = 0;

	if ((*out = json_array()) == NULL ||
	    (v = malloc((h->n + 1) * STORE_HASH_LEN)) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < h->cap; i++)
		if (h->used[i])
			memcpy(v[n++], h->slot[i], STORE_HASH_LEN);
	qsort(v, n, STORE_HASH_LEN, hash_cmp);
	for (size_t i = 0; i < n; i++) {
		store_hex(v[i], STORE_HASH_LEN, hex);
		json_array_append_new(*out, json_string(hex));
	}
	free(v);
	return 0;
}

/* A blob the plan has not met: its entry in blobs, and its chunks. */
static int
plan_blob(struct store *st, struct plan *p, const uint8_t sha[STORE_HASH_LEN],
    json_t *jblobs)
{
	struct store_blobinfo info;
	char hex[STORE_HEX_LEN + 1];
	int rc;

	if ((rc = store_blob_stat(st, sha, &info)) != 0)
		return rc;
	p->chunklist = json_array();
	store_hex(sha, STORE_HASH_LEN, hex);
	if ((rc = store_blob_chunks(st, sha, plan_chunk, p)) != 0) {
		json_decref(p->chunklist);
		return rc;
	}
	if (json_array_append_new(jblobs, json_pack("{s:s,s:I,s:o}", "sha256",
	    hex, "size", (json_int_t)info.size, "chunks", p->chunklist)) != 0)
		return ENOMEM;
	return 0;
}

/* One revision: its manifest and signatures, its entry in revisions, and
 * the blobs of its files the plan has not met yet. */
static int
plan_rev(struct store *st, struct plan *p, struct hashset *blobs,
    const struct store_bundle_rev *rev, json_t *jrevs, json_t *jblobs)
{
	struct store_export *x = p->x;
	struct store_manifest *m;
	char hex[STORE_HEX_LEN + 1];
	struct sigs sg;
	int rc, isnew;

	if ((rc = store_manifest_get(st, rev->digest, &m)) != 0)
		return rc;
	store_hex(m->digest, STORE_HASH_LEN, hex);
	sg.mhex = hex;
	sg.list = json_array();
	sg.files = x->sigs;
	/* The revision's entry takes sg.list, even when it fails; until then
	 * it is ours to free. */
	if ((rc = store_sigs(st, m->digest, plan_sig, &sg)) != 0 ||
	    json_array_append_new(x->manifests, json_pack("{s:s,s:s%}",
	    "hex", hex, "bytes", m->bytes, m->len)) != 0) {
		json_decref(sg.list);
		if (rc == 0)
			rc = ENOMEM;
	} else if (json_array_append_new(jrevs, json_pack("{s:s,s:s,s:s,"
	    "s:s,s:s,s:I,s:o}", "type", m->type, "repo", m->repo, "ref",
	    rev->ref, "commit", m->commit, "manifest", hex, "size",
	    (json_int_t)m->len, "signatures", sg.list)) != 0)
		rc = ENOMEM;
	for (size_t f = 0; f < m->nfiles && rc == 0; f++)
		if ((rc = hs_add(blobs, m->files[f].sha256, &isnew)) == 0 &&
		    isnew)
			rc = plan_blob(st, p, m->files[f].sha256, jblobs);
	store_manifest_free(m);
	return rc;
}

int
store_export_plan(struct store *st, const struct store_bundle_rev *revs,
    size_t nrevs, const char *release, size_t release_len,
    const struct store_inventory *have, uint64_t split,
    struct store_export **out, const char **index, size_t *index_len)
{
	struct store_export *x;
	struct plan p = { .have = have };
	struct hashset blobs = { 0 };
	json_t *jrevs = NULL, *jblobs = NULL, *jchunks = NULL, *jomit = NULL;
	json_t *root = NULL;
	char hex[STORE_HEX_LEN + 1];
	int rc = 0;

	*out = NULL;
	if (split != 0 && split < SPLIT_MIN)
		return store_fail(STORE_EINVAL, "volumes must hold at least "
		    "%u bytes", SPLIT_MIN);
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return ENOMEM;
	x->split = split;
	x->nrevs = nrevs;
	p.x = x;
	x->manifests = json_array();
	x->sigs = json_array();
	jrevs = json_array();
	jblobs = json_array();
	for (size_t i = 0; i < nrevs && rc == 0; i++)
		rc = plan_rev(st, &p, &blobs, &revs[i], jrevs, jblobs);
	if (rc != 0)
		goto fail;
	if ((jchunks = json_array()) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < x->nchunks; i++) {
		store_hex(x->chunks[i].sha, STORE_HASH_LEN, hex);
		json_array_append_new(jchunks, json_pack("[s,I]", hex,
		    (json_int_t)x->chunks[i].len));
	}
	if ((rc = sorted_hex(&p.omitted, &jomit)) != 0)
		goto fail;
	x->omitted = p.omitted.n;
	root = json_pack("{s:s,s:s,s:s%,s:o,s:o,s:o,s:o,s:I}", "schema",
	    BUNDLE_SCHEMA, "store", st->id, "release", release, release_len,
	    "revisions", jrevs, "blobs", jblobs, "chunks", jchunks, "omitted",
	    jomit, "split", (json_int_t)split);
	jrevs = jblobs = jchunks = jomit = NULL;
	if (root == NULL || (x->index = json_dumps(root, DUMP_FLAGS)) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	x->index_len = strlen(x->index);
	json_decref(root);
	hs_free(&blobs);
	hs_free(&p.carried);
	hs_free(&p.omitted);
	*out = x;
	*index = x->index;
	*index_len = x->index_len;
	return 0;
fail:
	json_decref(root);
	json_decref(jrevs);
	json_decref(jblobs);
	json_decref(jchunks);
	json_decref(jomit);
	hs_free(&blobs);
	hs_free(&p.carried);
	hs_free(&p.omitted);
	store_export_free(x);
	return rc;
}

void
store_export_free(struct store_export *x)
{
	if (x == NULL)
		return;
	free(x->chunks);
	json_decref(x->manifests);
	json_decref(x->sigs);
	free(x->index);
	free(x);
}

void
store_export_stats(const struct store_export *x, struct store_bundle_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->revisions = x->nrevs;
	s->chunks = x->nchunks;
	s->chunk_bytes = x->chunk_bytes;
	s->omitted = x->omitted;
	s->volumes = x->volumes;
	s->bytes = x->written;
}

/*
 * The writer side of the volumes: libarchive's output, cut into files of
 * `split` bytes, each written under a temporary name and renamed when the
 * whole bundle is done.  libarchive writes unblocked, so a chunk's data
 * reaches vout_write as the pointer into LMDB's map it was given; those
 * bytes go from the data file to the volume by copy_file_range(2), in the
 * kernel, and only where the file systems refuse that by write(2).
 * Writeback is started every VOUT_FLUSH bytes, so that the disk writes
 * while the bundle is still being made and the last fsync has little
 * left to do.
 */
#define VOUT_FLUSH	(8u << 20)

struct vout {
	const char	*base;
	int		 multi;
	uint64_t	 split;
	int		 idx;		/* volumes begun */
	int		 fd;
	uint64_t	 in_volume;
	uint64_t	 total;
	int		 err;
	uint64_t	 flushed;	/* of the volume, handed to writeback */
	const uint8_t	*map;		/* the data file's map, or NULL */
	size_t		 maplen;
	int		 mapfd;
};

/* Moves n bytes at p, which lie in the data file's map, by the kernel:
 * what it moved, 0 if it cannot here (then never again), -1 on error. */
static ssize_t
vout_copy(struct vout *v, const uint8_t *p, size_t n)
{
	loff_t off = p - v->map;
	ssize_t w;

	w = copy_file_range(v->mapfd, &off, v->fd, NULL, n, 0);
	if (w > 0 || (w == -1 && errno == EINTR))
		return w;
	if (w == 0 || errno == EXDEV || errno == EOPNOTSUPP ||
	    errno == ENOSYS || errno == EINVAL || errno == EBADF) {
		v->map = NULL;
		return 0;
	}
	return -1;
}

static int
vout_open(struct vout *v)
{
	char name[PATH_MAX], tmp[PATH_MAX + 8];

	volume_name(name, sizeof(name), v->base, v->multi, ++v->idx);
	snprintf(tmp, sizeof(tmp), "%s.part", name);
	if ((v->fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return v->err = errno;
	v->in_volume = 0;
	v->flushed = 0;
	return 0;
}

static int
vout_close(struct vout *v)
{
	int rc = 0;

	if (v->fd == -1)
		return 0;
	if (fsync(v->fd) == -1)
		rc = errno;
	if (close(v->fd) == -1 && rc == 0)
		rc = errno;
	v->fd = -1;
	return rc != 0 ? (v->err = rc) : 0;
}

static la_ssize_t
vout_write(struct archive *a, void *arg, const void *buf, size_t len)
{
	struct vout *v = arg;
	const uint8_t *p = buf;
	size_t left = len;

	while (left > 0) {
		size_t n = left;
		ssize_t w;

		if (v->fd == -1 && vout_open(v) != 0)
			break;
		if (v->multi && n > v->split - v->in_volume)
			n = (size_t)(v->split - v->in_volume);
		w = 0;
		if (v->map != NULL && p >= v->map && p < v->map + v->maplen &&
		    n <= (size_t)(v->map + v->maplen - p))
			w = vout_copy(v, p, n);
		if (w == 0)
			w = write(v->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			v->err = errno;
			break;
		}
		p += w;
		left -= (size_t)w;
		v->in_volume += (uint64_t)w;
		v->total += (uint64_t)w;
		if (v->in_volume - v->flushed >= VOUT_FLUSH) {
			(void)sync_file_range(v->fd, (off_t)v->flushed,
			    (off_t)(v->in_volume - v->flushed),
			    SYNC_FILE_RANGE_WRITE);
			v->flushed = v->in_volume;
		}
		if (v->multi && v->in_volume == v->split && vout_close(v) != 0)
			break;
	}
	if (v->err != 0) {
		archive_set_error(a, v->err, "%s", strerror(v->err));
		return -1;
	}
	return (la_ssize_t)len;
}

static void
vout_cleanup(struct vout *v, int keep)
{
	char name[PATH_MAX], tmp[PATH_MAX + 8];

	for (int i = 1; i <= v->idx; i++) {
		volume_name(name, sizeof(name), v->base, v->multi, i);
		snprintf(tmp, sizeof(tmp), "%s.part", name);
		if (!keep || rename(tmp, name) == -1)
			(void)unlink(tmp);
	}
}

static int
put_entry(struct archive *a, const char *name, const void *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	int rc = 0;

	if (e == NULL)
		return ENOMEM;
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (len > 0 && archive_write_data(a, data, len) != (la_ssize_t)len))
		rc = store_fail(archive_errno(a) > 0 ? archive_errno(a) : EIO,
		    "%s: %s", name, archive_error_string(a));
	archive_entry_free(e);
	return rc;
}

/* Chunks written under one read transaction, whose pages stay put. */
#define EXPORT_BATCH	128

/*
 * Writes chunks [from, from + EXPORT_BATCH) straight from LMDB's map,
 * under one read transaction that keeps their pages where they are.
 */
static int
put_chunks(struct store *st, struct archive *a, const struct store_export *x,
    size_t from, store_progress_fn progress, void *parg,
    const struct vout *v)
{
	char name[128], hex[STORE_HEX_LEN + 1];
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	for (size_t i = from; i < x->nchunks && i < from + EXPORT_BATCH;
	    i++) {
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)x->chunks[i].sha;
		store_hex(x->chunks[i].sha, STORE_HASH_LEN, hex);
		if ((rc = mdb_get(txn, st->chunk, &k, &d)) != 0 ||
		    d.mv_size != x->chunks[i].len) {
			rc = store_fail(STORE_ECORRUPT, "chunk %s: missing from "
			    "the store or the wrong size", hex);
			break;
		}
		snprintf(name, sizeof(name), "chunks/%s", hex);
		if ((rc = put_entry(a, name, d.mv_data, d.mv_size)) != 0)
			break;
		if (progress != NULL)
			progress(parg, v->total);
	}
	txn_abort(txn);
	return rc;
}

int
store_export_write(struct store *st, struct store_export *x, const char *sig,
    size_t siglen, const char *path, store_progress_fn progress, void *parg)
{
	struct vout v = { .base = path, .multi = x->split != 0,
	    .split = x->split, .fd = -1, .map = st->map, .maplen = st->maplen,
	    .mapfd = st->datafd };
	struct archive *a;
	char name[128];
	size_t i;
	json_t *e;
	int rc = 0;

	if ((a = archive_write_new()) == NULL)
		return ENOMEM;
	archive_write_set_format_pax_restricted(a);
	/* Unblocked: each piece goes to vout_write as it was given. */
	archive_write_set_bytes_per_block(a, 0);
	if (archive_write_open2(a, &v, NULL, vout_write, NULL, NULL) !=
	    ARCHIVE_OK) {
		rc = store_fail(EIO, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	if ((rc = put_entry(a, INDEX_NAME, x->index, x->index_len)) != 0 ||
	    (rc = put_entry(a, SIG_NAME, sig, siglen)) != 0)
		goto out;
	json_array_foreach(x->manifests, i, e) {
		snprintf(name, sizeof(name), "manifests/%s",
		    json_string_value(json_object_get(e, "hex")));
		if ((rc = put_entry(a, name, json_string_value(json_object_get(e,
		    "bytes")), json_string_length(json_object_get(e,
		    "bytes")))) != 0)
			goto out;
	}
	json_array_foreach(x->sigs, i, e)
		if ((rc = put_entry(a, json_string_value(json_object_get(e,
		    "name")), json_string_value(json_object_get(e, "text")),
		    json_string_length(json_object_get(e, "text")))) != 0)
			goto out;
	for (i = 0; i < x->nchunks && rc == 0; i += EXPORT_BATCH) {
		rc = put_chunks(st, a, x, i, progress, parg, &v);
		map_release(st, NULL, 0);
	}
	if (rc != 0)
		goto out;
	if (archive_write_close(a) != ARCHIVE_OK)
		rc = store_fail(v.err != 0 ? v.err : EIO, "%s: %s", path,
		    archive_error_string(a));
	else if ((rc = vout_close(&v)) != 0)
		rc = store_fail(rc, "%s: %s", path, strerror(rc));
out:
	archive_write_free(a);
	if (v.fd != -1)
		(void)close(v.fd);
	vout_cleanup(&v, rc == 0);
	x->written = v.total;
	x->volumes = (uint64_t)v.idx;
	return rc;
}

