/*
 * airlockd.h - what the daemon's files share.
 *
 * Threads: each of the serving loops (struct loop, one a thread; the
 * first is the main thread's, which also has the signals, the mirror
 * jobs and the writer) owns its evhttp, its listening socket, its
 * connections, streams and buffers, and nothing of another loop's;
 * worker threads (pool.c), shared by the loops, only read the store and
 * build responses into struct request, which a loop hands them and
 * takes back on the same loop.  A struct conf is immutable once loaded
 * and reference counted: each loop holds its own reference, swapped on
 * its own thread after SIGHUP, and a worker reads the one its request
 * holds.
 */
#ifndef AIRLOCKD_H
#define AIRLOCKD_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <pthread.h>

#include <stdarg.h>
#include <stdint.h>
#include <time.h>

#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "lib/bounds.h"
#include "daemon/route.h"
#include "store/store.h"

#define AIRLOCKD_CONF		"/etc/airlock/airlockd.conf"
#define AIRLOCKD_LISTEN		"127.0.0.1:8080"
#define AIRLOCKD_STORE		"/var/lib/airlock"
#define AIRLOCKD_UPSTREAM	"https://huggingface.co"

#define IMMUTABLE		"public, max-age=31536000, immutable"

/* log.c */
void	log_init(int foreground, int verbose);
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/* conf.c: airlockd.conf */
struct private_ns {
	char	 *pn_name;		/* "ORG" or "ORG/NAME" */
	char	**pn_tokens;
	size_t	  pn_ntokens;
	char	**pn_users;		/* [token NAME] sections it admits */
	size_t	  pn_nusers;
};

/* A named token, [token NAME]: who /api/whoami-v2 says it is. */
#define ROLE_READ	0
#define ROLE_WRITE	1
#define ROLE_ADMIN	2	/* reads every private namespace */
struct token_user {
	char	*tu_name;
	char	*tu_token;
	int	 tu_role;
};

struct policy_rules;
/* A [mirror "NAME"] section: repositories to keep mirrored from one
 * upstream.  The lists end with a NULL. */
struct mirror_conf {
	char			*mc_name;
	char			*mc_upstream;	/* NULL until the end: cf's */
	char			*mc_token_file;
	char			*mc_token;	/* its contents, or NULL */
	const char		*mc_type;	/* "model" or "dataset" */
	char			**mc_repos;	/* ORG/NAME[@REV] */
	size_t			 mc_nrepos;
	char			**mc_include;
	size_t			 mc_ninclude;
	char			**mc_exclude;
	size_t			 mc_nexclude;
	int			 mc_interval;	/* seconds; 0: at start and
						 * SIGHUP only */
};

struct conf {
	int			 cf_refs;
	char			*cf_file;	/* NULL: built-in defaults */
	char			*cf_listen;
	char			*cf_store;
	char			*cf_public_url;	/* base of Link URLs, or NULL */
	int			 cf_workers;	/* serving loops; 0: a core each */
	int			 cf_read_threads;	/* 0: as many as loops, >= 2 */
	int			 cf_max_connections;
	int			 cf_max_header_size;
	int			 cf_max_body_size;
	int			 cf_timeout;	/* seconds a connection may idle */
	int			 cf_drain_timeout;
	int			 cf_tree_page_size;
	size_t			 cf_buffer_size;	/* bytes per disk read */
	int			 cf_buffers;	/* read buffers in all */
	int			 cf_stall_timeout;	/* seconds, under pressure */
	size_t			 cf_map_budget;	/* bytes of the store mapped */
	int			 cf_sendfile;	/* send from the data file */
	int			 cf_splice;	/* through a pipe, with sendfile */
	int			 cf_windows;	/* views held by senders */
	struct private_ns	*cf_private;
	size_t			 cf_nprivate;
	json_t			*cf_policy_doc;	/* [policy], as a policy file */
	int			 cf_policy_line;
	struct policy_rules	*cf_policy;	/* or NULL: the store's */
	/* Mirroring: the upstream and token of jobs the admin API queues
	 * without one, the key that signs what is mirrored, the tokens of
	 * the admin role, and the [mirror] sections. */
	char			*cf_upstream;
	char			*cf_token_file;
	char			*cf_token;
	char			*cf_signing_key;	/* a file, or NULL */
	char			**cf_admin_tokens;
	size_t			 cf_nadmin;
	struct mirror_conf	*cf_mirrors;
	size_t			 cf_nmirrors;
	struct token_user	*cf_users;
	size_t			 cf_nusers;
	int			 cf_downloads_flush;	/* seconds; 0: off */
};

