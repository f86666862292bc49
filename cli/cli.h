/*
 * cli.h - what airlock's commands share.
 */
#ifndef AIRLOCK_CLI_H
#define AIRLOCK_CLI_H

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "store/store.h"

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

/* The store a command needs: main.c opens it before the handler runs. */
enum cmd_store {
	CMD_STORE_NONE,
	CMD_STORE_RO,
	CMD_STORE_RW,
	CMD_STORE_CREATE,	/* read-write, made if missing (init) */
};

#define CMD_TARGET	0x01	/* the first operand is REPO[@REV]: resolve it */
#define CMD_MANIFEST	0x02	/* resolve it and load its manifest */
#define CMD_KEYS	0x04	/* start libsodium first */

#define CMD_MAXOPT	128	/* options are ASCII letters */

/*
 * What a handler gets: the operands after the options, the options given
 * (opt['n'] is --name's argument, "" for a flag, NULL if not given), the
 * store, and the target with its manifest.  main.c owns all of it; data
 * is what a check parsed for exec (malloc'd, main.c frees it).
 */
struct cmd_ctx {
	struct cli		*cli;
	const struct cmd	*cmd;
	int			 argc;
	char			**argv;
	const char		*opt[CMD_MAXOPT];
	enum cmd_store		 store;		/* check may raise it */
	struct store		*st;
	struct target		 target;
	struct store_manifest	*m;
	void			*data;
};

/*
 * A command as data, as tmux's cmd_entry.  With opts NULL the operands
 * are taken as they are (a PATH may start with '-'); else getopt_long
 * parses opts and longopts first.  check, if any, vets the arguments
 * before the store opens, so that bad input changes nothing; exec runs
 * with the store open and the target loaded.  A command with subcommands
 * has sub and no exec.
 */
struct cmd {
	const char		*name;
	const char		*usage;		/* equals the man page's synopsis */
	const char		*opts;
	const struct option	*longopts;
	int			 min, max;	/* operands; max -1: any number */
	enum cmd_store		 store;
	int			 flags;
	const struct cmd	*sub;		/* ends with a NULL name */
	int			(*check)(struct cmd_ctx *);
	int			(*exec)(struct cmd_ctx *);
};

extern const struct cmd cmd_table[];

/* The command called name in table, or NULL. */
const struct cmd *cmd_find(const struct cmd *table, const char *name);
/* Prints c's synopses, the first after *lead, the others indented. */
void	cmd_synopses(FILE *, const struct cmd *c, const char **lead);

/* The commands, one file each (cmd_NAME.c). */
int	cmd_init(struct cmd_ctx *);
int	cmd_add_check(struct cmd_ctx *);
int	cmd_add(struct cmd_ctx *);
int	cmd_ls_check(struct cmd_ctx *);
int	cmd_ls(struct cmd_ctx *);
int	cmd_show(struct cmd_ctx *);
int	cmd_cat(struct cmd_ctx *);
int	cmd_checkout_check(struct cmd_ctx *);
int	cmd_checkout(struct cmd_ctx *);
int	cmd_verify_check(struct cmd_ctx *);
int	cmd_verify(struct cmd_ctx *);
int	cmd_pin(struct cmd_ctx *);
int	cmd_unpin(struct cmd_ctx *);
int	cmd_pins(struct cmd_ctx *);
int	cmd_gc(struct cmd_ctx *);
int	cmd_stats(struct cmd_ctx *);
int	cmd_key_gen_check(struct cmd_ctx *);
int	cmd_key_gen(struct cmd_ctx *);
int	cmd_key_ls(struct cmd_ctx *);
int	cmd_key_pub(struct cmd_ctx *);
int	cmd_trust_add_check(struct cmd_ctx *);
int	cmd_trust_add(struct cmd_ctx *);
int	cmd_trust_ls(struct cmd_ctx *);
int	cmd_trust_revoke_check(struct cmd_ctx *);
int	cmd_trust_revoke(struct cmd_ctx *);
int	cmd_trust_threshold_check(struct cmd_ctx *);
int	cmd_trust_threshold(struct cmd_ctx *);
int	cmd_manifest(struct cmd_ctx *);
int	cmd_sig_check(struct cmd_ctx *);
int	cmd_sig(struct cmd_ctx *);
int	cmd_sign(struct cmd_ctx *);
int	cmd_attach(struct cmd_ctx *);
int	cmd_export_check(struct cmd_ctx *);
int	cmd_export(struct cmd_ctx *);
int	cmd_inventory_check(struct cmd_ctx *);
int	cmd_inventory(struct cmd_ctx *);
int	cmd_import_check(struct cmd_ctx *);
int	cmd_import(struct cmd_ctx *);
int	cmd_tag(struct cmd_ctx *);
int	cmd_rm(struct cmd_ctx *);
int	cmd_lock(struct cmd_ctx *);
int	cmd_pull_check(struct cmd_ctx *);
int	cmd_pull(struct cmd_ctx *);
int	cmd_licence(struct cmd_ctx *);
int	cmd_policy_show(struct cmd_ctx *);
int	cmd_policy_set(struct cmd_ctx *);
int	cmd_review_check(struct cmd_ctx *);
int	cmd_review(struct cmd_ctx *);
/*
 * The gate (gate/) for a command: gate_load gives the store's rules and
 * the licence table (*rules NULL: no policy set), printing why not (the
 * exit status); gate_refuse prints a refusal of what and returns
 * EXIT_CHECK.
 */
