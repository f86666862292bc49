/*
 * ingest.c - writing files into the store at the speed of the disk.
 *
 * Three threads work on a file at once, each segment passing through them
 * in order:
 *
 *   chunker  reads the file into a segment, finds the cut points and
 *            hashes each chunk (the hasher takes some of those when it
 *            would otherwise wait: the file's hash costs it less than the
 *            reading, cutting and chunk hashes cost the chunker);
 *   writer   (the caller's thread, which owns the LMDB write transaction)
 *            reserves room for each new chunk in LMDB (MDB_RESERVE) and
 *            commits every STORE_BATCH new bytes;
 *   hasher   hashes the file as a whole (sha256, and git's sha1 when asked)
 *            and copies the new chunks into the room the writer reserved.
 *
 * The writer's commits are the kernel writing pages (as cp's are), so
 * everything else is kept off its thread, the copy included: LMDB does not
 * care which thread fills a reserved value, only that it is filled before
 * the commit, so the writer waits for the hasher to catch up before each
 * one.  Reserved overflow pages do not move before the commit: LMDB would
 * only spill dirty pages if a transaction dirtied far more than a batch.
 *
 * Segments carry the bytes: a fixed pool, so memory does not grow with the
 * file.  A segment holds whole chunks only; the bytes after its last cut
 * are copied to the front of the next one.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "lib/crash.h"
#include "store/internal.h"

#define SEG_DATA	(8u << 20)
#define SEG_CAP		(SEG_DATA + STORE_CHUNK_MAX)
#define SEG_CHUNKS	(SEG_CAP / STORE_CHUNK_MIN + 2)
#define SEG_COUNT	4
#define RELEASE_SEGS	2

/*
 * A file that may be resumed commits its batches (and so its partial
 * record) every PARTIAL_BATCH new bytes: what a kill costs it is what it
 * had not committed, and the pipeline holds some 40 MiB more.  On a 2 GiB
 * pull killed at half, 64 MiB batches refetched 0.526 and 0.558 of the
 * file (bench/mirror.sh); halving them halves the commits' share.
 */
#define PARTIAL_BATCH	(32u << 20)

/* A partial record's keys: sha256 ‖ size (be64) ‖ index (be32). */
#define PARTIAL_ID	(STORE_HASH_LEN + 8)
#define PARTIAL_KEY	(PARTIAL_ID + 4)
#define PARTIAL_VAL	(STORE_HASH_LEN + 4)

struct segchunk {
	uint32_t	off;
	uint32_t	len;
	uint8_t		sha[STORE_HASH_LEN];
	uint8_t		*dest;		/* reserved in LMDB, or NULL: stored */
};

struct seg {
	uint8_t		*buf;
	size_t		 len;		/* bytes of whole chunks */
	size_t		 nchunks;
	struct segchunk	 chunks[SEG_CHUNKS];
	size_t		 claimed;	/* chunks whose hashing has begun */
	size_t		 hashed;	/* and ended */
	int		 last;		/* the file's final segment */
	struct ingest_work	*job;		/* the file it belongs to */
	struct seg	*next;
};

struct queue {
	struct seg	*head, *tail;
};

/* The file being read: set by the writer, read by the workers. */
struct ingest_work {
	store_read_fn	 read;
	void		*arg;
	int64_t		 size;		/* what read gives: after a prefix */
	int64_t		 whole;		/* the file's, for git's header */
	int		 sha1;
	/* Results, each written by one worker before it publishes the
	 * file's last segment. */
	uint64_t	 total;
	int		 err;		/* chunker: errno or STORE_EINVAL */
	int		 read_failed;	/* err is the read's own */
	char		 errmsg[256];
	uint8_t		 sha256[STORE_HASH_LEN];
	uint8_t		 git_sha1[STORE_SHA1_LEN];
	int		 hashed;	/* hasher finished the file */
	int		 hash_err;
};

struct chunklist {
	struct store_chunkref	*v;
	size_t			 n, cap;
};

struct store_ingest {
	struct store	*st;
	MDB_txn		*txn;
	uint64_t	 batch;		/* new chunk bytes in txn */
	uint64_t	 chunks_new, bytes_new;	/* for the meta counters */
	int		 broken;	/* txn failed: abort, start afresh */

	pthread_t	 chunker, hasher;
	int		 threads;
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	int		 cancel;	/* writer failed: chunker stops reading */
	struct ingest_work	*job;		/* chunker's next file, or NULL */
	struct queue	 freeq, writeq, hashq;
	struct seg	*cutting;	/* its chunks are being hashed */
	int		 copying;	/* segments given to the hasher */
	int		 since_release;	/* segments since map_release() */
	struct seg	 segs[SEG_COUNT];

	struct chunklist list;		/* the current file's chunks */
	/* The current file's partial record (store_ingest_file_known):
	 * list entries from pdone on are not in it yet. */
	int		 partial;
	uint8_t		 pkey[PARTIAL_ID];
	size_t		 pdone;
	store_progress_fn progress;
	void		*progress_arg;
	uint64_t	 done;		/* bytes, for progress */
	store_kvtxn_fn	 kv;		/* runs in each revision's commit */
	void		*kv_arg;
};

static void
q_push(struct queue *q, struct seg *s)
{
	s->next = NULL;
	if (q->tail != NULL)
		q->tail->next = s;
	else
		q->head = s;
	q->tail = s;
}

static struct seg *
q_pop(struct queue *q)
{
	struct seg *s = q->head;

	if (s != NULL && (q->head = s->next) == NULL)
		q->tail = NULL;
	return s;
}

/* Waits, under ing->mu, for a segment on q; NULL when told to stop. */
static struct seg *
q_wait(struct store_ingest *ing, struct queue *q)
{
	struct seg *s;

	while ((s = q_pop(q)) == NULL && !ing->stop)
		pthread_cond_wait(&ing->cv, &ing->mu);
	return s;
}

