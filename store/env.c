/*
 * env.c - opening and closing a store: the directory, the LMDB
 * environment and its tables, the schema and store id, transactions and
 * the map size they grow (store.h, "Opening").
 */
#include "config.h"

#include <sys/random.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "store/internal.h"

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

/*
 * The map size a store starts with: at least STORE_MAPSIZE, or (*exact
 * set) AIRLOCK_MAPSIZE's, which LMDB raises to what the data file uses:
 * a test's way to have another process grow the store past this one's.
 */
static int
initial_mapsize(uint64_t *size, int *exact)
{
	const char *s = getenv("AIRLOCK_MAPSIZE");
	unsigned long long v;
	char *end;

	*size = STORE_MAPSIZE;
	*exact = 0;
	if (s == NULL || *s == '\0')
		return 0;
	*exact = 1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < BOUND_MAPSIZE_MIN ||
	    v > BOUND_MAPSIZE_MAX)
		return store_fail(STORE_EINVAL, "AIRLOCK_MAPSIZE=%s: not a "
		    "number of bytes from %llu to %llu", s, BOUND_MAPSIZE_MIN,
		    BOUND_MAPSIZE_MAX);
	*size = v;
	return 0;
}

/* The store's own tables, and where each one's handle goes. */
static const struct {
	const char	*name;
	size_t		 slot;
} tables[] = {
	{ "chunk", offsetof(struct store, chunk) },
	{ "blob", offsetof(struct store, blob) },
	{ "blobmap", offsetof(struct store, blobmap) },
	{ "manifest", offsetof(struct store, manifest) },
	{ "sig", offsetof(struct store, sig) },
	{ "ref", offsetof(struct store, ref) },
	{ "reflog", offsetof(struct store, reflog) },
	{ "pin", offsetof(struct store, pin) },
	{ "meta", offsetof(struct store, meta) },
};

/* The small tables of enum store_table (store.h), by name. */
static const char *const kvnames[STORE_NTABLES] = {
	[STORE_TRUST] = "trust",
	[STORE_RELEASE] = "release",
	[STORE_SETTING] = "setting",
	[STORE_PARTIAL] = "partial",
	[STORE_REPOS] = "repos",
	[STORE_DOWNLOADS] = "downloads",
};

static int
table_open(struct store *st, MDB_txn *txn, const char *name, MDB_dbi *dbi)
{
	int rc;

	rc = mdb_dbi_open(txn, name, st->rdonly ? 0 : MDB_CREATE, dbi);
	if (rc == MDB_NOTFOUND)
		return store_fail(STORE_ENOSTORE, "%s: not an airlock store "
		    "(no %s table)", st->dir, name);
	return rc != 0 ? store_mdb_fail(rc, st->dir) : 0;
}

static int
tables_open(struct store *st, MDB_txn *txn)
{
	int rc;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		if ((rc = table_open(st, txn, tables[i].name,
		    (MDB_dbi *)((char *)st + tables[i].slot))) != 0)
			return rc;
	for (size_t t = 0; t < STORE_NTABLES; t++) {
		/* A reader of an older store goes without the newer tables:
		 * what they hold is not there yet. */
		if (st->rdonly && mdb_dbi_open(txn, kvnames[t], 0,
		    &st->kv[t]) == MDB_NOTFOUND) {
			st->kv_absent |= 1u << t;
			continue;
		}
		if ((rc = table_open(st, txn, kvnames[t], &st->kv[t])) != 0)
			return rc;
	}
	return 0;
}

