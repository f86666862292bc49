/*
 * Fuzz target: a bundle as a receiver reads it (store_bundle_open, then
 * the first pass that hashes every entry against the index).  The
 * signature check is the caller's and is skipped here, so that what lies
 * behind it is fuzzed too.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

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
			(void)store_bundle_check(b, NULL, NULL);
			store_bundle_free(b);
		}
	}
	close(fd);
	return 0;
}
