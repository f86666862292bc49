/*
 * chunker.c - content-defined chunking: FastCDC's gear hash with
 * normalised chunking (Xia et al., USENIX ATC 2016).
 *
 * A cut falls where the gear hash of the last 64 bytes has its top bits
 * clear, so boundaries depend only on nearby content: inserting bytes moves
 * the cuts around the insertion and no others, and two revisions of a model
 * share every chunk but the ones that changed.  Before the average size a
 * stricter mask makes a cut less likely, after it a looser one more likely,
 * which keeps sizes in a narrow band (LMDB stores each chunk in whole
 * pages, and a narrow band keeps freed space reusable).
 *
 * The gear table and the masks are part of the store format: changing them
 * changes every chunk boundary.
 */
#include "config.h"

#include <pthread.h>

#include "store/internal.h"

/* Top bits: each depends on the most bytes of history. */
#define MASK_STRICT	(~0ULL << (64 - 19))	/* before the average */
#define MASK_LOOSE	(~0ULL << (64 - 15))	/* after it */

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

/* The table is splitmix64 from a fixed seed: reproducible everywhere. */
static void
gear_init(void)
{
	uint64_t x = 0x6169726c6f636b31ULL;	/* "airlock1" */

	for (int i = 0; i < 256; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		gear[i] = z ^ (z >> 31);
	}
}

size_t
chunk_cut(const uint8_t *p, size_t n)
{
	size_t i, normal, max;
	uint64_t h = 0;

	pthread_once(&gear_once, gear_init);
	if (n <= STORE_CHUNK_MIN)
		return n;
	max = n < STORE_CHUNK_MAX ? n : STORE_CHUNK_MAX;
	normal = max < STORE_CHUNK_AVG ? max : STORE_CHUNK_AVG;
	/* The hash needs 64 bytes of history before the first test. */
	for (i = STORE_CHUNK_MIN - 64; i < STORE_CHUNK_MIN; i++)
		h = (h << 1) + gear[p[i]];
	for (; i < normal; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & MASK_STRICT) == 0)
			return i + 1;
	}
	for (; i < max; i++) {
		h = (h << 1) + gear[p[i]];
		if ((h & MASK_LOOSE) == 0)
			return i + 1;
	}
	return max;
}