/* Called once per problem with "FILE:LINE: what is wrong". */
typedef void (*conf_err_fn)(const char *);
struct conf	*conf_defaults(void);
/* NULL with errors reported; a missing file is an error only if must_exist. */
struct conf	*conf_load(const char *file, int must_exist, conf_err_fn);
struct conf	*conf_ref(struct conf *);
void		 conf_unref(struct conf *);
/* 1 if the repository is private (a token is needed to read it). */
int		 conf_private(const struct conf *, const char *repo);
/* 1 if token may read repo (always for public repositories). */
int		 conf_may_read(const struct conf *, const char *repo,
		    const char *token);
/* 1 if token has the admin role. */
int		 conf_is_admin(const struct conf *, const char *token);
/* 1 if the daemon writes the store: a mirror, or the admin API. */
int		 conf_writes(const struct conf *);
/* The token for jobs from upstream: the global token-file's for the
 * global upstream, else the first [mirror] of that upstream's, or NULL. */
const char	*conf_token_for(const struct conf *, const char *upstream);
/* ORG/NAME[@REV] into repo and rev (rev "main" when absent); 0 or -1. */
int		 conf_repo_rev(const char *spec, char *repo, size_t,
		    char *rev, size_t);
/*
 * Who a token is: its [token NAME] section, or NULL.  A token that only
 * [private] sections list is known too: *known is 1 for either.
 */
const struct token_user *conf_token(const struct conf *, const char *token,
		    int *known);
/* 1 if the token may read the private namespace section ns. */
int		 conf_may_read_ns(const struct conf *, const char *ns,
		    const char *token);
/* "read", "write" or "admin". */
const char	*conf_role_name(int role);
/* "auto" (0) or 1 to BOUND_LOOPS into *n; 0, or -1 if it is neither. */
int		 conf_parse_workers(const char *, int *n);
/* The loops and read threads to run: the configured, or the defaults. */
int		 conf_loops(const struct conf *);
int		 conf_read_threads(const struct conf *);

/*
 * pool.c: worker threads for store reads, and the read buffers.  A task
 * is what a request or a stream hands a worker: tk_run runs there,
 * tk_done on the loop afterwards.
 */
struct loop;
struct task {
	TAILQ_ENTRY(task)	  tk_entry;
	struct loop		 *tk_loop;	/* where tk_done runs (pool) */
	void			(*tk_run)(struct task *);
	void			(*tk_done)(struct task *);
};
TAILQ_HEAD(taskq, task);
int	pool_start(int threads);
int	pool_attach(struct loop *);	/* before the loop submits */
void	pool_submit(struct task *);	/* tk_loop set */
void	pool_stop(void);	/* runs what is queued, then joins */
void	pool_detach(struct loop *);	/* after pool_stop: runs what is done */
size_t	pool_queued(void);

struct buf {
	struct buf	*b_next;
	struct bufs	*b_pool;
	void		*b_owner;	/* the stream it was read for */
	size_t		 b_size;
	size_t		 b_len;
	uint8_t		*b_data;
};
/* A loop's read buffers: its share of read-buffers. */
struct bufs {
	struct buf	*bs_free;
	size_t		 bs_size;
	int		 bs_max;
	int		 bs_made;
	int		 bs_out;	/* read by /metrics on a worker */
};
void		 buf_init(struct bufs *, size_t size, int count);
struct buf	*buf_get(struct bufs *);	/* its loop only; NULL when
						 * all are out */
void		 buf_put(struct buf *);	/* its loop only */
int		 buf_out(struct bufs *);	/* any thread */
void		 buf_cleanup(struct bufs *);
/* The store's mapping, whose pages readers touched, dropped now and then. */
int		 pool_map_init(struct store *, size_t budget);
void		 pool_map_budget(size_t budget);
/* After a read: drops the mapping when it is over budget. */
void		 pool_trim_map(void);

/* http.c */
struct request {
	struct server		*r_srv;
	struct loop		*r_loop;	/* the one it came in on */
	struct conf		*r_conf;	/* held until the request is freed */
	struct evhttp_request	*r_ev;		/* loop only; NULL once answered */
	struct conn		*r_conn;
	unsigned		 r_method;	/* ROUTE_GET, ROUTE_HEAD, ROUTE_POST */
	int			 r_head;
	struct route		 r_route;
	struct query		 r_query;
	char			*r_range;
	char			*r_token;
	char			*r_ctype;
	char			*r_body;
	size_t			 r_bodylen;
	char			*r_base;	/* scheme://host[:port] */
	char			*r_target;	/* for the log */
	struct timespec		 r_start;
	struct task		 r_task;
	int64_t			 r_gauge[6];	/* for /metrics, taken on the loop */

