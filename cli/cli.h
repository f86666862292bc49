/*
 * cli.h - what airlock's commands share.
 */
#ifndef AIRLOCK_CLI_H
#define AIRLOCK_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store.h"

/* Exit status, as DESIGN.md §7 promises. */
#define EXIT_OK		0
#define EXIT_CHECK	1	/* verification, signature, policy, not found */
#define EXIT_USAGE	2	/* usage or I/O error */

struct cli {
	const char	*store_dir;
	int		 json;
	int		 tty;		/* stderr is a terminal: progress bars */
	const char	*cmd;		/* the command's name, for messages */
};

struct cmd {
	const char	*name;
	const char	*usage;		/* equals the man page's synopsis */
	int		(*run)(struct cli *, int, char **);
};

extern const struct cmd cmd_table[];

/* The commands, one file each (cmd_NAME.c). */
int	cmd_init(struct cli *, int, char **);
int	cmd_add(struct cli *, int, char **);
int	cmd_ls(struct cli *, int, char **);
int	cmd_show(struct cli *, int, char **);
int	cmd_cat(struct cli *, int, char **);
int	cmd_checkout(struct cli *, int, char **);
int	cmd_verify(struct cli *, int, char **);
int	cmd_pin(struct cli *, int, char **);
int	cmd_unpin(struct cli *, int, char **);
int	cmd_pins(struct cli *, int, char **);
int	cmd_gc(struct cli *, int, char **);
int	cmd_stats(struct cli *, int, char **);
int	cmd_key(struct cli *, int, char **);
int	cmd_trust(struct cli *, int, char **);
int	cmd_manifest(struct cli *, int, char **);
int	cmd_sig(struct cli *, int, char **);
int	cmd_sign(struct cli *, int, char **);
int	cmd_attach(struct cli *, int, char **);
int	cmd_export(struct cli *, int, char **);
int	cmd_inventory(struct cli *, int, char **);
int	cmd_import(struct cli *, int, char **);
/* import of a HF cache folder or one snapshot of it (hfcache.c). */
int	import_hfcache(struct cli *, struct store *, const char *dir);


/* Messages: "airlock: what: why", then the exit status. */
void	cli_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cli_fail(int status, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A store error: status 1 for "not found" and "corrupt", else 2. */
int	cli_store_fail(int rc, const char *what);
int	cli_status(int rc);
int	cli_usage(const struct cli *);

/* Opens the store named by --store or the default; prints why not. */
int	cli_open(struct cli *, unsigned flags, struct store **);

/*
 * REPO[@REV]: "ORG/NAME", "datasets/ORG/NAME" or "models/ORG/NAME", with
 * an optional "@REV".  type is found in the store unless the prefix or
 * type_hint says.  The strings point into buf.
 */
struct target {
	char		 buf[512];
	const char	*type;
	const char	*repo;
	const char	*rev;		/* NULL: main */
	uint8_t		 digest[STORE_HASH_LEN];
};
int	cli_target(struct store *, const char *arg, const char *type_hint,
	    struct target *);
/* Resolves a target and loads its manifest, printing why not. */
int	cli_load(struct store *, const char *arg, struct target *,
	    struct store_manifest **);

/*
 * store_revision_add for the files of src with what the commands give it:
 * the claims of src's card, the store's default key (if it has one)
 * unlocked first, now as the time of creation, a progress bar when label
 * is not NULL.  Returns the exit status, having printed why it failed
 * (what names the source when its manifest is refused, commit_what or
 * NULL when its commit is), except when the files failed: then *files_rc
 * is the store's code and the caller says why.
 */
int	cli_revision_add(struct cli *, struct store *, struct store_source *src,
	    const char *what, const char *commit_what, const char *label,
	    struct store_revision_spec *, struct store_revision_result *,
	    int *files_rc);

/* Reads a whole file of at most max bytes ("-" is stdin); prints why not. */
int	cli_read_file(const char *path, size_t max, char **buf, size_t *len);

/* Output. */
void	cli_json(json_t *);		/* prints and frees */
const char *cli_bytes(uint64_t, char buf[32]);	/* "1.9 GiB" */

/* Progress on a terminal; nothing on a pipe. */
struct progress;
struct progress *progress_start(const struct cli *, const char *label,
	    uint64_t total);
void	progress_set(struct progress *, uint64_t done);
void	progress_fn(void *, uint64_t);	/* a store_progress_fn */
void	progress_end(struct progress *);

/*
 * Signing manifests: with the store's default key (keyfile NULL), or with
 * a minisign secret key file.  With required 0 and no default key,
 * *signer is NULL and nothing is signed.  Load the key before the work,
 * so that a wrong passphrase stops the command before it writes.
 */
struct signer;
int	signer_open(struct cli *, struct store *, const char *keyfile,
	    int required, struct signer **);
/* Fills sig (text malloc'd; free with signer_sig_free). */
int	signer_sign(struct signer *, const struct store_manifest *,
	    struct store_sig *);
void	signer_sig_free(struct store_sig *);
/* The signer's key id; and a signature of a release document, or of a
 * bundle index that carries one, of `version`: what (the untrusted
 * comment) says which (text malloc'd). */
const uint8_t *signer_keyid(const struct signer *);
int	signer_sign_release(struct signer *, const void *msg, size_t len,
	    uint64_t version, const char *what, char **text);
void	signer_free(struct signer *);

/* A passphrase from $AIRLOCK_PASSPHRASE_FILE or the terminal, in guarded
 * memory (free with passphrase_free).  confirm asks twice. */
char	*passphrase_get(const char *prompt, int confirm);
void	 passphrase_free(char *);

/* Where the store keeps its own key files: STORE/keys/NAME.{key,pub}. */
int	key_paths(struct store *, const char *name, char *sk, char *pk,
	    size_t size);

#endif
