/*
 * airlock sign REPO[@REV] [--key FILE], attach REPO[@REV] FILE.minisig:
 * adding signatures to a revision.
 *
 * sign makes one here, with the store's default key or a minisign secret
 * key file.  attach is the offline approver's side: the manifest was
 * printed (airlock manifest), carried to a machine that holds the key,
 * signed there with airlock or stock minisign, and the signature carried
 * back.  A signature made elsewhere is stored only once it verifies over
 * this manifest's bytes, by a key in the keyring, with a trusted comment
 * that names this manifest or nothing (stock minisign's default: the
 * signed bytes name the repository and the files): the store never keeps
 * a signature it could not have checked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "cli/trust.h"
#include "gate/gate.h"

/* This key's signature among the revision's, as the policy judges it. */
static json_t *
verdict_of(json_t *trust, const char *hex)
{
	json_t *sig;
	size_t i;

	json_array_foreach(json_object_get(trust, "signatures"), i, sig)
		if (strcmp(json_string_value(json_object_get(sig, "keyid")),
		    hex) == 0)
			return sig;
	return NULL;
}

int
cmd_sign(struct cmd_ctx *ctx)
{
	char hex[KEYS_KEYID_HEXLEN + 1], digest[STORE_DIGEST_STRLEN + 1];
	const char *keyfile = ctx->opt['k'], *verdict = "unknown";
	struct store_manifest *m = ctx->m;
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	struct store_sig sig = { 0 };
	struct keys_signer *signer = NULL;
	json_t *trust = NULL, *mine;
	int rc;

	if ((rc = signer_open(cli, st, keyfile, 1, &signer)) != 0 ||
	    (rc = signer_sign(signer, m, &sig)) != 0)
		goto out;
	if ((rc = store_sig_put(st, m->digest, sig.keyid, sig.text,
	    sig.len)) != 0) {
		rc = cli_store_fail(rc, ctx->argv[0]);
		goto out;
	}
	keys_keyid_hex(sig.keyid, hex);
	store_digest_str(m->digest, digest);
	trust = trust_check(st, m, NULL);
	if ((mine = verdict_of(trust, hex)) != NULL)
		verdict = json_string_value(json_object_get(mine, "verdict"));
	/* Signing is not vouching: say when this signature does not count. */
	if (strcmp(verdict, "trusted") != 0)
		cli_warnx("%s: %s: this signature does not count for %s "
		    "(airlock trust ls)", hex, verdict, m->repo);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s}", "repo", m->repo,
		    "commit", m->commit, "digest", digest, "keyid", hex,
		    "verdict", verdict));
	else
		printf("signed %s@%s %s by %s (%s)\n", m->repo, m->commit,
		    digest, hex, verdict);
	rc = EXIT_OK;
out:
	json_decref(trust);
	signer_sig_free(&sig);
	keys_signer_free(signer);
	return rc;
}

/*
 * Why a verified trusted comment in airlock's form does not match: it is
 * malformed or names another kind of thing, or another manifest.  (One
 * that names nothing is accepted.)
 */
static void
comment_refused(const char *path, const char *comment,
    const struct store_manifest *m, const char *digest, const char *arg)
{
	char kind[64], repo[BOUND_TRUSTED_COMMENT + 1];
	char other[BOUND_TRUSTED_COMMENT + 1];

	if (keys_tc_kind(comment, kind, sizeof(kind)) != 0 ||
	    strcmp(kind, KEYS_TC_MANIFEST) != 0) {
		cli_warnx("%s: the trusted comment \"%s\" names something "
		    "other than a manifest; sign with -t \"$(airlock manifest "
		    "--comment %s)\" or with minisign's default comment",
		    path, comment, arg);
		return;
	}
	if (keys_tc_get(comment, "digest", other, sizeof(other)) != 0)
		snprintf(other, sizeof(other), "(none)");
	if (keys_tc_get(comment, "repo", repo, sizeof(repo)) != 0)
		snprintf(repo, sizeof(repo), "(none)");
	if (strcmp(other, digest) != 0)
		cli_warnx("%s: the trusted comment names another manifest: "
		    "digest=%s, not %s", path, other, digest);
	else
		cli_warnx("%s: the trusted comment names another repository: "
		    "repo=%s, not %s", path, repo, m->repo);
}

