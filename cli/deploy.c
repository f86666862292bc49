/*
 * deploy.c - lockfiles on a node: loading and judging one, and checking
 * a deployed folder or a HF cache against it, with no store and no daemon
 * (deploy.h).  Every file is hashed; nothing is believed for its name.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "cli/deploy.h"
#include "cli/lockfile.h"
#include "cli/trust.h"
#include "gate/gate.h"
#include "keys/keys.h"

int
deploy_write_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	int fd;

	if (strcmp(path, "-") == 0) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
			return cli_fail(EXIT_USAGE, "stdout: %s",
			    strerror(errno));
		return EXIT_OK;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >=
	    sizeof(tmp))
		return cli_fail(EXIT_USAGE, "%s: name too long", path);
	if ((fd = mkstemp(tmp)) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	if (off != len || fchmod(fd, 0644) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1 || rename(tmp, path) == -1) {
		int e = errno;

		(void)unlink(tmp);
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(e));
	}
	return EXIT_OK;
}

/* A keyring of the one key of trustfile, which may vouch for anything. */
static int
trust_file(const char *path, struct keys_trust **ring, size_t *n)
{
	struct keys_pub pub;
	char *buf;
	size_t len;
	int rc;

	if ((rc = cli_read_file(path, BOUND_TRUST_ENTRY, &buf, &len)) != 0)
		return rc;
	rc = keys_pub_parse(buf, len, &pub);
	free(buf);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "%s: not a minisign public key: %s",
		    path, keys_strerror(rc));
	if ((*ring = calloc(1, sizeof(**ring))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	if (keys_trust_init(*ring, &pub, "--trust", "*", 0) != 0) {
		free(*ring);
		*ring = NULL;
		return cli_fail(EXIT_USAGE, "%s: cannot be trusted", path);
	}
	*n = 1;
	return 0;
}

int
deploy_load(struct store *st, const char *path, const char *trustfile,
    struct lockfile **out)
{
	struct keys_trust *ring = NULL;
	struct lockfile *lf = NULL;
	char *buf, err[1024];
	size_t len, nring = 0;
	unsigned need = 1;
	int rc, is_default;

	*out = NULL;
	if ((rc = cli_read_file(path, BOUND_LOCKFILE, &buf, &len)) != 0)
		return rc;
	rc = lock_parse(buf, len, &lf, err, sizeof(err));
	free(buf);
	if (rc != 0)
		return cli_fail(EXIT_CHECK, "%s: %s", path, err);
	if (keys_init() != 0) {
		rc = cli_fail(EXIT_USAGE, "libsodium failed to start");
		goto out;
	}
	if (trustfile != NULL)
		rc = trust_file(trustfile, &ring, &nring);
	else if (st == NULL)
		rc = cli_fail(EXIT_USAGE, "%s: no store, so no keyring: give "
		    "--trust FILE.pub to check its signatures", path);
	else if ((rc = gate_ring(st, &ring, &nring)) != 0)
		rc = cli_store_fail(rc, "keyring");
	else if (trust_threshold(st, nring, &need, &is_default) != 0)
		rc = cli_fail(EXIT_CHECK, "the store's threshold is not a "
		    "number (airlock trust threshold N sets it)");
	if (rc != 0)
		goto out;
	for (size_t i = 0; i < lf->n; i++)
		if (lock_judge(&lf->models[i], ring, nring, need, err,
		    sizeof(err)) != 0) {
			rc = cli_fail(EXIT_CHECK, "%s: %s", path, err);
			goto out;
		}
	*out = lf;
	lf = NULL;
out:
	free(ring);
	lock_free(lf);
	return rc;
}

void
deploy_model_dir(const struct lockfile *lf, size_t i, const char *dir,
    char *buf, size_t size)
{
	const struct lock_model *lm = &lf->models[i];

	if (lf->n == 1)
		snprintf(buf, size, "%s", dir);
	else
		snprintf(buf, size, "%s/%s%s", dir, store_type_prefix(lm->type),
		    lm->repo);
}

/* sha256 and size of what fd holds; -1 with errno on a read error. */
static int
hash_fd(int fd, uint8_t out[STORE_HASH_LEN], uint64_t *size)
{
	static uint8_t buf[1 << 20];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t n;
	int rc = 0;

	*size = 0;
	if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(ctx);
		errno = ENOMEM;
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -1;
			break;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	EVP_DigestFinal_ex(ctx, out, NULL);
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* What a walk found: every path under the top, and how many drifted. */
struct found {
	const char	*top;		/* for messages */
	json_t		*paths;		/* path -> true */
	long		 drift;
	int		 links;		/* HF cache: files are links */
};

/* Where drift lines go: standard output, or this array (--json). */
static json_t *drift_json;

void
deploy_drift_json(json_t *lines)
{
	drift_json = lines;
}

static void drift_line(const char *, ...)
    __attribute__((format(printf, 1, 2)));
static void drifted(struct found *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
drift_line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (drift_json != NULL)
		json_array_append_new(drift_json, json_vsprintf(fmt, ap));
	else {
		vprintf(fmt, ap);
		putchar('\n');
	}
	va_end(ap);
}

/* One line for a file that drifted: where it is, then why. */
static void
drifted(struct found *fd, const char *path, const char *fmt, ...)
{
	char why[2 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	drift_line("%s/%s: %s", fd->top, path, why);
	fd->drift++;
}

/* Records every entry under dirfd (rel is its path from the top). */
static int
walk(struct found *f, int dirfd, const char *rel, int depth)
{
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (depth > BOUND_PATH / 2 || (d = fdopendir(dirfd)) == NULL) {
		close(dirfd);
		return -1;
	}
	while ((e = readdir(d)) != NULL && rc == 0) {
		char path[BOUND_PATH + 2];
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", rel,
		    *rel != '\0' ? "/" : "", e->d_name) >= sizeof(path) ||
		    fstatat(dirfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
			drifted(f, path, "%s%s", "cannot be read", "");
			continue;
		}
		if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd, e->d_name, O_RDONLY |
			    O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub == -1 || walk(f, sub, path, depth + 1) != 0)
				drifted(f, path, "%s%s", "a folder that cannot "
				    "be read", "");
		} else
			json_object_set_new(f->paths, path, json_true());
	}
	closedir(d);
	return rc;
}

