/*
 * writer.c - the one thread that writes the store (DESIGN.md §3).
 *
 * Whatever writes (a mirror job) is a task queued here from any thread;
 * the tasks run one after the other on this thread, so that the store
 * has one writer and the loop never waits for a write, a hash or a
 * commit.  Each task's tk_done runs on the loop afterwards, as a
 * worker's does (pool.c).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "daemon/airlockd.h"

TAILQ_HEAD(writerq, task);

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	struct writerq	 todo;
	struct writerq	 done;
	struct task	*running;
	int		 stopping;
	int		 started;
	pthread_t	 thread;
	struct event	*done_ev;
} writer = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void *
writer_main(void *arg)
{
	struct task *tk;

	(void)arg;
	pthread_mutex_lock(&writer.mtx);
	for (;;) {
		while (TAILQ_EMPTY(&writer.todo) && !writer.stopping)
			pthread_cond_wait(&writer.cond, &writer.mtx);
		if (writer.stopping)
			break;
		tk = TAILQ_FIRST(&writer.todo);
		TAILQ_REMOVE(&writer.todo, tk, tk_entry);
		writer.running = tk;
		pthread_mutex_unlock(&writer.mtx);

		tk->tk_run(tk);

		pthread_mutex_lock(&writer.mtx);
		writer.running = NULL;
		TAILQ_INSERT_TAIL(&writer.done, tk, tk_entry);
		event_active(writer.done_ev, EV_READ, 0);
		pthread_cond_broadcast(&writer.cond);
	}
	pthread_mutex_unlock(&writer.mtx);
	return NULL;
}

/* On the loop: hands each finished task back to its owner. */
static void
writer_done(evutil_socket_t fd, short what, void *arg)
{
	struct writerq done;
	struct task *tk;

	(void)fd, (void)what, (void)arg;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&writer.mtx);
	TAILQ_CONCAT(&done, &writer.done, tk_entry);
	pthread_mutex_unlock(&writer.mtx);
	while ((tk = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, tk, tk_entry);
		tk->tk_done(tk);
	}
}

int
writer_start(struct event_base *base)
{
	int rc;

	TAILQ_INIT(&writer.todo);
	TAILQ_INIT(&writer.done);
	if ((writer.done_ev = event_new(base, -1, 0, writer_done,
	    NULL)) == NULL)
		return -1;
	if ((rc = pthread_create(&writer.thread, NULL, writer_main,
	    NULL)) != 0) {
		errno = rc;
		log_warn("%s: pthread_create", __func__);
		return -1;
	}
	writer.started = 1;
	return 0;
}

void
writer_submit(struct task *tk)
{
	pthread_mutex_lock(&writer.mtx);
	TAILQ_INSERT_TAIL(&writer.todo, tk, tk_entry);
	pthread_cond_signal(&writer.cond);
	pthread_mutex_unlock(&writer.mtx);
}

int
writer_unqueue(struct task *tk)
{
	struct task *t;
	int found = 0;

	pthread_mutex_lock(&writer.mtx);
	TAILQ_FOREACH(t, &writer.todo, tk_entry)
		if (t == tk) {
			TAILQ_REMOVE(&writer.todo, tk, tk_entry);
			found = 1;
			break;
		}
	pthread_mutex_unlock(&writer.mtx);
	return found;
}

int
writer_busy(void)
{
	int busy;

	pthread_mutex_lock(&writer.mtx);
	busy = writer.running != NULL || !TAILQ_EMPTY(&writer.todo) ||
	    !TAILQ_EMPTY(&writer.done);
	pthread_mutex_unlock(&writer.mtx);
	return busy;
}

/* Once nothing runs (writer_busy): the queue is left to its owners. */
void
writer_stop(void)
{
	if (!writer.started)
		return;
	pthread_mutex_lock(&writer.mtx);
	writer.stopping = 1;
	pthread_cond_broadcast(&writer.cond);
	pthread_mutex_unlock(&writer.mtx);
	pthread_join(writer.thread, NULL);
	writer.started = 0;
	event_free(writer.done_ev);
	writer.done_ev = NULL;
}