/* Why a signature is not attached, if it is not: 0 or EXIT_CHECK. */
static int
verdict_said(const struct keys_sig_verdict *v, const char *path,
    const char *arg, const char *hex, const char *digest,
    const struct store_manifest *m, const struct keys_sig *ks)
{
	int rc = EXIT_CHECK;

	switch (v->vd_verdict) {
	case KEYS_V_TRUSTED:
		rc = 0;
		break;
	case KEYS_V_UNKNOWN_KEY:
		cli_warnx("%s: signed by key %s, which is not in the keyring "
		    "(airlock trust add its public key first)", path, hex);
		break;
	case KEYS_V_BAD_SIGNATURE:
		if (v->vd_error == KEYS_ESIG)
			cli_warnx("%s: the signature by %s does not match the "
			    "manifest of %s (%s)", path, hex, arg, digest);
		else if (v->vd_error == KEYS_EGLOBALSIG)
			cli_warnx("%s: the trusted comment or its signature "
			    "was altered after signing", path);
		else
			cli_warnx("%s: %s", path, keys_strerror(v->vd_error));
		break;
	case KEYS_V_REVOKED:
		cli_warnx("%s: signed by key %s (%s), which is revoked", path,
		    hex, v->vd_name);
		break;
	case KEYS_V_OUT_OF_SCOPE:
		cli_warnx("%s: key %s (%s) may not vouch for %s: out of its "
		    "scope (airlock trust ls)", path, hex, v->vd_name, m->repo);
		break;
	case KEYS_V_COMMENT_MISMATCH:
		comment_refused(path, ks->ks_trusted_comment, m, digest,
		    arg);
		break;
	case KEYS_V_MALFORMED:
		cli_warnx("%s: not a minisign signature: %s", path,
		    keys_strerror(v->vd_error));
		break;
	}
	return rc;
}

int
cmd_attach(struct cmd_ctx *ctx)
{
	char hex[KEYS_KEYID_HEXLEN + 1], digest[STORE_DIGEST_STRLEN + 1];
	const char *arg = ctx->argv[0], *path = ctx->argv[1], *text_c;
	struct store_manifest *m = ctx->m;
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	struct keys_trust *ring = NULL;
	struct keys_sig_verdict v;
	struct keys_subject subj;
	struct keys_sig *ks = NULL;
	char *text = NULL;
	size_t len, nring = 0;
	int rc;

	if ((rc = cli_read_file(path, BOUND_SIGFILE, &text, &len)) != 0)
		goto out;
	if ((rc = keys_sig_parse(text, len, &ks)) != 0) {
		rc = cli_fail(EXIT_CHECK, "%s: not a minisign signature: %s",
		    path, keys_strerror(rc));
		goto out;
	}
	keys_keyid_hex(ks->ks_keyid, hex);
	if ((rc = gate_ring(st, &ring, &nring)) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto out;
	}
	trust_subject(m, digest, &subj);
	text_c = text;
	rc = keys_policy_eval(ring, nring, 1, &subj, &text_c, &len, 1, &v,
	    NULL);
	if (rc != 0 && rc != KEYS_ETHRESHOLD) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", path, keys_strerror(rc));
		goto out;
	}
	rc = verdict_said(&v, path, arg, hex, digest, m, ks);
	if (rc != 0) {
		cli_warnx("%s: nothing was attached", arg);
		goto out;
	}
	if ((rc = store_sig_put(st, m->digest, v.vd_keyid, text, len)) != 0) {
		rc = cli_store_fail(rc, arg);
		goto out;
	}
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:b}", "repo",
		    m->repo, "commit", m->commit, "digest", digest, "keyid",
		    hex, "name", v.vd_name, "trusted_comment",
		    ks->ks_trusted_comment, "comment_names_nothing",
		    v.vd_names_nothing));
	else {
		printf("attached %s (%s) to %s@%s %s", hex, v.vd_name,
		    m->repo, m->commit, digest);
		if (v.vd_names_nothing) {
			printf(" (trusted comment names nothing: ");
			trust_comment_print(ks->ks_trusted_comment);
			printf(")");
		}
		printf("\n");
	}
	rc = EXIT_OK;
out:
	free(ring);
	keys_sig_free(ks);
	free(text);
	return rc;
}
