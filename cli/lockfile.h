/*
 * lockfile.h - deployment lockfiles (airlock.lockfile/v1, FORMATS.md):
 * for each model the repository, the revision asked, its commit, the
 * manifest's exact bytes and digest, the signatures that vouched for it
 * with their public keys, and every file's path, size and sha256 — what
 * a node needs to check a deployment with no store and no daemon.
 */
#ifndef AIRLOCK_CLI_LOCKFILE_H
#define AIRLOCK_CLI_LOCKFILE_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

#define LOCK_SCHEMA	"airlock.lockfile/v1"
#define LOCK_DEFAULT	"airlock-lock.json"

struct keys_trust;

struct lock_sig {
	const char	*keyid;		/* upper-case hex, as minisign shows it */
	const char	*minisig;	/* the .minisig file's text */
	size_t		 len;
	const char	*pubkey;	/* the signer's .pub text, or NULL */
};

struct lock_model {
	const char		*type;
	const char		*repo;
	const char		*revision;	/* as asked: a branch, tag, commit */
	struct store_manifest	*m;		/* parsed from its exact bytes */
	struct lock_sig		*sigs;
	size_t			 nsigs;
};

/* Everything points into root or is owned by the lockfile. */
struct lockfile {
	json_t			*root;
	const char		*created;
	struct lock_model	*models;
	size_t			 n;
};

/*
 * Parses untrusted lockfile bytes: canonical JSON of this schema only,
 * every model's manifest bytes hashing to its digest and naming its repo
 * and commit, its files exactly the manifest's, each signature's key id
 * its own.  On failure *out is NULL and err says what and why.  Signatures
 * are not judged here (lock_judge).
 */
int	lock_parse(const void *, size_t, struct lockfile **out, char *err,
	    size_t errlen);
void	lock_free(struct lockfile *);

/*
 * The entry of one model: m with the signature texts (lens) and the
 * public key text of each (or NULL).  A new reference.
 */
json_t	*lock_model_json(const struct store_manifest *m, const char *revision,
	    const char *const *sigs, const size_t *lens,
	    const char *const *pubkeys, size_t nsigs);
/* The whole lockfile's canonical bytes, a newline at the end; free(3). */
char	*lock_dump(json_t *models, size_t *len);

/*
 * Judges a model's signatures against ring (n entries) for threshold:
 * 0 when at least threshold trusted keys vouch and no signature is
 * forged, -1 with why in err (one line) when not.
 */
int	lock_judge(const struct lock_model *, const struct keys_trust *ring,
	    size_t n, unsigned threshold, char *err, size_t errlen);

/* "ORG/NAME" as a HF cache folder: "models--ORG--NAME". */
void	lock_hfcache_name(const char *type, const char *repo, char *buf,
	    size_t size);
/* The name HF clients give a file's blob: its ETag. */
void	lock_etag(const struct store_file *, char *buf, size_t size);

#endif
