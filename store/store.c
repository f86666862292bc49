/*
 * store.c - opening the LMDB environment, errors, locks, small tables.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bounds.h"
#include "internal.h"

static __thread char lasterror[1024];
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
store_fail(int code, const char *fmt, ...)
{
	va_list ap;

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

int
store_mdb_fail(int code, const char *what)
{
	if (disk_full(code))
		return store_fail(ENOSPC, "%s: no space left on device "
		    "(store at %s); nothing was committed", what,
		    writing != NULL ? writing->dir : "?");
	return store_fail(code, "%s: %s", what, store_strerror(code));
}

void
put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint64_t
get_be64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

void
put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

uint32_t
get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

void
blobrec_pack(const struct blobrec *b, uint8_t out[BLOBREC_LEN])
{
	put_be64(out, b->size);
	memcpy(out + 8, b->sha1, STORE_SHA1_LEN);
	put_be32(out + 8 + STORE_SHA1_LEN, b->nchunks);
}

int
blobrec_unpack(const MDB_val *v, struct blobrec *b)
{
	const uint8_t *p = v->mv_data;

	if (v->mv_size != BLOBREC_LEN)
		return store_fail(STORE_ECORRUPT, "blob record of %zu bytes",
		    v->mv_size);
	b->size = get_be64(p);
	memcpy(b->sha1, p + 8, STORE_SHA1_LEN);
	b->nchunks = get_be32(p + 8 + STORE_SHA1_LEN);
	return 0;
}

const char *
store_default_dir(void)
{
	static char buf[PATH_MAX];
	const char *s, *home;

	if ((s = getenv("AIRLOCK_STORE")) != NULL && *s != '\0')
		return s;
	if ((s = getenv("XDG_DATA_HOME")) != NULL && *s == '/') {
		snprintf(buf, sizeof(buf), "%s/airlock", s);
		return buf;
	}
	if ((home = getenv("HOME")) == NULL || *home == '\0') {
		struct passwd *pw = getpwuid(getuid());
		home = pw != NULL ? pw->pw_dir : "/";
	}
	snprintf(buf, sizeof(buf), "%s/.local/share/airlock", home);
	return buf;
}

const char *
store_dir(const struct store *st)
{
	return st->dir;
}

const char *
store_id(const struct store *st)
{
	return st->id;
}

static int
mkdirs(const char *dir)
{
	char path[PATH_MAX];
	size_t len;

	if ((len = strlen(dir)) >= sizeof(path))
		return ENAMETOOLONG;
	memcpy(path, dir, len + 1);
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return errno;
		*p = '/';
	}
	if (mkdir(path, 0755) == -1 && errno != EEXIST)
		return errno;
	return 0;
}

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

/* 1 if another process holds lock byte which of the data file. */
static int
lock_held(struct store *st, int which)
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
 * lock.mdb (see store_env_open) holds SLOCK_NOLOCK.
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
	if (store_lock(st, SLOCK_NOLOCK, 1, 0) != 0)
		return store_fail(STORE_EBUSY, "%s: a process that may not write "
		    "its lock.mdb is reading the store: it must finish before "
		    "the store is written", st->dir);
	store_unlock(st, SLOCK_NOLOCK);
	return 0;
}

/* The map size a store starts with: STORE_MAPSIZE, or AIRLOCK_MAPSIZE. */
static int
initial_mapsize(uint64_t *size)
{
	const char *s = getenv("AIRLOCK_MAPSIZE");
	unsigned long long v;
	char *end;

	*size = STORE_MAPSIZE;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < (1u << 16) || v > 1ULL << 50)
		return store_fail(STORE_EINVAL, "AIRLOCK_MAPSIZE=%s: not a "
		    "number of bytes from 65536 to 2^50", s);
	*size = v;
	return 0;
}

static const char *const dbnames[] = {
	"chunk", "blob", "blobmap", "manifest", "sig", "ref", "reflog",
	"pin", "meta", "trust", "release", "setting",
};

static MDB_dbi *
dbslot(struct store *st, size_t i)
{
	MDB_dbi *slots[] = {
		&st->chunk, &st->blob, &st->blobmap, &st->manifest, &st->sig,
		&st->ref, &st->reflog, &st->pin, &st->meta,
		&st->kv[STORE_TRUST], &st->kv[STORE_RELEASE],
		&st->kv[STORE_SETTING],
	};

	return slots[i];
}

