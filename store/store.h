/*
 * store.h - airlock's content-addressed store of model repositories.
 *
 * One LMDB environment holds everything: content-defined chunks keyed by
 * their sha256, blobs (whole files) as ordered lists of chunks, canonical
 * JSON manifests (one per revision) keyed by their sha256, refs, a reflog,
 * pins, signatures and small tables for the keyring.  One write
 * transaction makes a revision appear whole or not at all.
 *
 * Errors (error.c): functions return 0 or an error code: a positive errno
 * value, an LMDB code, or one of the STORE_E* codes below; none returns
 * -1.  A yes-or-no question is a predicate named for its answer
 * (store_repo_valid: 1 or 0), or a lookup that answers 0 or
 * STORE_ENOTFOUND.  store_strerror() gives the generic text;
 * store_lasterror() gives the last failure on the calling thread in words
 * that name the thing and the reason ("chunk 812 (offset 53215232): sha256
 * mismatch").  The library never prints, logs or exits.
 *
 * Memory: what a function hands back through a pointer to a pointer is
 * the caller's, freed with the *_free() function its section names (or
 * free(3) where it says malloc'd).  What a callback is given lives until
 * it returns: copy what you keep.  A callback's non-zero return stops the
 * walk and is returned by the function that called it.
 *
 * Each section below says which file implements it.
 *
 * Threads: a struct store may be shared by threads (its read transactions
 * are MDB_NOTLS and short).  A struct store_ingest belongs to the thread
 * that began it.
 */
#ifndef AIRLOCK_STORE_H
#define AIRLOCK_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#define STORE_HASH_LEN		32	/* sha256 */
#define STORE_SHA1_LEN		20	/* git blob sha1 */
#define STORE_HEX_LEN		64
#define STORE_COMMIT_LEN	40	/* hex digits of a commit id */
#define STORE_DIGEST_STRLEN	71	/* "sha256:" + 64 hex */

#define STORE_ENOTFOUND		(-31001)	/* no such repo, revision, file, pin */
#define STORE_EINVAL		(-31002)	/* bad input: name, path, entry, card */
#define STORE_ECORRUPT		(-31003)	/* stored bytes do not match their hash */
#define STORE_EBUSY		(-31004)	/* another process holds the store */
#define STORE_EVERSION		(-31005)	/* a schema this program does not know */
#define STORE_ENOSTORE		(-31006)	/* no store at this path */
#define STORE_EEXIST		(-31007)	/* already exists */
#define STORE_ECANCELED		(-31008)	/* a callback asked to stop */
#define STORE_EIMMUTABLE	(-31009)	/* a commit id or tag never moves */
#define STORE_ENOREPO		(-31010)	/* no such repository: it has no ref */
#define STORE_EAGAIN		(-31011)	/* mapped again meanwhile: retry */

/* Static text; never NULL. */
const char	*store_strerror(int);
/* Thread-local, valid until the thread's next store call. */
const char	*store_lasterror(void);
/* The code that went with it (0 when none). */
int		 store_lastcode(void);

/* Content-defined chunk sizes (FastCDC); part of the store format. */
#define STORE_CHUNK_MIN		(64 * 1024)
#define STORE_CHUNK_AVG		(128 * 1024)
#define STORE_CHUNK_MAX		(512 * 1024)

/*
 * Opening (env.c; its locks, lock.c).  dir is created with STORE_CREATE.
 * STORE_RDONLY opens for reading only (no writes, no lock file needed to
 * be writable).  store_open fails with STORE_ENOSTORE (no store there),
 * STORE_EVERSION (a newer schema), STORE_EBUSY (for a writer, while a
 * reader that may not write lock.mdb reads), EACCES, or LMDB's error;
 * *out is NULL then.  store_close frees it all
 * (NULL is a no-op); no view or ingest of it may outlive it.
 */
#define STORE_CREATE	0x01
#define STORE_RDONLY	0x02
/* Writes never grow the map, which moves it: for a process whose other
 * threads read while it writes (airlockd).  A write that needs more room
 * fails with MDB_MAP_FULL instead. */
#define STORE_NOGROW	0x04
/*
 * A data file replaced under the store while it is open (an operator's
 * restore) is followed: the environment is opened again on the new file
 * once no transaction of this process is open.  For a process that only
 * reads, or writes nothing that spans transactions (airlockd serving).
 *
 * With STORE_FOLLOW, or when another process grows the map past this
 * one's, a transaction begun while this process still has others open
 * fails with STORE_EAGAIN: the new map is taken when the last one ends,
 * and a retry then succeeds.
 */
#define STORE_FOLLOW	0x08

struct store;

int		 store_open(const char *dir, unsigned flags, struct store **);
void		 store_close(struct store *);
/*
 * LMDB's map of the data file (map.c): pages a reader touched stay mapped
 * and count in its resident size.  store_map_drop unmaps them (the page
 * cache keeps them; the next read faults them back); store_map_random
 * turns off read-around and huge mappings on faults, for readers whose
 * lookups jump about the file.  Both fail with ENOTSUP when the map was
 * not found, or madvise(2)'s errno.
 */
int		 store_map_drop(struct store *);
int		 store_map_random(struct store *);
const char	*store_dir(const struct store *);	/* lives as the store */
/* The default store directory: $AIRLOCK_STORE, $XDG_DATA_HOME/airlock, or
 * ~/.local/share/airlock.  Returns a static buffer. */
const char	*store_default_dir(void);
/* 32 hex digits naming this store, fixed at creation; lives as the store. */
const char	*store_id(const struct store *);

/* Names (names.c; the rules are lib/names.c's): predicates, 1 or 0. */
int	store_repo_valid(const char *repo);	/* ORG/NAME pattern of DESIGN.md */
int	store_type_valid(const char *type);	/* "model" or "dataset" */
int	store_revision_valid(const char *rev);	/* a branch, tag or commit name */
int	store_path_valid(const char *path);	/* relative, no ., .., empty parts */
/* "datasets/" for a dataset, "" for a model: what goes before a repo id
 * when it is shown, as the Hub's URLs have it.  A static string. */
const char *store_type_prefix(const char *type);
/* "datasets" for a dataset, "models" for a model: the Hub's word for the
 * type in its API paths and cache directories.  A static string. */
