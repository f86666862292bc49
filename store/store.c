/*
 * store.c - opening the LMDB environment, errors, locks, small tables.
 */
#include "config.h"

#include <sys/file.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <sys/random.h>
#include <sys/stat.h>

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

int
store_mdb_fail(int code, const char *what)
{
	if (code == ENOSPC)
		return store_fail(code, "%s: no space left on device; "
		    "nothing was committed", what);
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
	struct flock fl = {
		.l_type = exclusive ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = which,
		.l_len = 1,
	};

	if (st->lockfd == -1)
		return 0;
	while (fcntl(st->lockfd, wait ? F_OFD_SETLKW : F_OFD_SETLK, &fl) == -1) {
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
	struct flock fl = {
		.l_type = F_UNLCK,
		.l_whence = SEEK_SET,
		.l_start = which,
		.l_len = 1,
	};

	if (st->lockfd != -1)
		(void)fcntl(st->lockfd, F_OFD_SETLK, &fl);
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
	struct stat sb;
	FILE *f;
	int fd;

	st->map = NULL;
	st->maplen = 0;
	st->datafd = -1;
	if (mdb_env_get_fd(st->env, &fd) != 0 || fstat(fd, &sb) == -1 ||
	    (f = fopen("/proc/self/maps", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu", &lo, &hi, perms,
		    &off, &maj, &min, &ino) != 7)
			continue;
		if (ino == sb.st_ino && makedev(maj, min) == sb.st_dev &&
		    off == 0 && hi - lo >= STORE_MAPSIZE / 2) {
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
	int rc, dead;

	if ((rc = mdb_env_create(&st->env)) != 0)
		return store_mdb_fail(rc, st->dir);
	mdb_env_set_maxdbs(st->env, 16);
	mdb_env_set_maxreaders(st->env, 1024);
	if ((rc = mdb_env_set_mapsize(st->env, STORE_MAPSIZE)) != 0)
		return store_mdb_fail(rc, st->dir);
	/*
	 * MDB_NOTLS: read transactions are not tied to threads, so the
	 * daemon's workers can use them.  No MDB_WRITEMAP: it turns a full
	 * disk into SIGBUS.
	 */
	rc = mdb_env_open(st->env, st->dir, MDB_NOTLS |
	    (st->rdonly ? MDB_RDONLY : 0), 0644);
	if (rc != 0)
		return store_mdb_fail(rc, st->dir);
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
	snprintf(path, sizeof(path), "%s/airlock.lock", dir);
	st->lockfd = open(path, (st->rdonly ? O_RDONLY : O_RDWR | O_CREAT) |
	    O_CLOEXEC, 0644);
	if (st->lockfd == -1 && !(st->rdonly && errno == ENOENT)) {
		rc = store_fail(errno, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if ((rc = store_lock(st, SLOCK_OPEN, 0, 1)) != 0) {
		rc = store_fail(rc, "%s: lock: %s", path, store_strerror(rc));
		goto fail;
	}
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
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd != -1)
		close(st->lockfd);
	free(st->dir);
	free(st);
}

int
txn_read(struct store *st, MDB_txn **txn)
{
	int rc;

	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn)) != 0)
		return store_mdb_fail(rc, "read transaction");
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
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != 0)
		return store_mdb_fail(rc, "write transaction");
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
