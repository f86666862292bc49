/*
 * test_store.c - the store library: chunking, ingest and read-back,
 * manifests, refs, pins, gc and verify.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
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

#include <cmocka.h>
#include <lmdb.h>
#include <openssl/evp.h>

#include "store/store.h"
#include "tests/unit/tap_main.h"

/* A deterministic byte stream (xorshift64*), so failures reproduce. */
static void
fill_random(uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t x = seed | 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		p[i] = (uint8_t)((x * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

struct mem {
	const uint8_t	*p;
	size_t		 len, off;
	size_t		 step;	/* bytes per read, to vary the pattern */
};

static ssize_t
mem_read(void *arg, void *buf, size_t len)
{
	struct mem *m = arg;
	size_t n = m->len - m->off;

	if (n > len)
		n = len;
	if (m->step != 0 && n > m->step)
		n = m->step;
	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(path);
}

struct fixture {
	char		 dir[64];
	struct store	*st;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/airlock-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(store_open(f->dir, STORE_CREATE, &f->st), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Ingests n bytes of p as one file and commits the batch. */
static void
ingest(struct store *st, const uint8_t *p, size_t n, size_t step,
    struct store_blobinfo *info)
{
	struct store_ingest *ing;
	struct mem m = { p, n, 0, step };

	assert_int_equal(store_ingest_begin(st, &ing), 0);
	assert_int_equal(store_ingest_file(ing, mem_read, &m, (int64_t)n,
	    STORE_INGEST_SHA1, info), 0);
	assert_int_equal(store_ingest_end(ing), 0);
	store_ingest_free(ing);
}

struct chunks {
	uint8_t		 sha[4096][STORE_HASH_LEN];
	uint64_t	 off[4096];
	size_t		 n;
};

static int
collect_chunk(void *arg, uint64_t off, const uint8_t sha[STORE_HASH_LEN],
    uint32_t len)
{
	struct chunks *c = arg;

	(void)len;
	if (c->n < 4096) {
		memcpy(c->sha[c->n], sha, STORE_HASH_LEN);
		c->off[c->n++] = off;
	}
	return 0;
}

static size_t
shared(const struct chunks *a, const struct chunks *b)
{
	size_t n = 0;

	for (size_t i = 0; i < a->n; i++)
		for (size_t j = 0; j < b->n; j++)
			if (memcmp(a->sha[i], b->sha[j], STORE_HASH_LEN) == 0) {
				n++;
				break;
			}
	return n;
}

/*
 * The same bytes give the same chunks, however they are read; inserting
 * bytes near the start changes only the chunks around the insertion.
 */
static void
test_chunking_stable(void **state)
{
	struct fixture *f = *state;
	size_t n = 16u << 20, ins = 100;
	uint8_t *a = malloc(n), *b = malloc(n + ins);
	struct store_blobinfo ia, ia2, ib;
	struct chunks *ca = calloc(1, sizeof(*ca)), *ca2 = calloc(1, sizeof(*ca2));
	struct chunks *cb = calloc(1, sizeof(*cb));

	fill_random(a, n, 42);
	ingest(f->st, a, n, 0, &ia);
	ingest(f->st, a, n, 4093, &ia2);	/* odd-sized reads */
	assert_memory_equal(ia.sha256, ia2.sha256, STORE_HASH_LEN);
	assert_int_equal(ia2.new_bytes, 0);	/* all deduplicated */
	store_blob_chunks(f->st, ia.sha256, collect_chunk, ca);
	store_blob_chunks(f->st, ia2.sha256, collect_chunk, ca2);
	assert_int_equal(ca->n, ca2->n);
	assert_memory_equal(ca->sha, ca2->sha, ca->n * STORE_HASH_LEN);
	assert_true(ca->n > 16u << 20 >> 19);	/* more than max-size cuts */

	/* Insert 100 bytes at offset 1000. */
	memcpy(b, a, 1000);
	memset(b + 1000, 'x', ins);
	memcpy(b + 1000 + ins, a + 1000, n - 1000);
	ingest(f->st, b, n + ins, 0, &ib);
	store_blob_chunks(f->st, ib.sha256, collect_chunk, cb);
	/* Only the first chunk (or two, if a cut moved) differ. */
	assert_true(shared(ca, cb) >= ca->n - 2);
	assert_true(ib.new_bytes <= 2 * STORE_CHUNK_MAX);
	free(a);
	free(b);
	free(ca);
	free(ca2);
	free(cb);
}

/*
 * The cut points of a fixed input, against the list committed in
 * tests/unit/chunker_cuts.txt: the chunker is part of the store format,
 * so any change to where it cuts must show here.  The input is made by
 * openssl (see the file's header), and its sha256 is there as sha256sum
 * printed it.  With CHUNKER_CUTS_WRITE=FILE the list is written there
 * instead, for a deliberate change of the format.
 */
#define CUTS_KEYSTREAM	(6u << 20)
#define CUTS_ZEROS_AT	(4u << 20)
#define CUTS_ZEROS	(3u << 19)
static void
test_chunker_cuts(void **state)
{
	struct fixture *f = *state;
	size_t n = CUTS_KEYSTREAM + CUTS_ZEROS;
	uint8_t *ks = calloc(1, CUTS_KEYSTREAM), *in = calloc(1, n);
	uint8_t key[16] = { 0 }, iv[16] = { 0 };
	struct chunks *c = calloc(1, sizeof(*c));
	struct store_blobinfo info;
	char hex[STORE_HEX_LEN + 1], line[256], want[STORE_HEX_LEN + 1];
	const char *wpath = getenv("CHUNKER_CUTS_WRITE");
	const char *src = getenv("top_srcdir");
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	unsigned long long off, len;
	size_t i = 0;
	int outl;
	FILE *fp;

	/* AES-128-CTR of zeros, key and iv zero: openssl enc's bytes. */
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), NULL, key,
	    iv), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, ks, &outl, ks,
	    (int)CUTS_KEYSTREAM), 1);
	EVP_CIPHER_CTX_free(ctx);
	/* 4 MiB of it, 1.5 MiB of zeros (cut at the maximum), the rest. */
	memcpy(in, ks, CUTS_ZEROS_AT);
	memcpy(in + CUTS_ZEROS_AT + CUTS_ZEROS, ks + CUTS_ZEROS_AT,
	    CUTS_KEYSTREAM - CUTS_ZEROS_AT);
	ingest(f->st, in, n, 0, &info);
	store_hex(info.sha256, STORE_HASH_LEN, hex);
	store_blob_chunks(f->st, info.sha256, collect_chunk, c);
	assert_true(c->n > 1 && c->n < 4096);
	/* Every chunk within the bounds; only the last may be short. */
	for (i = 0; i < c->n; i++) {
		uint64_t end = i + 1 < c->n ? c->off[i + 1] : n;

		assert_true(end - c->off[i] <= STORE_CHUNK_MAX);
		if (i + 1 < c->n)
			assert_true(end - c->off[i] >= STORE_CHUNK_MIN);
	}
	if (wpath != NULL) {
		assert_non_null(fp = fopen(wpath, "w"));
		fprintf(fp, "sha256 %s\n", hex);
		for (i = 0; i < c->n; i++)
			fprintf(fp, "%llu %llu\n", (unsigned long long)c->off[i],
			    (unsigned long long)((i + 1 < c->n ? c->off[i + 1] :
			    n) - c->off[i]));
		fclose(fp);
		goto out;
	}
	snprintf(line, sizeof(line), "%s/tests/unit/chunker_cuts.txt",
	    src != NULL ? src : ".");
	assert_non_null(fp = fopen(line, "r"));
	i = 0;
	want[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "sha256 %64s", want) == 1)
			continue;
		assert_int_equal(sscanf(line, "%llu %llu", &off, &len), 2);
		assert_true(i < c->n);
		assert_int_equal(c->off[i], off);
		assert_int_equal((i + 1 < c->n ? c->off[i + 1] : n) - c->off[i],
		    len);
		i++;
	}
	fclose(fp);
	/* The input is what openssl and sha256sum made, and all of it. */
	assert_string_equal(hex, want);
	assert_int_equal(i, c->n);