const char *store_type_plural(const char *type);

/*
 * Hashes (hex.c; store_sha256, hash.c), printed as lower-case hex; out
 * must hold 2 * len + 1 bytes.  store_unhex and store_digest_parse take
 * either case and fail with STORE_EINVAL, writing part of bin.
 */
void	store_hex(const uint8_t *bin, size_t len, char *out);
int	store_unhex(const char *hex, uint8_t *bin, size_t len);
int	store_hexdigit(int c);	/* 0-15, or -1 if c is not a hex digit */
/* "sha256:<hex>" <-> bytes; a bare 64-hex string is accepted too. */
void	store_digest_str(const uint8_t digest[STORE_HASH_LEN],
	    char out[STORE_DIGEST_STRLEN + 1]);
int	store_digest_parse(const char *, uint8_t digest[STORE_HASH_LEN]);
void	store_sha256(const void *, size_t, uint8_t out[STORE_HASH_LEN]);

/*
 * Files of a revision (manifest.c, with the manifests).  git_sha1 is what git
 * stores for the path: the blob's own sha1 for regular files, the sha1 of the
 * LFS pointer text for LFS files (which is what the Hub reports as their blob
 * id).
 */
struct store_file {
	char		*path;
	uint64_t	 size;
	uint8_t		 sha256[STORE_HASH_LEN];
	uint8_t		 git_sha1[STORE_SHA1_LEN];
	int		 lfs;
};

/* The LFS pointer text for a file, and its git blob sha1.  Returns the
 * text's length, as snprintf(3) does: bufsize or more means cut short. */
int	store_lfs_pointer(const uint8_t sha256[STORE_HASH_LEN], uint64_t size,
	    char *buf, size_t bufsize);
void	store_lfs_pointer_sha1(const uint8_t sha256[STORE_HASH_LEN],
	    uint64_t size, uint8_t out[STORE_SHA1_LEN]);
/* Predicate: a local add makes the file LFS (binary by name, > 10 MiB). */
int	store_lfs_by_name(const char *path, uint64_t size);

/*
 * A parsed manifest (airlock.manifest/v1; manifest.c, stored ones read.c).
 * Everything it points to is owned by it and lives until
 * store_manifest_free() (NULL is a no-op).
 */
struct store_manifest {
	uint8_t			 digest[STORE_HASH_LEN];
	char			 commit[STORE_COMMIT_LEN + 1];
	const char		*type;		/* "model" or "dataset" */
	const char		*repo;
	const char		*created;	/* RFC 3339, UTC */
	json_t			*source;	/* object or NULL */
	json_t			*claims;	/* object, never NULL */
	size_t			 nfiles;
	struct store_file	*files;		/* sorted by path */
	json_t			*root;
	char			*bytes;		/* the canonical bytes */
	size_t			 len;
};

/*
 * Builds the canonical manifest from its parts.  files are sorted in place;
 * source (upstream, revision, commit) may be NULL for a local add; claims
 * may be NULL; created is a unix time.  On success *out is parsed back from
 * its own canonical bytes, so what is built is what any reader sees.
 */
struct store_manifest_parts {
	const char		*type;
	const char		*repo;
	const char		*upstream;	/* these three, or all NULL */
	const char		*revision;
	const char		*commit;
	/* A partial pull's globs, NULL-terminated, or NULL: kept in source
	 * as "include" and "exclude" (when not empty), so that the manifest
	 * says it holds only the files they chose. */
	const char *const	*include;
	const char *const	*exclude;
	json_t			*claims;
	struct store_file	*files;
	size_t			 nfiles;
	int64_t			 created;
};
int	store_manifest_build(const struct store_manifest_parts *,
	    struct store_manifest **out);
/* Parses and checks untrusted manifest bytes; STORE_EINVAL names what is
 * wrong.  *out is the caller's. */
int	store_manifest_parse(const void *, size_t, struct store_manifest **);
void	store_manifest_free(struct store_manifest *);
/* Predicate: a partial mirror, its source naming include or exclude
 * filters.  It does not take its commit id as a ref (a whole revision
 * of that commit would). */
int	store_manifest_partial(const struct store_manifest *);
/* The file at path, owned by the manifest; NULL if it has none. */
const struct store_file *store_manifest_file(const struct store_manifest *,
	    const char *path);

/*
 * Model cards (card.c): the YAML front matter of README.md.  card gets the
 * front matter as JSON (an empty object when there is none); claims gets
 * the manifest's claims (license, license_name, license_link, base_model,
 * base_model_relation, datasets).  Either out pointer may be NULL; what
 * they get is the caller's (json_decref).  STORE_EINVAL for front matter
 * that is not YAML or passes BOUND_YAML_*.
 */
int	store_card_parse(const void *, size_t, json_t **card, json_t **claims);

/*
 * Ingest (ingest.c): writing chunks, blobs and revisions.  An ingest holds the
 * store's shared write lock (gc waits for it) and a write transaction that is
 * committed every STORE_BATCH bytes of new chunks, so memory stays bounded.
 * Nothing is visible as a revision until store_ingest_revision() commits;
 * chunks of an ingest that never commits are removed by the next gc.
 */
struct store_ingest;
struct store_kvtxn;		/* store_kv_txn(), below */
/* The handle lives until fn returns: it is the transaction's. */
typedef int (*store_kvtxn_fn)(void *arg, struct store_kvtxn *);

/* Fills buf with up to len bytes: their count, 0 at the end, -1 with
 * errno set on a failure (read(2)'s contract).  buf is the caller's and
 * serves only until fn returns. */
typedef ssize_t (*store_read_fn)(void *arg, void *buf, size_t len);
/* bytes: how many so far (a number: nothing outlives the call). */
typedef void (*store_progress_fn)(void *arg, uint64_t bytes);

struct store_blobinfo {
	uint8_t		sha256[STORE_HASH_LEN];
	uint64_t	size;
	uint8_t		git_sha1[STORE_SHA1_LEN];	/* of the content */
	uint32_t	nchunks;
	uint64_t	new_bytes;	/* chunk bytes this store lacked */
	uint64_t	new_chunks;	/* and how many chunks they were */
	uint64_t	resumed;	/* bytes read back from a partial */
};