/* A new store: its schema version and a random id, in txn. */
static int
schema_init(struct store *st, MDB_txn *txn)
{
	MDB_val k = { 6, "schema" }, v;
	uint8_t id[16], ver[8];
	int rc;

	if (getrandom(id, sizeof(id), 0) != sizeof(id))
		return store_fail(errno, "getrandom: %s", strerror(errno));
	put_be64(ver, STORE_SCHEMA);
	v.mv_data = ver;
	v.mv_size = 8;
	if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
		return store_mdb_fail(rc, st->dir);
	k.mv_data = "id";
	k.mv_size = 2;
	v.mv_data = id;
	v.mv_size = sizeof(id);
	if ((rc = mdb_put(txn, st->meta, &k, &v, 0)) != 0)
		return store_mdb_fail(rc, st->dir);
	store_hex(id, sizeof(id), st->id);
	return 0;
}

/* An existing store: a schema this airlock knows, and its id. */
static int
schema_check(struct store *st, MDB_txn *txn, const MDB_val *ver)
{
	MDB_val k = { 2, "id" }, v;
	int rc;

	if (ver->mv_size != 8 || get_be64(ver->mv_data) > STORE_SCHEMA)
		return store_fail(STORE_EVERSION, "%s: store schema %llu is "
		    "newer than this airlock (%d)", st->dir, ver->mv_size == 8 ?
		    (unsigned long long)get_be64(ver->mv_data) : 0ULL,
		    STORE_SCHEMA);
	if ((rc = mdb_get(txn, st->meta, &k, &v)) != 0)
		return store_mdb_fail(rc, st->dir);
	if (v.mv_size != 16)
		return store_fail(STORE_ECORRUPT, "%s: bad store id", st->dir);
	store_hex(v.mv_data, 16, st->id);
	return 0;
}

/*
 * Opens every named database, and on a new store writes its schema
 * version and a random id; refuses a schema from a newer airlock.
 */
static int
open_dbs(struct store *st, int create)
{
	MDB_txn *txn;
	MDB_val k = { 6, "schema" }, v;
	int rc;

	rc = mdb_txn_begin(st->env, NULL, st->rdonly ? MDB_RDONLY : 0, &txn);
	if (rc != 0)
		return store_mdb_fail(rc, st->dir);
	if ((rc = tables_open(st, txn)) != 0)
		goto fail;
	rc = mdb_get(txn, st->meta, &k, &v);
	if (rc == MDB_NOTFOUND && create && !st->rdonly)
		rc = schema_init(st, txn);
	else if (rc == MDB_NOTFOUND)
		rc = store_fail(STORE_ENOSTORE, "%s: not an airlock store",
		    st->dir);
	else if (rc != 0)
		rc = store_mdb_fail(rc, st->dir);
	else
		rc = schema_check(st, txn, &v);
	if (rc != 0)
		goto fail;
	/* Committed even when read-only: an aborted transaction would close
	 * the table handles it opened. */
	if ((rc = mdb_txn_commit(txn)) != 0)
		return store_mdb_fail(rc, st->dir);
	return 0;
fail:
	mdb_txn_abort(txn);
	return rc;
}

int
store_env_open(struct store *st, int create)
{
	MDB_envinfo ei;
	struct stat sb;
	uint64_t mapsize;
	int rc, dead, exact;

	if ((rc = initial_mapsize(&mapsize, &exact)) != 0)
		return rc;
	if ((rc = mdb_env_create(&st->env)) != 0)
		return store_mdb_fail(rc, st->dir);
	mdb_env_set_maxdbs(st->env, 16);
	mdb_env_set_maxreaders(st->env, 1024);
	(void)mdb_env_set_userctx(st->env, st);
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
		if (store_lock_held(st, SLOCK_RW))
			return store_fail(EACCES, "%s/lock.mdb: permission "
			    "denied: readers must be able to write it while "
			    "another process writes the store", st->dir);
		if ((rc = mdb_env_create(&st->env)) != 0)
			return store_mdb_fail(rc, st->dir);
		mdb_env_set_maxdbs(st->env, 16);
		(void)mdb_env_set_userctx(st->env, st);
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
	if (mdb_env_info(st->env, &ei) == 0 &&
	    (ei.me_mapsize < mapsize || (exact && ei.me_mapsize != mapsize)) &&
	    (rc = mdb_env_set_mapsize(st->env, mapsize)) != 0)
		return store_mdb_fail(rc, "map size");
	/* Readers a killed process left behind would pin old pages. */
	(void)mdb_reader_check(st->env, &dead);
	map_find(st);
	if (st->map_random)
		(void)map_random(st);
	if (fstat(st->openfd, &sb) == 0) {
		st->file_dev = sb.st_dev;
		st->file_ino = sb.st_ino;
	}
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
	fail_clear();
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return ENOMEM;
	st->lockfd = -1;
	st->openfd = -1;
	st->rdonly = (flags & STORE_RDONLY) != 0;
	st->nogrow = (flags & STORE_NOGROW) != 0;
	st->follow = (flags & STORE_FOLLOW) != 0;
	pthread_mutex_init(&st->gate, NULL);
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
	if (!st->rdonly && (rc = repoindex_rebuild(st)) != 0)
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
	fail_forget(st);
	if (st->env != NULL)
		mdb_env_close(st->env);
	if (st->lockfd != -1)
		close(st->lockfd);
	if (st->openfd != -1)
		close(st->openfd);
	pthread_mutex_destroy(&st->gate);
	free(st->dir);
	free(st);
}

