/*
 * Key pairs in minisign's file formats: generation, public keys, and
 * secret keys with or without scrypt encryption.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys/keys.h"
#include "keys/internal.h"

/*
 * The decoded secret key line.  The last three fields are what scrypt's
 * stream encrypts.
 */
#define SK_ALG		0
#define SK_KDF		2
#define SK_CHKALG	4
#define SK_SALT		6
#define SK_OPSLIMIT	(SK_SALT + crypto_pwhash_scryptsalsa208sha256_SALTBYTES)
#define SK_MEMLIMIT	(SK_OPSLIMIT + 8)
#define SK_KEYID	(SK_MEMLIMIT + 8)
#define SK_SECRET	(SK_KEYID + KEYS_KEYID_BYTES)
#define SK_CHK		(SK_SECRET + crypto_sign_SECRETKEYBYTES)
#define SK_BLOB		(SK_CHK + crypto_generichash_BYTES)
#define SK_ENCRYPTED	(SK_BLOB - SK_KEYID)

struct keys_secret {
	uint8_t		ksk_keyid[KEYS_KEYID_BYTES];
	uint8_t		ksk_sk[crypto_sign_SECRETKEYBYTES];
};

_Static_assert(KEYS_PUBKEY_BYTES == crypto_sign_PUBLICKEYBYTES, "pk size");
_Static_assert(BOUND_SCRYPT_OPSLIMIT ==
    crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE, "opslimit");
_Static_assert(BOUND_SCRYPT_MEMLIMIT ==
    crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE, "memlimit");
_Static_assert(SK_BLOB == 158, "minisign secret key size");
_Static_assert(SK_ENCRYPTED == 104, "minisign encrypted part");

static const uint8_t kdf_none[2];

static struct keys_secret *
secret_alloc(void)
{
	struct keys_secret *sk;

	if ((sk = sodium_malloc(sizeof(*sk))) == NULL)
		return NULL;
	memset(sk, 0, sizeof(*sk));
	return sk;
}

/* Once made, a secret key is only read: let the MMU hold us to that. */
static void
secret_seal(struct keys_secret *sk)
{
	(void)sodium_mprotect_readonly(sk);
}

void
keys_secret_free(struct keys_secret *sk)
{
	if (sk != NULL)
		sodium_free(sk);
}

void
keys_secret_pub(const struct keys_secret *sk, struct keys_pub *pub)
{
	memcpy(pub->kp_keyid, sk->ksk_keyid, sizeof(pub->kp_keyid));
	crypto_sign_ed25519_sk_to_pk(pub->kp_key, sk->ksk_sk);
}

/* A detached Ed25519 signature, made where the secret lives. */
int
keys_secret_sign(const struct keys_secret *sk, uint8_t *sig,
    const uint8_t *msg, size_t len)
{
	if (crypto_sign_detached(sig, NULL, msg, len, sk->ksk_sk) != 0)
		return KEYS_ECRYPTO;
	return KEYS_OK;
}

int
keys_generate(struct keys_secret **skp, struct keys_pub *pub)
{
	struct keys_secret *sk;

	if (skp == NULL || pub == NULL)
		return KEYS_EINVAL;
	*skp = NULL;
	if ((sk = secret_alloc()) == NULL)
		return KEYS_ENOMEM;
	randombytes_buf(sk->ksk_keyid, sizeof(sk->ksk_keyid));
	if (crypto_sign_keypair(pub->kp_key, sk->ksk_sk) != 0) {
		sodium_free(sk);
		return KEYS_ECRYPTO;
	}
	memcpy(pub->kp_keyid, sk->ksk_keyid, sizeof(pub->kp_keyid));
	secret_seal(sk);
	*skp = sk;
	return KEYS_OK;
}

/* The public key line: "Ed" ‖ keyid ‖ pk. */
static int
pub_decode(const char *line, size_t len, struct keys_pub *pub)
{
	uint8_t blob[KEYS_PUBKEY_BLOB];
	int rc;

	if ((rc = keys_b64_decode(line, len, blob, sizeof(blob))) != 0)
		return rc;
	if (memcmp(blob, KEYS_TAG_KEY, 2) != 0)
		return KEYS_EALG;
	memcpy(pub->kp_keyid, blob + 2, KEYS_KEYID_BYTES);
	memcpy(pub->kp_key, blob + 2 + KEYS_KEYID_BYTES, KEYS_PUBKEY_BYTES);
	return KEYS_OK;
}

/* A comment line: the prefix, then at most BOUND_COMMENT bytes. */
static int
comment_line(struct keys_text *tx)
{
	const char *text;
	size_t len;

	return keys_text_comment(tx, KEYS_COMMENT_PREFIX, 0, &text, &len);
}

