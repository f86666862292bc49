/*
 * gc.c - garbage collection, compaction and statistics.
 *
 * gc marks from every ref (branches, tags and commit ids alike: a revision
 * named by its commit id alone is still asked for by that id) and every
 * pin, and sweeps the manifests, blobs and chunks that nothing reaches, in
 * one write transaction.  It holds the store's write lock alone, so an add
 * or import in progress, whose chunks no revision names yet, is never
 * swept.  The partial files that interrupted mirror transfers recorded
 * (STORE_PARTIAL) are roots as well: a pull run again resumes them, and
 * a kill -9 must not cost the bytes already fetched because a gc ran in
 * between.  They are reclaimed when their file completes, or by a gc told
 * to drop them (airlock gc --partial).  What it cannot read it cannot mark: a root, manifest or chunk map
 * that is damaged stops gc before it sweeps anything.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "lib/crash.h"
#include "lib/names.h"
#include "store/internal.h"

/*
 * With a retention (keep_last >= 0), commit ids are roots only when no
 * branch let their revision go: keep holds what names, pins and the last
 * keep_last revisions of each branch keep; letgo what branches pointed at
 * before those; drop the keys of the commit ids to delete.
 */
struct mark {
	struct store	*st;
	MDB_txn		*txn;
	struct hset	 manifests, blobs, chunks;
	int		 keep_last;
	struct hset	 keep, letgo;
	uint8_t		(*group)[STORE_HASH_LEN];	/* one ref's reflog */
	size_t		 ngroup, groupcap;
	char		 groupkey[BOUND_REPO_ID + BOUND_REVISION + 32];
	size_t		 groupklen;
	MDB_val		*drop;
	size_t		 ndrop, dropcap;
	uint64_t	 dropped;
};

/* Names a root that reaches digest, for the message, in buf. */
static void
root_of(struct mark *mk, const uint8_t *digest, char *buf, size_t size)
{
	MDB_cursor *cur;
	MDB_val k, d;
	int rc;

	snprintf(buf, size, "a pin");
	if (mdb_cursor_open(mk->txn, mk->st->ref, &cur) != 0)
		return;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		const char *key = k.mv_data, *nul;

		if (d.mv_size != REFVAL_LEN ||
		    memcmp(d.mv_data, digest, STORE_HASH_LEN) != 0 ||
		    (nul = memchr(key, '\0', k.mv_size)) == NULL)
			continue;
		snprintf(buf, size, "%.*s@%.*s", (int)(nul - key), key,
		    (int)(k.mv_size - (size_t)(nul - key) - 1), nul + 1);
		break;
	}
	mdb_cursor_close(cur);
}

/* A commit id to delete: its key is kept for after the walk. */
static int
drop_later(struct mark *mk, const MDB_val *k)
{
	void *copy;

	if (mk->ndrop == mk->dropcap) {
		size_t cap = mk->dropcap ? 2 * mk->dropcap : 64;
		MDB_val *v = realloc(mk->drop, cap * sizeof(*v));

		if (v == NULL)
			return ENOMEM;
		mk->drop = v;
		mk->dropcap = cap;
	}
	if ((copy = malloc(k->mv_size)) == NULL)
		return ENOMEM;
	memcpy(copy, k->mv_data, k->mv_size);
	mk->drop[mk->ndrop].mv_size = k->mv_size;
	mk->drop[mk->ndrop++].mv_data = copy;
	return 0;
}

/* A ref's digest is a root; a value of another size is a damaged ref. */
static int
root_ref(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;
	const char *key = k->mv_data, *nul;

	if (d->mv_size == REFVAL_LEN && mk->keep_last >= 0 &&
	    ((uint8_t *)d->mv_data)[STORE_HASH_LEN] == REF_COMMIT &&
	    hset_has(&mk->letgo, d->mv_data) && !hset_has(&mk->keep,
	    d->mv_data))
		return drop_later(mk, k);
	if (d->mv_size == REFVAL_LEN)
		return hset_add(&mk->manifests, d->mv_data) != 0 ? ENOMEM : 0;
	nul = memchr(key, '\0', k->mv_size);
	return store_fail(STORE_ECORRUPT, "ref %.*s@%.*s: a value of %zu "
	    "bytes, not a digest", nul != NULL ? (int)(nul - key) :
	    (int)k->mv_size, key, nul != NULL ?
	    (int)(k->mv_size - (size_t)(nul - key) - 1) : 0,
	    nul != NULL ? nul + 1 : "", d->mv_size);
}

