/*
 * airlock ls [PATTERN]: every branch and tag of every repository, or of
 * those whose id matches the shell pattern.
 */
#include "config.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct ls {
	struct cli	*cli;
	struct store	*st;
	const char	*pattern;
	json_t		*out;
	int		 count;
};

static int
ls_ref(void *arg, const struct store_ref *r)
{
	struct ls *l = arg;
	struct store_manifest *m;
	char digest[STORE_DIGEST_STRLEN + 1], size[32];
	uint64_t bytes = 0;

	if (r->is_commit)
		return 0;
	if (l->pattern != NULL && fnmatch(l->pattern, r->repo, 0) != 0)
		return 0;
	/* The store is open read-only for this walk: reading a manifest in
	 * the callback takes its own short transaction. */
	if (store_manifest_get(l->st, r->digest, &m) != 0) {
		cli_warnx("%s@%s: %s", r->repo, r->name, store_lasterror());
		return 0;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		bytes += m->files[i].size;
	store_digest_str(r->digest, digest);
	l->count++;
	if (l->cli->json)
		json_array_append_new(l->out, json_pack("{s:s,s:s,s:s,s:s,s:s,"
		    "s:I,s:I,s:s}", "type", r->type, "repo", r->repo, "ref",
		    r->name, "commit", m->commit, "digest", digest, "files",
		    (json_int_t)m->nfiles, "bytes", (json_int_t)bytes,
		    "created", m->created));
	else
		printf("%-7s  %-40s  %-12s  %.12s  %10s  %s\n", r->type, r->repo,
		    r->name, m->commit, cli_bytes(bytes, size), m->created);
	store_manifest_free(m);
	return 0;
}

/* ls takes no options: an operand like one is a mistake. */
int
cmd_ls_check(struct cmd_ctx *ctx)
{
	if (ctx->argc == 1 && ctx->argv[0][0] == '-')
		return cli_usage(ctx->cli);
	return 0;
}

int
cmd_ls(struct cmd_ctx *ctx)
{
	struct ls l = { .cli = ctx->cli, .st = ctx->st };
	int rc;

	l.pattern = ctx->argc == 1 ? ctx->argv[0] : NULL;
	l.out = json_array();
	rc = store_refs(l.st, NULL, NULL, ls_ref, &l);
	if (rc != 0)
		rc = cli_store_fail(rc, NULL);
	else if (l.cli->json)
		cli_json(json_incref(l.out));
	json_decref(l.out);
	return rc;
}
