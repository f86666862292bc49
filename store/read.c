/*
 * read.c - reading manifests, blobs and chunks back, each under one short
 * read transaction, copying out before it ends.
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"

static const uint8_t nosha1[STORE_SHA1_LEN];

int
store_manifest_get(struct store *st, const uint8_t digest[STORE_HASH_LEN],
    struct store_manifest **out)
{
	char hex[STORE_DIGEST_STRLEN + 1];
	MDB_txn *txn;
	MDB_val k = { STORE_HASH_LEN, (void *)digest }, d;
	int rc;

	*out = NULL;
	store_digest_str(digest, hex);
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->manifest, &k, &d)) != 0) {
		txn_abort(txn);
		if (rc == MDB_NOTFOUND)
			return store_fail(STORE_ENOTFOUND, "manifest %s: not in "
			    "the store", hex);
		return store_mdb_fail(rc, "manifest");
	}
	rc = store_manifest_parse(d.mv_data, d.mv_size, out);
	txn_abort(txn);
	if (rc != 0)
		return store_fail(STORE_ECORRUPT, "manifest %s: %s", hex,
		    store_lasterror());
	/* A name resolves to a digest, and the digest is checked. */
	if (memcmp((*out)->digest, digest, STORE_HASH_LEN) != 0) {
		store_manifest_free(*out);
		*out = NULL;
		return store_fail(STORE_ECORRUPT, "manifest %s: sha256 mismatch",
		    hex);
	}
	return 0;
}

int
store_manifest_has(struct store *st, const uint8_t digest[STORE_HASH_LEN])
{
	return db_has(st, st->manifest, digest, STORE_HASH_LEN);
}

int
manifest_present(struct store *st, MDB_txn *txn,
    const uint8_t digest[STORE_HASH_LEN])
{
	char hex[STORE_DIGEST_STRLEN + 1];
	MDB_val k = { STORE_HASH_LEN, (void *)digest }, d;
	int rc;

	if ((rc = mdb_get(txn, st->manifest, &k, &d)) == 0)
		return 0;
	if (rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "manifest");
	store_digest_str(digest, hex);
	return store_fail(STORE_ENOTFOUND, "%s: no such manifest", hex);
}

static int
blob_rec(struct store *st, MDB_txn *txn, const uint8_t sha[STORE_HASH_LEN],
    struct blobrec *rec)
{
	MDB_val k = { STORE_HASH_LEN, (void *)sha }, d;
	char hex[STORE_HEX_LEN + 1];
	int rc;

	if ((rc = mdb_get(txn, st->blob, &k, &d)) != 0) {
		store_hex(sha, STORE_HASH_LEN, hex);
		if (rc == MDB_NOTFOUND)
			return store_fail(STORE_ENOTFOUND, "blob %s: not in the "
			    "store", hex);
		return store_mdb_fail(rc, "blob");
	}
	return blobrec_unpack(&d, rec);
}

int
store_blob_stat(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    struct store_blobinfo *info)
{
	struct blobrec rec;
	MDB_txn *txn;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = blob_rec(st, txn, sha, &rec);
	txn_abort(txn);
	if (rc != 0)
		return rc;
	memcpy(info->sha256, sha, STORE_HASH_LEN);
	info->size = rec.size;
	memcpy(info->git_sha1, rec.sha1, STORE_SHA1_LEN);
	info->nchunks = rec.nchunks;
	return 0;
}

struct blobs_each {
	store_blob_fn	 fn;
	void		*arg;
};

static int
blob_each_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct blobs_each *be = arg;
	struct store_blobinfo info;
	struct blobrec rec;

	/* A damaged record is none to find: verify reports it. */
	if (k->mv_size != STORE_HASH_LEN || blobrec_unpack(d, &rec) != 0)
		return 0;
	memset(&info, 0, sizeof(info));
	memcpy(info.sha256, k->mv_data, STORE_HASH_LEN);
	info.size = rec.size;
	memcpy(info.git_sha1, rec.sha1, STORE_SHA1_LEN);
	info.nchunks = rec.nchunks;
	return be->fn(be->arg, &info);
}

int
store_blobs_each(struct store *st, store_blob_fn fn, void *arg)
{
	struct blobs_each be = { fn, arg };

	return db_each(st, st->blob, NULL, 0, blob_each_one, &be);
}

