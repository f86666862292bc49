/*
 * The mirror's reading of a revision's JSON (GET /api/models/REPO/revision/
 * REV): either a refusal, or a commit of exactly 40 lower-case hex digits.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/names.h"
#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char commit[STORE_COMMIT_LEN + 1];

	memset(commit, 'x', sizeof(commit));
	if (upstream_revision((const char *)data, size, commit) == 0 &&
	    !hex_valid(commit, STORE_COMMIT_LEN))
		abort();
	if (upstream_revision(NULL, 0, commit) == 0)
		abort();
	return 0;
}
