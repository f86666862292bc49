/*
 * Fuzz target: the licence table reader (policy_table_parse) and the
 * lookups a table it accepts must answer without a crash.
 */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct policy_table *t;

	if (policy_table_parse(data, len, &t) != 0)
		return 0;
	for (size_t i = 0; i < policy_table_count(t); i++) {
		const struct policy_licence *l = policy_table_entry(t, i);

		if (policy_licence_find(t, l->id) == NULL)
			__builtin_trap();	/* every id finds itself */
		(void)policy_licensor(l, "org/name");
	}
	(void)policy_licence_by_link(t, "https://example.com/");
	(void)policy_licence_by_text(t, data, len);
	policy_table_free(t);
	return 0;
}
