/*
 * internal.h - what the store's source files share and nobody else sees.
 */
#ifndef AIRLOCK_STORE_INTERNAL_H
#define AIRLOCK_STORE_INTERNAL_H

#include <sys/types.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>

#include <lmdb.h>

#include "store/store.h"

#define STORE_SCHEMA		1
/* New chunk bytes per write transaction: bounds the heap LMDB uses for
 * dirty pages (it does not use MDB_WRITEMAP). */
#define STORE_BATCH		(64u << 20)
/* Address space mapped for the data file at first: not disk, not memory.
 * It grows (txn_write); AIRLOCK_MAPSIZE sets it, for tests. */
#define STORE_MAPSIZE		(1ULL << 40)

struct store {
	MDB_env		*env;
	char		*dir;
	int		 rdonly;
	int		 nogrow;	/* STORE_NOGROW */
	int		 lockfd;	/* airlock.lock: SLOCK_WRITE */
	int		 openfd;	/* data.mdb: SLOCK_OPEN, SLOCK_RW, ... */
	int		 nolock;	/* opened with MDB_NOLOCK (see store.c) */
	char		 id[33];
	MDB_dbi		 chunk;		/* sha256(chunk) -> bytes */
	MDB_dbi		 blob;		/* sha256(file) -> struct blobrec */
	MDB_dbi		 blobmap;	/* sha256(file) ‖ off -> sha256(chunk) ‖ len */
	MDB_dbi		 manifest;	/* sha256(manifest) -> canonical JSON */
	MDB_dbi		 sig;		/* manifest digest ‖ key id -> minisig */
	MDB_dbi		 ref;		/* type/repo \0 name -> manifest digest */
	MDB_dbi		 reflog;	/* type/repo \0 name \0 time -> JSON */
	MDB_dbi		 pin;		/* name -> JSON */
	MDB_dbi		 meta;		/* name -> value */
	MDB_dbi		 kv[STORE_NTABLES];	/* enum store_table */
	unsigned	 kv_absent;	/* 1 << table: a read-only open of a
					 * store older than the table */
	uint8_t		*map;		/* LMDB's map of the data file */
	size_t		 maplen;
	int		 datafd;	/* the data file, LMDB's own fd */
	int		 map_random;	/* store_map_random was asked for */

	/*
	 * The gate (env.c): every transaction of this process is counted
	 * in txns, under gate, so that the map is moved (a size another
	 * process grew it to) or the environment opened again (on a data
	 * file put in place of ours) only when none is open.
	 */
	pthread_mutex_t	 gate;
	unsigned	 txns;
	unsigned	 stale;		/* STALE_*: what to do at txns 0 */
	int		 follow;	/* STORE_FOLLOW */
	dev_t		 file_dev;	/* the data file LMDB has open */
	ino_t		 file_ino;
	time_t		 checked;	/* when data.mdb was last looked at */
	uint64_t	 epoch;		/* times opened again */
};
#define STALE_MAP	0x1	/* another process grew the map */
#define STALE_FILE	0x2	/* data.mdb is another file now */

/*
 * Lock bytes (open file description locks, so they die with the process,
 * kill -9 included).  The first three are in the data file itself, which
 * every opener can open: a read-only one too, on a store it may not
 * write, and the lock goes with the file that compaction replaces.
 */
#define SLOCK_OPEN	0	/* data.mdb: shared by every opener; compact
				 * takes it alone */
#define SLOCK_RW	1	/* data.mdb: shared by read-write openers */
#define SLOCK_NOLOCK	2	/* data.mdb: shared by MDB_NOLOCK readers */
#define SLOCK_LOCKFILE	0x100
#define SLOCK_WRITE	(SLOCK_LOCKFILE | 1) /* airlock.lock: shared by
				 * ingests; gc takes it alone */
int	store_lock(struct store *, int which, int exclusive, int wait);
void	store_unlock(struct store *, int which);
/* 1 if another process holds lock byte which of the data file. */
int	store_lock_held(struct store *, int which);

