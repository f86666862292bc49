/*
 * hex.c - hashes as text: lower-case hex and "sha256:<hex>" digests
 * (store.h, "Hashes").
 */
#include "config.h"

#include <string.h>

#include "store/internal.h"

void
store_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

int
store_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
store_unhex(const char *hex, uint8_t *bin, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = store_hexdigit((unsigned char)hex[2 * i]), lo;

		if (hi < 0 ||
		    (lo = store_hexdigit((unsigned char)hex[2 * i + 1])) < 0)
			return STORE_EINVAL;
		bin[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : STORE_EINVAL;
}

void
store_digest_str(const uint8_t d[STORE_HASH_LEN],
    char out[STORE_DIGEST_STRLEN + 1])
{
	memcpy(out, "sha256:", 7);
	store_hex(d, STORE_HASH_LEN, out + 7);
}

int
store_digest_parse(const char *s, uint8_t d[STORE_HASH_LEN])
{
	if (strncmp(s, "sha256:", 7) == 0)
		s += 7;
	if (strlen(s) != STORE_HEX_LEN)
		return STORE_EINVAL;
	return store_unhex(s, d, STORE_HASH_LEN);
}