/* Moves s to q and wakes whoever waits on it. */
static void
q_give(struct store_ingest *ing, struct queue *q, struct seg *s)
{
	pthread_mutex_lock(&ing->mu);
	q_push(q, s);
	pthread_cond_broadcast(&ing->cv);
	pthread_mutex_unlock(&ing->mu);
}

/*
 * Fills s after its first `have` bytes.  Returns the bytes now in it, and
 * sets *eof when the source has ended.
 */
static size_t
fill(struct ingest_work *job, struct seg *s, size_t have, int *eof)
{
	while (have < SEG_CAP) {
		ssize_t n = job->read(job->arg, s->buf + have, SEG_CAP - have);

		if (n < 0) {
			job->err = errno != 0 ? errno : EIO;
			job->read_failed = 1;
			snprintf(job->errmsg, sizeof(job->errmsg), "read: %s",
			    strerror(job->err));
			*eof = 1;
			return have;
		}
		if (n == 0) {
			*eof = 1;
			return have;
		}
		have += (size_t)n;
		job->total += (uint64_t)n;
		if (job->size >= 0 && job->total > (uint64_t)job->size) {
			job->err = STORE_EINVAL;
			snprintf(job->errmsg, sizeof(job->errmsg), "grew while "
			    "being read (more than %lld bytes)",
			    (long long)job->size);
			*eof = 1;
			return have;
		}
	}
	return have;
}

/* Cuts the whole chunks in s[0, have); returns where they end. */
static size_t
cut(struct seg *s, size_t have, int eof)
{
	size_t pos = 0;

	s->nchunks = s->claimed = s->hashed = 0;
	while (pos < have && (eof || have - pos >= STORE_CHUNK_MAX)) {
		struct segchunk *c = &s->chunks[s->nchunks++];
		size_t n = chunk_cut(s->buf + pos, have - pos);

		c->off = (uint32_t)pos;
		c->len = (uint32_t)n;
		pos += n;
	}
	return pos;
}

/* Hashes the next chunk of s nobody took; 0 if none was left.  mu held. */
static int
hash_next(struct store_ingest *ing, struct hash *h, struct seg *s)
{
	struct segchunk *c;

	if (s == NULL || h == NULL || s->claimed == s->nchunks)
		return 0;
	c = &s->chunks[s->claimed++];
	pthread_mutex_unlock(&ing->mu);
	hash_update(h, s->buf + c->off, c->len);
	hash_final(h, c->sha);
	pthread_mutex_lock(&ing->mu);
	if (++s->hashed == s->nchunks)
		pthread_cond_broadcast(&ing->cv);
	return 1;
}

/* The chunker hashes s's chunks, and the hasher may help. */
static void
hash_chunks(struct store_ingest *ing, struct hash *h, struct seg *s)
{
	pthread_mutex_lock(&ing->mu);
	ing->cutting = s;
	pthread_cond_broadcast(&ing->cv);
	while (hash_next(ing, h, s))
		;
	while (s->hashed < s->nchunks)
		pthread_cond_wait(&ing->cv, &ing->mu);
	ing->cutting = NULL;
	pthread_mutex_unlock(&ing->mu);
}

static void *
chunker_main(void *arg)
{
	struct store_ingest *ing = arg;
	struct hash *h = hash_new_sha256();
	struct seg *s, *next;
	struct ingest_work *job;

	pthread_mutex_lock(&ing->mu);
	for (;;) {
		while ((job = ing->job) == NULL && !ing->stop)
			pthread_cond_wait(&ing->cv, &ing->mu);
		if (job == NULL)
			break;
		ing->job = NULL;
		if ((s = q_wait(ing, &ing->freeq)) == NULL)
			break;
		pthread_mutex_unlock(&ing->mu);

		size_t have = 0, end;
		int eof = 0;
		for (;;) {
			pthread_mutex_lock(&ing->mu);
			if (ing->cancel)
				eof = 1;
			pthread_mutex_unlock(&ing->mu);
			if (!eof)
				have = fill(job, s, have, &eof);
			if (job->err != 0 || h == NULL) {
				if (h == NULL)
					job->err = ENOMEM;
				have = 0;
			}
			s->len = end = cut(s, have, eof);
			hash_chunks(ing, h, s);
			if (eof) {
				s->last = 1;
				break;
			}
			s->last = 0;
			pthread_mutex_lock(&ing->mu);
			next = q_wait(ing, &ing->freeq);
			pthread_mutex_unlock(&ing->mu);
			if (next == NULL)
				break;
			memcpy(next->buf, s->buf + end, have - end);
			have -= end;
			s->job = job;
			q_give(ing, &ing->writeq, s);
			s = next;
		}
		if (job->err == 0 && job->size >= 0 &&
		    job->total != (uint64_t)job->size) {
			job->err = STORE_EINVAL;
			snprintf(job->errmsg, sizeof(job->errmsg), "shrank while "
			    "being read (%llu of %lld bytes)",
			    (unsigned long long)job->total, (long long)job->size);
		}
		s->job = job;
		q_give(ing, &ing->writeq, s);
		pthread_mutex_lock(&ing->mu);
	}
	pthread_mutex_unlock(&ing->mu);
	hash_free(h);
	return NULL;
}

