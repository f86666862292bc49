/*
 * airlock checkout REPO[@REV] DIR: the revision's files, byte for byte.
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

static int
mkparents(int dirfd, const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf; (p = strchr(p, '/')) != NULL; p++) {
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
cmd_checkout(struct cmd_ctx *ctx)
{
	char tmp[PATH_MAX], parent[PATH_MAX], size[32];
	const struct store_manifest *m = ctx->m;
	const char *dir = ctx->argv[1];
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
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
