/*
 * hashpool.c - checking chunks against their sha256 on a second core
 * while the caller reads the next ones (bundle.c).
 *
 * The caller hands each chunk over with hashpool_check() and goes on; one
 * thread of the pool hashes them in the order given.  When the caller
 * gets ahead (the queue full, or no buffer free), it hashes the oldest
 * chunk nobody has taken itself, so both cores hash and neither waits
 * for the other.  hashpool_wait() returns once every chunk handed over is
 * checked, with the first (in the order given) that did not match.
 *
 * The bytes checked are the caller's until hashpool_wait() (room a write
 * transaction reserved, say) or the pool's own buffers, each free again
 * once its chunk is checked.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store/internal.h"

#define POOL_JOBS	16
#define POOL_BUFS	8

struct pjob {
	const uint8_t	*data;
	size_t		 len;
	uint8_t		 sha[STORE_HASH_LEN];
	size_t		 tag;
	int		 buf;		/* the pool's buffer it is in, or -1 */
};

struct hashpool {
	pthread_t	 thread;
	int		 started;
	int		 inited;	/* mu and cv */
	struct hash	*mine, *theirs;	/* the caller's and the thread's */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 stop;
	struct pjob	 q[POOL_JOBS];	/* handed over, not yet taken */
	size_t		 head, n;
	int		 hashing;	/* taken, not yet done */
	int		 bad;		/* a chunk did not match */
	size_t		 bad_tag;	/* the first of them */
	uint8_t		*bufs[POOL_BUFS];
	int		 busy[POOL_BUFS];	/* handed out or queued */
};

/* Takes the oldest queued job and checks it; mu held, dropped meanwhile. */
static void
run_one(struct hashpool *p, struct hash *h)
{
	struct pjob j = p->q[p->head];
	uint8_t got[STORE_HASH_LEN];

	p->head = (p->head + 1) % POOL_JOBS;
	p->n--;
	p->hashing++;
	pthread_mutex_unlock(&p->mu);
	hash_reset(h);
	hash_update(h, j.data, j.len);
	hash_final(h, got);
	pthread_mutex_lock(&p->mu);
	/* The first in the order given: a later chunk may be done sooner. */
	if (memcmp(got, j.sha, STORE_HASH_LEN) != 0 &&
	    (!p->bad || j.tag < p->bad_tag)) {
		p->bad = 1;
		p->bad_tag = j.tag;
	}
	if (j.buf >= 0)
		p->busy[j.buf] = 0;
	p->hashing--;
	pthread_cond_broadcast(&p->cv);
}

static void *
pool_main(void *arg)
{
	struct hashpool *p = arg;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->n == 0 && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->n == 0)
			break;
		run_one(p, p->theirs);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

int
hashpool_new(struct hashpool **out)
{
	struct hashpool *p;
	int i;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return ENOMEM;
	p->mine = hash_new_sha256();
	p->theirs = hash_new_sha256();
	for (i = 0; i < POOL_BUFS; i++)
		p->bufs[i] = malloc(STORE_CHUNK_MAX);
	for (i = 0; i < POOL_BUFS && p->bufs[i] != NULL; i++)
		;
	if (p->mine == NULL || p->theirs == NULL || i < POOL_BUFS) {
		p->started = 0;
		hashpool_free(p);
		return ENOMEM;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->inited = 1;
	/* Without the thread, the caller checks every chunk itself. */
	p->started = pthread_create(&p->thread, NULL, pool_main, p) == 0;
	*out = p;
	return 0;
}

void
hashpool_free(struct hashpool *p)
{
	if (p == NULL)
		return;
	if (p->inited)
		(void)hashpool_wait(p, NULL);
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->thread, NULL);
	}
	for (int i = 0; i < POOL_BUFS; i++)
		free(p->bufs[i]);
	hash_free(p->mine);
	hash_free(p->theirs);
	if (p->inited) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
	}
	free(p);
}

/* Until cond holds: checks queued chunks, or waits for the thread. */
#define HELP_UNTIL(p, cond) do {					\
	while (!(cond)) {						\
		if ((p)->n > 0)						\
			run_one((p), (p)->mine);			\
		else							\
			pthread_cond_wait(&(p)->cv, &(p)->mu);		\
	}								\
} while (0)

static int
free_buf(struct hashpool *p)
{
	for (int i = 0; i < POOL_BUFS; i++)
		if (!p->busy[i])
			return i;
	return -1;
}

uint8_t *
hashpool_buffer(struct hashpool *p)
{
	int i;

	pthread_mutex_lock(&p->mu);
	HELP_UNTIL(p, free_buf(p) >= 0);
	i = free_buf(p);
	p->busy[i] = 1;
	pthread_mutex_unlock(&p->mu);
	return p->bufs[i];
}

void
hashpool_check(struct hashpool *p, const void *data, size_t len,
    const uint8_t sha[STORE_HASH_LEN], size_t tag)
{
	struct pjob *j;
	int i, buf = -1;

	for (i = 0; i < POOL_BUFS; i++)
		if (data == p->bufs[i])
			buf = i;
	pthread_mutex_lock(&p->mu);
	HELP_UNTIL(p, p->n < POOL_JOBS);
	j = &p->q[(p->head + p->n) % POOL_JOBS];
	j->data = data;
	j->len = len;
	memcpy(j->sha, sha, STORE_HASH_LEN);
	j->tag = tag;
	j->buf = buf;
	p->n++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int
hashpool_failed(struct hashpool *p)
{
	int bad;

	pthread_mutex_lock(&p->mu);
	bad = p->bad;
	pthread_mutex_unlock(&p->mu);
	return bad;
}

int
hashpool_wait(struct hashpool *p, size_t *bad_tag)
{
	int bad;

	pthread_mutex_lock(&p->mu);
	HELP_UNTIL(p, p->n == 0 && p->hashing == 0);
	bad = p->bad;
	if (bad && bad_tag != NULL)
		*bad_tag = p->bad_tag;
	pthread_mutex_unlock(&p->mu);
	return bad ? STORE_ECORRUPT : 0;
}
