/*
 * airlock checkout REPO[@REV] DIR [--hf-cache]
 * airlock checkout --lock FILE DIR [--hf-cache]
 *
 * The revision's files, byte for byte; with --lock, exactly the revisions
 * a lockfile names (by manifest digest, its signatures judged first);
 * with --hf-cache, into the HF cache at DIR (checkout_hf.c).
 *
 * Files are written into a temporary folder beside DIR, which is renamed
 * to DIR at the end: DIR holds all of the revision or none of it.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/deploy.h"
#include "cli/lockfile.h"

static int
mkparents(int dirfd, const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf; (p = strchr(p, '/')) != NULL; p++) {
		if (p == buf)
			continue;	/* an absolute path's root */
		*p = '\0';
		if (mkdirat(dirfd, buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* 1: DIR was an empty folder, now removed; 0: absent; -1: not usable. */
static int
dir_usable(const char *dir)
{
	struct stat sb;

	if (lstat(dir, &sb) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(sb.st_mode) || rmdir(dir) == -1) {
		errno = EEXIST;
		return -1;
	}
	/* It was an empty folder: the rename below puts it back full. */
	return 1;
}

int
checkout_dir(struct cli *cli, struct store *st, const struct store_manifest *m,
    const char *dir)
{
	char tmp[PATH_MAX], parent[PATH_MAX], size[32];
	struct progress *bar;
	uint64_t total = 0, done = 0;
	int rc = 0, dirfd = -1, emptied;

	snprintf(parent, sizeof(parent), "%s", dir);
	snprintf(tmp, sizeof(tmp), "%s/.airlock-checkout.XXXXXX",
	    dirname(parent));
	if ((emptied = dir_usable(dir)) == -1) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", dir, errno == EEXIST ?
		    "exists and is not an empty folder" : strerror(errno));
		goto out;
	}
	if (mkdtemp(tmp) == NULL ||
	    (dirfd = open(tmp, O_RDONLY | O_DIRECTORY)) == -1) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < m->nfiles; i++)
		total += m->files[i].size;
	bar = progress_start(cli, "checkout", total);
	for (size_t i = 0; i < m->nfiles && rc == 0; i++) {
		const struct store_file *f = &m->files[i];
		int fd;

		if (mkparents(dirfd, f->path) == -1 ||
		    (fd = openat(dirfd, f->path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0644)) == -1) {
			rc = cli_fail(EXIT_USAGE, "%s: %s", f->path,
			    strerror(errno));
			break;
		}
		if ((rc = store_blob_write(st, f->sha256, fd, NULL, NULL)) != 0)
			rc = cli_store_fail(rc, f->path);
		else if (close(fd) == -1)
			rc = cli_fail(EXIT_USAGE, "%s: %s", f->path,
			    strerror(errno));
		else
			fd = -1;
		if (fd != -1)
			close(fd);
		progress_set(bar, done += f->size);
	}
	progress_end(bar);
	if (rc == 0 && (syncfs(dirfd) == -1 || rename(tmp, dir) == -1))
		rc = cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	if (rc != 0) {
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		if (emptied)
			(void)mkdir(dir, 0755);
	}
	else if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:I,s:I}", "repo", m->repo,
		    "commit", m->commit, "dir", dir, "files",
		    (json_int_t)m->nfiles, "bytes", (json_int_t)total));
	else
		printf("%s@%s: %zu files, %s in %s\n", m->repo, m->commit,
		    m->nfiles, cli_bytes(total, size), dir);
out:
	if (dirfd != -1)
		close(dirfd);
	return rc;
}

/* Operands: DIR with --lock, else REPO[@REV] DIR. */
int
cmd_checkout_check(struct cmd_ctx *ctx)
{
	if (ctx->argc != (ctx->opt['l'] != NULL ? 1 : 2))
		return cli_usage(ctx->cli);
	return 0;
}

static int
checkout_lock(struct cmd_ctx *ctx, const char *path, const char *dir,
    int hf)
{
	struct lockfile *lf;
	char where[PATH_MAX];
	int rc;

	if ((rc = deploy_load(ctx->st, path, NULL, &lf)) != 0)
		return rc;
	/* Every model is in the store before any is written. */
	for (size_t i = 0; i < lf->n && rc == 0; i++) {
		const struct lock_model *lm = &lf->models[i];

		if ((rc = store_manifest_has(ctx->st, lm->m->digest)) == 0)
			continue;
		if (rc != STORE_ENOTFOUND)
			rc = cli_store_fail(rc, lm->repo);
		else
			rc = cli_fail(EXIT_CHECK, "%s%s@%s: the store lacks "
			    "revision %s (airlock pull --lock %s fetches it)",
			    store_type_prefix(lm->type), lm->repo, lm->revision,
			    lm->m->commit, path);
	}
	for (size_t i = 0; i < lf->n && rc == 0; i++) {
		const struct lock_model *lm = &lf->models[i];
		struct store_manifest *m;

		/* By digest: exactly what was locked, whatever names say. */
		if ((rc = store_manifest_get(ctx->st, lm->m->digest, &m)) != 0) {
			rc = cli_store_fail(rc, lm->repo);
			break;
		}
		if (hf)
			rc = checkout_hfcache(ctx->cli, ctx->st, m,
			    lm->revision, dir);
		else {
			deploy_model_dir(lf, i, dir, where, sizeof(where));
			if (lf->n > 1 && mkparents(AT_FDCWD, where) == -1)
				rc = cli_fail(EXIT_USAGE, "%s: %s", where,
				    strerror(errno));
			else
				rc = checkout_dir(ctx->cli, ctx->st, m, where);
		}
		store_manifest_free(m);
	}
	lock_free(lf);
	return rc;
}

int
cmd_checkout(struct cmd_ctx *ctx)
{
	int hf = ctx->opt['H'] != NULL, rc;
	struct store_manifest *m;
	struct target t;

	if (ctx->opt['l'] != NULL)
		return checkout_lock(ctx, ctx->opt['l'], ctx->argv[0], hf);
	if ((rc = cli_target(ctx->st, ctx->argv[0], NULL, &t)) != 0)
		return rc;
	if ((rc = store_manifest_get(ctx->st, t.digest, &m)) != 0)
		return cli_store_fail(rc, ctx->argv[0]);
	rc = hf ? checkout_hfcache(ctx->cli, ctx->st, m, t.rev != NULL ?
	    t.rev : "main", ctx->argv[1]) : checkout_dir(ctx->cli, ctx->st, m,
	    ctx->argv[1]);
	store_manifest_free(m);
	return rc;
}
