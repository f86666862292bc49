/*
 * hfcache.c - importing a Hugging Face cache folder, as huggingface_hub
 * lays it out (HF-API.md):
 *
 *   models--ORG--NAME/blobs/ETAG           sha256 for LFS files, git sha1 else
 *   models--ORG--NAME/snapshots/COMMIT/... links into ../../blobs
 *   models--ORG--NAME/refs/REV             the commit REV points at
 *
 * Each snapshot becomes a revision that keeps its commit id; each ref
 * names one.  A blob's name is its hash, so every file is checked against
 * it while it is read: a damaged cache is refused, not imported.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "cli.h"

int	import_hfcache(struct cli *, struct store *, const char *);

struct snap {
	struct cli		*cli;
	struct store_ingest	*ing;
	struct store_source	*src;
	struct store_file	*files;
	const char		*failed;
	char			 why[256];
};

static int
is_hex(const char *s, size_t len)
{
	return strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static int
snap_file(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	struct snap *s = arg;
	const struct store_entry *e = store_source_entry(s->src, idx);
	struct store_file *f = &s->files[idx];
	struct store_blobinfo info;
	const char *blob = e->target != NULL ? strrchr(e->target, '/') : NULL;
	char hex[STORE_HEX_LEN + 1];
	int lfs, rc;

	blob = blob != NULL ? blob + 1 : "";
	/* The blob's name says what the Hub had: an LFS file is named by its
	 * sha256, a git file by its blob sha1. */
	lfs = is_hex(blob, STORE_HEX_LEN);
	if (!lfs && !is_hex(blob, 2 * STORE_SHA1_LEN)) {
		s->failed = e->path;
		snprintf(s->why, sizeof(s->why), "not a link to a blob named "
		    "by its hash");
		return STORE_EINVAL;
	}
	if ((rc = ingest_entry(s->ing, e, lfs, rd, rarg, f, &info)) != 0) {
		s->failed = e->path;
		snprintf(s->why, sizeof(s->why), "%s", store_lasterror());
		return rc;
	}
	if (lfs)
		store_hex(info.sha256, STORE_HASH_LEN, hex);
	else
		store_hex(info.git_sha1, STORE_SHA1_LEN, hex);
	if (strcmp(hex, blob) != 0) {
		s->failed = e->path;
		snprintf(s->why, sizeof(s->why), "its content does not match "
		    "its blob's name %.12s (a damaged cache?)", blob);
		return STORE_ECORRUPT;
	}
	return 0;
}

/* The ref file under refs/ that points at commit, or NULL. */
static char *
ref_of(const char *repodir, const char *commit)
{
	char path[PATH_MAX], buf[64];
	const char *names[] = { "main", "master" };
	FILE *f;

	/* Only top-level refs are read: refs/pr/N are not branches. */
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/refs/%s", repodir, names[i]);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		if (fgets(buf, sizeof(buf), f) != NULL &&
		    strncmp(buf, commit, STORE_COMMIT_LEN) == 0 &&
		    (buf[STORE_COMMIT_LEN] == '\0' || buf[STORE_COMMIT_LEN] == '\n')) {
			fclose(f);
			return strdup(names[i]);
		}
		fclose(f);
	}
	return NULL;
}

/*
 * The revision the store already has under m's commit id, if it holds the
 * same files and claims: then it is that revision again (m differs only in
 * when it was made, or by which ref it was found).  A commit id with other
 * files is left to the store, which refuses to move it.
 */
static struct store_manifest *
stored_same(struct store *st, const struct store_manifest *m)
{
	struct store_manifest *cur;
	uint8_t digest[STORE_HASH_LEN];

	if (store_resolve(st, m->type, m->repo, m->commit, digest) != 0 ||
	    store_manifest_get(st, digest, &cur) != 0)
		return NULL;
	if (strcmp(cur->commit, m->commit) == 0 &&
	    json_equal(json_object_get(cur->root, "files"),
	    json_object_get(m->root, "files")) &&
	    json_equal(cur->claims, m->claims))
		return cur;
	store_manifest_free(cur);
	return NULL;
}

/* 1 if ref already names m. */
static int
ref_at(struct store *st, const struct store_manifest *m, const char *ref)
{
	uint8_t digest[STORE_HASH_LEN];

	return store_resolve(st, m->type, m->repo, ref, digest) == 0 &&
	    memcmp(digest, m->digest, STORE_HASH_LEN) == 0;
}

