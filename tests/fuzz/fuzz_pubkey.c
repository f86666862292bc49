/*
 * Public keys: a minisign .pub file or a bare base64 line.  Whatever
 * parses must format and parse back to the same key.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct keys_pub pub, back;
	char *text;

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	if (keys_pub_parse((const char *)data, size, &pub) != 0)
		return 0;
	if (keys_pub_format(&pub, &text) != 0)
		abort();
	if (keys_pub_parse(text, strlen(text), &back) != 0 ||
	    memcmp(&pub, &back, sizeof(pub)) != 0)
		abort();
	free(text);
	return 0;
}
