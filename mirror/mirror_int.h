/*
 * mirror_int.h - what the parts of mirror/ share; not installed.
 */
#ifndef AIRLOCK_MIRROR_INT_H
#define AIRLOCK_MIRROR_INT_H

#include <sys/queue.h>

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include <curl/curl.h>

#include "lib/bounds.h"
#include "mirror/mirror.h"

struct event;

/* A host the limiter holds: no new request to it before until
 * (CLOCK_MONOTONIC). */
struct mirror_hold {
	char			*origin;	/* "scheme://host:port"; NULL:
						 * a free slot */
	struct timespec		 until;
};

struct mirror {
	struct event_base	*base;
	struct mirror_opts	 opts;
	CURLM			*multi;
	struct event		*timer;
	struct event		*wake;		/* made active by other threads */
	/*
	 * The limiter of all transfers (MIRROR.md), one per host: an answer
	 * that says a host's window is spent (429, RateLimit r=0) holds
	 * every new request to that host until then, and none to another
	 * (the CDN's, another upstream's).  Under mu.
	 */
	struct event		*hold;
	struct mirror_hold	 holds[BOUND_UPSTREAM_HOSTS];
	pthread_mutex_t		 mu;		/* guards the lists and xfers */
	pthread_cond_t		 cv;
	TAILQ_HEAD(, xfer)	 queue;		/* handed over, not yet added */
	TAILQ_HEAD(, xfer)	 active;	/* in the multi handle */
	pthread_t		 thread;
	int			 threaded;
	int			 stopping;
};

/* The response headers a transfer keeps (the first of each). */
enum {
	XH_LOCATION, XH_COMMIT, XH_LINKED_ETAG, XH_LINKED_SIZE, XH_ETAG,
	XH_LINK, XH_CONTENT_RANGE, XH_ERROR_CODE, XH_ERROR_MESSAGE,
	XH_RETRY_AFTER, XH_RATELIMIT, XH_CONTENT_LENGTH, XH_COUNT
};
extern const char *const xh_names[XH_COUNT];

struct xfer {
	TAILQ_ENTRY(xfer)	 link;
	struct mirror		*m;
	CURL			*easy;
	struct curl_slist	*hdrs;
	char			*url;
	char			*origin;	/* url's, the limiter's key */
	int			 stream;
	int			 started;
	/* Under m->mu from here on. */
	long			 status;
	char			*h[XH_COUNT];
	int			 headers_done;
	int			 done;
	int			 cancel;
	const int		*cancelp;	/* the pull's flag, or NULL */
	int			 toolarge;
	int			 head;		/* only the first body_max bytes */
	int			 cut;		/* a head ended there (aborted) */
	int			 held;		/* its answer set the limiter */
	CURLcode		 result;
	char			 errbuf[CURL_ERROR_SIZE];
	char			*location;	/* CURLINFO_REDIRECT_URL */
	char			*body;		/* metadata or an error's body */
	size_t			 len, cap, body_max;
	char			*ring;		/* a streamed 2xx body */
	size_t			 rsize, rhead, rlen;
	int			 paused, want_unpause;
	uint64_t		 received;
};

/* A pull's cancel flag (mirror_cancel): 1 once set.  mirror_sleep waits
 * ms, less once cancel is set. */
int	mirror_cancelled(const int *cancel);
void	mirror_sleep(struct mirror *, long ms, const int *cancel);

