/*
 * pool.c - worker threads that read the store off the event loop, and
 * the fixed set of buffers they read into.
 *
 * A task goes in through a mutex-guarded queue, shared by the loops, and
 * comes back through its own loop's, with event_active() waking that
 * loop (libevent's pthread locking makes that call safe from any
 * thread).  A loop alone touches its evhttp, so a worker never does: it
 * fills the task in and returns it.
 *
 * Buffers are allocated once and reused, and there are only so many: a
 * stream that finds none waits its turn (stream.c), so the memory spent
 * on reads stays the same however many clients there are.  Each loop has
 * its share of them, so that taking one needs no lock.
 */
#include "config.h"


#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/airlockd.h"

static struct {
	pthread_mutex_t	 mtx;
	pthread_cond_t	 cond;
	struct taskq	 todo;
	size_t		 ntodo;
	int		 stopping;
	pthread_t	*threads;
	int		 nthreads;
} pool = {
	.mtx = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

static void *
worker(void *arg)
{
	struct task *tk;

	(void)arg;
	pthread_mutex_lock(&pool.mtx);
	for (;;) {
		while (TAILQ_EMPTY(&pool.todo) && !pool.stopping)
			pthread_cond_wait(&pool.cond, &pool.mtx);
		if ((tk = TAILQ_FIRST(&pool.todo)) == NULL)
			break;	/* stopping, and nothing is left to run */
		TAILQ_REMOVE(&pool.todo, tk, tk_entry);
		pool.ntodo--;
		pthread_mutex_unlock(&pool.mtx);

		tk->tk_run(tk);

		pthread_mutex_lock(&pool.mtx);
		TAILQ_INSERT_TAIL(&tk->tk_loop->l_done, tk, tk_entry);
		event_active(tk->tk_loop->l_done_ev, EV_READ, 0);
	}
	pthread_mutex_unlock(&pool.mtx);
	return NULL;
}

/* On the loop: hands each finished task back to its owner. */
static void
pool_done(evutil_socket_t fd, short what, void *arg)
{
	struct loop *l = arg;
	struct taskq done;
	struct task *tk;

	(void)fd, (void)what;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&pool.mtx);
	TAILQ_CONCAT(&done, &l->l_done, tk_entry);
	pthread_mutex_unlock(&pool.mtx);
	while ((tk = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, tk, tk_entry);
		tk->tk_done(tk);
	}
}

int
pool_attach(struct loop *l)
{
	TAILQ_INIT(&l->l_done);
	if ((l->l_done_ev = event_new(l->l_base, -1, 0, pool_done,
	    l)) == NULL)
		return -1;
	return 0;
}

int
pool_start(int nthreads)
{
	int i, rc;

	TAILQ_INIT(&pool.todo);
	if ((pool.threads = calloc((size_t)nthreads,
	    sizeof(*pool.threads))) == NULL)
		return -1;
	for (i = 0; i < nthreads; i++) {
		if ((rc = pthread_create(&pool.threads[i], NULL, worker,
		    NULL)) != 0) {
			errno = rc;
			log_warn("%s: pthread_create", __func__);
			break;
		}
		pool.nthreads++;
	}
	return pool.nthreads > 0 ? 0 : -1;
}

void
pool_submit(struct task *tk)
{
	pthread_mutex_lock(&pool.mtx);
	TAILQ_INSERT_TAIL(&pool.todo, tk, tk_entry);
	pool.ntodo++;
	pthread_cond_signal(&pool.cond);
	pthread_mutex_unlock(&pool.mtx);
}

size_t
pool_queued(void)
{
	size_t n;

	pthread_mutex_lock(&pool.mtx);
	n = pool.ntodo;
	pthread_mutex_unlock(&pool.mtx);
	return n;
}

void
pool_stop(void)
{
	int i;

	pthread_mutex_lock(&pool.mtx);
	pool.stopping = 1;
	pthread_cond_broadcast(&pool.cond);
	pthread_mutex_unlock(&pool.mtx);
	for (i = 0; i < pool.nthreads; i++)
		pthread_join(pool.threads[i], NULL);
	free(pool.threads);
	pool.threads = NULL;
	pool.nthreads = 0;
}

/* Finishes on this thread what the workers handed back to l. */
void
pool_detach(struct loop *l)
{
	if (l->l_done_ev == NULL)
		return;
	pool_done(-1, 0, l);
	event_free(l->l_done_ev);
	l->l_done_ev = NULL;
}

/*
 * Read buffers.  Only their loop takes and returns them, so the free
 * list needs no lock.
 */
void
buf_init(struct bufs *bs, size_t size, int count)
{
	bs->bs_size = size;
	bs->bs_max = count;
}

