/*
 * trust.h - signatures of a revision judged against the store's keyring
 * and trust policy, for show and verify.
 */
#ifndef AIRLOCK_CLI_TRUST_H
#define AIRLOCK_CLI_TRUST_H

#include <jansson.h>

#include "store.h"

/*
 * Returns {"signatures": [{"keyid", "name", "trusted_comment", "verdict",
 * "reason"}], "trusted": N, "threshold": T, "ok": bool}; *ok (if not NULL)
 * says whether the policy's threshold is met.
 */
json_t	*trust_check(struct store *, const struct store_manifest *, int *ok);
void	 trust_print(json_t *);

#endif
