/*
 * internal.h - what policy/'s files share and nothing outside sees.
 */
#ifndef AIRLOCK_POLICY_INTERNAL_H
#define AIRLOCK_POLICY_INTERNAL_H

#include <stdarg.h>

#include "lib/bounds.h"
#include "policy/policy.h"

/* Sets the thread's last error and returns code (error.c). */
int	policy_fail(int code, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * Reads YAML (a recipe, a policy file) with the store's card reader,
 * bounded as cards are: *out is its root mapping.  POLICY_EINVAL, with
 * what names the file and the line counted in the caller's text.
 */
int	policy_yaml_read(const char *what, const void *, size_t, json_t **out);

/* Whether normalised haystack holds normalised needle as whole words. */
int	policy_text_contains(const char *haystack, const char *needle);

/*
 * One licence or notice file of a revision (evidence.c): its path and
 * sha256, the licence its fingerprint names (or NULL) and its normalised
 * text, for the presence checks.
 */
struct policy_file {
	char				*path;
	char				 sha256[65];
	char				 fingerprint[65];	/* hex */
	int				 notice;	/* NOTICE*, not LICENSE* */
	const struct policy_licence	*licence;
	char				*text;		/* normalised */
};

/* A base named by a revision and where the name came from. */
struct policy_base {
	char	*repo;
	char	*source;	/* "card", "adapter_config", "gguf", ... */
};

/*
 * The evidence of one revision, read by evidence.c and judged by
 * conclude.c.  declared holds the licence ids of its own declaration
 * ("other" for an unnamed one, "other:NAME" for a name the table lacks),
 * never "unknown".
 */
struct policy_evidence {
	const struct policy_table	*table;
	char				*repo;
	char				*commit;
	json_t				*card;		/* front matter, or NULL */
	int				 has_card;
	json_t				*declared;	/* array of ids */
	char				*declared_source;
	json_t				*card_licence;	/* as written */
	json_t				*bases;		/* [{"repo","source"}] */
	char				*relation;	/* declared, or NULL */
	char				*relation_source;
	int				 adapter_files;
	int				 quant_files;	/* GGUF, GPTQ, AWQ, EXL2 */
	int				 quant_config;
	int				 eu_disallowed;
	int				 multimodal;
	json_t				*gguf;		/* general.* of the first */
	size_t				 ngguf;
	json_t				*recipe;	/* models, or NULL */
	char				*config_name;	/* _name_or_path */
	char				*adapter_base;
	char				*body_base;
	json_t				*history;	/* [{"revision","declared"}] */
	json_t				*notes;
	struct policy_file		 files[BOUND_EVIDENCE_FILES];
	size_t				 nfiles;
	int				 finished;
};

/*
 * The declared ids of a claims or card object (license, license_name,
 * license_link), with the licence files' fingerprints to name an "other"
 * (files may be NULL): a new array; *unknown is set to 1 for "unknown".
 */
json_t	*policy_declared_of(const struct policy_table *, json_t *claims,
	    const struct policy_file *files, size_t nfiles, int *unknown);
/* Settles the bases and the relation once every file is in. */
void	policy_evidence_finish(struct policy_evidence *);
/* The relation: declared, or inferred from the evidence. */
const char *policy_evidence_relation(const struct policy_evidence *);

/* A node of a lineage: a revision, or a base not held (ev NULL). */
struct policy_node {
	char			*repo;
	struct policy_evidence	*ev;
	struct policy_node	**bases;
	char			**base_sources;
	size_t			 nbases;
	json_t			*terms;		/* memo of conclude.c */
	int			 visiting;
};

struct policy_lineage {
	struct policy_node	*root;
	struct policy_node	**nodes;	/* every node, for freeing */
	size_t			 nnodes;
	int			 truncated;	/* a bound was reached */
};

#endif
