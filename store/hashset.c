/*
 * hashset.c - sets of sha256 hashes: growing ones, asked as they grow
 * (open addressing on the hash's own first bytes, which are uniformly
 * random), and sorted ones, 32 bytes a hash, for gc's millions of chunks
 * (filled, sorted once, then searched with bsearch).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

int
hash_cmp(const void *a, const void *b)
{
	return memcmp(a, b, STORE_HASH_LEN);
}

static int
hs_grow(struct hashset *h)
{
	struct hashset g = { 0 };

	g.cap = h->cap != 0 ? h->cap * 2 : 4096;
	if ((g.slot = malloc(g.cap * STORE_HASH_LEN)) == NULL ||
	    (g.used = calloc(g.cap, 1)) == NULL) {
		free(g.slot);
		return ENOMEM;
	}
	for (size_t i = 0; i < h->cap; i++) {
		if (!h->used[i])
			continue;
		size_t j = get_be64(h->slot[i]) & (g.cap - 1);
		while (g.used[j])
			j = (j + 1) & (g.cap - 1);
		memcpy(g.slot[j], h->slot[i], STORE_HASH_LEN);
		g.used[j] = 1;
	}
	g.n = h->n;
	free(h->slot);
	free(h->used);
	*h = g;
	return 0;
}

int
hs_add(struct hashset *h, const uint8_t sha[STORE_HASH_LEN], int *isnew)
{
	size_t j;

	*isnew = 0;
	if ((h->n + 1) * 2 > h->cap && hs_grow(h) != 0)
		return ENOMEM;
	for (j = get_be64(sha) & (h->cap - 1); h->used[j];
	    j = (j + 1) & (h->cap - 1))
		if (memcmp(h->slot[j], sha, STORE_HASH_LEN) == 0)
			return 0;
	memcpy(h->slot[j], sha, STORE_HASH_LEN);
	h->used[j] = 1;
	h->n++;
	*isnew = 1;
	return 0;
}

int
hs_has(const struct hashset *h, const uint8_t sha[STORE_HASH_LEN])
{
	if (h->cap == 0)
		return 0;
	for (size_t j = get_be64(sha) & (h->cap - 1); h->used[j];
	    j = (j + 1) & (h->cap - 1))
		if (memcmp(h->slot[j], sha, STORE_HASH_LEN) == 0)
			return 1;
	return 0;
}

void
hs_free(struct hashset *h)
{
	free(h->slot);
	free(h->used);
}

/* Sorted sets: appended to freely, sorted (and deduplicated) once. */

int
hset_add(struct hset *s, const uint8_t h[STORE_HASH_LEN])
{
	if (s->n == s->cap) {
		size_t cap = s->cap != 0 ? s->cap * 2 : 1024;
		void *v = realloc(s->v, cap * STORE_HASH_LEN);

		if (v == NULL)
			return ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	memcpy(s->v[s->n++], h, STORE_HASH_LEN);
	return 0;
}

void
hset_sort(struct hset *s)
{
	size_t j = 0;

	if (s->n == 0)
		return;
	qsort(s->v, s->n, STORE_HASH_LEN, hash_cmp);
	for (size_t i = 0; i < s->n; i++)
		if (j == 0 || memcmp(s->v[j - 1], s->v[i], STORE_HASH_LEN) != 0)
			memmove(s->v[j++], s->v[i], STORE_HASH_LEN);
	s->n = j;
}

int
hset_has(const struct hset *s, const void *h)
{
	/* An empty set may have no array at all: bsearch must not see it. */
	return s->n > 0 &&
	    bsearch(h, s->v, s->n, STORE_HASH_LEN, hash_cmp) != NULL;
}