static time_t
monotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * STORE_FOLLOW: whether data.mdb is still the file LMDB has open, looked
 * at no more than once a second.  Gate held.
 */
static void
follow_check(struct store *st)
{
	char path[PATH_MAX];
	struct stat sb;
	time_t now;

	if (!st->follow || st->env == NULL || (now = monotime()) == st->checked)
		return;
	st->checked = now;
	snprintf(path, sizeof(path), "%s/data.mdb", st->dir);
	if (stat(path, &sb) == 0 && (sb.st_dev != st->file_dev ||
	    sb.st_ino != st->file_ino))
		st->stale |= STALE_FILE;
}

/*
 * With no transaction of this process open (gate held, txns 0): the map
 * another process grew taken up, or the environment opened again on the
 * data file now in its place.  Views of the new file have a new epoch in
 * their generation: what was found in the old one is looked for again.
 */
static int
refresh(struct store *st)
{
	int rc;

	if (st->stale & STALE_FILE) {
		if (st->env != NULL)
			mdb_env_close(st->env);
		st->env = NULL;
		st->map = NULL;
		st->maplen = 0;
		st->datafd = -1;
		if (st->openfd != -1)
			close(st->openfd);
		st->openfd = -1;
		st->nolock = 0;
		st->kv_absent = 0;
		if ((rc = store_open_lock(st, 0)) != 0 ||
		    (rc = store_env_open(st, 0)) != 0) {
			/* Tried again at the next transaction. */
			if (st->env != NULL)
				mdb_env_close(st->env);
			st->env = NULL;
			st->map = NULL;
			st->datafd = -1;
			return rc;
		}
		st->epoch++;
		st->stale = 0;
		return 0;
	}
	if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
		return store_mdb_fail(rc, "map size");
	map_find(st);
	if (st->map_random)
		(void)map_random(st);
	st->stale = 0;
	return 0;
}

/* Counts a transaction about to begin, once the map is right for it. */
static int
gate_enter(struct store *st)
{
	int rc = 0;

	pthread_mutex_lock(&st->gate);
	follow_check(st);
	if (st->stale != 0 && st->txns == 0)
		rc = refresh(st);
	if (rc == 0 && st->stale != 0)
		rc = store_fail(STORE_EAGAIN, "%s: %s: it is mapped again once "
		    "this process's other transactions end; try again",
		    st->dir, st->stale & STALE_FILE ? "data.mdb was replaced" :
		    "another process grew the store's map");
	if (rc == 0)
		st->txns++;
	pthread_mutex_unlock(&st->gate);
	return rc;
}

