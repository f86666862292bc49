/*
 * refs.c - names for revisions: branches and tags that move, commit ids
 * that do not, and the reflog that remembers every move (store.h, "Refs").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "store/internal.h"
#include "lib/names.h"

#define REFKEY_MAX	(BOUND_REPO_ID + BOUND_REVISION + 32)

size_t
refkey(char *buf, size_t size, const char *type, const char *repo,
    const char *name)
{
	int n;

	n = snprintf(buf, size, "%s/%s%c%s", type, repo, 0,
	    name != NULL ? name : "");
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

/* A ref's key as an MDB_val over buf; 0 when it does not fit. */
static int
ref_val(MDB_val *k, char buf[REFKEY_MAX], const char *type,
    const char *repo, const char *name)
{
	k->mv_size = refkey(buf, REFKEY_MAX, type, repo, name);
	k->mv_data = buf;
	return k->mv_size != 0;
}

static int
is_commit_id(const char *s)
{
	return hex_valid(s, STORE_COMMIT_LEN);
}

static const char *
kind_name(int kind)
{
	return kind == REF_COMMIT ? "commit id" : kind == REF_TAG ? "tag" :
	    "branch";
}

/*
 * Appends a reflog entry for the ref whose key is key (klen bytes): old or
 * new may be NULL (a ref made, a ref deleted), who too (not recorded).
 */
