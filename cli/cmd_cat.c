/*
 * airlock cat REPO[@REV] PATH: one file's bytes to stdout.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"

int
cmd_cat(struct cli *cli, int argc, char **argv)
{
	const struct store_file *f;
	struct store_manifest *m;
	struct store *st;
	struct target t;
	int rc;

	if (argc != 3)
		return cli_usage(cli);
	if ((rc = cli_open(cli, STORE_RDONLY, &st)) != 0)
		return rc;
	if ((rc = cli_load(st, argv[1], &t, &m)) != 0) {
		store_close(st);
		return rc;
	}
	if ((f = store_manifest_file(m, argv[2])) == NULL)
		rc = cli_fail(EXIT_CHECK, "%s: no such file in %s@%s", argv[2],
		    m->repo, m->commit);
	else {
		/* A closed pipe ends the output quietly, as with cat(1). */
		signal(SIGPIPE, SIG_DFL);
		if ((rc = store_blob_write(st, f->sha256, STDOUT_FILENO, NULL,
		    NULL)) != 0)
			rc = cli_store_fail(rc, argv[2]);
	}
	store_manifest_free(m);
	store_close(st);
	return rc;
}