static void *
hasher_main(void *arg)
{
	struct store_ingest *ing = arg;
	struct hash *h256 = hash_new_sha256(), *h1 = hash_new_sha1();
	struct hash *hc = hash_new_sha256();
	struct seg *s;
	int infile = 0, sha1 = 0;

	for (;;) {
		/* Nothing of its own to do: a chunk of the chunker's. */
		pthread_mutex_lock(&ing->mu);
		while ((s = q_pop(&ing->hashq)) == NULL && !ing->stop)
			if (!hash_next(ing, hc, ing->cutting))
				pthread_cond_wait(&ing->cv, &ing->mu);
		pthread_mutex_unlock(&ing->mu);
		if (s == NULL)
			break;
		struct ingest_work *job = s->job;
		if (!infile) {
			infile = 1;
			/* git's header needs the size before the bytes. */
			sha1 = job->sha1 && job->whole >= 0;
			if (sha1 && h1 != NULL)
				git_blob_header(h1, (uint64_t)job->whole);
		}
		for (size_t i = 0; i < s->nchunks; i++)
			if (s->chunks[i].dest != NULL)
				memcpy(s->chunks[i].dest, s->buf +
				    s->chunks[i].off, s->chunks[i].len);
		if (h256 != NULL)
			hash_update(h256, s->buf, s->len);
		if (sha1 && h1 != NULL)
			hash_update(h1, s->buf, s->len);
		if (s->last) {
			infile = 0;
			pthread_mutex_lock(&ing->mu);
			if (h256 == NULL || h1 == NULL)
				job->hash_err = ENOMEM;
			else {
				hash_final(h256, job->sha256);
				if (sha1)
					hash_final(h1, job->git_sha1);
			}
			job->hashed = 1;
			pthread_mutex_unlock(&ing->mu);
		}
		pthread_mutex_lock(&ing->mu);
		ing->copying--;
		q_push(&ing->freeq, s);
		pthread_cond_broadcast(&ing->cv);
		pthread_mutex_unlock(&ing->mu);
	}
	hash_free(h256);
	hash_free(h1);
	hash_free(hc);
	return NULL;
}

