/*
 * Helpers shared by the keys/ sources.  Not part of the API: only those
 * sources include this file.
 */
#ifndef AIRLOCK_KEYS_INTERNAL_H
#define AIRLOCK_KEYS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/*
 * minisign's two-byte algorithm tags and line prefixes.  "Ed" is the tag
 * of every key and of a legacy signature: one name for each meaning.
 */
#define KEYS_TAG_KEY		"Ed"	/* a key: Ed25519 */
#define KEYS_TAG_SIG_LEGACY	"Ed"	/* a signature over the message */
#define KEYS_TAG_SIG_HASHED	"ED"	/* a signature over BLAKE2b-512 */
#define KEYS_KDF_SCRYPT		"Sc"
#define KEYS_CHK_BLAKE2B	"B2"
#define KEYS_COMMENT_PREFIX	"untrusted comment: "
#define KEYS_TC_PREFIX		"trusted comment: "

/* The decoded public key and signature lines. */
#define KEYS_PUBKEY_BLOB	(2 + KEYS_KEYID_BYTES + KEYS_PUBKEY_BYTES)
#define KEYS_SIG_BLOB		(2 + KEYS_KEYID_BYTES + KEYS_SIG_BYTES)

/*
 * util.c: a read cursor over untrusted text.  keys_text_line() gives the
 * next line without its "\n" or "\r\n", pointing into the text, and
 * KEYS_EFORMAT past the end or for a NUL; keys_text_comment() a
 * "PREFIX<text>" comment line (KEYS_EFORMAT, or keys_tc_check()'s code
 * when trusted != 0); keys_text_finish() KEYS_EFORMAT unless only blank
 * lines are left.
 */
struct keys_text {
	const char	*tx_pos;
	const char	*tx_end;
};

void	 keys_text_init(struct keys_text *, const char *, size_t);
int	 keys_text_line(struct keys_text *, const char **, size_t *);
int	 keys_text_comment(struct keys_text *, const char *prefix,
	    int trusted, const char **text, size_t *len);
int	 keys_text_finish(const struct keys_text *);

/*
 * util.c: base64 lines.  keys_b64_decode() wants exactly outlen bytes
 * (else KEYS_EFORMAT, out zeroed); keys_b64_encode() returns a string for
 * free(3), or NULL when out of memory.
 */
int	 keys_b64_decode(const char *, size_t, uint8_t *, size_t);
char	*keys_b64_encode(const uint8_t *, size_t);

/*
 * util.c: comments.  KEYS_ECOMMENT for more than max bytes or a character
 * that is not printable (UTF-8 when utf8 != 0); keys_tc_check() checks a
 * trusted comment against BOUND_TRUSTED_COMMENT.  keys_printable_ascii()
 * is a predicate: 1 when every byte is printable ASCII, not space.
 */
int	 keys_comment_check(const char *, size_t, size_t max, int utf8);
int	 keys_tc_check(const char *, size_t);
int	 keys_printable_ascii(const char *, size_t);

/* util.c: little-endian u64s, as minisign stores ids and limits. */
uint64_t keys_le64_load(const uint8_t *);
void	 keys_le64_store(uint8_t *, uint64_t);

/*
 * util.c: a JSON document of at most max bytes that is an object of that
 * schema.  KEYS_EFORMAT, or KEYS_ESCHEMA for another schema; on success
 * *obj is the caller's, for json_decref().
 */
struct json_t;
int	 keys_json_load(const char *, size_t, size_t max, const char *schema,
	    struct json_t **obj);

/* key.c: Ed25519 over len bytes into sig; KEYS_ECRYPTO if it fails. */
struct keys_secret;
int	 keys_secret_sign(const struct keys_secret *, uint8_t *sig,
	    const uint8_t *, size_t);

#endif /* AIRLOCK_KEYS_INTERNAL_H */
