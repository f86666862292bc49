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
 * Where the chunks lie is found first, in one pass over the tree that
 * visits each leaf once (blob_extents), rather than a lookup per chunk as
 * it is read.  The read transaction is held for the one blob.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

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
 * The calling thread: finds where every chunk lies, then reads each into
 * the next slot, hashing chunks while the ring is full.  One read
 * transaction covers the blob, so that what it found stays where it is.
 */
static int
read_all(struct store *st, const uint8_t *sha, struct ring *r,
    struct hash *h, store_progress_fn progress, void *parg)
{
	struct store_extent *ext;
	MDB_txn *txn;
	uint8_t *keys;
	size_t i, n;
	int rc = 0, stop;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = blob_extents(st, txn, sha, &ext, &keys, &n)) != 0) {
		txn_abort(txn);
		return rc;
	}
	for (i = 0; i < n; i++) {
		struct slot *s = &r->slot[i % RING];

		if (ext[i].len > STORE_CHUNK_MAX) {
			rc = store_fail(STORE_ECORRUPT, "chunk %zu (offset %llu)"
			    " has %u bytes, more than a chunk may", i,
			    (unsigned long long)ext[i].off, ext[i].len);
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
		if ((rc = extent_read(st, &ext[i], s->data)) != 0)
			break;
		s->len = ext[i].len;
		s->off = ext[i].off;
		s->index = i;
		memcpy(s->key, keys + i * STORE_HASH_LEN, STORE_HASH_LEN);
		s->claimed = s->hashed = s->wholed = 0;
		pthread_mutex_lock(&r->mtx);
		s->full = 1;
		r->nread = i + 1;
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->mtx);
		if (progress != NULL)
			progress(parg, ext[i].off + ext[i].len);
	}
	txn_abort(txn);
	free(ext);
	free(keys);
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
	if ((rc = read_all(st, sha, &r, h, progress, parg)) != 0) {
		ring_stop(&r);
	} else {
		/* Every chunk is read: finish their hashes alongside. */
		pthread_mutex_lock(&r.mtx);
		r.eof = 1;
		pthread_cond_broadcast(&r.cond);
		while (hash_one(&r, h))
			;
		pthread_mutex_unlock(&r.mtx);
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
