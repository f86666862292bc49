/*
 * Fuzz target: an archive given to `airlock add` (store_source_*), read
 * through both passes: the listing checks and the streaming of each entry.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
drain(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	char buf[4096];
	ssize_t n;

	(void)arg;
	(void)idx;
	while ((n = rd(rarg, buf, sizeof(buf))) > 0)
		;
	return n < 0 ? -1 : 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_source *src;

	if (store_source_open_memory(data, len, &src) != 0)
		return 0;
	for (size_t i = 0; i < store_source_count(src); i++) {
		const struct store_entry *e = store_source_entry(src, i);

		/* Everything listed was checked: no way out of the folder. */
		if (!store_path_valid(e->path) || e->path[0] == '/' ||
		    strstr(e->path, "..") == e->path)
			__builtin_trap();
	}
	(void)store_source_each(src, drain, NULL);
	store_source_free(src);
	return 0;
}
