/*
 * signing.c - signing manifests with the store's key or a minisign key.
 *
 * The store's keys live beside its data, in STORE/keys/NAME.key (mode
 * 0600) and NAME.pub; the setting "default_key" names the one that signs
 * every manifest `add` makes.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"

int
key_paths(struct store *st, const char *name, char *sk, char *pk, size_t size)
{
	if (sk != NULL && (size_t)snprintf(sk, size, "%s/keys/%s.key",
	    store_dir(st), name) >= size)
		return -1;
	if (pk != NULL && (size_t)snprintf(pk, size, "%s/keys/%s.pub",
	    store_dir(st), name) >= size)
		return -1;
	return 0;
}

/* keys_signer_load's passphrase: asked once, on the terminal or from
 * $AIRLOCK_PASSPHRASE_FILE. */
struct ask {
	const char	*name;
	int		 gave_up;	/* passphrase_get said why */
};

static int
ask_pass(void *arg, char *buf, size_t size)
{
	struct ask *a = arg;
	char prompt[256], *pass;
	size_t len;

	snprintf(prompt, sizeof(prompt), "Passphrase for key %s: ", a->name);
	if ((pass = passphrase_get(prompt, 0)) == NULL) {
		a->gave_up = 1;
		return -1;
	}
	len = strlen(pass);
	if (len >= size) {
		passphrase_free(pass);
		return KEYS_EINVAL;
	}
	memcpy(buf, pass, len + 1);
	passphrase_free(pass);
	return 0;
}

static int
load_secret(const char *path, const char *name, struct keys_signer **out)
{
	struct ask a = { name, 0 };
	int rc;

	rc = keys_signer_load(path, ask_pass, &a, out);
	if (rc == 0)
		return 0;
	if (a.gave_up)
		return EXIT_USAGE;
	if (rc > 0)
		return cli_fail(EXIT_USAGE, "%s: %s", path, rc == EFBIG ?
		    "larger than a key file can be" : strerror(rc));
	if (rc == KEYS_EPASSPHRASE)
		return cli_fail(EXIT_USAGE, "%s: %s", path, keys_strerror(rc));
	return cli_fail(EXIT_USAGE, "%s: not a minisign secret key: %s",
	    path, keys_strerror(rc));
}

int
signer_open(struct cli *cli, struct store *st, const char *keyfile,
    int required, struct keys_signer **out)
{
	char path[4096], name[BOUND_KEY_NAME + 1];
	void *v = NULL;
	size_t nlen;
	int rc;

	(void)cli;
	*out = NULL;
	if (keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
	if (keyfile != NULL) {
		snprintf(name, sizeof(name), "%s", keyfile);
		snprintf(path, sizeof(path), "%s", keyfile);
	} else {
		rc = store_kv_get(st, STORE_SETTING, "default_key", 11, &v,
		    &nlen);
		if (rc == STORE_ENOTFOUND && !required)
			return 0;
		if (rc != 0)
			return cli_fail(EXIT_USAGE, "the store has no signing key "
			    "(airlock key gen makes one)");
		snprintf(name, sizeof(name), "%s", (char *)v);
		free(v);
		if (key_paths(st, name, path, NULL, sizeof(path)) != 0)
			return cli_fail(EXIT_USAGE, "key name too long");
	}
	return load_secret(path, name, out);
}

/* A store_sign_fn: signer is a struct keys_signer. */
int
signer_sign(void *signer, const struct store_manifest *m,
    struct store_sig *sig)
{
	char *text;
	int rc;

	memset(sig, 0, sizeof(*sig));
	rc = keys_signer_sign_manifest(signer, m->repo, m->commit, m->digest,
	    m->bytes, m->len, sig->keyid, &text);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "signing %s: %s", m->repo,
		    keys_strerror(rc));
	sig->text = text;
	sig->len = strlen(text);
	return 0;
}

int
signer_sign_review(struct keys_signer *s, const struct store_manifest *m,
    const char *statement, struct store_sig *sig)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL, *text = NULL;
	char untrusted[BOUND_KEY_NAME + 64], hex[KEYS_KEYID_HEXLEN + 1];
	char timebuf[32];
	struct keys_tc_field f[5];
	int rc;

	memset(sig, 0, sizeof(*sig));
	store_digest_str(m->digest, digest);
	keys_keyid_hex(keys_signer_keyid(s), hex);
	snprintf(untrusted, sizeof(untrusted), "review from airlock key %s",
	    hex);
	snprintf(timebuf, sizeof(timebuf), "%lld", (long long)time(NULL));
	f[0] = (struct keys_tc_field){ "repo", m->repo };
	f[1] = (struct keys_tc_field){ "commit", m->commit };
	f[2] = (struct keys_tc_field){ "digest", digest };
	f[3] = (struct keys_tc_field){ "time", timebuf };
	f[4] = (struct keys_tc_field){ "review", statement };
	if ((rc = keys_tc_format(KEYS_TC_MANIFEST, f, 5, &tc)) != 0 ||
	    (rc = keys_sign(keys_signer_secret(s), m->bytes, m->len, tc, untrusted,
	    &text)) != 0) {
		free(tc);
		return cli_fail(EXIT_USAGE, "signing the review of %s: %s",
		    m->repo, keys_strerror(rc));
	}
	free(tc);
	memcpy(sig->keyid, keys_signer_keyid(s), sizeof(sig->keyid));
	sig->text = text;
	sig->len = strlen(text);
	return 0;
}

int
signer_sign_release(struct keys_signer *s, const void *msg, size_t len,
    uint64_t version, const char *what, char **text)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL;
	uint8_t d[STORE_HASH_LEN];
	int rc;

	*text = NULL;
	store_sha256(msg, len, d);
	store_digest_str(d, digest);
	if ((rc = keys_tc_release(version, digest, (int64_t)time(NULL),
	    &tc)) != 0 || (rc = keys_sign(keys_signer_secret(s), msg, len, tc, what,
	    text)) != 0) {
		free(tc);
		return cli_fail(EXIT_USAGE, "signing the %s: %s", what,
		    keys_strerror(rc));
	}
	free(tc);
	return 0;
}

void
signer_sig_free(struct store_sig *sig)
{
	if (sig != NULL)
		free((char *)sig->text);
}
