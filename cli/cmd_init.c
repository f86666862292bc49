/*
 * airlock init: make a store (nothing happens if there is one).
 */
#include "config.h"

#include <stdio.h>

#include "cli/cli.h"

int
cmd_init(struct cmd_ctx *ctx)
{
	struct store *st = ctx->st;

	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s}", "store", store_dir(st), "id",
		    store_id(st)));
	else
		printf("store %s (id %s)\n", store_dir(st), store_id(st));
	return EXIT_OK;
}