/* A pin's digest is a root; a pin without one is damaged. */
static int
root_pin(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;
	uint8_t digest[STORE_HASH_LEN];
	json_t *v = json_loadb(d->mv_data, d->mv_size, 0, NULL);
	const char *s = json_string_value(json_object_get(v, "digest"));
	int rc = 0;

	if (s == NULL || store_digest_parse(s, digest) != 0)
		rc = store_fail(STORE_ECORRUPT, "pin %.*s: unreadable, no "
		    "digest in it", (int)k->mv_size, (const char *)k->mv_data);
	else if (hset_add(&mk->manifests, digest) != 0)
		rc = ENOMEM;
	json_decref(v);
	return rc;
}

/* What names keep: branches, tags (all but commit ids). */
static int
keep_named(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;

	(void)k;
	if (d->mv_size != REFVAL_LEN ||
	    ((uint8_t *)d->mv_data)[STORE_HASH_LEN] == REF_COMMIT)
		return 0;
	return hset_add(&mk->keep, d->mv_data) != 0 ? ENOMEM : 0;
}

/* A pin keeps what it pins, commit id and all. */
static int
keep_pin(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;
	uint8_t digest[STORE_HASH_LEN];
	json_t *v = json_loadb(d->mv_data, d->mv_size, 0, NULL);
	const char *s = json_string_value(json_object_get(v, "digest"));
	int rc = 0;

	(void)k;
	if (s != NULL && store_digest_parse(s, digest) == 0 &&
	    hset_add(&mk->keep, digest) != 0)
		rc = ENOMEM;
	json_decref(v);
	return rc;
}

/*
 * The end of one ref's reflog: a branch keeps the last keep_last distinct
 * revisions it pointed at and lets the older ones go; a branch deleted
 * keeps none.  Tags keep theirs anyway; commit ids are not branches.
 */
static int
group_end(struct mark *mk)
{
	const char *nul = memchr(mk->groupkey, '\0', mk->groupklen);
	MDB_val k = { mk->groupklen, mk->groupkey }, d;
	size_t kept = 0;
	int rc, live;

	if (mk->ngroup == 0 || nul == NULL)
		return 0;
	if (mk->groupklen - (size_t)(nul - mk->groupkey) - 1 ==
	    STORE_COMMIT_LEN && hex_valid(nul + 1, STORE_COMMIT_LEN))
		return 0;
	rc = mdb_get(mk->txn, mk->st->ref, &k, &d);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "ref");
	live = rc == 0 && d.mv_size == REFVAL_LEN &&
	    ((uint8_t *)d.mv_data)[STORE_HASH_LEN] == REF_BRANCH;
	if (rc == 0 && !live)
		return 0;
	for (size_t i = mk->ngroup; i-- > 0;) {
		int seen = 0;

		for (size_t j = i + 1; j < mk->ngroup && !seen; j++)
			seen = memcmp(mk->group[i], mk->group[j],
			    STORE_HASH_LEN) == 0;
		if (seen)
			continue;
		if (live && kept < (size_t)mk->keep_last) {
			kept++;
			rc = hset_add(&mk->keep, mk->group[i]);
		} else
			rc = hset_add(&mk->letgo, mk->group[i]);
		if (rc != 0)
			return ENOMEM;
	}
	return 0;
}

/* Reflog keys are the ref's key, a NUL and a time: grouped by ref. */
static int
retain_entry(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;
	uint8_t digest[STORE_HASH_LEN];
	size_t klen;
	json_t *v;
	const char *s;
	int rc = 0;

	if (k->mv_size < 9 || (klen = k->mv_size - 9) >
	    sizeof(mk->groupkey))
		return 0;
	if (klen != mk->groupklen || memcmp(k->mv_data, mk->groupkey,
	    klen) != 0) {
		if ((rc = group_end(mk)) != 0)
			return rc;
		memcpy(mk->groupkey, k->mv_data, klen);
		mk->groupklen = klen;
		mk->ngroup = 0;
	}
	v = json_loadb(d->mv_data, d->mv_size, 0, NULL);
	s = json_string_value(json_object_get(v, "new"));
	if (s != NULL && store_digest_parse(s, digest) == 0) {
		if (mk->ngroup == mk->groupcap) {
			size_t cap = mk->groupcap ? 2 * mk->groupcap : 16;
			void *g = realloc(mk->group, cap * STORE_HASH_LEN);

			if (g == NULL)
				rc = ENOMEM;
			else {
				mk->group = g;
				mk->groupcap = cap;
			}
		}
		if (rc == 0)
			memcpy(mk->group[mk->ngroup++], digest, STORE_HASH_LEN);
	}
	json_decref(v);
	return rc;
}

