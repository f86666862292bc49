/*
 * names.h - the rules for the names airlock takes from outside, in one
 * place for the store (store/names.c) and the keys (keys/release.c), so
 * that what one part writes the other reads.  Each is a predicate: 1 if
 * the string follows the rule, 0 if not (NULL included).
 */
#ifndef AIRLOCK_NAMES_H
#define AIRLOCK_NAMES_H

#include <stddef.h>

/* Repository types, and the prefix a dataset's qualified id has. */
#define NAME_DATASETS_PREFIX	"datasets/"
/* The prefix a model's id may carry where the Hub's URLs accept one. */
#define NAME_MODELS_PREFIX	"models/"

/* "model" or "dataset". */
int	name_type_valid(const char *type);
/* NAME or ORG/NAME, each part ^[A-Za-z0-9][A-Za-z0-9._-]*$ without "..",
 * at most BOUND_REPO_PART bytes (DESIGN.md, names). */
int	name_repo_valid(const char *repo);
/*
 * A branch, tag or commit name, git's ref rules loosely: at most
 * BOUND_REVISION bytes, printable, no spaces or ~^:?*[\, no "..", "//" or
 * "@{", not starting with '-' or '/', not ending with '/' or '.'.
 */
int	name_revision_valid(const char *rev);
/* Exactly n lower-case hex digits and nothing after them. */
int	hex_valid(const char *s, size_t n);

/*
 * A repository as a release names it (FORMATS.md, "Release"): the Hub's
 * convention, ORG/NAME for a model and "datasets/ORG/NAME" for a dataset.
 * name_qualify writes it into buf (size bytes) and returns its length, or
 * 0 when type or repo is not valid or it does not fit; name_qualified_valid
 * says whether s is one.
 */
size_t	name_qualify(char *buf, size_t size, const char *type,
	    const char *repo);
int	name_qualified_valid(const char *s);

#endif
