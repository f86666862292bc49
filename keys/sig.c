/*
 * minisign signatures: the prehash, signing, parsing and verifying.
 *
 * A .minisig file is four lines: an untrusted comment, base64 of
 * alg ‖ keyid ‖ Ed25519 signature, the trusted comment, and base64 of the
 * global signature, which is Ed25519 over signature ‖ trusted comment and
 * is what makes the trusted comment trustworthy.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys/keys.h"
#include "keys/internal.h"

#define DEFAULT_COMMENT	"signature from airlock secret key"

/* libsodium wants its BLAKE2b state 64-byte aligned. */
struct keys_hash {
	crypto_generichash_state kh_state;
};

_Static_assert(KEYS_SIG_BYTES == crypto_sign_BYTES, "signature size");
_Static_assert(KEYS_HASH_BYTES == crypto_generichash_BYTES_MAX, "hash");

int
keys_hash_new(struct keys_hash **hp)
{
	struct keys_hash *h;

	if (hp == NULL)
		return KEYS_EINVAL;
	h = aligned_alloc(_Alignof(struct keys_hash), sizeof(*h));
	if ((*hp = h) == NULL)
		return KEYS_ENOMEM;
	crypto_generichash_init(&h->kh_state, NULL, 0, KEYS_HASH_BYTES);
	return KEYS_OK;
}

void
keys_hash_update(struct keys_hash *h, const void *buf, size_t len)
{
	crypto_generichash_update(&h->kh_state, buf, len);
}

void
keys_hash_final(struct keys_hash *h, uint8_t out[KEYS_HASH_BYTES])
{
	crypto_generichash_final(&h->kh_state, out, KEYS_HASH_BYTES);
}

void
keys_hash_free(struct keys_hash *h)
{
	free(h);
}

static void
prehash(const void *msg, size_t len, uint8_t out[KEYS_HASH_BYTES])
{
	crypto_generichash(out, KEYS_HASH_BYTES, msg, len, NULL, 0);
}

/* Ed25519 over sig ‖ trusted comment: the global signature's message. */
static uint8_t *
global_message(const uint8_t sig[KEYS_SIG_BYTES], const char *tc,
    size_t *len)
{
	size_t tclen = strlen(tc);
	uint8_t *m;

	if ((m = malloc(KEYS_SIG_BYTES + tclen)) == NULL)
		return NULL;
	memcpy(m, sig, KEYS_SIG_BYTES);
	memcpy(m + KEYS_SIG_BYTES, tc, tclen);
	*len = KEYS_SIG_BYTES + tclen;
	return m;
}

static char *
sig_text(const char *uc, const uint8_t blob[KEYS_SIG_BLOB], const char *tc,
    const uint8_t global[KEYS_SIG_BYTES])
{
	char *b64sig, *b64global, *out = NULL;
	size_t size;

	b64sig = keys_b64_encode(blob, KEYS_SIG_BLOB);
	b64global = keys_b64_encode(global, KEYS_SIG_BYTES);
	if (b64sig == NULL || b64global == NULL)
		goto fail;
	size = strlen(KEYS_COMMENT_PREFIX) + strlen(uc) + strlen(b64sig) +
	    strlen(KEYS_TC_PREFIX) + strlen(tc) + strlen(b64global) + 5;
	if ((out = malloc(size)) != NULL)
		snprintf(out, size, "%s%s\n%s\n%s%s\n%s\n", KEYS_COMMENT_PREFIX,
		    uc, b64sig, KEYS_TC_PREFIX, tc, b64global);
fail:
	free(b64sig);
	free(b64global);
	return out;
}

int
keys_sign_prehashed(const struct keys_secret *sk,
    const uint8_t hash[KEYS_HASH_BYTES], const char *tc, const char *uc,
    char **sigtext)
{
	uint8_t blob[KEYS_SIG_BLOB], global[KEYS_SIG_BYTES], *gm;
	struct keys_pub pub;
	size_t gmlen;

	if (sk == NULL || hash == NULL || tc == NULL || sigtext == NULL)
		return KEYS_EINVAL;
	*sigtext = NULL;
	if (uc == NULL)
		uc = DEFAULT_COMMENT;
	if (keys_tc_check(tc, strlen(tc)) != 0 ||
	    keys_comment_check(uc, strlen(uc), BOUND_COMMENT, 1) != 0)
		return KEYS_ECOMMENT;
	/*
	 * The secret key's bytes stay in their guarded page: libsodium signs
	 * from it directly.
	 */
	keys_secret_pub(sk, &pub);
	memcpy(blob, KEYS_TAG_SIG_HASHED, 2);
	memcpy(blob + 2, pub.kp_keyid, KEYS_KEYID_BYTES);
	if (keys_secret_sign(sk, blob + 2 + KEYS_KEYID_BYTES, hash,
	    KEYS_HASH_BYTES) != 0)
		return KEYS_ECRYPTO;
	if ((gm = global_message(blob + 2 + KEYS_KEYID_BYTES, tc,
	    &gmlen)) == NULL)
		return KEYS_ENOMEM;
	if (keys_secret_sign(sk, global, gm, gmlen) != 0) {
		free(gm);
		return KEYS_ECRYPTO;
	}
	free(gm);
	if ((*sigtext = sig_text(uc, blob, tc, global)) == NULL)
		return KEYS_ENOMEM;
	return KEYS_OK;
}