	/* The response, built on a worker. */
	int			 r_status;
	struct evkeyvalq	 r_headers;
	struct evbuffer		*r_out;
	/* A blob range to stream after the headers. */
	int			 r_stream;
	uint8_t			 r_blob[STORE_HASH_LEN];
	uint64_t		 r_first;
	uint64_t		 r_len;
};

/*
 * Counters a loop alone writes and /metrics reads from a worker: bumped
 * atomically, read atomically.
 */
#define LOOP_ADD(field, n)	__atomic_add_fetch(&(field), (n), \
				    __ATOMIC_RELAXED)
#define LOOP_GET(field)		__atomic_load_n(&(field), __ATOMIC_RELAXED)

struct conn;
struct stream;
TAILQ_HEAD(stream_list, stream);

/*
 * One serving loop.  Everything here but l_mtx's fields and the counters
 * (LOOP_GET) belongs to the loop's own thread.
 */
struct loop {
	struct server			*l_srv;
	int				 l_id;		/* 0: the main thread's */
	struct event_base		*l_base;
	struct evhttp			*l_http;
	struct evhttp_bound_socket	*l_bound;
	/* http.c: connections are taken in turn (take_turn()). */
	struct event			*l_turn_ev;	/* another took one */
	int				 l_turn_off;	/* not accepting */
	uint64_t			 l_accepted;	/* atomic */
	int				 l_accepting;	/* atomic: not drained */
	struct conf			*l_conf;	/* this loop's reference */
	pthread_t			 l_thread;	/* l_id > 0 */
	int				 l_started;
	/* Another thread's word to this loop, under l_mtx. */
	pthread_mutex_t			 l_mtx;
	struct conf			*l_conf_next;	/* SIGHUP's */
	unsigned			 l_conf_reload;	/* its srv_reload */
	struct event			*l_hup_ev;
	struct event			*l_term_ev;
	int				 l_draining;
	int				 l_drained;	/* counted off srv_serving */
	struct event			*l_drain_ev;
	/* Counters (LOOP_ADD). */
	int				 l_nconns;
	int				 l_nrequests;	/* being answered */
	int				 l_nstreams;
	int				 l_nflushing;	/* answers being sent */
	int				 l_nwindows;	/* being filled or sent */
	int				 l_npipes;	/* streams' (stream.c) */
	uint64_t			 l_request_ids;
	struct conn			*l_conns[BOUND_CONN_BUCKETS];
	/* pool.c: tasks done, back from the workers (pool's lock). */
	struct taskq			 l_done;
	struct event			*l_done_ev;
	struct bufs			 l_bufs;
	/* stream.c */
	struct stream_list		 l_streams;
	struct stream_list		 l_waiters;
	struct event			*l_stall_ev;	/* pending while streams
							 * wait */
};

struct server {
	struct event_base		*srv_base;	/* the main thread's */
	struct loop			**srv_loops;
	int				 srv_nloops;
	struct store			*srv_store;
	struct conf			*srv_conf;	/* the main thread's */
	const char			*srv_conf_file;
	int				 srv_conf_must_exist;
	const char			*srv_listen_opt;	/* --listen */
	const char			*srv_store_opt;	/* --store */
	const char			*srv_workers_opt;	/* --workers */
	char				 srv_addr[128];	/* bound, "ip:port" */
	struct sockaddr_storage		 srv_ss;	/* the same */
	socklen_t			 srv_sslen;
	evutil_socket_t			 srv_listen_fd;	/* every loop's */
	int				 srv_draining;	/* the main thread's */
	int				 srv_nconns;	/* of all loops, atomic */
	int				 srv_serving;	/* loops not drained,
							 * atomic */
	int				 srv_applying;	/* loops yet to take a
							 * reload, atomic */
	unsigned			 srv_reload;	/* its number, atomic */
	struct timespec			 srv_started;
};

int	http_start(struct loop *);
void	http_apply_limits(struct loop *);
void	http_drain(struct loop *);
void	http_stop(struct loop *);
void	http_request_done(struct loop *);
/* The loop has nothing left to send, or its drain timed out: it stops,
 * and the main thread's loop when it was the last.  Any loop's thread. */
void	loop_drained(struct loop *);
void	http_gauges(struct server *, int64_t g[6]);	/* any thread */
void	conn_set_stream(struct conn *, struct stream *);
void	conn_unset_stream(struct conn *, struct stream *);
void	conn_track_flush(struct conn *, struct evhttp_request *);

