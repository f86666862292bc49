/*
 * Fuzz target: the GGUF metadata reader (policy_gguf_read) over whole and
 * cut-short headers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_t *meta;

	if (policy_gguf_read(data, len, &meta) == 0) {
		char *s = json_dumps(meta, JSON_COMPACT);

		/* What it gives must be JSON a conclusion can carry. */
		if (s == NULL || !json_is_object(meta))
			__builtin_trap();
		free(s);
		json_decref(meta);
	}
	if (len > 24 && policy_gguf_read(data, len / 2, &meta) == 0)
		json_decref(meta);
	return 0;
}