/*
 * Opens every named database, and on a new store writes its schema
 * version and a random id; refuses a schema from a newer airlock.
 */
static int
open_dbs(struct store *st, int create)
{
	MDB_txn *txn;
	MDB_val k, v;
	uint8_t id[16], ver[8];
	int rc;

	rc = mdb_txn_begin(st->env, NULL, st->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return store_mdb_fail(rc, st->dir);
	for (size_t i = 0; i < sizeof(dbnames) / sizeof(dbnames[0]); i++) {
		rc = mdb_dbi_open(txn, dbnames[i], st->rdonly ? 0 : MDB_CREATE,
		    dbslot(st, i));
		if (rc == MDB_NOTFOUND) {
			rc = store_fail(STORE_ENOSTORE, "%s: not an airlock "
			    "store (no %s table)", st->dir, dbnames[i]);
			goto fail;
		}
		if (rc != 0) {
			rc = store_mdb_fail(rc, st->dir);
			goto fail;
		}
	}
	k.mv_data = "schema";
	k.mv_size = 6;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create && !st->rdonly) {
		if (getrandom(id, sizeof(id), 0) != sizeof(id)) {
			rc = store_fail(errno, "getrandom: %s", strerror(errno));
			goto fail;
		}
		put_be64(ver, STORE_SCHEMA);
		v.mv_data = ver;
		v.mv_size = 8;
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
			goto mdbfail;
		k.mv_data = "id";
		k.mv_size = 2;
		v.mv_data = id;
		v.mv_size = sizeof(id);
		if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
			goto mdbfail;
		if ((rc = mdb_txn_commit(txn)) != 0)
			return store_mdb_fail(rc, st->dir);
		store_hex(id, sizeof(id), st->id);
		return 0;
	}
	if (rc == MDB_NOTFOUND) {
		rc = store_fail(STORE_ENOSTORE, "%s: not an airlock store",
		    st->dir);
		goto fail;
	}
	if (rc != 0)
		goto mdbfail;
	if (v.mv_size != 8 || get_be64(v.mv_data) > STORE_SCHEMA) {
		rc = store_fail(STORE_EVERSION, "%s: store schema %llu is newer "
		    "than this airlock (%d)", st->dir, v.mv_size == 8 ?
		    (unsigned long long)get_be64(v.mv_data) : 0ULL, STORE_SCHEMA);
		goto fail;
	}
	k.mv_data = "id";
	k.mv_size = 2;
	if ((rc = mdb_get(txn, st->meta, &k, &v)) != 0)
		goto mdbfail;
	if (v.mv_size != 16) {
		rc = store_fail(STORE_ECORRUPT, "%s: bad store id", st->dir);
		goto fail;
	}
	store_hex(v.mv_data, 16, st->id);
	/* Committed even when read-only: an aborted transaction would close
	 * the table handles it opened. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_mdb_fail(rc, st->dir);
	return 0;
mdbfail:
	rc = store_mdb_fail(rc, st->dir);
fail:
	mdb_txn_abort(txn);
	return rc;
}

/*
 * LMDB does not say where it mapped the data file (me_mapaddr is only set
 * with MDB_FIXEDMAP), so find the mapping of its inode in /proc/self/maps.
 */
static void
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

int
store_map_drop(struct store *st)
{
	if (st->map == NULL)
		return -1;
	return madvise(st->map, st->maplen, MADV_DONTNEED);
}

int
store_map_random(struct store *st)
{
	if (st->map == NULL)
		return -1;
	/*
	 * A fault maps no more than fault-around's few pages: not the whole
	 * large folio the page cache may hold the page in.
	 */
	if (madvise(st->map, st->maplen, MADV_NOHUGEPAGE) == -1 &&
	    errno != EINVAL)
		return -1;
	return madvise(st->map, st->maplen, MADV_RANDOM);
}

int
store_env_open(struct store *st, int create)
{
	MDB_envinfo ei;
	uint64_t mapsize;
	int rc, dead;

	if ((rc = initial_mapsize(&mapsize)) != 0)
		return rc;
	if ((rc = mdb_env_create(&st->env)) != 0)
		return store_mdb_fail(rc, st->dir);
	mdb_env_set_maxdbs(st->env, 16);
	mdb_env_set_maxreaders(st->env, 1024);
	/*
	 * MDB_NOTLS: read transactions are not tied to threads, so the
	 * daemon's workers can use them.  No MDB_WRITEMAP: it turns a full
	 * disk into SIGBUS.  No map size yet: the data file's, which only
	 * grows, is the one to start from.
	 */
	rc = mdb_env_open(st->env, st->dir, MDB_NOTLS |
	    (st->rdonly ? MDB_RDONLY : 0), 0644);
	if (rc == EACCES && st->rdonly) {
		/*
		 * We may read the data file (store_open_lock opened it) but
		 * not write lock.mdb, where readers say what they read.
		 * Without it, reading is safe while nothing writes: refuse
		 * if a writer has the store open, and keep writers out
		 * until we close.
		 */
		mdb_env_close(st->env);
		st->env = NULL;
		if ((rc = store_lock(st, SLOCK_NOLOCK, 0, 1)) != 0)
			return store_fail(rc, "%s/data.mdb: lock: %s", st->dir,
			    store_strerror(rc));
		if (lock_held(st, SLOCK_RW))
			return store_fail(EACCES, "%s/lock.mdb: permission "
			    "denied: readers must be able to write it while "
			    "another process writes the store", st->dir);
		if ((rc = mdb_env_create(&st->env)) != 0)
			return store_mdb_fail(rc, st->dir);
		mdb_env_set_maxdbs(st->env, 16);
		st->nolock = 1;
		rc = mdb_env_open(st->env, st->dir, MDB_NOTLS | MDB_RDONLY |
		    MDB_NOLOCK, 0644);
	}
	if (rc == EACCES)
		return store_fail(rc, "%s: permission denied: %s needs to "
		    "write lock.mdb and data.mdb there", st->dir,
		    st->rdonly ? "reading" : "writing");
	if (rc != 0)
		return store_mdb_fail(rc, st->dir);
	if (mdb_env_info(st->env, &ei) == 0 && ei.me_mapsize < mapsize &&
	    (rc = mdb_env_set_mapsize(st->env, mapsize)) != 0)
		return store_mdb_fail(rc, "map size");
	/* Readers a killed process left behind would pin old pages. */
	(void)mdb_reader_check(st->env, &dead);
	map_find(st);
	return open_dbs(st, create);
}

int
store_open(const char *dir, unsigned flags, struct store **out)
{
	struct store *st;
	char path[PATH_MAX];
	struct stat sb;
	int rc;

	*out = NULL;
	lasterror[0] = '\0';
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ENOMEM;
	st->lockfd = -1;
	st->openfd = -1;
	st->rdonly = (flags & STORE_RDONLY) != 0;
	if ((st->dir = strdup(dir)) == NULL) {
		free(st);
		return ENOMEM;
	}
	if (flags & STORE_CREATE) {
		if ((rc = mkdirs(dir)) != 0) {
			rc = store_fail(rc, "%s: %s", dir, strerror(rc));
			goto fail;
		}
	}
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	if (!(flags & STORE_CREATE) && stat(path, &sb) == -1) {
		rc = store_fail(STORE_ENOSTORE, "no store at %s (airlock init "
		    "makes one)", dir);
		goto fail;
	}
	/* Only writers take airlock.lock's locks (ingest and gc). */
	if (!st->rdonly) {
		snprintf(path, sizeof(path), "%s/airlock.lock", dir);
		st->lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (st->lockfd == -1) {
			rc = store_fail(errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
	}
	if ((rc = store_open_lock(st, (flags & STORE_CREATE) != 0)) != 0)
		goto fail;
	if ((rc = store_env_open(st, (flags & STORE_CREATE) != 0)) != 0)
		goto fail;
	*out = st;
	return 0;
fail:
	store_close(st);
	return rc;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (writing == st)
		writing = NULL;
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd != -1)
		close(st->lockfd);
	if (st->openfd != -1)
		close(st->openfd);
	free(st->dir);
	free(st);
}

int
txn_read(struct store *st, MDB_txn **txn)
{
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn)) == 0)
		return 0;
	if (rc == MDB_MAP_RESIZED)
		return store_fail(rc, "%s: another process grew the store "
		    "past this one's map; open it again", st->dir);
	return store_mdb_fail(rc, "read transaction");
}

