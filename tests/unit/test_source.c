/*
 * test_source.c - what add reads: folders and archives, and the entries
 * it must refuse before anything is written.
 */
#include "config.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <cmocka.h>

#include "lib/bounds.h"
#include "store/store.h"
#include "tests/unit/tap_main.h"

struct entry {
	const char	*path;
	int		 type;		/* AE_IFREG, AE_IFDIR, AE_IFLNK, AE_IFCHR */
	const char	*data;		/* or the link target */
	int		 hardlink;
};

/* Writes a tar (or zip) of the entries into buf; returns its size. */
static size_t
make_archive(const struct entry *e, size_t n, int zip, void *buf, size_t size)
{
	struct archive *a = archive_write_new();
	size_t used = 0;

	if (zip)
		archive_write_set_format_zip(a);
	else
		archive_write_set_format_pax_restricted(a);
	assert_int_equal(archive_write_open_memory(a, buf, size, &used),
	    ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *ae = archive_entry_new();
		size_t len = e[i].type == AE_IFREG && e[i].data != NULL &&
		    !e[i].hardlink ?
		    strlen(e[i].data) : 0;

		archive_entry_set_pathname(ae, e[i].path);
		archive_entry_set_filetype(ae, (unsigned)e[i].type);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, (la_int64_t)len);
		if (e[i].type == AE_IFLNK)
			archive_entry_set_symlink(ae, e[i].data);
		if (e[i].hardlink)
			archive_entry_set_hardlink(ae, e[i].data);
		if (e[i].type == AE_IFCHR)
			archive_entry_set_rdev(ae, 0x0103);
		assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
		if (len > 0)
			assert_int_equal(archive_write_data(a, e[i].data, len),
			    (la_ssize_t)len);
		archive_entry_free(ae);
	}
	archive_write_close(a);
	archive_write_free(a);
	return used;
}

static int
open_entries(const struct entry *e, size_t n, int zip,
    struct store_source **src)
{
	static uint8_t buf[1 << 16];
	size_t len = make_archive(e, n, zip, buf, sizeof(buf));

	return store_source_open_memory(buf, len, src);
}

static void
test_archive_good(void **state)
{
	const struct entry e[] = {
		{ "gemma/", AE_IFDIR, NULL, 0 },
		{ "gemma/config.json", AE_IFREG, "{}", 0 },
		{ "gemma/sub/w.bin", AE_IFREG, "0123456789", 0 },
		{ "gemma/README.md", AE_IFREG, "---\nlicense: mit\n---\n", 0 },
	};
	struct store_source *src;
	char *buf;
	size_t len;

	(void)state;
	for (int zip = 0; zip < 2; zip++) {
		assert_int_equal(open_entries(e, 4, zip, &src), 0);
		/* The one top folder is stripped. */
		assert_int_equal(store_source_count(src), 3);
		assert_string_equal(store_source_entry(src, 0)->path,
		    "config.json");
		assert_string_equal(store_source_entry(src, 1)->path,
		    "sub/w.bin");
		assert_int_equal(store_source_slurp(src, 1, 100, &buf, &len), 0);
		assert_int_equal(len, 10);
		assert_memory_equal(buf, "0123456789", 10);
		free(buf);
		assert_int_equal(store_source_slurp(src, 1, 5, &buf, &len),
		    STORE_EINVAL);
		store_source_free(src);
	}
}

/* Refused in tar and (unless tar_only: zip has no hard links or
 * devices) in zip. */
static void
refused(const struct entry *e, size_t n, const char *why, int tar_only)
{
	struct store_source *src = NULL;

	for (int zip = 0; zip < (tar_only ? 1 : 2); zip++) {
		if (open_entries(e, n, zip, &src) != STORE_EINVAL)
			fail_msg("%s (%s) was not refused", e[n - 1].path,
			    zip ? "zip" : "tar");
		assert_null(src);
		if (strstr(store_lasterror(), why) == NULL)
			fail_msg("%s: wanted \"%s\"", store_lasterror(), why);
	}
}

