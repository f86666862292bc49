/*
 * mirror.h - fetching revisions from an upstream that speaks the Hugging
 * Face Hub's API (the Hub, any HF-compatible server, another airlockd)
 * into the store (MIRROR.md).
 *
 * The engine runs libcurl's multi-socket API on a libevent base that the
 * caller owns: airlockd's loop, or one that `airlock pull` runs on a
 * thread of its own (mirror_thread_start).  mirror_pull() runs on any
 * other thread: it asks the loop for every request and feeds the store's
 * revision pipeline from a bounded buffer that the loop fills, so memory
 * stays bounded whatever the file's size, and nothing goes to a temporary
 * file.  Redirects are followed here, hop by hop, so that the headers of
 * each hop are kept and the token never leaves the upstream's host.
 *
 * Errors: functions return 0 or a MIRROR_E* code (or a store code from
 * the pipeline); mirror_strerror() gives the generic text and
 * mirror_lasterror() the last failure of the calling thread, naming the
 * thing and what the upstream said.  The library never prints.
 */
#ifndef AIRLOCK_MIRROR_H
#define AIRLOCK_MIRROR_H

#include <stddef.h>
#include <stdint.h>

#include "lib/bounds.h"
#include "store/store.h"

#define MIRROR_ENOTFOUND	(-32001)	/* repo, revision or file */
#define MIRROR_EAUTH		(-32002)	/* needs a token, or no such repo */
#define MIRROR_EGATED		(-32003)	/* gated: terms not accepted */
#define MIRROR_EUPSTREAM	(-32004)	/* another answer of the upstream */
#define MIRROR_ENET		(-32005)	/* transfer failed, retries spent */
#define MIRROR_EPROTO		(-32006)	/* an answer we cannot read */
#define MIRROR_ECORRUPT		(-32007)	/* bytes do not match their hash */
#define MIRROR_EINVAL		(-32008)	/* bad argument */
#define MIRROR_ENOMEM		(-32009)
#define MIRROR_EREFUSED		(-32010)	/* a judge refused (it said why) */
#define MIRROR_ECANCELED	(-32011)	/* mirror_cancel() asked */

const char	*mirror_strerror(int);
const char	*mirror_lasterror(void);	/* thread-local */

struct event_base;
struct mirror;

struct mirror_opts {
	int		 transfers;	/* at once; 0: 4 */
	long		 connect_timeout; /* seconds; 0: 30 */
	long		 stall_time;	/* seconds under 1 byte/s; 0: 60 */
	int		 retries;	/* per request; 0: 5, -1: none */
	long		 backoff_ms;	/* first back-off; 0: 1000 */
	size_t		 buffer;	/* bytes between curl and the store;
					 * 0: 4 MiB */
	const char	*user_agent;	/* NULL: "airlock/VERSION" */
};

/*
 * An engine on base.  mirror_new() calls curl_global_init and
 * evthread_use_pthreads; base must have been made after that if it is to
 * be used from other threads, so mirror_base_new() makes one that is.
 */
struct event_base *mirror_base_new(void);
int	mirror_new(struct event_base *, const struct mirror_opts *,
	    struct mirror **);
void	mirror_free(struct mirror *);
/* Runs base's loop on a thread of its own until mirror_thread_stop(). */
int	mirror_thread_start(struct mirror *);
void	mirror_thread_stop(struct mirror *);

/*
 * A chained pull (the upstream is an airlockd, MIRROR.md): what the
 * upstream vouches for, given to the caller's judge once the manifest is
 * in and checked against its digest, before any chunk moves.  The judge
 * sets keep and keyid (the key that made it, read from the signature,
 * not from what the upstream claims) of each signature to keep with the
 * manifest (none is kept otherwise), and may set kv to run in the
 * revision's commit (a release record); a nonzero return stops the pull
 * and is returned as it is.  Everything here lives until the pull
 * returns.
 */
