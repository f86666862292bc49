/*
 * policy.h - licence and provenance truth: which licence really governs a
 * model revision (DESIGN.md §10, ../shared/LICENCES.md).
 *
 * Four steps, each its own section below, the last three pure functions
 * over data (no store, no network), so that every rule is testable alone:
 *
 *   1. the licence table (table.c): licences as data, read from a file
 *      (licences.json, installed with airlock), each entry citing its
 *      source;
 *   2. evidence (evidence.c, with gguf.c and recipe.c): what one revision
 *      claims, read from its files: the card's YAML and body, its licence
 *      and notice files (fingerprinted, hashed), adapter_config.json,
 *      config.json, GGUF metadata and mergekit recipes;
 *   3. lineage (lineage.c): the revision and its bases, each base found
 *      through a caller's resolve function (the store's revisions, and
 *      later the upstream's cards fetched as metadata while pulling);
 *   4. the conclusion (conclude.c): declared and concluded licence,
 *      flags and obligations, as JSON;
 *   5. the gate's rules (rules.c): a policy file read, and a conclusion
 *      judged by it.
 *
 * Errors: functions return 0 or an error code: a positive errno value, a
 * store code (store/store.h) or one of the POLICY_E* codes below.
 * policy_strerror() gives the generic text; policy_lasterror() the last
 * failure on the calling thread in words that name the thing and the
 * reason ("licences.json: entry 12 (llama3): no source").  The library
 * never prints, logs or exits.
 *
 * Memory: what a function hands back through a pointer to a pointer is
 * the caller's, freed with the *_free() its section names (json_decref for
 * JSON).  Pointers into a table live as long as the table.
 *
 * Threads: a table is read-only once loaded and may be shared; evidence
 * and lineages belong to one thread at a time.
 */
#ifndef AIRLOCK_POLICY_H
#define AIRLOCK_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define POLICY_EINVAL		(-32001)	/* bad input: table, GGUF, recipe */
#define POLICY_ENOTFOUND	(-32002)	/* no such licence or base */
#define POLICY_ENOTABLE		(-32003)	/* the licence table cannot be read */
#define POLICY_EDENIED		(-32004)	/* the gate refuses a revision */

/* Static text; never NULL. */
const char	*policy_strerror(int);
/* Thread-local, valid until the thread's next policy call. */
const char	*policy_lasterror(void);

/*
 * Normalised licence text and fingerprints (text.c).  The normalised form
 * of a text: it is split into lines at LF; ASCII letters are lower-cased;
 * every byte that is not an ASCII letter or digit (punctuation, white
 * space, any byte of a UTF-8 sequence) separates words; a line whose first
 * word is "copyright" is dropped, so that a filled-in copyright line does
 * not change which licence a file is; the remaining words are joined by
 * one space.  The fingerprint is the sha256 of the normalised form.
 * tests/policy/fingerprint.py is an independent implementation.
 * policy_normalise's *out is malloc'd and NUL-terminated.
 */
#define POLICY_FINGERPRINT_LEN	32
int	policy_normalise(const void *, size_t, char **out, size_t *outlen);
void	policy_fingerprint(const void *, size_t,
	    uint8_t out[POLICY_FINGERPRINT_LEN]);

/*
 * The licence table (table.c).  policy_table_path() is where the table
 * is read from: $AIRLOCK_LICENCES if set, else the installed file
 * (POLICY_LICENCES_FILE, $(pkgdatadir)/licences.json); a static string.
 * policy_table_load reads and checks it (at most BOUND_LICENCE_TABLE
 * bytes); policy_table_parse checks bytes already read.  A table is
 * refused whole (POLICY_EINVAL, naming the entry and the field) when an
 * entry lacks an id, a name or a source URL, when two entries share an id
 * or an alias, or a field has the wrong type.  Missing files are
 * POLICY_ENOTABLE.
 *
 * An entry is a licence as the Hub spells it: the Hub's own ids
 * ("llama3.1", "gemma", "apache-2.0") and "other:NAME" for the rest.
 * Every string lives as the table.
 */
