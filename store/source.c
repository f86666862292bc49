/*
 * source.c - what `airlock add` reads: a folder, or an archive of one.
 *
 * Opening a source lists and checks all of it before anything is written,
 * so that a bad entry changes nothing: paths must be valid repository
 * paths (no "..", no absolute paths, no empty parts), links may not leave
 * the folder (and in archives are refused outright), devices, fifos and
 * sockets are refused, and no name may appear twice.  Archives are read
 * twice, once to check and once to ingest; libarchive streams both, and
 * only with its built-in decompressors, never an external program.
 *
 * A folder may change while it is read (a shared staging folder).  Each
 * file is reached again from the folder opened at the start, one
 * component at a time and never through a link, and must be the file
 * listed: same device, inode and size.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/bounds.h"
#include "store/internal.h"

struct srcent {
	struct store_entry	 e;	/* first: handed out as a store_entry */
	char			*fspath;	/* folders: a link's target */
	dev_t			 dev;		/* folders: the file listed */
	ino_t			 ino;
};

struct store_source {
	int		 archive;
	char		*path;		/* the folder or archive file */
	const void	*mem;		/* or the archive in memory */
	size_t		 memlen;
	char		*root;		/* folders: realpath of path */
	char		*linkroot;	/* where links may lead (root) */
	int		 rootfd;	/* folders: root, opened once */
	int		 linkfd;	/* and linkroot, or -1 */
	int		 arcfd;		/* archives: the file, opened once */
	struct srcent	*v;
	size_t		 n, cap;
	uint64_t	 bytes;
	size_t		 strip;		/* archives: length of a top folder */
	struct archive	*a;		/* during store_source_each */
	uint64_t	 left;		/* bytes the current entry has */
	int		 fd;
	char		 errbuf[256];
};

static int
add_entry(struct store_source *src, const char *path, const struct stat *sb,
    uint64_t size, const char *fspath)
{
	struct srcent *e;

	if (src->n >= BOUND_FILES)
		return store_fail(STORE_EINVAL, "more than %d files",
		    BOUND_FILES);
	if (src->n == src->cap) {
		size_t cap = src->cap != 0 ? src->cap * 2 : 64;
		void *v = realloc(src->v, cap * sizeof(*src->v));

		if (v == NULL)
			return ENOMEM;
		src->v = v;
		src->cap = cap;
	}
	e = &src->v[src->n];
	memset(e, 0, sizeof(*e));
	if ((e->e.path = strdup(path)) == NULL ||
	    (fspath != NULL && (e->fspath = strdup(fspath)) == NULL)) {
		free((char *)e->e.path);
		return ENOMEM;
	}
	e->e.size = size;
	if (sb != NULL) {
		e->dev = sb->st_dev;
		e->ino = sb->st_ino;
	}
	src->bytes += size;
	src->n++;
	return 0;
}

static int
join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = *dir != '\0' ? snprintf(buf, size, "%s/%s", dir, name) :
	    snprintf(buf, size, "%s", name);

	if (n < 0 || (size_t)n >= size)
		return store_fail(STORE_EINVAL, "%s/%s: path too long", dir,
		    name);
	return 0;
}

/*
 * Opens rel, beneath the folder dirfd, one component at a time: each
 * folder with O_NOFOLLOW | O_DIRECTORY and the file with O_NOFOLLOW, so
 * that a link anywhere on the way (one swapped in after listing) fails
 * with ELOOP or ENOTDIR instead of leading elsewhere.  rel has no "..":
 * it is a valid repository path, or a realpath's tail.  The file is opened
 * O_NONBLOCK so that a fifo put in its place cannot hang the open.
 */