/* Blob records, big-endian on disk. */
#define BLOBREC_LEN	(8 + STORE_SHA1_LEN + 4)
struct blobrec {
	uint64_t	size;
	uint8_t		sha1[STORE_SHA1_LEN];
	uint32_t	nchunks;
};
void	blobrec_pack(const struct blobrec *, uint8_t out[BLOBREC_LEN]);
int	blobrec_unpack(const MDB_val *, struct blobrec *);

#define MAPKEY_LEN	(STORE_HASH_LEN + 8)
#define MAPVAL_LEN	(STORE_HASH_LEN + 4)

/* A write transaction that store_kv_txn() or an ingest lends a callback. */
struct store_kvtxn {
	struct store	*st;
	MDB_txn		*txn;
};

/*
 * Counters in the meta table.  The generation is what lets a reader keep
 * where a chunk's own pages are (store.h, views): a chunk is only ever
 * added (MDB_NOOVERWRITE, which leaves one already there untouched) and
 * deleted only by gc, in the transaction that bumps the generation, so
 * no other transaction frees a chunk's pages.
 */
#define META_GENERATION	"generation"	/* bumped by each gc: chunks moved */
int	meta_add(struct store *, MDB_txn *, const char *name, int64_t delta);
uint64_t meta_get(struct store *, MDB_txn *, const char *name);

