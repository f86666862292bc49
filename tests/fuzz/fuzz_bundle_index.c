/*
 * Fuzz target: a bundle index (the JSON the bundle's signature covers).
 */
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	(void)store_bundle_index_check(data, len);
	return 0;
}