static int
open_beneath(int dirfd, const char *rel, int *out)
{
	char part[BOUND_PATH_COMPONENT + 1];
	const char *p = rel, *slash;
	int fd = dirfd, next, err;

	*out = -1;
	while ((slash = strchr(p, '/')) != NULL) {
		size_t len = (size_t)(slash - p);

		if (len == 0 || len >= sizeof(part)) {
			err = ENAMETOOLONG;
			goto fail;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		err = errno;
		if (fd != dirfd)
			close(fd);
		if ((fd = next) == -1)
			return err;
		p = slash + 1;
	}
	next = openat(fd, p, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	err = errno;
	if (fd != dirfd)
		close(fd);
	if (next == -1)
		return err;
	*out = next;
	return 0;
fail:
	if (fd != dirfd)
		close(fd);
	return err;
}

static int
skipped(const char *dir, const char *name)
{
	/* git's own folder, and the metadata `hf download --local-dir`
	 * leaves: neither is part of the repository. */
	return (*dir == '\0' && strcmp(name, ".git") == 0) ||
	    (strcmp(dir, ".cache") == 0 && strcmp(name, "huggingface") == 0);
}

/*
 * The length of the part of rel, a path inside the folder, that the walk
 * skips (".git" of ".git/config"), or 0.
 */
static size_t
skipped_prefix(const char *rel)
{
	char dir[PATH_MAX], name[NAME_MAX + 1];
	const char *p = rel, *end;
	size_t dlen = 0;

	dir[0] = '\0';
	for (;;) {
		size_t len;

		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len > NAME_MAX || dlen + 1 + len >= sizeof(dir))
			return 0;
		memcpy(name, p, len);
		name[len] = '\0';
		if (skipped(dir, name))
			return (size_t)(p - rel) + len;
		if (end == NULL)
			return 0;
		if (dlen > 0)
			dir[dlen++] = '/';
		memcpy(dir + dlen, name, len + 1);
		dlen += len;
		p = end + 1;
	}
}

/*
 * A link inside the folder to a regular file is read as that file.  Its
 * target must lie within linkroot (or the folder), outside what the walk
 * skips, and is opened as a file listed would be.
 */
static int
follow_link(struct store_source *src, const char *rel)
{
	char full[PATH_MAX], *target;
	const char *within = src->linkroot != NULL ? src->linkroot : src->root;
	struct stat sb;
	size_t rlen = strlen(within), rootlen = strlen(src->root), skip;
	int fd, rc;

	if ((rc = join(full, sizeof(full), src->root, rel)) != 0)
		return rc;
	if ((target = realpath(full, NULL)) == NULL)
		return store_fail(STORE_EINVAL, "%s: a link to nothing", rel);
	if (strncmp(target, within, rlen) != 0 || target[rlen] != '/') {
		free(target);
		return store_fail(STORE_EINVAL, "%s: a link that leaves the "
		    "folder", rel);
	}
	if (strncmp(target, src->root, rootlen) == 0 &&
	    target[rootlen] == '/' &&
	    (skip = skipped_prefix(target + rootlen + 1)) != 0) {
		rc = store_fail(STORE_EINVAL, "%s: a link into %.*s, which is "
		    "not part of the repository", rel, (int)skip,
		    target + rootlen + 1);
		free(target);
		return rc;
	}
	rc = open_beneath(src->linkfd != -1 ? src->linkfd : src->rootfd,
	    target + rlen + 1, &fd);
	if (rc == 0 && fstat(fd, &sb) == -1)
		rc = errno;
	if (fd != -1)
		close(fd);
	if (rc == ELOOP || rc == ENOTDIR || rc == ENOENT)
		rc = store_fail(STORE_EINVAL, "%s: changed while reading", rel);
	else if (rc != 0)
		rc = store_fail(rc, "%s: %s", rel, strerror(rc));
	else if (!S_ISREG(sb.st_mode))
		rc = store_fail(STORE_EINVAL, "%s: a link to something that "
		    "is not a regular file", rel);
	else if ((rc = add_entry(src, rel, &sb, (uint64_t)sb.st_size,
	    target)) == 0)
		src->v[src->n - 1].e.target = src->v[src->n - 1].fspath;
	free(target);
	return rc;
}

static int
walk(struct store_source *src, int dirfd, const char *rel, int depth)
{
	char path[BOUND_PATH + 2];
	struct dirent *de;
	struct stat sb;
	DIR *d;
	int fd, rc = 0;

	if (depth > BOUND_SOURCE_DEPTH)
		return store_fail(STORE_EINVAL, "%s: folders nested too deeply",
		    rel);
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		rc = errno;
		if (fd != -1)
			close(fd);
		return store_fail(rc, "%s: %s", *rel ? rel : src->path,
		    strerror(rc));
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		const char *name = de->d_name;

		if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
		    skipped(rel, name))
			continue;
		if ((rc = join(path, sizeof(path), rel, name)) != 0)
			break;
		if (!store_path_valid(path)) {
			rc = store_fail(STORE_EINVAL, "%s: not a valid path in a "
			    "repository", path);
			break;
		}
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
			rc = store_fail(errno, "%s: %s", path, strerror(errno));
			break;
		}
		if (S_ISREG(sb.st_mode)) {
			if ((rc = add_entry(src, path, &sb,
			    (uint64_t)sb.st_size, NULL)) != 0)
				break;
		} else if (S_ISDIR(sb.st_mode)) {
			int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);

			if (sub == -1) {
				rc = store_fail(errno, "%s: %s", path,
				    strerror(errno));
				break;
			}
			rc = walk(src, sub, path, depth + 1);
			close(sub);
			if (rc != 0)
				break;
		} else if (S_ISLNK(sb.st_mode)) {
			if ((rc = follow_link(src, path)) != 0)
				break;
		} else {
			rc = store_fail(STORE_EINVAL, "%s: not a regular file "
			    "(a device, fifo or socket)", path);
			break;
		}
	}
	if (rc == 0 && errno != 0)
		rc = store_fail(errno, "%s: %s", *rel ? rel : src->path,
		    strerror(errno));
	closedir(d);
	return rc;
}

