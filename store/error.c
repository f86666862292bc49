/*
 * error.c - the store's errors: the generic text of each code and the
 * thread's last failure in words (store.h, "Errors").
 */
#include "config.h"

#include <sys/statvfs.h>

#include <errno.h>
#include <stdio.h>

#include "store/internal.h"

static __thread char lasterror[1024];
static __thread int lastcode;

/* The store this thread last began to write: where a full disk is. */
static __thread const struct store *writing;

const char *
store_strerror(int code)
{
	switch (code) {
	case 0:
		return "success";
	case STORE_ENOTFOUND:
		return "not found";
	case STORE_EINVAL:
		return "invalid input";
	case STORE_ECORRUPT:
		return "stored data does not match its hash";
	case STORE_EBUSY:
		return "the store is in use by another process";
	case STORE_EVERSION:
		return "unknown format version";
	case STORE_ENOSTORE:
		return "no store here";
	case STORE_EEXIST:
		return "already exists";
	case STORE_ECANCELED:
		return "canceled";
	case STORE_EIMMUTABLE:
		return "a commit id or tag never moves";
	case STORE_EAGAIN:
		return "the store is being mapped again: try again";
	case MDB_MAP_FULL:
		return "store map full";
	}
	/* mdb_strerror() knows LMDB's codes and falls back to strerror(). */
	return mdb_strerror(code);
}

const char *
store_lasterror(void)
{
	return lasterror[0] != '\0' ? lasterror : "no error";
}

int
store_lastcode(void)
{
	return lasterror[0] != '\0' ? lastcode : 0;
}

int
store_fail(int code, const char *fmt, ...)
{
	va_list ap;

	lastcode = code;
	va_start(ap, fmt);
	vsnprintf(lasterror, sizeof(lasterror), fmt, ap);
	va_end(ap);
	return code;
}

/*
 * LMDB reports a short write, which is how a disk fills up under it, as
 * EIO: an EIO on a file system with no space left is a full disk.
 */
static int
disk_full(int code)
{
	struct statvfs sv;

	if (code == ENOSPC)
		return 1;
	return code == EIO && writing != NULL &&
	    statvfs(writing->dir, &sv) == 0 &&
	    (uint64_t)sv.f_bavail * sv.f_frsize < (1u << 20);
}

void
fail_clear(void)
{
	lasterror[0] = '\0';
}

void
fail_writing(const struct store *st)
{
	writing = st;
}

void
fail_forget(const struct store *st)
{
	if (writing == st)
		writing = NULL;
}

int
store_mdb_fail(int code, const char *what)
{
	if (disk_full(code))
		return store_fail(ENOSPC, "%s: no space left on device "
		    "(store at %s); nothing was committed", what,
		    writing != NULL ? writing->dir : "?");
	return store_fail(code, "%s: %s", what, store_strerror(code));
}