int
keys_pub_parse(const char *text, size_t len, struct keys_pub *pub)
{
	const size_t plen = strlen(KEYS_COMMENT_PREFIX);
	struct keys_pub tmp;
	struct keys_text tx;
	const char *line;
	size_t linelen;
	int rc;

	if (text == NULL || pub == NULL)
		return KEYS_EINVAL;
	keys_text_init(&tx, text, len);
	if (len >= plen && memcmp(text, KEYS_COMMENT_PREFIX, plen) == 0 &&
	    (rc = comment_line(&tx)) != 0)
		return rc;
	if ((rc = keys_text_line(&tx, &line, &linelen)) != 0 ||
	    (rc = pub_decode(line, linelen, &tmp)) != 0 ||
	    (rc = keys_text_finish(&tx)) != 0)
		return rc;
	*pub = tmp;
	return KEYS_OK;
}

int
keys_pub_base64(const struct keys_pub *pub, char **text)
{
	uint8_t blob[KEYS_PUBKEY_BLOB];

	if (text == NULL)
		return KEYS_EINVAL;
	*text = NULL;
	if (pub == NULL)
		return KEYS_EINVAL;
	memcpy(blob, KEYS_TAG_KEY, 2);
	memcpy(blob + 2, pub->kp_keyid, KEYS_KEYID_BYTES);
	memcpy(blob + 2 + KEYS_KEYID_BYTES, pub->kp_key, KEYS_PUBKEY_BYTES);
	if ((*text = keys_b64_encode(blob, sizeof(blob))) == NULL)
		return KEYS_ENOMEM;
	return KEYS_OK;
}

int
keys_pub_format(const struct keys_pub *pub, char **text)
{
	char hex[KEYS_KEYID_HEXLEN + 1], *b64, *out;
	size_t size;
	int rc;

	if (text == NULL)
		return KEYS_EINVAL;
	*text = NULL;
	if ((rc = keys_pub_base64(pub, &b64)) != 0)
		return rc;
	keys_keyid_hex(pub->kp_keyid, hex);
	size = strlen(KEYS_COMMENT_PREFIX) + 64 + strlen(b64);
	if ((out = malloc(size)) == NULL) {
		free(b64);
		return KEYS_ENOMEM;
	}
	snprintf(out, size, "%sminisign public key %s\n%s\n",
	    KEYS_COMMENT_PREFIX, hex, b64);
	free(b64);
	*text = out;
	return KEYS_OK;
}

/* BLAKE2b-256("Ed" ‖ keyid ‖ sk), over the plaintext fields of blob. */
static void
secret_checksum(const uint8_t *blob, uint8_t chk[crypto_generichash_BYTES])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, crypto_generichash_BYTES);
	crypto_generichash_update(&st, blob + SK_ALG, 2);
	crypto_generichash_update(&st, blob + SK_KEYID, KEYS_KEYID_BYTES);
	crypto_generichash_update(&st, blob + SK_SECRET,
	    crypto_sign_SECRETKEYBYTES);
	crypto_generichash_final(&st, chk, crypto_generichash_BYTES);
	sodium_memzero(&st, sizeof(st));
}

/* XOR the scrypt stream of the passphrase over keyid ‖ sk ‖ checksum. */
static int
secret_crypt(uint8_t *blob, const char *passphrase)
{
	uint8_t *stream;
	int rc = KEYS_OK;

	if ((stream = sodium_malloc(SK_ENCRYPTED)) == NULL)
		return KEYS_ENOMEM;
	if (crypto_pwhash_scryptsalsa208sha256(stream, SK_ENCRYPTED,
	    passphrase, strlen(passphrase), blob + SK_SALT,
	    keys_le64_load(blob + SK_OPSLIMIT),
	    (size_t)keys_le64_load(blob + SK_MEMLIMIT)) != 0)
		rc = KEYS_ECRYPTO;
	else
		for (size_t i = 0; i < SK_ENCRYPTED; i++)
			blob[SK_KEYID + i] ^= stream[i];
	sodium_free(stream);
	return rc;
}

/*
 * A secret key must hold the public key that its seed gives: this catches
 * a corrupt unencrypted key whose checksum minisign left as zeros.
 */
static int
secret_consistent(const uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t *scratch;
	int ok;

	if ((scratch = sodium_malloc(crypto_sign_SECRETKEYBYTES)) == NULL)
		return KEYS_ENOMEM;
	ok = crypto_sign_seed_keypair(pk, scratch, sk) == 0 &&
	    sodium_memcmp(pk, sk + crypto_sign_SEEDBYTES, sizeof(pk)) == 0;
	sodium_free(scratch);
	return ok ? KEYS_OK : KEYS_ECHECKSUM;
}

