/*
 * Fuzz target: a bundle as a receiver reads it (store_bundle_open, then
 * the first pass that hashes every entry against the index).  The
 * signature check is the caller's and is skipped here, so that what lies
 * behind it is fuzzed too.  A bundle that passes the check holds, for each
 * revision, manifest bytes that hash to the digest the index gives and
 * name only paths inside the folder: checked by libcrypto and by the
 * fuzzer's own oracle, not by the store's validators.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "store/store.h"
#include "tests/fuzz/oracle.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
checked(const struct store_bundle *b)
{
	for (size_t r = 0; r < store_bundle_nrevs(b); r++) {
		const struct store_bundle_revinfo *ri = store_bundle_rev(b, r);
		struct store_manifest *m;
		unsigned char md[SHA256_DIGEST_LENGTH];

		SHA256((const unsigned char *)ri->manifest, ri->manifest_len,
		    md);
		if (memcmp(md, ri->digest, sizeof(md)) != 0)
			__builtin_trap();
		if (store_manifest_parse(ri->manifest, ri->manifest_len,
		    &m) != 0)
			__builtin_trap();
		for (size_t i = 0; i < m->nfiles; i++)
			if (!oracle_contained(m->files[i].path))
				__builtin_trap();
		store_manifest_free(m);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct store_bundle *b;
	char path[64];
	int fd;

	if ((fd = memfd_create("bundle", 0)) == -1)
		return 0;
	if (write(fd, data, len) == (ssize_t)len) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		if (store_bundle_open(path, &b) == 0) {
			if (store_bundle_check(b, NULL, NULL) == 0)
				checked(b);
			store_bundle_free(b);
		}
	}
	close(fd);
	return 0;
}
