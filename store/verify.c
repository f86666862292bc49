/*
 * verify.c - rehashing a blob: every chunk against its key, and the whole
 * against the blob's sha256 (and, when asked, its recorded git sha1).
 *
 * The chunks are read once, with pread into a ring of slots, and both
 * hashes are taken from there: reading through LMDB's map instead costs a
 * page fault per few pages, and each of two readers would pay them.  The
 * whole-file hash must see the chunks in order, so one thread (the
 * "whole" thread) takes it; the chunk hashes can be taken in any order,
 * by whichever thread is free.  The calling thread reads, and hashes
 * chunks while the ring is full; the whole thread hashes chunks while it
 * waits for the next in order.  So the two cores share the three passes
 * (one read, two hashes) between them.
 *
 * The read transaction is renewed every few hundred chunks so that a long
 * verify does not pin old pages, and the tree pages it touched are
 * unmapped then.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RENEW_EVERY	128
#define RING		8	/* slots of STORE_CHUNK_MAX bytes */

struct slot {
	uint8_t		*data;
	uint32_t	 len;
	uint64_t	 off;		/* in the blob */
	uint64_t	 index;		/* chunk number */
	uint8_t		 key[STORE_HASH_LEN];
	int		 full;		/* read, not yet released */
	int		 claimed;	/* its chunk hash is taken or done */
	int		 hashed;	/* chunk hash done */
	int		 wholed;	/* whole-file hash done */
};

struct ring {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	struct slot	 slot[RING];
	uint64_t	 nread;		/* chunks read into slots */
	uint64_t	 nwhole;	/* chunks through the whole hash */
	int		 eof;		/* the reader is done */
	int		 stop;		/* an error: everyone stops */

	/* The first bad chunk, by number. */
	uint64_t	 bad_index;
	uint64_t	 bad_off;
	int		 bad;

	/* The whole thread's. */
	struct hash	*h256;
	struct hash	*h1;
	uint8_t		 got256[STORE_HASH_LEN];
	uint8_t		 got1[STORE_SHA1_LEN];
};

/* Frees a slot once both of its hashes are done.  mtx held. */
static void
release(struct ring *r, struct slot *s)
{
	if (s->hashed && s->wholed) {
		s->full = 0;
		pthread_cond_broadcast(&r->cond);
	}
}

/*
 * Takes one read slot whose chunk hash nobody has taken, hashes it and
 * returns 1; 0 if there was none.  mtx held on entry and on return.
 */
static int
hash_one(struct ring *r, struct hash *h)
{
	struct slot *s = NULL;
	uint8_t got[STORE_HASH_LEN];
	int i;

	for (i = 0; i < RING; i++)
		if (r->slot[i].full && !r->slot[i].claimed &&
		    (s == NULL || r->slot[i].index < s->index))
			s = &r->slot[i];
	if (s == NULL)
		return 0;
	s->claimed = 1;
	pthread_mutex_unlock(&r->mtx);
	hash_update(h, s->data, s->len);
	hash_final(h, got);
	pthread_mutex_lock(&r->mtx);
	if (memcmp(got, s->key, STORE_HASH_LEN) != 0 &&
	    (!r->bad || s->index < r->bad_index)) {
		r->bad = 1;
		r->bad_index = s->index;
		r->bad_off = s->off;
		r->stop = 1;
		pthread_cond_broadcast(&r->cond);
	}
	s->hashed = 1;
	release(r, s);
	return 1;
}

struct whole {
	struct ring	*r;
	struct hash	*h;		/* for chunk hashes */
	int		 sha1;
};

static void *
whole_main(void *arg)
{
	struct whole *w = arg;
	struct ring *r = w->r;
	struct slot *s;

	pthread_mutex_lock(&r->mtx);
	for (;;) {
		if (r->stop)
			break;
		s = &r->slot[r->nwhole % RING];
		if (r->nwhole < r->nread && s->full && !s->wholed &&
		    s->index == r->nwhole) {
			pthread_mutex_unlock(&r->mtx);
			hash_update(r->h256, s->data, s->len);
			if (w->sha1)
				hash_update(r->h1, s->data, s->len);
			pthread_mutex_lock(&r->mtx);
			s->wholed = 1;
			r->nwhole++;
			release(r, s);
			continue;
		}
		if (r->eof && r->nwhole == r->nread)
			break;
		if (hash_one(r, w->h))
			continue;
		pthread_cond_wait(&r->cond, &r->mtx);
	}
	pthread_mutex_unlock(&r->mtx);
	return NULL;
}

