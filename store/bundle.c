/*
 * bundle.c - carrying revisions across the air gap: reading bundles (a
 * pax tar read with libarchive, maybe split in volumes).  Writing them is
 * export.c; what a receiver holds, inventory.c.
 *
 * A bundle's entries, in order:
 *
 *   airlock-bundle.json          the index: what follows, with hashes
 *   airlock-bundle.json.minisig  its signature (made and checked by keys/)
 *   manifests/HEX                each revision's canonical manifest
 *   signatures/HEX.KEYID.minisig each manifest's signatures
 *   chunks/HEX                   the chunks, in the order the files need them
 *
 * Reading is in two passes.  The first hashes every entry against the
 * index and touches no store, so a bundle that is tampered with,
 * truncated, missing a volume or out of order is refused with the store
 * as it was.  The second hashes each chunk again as it writes it (the
 * medium could answer differently the second time) and commits each
 * revision only when everything it needs is there.  In both, a chunk is
 * hashed on the other core (hashpool.c) while the next is read, and in
 * the second it is read straight into the room its write transaction
 * reserved; no batch is committed until each of its chunks is checked.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "lib/bounds.h"
#include "lib/crash.h"
#include "store/internal.h"
#include "lib/names.h"

void
volume_name(char *buf, size_t size, const char *base, int multi, int idx)
{
	if (multi)
		snprintf(buf, size, "%s.%03d", base, idx);
	else
		snprintf(buf, size, "%s", base);
}

/*
 * Reading: the volumes are one stream to libarchive.  A volume that ends
 * where the next must begin, a volume of the wrong size, and entries out
 * of order all surface as errors that name the volume.
 */
struct vin {
	char		*base;
	int		 multi;
	int		 idx;		/* the volume open now */
	int		 fd;
	uint64_t	 split;		/* from the index, once read */
	uint64_t	 in_volume;
	uint64_t	 total;
	char		 missing[PATH_MAX];	/* a volume that was not there */
	char		 badsize[PATH_MAX + 64];
	uint8_t		 buf[1 << 20];
};

