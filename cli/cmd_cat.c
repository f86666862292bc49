/*
 * airlock cat REPO[@REV] PATH: one file's bytes to stdout.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli/cli.h"

int
cmd_cat(struct cmd_ctx *ctx)
{
	const struct store_manifest *m = ctx->m;
	const struct store_file *f;
	char **argv = ctx->argv;
	int rc;

	if ((f = store_manifest_file(m, argv[1])) == NULL)
		rc = cli_fail(EXIT_CHECK, "%s: no such file in %s@%s", argv[1],
		    m->repo, m->commit);
	else {
		/* A closed pipe ends the output quietly, as with cat(1). */
		signal(SIGPIPE, SIG_DFL);
		if ((rc = store_blob_write(ctx->st, f->sha256, STDOUT_FILENO,
		    NULL, NULL)) != 0)
			rc = cli_store_fail(rc, argv[1]);
	}
	return rc;
}