/* One ingest per struct store at a time (the lock is per open file);
 * it waits for a gc to end.  *out is freed by store_ingest_free(). */
int	store_ingest_begin(struct store *, struct store_ingest **);
void	store_ingest_progress(struct store_ingest *, store_progress_fn, void *);
/*
 * Reads one file through fn until it returns 0, chunking and hashing it on
 * worker threads while this thread writes.  size is the expected size (the
 * read must end there, or STORE_EINVAL) or -1 when unknown.  The git sha1
 * is computed only with STORE_INGEST_SHA1 (large LFS files do not need it);
 * without it info->git_sha1 is all zeroes.
 */
#define STORE_INGEST_SHA1	0x01	/* also compute the git blob sha1 */
int	store_ingest_file(struct store_ingest *, store_read_fn, void *arg,
	    int64_t size, unsigned flags, struct store_blobinfo *);
/*
 * store_ingest_file for a file whose content is known before it is read:
 * sha256 of size bytes (a mirror's LFS file).  Its chunks are recorded in
 * the STORE_PARTIAL table as each batch commits, and committed when a read
 * fails, so that a later ingest of the same content (after a kill -9, a
 * dropped connection, a full disk) resumes: the chunks recorded that the
 * store still holds are read back from the store and rehashed with the
 * rest, *from is set to the byte where they end before fn is first
 * called, and fn gives the bytes from there on.  The record goes in the
 * transaction that writes the blob.  The content is not checked against
 * sha256 here (the caller compares info->sha256).
 */
int	store_ingest_file_known(struct store_ingest *,
	    const uint8_t sha[STORE_HASH_LEN], uint64_t *from, store_read_fn,
	    void *arg, int64_t size, unsigned flags, struct store_blobinfo *);
/*
 * Whether the store holds the blob sha of size bytes, as the ingest sees
 * it: 0 (info filled; its git_sha1 all zeroes when none was recorded),
 * STORE_ENOTFOUND, or an error.
 */
int	store_ingest_blob_held(struct store_ingest *,
	    const uint8_t sha[STORE_HASH_LEN], uint64_t size,
	    struct store_blobinfo *);
/*
 * Adds one chunk whose bytes arrived from elsewhere (a bundle, a peer): the
 * bytes are hashed and must match.  *isnew says whether it was missing.
 */
int	store_ingest_chunk(struct store_ingest *, const uint8_t sha[STORE_HASH_LEN],
	    const void *, size_t, int *isnew);
/*
 * Adds a blob made of chunks already in the store (or added by this
 * ingest): they are read back, the whole is hashed and must match.  info
 * (may be NULL) gets its size, chunk count and git sha1 (all zeroes when
 * the store does not keep it: files over 10 MiB); new_bytes stays 0.
 */
struct store_chunkref {
	uint8_t		sha256[STORE_HASH_LEN];
	uint32_t	len;
};
int	store_ingest_blob(struct store_ingest *, const uint8_t sha[STORE_HASH_LEN],
	    uint64_t size, const struct store_chunkref *, size_t nchunks,
	    struct store_blobinfo *info);

/* A signature to store with a revision. */
struct store_sig {
	uint8_t		 keyid[8];
	const char	*text;
	size_t		 len;
};

/*
 * Commits a revision: the manifest (every blob it names must be present),
 * the ref "ref" (a branch or tag, may be NULL) and the commit id both
 * pointing at it, a reflog entry with why, and its signatures.  The
 * commit is durable (synced) when this returns 0.  The ingest stays usable.
 * Commit ids never move: one that the store has for another manifest
 * fails with STORE_EIMMUTABLE, naming the ref and both digests, and the
 * pending transaction is aborted (nothing of the revision is written; the
 * ingest is then unusable).  The same manifest again changes nothing.
 */
int	store_ingest_revision(struct store_ingest *, const struct store_manifest *,
	    const char *ref, const char *why, const struct store_sig *, size_t nsigs);
/*
 * fn runs inside the write transaction of every revision commit of this
 * ingest, as in store_kv_txn(): its records are committed with the
 * revision, and its error refuses the revision (and ends the ingest).
 */
void	store_ingest_kv(struct store_ingest *, store_kvtxn_fn, void *);
int	store_ingest_end(struct store_ingest *);	/* commit what is pending */
void	store_ingest_free(struct store_ingest *);	/* abort what is pending */

/*
 * Refs (refs.c).  A revision string is a branch or tag name, a commit id (40
 * hex, or a unique prefix of at least 7), "sha256:<manifest digest>", or
 * NULL/""/ "HEAD" for "main".
 */
struct store_ref {
	const char	*type;
	const char	*repo;
	const char	*name;		/* "main", "v1.0", or a 40-hex commit */
	uint8_t		 digest[STORE_HASH_LEN];
	int		 is_commit;	/* name is the revision's own commit id */
	int		 is_tag;	/* a tag (store_tag): it never moves */
};
/* The ref and its strings live until fn returns. */
typedef int (*store_ref_fn)(void *arg, const struct store_ref *);

/*
 * The manifest digest rev names.  STORE_EINVAL for a repository id that
 * is not one or an ambiguous commit prefix, STORE_ENOREPO for a
 * repository with no ref at all, STORE_ENOTFOUND for a repository that
 * has refs but not this revision, STORE_ECORRUPT for a damaged ref.
 */
int	store_resolve(struct store *, const char *type, const char *repo,
	    const char *rev, uint8_t digest[STORE_HASH_LEN]);
/* Every ref of one repository (type, repo), of one type (type, NULL), or
 * of all (NULL, NULL), in key order.  A damaged ref is skipped. */
int	store_refs(struct store *, const char *type, const char *repo,
	    store_ref_fn, void *);
/* 0 if the repository has a ref, STORE_ENOREPO if not (one seek), or an
 * error. */
int	store_repo_exists(struct store *, const char *type, const char *repo);
/* Which type a repository has: "model" if it exists as one, else
 * "dataset", else STORE_ENOTFOUND.  *type is static. */
