/*
 * manifest.c - the canonical manifest of a revision (airlock.manifest/v1).
 *
 * Canonical means: jansson's JSON_SORT_KEYS | JSON_COMPACT output, files
 * sorted by path.  A manifest read from elsewhere must be in that form
 * byte for byte, so one revision has exactly one digest.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "store/internal.h"
#include "lib/names.h"

#define MANIFEST_SCHEMA	"airlock.manifest/v1"
#define DUMP_FLAGS	(JSON_SORT_KEYS | JSON_COMPACT)

int
store_lfs_pointer(const uint8_t sha256[STORE_HASH_LEN], uint64_t size,
    char *buf, size_t bufsize)
{
	char hex[STORE_HEX_LEN + 1];

	store_hex(sha256, STORE_HASH_LEN, hex);
	return snprintf(buf, bufsize, "version https://git-lfs.github.com/"
	    "spec/v1\noid sha256:%s\nsize %llu\n", hex,
	    (unsigned long long)size);
}

void
store_lfs_pointer_sha1(const uint8_t sha256[STORE_HASH_LEN], uint64_t size,
    uint8_t out[STORE_SHA1_LEN])
{
	struct hash *h;
	char text[256];
	int n;

	n = store_lfs_pointer(sha256, size, text, sizeof(text));
	if ((h = hash_new_sha1()) == NULL) {
		memset(out, 0, STORE_SHA1_LEN);
		return;
	}
	git_blob_header(h, (uint64_t)n);
	hash_update(h, text, (size_t)n);
	hash_final(h, out);
	hash_free(h);
}

int
store_lfs_by_name(const char *path, uint64_t size)
{
	/* What the Hub's default .gitattributes sends to LFS. */
	static const char *const ext[] = {
		".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".ftz", ".gguf",
		".gz", ".h5", ".joblib", ".mlmodel", ".model", ".msgpack",
		".npy", ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle",
		".pkl", ".pt", ".pth", ".rar", ".safetensors", ".tar", ".tflite",
		".tgz", ".wasm", ".xz", ".zip", ".zst", ".mar", ".wav", ".mp3",
		".flac", ".png", ".jpg", ".jpeg",
	};
	const char *dot;

	if (size > (10u << 20))
		return 1;
	if ((dot = strrchr(path, '.')) == NULL || strchr(dot, '/') != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++)
		if (strcasecmp(dot, ext[i]) == 0)
			return 1;
	return 0;
}

static int
file_cmp(const void *a, const void *b)
{
	return strcmp(((const struct store_file *)a)->path,
	    ((const struct store_file *)b)->path);
}

static const char *const license_names[] = {
	"LICENSE", "LICENCE", "COPYING", "NOTICE", "USE_POLICY",
};

static int
is_license_file(const char *path)
{
	if (strchr(path, '/') != NULL)
		return 0;
	for (size_t i = 0; i < sizeof(license_names) / sizeof(license_names[0]);
	    i++)
		if (strncasecmp(path, license_names[i],
		    strlen(license_names[i])) == 0)
			return 1;
	return 0;
}

/*
 * The claims that come from the file list rather than the card: the
 * card's and the licence files' hashes, so that a licence text is bound
 * to the revision that cites it.
 */
static json_t *
claims_complete(json_t *in, const struct store_file *files, size_t n)
{
	static const char *const scalars[] = {
		"license", "license_name", "license_link", "base_model_relation",
	};
	static const char *const lists[] = { "base_model", "datasets" };
	char hex[STORE_HEX_LEN + 1];
	json_t *c, *lic;

	c = in != NULL ? json_deep_copy(in) : json_object();
	if (c == NULL || !json_is_object(c))
		goto fail;
	for (size_t i = 0; i < 4; i++)
		if (json_object_get(c, scalars[i]) == NULL &&
		    json_object_set_new(c, scalars[i], json_null()) != 0)
			goto fail;
	for (size_t i = 0; i < 2; i++)
		if (json_object_get(c, lists[i]) == NULL &&
		    json_object_set_new(c, lists[i], json_array()) != 0)
			goto fail;
	if ((lic = json_array()) == NULL ||
	    json_object_set_new(c, "license_files", lic) != 0 ||
	    json_object_set_new(c, "card_sha256", json_null()) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		store_hex(files[i].sha256, STORE_HASH_LEN, hex);
		if (strcmp(files[i].path, "README.md") == 0 &&
		    json_object_set_new(c, "card_sha256", json_string(hex)) != 0)
			goto fail;
		if (is_license_file(files[i].path) && json_array_append_new(lic,
		    json_pack("{s:s,s:s}", "path", files[i].path, "sha256",
		    hex)) != 0)
			goto fail;
	}
	return c;
fail:
	json_decref(c);
	return NULL;
}

