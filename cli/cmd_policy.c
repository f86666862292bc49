/*
 * airlock policy show | policy set FILE: the gate's rules, kept in the
 * store as one setting (its canonical JSON), applied at add, pull, import
 * and when airlockd serves.  set reads YAML or JSON (policy/rules.c) and
 * writes nothing unless the whole file is good.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "gate/gate.h"
#include "lib/bounds.h"
#include "policy/policy.h"

int
gate_load(struct store *st, struct policy_table **t,
    struct policy_rules **r)
{
	int rc;

	*t = NULL;
	*r = NULL;
	/* No policy set: nothing to judge, and no licence table needed. */
	if ((rc = gate_policy_set(st)) <= 0)
		return rc == 0 ? 0 : cli_store_fail(rc, "the policy");
	if ((rc = licence_table(t)) != 0)
		return rc;
	if ((rc = gate_rules_get(st, *t, r)) != 0) {
		policy_table_free(*t);
		*t = NULL;
		if (rc < -32000 && rc > -32100)
			return cli_fail(EXIT_USAGE, "%s", gate_lasterror());
		return cli_store_fail(rc, "the policy");
	}
	return 0;
}

int
gate_refuse(const char *what, const char *reason)
{
	return cli_fail(EXIT_CHECK, "%s: refused by the policy: %s (airlock "
	    "policy show)", what, reason);
}

/*
 * The gate, before a byte is stored: the source's card, licence and
 * config files read for the conclusion.  0 to go on (having said so when
 * forced), else the exit status, having printed why.
 */
int
gate_source(struct store *st, struct store_source *src, const char *path,
    const char *repo, const char *force_reason)
{
	struct policy_table *t;
	struct policy_rules *r;
	struct policy_input_file *files;
	uint8_t (*sha)[STORE_HASH_LEN];
	size_t n = store_source_count(src);
	json_t *c = NULL;
	char reason[1024];
	int rc;

	if ((rc = gate_load(st, &t, &r)) != 0 || r == NULL) {
		policy_table_free(t);
		return rc;
	}
	files = calloc(n + 1, sizeof(*files));
	sha = calloc(n + 1, sizeof(*sha));
	if (files == NULL || sha == NULL) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct store_entry *e = store_source_entry(src, i);
		size_t want = policy_evidence_wants(e->path, e->size);
		char *buf;
		size_t len;

		files[i].path = e->path;
		files[i].size = e->size;
		/* A part of a file (a GGUF's head) is not read here. */
		if (want == 0 || want < e->size)
			continue;
		if ((rc = store_source_slurp(src, i, want, &buf, &len)) != 0) {
			rc = cli_store_fail(rc, e->path);
			goto out;
		}
		store_sha256(buf, len, sha[i]);
		files[i].sha256 = sha[i];
		files[i].buf = buf;
		files[i].len = len;
	}
	if ((rc = gate_conclude_files(st, t, repo, NULL, files, n, &c)) != 0) {
		rc = rc < -32000 && rc > -32100 ? cli_fail(EXIT_USAGE, "%s: %s",
		    path, gate_lasterror()) : cli_store_fail(rc, path);
		goto out;
	}
	rc = gate_judge(r, c, NULL, GATE_NO_SIGNATURES, reason, sizeof(reason));
	if (rc == POLICY_EDENIED && force_reason != NULL) {
		cli_warnx("%s: the policy refuses it (%s); added by --force: %s",
		    path, reason, force_reason);
		rc = 0;
	} else if (rc == POLICY_EDENIED) {
		gate_refuse(path, reason);
		cli_warnx("%s: no revision was added", path);
		rc = EXIT_CHECK;
	} else if (rc != 0)
		rc = cli_fail(EXIT_USAGE, "%s: %s", path, gate_lasterror());
out:
	for (size_t i = 0; files != NULL && i < n; i++)
		free((void *)files[i].buf);
	free(files);
	free(sha);
	json_decref(c);
	policy_rules_free(r);
	policy_table_free(t);
	return rc;
}

static void
print_rules(struct cli *cli, json_t *doc)
{
	json_t *v;
	size_t i;

	if (cli->json) {
		cli_json(json_incref(doc));
		return;
	}
	if (doc == NULL) {
		printf("no policy: every revision passes\n");
		return;
	}
	printf("%-22s", "allow");
	if (json_object_get(doc, "allow") == NULL)
		printf(" (any)");
	json_array_foreach(json_object_get(doc, "allow"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n%-22s", "deny");
	json_array_foreach(json_object_get(doc, "deny"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n%-22s", "refuse_flags");
	json_array_foreach(json_object_get(doc, "refuse_flags"), i, v)
		printf(" %s", json_string_value(v));
	printf("\n%-22s %lld\n", "min_signatures", (long long)
	    json_integer_value(json_object_get(doc, "min_signatures")));
	printf("%-22s %s\n", "allow_unknown_lineage",
	    json_is_false(json_object_get(doc, "allow_unknown_lineage")) ?
	    "false" : "true");
}

int
cmd_policy_show(struct cmd_ctx *ctx)
{
	struct policy_table *t;
	struct policy_rules *r;
	int rc;

	if ((rc = gate_load(ctx->st, &t, &r)) != 0)
		return rc;
	print_rules(ctx->cli, r != NULL ? policy_rules_json(r) : NULL);
	policy_rules_free(r);
	policy_table_free(t);
	return EXIT_OK;
}

int
cmd_policy_set(struct cmd_ctx *ctx)
{
	const char *path = ctx->argv[0];
	struct policy_table *t = NULL;
	struct policy_rules *r = NULL;
	char *buf = NULL;
	size_t len;
	int rc;

	if ((rc = cli_read_file(path, BOUND_CARD, &buf, &len)) != 0)
		return rc;
	if ((rc = licence_table(&t)) != 0)
		goto out;
	if (policy_rules_parse(t, buf, len, &r) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s: %s; the policy is unchanged",
		    path, policy_lasterror());
		goto out;
	}
	if ((rc = gate_rules_set(ctx->st, r)) != 0) {
		rc = cli_store_fail(rc, "the policy");
		goto out;
	}
	print_rules(ctx->cli, policy_rules_json(r));
	rc = EXIT_OK;
out:
	policy_rules_free(r);
	policy_table_free(t);
	free(buf);
	return rc;
}
