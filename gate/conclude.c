/*
 * conclude.c - policy/ over the store: the evidence of a revision's files
 * (stored, or about to be), its bases resolved among the store's
 * revisions, the repo's other revisions taken as history.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "policy/policy.h"

struct resolver {
	struct store			*st;
	const struct policy_table	*table;
};

static int
feed_files(struct policy_evidence *ev, const struct gate_file *files,
    size_t n)
{
	static const uint8_t none[32];
	int rc;

	for (size_t i = 0; i < n; i++)
		if ((rc = policy_evidence_file(ev, files[i].path,
		    files[i].size, files[i].sha256 != NULL ? files[i].sha256 :
		    none, files[i].buf, files[i].len)) != 0)
			return rc;
	return 0;
}

/* The files of m, with the bytes the evidence asks for (*bufs to free). */
static int
stored_files(struct store *st, const struct store_manifest *m,
    struct gate_file **out)
{
	struct gate_file *v;
	int rc;

	*out = NULL;
	if ((v = calloc(m->nfiles + 1, sizeof(*v))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];
		size_t want = policy_evidence_wants(f->path, f->size), got = 0;
		char *buf;

		v[i].path = f->path;
		v[i].size = f->size;
		v[i].sha256 = f->sha256;
		if (want == 0)
			continue;
		if ((buf = malloc(want)) == NULL)
			rc = ENOMEM;
		else
			rc = store_blob_read(st, f->sha256, 0, buf, want, &got);
		if (rc != 0) {
			free(buf);
			for (size_t j = 0; j < i; j++)
				free((void *)v[j].buf);
			free(v);
			return rc;
		}
		v[i].buf = buf;
		v[i].len = got;
	}
	*out = v;
	return 0;
}

static void
files_free(struct gate_file *v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free((void *)v[i].buf);
	free(v);
}

struct history {
	struct policy_evidence	*ev;
	struct store		*st;
	const char		*commit;
	uint8_t			 seen[64][STORE_HASH_LEN];
	size_t			 nseen;
};

static int
history_ref(void *arg, const struct store_ref *r)
{
	struct history *h = arg;
	struct store_manifest *m;

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
evidence(struct store *st, const struct policy_table *t, const char *repo,
    const char *commit, const struct gate_file *files, size_t n, int history,
    struct policy_evidence **out)
{
	struct history h = { .st = st, .commit = commit };
	int rc;

	if ((rc = policy_evidence_new(t, repo, commit, out)) != 0)
		return rc;
	if ((rc = feed_files(*out, files, n)) != 0) {
		policy_evidence_free(*out);
		*out = NULL;
		return rc;
	}
	h.ev = *out;
	if (history)
		store_refs(st, "model", repo, history_ref, &h);
	return 0;
}

/* A base is the main branch of the model with that id, if the store has
 * it: the hook a mirror's resolver will extend to the upstream. */
static int
resolve(void *arg, const char *repo, struct policy_evidence **out)
{
	struct resolver *r = arg;
	struct store_manifest *m;
	struct gate_file *files;
	uint8_t digest[STORE_HASH_LEN];
	int rc;

	*out = NULL;
	if ((rc = store_resolve(r->st, "model", repo, NULL, digest)) != 0)
		return rc == STORE_ENOTFOUND || rc == STORE_ENOREPO ||
		    rc == STORE_EINVAL ? POLICY_ENOTFOUND : rc;
	if ((rc = store_manifest_get(r->st, digest, &m)) != 0)
		return rc;
	if ((rc = stored_files(r->st, m, &files)) == 0) {
		rc = evidence(r->st, r->table, m->repo, m->commit, files,
		    m->nfiles, 0, out);
		files_free(files, m->nfiles);
	}
	store_manifest_free(m);
	return rc;
}

int
gate_conclude_files(struct store *st, const struct policy_table *t,
    const char *repo, const char *commit, const struct gate_file *files,
    size_t n, json_t **out)
{
	struct resolver r = { .st = st, .table = t };
	struct policy_evidence *ev;
	struct policy_lineage *lin;
	json_t *lf, *evj;
	int rc;

	*out = NULL;
	if ((rc = evidence(st, t, repo, commit, files, n, 1, &ev)) != 0)
		return rc;
	evj = policy_evidence_json(ev);	/* a new reference */
	lf = json_incref(json_object_get(evj, "licence_files"));
	json_decref(evj);
	if ((rc = policy_lineage_build(t, ev, resolve, &r, &lin)) != 0) {
		json_decref(lf);
		return rc;
	}
	rc = policy_conclude(t, lin, out);
	policy_lineage_free(lin);
	if (rc == 0)
		json_object_set_new(*out, "licence_files", lf);
	else
		json_decref(lf);
	return rc;
}

int
gate_conclude(struct store *st, const struct policy_table *t,
    const struct store_manifest *m, json_t **out)
{
	/* A stored revision: the one conclusion over the store. */
	return policy_store_conclude(st, t, m, NULL, NULL, out);
}