static int
reflog_put(struct store *st, MDB_txn *txn, const char *key, size_t klen,
    const uint8_t *old, const uint8_t *new, const char *who, const char *why)
{
	char oldhex[STORE_DIGEST_STRLEN + 1], newhex[STORE_DIGEST_STRLEN + 1];
	uint8_t logkey[BOUND_REPO_ID + BOUND_REVISION + 32 + 9];
	struct timespec ts;
	json_t *entry;
	char *text;
	MDB_val k, d;
	int rc;

	if (klen + 9 > sizeof(logkey))
		return store_fail(STORE_EINVAL, "reflog: name too long");
	if (old != NULL)
		store_digest_str(old, oldhex);
	if (new != NULL)
		store_digest_str(new, newhex);
	clock_gettime(CLOCK_REALTIME, &ts);
	entry = json_pack("{s:s?,s:s?,s:s*,s:s,s:I}", "old", old != NULL ?
	    oldhex : NULL, "new", new != NULL ? newhex : NULL, "who", who,
	    "why", why != NULL ? why : "", "time", (json_int_t)ts.tv_sec);
	if (entry == NULL)
		return ENOMEM;
	text = json_dumps(entry, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(entry);
	if (text == NULL)
		return ENOMEM;
	memcpy(logkey, key, klen);
	logkey[klen] = '\0';
	put_be64(logkey + klen + 1,
	    (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
	k.mv_size = klen + 9;
	k.mv_data = logkey;
	d.mv_size = strlen(text);
	d.mv_data = text;
	rc = mdb_put(txn, st->reflog, &k, &d, 0);
	free(text);
	return rc != 0 ? store_mdb_fail(rc, "reflog") : 0;
}

/*
 * Whether the ref name of this kind may point at digest: 0 if it may (and
 * *same is 1 when it already does), STORE_EIMMUTABLE if it names another
 * revision and may not move, STORE_EINVAL for a name that is not of its
 * kind.  Branches move; commit ids and tags never do.
 */
int
ref_check(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    const char *name, const uint8_t digest[STORE_HASH_LEN], int kind,
    int *same)
{
	char key[REFKEY_MAX];
	char oldhex[STORE_DIGEST_STRLEN + 1], newhex[STORE_DIGEST_STRLEN + 1];
	MDB_val k, d;
	int rc, oldkind;

	*same = 0;
	if (!store_revision_valid(name))
		return store_fail(STORE_EINVAL, "%s: not a valid revision name",
		    name);
	if (!ref_val(&k, key, type, repo, name))
		return store_fail(STORE_EINVAL, "%s: name too long", name);
	if ((rc = mdb_get(txn, st->ref, &k, &d)) == MDB_NOTFOUND) {
		/* A 40-hex name is a commit id and nothing else. */
		if (kind == REF_COMMIT && !is_commit_id(name))
			return store_fail(STORE_EINVAL, "%s/%s@%s: a commit id "
			    "is %d hex digits", type, repo, name,
			    STORE_COMMIT_LEN);
		if (kind != REF_COMMIT && is_commit_id(name))
			return store_fail(STORE_EINVAL, "%s/%s@%s: a branch or "
			    "tag may not look like a commit id", type, repo,
			    name);
		return 0;
	}
	if (rc != 0)
		return store_mdb_fail(rc, "ref");
	if (d.mv_size != REFVAL_LEN)
		return store_fail(STORE_ECORRUPT, "%s/%s@%s: bad ref", type,
		    repo, name);
	oldkind = ((uint8_t *)d.mv_data)[STORE_HASH_LEN];
	if (memcmp(d.mv_data, digest, STORE_HASH_LEN) == 0 && oldkind == kind) {
		*same = 1;
		return 0;
	}
	if (oldkind == REF_BRANCH && kind == REF_BRANCH)
		return 0;
	store_digest_str(d.mv_data, oldhex);
	store_digest_str(digest, newhex);
	return store_fail(STORE_EIMMUTABLE, "%s/%s@%s: the %s names %s; a %s "
	    "never moves, so it cannot name %s", type, repo, name,
	    kind_name(oldkind), oldhex, kind_name(oldkind != REF_BRANCH ?
	    oldkind : kind), newhex);
}

int
ref_write(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    const char *name, const uint8_t digest[STORE_HASH_LEN], int kind,
    const char *why)
{
	char key[REFKEY_MAX];
	uint8_t val[REFVAL_LEN], old[STORE_HASH_LEN];
	MDB_val k, d;
	int rc, same, had = 0;

	if ((rc = ref_check(st, txn, type, repo, name, digest, kind,
	    &same)) != 0)
		return rc;
	if (same)
		return 0;	/* already there: no reflog noise */
	(void)ref_val(&k, key, type, repo, name);	/* ref_check: it fits */
	if (mdb_get(txn, st->ref, &k, &d) == 0) {
		memcpy(old, d.mv_data, STORE_HASH_LEN);
		had = 1;
	}
	memcpy(val, digest, STORE_HASH_LEN);
	val[STORE_HASH_LEN] = (uint8_t)kind;
	d.mv_size = sizeof(val);
	d.mv_data = val;
	if ((rc = mdb_put(txn, st->ref, &k, &d, 0)) != 0)
		return store_mdb_fail(rc, "ref");
	if ((rc = reflog_put(st, txn, key, k.mv_size, had ? old : NULL, digest,
	    NULL, why)) != 0)
		return rc;
	return repoindex_update(st, txn, type, repo);
}

int
store_ref_set(struct store *st, const char *type, const char *repo,
    const char *name, const uint8_t digest[STORE_HASH_LEN], const char *why)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	/* A ref to nothing would be a root gc cannot read. */
	if ((rc = manifest_present(st, txn, digest)) == 0)
		rc = ref_write(st, txn, type, repo, name, digest, REF_BRANCH,
		    why);
	return txn_finish(txn, rc);
}

int
store_ref_delete(struct store *st, const char *type, const char *repo,
    const char *name, const char *why)
{
	char key[REFKEY_MAX];
	uint8_t old[STORE_HASH_LEN];
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if (!ref_val(&k, key, type, repo, name))
		return STORE_EINVAL;
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->ref, &k, &d)) != 0) {
		rc = rc == MDB_NOTFOUND ? store_fail(STORE_ENOTFOUND, "%s/%s@%s: "
		    "no such ref", type, repo, name) : store_mdb_fail(rc, "ref");
		return txn_finish(txn, rc);
	}
	memset(old, 0, sizeof(old));
	if (d.mv_size == REFVAL_LEN)
		memcpy(old, d.mv_data, STORE_HASH_LEN);
	if ((rc = mdb_del(txn, st->ref, &k, NULL)) != 0)
		rc = store_mdb_fail(rc, "ref");
	else
		rc = reflog_put(st, txn, key, k.mv_size, old, NULL, NULL, why);
	if (rc == 0)
		rc = repoindex_update(st, txn, type, repo);
	return txn_finish(txn, rc);
}

