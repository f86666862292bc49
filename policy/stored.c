/*
 * stored.c - policy/ over the store: the evidence of a stored revision
 * or of files about to be stored, its bases resolved among the store's
 * revisions (or fetched as metadata through the caller's hook), the
 * repo's other revisions taken as history, and the datasets a stored
 * revision's card claims (policy.h, "Over the store").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/policy.h"
#include "store/store.h"

struct resolver {
	struct store		*st;
	const struct policy_table *table;
	policy_fetch_fn		 fetch;
	void			*fetch_arg;
	int			 flags;		/* POLICY_STORE_* */
};

/* What is concluded: a stored revision, or files not stored yet. */
struct subject {
	const char			*type;
	const char			*repo;
	const char			*commit;	/* or NULL */
	const struct store_manifest	*stored;	/* or NULL: files */
	const struct policy_input_file	*files;
	size_t				 nfiles;
};

/* Hands every file of m to ev, with the bytes it asks for. */
static int
feed_stored(struct store *st, const struct store_manifest *m,
    struct policy_evidence *ev)
{
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];
		size_t want = policy_evidence_wants(f->path, f->size), got = 0;
		char *buf = NULL;
		int rc;

		if (want > 0) {
			if ((buf = malloc(want)) == NULL)
				return ENOMEM;
			if ((rc = store_blob_read(st, f->sha256, 0, buf, want,
			    &got)) != 0) {
				free(buf);
				return rc;
			}
		}
		rc = policy_evidence_file(ev, f->path, f->size, f->sha256, buf,
		    got);
		free(buf);
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Hands the caller's files to ev, as they come. */
static int
feed_files(struct policy_evidence *ev, const struct policy_input_file *files,
    size_t n)
{
	static const uint8_t none[STORE_HASH_LEN];
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = policy_evidence_file(ev, files[i].path,
		    files[i].size, files[i].sha256 != NULL ? files[i].sha256 :
		    none, files[i].buf, files[i].len)) != 0)
			return rc;
	return 0;
}

/* The repo's other revisions: neither the concluded revision (digest)
 * nor, for files, any stored revision of the same commit. */
struct history {
	struct policy_evidence	*ev;
	struct store		*st;
	const uint8_t		*digest;	/* or NULL */
	const char		*commit;	/* or NULL */
	uint8_t			 seen[64][STORE_HASH_LEN];
	size_t			 nseen;
};

static int
history_ref(void *arg, const struct store_ref *r)
{
	struct history *h = arg;
	struct store_manifest *m;

	if (h->digest != NULL &&
	    memcmp(r->digest, h->digest, STORE_HASH_LEN) == 0)
		return 0;
	for (size_t i = 0; i < h->nseen; i++)
		if (memcmp(h->seen[i], r->digest, STORE_HASH_LEN) == 0)
			return 0;
	if (h->nseen == sizeof(h->seen) / sizeof(h->seen[0]))
		return 0;
	memcpy(h->seen[h->nseen++], r->digest, STORE_HASH_LEN);
	if (store_manifest_get(h->st, r->digest, &m) != 0)
		return 0;
	if (h->commit == NULL || strcmp(m->commit, h->commit) != 0)
		policy_evidence_history(h->ev, m->commit, m->claims);
	store_manifest_free(m);
	return 0;
}

static int
evidence(struct store *st, const struct policy_table *t,
    const struct subject *s, int history, struct policy_evidence **out)
{
	struct history h = { .st = st };
	int rc;

	if ((rc = policy_evidence_new(t, s->repo, s->commit, out)) != 0)
		return rc;
	rc = s->stored != NULL ? feed_stored(st, s->stored, *out) :
	    feed_files(*out, s->files, s->nfiles);
	if (rc != 0) {
		policy_evidence_free(*out);
		*out = NULL;
		return rc;
	}
	if (!history)
		return 0;
	h.ev = *out;
	if (s->stored != NULL)
		h.digest = s->stored->digest;
	else
		h.commit = s->commit;
	store_refs(st, s->type, s->repo, history_ref, &h);
	return 0;
}

/*
 * The main branch of the repository, else (unless main_only) its
 * metadata-only revision; STORE_ENOTFOUND when it holds neither.
 */
static int
held(struct store *st, const char *type, const char *repo, int main_only,
    uint8_t digest[STORE_HASH_LEN])
{
	int rc;

	if ((rc = store_resolve(st, type, repo, NULL, digest)) ==
	    STORE_ENOTFOUND && !main_only)
		rc = store_resolve(st, type, repo, POLICY_METADATA_REF, digest);
	/* Not held, either way: the callers ask no more than that. */
	return rc == STORE_ENOREPO ? STORE_ENOTFOUND : rc;
}