static void
test_archive_bad(void **state)
{
	const struct entry dotdot[] = {
		{ "ok.txt", AE_IFREG, "x", 0 },
		{ "../evil.txt", AE_IFREG, "x", 0 },
	};
	const struct entry inner[] = { { "a/../../b", AE_IFREG, "x", 0 } };
	const struct entry absolute[] = { { "/etc/passwd", AE_IFREG, "x", 0 } };
	const struct entry symlink[] = { { "link", AE_IFLNK, "/etc/passwd", 0 } };
	const struct entry hardlink[] = {
		{ "a", AE_IFREG, "x", 0 },
		{ "b", AE_IFREG, "a", 1 },
	};
	const struct entry device[] = { { "tty", AE_IFCHR, NULL, 0 } };
	const struct entry twice[] = {
		{ "a.txt", AE_IFREG, "x", 0 },
		{ "a.txt", AE_IFREG, "y", 0 },
	};
	const struct entry fileanddir[] = {
		{ "a", AE_IFREG, "x", 0 },
		{ "a-b", AE_IFREG, "x", 0 },
		{ "a/b", AE_IFREG, "y", 0 },
	};
	const struct entry dirdotdot[] = { { "../x/", AE_IFDIR, NULL, 0 } };

	(void)state;
	refused(dotdot, 2, "../evil.txt: not a valid path", 0);
	refused(inner, 1, "not a valid path", 0);
	refused(absolute, 1, "absolute path", 0);
	refused(symlink, 1, "links are not allowed", 0);
	refused(hardlink, 2, "links are not allowed", 1);
	refused(twice, 2, "a.txt: named twice", 0);
	refused(fileanddir, 3, "a: both a file and a folder", 0);
	refused(dirdotdot, 1, "not a valid path", 0);
	refused(device, 1, "tty: not a regular file", 1);
}

/* As in a folder, .git and .cache/huggingface at the top of an archive
 * (after its one top folder) are not part of the repository. */
static void
test_archive_git(void **state)
{
	const struct entry e[] = {
		{ "m/.git/config", AE_IFREG, "[core]\n", 0 },
		{ "m/a.txt", AE_IFREG, "a", 0 },
		{ "m/.cache/huggingface/x", AE_IFREG, "x", 0 },
		{ "m/sub/.git/y", AE_IFREG, "yy", 0 },
		{ "m/.git", AE_IFREG, "gitdir: elsewhere\n", 0 },
	};
	struct store_source *src;
	char *buf;
	size_t len;

	(void)state;
	for (int zip = 0; zip < 2; zip++) {
		/* .git as a folder, then as a file (a worktree's). */
		for (size_t n = 4; n <= 5; n++) {
			const struct entry *v = n == 4 ? e : e + 1;

			if (open_entries(v, 4, zip, &src) != 0)
				fail_msg("%s", store_lasterror());
			assert_int_equal(store_source_count(src), 2);
			assert_string_equal(store_source_entry(src, 0)->path,
			    "a.txt");
			assert_string_equal(store_source_entry(src, 1)->path,
			    "sub/.git/y");
			assert_int_equal(store_source_slurp(src, 1, 100, &buf,
			    &len), 0);
			assert_int_equal(len, 2);
			assert_memory_equal(buf, "yy", 2);
			free(buf);
			store_source_free(src);
		}
	}
}

static void
test_not_an_archive(void **state)
{
	struct store_source *src = NULL;
	const char junk[] = "this is not an archive at all, just text";

	(void)state;
	assert_int_equal(store_source_open_memory(junk, sizeof(junk), &src),
	    STORE_EINVAL);
	assert_null(src);
}

/* Archives compressed by filters other than the built-in four, which
 * libarchive may run external programs for, are refused. */
static void
test_archive_filters(void **state)
{
	static const struct {
		int		 filter;
		const char	*name;
		int		 ok;
	} f[] = {
		{ ARCHIVE_FILTER_GZIP, "gzip", 1 },
		{ ARCHIVE_FILTER_BZIP2, "bzip2", 1 },
		{ ARCHIVE_FILTER_XZ, "xz", 1 },
		{ ARCHIVE_FILTER_ZSTD, "zstd", 1 },
		{ ARCHIVE_FILTER_COMPRESS, "compress", 0 },
		{ ARCHIVE_FILTER_UU, "uuencode", 0 },
		{ ARCHIVE_FILTER_LZ4, "lz4", 0 },
		{ ARCHIVE_FILTER_LZIP, "lzip", 0 },
		{ ARCHIVE_FILTER_LZMA, "lzma", 0 },
	};
	static uint8_t buf[1 << 16];
	struct store_source *src;

	(void)state;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		struct archive *a = archive_write_new();
		struct archive_entry *ae = archive_entry_new();
		size_t used = 0;
		int rc;

		archive_write_set_format_pax_restricted(a);
		if (archive_write_add_filter(a, f[i].filter) != ARCHIVE_OK) {
			/* This libarchive cannot write it: nothing to try. */
			print_message("# %s: cannot write, skipped\n", f[i].name);
			archive_entry_free(ae);
			archive_write_free(a);
			continue;
		}
		assert_int_equal(archive_write_open_memory(a, buf, sizeof(buf),
		    &used), ARCHIVE_OK);
		archive_entry_set_pathname(ae, "config.json");
		archive_entry_set_filetype(ae, AE_IFREG);
		archive_entry_set_perm(ae, 0644);
		archive_entry_set_size(ae, 2);
		assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
		assert_int_equal(archive_write_data(a, "{}", 2), 2);
		archive_entry_free(ae);
		archive_write_close(a);
		archive_write_free(a);
		rc = store_source_open_memory(buf, used, &src);
		if (f[i].ok) {
			if (rc != 0)
				fail_msg("%s: %s", f[i].name, store_lasterror());
			assert_int_equal(store_source_count(src), 1);
			store_source_free(src);
		} else {
			if (rc != STORE_EINVAL)
				fail_msg("%s was not refused", f[i].name);
			if (strstr(store_lasterror(),
			    "gzip, bzip2, xz or zstd") == NULL)
				fail_msg("%s: %s", f[i].name,
				    store_lasterror());
		}
	}
}

