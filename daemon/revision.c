/*
 * revision.c - from a repository and a revision name to a parsed
 * manifest, with what the API derives from it: the directories and their
 * git tree ids, the entries in git's order, the model card's front matter.
 *
 * A manifest never changes for its digest, so what is derived from it is
 * kept in a small cache shared by the workers, each part built the first
 * time a request needs it; a name (a branch) is resolved to a digest
 * again on every request.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "daemon/airlockd.h"
#include "lib/names.h"


static struct {
	pthread_mutex_t	 mtx;
	struct snapshot	*slot[BOUND_SNAPSHOTS];
	uint64_t	 clock;
} cache = { .mtx = PTHREAD_MUTEX_INITIALIZER };

/* A growing byte string: a tree object being built. */
struct bytes {
	uint8_t		*b;
	size_t		 len;
	size_t		 cap;
};

static int
bytes_add(struct bytes *bs, const void *p, size_t n)
{
	if (bs->len + n > bs->cap) {
		size_t cap = bs->cap ? bs->cap : 256;
		uint8_t *nb;

		while (cap < bs->len + n)
			cap *= 2;
		if ((nb = realloc(bs->b, cap)) == NULL)
			return -1;
		bs->b = nb;
		bs->cap = cap;
	}
	memcpy(bs->b + bs->len, p, n);
	bs->len += n;
	return 0;
}

