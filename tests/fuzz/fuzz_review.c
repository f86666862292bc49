/*
 * Fuzz target: the review statement reader (gate_review_parse), the
 * in-toto statement a review's trusted comment carries, and its writer
 * read back.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct gate_review r, again;
	char *s;

	if (gate_review_parse((const char *)data, len, NULL, NULL, &r) != 0)
		return 0;
	if (memchr(r.licence, 0, sizeof(r.licence)) == NULL ||
	    memchr(r.note, 0, sizeof(r.note)) == NULL)
		__builtin_trap();
	/* What was read writes and reads back the same. */
	if (gate_review_statement("a/b", "00", r.licence, r.note, r.time,
	    &s) != 0)
		return 0;
	if (gate_review_parse(s, strlen(s), "a/b", "00", &again) != 0 ||
	    strcmp(again.licence, r.licence) != 0 ||
	    strcmp(again.note, r.note) != 0 || again.time != r.time)
		__builtin_trap();
	free(s);
	return 0;
}