int	mirror_fail(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* As mirror_fail, the last error after the words: "WORDS: LAST". */
int	mirror_failwrap(int code, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

int	xfer_new(struct mirror *, const char *url, const char *token,
	    uint64_t offset, int stream, struct xfer **);
/* Before xfer_start: asks only for the first n bytes (Range: bytes=0-
 * (n - 1)), and keeps no more of the body than them, ending the transfer
 * there (cut) when the answer is longer: an upstream that ignores the
 * Range sends no more than curl has in flight. */
int	xfer_head(struct xfer *, size_t n);
void	xfer_start(struct xfer *);
void	xfer_wait_headers(struct xfer *);
void	xfer_wait(struct xfer *);
size_t	xfer_read(struct xfer *, void *, size_t);
/* Body bytes of the final answer that reached x so far, on the wire:
 * those the reader has not taken (or skips) too. */
uint64_t xfer_received(struct xfer *);
void	xfer_free(struct xfer *);
void	xfer_reset_headers(struct xfer *);
/* No new request to the host of x before ms milliseconds from now (or
 * later). */
void	mirror_hold(struct mirror *, const struct xfer *x, long ms);
/* "scheme://host:port" of url, lower-cased, malloc'd; NULL if it is no
 * URL or out of memory. */
char	*mirror_origin(const char *url);

/*
 * Reading the upstream's answers (upstream.c): pure functions of untrusted
 * bytes, each with a fuzz target.  Those returning int give 0 or a
 * MIRROR_E* code with mirror_lasterror() set (-1 for the header readers,
 * which set nothing).
 */
/* The 40-hex commit ("sha") of a revision's JSON, into commit[41]. */
int	upstream_revision(const char *body, size_t len, char *commit);

/* A file of the tree, as the upstream lists it. */
struct upstream_file {
	char		*path;
	uint64_t	 size;
	uint8_t		 sha1[STORE_SHA1_LEN];	/* git blob id ("oid") */
	uint8_t		 sha256[STORE_HASH_LEN];	/* "lfs.oid", if lfs; or
							 * held's */
	int		 lfs;
	int		 held;		/* not LFS, but the store holds a blob
					 * of this git blob id and size (set
					 * by pull.c) */
};
/* The files of every page read so far; wanted (may be NULL) filters. */
struct upstream_tree {
	struct upstream_file	*v;
	size_t			 n, cap;
	int			(*wanted)(void *, const char *path);
	void			*wanted_arg;
	uint64_t		 max_size;	/* larger files skipped; 0: none */
	uint64_t		 skipped;	/* files wanted said no to */
};
/* Adds one page (a JSON array) of the tree to t. */
int	upstream_tree_page(struct upstream_tree *, const char *, size_t);
/* After the last page: refuses a path listed twice, and orders the files
 * as they are fetched (upstream_rank, then by path). */
int	upstream_tree_finish(struct upstream_tree *);
void	upstream_tree_free(struct upstream_tree *);
/* 0 the model card; 1 a licence or notice at the top, or a config.json,
 * adapter_config.json or mergekit_config.yml of at most
 * BOUND_EVIDENCE_FILE bytes (what the gate reads before weights move); 2
 * the rest. */
int	upstream_rank(const char *path, uint64_t size);
/* 1 for the card and the licence and notice files: fetched whatever
 * --include and --exclude say. */
int	upstream_always(const char *path);

/* The URL of a Link header's rel="next", malloc'd, or NULL. */
char	*upstream_link_next(const char *link);
/* A decimal size (Content-Length, X-Linked-Size), at most
 * BOUND_UPSTREAM_SIZE. */
int	upstream_size(const char *, uint64_t *);
/* "bytes FIRST-LAST/TOTAL", FIRST <= LAST < TOTAL. */
int	upstream_content_range(const char *, uint64_t *first, uint64_t *last,
	    uint64_t *total);
/* An ETag's value without W/ and quotes, lower-cased, into out. */
int	upstream_etag(const char *, char *out, size_t size);
/* Seconds to wait: RateLimit's (0 if nothing is spent), Retry-After's
 * (seconds or a date, against now); -1 when absent or unreadable; at most
 * BOUND_UPSTREAM_WAIT. */
long	upstream_ratelimit(const char *);
long	upstream_retry_after(const char *, time_t now);
/* "CODE: MESSAGE" from X-Error-Code, X-Error-Message or the body's JSON
 * "error", on one line, into out. */
void	upstream_words(const char *code, const char *msg, const char *body,
	    size_t len, char *out, size_t size);

/*
 * chain.c: a pull from an airlockd.  *chained is 0 when the upstream is
 * not one (nothing was done; the Hub's sequence follows).  The parsers
 * take the upstream's bytes; fuzz_chain.c calls them.
 */
int	chain_pull(struct mirror *, struct store *,
	    const struct mirror_pull_spec *, const char *base,
	    struct mirror_pull_result *, int *chained);
int	chain_parse_index(const char *, size_t, int *api);
int	chain_parse_refs(const char *, size_t, const char *type,
	    const char *repo, const char *name, uint8_t digest[32],
	    int *is_commit);
int	chain_parse_sigs(const char *, size_t, char **texts, size_t *lens,
	    size_t max, size_t *n);
struct store_chunkref;
int	chain_parse_chunks(const char *, size_t, uint64_t size, uint64_t *off,
	    struct store_chunkref **, size_t *n, size_t *cap);

#endif
