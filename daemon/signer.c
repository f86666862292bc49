/*
 * signer.c - the key that signs what airlockd mirrors.
 *
 * Every manifest airlock mirrors is signed by the local key (DESIGN.md
 * §5): airlockd.conf's signing-key, else the store's own key (the one
 * `airlock key gen` made, which add and pull sign with).  A daemon asks
 * nobody for a passphrase, so the key must be one without (`airlock key
 * gen --no-password`); a store that mirrors with no key at all is refused
 * at start rather than filled with revisions nobody vouched for.
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

#include "daemon/airlockd.h"
#include "keys/keys.h"

struct signer {
	struct keys_secret	*sk;
	struct keys_pub		 pub;
	char			 file[4096];
};

static int
read_key(const char *path, char **text, size_t *len, char *err, size_t esize)
{
	char *b;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, esize, "%s: %s", path, strerror(errno));
		return -1;
	}
	if ((b = sodium_malloc(BOUND_SIGFILE + 1)) == NULL) {
		close(fd);
		snprintf(err, esize, "out of memory");
		return -1;
	}
	while (n <= BOUND_SIGFILE &&
	    (r = read(fd, b + n, BOUND_SIGFILE + 1 - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			snprintf(err, esize, "%s: %s", path, strerror(errno));
			close(fd);
			sodium_free(b);
			return -1;
		}
		n += (size_t)r;
	}
	close(fd);
	if (n > BOUND_SIGFILE) {
		snprintf(err, esize, "%s: larger than %d bytes", path,
		    BOUND_SIGFILE);
		sodium_free(b);
		return -1;
	}
	b[n] = '\0';
	*text = b;
	*len = n;
	return 0;
}

int
signer_load(struct store *st, const char *file, struct signer **out,
    char *err, size_t esize)
{
	struct signer *s;
	void *name = NULL;
	size_t nlen, len;
	char *text;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, esize, "out of memory");
		return -1;
	}
	if (file != NULL)
		snprintf(s->file, sizeof(s->file), "%s", file);
	else if ((rc = store_kv_get(st, STORE_SETTING, "default_key", 11,
	    &name, &nlen)) == 0) {
		snprintf(s->file, sizeof(s->file), "%s/keys/%.*s.key",
		    store_dir(st), (int)nlen, (char *)name);
		free(name);
	} else {
		snprintf(err, esize, "%s: the store has no signing key, and "
		    "airlockd signs what it mirrors: make one with `airlock "
		    "key gen --no-password`, or set signing-key",
		    store_dir(st));
		free(s);
		return -1;
	}
	if (read_key(s->file, &text, &len, err, esize) != 0) {
		free(s);
		return -1;
	}
	rc = keys_secret_parse(text, len, NULL, &s->sk);
	sodium_memzero(text, len);
	sodium_free(text);
	if (rc != 0) {
		snprintf(err, esize, "%s: %s", s->file, rc == KEYS_ENEEDPASS ?
		    "the key needs a passphrase, which airlockd cannot ask "
		    "for: sign with a key made by `airlock key gen "
		    "--no-password`" : keys_strerror(rc));
		free(s);
		return -1;
	}
	keys_secret_pub(s->sk, &s->pub);
	*out = s;
	return 0;
}

void
signer_free(struct signer *s)
{
	if (s == NULL)
		return;
	keys_secret_free(s->sk);
	free(s);
}

int
signer_sign(struct signer *s, const struct store_manifest *m,
    struct store_sig *sig)
{
	char digest[STORE_DIGEST_STRLEN + 1], *tc = NULL, *text = NULL;
	char untrusted[128], hex[KEYS_KEYID_HEXLEN + 1];
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
		log_warnx("%s: %s: %s", __func__, m->repo, keys_strerror(rc));
		return STORE_EINVAL;
	}
	free(tc);
	memcpy(sig->keyid, s->pub.kp_keyid, sizeof(sig->keyid));
	sig->text = text;
	sig->len = strlen(text);
	return 0;
}