/* Positions cur on the map entry of the chunk that holds byte off. */
static int
map_seek(MDB_cursor *cur, const uint8_t sha[STORE_HASH_LEN], uint64_t off,
    MDB_val *k, MDB_val *d)
{
	uint8_t key[MAPKEY_LEN];
	int rc;

	memcpy(key, sha, STORE_HASH_LEN);
	put_be64(key + STORE_HASH_LEN, off);
	k->mv_size = sizeof(key);
	k->mv_data = key;
	rc = mdb_cursor_get(cur, k, d, MDB_SET_RANGE);
	if (rc == 0 && memcmp(k->mv_data, sha, STORE_HASH_LEN) == 0 &&
	    get_be64((uint8_t *)k->mv_data + STORE_HASH_LEN) == off)
		return 0;
	/* The entry at or after off is past it: the chunk starts before. */
	rc = rc == MDB_NOTFOUND ? mdb_cursor_get(cur, k, d, MDB_LAST) :
	    mdb_cursor_get(cur, k, d, MDB_PREV);
	if (rc != 0)
		return rc;
	if (k->mv_size != MAPKEY_LEN || memcmp(k->mv_data, sha,
	    STORE_HASH_LEN) != 0)
		return MDB_NOTFOUND;
	return 0;
}

/* Reads n bytes of the data file at at. */
static int
data_read(struct store *st, uint64_t at, uint8_t *out, size_t n)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(st->datafd, out, n, (off_t)at)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			return store_fail(r == 0 ? STORE_ECORRUPT : errno,
			    "data file at %llu: %s", (unsigned long long)at,
			    r == 0 ? "ends early" : strerror(errno));
		out += r;
		at += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

/*
 * Copies n bytes of a stored value, from skip on, into out.  Read from
 * the data file rather than the map: the kernel reads ahead, no page is
 * faulted in one at a time, and the mapped pages a long-running reader
 * (airlockd) would otherwise accumulate are never touched.  The read
 * transaction that found the value is still open, so its pages cannot
 * be reused under the read.
 */
static int
value_read(struct store *st, const MDB_val *v, size_t skip, uint8_t *out,
    size_t n)
{
	const uint8_t *p = (const uint8_t *)v->mv_data + skip;

	if (st->datafd == -1 || p < st->map || n > st->maplen ||
	    (size_t)(p - st->map) > st->maplen - n) {
		memcpy(out, p, n);
		return 0;
	}
	return data_read(st, (uint64_t)(p - st->map), out, n);
}

/*
 * An extent's bytes.  Without the data file, blob_extents() left the
 * chunk's address in LMDB's map in at: valid while its transaction is.
 */
int
extent_read(struct store *st, const struct store_extent *e, uint8_t *out)
{
	if (st->datafd == -1) {
		memcpy(out, (const void *)(uintptr_t)e->at, e->len);
		return 0;
	}
	return data_read(st, e->at, out, e->len);
}

int
store_blob_read(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    uint64_t off, void *buf, size_t len, size_t *got)
{
	MDB_txn *txn;
	int rc;

	*got = 0;
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = txn_blob_read(st, txn, sha, off, buf, len, got);
	txn_abort(txn);
	return rc;
}

int
txn_blob_read(struct store *st, MDB_txn *txn,
    const uint8_t sha[STORE_HASH_LEN], uint64_t off, void *buf, size_t len,
    size_t *got)
{
	struct blobrec rec;
	MDB_cursor *cur = NULL;
	MDB_val k, d, ck, cd;
	uint8_t *out = buf;
	int rc;

	*got = 0;
	if ((rc = blob_rec(st, txn, sha, &rec)) != 0)
		goto done;
	if (off >= rec.size || len == 0)
		goto done;
	if ((rc = mdb_cursor_open(txn, st->blobmap, &cur)) != 0) {
		rc = store_mdb_fail(rc, "cursor");
		goto done;
	}
	if ((rc = map_seek(cur, sha, off, &k, &d)) != 0)
		goto corrupt;
	while (*got < len) {
		uint64_t start;
		uint32_t clen;
		size_t skip, n;

		if (k.mv_size != MAPKEY_LEN || d.mv_size != MAPVAL_LEN ||
		    memcmp(k.mv_data, sha, STORE_HASH_LEN) != 0)
			break;
		start = get_be64((uint8_t *)k.mv_data + STORE_HASH_LEN);
		clen = get_be32((uint8_t *)d.mv_data + STORE_HASH_LEN);
		ck.mv_size = STORE_HASH_LEN;
		ck.mv_data = d.mv_data;
		if ((rc = mdb_get(txn, st->chunk, &ck, &cd)) != 0 ||
		    cd.mv_size != clen || off < start || off - start > clen)
			goto corrupt;
		skip = (size_t)(off - start);
		n = clen - skip;
		if (n > len - *got)
			n = len - *got;
		if ((rc = value_read(st, &cd, skip, out + *got, n)) != 0)
			goto done;
		*got += n;
		off += n;
		if (*got < len && (rc = mdb_cursor_get(cur, &k, &d,
		    MDB_NEXT)) != 0)
			break;
	}
	rc = 0;
	goto done;
corrupt:
	{
		char hex[STORE_HEX_LEN + 1];

		store_hex(sha, STORE_HASH_LEN, hex);
		rc = store_fail(STORE_ECORRUPT, "blob %s: chunk at offset %llu "
		    "is missing or the wrong size", hex,
		    (unsigned long long)off);
	}
done:
	mdb_cursor_close(cur);
	return rc;
}

