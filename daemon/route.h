/*
 * route.h - the parts of an HTTP request that airlockd reads from
 * untrusted bytes: the path (routed first, then each segment decoded
 * exactly once), the query string, form bodies and the Range header.
 *
 * Pure functions: no allocation, no I/O, no libevent, so that the fuzz
 * target (tests/fuzz/fuzz_request.c) links this file alone.
 */
#ifndef AIRLOCKD_ROUTE_H
#define AIRLOCKD_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"

enum route_kind {
	ROUTE_UNKNOWN = 0,
	ROUTE_HEALTHZ,		/* /healthz */
	ROUTE_METRICS,		/* /metrics */
	ROUTE_LIST,		/* /api/{models,datasets} */
	ROUTE_WHOAMI,		/* /api/whoami-v2 */
	ROUTE_REPO_INFO,	/* /api/{models,datasets}/REPO[/revision/REV] */
	ROUTE_TREE,		/* /api/.../REPO/tree/REV[/PATH] */
	ROUTE_PATHS_INFO,	/* /api/.../REPO/paths-info/REV */
	ROUTE_REFS,		/* /api/.../REPO/refs */
	ROUTE_COMMITS,		/* /api/.../REPO/commits/REV */
	ROUTE_DISCUSSIONS,	/* /api/.../REPO/discussions */
	ROUTE_RESOLVE,		/* /[datasets/]REPO/resolve/REV/PATH */
	ROUTE_RAW,		/* /[datasets/]REPO/raw/REV/PATH */
	ROUTE_V1_INDEX,		/* /v1/ */
	ROUTE_V1_REFS,		/* /v1/refs[/TYPE/REPO] */
	ROUTE_V1_MANIFEST,	/* /v1/manifests/sha256:HEX */
	ROUTE_V1_SIGNATURES,	/* /v1/signatures/sha256:HEX */
	ROUTE_V1_BLOB,		/* /v1/blobs/sha256:HEX */
	ROUTE_V1_BLOB_CHUNKS,	/* /v1/blobs/sha256:HEX/chunks */
	ROUTE_V1_CHUNK,		/* /v1/chunks/sha256:HEX */
	ROUTE_V1_MISSING,	/* /v1/chunks/missing */
	ROUTE_V1_RELEASE,	/* /v1/release */
	ROUTE_V1_RELEASE_SIG,	/* /v1/release.minisig */
	ROUTE_V1_MIRROR_JOBS,	/* /v1/mirror/jobs */
	ROUTE_V1_MIRROR_JOB,	/* /v1/mirror/jobs/ID */
	ROUTE_NKINDS
};

/* Methods, as a bit mask of what a route accepts. */
#define ROUTE_GET	0x01
#define ROUTE_HEAD	0x02
#define ROUTE_POST	0x04
#define ROUTE_DELETE	0x08

#define ROUTE_READ	(ROUTE_GET | ROUTE_HEAD)

/* What a route needs before its handler runs. */
#define ROUTE_ON_LOOP	0x01	/* answered on the loop, no worker */
#define ROUTE_REPO	0x02	/* a private repository in the path: a token */
#define ROUTE_GAUGES	0x04	/* the loop's gauges, taken as it starts */
#define ROUTE_ADMIN	0x08	/* a token with the admin role */

/*
 * Every route, once: its kind, its metrics label, the methods it takes,
 * the function that answers it on a worker (airlockd.h) and what it
 * needs.  route.c reads the labels and methods; http.c the handlers, so
 * that this file and route.c still link without them.
 */