/* With a retention: what is kept and what branches let go. */
static int
mark_retention(struct mark *mk)
{
	int rc;

	if (mk->keep_last < 0)
		return 0;
	if ((rc = txn_each(mk->st, mk->txn, mk->st->ref, NULL, 0, keep_named,
	    mk)) != 0 ||
	    (rc = txn_each(mk->st, mk->txn, mk->st->pin, NULL, 0, keep_pin,
	    mk)) != 0 ||
	    (rc = txn_each(mk->st, mk->txn, mk->st->reflog, NULL, 0,
	    retain_entry, mk)) != 0 || (rc = group_end(mk)) != 0)
		return rc;
	hset_sort(&mk->keep);
	hset_sort(&mk->letgo);
	return 0;
}

/* The commit ids a retention let go, deleted with a reflog entry. */
static int
drop_commits(struct mark *mk, int dry_run)
{
	char why[64];
	int rc;

	mk->dropped = mk->ndrop;
	if (dry_run)
		return 0;
	snprintf(why, sizeof(why), "gc --keep-last %d", mk->keep_last);
	for (size_t i = 0; i < mk->ndrop; i++)
		if ((rc = ref_drop(mk->st, mk->txn, mk->drop[i].mv_data,
		    mk->drop[i].mv_size, NULL, why)) != 0)
			return rc;
	return 0;
}

/* Roots: every ref (but commit ids a retention let go) and every pin. */
static int
mark_roots(struct mark *mk)
{
	int rc;

	if ((rc = mark_retention(mk)) != 0 ||
	    (rc = txn_each(mk->st, mk->txn, mk->st->ref, NULL, 0, root_ref,
	    mk)) != 0)
		return rc;
	return txn_each(mk->st, mk->txn, mk->st->pin, NULL, 0, root_pin, mk);
}

/* Every manifest a root reaches must be there, match its digest, parse. */
static int
mark_blobs(struct mark *mk)
{
	hset_sort(&mk->manifests);
	for (size_t i = 0; i < mk->manifests.n; i++) {
		struct store_manifest *m;
		MDB_val k = { STORE_HASH_LEN, mk->manifests.v[i] }, d;
		uint8_t got[STORE_HASH_LEN];
		char hex[STORE_DIGEST_STRLEN + 1], root[600], perr[256];
		const char *why = NULL;
		int rc;

		if ((rc = mdb_get(mk->txn, mk->st->manifest, &k, &d)) != 0) {
			if (rc != MDB_NOTFOUND)
				return store_mdb_fail(rc, "manifest");
			why = "missing";
		} else {
			store_sha256(d.mv_data, d.mv_size, got);
			if (memcmp(got, mk->manifests.v[i], STORE_HASH_LEN) != 0)
				why = "its bytes do not match its digest";
			else if (store_manifest_parse(d.mv_data, d.mv_size,
			    &m) != 0) {
				snprintf(perr, sizeof(perr), "%s",
				    store_lasterror());
				why = perr;
			}
		}
		if (why != NULL) {
			store_digest_str(mk->manifests.v[i], hex);
			root_of(mk, mk->manifests.v[i], root, sizeof(root));
			return store_fail(STORE_ECORRUPT, "manifest %s (of %s): "
			    "%s; gc swept nothing", hex, root, why);
		}
		for (size_t j = 0; j < m->nfiles; j++)
			if ((rc = hset_add(&mk->blobs, m->files[j].sha256)) != 0)
				break;
		store_manifest_free(m);
		if (rc != 0)
			return ENOMEM;
	}
	hset_sort(&mk->blobs);
	return 0;
}

