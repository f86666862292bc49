/*
 * The mirror's reading of the tree's pages (GET /api/models/REPO/tree/SHA
 * ?recursive=true).  The input is split at each form feed into pages read
 * one after the other, through a filter that refuses paths holding "skip".
 * Whatever the pages say, every file kept has a valid path no longer than
 * BOUND_PATH, is wanted, is listed once, and the card and the licences
 * come first.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
wanted(void *arg, const char *path)
{
	(void)arg;
	return strstr(path, "skip") == NULL;
}

static void
check(const struct upstream_tree *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct upstream_file *f = &t->v[i];

		if (!store_path_valid(f->path) || strlen(f->path) > BOUND_PATH ||
		    !wanted(NULL, f->path))
			abort();
		if (i > 0 && (upstream_rank(t->v[i - 1].path,
		    t->v[i - 1].size) > upstream_rank(f->path, f->size) ||
		    strcmp(t->v[i - 1].path, f->path) == 0))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct upstream_tree t = { 0 };
	const char *p = (const char *)data, *end = p + size;
	int rc = 0;

	t.wanted = wanted;
	while (rc == 0 && p <= end) {
		const char *ff = memchr(p, '\f', (size_t)(end - p));
		size_t len = ff != NULL ? (size_t)(ff - p) : (size_t)(end - p);

		rc = upstream_tree_page(&t, p, len);
		p += len + 1;
	}
	if (rc == 0 && upstream_tree_finish(&t) == 0)
		check(&t);
	if (t.n > BOUND_FILES)
		abort();
	upstream_tree_free(&t);
	return 0;
}
