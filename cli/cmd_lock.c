/*
 * airlock lock REPO[@REV]... [-o FILE]: a deployment lockfile
 * (airlock.lockfile/v1) naming exactly these revisions, with what a node
 * needs to check them offline: the manifests' bytes, their signatures and
 * the signers' public keys.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/deploy.h"
#include "cli/lockfile.h"
#include "cli/trust.h"
#include "gate/gate.h"
#include "keys/keys.h"

struct locksigs {
	struct keys_trust	*ring;
	size_t			 nring;
	char			*text[BOUND_BUNDLE_SIGS];
	size_t			 len[BOUND_BUNDLE_SIGS];
	char			*pub[BOUND_BUNDLE_SIGS];
	size_t			 n;
};

/* Each signature with its signer's public key, when the keyring has it. */
static int
locksig(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	struct locksigs *s = arg;

	if (s->n == BOUND_BUNDLE_SIGS)
		return 0;
	if ((s->text[s->n] = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(s->text[s->n], text, len);
	s->text[s->n][len] = '\0';
	s->len[s->n] = len;
	s->pub[s->n] = NULL;
	for (size_t i = 0; i < s->nring; i++)
		if (memcmp(s->ring[i].kt_pub.kp_keyid, keyid, 8) == 0 &&
		    !s->ring[i].kt_revoked) {
			(void)keys_pub_format(&s->ring[i].kt_pub,
			    &s->pub[s->n]);
			break;
		}
	s->n++;
	return 0;
}

static void
locksigs_free(struct locksigs *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->text[i]);
		free(s->pub[i]);
	}
	s->n = 0;
}

static int
lock_one(struct cmd_ctx *ctx, const char *arg, struct keys_trust *ring,
    size_t nring, json_t *models)
{
	struct locksigs s = { .ring = ring, .nring = nring };
	struct store_manifest *m;
	struct target t;
	json_t *entry;
	int rc;

	if ((rc = cli_target(ctx->st, arg, NULL, &t)) != 0)
		return rc;
	for (size_t i = 0; i < json_array_size(models); i++) {
		json_t *e = json_array_get(models, i);

		if (strcmp(json_string_value(json_object_get(e, "type")),
		    t.type) == 0 && strcmp(json_string_value(json_object_get(e,
		    "repo")), t.repo) == 0)
			return cli_fail(EXIT_USAGE, "%s%s: named twice (a "
			    "lockfile holds one revision of a repository)",
			    store_type_prefix(t.type), t.repo);
	}
	if ((rc = store_manifest_get(ctx->st, t.digest, &m)) != 0)
		return cli_store_fail(rc, arg);
	if ((rc = store_sigs(ctx->st, m->digest, locksig, &s)) != 0) {
		rc = cli_store_fail(rc, arg);
		goto out;
	}
	entry = lock_model_json(m, t.rev != NULL ? t.rev : "main",
	    (const char *const *)s.text, s.len, (const char *const *)s.pub,
	    s.n);
	if (entry == NULL || json_array_append_new(models, entry) != 0)
		rc = cli_fail(EXIT_USAGE, "%s: out of memory", arg);
out:
	locksigs_free(&s);
	store_manifest_free(m);
	return rc;
}

int
cmd_lock(struct cmd_ctx *ctx)
{
	const char *out = ctx->opt['o'] != NULL ? ctx->opt['o'] : LOCK_DEFAULT;
	struct keys_trust *ring = NULL;
	struct lockfile *check = NULL;
	json_t *models = json_array();
	char *text = NULL, err[512];
	size_t len, nring = 0;
	int rc = 0;

	if (models == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	if ((rc = gate_ring(ctx->st, &ring, &nring)) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto out;
	}
	for (int i = 0; i < ctx->argc && rc == 0; i++)
		rc = lock_one(ctx, ctx->argv[i], ring, nring, models);
	if (rc != 0)
		goto out;
	if ((text = lock_dump(models, &len)) == NULL) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	/* What is written must be what any reader accepts. */
	if (lock_parse(text, len, &check, err, sizeof(err)) != 0) {
		rc = cli_fail(EXIT_USAGE, "the lockfile made is refused: %s",
		    err);
		goto out;
	}
	if ((rc = deploy_write_file(out, text, len)) != 0)
		goto out;
	if (strcmp(out, "-") == 0)
		;	/* standard output holds the lockfile alone */
	else if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:I}", "lockfile", out, "models",
		    (json_int_t)check->n));
	else
		for (size_t i = 0; i < check->n; i++) {
			const struct lock_model *lm = &check->models[i];
			char digest[STORE_DIGEST_STRLEN + 1];

			store_digest_str(lm->m->digest, digest);
			printf("%s%s@%s %s %s (%zu signatures) -> %s\n",
			    store_type_prefix(lm->type), lm->repo, lm->revision,
			    lm->m->commit, digest, lm->nsigs, out);
		}
out:
	lock_free(check);
	free(text);
	free(ring);
	json_decref(models);
	return rc;
}
