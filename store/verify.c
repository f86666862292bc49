/*
 * verify.c - rehashing a blob: every chunk against its key, and the whole
 * against the blob's sha256 (and, when asked, its recorded git sha1).
 *
 * The two hashes are independent, so they run on two threads, each with
 * its own read transaction over the same chunks: verify costs one
 * SHA-256 pass of wall time, not two.  Transactions are renewed every few
 * hundred chunks so that a long verify does not pin old pages.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define RENEW_EVERY	128

struct mapiter {
	struct store	*st;
	const uint8_t	*sha;
	MDB_txn		*txn;
	MDB_cursor	*cur;
	uint8_t		 key[MAPKEY_LEN];
	uint64_t	 n;
};

static int
iter_open(struct mapiter *it, struct store *st, const uint8_t *sha)
{
	int rc;

	memset(it, 0, sizeof(*it));
	it->st = st;
	it->sha = sha;
	memcpy(it->key, sha, STORE_HASH_LEN);
	if ((rc = txn_read(st, &it->txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(it->txn, st->blobmap, &it->cur)) != 0) {
		mdb_txn_abort(it->txn);
		return store_mdb_fail(rc, "cursor");
	}
	return 0;
}

static void
iter_close(struct mapiter *it)
{
	mdb_cursor_close(it->cur);
	mdb_txn_abort(it->txn);
}

/*
 * The next chunk of the blob: its offset, key and length from the map, and
 * its bytes in *data (mv_data NULL when the chunk is missing).  Returns
 * MDB_NOTFOUND after the last.
 */
static int
iter_next(struct mapiter *it, uint64_t *off, const uint8_t **csha,
    uint32_t *clen, MDB_val *data)
{
	MDB_val k, d, ck;
	int rc, op = it->n == 0 ? MDB_SET_RANGE : MDB_NEXT;

	if (it->n != 0 && it->n % RENEW_EVERY == 0) {
		/* What was read through the map need not stay in our RSS. */
		map_release(it->st, NULL, 0);
		mdb_txn_reset(it->txn);
		if ((rc = mdb_txn_renew(it->txn)) != 0 ||
		    (rc = mdb_cursor_renew(it->txn, it->cur)) != 0)
			return store_mdb_fail(rc, "read transaction");
		/* Past the last key seen: just after it. */
		put_be64(it->key + STORE_HASH_LEN,
		    get_be64(it->key + STORE_HASH_LEN) + 1);
		op = MDB_SET_RANGE;
	}
	if (op == MDB_SET_RANGE) {
		k.mv_size = MAPKEY_LEN;
		k.mv_data = it->key;
	}
	if ((rc = mdb_cursor_get(it->cur, &k, &d, op)) != 0)
		return rc;
	if (k.mv_size != MAPKEY_LEN || memcmp(k.mv_data, it->sha,
	    STORE_HASH_LEN) != 0)
		return MDB_NOTFOUND;
	if (d.mv_size != MAPVAL_LEN)
		return store_fail(STORE_ECORRUPT, "chunk %llu: bad map entry",
		    (unsigned long long)it->n);
	memcpy(it->key, k.mv_data, MAPKEY_LEN);
	*off = get_be64(it->key + STORE_HASH_LEN);
	*csha = d.mv_data;
	*clen = get_be32((uint8_t *)d.mv_data + STORE_HASH_LEN);
	ck.mv_size = STORE_HASH_LEN;
	ck.mv_data = d.mv_data;
	if ((rc = mdb_get(it->txn, it->st->chunk, &ck, data)) == MDB_NOTFOUND) {
		data->mv_data = NULL;
		data->mv_size = 0;
	} else if (rc != 0)
		return store_mdb_fail(rc, "chunk");
	it->n++;
	return 0;
}

struct whole {
	struct store	*st;
	const uint8_t	*sha;
	uint64_t	 size;
	int		 sha1;
	uint8_t		 got256[STORE_HASH_LEN];
	uint8_t		 got1[STORE_SHA1_LEN];
	int		 rc;
};