out:
	free(ks);
	free(in);
	free(c);
}

/* Round trips of many sizes, read back whole and by ranges. */
static void
test_roundtrip_sizes(void **state)
{
	struct fixture *f = *state;
	static const size_t sizes[] = {
		0, 1, 2, 4095, 4096, STORE_CHUNK_MIN - 1, STORE_CHUNK_MIN,
		STORE_CHUNK_MIN + 1, STORE_CHUNK_MAX - 1, STORE_CHUNK_MAX,
		STORE_CHUNK_MAX + 1, 3 * STORE_CHUNK_MAX + 17, (9u << 20) + 5,
	};
	uint8_t *buf = malloc((9u << 20) + 5), *out = malloc((9u << 20) + 5);

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct store_blobinfo info, st;
		size_t n = sizes[i], got;

		fill_random(buf, n, 1000 + i);
		ingest(f->st, buf, n, 0, &info);
		assert_int_equal(info.size, n);
		assert_int_equal(store_blob_stat(f->st, info.sha256, &st), 0);
		assert_int_equal(st.size, n);
		assert_int_equal(store_blob_read(f->st, info.sha256, 0, out,
		    n + 10, &got), 0);
		assert_int_equal(got, n);
		assert_memory_equal(out, buf, n);
		/* Ranges that start inside chunks and cross them. */
		for (size_t off = 0; off < n; off += n / 7 + 1) {
			size_t len = n - off < 300000 ? n - off : 300000;

			assert_int_equal(store_blob_read(f->st, info.sha256, off,
			    out, len, &got), 0);
			assert_int_equal(got, len);
			assert_memory_equal(out, buf + off, len);
		}
		assert_int_equal(store_verify_blob(f->st, info.sha256,
		    STORE_VERIFY_SHA1, NULL, NULL), 0);
	}
	free(buf);
	free(out);
}

static void
test_git_sha1(void **state)
{
	struct fixture *f = *state;
	struct store_blobinfo info;
	char hex[STORE_HEX_LEN + 1];

	/* `printf 'hello\n' | git hash-object --stdin` */
	ingest(f->st, (const uint8_t *)"hello\n", 6, 0, &info);
	store_hex(info.git_sha1, 20, hex);
	assert_string_equal(hex, "ce013625030ba8dba906f756967f9e9ca394464a");
	ingest(f->st, (const uint8_t *)"", 0, 0, &info);
	store_hex(info.git_sha1, 20, hex);
	assert_string_equal(hex, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
	store_hex(info.sha256, 32, hex);
	assert_memory_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4", 40);
}

static struct store_manifest *
build(const char *repo, struct store_file *files, size_t n, json_t *claims)
{
	struct store_manifest_parts p = {
		.type = "model", .repo = repo, .files = files, .nfiles = n,
		.claims = claims, .created = 1763900000,
	};
	struct store_manifest *m = NULL;

	assert_int_equal(store_manifest_build(&p, &m), 0);
	return m;
}

static void
test_manifest_canonical(void **state)
{
	struct store_file files[2] = {
		{ .path = "z.bin", .size = 3, .lfs = 1 },
		{ .path = "a/config.json", .size = 2 },
	};
	struct store_manifest *m, *m2;
	uint8_t d[32];
	char hex[65], *bad;
	size_t len;

	(void)state;
	memset(files[0].sha256, 0xab, 32);
	memset(files[1].sha256, 0xcd, 32);
	m = build("acme/x", files, 2, NULL);
	/* Sorted files, sorted keys, no spaces. */
	assert_string_equal(m->files[0].path, "a/config.json");
	assert_null(strchr(m->bytes, ' '));
	assert_non_null(strstr(m->bytes, "{\"claims\":{"));
	assert_true(strstr(m->bytes, "\"a/config.json\"") <
	    strstr(m->bytes, "\"z.bin\""));
	store_sha256(m->bytes, m->len, d);
	assert_memory_equal(d, m->digest, 32);
	store_hex(d, 32, hex);
	assert_memory_equal(m->commit, hex, 40);
	assert_true(json_is_null(json_object_get(m->claims, "license")));
	/* Its own bytes parse back to the same digest. */
	assert_int_equal(store_manifest_parse(m->bytes, m->len, &m2), 0);
	assert_memory_equal(m2->digest, m->digest, 32);
	store_manifest_free(m2);

	/* Non-canonical forms of the same document are refused. */
	len = m->len + 2;
	bad = malloc(len + 1);
	snprintf(bad, len + 1, "%s\n\n", m->bytes);
	assert_int_equal(store_manifest_parse(bad, m->len + 1, &m2),
	    STORE_EINVAL);
	free(bad);
	bad = strdup(m->bytes);
	*strstr(bad, "\"created\"") = ' ';	/* not JSON any more */
	assert_int_equal(store_manifest_parse(bad, strlen(bad), &m2),
	    STORE_EINVAL);
	free(bad);
	bad = strdup(m->bytes);
	memcpy(strstr(bad, "airlock.manifest/v1"), "airlock.manifest/v9", 19);
	assert_int_equal(store_manifest_parse(bad, strlen(bad), &m2),
	    STORE_EVERSION);
	free(bad);
	store_manifest_free(m);

	/* Bad parts: a path with "..", a repo id that is not one. */
	{
		struct store_manifest_parts p = { .type = "model",
		    .repo = "acme/../x", .files = files, .nfiles = 1 };

		assert_int_equal(store_manifest_build(&p, &m), STORE_EINVAL);
		p.repo = "acme/x";
		files[0].path = "a/../b";
		assert_int_equal(store_manifest_build(&p, &m), STORE_EINVAL);
	}
	{
		const char *doc = "{\"claims\":{},\"created\":\"x\",\"files\":["
		    "{\"git_sha1\":\"0000000000000000000000000000000000000000\","
		    "\"lfs\":false,\"path\":\"a\",\"sha256\":\"0000000000000000"
		    "000000000000000000000000000000000000000000000000\","
		    "\"size\":1},{\"git_sha1\":\"000000000000000000000000000000"
		    "0000000000\",\"lfs\":false,\"path\":\"a/b\",\"sha256\":\""
		    "0000000000000000000000000000000000000000000000000000000000"
		    "000000\",\"size\":1}],\"repo\":{\"id\":\"a/b\",\"type\":"
		    "\"model\"},\"schema\":\"airlock.manifest/v1\"}";

		/* "a" cannot be a file and a folder at once. */
		assert_int_equal(store_manifest_parse(doc, strlen(doc), &m),
		    STORE_EINVAL);
	}
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(store_repo_valid("google/gemma-2-2b"));
	assert_true(store_repo_valid("gpt2"));
	assert_true(store_repo_valid("a.b/c_d-e.f"));
	assert_false(store_repo_valid("../etc"));
	assert_false(store_repo_valid("a/.."));
	assert_false(store_repo_valid("a/b/c"));
	assert_false(store_repo_valid("/a"));
	assert_false(store_repo_valid("a/"));
	assert_false(store_repo_valid("-a/b"));
	assert_false(store_repo_valid("a b/c"));
	assert_true(store_path_valid("a/b/c.json"));
	assert_true(store_path_valid(".gitattributes"));
	assert_true(store_path_valid("\xc3\xbcn\xc3\xaf.txt"));
	assert_false(store_path_valid("a/../b"));
	assert_false(store_path_valid("/etc/passwd"));
	assert_false(store_path_valid("a//b"));
	assert_false(store_path_valid("./a"));
	assert_false(store_path_valid("a/"));
	assert_false(store_path_valid("bad\xff.txt"));
	assert_false(store_path_valid("new\nline"));
	assert_true(store_revision_valid("refs/pr/1"));
	assert_true(store_revision_valid("v1.0"));
	assert_false(store_revision_valid("a..b"));
	assert_false(store_revision_valid("a b"));
	assert_false(store_revision_valid("-x"));
}

/* Adds a one-file revision of the given bytes on ref main. */
static void
add_rev(struct store *st, const char *repo, const char *path,
    const uint8_t *p, size_t n, const char *ref, uint8_t digest[32])
{
	struct store_ingest *ing;
	struct store_blobinfo info;
	struct store_manifest *m;
	struct mem mm = { p, n, 0, 0 };
	struct store_file file = { .path = (char *)path };

	assert_int_equal(store_ingest_begin(st, &ing), 0);
	assert_int_equal(store_ingest_file(ing, mem_read, &mm, (int64_t)n, 0,
	    &info), 0);
	file.size = info.size;
	memcpy(file.sha256, info.sha256, 32);
	file.lfs = 1;
	store_lfs_pointer_sha1(info.sha256, info.size, file.git_sha1);
	m = build(repo, &file, 1, NULL);
	assert_int_equal(store_ingest_revision(ing, m, ref, "test", NULL, 0), 0);
	memcpy(digest, m->digest, 32);
	store_manifest_free(m);
	store_ingest_free(ing);
}

static void
test_refs_resolve(void **state)
{
	struct fixture *f = *state;
	uint8_t d1[32], d2[32], got[32];
	char s[80], prefix[9];
	uint8_t data[100];

	fill_random(data, sizeof(data), 7);
	add_rev(f->st, "acme/r", "w.bin", data, 100, "main", d1);
	data[0] ^= 1;
	add_rev(f->st, "acme/r", "w.bin", data, 100, "refs/pr/1", d2);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", NULL, got), 0);
	assert_memory_equal(got, d1, 32);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", "HEAD", got), 0);
	assert_memory_equal(got, d1, 32);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", "refs/pr/1",
	    got), 0);
	assert_memory_equal(got, d2, 32);
	/* By digest, by full commit id, by a 8-digit prefix. */
	store_digest_str(d2, s);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", s, got), 0);
	assert_memory_equal(got, d2, 32);
	store_hex(d2, 20, s);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", s, got), 0);
	assert_memory_equal(got, d2, 32);
	memcpy(prefix, s, 8);
	prefix[8] = '\0';
	assert_int_equal(store_resolve(f->st, "model", "acme/r", prefix, got), 0);
	assert_memory_equal(got, d2, 32);
	/* Another repo cannot reach this one's revisions by digest. */
	store_digest_str(d2, s);
	assert_int_equal(store_resolve(f->st, "model", "acme/other", s, got),
	    STORE_ENOREPO);
	assert_int_equal(store_resolve(f->st, "model", "acme/r", "nope", got),
	    STORE_ENOTFOUND);
	assert_int_equal(store_resolve(f->st, "dataset", "acme/r", NULL, got),
	    STORE_ENOREPO);
	/* Which of the two a miss was: the repository, or its revision. */
	assert_int_equal(store_repo_exists(f->st, "model", "acme/r"), 0);
	assert_int_equal(store_repo_exists(f->st, "dataset", "acme/r"),
	    STORE_ENOREPO);
	assert_int_equal(store_repo_exists(f->st, "model", "acme/other"),
	    STORE_ENOREPO);
	assert_int_equal(store_repo_exists(f->st, "model", "acme"),
	    STORE_ENOREPO);
}

