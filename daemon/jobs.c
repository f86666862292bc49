/*
 * jobs.c - airlockd's mirror jobs: the repositories airlockd.conf's
 * [mirror] sections name, run at start, on SIGHUP and every interval,
 * and those the admin API queues (/v1/mirror/jobs).
 *
 * A job is pulled by the mirror engine (mirror/): its transfers run on
 * airlockd's own loop, next to the HTTP server, and mirror_pull() runs on
 * the store's one writer thread (writer.c), which hashes, writes and
 * commits off the loop.  A revision becomes visible when its commit ends
 * and not before: every request resolves its revision again under a
 * read view of its own, so the next one after the commit sees it, and
 * one under way keeps the view it began with (store/read.c).  A job that
 * fails or is cancelled leaves the chunks it wrote, which the next run
 * reuses and gc removes if none does, and never a revision.  From an
 * upstream airlockd, the pull keeps the upstream's signatures and checks
 * its release against rollback by the store's keyring (mirror_judge, as
 * `airlock pull` does); a refusal fails the job with the reason
 * "refused", naming the upstream.
 *
 * Threads: the job list is under jobs.mtx; the loop (config, timers, the
 * end of a run), the workers (the admin API, /metrics) and the writer
 * thread (a run, its progress) all take it.  A job's parameters never
 * change once it is made (a changed [mirror] section makes a new job),
 * so a run reads them without the lock.
 *
 * States: queued (waiting for the writer), fetching (resolving, listing,
 * streaming the files), verifying (every byte is in: the last hashes and
 * the commit), done, failed (with a reason), cancelled.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "daemon/airlockd.h"
#include "daemon/body.h"
#include "keys/keys.h"
#include "mirror/mirror.h"

enum job_state {
	JOB_QUEUED,
	JOB_FETCHING,
	JOB_VERIFYING,
	JOB_DONE,
	JOB_FAILED,
	JOB_CANCELLED,
	JOB_NSTATES
};

static const char *const state_names[JOB_NSTATES] = {
	"queued", "fetching", "verifying", "done", "failed", "cancelled",
};

/* Why a run failed, for the job and /metrics. */
enum job_reason {
	REASON_NOT_FOUND,
	REASON_AUTH,
	REASON_GATED,
	REASON_UPSTREAM,
	REASON_NETWORK,
	REASON_PROTOCOL,
	REASON_CORRUPT,
	REASON_STORE,
	REASON_REFUSED,
	REASON_NREASONS
};

static const char *const reason_names[REASON_NREASONS] = {
	"not_found", "auth", "gated", "upstream", "network", "protocol",
	"corrupt", "store", "refused",
};

struct job {
	TAILQ_ENTRY(job)	 j_entry;
	struct task		 j_task;
	uint64_t		 j_id;
	/* What it pulls; fixed once made. */
	char			*j_mirror;	/* its section, NULL: admin API */
	char			 j_type[8];
	char			 j_repo[BOUND_REPO_ID + 1];
	char			 j_rev[BOUND_REVISION + 1];
	char			*j_upstream;
	char			*j_token;
	char			**j_include;	/* NULL-terminated, or NULL */
	char			**j_exclude;
	/* The loop's. */
	int			 j_interval;
	struct event		*j_timer;
	int			 j_matched;	/* by the config being applied */
	/* Under jobs.mtx. */
	enum job_state		 j_state;
	int			 j_cancel;	/* mirror_cancel()'s flag */
	int			 j_inwriter;	/* queued or running */
	int			 j_gone;	/* out of the config: freed when
						 * its run ends */
	unsigned		 j_runs;
	const struct mirror_pull_result *j_res;	/* of the run, or NULL */
	char			 j_reason[1024];
	const char		*j_error;	/* reason_names[], or NULL */
	uint64_t		 j_done;	/* bytes through the pipeline */
	uint64_t		 j_total;
	uint64_t		 j_fetched;	/* body bytes on the wire */
	uint64_t		 j_held;	/* of files the store had */
	uint64_t		 j_retries;
	uint64_t		 j_requests;
	uint64_t		 j_files;
	int			 j_unchanged;
	struct timespec		 j_t0, j_t1;	/* the run, monotonic */
	time_t			 j_created, j_started, j_ended, j_next;
	char			 j_commit[STORE_COMMIT_LEN + 1];
	char			 j_digest[STORE_DIGEST_STRLEN + 1];
};

