/*
 * Fuzz target: the mergekit recipe reader (policy_recipe_read).
 */
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	json_t *models, *m;
	size_t i;

	if (policy_recipe_read(data, len, &models) != 0)
		return 0;
	json_array_foreach(models, i, m)
		if (!json_is_string(m) || !store_repo_valid(json_string_value(m)))
			__builtin_trap();	/* only repository ids */
	json_decref(models);
	return 0;
}