/* What the repository index says of one repository. */
struct seen {
	uint8_t		digest[32];
	uint64_t	downloads;
	int64_t		created;
	size_t		n;
};

static int
seen_one(void *arg, const struct store_repo *r)
{
	struct seen *s = arg;

	memcpy(s->digest, r->digest, 32);
	s->downloads = r->downloads;
	s->created = r->created;
	s->n++;
	return 0;
}

/*
 * The index follows every change of the refs, in their transaction:
 * main's revision, another branch when main goes, nothing when the last
 * ref goes (and its download count with it).
 */
static void
test_repo_index(void **state)
{
	struct fixture *f = *state;
	struct store_count c[2] = { { "model", "acme/r", 3 },
	    { "model", "acme/nothere", 5 } };
	struct seen s;
	uint8_t d1[32], d2[32], d3[32], data[100];
	int64_t created;

	fill_random(data, sizeof(data), 11);
	add_rev(f->st, "acme/r", "w.bin", data, 100, "main", d1);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_repo_get(f->st, "model", "acme/r", seen_one,
	    &s), 0);
	assert_memory_equal(s.digest, d1, 32);
	assert_true(s.created > 0);
	created = s.created;
	data[0] ^= 1;
	add_rev(f->st, "acme/r", "w.bin", data, 100, "refs/pr/1", d2);
	data[1] ^= 1;
	add_rev(f->st, "acme/r", "w.bin", data, 100, "main", d3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_repo_get(f->st, "model", "acme/r", seen_one,
	    &s), 0);
	assert_memory_equal(s.digest, d3, 32);
	assert_int_equal(s.created, created);
	/* Counts add up; one for a repository not there is dropped. */
	assert_int_equal(store_downloads_add(f->st, c, 2), 0);
	assert_int_equal(store_downloads_add(f->st, c, 1), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_repos(f->st, "model", seen_one, &s), 0);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.downloads, 6);
	assert_int_equal(store_repo_get(f->st, "model", "acme/nothere",
	    seen_one, &s), STORE_ENOTFOUND);
	/* Without main: the branch left. */
	assert_int_equal(store_ref_delete(f->st, "model", "acme/r", "main",
	    "test"), 0);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_repo_get(f->st, "model", "acme/r", seen_one,
	    &s), 0);
	assert_memory_equal(s.digest, d2, 32);
	/* Without any ref: gone, with its count. */
	assert_int_equal(store_ref_delete(f->st, "model", "acme/r",
	    "refs/pr/1", "test"), 0);
	for (int i = 0; i < 3; i++) {
		const uint8_t *d = i == 0 ? d1 : i == 1 ? d2 : d3;
		char commit[41];

		store_hex(d, 20, commit);
		assert_int_equal(store_ref_delete(f->st, "model", "acme/r",
		    commit, "test"), 0);
	}
	assert_int_equal(store_repo_get(f->st, "model", "acme/r", seen_one,
	    &s), STORE_ENOTFOUND);
	add_rev(f->st, "acme/r", "w.bin", data, 100, "main", d3);
	memset(&s, 0, sizeof(s));
	assert_int_equal(store_repo_get(f->st, "model", "acme/r", seen_one,
	    &s), 0);
	assert_int_equal(s.downloads, 0);
}