/*
 * Checks one locked file at top/path: present, of its size and sha256
 * (and, in a HF cache, a link to the blob its ETag names).
 */
static void
check_file(struct found *f, int topfd, const struct store_file *sf)
{
	char got[STORE_HEX_LEN + 1], want[STORE_HEX_LEN + 1], a[32], b[32];
	uint8_t sha[STORE_HASH_LEN];
	uint64_t size;
	struct stat sb;
	int fd;

	if (json_object_get(f->paths, sf->path) == NULL) {
		drifted(f, sf->path, "%s%s", "missing", "");
		return;
	}
	json_object_del(f->paths, sf->path);
	if (fstatat(topfd, sf->path, &sb, AT_SYMLINK_NOFOLLOW) == -1)
		goto unreadable;
	if (f->links && S_ISLNK(sb.st_mode)) {
		char target[PATH_MAX], etag[STORE_HEX_LEN + 1];
		const char *base;
		ssize_t n = readlinkat(topfd, sf->path, target,
		    sizeof(target) - 1);

		if (n < 0)
			goto unreadable;
		target[n] = '\0';
		lock_etag(sf, etag, sizeof(etag));
		base = strrchr(target, '/');
		base = base != NULL ? base + 1 : target;
		if (target[0] == '/' || strcmp(base, etag) != 0) {
			drifted(f, sf->path, "links to %s, not to its blob %s",
			    target, etag);
			return;
		}
	} else if (!S_ISREG(sb.st_mode)) {
		drifted(f, sf->path, "%s%s", "not a regular file", "");
		return;
	}
	if ((fd = openat(topfd, sf->path, O_RDONLY | O_CLOEXEC |
	    (f->links ? 0 : O_NOFOLLOW))) == -1) {
		drifted(f, sf->path, "%s%s", errno == ENOENT ?
		    "missing (a link to no blob)" : "cannot be opened", "");
		return;
	}
	if (hash_fd(fd, sha, &size) != 0) {
		close(fd);
		goto unreadable;
	}
	close(fd);
	if (size != sf->size) {
		snprintf(a, sizeof(a), "%llu", (unsigned long long)size);
		snprintf(b, sizeof(b), "%llu", (unsigned long long)sf->size);
		drifted(f, sf->path, "%s bytes, the lockfile says %s", a, b);
		return;
	}
	if (memcmp(sha, sf->sha256, STORE_HASH_LEN) != 0) {
		store_hex(sha, STORE_HASH_LEN, got);
		store_hex(sf->sha256, STORE_HASH_LEN, want);
		drifted(f, sf->path, "sha256 %s, the lockfile says %s", got,
		    want);
	}
	return;
unreadable:
	drifted(f, sf->path, "%s: %s", "cannot be read", strerror(errno));
}