#define ROUTE_TABLE(R)							\
	R(ROUTE_UNKNOWN, "unknown", 0, NULL, 0)				\
	R(ROUTE_HEALTHZ, "healthz", ROUTE_READ, NULL, ROUTE_ON_LOOP)	\
	R(ROUTE_METRICS, "metrics", ROUTE_READ, metrics_handle,		\
	    ROUTE_GAUGES)						\
	R(ROUTE_LIST, "list", ROUTE_READ, hf_list, 0)			\
	R(ROUTE_WHOAMI, "whoami", ROUTE_READ, hf_whoami, 0)		\
	R(ROUTE_REPO_INFO, "repo_info", ROUTE_READ, hf_repo_info,	\
	    ROUTE_REPO)							\
	R(ROUTE_TREE, "tree", ROUTE_READ, hf_tree, ROUTE_REPO)		\
	R(ROUTE_PATHS_INFO, "paths_info", ROUTE_POST, hf_paths_info,	\
	    ROUTE_REPO)							\
	R(ROUTE_REFS, "refs", ROUTE_READ, hf_refs, ROUTE_REPO)		\
	R(ROUTE_COMMITS, "commits", ROUTE_READ, hf_commits, ROUTE_REPO)	\
	R(ROUTE_DISCUSSIONS, "discussions", ROUTE_READ, hf_discussions,	\
	    ROUTE_REPO)							\
	R(ROUTE_RESOLVE, "resolve", ROUTE_READ, hf_resolve, ROUTE_REPO)	\
	R(ROUTE_RAW, "raw", ROUTE_READ, hf_raw, ROUTE_REPO)		\
	R(ROUTE_V1_INDEX, "v1_index", ROUTE_READ, v1_index, 0)		\
	R(ROUTE_V1_REFS, "v1_refs", ROUTE_READ, v1_refs, ROUTE_REPO)	\
	R(ROUTE_V1_MANIFEST, "v1_manifest", ROUTE_READ, v1_manifest, 0)	\
	R(ROUTE_V1_SIGNATURES, "v1_signatures", ROUTE_READ,		\
	    v1_signatures, 0)						\
	R(ROUTE_V1_BLOB, "v1_blob", ROUTE_READ, v1_blob, 0)		\
	R(ROUTE_V1_BLOB_CHUNKS, "v1_blob_chunks", ROUTE_READ,		\
	    v1_blob_chunks, 0)						\
	R(ROUTE_V1_CHUNK, "v1_chunk", ROUTE_READ, v1_chunk, 0)		\
	R(ROUTE_V1_MISSING, "v1_missing", ROUTE_POST, v1_missing, 0)	\
	R(ROUTE_V1_RELEASE, "v1_release", ROUTE_READ, v1_release, 0)	\
	R(ROUTE_V1_RELEASE_SIG, "v1_release_sig", ROUTE_READ,		\
	    v1_release_sig, 0)						\
	R(ROUTE_V1_MIRROR_JOBS, "v1_mirror_jobs", ROUTE_READ | ROUTE_POST, \
	    v1_jobs, ROUTE_ADMIN)					\
	R(ROUTE_V1_MIRROR_JOB, "v1_mirror_job", ROUTE_READ | ROUTE_DELETE, \
	    v1_job, ROUTE_ADMIN)

struct route {
	enum route_kind	 kind;
	const char	*type;		/* "model", "dataset", or NULL */
	int		 has_rev;	/* rev was in the path */
	int		 has_hash;	/* hash was in the path */
	char		 repo[BOUND_REPO_ID + 1];
	char		 rev[BOUND_REVISION + 1];	/* "" when absent */
	char		 path[BOUND_PATH + 1];		/* "" when absent */
	uint8_t		 hash[32];
	uint64_t	 job;		/* a mirror job's id */
};

/*
 * Splits a request target, origin form ("/p?q") or absolute form
 * ("http://host/p?q"), into its path and query (NULL when there is none);
 * a fragment is dropped.  0, or -1 when it is neither.
 */
int		 route_target(const char *target, const char **path,
		    size_t *plen, const char **query, size_t *qlen);
/*
 * Routes a request path (without the query, still percent-encoded).
 * Returns 0, or the HTTP status to answer (400 malformed, 404 no such
 * route, 414 too long) with *why pointing to a static message.
 */
int		 route_parse(const char *path, size_t len, struct route *,
		    const char **why);
const char	*route_name(enum route_kind);	/* a metrics label */
unsigned	 route_methods(enum route_kind);	/* ROUTE_GET | ... */

/*
 * Revision names: the store's rules (store_revision_valid), or a manifest
 * digest.  Repository ids and paths are checked with store_repo_valid and
 * store_path_valid.
 */
int	route_revision_valid(const char *);

/*
 * Percent-decodes s[0..len) into out (NUL-terminated); with plus, '+' is
 * a space (forms and queries).  Returns the decoded length, or -1 for a
 * bad escape, a NUL byte or no room.
 */
int	route_decode(const char *s, size_t len, char *out, size_t outsize,
	    int plus);

/*
 * Query strings and form bodies: name=value pairs joined by '&'.  fn gets
 * each pair decoded and NUL-terminated, living until fn returns; a
 * nonzero return stops the walk and is returned.  A pair that does not decode makes it return -1.
 */