/* Reserves room for a chunk the store lacks: *dest, or NULL if it has it. */
static int
chunk_reserve(struct store *st, MDB_txn *txn, const uint8_t sha[STORE_HASH_LEN],
    size_t len, uint8_t **dest)
{
	MDB_val k = { STORE_HASH_LEN, (void *)sha }, v = { len, NULL };
	int rc;

	*dest = NULL;
	rc = mdb_put(txn, st->chunk, &k, &v, MDB_RESERVE | MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 0;
	if (rc != 0)
		return store_mdb_fail(rc, "chunk");
	*dest = v.mv_data;
	return 0;
}

int
chunk_put(struct store *st, MDB_txn *txn, const uint8_t sha[STORE_HASH_LEN],
    const void *data, size_t len, int *isnew)
{
	uint8_t *dest;
	int rc;

	if ((rc = chunk_reserve(st, txn, sha, len, &dest)) != 0)
		return rc;
	if (dest != NULL)
		memcpy(dest, data, len);
	*isnew = dest != NULL;
	return 0;
}

/* Waits until the hasher has filled every chunk reserved so far. */
static void
copies_done(struct store_ingest *ing)
{
	pthread_mutex_lock(&ing->mu);
	while (ing->copying > 0)
		pthread_cond_wait(&ing->cv, &ing->mu);
	pthread_mutex_unlock(&ing->mu);
}

/* Makes a failure stick: the write transaction is gone with it. */
static int
ing_fail(struct store_ingest *ing, int rc)
{
	/* Not under the hasher's feet: it may be filling reserved pages. */
	copies_done(ing);
	if (ing->txn != NULL) {
		txn_abort(ing->txn);
		ing->txn = NULL;
	}
	ing->broken = rc;
	return rc;
}

static int
ing_txn(struct store_ingest *ing)
{
	int rc;

	if (ing->broken != 0)
		return store_fail(ing->broken, "an earlier write failed: %s",
		    store_strerror(ing->broken));
	if (ing->txn != NULL)
		return 0;
	if ((rc = txn_write(ing->st, &ing->txn)) != 0)
		return ing_fail(ing, rc);
	return 0;
}

/*
 * Records the current file's chunks listed since the last commit, in the
 * transaction that commits them, so a partial record names only chunks
 * the store has.
 */
static int
partial_flush(struct store_ingest *ing)
{
	uint8_t key[PARTIAL_KEY], val[PARTIAL_VAL];
	MDB_val k = { sizeof(key), key }, v = { sizeof(val), val };
	int rc;

	if (!ing->partial || ing->txn == NULL)
		return 0;
	memcpy(key, ing->pkey, PARTIAL_ID);
	for (; ing->pdone < ing->list.n; ing->pdone++) {
		const struct store_chunkref *c = &ing->list.v[ing->pdone];

		put_be32(key + PARTIAL_ID, (uint32_t)ing->pdone);
		memcpy(val, c->sha256, STORE_HASH_LEN);
		put_be32(val + STORE_HASH_LEN, c->len);
		if ((rc = mdb_put(ing->txn, ing->st->kv[STORE_PARTIAL], &k, &v,
		    0)) != 0)
			return store_mdb_fail(rc, "partial file");
	}
	return 0;
}

/* Drops the partial record of id in txn. */
static int
partial_drop(struct store *st, MDB_txn *txn, const uint8_t id[PARTIAL_ID])
{
	uint8_t key[PARTIAL_KEY];
	MDB_cursor *cur;
	MDB_val k = { sizeof(key), key }, v;
	int rc;

	memcpy(key, id, PARTIAL_ID);
	put_be32(key + PARTIAL_ID, 0);
	if ((rc = mdb_cursor_open(txn, st->kv[STORE_PARTIAL], &cur)) != 0)
		return store_mdb_fail(rc, "partial file");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != PARTIAL_KEY || memcmp(k.mv_data, id,
		    PARTIAL_ID) != 0)
			break;
		if ((rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "partial file");
	return 0;
}

/*
 * Commits the pending batch.  A batch of chunks needs only to be consistent
 * (MDB_NOMETASYNC: its pages are synced, its meta page may lag); a revision
 * must be durable when we say it is there.
 */
static int
ing_commit(struct store_ingest *ing, int durable)
{
	MDB_env *env = ing->st->env;
	int rc;

	if (ing->txn == NULL)
		return ing->broken;
	/* Every reserved chunk must be filled before its pages are written. */
	copies_done(ing);
	if ((rc = partial_flush(ing)) != 0)
		return ing_fail(ing, rc);
	if (ing->chunks_new != 0) {
		if ((rc = meta_add(ing->st, ing->txn, "chunks",
		    (int64_t)ing->chunks_new)) != 0 ||
		    (rc = meta_add(ing->st, ing->txn, "chunk_bytes",
		    (int64_t)ing->bytes_new)) != 0)
			return ing_fail(ing, store_mdb_fail(rc, "counters"));
		ing->chunks_new = ing->bytes_new = 0;
	}
	if (!durable)
		CRASH_POINT("batch-commit");
	mdb_env_set_flags(env, MDB_NOMETASYNC, !durable);
	rc = txn_commit(ing->txn);
	mdb_env_set_flags(env, MDB_NOMETASYNC, 0);
	ing->txn = NULL;
	ing->batch = 0;
	/* The writer's B-tree reads fault whole folios of freshly written
	 * chunks into the map: let them go with the batch. */
	map_release(ing->st, NULL, 0);
	if (rc != 0)
		return ing_fail(ing, store_mdb_fail(rc, "commit"));
	return 0;
}

/* Puts one chunk and commits when the batch is full. */
static int
ing_chunk(struct store_ingest *ing, const uint8_t sha[STORE_HASH_LEN],
    const void *data, size_t len, int *isnew)
{
	int rc;

	if ((rc = ing_txn(ing)) != 0)
		return rc;
	if ((rc = chunk_put(ing->st, ing->txn, sha, data, len, isnew)) != 0)
		return ing_fail(ing, rc);
	if (*isnew) {
		ing->chunks_new++;
		ing->bytes_new += len;
		if ((ing->batch += len) >= STORE_BATCH)
			return ing_commit(ing, 0);
	}
	return 0;
}

/*
 * Room for a chunk whose bytes the caller puts there and checks itself
 * (bundle.c): *dest, or NULL when the store has the chunk.  Nothing is
 * committed here: once every chunk given room is filled and checked, the
 * caller commits with ing_flush() when ing_due() says the batch is full.
 */
int
ing_reserve(struct store_ingest *ing, const uint8_t sha[STORE_HASH_LEN],
    size_t len, uint8_t **dest)
{
	int rc;

	*dest = NULL;
	if (len > STORE_CHUNK_MAX)
		return store_fail(STORE_EINVAL, "a chunk of %zu bytes, more than "
		    "the largest chunk (%d)", len, STORE_CHUNK_MAX);
	if ((rc = ing_txn(ing)) != 0)
		return rc;
	/*
	 * Not ing_fail(): the caller may be checking the room given so far
	 * on another thread, and an abort frees it.  The failure sticks; the
	 * transaction is aborted by store_ingest_free(), after the caller's
	 * checks end.
	 */
	if ((rc = chunk_reserve(ing->st, ing->txn, sha, len, dest)) != 0) {
		ing->broken = rc;
		return rc;
	}
	if (*dest != NULL) {
		ing->chunks_new++;
		ing->bytes_new += len;
		ing->batch += len;
	}
	return 0;
}

int
ing_due(const struct store_ingest *ing)
{
	return ing->batch >= STORE_BATCH;
}

int
ing_flush(struct store_ingest *ing)
{
	return ing_commit(ing, 0);
}

static int
list_add(struct chunklist *l, const uint8_t sha[STORE_HASH_LEN], uint32_t len)
{
	if (l->n == l->cap) {
		size_t cap = l->cap != 0 ? l->cap * 2 : 256;
		void *v = realloc(l->v, cap * sizeof(*l->v));

		if (v == NULL)
			return ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	memcpy(l->v[l->n].sha256, sha, STORE_HASH_LEN);
	l->v[l->n++].len = len;
	return 0;
}

/*
 * Reserves room for the segment's new chunks; the hasher fills it.  The
 * batch is committed only between segments, once the hasher has caught up.
 */
static int
write_seg(struct store_ingest *ing, struct seg *s, struct store_blobinfo *info)
{
	int rc;

	if ((rc = ing_txn(ing)) != 0)
		return rc;
	for (size_t i = 0; i < s->nchunks; i++) {
		struct segchunk *c = &s->chunks[i];

		if ((rc = chunk_reserve(ing->st, ing->txn, c->sha, c->len,
		    &c->dest)) != 0)
			return ing_fail(ing, rc);
		if (c->dest != NULL) {
			info->new_bytes += c->len;
			info->new_chunks++;
			ing->chunks_new++;
			ing->bytes_new += c->len;
			ing->batch += c->len;
		}
		if ((rc = list_add(&ing->list, c->sha, c->len)) != 0)
			return ing_fail(ing, rc);
	}
	return 0;
}

/* The git sha1 of a blob, from its chunks as txn sees them. */
static int
sha1_from_chunks(struct store *st, MDB_txn *txn, uint64_t size,
    const struct store_chunkref *v, size_t n, uint8_t out[STORE_SHA1_LEN])
{
	struct hash *h;
	MDB_val k, d;
	int rc;

	if ((h = hash_new_sha1()) == NULL)
		return ENOMEM;
	git_blob_header(h, size);
	for (size_t i = 0; i < n; i++) {
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)v[i].sha256;
		if ((rc = mdb_get(txn, st->chunk, &k, &d)) != 0) {
			hash_free(h);
			return store_mdb_fail(rc, "chunk");
		}
		hash_update(h, d.mv_data, d.mv_size);
	}
	hash_final(h, out);
	hash_free(h);
	return 0;
}

static const uint8_t nosha1[STORE_SHA1_LEN];

/*
 * Writes the blob's chunk map and record, unless the store has the blob
 * already.  The record comes last, in the same transaction as the map, so
 * a blob record promises that its chunks and map are all there.
 */
static int
blob_put(struct store_ingest *ing, const uint8_t sha[STORE_HASH_LEN],
    uint64_t size, uint8_t sha1[STORE_SHA1_LEN], int want_sha1,
    const struct store_chunkref *v, size_t n)
{
	struct store *st = ing->st;
	struct blobrec rec;
	uint8_t key[MAPKEY_LEN], val[MAPVAL_LEN], packed[BLOBREC_LEN];
	MDB_val k = { STORE_HASH_LEN, (void *)sha }, d;
	uint64_t off = 0;
	int rc;

	if ((rc = ing_txn(ing)) != 0)
		return rc;
	rc = mdb_get(ing->txn, st->blob, &k, &d);
	if (rc == 0) {
		if ((rc = blobrec_unpack(&d, &rec)) != 0)
			return rc;
		if (memcmp(rec.sha1, nosha1, sizeof(nosha1)) != 0) {
			memcpy(sha1, rec.sha1, STORE_SHA1_LEN);
			return 0;
		}
		if (!want_sha1)
			return 0;
		/* Known, but never with its sha1: learn it now. */
	} else if (rc != MDB_NOTFOUND)
		return ing_fail(ing, store_mdb_fail(rc, "blob"));
	else {
		memcpy(key, sha, STORE_HASH_LEN);
		for (size_t i = 0; i < n; i++) {
			put_be64(key + STORE_HASH_LEN, off);
			memcpy(val, v[i].sha256, STORE_HASH_LEN);
			put_be32(val + STORE_HASH_LEN, v[i].len);
			MDB_val mk = { sizeof(key), key }, mv = { sizeof(val), val };
			if ((rc = mdb_put(ing->txn, st->blobmap, &mk, &mv, 0)) != 0)
				return ing_fail(ing, store_mdb_fail(rc, "blob map"));
			off += v[i].len;
		}
	}
	if (want_sha1 && memcmp(sha1, nosha1, sizeof(nosha1)) == 0 &&
	    (rc = sha1_from_chunks(st, ing->txn, size, v, n, sha1)) != 0)
		return ing_fail(ing, rc);
	rec.size = size;
	memcpy(rec.sha1, sha1, STORE_SHA1_LEN);
	rec.nchunks = (uint32_t)n;
	blobrec_pack(&rec, packed);
	d.mv_size = sizeof(packed);
	d.mv_data = packed;
	if ((rc = mdb_put(ing->txn, st->blob, &k, &d, 0)) != 0)
		return ing_fail(ing, store_mdb_fail(rc, "blob"));
	return 0;
}

/*
 * The chunks of id's partial record that the store holds, in order, into
 * ing->list, up to the first one missing; *bytes: how many they hold.
 */
static int
partial_find(struct store_ingest *ing, const uint8_t id[PARTIAL_ID],
    uint64_t size, uint64_t *bytes)
{
	struct store *st = ing->st;
	uint8_t key[PARTIAL_KEY];
	MDB_cursor *cur;
	MDB_val k = { sizeof(key), key }, v, ck, cd;
	uint64_t have = 0;
	int rc;

	*bytes = 0;
	memcpy(key, id, PARTIAL_ID);
	put_be32(key + PARTIAL_ID, 0);
	if ((rc = mdb_cursor_open(ing->txn, st->kv[STORE_PARTIAL], &cur)) != 0)
		return ing_fail(ing, store_mdb_fail(rc, "partial file"));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint32_t len;

		if (k.mv_size != PARTIAL_KEY || memcmp(k.mv_data, id,
		    PARTIAL_ID) != 0 || v.mv_size != PARTIAL_VAL ||
		    get_be32((uint8_t *)k.mv_data + PARTIAL_ID) != ing->list.n)
			break;
		len = get_be32((uint8_t *)v.mv_data + STORE_HASH_LEN);
		ck.mv_size = STORE_HASH_LEN;
		ck.mv_data = v.mv_data;
		if (len == 0 || len > STORE_CHUNK_MAX || have + len > size ||
		    mdb_get(ing->txn, st->chunk, &ck, &cd) != 0 ||
		    cd.mv_size != len)
			break;
		if ((rc = list_add(&ing->list, v.mv_data, len)) != 0)
			break;
		have += len;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return ing_fail(ing, rc == ENOMEM ? rc :
		    store_mdb_fail(rc, "partial file"));
	*bytes = have;
	return 0;
}

/*
 * Hands the chunks of ing->list, read back from the store, to the hasher
 * as the first segments of job's file: rehashed with the rest, not read
 * again from the source.  The chunker starts after them, on a cut.
 */
static int
replay(struct store_ingest *ing, struct ingest_work *job)
{
	struct seg *s = NULL;
	MDB_val k, d;
	int rc;

	for (size_t i = 0; i <= ing->list.n; i++) {
		const struct store_chunkref *c = &ing->list.v[i];

		if (s != NULL && (i == ing->list.n || s->len + c->len >
		    SEG_CAP || s->nchunks == SEG_CHUNKS)) {
			ing->done += s->len;
			pthread_mutex_lock(&ing->mu);
			ing->copying++;
			pthread_mutex_unlock(&ing->mu);
			q_give(ing, &ing->hashq, s);
			s = NULL;
			map_release(ing->st, NULL, 0);
			if (ing->progress != NULL)
				ing->progress(ing->progress_arg, ing->done);
		}
		if (i == ing->list.n)
			break;
		if (s == NULL) {
			pthread_mutex_lock(&ing->mu);
			s = q_wait(ing, &ing->freeq);
			pthread_mutex_unlock(&ing->mu);
			s->len = s->nchunks = 0;
			s->last = 0;
			s->job = job;
		}
		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)c->sha256;
		if ((rc = mdb_get(ing->txn, ing->st->chunk, &k, &d)) != 0) {
			/* Found a moment ago under this transaction. */
			q_give(ing, &ing->freeq, s);
			return ing_fail(ing, store_mdb_fail(rc, "chunk"));
		}
		memcpy(s->buf + s->len, d.mv_data, c->len);
		s->chunks[s->nchunks].off = (uint32_t)s->len;
		s->chunks[s->nchunks].len = c->len;
		memcpy(s->chunks[s->nchunks].sha, c->sha256, STORE_HASH_LEN);
		s->chunks[s->nchunks++].dest = NULL;
		s->len += c->len;
	}
	return 0;
}