static int
count_chunks(void *arg, const uint8_t sha[32])
{
	(void)sha;
	(*(size_t *)arg)++;
	return 0;
}

static size_t
nchunks(struct store *st)
{
	size_t n = 0;

	store_chunks_each(st, count_chunks, &n);
	return n;
}

/*
 * gc drops what no ref (branch, tag or commit id) or pin reaches, and keeps
 * everything that one does, including chunks shared with a dropped
 * revision.
 */
static void
test_gc_pins(void **state)
{
	struct fixture *f = *state;
	size_t n = 2u << 20;
	uint8_t *a = malloc(n), *b = malloc(n);
	uint8_t d1[32], d2[32], got[32];
	struct store_gc_result r, dry;
	struct store_blobinfo info;
	size_t before, kept;

	fill_random(a, n, 11);
	fill_random(b, n, 12);
	add_rev(f->st, "acme/g", "w.bin", a, n, "main", d1);
	before = nchunks(f->st);
	add_rev(f->st, "acme/g", "w.bin", b, n, "main", d2);	/* main moves */
	assert_true(nchunks(f->st) > before);

	/* Pinned: nothing goes. */
	assert_int_equal(store_pin_put(f->st, "prod", d1, "model/acme/g@old",
	    NULL), 0);
	assert_int_equal(store_gc(f->st, 0, &r), 0);
	assert_int_equal(r.chunks, 0);
	assert_int_equal(r.manifests, 0);
	assert_int_equal(store_pin_get(f->st, "prod", got), 0);
	assert_memory_equal(got, d1, 32);

	/* Unpinned, its commit id still names it: nothing goes. */
	assert_int_equal(store_pin_delete(f->st, "prod"), 0);
	assert_int_equal(store_pin_delete(f->st, "prod"), STORE_ENOTFOUND);
	kept = nchunks(f->st);
	assert_int_equal(store_gc(f->st, 0, &r), 0);
	assert_int_equal(r.manifests, 0);
	assert_int_equal(nchunks(f->st), kept);

	/* Its commit id dropped too: the old revision and its own chunks go. */
	{
		char c[41];

		store_hex(d1, 20, c);
		assert_int_equal(store_ref_delete(f->st, "model", "acme/g", c,
		    "retire"), 0);
	}
	assert_int_equal(store_gc(f->st, 1, &dry), 0);
	assert_int_equal(nchunks(f->st), kept);		/* dry run */
	assert_int_equal(store_gc(f->st, 0, &r), 0);
	assert_int_equal(r.manifests, 1);
	assert_int_equal(r.chunks, dry.chunks);
	assert_true(r.chunks > 0);
	assert_int_equal(nchunks(f->st), kept - r.chunks);
	assert_int_equal(store_manifest_has(f->st, d1), STORE_ENOTFOUND);
	/* What main reaches is whole. */
	assert_int_equal(store_resolve(f->st, "model", "acme/g", "main", got), 0);
	store_sha256(b, n, got);
	assert_int_equal(store_blob_stat(f->st, got, &info), 0);
	assert_int_equal(store_verify_blob(f->st, got, STORE_VERIFY_SHA1,
	    NULL, NULL), 0);
	free(a);
	free(b);
}

struct logged {
	char	 ref[8][64];
	char	 old[8][80], new[8][80];
	size_t	 n;
};

static int
log_one(void *arg, const char *ref, json_t *entry)
{
	struct logged *l = arg;
	const char *old = json_string_value(json_object_get(entry, "old"));
	const char *new = json_string_value(json_object_get(entry, "new"));

	if (l->n < 8) {
		snprintf(l->ref[l->n], sizeof(l->ref[0]), "%s", ref);
		snprintf(l->old[l->n], sizeof(l->old[0]), "%s", old ? old : "-");
		snprintf(l->new[l->n], sizeof(l->new[0]), "%s", new ? new : "-");
	}
	l->n++;
	return 0;
}

/* 1 if the reflog has ref: old -> new (digests, or NULL for none). */
static int
logged(const struct logged *l, const char *ref, const uint8_t *old,
    const uint8_t *new)
{
	char o[80] = "-", n[80] = "-";

	if (old != NULL)
		store_digest_str(old, o);
	if (new != NULL)
		store_digest_str(new, n);
	for (size_t i = 0; i < l->n && i < 8; i++)
		if (strcmp(l->ref[i], ref) == 0 && strcmp(l->old[i], o) == 0 &&
		    strcmp(l->new[i], n) == 0)
			return 1;
	return 0;
}

/*
 * Commit ids never move: another manifest under a stored commit id, or a
 * branch that would take a commit id's name, is refused and writes
 * nothing; the same manifest again is a no-op.  Every ref change is in the
 * reflog, commit ids and deletions too.
 */
static void
test_refs_immutable(void **state)
{
	struct fixture *f = *state;
	struct store_ingest *ing;
	struct store_manifest *m;
	struct store_file file = { .path = "w.bin", .size = 0, .lfs = 1 };
	struct logged l = { .n = 0 };
	uint8_t data[100], d1[32], d2[32], got[32];
	char c1[41], c2[41];

	fill_random(data, sizeof(data), 21);
	add_rev(f->st, "acme/i", "w.bin", data, 100, "main", d1);
	data[0] ^= 1;
	add_rev(f->st, "acme/i", "w.bin", data, 100, "main", d2);
	store_hex(d1, 20, c1);
	store_hex(d2, 20, c2);

	/* Another manifest that says it is commit c1 (as a second HF cache
	 * snapshot or a bundle would): refused, and none of it is written. */
	{
		struct store_manifest_parts p = {
			.type = "model", .repo = "acme/i", .files = &file,
			.nfiles = 1, .created = 1763900001, .upstream = "hf-cache",
			.revision = "main", .commit = c1,
		};

		file.size = 100;
		store_sha256(data, 100, file.sha256);	/* d2's bytes */
		store_lfs_pointer_sha1(file.sha256, 100, file.git_sha1);
		assert_int_equal(store_manifest_build(&p, &m), 0);
	}
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_revision(ing, m, "main", "t", NULL, 0),
	    STORE_EIMMUTABLE);
	store_ingest_free(ing);
	assert_int_equal(store_manifest_has(f->st, m->digest), STORE_ENOTFOUND);
	assert_int_equal(store_resolve(f->st, "model", "acme/i", "main", got), 0);
	assert_memory_equal(got, d2, 32);
	store_manifest_free(m);
	/* A branch named as another revision's commit id. */
	assert_int_equal(store_ref_set(f->st, "model", "acme/i", c1, d2, "x"),
	    STORE_EIMMUTABLE);
	assert_non_null(strstr(store_lasterror(), c1));
	{
		char s1[80], s2[80];

		store_digest_str(d1, s1);
		store_digest_str(d2, s2);
		assert_non_null(strstr(store_lasterror(), s1));
		assert_non_null(strstr(store_lasterror(), s2));
	}
	assert_int_equal(store_resolve(f->st, "model", "acme/i", c1, got), 0);
	assert_memory_equal(got, d1, 32);
	/* A commit-id-shaped branch name that no revision has. */
	assert_int_equal(store_ref_set(f->st, "model", "acme/i",
	    "0123456789abcdef0123456789abcdef01234567", d2, "x"), STORE_EINVAL);
	/* A ref to no manifest. */
	memset(got, 0x5a, 32);
	assert_int_equal(store_ref_set(f->st, "model", "acme/i", "dev", got,
	    "x"), STORE_ENOTFOUND);
	/* A branch moves. */
	assert_int_equal(store_ref_set(f->st, "model", "acme/i", "main", d1,
	    "back"), 0);
	assert_int_equal(store_ref_delete(f->st, "model", "acme/i", c2, "bye"),
	    0);

	assert_int_equal(store_reflog(f->st, "model", "acme/i", log_one, &l), 0);
	assert_int_equal(l.n, 6);
	assert_true(logged(&l, c1, NULL, d1));
	assert_true(logged(&l, c2, NULL, d2));
	assert_true(logged(&l, "main", NULL, d1));
	assert_true(logged(&l, "main", d1, d2));
	assert_true(logged(&l, "main", d2, d1));
	assert_true(logged(&l, c2, d2, NULL));

	/* The same revision again: nothing written, nothing logged. */
	data[0] ^= 1;
	add_rev(f->st, "acme/i", "w.bin", data, 100, "main", got);
	assert_memory_equal(got, d1, 32);
	l.n = 0;
	assert_int_equal(store_reflog(f->st, "model", "acme/i", log_one, &l), 0);
	assert_int_equal(l.n, 6);
}