typedef int (*route_pair_fn)(void *arg, const char *name, const char *value);
int	route_pairs(const char *s, size_t len, route_pair_fn, void *arg);

/* A parsed query string, for the few parameters the API reads. */
struct query {
	size_t	 n;
	char	*name[BOUND_QUERY_PARAMS];
	char	*value[BOUND_QUERY_PARAMS];
	size_t	 used;
	char	 buf[BOUND_HTTP_QUERY + 2 * BOUND_QUERY_PARAMS];
};
/* 0, or -1 for a malformed or too long query. */
int		 query_parse(const char *s, size_t len, struct query *);
const char	*query_get(const struct query *, const char *name);
/* "true", "True", "1", "yes" are true; absent gives dflt. */
int		 query_bool(const struct query *, const char *name, int dflt);
int		 route_bool(const char *);

/*
 * A listing's query (/api/models, /api/datasets): what the clients send,
 * read from a parsed query.  Strings point into the query.  expand is a
 * mask of LIST_F_* (0: none asked, the default fields); values nobody
 * knows are ignored, as the Hub does.  The cursor is what the previous
 * page's Link said: the sort value and the id of its last repository.
 */
enum list_sort {
	LIST_SORT_ID,
	LIST_SORT_MODIFIED,
	LIST_SORT_CREATED,
	LIST_SORT_DOWNLOADS,
	LIST_SORT_LIKES,
};
#define LIST_F_AUTHOR		0x00001
#define LIST_F_CARDDATA		0x00002
#define LIST_F_CREATED		0x00004
#define LIST_F_DISABLED		0x00008
#define LIST_F_DOWNLOADS	0x00010
#define LIST_F_GATED		0x00020
#define LIST_F_MODIFIED		0x00040
#define LIST_F_LIBRARY		0x00080
#define LIST_F_LIKES		0x00100
#define LIST_F_PIPELINE		0x00200
#define LIST_F_PRIVATE		0x00400
#define LIST_F_SHA		0x00800
#define LIST_F_SIBLINGS		0x01000
#define LIST_F_SPACES		0x02000
#define LIST_F_TAGS		0x04000
#define LIST_F_TRENDING		0x08000
#define LIST_F_XET		0x10000
#define LIST_F_MODELID		0x20000
#define LIST_F_USED_STORAGE	0x40000
#define LIST_F_IGNORED		0x80000000u	/* asked, not one we know */
struct list_query {
	const char	*search;
	const char	*author;
	const char	*pipeline_tag;
	const char	*filter[BOUND_LIST_FILTERS];
	size_t		 nfilter;
	enum list_sort	 sort;
	int		 desc;
	size_t		 limit;
	unsigned	 expand;
	int		 full;
	int		 card;
	int		 has_cursor;
	int64_t		 cursor_value;
	char		 cursor_id[BOUND_REPO_ID + 1];
};
/* 0, or -1 with *why naming the parameter and what is wrong with it. */
int	list_query_parse(const struct query *, struct list_query *,
	    const char **why);
/* The cursor of a page that ends with (value, id), into out. */
int	list_cursor(int64_t value, const char *id, char *out, size_t size);
/* A page number and a page size (commits' p and limit): 0 or -1. */
int	page_parse(const struct query *, size_t dflt, size_t max,
	    size_t *page, size_t *limit, const char **why);

/*
 * The Range header, for a representation of size bytes.  Only single
 * byte ranges are served: a=b, a-, -n.
 */
#define RANGE_NONE	0	/* no header, another unit, or several ranges */
#define RANGE_OK	1	/* *first..*last (inclusive) */
#define RANGE_UNSAT	2	/* well formed, but outside the representation */
#define RANGE_INVALID	3	/* a bytes= range that does not parse */
int	range_parse(const char *hdr, uint64_t size, uint64_t *first,
	    uint64_t *last);

/*
 * Headers.  route_host: the Host header itself when it is fit to be
 * echoed in a Link URL (1 to BOUND_HOST letters, digits and ".-:[]_"),
 * else NULL.  route_bearer: the token of "Bearer TOKEN" (the scheme in
 * any case, spaces before the token skipped), a pointer into hdr, or
 * NULL for another scheme, an empty token or one longer than BOUND_TOKEN.
 */
const char	*route_host(const char *hdr);
const char	*route_bearer(const char *hdr);

#endif