/*
 * Ends a file whose first segments went to the hasher but whose reading
 * never began: an empty last segment, so the hasher lets the job go.
 */
static void
job_abandon(struct store_ingest *ing, struct ingest_work *job)
{
	struct seg *s;

	pthread_mutex_lock(&ing->mu);
	s = q_wait(ing, &ing->freeq);
	pthread_mutex_unlock(&ing->mu);
	if (s == NULL)
		return;
	s->len = s->nchunks = 0;
	s->last = 1;
	s->job = job;
	pthread_mutex_lock(&ing->mu);
	ing->copying++;
	pthread_mutex_unlock(&ing->mu);
	q_give(ing, &ing->hashq, s);
	pthread_mutex_lock(&ing->mu);
	while (!job->hashed)
		pthread_cond_wait(&ing->cv, &ing->mu);
	pthread_mutex_unlock(&ing->mu);
}

/*
 * A file whose hash and size are known may resume: what an earlier
 * attempt read of it is replayed, and *prefix says how much that was.
 */
static int
ingest_resume(struct store_ingest *ing, struct ingest_work *job,
    const uint8_t *known, int64_t size, uint64_t *prefix,
    struct store_blobinfo *info)
{
	int rc;

	memcpy(ing->pkey, known, STORE_HASH_LEN);
	put_be64(ing->pkey + STORE_HASH_LEN, (uint64_t)size);
	if ((rc = partial_find(ing, ing->pkey, (uint64_t)size, prefix)) != 0)
		return rc;
	ing->partial = 1;
	ing->pdone = ing->list.n;
	if (*prefix > 0 && (rc = replay(ing, job)) != 0) {
		ing->partial = 0;
		job_abandon(ing, job);
		return rc;
	}
	job->size = size - (int64_t)*prefix;
	info->resumed = *prefix;
	return 0;
}

