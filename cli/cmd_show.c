/*
 * airlock show REPO[@REV]: a revision's identity, provenance, claims,
 * refs, files and signatures.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/trust.h"
#include "policy/policy.h"

struct refs {
	const uint8_t	*digest;
	json_t		*names;		/* branches and tags */
	json_t		*tags;		/* of them, the tags */
	json_t		*shown;		/* as text: a tag says so */
};

static int
collect_ref(void *arg, const struct store_ref *r)
{
	struct refs *rf = arg;

	if (r->is_commit || memcmp(r->digest, rf->digest, STORE_HASH_LEN) != 0)
		return 0;
	json_array_append_new(rf->names, json_string(r->name));
	json_array_append_new(rf->shown, r->is_tag ?
	    json_sprintf("%s (tag)", r->name) : json_string(r->name));
	if (r->is_tag)
		json_array_append_new(rf->tags, json_string(r->name));
	return 0;
}

static void
print_list(const char *label, json_t *list)
{
	size_t i;
	json_t *v;

	if (json_array_size(list) == 0)
		return;
	printf("%-9s ", label);
	json_array_foreach(list, i, v)
		printf("%s%s", i ? ", " : "", json_string_value(v));
	printf("\n");
}

/*
 * The conclusion of policy/, or why there is none: show still shows the
 * revision when the licence table cannot be read.
 */
static json_t *
licence_of(struct store *st, const struct store_manifest *m)
{
	struct policy_table *t;
	json_t *c = NULL;
	int rc;

	if ((rc = policy_table_load(NULL, &t)) == 0) {
		rc = licence_conclude(st, t, m, &c);
		policy_table_free(t);
	}
	if (rc != 0)
		return json_pack("{s:s}", "error", rc < -32000 && rc > -32100 ?
		    policy_lasterror() : store_lasterror());
	return c;
}

static void
print_text(const struct store_manifest *m, json_t *refs, json_t *sigs,
    json_t *licence)
{
	char digest[STORE_DIGEST_STRLEN + 1], size[32], hex[STORE_HEX_LEN + 1];
	json_t *c = m->claims, *v;
	const char *s;
	uint64_t total = 0;
	size_t i;

	store_digest_str(m->digest, digest);
	printf("%s %s\n", m->type, m->repo);
	printf("%-9s %s\n", "commit", m->commit);
	printf("%-9s %s\n", "digest", digest);
	printf("%-9s %s\n", "created", m->created);
	if (m->source != NULL)
		printf("%-9s %s %s %s\n", "source",
		    json_string_value(json_object_get(m->source, "upstream")),
		    json_string_value(json_object_get(m->source, "revision")),
		    json_string_value(json_object_get(m->source, "commit")));
	else
		printf("%-9s %s\n", "source", "local add");
	print_list("refs", refs);
	s = json_string_value(json_object_get(c, "license"));
	printf("%-9s %s", "license", s != NULL ? s : "(none declared)");
	if ((s = json_string_value(json_object_get(c, "license_name"))) != NULL)
		printf(" (%s)", s);
	printf("\n");
	json_array_foreach(json_object_get(c, "license_files"), i, v)
		printf("%-9s %s sha256:%s\n", "", json_string_value(
		    json_object_get(v, "path")), json_string_value(
		    json_object_get(v, "sha256")));
	if (json_object_get(licence, "error") != NULL)
		printf("%-9s (%s)\n", "concluded", json_string_value(
		    json_object_get(licence, "error")));
	else
		licence_print_summary(licence);
	print_list("base", json_object_get(c, "base_model"));
	if ((s = json_string_value(json_object_get(c,
	    "base_model_relation"))) != NULL)
		printf("%-9s %s\n", "relation", s);
	print_list("datasets", json_object_get(c, "datasets"));
	for (i = 0; i < m->nfiles; i++)
		total += m->files[i].size;
	printf("%-9s %zu, %s\n", "files", m->nfiles, cli_bytes(total, size));
	for (i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];

		store_hex(f->sha256, STORE_HASH_LEN, hex);
		printf("  %-40s %12llu %s %s\n", f->path,
		    (unsigned long long)f->size, f->lfs ? "lfs" : "   ", hex);
	}
	trust_print(sigs);
}

int
cmd_show(struct cmd_ctx *ctx)
{
	struct store *st = ctx->st;
	struct store_manifest *m = ctx->m;
	struct refs rf;
	json_t *sigs = NULL, *licence;

	rf.digest = m->digest;
	rf.names = json_array();
	rf.tags = json_array();
	rf.shown = json_array();
	store_refs(st, m->type, m->repo, collect_ref, &rf);
	sigs = trust_check(st, m, NULL);
	licence = licence_of(st, m);
	if (ctx->cli->json) {
		char digest[STORE_DIGEST_STRLEN + 1];
		json_t *files = json_deep_copy(json_object_get(m->root, "files"));

		store_digest_str(m->digest, digest);
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:O?,s:O,s:o,s:O,s:o,"
		    "s:O,s:{s:O,s:O,s:O,s:O,s:O},s:O}", "type", m->type, "repo",
		    m->repo, "commit", m->commit, "digest", digest, "created",
		    m->created, "source", m->source, "claims", m->claims,
		    "refs", rf.names, "tags", rf.tags, "files", files,
		    "signatures",
		    json_object_get(sigs, "signatures"), "policy",
		    "threshold", json_object_get(sigs, "threshold"),
		    "trusted", json_object_get(sigs, "trusted"),
		    "ok", json_object_get(sigs, "ok"),
		    "reason", json_object_get(sigs, "reason"),
		    "problems", json_object_get(sigs, "problems"), "licence",
		    licence));
	} else {
		print_text(m, rf.shown, sigs, licence);
		json_decref(rf.names);
	}
	json_decref(rf.tags);
	json_decref(rf.shown);
	json_decref(sigs);
	json_decref(licence);
	return EXIT_OK;
}