/* Looks up one ref in txn; the digest is copied out. */
static int
ref_get(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    const char *name, uint8_t digest[STORE_HASH_LEN])
{
	char key[REFKEY_MAX];
	MDB_val k, d;
	int rc;

	if (!ref_val(&k, key, type, repo, name))
		return STORE_ENOTFOUND;
	if ((rc = mdb_get(txn, st->ref, &k, &d)) != 0)
		return rc == MDB_NOTFOUND ? STORE_ENOTFOUND : rc;
	if (d.mv_size != REFVAL_LEN)
		return store_fail(STORE_ECORRUPT, "%s/%s@%s: bad ref", type,
		    repo, name);
	memcpy(digest, d.mv_data, STORE_HASH_LEN);
	return 0;
}

/*
 * Finds the repository's commit ref whose name starts with prefix, or
 * whose digest is want (when prefix is NULL).
 */
static int
ref_search(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    const char *prefix, const uint8_t *want, uint8_t digest[STORE_HASH_LEN])
{
	char key[REFKEY_MAX];
	MDB_cursor *cur;
	MDB_val k, d;
	size_t base, plen = prefix != NULL ? strlen(prefix) : 0;
	int rc, found = 0;

	if ((base = refkey(key, sizeof(key), type, repo, prefix)) == 0)
		return STORE_ENOTFOUND;
	base -= plen;
	if ((rc = mdb_cursor_open(txn, st->ref, &cur)) != 0)
		return store_mdb_fail(rc, "cursor");
	k.mv_size = base + plen;
	k.mv_data = key;
	for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (k.mv_size < base + plen ||
		    memcmp(k.mv_data, key, base + plen) != 0)
			break;
		if (d.mv_size != REFVAL_LEN ||
		    ((uint8_t *)d.mv_data)[STORE_HASH_LEN] != REF_COMMIT)
			continue;
		if (want != NULL && memcmp(d.mv_data, want, STORE_HASH_LEN) != 0)
			continue;
		if (found++ && prefix != NULL) {
			mdb_cursor_close(cur);
			return store_fail(STORE_EINVAL, "%s: more than one "
			    "commit of %s starts with it", prefix, repo);
		}
		memcpy(digest, d.mv_data, STORE_HASH_LEN);
		if (want != NULL)
			break;
	}
	mdb_cursor_close(cur);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "ref");
	return found ? 0 : STORE_ENOTFOUND;
}

static int
is_hex_prefix(const char *s)
{
	size_t n = strlen(s);

	return n >= 7 && n <= STORE_COMMIT_LEN && hex_valid(s, n);
}

static int
any_key(void *arg, const MDB_val *k, const MDB_val *d)
{
	(void)k, (void)d;
	*(int *)arg = 1;
	return 1;	/* the first is enough */
}

/* 0 if the repository has a ref in txn, STORE_ENOREPO if not, or an
 * error. */
static int
repo_has_ref(struct store *st, MDB_txn *txn, const char *type,
    const char *repo)
{
	char key[REFKEY_MAX];
	size_t base;
	int found = 0, rc;

	if ((base = refkey(key, sizeof(key), type, repo, NULL)) == 0)
		return STORE_EINVAL;
	rc = txn_each(st, txn, st->ref, key, base, any_key, &found);
	if (rc != 0 && rc != 1)
		return rc;
	return found ? 0 : STORE_ENOREPO;
}

int
store_resolve(struct store *st, const char *type, const char *repo,
    const char *rev, uint8_t digest[STORE_HASH_LEN])
{
	MDB_txn *txn;
	uint8_t want[STORE_HASH_LEN];
	int rc;

	if (rev == NULL || *rev == '\0' || strcmp(rev, "HEAD") == 0)
		rev = "main";
	if (!store_type_valid(type) || !store_repo_valid(repo))
		return store_fail(STORE_EINVAL, "%s: not a valid repository id",
		    repo != NULL ? repo : "(null)");
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if (strncmp(rev, "sha256:", 7) == 0) {
		if (store_digest_parse(rev, want) != 0)
			rc = store_fail(STORE_EINVAL, "%s: not a sha256 digest",
			    rev);
		else
			rc = ref_search(st, txn, type, repo, NULL, want, digest);
	} else {
		rc = ref_get(st, txn, type, repo, rev, digest);
		if (rc == STORE_ENOTFOUND && is_hex_prefix(rev))
			rc = ref_search(st, txn, type, repo, rev, NULL, digest);
	}
	if (rc == STORE_ENOTFOUND && repo_has_ref(st, txn, type, repo) ==
	    STORE_ENOREPO)
		rc = STORE_ENOREPO;
	txn_abort(txn);
	if (rc == STORE_ENOTFOUND || rc == STORE_ENOREPO)
		return store_fail(rc, "%s@%s: no such revision", repo, rev);
	return rc;
}

