/*
 * airlock review REPO[@REV] --licence ID [--note TEXT]: a person's
 * conclusion of a revision's licence, signed with their key (the store's
 * default key or --key FILE) and kept with the revision's signatures.  It
 * is a minisign signature over the manifest's bytes, as `sign` makes,
 * whose trusted comment also carries an in-toto statement naming the
 * manifest's digest and the licence (gate/gate.h): stock `minisign -V`
 * checks it, bundles and chained pulls carry it as any signature, and a
 * trusted one stands for the conclusion at the gate.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "gate/gate.h"
#include "keys/keys.h"
#include "policy/policy.h"

int
cmd_review_check(struct cmd_ctx *ctx)
{
	const char *note = ctx->opt['m'];

	if (ctx->opt['l'] == NULL)
		return cli_usage(ctx->cli);
	if (note != NULL && (strlen(note) > BOUND_NOTE ||
	    strchr(note, '\n') != NULL))
		return cli_fail(EXIT_USAGE, "--note: one line of at most %d "
		    "bytes", BOUND_NOTE);
	return 0;
}

int
cmd_review(struct cmd_ctx *ctx)
{
	char hex[2 * STORE_HASH_LEN + 1], kid[KEYS_KEYID_HEXLEN + 1];
	const struct policy_licence *l;
	struct store_manifest *m = ctx->m;
	struct policy_table *t = NULL;
	struct keys_signer *signer = NULL;
	struct store_sig sig = { 0 };
	const char *licence = ctx->opt['l'];
	char *statement = NULL;
	int rc;

	if ((rc = licence_table(&t)) != 0)
		return rc;
	/* Kept as the table spells it; "other:NAME" names one it lacks. */
	if ((l = policy_licence_find(t, licence)) != NULL)
		licence = l->id;
	else if (strncmp(licence, "other:", 6) != 0 || licence[6] == '\0') {
		rc = cli_fail(EXIT_USAGE, "--licence %s: not a licence of %s "
		    "(other:NAME for one it lacks)", licence,
		    policy_table_path());
		goto out;
	}
	store_hex(m->digest, STORE_HASH_LEN, hex);
	if (gate_review_statement(m->repo, hex, licence, ctx->opt['m'],
	    (int64_t)time(NULL), &statement) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s: the review cannot be written",
		    ctx->argv[0]);
		goto out;
	}
	if ((rc = signer_open(ctx->cli, ctx->st, ctx->opt['k'], 1,
	    &signer)) != 0 ||
	    (rc = signer_sign_review(signer, m, statement, &sig)) != 0)
		goto out;
	if ((rc = store_sig_put(ctx->st, m->digest, sig.keyid, sig.text,
	    sig.len)) != 0) {
		rc = cli_store_fail(rc, ctx->argv[0]);
		goto out;
	}
	keys_keyid_hex(sig.keyid, kid);
	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "repo", m->repo,
		    "commit", m->commit, "licence", licence, "keyid", kid,
		    "digest", hex));
	else
		printf("reviewed %s@%s as %s by %s\n", m->repo, m->commit,
		    licence, kid);
	rc = EXIT_OK;
out:
	free(statement);
	signer_sig_free(&sig);
	keys_signer_free(signer);
	policy_table_free(t);
	return rc;
}