/* git's id of a tree object: sha1("tree <len>\0" <entries>). */
static int
tree_sha1(const struct bytes *bs, uint8_t out[STORE_SHA1_LEN])
{
	EVP_MD_CTX *ctx;
	char hdr[32];
	int n, rc = -1;

	n = snprintf(hdr, sizeof(hdr), "tree %zu", bs->len);
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return -1;
	if (EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, hdr, (size_t)n + 1) == 1 &&
	    EVP_DigestUpdate(ctx, bs->b != NULL ? bs->b : (uint8_t *)"",
	    bs->len) == 1 && EVP_DigestFinal_ex(ctx, out, NULL) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

static int
tree_entry(struct bytes *bs, const char *mode, const char *name, size_t nlen,
    const uint8_t sha1[STORE_SHA1_LEN])
{
	if (bytes_add(bs, mode, strlen(mode)) != 0 ||
	    bytes_add(bs, " ", 1) != 0 || bytes_add(bs, name, nlen) != 0 ||
	    bytes_add(bs, "", 1) != 0 ||
	    bytes_add(bs, sha1, STORE_SHA1_LEN) != 0)
		return -1;
	return 0;
}

struct builder {
	struct snaptree	*t;
	size_t		 cap_entries;
	size_t		 cap_dirs;
	/* Open directories, root first; depth 0 is the root. */
	struct {
		struct bytes	 tree;
		size_t		 dir;	/* index in tr_dirs, or -1 for root */
		size_t		 plen;	/* length of its path */
	}		 stack[BOUND_PATH / 2 + 2];
	size_t		 depth;
};

static int
add_entry(struct builder *bd, const char *path, int dir, size_t index)
{
	struct snaptree *t = bd->t;

	if (t->tr_nentries == bd->cap_entries) {
		size_t cap = bd->cap_entries ? bd->cap_entries * 2 : 64;
		struct snapentry *ne;

		if ((ne = reallocarray(t->tr_entries, cap,
		    sizeof(*ne))) == NULL)
			return -1;
		t->tr_entries = ne;
		bd->cap_entries = cap;
	}
	t->tr_entries[t->tr_nentries].se_path = path;
	t->tr_entries[t->tr_nentries].se_dir = dir;
	t->tr_entries[t->tr_nentries].se_index = index;
	t->tr_nentries++;
	return 0;
}

/* Closes the innermost open directory into its parent's tree. */
static int
close_dir(struct builder *bd)
{
	struct snaptree *t = bd->t;
	struct snapdir *d;
	const char *name;
	size_t lvl = bd->depth;
	int rc;

	d = &t->tr_dirs[bd->stack[lvl].dir];
	rc = tree_sha1(&bd->stack[lvl].tree, d->sd_sha1);
	free(bd->stack[lvl].tree.b);
	memset(&bd->stack[lvl].tree, 0, sizeof(bd->stack[lvl].tree));
	bd->depth--;
	if (rc != 0)
		return -1;
	name = strrchr(d->sd_path, '/');
	name = name != NULL ? name + 1 : d->sd_path;
	return tree_entry(&bd->stack[bd->depth].tree, "40000", name,
	    strlen(name), d->sd_sha1);
}

static int
open_dir(struct builder *bd, const char *path, size_t plen)
{
	struct snaptree *t = bd->t;
	struct snapdir *d;

	if (bd->depth + 1 >= sizeof(bd->stack) / sizeof(bd->stack[0]))
		return -1;
	if (t->tr_ndirs == bd->cap_dirs) {
		size_t cap = bd->cap_dirs ? bd->cap_dirs * 2 : 16;
		struct snapdir *nd;

		if ((nd = reallocarray(t->tr_dirs, cap, sizeof(*nd))) == NULL)
			return -1;
		t->tr_dirs = nd;
		bd->cap_dirs = cap;
	}
	d = &t->tr_dirs[t->tr_ndirs];
	memset(d, 0, sizeof(*d));
	if ((d->sd_path = strndup(path, plen)) == NULL)
		return -1;
	bd->depth++;
	bd->stack[bd->depth].dir = t->tr_ndirs;
	bd->stack[bd->depth].plen = plen;
	memset(&bd->stack[bd->depth].tree, 0, sizeof(bd->stack[0].tree));
	t->tr_ndirs++;
	/* The path is fixed up once tr_dirs stops moving (see below). */
	return add_entry(bd, NULL, 1, t->tr_ndirs - 1);
}

/*
 * Walks the files in the manifest's order (sorted by path), which is
 * git's order too: a directory "a" sorts as "a/", exactly where its
 * files fall among their siblings.  Each directory is emitted before its
 * first file, and hashed as a git tree when the walk leaves it.
 */
static int
tree_build(struct snaptree *t, const struct store_manifest *m)
{
	struct builder *bd;
	size_t i;
	int rc = -1;

	if ((bd = calloc(1, sizeof(*bd))) == NULL)
		return -1;
	bd->t = t;
	bd->stack[0].dir = (size_t)-1;
	for (i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];
		const char *path = f->path, *slash, *name;
		size_t dlen;

		slash = strrchr(path, '/');
		dlen = slash != NULL ? (size_t)(slash - path) : 0;
		/* Leave the directories that do not hold this file. */
		while (bd->depth > 0) {
			size_t pl = bd->stack[bd->depth].plen;

			if (pl <= dlen && strncmp(t->tr_dirs[
			    bd->stack[bd->depth].dir].sd_path, path, pl) == 0 &&
			    (pl == dlen || path[pl] == '/'))
				break;
			if (close_dir(bd) != 0)
				goto fail;
		}
		/* Enter the ones it is in. */
		while (bd->stack[bd->depth].plen < dlen) {
			size_t from = bd->depth == 0 ? 0 :
			    bd->stack[bd->depth].plen + 1;
			const char *end = memchr(path + from, '/', dlen - from);
			size_t plen = end != NULL ? (size_t)(end - path) : dlen;

			if (open_dir(bd, path, plen) != 0)
				goto fail;
		}
		name = slash != NULL ? slash + 1 : path;
		if (tree_entry(&bd->stack[bd->depth].tree, "100644", name,
		    strlen(name), f->git_sha1) != 0 ||
		    add_entry(bd, path, 0, i) != 0)
			goto fail;
	}
	while (bd->depth > 0)
		if (close_dir(bd) != 0)
			goto fail;
	if (tree_sha1(&bd->stack[0].tree, t->tr_root) != 0)
		goto fail;
	for (i = 0; i < t->tr_nentries; i++)
		if (t->tr_entries[i].se_dir)
			t->tr_entries[i].se_path =
			    t->tr_dirs[t->tr_entries[i].se_index].sd_path;
	rc = 0;
fail:
	for (i = 0; i <= bd->depth; i++)
		free(bd->stack[i].tree.b);
	free(bd);
	return rc;
}

static int
dir_cmp(const void *a, const void *b)
{
	return strcmp(((const struct snapdir *)a)->sd_path,
	    ((const struct snapdir *)b)->sd_path);
}

static void
tree_free(struct snaptree *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->tr_ndirs; i++)
		free(t->tr_dirs[i].sd_path);
	free(t->tr_dirs);
	free(t->tr_entries);
	free(t);
}

/*
 * Entries point at the directories by index; a copy sorted by path
 * serves lookups, and the entries are pointed at it instead.
 */