/* gc never sweeps under an ingest that has not committed yet. */
static void
test_gc_waits_for_ingest(void **state)
{
	struct fixture *f = *state;
	struct store *other;
	struct store_ingest *ing;
	struct store_gc_result r;

	assert_int_equal(store_open(f->dir, 0, &other), 0);
	assert_int_equal(store_ingest_begin(other, &ing), 0);
	assert_int_equal(store_gc(f->st, 0, &r), STORE_EBUSY);
	store_ingest_free(ing);
	assert_int_equal(store_gc(f->st, 0, &r), 0);
	store_close(other);
}

/* A chunk whose bytes changed on disk: verify names it and its offset. */
static void
test_verify_corrupt(void **state)
{
	struct fixture *f = *state;
	size_t n = 3u << 20;
	uint8_t *a = malloc(n);
	struct store_blobinfo info;
	struct chunks *c = calloc(1, sizeof(*c));
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	char want[64];

	fill_random(a, n, 99);
	ingest(f->st, a, n, 0, &info);
	store_blob_chunks(f->st, info.sha256, collect_chunk, c);
	assert_true(c->n >= 3);
	store_close(f->st);
	f->st = NULL;

	/* The test hook: rewrite chunk 2's bytes under its own key. */
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 16);
	assert_int_equal(mdb_env_open(env, f->dir, 0, 0644), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "chunk", 0, &dbi), 0);
	k.mv_size = 32;
	k.mv_data = c->sha[2];
	assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
	{
		uint8_t *copy = malloc(v.mv_size);
		MDB_val nv = { v.mv_size, copy };

		memcpy(copy, v.mv_data, v.mv_size);
		copy[v.mv_size / 2] ^= 0x40;
		assert_int_equal(mdb_put(txn, dbi, &k, &nv, 0), 0);
		free(copy);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);

	assert_int_equal(store_open(f->dir, 0, &f->st), 0);
	assert_int_equal(store_verify_blob(f->st, info.sha256,
	    STORE_VERIFY_SHA1, NULL, NULL), STORE_ECORRUPT);
	snprintf(want, sizeof(want), "chunk 2 (offset %llu)",
	    (unsigned long long)c->off[2]);
	assert_non_null(strstr(store_lasterror(), want));
	/* Reading it out refuses the rotten bytes too. */
	{
		int fd = open("/dev/null", O_WRONLY);

		assert_int_equal(store_blob_write(f->st, info.sha256, fd, NULL,
		    NULL), STORE_ECORRUPT);
		close(fd);
	}
	free(a);
	free(c);
}

static void
test_card(void **state)
{
	json_t *card, *claims;
	const char *ok = "---\nlicense: mit\nbase_model: meta-llama/Llama-3.1-8B"
	    "\ndatasets:\n  - a/b\n  - c/d\ninference: no\nn: 3\nq: '3'\n"
	    "---\n# Model\n";
	const char *bad = "---\nlicense: [mit\n---\n";
	const char *unclosed = "---\nlicense: mit\n";
	const char *list = "---\n- a\n- b\n---\n";
	const char *none = "# Just a title\n---\nnot: front matter\n---\n";

	(void)state;
	assert_int_equal(store_card_parse(ok, strlen(ok), &card, &claims), 0);
	assert_string_equal(json_string_value(json_object_get(claims,
	    "license")), "mit");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(claims, "base_model"), 0)), "meta-llama/Llama-3.1-8B");
	assert_int_equal(json_array_size(json_object_get(claims, "datasets")), 2);
	assert_true(json_is_false(json_object_get(card, "inference")));
	assert_int_equal(json_integer_value(json_object_get(card, "n")), 3);
	assert_true(json_is_string(json_object_get(card, "q")));
	json_decref(card);
	json_decref(claims);

	assert_int_equal(store_card_parse(bad, strlen(bad), &card, &claims),
	    STORE_EINVAL);
	assert_non_null(strstr(store_lasterror(), "line"));
	assert_int_equal(store_card_parse(unclosed, strlen(unclosed), &card,
	    NULL), STORE_EINVAL);
	assert_int_equal(store_card_parse(list, strlen(list), &card, NULL),
	    STORE_EINVAL);
	assert_int_equal(store_card_parse(none, strlen(none), &card, &claims),
	    0);
	assert_int_equal(json_object_size(card), 0);
	assert_true(json_is_null(json_object_get(claims, "license")));
	json_decref(card);
	json_decref(claims);
}

/* An alias bomb expands past the node budget and is refused. */
static void
test_card_bomb(void **state)
{
	char doc[2048];
	int n = 0;

	(void)state;
	n += snprintf(doc + n, sizeof(doc) - (size_t)n, "---\na0: &a0 [x,x,x,x,"
	    "x,x,x,x,x,x]\n");
	for (int i = 1; i < 9; i++)
		n += snprintf(doc + n, sizeof(doc) - (size_t)n, "a%d: &a%d [*a%d,"
		    "*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d,*a%d]\n", i, i,
		    i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1,
		    i - 1);
	n += snprintf(doc + n, sizeof(doc) - (size_t)n, "---\n");
	assert_int_equal(store_card_parse(doc, (size_t)n, NULL, NULL),
	    STORE_EINVAL);
	assert_non_null(strstr(store_lasterror(), "too many nodes"));
}

/* Bytes [at, at + n) of the data file equal p. */
static void
assert_file_bytes(int fd, uint64_t at, const uint8_t *p, size_t n)
{
	uint8_t *got = malloc(n);

	assert_non_null(got);
	assert_int_equal(pread(fd, got, n, (off_t)at), (ssize_t)n);
	assert_memory_equal(got, p, n);
	free(got);
}

/*
 * A view gives the place of each chunk with pages of its own, and none
 * of a small one in a leaf page (which later writes move): that one is
 * found under the view that sends it.
 */
