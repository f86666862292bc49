/*
 * Fuzz target: a model card's YAML front matter (store_card_parse).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_t *card = NULL, *claims = NULL;

	if (store_card_parse(data, len, &card, &claims) == 0) {
		/* What parses must be JSON the manifest can carry. */
		char *s = json_dumps(claims, JSON_COMPACT | JSON_SORT_KEYS);

		if (s == NULL)
			__builtin_trap();
		free(s);
	}
	json_decref(card);
	json_decref(claims);
	return 0;
}