int
txn_write(struct store *st, MDB_txn **txn)
{
	MDB_envinfo ei;
	MDB_stat ms;
	uint64_t used, size;
	int rc;

	writing = st;
	if (st->rdonly)
		return store_fail(EROFS, "%s: opened read-only", st->dir);
	for (int tries = 0; tries < 2; tries++) {
		if ((rc = mdb_env_info(st->env, &ei)) != 0 ||
		    (rc = mdb_env_stat(st->env, &ms)) != 0)
			return store_mdb_fail(rc, "map size");
		used = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
		for (size = ei.me_mapsize; size < used + STORE_HEADROOM;)
			size *= 2;
		if (size != ei.me_mapsize) {
			if ((rc = mdb_env_set_mapsize(st->env, size)) != 0)
				return store_mdb_fail(rc, "map size");
			map_find(st);
		}
		rc = mdb_txn_begin(st->env, NULL, 0, txn);
		if (rc != MDB_MAP_RESIZED)
			break;
		/* Another process grew it: take its size, look again. */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			break;
		map_find(st);
	}
	if (rc != 0)
		return store_mdb_fail(rc, "write transaction");
	return 0;
}

int
store_map_size(struct store *st, uint64_t *size, uint64_t *used)
{
	MDB_envinfo ei;
	MDB_stat ms;
	int rc;

	if ((rc = mdb_env_info(st->env, &ei)) != 0 ||
	    (rc = mdb_env_stat(st->env, &ms)) != 0)
		return store_mdb_fail(rc, "map size");
	*size = ei.me_mapsize;
	*used = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
	return 0;
}