#define ARC_KINDS	"tar or zip, plain or compressed with gzip, bzip2, xz " \
			"or zstd"

/*
 * Whether libarchive decompresses this itself.  Built without the
 * library, it registers an external program instead (gzip -d, ...) and
 * says so with ARCHIVE_WARN; that is refused.  It is asked on an archive
 * of its own, because a program once registered cannot be taken back.
 */
static int
builtin_filter(int (*support)(struct archive *))
{
	struct archive *probe;
	int r;

	if ((probe = archive_read_new()) == NULL)
		return 0;
	r = support(probe);
	archive_read_free(probe);
	return r == ARCHIVE_OK;
}

static struct archive *
arc_open(struct store_source *src)
{
	static int (*const filters[])(struct archive *) = {
		archive_read_support_filter_gzip,
		archive_read_support_filter_bzip2,
		archive_read_support_filter_xz,
		archive_read_support_filter_zstd,
	};
	struct archive *a;
	int rc;

	if ((a = archive_read_new()) == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (builtin_filter(filters[i]))
			(void)filters[i](a);
	archive_read_support_format_tar(a);
	archive_read_support_format_zip(a);
	if (src->mem != NULL)
		rc = archive_read_open_memory(a, src->mem, src->memlen);
	else if (lseek(src->arcfd, 0, SEEK_SET) == -1)
		rc = ARCHIVE_FATAL;
	else
		rc = archive_read_open_fd(a, src->arcfd, 1 << 20);
	if (rc != ARCHIVE_OK) {
		snprintf(src->errbuf, sizeof(src->errbuf), "%s (add reads "
		    ARC_KINDS ")", archive_error_string(a) != NULL ?
		    archive_error_string(a) : strerror(errno));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/*
 * An archive entry's path as a repository path: "./" prefixes dropped,
 * then it must be valid.  Returns a pointer into the entry's own name.
 */
static int
arc_path(struct archive_entry *e, const char **out)
{
	const char *name = archive_entry_pathname_utf8(e);

	if (name == NULL)
		name = archive_entry_pathname(e);
	if (name == NULL)
		return store_fail(STORE_EINVAL, "an archive entry without a "
		    "name");
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	if (name[0] == '/')
		return store_fail(STORE_EINVAL, "%s: an absolute path in the "
		    "archive", name);
	*out = name;
	return 0;
}

/* An error reading the archive; at its first entry, maybe not a kind
 * that is read at all. */
static int
arc_fail(struct store_source *src, struct archive *a, size_t entries)
{
	const char *why = archive_error_string(a);

	return store_fail(STORE_EINVAL, "%s: %s%s", src->path,
	    why != NULL ? why : "not a readable archive",
	    entries == 0 ? " (add reads " ARC_KINDS ")" : "");
}

/* Counts an entry read, against BOUND_ARCHIVE_ENTRIES. */
static int
arc_count(struct store_source *src, size_t *entries)
{
	if (++*entries > BOUND_ARCHIVE_ENTRIES)
		return store_fail(STORE_EINVAL, "%s: more than %d entries",
		    src->path, BOUND_ARCHIVE_ENTRIES);
	return 0;
}

/* Refuses an entry of size bytes that would take the archive past
 * BOUND_ARCHIVE_BYTES. */
static int
arc_room(struct store_source *src, const char *path, uint64_t size)
{
	if (size > BOUND_ARCHIVE_BYTES - src->bytes)
		return store_fail(STORE_EINVAL, "%s: more than %llu TiB in all "
		    "once unpacked", path,
		    (unsigned long long)(BOUND_ARCHIVE_BYTES >> 40));
	return 0;
}

/*
 * An entry whose size the archive does not say (a zip written as a
 * stream) is read through to learn it, within what is left.
 */
static int
arc_measure(struct store_source *src, struct archive *a, const char *path,
    uint64_t *size)
{
	char buf[1 << 16];
	la_ssize_t n;

	*size = 0;
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		*size += (uint64_t)n;
		if (arc_room(src, path, *size) != 0)
			return STORE_EINVAL;
	}
	return n < 0 ? arc_fail(src, a, 1) : 0;
}

static int
arc_list(struct store_source *src)
{
	struct archive_entry *e;
	struct archive *a;
	const char *path;
	size_t entries = 0;
	uint64_t size;
	int rc = 0, r;

	if ((a = arc_open(src)) == NULL)
		return store_fail(STORE_EINVAL, "%s: %s", src->path, src->errbuf);
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			rc = arc_fail(src, a, entries);
			break;
		}
		if ((rc = arc_count(src, &entries)) != 0 ||
		    (rc = arc_path(e, &path)) != 0)
			break;
		if (archive_entry_hardlink(e) != NULL ||
		    archive_entry_filetype(e) == AE_IFLNK) {
			rc = store_fail(STORE_EINVAL, "%s: links are not allowed "
			    "in an archive", path);
			break;
		}
		if (archive_entry_filetype(e) == AE_IFDIR) {
			char dir[BOUND_PATH + 1];
			size_t len = strlen(path);

			/* Checked for ".." too, then nothing to keep. */
			if (len > BOUND_PATH) {
				rc = store_fail(STORE_EINVAL, "%s: path too long",
				    path);
				break;
			}
			memcpy(dir, path, len + 1);
			while (len > 0 && dir[len - 1] == '/')
				dir[--len] = '\0';
			if (len > 0 && !store_path_valid(dir)) {
				rc = store_fail(STORE_EINVAL, "%s: not a valid "
				    "path in a repository", path);
				break;
			}
			continue;
		}
		if (archive_entry_filetype(e) != AE_IFREG) {
			rc = store_fail(STORE_EINVAL, "%s: not a regular file "
			    "(a device, fifo or socket)", path);
			break;
		}
		if (!store_path_valid(path)) {
			rc = store_fail(STORE_EINVAL, "%s: not a valid path in a "
			    "repository", path);
			break;
		}
		if (archive_entry_size_is_set(e) && archive_entry_size(e) < 0) {
			rc = store_fail(STORE_EINVAL, "%s: a negative size", path);
			break;
		}
		if (archive_entry_size_is_set(e)) {
			size = (uint64_t)archive_entry_size(e);
			if ((rc = arc_room(src, path, size)) != 0)
				break;
			if (archive_read_data_skip(a) < ARCHIVE_WARN) {
				rc = arc_fail(src, a, entries);
				break;
			}
		} else if ((rc = arc_measure(src, a, path, &size)) != 0)
			break;
		if ((rc = add_entry(src, path, NULL, size, NULL)) != 0)
			break;
	}
	archive_read_free(a);
	return rc;
}