static long
verify_tree(const struct lock_model *lm, const char *top, int links)
{
	struct found f = { .top = top, .links = links };
	const char *path;
	json_t *v;
	int topfd, walkfd;

	if ((topfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (walkfd = dup(topfd)) == -1) {
		cli_warnx("%s: %s", top, strerror(errno));
		if (topfd != -1)
			close(topfd);
		return -1;
	}
	if ((f.paths = json_object()) == NULL ||
	    walk(&f, walkfd, "", 0) != 0) {
		cli_warnx("%s: cannot be read", top);
		json_decref(f.paths);
		close(topfd);
		return -1;
	}
	for (size_t i = 0; i < lm->m->nfiles; i++)
		check_file(&f, topfd, &lm->m->files[i]);
	json_object_foreach(f.paths, path, v)
		drifted(&f, path, "%s%s", "extra: not in the lockfile", "");
	json_decref(f.paths);
	close(topfd);
	return f.drift;
}

long
deploy_verify_dir(const struct lock_model *lm, const char *dir)
{
	return verify_tree(lm, dir, 0);
}

long
deploy_verify_hfcache(const struct lock_model *lm, const char *root)
{
	char repo[BOUND_REPO_ID + 16], top[PATH_MAX], ref[PATH_MAX];
	char buf[STORE_COMMIT_LEN + 2];
	long drift;
	ssize_t n;
	int fd;

	lock_hfcache_name(lm->type, lm->repo, repo, sizeof(repo));
	snprintf(top, sizeof(top), "%s/%s/snapshots/%s", root, repo,
	    lm->m->commit);
	if ((drift = verify_tree(lm, top, 1)) < 0)
		return drift;
	/* A name asked for is what offline clients resolve: it must name
	 * the locked commit.  A commit id asked for has no ref. */
	if (strncmp(lm->revision, "sha256:", 7) == 0 ||
	    (strlen(lm->revision) >= 7 && strncmp(lm->m->commit, lm->revision,
	    strlen(lm->revision)) == 0))
		return drift;
	snprintf(ref, sizeof(ref), "%s/%s/refs/%s", root, repo, lm->revision);
	if ((fd = open(ref, O_RDONLY | O_CLOEXEC)) == -1) {
		drift_line("%s: missing (the lockfile's %s is %s)", ref,
		    lm->revision, lm->m->commit);
		return drift + 1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (strcmp(buf, lm->m->commit) != 0) {
		drift_line("%s: names %.*s, the lockfile says %s", ref,
		    STORE_COMMIT_LEN + 1, buf, lm->m->commit);
		drift++;
	}
	return drift;
}