uint64_t
meta_get(struct store *st, MDB_txn *txn, const char *name)
{
	MDB_val k = { strlen(name), (void *)name }, v;

	if (mdb_get(txn, st->meta, &k, &v) != 0 || v.mv_size != 8)
		return 0;
	return get_be64(v.mv_data);
}

int
meta_add(struct store *st, MDB_txn *txn, const char *name, int64_t delta)
{
	MDB_val k = { strlen(name), (void *)name }, v;
	uint8_t buf[8];
	uint64_t n;

	n = meta_get(st, txn, name) + (uint64_t)delta;
	put_be64(buf, n);
	v.mv_data = buf;
	v.mv_size = 8;
	return mdb_put(txn, st->meta, &k, &v, 0);
}

void
store_hex(const uint8_t *bin, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bin[i] >> 4];
		out[2 * i + 1] = digits[bin[i] & 15];
	}
	out[2 * len] = '\0';
}

int
store_hexdigit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
store_unhex(const char *hex, uint8_t *bin, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		int hi = store_hexdigit((unsigned char)hex[2 * i]), lo;

		if (hi < 0 ||
		    (lo = store_hexdigit((unsigned char)hex[2 * i + 1])) < 0)
			return STORE_EINVAL;
		bin[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex[2 * len] == '\0' ? 0 : STORE_EINVAL;
}

void
store_digest_str(const uint8_t d[STORE_HASH_LEN],
    char out[STORE_DIGEST_STRLEN + 1])
{
	memcpy(out, "sha256:", 7);
	store_hex(d, STORE_HASH_LEN, out + 7);
}

int
store_digest_parse(const char *s, uint8_t d[STORE_HASH_LEN])
{
	if (strncmp(s, "sha256:", 7) == 0)
		s += 7;
	if (strlen(s) != STORE_HEX_LEN)
		return STORE_EINVAL;
	return store_unhex(s, d, STORE_HASH_LEN);
}

/* Small tables: one transaction per call; values are copied out. */

int
store_kv_get(struct store *st, enum store_table t, const void *key,
    size_t klen, void **val, size_t *vlen)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	*val = NULL;
	*vlen = 0;
	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_get(txn, st->kv[t], &k, &v)) == 0) {
		if ((*val = malloc(v.mv_size + 1)) == NULL)
			rc = ENOMEM;
		else {
			memcpy(*val, v.mv_data, v.mv_size);
			((char *)*val)[v.mv_size] = '\0';
			*vlen = v.mv_size;
		}
	} else if (rc == MDB_NOTFOUND)
		rc = STORE_ENOTFOUND;
	mdb_txn_abort(txn);
	return rc;
}