/*
 * Hands the job to the workers and writes its segments as they come.
 * Every segment of the file is drained, even after a failure, so that
 * the workers end the file and the pool refills; returns once the hasher
 * is done with the job.
 */
static int
ingest_drain(struct store_ingest *ing, struct ingest_work *job,
    struct store_blobinfo *info)
{
	struct seg *s;
	int rc = 0, last;

	pthread_mutex_lock(&ing->mu);
	ing->cancel = 0;
	ing->job = job;
	pthread_cond_broadcast(&ing->cv);
	pthread_mutex_unlock(&ing->mu);
	do {
		pthread_mutex_lock(&ing->mu);
		s = q_wait(ing, &ing->writeq);
		pthread_mutex_unlock(&ing->mu);
		if (rc == 0 && (rc = write_seg(ing, s, info)) != 0) {
			pthread_mutex_lock(&ing->mu);
			ing->cancel = 1;
			pthread_mutex_unlock(&ing->mu);
		}
		if (rc != 0)	/* nothing reserved survives a failure */
			for (size_t i = 0; i < s->nchunks; i++)
				s->chunks[i].dest = NULL;
		ing->done += s->len;
		last = s->last;
		pthread_mutex_lock(&ing->mu);
		ing->copying++;
		pthread_mutex_unlock(&ing->mu);
		q_give(ing, &ing->hashq, s);
		if (rc == 0 && ing->batch >= (ing->partial ? PARTIAL_BATCH :
		    STORE_BATCH))
			rc = ing_commit(ing, 0);
		else if (++ing->since_release >= RELEASE_SEGS) {
			/* Pages the tree lookups mapped, between commits. */
			map_release(ing->st, NULL, 0);
			ing->since_release = 0;
		}
		if (rc == 0 && ing->progress != NULL)
			ing->progress(ing->progress_arg, ing->done);
	} while (!last);

	pthread_mutex_lock(&ing->mu);
	while (!job->hashed)
		pthread_cond_wait(&ing->cv, &ing->mu);
	pthread_mutex_unlock(&ing->mu);
	return rc;
}

static int
ingest_file(struct store_ingest *ing, const uint8_t *known, uint64_t *from,
    store_read_fn fn, void *arg, int64_t size, unsigned flags,
    struct store_blobinfo *info)
{
	struct ingest_work job;
	uint64_t prefix = 0;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = ing_txn(ing)) != 0)
		return rc;
	memset(&job, 0, sizeof(job));
	job.read = fn;
	job.arg = arg;
	job.size = job.whole = size;
	job.sha1 = (flags & STORE_INGEST_SHA1) != 0;
	ing->list.n = 0;
	ing->partial = 0;
	if (known != NULL && size >= 0 &&
	    (rc = ingest_resume(ing, &job, known, size, &prefix, info)) != 0)
		return rc;
	if (from != NULL)
		*from = prefix;
	if ((rc = ingest_drain(ing, &job, info)) != 0) {
		ing->partial = 0;
		return rc;
	}
	if (job.err != 0) {
		/* What was read is kept for the next attempt, when the read
		 * failed (a source that ended early ended on no cut). */
		if (ing->partial && job.read_failed &&
		    (rc = ing_commit(ing, 0)) != 0)
			job.err = rc;
		ing->partial = 0;
		return store_fail(job.err, "%s", job.errmsg);
	}
	ing->partial = 0;
	if (job.hash_err != 0)
		return store_fail(job.hash_err, "hash: %s",
		    strerror(job.hash_err));
	memcpy(info->sha256, job.sha256, STORE_HASH_LEN);
	memcpy(info->git_sha1, job.git_sha1, STORE_SHA1_LEN);
	info->size = prefix + job.total;
	info->nchunks = (uint32_t)ing->list.n;
	if ((rc = blob_put(ing, info->sha256, info->size, info->git_sha1,
	    job.sha1, ing->list.v, ing->list.n)) != 0)
		return rc;
	/* Read to its end: whatever its hash, the record has served. */
	if (known != NULL && size >= 0 && (rc = partial_drop(ing->st,
	    ing->txn, ing->pkey)) != 0)
		return ing_fail(ing, rc);
	return 0;
}