/* A blob map entry of a marked blob marks its chunk. */
static int
chunk_mark(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;
	char hex[STORE_HEX_LEN + 1];

	if (k->mv_size < STORE_HASH_LEN || !hset_has(&mk->blobs, k->mv_data))
		return 0;
	if (k->mv_size != MAPKEY_LEN || d->mv_size != MAPVAL_LEN) {
		store_hex(k->mv_data, STORE_HASH_LEN, hex);
		return store_fail(STORE_ECORRUPT, "blob %s: a damaged entry "
		    "in its chunk map; gc swept nothing", hex);
	}
	return hset_add(&mk->chunks, d->mv_data) != 0 ? ENOMEM : 0;
}

/* A partial file's chunk is kept: the pull that wrote it resumes. */
static int
partial_mark(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct mark *mk = arg;

	(void)k;
	if (d->mv_size < STORE_HASH_LEN)
		return 0;	/* a damaged entry: a resume skips it */
	return hset_add(&mk->chunks, d->mv_data) != 0 ? ENOMEM : 0;
}

/* The files of partial records (idx 0), dropped or not. */
static int
partial_count(void *arg, const MDB_val *k, const MDB_val *d)
{
	uint64_t *n = arg;

	(void)d;
	if (k->mv_size >= 4 && get_be32((const uint8_t *)k->mv_data +
	    k->mv_size - 4) == 0)
		(*n)++;
	return 0;
}

/* Counts the partial files and, unless dry_run, drops their records. */
static int
partials_drop(struct mark *mk, int dry_run, uint64_t *n)
{
	MDB_dbi dbi = mk->st->kv[STORE_PARTIAL];
	int rc;

	if ((rc = txn_each(mk->st, mk->txn, dbi, NULL, 0, partial_count,
	    n)) != 0)
		return rc;
	if (!dry_run && (rc = mdb_drop(mk->txn, dbi, 0)) != 0)
		return store_mdb_fail(rc, "partial files");
	return 0;
}

/*
 * The map is sorted by blob: walk it once, keep the marked ones.  The
 * chunks of partial files are kept too, unless they are dropped.
 */
static int
mark_chunks(struct mark *mk, int keep_partials)
{
	int rc;

	if ((rc = txn_each(mk->st, mk->txn, mk->st->blobmap, NULL, 0,
	    chunk_mark, mk)) != 0)
		return rc;
	if (keep_partials && (rc = txn_each(mk->st, mk->txn,
	    mk->st->kv[STORE_PARTIAL], NULL, 0, partial_mark, mk)) != 0)
		return rc;
	hset_sort(&mk->chunks);
	return 0;
}

/*
 * Sweeps one table: deletes every entry whose key's first 32 bytes are not
 * in keep.  dry_run only counts.
 */