/* A transaction ended, or never began; stale is what it found wrong. */
static void
gate_leave(struct store *st, unsigned stale)
{
	pthread_mutex_lock(&st->gate);
	if (st->txns == 0)
		abort();	/* more transactions ended than began */
	st->txns--;
	st->stale |= stale;
	pthread_mutex_unlock(&st->gate);
}

void
txn_abort(MDB_txn *txn)
{
	struct store *st = mdb_env_get_userctx(mdb_txn_env(txn));

	mdb_txn_abort(txn);
	gate_leave(st, 0);
}

int
txn_commit(MDB_txn *txn)
{
	struct store *st = mdb_env_get_userctx(mdb_txn_env(txn));
	int rc;

	rc = mdb_txn_commit(txn);
	gate_leave(st, 0);
	return rc;
}

int
txn_read(struct store *st, MDB_txn **txn)
{
	int rc = 0;

	/* A map another process grew: taken up, and begun again. */
	for (int tries = 0; tries < 2; tries++) {
		if ((rc = gate_enter(st)) != 0)
			return rc;
		if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, txn)) == 0)
			return 0;
		gate_leave(st, rc == MDB_MAP_RESIZED ? STALE_MAP : 0);
		if (rc != MDB_MAP_RESIZED)
			break;
	}
	return store_mdb_fail(rc, "read transaction");
}

/*
 * txn_write's begin, gate passed: MDB_MAP_RESIZED when a process that may
 * not grow the map should first take up the size another one grew it to.
 */
static int
write_begin(struct store *st, MDB_txn **txn, int last)
{
	MDB_envinfo ei;
	MDB_stat ms;
	uint64_t used, size;
	int rc;

	for (int tries = 0; tries < 2; tries++) {
		if ((rc = mdb_env_info(st->env, &ei)) != 0 ||
		    (rc = mdb_env_stat(st->env, &ms)) != 0)
			return store_mdb_fail(rc, "map size");
		used = ((uint64_t)ei.me_last_pgno + 1) * ms.ms_psize;
		for (size = ei.me_mapsize; size < used + STORE_HEADROOM;)
			size *= 2;
		if (size != ei.me_mapsize && st->nogrow && !last)
			return MDB_MAP_RESIZED;	/* the file's map may be */
		if (size != ei.me_mapsize && st->nogrow)
			return store_fail(MDB_MAP_FULL, "%s: the store needs a "
			    "larger map, which this process may not grow "
			    "while it reads", st->dir);
		if (size != ei.me_mapsize) {
			if ((rc = mdb_env_set_mapsize(st->env, size)) != 0)
				return store_mdb_fail(rc, "map size");
			map_find(st);
		}
		rc = mdb_txn_begin(st->env, NULL, 0, txn);
		if (rc != MDB_MAP_RESIZED || st->nogrow)
			break;
		/* Another process grew it: take its size, look again. */
		if ((rc = mdb_env_set_mapsize(st->env, 0)) != 0)
			break;
		map_find(st);
	}
	if (rc == MDB_MAP_RESIZED)
		return rc;
	if (rc != 0)
		return store_mdb_fail(rc, "write transaction");
	return 0;
}

int
txn_write(struct store *st, MDB_txn **txn)
{
	int rc = 0;

	fail_writing(st);
	if (st->rdonly)
		return store_fail(EROFS, "%s: opened read-only", st->dir);
	for (int tries = 0; tries < 2; tries++) {
		if ((rc = gate_enter(st)) != 0)
			return rc;
		if ((rc = write_begin(st, txn, tries == 1)) == 0)
			return 0;
		gate_leave(st, rc == MDB_MAP_RESIZED ? STALE_MAP : 0);
		if (rc != MDB_MAP_RESIZED)
			return rc;
	}
	return store_fail(rc, "%s: another process grew the store past this "
	    "one's map", st->dir);
}

int
txn_finish(MDB_txn *txn, int rc)
{
	if (rc != 0) {
		txn_abort(txn);
		return rc;
	}
	if ((rc = txn_commit(txn)) != 0)
		return store_mdb_fail(rc, "commit");
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
