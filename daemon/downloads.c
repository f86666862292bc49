/*
 * downloads.c - downloads counted per repository, as the Hub counts them:
 * every GET or HEAD of a repository's query file (config.json and its
 * kin, at the top).  Workers count in memory; every few seconds the
 * loop's timer wakes a writer thread, which adds the counts to the store
 * in one short write transaction; what is left is written at exit.  The
 * loop never writes.  A failed write loses its counts (they are
 * statistics) and is logged.  A store airlockd may only read counts
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
	const char	*type;	/* static: "model" or "dataset" */
	char		*repo;
	uint64_t	 n;
};

/*
 * The counts (mtx), and the writer thread that takes them to the store
 * when the loop's timer says so (cv): a thread of its own, so that a
 * write waiting behind another process's long transaction holds up no
 * worker.
 */
static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cv;
	struct tally	*v;
	size_t		 n, cap;
	int		 on;
	int		 due;		/* the timer fired: write them */
	int		 quit;
	pthread_t	 writer;
	int		 started;
	struct store	*st;
	struct event	*ev;
} dl = { .mtx = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };

/* Takes what is counted: the caller's to write and free. */
static void
take(struct tally **v, size_t *n)
{
	*v = dl.v;
	*n = dl.n;
	dl.v = NULL;
	dl.n = dl.cap = 0;
}

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
		if (strcmp(dl.v[i].type, type) == 0 &&
		    strcmp(dl.v[i].repo, repo) == 0) {
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
	/* The route's type is one of two static strings. */
	dl.v[dl.n].type = strcmp(type, "dataset") == 0 ? "dataset" : "model";
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

static void *
writer_main(void *arg)
{
	struct tally *v;
	size_t n;

	(void)arg;
	pthread_mutex_lock(&dl.mtx);
	for (;;) {
		while (!dl.due && !dl.quit)
			pthread_cond_wait(&dl.cv, &dl.mtx);
		if (dl.quit)
			break;
		dl.due = 0;
		take(&v, &n);
		pthread_mutex_unlock(&dl.mtx);
		batch_write(v, n);
		pthread_mutex_lock(&dl.mtx);
	}
	pthread_mutex_unlock(&dl.mtx);
	return NULL;
}

/* The loop's timer: the writer writes what is counted. */
static void
flush_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
	pthread_mutex_lock(&dl.mtx);
	if (dl.n > 0) {
		dl.due = 1;
		pthread_cond_signal(&dl.cv);
	}
	pthread_mutex_unlock(&dl.mtx);
}

int
downloads_start(struct event_base *base, struct store *st, int seconds)
{
	struct timeval tv = { seconds, 0 };

	if (seconds <= 0)
		return 0;
	dl.st = st;
	if (pthread_create(&dl.writer, NULL, writer_main, NULL) != 0)
		return -1;
	dl.started = 1;
	if ((dl.ev = event_new(base, -1, EV_PERSIST, flush_tick, NULL)) == NULL ||
	    event_add(dl.ev, &tv) != 0)
		return -1;
	pthread_mutex_lock(&dl.mtx);
	dl.on = 1;
	pthread_mutex_unlock(&dl.mtx);
	return 0;
}

/* After the workers stopped: the writer goes, and what is left is
 * written here. */
void
downloads_stop(void)
{
	struct tally *v;
	size_t n;

	if (dl.ev != NULL)
		event_free(dl.ev);
	dl.ev = NULL;
	pthread_mutex_lock(&dl.mtx);
	dl.quit = 1;
	dl.on = 0;
	pthread_cond_signal(&dl.cv);
	pthread_mutex_unlock(&dl.mtx);
	if (dl.started)
		pthread_join(dl.writer, NULL);
	dl.started = 0;
	pthread_mutex_lock(&dl.mtx);
	take(&v, &n);
	pthread_mutex_unlock(&dl.mtx);
	if (dl.st != NULL)
		batch_write(v, n);
	else
		tally_free(v, n);
}
