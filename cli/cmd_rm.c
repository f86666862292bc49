/*
 * airlock rm REPO[@REV] [--force] [--reason TEXT]: deletes a branch, or
 * every branch of a repository; its tags and commit ids only with
 * --force.  Each deletion is in the reflog with who asked and why.  What
 * nothing names any more is gc's to reclaim, and airlockd, which
 * resolves names on every request, stops serving it at once.
 */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "lib/names.h"

/* The user running us: the login name, or the uid. */
static const char *
who(char *buf, size_t size)
{
	struct passwd *pw = getpwuid(getuid());
	const char *sudo = getenv("SUDO_USER");

	if (sudo != NULL && *sudo != '\0' && getuid() == 0)
		snprintf(buf, size, "%s (sudo)", sudo);
	else if (pw != NULL)
		snprintf(buf, size, "%s", pw->pw_name);
	else
		snprintf(buf, size, "uid %lu", (unsigned long)getuid());
	return buf;
}

int
cmd_rm(struct cmd_ctx *ctx)
{
	struct store_rm_result r;
	struct target t;
	char user[300], why[1200];
	const char *reason = ctx->opt['m'];
	unsigned flags = ctx->opt['f'] != NULL ? STORE_RM_FORCE : 0;
	int rc;

	if (reason != NULL && strlen(reason) > BOUND_NOTE)
		return cli_fail(EXIT_USAGE, "--reason: longer than %d bytes",
		    BOUND_NOTE);
	if ((rc = cli_target(NULL, ctx->argv[0], NULL, &t)) != 0)
		return rc;
	/* Without a prefix the store says which type the repository is. */
	if (strncmp(ctx->argv[0], NAME_DATASETS_PREFIX,
	    strlen(NAME_DATASETS_PREFIX)) != 0 &&
	    strncmp(ctx->argv[0], NAME_MODELS_PREFIX,
	    strlen(NAME_MODELS_PREFIX)) != 0) {
		const char *type;

		if ((rc = store_repo_type(ctx->st, t.repo, &type)) != 0)
			return cli_store_fail(rc, NULL);
		t.type = type;
	}
	if (t.rev != NULL && strncmp(t.rev, "sha256:", 7) == 0)
		return cli_fail(EXIT_USAGE, "%s: rm takes a branch, tag or "
		    "commit id, not a digest", t.rev);
	snprintf(why, sizeof(why), "rm%s%s%s", flags ? " --force" : "",
	    reason != NULL ? ": " : "", reason != NULL ? reason : "");
	rc = store_rm(ctx->st, t.type, t.repo, t.rev, flags,
	    who(user, sizeof(user)), why, &r);
	if (rc == STORE_EIMMUTABLE)
		return cli_fail(EXIT_CHECK, "%s%s@%s: a %s never moves; rm "
		    "--force deletes it", store_type_prefix(t.type), t.repo,
		    t.rev, r.kept_tags ? "tag" : "commit id");
	if (rc != 0)
		return cli_store_fail(rc, NULL);
	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s,s:s?,s:I,s:I,s:I,s:I,s:I}", "type",
		    t.type, "repo", t.repo, "ref", t.rev, "branches",
		    (json_int_t)r.branches, "tags", (json_int_t)r.tags,
		    "commits", (json_int_t)r.commits, "kept_tags",
		    (json_int_t)r.kept_tags, "kept_commits",
		    (json_int_t)r.kept_commits));
	else {
		printf("%s%s%s%s: deleted %llu branches, %llu tags, %llu "
		    "commit ids\n", store_type_prefix(t.type), t.repo,
		    t.rev != NULL ? "@" : "", t.rev != NULL ? t.rev : "",
		    (unsigned long long)r.branches, (unsigned long long)r.tags,
		    (unsigned long long)r.commits);
		if (r.kept_tags + r.kept_commits != 0)
			printf("kept %llu tags and %llu commit ids (rm --force "
			    "deletes them)\n", (unsigned long long)r.kept_tags,
			    (unsigned long long)r.kept_commits);
	}
	return EXIT_OK;
}
