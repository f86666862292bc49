/*
 * stored.c - policy/ over the store: the evidence of a stored revision,
 * its bases resolved among the store's revisions (or fetched as
 * metadata through the caller's hook), the repo's other revisions taken
 * as history, and the datasets its card claims (policy.h, "Over the
 * store").
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
};

/* Hands every file of m to ev, with the bytes it asks for. */
static int
feed(struct store *st, const struct store_manifest *m,
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

struct history {
	struct policy_evidence	*ev;
	struct store		*st;
	const uint8_t		*digest;
	uint8_t			 seen[64][STORE_HASH_LEN];
	size_t			 nseen;
};

static int
history_ref(void *arg, const struct store_ref *r)
{
	struct history *h = arg;
	struct store_manifest *m;

	if (memcmp(r->digest, h->digest, STORE_HASH_LEN) == 0)
		return 0;
	for (size_t i = 0; i < h->nseen; i++)
		if (memcmp(h->seen[i], r->digest, STORE_HASH_LEN) == 0)
			return 0;
	if (h->nseen == sizeof(h->seen) / sizeof(h->seen[0]))
		return 0;
	memcpy(h->seen[h->nseen++], r->digest, STORE_HASH_LEN);
	if (store_manifest_get(h->st, r->digest, &m) != 0)
		return 0;
	policy_evidence_history(h->ev, m->commit, m->claims);
	store_manifest_free(m);
	return 0;
}

static int
evidence(struct store *st, const struct policy_table *t,
    const struct store_manifest *m, int history,
    struct policy_evidence **out)
{
	struct history h = { .st = st, .digest = m->digest };
	int rc;

	if ((rc = policy_evidence_new(t, m->repo, m->commit, out)) != 0)
		return rc;
	if ((rc = feed(st, m, *out)) != 0) {
		policy_evidence_free(*out);
		*out = NULL;
		return rc;
	}
	h.ev = *out;
	if (history)
		store_refs(st, m->type, m->repo, history_ref, &h);
	return 0;
}

/* The main branch of the model, else its metadata-only revision. */
static int
held(struct store *st, const char *type, const char *repo,
    uint8_t digest[STORE_HASH_LEN])
{
	int rc;

	if ((rc = store_resolve(st, type, repo, NULL, digest)) ==
	    STORE_ENOTFOUND)
		rc = store_resolve(st, type, repo, POLICY_METADATA_REF, digest);
	/* Not held, either way: the callers ask no more than that. */
	return rc == STORE_ENOREPO ? STORE_ENOTFOUND : rc;
}

/*
 * A base is the main branch of the model with that id if the store has
 * it, else its metadata-only revision; else the caller's fetch is asked
 * to bring one (its metadata, from an upstream) and the store looked at
 * again.
 */
static int
resolve(void *arg, const char *repo, struct policy_evidence **out)
{
	struct resolver *r = arg;
	struct store_manifest *m;
	uint8_t digest[STORE_HASH_LEN];
	int rc;

	*out = NULL;
	rc = held(r->st, "model", repo, digest);
	if (rc == STORE_ENOTFOUND && r->fetch != NULL) {
		if ((rc = r->fetch(r->fetch_arg, "model", repo)) != 0)
			return rc;
		rc = held(r->st, "model", repo, digest);
	}
	if (rc != 0)
		return rc == STORE_ENOTFOUND || rc == STORE_EINVAL ?
		    POLICY_ENOTFOUND : rc;
	if ((rc = store_manifest_get(r->st, digest, &m)) != 0)
		return rc;
	rc = evidence(r->st, r->table, m, 0, out);
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
		if (held(st, "dataset", repo, digest) != 0) {
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

int
policy_store_conclude(struct store *st, const struct policy_table *t,
    const struct store_manifest *m, policy_fetch_fn fetch, void *fetch_arg,
    json_t **out)
{
	struct resolver r = { .st = st, .table = t, .fetch = fetch,
	    .fetch_arg = fetch_arg };
	struct policy_evidence *ev;
	struct policy_lineage *lin;
	json_t *files, *evj;
	int rc;

	*out = NULL;
	if ((rc = evidence(st, t, m, 1, &ev)) != 0)
		return rc;
	evj = policy_evidence_json(ev);	/* a new reference */
	files = json_incref(json_object_get(evj, "licence_files"));
	json_decref(evj);
	if ((rc = policy_lineage_build(t, ev, resolve, &r, &lin)) != 0) {
		json_decref(files);
		return rc;
	}
	rc = policy_conclude(t, lin, out);
	policy_lineage_free(lin);
	if (rc == 0) {
		json_object_set_new(*out, "licence_files", files);
		json_object_set_new(*out, "datasets", datasets(st, m));
	}
	else
		json_decref(files);
	return rc;
}