static void
ring_stop(struct ring *r)
{
	pthread_mutex_lock(&r->mtx);
	r->stop = 1;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mtx);
}

/*
 * The calling thread: walks the blob's map and reads each chunk into the
 * next slot, hashing chunks while the ring is full.  Returns MDB_NOTFOUND
 * when every chunk was read, or an error.
 */
static int
read_all(struct store *st, const uint8_t *sha, struct ring *r,
    struct hash *h, uint64_t *bytes, store_progress_fn progress, void *parg)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k, d, ck, cd;
	uint8_t key[MAPKEY_LEN];
	uint64_t n = 0, expect = 0;
	int rc, stop, op = MDB_SET_RANGE;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, st->blobmap, &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_mdb_fail(rc, "cursor");
	}
	memcpy(key, sha, STORE_HASH_LEN);
	put_be64(key + STORE_HASH_LEN, 0);
	for (;;) {
		struct slot *s = &r->slot[n % RING];
		uint32_t clen;
		uint64_t off;

		if (n != 0 && n % RENEW_EVERY == 0) {
			/* What was read through the map need not stay. */
			map_release(st, NULL, 0);
			mdb_txn_reset(txn);
			if ((rc = mdb_txn_renew(txn)) != 0 ||
			    (rc = mdb_cursor_renew(txn, cur)) != 0) {
				rc = store_mdb_fail(rc, "read transaction");
				break;
			}
			/* Past the last key seen: just after it. */
			put_be64(key + STORE_HASH_LEN,
			    get_be64(key + STORE_HASH_LEN) + 1);
			op = MDB_SET_RANGE;
		}
		if (op == MDB_SET_RANGE) {
			k.mv_size = MAPKEY_LEN;
			k.mv_data = key;
		}
		if ((rc = mdb_cursor_get(cur, &k, &d, op)) != 0)
			break;
		op = MDB_NEXT;
		if (k.mv_size != MAPKEY_LEN || memcmp(k.mv_data, sha,
		    STORE_HASH_LEN) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
		memcpy(key, k.mv_data, MAPKEY_LEN);
		off = get_be64(key + STORE_HASH_LEN);
		if (d.mv_size != MAPVAL_LEN) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu: bad map "
			    "entry", (unsigned long long)n);
			break;
		}
		clen = get_be32((uint8_t *)d.mv_data + STORE_HASH_LEN);
		if (off != expect) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu):"
			    " the map has a gap or overlap (expected offset %llu)",
			    (unsigned long long)n, (unsigned long long)off,
			    (unsigned long long)expect);
			break;
		}
		ck.mv_size = STORE_HASH_LEN;
		ck.mv_data = d.mv_data;
		if ((rc = mdb_get(txn, st->chunk, &ck, &cd)) == MDB_NOTFOUND) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu)"
			    " is missing", (unsigned long long)n,
			    (unsigned long long)off);
			break;
		}
		if (rc != 0) {
			rc = store_mdb_fail(rc, "chunk");
			break;
		}
		if (cd.mv_size != clen || clen > STORE_CHUNK_MAX) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu)"
			    " has %zu bytes, the map says %u",
			    (unsigned long long)n, (unsigned long long)off,
			    cd.mv_size, clen);
			break;
		}

		/* A free slot: hash chunks meanwhile, or wait. */
		pthread_mutex_lock(&r->mtx);
		while (s->full && !r->stop)
			if (!hash_one(r, h))
				pthread_cond_wait(&r->cond, &r->mtx);
		stop = r->stop;
		pthread_mutex_unlock(&r->mtx);
		if (stop) {
			rc = STORE_ECORRUPT;
			break;
		}
		if ((rc = value_read(st, &cd, 0, s->data, clen)) != 0)
			break;
		s->len = clen;
		s->off = off;
		s->index = n;
		memcpy(s->key, d.mv_data, STORE_HASH_LEN);
		s->claimed = s->hashed = s->wholed = 0;
		pthread_mutex_lock(&r->mtx);
		s->full = 1;
		r->nread = ++n;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->mtx);
		expect += clen;
		if (progress != NULL)
			progress(parg, expect);
	}
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	*bytes = expect;
	return rc;
}