struct grow {
	uint8_t	*buf;
	size_t	 len, cap;
};

static la_ssize_t
grow_write(struct archive *a, void *arg, const void *data, size_t len)
{
	struct grow *g = arg;

	(void)a;
	if (g->len + len > g->cap) {
		g->cap = (g->len + len) * 2;
		assert_non_null(g->buf = realloc(g->buf, g->cap));
	}
	memcpy(g->buf + g->len, data, len);
	g->len += len;
	return (la_ssize_t)len;
}

/* A gzipped tar of n entries: n - 1 folders "d/" and one file. */
static void
many_entries(struct grow *g, size_t n)
{
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();

	memset(g, 0, sizeof(*g));
	archive_write_set_format_ustar(a);
	archive_write_add_filter_gzip(a);
	archive_write_set_bytes_in_last_block(a, 1);
	assert_int_equal(archive_write_open(a, g, NULL, grow_write, NULL),
	    ARCHIVE_OK);
	archive_entry_set_pathname(ae, "d/");
	archive_entry_set_filetype(ae, AE_IFDIR);
	archive_entry_set_perm(ae, 0755);
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, "d/f");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_perm(ae, 0644);
	archive_entry_set_size(ae, 1);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_int_equal(archive_write_data(a, "x", 1), 1);
	archive_entry_free(ae);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
}

/* More entries than BOUND_ARCHIVE_ENTRIES, folders included, are
 * refused; exactly that many are read. */
static void
test_archive_entries_cap(void **state)
{
	struct store_source *src = NULL;
	struct grow g;
	char want[64];

	(void)state;
	many_entries(&g, BOUND_ARCHIVE_ENTRIES);
	if (store_source_open_memory(g.buf, g.len, &src) != 0)
		fail_msg("%s", store_lasterror());
	assert_int_equal(store_source_count(src), 1);
	store_source_free(src);
	free(g.buf);

	many_entries(&g, BOUND_ARCHIVE_ENTRIES + 1);
	src = NULL;
	assert_int_equal(store_source_open_memory(g.buf, g.len, &src),
	    STORE_EINVAL);
	assert_null(src);
	snprintf(want, sizeof(want), "more than %d entries",
	    BOUND_ARCHIVE_ENTRIES);
	if (strstr(store_lasterror(), want) == NULL)
		fail_msg("%s: wanted \"%s\"", store_lasterror(), want);
	free(g.buf);
}

/*
 * A 10 KiB tar (GNU tar --sparse) of two sparse files, of 5 and 4 TiB:
 * each under BOUND_ARCHIVE_BYTES, both above it.  Reading it would
 * stream 9 TiB of zeros; it is refused when listed.
 */
static void
test_archive_bytes_cap(void **state)
{
	const char *top = getenv("top_srcdir");
	struct store_source *src = NULL;
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/fuzz/corpus/archive/"
	    "sparse-9tib.tar", top != NULL ? top : ".");
	assert_int_equal(store_source_open(path, &src), STORE_EINVAL);
	assert_null(src);
	assert_true(BOUND_ARCHIVE_BYTES >= (5ULL << 40) &&
	    BOUND_ARCHIVE_BYTES < (9ULL << 40));
	snprintf(path, sizeof(path), "b.bin: more than %llu TiB in all",
	    (unsigned long long)(BOUND_ARCHIVE_BYTES >> 40));
	if (strstr(store_lasterror(), path) == NULL)
		fail_msg("%s: wanted \"%s\"", store_lasterror(), path);
}

