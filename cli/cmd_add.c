/*
 * airlock add DIR|ARCHIVE --repo ORG/NAME [--revision REV]
 *     [--type model|dataset]
 *
 * Lists and checks the whole source first, then reads its model card, then
 * streams every file into the store, then commits one manifest and moves
 * the ref in one transaction.  Anything wrong before the commit leaves no
 * revision behind.  Adding the same content again changes nothing.
 */
#include "config.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

struct add {
	struct cli		*cli;
	struct store_ingest	*ing;
	struct store_source	*src;
	struct store_file	*files;
	uint64_t		 new_bytes;
	const char		*failed;	/* the file an error is about */
};

int
ingest_entry(struct store_ingest *ing, const struct store_entry *e, int lfs,
    store_read_fn rd, void *rarg, struct store_file *f,
    struct store_blobinfo *info)
{
	int rc;

	/* Only files that are not LFS need the content's git sha1. */
	if ((rc = store_ingest_file(ing, rd, rarg, (int64_t)e->size,
	    lfs ? 0 : STORE_INGEST_SHA1, info)) != 0)
		return rc;
	f->path = (char *)e->path;
	f->size = info->size;
	memcpy(f->sha256, info->sha256, STORE_HASH_LEN);
	f->lfs = lfs;
	if (lfs)
		store_lfs_pointer_sha1(info->sha256, info->size, f->git_sha1);
	else
		memcpy(f->git_sha1, info->git_sha1, STORE_SHA1_LEN);
	return 0;
}

static int
add_one(void *arg, size_t idx, store_read_fn rd, void *rarg)
{
	struct add *a = arg;
	const struct store_entry *e = store_source_entry(a->src, idx);
	struct store_blobinfo info;
	int rc;

	/* Large and binary files are LFS files, as the Hub would have them. */
	if ((rc = ingest_entry(a->ing, e, store_lfs_by_name(e->path, e->size),
	    rd, rarg, &a->files[idx], &info)) != 0) {
		a->failed = e->path;
		return rc;
	}
	a->new_bytes += info.new_bytes;
	return 0;
}

/*
 * The revision the ref points at now, if it has the same files and claims:
 * then this add has nothing to do.
 */
static int
same_as_current(struct store *st, const struct store_manifest *m,
    const char *rev)
{
	struct store_manifest *cur;
	uint8_t digest[STORE_HASH_LEN];
	int same;

	if (store_resolve(st, m->type, m->repo, rev, digest) != 0 ||
	    store_manifest_get(st, digest, &cur) != 0)
		return 0;
	same = cur->source == NULL &&
	    json_equal(json_object_get(cur->root, "files"),
	    json_object_get(m->root, "files")) &&
	    json_equal(cur->claims, m->claims);
	store_manifest_free(cur);
	return same;
}

static void
report(struct cli *cli, const struct store_manifest *m, const char *rev,
    uint64_t bytes, uint64_t new_bytes, int unchanged)
{
	char digest[STORE_DIGEST_STRLEN + 1];

	store_digest_str(m->digest, digest);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I,s:b}",
		    "type", m->type, "repo", m->repo, "revision", rev,
		    "commit", m->commit, "digest", digest,
		    "files", (json_int_t)m->nfiles, "bytes", (json_int_t)bytes,
		    "new_bytes", (json_int_t)new_bytes, "unchanged", unchanged));
	else
		printf("%s%s@%s %s\n", strcmp(m->type, "dataset") == 0 ?
		    "datasets/" : "", m->repo, m->commit, digest);
}

int
cmd_add(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "repo", required_argument, NULL, 'r' },
		{ "revision", required_argument, NULL, 'R' },
		{ "type", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *repo = NULL, *rev = "main", *type = "model", *path;
	struct add a = { .cli = cli };
	struct store *st = NULL;
	struct store_manifest *m = NULL;
	struct store_manifest_parts parts = { 0 };
	struct store_sig sig = { 0 };
	struct signer *signer = NULL;
	struct progress *bar = NULL;
	json_t *claims = NULL;
	char why[600];
	int c, rc;

	optind = 0;
	while ((c = getopt_long(argc, argv, "r:R:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			repo = optarg;
			break;
		case 'R':
			rev = optarg;
			break;
		case 't':
			type = optarg;
			break;
		default:
			return cli_usage(cli);
		}
	}
	if (argc - optind != 1 || repo == NULL)
		return cli_usage(cli);
	path = argv[optind];
	if (!store_repo_valid(repo))
		return cli_fail(EXIT_USAGE, "%s: not a repository id (ORG/NAME: "
		    "letters, digits, '.', '_', '-')", repo);
	if (!store_type_valid(type))
		return cli_fail(EXIT_USAGE, "%s: the type is model or dataset",
		    type);
	if (!store_revision_valid(rev) || strcmp(rev, "HEAD") == 0 ||
	    (strlen(rev) == STORE_COMMIT_LEN &&
	    strspn(rev, "0123456789abcdef") == STORE_COMMIT_LEN))
		return cli_fail(EXIT_USAGE, "%s: not a valid branch or tag name",
		    rev);

	if ((rc = cli_open(cli, 0, &st)) != 0)
		return rc;
	if ((rc = store_source_open(path, &a.src)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = store_source_claims(a.src, &claims)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	/* The key is unlocked before any work, so a wrong passphrase costs
	 * nothing. */
	if ((rc = signer_open(cli, st, NULL, 0, &signer)) != 0)
		goto out;
	if ((a.files = calloc(store_source_count(a.src) + 1,
	    sizeof(*a.files))) == NULL) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	if ((rc = store_ingest_begin(st, &a.ing)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	bar = progress_start(cli, "add", store_source_bytes(a.src));
	store_ingest_progress(a.ing, progress_fn, bar);
	rc = store_source_each(a.src, add_one, &a);
	progress_end(bar);
	if (rc != 0) {
		cli_store_fail(rc, a.failed);
		cli_warnx("%s: no revision was added", path);
		rc = EXIT_USAGE;
		goto out;
	}
	parts.type = type;
	parts.repo = repo;
	parts.claims = claims;
	parts.files = a.files;
	parts.nfiles = store_source_count(a.src);
	parts.created = (int64_t)time(NULL);
	if ((rc = store_manifest_build(&parts, &m)) != 0) {
		rc = cli_store_fail(rc, path);
		goto out;
	}
	if (same_as_current(st, m, rev)) {
		struct store_manifest *cur;
		uint8_t digest[STORE_HASH_LEN];

		if (store_resolve(st, type, repo, rev, digest) == 0 &&
		    store_manifest_get(st, digest, &cur) == 0) {
			report(cli, cur, rev, store_source_bytes(a.src), 0, 1);
			store_manifest_free(cur);
		}
		rc = EXIT_OK;
		goto out;
	}
	if (signer != NULL && (rc = signer_sign(signer, m, &sig)) != 0)
		goto out;
	snprintf(why, sizeof(why), "add %s", path);
	if ((rc = store_ingest_revision(a.ing, m, rev, why, &sig,
	    signer != NULL)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	report(cli, m, rev, store_source_bytes(a.src), a.new_bytes, 0);
	rc = EXIT_OK;
out:
	signer_sig_free(&sig);
	signer_free(signer);
	store_manifest_free(m);
	json_decref(claims);
	store_ingest_free(a.ing);
	free(a.files);
	store_source_free(a.src);
	store_close(st);
	return rc;
}