static const uint8_t nosha1[STORE_SHA1_LEN];

int
store_verify_blob(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    int flags, store_progress_fn progress, void *parg)
{
	struct store_blobinfo info;
	struct ring r;
	struct whole w = { .r = &r };
	struct hash *h = NULL;
	pthread_t tid;
	uint64_t bytes = 0;
	int rc, i, started = 0;

	if ((rc = store_blob_stat(st, sha, &info)) != 0)
		return rc;
	memset(&r, 0, sizeof(r));
	w.sha1 = (flags & STORE_VERIFY_SHA1) &&
	    memcmp(info.git_sha1, nosha1, sizeof(nosha1)) != 0;
	pthread_mutex_init(&r.mtx, NULL);
	pthread_cond_init(&r.cond, NULL);
	rc = ENOMEM;
	if ((h = hash_new_sha256()) == NULL || (w.h = hash_new_sha256()) ==
	    NULL || (r.h256 = hash_new_sha256()) == NULL ||
	    (r.h1 = hash_new_sha1()) == NULL)
		goto out;
	for (i = 0; i < RING; i++)
		if ((r.slot[i].data = malloc(STORE_CHUNK_MAX)) == NULL)
			goto out;
	if (w.sha1)
		git_blob_header(r.h1, info.size);
	if ((rc = pthread_create(&tid, NULL, whole_main, &w)) != 0) {
		rc = store_fail(rc, "cannot start a thread: %s", strerror(rc));
		goto out;
	}
	started = 1;
	rc = read_all(st, sha, &r, h, &bytes, progress, parg);
	if (rc != MDB_NOTFOUND) {
		ring_stop(&r);
	} else {
		/* Every chunk is read: finish their hashes alongside. */
		pthread_mutex_lock(&r.mtx);
		r.eof = 1;
		pthread_cond_broadcast(&r.cond);
		while (hash_one(&r, h))
			;
		pthread_mutex_unlock(&r.mtx);
		rc = 0;
	}
	pthread_join(tid, NULL);
	started = 0;
	if (r.bad) {
		rc = store_fail(STORE_ECORRUPT, "sha256 mismatch at chunk %llu "
		    "(offset %llu)", (unsigned long long)r.bad_index,
		    (unsigned long long)r.bad_off);
		goto out;
	}
	if (rc != 0)
		goto out;
	if (bytes != info.size || r.nread != info.nchunks) {
		rc = store_fail(STORE_ECORRUPT, "%llu bytes in %llu chunks, "
		    "the blob record says %llu in %u", (unsigned long long)bytes,
		    (unsigned long long)r.nread, (unsigned long long)info.size,
		    info.nchunks);
		goto out;
	}
	hash_final(r.h256, r.got256);
	hash_final(r.h1, r.got1);
	if (memcmp(r.got256, sha, STORE_HASH_LEN) != 0)
		rc = store_fail(STORE_ECORRUPT, "sha256 of the whole file "
		    "does not match (its chunk map is wrong)");
	else if (w.sha1 && memcmp(r.got1, info.git_sha1, STORE_SHA1_LEN) != 0)
		rc = store_fail(STORE_ECORRUPT, "git sha1 does not match");
out:
	if (started) {
		ring_stop(&r);
		pthread_join(tid, NULL);
	}
	for (i = 0; i < RING; i++)
		free(r.slot[i].data);
	hash_free(h);
	hash_free(w.h);
	hash_free(r.h256);
	hash_free(r.h1);
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.mtx);
	return rc;
}