/* response.c: building a response, on any thread, into the request. */
void	resp_header(struct request *, const char *, const char *);
void	resp_json(struct request *, int status, json_t *);	/* steals */
void	resp_text(struct request *, int status, const char *type,
	    const void *, size_t);
/* The API's errors: see the table in response.c. */
enum api_error {
	API_OK = 0,
	API_BAD_REQUEST,
	API_REPO_HIDDEN,	/* private, and no token for it: 401 */
	API_UNAUTHORIZED,	/* whoami: no token, or one not configured */
	API_NOT_FOUND,		/* a hash the store lacks */
	API_REPO_NOT_FOUND,
	API_REVISION_NOT_FOUND,
	API_ENTRY_NOT_FOUND,
	API_RELEASE_NOT_FOUND,
	API_ENDPOINT_NOT_FOUND,
	API_METHOD_NOT_ALLOWED,
	API_URI_TOO_LONG,
	API_RANGE_NOT_SATISFIABLE,
	API_INTERNAL,
	API_NOMEM,
	API_STORE,
	API_UNAVAILABLE,
	API_POLICY_DENIED,	/* the gate refuses the revision: 403 */
	API_ADMIN_UNAUTHORIZED,	/* the admin API without a token */
	API_FORBIDDEN,		/* with a token that is not an admin's */
	API_JOB_NOT_FOUND,
	API_JOB_ENDED,
	API_TOO_MANY_JOBS,
	API_READ_ONLY,		/* mirroring is not on: the store is read-only */
	API_STORE_AGAIN,	/* the store is mapped again: 503, retry */
	API_NERRORS
};
struct api_error_def {
	int		 status;
	const char	*code;		/* X-Error-Code */
	const char	*fmt;		/* the message, at most two "%s" */
};
const struct api_error_def *api_error(enum api_error);
void	api_message(enum api_error, const char *, const char *, char *,
	    size_t);
/* Answers the error, with its message's details a and b (or NULL). */
void	resp_fail(struct request *, enum api_error, const char *a,
	    const char *b);
/* Sets ETag, Accept-Ranges, Content-Length, Content-Range and r_stream. */
void	resp_blob(struct request *, const uint8_t sha[STORE_HASH_LEN],
	    uint64_t size, const char *etag);

/* extents.c: where the blobs being served lie in the data file. */
struct extents {
	TAILQ_ENTRY(extents)	 ex_entry;
	uint8_t			 ex_sha[STORE_HASH_LEN];
	uint64_t		 ex_generation;
	struct store_extent	*ex_ext;
	size_t			 ex_n;
	unsigned		 ex_refs;
	int			 ex_linked;
};
TAILQ_HEAD(extents_lru, extents);
/* NULL with store_lasterror() set; any thread. */
struct extents	*extents_get(struct store_view *,
		    const uint8_t sha[STORE_HASH_LEN]);
void		 extents_put(struct extents *);
/* The index of the extent that holds byte off (ex_n > 0). */
size_t		 extents_find(const struct extents *, uint64_t off);
void		 extents_cache_free(void);

/* stream.c: a blob's bytes, read off the loop and sent with flow control. */
int	stream_init(struct loop *);
void	stream_cleanup(struct loop *);
int	stream_start(struct request *);
void	stream_gone(struct stream *);
void	stream_kick_waiters(struct loop *);
void	stream_abandon_all(struct loop *);

/* revision.c: resolving revisions, with a cache of parsed manifests. */
struct snapdir {
	char		*sd_path;
	uint8_t		 sd_sha1[STORE_SHA1_LEN];
};

struct snapentry {
	const char		*se_path;
	int			 se_dir;
	size_t			 se_index;	/* into files or dirs */
};

/* What tree and paths-info read: git's view of the revision. */
struct snaptree {
	struct snapdir		*tr_dirs;	/* sorted by path */
	size_t			 tr_ndirs;
	struct snapentry	*tr_entries;	/* git's recursive order */
	size_t			 tr_nentries;
	uint8_t			 tr_root[STORE_SHA1_LEN];
};

struct snapshot {
	uint8_t			 sn_digest[STORE_HASH_LEN];
	struct store_manifest	*sn_m;
	struct snaptree		*sn_tree;	/* NULL until asked for */
	json_t			*sn_card;	/* front matter, or NULL */
	int			 sn_card_done;
	unsigned		 sn_refs;
	uint64_t		 sn_used;
};