static int
vin_open(struct vin *v)
{
	char name[PATH_MAX];

	volume_name(name, sizeof(name), v->base, v->multi, v->idx);
	if ((v->fd = open(name, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && v->idx > 1)
			snprintf(v->missing, sizeof(v->missing), "%s", name);
		return -1;
	}
	(void)posix_fadvise(v->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	v->in_volume = 0;
	return 0;
}

static la_ssize_t
vin_read(struct archive *a, void *arg, const void **buf)
{
	struct vin *v = arg;
	ssize_t n;

	for (;;) {
		if (v->fd == -1) {
			if (v->missing[0] != '\0' || (v->idx > 0 && !v->multi))
				return 0;
			v->idx++;
			if (vin_open(v) == -1)
				return 0;	/* the stream ends: libarchive says
						 * whether that was early */
		}
		n = read(v->fd, v->buf, sizeof(v->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			archive_set_error(a, errno, "volume %d: %s", v->idx,
			    strerror(errno));
			return -1;
		}
		if (n > 0) {
			v->in_volume += (uint64_t)n;
			v->total += (uint64_t)n;
			if (v->multi && v->split != 0 && v->in_volume > v->split) {
				snprintf(v->badsize, sizeof(v->badsize), "volume "
				    "%d is larger than the bundle's volumes "
				    "(%llu bytes)", v->idx,
				    (unsigned long long)v->split);
				archive_set_error(a, EINVAL, "%s", v->badsize);
				return -1;
			}
			*buf = v->buf;
			return n;
		}
		close(v->fd);
		v->fd = -1;
		/* Every volume but the last is exactly split bytes. */
		if (v->multi && v->split != 0 && v->in_volume != v->split) {
			char name[PATH_MAX], next[PATH_MAX];

			volume_name(name, sizeof(name), v->base, 1, v->idx);
			volume_name(next, sizeof(next), v->base, 1, v->idx + 1);
			if (access(next, F_OK) == 0) {
				snprintf(v->badsize, sizeof(v->badsize), "%s has "
				    "%llu bytes, not %llu: truncated?", name,
				    (unsigned long long)v->in_volume,
				    (unsigned long long)v->split);
				archive_set_error(a, EINVAL, "%s", v->badsize);
				return -1;
			}
		}
	}
}

struct brev {
	struct store_bundle_revinfo	 info;
	char				 hex[STORE_HEX_LEN + 1];
	uint8_t				 sigsha[BOUND_BUNDLE_SIGS][STORE_HASH_LEN];
	size_t				 sigsize[BOUND_BUNDLE_SIGS];
	int				 seen;
	char				*manifest;
	int				 sigseen[BOUND_BUNDLE_SIGS];
	int				 keep[BOUND_BUNDLE_SIGS];
	uint8_t				 keepid[BOUND_BUNDLE_SIGS][8];
};

struct bblob {
	uint8_t			 sha[STORE_HASH_LEN];
	uint64_t		 size;
	struct store_chunkref	*chunks;
	size_t			 n;
};

struct store_bundle {
	struct vin		*vin;
	char			*path;
	char			*index;
	size_t			 index_len;
	uint8_t			 index_sha[STORE_HASH_LEN];
	char			*sig;
	size_t			 sig_len;
	json_t			*root;		/* the parsed index */
	struct brev		*revs;
	size_t			 nrevs;
	struct bblob		*blobs;
	size_t			 nblobs;
	struct xchunk		*chunks;	/* carried, in order */
	size_t			 nchunks;
	uint8_t			(*omitted)[STORE_HASH_LEN];
	size_t			 nomitted;
	int			 checked;
	uint64_t		 size;
	struct hashset		 small;		/* chunks of small blobs */
	char			**kept;		/* their bytes, by chunk */
	uint64_t		 kept_bytes;
};

/* What a check keeps of small blobs (cards, licences, configs), so that
 * the gate may judge before anything is written. */
#define BUNDLE_KEEP_BLOB	BOUND_CARD
#define BUNDLE_KEEP_TOTAL	(32u << 20)

static struct archive *
bundle_reader(struct store_bundle *b)
{
	struct archive *a;

	if (b->vin->fd != -1)
		close(b->vin->fd);
	b->vin->fd = -1;
	b->vin->idx = 0;
	b->vin->total = 0;
	b->vin->missing[0] = '\0';
	b->vin->badsize[0] = '\0';
	if ((a = archive_read_new()) == NULL)
		return NULL;
	archive_read_support_format_tar(a);
	if (archive_read_open(a, b->vin, NULL, vin_read, NULL) != ARCHIVE_OK) {
		store_fail(STORE_EINVAL, "%s: %s", b->path,
		    archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The reason a read failed, in the user's terms. */
static int
bundle_fail(struct store_bundle *b, struct archive *a, const char *what)
{
	if (b->vin->badsize[0] != '\0')
		return store_fail(STORE_EINVAL, "%s: %s", b->path,
		    b->vin->badsize);
	if (b->vin->missing[0] != '\0')
		return store_fail(STORE_EINVAL, "%s: the bundle ends early: "
		    "volume %s is missing", b->path, b->vin->missing);
	if (a == NULL || archive_error_string(a) == NULL ||
	    strstr(archive_error_string(a), "Truncated") != NULL)
		return store_fail(STORE_EINVAL, "%s: %s: the bundle ends early "
		    "(a volume truncated or missing?)", b->path, what);
	return store_fail(STORE_EINVAL, "%s: %s: %s (a volume damaged or out "
	    "of order?)", b->path, what, archive_error_string(a));
}

/* Reads the current entry whole, refusing more than max bytes. */
static int
read_whole(struct store_bundle *b, struct archive *a, struct archive_entry *e,
    size_t max, char **out, size_t *len)
{
	la_int64_t size = archive_entry_size(e);
	char *buf;
	size_t got = 0;

	*out = NULL;
	if (!archive_entry_size_is_set(e) || size < 0 || (uint64_t)size > max)
		return store_fail(STORE_EINVAL, "%s: entry %s: %lld bytes, more "
		    "than the %zu allowed", b->path, archive_entry_pathname(e),
		    (long long)size, max);
	if ((buf = malloc((size_t)size + 1)) == NULL)
		return ENOMEM;
	while (got < (size_t)size) {
		la_ssize_t n = archive_read_data(a, buf + got, (size_t)size - got);

		if (n <= 0) {
			free(buf);
			return bundle_fail(b, a, archive_entry_pathname(e));
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	return 0;
}

/* Only plain files with the names a bundle has: no links, no devices. */
static int
entry_plain(struct store_bundle *b, struct archive_entry *e)
{
	const char *name = archive_entry_pathname(e);

	if (archive_entry_hardlink(e) != NULL ||
	    archive_entry_filetype(e) == AE_IFLNK)
		return store_fail(STORE_EINVAL, "%s: entry %s: links are not "
		    "allowed in a bundle", b->path, name != NULL ? name : "?");
	if (archive_entry_filetype(e) != AE_IFREG)
		return store_fail(STORE_EINVAL, "%s: entry %s: not a regular "
		    "file", b->path, name != NULL ? name : "?");
	if (name == NULL)
		return store_fail(STORE_EINVAL, "%s: an entry without a name",
		    b->path);
	return 0;
}

int
store_bundle_open(const char *path, struct store_bundle **out)
{
	struct store_bundle *b;
	struct archive *a = NULL;
	struct archive_entry *e;
	char one[PATH_MAX];
	size_t len;
	int rc;

	*out = NULL;
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->vin = calloc(1, sizeof(*b->vin))) == NULL ||
	    (b->path = strdup(path)) == NULL) {
		if (b != NULL)
			free(b->vin);
		free(b);
		return ENOMEM;
	}
	b->vin->fd = -1;
	/* NAME.001 names a split bundle, as does a NAME that is absent
	 * while NAME.001 is there. */
	len = strlen(path);
	if (len > 4 && strcmp(path + len - 4, ".001") == 0) {
		b->vin->multi = 1;
		b->vin->base = strndup(path, len - 4);
	} else {
		snprintf(one, sizeof(one), "%s.001", path);
		b->vin->multi = access(path, F_OK) != 0 && access(one, F_OK) == 0;
		b->vin->base = strdup(path);
	}
	if (b->vin->base == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	volume_name(one, sizeof(one), b->vin->base, b->vin->multi, 1);
	if (access(one, R_OK) != 0) {
		rc = store_fail(errno, "%s: %s", one, strerror(errno));
		goto fail;
	}
	if ((a = bundle_reader(b)) == NULL) {
		rc = STORE_EINVAL;
		goto fail;
	}
	/* The index, then its signature: nothing else is read before the
	 * caller has checked one against the other. */
	if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = bundle_fail(b, a, "not a bundle");
		goto fail;
	}
	if ((rc = entry_plain(b, e)) != 0)
		goto fail;
	if (strcmp(archive_entry_pathname(e), INDEX_NAME) != 0) {
		rc = store_fail(STORE_EINVAL, "%s: not a bundle (its first entry "
		    "is %s, not %s)", path, archive_entry_pathname(e), INDEX_NAME);
		goto fail;
	}
	if ((rc = read_whole(b, a, e, BOUND_BUNDLE_INDEX, &b->index,
	    &b->index_len)) != 0)
		goto fail;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
		rc = bundle_fail(b, a, "no signature");
		goto fail;
	}
	if ((rc = entry_plain(b, e)) != 0)
		goto fail;
	if (strcmp(archive_entry_pathname(e), SIG_NAME) != 0) {
		rc = store_fail(STORE_EINVAL, "%s: the index is not followed by "
		    "its signature", path);
		goto fail;
	}
	if ((rc = read_whole(b, a, e, BOUND_SIGFILE, &b->sig, &b->sig_len)) != 0)
		goto fail;
	store_sha256(b->index, b->index_len, b->index_sha);
	archive_read_free(a);
	*out = b;
	return 0;
fail:
	archive_read_free(a);
	store_bundle_free(b);
	return rc;
}

void
store_bundle_header(const struct store_bundle *b, const char **index,
    size_t *ilen, const char **sig, size_t *slen)
{
	*index = b->index;
	*ilen = b->index_len;
	*sig = b->sig;
	*slen = b->sig_len;
}

void
store_bundle_free(struct store_bundle *b)
{
	if (b == NULL)
		return;
	if (b->vin != NULL && b->vin->fd != -1)
		close(b->vin->fd);
	if (b->vin != NULL)
		free(b->vin->base);
	free(b->vin);
	for (size_t i = 0; i < b->nrevs; i++) {
		for (size_t j = 0; j < b->revs[i].info.nsigs; j++)
			free((char *)b->revs[i].info.sigs[j].text);
		free(b->revs[i].info.sigs);
		free(b->revs[i].manifest);
	}
	free(b->revs);
	for (size_t i = 0; i < b->nblobs; i++)
		free(b->blobs[i].chunks);
	free(b->blobs);
	for (size_t i = 0; b->kept != NULL && i < b->nchunks; i++)
		free(b->kept[i]);
	free(b->kept);
	hs_free(&b->small);
	free(b->chunks);
	free(b->omitted);
	json_decref(b->root);
	free(b->index);
	free(b->sig);
	free(b->path);
	free(b);
}

static int
bad_index(const char *what)
{
	return store_fail(STORE_EINVAL, "bundle index: %s", what);
}

/* [hex, len] pairs, as the index lists chunks. */
static int
chunk_pair(json_t *pair, uint8_t sha[STORE_HASH_LEN], uint32_t *len)
{
	const char *hex = json_string_value(json_array_get(pair, 0));
	json_t *n = json_array_get(pair, 1);

	if (!json_is_array(pair) || json_array_size(pair) != 2 ||
	    !hex_valid(hex, STORE_HEX_LEN) || !json_is_integer(n) ||
	    json_integer_value(n) <= 0 ||
	    json_integer_value(n) > STORE_CHUNK_MAX)
		return bad_index("a chunk is not [sha256, length]");
	store_unhex(hex, sha, STORE_HASH_LEN);
	*len = (uint32_t)json_integer_value(n);
	return 0;
}

static int
parse_revs(struct store_bundle *b, json_t *revs)
{
	size_t n = json_array_size(revs);

	if (!json_is_array(revs) || n == 0 || n > BOUND_BUNDLE_REVS)
		return bad_index("revisions is not a list of 1 to 10000");
	if ((b->revs = calloc(n, sizeof(*b->revs))) == NULL)
		return ENOMEM;
	b->nrevs = n;
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_array_get(revs, i), *sigs, *size;
		struct brev *br = &b->revs[i];
		const char *hex;

		br->info.type = json_string_value(json_object_get(r, "type"));
		br->info.repo = json_string_value(json_object_get(r, "repo"));
		br->info.ref = json_string_value(json_object_get(r, "ref"));
		br->info.commit = json_string_value(json_object_get(r, "commit"));
		hex = json_string_value(json_object_get(r, "manifest"));
		size = json_object_get(r, "size");
		sigs = json_object_get(r, "signatures");
		if (!store_type_valid(br->info.type) ||
		    !store_repo_valid(br->info.repo) ||
		    !store_revision_valid(br->info.ref) ||
		    !hex_valid(br->info.commit, STORE_COMMIT_LEN) ||
		    !hex_valid(hex, STORE_HEX_LEN) || !json_is_integer(size) ||
		    json_integer_value(size) <= 0 ||
		    json_integer_value(size) > BOUND_MANIFEST ||
		    !json_is_array(sigs) ||
		    json_array_size(sigs) > BOUND_BUNDLE_SIGS)
			return bad_index("a revision is not {type, repo, ref, "
			    "commit, manifest, size, signatures}");
		memcpy(br->hex, hex, sizeof(br->hex));
		store_unhex(hex, br->info.digest, STORE_HASH_LEN);
		br->info.manifest_len = (size_t)json_integer_value(size);
		for (size_t j = 0; j < i; j++)
			if (strcmp(b->revs[j].hex, hex) == 0)
				return bad_index("a manifest listed twice");
		br->info.nsigs = json_array_size(sigs);
		if ((br->info.sigs = calloc(br->info.nsigs + 1,
		    sizeof(*br->info.sigs))) == NULL)
			return ENOMEM;
		for (size_t j = 0; j < br->info.nsigs; j++) {
			json_t *s = json_array_get(sigs, j);
			const char *kid = json_string_value(json_object_get(s,
			    "keyid"));
			const char *sha = json_string_value(json_object_get(s,
			    "sha256"));
			json_t *ssize = json_object_get(s, "size");

			if (!hex_valid(kid, 16) || !hex_valid(sha, STORE_HEX_LEN) ||
			    !json_is_integer(ssize) ||
			    json_integer_value(ssize) <= 0 ||
			    json_integer_value(ssize) > BOUND_SIGFILE)
				return bad_index("a signature is not {keyid, "
				    "sha256, size}");
			store_unhex(kid, br->info.sigs[j].keyid, 8);
			store_unhex(sha, br->sigsha[j], STORE_HASH_LEN);
			br->sigsize[j] = (size_t)json_integer_value(ssize);
			for (size_t k = 0; k < j; k++)
				if (memcmp(br->info.sigs[k].keyid,
				    br->info.sigs[j].keyid, 8) == 0)
					return bad_index("two signatures by one "
					    "key");
		}
	}
	return 0;
}

/* The chunks carried: pairs [sha256, length], none twice. */
static int
parse_carried(struct store_bundle *b, json_t *chunks, struct hashset *carried)
{
	size_t n = json_array_size(chunks), i;
	json_t *v;
	int rc, isnew;

	if ((b->chunks = calloc(n + 1, sizeof(*b->chunks))) == NULL)
		return ENOMEM;
	b->nchunks = n;
	json_array_foreach(chunks, i, v) {
		if ((rc = chunk_pair(v, b->chunks[i].sha, &b->chunks[i].len)) != 0)
			return rc;
		if ((rc = hs_add(carried, b->chunks[i].sha, &isnew)) != 0)
			return rc;
		if (!isnew)
			return bad_index("a chunk listed twice");
	}
	return 0;
}

/* The chunks left out: sorted sha256s. */
static int
parse_omitted(struct store_bundle *b, json_t *omitted)
{
	size_t n = json_array_size(omitted), i;
	json_t *v;

	if ((b->omitted = malloc((n + 1) * STORE_HASH_LEN)) == NULL)
		return ENOMEM;
	b->nomitted = n;
	json_array_foreach(omitted, i, v) {
		if (!hex_valid(json_string_value(v), STORE_HEX_LEN))
			return bad_index("omitted is not a list of sha256");
		store_unhex(json_string_value(v), b->omitted[i], STORE_HASH_LEN);
		if (i > 0 && memcmp(b->omitted[i - 1], b->omitted[i],
		    STORE_HASH_LEN) >= 0)
			return bad_index("omitted is not sorted");
	}
	return 0;
}

/* One blob: {sha256, size, chunks}, each chunk carried or left out. */
static int
parse_blob(struct store_bundle *b, json_t *v, struct bblob *bl,
    const struct hashset *carried)
{
	const char *hex = json_string_value(json_object_get(v, "sha256"));
	json_t *size = json_object_get(v, "size");
	json_t *list = json_object_get(v, "chunks"), *c;
	uint64_t total = 0;
	size_t j;
	int rc;

	if (!hex_valid(hex, STORE_HEX_LEN) || !json_is_integer(size) ||
	    json_integer_value(size) < 0 || !json_is_array(list))
		return bad_index("a blob is not {sha256, size, chunks}");
	store_unhex(hex, bl->sha, STORE_HASH_LEN);
	bl->size = (uint64_t)json_integer_value(size);
	bl->n = json_array_size(list);
	if ((bl->chunks = calloc(bl->n + 1, sizeof(*bl->chunks))) == NULL)
		return ENOMEM;
	json_array_foreach(list, j, c) {
		uint32_t len;

		if ((rc = chunk_pair(c, bl->chunks[j].sha256, &len)) != 0)
			return rc;
		bl->chunks[j].len = len;
		total += len;
		/* Every chunk a file needs is carried or left out. */
		if (!hs_has(carried, bl->chunks[j].sha256) &&
		    bsearch(bl->chunks[j].sha256, b->omitted, b->nomitted,
		    STORE_HASH_LEN, hash_cmp) == NULL)
			return bad_index("a blob needs a chunk that is "
			    "neither carried nor left out");
	}
	if (total != bl->size)
		return bad_index("a blob's chunks do not add up to its size");
	return 0;
}

static int
parse_chunks(struct store_bundle *b, json_t *chunks, json_t *omitted,
    json_t *blobs)
{
	struct hashset carried = { 0 };
	size_t n = json_array_size(blobs), i;
	json_t *v;
	int rc;

	if (!json_is_array(chunks) || !json_is_array(omitted) ||
	    !json_is_array(blobs))
		return bad_index("chunks, omitted or blobs is not a list");
	if ((rc = parse_carried(b, chunks, &carried)) != 0 ||
	    (rc = parse_omitted(b, omitted)) != 0)
		goto out;
	if ((b->blobs = calloc(n + 1, sizeof(*b->blobs))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	b->nblobs = n;
	json_array_foreach(blobs, i, v)
		if ((rc = parse_blob(b, v, &b->blobs[i], &carried)) != 0)
			break;
out:
	hs_free(&carried);
	return rc;
}

static int
parse_index(struct store_bundle *b)
{
	json_error_t jerr;
	json_t *split;
	const char *schema, *store;
	char *canon;
	int rc;

	b->root = json_loadb(b->index, b->index_len, JSON_REJECT_DUPLICATES,
	    &jerr);
	if (b->root == NULL || !json_is_object(b->root))
		return store_fail(STORE_EINVAL, "bundle index: offset %d: %s",
		    jerr.position, b->root == NULL ? jerr.text : "not an object");
	schema = json_string_value(json_object_get(b->root, "schema"));
	if (schema == NULL || strcmp(schema, BUNDLE_SCHEMA) != 0)
		return store_fail(STORE_EVERSION, "bundle: schema %s is not %s",
		    schema != NULL ? schema : "(none)", BUNDLE_SCHEMA);
	store = json_string_value(json_object_get(b->root, "store"));
	split = json_object_get(b->root, "split");
	if (!hex_valid(store, 32) || !json_is_string(json_object_get(b->root,
	    "release")) || !json_is_integer(split) ||
	    json_integer_value(split) < 0 || (json_integer_value(split) != 0 &&
	    json_integer_value(split) < SPLIT_MIN) ||
	    json_object_size(b->root) != 8)
		return bad_index("not {schema, store, release, revisions, blobs, "
		    "chunks, omitted, split}");
	if ((canon = json_dumps(b->root, DUMP_FLAGS)) == NULL)
		return ENOMEM;
	rc = strlen(canon) != b->index_len ||
	    memcmp(canon, b->index, b->index_len) != 0;
	free(canon);
	if (rc)
		return bad_index("not in canonical form");
	if ((rc = parse_revs(b, json_object_get(b->root, "revisions"))) != 0 ||
	    (rc = parse_chunks(b, json_object_get(b->root, "chunks"),
	    json_object_get(b->root, "omitted"),
	    json_object_get(b->root, "blobs"))) != 0)
		return rc;
	if (b->vin != NULL)
		b->vin->split = (uint64_t)json_integer_value(split);
	return 0;
}

int
store_bundle_index_check(const void *buf, size_t len)
{
	struct store_bundle b = { 0 };
	int rc;

	if ((b.index = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(b.index, buf, len);
	b.index[len] = '\0';
	b.index_len = len;
	rc = parse_index(&b);
	b.vin = NULL;
	b.path = NULL;
	b.sig = NULL;
	{
		struct store_bundle *bp = malloc(sizeof(*bp));

		if (bp == NULL) {
			free(b.index);
			return ENOMEM;
		}
		*bp = b;
		store_bundle_free(bp);
	}
	return rc;
}

const char *
store_bundle_release(const struct store_bundle *b, size_t *len)
{
	json_t *r = json_object_get(b->root, "release");

	*len = json_string_length(r);
	return json_string_value(r);
}

size_t
store_bundle_nrevs(const struct store_bundle *b)
{
	return b->nrevs;
}

const struct store_bundle_revinfo *
store_bundle_rev(const struct store_bundle *b, size_t i)
{
	return i < b->nrevs ? &b->revs[i].info : NULL;
}

uint64_t
store_bundle_size(const struct store_bundle *b)
{
	return b->size;
}

int
store_bundle_sig_keep(struct store_bundle *b, size_t rev, size_t sig,
    const uint8_t keyid[8])
{
	if (!b->checked || rev >= b->nrevs || sig >= b->revs[rev].info.nsigs)
		return store_fail(STORE_EINVAL, "%s: no signature %zu of "
		    "revision %zu", b->path, sig, rev);
	b->revs[rev].keep[sig] = 1;
	memcpy(b->revs[rev].keepid[sig], keyid, 8);
	return 0;
}

static struct brev *
find_rev(struct store_bundle *b, const char *hex)
{
	for (size_t i = 0; i < b->nrevs; i++)
		if (strncmp(b->revs[i].hex, hex, STORE_HEX_LEN) == 0)
			return &b->revs[i];
	return NULL;
}

/* Skips the index and the signature, which must be what was read first. */
static int
reread_header(struct store_bundle *b, struct archive *a)
{
	struct archive_entry *e;
	uint8_t sha[STORE_HASH_LEN];
	char *buf;
	size_t len;
	int rc;

	if (archive_read_next_header(a, &e) != ARCHIVE_OK)
		return bundle_fail(b, a, "the index");
	if ((rc = read_whole(b, a, e, BOUND_BUNDLE_INDEX, &buf, &len)) != 0)
		return rc;
	store_sha256(buf, len, sha);
	free(buf);
	if (memcmp(sha, b->index_sha, STORE_HASH_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "%s: the index changed while "
		    "the bundle was being read", b->path);
	if (archive_read_next_header(a, &e) != ARCHIVE_OK)
		return bundle_fail(b, a, "the signature");
	return archive_read_data_skip(a) == ARCHIVE_OK ? 0 :
	    bundle_fail(b, a, "the signature");
}

/* "chunks/HEX" is the next chunk the index lists; returns its index. */
static int
next_chunk(struct store_bundle *b, const char *name, size_t next,
    struct archive_entry *e)
{
	char hex[STORE_HEX_LEN + 1];

	if (next >= b->nchunks)
		return store_fail(STORE_EINVAL, "%s: entry %s: more chunks than "
		    "the index lists", b->path, name);
	store_hex(b->chunks[next].sha, STORE_HASH_LEN, hex);
	if (strcmp(name + 7, hex) != 0)
		return store_fail(STORE_EINVAL, "%s: entry %s is not the chunk "
		    "the index lists next (volumes out of order?)", b->path, name);
	if (archive_entry_size(e) != (la_int64_t)b->chunks[next].len)
		return store_fail(STORE_EINVAL, "%s: entry %s: %lld bytes, the "
		    "index says %u", b->path, name,
		    (long long)archive_entry_size(e), b->chunks[next].len);
	return 0;
}

static int
read_chunk(struct store_bundle *b, struct archive *a, const char *name,
    uint8_t *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		la_ssize_t n = archive_read_data(a, buf + got, len - got);

		if (n <= 0)
			return bundle_fail(b, a, name);
		got += (size_t)n;
	}
	return 0;
}

static int
check_manifest(struct store_bundle *b, struct archive *a,
    struct archive_entry *e, const char *name)
{
	struct brev *r;
	uint8_t sha[STORE_HASH_LEN];
	size_t len;
	int rc;

	if (strlen(name) != 10 + STORE_HEX_LEN ||
	    (r = find_rev(b, name + 10)) == NULL || r->manifest != NULL)
		return store_fail(STORE_EINVAL, "%s: entry %s is not in the "
		    "index", b->path, name);
	if ((rc = read_whole(b, a, e, r->info.manifest_len, &r->manifest,
	    &len)) != 0)
		return rc;
	store_sha256(r->manifest, len, sha);
	if (len != r->info.manifest_len || memcmp(sha, r->info.digest,
	    STORE_HASH_LEN) != 0)
		return store_fail(STORE_ECORRUPT, "%s: manifest %s does not "
		    "match its digest", b->path, r->hex);
	r->info.manifest = r->manifest;
	return 0;
}

static int
check_sig(struct store_bundle *b, struct archive *a, struct archive_entry *e,
    const char *name)
{
	struct brev *r = NULL;
	uint8_t kid[8], sha[STORE_HASH_LEN];
	char *text;
	size_t len, j;
	int rc;

	/* signatures/HEX64.KEYID16.minisig */
	if (strlen(name) == 11 + STORE_HEX_LEN + 1 + 16 + 8 &&
	    name[11 + STORE_HEX_LEN] == '.' &&
	    strcmp(name + 11 + STORE_HEX_LEN + 17, ".minisig") == 0) {
		char kh[17];

		memcpy(kh, name + 11 + STORE_HEX_LEN + 1, 16);
		kh[16] = '\0';
		if (hex_valid(kh, 16) && store_unhex(kh, kid, 8) == 0)
			r = find_rev(b, name + 11);
	}
	for (j = 0; r != NULL && j < r->info.nsigs; j++)
		if (memcmp(r->info.sigs[j].keyid, kid, 8) == 0)
			break;
	if (r == NULL || j == r->info.nsigs || r->sigseen[j])
		return store_fail(STORE_EINVAL, "%s: entry %s is not in the "
		    "index", b->path, name);
	if ((rc = read_whole(b, a, e, BOUND_SIGFILE, &text, &len)) != 0)
		return rc;
	store_sha256(text, len, sha);
	if (len != r->sigsize[j] || memcmp(sha, r->sigsha[j],
	    STORE_HASH_LEN) != 0) {
		free(text);
		return store_fail(STORE_ECORRUPT, "%s: signature %s does not "
		    "match the index", b->path, name);
	}
	r->info.sigs[j].text = text;
	r->info.sigs[j].len = len;
	r->sigseen[j] = 1;
	return 0;
}

/* The chunks of every blob small enough to be a card or a licence. */
static int
keep_plan(struct store_bundle *b)
{
	int rc, isnew;

	if ((b->kept = calloc(b->nchunks + 1, sizeof(*b->kept))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < b->nblobs; i++) {
		if (b->blobs[i].size > BUNDLE_KEEP_BLOB)
			continue;
		for (size_t j = 0; j < b->blobs[i].n; j++)
			if ((rc = hs_add(&b->small, b->blobs[i].chunks[j].sha256,
			    &isnew)) != 0)
				return rc;
	}
	return 0;
}

static int
keep_chunk(struct store_bundle *b, size_t i, const uint8_t *buf)
{
	uint32_t len = b->chunks[i].len;

	if (!hs_has(&b->small, b->chunks[i].sha) ||
	    b->kept_bytes + len > BUNDLE_KEEP_TOTAL)
		return 0;
	if ((b->kept[i] = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(b->kept[i], buf, len);
	b->kept_bytes += len;
	return 0;
}

int
store_bundle_blob(const struct store_bundle *b,
    const uint8_t sha[STORE_HASH_LEN], char **out, size_t *outlen)
{
	const struct bblob *bl = NULL;
	char *buf;
	size_t off = 0;

	*out = NULL;
	*outlen = 0;
	for (size_t i = 0; i < b->nblobs && bl == NULL; i++)
		if (memcmp(b->blobs[i].sha, sha, STORE_HASH_LEN) == 0)
			bl = &b->blobs[i];
	if (bl == NULL || !b->checked || b->kept == NULL ||
	    bl->size > BUNDLE_KEEP_BLOB)
		return STORE_ENOTFOUND;
	if ((buf = malloc(bl->size + 1)) == NULL)
		return ENOMEM;
	for (size_t j = 0; j < bl->n; j++) {
		size_t k;

		for (k = 0; k < b->nchunks; k++)
			if (b->kept[k] != NULL && memcmp(b->chunks[k].sha,
			    bl->chunks[j].sha256, STORE_HASH_LEN) == 0)
				break;
		if (k == b->nchunks || off + b->chunks[k].len > bl->size) {
			free(buf);
			return STORE_ENOTFOUND;
		}
		memcpy(buf + off, b->kept[k], b->chunks[k].len);
		off += b->chunks[k].len;
	}
	if (off != bl->size) {
		free(buf);
		return STORE_ENOTFOUND;
	}
	buf[off] = '\0';
	*out = buf;
	*outlen = off;
	return 0;
}

/*
 * Every chunk handed to the pool is checked: a chunk that did not match
 * is the first fault, before whatever rc says went wrong later.
 */
static int
chunk_mismatch(struct store_bundle *b, size_t idx)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(b->chunks[idx].sha, STORE_HASH_LEN, hex);
	return store_fail(STORE_ECORRUPT, "%s: chunk %s (entry %zu of the "
	    "chunks) does not match its hash", b->path, hex, idx);
}

static int
chunks_checked(struct store_bundle *b, struct hashpool *pool, int rc)
{
	size_t bad;

	return hashpool_wait(pool, &bad) == STORE_ECORRUPT ?
	    chunk_mismatch(b, bad) : rc;
}

int
store_bundle_check(struct store_bundle *b, store_progress_fn progress,
    void *parg)
{
	struct archive *a;
	struct archive_entry *e;
	struct hashpool *pool;
	uint8_t *buf;
	size_t next = 0;
	int rc, r;

	if ((rc = parse_index(b)) != 0)
		return rc;
	if ((rc = keep_plan(b)) != 0)
		return rc;
	if ((rc = hashpool_new(&pool)) != 0)
		return rc;
	if ((a = bundle_reader(b)) == NULL) {
		hashpool_free(pool);
		return STORE_EINVAL;
	}
	if ((rc = reread_header(b, a)) != 0)
		goto out;
	while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
		const char *name;

		if (r != ARCHIVE_OK) {
			rc = bundle_fail(b, a, "reading");
			goto out;
		}
		if ((rc = entry_plain(b, e)) != 0)
			goto out;
		name = archive_entry_pathname(e);
		if (strncmp(name, "manifests/", 10) == 0)
			rc = check_manifest(b, a, e, name);
		else if (strncmp(name, "signatures/", 11) == 0)
			rc = check_sig(b, a, e, name);
		else if (strncmp(name, "chunks/", 7) == 0) {
			if ((rc = next_chunk(b, name, next, e)) != 0)
				goto out;
			buf = hashpool_buffer(pool);
			if ((rc = read_chunk(b, a, name, buf,
			    b->chunks[next].len)) != 0 ||
			    (rc = keep_chunk(b, next, buf)) != 0)
				goto out;
			/* Checked on the other core while the next is read;
			 * one that did not match ends the reading. */
			hashpool_check(pool, buf, b->chunks[next].len,
			    b->chunks[next].sha, next);
			next++;
			if (hashpool_failed(pool))
				goto out;
		} else
			rc = store_fail(STORE_EINVAL, "%s: entry %s is not in "
			    "the index", b->path, name);
		if (rc != 0)
			goto out;
		if (progress != NULL)
			progress(parg, b->vin->total);
	}
	if (next != b->nchunks) {
		rc = bundle_fail(b, NULL, "chunks");
		goto out;
	}
	for (size_t i = 0; i < b->nrevs; i++) {
		if (b->revs[i].manifest == NULL) {
			rc = store_fail(STORE_EINVAL, "%s: manifest %s is missing",
			    b->path, b->revs[i].hex);
			goto out;
		}
		for (size_t j = 0; j < b->revs[i].info.nsigs; j++)
			if (!b->revs[i].sigseen[j]) {
				rc = store_fail(STORE_EINVAL, "%s: a signature of "
				    "%s is missing", b->path, b->revs[i].hex);
				goto out;
			}
	}
	if ((rc = chunks_checked(b, pool, 0)) != 0)
		goto out;
	b->size = b->vin->total;
	b->checked = 1;
out:
	rc = chunks_checked(b, pool, rc);
	archive_read_free(a);
	hashpool_free(pool);
	return rc;
}

/*
 * Every ref the bundle would write must be one the store lets it write (a
 * commit id it has for another manifest may not move): asked before
 * anything is written, so that a refused bundle changes nothing.
 * store_ingest_revision asks again under its own transaction.
 */
static int
refs_allowed(struct store *st, struct store_bundle *b)
{
	MDB_txn *txn;
	int rc = 0, same;

	if ((rc = txn_read(st, &txn)) != 0)
		return rc;
	for (size_t i = 0; i < b->nrevs && rc == 0; i++) {
		const struct store_bundle_revinfo *r = &b->revs[i].info;

		rc = ref_check(st, txn, r->type, r->repo, r->commit, r->digest,
		    REF_COMMIT, &same);
		if (rc == 0 && strcmp(r->ref, r->commit) != 0)
			rc = ref_check(st, txn, r->type, r->repo, r->ref,
			    r->digest, REF_BRANCH, &same);
	}
	txn_abort(txn);
	return rc;
}

/* An import under way: what its steps share. */
struct import {
	struct store		*st;
	struct store_bundle	*b;
	struct store_ingest	*ing;
	struct archive		*a;
	struct hashpool		*pool;		/* checks the chunks read */
	uint8_t			*buf;		/* STORE_CHUNK_MAX bytes */
	store_progress_fn	 progress;
	void			*parg;
	struct store_bundle_stats *res;
};

/* What the bundle leaves out, this store must have: before writing. */
static int
import_omitted(struct store *st, const struct store_bundle *b)
{
	char hex[STORE_HEX_LEN + 1];

	for (size_t i = 0; i < b->nomitted; i++)
		if (store_chunk_has(st, b->omitted[i]) != 0) {
			store_hex(b->omitted[i], STORE_HASH_LEN, hex);
			return store_fail(STORE_ENOTFOUND, "%s: the bundle leaves "
			    "out chunk %s, which this store lacks (was it made "
			    "for another store's inventory?)", b->path, hex);
		}
	return 0;
}

/*
 * A chunk entry, the next the index lists, at name: into the store unless
 * a resumed import's last run committed it.  It is hashed again, since a
 * medium may not answer twice alike: read straight into the room its
 * transaction reserves, and checked there on the other core while the
 * next is read; no batch is committed before all its chunks are checked.
 * A chunk under STORE_CHUNK_MIN (a file's last) may lie in a B-tree page
 * that the next insert moves: it is read aside, checked at once and
 * copied in before anything else is inserted.
 */
/*
 * LMDB frees, to spill them, the dirty pages of a transaction that has
 * dirtied MDB_IDL_UM_MAX (2^17) pages: a batch, the chunk past it and the
 * pages of its B-tree must stay well under, or room being checked would
 * move under the pool.
 */
_Static_assert(STORE_BATCH + STORE_CHUNK_MAX < (1u << 17) * 4096u / 4,
    "a batch must dirty far fewer pages than LMDB spills at");

static int
import_chunk(struct import *im, const char *name, const struct xchunk *c,
    size_t idx)
{
	uint8_t *dest, sha[STORE_HASH_LEN];
	int rc;

	if (store_chunk_has(im->st, c->sha) == 0)
		return archive_read_data_skip(im->a) != ARCHIVE_OK ?
		    bundle_fail(im->b, im->a, name) : 0;
	if (c->len < STORE_CHUNK_MIN) {
		if ((rc = read_chunk(im->b, im->a, name, im->buf, c->len)) != 0)
			return rc;
		store_sha256(im->buf, c->len, sha);
		if (memcmp(sha, c->sha, STORE_HASH_LEN) != 0)
			return chunk_mismatch(im->b, idx);
		if ((rc = ing_reserve(im->ing, c->sha, c->len, &dest)) != 0)
			return rc;
		if (dest != NULL)
			memcpy(dest, im->buf, c->len);
	} else {
		if ((rc = ing_reserve(im->ing, c->sha, c->len, &dest)) != 0)
			return rc;
		if (dest == NULL)
			return archive_read_data_skip(im->a) != ARCHIVE_OK ?
			    bundle_fail(im->b, im->a, name) : 0;
		if ((rc = read_chunk(im->b, im->a, name, dest, c->len)) != 0)
			return rc;
		hashpool_check(im->pool, dest, c->len, c->sha, idx);
		if (hashpool_failed(im->pool))
			return chunks_checked(im->b, im->pool, 0);
	}
	if (dest != NULL) {
		im->res->chunks++;
		im->res->chunk_bytes += c->len;
	}
	if (ing_due(im->ing) &&
	    ((rc = chunks_checked(im->b, im->pool, 0)) != 0 ||
	    (rc = ing_flush(im->ing)) != 0))
		return rc;
	return 0;
}

/* The bundle read again after its header: every chunk in the index's
 * order, manifests and signatures skipped (the first pass kept them). */
static int
import_entries(struct import *im)
{
	struct store_bundle *b = im->b;
	struct archive_entry *e;
	const char *name;
	size_t next = 0;
	int rc, r;

	while ((r = archive_read_next_header(im->a, &e)) != ARCHIVE_EOF) {
		if (r != ARCHIVE_OK)
			return bundle_fail(b, im->a, "reading");
		if ((rc = entry_plain(b, e)) != 0)
			return rc;
		name = archive_entry_pathname(e);
		if (strncmp(name, "chunks/", 7) != 0) {
			if (archive_read_data_skip(im->a) != ARCHIVE_OK)
				return bundle_fail(b, im->a, name);
			continue;
		}
		if ((rc = next_chunk(b, name, next, e)) != 0 ||
		    (rc = import_chunk(im, name, &b->chunks[next], next)) != 0)
			return rc;
		next++;
		if (im->progress != NULL)
			im->progress(im->parg, b->vin->total);
	}
	if (next != b->nchunks)
		return bundle_fail(b, NULL, "chunks");
	return chunks_checked(b, im->pool, 0);
}

/* One revision, committed with the signatures the caller kept. */
static int
import_revision(struct import *im, const struct brev *br)
{
	struct store_sig sigs[BOUND_BUNDLE_SIGS];
	struct store_manifest *m;
	char why[PATH_MAX + 16];
	size_t nsigs = 0;
	int rc, isnew;

	if ((rc = store_manifest_parse(br->manifest, br->info.manifest_len,
	    &m)) != 0)
		return rc;
	if (strcmp(m->type, br->info.type) != 0 ||
	    strcmp(m->repo, br->info.repo) != 0 ||
	    strcmp(m->commit, br->info.commit) != 0) {
		store_manifest_free(m);
		return store_fail(STORE_EINVAL, "%s: manifest %s is not the "
		    "revision the index says", im->b->path, br->hex);
	}
	/* Under the key id that made it, not the one the index claims: a
	 * bundle must not put junk where a good one is. */
	for (size_t j = 0; j < br->info.nsigs; j++) {
		if (!br->keep[j])
			continue;
		memcpy(sigs[nsigs].keyid, br->keepid[j], 8);
		sigs[nsigs].text = br->info.sigs[j].text;
		sigs[nsigs].len = br->info.sigs[j].len;
		nsigs++;
	}
	snprintf(why, sizeof(why), "import %s", im->b->path);
	isnew = store_manifest_has(im->st, m->digest) != 0;
	/* Published by commit id, the ref is the commit's own. */
	rc = store_ingest_revision(im->ing, m, br->info.ref, why, sigs, nsigs);
	store_manifest_free(m);
	if (rc == 0)
		im->res->revisions += isnew;
	return rc;
}

int
store_bundle_import(struct store *st, struct store_bundle *b,
    store_kvtxn_fn kv, void *kvarg, store_progress_fn progress, void *parg,
    struct store_bundle_stats *res)
{
	struct import im = { st, b, NULL, NULL, NULL, NULL, progress, parg,
	    res };
	int rc;

	memset(res, 0, sizeof(*res));
	if (!b->checked)
		return store_fail(STORE_EINVAL, "%s: not checked", b->path);
	STOP_POINT("import-second-pass");
	if ((rc = import_omitted(st, b)) != 0 ||
	    (rc = refs_allowed(st, b)) != 0)
		return rc;
	if ((im.buf = malloc(STORE_CHUNK_MAX)) == NULL)
		return ENOMEM;
	if ((rc = hashpool_new(&im.pool)) != 0 ||
	    (rc = store_ingest_begin(st, &im.ing)) != 0)
		goto out;
	if (kv != NULL)
		store_ingest_kv(im.ing, kv, kvarg);
	if ((im.a = bundle_reader(b)) == NULL) {
		rc = STORE_EINVAL;
		goto out;
	}
	if ((rc = reread_header(b, im.a)) != 0 ||
	    (rc = import_entries(&im)) != 0)
		goto out;
	for (size_t i = 0; i < b->nblobs; i++)
		if ((rc = store_ingest_blob(im.ing, b->blobs[i].sha,
		    b->blobs[i].size, b->blobs[i].chunks, b->blobs[i].n,
		    NULL)) != 0)
			goto out;
	for (size_t i = 0; i < b->nrevs; i++) {
		if ((rc = import_revision(&im, &b->revs[i])) != 0)
			goto out;
		CRASH_POINT("import-revision");
	}
	rc = store_ingest_end(im.ing);
	res->omitted = b->nomitted;
	res->bytes = b->size;
out:
	/* A failure may leave chunks being checked in the transaction's
	 * pages: the pool ends before the transaction does. */
	if (im.pool != NULL)
		rc = chunks_checked(b, im.pool, rc);
	hashpool_free(im.pool);
	archive_read_free(im.a);
	store_ingest_free(im.ing);
	free(im.buf);
	return rc;
}