static int
kv_write(struct store *st, enum store_table t, const void *key, size_t klen,
    const void *val, size_t vlen, int del)
{
	MDB_txn *txn;
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (klen == 0 || klen > 511)
		return store_fail(STORE_EINVAL, "key of %zu bytes", klen);
	if ((rc = txn_write(st, &txn)) != 0)
		return rc;
	rc = del ? mdb_del(txn, st->kv[t], &k, NULL) :
	    mdb_put(txn, st->kv[t], &k, &v, 0);
	if (rc == MDB_NOTFOUND) {
		mdb_txn_abort(txn);
		return STORE_ENOTFOUND;
	}
	if (rc != 0) {
		mdb_txn_abort(txn);
		return store_mdb_fail(rc, "write");
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_mdb_fail(rc, "commit");
	return 0;
}

int
store_kv_put(struct store *st, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	return kv_write(st, t, key, klen, val, vlen, 0);
}

int
store_kv_delete(struct store *st, enum store_table t, const void *key,
    size_t klen)
{
	return kv_write(st, t, key, klen, NULL, 0, 1);
}

int
store_kvtxn_get(struct store_kvtxn *kt, enum store_table t, const void *key,
    size_t klen, const void **val, size_t *vlen)
{
	MDB_val k = { klen, (void *)key }, v;
	int rc;

	*val = NULL;
	*vlen = 0;
	if ((rc = mdb_get(kt->txn, kt->st->kv[t], &k, &v)) == MDB_NOTFOUND)
		return STORE_ENOTFOUND;
	if (rc != 0)
		return store_mdb_fail(rc, "read");
	*val = v.mv_data;
	*vlen = v.mv_size;
	return 0;
}

int
store_kvtxn_put(struct store_kvtxn *kt, enum store_table t, const void *key,
    size_t klen, const void *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (klen == 0 || klen > 511)
		return store_fail(STORE_EINVAL, "key of %zu bytes", klen);
	if ((rc = mdb_put(kt->txn, kt->st->kv[t], &k, &v, 0)) != 0)
		return store_mdb_fail(rc, "write");
	return 0;
}

int
store_kv_txn(struct store *st, store_kvtxn_fn fn, void *arg)
{
	struct store_kvtxn kt = { st, NULL };
	int rc;

	if ((rc = txn_write(st, &kt.txn)) != 0)
		return rc;
	if ((rc = fn(arg, &kt)) != 0) {
		mdb_txn_abort(kt.txn);
		return rc;
	}
	if ((rc = mdb_txn_commit(kt.txn)) != 0)
		return store_mdb_fail(rc, "commit");
	return 0;
}

int
db_each(struct store *st, MDB_dbi dbi, const void *prefix, size_t plen,
    db_fn fn, void *arg)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = { plen, (void *)prefix }, d;
	int rc;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	if ((rc = mdb_cursor_open(txn, dbi, &cur)) != 0) {
		mdb_txn_abort(txn);
		return store_mdb_fail(rc, "cursor");
	}
	for (rc = mdb_cursor_get(cur, &k, &d, plen != 0 ? MDB_SET_RANGE :
	    MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
		if (plen != 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((rc = fn(arg, &k, &d)) != 0)
			break;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	mdb_cursor_close(cur);
	mdb_txn_abort(txn);
	return rc;
}

struct kv_each {
	store_kv_fn	 fn;
	void		*arg;
};

static int
kv_one(void *arg, const MDB_val *k, const MDB_val *d)
{
	struct kv_each *e = arg;

	return e->fn(e->arg, k->mv_data, k->mv_size, d->mv_data, d->mv_size);
}

int
store_kv_each(struct store *st, enum store_table t, store_kv_fn fn, void *arg)
{
	struct kv_each e = { fn, arg };

	return db_each(st, st->kv[t], NULL, 0, kv_one, &e);
}