int	store_repo_type(struct store *, const char *repo, const char **type);
/*
 * store_ref_set points a branch at a stored manifest (STORE_ENOTFOUND if it
 * is not stored, STORE_EIMMUTABLE for a commit id or tag that names
 * another, STORE_EINVAL for a name that is not a branch's);
 * store_ref_delete drops any ref (STORE_ENOTFOUND if there is none).
 * Both write the reflog.
 */
int	store_ref_set(struct store *, const char *type, const char *repo,
	    const char *name, const uint8_t digest[STORE_HASH_LEN], const char *why);
int	store_ref_delete(struct store *, const char *type, const char *repo,
	    const char *name, const char *why);

/*
 * Tags and removal (refs.c).  store_tag names a stored manifest by a tag,
 * a name that never moves: *made is 1 when it was made, 0 when it named
 * the same already (nothing is written).  STORE_EIMMUTABLE (naming both
 * digests) when it names another, STORE_EEXIST when name is a branch's,
 * STORE_ENOTFOUND for a manifest not stored, STORE_EINVAL for a name that
 * is not a tag's (one shaped like a commit id).
 *
 * store_rm deletes the ref name of a repository, or (name NULL) every
 * branch of it, in one transaction, each with a reflog entry of who and
 * why.  Tags and commit ids go only with STORE_RM_FORCE: without it a
 * named one is STORE_EIMMUTABLE and the whole repository's are kept and
 * counted.  STORE_ENOTFOUND for no such ref or repository.  What no ref
 * and no pin names any more is gc's to reclaim.
 */
int	store_tag(struct store *, const char *type, const char *repo,
	    const char *name, const uint8_t digest[STORE_HASH_LEN],
	    const char *why, int *made);
#define STORE_RM_FORCE	0x01
struct store_rm_result {
	uint64_t	branches, tags, commits;	/* deleted */
	uint64_t	kept_tags, kept_commits;	/* not forced */
};
int	store_rm(struct store *, const char *type, const char *repo,
	    const char *name, unsigned flags, const char *who, const char *why,
	    struct store_rm_result *);

/*
 * Reflog entries of a repository's refs (refs.c), oldest first for each
 * ref (value: {"old","new","who","why","time"}; "old" is absent for a ref
 * made, "new" for one deleted, "who" unless a person asked, as rm does).
 * ref and entry live until fn returns (json_incref to keep entry).  An entry that is not JSON is skipped.
 */
typedef int (*store_reflog_fn)(void *arg, const char *ref, json_t *entry);
int	store_reflog(struct store *, const char *type, const char *repo,
	    store_reflog_fn, void *);

/*
 * The repository index (repos.c): a record per repository, written in
 * the transaction that moves its refs, so that listing every repository
 * reads one small table and no manifest.  A record describes the
 * revision "main" names (or, without a main, the first branch or tag):
 * its commit, its time (the manifest's "created": the Hub's
 * lastModified), when the repository got its first ref (createdAt), its
 * card's front matter and the tags derived from it (store_card_tags),
 * and the downloads counted for it (store_downloads_add).
 *
 * Everything a record points to lives until fn returns.  tags holds
 * ntags NUL-terminated strings back to back; card is the front matter
 * as compact JSON text, cardlen bytes (0 when there is no card).
 */
struct store_repo {
	const char	*type;
	const char	*repo;
	uint8_t		 digest[STORE_HASH_LEN];
	char		 commit[STORE_COMMIT_LEN + 1];
	int64_t		 created;	/* unix seconds */
	int64_t		 modified;	/* unix milliseconds */
	uint64_t	 downloads;
	const char	*pipeline_tag;	/* "" when the card names none */
	const char	*library_name;	/* "" likewise */
	const char	*tags;
	size_t		 ntags;
	const char	*card;
	size_t		 cardlen;
};
/* The record and everything it points to live until fn returns. */
typedef int (*store_repo_fn)(void *arg, const struct store_repo *);
/* Every repository of a type (NULL: both), in id order, under one read
 * transaction.  A record that does not parse is skipped. */
int	store_repos(struct store *, const char *type, store_repo_fn, void *);
/* One repository's record: STORE_ENOTFOUND when it has no ref. */
int	store_repo_get(struct store *, const char *type, const char *repo,
	    store_repo_fn, void *);
/*
 * Adds counts to the repositories' download counters, all in one write
 * transaction (a daemon counts in memory and calls this now and then).
 * A repository the store does not have is skipped.
 */
struct store_count {
	const char	*type;
	const char	*repo;
	uint64_t	 n;
};
int	store_downloads_add(struct store *, const struct store_count *,
	    size_t n);
/*
 * The Hub's tags for a card's front matter (card may be NULL): its tags,
 * its library_name and pipeline_tag, its languages, "license:ID",
 * "dataset:ID" and "base_model:ID", each once, in that order.  A new
 * array, the caller's.
 */
json_t	*store_card_tags(json_t *card);

/*
 * Stored manifests (read.c).  store_manifest_get: the manifest with this
 * digest, checked against it; *out is the caller's (store_manifest_free);
 * STORE_ENOTFOUND, or STORE_ECORRUPT for bytes that do not parse or hash
 * to it.  store_manifest_has is a lookup, not a predicate: 0 when the
 * store holds it, STORE_ENOTFOUND when not, or the read's error.
 */
int	store_manifest_get(struct store *, const uint8_t digest[STORE_HASH_LEN],
	    struct store_manifest **);
int	store_manifest_has(struct store *, const uint8_t digest[STORE_HASH_LEN]);

/*
 * Signatures kept for a manifest, by key id (sigs.c).  store_sig_put fails
 * with STORE_ENOTFOUND if the manifest is not stored, STORE_EINVAL for an
 * empty one or one over BOUND_SIGFILE.  keyid and text (len bytes, not
 * NUL-terminated) live until fn returns.
 */
typedef int (*store_sig_fn)(void *arg, const uint8_t keyid[8], const char *text,
	    size_t len);
int	store_sig_put(struct store *, const uint8_t digest[STORE_HASH_LEN],
	    const uint8_t keyid[8], const char *text, size_t len);
int	store_sigs(struct store *, const uint8_t digest[STORE_HASH_LEN],
	    store_sig_fn, void *);