struct policy_table;

struct policy_licence {
	const char	 *id;
	const char	 *name;
	const char	 *source;	/* the URL the entry's facts come from */
	const char	 *spdx;		/* or NULL */
	const char	 *notice;	/* the Notice sentence it requires, or NULL */
	const char	 *built_with;	/* "Built with Llama", or NULL */
	const char	 *name_prefix;	/* a derived model's name starts so */
	const char	 *use_policy;	/* URL, or NULL */
	const char	 *outputs;	/* what it says of outputs, or NULL */
	const char	 *note;		/* ambiguities and caveats, or NULL */
	uint64_t	  user_threshold;	/* monthly active users; 0: none */
	int		  hub;		/* an id of the Hub's list */
	int		  flows_down;	/* binds derivatives */
	int		  licence_copy;	/* recipients must get a copy */
	int		  non_commercial;
	int		  eu_multimodal;	/* no rights to multimodal models
					 * for people and companies in the EU */
	const char *const *licensors;	/* organisations whose own repos it
					 * does not bind */
	size_t		  nlicensors;
	const char *const *titles;	/* normalised titles that name it */
	size_t		  ntitles;
};

const char	*policy_table_path(void);
int		 policy_table_load(const char *path, struct policy_table **);
int		 policy_table_parse(const void *, size_t, struct policy_table **);
void		 policy_table_free(struct policy_table *);
size_t		 policy_table_count(const struct policy_table *);
const struct policy_licence *policy_table_entry(const struct policy_table *,
		    size_t);
/* By id or alias, compared without case and with ' ' and '_' as '-';
 * "other:NAME" is looked up as NAME too.  NULL if none. */
const struct policy_licence *policy_licence_find(const struct policy_table *,
		    const char *name);
/* By a license_link: scheme, "www." and a trailing '/' do not count. */
const struct policy_licence *policy_licence_by_link(
		    const struct policy_table *, const char *url);
/* By the fingerprint of a licence file's text. */
const struct policy_licence *policy_licence_by_text(
		    const struct policy_table *, const void *, size_t);
/* Predicate: repo's organisation is one of l's licensors (whose own
 * repositories its duties do not bind). */
int		 policy_licensor(const struct policy_licence *,
		    const char *repo);

/*
 * GGUF metadata (gguf.c): the general.* keys of a GGUF file's header
 * (version 2 or 3) as a JSON object of strings and numbers; other keys
 * and every array are skipped.  buf may be the file's first bytes only
 * (BOUND_GGUF_PREFIX): a header cut short gives what was read, with
 * "truncated": true.  POLICY_EINVAL, naming the offset, for bytes that
 * are not GGUF or pass BOUND_GGUF_*.  *out is the caller's.
 */
int	policy_gguf_read(const void *buf, size_t len, json_t **out);

/*
 * mergekit recipes (recipe.c): the models a mergekit_config.yml merges,
 * as a JSON array of repository ids (every "model" and "base_model"
 * string, "A+B" LoRA suffixes split off, duplicates dropped), at most
 * BOUND_LINEAGE_BASES.  POLICY_EINVAL for YAML that does not parse or a
 * recipe of several documents.  *out is the caller's.
 */
int	policy_recipe_read(const void *buf, size_t len, json_t **out);