struct buf *
buf_get(struct bufs *bs)
{
	struct buf *b;

	if ((b = bs->bs_free) != NULL) {
		bs->bs_free = b->b_next;
		b->b_next = NULL;
		LOOP_ADD(bs->bs_out, 1);
		return b;
	}
	if (bs->bs_made >= bs->bs_max)
		return NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	if ((b->b_data = malloc(bs->bs_size)) == NULL) {
		free(b);
		return NULL;
	}
	b->b_pool = bs;
	b->b_size = bs->bs_size;
	bs->bs_made++;
	LOOP_ADD(bs->bs_out, 1);
	return b;
}

void
buf_put(struct buf *b)
{
	struct bufs *bs = b->b_pool;

	b->b_owner = NULL;
	b->b_len = 0;
	LOOP_ADD(bs->bs_out, -1);
	/* A smaller read-size after SIGHUP: let the old ones go. */
	if (b->b_size != bs->bs_size || bs->bs_made > bs->bs_max) {
		free(b->b_data);
		free(b);
		bs->bs_made--;
		return;
	}
	b->b_next = bs->bs_free;
	bs->bs_free = b;
}

int
buf_out(struct bufs *bs)
{
	return LOOP_GET(bs->bs_out);
}

void
buf_cleanup(struct bufs *bs)
{
	struct buf *b;

	while ((b = bs->bs_free) != NULL) {
		bs->bs_free = b->b_next;
		free(b->b_data);
		free(b);
		bs->bs_made--;
	}
}

/*
 * LMDB maps the store's data file.  Blob bytes are read with pread (see
 * store_blob_read), but every lookup touches B-tree pages in the map, and
 * the kernel maps the large page-cache folio around each fault whole (a
 * few hundred KiB for one page, measured), so the mapped part grows by
 * megabytes for each read, up to the whole file.
 * The page cache keeps the pages whether or not they are mapped, so
 * dropping the mapping of a shared, read-only file mapping loses nothing:
 * the next reader takes a minor fault and sees the same bytes.
 *
 * So after each read a worker looks at the mapped size (one pread of
 * /proc/self/statm) and drops the mapping when it has grown past the
 * budget (map-budget in airlockd.conf).  Dropping
 * costs the next reads their faults again: a larger budget is faster, a
 * smaller one keeps the resident size down.
 */
static struct {
	struct store	*st;
	int		 statm;		/* /proc/self/statm, or -1 */
	long		 pagesize;
	long		 base;		/* pages mapped before any read */
	unsigned long	 budget;	/* bytes */
	pthread_mutex_t	 mtx;
} map = { .statm = -1, .mtx = PTHREAD_MUTEX_INITIALIZER };

/*
 * Pages of file mappings now resident (statm's third field: a few
 * counters, cheap to read after every read).  The program's and its
 * libraries' pages count too, hence the baseline taken at start.  Not
 * taken again after a drop: under load the other workers map pages back
 * while one drops them, and a baseline that counted those would let the
 * mapping grow past the budget for good.
 */
static long
mapped_pages(void)
{
	char buf[128];
	long size, resident, shared;
	ssize_t n;

	if ((n = pread(map.statm, buf, sizeof(buf) - 1, 0)) <= 0)
		return -1;
	buf[n] = '\0';
	if (sscanf(buf, "%ld %ld %ld", &size, &resident, &shared) != 3)
		return -1;
	return shared;
}

int
pool_map_init(struct store *st, size_t budget)
{
	map.st = st;
	map.budget = budget;
	/*
	 * Reads of chunks are not sequential in the file: read-around on a
	 * fault would map (and count) pages nobody asked for.
	 */
	if (store_map_random(st) != 0)
		return -1;
	if ((map.statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	map.pagesize = sysconf(_SC_PAGESIZE);
	if ((map.base = mapped_pages()) < 0)
		map.base = 0;
	return 0;
}

void
pool_trim_map(void)
{
	long pages;

	if (map.st == NULL || map.statm == -1)
		return;
	if ((pages = mapped_pages() - map.base) < 0 ||
	    (unsigned long)pages * (unsigned long)map.pagesize <
	    __atomic_load_n(&map.budget, __ATOMIC_RELAXED))
		return;
	/*
	 * One worker drops it; the others wait rather than go on mapping,
	 * and need not drop it again.
	 */
	pthread_mutex_lock(&map.mtx);
	if ((pages = mapped_pages() - map.base) >= 0 &&
	    (unsigned long)pages * (unsigned long)map.pagesize >=
	    __atomic_load_n(&map.budget, __ATOMIC_RELAXED) &&
	    store_map_drop(map.st) != 0)
		log_warn("%s: dropping the store's map", __func__);
	pthread_mutex_unlock(&map.mtx);
}

void
pool_map_budget(size_t budget)
{
	__atomic_store_n(&map.budget, budget, __ATOMIC_RELAXED);
}
