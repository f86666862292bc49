/*
 * airlock licence REPO[@REV]: the declared and concluded licence of a
 * revision, its lineage through the bases the store holds, the flags a
 * reviewer must see and the obligations (policy/).
 */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"
#include "policy/policy.h"

int
cmd_licence(struct cmd_ctx *ctx)
{
	struct policy_table *t;
	json_t *c;
	int rc;

	if ((rc = licence_table(&t)) != 0)
		return rc;
	if ((rc = licence_conclude(ctx->st, t, ctx->m, &c)) != 0) {
		policy_table_free(t);
		if (rc < -32000 && rc > -32100)
			return cli_fail(EXIT_USAGE, "%s: %s", ctx->argv[0],
			    policy_lasterror());
		return cli_store_fail(rc, ctx->argv[0]);
	}
	if (ctx->cli->json)
		cli_json(c);
	else {
		licence_print(c);
		json_decref(c);
	}
	policy_table_free(t);
	return EXIT_OK;
}