/*
 * Views: a read transaction kept open while what it found is sent.
 */
struct store_view {
	struct store	*st;
	MDB_txn		*txn;
	uint64_t	 generation;
};

/* Tree operations between two drops of the map in store_view_extents. */
#define VIEW_DROP_EVERY	1024

int
store_view_open(struct store *st, struct store_view **out)
{
	struct store_view *v;
	int rc;

	*out = NULL;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return ENOMEM;
	if ((rc = txn_read(st, &v->txn)) != 0) {
		free(v);
		return rc;
	}
	/* The map stays where it is while the transaction is open. */
	if (st->datafd == -1) {
		txn_abort(v->txn);
		free(v);
		return store_fail(ENOTSUP, "%s: the data file's map was not "
		    "found", st->dir);
	}
	v->st = st;
	/* A data file opened again is another file: its epoch, above any
	 * number of gcs, tells the places found in the old one apart. */
	v->generation = meta_get(st, v->txn, META_GENERATION) +
	    (st->epoch << 40);
	*out = v;
	return 0;
}

void
store_view_close(struct store_view *v)
{
	if (v == NULL)
		return;
	txn_abort(v->txn);
	free(v);
}

uint64_t
store_view_generation(const struct store_view *v)
{
	return v->generation;
}

int
store_view_fd(const struct store_view *v)
{
	return v->st->datafd;
}

struct lookup {
	uint8_t		sha[STORE_HASH_LEN];
	size_t		index;
};

static int
lookup_cmp(const void *a, const void *b)
{
	return memcmp(a, b, STORE_HASH_LEN);
}

static void
view_step(struct store *st, size_t *ops)
{
	if (++*ops % VIEW_DROP_EVERY == 0)
		(void)store_map_drop(st);
}

/*
 * The smallest value that surely has pages of its own in the data file:
 * LMDB moves a value to overflow pages whenever its node would take more
 * than a leaf can give one node, which is less than half a page (a leaf
 * holds two nodes at least, or a split could not leave one on each
 * side).  No write moves overflow pages; only deleting or replacing the
 * value frees them.  A smaller value may lie inside a leaf among other
 * nodes, and any write to that leaf copies it elsewhere and frees the
 * page, which later writes reuse.
 */
static size_t
own_pages_min(struct store *st)
{
	MDB_stat ms;

	if (mdb_env_stat(st->env, &ms) != 0 || ms.ms_psize == 0)
		return SIZE_MAX;	/* unknown: every value may move */
	return ms.ms_psize / 2;
}

/*
 * Where the value cd, found under a transaction still open, lies: an
 * offset in the data file (an address in the map without the data file,
 * see extent_read), and whether a later write may move it.
 */
static int
chunk_place(struct store *st, const MDB_val *cd, size_t own,
    struct store_extent *e)
{
	const uint8_t *p = cd->mv_data;

	e->flags = cd->mv_size >= own ? 0 : STORE_EXTENT_LEAF;
	if (st->datafd == -1) {
		e->at = (uint64_t)(uintptr_t)p;
		return 0;
	}
	if (p < st->map || cd->mv_size > st->maplen ||
	    (size_t)(p - st->map) > st->maplen - cd->mv_size)
		return ENOTSUP;
	e->at = (uint64_t)(p - st->map);
	return 0;
}