static void
rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* source's name: the globs of a partial pull, if there are any. */
static int
globs_set(json_t *src, const char *name, const char *const *globs)
{
	json_t *a;

	if (globs == NULL || globs[0] == NULL)
		return 0;
	if ((a = json_array()) == NULL)
		return -1;
	for (; *globs != NULL; globs++)
		if (json_array_append_new(a, json_string(*globs)) != 0) {
			json_decref(a);
			return -1;
		}
	return json_object_set_new(src, name, a);
}

/* source's name, if there: a partial pull's globs, strings. */
static int
globs_valid(json_t *src, const char *name)
{
	json_t *a = json_object_get(src, name), *g;
	size_t i;

	if (a == NULL)
		return 1;
	if (!json_is_array(a) || json_array_size(a) == 0 ||
	    json_array_size(a) > BOUND_GLOBS)
		return 0;
	json_array_foreach(a, i, g) {
		if (!json_is_string(g) || json_string_length(g) == 0 ||
		    json_string_length(g) > BOUND_PATH)
			return 0;
	}
	return 1;
}

int
store_manifest_build(const struct store_manifest_parts *p,
    struct store_manifest **out)
{
	char sha[STORE_HEX_LEN + 1], sha1[2 * STORE_SHA1_LEN + 1], when[32];
	json_t *root = NULL, *files, *claims, *src;
	char *text = NULL;
	int rc;

