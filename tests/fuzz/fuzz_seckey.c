/*
 * Secret key files, without and with a passphrase.  scrypt's cost is set
 * by the file; the parser refuses anything above minisign's sensitive
 * limits, but even those cost seconds, so the passphrase is only tried on
 * inputs whose limits are cheap (the seed corpus has such keys).
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys/keys.h"

#define CHEAP_OPSLIMIT	(1ULL << 19)
#define CHEAP_MEMLIMIT	(16ULL << 20)

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint64_t
le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

/* Would the parser run scrypt at a cost we cannot afford per input? */
static int
costly(const uint8_t *data, size_t size)
{
	const uint8_t *line, *end = data + size, *nl;
	uint8_t blob[158];
	size_t len, binlen;

	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	line = nl + 1;
	nl = memchr(line, '\n', (size_t)(end - line));
	len = (size_t)((nl != NULL ? nl : end) - line);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (sodium_base642bin(blob, sizeof(blob), (const char *)line, len,
	    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    binlen != sizeof(blob))
		return 0;
	return le64(blob + 38) > CHEAP_OPSLIMIT ||
	    le64(blob + 46) > CHEAP_MEMLIMIT;
}

/* A key that parsed must sign, and its signature must verify. */
static void
exercise(struct keys_secret *sk)
{
	struct keys_pub pub;
	struct keys_sig *sig;
	char *text;

	keys_secret_pub(sk, &pub);
	if (keys_sign(sk, "m", 1, "fuzz", NULL, &text) != 0 ||
	    keys_sig_parse(text, strlen(text), &sig) != 0)
		abort();
	if (keys_sig_verify(&pub, sig, "m", 1, 0) != 0)
		abort();
	keys_sig_free(sig);
	free(text);
	if (keys_secret_format(sk, NULL, &text) != 0)
		abort();
	sodium_memzero(text, strlen(text));
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct keys_secret *sk;

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	if (keys_secret_parse((const char *)data, size, NULL, &sk) == 0) {
		exercise(sk);
		keys_secret_free(sk);
	}
	if (costly(data, size))
		return 0;
	if (keys_secret_parse((const char *)data, size, "fuzz", &sk) == 0) {
		exercise(sk);
		keys_secret_free(sk);
	}
	return 0;
}
