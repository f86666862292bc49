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
/*
 * An archive given to add: its entries, folders included (a file and a
 * folder for each of BOUND_FILES files), and the bytes its files hold
 * once decompressed, all together.  A few KiB of tar can claim terabytes
 * of sparse or compressed zeros; the largest model repositories hold
 * a few TiB.
 */
#define BOUND_ARCHIVE_ENTRIES	(2 * BOUND_FILES)
#define BOUND_ARCHIVE_BYTES	(8ULL << 40)
/* Folders nested in a directory given to add, the top one not counted. */
#define BOUND_SOURCE_DEPTH	64
/* A model card (README.md) read for its front matter. */
#define BOUND_CARD		(1 << 20)
/* Front matter nesting depth and node count, against YAML bombs. */
#define BOUND_YAML_DEPTH	32
#define BOUND_YAML_NODES	100000
/* A manifest, canonical JSON. */
#define BOUND_MANIFEST		(64 << 20)
/* A minisign signature or key file. */
#define BOUND_SIGFILE		(16 << 10)
/* A pin's, a reflog entry's or a review statement's free text. */
#define BOUND_NOTE		1024
/* The --reason TEXT of a forced add or pull, kept in the reflog's note. */
#define BOUND_REASON		400
/* A pin's name. */
#define BOUND_PIN_NAME		255
/* A key in the store's small tables (LMDB's largest key). */
#define BOUND_TABLE_KEY		511
/* AIRLOCK_MAPSIZE: the address space first mapped for a store. */
#define BOUND_MAPSIZE_MIN	(1ULL << 16)
#define BOUND_MAPSIZE_MAX	(1ULL << 50)

/*
 * airlockd's HTTP server.  Headers and bodies are refused past these
 * sizes by libevent before a handler sees them; the rest are checked by
 * the request parser (daemon/route.c).
 */
#define BOUND_HTTP_HEADERS	(16 << 10)	/* request line and headers */
#define BOUND_HTTP_BODY		(1 << 20)	/* paths-info, chunk lists */
#define BOUND_HTTP_PATH		4096	/* the request path, still encoded */
#define BOUND_HTTP_QUERY	4096	/* the query string, still encoded */
#define BOUND_QUERY_PARAMS	64	/* name=value pairs in a query */
#define BOUND_PATHS_INFO	1000	/* paths in one paths-info request */
#define BOUND_LIST_PAGE		1000	/* repositories in a listing's page */
#define BOUND_LIST_FILTERS	16	/* filter= tags in one listing */
#define BOUND_COMMITS_PAGE	1000	/* commits in a history's page */
#define BOUND_DOWNLOAD_REPOS	65536	/* repositories counted between
					 * two writes of the counts */
#define BOUND_CHUNKS_ASKED	8192	/* hashes in one "which do you lack" */
#define BOUND_HTTP_CONNECTIONS	1024	/* default cap on open connections */
#define BOUND_TOKEN		256	/* a bearer token */
#define BOUND_HOST		255	/* a Host header used in a Link URL */

/*
 * What airlockd holds on its own side, for any client: caches, buffers
 * and pages, sized so that no request can make it hold more.
 */
#define BOUND_CONN_BUCKETS	1024	/* hash buckets of the connections */
#define BOUND_LOOPS		64	/* serving loops (workers), at most */
#define BOUND_READ_THREADS	64	/* store readers, at most */
#define BOUND_SINGLE_WRITE	(1 << 20)	/* bytes a socket write takes */
#define BOUND_STREAM_DEPTH	2	/* read buffers one stream may own */
#define BOUND_STREAM_WINDOW	(8u << 20)	/* bytes sent under one view */
#define BOUND_SEND_BURST	(2 << 20)	/* bytes sent in one writable turn */
#define BOUND_SPLICE_PIPE	(1u << 20)	/* a stream's pipe, bytes */
#define BOUND_PREFETCH_GAP	8192	/* bytes between extents read as one */
#define BOUND_EXTENTS_CACHE	(8u << 20)	/* bytes of cached extents */
#define BOUND_SNAPSHOTS		32	/* parsed revisions kept */
#define BOUND_CHUNKS_PAGE	10000	/* chunks a page of a blob's list */
#define BOUND_LFS_POINTER	256	/* a Git LFS pointer's text */
#define BOUND_STATS_TTL		30	/* seconds /metrics keeps figures */
#define BOUND_ERROR_MESSAGE	512	/* an API error's message, at most */

/*
 * What the mirror takes from an upstream (mirror/upstream.c): a size or a
 * range it names, a URL in a Link or Location, a wait it asks for, a JSON
 * answer it keeps whole (a tree's page, a revision's info).
 */
