/*
 * airlock bom REPO[@REV] --format cyclonedx|spdx [-o FILE]: a revision's
 * bill of materials (bom.h), to stdout or to FILE, which appears whole
 * or not at all.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/bom.h"
#include "cli/cli.h"
#include "policy/policy.h"

#define BOM_FLAGS	(JSON_INDENT(2) | JSON_SORT_KEYS)

int
cmd_bom_check(struct cmd_ctx *ctx)
{
	const char *f = ctx->opt['f'];

	if (f == NULL)
		return cli_fail(EXIT_USAGE, "bom: --format is required "
		    "(cyclonedx or spdx)");
	if (strcmp(f, "cyclonedx") != 0 && strcmp(f, "spdx") != 0)
		return cli_fail(EXIT_USAGE, "bom: --format %s: no such format "
		    "(cyclonedx or spdx)", f);
	if (ctx->opt['o'] != NULL && *ctx->opt['o'] == '\0')
		return cli_fail(EXIT_USAGE, "bom: -o: an empty file name");
	return 0;
}

/* Writes doc to path through path.part, renamed over it when whole. */
static int
write_file(json_t *doc, const char *path)
{
	char tmp[PATH_MAX];
	FILE *f;
	int fd;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.part", path) >= sizeof(tmp))
		return cli_fail(EXIT_USAGE, "%s: name too long", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1 || (f = fdopen(fd, "w")) == NULL) {
		if (fd != -1)
			close(fd);
		return cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
	}
	if (json_dumpf(doc, f, BOM_FLAGS) != 0 || fputc('\n', f) == EOF ||
	    fflush(f) != 0 || fsync(fileno(f)) == -1) {
		cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return EXIT_USAGE;
	}
	if (fclose(f) != 0 || rename(tmp, path) == -1) {
		cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int
cmd_bom(struct cmd_ctx *ctx)
{
	struct policy_table *t;
	struct bom b;
	json_t *doc;
	int rc;

	if ((rc = licence_table(&t)) != 0)
		return rc;
	if ((rc = bom_gather(ctx->st, t, ctx->m, &b)) != 0) {
		bom_free(&b);
		policy_table_free(t);
		if (rc < -32000 && rc > -32100)
			return cli_fail(EXIT_USAGE, "%s: %s", ctx->argv[0],
			    policy_lasterror());
		return cli_store_fail(rc, ctx->argv[0]);
	}
	if (strcmp(ctx->opt['f'], "cyclonedx") == 0)
		doc = bom_cyclonedx(&b);
	else
		doc = bom_spdx(&b);
	bom_free(&b);
	policy_table_free(t);
	if (doc == NULL)
		return cli_fail(EXIT_USAGE, "bom: out of memory");
	if (ctx->opt['o'] != NULL)
		rc = write_file(doc, ctx->opt['o']);
	else {
		json_dumpf(doc, stdout, BOM_FLAGS);
		putchar('\n');
		rc = fflush(stdout) == 0 ? EXIT_OK :
		    cli_fail(EXIT_USAGE, "stdout: %s", strerror(errno));
	}
	json_decref(doc);
	return rc;
}