static int
drain_all(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	char buf[64];
	ssize_t n;

	(void)arg;
	(void)idx;
	while ((n = rd(rarg, buf, sizeof(buf))) > 0)
		;
	return n < 0 ? -1 : 0;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
write_file(const char *dir, const char *name, const char *data)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(data, f);
	fclose(f);
}

static void
test_folder(void **state)
{
	char dir[] = "/tmp/airlock-src.XXXXXX", path[512], outside[600];
	struct store_source *src;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/m", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/m/sub", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/m/.git", dir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/m", dir);
	write_file(path, "b.txt", "b");
	write_file(path, "a.txt", "a");
	write_file(path, "sub/c.txt", "c");
	write_file(path, ".git/HEAD", "ref");
	/* A link inside the folder reads as its target. */
	snprintf(outside, sizeof(outside), "%s/m/alias.txt", dir);
	assert_int_equal(symlink("a.txt", outside), 0);
	assert_int_equal(store_source_open(path, &src), 0);
	assert_int_equal(store_source_count(src), 4);	/* no .git */
	assert_string_equal(store_source_entry(src, 0)->path, "a.txt");
	assert_string_equal(store_source_entry(src, 1)->path, "alias.txt");
	assert_string_equal(store_source_entry(src, 3)->path, "sub/c.txt");
	store_source_free(src);

	/* A link out of the folder is refused. */
	write_file(dir, "secret", "s");
	snprintf(outside, sizeof(outside), "%s/m/sub/escape", dir);
	assert_int_equal(symlink("../../secret", outside), 0);
	assert_int_equal(store_source_open(path, &src), STORE_EINVAL);
	assert_non_null(strstr(store_lasterror(), "sub/escape: a link that "
	    "leaves the folder"));
	unlink(outside);

	/* A fifo is refused. */
	snprintf(outside, sizeof(outside), "%s/m/pipe", dir);
	assert_int_equal(mkfifo(outside, 0644), 0);
	assert_int_equal(store_source_open(path, &src), STORE_EINVAL);
	assert_non_null(strstr(store_lasterror(), "pipe: not a regular file"));
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
mkpath(char *buf, size_t size, const char *dir, const char *name)
{
	assert_true((size_t)snprintf(buf, size, "%s/%s", dir, name) < size);
}

/* Reading entry i of src is refused, as changed since it was listed. */
static void
refused_read(struct store_source *src, const char *path)
{
	char want[256], *buf = NULL;
	size_t len, i;

	for (i = 0; i < store_source_count(src); i++)
		if (strcmp(store_source_entry(src, i)->path, path) == 0)
			break;
	assert_true(i < store_source_count(src));
	if (store_source_slurp(src, i, 100, &buf, &len) != STORE_EINVAL)
		fail_msg("%s was read after it changed: \"%.*s\"", path,
		    buf != NULL ? (int)len : 0, buf != NULL ? buf : "");
	snprintf(want, sizeof(want), "%s: changed while reading", path);
	if (strstr(store_lasterror(), want) == NULL)
		fail_msg("%s: wanted \"%s\"", store_lasterror(), want);
}

/*
 * A folder that changes between listing and reading (a shared staging
 * folder): each file is reached again without following links at any
 * level, and must be the very file listed.
 */
