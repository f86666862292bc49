/*
 * Fuzz target: an archive given to `airlock add` (store_source_*), read
 * through both passes: the listing checks and the streaming of each entry.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/*
 * The oracle, written apart from store_path_valid so that it checks it:
 * a relative path whose components are none of "", "." and "..".
 * "..sjlon" and "a..b" are names like any other.
 */
static int
contained(const char *path)
{
	const char *p = path, *end;

	if (*p == '\0' || *p == '/')
		return 0;
	for (;;) {
		size_t len;

		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (end == NULL)
			return 1;
		p = end + 1;
	}
}

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
		if (!store_path_valid(e->path) || !contained(e->path))
			__builtin_trap();
	}
	(void)store_source_each(src, drain, NULL);
	store_source_free(src);
	return 0;
}
