/*
 * checkout_hf.c - writing a revision into a Hugging Face cache, as
 * huggingface_hub lays it out (HF-API.md), so that HF_HUB_OFFLINE=1
 * clients load it with no network:
 *
 *   models--ORG--NAME/blobs/ETAG           sha256 for LFS files, git sha1 else
 *   models--ORG--NAME/snapshots/COMMIT/... relative links into ../../blobs
 *   models--ORG--NAME/refs/REV             the commit, no newline
 *
 * It merges into a cache already there: a blob present under its name is
 * kept if its bytes hash to what the name says, and replaced if not; each
 * link and ref is made beside its place and renamed into it.
 */
#include "config.h"

#include <sys/stat.h>

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

static int pathf(char *, size_t, const char *, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf for paths: -1 with ENAMETOOLONG when it does not fit. */
static int
pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* mkdir -p of path itself (all = 1) or of its parent folders only. */
static int
mkdirs(const char *path, int all)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (all && mkdir(buf, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* 1 if path holds exactly the bytes of f, 0 if not or absent. */
static int
blob_sound(const char *path, const struct store_file *f)
{
	static uint8_t buf[1 << 20];
	uint8_t sha[STORE_HASH_LEN];
	EVP_MD_CTX *ctx;
	uint64_t size = 0;
	ssize_t n;
	int fd, ok = 0;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	if ((ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1) {
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			EVP_DigestUpdate(ctx, buf, (size_t)n);
			size += (uint64_t)n;
		}
		EVP_DigestFinal_ex(ctx, sha, NULL);
		ok = n == 0 && size == f->size &&
		    memcmp(sha, f->sha256, STORE_HASH_LEN) == 0;
	}
	EVP_MD_CTX_free(ctx);
	close(fd);
	return ok;
}

static int
put_blob(struct store *st, const char *blobs, const struct store_file *f,
    uint64_t *written)
{
	char etag[STORE_HEX_LEN + 1], path[PATH_MAX], tmp[PATH_MAX];
	int fd, rc;

	lock_etag(f, etag, sizeof(etag));
	if (pathf(path, sizeof(path), "%s/%s", blobs, etag) == -1 ||
	    pathf(tmp, sizeof(tmp), "%s/.%s.airlock.XXXXXX", blobs, etag) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", blobs, strerror(errno));
	if (blob_sound(path, f))
		return 0;
	if ((fd = mkstemp(tmp)) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
	if ((rc = store_blob_write(st, f->sha256, fd, NULL, NULL)) != 0) {
		close(fd);
		(void)unlink(tmp);
		return cli_store_fail(rc, f->path);
	}
	if (fchmod(fd, 0644) == -1 || fsync(fd) == -1 || close(fd) == -1 ||
	    rename(tmp, path) == -1) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
		(void)unlink(tmp);
		return rc;
	}
	*written += f->size;
	return 0;
}

/* snapshots/COMMIT/PATH -> ../../blobs/ETAG, one more ../ a level. */
static int
put_link(const char *snap, const struct store_file *f)
{
	char etag[STORE_HEX_LEN + 1], path[PATH_MAX], tmp[PATH_MAX];
	char target[PATH_MAX];
	size_t used;

	lock_etag(f, etag, sizeof(etag));
	used = (size_t)snprintf(target, sizeof(target), "../../");
	for (const char *p = f->path; (p = strchr(p, '/')) != NULL &&
	    used + 3 < sizeof(target); p++)
		used += (size_t)snprintf(target + used, sizeof(target) - used,
		    "../");
	snprintf(target + used, sizeof(target) - used, "blobs/%s", etag);
	if (pathf(path, sizeof(path), "%s/%s", snap, f->path) == -1 ||
	    pathf(tmp, sizeof(tmp), "%s.airlock-link", path) == -1 ||
	    mkdirs(path, 0) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	(void)unlink(tmp);
	if (symlink(target, tmp) == -1 || rename(tmp, path) == -1) {
		int e = errno;

		(void)unlink(tmp);
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(e));
	}
	return 0;
}

/* refs/REV holds the commit, with no newline, as huggingface_hub has it. */
static int
put_ref(const char *refs, const char *rev, const char *commit)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd;

	if (pathf(path, sizeof(path), "%s/%s", refs, rev) == -1 ||
	    pathf(tmp, sizeof(tmp), "%s.airlock-ref", path) == -1 ||
	    mkdirs(path, 0) == -1 ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	if (write(fd, commit, strlen(commit)) != (ssize_t)strlen(commit) ||
	    fsync(fd) == -1 || close(fd) == -1 || rename(tmp, path) == -1) {
		int e = errno;

		(void)unlink(tmp);
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(e));
	}
	return 0;
}

int
checkout_hfcache(struct cli *cli, struct store *st,
    const struct store_manifest *m, const char *rev, const char *root)
{
	char name[BOUND_REPO_ID + 16], repo[PATH_MAX], blobs[PATH_MAX];
	char snap[PATH_MAX], refs[PATH_MAX], size[32];
	uint64_t written = 0, total = 0;
	struct progress *bar;
	int rc = 0;

	lock_hfcache_name(m->type, m->repo, name, sizeof(name));
	if (pathf(repo, sizeof(repo), "%s/%s", root, name) == -1 ||
	    pathf(blobs, sizeof(blobs), "%s/blobs", repo) == -1 ||
	    pathf(snap, sizeof(snap), "%s/snapshots/%s", repo, m->commit) == -1 ||
	    pathf(refs, sizeof(refs), "%s/refs", repo) == -1 ||
	    mkdirs(blobs, 1) == -1 || mkdirs(snap, 1) == -1 ||
	    mkdirs(refs, 1) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", repo, strerror(errno));
	for (size_t i = 0; i < m->nfiles; i++)
		total += m->files[i].size;
	bar = progress_start(cli, "checkout", total);
	/* Blobs first: a link is made only to a blob that is whole. */
	for (size_t i = 0; i < m->nfiles && rc == 0; i++) {
		rc = put_blob(st, blobs, &m->files[i], &written);
		progress_set(bar, written);
	}
	progress_end(bar);
	for (size_t i = 0; i < m->nfiles && rc == 0; i++)
		rc = put_link(snap, &m->files[i]);
	/* A name is what offline clients resolve; a commit id or digest asked
	 * for needs no ref. */
	if (rc == 0 && rev != NULL && strncmp(rev, "sha256:", 7) != 0 &&
	    !(strlen(rev) >= 7 && strncmp(m->commit, rev, strlen(rev)) == 0))
		rc = put_ref(refs, rev, m->commit);
	if (rc != 0)
		return rc;
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "repo", m->repo,
		    "commit", m->commit, "cache", root, "snapshot", snap,
		    "files", (json_int_t)m->nfiles, "written",
		    (json_int_t)written));
	else
		printf("%s%s@%s: %zu files in %s (%s written)\n",
		    store_type_prefix(m->type), m->repo, m->commit, m->nfiles,
		    snap, cli_bytes(written, size));
	return EXIT_OK;
}