/*
 * A base is the main branch of the model with that id if the store has
 * it, else (unless POLICY_STORE_MAIN_ONLY) its metadata-only revision;
 * else the caller's fetch is asked to bring one (its metadata, from an
 * upstream) and the store looked at again.
 */
static int
resolve(void *arg, const char *repo, struct policy_evidence **out)
{
	struct resolver *r = arg;
	struct store_manifest *m;
	struct subject s = { .type = "model" };
	uint8_t digest[STORE_HASH_LEN];
	int main_only = r->flags & POLICY_STORE_MAIN_ONLY, rc;

	*out = NULL;
	rc = held(r->st, "model", repo, main_only, digest);
	if (rc == STORE_ENOTFOUND && r->fetch != NULL) {
		if ((rc = r->fetch(r->fetch_arg, "model", repo)) != 0)
			return rc;
		rc = held(r->st, "model", repo, main_only, digest);
	}
	if (rc != 0)
		return rc == STORE_ENOTFOUND || rc == STORE_EINVAL ?
		    POLICY_ENOTFOUND : rc;
	if ((rc = store_manifest_get(r->st, digest, &m)) != 0)
		return rc;
	s.repo = m->repo;
	s.commit = m->commit;
	s.stored = m;
	rc = evidence(r->st, r->table, &s, 0, out);
	store_manifest_free(m);
	return rc;
}

/* Each dataset the card claims: whether the store holds it, and what
 * its card declares. */
static json_t *
datasets(struct store *st, const struct store_manifest *m)
{
	json_t *out = json_array(), *d, *claims;
	struct store_manifest *dm;
	uint8_t digest[STORE_HASH_LEN];
	size_t i;

	claims = json_object_get(m->claims, "datasets");
	json_array_foreach(claims, i, d) {
		const char *repo = json_string_value(d);
		json_t *lic = json_null();

		if (repo == NULL)
			continue;
		if (held(st, "dataset", repo, 0, digest) != 0) {
			json_array_append_new(out, json_pack("{s:s,s:b,s:n}",
			    "repo", repo, "held", 0, "licence"));
			continue;
		}
		if (store_manifest_get(st, digest, &dm) == 0) {
			lic = json_object_get(dm->claims, "license");
			lic = lic != NULL ? json_incref(lic) : json_null();
			store_manifest_free(dm);
		}
		json_array_append_new(out, json_pack("{s:s,s:b,s:o}", "repo",
		    repo, "held", 1, "licence", lic));
	}
	return out;
}

/* The conclusion of s, its bases through r, with its "licence_files". */
static int
conclude(struct resolver *r, const struct subject *s, json_t **out)
{
	struct policy_evidence *ev;
	struct policy_lineage *lin;
	json_t *files, *evj;
	int rc;

	*out = NULL;
	if ((rc = evidence(r->st, r->table, s, 1, &ev)) != 0)
		return rc;
	evj = policy_evidence_json(ev);	/* a new reference */
	files = json_incref(json_object_get(evj, "licence_files"));
	json_decref(evj);
	if ((rc = policy_lineage_build(r->table, ev, resolve, r, &lin)) != 0) {
		json_decref(files);
		return rc;
	}
	rc = policy_conclude(r->table, lin, out);
	policy_lineage_free(lin);
	if (rc == 0)
		json_object_set_new(*out, "licence_files", files);
	else
		json_decref(files);
	return rc;
}

int
policy_store_conclude(struct store *st, const struct policy_table *t,
    const struct store_manifest *m, policy_fetch_fn fetch, void *fetch_arg,
    json_t **out)
{
	struct resolver r = { .st = st, .table = t, .fetch = fetch,
	    .fetch_arg = fetch_arg };
	struct subject s = { .type = m->type, .repo = m->repo,
	    .commit = m->commit, .stored = m };
	int rc;

	if ((rc = conclude(&r, &s, out)) == 0)
		json_object_set_new(*out, "datasets", datasets(st, m));
	return rc;
}

int
policy_store_conclude_files(struct store *st, const struct policy_table *t,
    const char *repo, const char *commit, const struct policy_input_file *files,
    size_t n, int flags, json_t **out)
{
	struct resolver r = { .st = st, .table = t, .flags = flags };
	struct subject s = { .type = "model", .repo = repo, .commit = commit,
	    .files = files, .nfiles = n };

	return conclude(&r, &s, out);
}