static int
sweep(struct mark *mk, MDB_dbi dbi, const struct hset *keep, int dry_run,
    uint64_t *count, uint64_t *bytes)
{
	MDB_cursor *cur;
	MDB_val k, d;
	int rc;

	if ((rc = mdb_cursor_open(mk->txn, dbi, &cur)) != 0)
		return store_mdb_fail(rc, "cursor");
	for (rc = mdb_cursor_get(cur, &k, bytes != NULL ? &d : NULL, MDB_FIRST);
	    rc == 0;
	    rc = mdb_cursor_get(cur, &k, bytes != NULL ? &d : NULL, MDB_NEXT)) {
		if (k.mv_size >= STORE_HASH_LEN && hset_has(keep, k.mv_data))
			continue;
		if (count != NULL)
			(*count)++;
		if (bytes != NULL)
			*bytes += d.mv_size;
		if (!dry_run && (rc = mdb_cursor_del(cur, 0)) != 0)
			break;
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : store_mdb_fail(rc, "sweep");
}

int
store_gc(struct store *st, unsigned flags, struct store_gc_result *res)
{
	return store_gc_keep(st, flags, -1, res);
}

int
store_gc_keep(struct store *st, unsigned flags, int keep_last,
    struct store_gc_result *res)
{
	struct mark mk = { .st = st, .keep_last = keep_last };
	uint64_t chunks = 0, bytes = 0;
	int dry_run = (flags & STORE_GC_DRY_RUN) != 0;
	int partials = (flags & STORE_GC_PARTIALS) != 0;
	int rc;

	memset(res, 0, sizeof(*res));
	if (st->rdonly)
		return store_fail(EROFS, "%s: opened read-only", st->dir);
	if ((rc = store_lock(st, SLOCK_WRITE, 1, 0)) != 0)
		return store_fail(rc, "%s: an add or import is running; gc "
		    "waits for it to finish", st->dir);
	if ((rc = dry_run ? txn_read(st, &mk.txn) : txn_write(st,
	    &mk.txn)) != 0)
		goto out;
	if ((rc = mark_roots(&mk)) != 0 || (rc = mark_blobs(&mk)) != 0 ||
	    (rc = mark_chunks(&mk, !partials)) != 0 ||
	    (rc = drop_commits(&mk, dry_run)) != 0)
		goto fail;
	if (partials && (rc = partials_drop(&mk, dry_run,
	    &res->partials)) != 0)
		goto fail;
	if ((rc = sweep(&mk, st->manifest, &mk.manifests, dry_run,
	    &res->manifests, NULL)) != 0 ||
	    (rc = sweep(&mk, st->sig, &mk.manifests, dry_run, NULL, NULL)) != 0 ||
	    (rc = sweep(&mk, st->blob, &mk.blobs, dry_run, &res->blobs,
	    NULL)) != 0 ||
	    (rc = sweep(&mk, st->blobmap, &mk.blobs, dry_run, NULL, NULL)) != 0 ||
	    (rc = sweep(&mk, st->chunk, &mk.chunks, dry_run, &chunks,
	    &bytes)) != 0)
		goto fail;
	res->chunks = chunks;
	res->chunk_bytes = bytes;
	res->commits = mk.dropped;
	if (dry_run) {
		txn_abort(mk.txn);
		goto out;
	}
	/* Readers that kept where chunks lie must look again. */
	if ((rc = meta_add(st, mk.txn, "chunks", -(int64_t)chunks)) != 0 ||
	    (rc = meta_add(st, mk.txn, "chunk_bytes", -(int64_t)bytes)) != 0 ||
	    (rc = meta_add(st, mk.txn, META_GENERATION, 1)) != 0) {
		rc = store_mdb_fail(rc, "counters");
		goto fail;
	}
	CRASH_POINT("gc-commit");
	if ((rc = txn_commit(mk.txn)) != 0)
		rc = store_mdb_fail(rc, "commit");
	goto out;
fail:
	txn_abort(mk.txn);
out:
	store_unlock(st, SLOCK_WRITE);
	/* Back to the shared lock every opener holds. */
	free(mk.manifests.v);
	free(mk.blobs.v);
	free(mk.chunks.v);
	free(mk.keep.v);
	free(mk.letgo.v);
	free(mk.group);
	for (size_t i = 0; i < mk.ndrop; i++)
		free(mk.drop[i].mv_data);
	free(mk.drop);
	return rc;
}

static uint64_t
file_size(const char *dir)
{
	char path[4096];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	return stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

int
store_compact(struct store *st, struct store_gc_result *res)
{
	char tmpdir[PATH_MAX], from[PATH_MAX + 16], to[PATH_MAX + 16];
	int rc, fd;

	memset(res, 0, sizeof(*res));
	if (st->rdonly)
		return store_fail(EROFS, "%s: opened read-only", st->dir);
	res->file_before = file_size(st->dir);
	/*
	 * Upgrading our shared open lock fails while anyone else holds it:
	 * every opener does, on the data file, for as long as it is open.
	 */
	if ((rc = store_lock(st, SLOCK_OPEN, 1, 0)) != 0)
		return store_fail(rc, "%s: another process has the store open "
		    "(stop airlockd to compact)", st->dir);
	snprintf(tmpdir, sizeof(tmpdir), "%s/compact.tmp", st->dir);
	snprintf(from, sizeof(from), "%s/data.mdb", tmpdir);
	snprintf(to, sizeof(to), "%s/data.mdb", st->dir);
	(void)unlink(from);
	if (mkdir(tmpdir, 0755) == -1 && errno != EEXIST) {
		rc = store_fail(errno, "%s: %s", tmpdir, strerror(errno));
		goto out;
	}
	if ((rc = mdb_env_copy2(st->env, tmpdir, MDB_CP_COMPACT)) != 0) {
		rc = store_mdb_fail(rc, "compact");
		(void)unlink(from);
		(void)rmdir(tmpdir);
		goto out;
	}
	if ((fd = open(from, O_RDONLY)) == -1 || fsync(fd) == -1) {
		rc = store_fail(errno, "%s: %s", from, strerror(errno));
		if (fd != -1)
			close(fd);
		(void)unlink(from);
		(void)rmdir(tmpdir);
		goto out;
	}
	close(fd);
	CRASH_POINT("compact-copied");
	/* The copy replaces the file, then the environment is reopened on
	 * it: nothing else has it open, we hold the lock alone. */
	if (rename(from, to) == -1) {
		rc = store_fail(errno, "%s: %s", to, strerror(errno));
		(void)unlink(from);
		(void)rmdir(tmpdir);
		goto out;
	}
	(void)rmdir(tmpdir);
	CRASH_POINT("compact-renamed");
	if ((fd = open(st->dir, O_RDONLY | O_DIRECTORY)) != -1) {
		(void)fsync(fd);
		close(fd);
	}
	/* The old file's lock goes with it: openers that waited on it find
	 * the new file and lock that. */
	mdb_env_close(st->env);
	st->env = NULL;
	close(st->openfd);
	st->openfd = -1;
	if ((rc = store_open_lock(st, 0)) != 0 ||
	    (rc = store_env_open(st, 0)) != 0)
		return rc;
	res->file_after = file_size(st->dir);
	return 0;
out:
	(void)store_lock(st, SLOCK_OPEN, 0, 1);
	return rc;
}

/* Pages on LMDB's free list: each value is a list whose first word is its
 * length. */
static uint64_t
free_pages(MDB_txn *txn)
{
	MDB_cursor *cur;
	MDB_val k, d;
	uint64_t n = 0;
	int op = MDB_FIRST;

	if (mdb_cursor_open(txn, 0, &cur) != 0)
		return 0;
	for (; mdb_cursor_get(cur, &k, &d, op) == 0; op = MDB_NEXT) {
		size_t len;

		if (d.mv_size < sizeof(size_t))
			continue;
		memcpy(&len, d.mv_data, sizeof(len));
		n += len;
	}
	mdb_cursor_close(cur);
	return n;
}

static int
count_repos(void *arg, const struct store_ref *r)
{
	struct { char last[512]; uint64_t repos, refs; } *c = arg;
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", r->type, r->repo);
	if (strcmp(key, c->last) != 0) {
		c->repos++;
		snprintf(c->last, sizeof(c->last), "%s", key);
	}
	if (!r->is_commit)
		c->refs++;
	return 0;
}

int
store_stats(struct store *st, struct store_stats *s)
{
	struct { char last[512]; uint64_t repos, refs; } c = { "", 0, 0 };
	MDB_txn *txn;
	MDB_stat ms;
	MDB_cursor *cur;
	MDB_val k, d;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = store_refs(st, NULL, NULL, count_repos, &c)) != 0)
		return rc;
	s->repos = c.repos;
	s->refs = c.refs;
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	mdb_stat(txn, st->chunk, &ms);
	s->chunks = ms.ms_entries;
	s->chunk_pages = ms.ms_overflow_pages;
	s->page_size = ms.ms_psize;
	mdb_stat(txn, st->blob, &ms);
	s->blobs = ms.ms_entries;
	mdb_stat(txn, st->manifest, &ms);
	s->revisions = ms.ms_entries;
	mdb_stat(txn, st->pin, &ms);
	s->pins = ms.ms_entries;
	s->chunk_bytes = meta_get(st, txn, "chunk_bytes");
	s->free_pages = free_pages(txn);
	s->file_bytes = file_size(st->dir);
	(void)store_map_size(st, &s->map_size, &s->map_used);

	/* Logical bytes: what the revisions would take without dedup. */
	if ((rc = mdb_cursor_open(txn, st->manifest, &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
			struct store_manifest *m;

			if (store_manifest_parse(d.mv_data, d.mv_size, &m) != 0)
				continue;
			for (size_t i = 0; i < m->nfiles; i++)
				s->logical_bytes += m->files[i].size;
			store_manifest_free(m);
		}
		mdb_cursor_close(cur);
	}
	if ((rc = mdb_cursor_open(txn, st->blob, &cur)) == 0) {
		for (rc = mdb_cursor_get(cur, &k, &d, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
			struct blobrec rec;

			if (blobrec_unpack(&d, &rec) == 0)
				s->unique_bytes += rec.size;
		}
		mdb_cursor_close(cur);
	}
	txn_abort(txn);
	return 0;
}