struct mirror_upstream_sig {
	const char	*text;		/* a minisign file, NUL-terminated */
	size_t		 len;
	int		 keep;		/* the judge's */
	uint8_t		 keyid[8];	/* the judge's */
};
struct mirror_chain_vouch {
	const char			*upstream;
	const struct store_manifest	*manifest;
	struct mirror_upstream_sig	*sigs;
	size_t				 nsigs;
	char				*release;	/* NULL: none published */
	size_t				 release_len;
	char				*release_sig;
	size_t				 release_sig_len;
	store_kvtxn_fn			 kv;		/* the judge's */
	void				*kv_arg;
};
typedef int (*mirror_judge_fn)(void *arg, struct mirror_chain_vouch *);

/*
 * The judge of a chained pull by the pulling store's keyring (judge.c),
 * for `airlock pull` and airlockd's mirror jobs alike: spec->judge =
 * mirror_judge, spec->judge_arg = a struct mirror_judge.  Each signature
 * of the upstream that parses is kept, but one by a revoked key; one by
 * a key the keyring trusts must verify over the manifest and name it.
 * The upstream's release, when it publishes one signed by a trusted key
 * of scope "*", must hold (not expired, not older than the highest
 * taken from that key) and is recorded in the revision's commit, with
 * the upstream's publisher: an upstream that stops publishing, or
 * signs with another key, is refused from then on.
 *
 * msg (msgsize bytes, the caller's, living as long as the judge) gets
 * why it refused, naming the upstream, or else what it has to say
 * without refusing ("" when nothing): the library never prints.  Once
 * the pull returned, mirror_judge_refused says whether it refused, at
 * the judging (the pull returned MIRROR_EREFUSED) or in the commit
 * (STORE_ECANCELED: another pull took a higher release meanwhile):
 * MIRROR_JUDGE_CHECK when the upstream failed a check,
 * MIRROR_JUDGE_FAILED when the store could not be read to judge, 0 when
 * it did not refuse.  One judge serves one pull at a time (each starts
 * afresh, msg too); mirror_judge_new's error is MIRROR_ENOMEM.
 */
#define MIRROR_JUDGE_CHECK	1
#define MIRROR_JUDGE_FAILED	2
struct mirror_judge;
int	mirror_judge_new(struct store *, char *msg, size_t msgsize,
	    struct mirror_judge **);
int	mirror_judge(void *judge, struct mirror_chain_vouch *);
int	mirror_judge_refused(const struct mirror_judge *);
void	mirror_judge_free(struct mirror_judge *);

/*
 * The gate of a pull: called once, after the card, licence and notice
 * files and the small files of evidence (config.json,
 * adapter_config.json, mergekit_config.yml; fetched first) and before any
 * other file moves, with those files' bytes (each at most BOUND_CARD),
 * and the head of the first MIRROR_GATE_GGUF .gguf files (by path): their
 * first BOUND_GGUF_PREFIX bytes at most, where the metadata is, fetched
 * by Range (len is less than size; the head is not checked against the
 * file's sha256, which needs all of it).  At most MIRROR_META_FILES in
 * all.  A nonzero return stops the pull before any weight is fetched and
 * is returned as it is.  A chained pull fetches them as blobs and chunks
 * (checked against their sha256) after the judge, before any other chunk,
 * and gives what the upstream vouches for too (v, else NULL).
 * Everything lives until the call returns.
 */
#define MIRROR_GATE_GGUF	BOUND_GGUF_FILES	/* what policy/ reads */
#define MIRROR_META_FILES	(16 + MIRROR_GATE_GGUF)
struct mirror_meta_file {
	const char	*path;
	uint64_t	 size;
	const uint8_t	*sha256;	/* LFS files', or NULL */
	const char	*buf;
	size_t		 len;
};
typedef int (*mirror_gate_fn)(void *arg, const char *commit,
	    const struct mirror_meta_file *, size_t n,
	    const struct mirror_chain_vouch *);

