/*
 * Helpers shared by the keys/ sources.  Not part of the API: only those
 * sources include this file.
 */
#ifndef AIRLOCK_KEYS_INTERNAL_H
#define AIRLOCK_KEYS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* minisign's two-byte algorithm tags and line prefixes. */
#define KEYS_ALG_ED		"Ed"	/* Ed25519; on a signature: legacy */
#define KEYS_ALG_ED_HASHED	"ED"	/* Ed25519 over BLAKE2b-512 */
#define KEYS_KDF_SCRYPT		"Sc"
#define KEYS_CHK_BLAKE2B	"B2"
#define KEYS_COMMENT_PREFIX	"untrusted comment: "
#define KEYS_TC_PREFIX		"trusted comment: "

/* The decoded public key and signature lines. */
#define KEYS_PUBKEY_BLOB	(2 + KEYS_KEYID_BYTES + KEYS_PUBKEY_BYTES)
#define KEYS_SIG_BLOB		(2 + KEYS_KEYID_BYTES + KEYS_SIG_BYTES)

/* A read cursor over untrusted text. */
struct keys_text {
	const char	*tx_pos;
	const char	*tx_end;
};

void	 keys_text_init(struct keys_text *, const char *, size_t);
int	 keys_text_line(struct keys_text *, const char **, size_t *);
int	 keys_text_finish(const struct keys_text *);
int	 keys_text_comment(struct keys_text *, const char *, int,
	    const char **, size_t *);
int	 keys_b64_decode(const char *, size_t, uint8_t *, size_t);
char	*keys_b64_encode(const uint8_t *, size_t);
int	 keys_comment_check(const char *, size_t, size_t, int);
int	 keys_tc_check(const char *, size_t);
uint64_t keys_le64_load(const uint8_t *);
void	 keys_le64_store(uint8_t *, uint64_t);
int	 keys_printable_ascii(const char *, size_t);
struct json_t;
int	 keys_json_load(const char *, size_t, size_t, const char *,
	    struct json_t **);

struct keys_secret;
int	 keys_secret_sign(const struct keys_secret *, uint8_t *,
	    const uint8_t *, size_t);

#endif /* AIRLOCK_KEYS_INTERNAL_H */