/* Decrypt (or not) and check a decoded secret key line in place. */
static int
secret_open(uint8_t *blob, const char *passphrase)
{
	uint8_t chk[crypto_generichash_BYTES];
	int encrypted, rc;

	if (memcmp(blob + SK_ALG, KEYS_TAG_KEY, 2) != 0 ||
	    memcmp(blob + SK_CHKALG, KEYS_CHK_BLAKE2B, 2) != 0)
		return KEYS_EALG;
	if (memcmp(blob + SK_KDF, KEYS_KDF_SCRYPT, 2) == 0)
		encrypted = 1;
	else if (memcmp(blob + SK_KDF, kdf_none, 2) == 0)
		encrypted = 0;
	else
		return KEYS_EALG;
	if (encrypted) {
		if (keys_le64_load(blob + SK_OPSLIMIT) > BOUND_SCRYPT_OPSLIMIT ||
		    keys_le64_load(blob + SK_MEMLIMIT) > BOUND_SCRYPT_MEMLIMIT)
			return KEYS_ELIMITS;
		if (passphrase == NULL)
			return KEYS_ENEEDPASS;
		if (strlen(passphrase) > BOUND_PASSPHRASE)
			return KEYS_EINVAL;
		if ((rc = secret_crypt(blob, passphrase)) != 0)
			return rc;
	}
	if (encrypted || !sodium_is_zero(blob + SK_CHK, sizeof(chk))) {
		secret_checksum(blob, chk);
		rc = sodium_memcmp(chk, blob + SK_CHK, sizeof(chk));
		sodium_memzero(chk, sizeof(chk));
		if (rc != 0)
			return encrypted ? KEYS_EPASSPHRASE : KEYS_ECHECKSUM;
	}
	return secret_consistent(blob + SK_SECRET);
}

int
keys_secret_parse(const char *text, size_t len, const char *passphrase,
    struct keys_secret **skp)
{
	struct keys_secret *sk = NULL;
	struct keys_text tx;
	const char *line;
	uint8_t *blob;
	size_t linelen;
	int rc;

	if (text == NULL || skp == NULL)
		return KEYS_EINVAL;
	*skp = NULL;
	if ((blob = sodium_malloc(SK_BLOB)) == NULL)
		return KEYS_ENOMEM;
	keys_text_init(&tx, text, len);
	if ((rc = comment_line(&tx)) != 0 ||
	    (rc = keys_text_line(&tx, &line, &linelen)) != 0 ||
	    (rc = keys_b64_decode(line, linelen, blob, SK_BLOB)) != 0 ||
	    (rc = keys_text_finish(&tx)) != 0 ||
	    (rc = secret_open(blob, passphrase)) != 0)
		goto fail;
	if ((sk = secret_alloc()) == NULL) {
		rc = KEYS_ENOMEM;
		goto fail;
	}
	memcpy(sk->ksk_keyid, blob + SK_KEYID, KEYS_KEYID_BYTES);
	memcpy(sk->ksk_sk, blob + SK_SECRET, crypto_sign_SECRETKEYBYTES);
	secret_seal(sk);
	*skp = sk;
fail:
	sodium_free(blob);
	return rc;
}

/* Lay out, checksum and (with a passphrase) encrypt a secret key line. */
static int
secret_seal_blob(const struct keys_secret *sk, const char *passphrase,
    uint8_t *blob)
{
	memset(blob, 0, SK_BLOB);
	memcpy(blob + SK_ALG, KEYS_TAG_KEY, 2);
	memcpy(blob + SK_CHKALG, KEYS_CHK_BLAKE2B, 2);
	memcpy(blob + SK_KEYID, sk->ksk_keyid, KEYS_KEYID_BYTES);
	memcpy(blob + SK_SECRET, sk->ksk_sk, crypto_sign_SECRETKEYBYTES);
	secret_checksum(blob, blob + SK_CHK);
	if (passphrase == NULL)
		return KEYS_OK;
	memcpy(blob + SK_KDF, KEYS_KDF_SCRYPT, 2);
	randombytes_buf(blob + SK_SALT,
	    crypto_pwhash_scryptsalsa208sha256_SALTBYTES);
	keys_le64_store(blob + SK_OPSLIMIT,
	    crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE);
	keys_le64_store(blob + SK_MEMLIMIT,
	    crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE);
	return secret_crypt(blob, passphrase);
}

int
keys_secret_format(const struct keys_secret *sk, const char *passphrase,
    char **text)
{
	const char *comment;
	char *b64 = NULL, *out = NULL;
	size_t b64size, size;
	uint8_t *blob;
	int rc;

	if (sk == NULL || text == NULL || (passphrase != NULL &&
	    strlen(passphrase) > BOUND_PASSPHRASE))
		return KEYS_EINVAL;
	*text = NULL;
	b64size = sodium_base64_encoded_len(SK_BLOB,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((blob = sodium_malloc(SK_BLOB)) == NULL ||
	    (b64 = sodium_malloc(b64size)) == NULL) {
		rc = KEYS_ENOMEM;
		goto fail;
	}
	if ((rc = secret_seal_blob(sk, passphrase, blob)) != 0)
		goto fail;
	sodium_bin2base64(b64, b64size, blob, SK_BLOB,
	    sodium_base64_VARIANT_ORIGINAL);
	comment = passphrase != NULL ? "airlock encrypted secret key" :
	    "airlock unencrypted secret key";
	size = strlen(KEYS_COMMENT_PREFIX) + strlen(comment) + b64size + 2;
	if ((out = malloc(size)) == NULL) {
		rc = KEYS_ENOMEM;
		goto fail;
	}
	snprintf(out, size, "%s%s\n%s\n", KEYS_COMMENT_PREFIX, comment, b64);
	*text = out;
fail:
	if (blob != NULL)
		sodium_free(blob);
	if (b64 != NULL)
		sodium_free(b64);
	return rc;
}