/* A blob's map walked in order: each chunk's extent and lookup. */
struct extent_walk {
	struct store		*st;
	struct store_extent	*ext;
	struct lookup		*lk;
	uint8_t			*keys;		/* or NULL */
	size_t			 n, max, ops;
	uint64_t		 next;
};

static int
extent_map_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct extent_walk *w = arg;
	uint64_t off = 0;
	size_t n = w->n;

	if (k->mv_size == MAPKEY_LEN)
		off = get_be64((uint8_t *)k->mv_data + STORE_HASH_LEN);
	if (k->mv_size != MAPKEY_LEN || d->mv_size != MAPVAL_LEN ||
	    n == w->max)
		return store_fail(STORE_ECORRUPT, "chunk %zu (offset %llu): bad "
		    "map entry", n, (unsigned long long)off);
	if (off != w->next)
		return store_fail(STORE_ECORRUPT, "chunk %zu (offset %llu): the "
		    "map has a gap or overlap (expected offset %llu)", n,
		    (unsigned long long)off, (unsigned long long)w->next);
	w->ext[n].off = w->next;
	w->ext[n].len = get_be32((uint8_t *)d->mv_data + STORE_HASH_LEN);
	memcpy(w->lk[n].sha, d->mv_data, STORE_HASH_LEN);
	if (w->keys != NULL)
		memcpy(w->keys + n * STORE_HASH_LEN, d->mv_data, STORE_HASH_LEN);
	w->lk[n].index = n;
	w->next += w->ext[n].len;
	w->n++;
	view_step(w->st, &w->ops);
	return 0;
}

/* Where each chunk lies, looked up in hash order (one visit a leaf). */
static int
extents_place(struct extent_walk *w, MDB_txn *txn)
{
	size_t own = own_pages_min(w->st);
	MDB_val ck, cd;
	int rc;

	if (w->n > 0)
		qsort(w->lk, w->n, sizeof(*w->lk), lookup_cmp);
	for (size_t i = 0; i < w->n; i++) {
		struct store_extent *e = &w->ext[w->lk[i].index];
		size_t idx = w->lk[i].index;

		ck.mv_size = STORE_HASH_LEN;
		ck.mv_data = w->lk[i].sha;
		if ((rc = mdb_get(txn, w->st->chunk, &ck, &cd)) != 0)
			return rc == MDB_NOTFOUND ? store_fail(STORE_ECORRUPT,
			    "chunk %zu (offset %llu) is missing", idx,
			    (unsigned long long)e->off) :
			    store_mdb_fail(rc, "chunk");
		if (cd.mv_size != e->len)
			return store_fail(STORE_ECORRUPT, "chunk %zu (offset "
			    "%llu) has %zu bytes, the map says %u", idx,
			    (unsigned long long)e->off, cd.mv_size, e->len);
		if ((rc = chunk_place(w->st, &cd, own, e)) != 0)
			return store_fail(rc, "chunk %zu (offset %llu) is not "
			    "in the data file's map", idx,
			    (unsigned long long)e->off);
		view_step(w->st, &w->ops);
	}
	return 0;
}

/*
 * The blob map gives each chunk's offset and hash in order; the chunks'
 * own entries are then looked up in hash order, so that each leaf of the
 * chunk tree is visited once however the chunks are spread.
 */
int
blob_extents(struct store *st, MDB_txn *txn, const uint8_t *sha,
    struct store_extent **out, uint8_t **keysp, size_t *nout)
{
	struct extent_walk w = { .st = st };
	struct blobrec rec;
	int rc;

	*out = NULL;
	*nout = 0;
	if ((rc = blob_rec(st, txn, sha, &rec)) != 0)
		return rc;
	w.max = rec.nchunks;
	if (rec.nchunks > 0 && ((w.ext = calloc(rec.nchunks,
	    sizeof(*w.ext))) == NULL || (w.lk = calloc(rec.nchunks,
	    sizeof(*w.lk))) == NULL || (keysp != NULL && (w.keys =
	    calloc(rec.nchunks, STORE_HASH_LEN)) == NULL))) {
		rc = store_fail(ENOMEM, "%u chunks: out of memory",
		    rec.nchunks);
		goto out;
	}
	if ((rc = txn_each(st, txn, st->blobmap, sha, STORE_HASH_LEN,
	    extent_map_one, &w)) != 0)
		goto out;
	if (w.n != rec.nchunks || w.next != rec.size) {
		rc = store_fail(STORE_ECORRUPT, "%llu bytes in %zu chunks, the "
		    "blob record says %llu in %u", (unsigned long long)w.next,
		    w.n, (unsigned long long)rec.size, rec.nchunks);
		goto out;
	}
	if ((rc = extents_place(&w, txn)) != 0)
		goto out;
	*out = w.ext;
	*nout = w.n;
	w.ext = NULL;
	if (keysp != NULL) {
		*keysp = w.keys;
		w.keys = NULL;
	}
out:
	(void)store_map_drop(st);
	free(w.keys);
	free(w.lk);
	free(w.ext);
	return rc;
}

