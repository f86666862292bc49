/*
 * gate.h - the licence gate over the store (DESIGN.md §10): the policy
 * kept in the store, the conclusion of a revision (stored, or files about
 * to be), the reviews signed for it, and the verdict.  Shared by the CLI
 * (add, import, pull, policy, review, licence, show) and airlockd.
 *
 * policy/ is pure; this is where it meets the store and the keyring.
 * Errors: 0, a store code, a POLICY_E* code (policy_lasterror() names the
 * thing) or a positive errno.  Nothing here prints.
 */
#ifndef AIRLOCK_GATE_H
#define AIRLOCK_GATE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/bounds.h"
#include "store/store.h"

struct policy_table;
struct policy_rules;
struct policy_input_file;
struct keys_trust;

/* The last failure of the calling thread in words (or policy/'s). */
const char	*gate_lasterror(void);

/* The setting that holds the policy: its canonical JSON. */
#define GATE_SETTING	"policy"

/* 1 if the store has a policy set, 0 if not, or a store error. */
int	gate_policy_set(struct store *);
/*
 * The store's policy: *out NULL when none is set (the gate then lets
 * everything pass).  A stored policy that no longer parses (the licence
 * table changed) is POLICY_EINVAL: the gate never passes by accident.
 */
int	gate_rules_get(struct store *, const struct policy_table *,
	    struct policy_rules **out);
/* Writes the rules' canonical JSON as the setting, one transaction. */
int	gate_rules_set(struct store *, const struct policy_rules *);

/*
 * The conclusion (policy_conclude's JSON, with "licence_files") of files
 * not yet stored (add, pull before weights, import before writing):
 * policy_store_conclude_files with bases resolved to the main branch of
 * each model the store holds; the repo's stored revisions are its
 * history.  A stored revision's is policy_store_conclude's.  *out is the
 * caller's.
 */
int	gate_conclude_files(struct store *, const struct policy_table *,
	    const char *repo, const char *commit,
	    const struct policy_input_file *, size_t nfiles, json_t **out);

/*
 * Reviews (a person's conclusion, signed): a minisign signature over the
 * manifest's bytes whose trusted comment is airlock's manifest comment
 * with one more field, review=STATEMENT, the statement an in-toto
 * Statement v1 (FORMATS: airlock.1, REVIEWS):
 *   {"_type":"https://in-toto.io/Statement/v1",
 *    "subject":[{"name":"ORG/NAME","digest":{"sha256":"HEX"}}],
 *    "predicateType":"https://airlock.dev/review/v1",
 *    "predicate":{"licence":ID,"note":TEXT,"time":N}}
 * gate_review_statement makes one (*out for free(3), compact, ASCII);
 * gate_review_parse reads one (untrusted bytes), checking the subject is
 * repo and digest (hex of the manifest's sha256); POLICY_EINVAL naming
 * the field.
 */
#define GATE_REVIEW_FIELD	"review"
#define GATE_REVIEW_TYPE	"https://in-toto.io/Statement/v1"
#define GATE_REVIEW_PREDICATE	"https://airlock.dev/review/v1"
struct gate_review {
	char	 licence[BOUND_REVIEW_LICENCE + 1];
	char	 note[BOUND_NOTE + 1];
	int64_t	 time;
};
int	gate_review_statement(const char *repo, const char *digest_hex,
	    const char *licence, const char *note, int64_t time, char **out);
int	gate_review_parse(const char *json, size_t len, const char *repo,
	    const char *digest_hex, struct gate_review *);

/*
 * The reviews among a stored revision's signatures, judged by ring:
 * [{"keyid","name","licence","note","time","verdict","trusted"}], only
 * those whose signature verifies (an unverified comment says nothing).
 * *ntrusted counts the signatures that are trusted (reviews or not), for
 * min_signatures.  *out is the caller's.
 */
int	gate_reviews(struct store *, const struct keys_trust *ring,
	    size_t nring, const struct store_manifest *, json_t **out,
	    unsigned *ntrusted);
/* The same for signature texts not stored yet (a bundle's). */
int	gate_reviews_of(const struct keys_trust *ring, size_t nring,
	    const struct store_manifest *, const char *const *texts,
	    const size_t *lens, size_t n, json_t **out, unsigned *ntrusted);
/* The store's keyring: its readable entries (keys_ring_add), *ring for
 * free(3).  Returns 0 or a store error code.  The one loader of the
 * keyring for the command line and the gate; keys/ knows no store. */
int	gate_ring(struct store *, struct keys_trust **ring, size_t *n);

/*
 * The verdict: 0 to pass, POLICY_EDENIED with the reason.  A trusted
 * review stands for the conclusion: its licence is judged as the
 * concluded one, and the flags it saw no longer refuse.  reviews may be
 * NULL; signatures is what min_signatures is judged against
 * (GATE_NO_SIGNATURES where there are none yet to judge: add and pull
 * judge licences; import and serving judge signatures too).
 */
#define GATE_NO_SIGNATURES	(~0u)
int	gate_judge(const struct policy_rules *, json_t *conclusion,
	    json_t *reviews, unsigned signatures, char *reason, size_t size);

/*
 * All of it for a stored revision: rules and table loaded by the caller.
 * 0 to pass, POLICY_EDENIED with the reason, or an error.
 */
int	gate_check_stored(struct store *, const struct policy_table *,
	    const struct policy_rules *, const struct store_manifest *,
	    char *reason, size_t size);

#endif
