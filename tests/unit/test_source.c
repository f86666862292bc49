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

#include "store.h"
#include "tap_main.h"

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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive_good),
		cmocka_unit_test(test_archive_bad),
		cmocka_unit_test(test_not_an_archive),
		cmocka_unit_test(test_folder),
	};

	return RUN_TAP(tests);
}
