/*
 * licence.c - policy/ over the store, for licence, show and ls: the
 * evidence of a stored revision, its bases resolved among the store's
 * revisions, the repo's other revisions as history, and the conclusion
 * printed for people.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/bounds.h"
#include "policy/policy.h"

struct resolver {
	struct store		*st;
	struct policy_table	*table;
};

int
licence_table(struct policy_table **t)
{
	int rc;

	if ((rc = policy_table_load(NULL, t)) != 0)
		return cli_fail(EXIT_USAGE, "%s", policy_lasterror());
	return 0;
}

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
evidence(struct store *st, struct policy_table *t,
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

/* A base is the main branch of the model with that id, if the store has
 * it: the hook a mirror's resolver will extend to the upstream. */
static int
resolve(void *arg, const char *repo, struct policy_evidence **out)
{
	struct resolver *r = arg;
	struct store_manifest *m;
	uint8_t digest[STORE_HASH_LEN];
	int rc;

	*out = NULL;
	if ((rc = store_resolve(r->st, "model", repo, NULL, digest)) != 0)
		return rc == STORE_ENOTFOUND || rc == STORE_EINVAL ?
		    POLICY_ENOTFOUND : rc;
	if ((rc = store_manifest_get(r->st, digest, &m)) != 0)
		return rc;
	rc = evidence(r->st, r->table, m, 0, out);
	store_manifest_free(m);
	return rc;
}

int
licence_conclude(struct store *st, struct policy_table *t,
    const struct store_manifest *m, json_t **out)
{
	struct resolver r = { .st = st, .table = t };
	struct policy_evidence *ev;
	struct policy_lineage *lin;
	json_t *files;
	int rc;

	*out = NULL;
	if ((rc = evidence(st, t, m, 1, &ev)) != 0)
		return rc;
	files = json_incref(json_object_get(policy_evidence_json(ev),
	    "licence_files"));
	if ((rc = policy_lineage_build(t, ev, resolve, &r, &lin)) != 0) {
		json_decref(files);
		return rc;
	}
	rc = policy_conclude(t, lin, out);
	policy_lineage_free(lin);
	if (rc == 0)
		json_object_set_new(*out, "licence_files", files);
	else
		json_decref(files);
	return rc;
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

void
licence_print_summary(json_t *c)
{
	json_t *f;
	size_t i;

	printf("%-9s %s\n", "concluded", str(c, "concluded"));
	json_array_foreach(json_object_get(c, "flags"), i, f)
		printf("%-9s %s: %s\n", i == 0 ? "flags" : "", str(f, "flag"),
		    str(f, "detail"));
}

void
licence_print(json_t *c)
{
	json_t *v, *m;
	const char *s;
	size_t i;

	printf("model %s@%s\n", str(c, "repo"), str(c, "commit") != NULL ?
	    str(c, "commit") : "?");
	s = str(c, "declared");
	printf("%-11s %s", "declared", s != NULL ? s : "(none)");
	if (str(c, "declared_source") != NULL)
		printf(" (%s)", str(c, "declared_source"));
	printf("\n%-11s %s\n", "concluded", str(c, "concluded"));
	json_array_foreach(json_object_get(c, "chain"), i, v) {
		json_int_t depth = json_integer_value(json_object_get(v,
		    "depth"));

		printf("%-11s %*s%s", i == 0 ? "lineage" : "", (int)depth * 2,
		    "", str(v, "repo"));
		if (!json_is_true(json_object_get(v, "held")))
			printf("  not held");
		else {
			if (str(v, "commit") != NULL)
				printf("@%.12s", str(v, "commit"));
			printf("  %s", str(v, "declared") != NULL ?
			    str(v, "declared") : "(none declared)");
		}
		if (str(v, "relation") != NULL)
			printf("  (a %s)", str(v, "relation"));
		if (str(v, "source") != NULL)
			printf("  [named in %s's %s]", str(v, "base_of"),
			    str(v, "source"));
		printf("\n");
	}
	json_array_foreach(json_object_get(c, "licence_files"), i, v)
		printf("%-11s %s sha256:%s%s%s\n", i == 0 ? "files" : "",
		    str(v, "path"), str(v, "sha256") != NULL ? str(v, "sha256") :
		    "?", str(v, "fingerprint_of") != NULL ? "  text of " : "",
		    str(v, "fingerprint_of") != NULL ?
		    str(v, "fingerprint_of") : "");
	json_array_foreach(json_object_get(c, "flags"), i, v)
		printf("%-11s %s: %s\n", i == 0 ? "flags" : "", str(v, "flag"),
		    str(v, "detail"));
	if (json_array_size(json_object_get(c, "flags")) == 0)
		printf("%-11s %s\n", "flags", "(none)");
	json_array_foreach(json_object_get(c, "obligations"), i, v)
		printf("%-11s %s%s%s%s: %s\n", i == 0 ? "obligations" : "",
		    str(v, "obligation"), str(v, "licence") != NULL ? " (" : "",
		    str(v, "licence") != NULL ? str(v, "licence") : "",
		    str(v, "licence") != NULL ? ")" : "", str(v, "text"));
	json_array_foreach(json_object_get(c, "notes"), i, m)
		printf("%-11s %s\n", i == 0 ? "notes" : "", json_string_value(m));
}
