/*
 * airlock export REPO[@REV]... -o FILE [--split SIZE] [--have INVENTORY]
 * airlock inventory -o FILE
 *
 * A bundle carries revisions across the air gap: their manifests and
 * signatures, and the chunks the receiver lacks (all of them, or those an
 * inventory of the receiver does not list).  Its index is signed by the
 * store's key and carries a release whose version grows with every export,
 * so the receiver can refuse an older bundle than one it has taken.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "lib/names.h"

/* "4G", "700M", "1048576": binary units, as split(1) takes them. */
static int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || end == s)
		return -1;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end == 'i' && end[1] == 'B')
		end += 2;
	else if (*end == 'B')
		end++;
	if (*end != '\0' || v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

/* The refs a release publishes; its version is set when it is signed. */
static int
release_refs(struct store *st, struct keys_signer *sg,
    const struct store_bundle_rev *revs, size_t n, struct keys_release **relp)
{
	struct keys_release *rel = NULL;
	char when[32], digest[STORE_DIGEST_STRLEN + 1], repo[300];
	time_t now = time(NULL);
	struct tm tm;
	int rc;

	gmtime_r(&now, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if ((rc = keys_release_new(keys_signer_keyid(sg), 0, when, NULL,
	    &rel)) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		struct store_manifest *m;

		if (store_manifest_get(st, revs[i].digest, &m) != 0) {
			keys_release_free(rel);
			return cli_store_fail(STORE_ECORRUPT, NULL);
		}
		store_digest_str(m->digest, digest);
		if (name_qualify(repo, sizeof(repo), m->type, m->repo) == 0) {
			keys_release_free(rel);
			rc = cli_fail(EXIT_USAGE, "%s %s: a release cannot name "
			    "it (a model's org may not be \"datasets\")",
			    m->type, m->repo);
			store_manifest_free(m);
			return rc;
		}
		rc = keys_release_add(rel, repo, revs[i].ref, m->commit, digest);
		store_manifest_free(m);
		if (rc != 0)
			goto fail;
	}
	*relp = rel;
	return 0;
fail:
	keys_release_free(rel);
	return cli_fail(EXIT_USAGE, "release: %s", keys_strerror(rc));
}

#define VERSION_KEY	"release_version"

/*
 * Numbering, signing and publishing a release, in one write transaction:
 * the version after the store's last, the release document with it, its
 * signature, and the three kept together (the settings "release_version",
 * "release" and "release.minisig", which airlockd serves), so that two
 * exports never take one version and the release published is the last
 * one signed.  A version is spent even if the bundle is not written.
 */
struct publish {
	struct keys_signer		*sg;
	struct keys_release	*rel;
	char			*doc, *sig;
	size_t			 len;
	int			 exit;		/* when the callback failed */
};

static int
publish(void *arg, struct store_kvtxn *kt)
{
	struct publish *p = arg;
	const char *v;
	char buf[32];
	size_t len;
	uint64_t last = 0;
	int rc;

	rc = store_kvtxn_get(kt, STORE_SETTING, VERSION_KEY,
	    strlen(VERSION_KEY), (const void **)&v, &len);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (rc == 0) {
		/* Fail closed: a counter that is not one must not restart. */
		int ok = len > 0 && len <= 18;

		for (size_t i = 0; ok && i < len; i++) {
			ok = v[i] >= '0' && v[i] <= '9';
			last = last * 10 + (uint64_t)(v[i] - '0');
		}
		if (!ok) {
			p->exit = cli_fail(EXIT_USAGE, "the store's setting %s "
			    "is not a release number: refusing to export "
			    "(versions must only grow)", VERSION_KEY);
			return STORE_ECANCELED;
		}
	}
	p->rel->rl_version = last + 1;
	free(p->doc);
	free(p->sig);
	p->doc = p->sig = NULL;
	if ((rc = keys_release_format(p->rel, &p->doc, &p->len)) != 0) {
		p->exit = cli_fail(EXIT_USAGE, "release: %s",
		    keys_strerror(rc));
		return STORE_ECANCELED;
	}
	if ((p->exit = signer_sign_release(p->sg, p->doc, p->len,
	    p->rel->rl_version, "airlock release", &p->sig)) != 0)
		return STORE_ECANCELED;
	snprintf(buf, sizeof(buf), "%llu",
	    (unsigned long long)p->rel->rl_version);
	if ((rc = store_kvtxn_put(kt, STORE_SETTING, VERSION_KEY,
	    strlen(VERSION_KEY), buf, strlen(buf))) != 0 ||
	    (rc = store_kvtxn_put(kt, STORE_SETTING, "release", 7, p->doc,
	    p->len)) != 0 ||
	    (rc = store_kvtxn_put(kt, STORE_SETTING, "release.minisig", 15,
	    p->sig, strlen(p->sig))) != 0)
		return rc;
	return 0;
}

/* The ref a revision is published as: the branch or tag named, else the
 * commit id itself (the receiver then names it by commit only). */
static void
ref_for(const struct target *t, struct store *st, char *buf, size_t size)
{
	struct store_manifest *m;
	const char *rev = t->rev != NULL ? t->rev : "main";
	int commitlike = strncmp(rev, "sha256:", 7) == 0 ||
	    (strlen(rev) >= 7 && strlen(rev) <= 40 &&
	    hex_valid(rev, strlen(rev)));

	if (!commitlike || store_manifest_get(st, t->digest, &m) != 0) {
		snprintf(buf, size, "%s", rev);
		return;
	}
	snprintf(buf, size, "%s", m->commit);
	store_manifest_free(m);
}

static void
export_report(struct cli *cli, const char *out, uint64_t version,
    const struct store_bundle_stats *bs)
{
	char size[32];

	if (cli->json)
		cli_json(json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "bundle",
		    out, "release", (json_int_t)version, "revisions",
		    (json_int_t)bs->revisions, "chunks", (json_int_t)bs->chunks,
		    "chunk_bytes", (json_int_t)bs->chunk_bytes, "omitted",
		    (json_int_t)bs->omitted, "volumes", (json_int_t)bs->volumes,
		    "bytes", (json_int_t)bs->bytes));
	else
		printf("%s: release %llu, %llu revision%s, %llu chunks, %s in "
		    "%llu volume%s%s\n", out, (unsigned long long)version,
		    (unsigned long long)bs->revisions, bs->revisions == 1 ? "" :
		    "s", (unsigned long long)bs->chunks, cli_bytes(bs->bytes,
		    size), (unsigned long long)bs->volumes, bs->volumes == 1 ?
		    "" : "s", bs->omitted != 0 ? " (a delta: chunks the "
		    "receiver has are left out)" : "");
}

/* The receiver's inventory (--have); *text holds the bytes it points to. */
static int
read_have(const char *path, char **text, struct store_inventory **have)
{
	size_t len;
	int rc;

	if ((rc = cli_read_file(path, BOUND_INVENTORY, text, &len)) != 0)
		return rc;
	if ((rc = store_inventory_parse(*text, len, have)) != 0)
		return cli_store_fail(rc, path);
	return 0;
}

/* -o is required; a --split that is no size is named before any work. */
int
cmd_export_check(struct cmd_ctx *ctx)
{
	const char *s = ctx->opt['s'];
	uint64_t split;

	if (s != NULL && parse_size(s, &split) != 0)
		return cli_fail(EXIT_USAGE, "--split %s: not a size (as 4G, "
		    "700M)", s);
	if (ctx->opt['o'] == NULL)
		return cli_usage(ctx->cli);
	return 0;
}

int
cmd_export(struct cmd_ctx *ctx)
{
	const char *out = ctx->opt['o'], *have_path = ctx->opt['h'], *index;
	struct store_inventory *have = NULL;
	struct store_bundle_rev *revs = NULL;
	struct store_export *x = NULL;
	struct store_bundle_stats bs;
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	struct keys_signer *sg = NULL;
	struct target *ts = NULL;
	struct progress *bar;
	struct publish pub = { 0 };
	char (*refs)[STORE_COMMIT_LEN + 256] = NULL, *sig = NULL;
	char *inv = NULL;
	size_t n = (size_t)ctx->argc, index_len;
	uint64_t split = 0, version;
	int rc;

	if (ctx->opt['s'] != NULL)
		(void)parse_size(ctx->opt['s'], &split);	/* checked */
	if ((revs = calloc(n, sizeof(*revs))) == NULL ||
	    (ts = calloc(n, sizeof(*ts))) == NULL ||
	    (refs = calloc(n, sizeof(*refs))) == NULL) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = cli_target(st, ctx->argv[i], NULL, &ts[i])) != 0)
			goto out;
		ref_for(&ts[i], st, refs[i], sizeof(refs[i]));
		revs[i].type = ts[i].type;
		revs[i].repo = ts[i].repo;
		revs[i].ref = refs[i];
		memcpy(revs[i].digest, ts[i].digest, STORE_HASH_LEN);
	}
	if (have_path != NULL && (rc = read_have(have_path, &inv, &have)) != 0)
		goto out;
	if ((rc = signer_open(cli, st, NULL, 1, &sg)) != 0)
		goto out;
	if ((rc = release_refs(st, sg, revs, n, &pub.rel)) != 0)
		goto out;
	pub.sg = sg;
	if ((rc = store_kv_txn(st, publish, &pub)) != 0) {
		rc = pub.exit != 0 ? pub.exit : cli_store_fail(rc, NULL);
		goto out;
	}
	version = pub.rel->rl_version;
	if ((rc = store_export_plan(st, revs, n, pub.doc, pub.len, have, split,
	    &x, &index, &index_len)) != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	if ((rc = signer_sign_release(sg, index, index_len, version,
	    "airlock bundle index", &sig)) != 0)
		goto out;
	store_export_stats(x, &bs);
	bar = progress_start(cli, "export", bs.chunk_bytes);
	rc = store_export_write(st, x, sig, strlen(sig), out, progress_fn, bar);
	progress_end(bar);
	if (rc != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	store_export_stats(x, &bs);
	export_report(cli, out, version, &bs);
	rc = EXIT_OK;
out:
	free(sig);
	free(pub.doc);
	free(pub.sig);
	keys_release_free(pub.rel);
	free(inv);
	store_export_free(x);
	store_inventory_free(have);
	keys_signer_free(sg);
	free(revs);
	free(ts);
	free(refs);
	return rc;
}

int
cmd_inventory_check(struct cmd_ctx *ctx)
{
	return ctx->opt['o'] == NULL ? cli_usage(ctx->cli) : 0;
}

int
cmd_inventory(struct cmd_ctx *ctx)
{
	char tmp[PATH_MAX];
	const char *out = ctx->opt['o'];
	struct store *st = ctx->st;
	int rc, fd;

	snprintf(tmp, sizeof(tmp), "%s.part", out);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	rc = store_inventory_write(st, fd);
	if (rc == 0 && (fsync(fd) == -1 || close(fd) == -1)) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (rc != 0) {
		close(fd);
		unlink(tmp);
		rc = cli_store_fail(rc, out);
		goto out;
	}
	if (rename(tmp, out) == -1) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", out, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s}", "inventory", out, "store",
		    store_id(st)));
	else
		printf("%s: inventory of store %s\n", out, store_id(st));
	rc = EXIT_OK;
out:
	return rc;
}
