/*
 * Every limit on untrusted input, in one place, so that a reviewer can see
 * what airlock accepts and each reader enforces the same numbers.
 */
#ifndef AIRLOCK_BOUNDS_H
#define AIRLOCK_BOUNDS_H

/* Repository ids: ORG/NAME, each part at most 96 bytes as on the Hub. */
#define BOUND_REPO_PART		96
#define BOUND_REPO_ID		(2 * BOUND_REPO_PART + 1)
/* Revision names: branches, tags, refs/pr/N, commit ids. */
#define BOUND_REVISION		255
/* A file's path inside a repository, and one component of it. */
#define BOUND_PATH		1024
#define BOUND_PATH_COMPONENT	255
/* Files in one revision. */
#define BOUND_FILES		100000
/* A model card (README.md) read for its front matter. */
#define BOUND_CARD		(1 << 20)
/* Front matter nesting depth and node count, against YAML bombs. */
#define BOUND_YAML_DEPTH	32
#define BOUND_YAML_NODES	100000
/* A manifest, canonical JSON. */
#define BOUND_MANIFEST		(64 << 20)
/* A minisign signature or key file. */
#define BOUND_SIGFILE		(16 << 10)
/* A pin's or a reflog entry's free text. */
#define BOUND_NOTE		1024

#endif
