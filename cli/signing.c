/*
 * signing.c - signing manifests with the store's key or a minisign key.
 *
 * The store's keys live beside its data, in STORE/keys/NAME.key (mode
 * 0600) and NAME.pub; the setting "default_key" names the one that signs
 * every manifest `add` makes.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"

struct signer {
	struct keys_secret	*sk;
	struct keys_pub		 pub;
	char			 name[BOUND_KEY_NAME + 1];
};

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

static int
load_secret(const char *path, const char *name, struct keys_secret **sk)
{
	char *text, *pass = NULL, prompt[256];
	size_t len;
	int rc;

	if ((rc = cli_read_file(path, BOUND_SIGFILE, &text, &len)) != 0)
		return rc;
	rc = keys_secret_parse(text, len, NULL, sk);
	if (rc == KEYS_ENEEDPASS) {
		snprintf(prompt, sizeof(prompt), "Passphrase for key %s: ", name);
		if ((pass = passphrase_get(prompt, 0)) == NULL) {
			sodium_memzero(text, len);
			free(text);
			return EXIT_USAGE;
		}
		rc = keys_secret_parse(text, len, pass, sk);
		passphrase_free(pass);
	}
	sodium_memzero(text, len);
	free(text);
	if (rc == KEYS_EPASSPHRASE)
		return cli_fail(EXIT_USAGE, "%s: %s", path, keys_strerror(rc));
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "%s: not a minisign secret key: %s",
		    path, keys_strerror(rc));
	return 0;
}

int
signer_open(struct cli *cli, struct store *st, const char *keyfile,
    int required, struct signer **out)
{
	struct signer *s;
	char path[4096];
	void *name = NULL;
	size_t nlen;
	int rc;

	(void)cli;
	*out = NULL;
	if (keys_init() != 0)
		return cli_fail(EXIT_USAGE, "libsodium failed to start");
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	if (keyfile != NULL) {
		snprintf(s->name, sizeof(s->name), "%s", keyfile);
		snprintf(path, sizeof(path), "%s", keyfile);
	} else {
		rc = store_kv_get(st, STORE_SETTING, "default_key", 11, &name,
		    &nlen);
		if (rc == STORE_ENOTFOUND && !required) {
			free(s);
			return 0;
		}
		if (rc != 0) {
			free(s);
			return cli_fail(EXIT_USAGE, "the store has no signing key "
			    "(airlock key gen makes one)");
		}
		snprintf(s->name, sizeof(s->name), "%s", (char *)name);
		free(name);
		if (key_paths(st, s->name, path, NULL, sizeof(path)) != 0) {
			free(s);
			return cli_fail(EXIT_USAGE, "key name too long");
		}
	}
	if ((rc = load_secret(path, s->name, &s->sk)) != 0) {
		free(s);
		return rc;
	}
	keys_secret_pub(s->sk, &s->pub);
	*out = s;
	return 0;
}

int
signer_sign(struct signer *s, const struct store_manifest *m,
    struct store_sig *sig)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL, *text = NULL;
	char untrusted[BOUND_KEY_NAME + 64], hex[KEYS_KEYID_HEXLEN + 1];
	int rc;

	memset(sig, 0, sizeof(*sig));
	store_digest_str(m->digest, digest);
	keys_keyid_hex(s->pub.kp_keyid, hex);
	snprintf(untrusted, sizeof(untrusted), "signature from airlock key %s",
	    hex);
	if ((rc = keys_tc_manifest(m->repo, m->commit, digest,
	    (int64_t)time(NULL), &tc)) != 0 ||
	    (rc = keys_sign(s->sk, m->bytes, m->len, tc, untrusted,
	    &text)) != 0) {
		free(tc);
		return cli_fail(EXIT_USAGE, "signing %s: %s", m->repo,
		    keys_strerror(rc));
	}
	free(tc);
	memcpy(sig->keyid, s->pub.kp_keyid, sizeof(sig->keyid));
	sig->text = text;
	sig->len = strlen(text);
	return 0;
}

int
signer_sign_review(struct signer *s, const struct store_manifest *m,
    const char *statement, struct store_sig *sig)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL, *text = NULL;
	char untrusted[BOUND_KEY_NAME + 64], hex[KEYS_KEYID_HEXLEN + 1];
	char timebuf[32];
	struct keys_tc_field f[5];
	int rc;

	memset(sig, 0, sizeof(*sig));
	store_digest_str(m->digest, digest);
	keys_keyid_hex(s->pub.kp_keyid, hex);
	snprintf(untrusted, sizeof(untrusted), "review from airlock key %s",
	    hex);
	snprintf(timebuf, sizeof(timebuf), "%lld", (long long)time(NULL));
	f[0] = (struct keys_tc_field){ "repo", m->repo };
	f[1] = (struct keys_tc_field){ "commit", m->commit };
	f[2] = (struct keys_tc_field){ "digest", digest };
	f[3] = (struct keys_tc_field){ "time", timebuf };
	f[4] = (struct keys_tc_field){ "review", statement };
	if ((rc = keys_tc_format(KEYS_TC_MANIFEST, f, 5, &tc)) != 0 ||
	    (rc = keys_sign(s->sk, m->bytes, m->len, tc, untrusted,
	    &text)) != 0) {
		free(tc);
		return cli_fail(EXIT_USAGE, "signing the review of %s: %s",
		    m->repo, keys_strerror(rc));
	}
	free(tc);
	memcpy(sig->keyid, s->pub.kp_keyid, sizeof(sig->keyid));
	sig->text = text;
	sig->len = strlen(text);
	return 0;
}

const uint8_t *
signer_keyid(const struct signer *s)
{
	return s->pub.kp_keyid;
}

int
signer_sign_release(struct signer *s, const void *msg, size_t len,
    uint64_t version, const char *what, char **text)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL;
	uint8_t d[STORE_HASH_LEN];
	int rc;

	*text = NULL;
	store_sha256(msg, len, d);
	store_digest_str(d, digest);
	if ((rc = keys_tc_release(version, digest, (int64_t)time(NULL),
	    &tc)) != 0 || (rc = keys_sign(s->sk, msg, len, tc, what,
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

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	keys_secret_free(s->sk);
	free(s);
}
