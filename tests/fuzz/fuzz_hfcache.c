/*
 * Fuzz target: `airlock import HFCACHE_DIR`, the reader of a Hugging Face
 * cache folder (cli/hfcache.c and the store's folder source under it),
 * over a real store.
 *
 * The input describes a folder tree, one entry a line, made afresh in a
 * temporary folder for each run:
 *
 *	DIR			first line: what to import, e.g.
 *				models--ORG--NAME or models--ORG--NAME/snapshots/C
 *	d PATH			a folder
 *	f PATH TEXT		a file holding TEXT
 *	l PATH TARGET		a symbolic link to TARGET, as written
 *	b PATH TEXT		TEXT as REPO/blobs/SHA256, and PATH a link to it
 *	g PATH TEXT		the same, named by its git blob sha1
 *
 * PATHs are relative to the temporary folder, without "..", and never
 * made through a link; REPO is the part of PATH before "/snapshots/", and
 * the link of b and g climbs back to it with "../".  So the fuzzer writes
 * hashes it cannot compute (b, g) as well as any refs/, snapshots/ and
 * link targets it likes (f, l).
 *
 * The oracle: the exit status is 0, 1 or 2; a failed import of one
 * snapshot changes no ref; after a success every snapshot imported is a
 * revision under its commit id whose every file is a link, inside the
 * repository folder, to a blob named by the hash of its bytes, which are
 * the file's bytes (sizes and hashes computed here with libcrypto).
 */
#define _GNU_SOURCE
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "cli/cli.h"

#define MAX_ENTRIES	64

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	import_hfcache(struct cli *, struct store *, const char *);

/* util.c lists the commands in its usage message; there are none here. */
const struct cmd cmd_table[] = { { .name = NULL } };

static char		 base[PATH_MAX];
static struct store	*st;

