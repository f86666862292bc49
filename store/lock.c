/*
 * lock.c - the lock bytes that keep gc, ingests, compaction and readers
 * without lock.mdb apart (internal.h, SLOCK_*).
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/internal.h"

int
store_lock(struct store *st, int which, int exclusive, int wait)
{
	int fd = which & SLOCK_LOCKFILE ? st->lockfd : st->openfd;
	struct flock fl = {
		.l_type = exclusive ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = which & 0xff,
		.l_len = 1,
	};

	if (fd == -1)
		return 0;
	while (fcntl(fd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == -1) {
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EACCES)
			return STORE_EBUSY;
		return errno;
	}
	return 0;
}

void
store_unlock(struct store *st, int which)
{
	int fd = which & SLOCK_LOCKFILE ? st->lockfd : st->openfd;
	struct flock fl = {
		.l_type = F_UNLCK,
		.l_whence = SEEK_SET,
		.l_start = which & 0xff,
		.l_len = 1,
	};

	if (fd != -1)
		(void)fcntl(fd, F_OFD_SETLK, &fl);
}

int
store_lock_held(struct store *st, int which)
{
	struct flock fl = {
		.l_type = F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = which,
		.l_len = 1,
	};

	if (fcntl(st->openfd, F_OFD_GETLK, &fl) == -1)
		return 1;
	return fl.l_type != F_UNLCK;
}

/*
 * Opens the data file and takes the shared lock every opener holds while
 * it has the store open.  Compaction takes that lock alone, then renames
 * a new data file over the old: a lock won on a file the path no longer
 * names is let go and the new file locked instead.  A read-write opener
 * also holds SLOCK_RW, and refuses while a reader without access to
 * lock.mdb (see store_env_open) holds SLOCK_NOLOCK, which only such
 * readers ever lock.
 */
int
store_open_lock(struct store *st, int create)
{
	char path[PATH_MAX];
	struct stat a, b;
	int rc;

	snprintf(path, sizeof(path), "%s/data.mdb", st->dir);
	for (int tries = 0; tries < 100; tries++) {
		st->openfd = open(path, (st->rdonly ? O_RDONLY : O_RDWR |
		    (create ? O_CREAT : 0)) | O_CLOEXEC, 0644);
		if (st->openfd == -1)
			return store_fail(errno, "%s: %s", path,
			    strerror(errno));
		if ((rc = store_lock(st, SLOCK_OPEN, 0, 1)) != 0)
			return store_fail(rc, "%s: lock: %s", path,
			    store_strerror(rc));
		if (fstat(st->openfd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			break;
		close(st->openfd);
		st->openfd = -1;
	}
	if (st->openfd == -1)
		return store_fail(STORE_EBUSY, "%s: replaced again and again "
		    "while we opened it", path);
	if (st->rdonly)
		return 0;
	if ((rc = store_lock(st, SLOCK_RW, 0, 1)) != 0)
		return store_fail(rc, "%s: lock: %s", path, store_strerror(rc));
	/* Asked, not taken: a writer that took it for a moment would look
	 * like such a reader to another writer opening at that moment. */
	if (store_lock_held(st, SLOCK_NOLOCK))
		return store_fail(STORE_EBUSY, "%s: a process that may not write "
		    "its lock.mdb is reading the store: it must finish before "
		    "the store is written", st->dir);
	return 0;
}
