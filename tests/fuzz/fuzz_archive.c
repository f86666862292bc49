/*
 * Fuzz target: an archive given to `airlock add` (store_source_*), read
 * through both passes: the listing checks and the streaming of each entry.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store/store.h"
#include "tests/fuzz/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * Reads each entry through, up to a budget for the whole input: a few
 * KiB of sparse tar may rightly hold terabytes of zeros (within
 * BOUND_ARCHIVE_BYTES), which would take hours and prove nothing more.
 */
static int
drain(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	size_t *budget = arg;
	char buf[4096];
	ssize_t n = 0;

	(void)idx;
	while (*budget > 0 && (n = rd(rarg, buf, sizeof(buf))) > 0)
		*budget -= (size_t)n < *budget ? (size_t)n : *budget;
	return *budget == 0 || n < 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_source *src;
	size_t budget = 64 << 20;

	if (store_source_open_memory(data, len, &src) != 0)
		return 0;
	for (size_t i = 0; i < store_source_count(src); i++) {
		const struct store_entry *e = store_source_entry(src, i);

		/* Everything listed was checked: no way out of the folder. */
		if (!store_path_valid(e->path) || !oracle_contained(e->path))
			__builtin_trap();
	}
	(void)store_source_each(src, drain, &budget);
	store_source_free(src);
	return 0;
}
