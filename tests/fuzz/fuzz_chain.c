/*
 * The chained pull's reading of an airlockd's answers (mirror/chain.c):
 * the first byte picks the reader, the rest is the answer.  0: GET /v1/;
 * 1: /v1/refs/model/org/m, looked up for "main"; 2: /v1/signatures/...;
 * 3: a page of /v1/blobs/.../chunks of a 1 MiB file.  Each either refuses
 * or gives what its contract says.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define SIGS_MAX	8
#define FILE_SIZE	(1u << 20)

static void
sigs(const char *s, size_t len)
{
	char *texts[SIGS_MAX];
	size_t lens[SIGS_MAX], n = 0;
	int rc;

	rc = chain_parse_sigs(s, len, texts, lens, SIGS_MAX, &n);
	if (n > SIGS_MAX)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (rc == 0 && (lens[i] == 0 || lens[i] > BOUND_SIGFILE ||
		    strlen(texts[i]) > lens[i]))
			abort();
		free(texts[i]);
	}
}

static void
chunks(const char *s, size_t len)
{
	struct store_chunkref *v = NULL;
	size_t n = 0, cap = 0;
	uint64_t off = 0, sum = 0;

	(void)chain_parse_chunks(s, len, FILE_SIZE, &off, &v, &n, &cap);
	for (size_t i = 0; i < n; i++) {
		if (v[i].len == 0 || v[i].len > STORE_CHUNK_MAX)
			abort();
		sum += v[i].len;
	}
	if (sum != off || off > FILE_SIZE || n > cap)
		abort();
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	uint8_t digest[STORE_HASH_LEN];
	int api, is_commit;

	if (size == 0)
		return 0;
	switch (data[0] % 4) {
	case 0:
		if (chain_parse_index(s, size - 1, &api) == 1 &&
		    (api <= 0 || api >= 1000))
			abort();
		break;
	case 1:
		(void)chain_parse_refs(s, size - 1, "model", "org/m", "main",
		    digest, &is_commit);
		(void)chain_parse_refs(s, size - 1, "model", "org/m", "e7fd854",
		    digest, &is_commit);
		break;
	case 2:
		sigs(s, size - 1);
		break;
	case 3:
		chunks(s, size - 1);
		break;
	}
	return 0;
}
