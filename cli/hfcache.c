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

#include "cli/cli.h"
#include "lib/names.h"

struct snap {
	struct store_source	*src;
	struct store_revision	*rev;
	const char		*failed;
	char			 why[256];
};

static int
snap_file(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	struct snap *s = arg;
	const struct store_entry *e = store_source_entry(s->src, idx);
	const char *blob = e->target != NULL ? strrchr(e->target, '/') : NULL;
	struct store_revision_file in = { 0 };
	uint8_t hash[STORE_HASH_LEN];
	int rc;

	blob = blob != NULL ? blob + 1 : "";
	in.path = e->path;
	in.size = (int64_t)e->size;
	/* The blob's name says what the Hub had: an LFS file is named by its
	 * sha256, a git file by its blob sha1. */
	in.lfs = hex_valid(blob, STORE_HEX_LEN);
	if (!in.lfs && !hex_valid(blob, 2 * STORE_SHA1_LEN)) {
		s->failed = e->path;
		snprintf(s->why, sizeof(s->why), "not a link to a blob named "
		    "by its hash");
		return STORE_EINVAL;
	}
	store_unhex(blob, hash, in.lfs ? STORE_HASH_LEN : STORE_SHA1_LEN);
	if (in.lfs)
		in.sha256 = hash;
	else
		in.git_sha1 = hash;
	if ((rc = store_revision_put(s->rev, &in, rd, rarg)) != 0) {
		s->failed = e->path;
		if (rc == STORE_ECORRUPT)
			snprintf(s->why, sizeof(s->why), "its content does "
			    "not match its blob's name %.12s (a damaged "
			    "cache?)", blob);
		else
			snprintf(s->why, sizeof(s->why), "%s",
			    store_lasterror());
	}
	return rc;
}

static int
snap_feed(void *arg, struct store_revision *rev)
{
	struct snap *s = arg;

	s->rev = rev;
	return store_source_each(s->src, snap_file, s);
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

static void
snap_report(struct cli *cli, const struct store_manifest *m, const char *ref)
{
	char digest[STORE_DIGEST_STRLEN + 1];

	store_digest_str(m->digest, digest);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s?,s:s}", "type", m->type,
		    "repo", m->repo, "commit", m->commit, "ref", ref, "digest",
		    digest));
	else
		printf("%s%s@%s %s\n", store_type_prefix(m->type), m->repo,
		    m->commit, digest);
}

static int
import_snapshot(struct cli *cli, struct store *st, const char *repodir,
    const char *type, const char *repo, const char *commit)
{
	struct store_revision_spec spec = { 0 };
	struct store_revision_result res = { 0 };
	struct snap s = { 0 };
	char snapdir[PATH_MAX], why[PATH_MAX + 32], *ref;
	int rc, files_rc;

	snprintf(snapdir, sizeof(snapdir), "%s/snapshots/%s", repodir, commit);
	if ((rc = store_source_open_within(snapdir, repodir, &s.src)) != 0)
		return cli_store_fail(rc, NULL);
	if ((rc = gate_source(st, s.src, snapdir, repo, NULL)) != 0) {
		store_source_free(s.src);
		return rc;
	}
	ref = ref_of(repodir, commit);
	snprintf(why, sizeof(why), "import %s", snapdir);
	spec.parts.type = type;
	spec.parts.repo = repo;
	spec.parts.upstream = "hf-cache";
	spec.parts.revision = ref != NULL ? ref : commit;
	spec.parts.commit = commit;
	spec.ref = ref;
	spec.why = why;
	spec.flags = STORE_REVISION_KEEP_COMMIT;
	spec.feed = snap_feed;
	spec.feed_arg = &s;
	if ((rc = cli_revision_add(cli, st, s.src, snapdir, snapdir, NULL, &spec,
	    &res, &files_rc)) == 0)
		snap_report(cli, res.manifest, ref);
	else if (files_rc != 0)
		rc = cli_fail(files_rc == STORE_ECORRUPT ? EXIT_CHECK :
		    EXIT_USAGE, "%s: %s: %s", snapdir, s.failed != NULL ?
		    s.failed : "", s.failed != NULL ? s.why :
		    store_lasterror());
	store_manifest_free(res.manifest);
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
	if (hex_valid(base, STORE_COMMIT_LEN)) {
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
		if (!hex_valid(de->d_name, STORE_COMMIT_LEN))
			continue;
		rc = import_snapshot(cli, st, repodir, type, repo, de->d_name);
		n++;
	}
	closedir(d);
	if (rc == 0 && n == 0)
		rc = cli_fail(EXIT_USAGE, "%s: no snapshots", path);
	return rc;
}
