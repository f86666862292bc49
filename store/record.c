/*
 * record.c - the on-disk shape of fixed records: big-endian integers and
 * blob records (internal.h).
 */
#include "config.h"

#include <string.h>

#include "store/internal.h"

void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
blobrec_pack(const struct blobrec *b, uint8_t out[BLOBREC_LEN])
{
	put_be64(out, b->size);
	memcpy(out + 8, b->sha1, STORE_SHA1_LEN);
	put_be32(out + 8 + STORE_SHA1_LEN, b->nchunks);
}

int
blobrec_unpack(const MDB_val *v, struct blobrec *b)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != BLOBREC_LEN)
		return store_fail(STORE_ECORRUPT, "blob record of %zu bytes",
		    v->mv_size);
	b->size = get_be64(p);
	memcpy(b->sha1, p + 8, STORE_SHA1_LEN);
	b->nchunks = get_be32(p + 8 + STORE_SHA1_LEN);
	return 0;
}