/*
 * Evidence (evidence.c): what one revision claims.  policy_evidence_file
 * is given every file of the revision in any order: path, size, sha256,
 * and its bytes when policy_evidence_wants asked for them (else buf NULL,
 * len 0).  The kind of file is known by its path: README.md (the card),
 * top-level LICENSE*, LICENCE*, COPYING*, NOTICE* (licence and notice
 * files: fingerprinted, their hashes recorded), adapter_config.json,
 * config.json, *.gguf (its first bytes), mergekit_config.yml; other names
 * only tell the relation (adapter_model.*, GPTQ/AWQ/EXL2 names).  A file
 * that does not parse is a note in the evidence, not an error: the rest
 * still counts.  Errors are ENOMEM only.
 *
 * policy_evidence_history adds what another revision of the same repo
 * declared (its manifest claims or card: license, license_name,
 * license_link), for the licence-changed flag.
 */
struct policy_evidence;

int	policy_evidence_new(const struct policy_table *, const char *repo,
	    const char *commit, struct policy_evidence **);
void	policy_evidence_free(struct policy_evidence *);
/* How many of a file's bytes to give: 0 for none. */
size_t	policy_evidence_wants(const char *path, uint64_t size);
int	policy_evidence_file(struct policy_evidence *, const char *path,
	    uint64_t size, const uint8_t sha256[32], const void *buf,
	    size_t len);
int	policy_evidence_history(struct policy_evidence *, const char *revision,
	    json_t *claims);
/* What was read, as JSON (a new reference). */
json_t	*policy_evidence_json(const struct policy_evidence *);
/* The bases it names, as a JSON array of {"repo","source"}, borrowed. */
json_t	*policy_evidence_bases(const struct policy_evidence *);

/*
 * Lineage (lineage.c): the revision and its ancestors.  resolve is asked
 * for each base the evidence names (once per repository): it answers 0
 * with the base's evidence in *out (which the lineage then owns),
 * POLICY_ENOTFOUND for a base that is neither held nor reachable (the
 * chain ends there: "unknown beyond ORG/NAME"), or an error, which stops
 * the build and is returned.  This is the hook for lineage through an
 * upstream: a resolve function that fetches a base's card and licence
 * files as metadata (mirror/) gives conclusions inside the air gap.
 * Depth and size are bounded (BOUND_LINEAGE_DEPTH, BOUND_LINEAGE_NODES);
 * a cycle ends at the repository seen again.  root is taken, even on
 * failure.
 */
/* repo lives until resolve returns. */
typedef int (*policy_resolve_fn)(void *arg, const char *repo,
	    struct policy_evidence **out);
struct policy_lineage;

int	policy_lineage_build(const struct policy_table *,
	    struct policy_evidence *root, policy_resolve_fn, void *arg,
	    struct policy_lineage **);
void	policy_lineage_free(struct policy_lineage *);

/*
 * The conclusion (conclude.c), as the JSON of `airlock licence --json`
 * (DESIGN.md §7):
 *   {"repo","commit","declared","declared_source","concluded",
 *    "unknown_beyond":[...],
 *    "chain":[{"repo","commit","declared","relation","source","depth",
 *              "base_of","held"}...],
 *    "flags":[{"flag","detail","licence","ancestor"}...],
 *    "obligations":[{"obligation","licence","text"}...],
 *    "notes":[...]}
 * declared is the revision's own terms ("A AND B" for several, null for
 * none) and declared_source where they were read: "card", "gguf"
 * (general.license) or "licence-file" (a fingerprint);
 * concluded the terms that govern: its own and every ancestor's that
 * flows down ("unknown beyond ORG/NAME" for a base not held).  Flag names
 * are POLICY_FLAG_* below.  *out is the caller's.
 */
#define POLICY_FLAG_DIFFERS	"declared-differs"
#define POLICY_FLAG_MISSING	"licence-missing"
#define POLICY_FLAG_UNNAMED	"other-unnamed"
#define POLICY_FLAG_UNKNOWN	"unknown-licence"
#define POLICY_FLAG_NAMING	"naming-rule"
#define POLICY_FLAG_MERGE	"incompatible-merge"
#define POLICY_FLAG_CHANGED	"licence-changed"
#define POLICY_FLAG_NOFILE	"licence-file-absent"
#define POLICY_FLAG_NONOTICE	"notice-absent"
#define POLICY_FLAG_ANCESTOR	"ancestor-unknown"
int	policy_conclude(const struct policy_table *,
	    const struct policy_lineage *, json_t **out);
