/*
 * airlock add DIR|ARCHIVE --repo ORG/NAME [--revision REV]
 *     [--type model|dataset]
 *
 * Lists and checks the whole source first, then reads its model card, then
 * streams every file into the store, then commits one manifest and moves
 * the ref in one transaction.  Anything wrong before the commit leaves no
 * revision behind.  Adding the same content again changes nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "lib/names.h"

static void
report(struct cli *cli, const struct store_manifest *m, const char *rev,
    uint64_t bytes, uint64_t new_bytes, int unchanged)
{
	char digest[STORE_DIGEST_STRLEN + 1];

	store_digest_str(m->digest, digest);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b}",
		    "type", m->type, "repo", m->repo, "revision", rev,
		    "commit", m->commit, "digest", digest,
		    "files", (json_int_t)m->nfiles, "bytes", (json_int_t)bytes,
		    "new_bytes", (json_int_t)new_bytes, "unchanged", unchanged));
	else
		printf("%s%s@%s %s\n", store_type_prefix(m->type), m->repo,
		    m->commit, digest);
}

static int
add(struct cli *cli, struct store *st, const char *path, const char *type,
    const char *repo, const char *rev, const char *force_reason)
{
	struct store_revision_spec spec = { 0 };
	struct store_revision_result res = { 0 };
	struct store_source *src = NULL;
	char why[600];
	int rc, files_rc;

	if ((rc = store_source_open(path, &src)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = gate_source(st, src, path, repo, force_reason)) != 0)
		goto out;
	if (force_reason != NULL)
		snprintf(why, sizeof(why), "add %s (forced past the policy: %s)",
		    path, force_reason);
	else
		snprintf(why, sizeof(why), "add %s", path);
	spec.parts.type = type;
	spec.parts.repo = repo;
	spec.ref = rev;
	spec.why = why;
	spec.flags = STORE_REVISION_KEEP;
	spec.feed = store_revision_feed_source;
	spec.feed_arg = src;
	if ((rc = cli_revision_add(cli, st, src, path, NULL, "add", &spec,
	    &res, &files_rc)) != 0) {
		if (files_rc != 0) {
			cli_store_fail(files_rc, res.failed);
			cli_warnx("%s: no revision was added", path);
		}
		goto out;
	}
	report(cli, res.manifest, rev, res.bytes, res.new_bytes,
	    res.unchanged);
out:
	store_manifest_free(res.manifest);
	store_source_free(src);
	return rc;
}

/* --repo, --revision (main) and --type (model). */
static void
add_args(const struct cmd_ctx *ctx, const char **repo, const char **rev,
    const char **type)
{
	*repo = ctx->opt['r'];
	*rev = ctx->opt['R'] != NULL ? ctx->opt['R'] : "main";
	*type = ctx->opt['t'] != NULL ? ctx->opt['t'] : "model";
}

int
cmd_add_check(struct cmd_ctx *ctx)
{
	const char *repo, *rev, *type;

	add_args(ctx, &repo, &rev, &type);
	if (repo == NULL)
		return cli_usage(ctx->cli);
	if (!store_repo_valid(repo))
		return cli_fail(EXIT_USAGE, "%s: not a repository id (ORG/NAME: "
		    "letters, digits, '.', '_', '-')", repo);
	if (!store_type_valid(type))
		return cli_fail(EXIT_USAGE, "%s: the type is model or dataset",
		    type);
	if (!store_revision_valid(rev) || strcmp(rev, "HEAD") == 0 ||
	    hex_valid(rev, STORE_COMMIT_LEN))
		return cli_fail(EXIT_USAGE, "%s: not a valid branch or tag name",
		    rev);
	if ((ctx->opt['f'] != NULL) != (ctx->opt['w'] != NULL) ||
	    (ctx->opt['w'] != NULL && (ctx->opt['w'][0] == '\0' ||
	    strlen(ctx->opt['w']) > BOUND_REASON)))
		return cli_fail(EXIT_USAGE, "--force needs --reason TEXT (1 to "
		    "%d bytes), and --reason --force", BOUND_REASON);
	return 0;
}

int
cmd_add(struct cmd_ctx *ctx)
{
	const char *repo, *rev, *type;

	add_args(ctx, &repo, &rev, &type);
	return add(ctx->cli, ctx->st, ctx->argv[0], type, repo, rev,
	    ctx->opt['f'] != NULL ? ctx->opt['w'] : NULL);
}
