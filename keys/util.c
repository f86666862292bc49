/*
 * Library set-up, error strings, key ids, and the text helpers that every
 * minisign-format parser here shares.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "keys/keys.h"
#include "keys/internal.h"

int
keys_init(void)
{
	/* sodium_init() returns 1 when it already ran: that is success. */
	if (sodium_init() < 0)
		return KEYS_ECRYPTO;
	return KEYS_OK;
}

const char *
keys_strerror(int code)
{
	switch (code) {
	case KEYS_OK:
		return "success";
	case KEYS_ENOMEM:
		return "out of memory";
	case KEYS_EINVAL:
		return "invalid argument";
	case KEYS_EFORMAT:
		return "malformed or truncated data";
	case KEYS_EALG:
		return "unsupported algorithm";
	case KEYS_ENEEDPASS:
		return "secret key is encrypted: a passphrase is needed";
	case KEYS_EPASSPHRASE:
		return "wrong passphrase for that key";
	case KEYS_ECHECKSUM:
		return "secret key checksum mismatch (corrupt key)";
	case KEYS_ELIMITS:
		return "key derivation limits too high";
	case KEYS_EKEYID:
		return "made by another key";
	case KEYS_ESIG:
		return "signature verification failed";
	case KEYS_EGLOBALSIG:
		return "trusted comment signature verification failed";
	case KEYS_ELEGACY:
		return "legacy (non-prehashed) signature refused";
	case KEYS_ECOMMENT:
		return "comment too long or not printable";
	case KEYS_ENOTFOUND:
		return "no such field in the trusted comment";
	case KEYS_ETOOSMALL:
		return "buffer too small";
	case KEYS_ESCHEMA:
		return "unknown document schema";
	case KEYS_ETHRESHOLD:
		return "not enough trusted signatures";
	case KEYS_EROLLBACK:
		return "release is older than one already seen (rollback)";
	case KEYS_EEQUIVOCAL:
		return "release has a seen version but different bytes";
	case KEYS_EEXPIRED:
		return "release has expired";
	case KEYS_ECRYPTO:
		return "cryptographic library failure";
	case KEYS_ENOKEY:
		return "no keyring entry holds that public key";
	}
	return "unknown error";
}

uint64_t
keys_le64_load(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

void
keys_le64_store(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (uint8_t)v;
}

void
keys_keyid_hex(const uint8_t id[KEYS_KEYID_BYTES],
    char out[KEYS_KEYID_HEXLEN + 1])
{
	snprintf(out, KEYS_KEYID_HEXLEN + 1, "%016" PRIX64,
	    keys_le64_load(id));
}

int
keys_keyid_parse(const char *hex, uint8_t id[KEYS_KEYID_BYTES])
{
	uint64_t v = 0;
	size_t i;

	if (hex == NULL || id == NULL)
		return KEYS_EINVAL;
	for (i = 0; hex[i] != '\0'; i++) {
		char c = hex[i];
		unsigned int d;

		if (i == KEYS_KEYID_HEXLEN)
			return KEYS_EFORMAT;
		if (c >= '0' && c <= '9')
			d = (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned int)(c - 'A' + 10);
		else
			return KEYS_EFORMAT;
		v = (v << 4) | d;
	}
	if (i == 0)
		return KEYS_EFORMAT;
	keys_le64_store(id, v);
	return KEYS_OK;
}

void
keys_text_init(struct keys_text *tx, const char *text, size_t len)
{
	tx->tx_pos = text;
	tx->tx_end = text + len;
}

/*
 * The next line, without its "\n" or "\r\n" (minisign trims both).  The
 * last line may lack its newline.  A NUL inside a line is malformed, so
 * that every line can later be used as a C string.
 */
int
keys_text_line(struct keys_text *tx, const char **line, size_t *len)
{
	const char *nl, *start = tx->tx_pos;
	size_t n;

	if (start >= tx->tx_end)
		return KEYS_EFORMAT;
	nl = memchr(start, '\n', (size_t)(tx->tx_end - start));
	n = (size_t)((nl != NULL ? nl : tx->tx_end) - start);
	tx->tx_pos = nl != NULL ? nl + 1 : tx->tx_end;
	if (n > 0 && start[n - 1] == '\r')
		n--;
	if (memchr(start, '\0', n) != NULL)
		return KEYS_EFORMAT;
	*line = start;
	*len = n;
	return KEYS_OK;
}

/*
 * A "PREFIX<text>" comment line of a minisign file; *text points into the
 * caller's input.  A trusted comment is checked as keys_tc_check() does,
 * an untrusted one against BOUND_COMMENT (else KEYS_EFORMAT).
 */
int
keys_text_comment(struct keys_text *tx, const char *prefix, int trusted,
    const char **text, size_t *textlen)
{
	const size_t plen = strlen(prefix);
	const char *line;
	size_t len;
	int rc;

	if ((rc = keys_text_line(tx, &line, &len)) != 0)
		return rc;
	if (len < plen || memcmp(line, prefix, plen) != 0)
		return KEYS_EFORMAT;
	*text = line + plen;
	*textlen = len - plen;
	if (trusted)
		return keys_tc_check(*text, *textlen);
	if (keys_comment_check(*text, *textlen, BOUND_COMMENT, 0) != 0)
		return KEYS_EFORMAT;
	return KEYS_OK;
}

/* Only blank lines may follow the last line that a format defines. */
int
keys_text_finish(const struct keys_text *tx)
{
	for (const char *p = tx->tx_pos; p < tx->tx_end; p++)
		if (*p != '\n' && *p != '\r')
			return KEYS_EFORMAT;
	return KEYS_OK;
}

/*
 * Decode one base64 line to exactly outlen bytes.  libsodium refuses
 * characters outside the alphabet, bad padding and non-zero padding bits;
 * the length checks refuse short and long lines and trailing bytes.
 */
int
keys_b64_decode(const char *line, size_t len, uint8_t *out, size_t outlen)
{
	const char *end;
	size_t binlen;

	if (len + 1 != sodium_base64_encoded_len(outlen,
	    sodium_base64_VARIANT_ORIGINAL))
		return KEYS_EFORMAT;
	if (sodium_base642bin(out, outlen, line, len, NULL, &binlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0 || binlen != outlen ||
	    end != line + len) {
		sodium_memzero(out, outlen);
		return KEYS_EFORMAT;
	}
	return KEYS_OK;
}

char *
keys_b64_encode(const uint8_t *bin, size_t len)
{
	size_t size;
	char *b64;

	size = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(size)) == NULL)
		return NULL;
	sodium_bin2base64(b64, size, bin, len, sodium_base64_VARIANT_ORIGINAL);
	return b64;
}