int
store_ingest_file(struct store_ingest *ing, store_read_fn fn, void *arg,
    int64_t size, unsigned flags, struct store_blobinfo *info)
{
	return ingest_file(ing, NULL, NULL, fn, arg, size, flags, info);
}

int
store_ingest_file_known(struct store_ingest *ing,
    const uint8_t sha[STORE_HASH_LEN], uint64_t *from, store_read_fn fn,
    void *arg, int64_t size, unsigned flags, struct store_blobinfo *info)
{
	if (size < 0)
		return store_fail(STORE_EINVAL, "a known file needs its size");
	return ingest_file(ing, sha, from, fn, arg, size, flags, info);
}

int
store_ingest_blob_held(struct store_ingest *ing,
    const uint8_t sha[STORE_HASH_LEN], uint64_t size,
    struct store_blobinfo *info)
{
	struct blobrec rec;
	MDB_val k = { STORE_HASH_LEN, (void *)sha }, d;
	int rc;

	memset(info, 0, sizeof(*info));
	if ((rc = ing_txn(ing)) != 0)
		return rc;
	if ((rc = mdb_get(ing->txn, ing->st->blob, &k, &d)) != 0)
		return rc == MDB_NOTFOUND ? STORE_ENOTFOUND :
		    ing_fail(ing, store_mdb_fail(rc, "blob"));
	if ((rc = blobrec_unpack(&d, &rec)) != 0)
		return rc;
	if (rec.size != size)
		return STORE_ENOTFOUND;
	memcpy(info->sha256, sha, STORE_HASH_LEN);
	info->size = rec.size;
	memcpy(info->git_sha1, rec.sha1, STORE_SHA1_LEN);
	info->nchunks = rec.nchunks;
	return 0;
}

int
store_ingest_chunk(struct store_ingest *ing, const uint8_t sha[STORE_HASH_LEN],
    const void *data, size_t len, int *isnew)
{
	uint8_t got[STORE_HASH_LEN];
	char hex[STORE_HEX_LEN + 1];

	*isnew = 0;
	store_hex(sha, STORE_HASH_LEN, hex);
	if (len > STORE_CHUNK_MAX)
		return store_fail(STORE_EINVAL, "chunk %s: %zu bytes, more than "
		    "the largest chunk (%d)", hex, len, STORE_CHUNK_MAX);
	store_sha256(data, len, got);
	if (memcmp(got, sha, STORE_HASH_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "chunk %s: sha256 mismatch",
		    hex);
	return ing_chunk(ing, sha, data, len, isnew);
}

int
store_ingest_blob(struct store_ingest *ing, const uint8_t sha[STORE_HASH_LEN],
    uint64_t size, const struct store_chunkref *v, size_t n,
    struct store_blobinfo *info)
{
	struct store *st = ing->st;
	struct blobrec rec;
	struct hash *h;
	uint8_t got[STORE_HASH_LEN], sha1[STORE_SHA1_LEN] = { 0 };
	char hex[STORE_HEX_LEN + 1];
	MDB_val k, d;
	uint64_t total = 0;
	int rc;

	if (info != NULL) {
		memset(info, 0, sizeof(*info));
		memcpy(info->sha256, sha, STORE_HASH_LEN);
		info->size = size;
		info->nchunks = (uint32_t)n;
	}
	if ((rc = ing_txn(ing)) != 0)
		return rc;
	store_hex(sha, STORE_HASH_LEN, hex);
	k.mv_size = STORE_HASH_LEN;
	k.mv_data = (void *)sha;
	if (mdb_get(ing->txn, st->blob, &k, &d) == 0) {
		if ((rc = blobrec_unpack(&d, &rec)) != 0)
			return rc;
		if (rec.size != size)
			return store_fail(STORE_ECORRUPT, "blob %s: %llu bytes "
			    "stored, not %llu", hex,
			    (unsigned long long)rec.size,
			    (unsigned long long)size);
		if (info != NULL) {
			memcpy(info->git_sha1, rec.sha1, STORE_SHA1_LEN);
			info->nchunks = rec.nchunks;
		}
		return 0;
	}
	if ((h = hash_new_sha256()) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		k.mv_data = (void *)v[i].sha256;
		if ((rc = mdb_get(ing->txn, st->chunk, &k, &d)) != 0) {
			char ch[STORE_HEX_LEN + 1];

			store_hex(v[i].sha256, STORE_HASH_LEN, ch);
			hash_free(h);
			return store_fail(rc == MDB_NOTFOUND ? STORE_ENOTFOUND :
			    rc, "blob %s: chunk %zu (%s) is missing", hex, i, ch);
		}
		if (d.mv_size != v[i].len) {
			hash_free(h);
			return store_fail(STORE_ECORRUPT, "blob %s: chunk %zu "
			    "has %zu bytes, not %u", hex, i, d.mv_size, v[i].len);
		}
		hash_update(h, d.mv_data, d.mv_size);
		total += d.mv_size;
	}
	hash_final(h, got);
	hash_free(h);
	if (total != size)
		return store_fail(STORE_ECORRUPT, "blob %s: chunks add up to "
		    "%llu bytes, not %llu", hex, (unsigned long long)total,
		    (unsigned long long)size);
	if (memcmp(got, sha, STORE_HASH_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "blob %s: sha256 mismatch",
		    hex);
	/* Small files may be served as regular git files: keep their sha1. */
	if ((rc = blob_put(ing, sha, size, sha1, size <= (10u << 20), v,
	    n)) != 0)
		return rc;
	if (info != NULL)
		memcpy(info->git_sha1, sha1, STORE_SHA1_LEN);
	return 0;
}

int
store_ingest_revision(struct store_ingest *ing, const struct store_manifest *m,
    const char *ref, const char *why, const struct store_sig *sigs,
    size_t nsigs)
{
	struct store *st = ing->st;
	struct blobrec rec;
	MDB_val k, d;
	int rc;

	if ((rc = ing_txn(ing)) != 0)
		return rc;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];

		k.mv_size = STORE_HASH_LEN;
		k.mv_data = (void *)f->sha256;
		if ((rc = mdb_get(ing->txn, st->blob, &k, &d)) != 0) {
			if (rc != MDB_NOTFOUND)
				return ing_fail(ing, store_mdb_fail(rc, "blob"));
			return store_fail(STORE_EINVAL, "%s: its content is not "
			    "in the store", f->path);
		}
		if ((rc = blobrec_unpack(&d, &rec)) != 0)
			return rc;
		if (rec.size != f->size)
			return store_fail(STORE_EINVAL, "%s: manifest says %llu "
			    "bytes, the store has %llu", f->path,
			    (unsigned long long)f->size,
			    (unsigned long long)rec.size);
	}
	k.mv_size = STORE_HASH_LEN;
	k.mv_data = (void *)m->digest;
	d.mv_size = m->len;
	d.mv_data = m->bytes;
	rc = mdb_put(ing->txn, st->manifest, &k, &d, MDB_NOOVERWRITE);
	if (rc != 0 && rc != MDB_KEYEXIST)
		return ing_fail(ing, store_mdb_fail(rc, "manifest"));
	/*
	 * Refused refs abort the transaction: nothing of the revision stays.
	 * A partial mirror (made with filters) does not take the commit id,
	 * which names the whole revision that a pull without them brings.
	 */
	if (!store_manifest_partial(m) && (rc = ref_write(st, ing->txn,
	    m->type, m->repo, m->commit, m->digest, REF_COMMIT, why)) != 0)
		return ing_fail(ing, rc);
	if (ref != NULL && strcmp(ref, m->commit) != 0 &&
	    (rc = ref_write(st, ing->txn, m->type, m->repo, ref, m->digest,
	    REF_BRANCH, why)) != 0)
		return ing_fail(ing, rc);
	for (size_t i = 0; i < nsigs; i++)
		if ((rc = sig_write(st, ing->txn, m->digest, sigs[i].keyid,
		    sigs[i].text, sigs[i].len)) != 0)
			return ing_fail(ing, rc);
	if (ing->kv != NULL) {
		struct store_kvtxn kt = { st, ing->txn };

		if ((rc = ing->kv(ing->kv_arg, &kt)) != 0)
			return ing_fail(ing, rc);
	}
	CRASH_POINT("revision-commit");
	return ing_commit(ing, 1);
}