struct policy_table;
struct policy_rules;
int	gate_load(struct store *, struct policy_table **,
	    struct policy_rules **);
int	gate_refuse(const char *what, const char *reason);
/*
 * The gate for a source about to be added (add, a HF cache's import): its
 * card, licence and config files read and judged before a byte is
 * stored.  0 to go on (said so when force_reason passed a refusal), else
 * the exit status, having printed why (what names the source).
 */
struct store_source;
int	gate_source(struct store *, struct store_source *, const char *what,
	    const char *repo, const char *force_reason);
int	cmd_bom_check(struct cmd_ctx *);
int	cmd_bom(struct cmd_ctx *);
/* import of a HF cache folder or one snapshot of it (hfcache.c). */
int	import_hfcache(struct cli *, struct store *, const char *dir);

/*
 * Licences (licence.c, over policy/): licence_table loads the licence
 * table, printing why not (the exit status); licence_conclude gives the
 * conclusion of a stored revision as policy_conclude's JSON (*out the
 * caller's), its bases resolved to the main branch of each model the
 * store holds and its repo's other revisions taken as history; a store
 * or policy code on failure.  The printers write it for people.
 */
struct policy_table;
int	licence_table(struct policy_table **);
int	licence_conclude(struct store *, struct policy_table *,
	    const struct store_manifest *, json_t **out);
void	licence_print(json_t *);
/*
 * What a pull brings besides the revision (pull_bases.c): pull_bases
 * the metadata of every base its lineage names that the store lacks,
 * from spec's upstream, kept as metadata-only revisions (*out lists
 * them); pull_datasets the dataset repos its card claims, appended to
 * out.  An exit status.
 */
struct mirror;
struct mirror_pull_spec;
int	pull_bases(struct mirror *, struct store *,
	    const struct mirror_pull_spec *, const struct store_manifest *,
	    json_t **out);
int	pull_datasets(struct mirror *, struct store *,
	    const struct mirror_pull_spec *, const struct store_manifest *,
	    json_t *out);
void	licence_print_summary(json_t *);

/* Messages: "airlock: what: why", then the exit status. */
void	cli_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
int	cli_fail(int status, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* A store error: status 1 for "not found" and "corrupt", else 2. */
int	cli_store_fail(int rc, const char *what);
int	cli_status(int rc);
/* Prints the synopses of the running command. */
int	cli_usage(const struct cli *);

/* Resolves REPO[@REV] (with st NULL: only parses it); prints why not. */
int	cli_target(struct store *, const char *arg, const char *type_hint,
	    struct target *);

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
/* The total, once it is known, and files done of files, drawn after the
 * rate when files is not 0. */
void	progress_total(struct progress *, uint64_t total);
void	progress_files(struct progress *, uint64_t done, uint64_t files);
void	progress_fn(void *, uint64_t);	/* a store_progress_fn */
void	progress_end(struct progress *);

/*
 * Signing manifests: with the store's default key (keyfile NULL), or with
 * a minisign secret key file.  With required 0 and no default key,
 * *signer is NULL and nothing is signed.  Load the key before the work,
 * so that a wrong passphrase stops the command before it writes.
 */
struct keys_signer;
int	signer_open(struct cli *, struct store *, const char *keyfile,
	    int required, struct keys_signer **);
/* The store_sign_fn of every revision the command line makes (signer a
 * struct keys_signer): fills sig (text malloc'd; free with
 * signer_sig_free).  Free the signer with keys_signer_free. */
int	signer_sign(void *signer, const struct store_manifest *,
	    struct store_sig *);
void	signer_sig_free(struct store_sig *);
/* A review: a manifest signature whose trusted comment carries the
 * statement as its review= field (gate/gate.h). */
int	signer_sign_review(struct keys_signer *, const struct store_manifest *,
	    const char *statement, struct store_sig *);
/* A signature of a release document, or of a bundle index that carries
 * one, of `version`: what (the untrusted comment) says which (text
 * malloc'd).  The signer's key id is keys_signer_keyid's. */
int	signer_sign_release(struct keys_signer *, const void *msg, size_t len,
	    uint64_t version, const char *what, char **text);

/*
 * Releases (release.c).  release_vs_record: rel (doc, len bytes, by its
 * publisher) against old, the record this store keeps of the highest
 * release taken from that publisher (NULL: none); EXIT_CHECK, with the
 * reason printed naming path, for an older release (a rollback), a same
 * version that differs, or a record that cannot be read.
 * release_record is a store_kvtxn_fn for the commit that takes a release
 * (arg a struct release_rec): the check again, under the write
 * transaction, then the record; refused sets ->refused.
 */
struct keys_release;
struct release_rec {
	const char			*path;
	const struct keys_release	*rel;
	const char			*doc;
	size_t				 len;
	int				 refused;
};
int	release_vs_record(const char *path, const struct keys_release *rel,
	    const char *doc, size_t len, const void *old, size_t oldlen);
int	release_record(void *arg, struct store_kvtxn *);

/* A passphrase from $AIRLOCK_PASSPHRASE_FILE or the terminal, in guarded
 * memory (free with passphrase_free).  confirm asks twice. */
char	*passphrase_get(const char *prompt, int confirm);
void	 passphrase_free(char *);

/* Where the store keeps its own key files: STORE/keys/NAME.{key,pub}. */
int	key_paths(struct store *, const char *name, char *sk, char *pk,
	    size_t size);

#endif
