/*
 * airlock pin REPO@REV [--name NAME] [--note TEXT], unpin NAME, pins:
 * pins keep a revision through gc and give a deployment a name for it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"

int
cmd_pin(struct cmd_ctx *ctx)
{
	char target[600], digest[STORE_DIGEST_STRLEN + 1];
	const char *name = ctx->opt['n'], *note = ctx->opt['m'];
	const struct target *t = &ctx->target;
	int rc;

	snprintf(target, sizeof(target), "%s/%s@%s", t->type, t->repo,
	    t->rev != NULL ? t->rev : "main");
	if (name == NULL)
		name = ctx->argv[0];
	if ((rc = store_pin_put(ctx->st, name, t->digest, target, note)) != 0)
		rc = cli_store_fail(rc, NULL);
	else {
		store_digest_str(t->digest, digest);
		if (ctx->cli->json)
			cli_json(json_pack("{s:s,s:s,s:s}", "name", name,
			    "target", target, "digest", digest));
		else
			printf("pinned %s: %s %s\n", name, target, digest);
	}
	return rc;
}

int
cmd_unpin(struct cmd_ctx *ctx)
{
	const char *name = ctx->argv[0];
	int rc;

	if ((rc = store_pin_delete(ctx->st, name)) != 0)
		rc = cli_store_fail(rc, NULL);
	else if (!ctx->cli->json)
		printf("unpinned %s\n", name);
	else
		cli_json(json_pack("{s:s}", "unpinned", name));
	return rc;
}

static int
list_pin(void *arg, const struct store_pin *p)
{
	json_t *out = arg;
	char digest[STORE_DIGEST_STRLEN + 1], when[32];
	time_t t = (time_t)p->time;
	struct tm tm;

	store_digest_str(p->digest, digest);
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (out != NULL)
		json_array_append_new(out, json_pack("{s:s,s:s,s:s?,s:s?,s:s}",
		    "name", p->name, "digest", digest, "target", p->target,
		    "note", p->note, "time", when));
	else
		printf("%-30s %-40s %.19s %s %s\n", p->name,
		    p->target != NULL ? p->target : "", digest, when,
		    p->note != NULL ? p->note : "");
	return 0;
}

int
cmd_pins(struct cmd_ctx *ctx)
{
	json_t *out;
	int rc;

	out = ctx->cli->json ? json_array() : NULL;
	if ((rc = store_pins(ctx->st, list_pin, out)) != 0)
		rc = cli_store_fail(rc, NULL);
	else if (out != NULL)
		cli_json(json_incref(out));
	json_decref(out);
	return rc;
}
