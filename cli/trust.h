/*
 * trust.h - signatures of a revision judged against the store's keyring
 * and trust policy, for show, verify, sign, attach and trust.
 */
#ifndef AIRLOCK_CLI_TRUST_H
#define AIRLOCK_CLI_TRUST_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

struct keys_trust;
struct keys_subject;

/*
 * Returns {"signatures": [{"keyid", "name", "trusted_comment",
 * "comment_names_nothing", "verdict", "reason", "counted"}], "trusted": N,
 * "threshold": T, "default": bool, "ok": bool, "reason": TEXT,
 * "problems": [TEXT]}; "problems" names each signature that does not
 * count and why, "comment_names_nothing" a verified signature whose
 * trusted comment (minisign's default, say) names no manifest.  *ok (if not NULL) says whether
 * the policy's threshold is met; anything that keeps the signatures from
 * being judged counts as not met.
 */
/* A manifest as what a signature must name; digest is its text, which
 * subj points into. */
void	 trust_subject(const struct store_manifest *,
	    char digest[STORE_DIGEST_STRLEN + 1], struct keys_subject *subj);
json_t	*trust_check(struct store *, const struct store_manifest *, int *ok);
void	 trust_print(json_t *);
/* A trusted comment on one line, its tabs as spaces. */
void	 trust_comment_print(const char *);
/*
 * The same for any signed thing: sig texts over subj, with the policy's
 * threshold but at least need_at_least signatures.
 */
struct keys_subject;
json_t	*trust_judge(struct store *, const struct keys_subject *subj,
	    const char *const *texts, const size_t *lens, size_t nsigs,
	    unsigned need_at_least, int *ok);

/*
 * The signatures the policy asks for: the setting "threshold", else 1 when
 * the keyring holds keys, else 0 (*is_default says which).  Returns -1
 * when the setting is not a number in 0..BOUND_TRUST_THRESHOLD.
 */
int	 trust_threshold(struct store *, size_t nring, unsigned *need,
	    int *is_default);

#endif