static void
test_view_extents(void **state)
{
	struct fixture *f = *state;
	enum { SMALL = 1000, ZEROS = STORE_CHUNK_MAX };
	static uint8_t big[ZEROS + SMALL];
	uint8_t small[SMALL];
	struct store_blobinfo si, bi;
	struct store_view *v;
	struct store_extent *ext, e;
	size_t n, i;
	int fd;

	fill_random(small, sizeof(small), 7);
	fill_random(big + ZEROS, SMALL, 8);	/* zeros, then a small tail */
	ingest(f->st, small, sizeof(small), 0, &si);
	ingest(f->st, big, sizeof(big), 0, &bi);
	assert_int_equal(store_view_open(f->st, &v), 0);
	fd = store_view_fd(v);

	assert_int_equal(store_view_extents(v, si.sha256, &ext, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ext[0].len, SMALL);
	assert_int_equal(ext[0].flags, STORE_EXTENT_LEAF);
	assert_int_equal(ext[0].at, 0);
	free(ext);
	assert_int_equal(store_view_extent(v, si.sha256, 0, &e), 0);
	assert_int_equal(e.off, 0);
	assert_int_equal(e.len, SMALL);
	assert_int_equal(e.flags, STORE_EXTENT_LEAF);
	assert_file_bytes(fd, e.at, small, SMALL);

	assert_int_equal(store_view_extents(v, bi.sha256, &ext, &n), 0);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		if (i == n - 1) {
			assert_int_equal(ext[i].off, ZEROS);
			assert_int_equal(ext[i].flags, STORE_EXTENT_LEAF);
			assert_int_equal(store_view_extent(v, bi.sha256,
			    ext[i].off, &e), 0);
			assert_file_bytes(fd, e.at, big + ZEROS, SMALL);
			continue;
		}
		assert_int_equal(ext[i].flags, 0);
		assert_file_bytes(fd, ext[i].at, big + ext[i].off, ext[i].len);
		assert_int_equal(store_view_extent(v, bi.sha256, ext[i].off,
		    &e), 0);
		assert_int_equal(e.at, ext[i].at);
		assert_int_equal(e.len, ext[i].len);
	}
	free(ext);

	/* Not where a chunk starts, or no such blob: named, not found. */
	assert_int_equal(store_view_extent(v, si.sha256, 1, &e),
	    STORE_ENOTFOUND);
	assert_non_null(strstr(store_lasterror(), "no chunk starts at offset 1"));
	memset(small, 0, STORE_HASH_LEN);
	assert_int_equal(store_view_extent(v, small, 0, &e), STORE_ENOTFOUND);
	store_view_close(v);
}

/*
 * The revision pipeline: files through a feed, each checked against the
 * hash the feed expects, signed through the callback, committed with the
 * ref; the same files again change nothing; a file that does not match
 * and a signer that fails leave the ref where it was.
 */
struct feed {
	const char	*weights_sha256;	/* what the feed expects */
	int		 signs;
	int		 sign_rc;
};

static int
feed_two(void *arg, struct store_revision *rev)
{
	struct feed *fd = arg;
	/* `printf 'hello\n' | git hash-object --stdin` and `printf weights |
	 * sha256sum`. */
	uint8_t sha1[STORE_SHA1_LEN], sha256[STORE_HASH_LEN];
	struct store_revision_file a = { "hello.txt", 6, 0, NULL, sha1 };
	struct store_revision_file b = { "model.bin", 7, 1, sha256, NULL };
	struct mem ma = { (const uint8_t *)"hello\n", 6, 0, 0 };
	struct mem mb = { (const uint8_t *)"weights", 7, 0, 0 };
	int rc;

	assert_int_equal(store_unhex("ce013625030ba8dba906f756967f9e9ca394464a",
	    sha1, STORE_SHA1_LEN), 0);
	assert_int_equal(store_unhex(fd->weights_sha256, sha256,
	    STORE_HASH_LEN), 0);
	if ((rc = store_revision_put(rev, &a, mem_read, &ma)) != 0)
		return rc;
	return store_revision_put(rev, &b, mem_read, &mb);
}

static int
sign_test(void *arg, const struct store_manifest *m, struct store_sig *sig)
{
	struct feed *fd = arg;

	(void)m;
	fd->signs++;
	if (fd->sign_rc != 0)
		return fd->sign_rc;
	memset(sig->keyid, 0xab, sizeof(sig->keyid));
	sig->text = strdup("a signature");
	sig->len = strlen(sig->text);
	return 0;
}

static int
count_sig(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	(void)keyid;
	(void)text;
	(void)len;
	(*(int *)arg)++;
	return 0;
}

static int
revision(struct store *st, struct feed *fd, int64_t created,
    struct store_revision_result *res)
{
	struct store_revision_spec spec = {
		.parts = { .type = "model", .repo = "acme/rev",
		    .created = created },
		.ref = "main", .why = "test", .flags = STORE_REVISION_KEEP,
		.feed = feed_two, .feed_arg = fd, .sign = sign_test,
		.sign_arg = fd,
	};

	return store_revision_add(st, &spec, res);
}

static void
test_revision_pipeline(void **state)
{
	struct fixture *f = *state;
	const char *good = "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848"
	    "cf1a13eafdf33b2c";
	struct feed fd = { good, 0, 0 };
	struct store_revision_result res, again;
	uint8_t first[STORE_HASH_LEN], now[STORE_HASH_LEN];
	int nsigs = 0;

	assert_int_equal(revision(f->st, &fd, 1763900000, &res), 0);
	assert_false(res.unchanged);
	assert_int_equal(res.bytes, 13);
	assert_int_equal(res.new_bytes, 13);
	assert_int_equal(res.manifest->nfiles, 2);
	assert_true(res.manifest->files[1].lfs);
	assert_int_equal(fd.signs, 1);
	assert_int_equal(store_resolve(f->st, "model", "acme/rev", "main",
	    first), 0);
	assert_memory_equal(first, res.manifest->digest, STORE_HASH_LEN);
	assert_int_equal(store_sigs(f->st, first, count_sig, &nsigs), 0);
	assert_int_equal(nsigs, 1);
	store_manifest_free(res.manifest);

	/* Another time, the same files: the revision main has. */
	assert_int_equal(revision(f->st, &fd, 1763900999, &again), 0);
	assert_true(again.unchanged);
	assert_memory_equal(again.manifest->digest, first, STORE_HASH_LEN);
	assert_int_equal(again.new_bytes, 0);
	assert_int_equal(fd.signs, 1);
	store_manifest_free(again.manifest);

	/* A file whose bytes are not the expected ones. */
	fd.weights_sha256 = "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848"
	    "cf1a13eafdf33b2d";
	assert_int_equal(revision(f->st, &fd, 1763900999, &res),
	    STORE_ECORRUPT);
	assert_int_equal(res.step, STORE_REVISION_FILES);
	assert_string_equal(res.failed, "model.bin");
	assert_null(res.manifest);

	/* A signer that fails: its code comes back, nothing is committed. */
	fd.weights_sha256 = good;
	fd.sign_rc = 42;
	assert_int_equal(store_ref_delete(f->st, "model", "acme/rev", "main",
	    "test"), 0);
	assert_int_equal(revision(f->st, &fd, 1763900999, &res), 42);
	assert_int_equal(res.step, STORE_REVISION_SIGN);
	assert_null(res.manifest);
	assert_int_equal(store_resolve(f->st, "model", "acme/rev", "main",
	    now), STORE_ENOTFOUND);
}

