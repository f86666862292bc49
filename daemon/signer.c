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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/airlockd.h"
#include "keys/keys.h"

int
signer_load(struct store *st, const char *file, struct keys_signer **out,
    char *err, size_t esize)
{
	char path[4096];
	void *name = NULL;
	size_t nlen;
	int rc;

	*out = NULL;
	if (file != NULL)
		snprintf(path, sizeof(path), "%s", file);
	else if ((rc = store_kv_get(st, STORE_SETTING, "default_key", 11,
	    &name, &nlen)) == 0) {
		snprintf(path, sizeof(path), "%s/keys/%.*s.key",
		    store_dir(st), (int)nlen, (char *)name);
		free(name);
	} else {
		snprintf(err, esize, "%s: the store has no signing key, and "
		    "airlockd signs what it mirrors: make one with `airlock "
		    "key gen --no-password`, or set signing-key",
		    store_dir(st));
		return -1;
	}
	if ((rc = keys_signer_load(path, NULL, NULL, out)) == 0)
		return 0;
	if (rc == EFBIG)
		snprintf(err, esize, "%s: larger than %d bytes", path,
		    BOUND_SIGFILE);
	else if (rc > 0)
		snprintf(err, esize, "%s: %s", path, strerror(rc));
	else
		snprintf(err, esize, "%s: %s", path, rc == KEYS_ENEEDPASS ?
		    "the key needs a passphrase, which airlockd cannot ask "
		    "for: sign with a key made by `airlock key gen "
		    "--no-password`" : keys_strerror(rc));
	return -1;
}

int
signer_sign_mirrored(void *signer, const struct store_manifest *m,
    struct store_sig *sig)
{
	char *text;
	int rc;

	memset(sig, 0, sizeof(*sig));
	if ((rc = keys_signer_sign_manifest(signer, m->repo, m->commit,
	    m->digest, m->bytes, m->len, sig->keyid, &text)) == 0) {
		sig->text = text;
		sig->len = strlen(text);
		return 0;
	}
	log_warnx("%s: %s: %s", __func__, m->repo, keys_strerror(rc));
	return STORE_EINVAL;
}