static int
import_snapshot(struct cli *cli, struct store *st, const char *repodir,
    const char *type, const char *repo, const char *commit)
{
	struct snap s = { .cli = cli };
	struct store_manifest_parts parts = { 0 };
	struct store_manifest *m = NULL, *cur;
	struct signer *signer = NULL;
	struct store_sig sig = { 0 };
	char snapdir[PATH_MAX], digest[STORE_DIGEST_STRLEN + 1], *ref = NULL;
	char why[PATH_MAX + 32];
	json_t *claims = NULL;
	int rc;

	snprintf(snapdir, sizeof(snapdir), "%s/snapshots/%s", repodir, commit);
	if ((rc = store_source_open_within(snapdir, repodir, &s.src)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = store_source_claims(s.src, &claims)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = signer_open(cli, st, NULL, 0, &signer)) != 0)
		goto out;
	if ((s.files = calloc(store_source_count(s.src) + 1,
	    sizeof(*s.files))) == NULL) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	if ((rc = store_ingest_begin(st, &s.ing)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = store_source_each(s.src, snap_file, &s)) != 0) {
		rc = cli_fail(rc == STORE_ECORRUPT ? EXIT_CHECK : EXIT_USAGE,
		    "%s: %s: %s", snapdir, s.failed != NULL ? s.failed : "",
		    s.failed != NULL ? s.why : store_lasterror());
		goto out;
	}
	ref = ref_of(repodir, commit);
	parts.type = type;
	parts.repo = repo;
	parts.upstream = "hf-cache";
	parts.revision = ref != NULL ? ref : commit;
	parts.commit = commit;
	parts.claims = claims;
	parts.files = s.files;
	parts.nfiles = store_source_count(s.src);
	parts.created = (int64_t)time(NULL);
	if ((rc = store_manifest_build(&parts, &m)) != 0) {
		rc = cli_store_fail(rc, snapdir);
		goto out;
	}
	snprintf(why, sizeof(why), "import %s", snapdir);
	if ((cur = stored_same(st, m)) != NULL) {
		/* Already there, signed when it came: at most a ref moves. */
		store_manifest_free(m);
		m = cur;
		if (ref == NULL || ref_at(st, m, ref))
			rc = store_ingest_end(s.ing);
		else
			rc = store_ingest_revision(s.ing, m, ref, why, NULL, 0);
	} else {
		if (signer != NULL && (rc = signer_sign(signer, m, &sig)) != 0)
			goto out;
		rc = store_ingest_revision(s.ing, m, ref, why, &sig,
		    signer != NULL);
	}
	if (rc != 0) {
		rc = cli_store_fail(rc, snapdir);
		goto out;
	}
	store_digest_str(m->digest, digest);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s?,s:s}", "type", type,
		    "repo", repo, "commit", commit, "ref", ref, "digest",
		    digest));
	else
		printf("%s%s@%s %s\n", strcmp(type, "dataset") == 0 ?
		    "datasets/" : "", repo, commit, digest);
	rc = EXIT_OK;
out:
	signer_sig_free(&sig);
	signer_free(signer);
	store_manifest_free(m);
	json_decref(claims);
	store_ingest_free(s.ing);
	free(s.files);
	store_source_free(s.src);
	free(ref);
	return rc;
}

/* models--ORG--NAME -> model, ORG/NAME; models--gpt2 -> model, gpt2. */
static int
repo_of(const char *dirname, char *type, char *repo, size_t size)
{
	const char *rest, *sep;

	if (strncmp(dirname, "models--", 8) == 0) {
		strcpy(type, "model");
		rest = dirname + 8;
	} else if (strncmp(dirname, "datasets--", 10) == 0) {
		strcpy(type, "dataset");
		rest = dirname + 10;
	} else
		return -1;
	if ((sep = strstr(rest, "--")) != NULL)
		snprintf(repo, size, "%.*s/%s", (int)(sep - rest), rest, sep + 2);
	else
		snprintf(repo, size, "%s", rest);
	return store_repo_valid(repo) ? 0 : -1;
}

int
import_hfcache(struct cli *cli, struct store *st, const char *dir)
{
	char path[PATH_MAX + 16], repodir[PATH_MAX], type[16], repo[256];
	char *real, *base, *commit = NULL;
	struct dirent *de;
	DIR *d;
	int rc = 0, n = 0;

	if ((real = realpath(dir, NULL)) == NULL)
		return cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s", real);
	base = basename(path);
	/* A snapshot: .../models--ORG--NAME/snapshots/COMMIT */
	if (is_hex(base, STORE_COMMIT_LEN)) {
		commit = strdup(base);
		snprintf(path, sizeof(path), "%s/../..", real);
		free(real);
		if ((real = realpath(path, NULL)) == NULL) {
			free(commit);
			return cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
		}
	}
	snprintf(repodir, sizeof(repodir), "%s", real);
	snprintf(path, sizeof(path), "%s", real);
	free(real);
	if (repo_of(basename(path), type, repo, sizeof(repo)) != 0) {
		free(commit);
		return cli_fail(EXIT_USAGE, "%s: neither a bundle nor a HF cache "
		    "folder (models--ORG--NAME or a snapshot in one); a plain "
		    "folder is added with airlock add", dir);
	}
	if (commit != NULL) {
		rc = import_snapshot(cli, st, repodir, type, repo, commit);
		free(commit);
		return rc;
	}
	snprintf(path, sizeof(path), "%s/snapshots", repodir);
	if ((d = opendir(path)) == NULL)
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL && rc == 0) {
		if (!is_hex(de->d_name, STORE_COMMIT_LEN))
			continue;
		rc = import_snapshot(cli, st, repodir, type, repo, de->d_name);
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0)
		rc = cli_fail(EXIT_USAGE, "%s: no snapshots", path);
	return rc;
}
