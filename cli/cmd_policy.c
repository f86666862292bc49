/*
 * airlock policy show | policy set FILE: the gate's rules, kept in the
 * store as one setting (its canonical JSON), applied at add, pull, import
 * and when airlockd serves.  set reads YAML or JSON (policy/rules.c) and
 * writes nothing unless the whole file is good.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

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
