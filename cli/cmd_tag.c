/*
 * airlock tag REPO@REV NAME: a tag, a name for a revision that never
 * moves.  The same tag again is nothing; a tag of that name on another
 * revision is refused, naming both.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The commit id of digest, for messages: "" when it cannot be read. */
static void
commit_of(struct store *st, const uint8_t *digest, char *buf, size_t size)
{
	struct store_manifest *m;

	buf[0] = '\0';
	if (store_manifest_get(st, digest, &m) == 0) {
		snprintf(buf, size, "%s", m->commit);
		store_manifest_free(m);
	}
}

int
cmd_tag(struct cmd_ctx *ctx)
{
	const struct target *t = &ctx->target;
	const char *name = ctx->argv[1];
	char digest[STORE_DIGEST_STRLEN + 1], why[600], commit[41], had[41];
	uint8_t old[STORE_HASH_LEN];
	int rc, made;

	if (t->rev == NULL)
		return cli_fail(EXIT_USAGE, "%s: say which revision to tag "
		    "(REPO@REV)", ctx->argv[0]);
	snprintf(why, sizeof(why), "tag %s@%s", t->repo, t->rev);
	commit_of(ctx->st, t->digest, commit, sizeof(commit));
	if ((rc = store_tag(ctx->st, t->type, t->repo, name, t->digest, why,
	    &made)) != 0) {
		if (rc == STORE_EIMMUTABLE && store_resolve(ctx->st, t->type,
		    t->repo, name, old) == 0) {
			commit_of(ctx->st, old, had, sizeof(had));
			return cli_fail(EXIT_CHECK, "%s%s: the tag %s names "
			    "commit %s; a tag never moves, so it cannot name "
			    "%s (commit %s)", store_type_prefix(t->type),
			    t->repo, name, had, t->rev, commit);
		}
		return cli_store_fail(rc, NULL);
	}
	store_digest_str(t->digest, digest);
	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "type", t->type,
		    "repo", t->repo, "tag", name, "commit", commit, "digest",
		    digest, "made", made));
	else
		printf("%s%s@%s %s %s%s\n", store_type_prefix(t->type),
		    t->repo, name, commit, digest, made ? "" :
		    " (already tagged)");
	return EXIT_OK;
}
