/*
 * error.c - the store's errors: the generic text of each code and the
 * thread's last failure in words (store.h, "Errors").
 */
#include "config.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	case STORE_ENOREPO:
		return "no such repository";
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

/* A mountinfo field, its octal escapes (\040 for a space) undone. */
static void
unescape(char *s)
{
	char *o = s;

	for (; *s != '\0'; s++, o++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*o = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
			    (s[3] - '0'));
			s += 3;
		} else
			*o = *s;
	}
	*o = '\0';
}

/* Whether path is point or below it. */
static int
under(const char *path, const char *point, size_t len)
{
	if (strcmp(point, "/") == 0)
		return 1;
	return strncmp(path, point, len) == 0 &&
	    (path[len] == '/' || path[len] == '\0');
}

/*
 * The file system dir is on, from /proc/self/mountinfo: the mount of its
 * device with the longest mount point (a bind mount's may be shorter).
 * 0, or -1 when it is not found.
 */
static int
mount_of(const char *dir, char *dev, size_t devsize, char *mnt,
    size_t mntsize)
{
	char line[2 * PATH_MAX], point[PATH_MAX], source[PATH_MAX], *sep;
	unsigned int maj, min;
	char real[PATH_MAX];
	struct stat sb;
	size_t best = 0, len;
	FILE *f;

	if (realpath(dir, real) == NULL || stat(real, &sb) == -1 ||
	    (f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		/* ID PARENT MAJ:MIN ROOT POINT OPTIONS [TAGS...] - TYPE
		 * SOURCE SUPEROPTIONS */
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min,
		    point) != 3 || makedev(maj, min) != sb.st_dev ||
		    (sep = strstr(line, " - ")) == NULL ||
		    sscanf(sep, " - %*s %4095s", source) != 1)
			continue;
		unescape(point);
		unescape(source);
		if ((len = strlen(point)) < best || !under(real, point, len))
			continue;
		best = len;
		snprintf(dev, devsize, "%s", source);
		snprintf(mnt, mntsize, "%s", point);
	}
	fclose(f);
	return best > 0 ? 0 : -1;
}

int
store_mdb_fail(int code, const char *what)
{
	char dev[PATH_MAX], mnt[PATH_MAX];
	const char *dir = writing != NULL ? writing->dir : NULL;

	if (disk_full(code) && dir != NULL &&
	    mount_of(dir, dev, sizeof(dev), mnt, sizeof(mnt)) == 0)
		return store_fail(ENOSPC, "%s: no space left on %s mounted at "
		    "%s (store at %s); nothing was committed", what, dev, mnt,
		    dir);
	if (disk_full(code))
		return store_fail(ENOSPC, "%s: no space left on device "
		    "(store at %s); nothing was committed", what,
		    dir != NULL ? dir : "?");
	return store_fail(code, "%s: %s", what, store_strerror(code));
}
