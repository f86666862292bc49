/*
 * repos.c - the repository index: one record per repository, kept in the
 * transaction that moves its refs, read by listings instead of every
 * manifest; and the download counters beside it (store.h, "The
 * repository index").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "store/internal.h"

#define REC_VERSION	1
#define REC_FIXED	(1 + STORE_HASH_LEN + STORE_COMMIT_LEN + 8 + 8)
#define REPOKEY_MAX	(BOUND_REPO_ID + 16)

/* "type/repo", the key of both tables; 0 when it does not fit. */
static size_t
repokey(char buf[REPOKEY_MAX], const char *type, const char *repo)
{
	int n = snprintf(buf, REPOKEY_MAX, "%s/%s", type, repo);

	return n < 0 || n >= REPOKEY_MAX ? 0 : (size_t)n;
}

/* A growing byte string, for a record being built. */
struct rbuf {
	uint8_t	*p;
	size_t	 len, cap;
	int	 nomem;
};

static void
rb_add(struct rbuf *b, const void *p, size_t n)
{
	uint8_t *np;
	size_t cap;

	if (b->nomem || n == 0)
		return;
	if (b->len + n > b->cap) {
		for (cap = b->cap ? b->cap : 256; cap < b->len + n; cap *= 2)
			;
		if ((np = realloc(b->p, cap)) == NULL) {
			b->nomem = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
rb_be32(struct rbuf *b, uint32_t v)
{
	uint8_t x[4];

	put_be32(x, v);
	rb_add(b, x, 4);
}

static void
rb_be64(struct rbuf *b, uint64_t v)
{
	uint8_t x[8];

	put_be64(x, v);
	rb_add(b, x, 8);
}

static void
rb_str(struct rbuf *b, const char *s)
{
	size_t n = s != NULL ? strlen(s) : 0;

	rb_be32(b, (uint32_t)n);
	rb_add(b, s, n);
}

/* Reads a length-prefixed field at *off; NULL past the end. */
static const char *
field(const uint8_t *p, size_t len, size_t *off, size_t *flen)
{
	uint32_t n;

	if (len - *off < 4)
		return NULL;
	n = get_be32(p + *off);
	*off += 4;
	if (len - *off < n)
		return NULL;
	*flen = n;
	*off += n;
	return (const char *)p + *off - n;
}

/*
 * A record's fields, pointing into its bytes (and strs, where the two
 * strings get their NUL): 0, or STORE_ECORRUPT.
 */
static int
rec_parse(const uint8_t *p, size_t len, struct store_repo *r,
    char strs[2][BOUND_REPO_ID + 1])
{
	const char *s;
	size_t off = REC_FIXED, n, i;

	if (len < REC_FIXED || p[0] != REC_VERSION)
		return STORE_ECORRUPT;
	memcpy(r->digest, p + 1, STORE_HASH_LEN);
	memcpy(r->commit, p + 1 + STORE_HASH_LEN, STORE_COMMIT_LEN);
	r->commit[STORE_COMMIT_LEN] = '\0';
	r->created = (int64_t)get_be64(p + 1 + STORE_HASH_LEN +
	    STORE_COMMIT_LEN);
	r->modified = (int64_t)get_be64(p + 1 + STORE_HASH_LEN +
	    STORE_COMMIT_LEN + 8);
	for (i = 0; i < 2; i++) {
		if ((s = field(p, len, &off, &n)) == NULL || n > BOUND_REPO_ID)
			return STORE_ECORRUPT;
		memcpy(strs[i], s, n);
		strs[i][n] = '\0';
	}
	r->pipeline_tag = strs[0];
	r->library_name = strs[1];
	if (len - off < 4)
		return STORE_ECORRUPT;
	r->ntags = get_be32(p + off);
	off += 4;
	if ((r->tags = field(p, len, &off, &n)) == NULL)
		return STORE_ECORRUPT;
	/* The tags are NUL-terminated, each: the last byte must be one. */
	if ((n == 0) != (r->ntags == 0) || (n > 0 && r->tags[n - 1] != '\0'))
		return STORE_ECORRUPT;
	if ((r->card = field(p, len, &off, &r->cardlen)) == NULL)
		return STORE_ECORRUPT;
	return off == len ? 0 : STORE_ECORRUPT;
}

/* "2026-11-23T12:00:00[.123]Z" in milliseconds since 1970, or 0. */
static int64_t
rfc3339_ms(const char *s)
{
	struct tm tm;
	const char *end;
	int64_t ms = 0, scale = 100;

	memset(&tm, 0, sizeof(tm));
	if (s == NULL || (end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return 0;
	if (*end == '.')
		for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
			ms += (*end - '0') * scale;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* The card's front matter of the revision (NULL when it has none). */
static json_t *
revision_card(struct store *st, MDB_txn *txn, const struct store_manifest *m)
{
	const struct store_file *f;
	json_t *card = NULL;
	char *buf;
	size_t got;

	if ((f = store_manifest_file(m, "README.md")) == NULL ||
	    f->size == 0 || f->size > BOUND_CARD ||
	    (buf = malloc((size_t)f->size)) == NULL)
		return NULL;
	if (txn_blob_read(st, txn, f->sha256, 0, buf, (size_t)f->size,
	    &got) == 0 && got == f->size &&
	    store_card_parse(buf, got, &card, NULL) != 0)
		card = NULL;
	free(buf);
	return card;
}

static int
earliest(void *arg, const MDB_val *k, const MDB_val *d)
{
	int64_t *when = arg, t;
	json_t *e;

	(void)k;
	if ((e = json_loadb(d->mv_data, d->mv_size, 0, NULL)) == NULL)
		return 0;
	t = json_integer_value(json_object_get(e, "time"));
	json_decref(e);
	if (t > 0 && (*when == 0 || t < *when))
		*when = t;
	return 0;
}

/* When the repository got its first ref: its oldest reflog entry. */
static int64_t
repo_created(struct store *st, MDB_txn *txn, const char *type,
    const char *repo)
{
	char key[REPOKEY_MAX + 1];
	size_t n;
	int64_t when = 0;

	if ((n = refkey(key, sizeof(key), type, repo, NULL)) == 0)
		return 0;
	(void)txn_each(st, txn, st->reflog, key, n, earliest, &when);
	return when != 0 ? when : (int64_t)time(NULL);
}

/* The record's bytes for the revision digest names. */
static int
rec_build(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    const uint8_t digest[STORE_HASH_LEN], int64_t created, struct rbuf *b)
{
	struct store_manifest *m = NULL;
	json_t *card = NULL, *tags, *v;
	MDB_val k = { STORE_HASH_LEN, (void *)digest }, d;
	const char *s;
	char *text = NULL, commit[STORE_COMMIT_LEN + 1], hex[STORE_HEX_LEN + 1];
	uint8_t ver = REC_VERSION;
	int64_t modified = 0;
	size_t i, tagbytes = 0;
	int rc;

	store_hex(digest, STORE_HASH_LEN, hex);
	snprintf(commit, sizeof(commit), "%.40s", hex);
	if ((rc = mdb_get(txn, st->manifest, &k, &d)) == 0 &&
	    store_manifest_parse(d.mv_data, d.mv_size, &m) == 0) {
		memcpy(commit, m->commit, sizeof(commit));
		modified = rfc3339_ms(m->created);
		card = revision_card(st, txn, m);
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "manifest");
	store_manifest_free(m);
	if (created == 0)
		created = repo_created(st, txn, type, repo);
	rb_add(b, &ver, 1);
	rb_add(b, digest, STORE_HASH_LEN);
	rb_add(b, commit, STORE_COMMIT_LEN);
	rb_be64(b, (uint64_t)created);
	rb_be64(b, (uint64_t)modified);
	for (i = 0; i < 2; i++) {
		s = json_string_value(json_object_get(card, i == 0 ?
		    "pipeline_tag" : "library_name"));
		rb_str(b, s != NULL && strlen(s) <= BOUND_REPO_ID ? s : NULL);
	}
	if ((tags = store_card_tags(card)) == NULL) {
		json_decref(card);
		return ENOMEM;
	}
	json_array_foreach(tags, i, v)
		tagbytes += strlen(json_string_value(v)) + 1;
	rb_be32(b, (uint32_t)json_array_size(tags));
	rb_be32(b, (uint32_t)tagbytes);
	json_array_foreach(tags, i, v)
		rb_add(b, json_string_value(v), strlen(json_string_value(v)) + 1);
	json_decref(tags);
	if (json_object_size(card) > 0 &&
	    (text = json_dumps(card, JSON_COMPACT | JSON_SORT_KEYS)) == NULL) {
		json_decref(card);
		return ENOMEM;
	}
	rb_str(b, text);
	free(text);
	json_decref(card);
	return b->nomem ? ENOMEM : 0;
}

struct pick {
	uint8_t	digest[STORE_HASH_LEN];
	int	rank;		/* 0 none, 1 a commit id, 2 a branch or tag */
};

static int
pick_ref(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct pick *p = arg;
	int rank;

	(void)k;
	if (d->mv_size != REFVAL_LEN)
		return 0;
	rank = ((uint8_t *)d->mv_data)[STORE_HASH_LEN] == REF_COMMIT ? 1 : 2;
	if (rank > p->rank) {
		memcpy(p->digest, d->mv_data, STORE_HASH_LEN);
		p->rank = rank;
	}
	return rank == 2;	/* the first branch or tag will do */
}

/* Which revision the record describes: main, a branch or tag, a commit. */
static int
describe(struct store *st, MDB_txn *txn, const char *type, const char *repo,
    struct pick *p)
{
	char key[REPOKEY_MAX + 16];
	MDB_val k, d;
	size_t n;
	int rc;

	p->rank = 0;
	if ((n = refkey(key, sizeof(key), type, repo, "main")) == 0)
		return STORE_EINVAL;
	k.mv_size = n;
	k.mv_data = key;
	if ((rc = mdb_get(txn, st->ref, &k, &d)) == 0 &&
	    d.mv_size == REFVAL_LEN) {
		memcpy(p->digest, d.mv_data, STORE_HASH_LEN);
		p->rank = 2;
		return 0;
	}
	if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "ref");
	rc = txn_each(st, txn, st->ref, key, n - 4, pick_ref, p);
	return rc == 1 ? 0 : rc;
}

int
repoindex_update(struct store *st, MDB_txn *txn, const char *type,
    const char *repo)
{
	char key[REPOKEY_MAX];
	struct store_repo old;
	char strs[2][BOUND_REPO_ID + 1];
	struct pick p;
	struct rbuf b = { 0 };
	MDB_val k, d;
	int64_t created = 0;
	int rc;

	if ((k.mv_size = repokey(key, type, repo)) == 0)
		return store_fail(STORE_EINVAL, "%s: not a valid repository id",
		    repo);
	k.mv_data = key;
	if ((rc = describe(st, txn, type, repo, &p)) != 0)
		return rc;
	if (p.rank == 0) {
		/* No ref left: the repository is gone, and its count. */
		rc = mdb_del(txn, st->kv[STORE_REPOS], &k, NULL);
		if (rc == 0 || rc == MDB_NOTFOUND)
			rc = mdb_del(txn, st->kv[STORE_DOWNLOADS], &k, NULL);
		return rc == 0 || rc == MDB_NOTFOUND ? 0 :
		    store_mdb_fail(rc, "repository index");
	}
	if ((rc = mdb_get(txn, st->kv[STORE_REPOS], &k, &d)) == 0 &&
	    rec_parse(d.mv_data, d.mv_size, &old, strs) == 0) {
		if (memcmp(old.digest, p.digest, STORE_HASH_LEN) == 0)
			return 0;	/* it describes that revision already */
		created = old.created;
	} else if (rc != 0 && rc != MDB_NOTFOUND)
		return store_mdb_fail(rc, "repository index");
	if ((rc = rec_build(st, txn, type, repo, p.digest, created, &b)) == 0) {
		d.mv_size = b.len;
		d.mv_data = b.p;
		if ((rc = mdb_put(txn, st->kv[STORE_REPOS], &k, &d, 0)) != 0)
			rc = store_mdb_fail(rc, "repository index");
	}
	free(b.p);
	return rc;
}

/* The distinct repositories of the ref table, as "type/repo" strings. */
struct names {
	char	**v;
	size_t	  n, cap;
};

static int
collect_repo(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct names *ns = arg;
	const char *nul;
	size_t len;
	char **nv;

	(void)d;
	if ((nul = memchr(k->mv_data, '\0', k->mv_size)) == NULL)
		return 0;
	len = (size_t)(nul - (const char *)k->mv_data);
	if (ns->n > 0 && strlen(ns->v[ns->n - 1]) == len &&
	    memcmp(ns->v[ns->n - 1], k->mv_data, len) == 0)
		return 0;	/* refs of one repository are together */
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? 2 * ns->cap : 64;
		if ((nv = reallocarray(ns->v, ns->cap, sizeof(*nv))) == NULL)
			return ENOMEM;
		ns->v = nv;
	}
	if ((ns->v[ns->n] = strndup(k->mv_data, len)) == NULL)
		return ENOMEM;
	ns->n++;
	return 0;
}

static int
rebuild_all(struct store *st, MDB_txn *txn)
{
	struct names ns = { 0 };
	MDB_val k = { strlen(META_REPOINDEX), META_REPOINDEX }, d;
	uint8_t one[8];
	char *slash;
	size_t i;
	int rc;

	if ((rc = mdb_get(txn, st->meta, &k, &d)) == 0)
		return 0;	/* another process built it meanwhile */
	if ((rc = mdb_drop(txn, st->kv[STORE_REPOS], 0)) != 0)
		return store_mdb_fail(rc, "repository index");
	if ((rc = txn_each(st, txn, st->ref, NULL, 0, collect_repo, &ns)) != 0)
		goto done;
	for (i = 0; i < ns.n && rc == 0; i++) {
		if ((slash = strchr(ns.v[i], '/')) == NULL)
			continue;
		*slash = '\0';
		rc = repoindex_update(st, txn, ns.v[i], slash + 1);
	}
	if (rc == 0) {
		put_be64(one, 1);
		d.mv_size = sizeof(one);
		d.mv_data = one;
		if ((rc = mdb_put(txn, st->meta, &k, &d, 0)) != 0)
			rc = store_mdb_fail(rc, "meta");
	}
done:
	for (i = 0; i < ns.n; i++)
		free(ns.v[i]);
	free(ns.v);
	return rc;
}

int
repoindex_rebuild(struct store *st)
{
	MDB_txn *txn;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	rc = meta_get(st, txn, META_REPOINDEX) != 0;
	txn_abort(txn);
	if (rc)
		return 0;
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	return txn_finish(txn, rebuild_all(st, txn));
}

struct walk {
	struct store	*st;
	MDB_txn		*txn;
	store_repo_fn	 fn;
	void		*arg;
};

static int
repo_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct walk *w = arg;
	struct store_repo r;
	char strs[2][BOUND_REPO_ID + 1], key[REPOKEY_MAX], *slash;
	MDB_val dk, dv;

	if (k->mv_size >= sizeof(key) ||
	    rec_parse(d->mv_data, d->mv_size, &r, strs) != 0)
		return 0;
	memcpy(key, k->mv_data, k->mv_size);
	key[k->mv_size] = '\0';
	if ((slash = strchr(key, '/')) == NULL)
		return 0;
	r.downloads = 0;
	if (!(w->st->kv_absent & (1u << STORE_DOWNLOADS))) {
		dk = *k;
		if (mdb_get(w->txn, w->st->kv[STORE_DOWNLOADS], &dk, &dv) == 0 &&
		    dv.mv_size == 8)
			r.downloads = get_be64(dv.mv_data);
	}
	*slash = '\0';
	r.type = key;
	r.repo = slash + 1;
	return w->fn(w->arg, &r);
}

int
store_repos(struct store *st, const char *type, store_repo_fn fn, void *arg)
{
	struct walk w = { st, NULL, fn, arg };
	char prefix[32];
	size_t plen = 0;
	int rc;

	if (st->kv_absent & (1u << STORE_REPOS))
		return store_fail(STORE_EVERSION, "%s: the store has no "
		    "repository index yet: open it once for writing (any "
		    "airlock command that writes, or airlockd with a store it "
		    "may write) to build it", st->dir);
	if (type != NULL)
		plen = (size_t)snprintf(prefix, sizeof(prefix), "%s/", type);
	if ((rc = txn_read(st, &w.txn)) != 0)
		return rc;
	rc = txn_each(st, w.txn, st->kv[STORE_REPOS], prefix, plen, repo_one,
	    &w);
	txn_abort(w.txn);
	return rc;
}

int
store_repo_get(struct store *st, const char *type, const char *repo,
    store_repo_fn fn, void *arg)
{
	struct walk w = { st, NULL, fn, arg };
	char key[REPOKEY_MAX];
	MDB_val k, d;
	int rc;

	if (st->kv_absent & (1u << STORE_REPOS))
		return STORE_ENOTFOUND;
	if ((k.mv_size = repokey(key, type, repo)) == 0)
		return STORE_ENOTFOUND;
	k.mv_data = key;
	if ((rc = txn_read(st, &w.txn)) != 0)
		return rc;
	if ((rc = mdb_get(w.txn, st->kv[STORE_REPOS], &k, &d)) == 0)
		rc = repo_one(&w, &k, &d);
	else
		rc = rc == MDB_NOTFOUND ? STORE_ENOTFOUND :
		    store_mdb_fail(rc, "repository index");
	txn_abort(w.txn);
	return rc;
}

int
store_downloads_add(struct store *st, const struct store_count *c, size_t n)
{
	char key[REPOKEY_MAX];
	MDB_txn *txn;
	MDB_val k, d;
	uint8_t val[8];
	uint64_t count;
	size_t i;
	int rc = 0;

	if (n == 0)
		return 0;
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		if ((k.mv_size = repokey(key, c[i].type, c[i].repo)) == 0)
			continue;
		k.mv_data = key;
		if ((rc = mdb_get(txn, st->kv[STORE_REPOS], &k, &d)) ==
		    MDB_NOTFOUND) {
			rc = 0;		/* removed since it was counted */
			continue;
		}
		if (rc != 0)
			break;
		count = 0;
		if ((rc = mdb_get(txn, st->kv[STORE_DOWNLOADS], &k, &d)) == 0 &&
		    d.mv_size == 8)
			count = get_be64(d.mv_data);
		else if (rc != 0 && rc != MDB_NOTFOUND)
			break;
		put_be64(val, count + c[i].n);
		d.mv_size = sizeof(val);
		d.mv_data = val;
		rc = mdb_put(txn, st->kv[STORE_DOWNLOADS], &k, &d, 0);
	}
	if (rc != 0)
		rc = store_mdb_fail(rc, "downloads");
	return txn_finish(txn, rc);
}
