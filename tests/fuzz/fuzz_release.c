/*
 * The JSON documents of keys/: release documents, and keyring entries as
 * the store hands them back.  A release that parses is canonical, so it
 * must format to exactly its input.
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
	struct keys_release *rel;
	struct keys_trust t;
	char *json;
	size_t len;

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	if (keys_release_parse((const char *)data, size, &rel) == 0) {
		if (keys_release_format(rel, &json, &len) != 0 ||
		    len != size || memcmp(json, data, size) != 0)
			abort();
		if (keys_release_check_rollback(rel, data, size, rel, json,
		    len) != 0)
			abort();
		(void)keys_release_check_expiry(rel, 0);
		free(json);
		keys_release_free(rel);
	}
	if (keys_trust_from_json((const char *)data, size, &t) == 0) {
		if (keys_trust_to_json(&t, &json) != 0)
			abort();
		free(json);
	}
	return 0;
}