static int
tree_sort(struct snaptree *t)
{
	struct snapdir *sorted, key, *d;
	size_t i;

	if (t->tr_ndirs == 0)
		return 0;
	if ((sorted = calloc(t->tr_ndirs, sizeof(*sorted))) == NULL)
		return -1;
	memcpy(sorted, t->tr_dirs, t->tr_ndirs * sizeof(*sorted));
	qsort(sorted, t->tr_ndirs, sizeof(*sorted), dir_cmp);
	for (i = 0; i < t->tr_nentries; i++)
		if (t->tr_entries[i].se_dir) {
			key.sd_path = (char *)t->tr_entries[i].se_path;
			d = bsearch(&key, sorted, t->tr_ndirs, sizeof(*sorted),
			    dir_cmp);
			t->tr_entries[i].se_index = (size_t)(d - sorted);
		}
	free(t->tr_dirs);
	t->tr_dirs = sorted;
	return 0;
}

static struct snaptree *
tree_new(const struct store_manifest *m)
{
	struct snaptree *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (tree_build(t, m) != 0 || tree_sort(t) != 0) {
		tree_free(t);
		return NULL;
	}
	return t;
}

static void
snapshot_free(struct snapshot *sn)
{
	if (sn == NULL)
		return;
	tree_free(sn->sn_tree);
	json_decref(sn->sn_card);
	store_manifest_free(sn->sn_m);
	free(sn);
}

static struct snapshot *
snapshot_load(struct store *st, const uint8_t digest[STORE_HASH_LEN], int *rc)
{
	struct snapshot *sn;

	if ((sn = calloc(1, sizeof(*sn))) == NULL) {
		*rc = ENOMEM;
		return NULL;
	}
	memcpy(sn->sn_digest, digest, STORE_HASH_LEN);
	if ((*rc = store_manifest_get(st, digest, &sn->sn_m)) != 0) {
		free(sn);
		return NULL;
	}
	return sn;
}

/*
 * The revision's directories, git tree ids and entries, built the first
 * time a request needs them (tree, paths-info) and kept with the
 * snapshot.  NULL when out of memory.
 */
const struct snaptree *
snapshot_tree(struct snapshot *sn)
{
	struct snaptree *t;

	pthread_mutex_lock(&cache.mtx);
	t = sn->sn_tree;
	pthread_mutex_unlock(&cache.mtx);
	if (t != NULL)
		return t;
	if ((t = tree_new(sn->sn_m)) == NULL)
		return NULL;
	pthread_mutex_lock(&cache.mtx);
	if (sn->sn_tree == NULL)
		sn->sn_tree = t;
	else {
		tree_free(t);
		t = sn->sn_tree;
	}
	pthread_mutex_unlock(&cache.mtx);
	return t;
}

const struct snapdir *
snaptree_dir(const struct snaptree *t, const char *path)
{
	struct snapdir key;

	key.sd_path = (char *)path;
	return bsearch(&key, t->tr_dirs, t->tr_ndirs, sizeof(*t->tr_dirs),
	    dir_cmp);
}

static struct snapshot *
cache_find(const uint8_t digest[STORE_HASH_LEN])
{
	struct snapshot *sn;
	size_t i;

	for (i = 0; i < BOUND_SNAPSHOTS; i++)
		if ((sn = cache.slot[i]) != NULL &&
		    memcmp(sn->sn_digest, digest, STORE_HASH_LEN) == 0) {
			sn->sn_refs++;
			sn->sn_used = ++cache.clock;
			return sn;
		}
	return NULL;
}

/* Puts sn in the cache (one reference for the cache, one for the caller). */
static struct snapshot *
cache_insert(struct snapshot *sn)
{
	struct snapshot *old;
	size_t i, victim = BOUND_SNAPSHOTS;

	if ((old = cache_find(sn->sn_digest)) != NULL) {
		snapshot_free(sn);
		return old;
	}
	for (i = 0; i < BOUND_SNAPSHOTS; i++) {
		if (cache.slot[i] == NULL) {
			victim = i;
			break;
		}
		if (cache.slot[i]->sn_refs == 1 && (victim == BOUND_SNAPSHOTS ||
		    cache.slot[i]->sn_used < cache.slot[victim]->sn_used))
			victim = i;
	}
	sn->sn_refs = 1;
	sn->sn_used = ++cache.clock;
	if (victim == BOUND_SNAPSHOTS)
		return sn;	/* every slot is busy: not cached */
	if (cache.slot[victim] != NULL)
		snapshot_free(cache.slot[victim]);
	cache.slot[victim] = sn;
	sn->sn_refs++;
	return sn;
}