static void
test_folder_swapped(void **state)
{
	char dir[] = "/tmp/airlock-swap.XXXXXX", m[512], a[600], b[600];
	struct store_source *src;
	char *buf;
	size_t len;

	(void)state;
	assert_non_null(mkdtemp(dir));
	mkpath(m, sizeof(m), dir, "m");
	assert_int_equal(mkdir(m, 0755), 0);
	mkpath(a, sizeof(a), m, "sub");
	assert_int_equal(mkdir(a, 0755), 0);
	mkpath(a, sizeof(a), dir, "out");
	assert_int_equal(mkdir(a, 0755), 0);
	write_file(m, "a.txt", "aaaa");
	write_file(m, "b.txt", "bbbb");
	write_file(m, "g.txt", "gggg");
	write_file(m, "sub/c.txt", "cccc");
	write_file(dir, "out/c.txt", "SECR");
	write_file(dir, "out/b.txt", "SECR");
	mkpath(a, sizeof(a), m, "alias.txt");
	assert_int_equal(symlink("g.txt", a), 0);
	assert_int_equal(store_source_open(m, &src), 0);
	assert_int_equal(store_source_count(src), 5);

	/* Unchanged: read as listed. */
	assert_int_equal(store_source_slurp(src, 0, 100, &buf, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(buf, "aaaa", 4);
	free(buf);

	/* A folder swapped for a link to elsewhere. */
	mkpath(a, sizeof(a), m, "sub");
	mkpath(b, sizeof(b), m, "sub.old");
	assert_int_equal(rename(a, b), 0);
	assert_int_equal(symlink("../out", a), 0);
	refused_read(src, "sub/c.txt");

	/* A file replaced by another of the same size. */
	write_file(m, "a.new", "AAAA");
	mkpath(a, sizeof(a), m, "a.new");
	mkpath(b, sizeof(b), m, "a.txt");
	assert_int_equal(rename(a, b), 0);
	refused_read(src, "a.txt");

	/* A file replaced by a link to one outside. */
	mkpath(b, sizeof(b), m, "b.txt");
	assert_int_equal(unlink(b), 0);
	assert_int_equal(symlink("../out/b.txt", b), 0);
	refused_read(src, "b.txt");

	/* A link's target replaced; and a file grown in place. */
	write_file(m, "g.new", "GGGG");
	mkpath(a, sizeof(a), m, "g.new");
	mkpath(b, sizeof(b), m, "g.txt");
	assert_int_equal(rename(a, b), 0);
	refused_read(src, "alias.txt");
	write_file(m, "g.txt", "GGGGG");
	refused_read(src, "g.txt");

	/* Every file is checked when all are streamed, too. */
	assert_int_equal(store_source_each(src, drain_all, NULL),
	    STORE_EINVAL);
	assert_non_null(strstr(store_lasterror(), "changed while reading"));
	store_source_free(src);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A link into .git (or .cache/huggingface), which are not part of the
 * repository, is refused: it would add what the walk leaves out. */
static void
test_folder_git_links(void **state)
{
	static const struct {
		const char	*target;
		const char	*why;
	} l[] = {
		{ ".git/config", "link: a link into .git" },
		{ ".git", "link: a link into .git" },
		{ "sub/../.git/HEAD", "link: a link into .git" },
		{ ".cache/huggingface/x", "link: a link into .cache/huggingface" },
	};
	char dir[] = "/tmp/airlock-git.XXXXXX", m[512], p[600];
	struct store_source *src;

	(void)state;
	assert_non_null(mkdtemp(dir));
	mkpath(m, sizeof(m), dir, "m");
	assert_int_equal(mkdir(m, 0755), 0);
	mkpath(p, sizeof(p), m, ".git");
	assert_int_equal(mkdir(p, 0755), 0);
	mkpath(p, sizeof(p), m, "sub");
	assert_int_equal(mkdir(p, 0755), 0);
	mkpath(p, sizeof(p), m, ".cache");
	assert_int_equal(mkdir(p, 0755), 0);
	mkpath(p, sizeof(p), m, ".cache/huggingface");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(m, ".git/config", "[core]\n");
	write_file(m, ".git/HEAD", "ref: refs/heads/main\n");
	write_file(m, ".cache/huggingface/x", "x");
	write_file(m, "a.txt", "a");
	/* A sub/.git is an ordinary folder: only the top one is git's. */
	mkpath(p, sizeof(p), m, "sub/.git");
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(m, "sub/.git/y", "y");
	assert_int_equal(store_source_open(m, &src), 0);
	assert_int_equal(store_source_count(src), 2);
	assert_string_equal(store_source_entry(src, 0)->path, "a.txt");
	assert_string_equal(store_source_entry(src, 1)->path, "sub/.git/y");
	store_source_free(src);

	mkpath(p, sizeof(p), m, "link");
	for (size_t i = 0; i < sizeof(l) / sizeof(l[0]); i++) {
		src = NULL;
		assert_int_equal(symlink(l[i].target, p), 0);
		if (store_source_open(m, &src) != STORE_EINVAL)
			fail_msg("link -> %s was not refused", l[i].target);
		assert_null(src);
		if (strstr(store_lasterror(), l[i].why) == NULL)
			fail_msg("%s: wanted \"%s\"", store_lasterror(),
			    l[i].why);
		assert_int_equal(unlink(p), 0);
	}
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive_good),
		cmocka_unit_test(test_archive_bad),
		cmocka_unit_test(test_archive_git),
		cmocka_unit_test(test_not_an_archive),
		cmocka_unit_test(test_archive_filters),
		cmocka_unit_test(test_archive_entries_cap),
		cmocka_unit_test(test_archive_bytes_cap),
		cmocka_unit_test(test_folder),
		cmocka_unit_test(test_folder_swapped),
		cmocka_unit_test(test_folder_git_links),
	};

	return RUN_TAP(tests);
}