	*out = NULL;
	if (!store_type_valid(p->type) || !store_repo_valid(p->repo))
		return store_fail(STORE_EINVAL, "%s: not a valid repository id",
		    p->repo != NULL ? p->repo : "(null)");
	if (p->nfiles > BOUND_FILES)
		return store_fail(STORE_EINVAL, "%zu files: more than %d",
		    p->nfiles, BOUND_FILES);
	if (p->nfiles > 0)
		qsort(p->files, p->nfiles, sizeof(p->files[0]), file_cmp);
	if ((files = json_array()) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < p->nfiles; i++) {
		const struct store_file *f = &p->files[i];

		store_hex(f->sha256, STORE_HASH_LEN, sha);
		store_hex(f->git_sha1, STORE_SHA1_LEN, sha1);
		if (json_array_append_new(files, json_pack("{s:s,s:I,s:s,s:s,"
		    "s:b}", "path", f->path, "size", (json_int_t)f->size,
		    "sha256", sha, "git_sha1", sha1, "lfs", f->lfs)) != 0) {
			json_decref(files);
			return store_fail(STORE_EINVAL, "%s: cannot be put in a "
			    "manifest", f->path);
		}
	}
	if ((claims = claims_complete(p->claims, p->files, p->nfiles)) == NULL) {
		json_decref(files);
		return ENOMEM;
	}
	rfc3339(p->created, when);
	root = json_pack("{s:s,s:{s:s,s:s},s:o,s:o,s:s}", "schema",
	    MANIFEST_SCHEMA, "repo", "type", p->type, "id", p->repo,
	    "files", files, "claims", claims, "created", when);
	if (root == NULL)
		return ENOMEM;
	if (p->commit != NULL && ((src = json_pack("{s:s,s:s,s:s}",
	    "upstream", p->upstream != NULL ? p->upstream : "", "revision",
	    p->revision != NULL ? p->revision : "", "commit", p->commit)) ==
	    NULL || json_object_set_new(root, "source", src) != 0 ||
	    globs_set(src, "include", p->include) != 0 ||
	    globs_set(src, "exclude", p->exclude) != 0)) {
		rc = store_fail(STORE_EINVAL, "source: not a valid string");
		goto fail;
	}
	if ((text = json_dumps(root, DUMP_FLAGS)) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	rc = store_manifest_parse(text, strlen(text), out);
fail:
	free(text);
	json_decref(root);
	return rc;
}

static int
hex_field(json_t *obj, const char *key, uint8_t *out, size_t len)
{
	const char *s = json_string_value(json_object_get(obj, key));

	if (!hex_valid(s, 2 * len))
		return -1;
	return store_unhex(s, out, len);
}

static int
bad(const char *what)
{
	return store_fail(STORE_EINVAL, "manifest: %s", what);
}

/* A file may not also be a folder of another ("a" and "a/b"). */
static int
path_conflict(const struct store_file *files, size_t n, size_t i)
{
	char dir[BOUND_PATH + 1];
	const char *p = files[i].path;

	for (const char *s = strchr(p, '/'); s != NULL; s = strchr(s + 1, '/')) {
		struct store_file key;

		memcpy(dir, p, (size_t)(s - p));
		dir[s - p] = '\0';
		key.path = dir;
		if (bsearch(&key, files, n, sizeof(files[0]), file_cmp) != NULL)
			return 1;
	}
	return 0;
}

static int
parse_files(struct store_manifest *m, json_t *files)
{
	size_t n = json_array_size(files);

	if (!json_is_array(files))
		return bad("files is not an array");
	if (n > BOUND_FILES)
		return bad("too many files");
	if ((m->files = calloc(n != 0 ? n : 1, sizeof(m->files[0]))) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *f = json_array_get(files, i), *size, *lfs;
		struct store_file *sf = &m->files[i];
		const char *path;

		if (!json_is_object(f) || json_object_size(f) != 5)
			return bad("a file entry is not {path,size,sha256,"
			    "git_sha1,lfs}");
		path = json_string_value(json_object_get(f, "path"));
		size = json_object_get(f, "size");
		lfs = json_object_get(f, "lfs");
		if (path == NULL || !store_path_valid(path))
			return store_fail(STORE_EINVAL, "manifest: file %zu: "
			    "bad path", i);
		if (!json_is_integer(size) || json_integer_value(size) < 0)
			return store_fail(STORE_EINVAL, "manifest: %s: bad size",
			    path);
		if (!json_is_boolean(lfs))
			return store_fail(STORE_EINVAL, "manifest: %s: lfs is "
			    "not a boolean", path);
		if (hex_field(f, "sha256", sf->sha256, STORE_HASH_LEN) != 0 ||
		    hex_field(f, "git_sha1", sf->git_sha1, STORE_SHA1_LEN) != 0)
			return store_fail(STORE_EINVAL, "manifest: %s: bad hash",
			    path);
		sf->path = (char *)path;	/* owned by m->root */
		sf->size = (uint64_t)json_integer_value(size);
		sf->lfs = json_is_true(lfs);
		if (i > 0 && strcmp(m->files[i - 1].path, path) >= 0)
			return store_fail(STORE_EINVAL, "manifest: %s: files "
			    "not sorted or named twice", path);
	}
	m->nfiles = n;
	for (size_t i = 0; i < n; i++)
		if (path_conflict(m->files, n, i))
			return store_fail(STORE_EINVAL, "manifest: %s: a folder "
			    "of it is also a file", m->files[i].path);
	return 0;
}

/* schema, repo {type, id}, created and claims. */
static int
parse_head(struct store_manifest *m)
{
	const char *schema;
	json_t *repo;

	if (!json_is_object(m->root))
		return bad("not an object");
	schema = json_string_value(json_object_get(m->root, "schema"));
	if (schema == NULL || strcmp(schema, MANIFEST_SCHEMA) != 0)
		return store_fail(STORE_EVERSION, "manifest: schema %s is not "
		    "%s", schema != NULL ? schema : "(none)", MANIFEST_SCHEMA);
	repo = json_object_get(m->root, "repo");
	m->type = json_string_value(json_object_get(repo, "type"));
	m->repo = json_string_value(json_object_get(repo, "id"));
	if (!store_type_valid(m->type) || !store_repo_valid(m->repo) ||
	    json_object_size(repo) != 2)
		return bad("repo is not {type, id} with a valid id");
	m->created = json_string_value(json_object_get(m->root, "created"));
	m->claims = json_object_get(m->root, "claims");
	if (m->created == NULL || !json_is_object(m->claims))
		return bad("created or claims missing");
	return 0;
}

int
store_manifest_partial(const struct store_manifest *m)
{
	return m->source != NULL &&
	    (json_object_get(m->source, "include") != NULL ||
	    json_object_get(m->source, "exclude") != NULL);
}

/* source {upstream, revision, commit}, or none: then the commit id is the
 * digest's first 40 hex digits.  A partial pull's source (with include or
 * exclude) has the upstream's commit, but the revision is not that
 * commit's files: its commit id is the digest's too, so that the
 * upstream's id names only the whole revision. */
static int
parse_source(struct store_manifest *m)
{
	json_t *src = json_object_get(m->root, "source");
	const char *commit;
	char hex[STORE_HEX_LEN + 1];

	if (src == NULL) {
		store_hex(m->digest, STORE_HASH_LEN, hex);
		memcpy(m->commit, hex, STORE_COMMIT_LEN);
		m->commit[STORE_COMMIT_LEN] = '\0';
		return 0;
	}
	commit = json_string_value(json_object_get(src, "commit"));
	if (!json_is_object(src) || commit == NULL ||
	    !json_is_string(json_object_get(src, "upstream")) ||
	    !json_is_string(json_object_get(src, "revision")) ||
	    !hex_valid(commit, STORE_COMMIT_LEN))
		return bad("source is not {upstream, revision, commit} with a "
		    "40-hex commit");
	if (!globs_valid(src, "include") || !globs_valid(src, "exclude"))
		return bad("source's include or exclude is not a list of globs");
	m->source = src;
	if (json_object_get(src, "include") != NULL ||
	    json_object_get(src, "exclude") != NULL) {
		store_hex(m->digest, STORE_HASH_LEN, hex);
		commit = hex;
	}
	memcpy(m->commit, commit, STORE_COMMIT_LEN);
	m->commit[STORE_COMMIT_LEN] = '\0';
	return 0;
}

/* One revision, one digest: only the canonical bytes are accepted. */
static int
check_canonical(const struct store_manifest *m)
{
	char *canon;
	int rc = 0;

	if (json_object_size(m->root) != (m->source != NULL ? 6u : 5u))
		return bad("unknown fields");
	if ((canon = json_dumps(m->root, DUMP_FLAGS)) == NULL)
		return ENOMEM;
	if (strlen(canon) != m->len || memcmp(canon, m->bytes, m->len) != 0)
		rc = bad("not in canonical form (sorted keys, compact)");
	free(canon);
	return rc;
}

int
store_manifest_parse(const void *buf, size_t len, struct store_manifest **out)
{
	struct store_manifest *m;
	json_error_t jerr;
	int rc;

	*out = NULL;
	if (len > BOUND_MANIFEST)
		return bad("larger than the limit");
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return ENOMEM;
	if ((m->bytes = malloc(len + 1)) == NULL) {
		free(m);
		return ENOMEM;
	}
	memcpy(m->bytes, buf, len);
	m->bytes[len] = '\0';
	m->len = len;
	store_sha256(buf, len, m->digest);
	m->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (m->root == NULL)
		rc = store_fail(STORE_EINVAL, "manifest: offset %d: %s",
		    jerr.position, jerr.text);
	else if ((rc = parse_head(m)) == 0 &&
	    (rc = parse_files(m, json_object_get(m->root, "files"))) == 0 &&
	    (rc = parse_source(m)) == 0)
		rc = check_canonical(m);
	if (rc != 0) {
		store_manifest_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

void
store_manifest_free(struct store_manifest *m)
{
	if (m == NULL)
		return;
	json_decref(m->root);
	free(m->files);
	free(m->bytes);
	free(m);
}

const struct store_file *
store_manifest_file(const struct store_manifest *m, const char *path)
{
	struct store_file key;

	key.path = (char *)path;
	return bsearch(&key, m->files, m->nfiles, sizeof(m->files[0]),
	    file_cmp);
}