int
keys_sign(const struct keys_secret *sk, const void *msg, size_t len,
    const char *tc, const char *uc, char **sigtext)
{
	uint8_t hash[KEYS_HASH_BYTES];

	if (msg == NULL && len != 0)
		return KEYS_EINVAL;
	prehash(msg, len, hash);
	return keys_sign_prehashed(sk, hash, tc, uc, sigtext);
}

static int
b64_field(struct keys_text *tx, uint8_t *out, size_t outlen)
{
	const char *line;
	size_t len;
	int rc;

	if ((rc = keys_text_line(tx, &line, &len)) != 0)
		return rc;
	return keys_b64_decode(line, len, out, outlen);
}

static struct keys_sig *
sig_alloc(const char *uc, size_t uclen, const char *tc, size_t tclen)
{
	struct keys_sig *sig;
	char *strings;

	if ((sig = malloc(sizeof(*sig) + uclen + tclen + 2)) == NULL)
		return NULL;
	strings = (char *)(sig + 1);
	memcpy(strings, uc, uclen);
	strings[uclen] = '\0';
	sig->ks_untrusted_comment = strings;
	strings += uclen + 1;
	memcpy(strings, tc, tclen);
	strings[tclen] = '\0';
	sig->ks_trusted_comment = strings;
	return sig;
}

int
keys_sig_parse(const char *text, size_t len, struct keys_sig **sigp)
{
	uint8_t blob[KEYS_SIG_BLOB], global[KEYS_SIG_BYTES];
	const char *uc, *tc;
	struct keys_text tx;
	struct keys_sig *sig;
	size_t uclen, tclen;
	int alg, rc;

	if (text == NULL || sigp == NULL)
		return KEYS_EINVAL;
	*sigp = NULL;
	keys_text_init(&tx, text, len);
	if ((rc = keys_text_comment(&tx, KEYS_COMMENT_PREFIX, 0, &uc,
	    &uclen)) != 0 || (rc = b64_field(&tx, blob, sizeof(blob))) != 0)
		return rc;
	if (memcmp(blob, KEYS_TAG_SIG_HASHED, 2) == 0)
		alg = KEYS_SIG_PREHASHED;
	else if (memcmp(blob, KEYS_TAG_SIG_LEGACY, 2) == 0)
		alg = KEYS_SIG_LEGACY;
	else
		return KEYS_EALG;
	if ((rc = keys_text_comment(&tx, KEYS_TC_PREFIX, 1, &tc, &tclen)) != 0 ||
	    (rc = b64_field(&tx, global, sizeof(global))) != 0 ||
	    (rc = keys_text_finish(&tx)) != 0)
		return rc;
	if ((sig = sig_alloc(uc, uclen, tc, tclen)) == NULL)
		return KEYS_ENOMEM;
	sig->ks_alg = alg;
	memcpy(sig->ks_keyid, blob + 2, KEYS_KEYID_BYTES);
	memcpy(sig->ks_sig, blob + 2 + KEYS_KEYID_BYTES, KEYS_SIG_BYTES);
	memcpy(sig->ks_global_sig, global, KEYS_SIG_BYTES);
	*sigp = sig;
	return KEYS_OK;
}

void
keys_sig_free(struct keys_sig *sig)
{
	free(sig);
}

static int
verify_global(const struct keys_pub *pub, const struct keys_sig *sig)
{
	uint8_t *gm;
	size_t gmlen;
	int ok;

	if ((gm = global_message(sig->ks_sig, sig->ks_trusted_comment,
	    &gmlen)) == NULL)
		return KEYS_ENOMEM;
	ok = crypto_sign_verify_detached(sig->ks_global_sig, gm, gmlen,
	    pub->kp_key) == 0;
	free(gm);
	return ok ? KEYS_OK : KEYS_EGLOBALSIG;
}

static int
verify_common(const struct keys_pub *pub, const struct keys_sig *sig,
    const void *msg, size_t len)
{
	if (crypto_sign_verify_detached(sig->ks_sig, msg, len,
	    pub->kp_key) != 0)
		return KEYS_ESIG;
	return verify_global(pub, sig);
}

int
keys_sig_verify_prehashed(const struct keys_pub *pub,
    const struct keys_sig *sig, const uint8_t hash[KEYS_HASH_BYTES])
{
	if (pub == NULL || sig == NULL || hash == NULL)
		return KEYS_EINVAL;
	if (sodium_memcmp(pub->kp_keyid, sig->ks_keyid, KEYS_KEYID_BYTES) != 0)
		return KEYS_EKEYID;
	if (sig->ks_alg != KEYS_SIG_PREHASHED)
		return KEYS_ELEGACY;
	return verify_common(pub, sig, hash, KEYS_HASH_BYTES);
}

int
keys_sig_verify(const struct keys_pub *pub, const struct keys_sig *sig,
    const void *msg, size_t len, int flags)
{
	uint8_t hash[KEYS_HASH_BYTES];

	if (pub == NULL || sig == NULL || (msg == NULL && len != 0))
		return KEYS_EINVAL;
	if (sodium_memcmp(pub->kp_keyid, sig->ks_keyid, KEYS_KEYID_BYTES) != 0)
		return KEYS_EKEYID;
	if (sig->ks_alg == KEYS_SIG_LEGACY) {
		if ((flags & KEYS_VERIFY_LEGACY) == 0)
			return KEYS_ELEGACY;
		return verify_common(pub, sig, msg, len);
	}
	prehash(msg, len, hash);
	return verify_common(pub, sig, hash, KEYS_HASH_BYTES);
}