int
store_ingest_begin(struct store *st, struct store_ingest **out)
{
	struct store_ingest *ing;
	int rc;

	*out = NULL;
	if (st->rdonly)
		return store_fail(EROFS, "%s: opened read-only", st->dir);
	if ((ing = calloc(1, sizeof(*ing))) == NULL)
		return ENOMEM;
	ing->st = st;
	pthread_mutex_init(&ing->mu, NULL);
	pthread_cond_init(&ing->cv, NULL);
	for (int i = 0; i < SEG_COUNT; i++) {
		if ((ing->segs[i].buf = malloc(SEG_CAP)) == NULL) {
			rc = ENOMEM;
			goto fail;
		}
		q_push(&ing->freeq, &ing->segs[i]);
	}
	if ((rc = store_lock(st, SLOCK_WRITE, 0, 1)) != 0) {
		rc = store_fail(rc, "%s: write lock: %s", st->dir,
		    store_strerror(rc));
		goto fail;
	}
	if ((rc = pthread_create(&ing->chunker, NULL, chunker_main, ing)) != 0)
		goto fail;
	if ((rc = pthread_create(&ing->hasher, NULL, hasher_main, ing)) != 0) {
		ing->threads = 1;
		goto fail;
	}
	ing->threads = 2;
	*out = ing;
	return 0;
fail:
	store_ingest_free(ing);
	return rc;
}

void
store_ingest_progress(struct store_ingest *ing, store_progress_fn fn, void *arg)
{
	ing->progress = fn;
	ing->progress_arg = arg;
}

void
store_ingest_kv(struct store_ingest *ing, store_kvtxn_fn fn, void *arg)
{
	ing->kv = fn;
	ing->kv_arg = arg;
}

int
store_ingest_end(struct store_ingest *ing)
{
	return ing_commit(ing, 1);
}

void
store_ingest_free(struct store_ingest *ing)
{
	if (ing == NULL)
		return;
	pthread_mutex_lock(&ing->mu);
	ing->stop = 1;
	pthread_cond_broadcast(&ing->cv);
	pthread_mutex_unlock(&ing->mu);
	if (ing->threads >= 1)
		pthread_join(ing->chunker, NULL);
	if (ing->threads >= 2)
		pthread_join(ing->hasher, NULL);
	if (ing->txn != NULL)	/* the hasher is gone: nothing fills pages */
		txn_abort(ing->txn);
	store_unlock(ing->st, SLOCK_WRITE);
	for (int i = 0; i < SEG_COUNT; i++)
		free(ing->segs[i].buf);
	free(ing->list.v);
	pthread_mutex_destroy(&ing->mu);
	pthread_cond_destroy(&ing->cv);
	free(ing);
}