/* Where a pull is, for a progress bar or a job's state. */
struct mirror_status {
	uint64_t	files;		/* in the revision (after the filters) */
	uint64_t	files_done;
	uint64_t	bytes;		/* of those files */
	uint64_t	bytes_done;	/* fetched, held or resumed */
	uint64_t	fetched;	/* body bytes on the wire */
};
/* Called from the tree's listing on, from mirror_pull's thread or the
 * ingest's reading one, never two at once; status lives until it
 * returns. */
typedef void (*mirror_status_fn)(void *arg, const struct mirror_status *);

/* One revision to pull. */
struct mirror_pull_spec {
	const char	*upstream;	/* base URL, e.g. https://huggingface.co */
	const char	*type;		/* "model" or "dataset" */
	const char	*repo;		/* ORG/NAME */
	const char	*revision;	/* branch, tag or commit; NULL: main */
	const char	*ref;		/* the ref it is kept as; NULL:
					 * revision (none for a commit id) */
	const char	*token;		/* bearer token, or NULL */
	const char *const *include;	/* fnmatch globs, NULL-terminated, */
	const char *const *exclude;	/* or NULL */
	uint64_t	 max_file;	/* larger files are left out; 0: none
					 * (the Hub's sequence only) */
	const char	*why;		/* for the reflog */
	store_sign_fn	 sign;		/* as store_revision_spec */
	void		*sign_arg;
	mirror_judge_fn	 judge;		/* a chained pull's; may be NULL */
	mirror_gate_fn	 gate;		/* before weights; may be NULL */
	void		*gate_arg;
	void		*judge_arg;
	store_progress_fn progress;
	void		*progress_arg;
	/*
	 * Not NULL: pull exactly this manifest (a lockfile's) by its commit:
	 * revision is its commit, the upstream's files at that commit must
	 * be exactly its files, and it is committed as it is, with sigs and
	 * no ref but its commit id, so its digest is the one asked for.
	 */
	const struct store_manifest	*exact;
	const struct store_sig		*sigs;
	size_t				 nsigs;
	mirror_status_fn status;	/* may be NULL */
	void		*status_arg;
	int		*cancel;	/* NULL, or the flag mirror_cancel sets */
};

struct mirror_pull_result {
	struct store_manifest	*manifest;	/* caller's: store_manifest_free */
	int			 unchanged;
	int			 chained;	/* from an airlockd's /v1/ */
	uint64_t		 files;
	uint64_t		 bytes;		/* of the files, known once the
						 * tree is listed (progress) */
	uint64_t		 fetched;	/* body bytes on the wire */
	uint64_t		 held;		/* of files the store had already,
						 * not fetched */
	uint64_t		 resumed;	/* of partial files read back
						 * from the store, not fetched */
	uint64_t		 new_chunks;	/* chunks the store lacked */
	uint64_t		 new_bytes;	/* and their bytes */
	uint64_t		 retries;
	uint64_t		 requests;
	const char		*failed;	/* the file it stopped on, or NULL */
	char			 failed_buf[1025];
};

/*
 * Resolves the revision to the upstream's commit, lists every file at that
 * commit (all pages), fetches and checks each (README.md and licence files
 * first) and commits the revision with ref = revision, keeping the
 * upstream's commit id.  A branch whose upstream commit (and filters)
 * are the ones the local ref came from costs one request and changes
 * nothing.  A file whose bytes the store holds (by the tree's sha256, or
 * the git blob id and size of one it stored) is not fetched; one that an
 * earlier pull fetched part of is resumed where the stored part ends
 * (store_ingest_file_known).  From an airlockd (it answers GET /v1/)
 * the pull is chained instead: the manifest, committed as its own bytes
 * with the upstream's signatures, then only the chunks the store lacks,
 * each checked.
 */
int	mirror_pull(struct mirror *, struct store *,
	    const struct mirror_pull_spec *, struct mirror_pull_result *);

/*
 * From any thread: sets *flag and cuts the transfers of the pull whose
 * spec->cancel is flag, which then returns MIRROR_ECANCELED instead of
 * starting another request, without waiting out a back-off.  A pull
 * already committing its revision ends as it would have.
 */
void	mirror_cancel(struct mirror *, int *flag);

#endif