/* Splits a ref key "type/repo\0name" into its parts, in buf: 0, or
 * STORE_ECORRUPT for a key that is not one. */
static int
ref_split(const MDB_val *k, char *buf, size_t size, struct store_ref *r)
{
	char *nul, *slash;

	if (k->mv_size + 1 > size)
		return STORE_ECORRUPT;
	memcpy(buf, k->mv_data, k->mv_size);
	buf[k->mv_size] = '\0';
	if ((nul = memchr(buf, '\0', k->mv_size)) == NULL ||
	    (slash = strchr(buf, '/')) == NULL)
		return STORE_ECORRUPT;
	*slash = '\0';
	r->type = buf;
	r->repo = slash + 1;
	r->name = nul + 1;
	return 0;
}

static int
ref_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;
	char buf[REFKEY_MAX];
	struct store_ref r;

	if (d->mv_size != REFVAL_LEN || ref_split(k, buf, sizeof(buf), &r) != 0)
		return 0;
	memcpy(r.digest, d->mv_data, STORE_HASH_LEN);
	r.is_commit = ((uint8_t *)d->mv_data)[STORE_HASH_LEN] == REF_COMMIT;
	r.is_tag = ((uint8_t *)d->mv_data)[STORE_HASH_LEN] == REF_TAG;
	return e->fn.ref(e->arg, &r);
}

int
store_refs(struct store *st, const char *type, const char *repo,
    store_ref_fn fn, void *arg)
{
	char key[REFKEY_MAX];
	struct each e = { .fn.ref = fn, .arg = arg };
	size_t base = 0;

	if (repo != NULL) {
		if ((base = refkey(key, sizeof(key), type, repo, NULL)) == 0)
			return STORE_EINVAL;
	} else if (type != NULL)
		base = (size_t)snprintf(key, sizeof(key), "%s/", type);
	return db_each(st, st->ref, key, base, ref_one, &e);
}

static int
found_one(void *arg, const struct store_ref *r)
{
	(void)r;
	*(int *)arg = 1;
	return 1;	/* stop at the first */
}

int
store_repo_exists(struct store *st, const char *type, const char *repo)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = repo_has_ref(st, txn, type, repo);
	txn_abort(txn);
	return rc;
}

int
store_repo_type(struct store *st, const char *repo, const char **type)
{
	static const char *const types[] = { "model", "dataset" };

	for (size_t i = 0; i < 2; i++) {
		int found = 0, rc;

		rc = store_refs(st, types[i], repo, found_one, &found);
		if (rc != 0 && rc != 1)
			return rc;
		if (found) {
			*type = types[i];
			return 0;
		}
	}
	return store_fail(STORE_ENOTFOUND, "%s: no such repository", repo);
}

static int
reflog_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	const struct each *e = arg;
	char ref[BOUND_REVISION + 1];
	size_t nlen;
	json_t *entry;
	int rc;

	/* The key is "type/repo" \0 name \0 time: the name ends 9 before. */
	if (k->mv_size < e->base + 9 ||
	    (entry = json_loadb(d->mv_data, d->mv_size, 0, NULL)) == NULL)
		return 0;
	if ((nlen = k->mv_size - e->base - 9) > BOUND_REVISION)
		nlen = BOUND_REVISION;
	memcpy(ref, (const char *)k->mv_data + e->base, nlen);
	ref[nlen] = '\0';
	rc = e->fn.reflog(e->arg, ref, entry);
	json_decref(entry);
	return rc;
}

