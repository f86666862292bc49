/*
 * airlock verify [REPO[@REV]... | --all]
 *
 * For each revision: its manifest against its digest, every file against
 * its blob (size, git sha1, LFS pointer), every blob's chunks and whole
 * (each blob once, however many revisions share it), and its signatures
 * against the trust policy.  Exit 1 when anything fails, naming the file
 * and the offset.  With no revision, verifies everything.
 *
 * airlock verify --lock FILE [--hf-cache] DIR [--trust FILE.pub] checks a
 * deployment against a lockfile instead, with no store (verify_lock).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/deploy.h"
#include "cli/lockfile.h"
#include "cli/trust.h"

struct verify {
	struct cli	*cli;
	struct store	*st;
	json_t		*done;		/* blob hex -> error or null */
	json_t		*digests;	/* every revision, for --all */
	struct progress	*bar;
	uint64_t	 base;		/* bytes verified before this blob */
	uint64_t	 total;
};

static void
bar_fn(void *arg, uint64_t n)
{
	struct verify *v = arg;

	progress_set(v->bar, v->base + n);
}

/* Checks a blob once; returns the error text, or NULL when it is sound. */
static const char *
check_blob(struct verify *v, const struct store_file *f)
{
	char hex[STORE_HEX_LEN + 1];
	json_t *seen;
	int rc;

	store_hex(f->sha256, STORE_HASH_LEN, hex);
	if ((seen = json_object_get(v->done, hex)) != NULL)
		return json_string_value(seen);
	/*
	 * The content's git sha1 is what the Hub API serves for a file that
	 * is not LFS; an LFS file's is its pointer's, checked below.  Once
	 * the file's sha256 matches, the bytes are those hashed at ingest,
	 * so rehashing a large LFS file's content sha1 would only cost time.
	 */
	rc = store_verify_blob(v->st, f->sha256, f->lfs ? 0 :
	    STORE_VERIFY_SHA1, bar_fn, v);
	v->base += f->size;
	json_object_set_new(v->done, hex, rc == 0 ? json_null() :
	    json_string(store_lasterror()));
	return json_string_value(json_object_get(v->done, hex));
}

static int
check_file(struct verify *v, const struct store_file *f, json_t *errors)
{
	struct store_blobinfo info;
	uint8_t sha1[STORE_SHA1_LEN];
	const char *why;
	int rc;

	if ((rc = store_blob_stat(v->st, f->sha256, &info)) != 0) {
		json_array_append_new(errors, json_sprintf("%s: %s", f->path,
		    store_lasterror()));
		return -1;
	}
	if (info.size != f->size) {
		json_array_append_new(errors, json_sprintf("%s: %llu bytes "
		    "stored, the manifest says %llu", f->path,
		    (unsigned long long)info.size, (unsigned long long)f->size));
		return -1;
	}
	if ((why = check_blob(v, f)) != NULL) {
		json_array_append_new(errors, json_sprintf("%s: %s", f->path,
		    why));
		return -1;
	}
	/* The git sha1 the Hub API will serve must be the real one. */
	if (f->lfs)
		store_lfs_pointer_sha1(f->sha256, f->size, sha1);
	else if (store_blob_sha1(v->st, f->sha256, sha1) != 0)
		memset(sha1, 0, sizeof(sha1));
	if (memcmp(sha1, f->git_sha1, STORE_SHA1_LEN) != 0) {
		json_array_append_new(errors, json_sprintf("%s: git sha1 does "
		    "not match the %s", f->path, f->lfs ? "LFS pointer" :
		    "content"));
		return -1;
	}
	return 0;
}

static json_t *
check_revision(struct verify *v, const uint8_t digest[STORE_HASH_LEN],
    const char *name, int *ok)
{
	char dstr[STORE_DIGEST_STRLEN + 1];
	struct store_manifest *m;
	json_t *errors = json_array(), *sigs = NULL, *out;
	int sig_ok = 0;

	store_digest_str(digest, dstr);
	if (store_manifest_get(v->st, digest, &m) != 0) {
		json_array_append_new(errors, json_string(store_lasterror()));
		*ok = 0;
		return json_pack("{s:s,s:s,s:b,s:o}", "name", name, "digest",
		    dstr, "ok", 0, "errors", errors);
	}
	for (size_t i = 0; i < m->nfiles; i++)
		check_file(v, &m->files[i], errors);
	sigs = trust_check(v->st, m, &sig_ok);
	if (!sig_ok) {
		json_t *p;
		size_t i;

		/* Say which signatures did not count and why, not just how
		 * many did. */
		json_array_append_new(errors, json_sprintf("signatures: %s",
		    json_string_value(json_object_get(sigs, "reason"))));
		json_array_foreach(json_object_get(sigs, "problems"), i, p)
			json_array_append(errors, p);
	}
	*ok = json_array_size(errors) == 0;
	out = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:o,s:o}", "name", name,
	    "type", m->type, "repo", m->repo, "commit", m->commit, "digest",
	    dstr, "ok", *ok, "errors", errors, "signatures", sigs);
	store_manifest_free(m);
	return out;
}

static int
collect(void *arg, const struct store_ref *r)
{
	struct verify *v = arg;
	char hex[STORE_HEX_LEN + 1];

	if (!r->is_commit)
		return 0;
	store_hex(r->digest, STORE_HASH_LEN, hex);
	json_object_set_new(v->digests, hex, json_sprintf("%s%s@%s",
	    store_type_prefix(r->type), r->repo, r->name));
	return 0;
}

static uint64_t
revision_bytes(struct store *st, const uint8_t *digest)
{
	struct store_manifest *m;
	uint64_t n = 0;

	if (store_manifest_get(st, digest, &m) != 0)
		return 0;
	for (size_t i = 0; i < m->nfiles; i++)
		n += m->files[i].size;
	store_manifest_free(m);
	return n;
}

