/*
 * deploy.h - what lock, checkout --lock, pull --lock and verify --lock
 * share: loading a lockfile, the keys that judge it, and checking a
 * deployed folder or a HF cache against it with no store.
 */
#ifndef AIRLOCK_CLI_DEPLOY_H
#define AIRLOCK_CLI_DEPLOY_H

#include <stddef.h>

#include <jansson.h>

#include "store/store.h"

struct cli;
struct lockfile;
struct lock_model;
struct keys_trust;

/* Writes len bytes to path whole (a temporary file renamed), or to
 * stdout for "-".  Returns the exit status, having said why not. */
int	deploy_write_file(const char *path, const char *text, size_t len);
/*
 * Reads and parses a lockfile, then judges every model's signatures: by
 * the key of trustfile (one signature needed) when it is not NULL, else
 * by st's keyring and policy (st may be NULL: then trustfile is needed).
 * Returns the exit status, having said why not.
 */
int	deploy_load(struct store *st, const char *path, const char *trustfile,
	    struct lockfile **);
/* Where model i goes under dir: dir itself for a lockfile of one model,
 * else dir/ORG/NAME (dir/datasets/ORG/NAME for a dataset). */
void	deploy_model_dir(const struct lockfile *, size_t i, const char *dir,
	    char *buf, size_t size);
/*
 * Hashes every file under dir (or the model's snapshot in the HF cache at
 * root) and prints one line per file that drifted from the lockfile:
 * changed, missing, extra, or linked to another blob.  Returns how many
 * drifted, or -1 (said why) when dir cannot be read at all.
 */
long	deploy_verify_dir(const struct lock_model *, const char *dir);
/* Drift lines into this JSON array instead (NULL: standard output). */
void	deploy_drift_json(json_t *lines);
long	deploy_verify_hfcache(const struct lock_model *, const char *root);
/* Writes a revision into the HF cache at root, merging (checkout_hf.c):
 * blobs by ETag, a snapshot of relative links, refs/rev when rev is a
 * name.  Returns the exit status. */
int	checkout_hfcache(struct cli *, struct store *,
	    const struct store_manifest *, const char *rev, const char *root);
/* Writes a revision's files into dir, which must be absent or an empty
 * folder (cmd_checkout.c).  Returns the exit status. */
int	checkout_dir(struct cli *, struct store *,
	    const struct store_manifest *, const char *dir);

#endif