TAILQ_HEAD(joblist, job);

static struct {
	pthread_mutex_t		 mtx;
	struct joblist		 list;
	size_t			 n;
	uint64_t		 last_id;
	int			 enabled;
	int			 stopping;
	struct event_base	*base;
	struct store		*st;
	struct mirror		*m;
	struct keys_signer	*signer;
	char			*signer_file;	/* the conf's, or NULL */
	/* /metrics */
	uint64_t		 fetched;
	uint64_t		 held;
	uint64_t		 retries;
	uint64_t		 requests;
	uint64_t		 failures[REASON_NREASONS];
} jobs = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.list = TAILQ_HEAD_INITIALIZER(jobs.list),
};

static void	job_run(struct task *);
static void	job_done(struct task *);
static void	job_timer(evutil_socket_t, short, void *);

static int
job_ended(const struct job *j)
{
	return j->j_state == JOB_DONE || j->j_state == JOB_FAILED ||
	    j->j_state == JOB_CANCELLED;
}

static void
strv_free(char **v)
{
	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

static char **
strv_dup(char *const *v, size_t n)
{
	char **out;

	if (n == 0)
		return NULL;
	if ((out = calloc(n + 1, sizeof(*out))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if ((out[i] = strdup(v[i])) == NULL) {
			strv_free(out);
			return NULL;
		}
	return out;
}

static int
strv_same(char *const *a, char *const *b)
{
	size_t i;

	if (a == NULL || b == NULL)
		return a == b;
	for (i = 0; a[i] != NULL && b[i] != NULL; i++)
		if (strcmp(a[i], b[i]) != 0)
			return 0;
	return a[i] == b[i];
}

static int
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Unlinks and frees j; jobs.mtx held, j not in the writer. */
static void
job_free(struct job *j)
{
	TAILQ_REMOVE(&jobs.list, j, j_entry);
	jobs.n--;
	if (j->j_timer != NULL)
		event_free(j->j_timer);
	free(j->j_mirror);
	free(j->j_upstream);
	if (j->j_token != NULL) {
		sodium_memzero(j->j_token, strlen(j->j_token));
		free(j->j_token);
	}
	strv_free(j->j_include);
	strv_free(j->j_exclude);
	free(j);
}

/* The oldest ended job of the admin API goes when the list is full. */
static int
jobs_make_room(void)
{
	struct job *j;

	if (jobs.n < BOUND_JOBS)
		return 0;
	TAILQ_FOREACH(j, &jobs.list, j_entry)
		if (j->j_mirror == NULL && job_ended(j) && !j->j_inwriter) {
			job_free(j);
			return 0;
		}
	return -1;
}

static struct job *
job_new(const char *mirror, const char *type, const char *repo,
    const char *rev, const char *upstream, const char *token,
    char *const *include, size_t ninclude, char *const *exclude,
    size_t nexclude)
{
	struct job *j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	snprintf(j->j_type, sizeof(j->j_type), "%s", type);
	snprintf(j->j_repo, sizeof(j->j_repo), "%s", repo);
	snprintf(j->j_rev, sizeof(j->j_rev), "%s", rev);
	j->j_mirror = mirror != NULL ? strdup(mirror) : NULL;
	j->j_upstream = strdup(upstream);
	j->j_token = token != NULL ? strdup(token) : NULL;
	j->j_include = strv_dup(include, ninclude);
	j->j_exclude = strv_dup(exclude, nexclude);
	if ((mirror != NULL && j->j_mirror == NULL) || j->j_upstream == NULL ||
	    (token != NULL && j->j_token == NULL) ||
	    (ninclude > 0 && j->j_include == NULL) ||
	    (nexclude > 0 && j->j_exclude == NULL) ||
	    (j->j_timer = evtimer_new(jobs.base, job_timer, j)) == NULL) {
		free(j->j_mirror);
		free(j->j_upstream);
		free(j->j_token);
		strv_free(j->j_include);
		strv_free(j->j_exclude);
		free(j);
		return NULL;
	}
	j->j_id = ++jobs.last_id;
	j->j_created = time(NULL);
	j->j_state = JOB_DONE;
	j->j_task.tk_run = job_run;
	j->j_task.tk_done = job_done;
	TAILQ_INSERT_TAIL(&jobs.list, j, j_entry);
	jobs.n++;
	return j;
}

/* Hands j to the writer; jobs.mtx held. */
static void
job_queue(struct job *j)
{
	j->j_state = JOB_QUEUED;
	j->j_cancel = 0;
	j->j_reason[0] = '\0';
	j->j_error = NULL;
	j->j_done = j->j_total = j->j_fetched = j->j_held = 0;
	j->j_retries = j->j_requests = j->j_files = 0;
	j->j_unchanged = 0;
	j->j_commit[0] = j->j_digest[0] = '\0';
	j->j_started = j->j_ended = j->j_next = 0;
	j->j_inwriter = 1;
	writer_submit(&j->j_task);
}

/*
 * Stops j: taken back from the writer's queue if it waits there, cut
 * short if it runs.  jobs.mtx held.  1 if it ended here.
 */
static int
job_cancel(struct job *j)
{
	if (!j->j_inwriter)
		return 0;
	if (writer_unqueue(&j->j_task)) {
		j->j_inwriter = 0;
		j->j_state = JOB_CANCELLED;
		snprintf(j->j_reason, sizeof(j->j_reason), "cancelled before "
		    "it ran");
		j->j_ended = time(NULL);
		return 1;
	}
	mirror_cancel(jobs.m, &j->j_cancel);
	return 0;
}

static enum job_reason
reason_of(int rc)
{
	switch (rc) {
	case MIRROR_ENOTFOUND:	return REASON_NOT_FOUND;
	case MIRROR_EAUTH:	return REASON_AUTH;
	case MIRROR_EGATED:	return REASON_GATED;
	case MIRROR_EUPSTREAM:	return REASON_UPSTREAM;
	case MIRROR_ENET:	return REASON_NETWORK;
	case MIRROR_EPROTO:	return REASON_PROTOCOL;
	case MIRROR_ECORRUPT:	return REASON_CORRUPT;
	}
	return REASON_STORE;
}

/* The writer's thread, in the pipeline: bytes through it so far. */
static void
job_progress(void *arg, uint64_t bytes)
{
	struct job *j = arg;

	pthread_mutex_lock(&jobs.mtx);
	j->j_done = bytes;
	if (j->j_res != NULL)
		j->j_total = j->j_res->bytes;
	if (j->j_state == JOB_FETCHING && j->j_total > 0 &&
	    bytes >= j->j_total)
		j->j_state = JOB_VERIFYING;
	pthread_mutex_unlock(&jobs.mtx);
}

/* The pull's thread: bytes on the wire so far (mirror_status). */
static void
job_status(void *arg, const struct mirror_status *st)
{
	struct job *j = arg;

	pthread_mutex_lock(&jobs.mtx);
	j->j_fetched = st->fetched;
	pthread_mutex_unlock(&jobs.mtx);
}

/* The writer's thread, once every file checked: the local signature. */
static int
job_sign(void *arg, const struct store_manifest *m, struct store_sig *sig)
{
	struct job *j = arg;
	int rc;

	pthread_mutex_lock(&jobs.mtx);
	j->j_state = JOB_VERIFYING;
	rc = signer_sign_mirrored(jobs.signer, m, sig);
	pthread_mutex_unlock(&jobs.mtx);
	return rc;
}

static void
job_finish(struct job *j, int rc, const struct mirror_pull_result *res,
    const struct mirror_judge *judge, const char *judged)
{
	const char *e;

	clock_gettime(CLOCK_MONOTONIC, &j->j_t1);
	j->j_ended = time(NULL);
	j->j_res = NULL;
	j->j_files = res->files;
	j->j_total = res->bytes;
	j->j_fetched = res->fetched;
	j->j_held = rc == 0 ? res->held : 0;
	j->j_retries = res->retries;
	j->j_requests = res->requests;
	jobs.fetched += res->fetched;
	jobs.held += j->j_held;
	jobs.retries += res->retries;
	jobs.requests += res->requests;
	if (rc == 0) {
		j->j_state = JOB_DONE;
		j->j_unchanged = res->unchanged;
		j->j_done = res->bytes;
		snprintf(j->j_commit, sizeof(j->j_commit), "%s",
		    res->manifest->commit);
		store_digest_str(res->manifest->digest, j->j_digest);
		return;
	}
	e = mirror_lasterror();
	if (rc == MIRROR_ECANCELED) {
		j->j_state = JOB_CANCELLED;
		snprintf(j->j_reason, sizeof(j->j_reason), "cancelled while %s",
		    res->failed != NULL ? "fetching its files" : "resolving "
		    "the revision");
		return;
	}
	j->j_state = JOB_FAILED;
	if ((rc == MIRROR_EREFUSED || rc == STORE_ECANCELED) &&
	    mirror_judge_refused(judge)) {
		/* The upstream's signatures or release do not hold. */
		j->j_error = reason_names[REASON_REFUSED];
		jobs.failures[REASON_REFUSED]++;
		snprintf(j->j_reason, sizeof(j->j_reason), "%s (no revision "
		    "was added)", judged);
		return;
	}
	j->j_error = reason_names[reason_of(rc)];
	jobs.failures[reason_of(rc)]++;
	snprintf(j->j_reason, sizeof(j->j_reason), "%s%s%s%s",
	    *e != '\0' ? e : mirror_strerror(rc),
	    res->failed != NULL ? " (" : "",
	    res->failed != NULL ? res->failed : "",
	    res->failed != NULL ? ": no revision was added)" : "");
}

/* The writer's thread: one run of j. */
static void
job_run(struct task *tk)
{
	struct job *j = (struct job *)((char *)tk -
	    offsetof(struct job, j_task));
	struct mirror_pull_spec spec;
	struct mirror_pull_result res;
	struct mirror_judge *judge = NULL;
	char why[BOUND_MIRROR_NAME + BOUND_JOB_UPSTREAM + 64], judged[960];
	int rc;

	memset(&spec, 0, sizeof(spec));
	memset(&res, 0, sizeof(res));
	pthread_mutex_lock(&jobs.mtx);
	if (__atomic_load_n(&j->j_cancel, __ATOMIC_ACQUIRE)) {
		j->j_state = JOB_CANCELLED;
		snprintf(j->j_reason, sizeof(j->j_reason), "cancelled before "
		    "it ran");
		j->j_ended = time(NULL);
		pthread_mutex_unlock(&jobs.mtx);
		return;
	}
	j->j_state = JOB_FETCHING;
	j->j_started = time(NULL);
	clock_gettime(CLOCK_MONOTONIC, &j->j_t0);
	j->j_runs++;
	j->j_res = &res;
	pthread_mutex_unlock(&jobs.mtx);

	if (j->j_mirror != NULL)
		snprintf(why, sizeof(why), "mirror \"%s\": pulled from %s",
		    j->j_mirror, j->j_upstream);
	else
		snprintf(why, sizeof(why), "mirror job %llu: pulled from %s",
		    (unsigned long long)j->j_id, j->j_upstream);
	spec.upstream = j->j_upstream;
	spec.type = j->j_type;
	spec.repo = j->j_repo;
	spec.revision = j->j_rev;
	spec.token = j->j_token;
	spec.include = (const char *const *)j->j_include;
	spec.exclude = (const char *const *)j->j_exclude;
	spec.why = why;
	spec.sign = job_sign;
	spec.sign_arg = j;
	spec.progress = job_progress;
	spec.progress_arg = j;
	spec.status = job_status;
	spec.status_arg = j;
	spec.cancel = &j->j_cancel;
	/* From an airlockd, its signatures and release are judged by the
	 * store's keyring, as `airlock pull` judges them. */
	if ((rc = mirror_judge_new(jobs.st, judged, sizeof(judged),
	    &judge)) == 0) {
		spec.judge = mirror_judge;
		spec.judge_arg = judge;
		rc = mirror_pull(jobs.m, jobs.st, &spec, &res);
	}

	pthread_mutex_lock(&jobs.mtx);
	job_finish(j, rc, &res, judge, judged);
	pthread_mutex_unlock(&jobs.mtx);
	if (rc == 0 && judged[0] != '\0')
		log_warnx("mirror job %llu: %s", (unsigned long long)j->j_id,
		    judged);
	mirror_judge_free(judge);
	if (rc == 0)
		log_info("mirror job %llu: %s%s@%s: %s %s",
		    (unsigned long long)j->j_id, store_type_prefix(j->j_type),
		    j->j_repo, j->j_rev, res.unchanged ? "unchanged" : "added",
		    j->j_digest);
	else
		log_warnx("mirror job %llu: %s%s@%s: %s",
		    (unsigned long long)j->j_id, store_type_prefix(j->j_type),
		    j->j_repo, j->j_rev, j->j_reason);
	store_manifest_free(res.manifest);
}

static void
job_arm(struct job *j)
{
	struct timeval tv = { j->j_interval, 0 };

	if (j->j_interval <= 0 || jobs.stopping) {
		evtimer_del(j->j_timer);
		j->j_next = 0;
		return;
	}
	evtimer_add(j->j_timer, &tv);
	j->j_next = time(NULL) + j->j_interval;
}

/* The loop: a run ended. */
static void
job_done(struct task *tk)
{
	struct job *j = (struct job *)((char *)tk -
	    offsetof(struct job, j_task));

	pthread_mutex_lock(&jobs.mtx);
	j->j_inwriter = 0;
	if (j->j_gone)
		job_free(j);
	else
		job_arm(j);
	pthread_mutex_unlock(&jobs.mtx);
}

/* The loop: a configured job's interval is up. */
static void
job_timer(evutil_socket_t fd, short what, void *arg)
{
	struct job *j = arg;

	(void)fd, (void)what;
	pthread_mutex_lock(&jobs.mtx);
	if (!j->j_inwriter && !j->j_gone && !jobs.stopping)
		job_queue(j);
	pthread_mutex_unlock(&jobs.mtx);
}

/* Whether j is what the section mc asks for repository spec. */
static int
job_is(const struct job *j, const struct mirror_conf *mc, const char *repo,
    const char *rev)
{
	return j->j_mirror != NULL && !j->j_gone &&
	    strcmp(j->j_mirror, mc->mc_name) == 0 &&
	    strcmp(j->j_type, mc->mc_type) == 0 &&
	    strcmp(j->j_repo, repo) == 0 && strcmp(j->j_rev, rev) == 0 &&
	    strcmp(j->j_upstream, mc->mc_upstream) == 0 &&
	    str_same(j->j_token, mc->mc_token) &&
	    strv_same(j->j_include, mc->mc_include) &&
	    strv_same(j->j_exclude, mc->mc_exclude);
}

/* The loop: one repository of a section, kept or made and queued. */
static void
configure_one(const struct mirror_conf *mc, const char *spec)
{
	char repo[BOUND_REPO_ID + 1], rev[BOUND_REVISION + 1];
	struct job *j;

	if (conf_repo_rev(spec, repo, sizeof(repo), rev, sizeof(rev)) != 0)
		return;		/* conf.c refused it already */
	TAILQ_FOREACH(j, &jobs.list, j_entry)
		if (job_is(j, mc, repo, rev)) {
			j->j_matched = 1;
			if (j->j_interval != mc->mc_interval) {
				j->j_interval = mc->mc_interval;
				if (!j->j_inwriter)
					job_arm(j);
			}
			return;
		}
	if (jobs_make_room() != 0 || (j = job_new(mc->mc_name, mc->mc_type,
	    repo, rev, mc->mc_upstream, mc->mc_token, mc->mc_include,
	    mc->mc_ninclude, mc->mc_exclude, mc->mc_nexclude)) == NULL) {
		log_warnx("%s: [mirror \"%s\"] %s: no room for the job",
		    __func__, mc->mc_name, spec);
		return;
	}
	j->j_matched = 1;
	j->j_interval = mc->mc_interval;
	job_queue(j);
}

/*
 * The loop: the jobs cf's [mirror] sections ask for.  Those it no longer
 * names end (cancelled if they run); new ones run now; the others keep
 * their state and take the new interval.
 */
void
jobs_configure(const struct conf *cf)
{
	struct job *j, *next;

	if (!jobs.enabled)
		return;
	pthread_mutex_lock(&jobs.mtx);
	TAILQ_FOREACH(j, &jobs.list, j_entry)
		j->j_matched = 0;
	for (size_t i = 0; i < cf->cf_nmirrors; i++)
		for (size_t r = 0; r < cf->cf_mirrors[i].mc_nrepos; r++)
			configure_one(&cf->cf_mirrors[i],
			    cf->cf_mirrors[i].mc_repos[r]);
	for (j = TAILQ_FIRST(&jobs.list); j != NULL; j = next) {
		next = TAILQ_NEXT(j, j_entry);
		if (j->j_mirror == NULL || j->j_matched || j->j_gone)
			continue;
		j->j_gone = 1;
		evtimer_del(j->j_timer);
		if (!j->j_inwriter || job_cancel(j))
			job_free(j);
	}
	pthread_mutex_unlock(&jobs.mtx);
}

int
jobs_start(struct server *srv, char *err, size_t esize)
{
	struct conf *cf = srv->srv_conf;
	int rc;

	jobs.base = srv->srv_base;
	jobs.st = srv->srv_store;
	if (signer_load(jobs.st, cf->cf_signing_key, &jobs.signer, err,
	    esize) != 0)
		return -1;
	if (cf->cf_signing_key != NULL &&
	    (jobs.signer_file = strdup(cf->cf_signing_key)) == NULL) {
		snprintf(err, esize, "out of memory");
		return -1;
	}
	if ((rc = mirror_new(srv->srv_base, NULL, &jobs.m)) != 0) {
		snprintf(err, esize, "mirror engine: %s", mirror_lasterror());
		return -1;
	}
	if (writer_start(srv->srv_base) != 0) {
		snprintf(err, esize, "cannot start the writer thread");
		return -1;
	}
	jobs.enabled = 1;
	jobs_configure(cf);
	return 0;
}

int
jobs_enabled(void)
{
	return jobs.enabled;
}

/*
 * SIGHUP, before cf is put in use: a changed signing-key is loaded now,
 * so that a bad one keeps the configuration in use.  0, or -1 with err.
 */
int
jobs_reload_check(const struct conf *cf, char *err, size_t esize)
{
	struct keys_signer *s;

	if (!jobs.enabled || str_same(cf->cf_signing_key, jobs.signer_file))
		return 0;
	if (signer_load(jobs.st, cf->cf_signing_key, &s, err, esize) != 0)
		return -1;
	pthread_mutex_lock(&jobs.mtx);
	keys_signer_free(jobs.signer);
	jobs.signer = s;
	free(jobs.signer_file);
	jobs.signer_file = cf->cf_signing_key != NULL ?
	    strdup(cf->cf_signing_key) : NULL;
	pthread_mutex_unlock(&jobs.mtx);
	return 0;
}

/* SIGTERM: no new run; the ones under way are cut short. */
void
jobs_drain(void)
{
	struct job *j;

	if (!jobs.enabled)
		return;
	pthread_mutex_lock(&jobs.mtx);
	jobs.stopping = 1;
	TAILQ_FOREACH(j, &jobs.list, j_entry) {
		evtimer_del(j->j_timer);
		job_cancel(j);
	}
	pthread_mutex_unlock(&jobs.mtx);
}

/*
 * After the loop: runs it until the writer has ended what it ran (its
 * transfers need the loop), then stops the writer and frees it all.
 */
void
jobs_stop(void)
{
	struct job *j;

	if (!jobs.enabled)
		return;
	jobs_drain();
	while (writer_busy())
		event_base_loop(jobs.base, EVLOOP_ONCE |
		    EVLOOP_NO_EXIT_ON_EMPTY);
	writer_stop();
	pthread_mutex_lock(&jobs.mtx);
	while ((j = TAILQ_FIRST(&jobs.list)) != NULL)
		job_free(j);
	pthread_mutex_unlock(&jobs.mtx);
	mirror_free(jobs.m);
	jobs.m = NULL;
	keys_signer_free(jobs.signer);
	jobs.signer = NULL;
	free(jobs.signer_file);
	jobs.signer_file = NULL;
	jobs.enabled = 0;
}

static json_t *
time_json(time_t t)
{
	struct tm tm;
	char s[32];

	if (t == 0 || gmtime_r(&t, &tm) == NULL)
		return json_null();
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(s);
}

static json_t *
strv_json(char *const *v)
{
	json_t *a = json_array();

	for (size_t i = 0; v != NULL && v[i] != NULL; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* The job as the API shows it; jobs.mtx held.  Never the token. */
static json_t *
job_json(const struct job *j)
{
	struct timespec now, end;
	double secs, rate = 0;
	json_t *o;

	clock_gettime(CLOCK_MONOTONIC, &now);
	end = job_ended(j) ? j->j_t1 : now;
	if (j->j_started != 0) {
		secs = (double)(end.tv_sec - j->j_t0.tv_sec) +
		    (double)(end.tv_nsec - j->j_t0.tv_nsec) / 1e9;
		if (secs > 0)
			rate = (double)j->j_done / secs;
	}
	o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:f,s:I,"
	    "s:I,s:I,s:I,s:b}",
	    "id", (json_int_t)j->j_id,
	    "type", j->j_type,
	    "repo", j->j_repo,
	    "revision", j->j_rev,
	    "upstream", j->j_upstream,
	    "state", state_names[j->j_state],
	    "bytes_done", (json_int_t)j->j_done,
	    "bytes_total", (json_int_t)j->j_total,
	    "bytes_fetched", (json_int_t)j->j_fetched,
	    "bytes_held", (json_int_t)j->j_held,
	    "rate", rate,
	    "files", (json_int_t)j->j_files,
	    "retries", (json_int_t)j->j_retries,
	    "requests", (json_int_t)j->j_requests,
	    "runs", (json_int_t)j->j_runs,
	    "unchanged", j->j_unchanged);
	if (o == NULL)
		return NULL;
	json_object_set_new(o, "mirror", j->j_mirror != NULL ?
	    json_string(j->j_mirror) : json_null());
	json_object_set_new(o, "reason", j->j_reason[0] != '\0' ?
	    json_string(j->j_reason) : json_null());
	json_object_set_new(o, "error", j->j_error != NULL ?
	    json_string(j->j_error) : json_null());
	json_object_set_new(o, "commit", j->j_commit[0] != '\0' ?
	    json_string(j->j_commit) : json_null());
	json_object_set_new(o, "digest", j->j_digest[0] != '\0' ?
	    json_string(j->j_digest) : json_null());
	json_object_set_new(o, "include", strv_json(j->j_include));
	json_object_set_new(o, "exclude", strv_json(j->j_exclude));
	json_object_set_new(o, "interval", json_integer(j->j_interval));
	json_object_set_new(o, "created", time_json(j->j_created));
	json_object_set_new(o, "started", time_json(j->j_started));
	json_object_set_new(o, "ended", time_json(j->j_ended));
	json_object_set_new(o, "next", j->j_inwriter ? json_null() :
	    time_json(j->j_next));
	return o;
}

static struct job *
job_find(uint64_t id)
{
	struct job *j;

	TAILQ_FOREACH(j, &jobs.list, j_entry)
		if (j->j_id == id && !j->j_gone)
			return j;
	return NULL;
}

static void
jobs_list(struct request *req)
{
	json_t *a = json_array();
	struct job *j;

	pthread_mutex_lock(&jobs.mtx);
	TAILQ_FOREACH(j, &jobs.list, j_entry)
		if (!j->j_gone && a != NULL)
			json_array_append_new(a, job_json(j));
	pthread_mutex_unlock(&jobs.mtx);
	resp_json(req, 200, a);
}

static void
jobs_post(struct request *req)
{
	struct body_job b;
	char why[BODY_WHY];
	const char *up;
	struct job *j;
	json_t *o;
	int rc;

	if ((rc = body_mirror_job(req->r_body, req->r_bodylen, &b,
	    why)) != 0) {
		resp_fail(req, rc == 400 ? API_BAD_REQUEST : API_NOMEM, why,
		    NULL);
		return;
	}
	up = b.upstream[0] != '\0' ? b.upstream : req->r_conf->cf_upstream;
	pthread_mutex_lock(&jobs.mtx);
	if (jobs.stopping || jobs_make_room() != 0) {
		pthread_mutex_unlock(&jobs.mtx);
		resp_fail(req, API_TOO_MANY_JOBS, jobs.stopping ?
		    "airlockd is stopping" : "too many jobs under way", NULL);
		return;
	}
	if ((j = job_new(NULL, b.type, b.repo, b.revision, up,
	    conf_token_for(req->r_conf, up), NULL, 0, NULL, 0)) == NULL) {
		pthread_mutex_unlock(&jobs.mtx);
		resp_fail(req, API_NOMEM, NULL, NULL);
		return;
	}
	job_queue(j);
	o = job_json(j);
	pthread_mutex_unlock(&jobs.mtx);
	log_info("mirror job %llu: %s%s@%s from %s, queued by the admin API",
	    (unsigned long long)j->j_id, store_type_prefix(b.type), b.repo,
	    b.revision, up);
	resp_json(req, 202, o);
}

/* /v1/mirror/jobs: GET lists, POST queues one. */
void
v1_jobs(struct request *req)
{
	if (!jobs.enabled) {
		resp_fail(req, API_READ_ONLY, NULL, NULL);
		return;
	}
	if (req->r_method == ROUTE_POST)
		jobs_post(req);
	else
		jobs_list(req);
}

/* /v1/mirror/jobs/ID: GET shows it, DELETE cancels it. */
void
v1_job(struct request *req)
{
	char id[32];
	struct job *j;
	json_t *o;
	int ended = 0;

	snprintf(id, sizeof(id), "%llu", (unsigned long long)req->r_route.job);
	if (!jobs.enabled) {
		resp_fail(req, API_READ_ONLY, NULL, NULL);
		return;
	}
	pthread_mutex_lock(&jobs.mtx);
	if ((j = job_find(req->r_route.job)) == NULL) {
		pthread_mutex_unlock(&jobs.mtx);
		resp_fail(req, API_JOB_NOT_FOUND, id, NULL);
		return;
	}
	if (req->r_method == ROUTE_DELETE) {
		if (!j->j_inwriter) {
			char state[32];

			snprintf(state, sizeof(state), "%s",
			    state_names[j->j_state]);
			pthread_mutex_unlock(&jobs.mtx);
			resp_fail(req, API_JOB_ENDED, id, state);
			return;
		}
		ended = job_cancel(j);
	}
	o = job_json(j);
	pthread_mutex_unlock(&jobs.mtx);
	if (req->r_method == ROUTE_DELETE)
		log_info("mirror job %s: cancelled by the admin API", id);
	resp_json(req, req->r_method == ROUTE_DELETE && !ended ? 202 : 200, o);
}

/* /metrics: jobs by state, bytes fetched, retries, failures by reason. */
void
jobs_metrics(struct evbuffer *b)
{
	size_t nstate[JOB_NSTATES] = { 0 };
	struct job *j;
	size_t i;

	if (!jobs.enabled)
		return;
	pthread_mutex_lock(&jobs.mtx);
	TAILQ_FOREACH(j, &jobs.list, j_entry)
		if (!j->j_gone)
			nstate[j->j_state]++;
	evbuffer_add_printf(b, "# HELP airlockd_mirror_jobs Mirror jobs, "
	    "by state.\n# TYPE airlockd_mirror_jobs gauge\n");
	for (i = 0; i < JOB_NSTATES; i++)
		evbuffer_add_printf(b, "airlockd_mirror_jobs{state=\"%s\"} "
		    "%zu\n", state_names[i], nstate[i]);
	evbuffer_add_printf(b, "# HELP airlockd_mirror_fetched_bytes_total "
	    "Body bytes of files mirror jobs received from upstreams.\n"
	    "# TYPE airlockd_mirror_fetched_bytes_total counter\n"
	    "airlockd_mirror_fetched_bytes_total %llu\n",
	    (unsigned long long)jobs.fetched);
	evbuffer_add_printf(b, "# HELP airlockd_mirror_held_bytes_total "
	    "Bytes of files mirror jobs found in the store, not fetched.\n"
	    "# TYPE airlockd_mirror_held_bytes_total counter\n"
	    "airlockd_mirror_held_bytes_total %llu\n",
	    (unsigned long long)jobs.held);
	evbuffer_add_printf(b, "# HELP airlockd_mirror_requests_total "
	    "Requests mirror jobs made to upstreams.\n"
	    "# TYPE airlockd_mirror_requests_total counter\n"
	    "airlockd_mirror_requests_total %llu\n",
	    (unsigned long long)jobs.requests);
	evbuffer_add_printf(b, "# HELP airlockd_mirror_retries_total "
	    "Requests mirror jobs retried.\n"
	    "# TYPE airlockd_mirror_retries_total counter\n"
	    "airlockd_mirror_retries_total %llu\n",
	    (unsigned long long)jobs.retries);
	evbuffer_add_printf(b, "# HELP airlockd_mirror_failures_total "
	    "Mirror job runs that failed, by reason.\n"
	    "# TYPE airlockd_mirror_failures_total counter\n");
	for (i = 0; i < REASON_NREASONS; i++)
		evbuffer_add_printf(b, "airlockd_mirror_failures_total"
		    "{reason=\"%s\"} %llu\n", reason_names[i],
		    (unsigned long long)jobs.failures[i]);
	pthread_mutex_unlock(&jobs.mtx);
}