/*
 * Blobs and chunks (read.c).  Each lookup fails with STORE_ENOTFOUND for a
 * blob or chunk the store lacks and STORE_ECORRUPT for a damaged record.
 * store_blob_read copies up to len bytes of a blob from
 * offset off into buf (*got is less than len only at the end), under one
 * short read transaction.  store_blob_chunks calls fn for each chunk in
 * order.
 */
int	store_blob_stat(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    struct store_blobinfo *);
/* The blob's git sha1, from its record or computed from its chunks. */
int	store_blob_sha1(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    uint8_t out[STORE_SHA1_LEN]);
/* Every blob record, in sha256 order: info's sha256, size and git_sha1
 * (all zeroes when none was recorded); info lives until fn returns. */
typedef int (*store_blob_fn)(void *arg, const struct store_blobinfo *);
int	store_blobs_each(struct store *, store_blob_fn, void *);
int	store_blob_read(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    uint64_t off, void *buf, size_t len, size_t *got);

/*
 * Where a blob's bytes lie in the store's data file, for sendfile(2).  A
 * view is a read transaction held open: while it lives, LMDB reuses none
 * of the pages it can see, so the places found under it stay valid.  A
 * view belongs to one thread at a time but may move between threads.
 *
 * A chunk of half a page or more has pages of its own, which only a gc
 * frees, and a gc changes the generation: its extent, found under one
 * view, is right under any view of the same generation, so a reader may
 * keep it across views.  A smaller chunk lies inside a B-tree leaf that
 * any later write may move and free (STORE_EXTENT_LEAF): its place is
 * right only under the view that found it, and store_view_extents does
 * not give it (at is 0); store_view_extent finds it under the view that
 * will send it.
 */
struct store_view;
struct store_extent {
	uint64_t	off;		/* in the blob */
	uint64_t	at;		/* in the data file */
	uint32_t	len;
	uint32_t	flags;
};
#define STORE_EXTENT_LEAF	0x1	/* in a leaf page: see above */
/* ENOTSUP when the store's data file could not be found.  *out is freed
 * by store_view_close(), before the store closes. */
int		 store_view_open(struct store *, struct store_view **);
void		 store_view_close(struct store_view *);
uint64_t	 store_view_generation(const struct store_view *);
int		 store_view_fd(const struct store_view *);
/*
 * Every chunk of a blob, in order, as an array the caller frees (free(3));
 * the blob's pages
 * are not touched, and the tree's pages that were are unmapped as it goes,
 * so a blob of any size adds a bounded amount to the resident size.
 */
int		 store_view_extents(struct store_view *,
		    const uint8_t sha[STORE_HASH_LEN], struct store_extent **,
		    size_t *n);
/* The extent of the blob's chunk that starts at off, under this view. */
int		 store_view_extent(struct store_view *,
		    const uint8_t sha[STORE_HASH_LEN], uint64_t off,
		    struct store_extent *);
/*
 * Returns once bytes [at, at + len) of the data file are in the page
 * cache: a disk read waits here, not in whoever sends them.
 */
int		 store_view_prefetch(struct store_view *, uint64_t at,
		    uint64_t len);
/*
 * Writes a whole blob to fd, checking each chunk against its hash on the
 * way (cat, checkout): bytes that rotted are never handed out.
 */
int	store_blob_write(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    int fd, store_progress_fn, void *);
/* sha lives until fn returns. */
typedef int (*store_chunk_fn)(void *arg, uint64_t off,
	    const uint8_t sha[STORE_HASH_LEN], uint32_t len);
int	store_blob_chunks(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    store_chunk_fn, void *);
/* A lookup, as store_manifest_has: 0 when the store holds the chunk,
 * STORE_ENOTFOUND when not, or the read's error. */
int	store_chunk_has(struct store *, const uint8_t sha[STORE_HASH_LEN]);
/* Copies a chunk's bytes into buf (at least STORE_CHUNK_MAX bytes);
 * ENOBUFS if they do not fit. */
int	store_chunk_get(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    void *buf, size_t bufsize, size_t *len);
/* Calls fn for every chunk in the store, in hash order; sha lives until
 * fn returns. */
typedef int (*store_chunkid_fn)(void *arg, const uint8_t sha[STORE_HASH_LEN]);
int	store_chunks_each(struct store *, store_chunkid_fn, void *);

/*
 * Verification (verify.c): rehashes every chunk of a blob and the blob as a
 * whole, and with STORE_VERIFY_SHA1 its git sha1 too (when one is recorded).
 * STORE_ECORRUPT names the chunk and offset in store_lasterror().
 */
#define STORE_VERIFY_SHA1	0x1
int	store_verify_blob(struct store *, const uint8_t sha[STORE_HASH_LEN],
	    int flags, store_progress_fn, void *);

/*
 * Pins keep a revision through gc and name it for deployments (pins.c).
 * A name is 1 to BOUND_PIN_NAME bytes without control characters
 * (STORE_EINVAL), a note at most BOUND_NOTE; store_pin_put fails with
 * STORE_ENOTFOUND if the manifest is not stored; store_pin_get and
 * store_pin_delete with STORE_ENOTFOUND for no such pin, store_pin_get
 * with STORE_ECORRUPT for a damaged one (store_pins skips those).
 */
struct store_pin {
	const char	*name;
	uint8_t		 digest[STORE_HASH_LEN];
	const char	*target;	/* what was pinned: "model/ORG/NAME@REV" */
	const char	*note;
	int64_t		 time;
};
/* The pin's strings live until fn returns. */
typedef int (*store_pin_fn)(void *arg, const struct store_pin *);
int	store_pin_get(struct store *, const char *name,
	    uint8_t digest[STORE_HASH_LEN]);
int	store_pin_put(struct store *, const char *name,
	    const uint8_t digest[STORE_HASH_LEN], const char *target,
	    const char *note);
int	store_pin_delete(struct store *, const char *name);
int	store_pins(struct store *, store_pin_fn, void *);

/*
 * Garbage collection (gc.c, with compaction and the stats): mark from refs
 * (commit ids too, unless a retention lets them go), pins and the
 * partial files of interrupted mirror transfers (STORE_PARTIAL, which a
 * rerun resumes), sweep manifests, blobs and chunks nothing reaches.
 * With STORE_GC_PARTIALS the partial files are dropped too, and their
 * chunks swept with the rest.  Fails with STORE_EBUSY while an ingest
 * runs, and with
 * STORE_ECORRUPT, sweeping nothing, when a root, a manifest it reaches (checked
 * against its digest) or a chunk map entry cannot be read.
 */
