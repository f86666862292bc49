/*
 * Fuzz target: manifest bytes from elsewhere (bundles, peers).  Whatever
 * parses must be canonical (its bytes are the input's), and every path it
 * names stays inside the folder, by an oracle of the fuzzer's own.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"
#include "tests/fuzz/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_manifest *m;

	if (store_manifest_parse(data, len, &m) != 0)
		return 0;
	if (m->len != len || memcmp(m->bytes, data, len) != 0)
		__builtin_trap();
	for (size_t i = 0; i < m->nfiles; i++)
		if (!oracle_contained(m->files[i].path))
			__builtin_trap();
	store_manifest_free(m);
	return 0;
}