/*
 * A chunk in a leaf is where this view found it only while the view
 * lives: its place is not given, so that no caller can keep it past the
 * view.  store_view_extent() finds it under the view that sends it.
 */
int
store_view_extents(struct store_view *v, const uint8_t sha[STORE_HASH_LEN],
    struct store_extent **out, size_t *nout)
{
	size_t i;
	int rc;

	if ((rc = blob_extents(v->st, v->txn, sha, out, NULL, nout)) != 0)
		return rc;
	for (i = 0; i < *nout; i++)
		if ((*out)[i].flags & STORE_EXTENT_LEAF)
			(*out)[i].at = 0;
	return 0;
}

int
store_view_extent(struct store_view *v, const uint8_t sha[STORE_HASH_LEN],
    uint64_t off, struct store_extent *e)
{
	struct store *st = v->st;
	MDB_cursor *cur;
	MDB_val k, d, ck, cd;
	uint8_t key[MAPKEY_LEN];
	char hex[STORE_HEX_LEN + 1];
	int rc;

	memset(e, 0, sizeof(*e));
	store_hex(sha, STORE_HASH_LEN, hex);
	if ((rc = mdb_cursor_open(v->txn, st->blobmap, &cur)) != 0)
		return store_mdb_fail(rc, "cursor");
	memcpy(key, sha, STORE_HASH_LEN);
	put_be64(key + STORE_HASH_LEN, off);
	k.mv_size = sizeof(key);
	k.mv_data = key;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY);
	if (rc == MDB_NOTFOUND || (rc == 0 && d.mv_size != MAPVAL_LEN)) {
		mdb_cursor_close(cur);
		return store_fail(STORE_ENOTFOUND, "blob %s: no chunk starts at "
		    "offset %llu", hex, (unsigned long long)off);
	}
	if (rc != 0) {
		mdb_cursor_close(cur);
		return store_mdb_fail(rc, "blob map");
	}
	ck.mv_size = STORE_HASH_LEN;
	ck.mv_data = d.mv_data;
	e->off = off;
	e->len = get_be32((uint8_t *)d.mv_data + STORE_HASH_LEN);
	rc = mdb_get(v->txn, st->chunk, &ck, &cd);
	mdb_cursor_close(cur);
	if (rc == MDB_NOTFOUND || (rc == 0 && cd.mv_size != e->len))
		return store_fail(STORE_ECORRUPT, "blob %s: the chunk at offset "
		    "%llu is missing or the wrong size", hex,
		    (unsigned long long)off);
	if (rc != 0)
		return store_mdb_fail(rc, "chunk");
	if ((rc = chunk_place(st, &cd, own_pages_min(st), e)) != 0)
		return store_fail(rc, "blob %s: the chunk at offset %llu is "
		    "not in the data file's map", hex, (unsigned long long)off);
	return 0;
}

/*
 * cachestat(2), Linux 6.5: how many of a range's pages the page cache
 * holds, in one walk of the cache instead of a lookup per page.  The C
 * library has no wrapper yet; the number is one for every architecture.
 */
#ifndef __NR_cachestat
#define __NR_cachestat	451
#endif
struct cache_range {
	uint64_t	off, len;
};
struct cache_stat {
	uint64_t	nr_cache, nr_dirty, nr_writeback, nr_evicted,
			nr_recently_evicted;
};

/* 1 if every page of at+len is in the page cache, 0 if not or unknown. */
static int
all_cached(int fd, uint64_t at, uint64_t len, uint64_t page)
{
	static int absent;	/* the kernel has no cachestat */
	struct cache_range r = { at, len };
	struct cache_stat cs;

	if (__atomic_load_n(&absent, __ATOMIC_RELAXED))
		return 0;
	if (syscall(__NR_cachestat, (unsigned)fd, &r, &cs, 0U) == -1) {
		if (errno == ENOSYS)
			__atomic_store_n(&absent, 1, __ATOMIC_RELAXED);
		return 0;
	}
	return cs.nr_cache >= (at + len - 1) / page - at / page + 1;
}