struct store_gc_result {
	uint64_t	manifests;
	uint64_t	blobs;
	uint64_t	chunks;
	uint64_t	chunk_bytes;
	uint64_t	commits;	/* commit ids a retention let go */
	uint64_t	partials;	/* partial files dropped */
	uint64_t	file_before;	/* data file size, for --compact */
	uint64_t	file_after;
};
#define STORE_GC_DRY_RUN	0x01	/* count, sweep nothing */
#define STORE_GC_PARTIALS	0x02	/* drop the partial files too */
int	store_gc(struct store *, unsigned flags, struct store_gc_result *);
/*
 * The same with a retention, when keep_last >= 0: each branch keeps the
 * last keep_last distinct revisions it pointed at (its reflog says which;
 * the one it names now is the first), a deleted branch none, and the
 * commit ids of the revisions branches let go before those are deleted
 * (with a reflog entry) and swept, unless a tag, a branch, a pin or the
 * retention of another branch keeps the revision.  keep_last -1 is
 * store_gc: every commit id is a root.
 */
int	store_gc_keep(struct store *, unsigned flags, int keep_last,
	    struct store_gc_result *);
/* Rewrites the data file without free pages; no other process may have
 * the store open (STORE_EBUSY). */
int	store_compact(struct store *, struct store_gc_result *);

struct store_stats {
	uint64_t	repos;
	uint64_t	revisions;	/* manifests */
	uint64_t	refs;
	uint64_t	blobs;
	uint64_t	chunks;
	uint64_t	chunk_bytes;	/* stored: sum of chunk lengths */
	uint64_t	logical_bytes;	/* sum of file sizes over all revisions */
	uint64_t	unique_bytes;	/* sum of blob sizes */
	uint64_t	chunk_pages;	/* pages the chunks occupy */
	uint64_t	page_size;
	uint64_t	file_bytes;	/* size of the data file */
	uint64_t	free_pages;
	uint64_t	pins;
	uint64_t	map_size;	/* address space mapped: grows */
	uint64_t	map_used;	/* of it, what the data file uses */
};
int	store_stats(struct store *, struct store_stats *);

/*
 * Small tables for other parts (table.c; the keyring, releases, settings):
 * opaque values under keys of 1 to BOUND_TABLE_KEY bytes (STORE_EINVAL),
 * each put or delete its own transaction.  store_kv_get's *val is
 * malloc'd, NUL-terminated past vlen, the caller's to free; it and
 * store_kv_delete fail with STORE_ENOTFOUND for a key not there.  A new
 * table is a name here, before STORE_NTABLES, and its LMDB name in env.c's
 * kvnames[]: nothing else.
 */
enum store_table {
	STORE_TRUST,		/* key id -> trust record */
	STORE_RELEASE,		/* key id -> highest release seen */
	STORE_SETTING,		/* name -> value */
	STORE_PARTIAL,		/* sha256 ‖ size ‖ index (be) -> chunk sha256 ‖
				 * length (be32): the chunks of a file that
				 * an interrupted ingest wrote so far, in
				 * order (store_ingest_file_known) */
	STORE_REPOS,		/* "type/repo" -> index record (repos.c) */
	STORE_DOWNLOADS,	/* "type/repo" -> downloads, big-endian u64 */
	STORE_NTABLES		/* not a table: how many there are */
};
int	store_kv_get(struct store *, enum store_table, const void *key,
	    size_t klen, void **val, size_t *vlen);
int	store_kv_put(struct store *, enum store_table, const void *key,
	    size_t klen, const void *val, size_t vlen);
int	store_kv_delete(struct store *, enum store_table, const void *key,
	    size_t klen);
/* key and val live until fn returns. */
typedef int (*store_kv_fn)(void *arg, const void *key, size_t klen,
	    const void *val, size_t vlen);
int	store_kv_each(struct store *, enum store_table, store_kv_fn, void *);
/*
 * Reads and writes of the small tables that must go together (a check and
 * the record it guards, a counter and what it numbers): fn runs inside one
 * write transaction, gets and puts through the handle, and what it put is
 * committed when it returns 0, nothing when it returns an error (which is
 * returned).  Write transactions never interleave, so no other writer
 * comes between fn's reads and its writes.  A value got is valid until fn
 * returns (or puts again) and is not NUL-terminated; a get of a key not
 * there is STORE_ENOTFOUND.
 */
int	store_kv_txn(struct store *, store_kvtxn_fn, void *);
int	store_kvtxn_get(struct store_kvtxn *, enum store_table, const void *key,
	    size_t klen, const void **val, size_t *vlen);
int	store_kvtxn_put(struct store_kvtxn *, enum store_table, const void *key,
	    size_t klen, const void *val, size_t vlen);

/*
 * Sources for add (source.c): a folder or an archive (.tar, .tar.gz, .tar.xz,
 * .zip) of one.  Opening walks (or reads through) it all and refuses, before
 * anything is written, paths with "..", absolute paths, links that leave it,
 * devices, duplicate names and more than BOUND_FILES files.  An archive whose
 * entries all sit in one top folder is read as that folder.
 */
struct store_source;
struct store_entry {
	const char	*path;		/* relative, '/'-separated, valid */
	uint64_t	 size;
	const char	*target;	/* folders: where a link led, or NULL */
};
/* *out is freed by store_source_free() (NULL is a no-op). */
int	store_source_open(const char *path, struct store_source **);
/* A folder whose links may lead anywhere inside root (a HF cache's
 * snapshot, whose files are links into ../../blobs). */
int	store_source_open_within(const char *path, const char *root,
	    struct store_source **);
/* For fuzzing and tests: an archive held in memory. */
int	store_source_open_memory(const void *, size_t, struct store_source **);
size_t	store_source_count(const struct store_source *);
/* The entry and its strings live as the source. */
const struct store_entry *store_source_entry(const struct store_source *,
	    size_t);