/* Predicate: name is one of the POLICY_FLAG_* names. */
int	policy_flag_valid(const char *name);

/*
 * The gate's rules (rules.c).  A policy file is YAML or JSON (JSON read
 * as YAML's flow style), a mapping of at most these keys, any other
 * refused:
 *   allow: [ID...]            concluded terms that may pass (absent: any)
 *   deny: [ID...]             a concluded term listed refuses
 *   refuse_flags: [FLAG...]   a flag listed refuses
 *   min_signatures: N         trusted signatures a revision needs
 *   allow_unknown_lineage: B  whether "unknown beyond X" may pass
 *                             (default true)
 * Ids are checked against the table and kept as it spells them
 * ("Apache 2.0" is apache-2.0); "other:NAME" names one it lacks.
 * POLICY_EINVAL names the key and the value.  policy_rules_json is the
 * canonical form (borrowed; lives as the rules), to store and show.
 *
 * policy_gate judges a conclusion (policy_conclude's JSON) and the count
 * of trusted signatures: 0 to let it pass, POLICY_EDENIED with the
 * reason in reason (always written, "allowed" when it passes).  Flags are
 * judged first, then signatures, then each concluded term.
 */
struct policy_rules;
int	policy_rules_parse(const struct policy_table *, const void *, size_t,
	    struct policy_rules **);
void	policy_rules_free(struct policy_rules *);
json_t	*policy_rules_json(const struct policy_rules *);
int	policy_gate(const struct policy_rules *, json_t *conclusion,
	    unsigned signatures, char *reason, size_t size);

/*
 * Over the store (stored.c; the one part that reads a store): the
 * conclusion of a stored revision as policy_conclude's JSON, with its
 * licence files ("licence_files") and the datasets its card claims
 * ("datasets": [{"repo","held","licence"}], licence what the held
 * dataset's card declares).  Each base is the main branch of the model
 * with that id, else its metadata-only revision (the ref
 * POLICY_METADATA_REF: a base's card, licence and config files with no
 * weights, kept by a pull so that a conclusion is possible inside the
 * air gap); else fetch, when not NULL, is asked to bring one (0, then the
 * store is looked at again; POLICY_ENOTFOUND: neither held nor reachable;
 * another code stops).  The repo's other revisions are its history.
 *
 * policy_store_conclude_files concludes files not stored yet (add, pull
 * before weights, import before writing), of the model repo at commit
 * (or NULL): the same JSON without "datasets"; the model's stored
 * revisions of other commits are its history.  With
 * POLICY_STORE_MAIN_ONLY a base is only the main branch of a model the
 * store holds.  The files and their bytes are the caller's and live
 * until it returns; *out is the caller's.
 */
#define POLICY_METADATA_REF	"metadata-only"
struct store;
struct store_manifest;
/* type and repo live until fetch returns. */
typedef int (*policy_fetch_fn)(void *arg, const char *type, const char *repo);
int	policy_store_conclude(struct store *, const struct policy_table *,
	    const struct store_manifest *, policy_fetch_fn, void *,
	    json_t **out);

/* A file of a revision not stored yet: its bytes as far as
 * policy_evidence_wants() asks (buf NULL: not read). */
struct policy_input_file {
	const char	*path;
	uint64_t	 size;
	const uint8_t	*sha256;	/* or NULL */
	const void	*buf;
	size_t		 len;
};
#define POLICY_STORE_MAIN_ONLY	0x1	/* no metadata-only base */
int	policy_store_conclude_files(struct store *,
	    const struct policy_table *, const char *repo, const char *commit,
	    const struct policy_input_file *, size_t nfiles, int flags, json_t **out);

#endif