static void *
whole_main(void *arg)
{
	struct whole *w = arg;
	struct mapiter it;
	struct hash *h256 = hash_new_sha256(), *h1 = hash_new_sha1();
	const uint8_t *csha;
	uint64_t off;
	uint32_t clen;
	MDB_val data;
	int rc;

	if (h256 == NULL || h1 == NULL) {
		w->rc = ENOMEM;
		goto out;
	}
	if ((w->rc = iter_open(&it, w->st, w->sha)) != 0)
		goto out;
	if (w->sha1)
		git_blob_header(h1, w->size);
	while ((rc = iter_next(&it, &off, &csha, &clen, &data)) == 0) {
		hash_update(h256, data.mv_data != NULL ? data.mv_data : "", data.mv_size);
		if (w->sha1)
			hash_update(h1, data.mv_data != NULL ? data.mv_data : "",
			    data.mv_size);
	}
	iter_close(&it);
	if (rc != MDB_NOTFOUND) {
		w->rc = rc;
		goto out;
	}
	hash_final(h256, w->got256);
	hash_final(h1, w->got1);
out:
	hash_free(h256);
	hash_free(h1);
	return NULL;
}

static const uint8_t nosha1[STORE_SHA1_LEN];

int
store_verify_blob(struct store *st, const uint8_t sha[STORE_HASH_LEN],
    int flags, store_progress_fn progress, void *parg)
{
	struct store_blobinfo info;
	struct whole w = { 0 };
	struct mapiter it;
	struct hash *h;
	pthread_t tid;
	const uint8_t *csha;
	uint8_t got[STORE_HASH_LEN];
	uint64_t off, expect = 0, n = 0;
	uint32_t clen;
	MDB_val data;
	int rc, started = 0;

	if ((rc = store_blob_stat(st, sha, &info)) != 0)
		return rc;
	w.st = st;
	w.sha = sha;
	w.size = info.size;
	w.sha1 = (flags & STORE_VERIFY_SHA1) &&
	    memcmp(info.git_sha1, nosha1, sizeof(nosha1)) != 0;
	if ((h = hash_new_sha256()) == NULL)
		return ENOMEM;
	if ((rc = iter_open(&it, st, sha)) != 0) {
		hash_free(h);
		return rc;
	}
	if (pthread_create(&tid, NULL, whole_main, &w) == 0)
		started = 1;
	else
		whole_main(&w);
	while ((rc = iter_next(&it, &off, &csha, &clen, &data)) == 0) {
		if (off != expect) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu):"
			    " the map has a gap or overlap (expected offset %llu)",
			    (unsigned long long)n, (unsigned long long)off,
			    (unsigned long long)expect);
			break;
		}
		if (data.mv_data == NULL) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu)"
			    " is missing", (unsigned long long)n,
			    (unsigned long long)off);
			break;
		}
		if (data.mv_size != clen) {
			rc = store_fail(STORE_ECORRUPT, "chunk %llu (offset %llu)"
			    " has %zu bytes, the map says %u",
			    (unsigned long long)n, (unsigned long long)off,
			    data.mv_size, clen);
			break;
		}
		hash_update(h, data.mv_data, data.mv_size);
		hash_final(h, got);
		if (memcmp(got, csha, STORE_HASH_LEN) != 0) {
			rc = store_fail(STORE_ECORRUPT, "sha256 mismatch at chunk "
			    "%llu (offset %llu)", (unsigned long long)n,
			    (unsigned long long)off);
			break;
		}
		expect += clen;
		n++;
		if (progress != NULL)
			progress(parg, expect);
	}
	iter_close(&it);
	hash_free(h);
	if (started)
		pthread_join(tid, NULL);
	if (rc != MDB_NOTFOUND)
		return rc;
	if (w.rc != 0)
		return w.rc;
	if (expect != info.size || n != info.nchunks)
		return store_fail(STORE_ECORRUPT, "%llu bytes in %llu chunks, "
		    "the blob record says %llu in %u", (unsigned long long)expect,
		    (unsigned long long)n, (unsigned long long)info.size,
		    info.nchunks);
	if (memcmp(w.got256, sha, STORE_HASH_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "sha256 of the whole file "
		    "does not match (its chunk map is wrong)");
	if (w.sha1 && memcmp(w.got1, info.git_sha1, STORE_SHA1_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "git sha1 does not match");
	return 0;
}