int
store_reflog(struct store *st, const char *type, const char *repo,
    store_reflog_fn fn, void *arg)
{
	char key[BOUND_REPO_ID + 32];
	struct each e = { .fn.reflog = fn, .arg = arg };

	if ((e.base = refkey(key, sizeof(key), type, repo, NULL)) == 0)
		return STORE_EINVAL;
	return db_each(st, st->reflog, key, e.base, reflog_one, &e);
}

/*
 * Refs of the repository were deleted in txn (rm, a retention): the one
 * place where what the store keeps per repository beside its refs is
 * brought in step, in the same transaction: its index record (and, with
 * its last ref, its download count).
 */
static int
repo_refs_deleted(struct store *st, MDB_txn *txn, const char *type,
    const char *repo)
{
	return repoindex_update(st, txn, type, repo);
}

int
store_tag(struct store *st, const char *type, const char *repo,
    const char *name, const uint8_t digest[STORE_HASH_LEN], const char *why,
    int *made)
{
	char key[REFKEY_MAX], hex[STORE_DIGEST_STRLEN + 1];
	MDB_txn *txn;
	MDB_val k, d;
	int rc, same;

	*made = 0;
	if (!store_type_valid(type) || !store_repo_valid(repo))
		return store_fail(STORE_EINVAL, "%s: not a valid repository id",
		    repo != NULL ? repo : "(null)");
	if (name == NULL || !ref_val(&k, key, type, repo, name))
		return store_fail(STORE_EINVAL, "%s: not a valid tag name",
		    name != NULL ? name : "(null)");
	if (is_commit_id(name))
		return store_fail(STORE_EINVAL, "%s/%s@%s: a tag may not look "
		    "like a commit id", type, repo, name);
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	rc = mdb_get(txn, st->ref, &k, &d);
	if (rc == 0 && d.mv_size == REFVAL_LEN &&
	    ((uint8_t *)d.mv_data)[STORE_HASH_LEN] == REF_BRANCH) {
		store_digest_str(d.mv_data, hex);
		rc = store_fail(STORE_EEXIST, "%s/%s@%s: a branch of that name "
		    "names %s; a tag may not share its name", type, repo, name,
		    hex);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		rc = store_mdb_fail(rc, "ref");
	else if ((rc = manifest_present(st, txn, digest)) == 0 &&
	    (rc = ref_check(st, txn, type, repo, name, digest, REF_TAG,
	    &same)) == 0 && !same) {
		rc = ref_write(st, txn, type, repo, name, digest, REF_TAG, why);
		*made = rc == 0;
	}
	if (rc == 0 && !*made) {
		txn_abort(txn);
		return 0;
	}
	return txn_finish(txn, rc);
}

/* Deletes the ref at the cursor, with its reflog entry. */
static int
rm_one(struct store *st, MDB_txn *txn, MDB_cursor *cur, const MDB_val *k,
    const MDB_val *d, const char *who, const char *why)
{
	char key[REFKEY_MAX];
	uint8_t old[STORE_HASH_LEN];
	size_t klen = k->mv_size;
	int rc;

	if (klen > sizeof(key))
		return store_fail(STORE_ECORRUPT, "ref: a key of %zu bytes",
		    klen);
	memcpy(key, k->mv_data, klen);
	memset(old, 0, sizeof(old));
	if (d->mv_size == REFVAL_LEN)
		memcpy(old, d->mv_data, STORE_HASH_LEN);
	if ((rc = mdb_cursor_del(cur, 0)) != 0)
		return store_mdb_fail(rc, "ref");
	return reflog_put(st, txn, key, klen, old, NULL, who, why);
}

static int
rm_kind(const MDB_val *d)
{
	return d->mv_size == REFVAL_LEN ?
	    ((const uint8_t *)d->mv_data)[STORE_HASH_LEN] : REF_BRANCH;
}

/* Every ref of the repository whose key starts with key[0..base). */
static int
rm_walk(struct store *st, MDB_txn *txn, const char *key, size_t base,
    const char *name, unsigned flags, const char *who, const char *why,
    struct store_rm_result *res)
{
	MDB_cursor *cur;
	MDB_val k, d;
	int rc, kind;

	if ((rc = mdb_cursor_open(txn, st->ref, &cur)) != 0)
		return store_mdb_fail(rc, "cursor");
	k.mv_size = base;
	k.mv_data = (void *)key;
	rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE);
	while (rc == 0) {
		if (k.mv_size < base || memcmp(k.mv_data, key, base) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (name != NULL && (k.mv_size != base + strlen(name) ||
		    memcmp((char *)k.mv_data + base, name, strlen(name)) != 0)) {
			rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
			continue;
		}
		kind = rm_kind(&d);
		if (kind != REF_BRANCH && !(flags & STORE_RM_FORCE)) {
			if (kind == REF_TAG)
				res->kept_tags++;
			else
				res->kept_commits++;
			rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
			continue;
		}
		if ((rc = rm_one(st, txn, cur, &k, &d, who, why)) != 0) {
			mdb_cursor_close(cur);
			return rc;
		}
		if (kind == REF_TAG)
			res->tags++;
		else if (kind == REF_COMMIT)
			res->commits++;
		else
			res->branches++;
		/* After a delete, LMDB's next is the entry that followed. */
		rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT);
	}
	mdb_cursor_close(cur);
	return rc == MDB_NOTFOUND ? 0 : store_mdb_fail(rc, "ref");
}