static int
remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static int
remove_tree(const char *path)
{
	return nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
cleanup(void)
{
	store_close(st);
	if (remove_tree(base) != 0)
		fprintf(stderr, "fuzz_hfcache: cannot remove %s\n", base);
}

static int
setup(void)
{
	char dir[PATH_MAX + 8];
	const char *tmp = getenv("TMPDIR");

	/* Each import commits to LMDB, which syncs: tmpfs makes that cheap. */
	if (tmp == NULL)
		tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(base, sizeof(base), "%s/fuzz_hfcache.XXXXXX", tmp);
	if (mkdtemp(base) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/store", base);
	if (store_open(dir, STORE_CREATE, &st) != 0)
		return -1;
	/* Each success prints a line; only failures are worth seeing. */
	if (freopen("/dev/null", "w", stdout) == NULL)
		return -1;
	atexit(cleanup);
	return 0;
}

/* Relative, no empty, "." or ".." component. */
static int
path_ok(const char *p)
{
	const char *s;
	size_t n;

	if (*p == '\0' || *p == '/' || strlen(p) > 512)
		return 0;
	for (s = p; *s != '\0'; s += n + (s[n] == '/')) {
		n = strcspn(s, "/");
		if (n == 0 || (n == 1 && s[0] == '.') ||
		    (n == 2 && s[0] == '.' && s[1] == '.'))
			return 0;
	}
	return 1;
}

/* Makes PATH's parent folders under root; -1 if one is not a folder. */
static int
parents(int root, const char *path)
{
	char buf[PATH_MAX];
	struct stat sb;
	char *s;

	snprintf(buf, sizeof(buf), "%s", path);
	for (s = strchr(buf, '/'); s != NULL; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (fstatat(root, buf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			if (!S_ISDIR(sb.st_mode))
				return -1;
		} else if (mkdirat(root, buf, 0755) != 0)
			return -1;
		*s = '/';
	}
	return 0;
}

static void
hex(const uint8_t *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void
git_sha1(const void *data, size_t len, uint8_t out[SHA_DIGEST_LENGTH])
{
	unsigned char *buf;
	int n;

	if ((buf = malloc(len + 32)) == NULL)
		abort();
	n = snprintf((char *)buf, 32, "blob %zu", len) + 1;
	memcpy(buf + n, data, len);
	SHA1(buf, (size_t)n + len, out);
	free(buf);
}

static void
write_file(int root, const char *path, const char *text, size_t len)
{
	int fd;

	fd = openat(root, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0644);
	if (fd == -1)
		return;
	if (write(fd, text, len) != (ssize_t)len)
		abort();
	close(fd);
}

/* b and g: the blob, then a link to it from PATH. */
static void
blob_link(int root, const char *path, const char *text, int git)
{
	char name[2 * SHA256_DIGEST_LENGTH + 1], blob[PATH_MAX];
	char target[PATH_MAX];
	size_t tlen = 0;
	uint8_t md[SHA256_DIGEST_LENGTH];
	const char *snap, *s;
	size_t len = strlen(text);

	if ((snap = strstr(path, "/snapshots/")) == NULL)
		return;
	if (git) {
		git_sha1(text, len, md);
		hex(md, SHA_DIGEST_LENGTH, name);
	} else {
		SHA256((const unsigned char *)text, len, md);
		hex(md, SHA256_DIGEST_LENGTH, name);
	}
	snprintf(blob, sizeof(blob), "%.*s/blobs/%s", (int)(snap - path),
	    path, name);
	if (parents(root, blob) != 0)
		return;
	write_file(root, blob, text, len);
	for (s = snap + 1; (s = strchr(s, '/')) != NULL && tlen < 1024; s++)
		tlen += (size_t)snprintf(target + tlen, sizeof(target) - tlen,
		    "../");
	snprintf(target + tlen, sizeof(target) - tlen, "blobs/%s", name);
	(void)symlinkat(target, root, path);
}

static void
make_entry(int root, char *line)
{
	char op = line[0], *path, *arg;

	if (op == '\0' || line[1] != ' ')
		return;
	path = line + 2;
	if ((arg = strchr(path, ' ')) != NULL)
		*arg++ = '\0';
	else
		arg = path + strlen(path);
	if (!path_ok(path) || parents(root, path) != 0)
		return;
	switch (op) {
	case 'd':
		(void)mkdirat(root, path, 0755);
		break;
	case 'f':
		write_file(root, path, arg, strlen(arg));
		break;
	case 'l':
		(void)symlinkat(arg, root, path);
		break;
	case 'b':
	case 'g':
		blob_link(root, path, arg, op == 'g');
		break;
	}
}

/* models--ORG--NAME -> model, ORG/NAME, as huggingface_hub names them. */
static int
repo_name(const char *dir, char *type, char *repo, size_t size)
{
	const char *rest, *sep;

	if (strncmp(dir, "models--", 8) == 0)
		strcpy(type, "model"), rest = dir + 8;
	else if (strncmp(dir, "datasets--", 10) == 0)
		strcpy(type, "dataset"), rest = dir + 10;
	else
		return -1;
	if ((sep = strstr(rest, "--")) != NULL)
		snprintf(repo, size, "%.*s/%s", (int)(sep - rest), rest,
		    sep + 2);
	else
		snprintf(repo, size, "%s", rest);
	return 0;
}

static int
is_commit(const char *s)
{
	return strlen(s) == 40 && strspn(s, "0123456789abcdef") == 40;
}

/* One imported snapshot, checked against the tree. */
static void
check_snapshot(const char *repodir, const char *type, const char *repo,
    const char *commit)
{
	char root[PATH_MAX], file[PATH_MAX * 2], *real, *name, want[65];
	uint8_t digest[STORE_HASH_LEN], md[SHA256_DIGEST_LENGTH];
	uint8_t sha1[SHA_DIGEST_LENGTH];
	struct store_manifest *m;
	struct stat sb;
	char *buf;
	size_t rootlen;
	ssize_t n;
	int fd;

	if (realpath(repodir, root) == NULL)
		abort();
	rootlen = strlen(root);
	if (store_resolve(st, type, repo, commit, digest) != 0 ||
	    store_manifest_get(st, digest, &m) != 0 ||
	    strcmp(m->commit, commit) != 0 || strcmp(m->type, type) != 0 ||
	    strcmp(m->repo, repo) != 0)
		abort();
	for (size_t i = 0; i < m->nfiles; i++) {
		const struct store_file *f = &m->files[i];

		snprintf(file, sizeof(file), "%s/snapshots/%s/%s", root, commit,
		    f->path);
		if (lstat(file, &sb) != 0 || !S_ISLNK(sb.st_mode) ||
		    (real = realpath(file, NULL)) == NULL)
			abort();
		if (strncmp(real, root, rootlen) != 0 || real[rootlen] != '/' ||
		    stat(real, &sb) != 0 || !S_ISREG(sb.st_mode) ||
		    (uint64_t)sb.st_size != f->size)
			abort();
		name = strrchr(real, '/') + 1;
		if ((buf = malloc((size_t)sb.st_size + 1)) == NULL ||
		    (fd = open(real, O_RDONLY)) == -1)
			abort();
		n = read(fd, buf, (size_t)sb.st_size);
		close(fd);
		if (n != sb.st_size)
			abort();
		SHA256((unsigned char *)buf, (size_t)n, md);
		git_sha1(buf, (size_t)n, sha1);
		free(buf);
		if (memcmp(md, f->sha256, sizeof(md)) != 0)
			abort();
		if (f->lfs)
			hex(md, SHA256_DIGEST_LENGTH, want);
		else {
			if (memcmp(sha1, f->git_sha1, sizeof(sha1)) != 0)
				abort();
			hex(sha1, SHA_DIGEST_LENGTH, want);
		}
		if (strcmp(name, want) != 0)
			abort();
		free(real);
	}
	store_manifest_free(m);
}

struct refsum {
	size_t	n;
	uint8_t	sum[STORE_HASH_LEN];
};

static int
sum_ref(void *arg, const struct store_ref *r)
{
	struct refsum *s = arg;
	char rec[512];
	uint8_t md[SHA256_DIGEST_LENGTH];
	char h[65];

	hex(r->digest, STORE_HASH_LEN, h);
	snprintf(rec, sizeof(rec), "%s %s %s %s", r->type, r->repo, r->name, h);
	SHA256((unsigned char *)rec, strlen(rec), md);
	for (size_t i = 0; i < sizeof(md); i++)
		s->sum[i] ^= md[i];
	s->n++;
	return 0;
}

static void
ref_sum(struct refsum *s)
{
	memset(s, 0, sizeof(*s));
	if (store_refs(st, NULL, NULL, sum_ref, s) != 0)
		abort();
}

static void
check(const char *dir, int rc)
{
	char path[PATH_MAX * 2], repodir[PATH_MAX], type[16], repo[512];
	char *real, *base_name;
	struct dirent *de;
	DIR *d;

	if (rc != EXIT_OK)
		return;
	/* What was imported: a snapshot (named by its commit) or all of a
	 * repository's, wherever the links on the way led. */
	if ((real = realpath(dir, NULL)) == NULL)
		abort();
	base_name = strrchr(real, '/') + 1;
	if (is_commit(base_name)) {
		snprintf(path, sizeof(path), "%s/../..", real);
		if (realpath(path, repodir) == NULL ||
		    repo_name(strrchr(repodir, '/') + 1, type, repo,
		    sizeof(repo)) != 0)
			abort();
		check_snapshot(repodir, type, repo, base_name);
		free(real);
		return;
	}
	snprintf(repodir, sizeof(repodir), "%s", real);
	free(real);
	if (repo_name(strrchr(repodir, '/') + 1, type, repo, sizeof(repo)) != 0)
		abort();
	snprintf(path, sizeof(path), "%s/snapshots", repodir);
	if ((d = opendir(path)) == NULL)
		abort();
	while ((de = readdir(d)) != NULL)
		if (is_commit(de->d_name))
			check_snapshot(repodir, type, repo, de->d_name);
	closedir(d);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct cli cli = { .cmd = "import" };
	struct refsum before, after;
	char tree[PATH_MAX + 16], dir[PATH_MAX * 2], *buf, *line, *next, *real;
	int root, rc, n = 0, single;

	if (!ready) {
		if (setup() != 0)
			abort();
		ready = 1;
	}
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if ((next = strchr(buf, '\n')) != NULL)
		*next++ = '\0';
	/* The folder must be ours: inside the tree, no "..". */
	if (!path_ok(buf) || strchr(buf, '\\') != NULL) {
		free(buf);
		return 0;
	}
	snprintf(tree, sizeof(tree), "%s/tree.XXXXXX", base);
	if (mkdtemp(tree) == NULL || (root = open(tree, O_DIRECTORY)) == -1)
		abort();
	for (line = next; line != NULL && n++ < MAX_ENTRIES; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		make_entry(root, line);
	}
	close(root);
	snprintf(dir, sizeof(dir), "%s/%s", tree, buf);
	/* A link out of the tree would import whatever it leads to. */
	if ((real = realpath(dir, NULL)) == NULL ||
	    strncmp(real, tree, strlen(tree)) != 0 ||
	    (real[strlen(tree)] != '/' && real[strlen(tree)] != '\0')) {
		free(real);
		goto out;
	}
	free(real);
	single = is_commit(strrchr(dir, '/') + 1);
	ref_sum(&before);
	rc = import_hfcache(&cli, st, dir);
	if (rc != EXIT_OK && rc != EXIT_CHECK && rc != EXIT_USAGE)
		abort();
	ref_sum(&after);
	if (rc != EXIT_OK && single && (before.n != after.n ||
	    memcmp(before.sum, after.sum, sizeof(before.sum)) != 0))
		abort();
	check(dir, rc);
out:
	if (remove_tree(tree) != 0)
		abort();
	free(buf);
	return 0;
}
