/*
 * signer.c - a secret key loaded from its file, and the signature of a
 * manifest as airlock makes it: what `airlock` (add, pull, sign) and
 * airlockd's mirror jobs share.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "keys/keys.h"
#include "keys/internal.h"

struct keys_signer {
	struct keys_secret	*sk;
	struct keys_pub		 pub;
};

/* The file into locked memory (sodium_malloc): an errno value, or 0. */
static int
read_key(const char *path, char **text, size_t *len)
{
	char *b;
	size_t n = 0;
	ssize_t r;
	int fd, e;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno;
	if ((b = sodium_malloc(BOUND_SIGFILE + 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (n <= BOUND_SIGFILE &&
	    (r = read(fd, b + n, BOUND_SIGFILE + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			close(fd);
			sodium_free(b);
			return e;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > BOUND_SIGFILE) {
		sodium_free(b);
		return EFBIG;
	}
	b[n] = '\0';
	*text = b;
	*len = n;
	return 0;
}

int
keys_signer_load(const char *path, keys_pass_fn pass, void *arg,
    struct keys_signer **out)
{
	struct keys_signer *s;
	char *text = NULL, *pw = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = read_key(path, &text, &len)) != 0)
		return rc;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		sodium_free(text);
		return KEYS_ENOMEM;
	}
	rc = keys_secret_parse(text, len, NULL, &s->sk);
	if (rc == KEYS_ENEEDPASS && pass != NULL) {
		if ((pw = sodium_malloc(BOUND_PASSPHRASE + 2)) == NULL)
			rc = KEYS_ENOMEM;
		else if ((rc = pass(arg, pw, BOUND_PASSPHRASE + 2)) == 0)
			rc = keys_secret_parse(text, len, pw, &s->sk);
		if (pw != NULL) {
			sodium_memzero(pw, BOUND_PASSPHRASE + 2);
			sodium_free(pw);
		}
	}
	sodium_memzero(text, len);
	sodium_free(text);
	if (rc != 0) {
		free(s);
		return rc;
	}
	keys_secret_pub(s->sk, &s->pub);
	*out = s;
	return 0;
}

const uint8_t *
keys_signer_keyid(const struct keys_signer *s)
{
	return s->pub.kp_keyid;
}

const struct keys_secret *
keys_signer_secret(const struct keys_signer *s)
{
	return s->sk;
}

int
keys_signer_sign_manifest(const struct keys_signer *s, const char *repo,
    const char *commit, const uint8_t digest[32], const void *msg,
    size_t len, uint8_t keyid[KEYS_KEYID_BYTES], char **text)
{
	char untrusted[64], hex[KEYS_KEYID_HEXLEN + 1], *tc = NULL;
	char d[7 + 64 + 1];
	int rc;

	*text = NULL;
	memcpy(d, "sha256:", 7);
	sodium_bin2hex(d + 7, sizeof(d) - 7, digest, 32);
	keys_keyid_hex(s->pub.kp_keyid, hex);
	snprintf(untrusted, sizeof(untrusted), "signature from airlock key %s",
	    hex);
	if ((rc = keys_tc_manifest(repo, commit, d, (int64_t)time(NULL),
	    &tc)) == 0)
		rc = keys_sign(s->sk, msg, len, tc, untrusted, text);
	free(tc);
	memcpy(keyid, s->pub.kp_keyid, KEYS_KEYID_BYTES);
	return rc;
}

void
keys_signer_free(struct keys_signer *s)
{
	if (s == NULL)
		return;
	keys_secret_free(s->sk);
	free(s);
}