int
store_view_prefetch(struct store_view *v, uint64_t at, uint64_t len)
{
	struct store *st = v->st;
	unsigned char vec[256];
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), lo, hi, p;
	size_t i, n;
	char c;

	if (len == 0 || at > st->maplen || len > st->maplen - at)
		return store_fail(STORE_EINVAL, "data file range %llu+%llu",
		    (unsigned long long)at, (unsigned long long)len);
	/* The common case, a warm file: nothing to ask for, nothing to
	 * wait for. */
	if (all_cached(st->datafd, at, len, page))
		return 0;
	(void)posix_fadvise(st->datafd, (off_t)at, (off_t)len,
	    POSIX_FADV_WILLNEED);
	lo = at & ~(page - 1);
	hi = at + len;
	/* The map tells what the page cache holds without mapping it. */
	for (p = lo; p < hi; p += n * page) {
		n = (size_t)((hi - p + page - 1) / page);
		if (n > sizeof(vec))
			n = sizeof(vec);
		if (mincore(st->map + p, n * page, vec) == -1)
			return 0;	/* no answer: the sender may wait */
		for (i = 0; i < n; i++) {
			if (vec[i] & 1)
				continue;
			/* Not there: read one byte, which waits for it. */
			if (pread(st->datafd, &c, 1, (off_t)(p + i * page)) ==
			    -1 && errno != EINTR)
				return store_fail(errno, "data file at %llu: %s",
				    (unsigned long long)(p + i * page),
				    strerror(errno));
		}
	}
	return 0;
}

static int
chunk_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;

	if (k->mv_size != MAPKEY_LEN || d->mv_size != MAPVAL_LEN)
		return store_fail(STORE_ECORRUPT, "bad blob map entry");
	return e->fn.chunk(e->arg,
	    get_be64((uint8_t *)k->mv_data + STORE_HASH_LEN), d->mv_data,
	    get_be32((uint8_t *)d->mv_data + STORE_HASH_LEN));
}

int
store_blob_chunks(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    store_chunk_fn fn, void *arg)
{
	struct each e = { .fn.chunk = fn, .arg = arg };

	return db_each(st, st->blobmap, sha, STORE_HASH_LEN, chunk_one, &e);
}

/* The blob's chunks hashed in order, read in the walk's transaction. */
struct sha1_walk {
	struct store	*st;
	MDB_txn		*txn;
	struct hash	*h;
};

static int
sha1_chunk(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct sha1_walk *w = arg;
	MDB_val ck, cd;

	if (k->mv_size != MAPKEY_LEN || d->mv_size != MAPVAL_LEN)
		return store_fail(STORE_ECORRUPT, "bad blob map entry");
	ck.mv_size = STORE_HASH_LEN;
	ck.mv_data = d->mv_data;
	if (mdb_get(w->txn, w->st->chunk, &ck, &cd) != 0)
		return store_fail(STORE_ECORRUPT, "a chunk is missing");
	hash_update(w->h, cd.mv_data, cd.mv_size);
	return 0;
}

int
store_blob_sha1(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    uint8_t out[STORE_SHA1_LEN])
{
	struct sha1_walk w = { st, NULL, NULL };
	struct blobrec rec;
	int rc;

	if ((rc = txn_read(st, &w.txn)) != 0)
		return rc;
	if ((rc = blob_rec(st, w.txn, sha, &rec)) != 0)
		goto out;
	if (memcmp(rec.sha1, nosha1, sizeof(nosha1)) != 0) {
		memcpy(out, rec.sha1, STORE_SHA1_LEN);
		goto out;
	}
	if ((w.h = hash_new_sha1()) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	git_blob_header(w.h, rec.size);
	if ((rc = txn_each(st, w.txn, st->blobmap, sha, STORE_HASH_LEN,
	    sha1_chunk, &w)) == 0)
		hash_final(w.h, out);
	hash_free(w.h);
out:
	txn_abort(w.txn);
	return rc;
}

int
store_chunk_has(struct store *st, const uint8_t sha[STORE_HASH_LEN])
{
	return db_has(st, st->chunk, sha, STORE_HASH_LEN);
}

int
store_chunk_get(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    void *buf, size_t bufsize, size_t *len)
{
	MDB_txn *txn;
	MDB_val k = { STORE_HASH_LEN, (void *)sha }, d;
	int rc;

	*len = 0;
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->chunk, &k, &d)) == 0) {
		if (d.mv_size > bufsize)
			rc = ENOBUFS;
		else {
			memcpy(buf, d.mv_data, d.mv_size);
			*len = d.mv_size;
		}
	} else if (rc == MDB_NOTFOUND)
		rc = STORE_ENOTFOUND;
	txn_abort(txn);
	return rc;
}

