/*
 * inventory.c - what a store holds, for a sender's export --have: every
 * chunk hash, sorted, so that a delta bundle leaves out what the receiver
 * already has.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"
#include "lib/names.h"

#define INVENTORY_SCHEMA "airlock.inventory/v1"

/* Inventories: "airlock.inventory/v1 STOREID COUNT\n", then the sorted
 * chunk hashes, 32 bytes each. */

struct inv_collect {
	int	 fd;
	uint8_t	 buf[1 << 16];
	size_t	 used;
	int	 err;
};

static int
inv_flush(struct inv_collect *c)
{
	size_t off = 0;

	while (off < c->used) {
		ssize_t n = write(c->fd, c->buf + off, c->used - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return c->err = errno;
		off += (size_t)n;
	}
	c->used = 0;
	return 0;
}

static int
inv_add(void *arg, const uint8_t sha[STORE_HASH_LEN])
{
	struct inv_collect *c = arg;

	if (c->used + STORE_HASH_LEN > sizeof(c->buf) && inv_flush(c) != 0)
		return c->err;
	memcpy(c->buf + c->used, sha, STORE_HASH_LEN);
	c->used += STORE_HASH_LEN;
	return 0;
}

int
store_inventory_write(struct store *st, int fd)
{
	struct inv_collect *c;
	struct store_stats s;
	int rc, n;

	if ((rc = store_stats(st, &s)) != 0)
		return rc;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->fd = fd;
	n = snprintf((char *)c->buf, sizeof(c->buf), "%s %s %llu\n",
	    INVENTORY_SCHEMA, st->id, (unsigned long long)s.chunks);
	c->used = (size_t)n;
	/* The chunk table is in hash order: the output is sorted. */
	if ((rc = store_chunks_each(st, inv_add, c)) == 0)
		rc = inv_flush(c);
	if (rc != 0)
		rc = store_fail(rc, "inventory: %s", store_strerror(rc));
	free(c);
	return rc;
}

int
store_inventory_parse(const void *buf, size_t len, struct store_inventory **out)
{
	const char *p = buf, *nl;
	struct store_inventory *inv;
	char schema[32], id[40];
	unsigned long long count;
	size_t hdr;
	int n;

	*out = NULL;
	if ((nl = memchr(p, '\n', len < 128 ? len : 128)) == NULL)
		return store_fail(STORE_EINVAL, "inventory: no header line");
	hdr = (size_t)(nl - p) + 1;
	{
		char line[128];

		memcpy(line, p, hdr - 1);
		line[hdr - 1] = '\0';
		if (sscanf(line, "%31s %39s %llu%n", schema, id, &count, &n) != 3 ||
		    (size_t)n != hdr - 1)
			return store_fail(STORE_EINVAL, "inventory: bad header");
	}
	if (strcmp(schema, INVENTORY_SCHEMA) != 0)
		return store_fail(STORE_EVERSION, "inventory: schema %s is not %s",
		    schema, INVENTORY_SCHEMA);
	if (!hex_valid(id, 32))
		return store_fail(STORE_EINVAL, "inventory: bad store id");
	if (count > (len - hdr) / STORE_HASH_LEN ||
	    count * STORE_HASH_LEN != len - hdr)
		return store_fail(STORE_EINVAL, "inventory: %llu chunks in the "
		    "header, %zu bytes after it", count, len - hdr);
	if ((inv = calloc(1, sizeof(*inv))) == NULL)
		return ENOMEM;
	memcpy(inv->store, id, 33);
	inv->n = (size_t)count;
	if ((inv->chunks = malloc(inv->n * STORE_HASH_LEN + 1)) == NULL) {
		free(inv);
		return ENOMEM;
	}
	memcpy(inv->chunks, p + hdr, inv->n * STORE_HASH_LEN);
	for (size_t i = 1; i < inv->n; i++)
		if (memcmp(inv->chunks[i - 1], inv->chunks[i], STORE_HASH_LEN) >= 0) {
			store_inventory_free(inv);
			return store_fail(STORE_EINVAL, "inventory: chunks not "
			    "sorted or repeated");
		}
	*out = inv;
	return 0;
}

void
store_inventory_free(struct store_inventory *inv)
{
	if (inv == NULL)
		return;
	free(inv->chunks);
	free(inv);
}

int
inventory_has(const struct store_inventory *inv, const uint8_t sha[STORE_HASH_LEN])
{
	return inv != NULL && bsearch(sha, inv->chunks, inv->n, STORE_HASH_LEN,
	    hash_cmp) != NULL;
}

