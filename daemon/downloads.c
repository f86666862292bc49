/*
 * downloads.c - downloads counted per repository, as the Hub counts them:
 * every GET or HEAD of a repository's query file (config.json and its
 * kin, at the top).  Workers count in memory; every few seconds the loop
 * hands the counts to a worker that adds them to the store in one short
 * write transaction, and what is left is written at exit.  Write
 * failures lose counts (they are statistics) and are logged.  The event
 * loop itself never writes.  A store airlockd may only read counts
 * nothing: downloads_start is not called then.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/airlockd.h"

/* The files a download is counted for (the Hub's defaults). */
static const char *const query_files[] = {
	"config.json", "config.yaml", "hyperparams.yaml", "meta.yaml",
};

struct tally {
	char		*type;	/* static: "model" or "dataset" */
	char		*repo;
	uint64_t	 n;
};

static struct {
	pthread_mutex_t	 mtx;
	struct tally	*v;
	size_t		 n, cap;
	int		 on;
	int		 flushing;	/* a worker is writing a batch */
	struct store	*st;
	struct event	*ev;
	struct task	 task;
	struct tally	*batch;		/* what the worker writes */
	size_t		 nbatch;
} dl = { .mtx = PTHREAD_MUTEX_INITIALIZER };

static int
is_query_file(const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(query_files) / sizeof(query_files[0]); i++)
		if (strcmp(path, query_files[i]) == 0)
			return 1;
	return 0;
}

void
downloads_count(const char *type, const char *repo, const char *path)
{
	struct tally *nv;
	size_t i;

	if (!is_query_file(path))
		return;
	pthread_mutex_lock(&dl.mtx);
	if (!dl.on)
		goto out;
	for (i = 0; i < dl.n; i++)
		if (dl.v[i].type == type && strcmp(dl.v[i].repo, repo) == 0) {
			dl.v[i].n++;
			goto out;
		}
	/* Bounded: past it, counts wait for the next flush to make room. */
	if (dl.n == BOUND_DOWNLOAD_REPOS)
		goto out;
	if (dl.n == dl.cap) {
		size_t cap = dl.cap ? 2 * dl.cap : 64;

		if ((nv = reallocarray(dl.v, cap, sizeof(*nv))) == NULL)
			goto out;
		dl.v = nv;
		dl.cap = cap;
	}
	if ((dl.v[dl.n].repo = strdup(repo)) == NULL)
		goto out;
	dl.v[dl.n].type = (char *)type;
	dl.v[dl.n].n = 1;
	dl.n++;
out:
	pthread_mutex_unlock(&dl.mtx);
}

static void
tally_free(struct tally *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].repo);
	free(v);
}

/* Writes a batch, and frees it. */
static void
batch_write(struct tally *v, size_t n)
{
	struct store_count *c;
	size_t i;

	if (n == 0 || (c = calloc(n, sizeof(*c))) == NULL) {
		tally_free(v, n);
		return;
	}
	for (i = 0; i < n; i++) {
		c[i].type = v[i].type;
		c[i].repo = v[i].repo;
		c[i].n = v[i].n;
	}
	/* Statistics, not data: a batch the store refuses is dropped. */
	if (store_downloads_add(dl.st, c, n) != 0)
		log_warnx("%s: %zu repositories' counts lost: %s", __func__,
		    n, store_lasterror());
	free(c);
	tally_free(v, n);
}

static void
flush_run(struct task *tk)
{
	(void)tk;
	batch_write(dl.batch, dl.nbatch);
	dl.batch = NULL;
	dl.nbatch = 0;
}

static void
flush_done(struct task *tk)
{
	(void)tk;
	dl.flushing = 0;
}

/* The loop's timer: take what is counted and give it to a worker. */
static void
flush_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	if (dl.flushing)
		return;
	pthread_mutex_lock(&dl.mtx);
	dl.batch = dl.v;
	dl.nbatch = dl.n;
	dl.v = NULL;
	dl.n = dl.cap = 0;
	pthread_mutex_unlock(&dl.mtx);
	if (dl.nbatch == 0)
		return;
	dl.flushing = 1;
	dl.task.tk_run = flush_run;
	dl.task.tk_done = flush_done;
	pool_submit(&dl.task);
}

int
downloads_start(struct event_base *base, struct store *st, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (seconds <= 0)
		return 0;
	dl.st = st;
	if ((dl.ev = event_new(base, -1, EV_PERSIST, flush_tick, NULL)) == NULL ||
	    event_add(dl.ev, &tv) != 0)
		return -1;
	pthread_mutex_lock(&dl.mtx);
	dl.on = 1;
	pthread_mutex_unlock(&dl.mtx);
	return 0;
}

void
downloads_stop(void)
{
	struct tally *v;
	size_t n;

	if (dl.ev != NULL)
		event_free(dl.ev);
	dl.ev = NULL;
	pthread_mutex_lock(&dl.mtx);
	v = dl.v;
	n = dl.n;
	dl.v = NULL;
	dl.n = dl.cap = 0;
	pthread_mutex_unlock(&dl.mtx);
	if (dl.st != NULL)
		batch_write(v, n);
	else
		tally_free(v, n);
	pthread_mutex_lock(&dl.mtx);
	dl.on = 0;
	pthread_mutex_unlock(&dl.mtx);
}