/* --all or revisions, not both; --lock FILE and one folder, no store. */
int
cmd_verify_check(struct cmd_ctx *ctx)
{
	if (ctx->opt['l'] != NULL) {
		if (ctx->argc != 1 || ctx->opt['a'] != NULL)
			return cli_usage(ctx->cli);
		ctx->store = CMD_STORE_NONE;
		return 0;
	}
	if (ctx->opt['a'] != NULL && ctx->argc > 0)
		return cli_usage(ctx->cli);
	if (ctx->opt['H'] != NULL || ctx->opt['T'] != NULL)
		return cli_usage(ctx->cli);
	return 0;
}

/*
 * verify --lock FILE [--hf-cache] DIR: every file hashed against the
 * lockfile, one line for each that drifted, exit 1 if any did.  The
 * signatures are judged by --trust's key, else by the keyring of a store
 * if there is one (opened read-only); nothing else of a store is read.
 */
static int
verify_lock(struct cmd_ctx *ctx)
{
	const char *path = ctx->opt['l'], *dir = ctx->argv[0];
	int hf = ctx->opt['H'] != NULL, rc;
	struct store *st = NULL;
	struct lockfile *lf;
	char where[4096];
	long drift = 0;
	json_t *lines = NULL;

	if (ctx->opt['T'] == NULL && (rc = store_open(ctx->cli->store_dir,
	    STORE_RDONLY, &st)) != 0 && rc != STORE_ENOSTORE)
		return cli_store_fail(rc, NULL);
	rc = deploy_load(st, path, ctx->opt['T'], &lf);
	store_close(st);
	if (rc != 0)
		return rc;
	if (ctx->cli->json && (lines = json_array()) != NULL)
		deploy_drift_json(lines);
	for (size_t i = 0; i < lf->n; i++) {
		const struct lock_model *lm = &lf->models[i];
		long n;

		if (hf)
			n = deploy_verify_hfcache(lm, dir);
		else {
			deploy_model_dir(lf, i, dir, where, sizeof(where));
			n = deploy_verify_dir(lm, where);
		}
		if (n < 0) {
			deploy_drift_json(NULL);
			json_decref(lines);
			lock_free(lf);
			return EXIT_CHECK;
		}
		if (n == 0 && !ctx->cli->json)
			printf("ok %s%s@%s %s: %zu files\n",
			    store_type_prefix(lm->type), lm->repo, lm->revision,
			    lm->m->commit, lm->m->nfiles);
		drift += n;
	}
	deploy_drift_json(NULL);
	if (ctx->cli->json)
		cli_json(json_pack("{s:b,s:I,s:o}", "ok", drift == 0, "drifted",
		    (json_int_t)drift, "lines", lines != NULL ? lines :
		    json_array()));
	else if (drift != 0)
		cli_warnx("%s: %ld files drifted from %s", dir, drift, path);
	lock_free(lf);
	return drift != 0 ? EXIT_CHECK : EXIT_OK;
}

int
cmd_verify(struct cmd_ctx *ctx)
{
	struct cli *cli = ctx->cli;
	struct verify v = { .cli = cli, .st = ctx->st };
	char **argv = ctx->argv;
	const char *key;
	json_t *results, *name;
	int failed = 0, rc;

	if (ctx->opt['l'] != NULL)
		return verify_lock(ctx);
	v.done = json_object();
	v.digests = json_object();
	results = json_array();
	if (ctx->argc == 0) {
		if ((rc = store_refs(v.st, NULL, NULL, collect, &v)) != 0) {
			rc = cli_store_fail(rc, NULL);
			goto out;
		}
	}
	for (int i = 0; i < ctx->argc; i++) {
		struct target t;
		char hex[STORE_HEX_LEN + 1];

		if ((rc = cli_target(v.st, argv[i], NULL, &t)) != 0) {
			failed++;
			json_array_append_new(results, json_pack("{s:s,s:b,s:[s]}",
			    "name", argv[i], "ok", 0, "errors",
			    store_lasterror()));
			continue;
		}
		store_hex(t.digest, STORE_HASH_LEN, hex);
		json_object_set_new(v.digests, hex, json_string(argv[i]));
	}
	json_object_foreach(v.digests, key, name) {
		uint8_t d[STORE_HASH_LEN];

		store_digest_parse(key, d);
		v.total += revision_bytes(v.st, d);
	}
	v.bar = progress_start(cli, "verify", v.total);
	json_object_foreach(v.digests, key, name) {
		uint8_t d[STORE_HASH_LEN];
		json_t *r;
		int ok;

		store_digest_parse(key, d);
		r = check_revision(&v, d, json_string_value(name), &ok);
		if (!ok)
			failed++;
		if (!cli->json) {
			size_t i;
			json_t *e;

			progress_end(v.bar);
			v.bar = NULL;
			printf("%-6s %s (%.12s)\n", ok ? "ok" : "FAILED",
			    json_string_value(name), key);
			json_array_foreach(json_object_get(r, "errors"), i, e)
				printf("       %s\n", json_string_value(e));
			fflush(stdout);
			v.bar = progress_start(cli, "verify", v.total);
			progress_set(v.bar, v.base);
		}
		json_array_append_new(results, r);
	}
	progress_end(v.bar);
	if (cli->json)
		cli_json(json_pack("{s:b,s:O}", "ok", failed == 0, "revisions",
		    results));
	else if (json_object_size(v.digests) == 0 && failed == 0)
		printf("nothing to verify\n");
	rc = failed != 0 ? EXIT_CHECK : EXIT_OK;
out:
	json_decref(results);
	json_decref(v.done);
	json_decref(v.digests);
	return rc;
}
