/*
 * mkrepos - makes many small repositories in a store, quickly, for
 * bench/list.sh: one ingest, two shared blobs per card variant (a
 * README.md whose front matter varies the tags and the task, and a
 * config.json), and a revision per repository, each its own commit.
 *
 *   mkrepos STORE COUNT [TYPE]
 *
 * Repositories are org0/model-0 ... orgK/model-N, ten to an
 * organisation.  Not a test: a way to get a big store to measure.
 */
#include "config.h"

#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/store.h"

#define VARIANTS	10

struct mem {
	const char	*p;
	size_t		 len, off;
};

static ssize_t
mem_read(void *arg, void *buf, size_t len)
{
	struct mem *m = arg;
	size_t n = m->len - m->off < len ? m->len - m->off : len;

	memcpy(buf, m->p + m->off, n);
	m->off += n;
	return (ssize_t)n;
}

static void
put(struct store_ingest *ing, const char *text, struct store_file *f,
    const char *path)
{
	struct store_blobinfo bi;
	struct mem m = { text, strlen(text), 0 };

	if (store_ingest_file(ing, mem_read, &m, (int64_t)m.len,
	    STORE_INGEST_SHA1, &bi) != 0)
		errx(1, "%s: %s", path, store_lasterror());
	f->path = (char *)path;
	f->size = bi.size;
	memcpy(f->sha256, bi.sha256, STORE_HASH_LEN);
	memcpy(f->git_sha1, bi.git_sha1, STORE_SHA1_LEN);
	f->lfs = 0;
}

int
main(int argc, char **argv)
{
	static const char *const tasks[] = { "text-generation",
	    "fill-mask", "text-classification", "translation",
	    "summarization" };
	struct store_file files[VARIANTS][2], f[2];
	struct store_manifest_parts parts;
	struct store_manifest *m;
	struct store_ingest *ing;
	struct store *st;
	char card[VARIANTS][256], repo[64];
	const char *type;
	long count, i;
	int v;

	if (argc < 3)
		errx(2, "usage: mkrepos STORE COUNT [model|dataset]");
	count = strtol(argv[2], NULL, 10);
	type = argc > 3 ? argv[3] : "model";
	if (store_open(argv[1], STORE_CREATE, &st) != 0)
		errx(1, "%s: %s", argv[1], store_lasterror());
	if (store_ingest_begin(st, &ing) != 0)
		errx(1, "ingest: %s", store_lasterror());
	for (v = 0; v < VARIANTS; v++) {
		snprintf(card[v], sizeof(card[v]), "---\nlicense: mit\n"
		    "library_name: transformers\npipeline_tag: %s\ntags:\n"
		    "  - bench\n  - variant-%d\n---\n# bench %d\n",
		    tasks[v % 5], v, v);
		put(ing, card[v], &files[v][0], "README.md");
		put(ing, "{\"model_type\":\"bench\"}\n", &files[v][1],
		    "config.json");
	}
	for (i = 0; i < count; i++) {
		v = (int)(i % VARIANTS);
		memcpy(f, files[v], sizeof(f));
		snprintf(repo, sizeof(repo), "org%ld/model-%ld", i / 10, i);
		memset(&parts, 0, sizeof(parts));
		parts.type = type;
		parts.repo = repo;
		parts.files = f;
		parts.nfiles = 2;
		parts.created = (int64_t)time(NULL) - (count - i);
		if (store_manifest_build(&parts, &m) != 0)
			errx(1, "%s: %s", repo, store_lasterror());
		if (store_ingest_revision(ing, m, "main", "mkrepos", NULL,
		    0) != 0)
			errx(1, "%s: %s", repo, store_lasterror());
		store_manifest_free(m);
	}
	if (store_ingest_end(ing) != 0)
		errx(1, "ingest: %s", store_lasterror());
	store_ingest_free(ing);
	store_close(st);
	return 0;
}