#define BOUND_UPSTREAM_SIZE	(1ULL << 50)	/* bytes in one file */
#define BOUND_UPSTREAM_URL	8192
#define BOUND_UPSTREAM_WAIT	3600	/* seconds of a Retry-After */
#define BOUND_UPSTREAM_JSON	(64 << 20)
#define BOUND_UPSTREAM_HOPS	10	/* redirects of one request */
#define BOUND_UPSTREAM_HOSTS	16	/* hosts the limiter holds at once */
#define BOUND_GLOBS		64	/* --include or --exclude of a pull */
/* What the mirror takes from an airlockd upstream's /v1/ API (chain.c). */
#define BOUND_CHAIN_META	(1u << 20)	/* index, refs, a page of sigs */
#define BOUND_CHAIN_PAGE	(4u << 20)	/* a page of a blob's chunks */

/* airlockd's mirror jobs: airlockd.conf's [mirror] sections and the
 * jobs it keeps a record of (the oldest ended ones go first). */
#define BOUND_MIRRORS		64	/* [mirror "NAME"] sections */
#define BOUND_MIRROR_NAME	64	/* the NAME of one */
#define BOUND_MIRROR_REPOS	1024	/* repositories one section lists */
#define BOUND_MIRROR_GLOBS	64	/* include or exclude globs of one */
#define BOUND_GLOB		1024	/* one glob */
#define BOUND_JOBS		256	/* job records kept */
#define BOUND_ADMIN_TOKENS	64	/* tokens with the admin role */
#define BOUND_JOB_UPSTREAM	2000	/* a job's upstream URL, admin API */

/* A bundle's index (it lists every chunk), revisions in one bundle, and
 * signatures per revision. */
#define BOUND_BUNDLE_INDEX	(512 << 20)
#define BOUND_BUNDLE_REVS	10000
#define BOUND_BUNDLE_SIGS	64
/* An inventory file. */
#define BOUND_INVENTORY		(1u << 30)

/*
 * Keys, signatures and the keyring (keys/), chosen so that stock minisign
 * reads whatever airlock writes and airlock reads whatever minisign
 * writes.  A store key's name (STORE/keys/NAME.key) is its keyring
 * entry's name.
 */
#define BOUND_COMMENT		1003	/* after "untrusted comment: " */
#define BOUND_TRUSTED_COMMENT	8173	/* after "trusted comment: " */
#define BOUND_PASSPHRASE	1022	/* minisign reads 1024 with "\n\0" */
#define BOUND_SCRYPT_OPSLIMIT	33554432ULL	/* _OPSLIMIT_SENSITIVE */
#define BOUND_SCRYPT_MEMLIMIT	1073741824ULL	/* _MEMLIMIT_SENSITIVE */
#define BOUND_KEY_NAME		127	/* a keyring entry's name */
#define BOUND_KEY_SCOPE		255	/* a keyring entry's scope pattern */
#define BOUND_TRUST_ENTRY	4096	/* a keyring entry, as JSON */
#define BOUND_TRUST_THRESHOLD	100	/* signatures a policy may ask for */
#define BOUND_RELEASE		(16 << 20)	/* a release document */
#define BOUND_RELEASE_REFS	100000	/* refs in one release */
#define BOUND_LOCKFILE		(64u << 20)	/* a deployment lockfile */
#define BOUND_LOCK_MODELS	1000	/* models one lockfile names */

/*
 * Licence and provenance (policy/): the licence table file, the bytes of
 * a card, licence or config file read as evidence, the head of a GGUF
 * file read for its metadata (llama.cpp writes the general.* keys first,
 * before the tokenizer's arrays; a head cut short still gives what it
 * holds), its keys and strings, and the lineage a conclusion walks.
 */
#define BOUND_LICENCE_TABLE	(8 << 20)
#define BOUND_EVIDENCE_FILE	(1 << 20)	/* a card, licence, config */
#define BOUND_EVIDENCE_FILES	32	/* licence and notice files kept */
#define BOUND_GGUF_PREFIX	(2u << 20)	/* read of a .gguf's head */
#define BOUND_GGUF_FILES	2	/* .gguf files of a revision read */
#define BOUND_GGUF_KEYS		65536	/* metadata pairs */
#define BOUND_GGUF_STRING	(1 << 20)	/* a key or a string value */
#define BOUND_GGUF_DEPTH	4	/* arrays of arrays */
#define BOUND_LINEAGE_BASES	64	/* bases one revision names */
#define BOUND_LINEAGE_DEPTH	64	/* generations followed */
#define BOUND_LINEAGE_NODES	1024	/* revisions in one lineage */
/* A review statement's licence (gate/; its note is BOUND_NOTE). */
#define BOUND_REVIEW_LICENCE	255

#endif
