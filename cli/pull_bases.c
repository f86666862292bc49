/*
 * pull_bases.c - what a pull brings besides the revision: the metadata
 * of each base model its lineage names (cards, licence and config files,
 * no weights), so that `airlock licence` concludes inside the air gap,
 * and with --with-datasets the dataset repos its card claims.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/bounds.h"
#include "mirror/mirror.h"
#include "policy/policy.h"

/* What a base's metadata is: never a weight file. */
static const char *const meta_globs[] = {
	"README.md", "LICENSE*", "LICENCE*", "NOTICE*", "COPYING*",
	"config.json", "adapter_config.json", "mergekit_config.yml", NULL
};
static const char *const no_globs[] = { NULL };

struct bases {
	struct mirror			*m;
	struct store			*st;
	const struct mirror_pull_spec	*spec;
	json_t				*out;	/* what was pulled */
};

static void
pulled(struct bases *b, const struct mirror_pull_result *res,
    const char *what)
{
	const struct store_manifest *m = res->manifest;
	char digest[STORE_DIGEST_STRLEN + 1];

	store_digest_str(m->digest, digest);
	json_array_append_new(b->out, json_pack("{s:s,s:s,s:s,s:s,s:s,s:I}",
	    "type", m->type, "repo", m->repo, "commit", m->commit, "digest",
	    digest, "kept_as", what, "fetched", (json_int_t)res->fetched));
}

/*
 * policy_fetch_fn: the base's metadata from the same upstream, kept as
 * its metadata-only revision.  Not there, not ours to read, or gated:
 * the chain ends there ("unknown beyond"), and the pull goes on.
 */
static int
fetch_base(void *arg, const char *type, const char *repo)
{
	struct bases *b = arg;
	struct mirror_pull_spec s = *b->spec;
	struct mirror_pull_result res = { 0 };
	int rc;

	s.type = type;
	s.repo = repo;
	s.revision = "main";
	s.ref = POLICY_METADATA_REF;
	s.include = meta_globs;
	s.max_file = BOUND_CARD;	/* metadata, not weights named so */
	s.exclude = no_globs;
	s.judge = NULL;
	s.exact = NULL;
	s.progress = NULL;
	if ((rc = mirror_pull(b->m, b->st, &s, &res)) != 0) {
		const char *e = mirror_lasterror();

		cli_warnx("base %s: %s: its lineage ends there", repo,
		    *e != '\0' ? e : mirror_strerror(rc));
		store_manifest_free(res.manifest);
		return POLICY_ENOTFOUND;
	}
	pulled(b, &res, POLICY_METADATA_REF);
	store_manifest_free(res.manifest);
	return 0;
}

int
pull_bases(struct mirror *m, struct store *st,
    const struct mirror_pull_spec *spec, const struct store_manifest *man,
    json_t **out)
{
	struct bases b = { m, st, spec, json_array() };
	struct policy_table *t;
	json_t *c = NULL;
	int rc;

	*out = b.out;
	if (strcmp(man->type, "model") != 0)
		return 0;
	if ((rc = licence_table(&t)) != 0)
		return rc;
	rc = policy_store_conclude(st, t, man, fetch_base, &b, &c);
	if (rc != 0)
		cli_warnx("%s: the lineage: %s", man->repo,
		    rc < -32000 && rc > -32100 ? policy_lasterror() :
		    store_strerror(rc));
	json_decref(c);
	policy_table_free(t);
	return rc != 0 ? EXIT_CHECK : 0;
}

int
pull_datasets(struct mirror *m, struct store *st,
    const struct mirror_pull_spec *spec, const struct store_manifest *man,
    json_t *out)
{
	struct bases b = { m, st, spec, out };
	json_t *d;
	size_t i;
	int status = 0;

	json_array_foreach(json_object_get(man->claims, "datasets"), i, d) {
		struct mirror_pull_spec s = *spec;
		struct mirror_pull_result res = { 0 };
		const char *e;
		int rc;

		s.type = "dataset";
		s.repo = json_string_value(d);
		s.revision = "main";
		s.include = no_globs;
		s.exclude = no_globs;
		s.exact = NULL;
		s.judge = NULL;		/* one judge's record per pull */
		if (s.repo == NULL)
			continue;
		if ((rc = mirror_pull(m, st, &s, &res)) == 0)
			pulled(&b, &res, "main");
		else {
			e = mirror_lasterror();
			cli_warnx("%s%s: %s", store_type_prefix(s.type), s.repo,
			    *e != '\0' ? e : mirror_strerror(rc));
			status = EXIT_CHECK;
		}
		store_manifest_free(res.manifest);
	}
	return status;
}
