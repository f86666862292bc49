/*
 * body.h - the JSON and form bodies of airlockd's POST requests, read
 * from untrusted bytes: paths-info (HF API) and /v1/chunks/missing.
 *
 * No I/O and no libevent, so that the fuzz target (tests/fuzz/fuzz_body.c)
 * links this file alone.  On error each returns the HTTP status to answer
 * (400, or 500 when out of memory), with why (NUL-terminated, at most
 * BODY_WHY bytes) saying what is wrong, and gives nothing back.
 */
#ifndef AIRLOCKD_BODY_H
#define AIRLOCKD_BODY_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/bounds.h"

#define BODY_WHY	256

/*
 * A paths-info body: JSON ({"paths": "p" or ["p", ...], "expand": b})
 * when json is nonzero, else a form (paths=p&paths=q&expand=b).  Gives
 * *paths, a new array of at most BOUND_PATHS_INFO strings (not yet
 * validated: a path the revision lacks is left out of the answer), and
 * *expand.
 */
int	body_paths_info(const char *body, size_t len, int json,
	    json_t **paths, int *expand, char *why);

/*
 * A chunks/missing body: {"chunks": ["sha256:hex" or "hex", ...]} or the
 * bare array, of at most BOUND_CHUNKS_ASKED strings that all parse with
 * store_digest_parse.  Gives *list, a new reference to that array, and
 * *hashes (malloc'd, json_array_size(*list) of them, NULL when empty;
 * the caller frees it).
 */
int	body_chunks(const char *body, size_t len, json_t **list,
	    uint8_t (**hashes)[32], char *why);

/*
 * A mirror job for the admin API: {"repo": "ORG/NAME", "type": "model"
 * or "dataset" (default model), "revision": a branch, tag or commit
 * (default main), "upstream": an http(s) URL or null (the default)}; no
 * other member.  Fills in job; upstream[0] is '\0' when not given.
 */
struct body_job {
	char	repo[BOUND_REPO_ID + 1];
	char	type[8];
	char	revision[BOUND_REVISION + 1];
	char	upstream[BOUND_JOB_UPSTREAM + 1];
};
int	body_mirror_job(const char *body, size_t len, struct body_job *job,
	    char *why);
/* 1 if url is http(s)://HOST[...] of printable bytes, no trailing '/'. */
int	body_url_valid(const char *url);

#endif