/*
 * A revision made elsewhere, as a chained pull brings it: each file as
 * its chunks, then from its chunk list; the manifest committed as its own
 * bytes, with the signatures that came with it and the local one.  A
 * chunk or a file that is not its hash, and files that are not the
 * manifest's, commit nothing.
 */
struct chained {
	const struct store_manifest	*m;
	int				 bad_chunk;	/* a wrong chunk hash */
	int				 bad_blob;	/* a wrong file hash */
	int				 skip;		/* leave a file out */
};

static int
feed_chunks(void *arg, struct store_revision *rev)
{
	struct chained *c = arg;
	static const char *const bytes[] = { "hello\n", "weights" };

	for (size_t i = 0; i < c->m->nfiles; i++) {
		const struct store_file *f = &c->m->files[i];
		struct store_revision_file in = { f->path, (int64_t)f->size,
		    f->lfs, f->sha256, f->git_sha1 };
		struct store_chunkref ref;
		uint8_t wrong[STORE_HASH_LEN];
		int isnew, rc;

		if (c->skip && i == 1)
			break;
		/* A file this small is one chunk: its hash is the file's. */
		memcpy(ref.sha256, f->sha256, STORE_HASH_LEN);
		ref.len = (uint32_t)f->size;
		if (c->bad_chunk) {
			memcpy(wrong, f->sha256, STORE_HASH_LEN);
			wrong[0] ^= 1;
			return store_revision_chunk(rev, wrong, bytes[i],
			    f->size, &isnew);
		}
		if ((rc = store_revision_chunk(rev, ref.sha256, bytes[i],
		    f->size, &isnew)) != 0)
			return rc;
		assert_true(isnew);
		if (c->bad_blob) {
			memcpy(wrong, f->sha256, STORE_HASH_LEN);
			wrong[0] ^= 1;
			in.sha256 = wrong;
		}
		if ((rc = store_revision_blob(rev, &in, &ref, 1)) != 0)
			return rc;
	}
	return 0;
}

static int
chained(struct store *st, struct chained *c, struct feed *fd,
    struct store_revision_result *res)
{
	struct store_sig up = { { 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd, 0xcd,
	    0xcd }, "the upstream's", 14 };
	struct store_revision_spec spec = {
		.manifest = c->m, .sigs = &up, .nsigs = 1,
		.ref = "main", .why = "test", .flags = STORE_REVISION_KEEP_COMMIT,
		.feed = feed_chunks, .feed_arg = c, .sign = sign_test,
		.sign_arg = fd,
	};

	return store_revision_add(st, &spec, res);
}

static void
test_revision_chunks(void **state)
{
	struct fixture *f = *state;
	struct feed fd = { "9a129038d9a00aed0cf6a7ea059ca50a813449061ab87848"
	    "cf1a13eafdf33b2c", 0, 0 };
	struct store_revision_result res, got;
	struct chained c = { NULL, 0, 0, 0 };
	struct store *st2;
	char dir[128];
	uint8_t digest[STORE_HASH_LEN];
	int nsigs = 0;

	assert_int_equal(revision(f->st, &fd, 1763900000, &res), 0);
	c.m = res.manifest;
	snprintf(dir, sizeof(dir), "%s/second", f->dir);
	assert_int_equal(store_open(dir, STORE_CREATE, &st2), 0);

	c.bad_chunk = 1;
	assert_int_equal(chained(st2, &c, &fd, &got), STORE_ECORRUPT);
	assert_null(got.manifest);
	c.bad_chunk = 0;
	c.bad_blob = 1;
	assert_int_equal(chained(st2, &c, &fd, &got), STORE_ECORRUPT);
	assert_string_equal(got.failed, "hello.txt");
	c.bad_blob = 0;
	c.skip = 1;
	assert_int_equal(chained(st2, &c, &fd, &got), STORE_EINVAL);
	assert_int_equal(got.step, STORE_REVISION_MANIFEST);
	assert_int_equal(store_resolve(st2, "model", "acme/rev", "main",
	    digest), STORE_ENOREPO);
	c.skip = 0;

	assert_int_equal(chained(st2, &c, &fd, &got), 0);
	assert_false(got.unchanged);
	assert_int_equal(got.new_bytes, 13);
	assert_int_equal(got.manifest->len, c.m->len);
	assert_memory_equal(got.manifest->bytes, c.m->bytes, c.m->len);
	assert_int_equal(store_resolve(st2, "model", "acme/rev", "main",
	    digest), 0);
	assert_memory_equal(digest, c.m->digest, STORE_HASH_LEN);
	assert_int_equal(store_resolve(st2, "model", "acme/rev", c.m->commit,
	    digest), 0);
	assert_int_equal(store_sigs(st2, digest, count_sig, &nsigs), 0);
	assert_int_equal(nsigs, 2);
	assert_int_equal(store_verify_blob(st2, c.m->files[0].sha256,
	    STORE_VERIFY_SHA1, NULL, NULL), 0);
	store_manifest_free(got.manifest);
	store_manifest_free(res.manifest);
	store_close(st2);
}

/*
 * Tags never move; rm deletes branches, and tags and commit ids only when
 * forced, all in one transaction; a retention lets a branch's older
 * revisions go unless a tag keeps them.
 */
static void
test_tags_rm_retention(void **state)
{
	struct fixture *f = *state;
	uint8_t data[3][1000], d[3][32], got[32], none[32];
	struct store_gc_result r;
	struct store_rm_result rm;
	char c[3][41];
	int made;

	for (int i = 0; i < 3; i++) {
		fill_random(data[i], sizeof(data[i]), 40 + 2 * i);
		add_rev(f->st, "acme/t", "w.bin", data[i], sizeof(data[i]),
		    "main", d[i]);
		store_hex(d[i], 20, c[i]);
	}
	assert_int_equal(store_tag(f->st, "model", "acme/t", "t1", d[0], "t",
	    &made), 0);
	assert_int_equal(made, 1);
	assert_int_equal(store_tag(f->st, "model", "acme/t", "t1", d[0], "t",
	    &made), 0);
	assert_int_equal(made, 0);
	assert_int_equal(store_tag(f->st, "model", "acme/t", "t1", d[1], "t",
	    &made), STORE_EIMMUTABLE);
	assert_int_equal(store_tag(f->st, "model", "acme/t", "main", d[0], "t",
	    &made), STORE_EEXIST);
	assert_int_equal(store_tag(f->st, "model", "acme/t", c[1], d[0], "t",
	    &made), STORE_EINVAL);
	memset(none, 7, sizeof(none));
	assert_int_equal(store_tag(f->st, "model", "acme/t", "t2", none, "t",
	    &made), STORE_ENOTFOUND);
	assert_int_equal(store_resolve(f->st, "model", "acme/t", "t1", got), 0);
	assert_memory_equal(got, d[0], 32);

	/* A tag goes only when forced; refused, nothing changes. */
	assert_int_equal(store_rm(f->st, "model", "acme/t", "t1", 0, "me",
	    "no", &rm), STORE_EIMMUTABLE);
	assert_int_equal(store_resolve(f->st, "model", "acme/t", "t1", got), 0);

	/* main keeps its last one; t1 keeps the first; the second goes. */
	assert_int_equal(store_gc_keep(f->st, 0, 1, &r), 0);
	assert_int_equal(r.manifests, 1);
	assert_int_equal(r.commits, 1);
	assert_int_equal(store_resolve(f->st, "model", "acme/t", c[1], got),
	    STORE_ENOTFOUND);
	assert_int_equal(store_manifest_has(f->st, d[1]), STORE_ENOTFOUND);
	assert_int_equal(store_resolve(f->st, "model", "acme/t", c[0], got), 0);

	/* The repository: its branch, then with force the rest. */
	assert_int_equal(store_rm(f->st, "model", "acme/t", NULL, 0, "me",
	    "soft", &rm), 0);
	assert_int_equal(rm.branches, 1);
	assert_int_equal(rm.kept_tags, 1);
	assert_int_equal(rm.kept_commits, 2);
	assert_int_equal(store_resolve(f->st, "model", "acme/t", "main", got),
	    STORE_ENOTFOUND);
	assert_int_equal(store_rm(f->st, "model", "acme/t", NULL,
	    STORE_RM_FORCE, "me", "hard", &rm), 0);
	assert_int_equal(rm.tags, 1);
	assert_int_equal(rm.commits, 2);
	assert_int_equal(store_repo_exists(f->st, "model", "acme/t"),
	    STORE_ENOREPO);
	assert_int_equal(store_rm(f->st, "model", "acme/t", NULL,
	    STORE_RM_FORCE, "me", "again", &rm), STORE_ENOTFOUND);
	assert_int_equal(store_gc(f->st, 0, &r), 0);
	assert_int_equal(r.manifests, 2);
}