enum api_error	snapshot_resolve(struct store *, const char *type,
		    const char *repo, const char *rev, struct snapshot **);
void	snapshot_put(struct snapshot *);
json_t	*snapshot_card(struct store *, struct snapshot *);
const struct snaptree *snapshot_tree(struct snapshot *);
const struct snapdir *snaptree_dir(const struct snaptree *, const char *);
void	snapshot_cache_free(void);
/* "2026-11-23T12:00:00.000Z" from the manifest's RFC 3339 time. */
void	snapshot_time(const struct snapshot *, char out[32]);
int	revision_immutable(const char *rev);

/*
 * Handlers, run on a worker, one a route (ROUTE_TABLE in route.h).
 * hf_api.c: the Hub's API.
 */
void	hf_repo_info(struct request *);
/* The "airlock" object of repo info (licence.c): declared, concluded,
 * flags, reviews; NULL when it cannot be concluded.  A new reference. */
json_t	*licence_info(struct store *, const struct store_manifest *);
int	 licence_conflict(json_t *);
void	hf_tree(struct request *);
void	hf_paths_info(struct request *);
void	hf_refs(struct request *);
void	hf_discussions(struct request *);
void	hf_resolve(struct request *);
void	hf_raw(struct request *);
void	hf_commits(struct request *);
void	hf_whoami(struct request *);
/* hf_list.c: the listings, and one entry of them (repository info's
 * figures come from the same index record). */
void	hf_list(struct request *);
json_t	*hf_repo_entry(struct request *, const struct store_repo *,
	    unsigned fields);
/* hf_common.c: what the Hub's answers share.  A repository's _id: 24
 * hex digits, as the Hub's object ids, stable; and
 * "2026-11-23T12:00:00.000Z" from milliseconds since 1970. */
void	hf_object_id(const char *type, const char *repo, char out[25]);
void	hf_time_ms(int64_t ms, char out[32]);
/* downloads.c: counted in memory, written to the store in batches. */
int	downloads_start(struct event_base *, struct store *, int seconds);
void	downloads_count(const char *type, const char *repo, const char *path);
void	downloads_stop(void);	/* writes what is counted; pool stopped */
/* native_api.c: airlock's own, under /v1/. */
void	v1_index(struct request *);
void	v1_refs(struct request *);
void	v1_manifest(struct request *);
void	v1_signatures(struct request *);
void	v1_blob(struct request *);
void	v1_blob_chunks(struct request *);
void	v1_chunk(struct request *);
void	v1_missing(struct request *);
void	v1_release(struct request *);
void	v1_release_sig(struct request *);
/* jobs.c: mirror jobs and the admin API, under /v1/mirror/. */
void	v1_jobs(struct request *);
void	v1_job(struct request *);
/* metrics.c */
void	metrics_handle(struct request *);

/* metrics.c: counters, bumped on a loop (its l_id), read anywhere. */
void	metrics_request(int loop, enum route_kind, int status);
void	metrics_bytes(int loop, uint64_t);
void	metrics_body(int loop, uint64_t);

/*
 * writer.c: the store's one writer thread.  A task runs there, its
 * tk_done on the loop afterwards.  writer_unqueue takes back one that
 * has not begun (1; its tk_done will not run) or says it has (0).
 */
int	writer_start(struct event_base *);
void	writer_submit(struct task *);
int	writer_unqueue(struct task *);
int	writer_busy(void);	/* something queued, running or ending */
void	writer_stop(void);

/* signer.c: the key that signs what airlockd mirrors (conf's
 * signing-key, or the store's own); one without a passphrase. */
struct keys_signer;
int	signer_load(struct store *, const char *file, struct keys_signer **,
	    char *err, size_t);
/* The store_sign_fn of mirrored revisions (signer a struct
 * keys_signer, freed with keys_signer_free); logs why it failed. */
int	signer_sign_mirrored(void *signer, const struct store_manifest *,
	    struct store_sig *);

/*
 * jobs.c: mirror jobs.  jobs_start (after http_start, on the loop's base)
 * loads the key, starts the engine and the writer and queues the
 * configured jobs; err says why not.  On SIGHUP, jobs_reload_check
 * before the new configuration is put in use, jobs_configure after.
 */
struct evbuffer;
int	jobs_start(struct server *, char *err, size_t);
int	jobs_enabled(void);
int	jobs_reload_check(const struct conf *, char *err, size_t);
void	jobs_configure(const struct conf *);
void	jobs_drain(void);
void	jobs_stop(void);	/* after the loop; runs it while jobs end */
void	jobs_metrics(struct evbuffer *);

#endif