uint64_t store_source_bytes(const struct store_source *);
/* The entry's bytes, whole, for small files such as a model card: *buf
 * is malloc'd, the caller's; EFBIG past max. */
int	store_source_slurp(struct store_source *, size_t idx, size_t max,
	    char **buf, size_t *len);
/* Visits every entry in order with a read function over its bytes; the
 * function and rarg serve only until fn returns. */
typedef int (*store_entry_fn)(void *arg, size_t idx, store_read_fn, void *rarg);
int	store_source_each(struct store_source *, store_entry_fn, void *);
void	store_source_free(struct store_source *);
/*
 * The manifest claims of a source's model card (README.md; revision.c):
 * *claims is a new reference the caller owns, or NULL when there is no
 * card.  A card that does not parse is STORE_EINVAL, the detail naming
 * README.md.
 */
int	store_source_claims(struct store_source *, json_t **claims);

/*
 * Revisions (revision.c): the one pipeline from files to a signed
 * revision, shared by add, a HF cache's import, the mirror and uploads.
 * store_revision_add takes the store's ingest, calls feed, which hands
 * over every file with store_revision_put (its bytes through a read
 * function), builds the manifest from parts and those files, has sign
 * sign it (the store holds no keys) and commits it with ref in one
 * transaction.  Nothing becomes a
 * revision before that commit: an error at any step leaves none.
 *
 * A revision the store has already is the answer again (res->unchanged),
 * when asked: with STORE_REVISION_KEEP, the one ref names, if it has the
 * same source, files and claims (nothing is committed); with
 * STORE_REVISION_KEEP_COMMIT, the one parts.commit names, if it has the
 * same files and claims (it was signed when it came: at most ref moves to
 * it, unsigned).
 *
 * Ownership: everything the spec and a store_revision_file point to stays
 * the caller's and need only live until the call it is passed to returns
 * (the pipeline copies paths).  The manifest sign is given lives until
 * store_revision_add returns; sign fills sig->text from malloc(3) and the
 * pipeline frees it.  res->manifest is the caller's (store_manifest_free).
 * The struct store_revision feed is given lives only while feed runs, on
 * the thread that called store_revision_add (the ingest is that thread's).
 *
 * Errors: 0, or a store code with store_lasterror(); res->step says which
 * step stopped, res->failed is the path of the file it is about (the
 * caller's own pointer) or NULL.  A nonzero return of feed or sign stops
 * the pipeline and is returned as it is, so a caller may use its own codes.
 */
struct store_revision;
struct store_revision_file {
	const char	*path;		/* in the revision */
	int64_t		 size;		/* the read must end there; -1: unknown */
	int		 lfs;		/* kept as an LFS file */
	const uint8_t	*sha256;	/* the content must have it, or NULL */
	const uint8_t	*git_sha1;	/* its git blob id (of the pointer for
					 * LFS, as the Hub has it), or NULL */
	/*
	 * With sha256 and a size: a blob the store holds with both is put
	 * without a read (reuse), and a partial of it is resumed
	 * (resume_from not NULL; see store_ingest_file_known, whose *from
	 * it is).
	 */
	int		 reuse;
	uint64_t	*resume_from;
};
/* From feed, any number of times: reads one file through rd until it
 * returns 0.  A file whose bytes do not match what was expected is
 * STORE_ECORRUPT. */
int	store_revision_put(struct store_revision *,
	    const struct store_revision_file *, store_read_fn rd, void *rarg);
/*
 * From feed, for a file whose bytes arrive as chunks (a chained pull):
 * each chunk the store lacks with store_revision_chunk (hashed first:
 * STORE_ECORRUPT names the chunk when its bytes are not its hash's; *isnew
 * says whether the store lacked it), then the file with
 * store_revision_blob from its chunk list, read back from the store and
 * checked whole against in->sha256 (required) and in->git_sha1 where the
 * store knows the content's (STORE_ECORRUPT).  in->size must be the
 * chunks' sum.
 */
int	store_revision_chunk(struct store_revision *,
	    const uint8_t sha[STORE_HASH_LEN], const void *, size_t,
	    int *isnew);
int	store_revision_blob(struct store_revision *,
	    const struct store_revision_file *, const struct store_chunkref *,
	    size_t nchunks);
/* The handle lives until feed returns: it is the revision's, and is used
 * only through store_revision_put, _chunk and _blob. */
typedef int (*store_revision_feed_fn)(void *arg, struct store_revision *);
/* A feed for a store_source (arg): every entry, LFS by store_lfs_by_name,
 * as a local add has them. */
int	store_revision_feed_source(void *src, struct store_revision *);
/* Signs the manifest, which lives until fn returns, filling in *sig:
 * sig->text is malloc'd and the store frees it, on failure too. */
typedef int (*store_sign_fn)(void *arg, const struct store_manifest *,
	    struct store_sig *);

#define STORE_REVISION_KEEP		0x01	/* ref's, if the same */
#define STORE_REVISION_KEEP_COMMIT	0x02	/* the commit id's, if the same */
/*
 * A revision made elsewhere (a chained pull) is committed as it is: with
 * manifest set, parts are not used, feed must put exactly the manifest's
 * files (path, size, sha256, git blob id, LFS or not; else STORE_EINVAL
 * naming the first that differs), and the manifest's own bytes are
 * committed, so that the signatures made of them elsewhere (sigs) hold;
 * they are kept with sign's.  kv, if set, runs in the commit's write
 * transaction, as store_ingest_kv() says.
 */