int
store_rm(struct store *st, const char *type, const char *repo,
    const char *name, unsigned flags, const char *who, const char *why,
    struct store_rm_result *res)
{
	char key[REFKEY_MAX];
	MDB_txn *txn;
	size_t base;
	int rc;

	memset(res, 0, sizeof(*res));
	if (!store_type_valid(type) || !store_repo_valid(repo))
		return store_fail(STORE_EINVAL, "%s: not a valid repository id",
		    repo != NULL ? repo : "(null)");
	if ((base = refkey(key, sizeof(key), type, repo, NULL)) == 0 ||
	    (name != NULL && !store_revision_valid(name)))
		return store_fail(STORE_EINVAL, "%s: not a ref name",
		    name != NULL ? name : repo);
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	rc = rm_walk(st, txn, key, base, name, flags, who, why, res);
	if (rc == 0 && res->branches + res->tags + res->commits != 0)
		rc = repo_refs_deleted(st, txn, type, repo);
	if (rc == 0 && res->branches + res->tags + res->commits == 0) {
		if (name == NULL && res->kept_tags + res->kept_commits == 0)
			rc = store_fail(STORE_ENOTFOUND, "%s%s: no such "
			    "repository", store_type_prefix(type), repo);
		else if (name == NULL)
			rc = 0;
		else if (res->kept_tags + res->kept_commits != 0)
			rc = store_fail(STORE_EIMMUTABLE, "%s%s@%s: a %s is "
			    "deleted only when forced", store_type_prefix(type),
			    repo, name, res->kept_tags ? "tag" : "commit id");
		else
			rc = store_fail(STORE_ENOTFOUND, "%s%s@%s: no such ref",
			    store_type_prefix(type), repo, name);
	}
	return txn_finish(txn, rc);
}

int
ref_drop(struct store *st, MDB_txn *txn, const void *key, size_t klen,
    const char *who, const char *why)
{
	char buf[REFKEY_MAX];
	struct store_ref r;
	uint8_t old[STORE_HASH_LEN];
	MDB_val k = { klen, (void *)key }, d;
	int rc;

	if ((rc = mdb_get(txn, st->ref, &k, &d)) != 0)
		return rc == MDB_NOTFOUND ? 0 : store_mdb_fail(rc, "ref");
	memset(old, 0, sizeof(old));
	if (d.mv_size == REFVAL_LEN)
		memcpy(old, d.mv_data, STORE_HASH_LEN);
	if ((rc = mdb_del(txn, st->ref, &k, NULL)) != 0)
		return store_mdb_fail(rc, "ref");
	if ((rc = reflog_put(st, txn, key, klen, old, NULL, who, why)) != 0)
		return rc;
	if (ref_split(&k, buf, sizeof(buf), &r) != 0)
		return 0;
	return repo_refs_deleted(st, txn, r.type, r.repo);
}