void
snapshot_put(struct snapshot *sn)
{
	int last;

	if (sn == NULL)
		return;
	pthread_mutex_lock(&cache.mtx);
	last = --sn->sn_refs == 0;
	pthread_mutex_unlock(&cache.mtx);
	if (last)
		snapshot_free(sn);
}

void
snapshot_cache_free(void)
{
	size_t i;

	for (i = 0; i < BOUND_SNAPSHOTS; i++) {
		if (cache.slot[i] != NULL && --cache.slot[i]->sn_refs == 0)
			snapshot_free(cache.slot[i]);
		cache.slot[i] = NULL;
	}
}

/*
 * The revision rev of a repository: API_OK with *out held (snapshot_put
 * it), or the API error that says why not, for the caller to answer.
 */
enum api_error
snapshot_resolve(struct store *st, const char *type, const char *repo,
    const char *rev, struct snapshot **out)
{
	uint8_t digest[STORE_HASH_LEN];
	struct snapshot *sn;
	int rc;

	*out = NULL;
	rc = store_resolve(st, type, repo, rev, digest);
	if (rc == STORE_ENOREPO)
		return API_REPO_NOT_FOUND;
	if (rc == STORE_ENOTFOUND)
		return API_REVISION_NOT_FOUND;
	if (rc == STORE_EINVAL)
		return API_BAD_REQUEST;
	if (rc != 0) {
		log_warnx("%s: %s@%s: %s", __func__, repo, rev,
		    store_lasterror());
		return API_STORE;
	}
	pthread_mutex_lock(&cache.mtx);
	sn = cache_find(digest);
	pthread_mutex_unlock(&cache.mtx);
	if (sn == NULL) {
		if ((sn = snapshot_load(st, digest, &rc)) == NULL) {
			log_warnx("%s: %s@%s: %s", __func__, repo, rev,
			    store_lasterror());
			return API_INTERNAL;
		}
		pthread_mutex_lock(&cache.mtx);
		sn = cache_insert(sn);
		pthread_mutex_unlock(&cache.mtx);
	}
	/* A digest names one repository's revision, never another's. */
	if (strcmp(sn->sn_m->repo, repo) != 0 ||
	    strcmp(sn->sn_m->type, type) != 0) {
		snapshot_put(sn);
		return API_REVISION_NOT_FOUND;
	}
	*out = sn;
	return API_OK;
}

/*
 * The model card's front matter, read once per revision: README.md's
 * bytes, at most BOUND_CARD of them, parsed by the store's card reader.
 */
json_t *
snapshot_card(struct store *st, struct snapshot *sn)
{
	const struct store_file *f;
	json_t *card = NULL;
	char *buf = NULL;
	size_t got;
	int done;

	pthread_mutex_lock(&cache.mtx);
	done = sn->sn_card_done;
	card = sn->sn_card;
	pthread_mutex_unlock(&cache.mtx);
	if (done)
		return card;
	if ((f = store_manifest_file(sn->sn_m, "README.md")) != NULL &&
	    f->size > 0 && f->size <= BOUND_CARD &&
	    (buf = malloc((size_t)f->size)) != NULL &&
	    store_blob_read(st, f->sha256, 0, buf,
	    (size_t)f->size, &got) == 0 && got == f->size) {
		if (store_card_parse(buf, got, &card, NULL) != 0)
			card = NULL;
	}
	free(buf);
	pthread_mutex_lock(&cache.mtx);
	if (!sn->sn_card_done) {
		sn->sn_card = card;
		sn->sn_card_done = 1;
	} else {
		json_decref(card);
		card = sn->sn_card;
	}
	pthread_mutex_unlock(&cache.mtx);
	return card;
}

/* "2026-11-23T12:00:00Z" -> "2026-11-23T12:00:00.000Z" */
void
snapshot_time(const struct snapshot *sn, char out[32])
{
	const char *c = sn->sn_m->created;
	char ms[4] = "000", when[24];
	struct tm tm;
	char *end;
	size_t i;

	memset(&tm, 0, sizeof(tm));
	if (c == NULL || (end = strptime(c, "%Y-%m-%dT%H:%M:%S", &tm)) ==
	    NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	if (*end == '.')
		for (i = 0, end++; i < 3 && *end >= '0' && *end <= '9';
		    i++, end++)
			ms[i] = *end;
	snprintf(out, 32, "%s.%sZ", when, ms);
}

/* A full commit id or a manifest digest: what it names never changes. */
int
revision_immutable(const char *rev)
{
	return strncmp(rev, "sha256:", 7) == 0 ||
	    hex_valid(rev, STORE_COMMIT_LEN);
}