struct store_revision_spec {
	struct store_manifest_parts	 parts;	/* files, nfiles: from feed */
	const struct store_manifest	*manifest;	/* or NULL: from parts */
	const struct store_sig		*sigs;	/* kept besides sign's */
	size_t				 nsigs;
	const char			*ref;	/* branch or tag to move, or NULL */
	const char			*why;	/* for the reflog */
	unsigned			 flags;
	store_revision_feed_fn		 feed;
	void				*feed_arg;
	store_sign_fn			 sign;	/* NULL: unsigned */
	void				*sign_arg;
	store_kvtxn_fn			 kv;	/* NULL: none */
	void				*kv_arg;
	store_progress_fn		 progress;	/* may be NULL */
	void				*progress_arg;
};
enum store_revision_step {
	STORE_REVISION_BEGIN,		/* taking the ingest */
	STORE_REVISION_FILES,		/* feed and its files */
	STORE_REVISION_MANIFEST,	/* building it from its parts */
	STORE_REVISION_SIGN,
	STORE_REVISION_COMMIT,
};
struct store_revision_result {
	struct store_manifest		*manifest;
	int				 unchanged;
	uint64_t			 bytes;		/* of the files */
	uint64_t			 new_bytes;	/* chunk bytes added */
	uint64_t			 new_chunks;
	uint64_t			 held;		/* of files put without a
							 * read (reuse) */
	uint64_t			 resumed;	/* read back from partials */
	enum store_revision_step	 step;
	const char			*failed;
};
int	store_revision_add(struct store *, const struct store_revision_spec *,
	    struct store_revision_result *res);

/*
 * Bundles (airlock.bundle/v1; inventory.c, export.c writes, bundle.c
 * reads): a pax tar, maybe split in volumes
 * NAME.001, NAME.002, ..., carrying revisions across the air gap.  The
 * index comes first and is signed; the store writes and reads the bytes,
 * the caller signs and judges (keys/), so that nothing in a bundle is
 * interpreted before its signature is checked.
 */
struct store_bundle_rev {
	const char	*type;
	const char	*repo;
	const char	*ref;		/* the branch or tag it is published as */
	uint8_t		 digest[STORE_HASH_LEN];
};

/* What the receiver already holds: sorted chunk hashes. */
struct store_inventory {
	char		  store[33];
	size_t		  n;
	uint8_t		(*chunks)[STORE_HASH_LEN];
};
int	store_inventory_write(struct store *, int fd);
/* *out is freed by store_inventory_free(); STORE_EINVAL or
 * STORE_EVERSION for bytes that are not an inventory. */
int	store_inventory_parse(const void *, size_t, struct store_inventory **);
void	store_inventory_free(struct store_inventory *);

struct store_export;
/*
 * Plans a bundle of the revisions: every manifest and its signatures, and
 * every chunk they need that have (may be NULL) lacks, in the order the
 * files need them.  release is the signed-for release document, carried
 * in the index.  *index is the index's canonical bytes, to be signed;
 * they live as long as the plan, which store_export_free() frees.
 */
int	store_export_plan(struct store *, const struct store_bundle_rev *,
	    size_t nrevs, const char *release, size_t release_len,
	    const struct store_inventory *have, uint64_t split,
	    struct store_export **, const char **index, size_t *index_len);
/* Writes it: path itself, or path.001, path.002, ... with a split. */
int	store_export_write(struct store *, struct store_export *,
	    const char *sig, size_t siglen, const char *path,
	    store_progress_fn, void *);
struct store_bundle_stats {
	uint64_t	revisions;
	uint64_t	chunks;		/* carried (export) or new (import) */
	uint64_t	chunk_bytes;
	uint64_t	omitted;	/* left out: the receiver has them */
	uint64_t	volumes;
	uint64_t	bytes;		/* of the bundle */
};
void	store_export_stats(const struct store_export *,
	    struct store_bundle_stats *);
void	store_export_free(struct store_export *);

struct store_bundle;
struct store_bundle_sig {
	uint8_t		 keyid[8];
	const char	*text;
	size_t		 len;
};
struct store_bundle_revinfo {
	const char		*type;
	const char		*repo;
	const char		*ref;
	const char		*commit;
	uint8_t			 digest[STORE_HASH_LEN];
	const char		*manifest;	/* its bytes, after check */
	size_t			 manifest_len;
	struct store_bundle_sig	*sigs;
	size_t			 nsigs;
};
/*
 * Opens a bundle (finding its volumes by name) and reads its first two
 * entries, the index and its signature, without interpreting either.
 * *out is freed by store_bundle_free(); what the store_bundle_* getters
 * return lives as the bundle.
 */
int	store_bundle_open(const char *path, struct store_bundle **);
void	store_bundle_header(const struct store_bundle *, const char **index,
	    size_t *ilen, const char **sig, size_t *slen);
/*
 * After the caller has checked the signature over the index: parses the
 * index, then reads the whole bundle once, hashing every entry and
 * refusing any the index does not list, without touching a store.  Then
 * the revisions, their manifests and signatures may be judged.
 */
int	store_bundle_check(struct store_bundle *, store_progress_fn, void *);
const char *store_bundle_release(const struct store_bundle *, size_t *len);
size_t	store_bundle_nrevs(const struct store_bundle *);
const struct store_bundle_revinfo *store_bundle_rev(const struct store_bundle *,
	    size_t);
uint64_t store_bundle_size(const struct store_bundle *);
/*
 * After check: the bytes of a blob of at most 1 MiB (BOUND_CARD: a card,
 * a licence file, a config) that the bundle carries whole, kept by the
 * check (up to 32 MiB in all), so that the licence gate can judge a
 * revision before anything is written.  *buf is malloc'd, the caller's;
 * STORE_ENOTFOUND for a blob not kept (larger, left out, or past that).
 */
int	store_bundle_blob(const struct store_bundle *,
	    const uint8_t sha[STORE_HASH_LEN], char **buf, size_t *len);
/*
 * Keeps signature sig of revision rev under keyid: the caller has verified
 * it (the store knows no keys) and names the key that made it, whatever
 * the index claims.  The import stores only the signatures kept.
 */
int	store_bundle_sig_keep(struct store_bundle *, size_t rev, size_t sig,
	    const uint8_t keyid[8]);
/*
 * Reads the bundle again into the store: each chunk hashed before it is
 * written, each blob checked whole, each revision committed only when all
 * it needs is there, with kv (if not NULL) run in its commit, as
 * store_ingest_kv() says.  What an interrupted import wrote is kept, so a
 * second run resumes; a second run of a finished import changes nothing.
 */
int	store_bundle_import(struct store *, struct store_bundle *,
	    store_kvtxn_fn, void *, store_progress_fn, void *,
	    struct store_bundle_stats *);
void	store_bundle_free(struct store_bundle *);
/* For fuzzing: the index parser alone. */
int	store_bundle_index_check(const void *, size_t);

#endif
