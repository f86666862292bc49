/*
 * text.c - licence texts in their normalised form, and fingerprints of
 * it (policy.h, "Normalised licence text").
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"
#include "store/store.h"

static int
word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/*
 * Appends the words of one line to out (at *n), unless its first word is
 * "copyright".  out has room: the normal form is never longer than the
 * text.
 */
static void
line_words(const unsigned char *s, size_t len, char *out, size_t *n)
{
	size_t start = *n, i = 0, first = 1;

	while (i < len) {
		while (i < len && !word_byte(lower(s[i])))
			i++;
		if (i == len)
			break;
		if (*n > 0)
			out[(*n)++] = ' ';
		if (first) {
			size_t w = i;

			while (w < len && word_byte(lower(s[w])))
				w++;
			if (w - i == 9 && strncasecmp((const char *)s + i,
			    "copyright", 9) == 0) {
				*n = start;
				return;
			}
			first = 0;
		}
		while (i < len && word_byte(lower(s[i])))
			out[(*n)++] = (char)lower(s[i++]);
	}
}

int
policy_normalise(const void *buf, size_t len, char **outp, size_t *outlen)
{
	const unsigned char *s = buf;
	char *out;
	size_t n = 0, line = 0;

	*outp = NULL;
	if ((out = malloc(len + 1)) == NULL)
		return ENOMEM;
	while (line <= len) {
		const unsigned char *nl = len > line ?
		    memchr(s + line, '\n', len - line) : NULL;
		size_t end = nl != NULL ? (size_t)(nl - s) : len;

		line_words(s + line, end - line, out, &n);
		line = end + 1;
	}
	out[n] = '\0';
	*outp = out;
	if (outlen != NULL)
		*outlen = n;
	return 0;
}

void
policy_fingerprint(const void *buf, size_t len,
    uint8_t out[POLICY_FINGERPRINT_LEN])
{
	char *norm;
	size_t n;

	if (policy_normalise(buf, len, &norm, &n) != 0) {
		memset(out, 0, POLICY_FINGERPRINT_LEN);
		return;
	}
	store_sha256(norm, n, out);
	free(norm);
}

int
policy_text_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	const char *p = hay;

	if (n == 0)
		return 0;
	while ((p = strstr(p, needle)) != NULL) {
		if ((p == hay || p[-1] == ' ') &&
		    (p[n] == '\0' || p[n] == ' '))
			return 1;
		p++;
	}
	return 0;
}
