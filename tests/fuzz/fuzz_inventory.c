/*
 * Fuzz target: an inventory, which the sender reads from the receiver.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_inventory *inv;

	if (store_inventory_parse(data, len, &inv) != 0)
		return 0;
	for (size_t i = 1; i < inv->n; i++)
		if (memcmp(inv->chunks[i - 1], inv->chunks[i], 32) >= 0)
			__builtin_trap();
	store_inventory_free(inv);
	return 0;
}
