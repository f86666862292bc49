/*
 * map.c - LMDB's map of the data file: finding it, and letting go of the
 * pages a reader touched (store.h, store_map_drop).
 */
#include "config.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "store/internal.h"

/*
 * LMDB does not say where it mapped the data file (me_mapaddr is only set
 * with MDB_FIXEDMAP), so find the mapping of its inode in /proc/self/maps.
 */
void
map_find(struct store *st)
{
	unsigned long lo, hi, ino;
	unsigned long long off;
	unsigned int maj, min;
	char line[512], perms[8];
	MDB_envinfo ei;
	struct stat sb;
	FILE *f;
	int fd;

	st->map = NULL;
	st->maplen = 0;
	st->datafd = -1;
	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) == -1 ||
	    mdb_env_info(st->env, &ei) != 0 ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu", &lo, &hi, perms,
		    &off, &maj, &min, &ino) != 7)
			continue;
		if (ino == sb.st_ino && makedev(maj, min) == sb.st_dev &&
		    off == 0 && hi - lo >= ei.me_mapsize / 2) {
			st->map = (uint8_t *)lo;
			st->maplen = hi - lo;
			st->datafd = fd;
			break;
		}
	}
	fclose(f);
}

void
map_release(struct store *st, const void *p, size_t len)
{
	uintptr_t lo, hi, page = 4096;

	if (p == NULL) {
		(void)store_map_drop(st);
		return;
	}
	if (st->map == NULL)
		return;
	lo = (uintptr_t)p & ~(page - 1);
	hi = ((uintptr_t)p + len + page - 1) & ~(page - 1);
	if (lo < (uintptr_t)st->map || hi > (uintptr_t)st->map + st->maplen)
		return;	/* a dirty page of a write transaction, not the map */
	(void)madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static int
map_advise(struct store *st, int advice)
{
	if (madvise(st->map, st->maplen, advice) == -1)
		return store_fail(errno, "%s/data.mdb: madvise: %s", st->dir,
		    strerror(errno));
	return 0;
}

static int
map_missing(struct store *st)
{
	return store_fail(ENOTSUP, "%s/data.mdb: LMDB's map of it was not "
	    "found", st->dir);
}

/*
 * The map moves when another process grows it or the data file is
 * replaced (env.c's gate), which happens under the gate: a drop from
 * outside any transaction takes it too, or it could advise whatever the
 * old range holds by then.
 */
int
store_map_drop(struct store *st)
{
	int rc;

	pthread_mutex_lock(&st->gate);
	rc = st->map == NULL ? map_missing(st) : map_advise(st, MADV_DONTNEED);
	pthread_mutex_unlock(&st->gate);
	return rc;
}

int
map_random(struct store *st)
{
	int rc;

	if (st->map == NULL)
		return map_missing(st);
	/*
	 * A fault maps no more than fault-around's few pages: not the whole
	 * large folio the page cache may hold the page in.  A kernel without
	 * huge pages says EINVAL: nothing to turn off.
	 */
	if ((rc = map_advise(st, MADV_NOHUGEPAGE)) != 0 && rc != EINVAL)
		return rc;
	return map_advise(st, MADV_RANDOM);
}

int
store_map_random(struct store *st)
{
	int rc;

	pthread_mutex_lock(&st->gate);
	st->map_random = 1;	/* and again on each new map */
	rc = map_random(st);
	pthread_mutex_unlock(&st->gate);
	return rc;
}