/* Errors: set the thread's detail text and return the code. */
int	store_fail(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	store_mdb_fail(int code, const char *what);
/* The thread's detail text cleared; the store it writes (a full disk is
 * looked for there), and forgotten when that store closes. */
void	fail_clear(void);
void	fail_writing(const struct store *);
void	fail_forget(const struct store *);

/*
 * Transactions pass the gate: txn_read and txn_write count them, and they
 * end with txn_abort, txn_commit or txn_finish (never mdb_txn_abort or
 * mdb_txn_commit).  Both begins fail with STORE_EAGAIN while the map is
 * to be moved and another transaction of this process is open.
 */
int	txn_read(struct store *, MDB_txn **);
void	txn_abort(MDB_txn *);
int	txn_commit(MDB_txn *);
/*
 * Begins a write transaction, first growing the map when what the data
 * file uses comes within STORE_HEADROOM of it.  No other transaction of
 * this process may be open (growing moves the map).
 */
int	txn_write(struct store *, MDB_txn **);
#define STORE_HEADROOM		(4ULL * STORE_BATCH)
/* Ends a write transaction: commits it if rc is 0, else aborts it and
 * returns rc. */
int	txn_finish(MDB_txn *, int rc);
/* The map's size and how much of it the data file uses, in bytes. */
int	store_map_size(struct store *, uint64_t *size, uint64_t *used);
/* Opens the data file and takes the locks an opener holds (store.c). */
int	store_open_lock(struct store *, int create);
/*
 * Every chunk of a blob under txn, in order: where it lies (see
 * extent_read) and, when keys is not NULL, its key, STORE_HASH_LEN bytes
 * each.  Each tree leaf is visited once, and the map dropped as it goes.
 */
int	blob_extents(struct store *, MDB_txn *, const uint8_t *sha,
	    struct store_extent **, uint8_t **keys, size_t *n);
/* store_blob_read under a transaction the caller holds (a write one too:
 * a revision's card is read in the transaction that commits it). */
int	txn_blob_read(struct store *, MDB_txn *, const uint8_t sha[STORE_HASH_LEN],
	    uint64_t off, void *buf, size_t len, size_t *got);
/* An extent's bytes, while the transaction that found it is open. */
int	extent_read(struct store *, const struct store_extent *, uint8_t *out);
/*
 * Calls fn for each entry of dbi whose key starts with prefix (every entry
 * when plen is 0), in key order, under one read transaction: what k and d
 * point to lives until fn returns.  A non-zero return from fn stops the
 * walk and is returned.
 */
typedef int (*db_fn)(void *arg, const MDB_val *k, const MDB_val *d);
int	db_each(struct store *, MDB_dbi, const void *prefix, size_t plen,
	    db_fn, void *);
/* The same walk inside a transaction the caller holds (gc's). */
int	txn_each(struct store *, MDB_txn *, MDB_dbi, const void *prefix,
	    size_t plen, db_fn, void *);
/*
 * What a db_fn passes on to the public callback it serves: which one
 * (by its type), its argument, and the length of the key prefix walked.
 */
struct each {
	union {
		store_kv_fn	 kv;
		store_ref_fn	 ref;
		store_reflog_fn	 reflog;
		store_pin_fn	 pin;
		store_sig_fn	 sig;
		store_chunk_fn	 chunk;
	} fn;
	void	*arg;
	size_t	 base;
};
/*
 * Whether the manifest is stored, in txn: 0, or STORE_ENOTFOUND naming it
 * (what a ref, pin or signature of it would point at is missing).
 */
int	manifest_present(struct store *, MDB_txn *,
	    const uint8_t digest[STORE_HASH_LEN]);
/* 0 if dbi has key, STORE_ENOTFOUND if not, or the read's error. */
int	db_has(struct store *, MDB_dbi, const void *key, size_t klen);
/*
 * Drops this process's mappings of the data file's pages in [p, p+len)
 * (all of the map when p is NULL).  The page cache keeps them; only our
 * page tables forget, so a stream of chunks read through the map does not
 * count as our memory.  Safe while other threads read: they fault the
 * same pages back in.
 */
void	map_release(struct store *, const void *p, size_t len);
/* Finds LMDB's map of the data file (st->map), after it may have moved. */
void	map_find(struct store *);
/* store_map_random's advice, the gate held (or no other thread yet). */
int	map_random(struct store *);
/* Opens st->env and its tables (again, after a compact). */
int	store_env_open(struct store *, int create);

/* Ref keys: "type/repo" \0 "name". */
size_t	refkey(char *buf, size_t size, const char *type, const char *repo,
	    const char *name);

/* Big-endian integers. */
void	put_be64(uint8_t *, uint64_t);
uint64_t get_be64(const uint8_t *);
void	put_be32(uint8_t *, uint32_t);
uint32_t get_be32(const uint8_t *);

/* Hashing (hash.c), libcrypto's SHA-256 and SHA-1. */
struct hash;
struct hash	*hash_new_sha256(void);
struct hash	*hash_new_sha1(void);
void		 hash_reset(struct hash *);
void		 hash_update(struct hash *, const void *, size_t);
void		 hash_final(struct hash *, uint8_t *out);
void		 hash_free(struct hash *);
void		 git_blob_header(struct hash *, uint64_t size);

/* The chunker (chunker.c): the length of the chunk that starts at p. */
size_t	chunk_cut(const uint8_t *p, size_t n);

/*
 * Refs, by kind (the byte after the digest): a branch moves, a commit id
 * (40 hex, the revision's own) and a tag never do.  ref_write writes a ref
 * and its reflog entry in txn, or fails with STORE_EIMMUTABLE (naming the
 * ref and both digests) and writes nothing; ref_check only asks.
 */
#define REF_BRANCH	0
#define REF_COMMIT	1
#define REF_TAG		2
int	ref_check(struct store *, MDB_txn *, const char *type, const char *repo,
	    const char *name, const uint8_t digest[STORE_HASH_LEN], int kind,
	    int *same);
int	ref_write(struct store *, MDB_txn *, const char *type, const char *repo,
	    const char *name, const uint8_t digest[STORE_HASH_LEN], int kind,
	    const char *why);
/* Deletes the ref whose key is key (none there is no error), with its
 * reflog entry. */
int	ref_drop(struct store *, MDB_txn *, const void *key, size_t klen,
	    const char *who, const char *why);
int	sig_write(struct store *, MDB_txn *, const uint8_t digest[STORE_HASH_LEN],
	    const uint8_t keyid[8], const char *text, size_t len);
#define REFVAL_LEN	(STORE_HASH_LEN + 1)

/*
 * The repository index (repos.c): every change to a repository's refs
 * calls repoindex_update in the same transaction, so that the record a
 * listing reads is never older than the refs.  repoindex_rebuild writes
 * every record again from the refs (the upgrade of a store made before
 * the index; store_open runs it when the index is not marked built).
 */
int	repoindex_update(struct store *, MDB_txn *, const char *type,
	    const char *repo);
int	repoindex_rebuild(struct store *);
#define META_REPOINDEX	"repoindex"	/* 1 once the index is built */

/*
 * Chunks a caller fills in an ingest's transaction (ingest.c): room for
 * one, or *dest NULL when the store has it; whether the batch is full;
 * its commit.  Every chunk given room must be filled and checked first.
 */
struct store_ingest;
int	ing_reserve(struct store_ingest *, const uint8_t sha[STORE_HASH_LEN],
	    size_t len, uint8_t **dest);
int	ing_due(const struct store_ingest *);
int	ing_flush(struct store_ingest *);

/*
 * Chunks checked against their sha256 on another core (hashpool.c):
 * hashpool_check hands one over (its bytes must stay put until
 * hashpool_wait, unless they are in a buffer hashpool_buffer gave, which
 * is the pool's again once checked); hashpool_wait returns once all are
 * checked, STORE_ECORRUPT with *bad_tag the first that did not match.
 * Room reserved in a write transaction stays put until its commit only
 * while the transaction dirties less than LMDB spills at (bundle.c).
 */
struct hashpool;
int	 hashpool_new(struct hashpool **);
void	 hashpool_free(struct hashpool *);
uint8_t	*hashpool_buffer(struct hashpool *);
void	 hashpool_check(struct hashpool *, const void *, size_t,
	    const uint8_t sha[STORE_HASH_LEN], size_t tag);
int	 hashpool_wait(struct hashpool *, size_t *bad_tag);
int	 hashpool_failed(struct hashpool *);	/* one did not match, so far */

/* Inserts a chunk in txn; *isnew is 1 when it was not there. */
int	chunk_put(struct store *, MDB_txn *, const uint8_t sha[STORE_HASH_LEN],
	    const void *data, size_t len, int *isnew);

/* Bundles: written by export.c, read by bundle.c (see there). */
#define BUNDLE_SCHEMA	"airlock.bundle/v1"
#define INDEX_NAME	"airlock-bundle.json"
#define SIG_NAME	"airlock-bundle.json.minisig"
#define DUMP_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)
#define SPLIT_MIN	(1u << 20)

/* A chunk a bundle carries, in the order the files need them. */
struct xchunk {
	uint8_t		sha[STORE_HASH_LEN];
	uint32_t	len;
};

/* Volumes: NAME itself, or NAME.001, NAME.002, ... */
void	volume_name(char *, size_t, const char *base, int multi, int idx);
/* 1 if the inventory (which may be NULL) holds the chunk. */
int	inventory_has(const struct store_inventory *,
	    const uint8_t sha[STORE_HASH_LEN]);

/* Hash sets (hashset.c): sorted arrays compare with hash_cmp. */
struct hashset {
	uint8_t		(*slot)[STORE_HASH_LEN];
	uint8_t		 *used;
	size_t		  cap, n;
};
int	hash_cmp(const void *, const void *);
/* Adds sha: 0 (*isnew says whether it was new) or ENOMEM. */
int	hs_add(struct hashset *, const uint8_t sha[STORE_HASH_LEN], int *isnew);
int	hs_has(const struct hashset *, const uint8_t sha[STORE_HASH_LEN]);
void	hs_free(struct hashset *);

/* A sorted set: hset_add freely, hset_sort once, then hset_has. */
struct hset {
	uint8_t		(*v)[STORE_HASH_LEN];
	size_t		 n, cap;
};
int	hset_add(struct hset *, const uint8_t h[STORE_HASH_LEN]);
void	hset_sort(struct hset *);
int	hset_has(const struct hset *, const void *h);

#endif
