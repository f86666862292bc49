/*
 * Deployment lockfiles (cli/lockfile.c), read as the untrusted bytes a
 * node is handed.  A lockfile that parses is whole: each model's entry,
 * built again from what was parsed, is the entry it was read from, and
 * judging its signatures with no keys neither crashes nor trusts any.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "lib/bounds.h"
#include "cli/lockfile.h"
#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_model(const struct lock_model *lm, json_t *orig)
{
	const char *texts[BOUND_BUNDLE_SIGS + 1], *pubs[BOUND_BUNDLE_SIGS + 1];
	size_t lens[BOUND_BUNDLE_SIGS + 1];
	char err[512];
	json_t *again;

	if (lm->nsigs > BOUND_BUNDLE_SIGS)
		abort();
	for (size_t i = 0; i < lm->nsigs; i++) {
		texts[i] = lm->sigs[i].minisig;
		lens[i] = lm->sigs[i].len;
		pubs[i] = lm->sigs[i].pubkey;
	}
	again = lock_model_json(lm->m, lm->revision, texts, lens, pubs,
	    lm->nsigs);
	if (again == NULL || !json_equal(again, orig))
		abort();
	json_decref(again);
	/* No key is trusted: a threshold of one is never met. */
	if (lm->nsigs > 0 && lock_judge(lm, NULL, 0, 1, err,
	    sizeof(err)) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct lockfile *lf;
	char err[1024];

	if (!ready) {
		if (keys_init() != 0)
			abort();
		ready = 1;
	}
	if (lock_parse(data, size, &lf, err, sizeof(err)) != 0) {
		if (lf != NULL || err[0] == '\0')
			abort();
		return 0;
	}
	for (size_t i = 0; i < lf->n; i++)
		check_model(&lf->models[i], json_array_get(json_object_get(
		    lf->root, "models"), i));
	lock_free(lf);
	return 0;
}
