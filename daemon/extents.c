/*
 * extents.c - where each served blob lies in the store's data file, kept
 * so that sending a file does not look up each of its chunks again for
 * every client and every window.
 *
 * An entry is right for the generation of the view it was found under
 * (store.h): a view of another generation, after a gc, finds it again.
 * It holds no place of a chunk that lies in a leaf page (a small one, at
 * the end of a file), which a later write may move and free: the sender
 * finds that one again under its own view (stream.c).
 * Entries are immutable once made and reference counted; the least
 * recently used ones go when the cache holds more than BOUND_EXTENTS_CACHE
 * bytes of them.  Workers use the cache, under one mutex.  It is one for
 * all the serving loops, not one a loop: the clients of one file, on
 * whichever loops the kernel put them, share its lookups, and the lock is
 * taken once a window (8 MB), by a worker, never by a loop.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/airlockd.h"


static struct extents_lru lru = TAILQ_HEAD_INITIALIZER(lru);
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static size_t cached;

static size_t
entry_bytes(const struct extents *ex)
{
	return sizeof(*ex) + ex->ex_n * sizeof(*ex->ex_ext);
}

static void
entry_free(struct extents *ex)
{
	free(ex->ex_ext);
	free(ex);
}

/* Takes ex out of the cache; the last reference frees it.  mtx held. */
static void
unlink_entry(struct extents *ex)
{
	TAILQ_REMOVE(&lru, ex, ex_entry);
	ex->ex_linked = 0;
	cached -= entry_bytes(ex);
	if (ex->ex_refs == 0)
		entry_free(ex);
}

static void
evict(void)
{
	struct extents *ex, *prev;

	for (ex = TAILQ_LAST(&lru, extents_lru); ex != NULL &&
	    cached > BOUND_EXTENTS_CACHE; ex = prev) {
		prev = TAILQ_PREV(ex, extents_lru, ex_entry);
		if (ex->ex_refs == 0)
			unlink_entry(ex);
	}
}

struct extents *
extents_get(struct store_view *v, const uint8_t sha[STORE_HASH_LEN])
{
	struct extents *ex, *next;
	uint64_t gen = store_view_generation(v);

	pthread_mutex_lock(&mtx);
	for (ex = TAILQ_FIRST(&lru); ex != NULL; ex = next) {
		next = TAILQ_NEXT(ex, ex_entry);
		if (memcmp(ex->ex_sha, sha, STORE_HASH_LEN) != 0)
			continue;
		if (ex->ex_generation != gen) {
			unlink_entry(ex);	/* a gc ran since */
			continue;
		}
		TAILQ_REMOVE(&lru, ex, ex_entry);
		TAILQ_INSERT_HEAD(&lru, ex, ex_entry);
		ex->ex_refs++;
		pthread_mutex_unlock(&mtx);
		return ex;
	}
	pthread_mutex_unlock(&mtx);

	/* Found outside the lock: another worker may find it too. */
	if ((ex = calloc(1, sizeof(*ex))) == NULL)
		return NULL;
	if (store_view_extents(v, sha, &ex->ex_ext, &ex->ex_n) != 0) {
		free(ex);
		return NULL;
	}
	memcpy(ex->ex_sha, sha, STORE_HASH_LEN);
	ex->ex_generation = gen;
	ex->ex_refs = 1;
	pthread_mutex_lock(&mtx);
	ex->ex_linked = 1;
	TAILQ_INSERT_HEAD(&lru, ex, ex_entry);
	cached += entry_bytes(ex);
	evict();
	pthread_mutex_unlock(&mtx);
	return ex;
}

void
extents_put(struct extents *ex)
{
	if (ex == NULL)
		return;
	pthread_mutex_lock(&mtx);
	if (--ex->ex_refs == 0 && !ex->ex_linked)
		entry_free(ex);
	else if (ex->ex_refs == 0)
		evict();
	pthread_mutex_unlock(&mtx);
}

size_t
extents_find(const struct extents *ex, uint64_t off)
{
	size_t lo = 0, hi = ex->ex_n;

	/* The last extent that starts at or before off. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ex->ex_ext[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

void
extents_cache_free(void)
{
	struct extents *ex;

	pthread_mutex_lock(&mtx);
	while ((ex = TAILQ_FIRST(&lru)) != NULL)
		unlink_entry(ex);
	pthread_mutex_unlock(&mtx);
}