/*
 * Load a JSON document of at most max bytes, without duplicate keys, that
 * is an object of that schema.  KEYS_EFORMAT when it is too long, does not
 * parse, is not an object or its "schema" is not a string; KEYS_ESCHEMA
 * when it names another schema.  On success the caller owns *obj and
 * releases it with json_decref(); on an error *obj is NULL.
 */
int
keys_json_load(const char *text, size_t len, size_t max, const char *schema,
    json_t **obj)
{
	const json_t *s;
	int rc = KEYS_EFORMAT;

	*obj = NULL;
	if (len > max ||
	    (*obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return KEYS_EFORMAT;
	s = json_object_get(*obj, "schema");
	if (!json_is_object(*obj) || !json_is_string(s))
		goto fail;
	rc = KEYS_ESCHEMA;
	if (strcmp(json_string_value(s), schema) != 0)
		goto fail;
	return KEYS_OK;
fail:
	json_decref(*obj);
	*obj = NULL;
	return rc;
}

int
keys_printable_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return 0;
	return 1;
}

/*
 * Length of the UTF-8 sequence at s that encodes one printable character
 * (no C0 or C1 control but tab, no DEL, no surrogate, no overlong form),
 * or 0.
 */
static size_t
utf8_printable(const unsigned char *s, size_t len)
{
	uint32_t cp, min;
	size_t n;

	if (s[0] < 0x80)
		return (s[0] >= 0x20 && s[0] != 0x7f) || s[0] == '\t';
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		cp = s[0] & 0x1f;
		min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		cp = s[0] & 0x0f;
		min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		cp = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/*
 * A comment is one line of at most max bytes.  Comments airlock writes,
 * and trusted comments it reads, must be printable UTF-8 (utf8 != 0);
 * untrusted comments that it reads may hold any bytes but control
 * characters, which could drive a terminal that shows them.
 */
int
keys_comment_check(const char *s, size_t len, size_t max, int utf8)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i, n;

	if (len > max)
		return KEYS_ECOMMENT;
	for (i = 0; i < len; i += n) {
		if (utf8)
			n = utf8_printable(u + i, len - i);
		else
			n = (u[i] >= 0x20 && u[i] != 0x7f) || u[i] == '\t';
		if (n == 0)
			return KEYS_ECOMMENT;
	}
	return KEYS_OK;
}

int
keys_tc_check(const char *s, size_t len)
{
	return keys_comment_check(s, len, BOUND_TRUSTED_COMMENT, 1);
}