/*
 * A file whose read fails part way keeps the whole chunks read before the
 * failing segment (STORE_PARTIAL); the next ingest of the same content
 * reads them back from the store, asks the source only for the rest, and
 * makes the file whose sha256 OpenSSL computes; the record then goes.
 */
struct cut_read {
	const uint8_t	*p;
	size_t		 len, off, fail_at;
	const uint64_t	*from;		/* the ingest says where to start */
	int		 begun;
	size_t		 asked;		/* bytes handed over */
};

static ssize_t
cut_read(void *arg, void *buf, size_t len)
{
	struct cut_read *c = arg;
	size_t n;

	if (!c->begun) {
		c->begun = 1;
		c->off = c->from != NULL ? (size_t)*c->from : 0;
	}
	if (c->fail_at != 0 && c->off >= c->fail_at) {
		errno = ECONNRESET;
		return -1;
	}
	n = c->len - c->off;
	if (n > len)
		n = len;
	if (c->fail_at != 0 && n > c->fail_at - c->off)
		n = c->fail_at - c->off;
	memcpy(buf, c->p + c->off, n);
	c->off += n;
	c->asked += n;
	return (ssize_t)n;
}

static void
test_ingest_resume(void **state)
{
	struct fixture *f = *state;
	size_t n = 20u << 20;
	uint8_t *p = malloc(n), sha[STORE_HASH_LEN], *back = malloc(n);
	unsigned int shalen;
	struct store_ingest *ing;
	struct store_blobinfo info;
	uint64_t from = 99;
	size_t got;

	assert_non_null(p);
	assert_non_null(back);
	fill_random(p, n, 812);
	EVP_Digest(p, n, sha, &shalen, EVP_sha256(), NULL);

	/* The connection drops at 17 MiB. */
	struct cut_read a = { p, n, 0, 17u << 20, &from, 0, 0 };
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_file_known(ing, sha, &from, cut_read, &a,
	    (int64_t)n, 0, &info), ECONNRESET);
	assert_int_equal(from, 0);
	store_ingest_free(ing);
	assert_int_equal(store_blob_stat(f->st, sha, &info), STORE_ENOTFOUND);

	/* Again: the stored part is not asked for. */
	struct cut_read b = { p, n, 0, 0, &from, 0, 0 };
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_file_known(ing, sha, &from, cut_read, &b,
	    (int64_t)n, 0, &info), 0);
	assert_int_equal(store_ingest_end(ing), 0);
	store_ingest_free(ing);
	assert_true(from >= (8u << 20));
	assert_true(from <= (17u << 20));
	assert_int_equal(info.resumed, from);
	assert_int_equal(b.asked, n - from);
	assert_int_equal(info.size, n);
	assert_memory_equal(info.sha256, sha, STORE_HASH_LEN);
	assert_int_equal(store_blob_read(f->st, sha, 0, back, n, &got), 0);
	assert_int_equal(got, n);
	assert_memory_equal(back, p, n);

	/* The record went with the file. */
	struct cut_read c = { p, n, 0, 0, &from, 0, 0 };
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_file_known(ing, sha, &from, cut_read, &c,
	    (int64_t)n, 0, &info), 0);
	assert_int_equal(from, 0);
	assert_int_equal(c.asked, n);
	store_ingest_free(ing);

	/* A record whose first chunk is not in the store (damaged, or a
	 * chunk of another length) is not resumed from. */
	uint8_t key[STORE_HASH_LEN + 12] = { 0 }, val[STORE_HASH_LEN + 4];
	struct cut_read d = { p, n, 0, 17u << 20, &from, 0, 0 };
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_file_known(ing, sha, &from, cut_read, &d,
	    (int64_t)n, 0, &info), ECONNRESET);
	store_ingest_free(ing);
	memcpy(key, sha, STORE_HASH_LEN);
	for (int i = 0; i < 8; i++)
		key[STORE_HASH_LEN + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	/* The failed read left a record: its first entry is there. */
	void *had;
	size_t hadlen;
	assert_int_equal(store_kv_get(f->st, STORE_PARTIAL, key, sizeof(key),
	    &had, &hadlen), 0);
	assert_int_equal(hadlen, sizeof(val));
	free(had);
	memcpy(val, sha, STORE_HASH_LEN);	/* the file's hash: no chunk */
	val[STORE_HASH_LEN] = 0;
	val[STORE_HASH_LEN + 1] = 1;
	val[STORE_HASH_LEN + 2] = 0;
	val[STORE_HASH_LEN + 3] = 0;
	assert_int_equal(store_kv_put(f->st, STORE_PARTIAL, key, sizeof(key),
	    val, sizeof(val)), 0);
	struct cut_read e = { p, n, 0, 0, &from, 0, 0 };
	assert_int_equal(store_ingest_begin(f->st, &ing), 0);
	assert_int_equal(store_ingest_file_known(ing, sha, &from, cut_read, &e,
	    (int64_t)n, 0, &info), 0);
	assert_int_equal(from, 0);
	assert_int_equal(e.asked, n);
	assert_memory_equal(info.sha256, sha, STORE_HASH_LEN);
	store_ingest_free(ing);
	free(p);
	free(back);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_chunking_stable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_chunker_cuts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_roundtrip_sizes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_git_sha1, setup, teardown),
		cmocka_unit_test(test_manifest_canonical),
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_refs_resolve, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gc_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repo_index, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refs_immutable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_gc_waits_for_ingest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_corrupt, setup,
		    teardown),
		cmocka_unit_test(test_card),
		cmocka_unit_test(test_card_bomb),
		cmocka_unit_test_setup_teardown(test_view_extents, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ingest_resume, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revision_pipeline, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revision_chunks, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tags_rm_retention, setup,
		    teardown),
	};

	return RUN_TAP(tests);
}
