/*
 * airlock init: make a store (nothing happens if there is one).
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"

int
cmd_init(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	int rc;

	(void)argv;
	if (argc != 1)
		return cli_usage(cli);
	if ((rc = cli_open(cli, STORE_CREATE, &st)) != 0)
		return rc;
	if (cli->json)
		cli_json(json_pack("{s:s,s:s}", "store", store_dir(st), "id",
		    store_id(st)));
	else
		printf("store %s (id %s)\n", store_dir(st), store_id(st));
	store_close(st);
	return EXIT_OK;
}