int
store_chunks_each(struct store *st, store_chunkid_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->chunk, &cur)) != 0) {
		txn_abort(txn);
		return store_mdb_fail(rc, "cursor");
	}
	/* Keys only: with no data pointer LMDB leaves the chunks' own
	 * pages untouched, so this reads the tree and not the content. */
	for (rc = mdb_cursor_get(cur, &k, NULL, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, NULL, MDB_NEXT))
		if (k.mv_size == STORE_HASH_LEN && (rc = fn(arg, k.mv_data)) != 0)
			break;
	if (rc == MDB_NOTFOUND)
		rc = 0;
	mdb_cursor_close(cur);
	txn_abort(txn);
	return rc;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Copies chunks out a batch at a time under a short read transaction, then
 * writes with no transaction open, so a slow reader of the output never
 * pins the store's pages.
 */
int
store_blob_write(struct store *st, const uint8_t sha[STORE_HASH_LEN], int fd,
    store_progress_fn progress, void *parg)
{
	enum { BUFSZ = 8 << 20 };
	struct store_blobinfo info;
	uint8_t *buf, got[STORE_HASH_LEN], key[MAPKEY_LEN];
	char hex[STORE_HEX_LEN + 1];
	uint64_t off = 0, n = 0;
	int rc;

	if ((rc = store_blob_stat(st, sha, &info)) != 0)
		return rc;
	if ((buf = malloc(BUFSZ)) == NULL)
		return ENOMEM;
	store_hex(sha, STORE_HASH_LEN, hex);
	memcpy(key, sha, STORE_HASH_LEN);
	while (off < info.size) {
		MDB_txn *txn;
		MDB_cursor *cur;
		MDB_val k, d, ck, cd;
		size_t used = 0;

		if ((rc = txn_read(st, &txn)) != 0)
			break;
		if ((rc = mdb_cursor_open(txn, st->blobmap, &cur)) != 0) {
			txn_abort(txn);
			rc = store_mdb_fail(rc, "cursor");
			break;
		}
		put_be64(key + STORE_HASH_LEN, off);
		k.mv_size = MAPKEY_LEN;
		k.mv_data = key;
		for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_KEY); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
			uint32_t clen;

			if (k.mv_size != MAPKEY_LEN || d.mv_size != MAPVAL_LEN ||
			    memcmp(k.mv_data, sha, STORE_HASH_LEN) != 0 ||
			    get_be64((uint8_t *)k.mv_data + STORE_HASH_LEN) != off)
				break;
			clen = get_be32((uint8_t *)d.mv_data + STORE_HASH_LEN);
			if (used + clen > BUFSZ)
				break;
			ck.mv_size = STORE_HASH_LEN;
			ck.mv_data = d.mv_data;
			if (mdb_get(txn, st->chunk, &ck, &cd) != 0 ||
			    cd.mv_size != clen) {
				rc = STORE_ECORRUPT;
				break;
			}
			store_sha256(cd.mv_data, clen, got);
			if (memcmp(got, d.mv_data, STORE_HASH_LEN) != 0) {
				rc = STORE_ECORRUPT;
				break;
			}
			memcpy(buf + used, cd.mv_data, clen);
			used += clen;
			off += clen;
			n++;
		}
		mdb_cursor_close(cur);
		txn_abort(txn);
		map_release(st, NULL, 0);
		if (rc == STORE_ECORRUPT || (used == 0 && off < info.size)) {
			rc = store_fail(STORE_ECORRUPT, "blob %s: chunk %llu "
			    "(offset %llu) is missing or does not match its "
			    "hash", hex, (unsigned long long)n,
			    (unsigned long long)off);
			break;
		}
		if ((rc = write_all(fd, buf, used)) != 0) {
			rc = store_fail(rc, "write: %s", strerror(rc));
			break;
		}
		rc = 0;
		if (progress != NULL)
			progress(parg, off);
	}
	free(buf);
	return rc;
}