static int
entcmp_flat(const void *a, const void *b)
{
	return strcmp(((const struct srcent *)a)->e.path,
	    ((const struct srcent *)b)->e.path);
}

static int
entcmp(const void *a, const void *b)
{
	return strcmp((*(const struct srcent *const *)a)->e.path,
	    (*(const struct srcent *const *)b)->e.path);
}

/*
 * Strips a top folder that holds everything, then refuses a name that
 * appears twice or that is both a file and a folder.
 */
static int
finish(struct store_source *src)
{
	struct srcent **by;
	const char *slash;
	size_t top = 0;
	int rc = 0;

	if (src->archive && src->n > 0 &&
	    (slash = strchr(src->v[0].e.path, '/')) != NULL) {
		top = (size_t)(slash - src->v[0].e.path) + 1;
		for (size_t i = 1; i < src->n && top != 0; i++)
			if (strncmp(src->v[i].e.path, src->v[0].e.path, top) != 0)
				top = 0;
	}
	if (top != 0) {
		for (size_t i = 0; i < src->n; i++) {
			char *p = (char *)src->v[i].e.path;

			memmove(p, p + top, strlen(p + top) + 1);
		}
		src->strip = top;
	}
	/* What the walk of a folder skips, an archive's entries leave out;
	 * arc_each passes over them too. */
	if (src->archive) {
		size_t kept = 0;

		for (size_t i = 0; i < src->n; i++) {
			if (skipped_prefix(src->v[i].e.path) != 0) {
				src->bytes -= src->v[i].e.size;
				free((char *)src->v[i].e.path);
			} else
				src->v[kept++] = src->v[i];
		}
		src->n = kept;
	}
	if ((by = malloc((src->n + 1) * sizeof(*by))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < src->n; i++)
		by[i] = &src->v[i];
	qsort(by, src->n, sizeof(*by), entcmp);
	for (size_t i = 0; i + 1 < src->n && rc == 0; i++) {
		const char *a = by[i]->e.path;
		size_t len = strlen(a);

		if (strcmp(a, by[i + 1]->e.path) == 0)
			rc = store_fail(STORE_EINVAL, "%s: named twice", a);
		/* "a" sorts before "a/..." only with "a-..." etc. between,
		 * so look ahead past those. */
		for (size_t j = i + 1; j < src->n && rc == 0 &&
		    strncmp(by[j]->e.path, a, len) == 0; j++)
			if (by[j]->e.path[len] == '/')
				rc = store_fail(STORE_EINVAL, "%s: both a file "
				    "and a folder", a);
	}
	free(by);
	return rc;
}

static struct store_source *
source_new(const char *path)
{
	struct store_source *src;

	if ((src = calloc(1, sizeof(*src))) == NULL)
		return NULL;
	src->fd = src->rootfd = src->linkfd = src->arcfd = -1;
	if ((src->path = strdup(path)) == NULL) {
		free(src);
		return NULL;
	}
	return src;
}

int
store_source_open(const char *path, struct store_source **out)
{
	return store_source_open_within(path, NULL, out);
}

int
store_source_open_within(const char *path, const char *linkroot,
    struct store_source **out)
{
	struct store_source *src;
	struct stat sb;
	int rc;

	*out = NULL;
	if (stat(path, &sb) == -1)
		return store_fail(errno, "%s: %s", path, strerror(errno));
	if ((src = source_new(path)) == NULL)
		return ENOMEM;
	if (S_ISDIR(sb.st_mode)) {
		if ((src->root = realpath(path, NULL)) == NULL ||
		    (linkroot != NULL &&
		    (src->linkroot = realpath(linkroot, NULL)) == NULL)) {
			rc = store_fail(errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
		/* Every file is opened again beneath these, when read. */
		if ((src->rootfd = open(src->root, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || (src->linkroot != NULL &&
		    (src->linkfd = open(src->linkroot, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1)) {
			rc = store_fail(errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
		rc = walk(src, src->rootfd, "", 0);
	} else if (S_ISREG(sb.st_mode)) {
		/* Both passes read this one file, whatever path becomes. */
		src->archive = 1;
		if ((src->arcfd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK |
		    O_CLOEXEC)) == -1 || fstat(src->arcfd, &sb) == -1) {
			rc = store_fail(errno, "%s: %s", path, strerror(errno));
			goto fail;
		}
		rc = S_ISREG(sb.st_mode) ? arc_list(src) :
		    store_fail(STORE_EINVAL, "%s: not a folder or an archive",
		    path);
	} else
		rc = store_fail(STORE_EINVAL, "%s: not a folder or an archive",
		    path);
	if (rc == 0)
		rc = finish(src);
	if (rc != 0)
		goto fail;
	if (!src->archive && src->n > 0)	/* folders, in path order */
		qsort(src->v, src->n, sizeof(src->v[0]), entcmp_flat);
	*out = src;
	return 0;
fail:
	store_source_free(src);
	return rc;
}

int
store_source_open_memory(const void *buf, size_t len,
    struct store_source **out)
{
	struct store_source *src;
	int rc;

	*out = NULL;
	if ((src = source_new("(memory)")) == NULL)
		return ENOMEM;
	src->archive = 1;
	src->mem = buf;
	src->memlen = len;
	if ((rc = arc_list(src)) != 0 || (rc = finish(src)) != 0) {
		store_source_free(src);
		return rc;
	}
	*out = src;
	return 0;
}

size_t
store_source_count(const struct store_source *src)
{
	return src->n;
}

const struct store_entry *
store_source_entry(const struct store_source *src, size_t i)
{
	return i < src->n ? &src->v[i].e : NULL;
}

uint64_t
store_source_bytes(const struct store_source *src)
{
	return src->bytes;
}

static ssize_t
fd_read(void *arg, void *buf, size_t len)
{
	struct store_source *src = arg;

	for (;;) {
		ssize_t n = read(src->fd, buf, len);

		if (n >= 0 || errno != EINTR)
			return n;
	}
}

static ssize_t
arc_read(void *arg, void *buf, size_t len)
{
	struct store_source *src = arg;
	la_ssize_t n = archive_read_data(src->a, buf, len);

	if (n < 0) {
		snprintf(src->errbuf, sizeof(src->errbuf), "%s",
		    archive_error_string(src->a) != NULL ?
		    archive_error_string(src->a) : "archive read error");
		errno = EIO;
		return -1;
	}
	/* No more than listed, so that the total stays in its bound. */
	if ((uint64_t)n > src->left) {
		snprintf(src->errbuf, sizeof(src->errbuf), "an entry larger "
		    "than listed");
		errno = EIO;
		return -1;
	}
	src->left -= (uint64_t)n;
	return (ssize_t)n;
}

/*
 * Opens a listed file again, beneath the folder (or for a link, beneath
 * where links may lead), and checks it is still the file listed.
 */
static int
open_entry(struct store_source *src, size_t i)
{
	const struct srcent *e = &src->v[i];
	const char *within = src->linkroot != NULL ? src->linkroot : src->root;
	struct stat sb;
	int rc;

	if (e->fspath != NULL)
		rc = open_beneath(src->linkfd != -1 ? src->linkfd :
		    src->rootfd, e->fspath + strlen(within) + 1, &src->fd);
	else
		rc = open_beneath(src->rootfd, e->e.path, &src->fd);
	if (rc == 0 && fstat(src->fd, &sb) == -1)
		rc = errno;
	if (rc == 0 && (!S_ISREG(sb.st_mode) || sb.st_dev != e->dev ||
	    sb.st_ino != e->ino || (uint64_t)sb.st_size != e->e.size))
		rc = ELOOP;
	if (rc != 0) {
		if (src->fd != -1)
			close(src->fd);
		src->fd = -1;
		/* A link on the way, gone, or another file: not what was
		 * listed. */
		if (rc == ELOOP || rc == ENOTDIR || rc == ENOENT)
			return store_fail(STORE_EINVAL, "%s: changed while "
			    "reading", e->e.path);
		return store_fail(rc, "%s: %s", e->e.path, strerror(rc));
	}
	(void)posix_fadvise(src->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	return 0;
}

/*
 * Walks the archive again to each regular file, checking that it is the
 * one listed before.
 */
static int
arc_each(struct store_source *src, size_t only, store_entry_fn fn, void *arg)
{
	struct archive_entry *e;
	const char *path;
	size_t i = 0, entries = 0;
	int rc = 0, r;

	if ((src->a = arc_open(src)) == NULL)
		return store_fail(STORE_EINVAL, "%s: %s", src->path, src->errbuf);
	while (i < src->n && (r = archive_read_next_header(src->a, &e)) !=
	    ARCHIVE_EOF) {
		if (r < ARCHIVE_WARN) {
			rc = arc_fail(src, src->a, 1);
			break;
		}
		if ((rc = arc_count(src, &entries)) != 0)
			break;
		if (archive_entry_filetype(e) != AE_IFREG ||
		    archive_entry_hardlink(e) != NULL)
			continue;
		if ((rc = arc_path(e, &path)) != 0)
			break;
		if (strlen(path) >= src->strip &&
		    skipped_prefix(path + src->strip) != 0)
			continue;
		if (strlen(path) < src->strip ||
		    strcmp(path + src->strip, src->v[i].e.path) != 0) {
			rc = store_fail(STORE_EINVAL, "%s: the archive changed "
			    "while being read", src->path);
			break;
		}
		if (only == (size_t)-1 || only == i) {
			src->left = src->v[i].e.size;
			rc = fn(arg, i, arc_read, src);
			if (rc != 0 || only == i)
				break;
		}
		i++;
	}
	if (rc == 0 && i < src->n && only == (size_t)-1)
		rc = store_fail(STORE_EINVAL, "%s: the archive ended early",
		    src->path);
	archive_read_free(src->a);
	src->a = NULL;
	return rc;
}

int
store_source_each(struct store_source *src, store_entry_fn fn, void *arg)
{
	int rc = 0;

	if (src->archive)
		return arc_each(src, (size_t)-1, fn, arg);
	for (size_t i = 0; i < src->n && rc == 0; i++) {
		if ((rc = open_entry(src, i)) != 0)
			break;
		rc = fn(arg, i, fd_read, src);
		close(src->fd);
		src->fd = -1;
	}
	return rc;
}

struct slurp {
	size_t	 max;
	char	*buf;
	size_t	 len;
};

static int
slurp_fn(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	struct slurp *s = arg;
	ssize_t n = 0;

	(void)idx;
	if ((s->buf = malloc(s->max + 1)) == NULL)
		return ENOMEM;
	/* One byte more than allowed tells "too large" from "just fits". */
	while (s->len <= s->max && (n = rd(rarg, s->buf + s->len,
	    s->max + 1 - s->len)) > 0)
		s->len += (size_t)n;
	if (n < 0)
		return errno;
	return s->len > s->max ? EFBIG : 0;
}

int
store_source_slurp(struct store_source *src, size_t idx, size_t max,
    char **buf, size_t *len)
{
	struct slurp s = { .max = max };
	int rc;

	*buf = NULL;
	*len = 0;
	if (idx >= src->n)
		return STORE_ENOTFOUND;
	if (src->archive)
		rc = arc_each(src, idx, slurp_fn, &s);
	else if ((rc = open_entry(src, idx)) == 0) {
		rc = slurp_fn(&s, idx, fd_read, src);
		close(src->fd);
		src->fd = -1;
	}
	if (rc == EFBIG)
		rc = store_fail(STORE_EINVAL, "%s: larger than %zu bytes",
		    src->v[idx].e.path, max);
	else if (rc != 0 && rc != STORE_EINVAL)
		rc = store_fail(rc, "%s: %s", src->v[idx].e.path,
		    store_strerror(rc));
	if (rc != 0) {
		free(s.buf);
		return rc;
	}
	*buf = s.buf;
	*len = s.len;
	return 0;
}

void
store_source_free(struct store_source *src)
{
	if (src == NULL)
		return;
	for (size_t i = 0; i < src->n; i++) {
		free((char *)src->v[i].e.path);
		free(src->v[i].fspath);
	}
	free(src->v);
	if (src->rootfd != -1)
		close(src->rootfd);
	if (src->linkfd != -1)
		close(src->linkfd);
	if (src->arcfd != -1)
		close(src->arcfd);
	free(src->root);
	free(src->linkroot);
	free(src->path);
	free(src);
}
