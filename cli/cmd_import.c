/*
 * airlock import FILE [FILE.002 ...]
 *
 * A bundle is judged before anything in it is believed: the index's
 * signature against the keyring (by a trusted key whose scope is "*"),
 * then every entry hashed against the index in a first pass that writes
 * nothing, then the release against the highest one this store has taken
 * from that publisher (no rollback), then each revision's signatures
 * against the trust policy.  Only then is anything written, and each
 * revision is committed whole.  A HF cache folder (models--ORG--NAME, or a
 * snapshot in it) is imported with its commit ids kept.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "lib/names.h"
#include "cli/trust.h"
#include "gate/gate.h"
#include "policy/policy.h"

/* The index must carry a trusted, in-scope ("*") signature. */
static int
check_index_sig(struct store *st, const char *path, const char *index,
    size_t ilen, const char *sig, size_t slen, uint8_t publisher[8])
{
	struct keys_trust *ring = NULL;
	struct keys_sig_verdict v;
	struct keys_subject subj;
	char digest[STORE_DIGEST_STRLEN + 1], hex[KEYS_KEYID_HEXLEN + 1];
	const char *texts[1] = { sig };
	uint8_t d[STORE_HASH_LEN];
	size_t nring = 0, ntrusted = 0;
	int rc;

	keys_init();
	if (gate_ring(st, &ring, &nring) != 0)
		return cli_fail(EXIT_USAGE, "the keyring cannot be read");
	store_sha256(index, ilen, d);
	store_digest_str(d, digest);
	subj.su_kind = KEYS_TC_RELEASE;
	subj.su_repo = NULL;
	subj.su_digest = digest;
	subj.su_msg = index;
	subj.su_len = ilen;
	memset(&v, 0, sizeof(v));
	rc = keys_policy_eval(ring, nring, 1, &subj, texts, &slen, 1, &v,
	    &ntrusted);
	free(ring);
	keys_keyid_hex(v.vd_keyid, hex);
	memcpy(publisher, v.vd_keyid, 8);
	if (rc == 0 && ntrusted == 1)
		return 0;
	switch (v.vd_verdict) {
	case KEYS_V_UNKNOWN_KEY:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s, which this "
		    "store does not trust (airlock trust add)", path, hex);
	case KEYS_V_REVOKED:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s (%s), which "
		    "is revoked", path, hex, v.vd_name);
	case KEYS_V_OUT_OF_SCOPE:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s (%s), whose "
		    "scope does not cover publishing bundles (it needs \"*\")",
		    path, hex, v.vd_name);
	case KEYS_V_COMMENT_MISMATCH:
		return cli_fail(EXIT_CHECK, "%s: the signature names another "
		    "index", path);
	case KEYS_V_MALFORMED:
		return cli_fail(EXIT_CHECK, "%s: the index signature is not a "
		    "signature: %s", path, keys_strerror(v.vd_error));
	default:
		return cli_fail(EXIT_CHECK, "%s: the index does not match its "
		    "signature by %s: %s", path, hex, keys_strerror(v.vd_error));
	}
}

/*
 * The release: by the key that signed the index, naming the revisions the
 * index carries, not expired, and not older than one taken before.  This
 * is the early answer, before anything is written; the one that counts is
 * release_record(), in the commit of each revision.
 */
static int
check_release(struct store *st, struct store_bundle *b, const char *path,
    const uint8_t publisher[8], struct keys_release **relp)
{
	struct keys_release *rel = NULL;
	const char *doc;
	void *old = NULL;
	size_t len, oldlen;
	int rc;

	*relp = NULL;
	doc = store_bundle_release(b, &len);
	if ((rc = keys_release_parse(doc, len, &rel)) != 0)
		return cli_fail(EXIT_CHECK, "%s: release: %s", path,
		    keys_strerror(rc));
	if (memcmp(rel->rl_publisher, publisher, 8) != 0) {
		keys_release_free(rel);
		return cli_fail(EXIT_CHECK, "%s: the release names another "
		    "publisher than the key that signed it", path);
	}
	for (size_t i = 0; i < store_bundle_nrevs(b); i++) {
		const struct store_bundle_revinfo *r = store_bundle_rev(b, i);
		char digest[STORE_DIGEST_STRLEN + 1], repo[300];
		size_t j;

		store_digest_str(r->digest, digest);
		/* Named as the exporter named it; no name matches no ref. */
		if (name_qualify(repo, sizeof(repo), r->type, r->repo) == 0)
			repo[0] = '\0';
		for (j = 0; j < rel->rl_nrefs; j++)
			if (strcmp(rel->rl_refs[j].rr_manifest, digest) == 0 &&
			    strcmp(rel->rl_refs[j].rr_repo, repo) == 0 &&
			    strcmp(rel->rl_refs[j].rr_revision, r->ref) == 0)
				break;
		if (j == rel->rl_nrefs) {
			keys_release_free(rel);
			return cli_fail(EXIT_CHECK, "%s: %s@%s is in the index "
			    "but not in the release", path, repo, r->ref);
		}
	}
	if ((rc = keys_release_check_expiry(rel, time(NULL))) != 0) {
		cli_warnx("%s: the release expired at %s", path,
		    rel->rl_expires);
		keys_release_free(rel);
		return EXIT_CHECK;
	}
	rc = store_kv_get(st, STORE_RELEASE, publisher, 8, &old, &oldlen);
	if (rc != 0 && rc != STORE_ENOTFOUND) {
		keys_release_free(rel);
		return cli_store_fail(rc, "the release records");
	}
	rc = release_vs_record(path, rel, doc, len, old, oldlen);
	free(old);
	if (rc != 0) {
		keys_release_free(rel);
		return rc;
	}
	*relp = rel;
	return 0;
}

/* Keeps the trusted signatures of revision i, under their own key ids. */
static int
keep_sigs(struct store_bundle *b, size_t i, json_t *verdict, const char *path)
{
	const struct store_bundle_revinfo *r = store_bundle_rev(b, i);
	const char *trusted = keys_verdict_name(KEYS_V_TRUSTED);
	char claim[KEYS_KEYID_HEXLEN + 1];
	uint8_t kid[KEYS_KEYID_BYTES];
	json_t *list = json_object_get(verdict, "signatures"), *v;
	const char *hex;
	size_t j;

	json_array_foreach(list, j, v) {
		if (j >= r->nsigs)
			break;
		hex = json_string_value(json_object_get(v, "keyid"));
		if (strcmp(json_string_value(json_object_get(v, "verdict")),
		    trusted) != 0 || hex == NULL ||
		    keys_keyid_parse(hex, kid) != 0)
			continue;
		if (memcmp(kid, r->sigs[j].keyid, 8) != 0) {
			keys_keyid_hex(r->sigs[j].keyid, claim);
			cli_warnx("%s: %s@%s: the index says key %s made the "
			    "signature key %s made: kept as %s's", path,
			    r->repo, r->commit, claim, hex, hex);
		}
		if (store_bundle_sig_keep(b, i, j, kid) != 0)
			return cli_store_fail(STORE_EINVAL, NULL);
	}
	return 0;
}

/*
 * Every revision must meet the trust policy before anything is written.
 * Of its signatures, the import keeps those that verify, by a trusted key,
 * over its manifest, under the key id that made each (what the store
 * keeps is what it could check; a bundle's claim is not a key id).
 */
static int
check_policy(struct store *st, struct store_bundle *b, const char *path)
{
	for (size_t i = 0; i < store_bundle_nrevs(b); i++) {
		const struct store_bundle_revinfo *r = store_bundle_rev(b, i);
		const char *texts[BOUND_BUNDLE_SIGS];
		size_t lens[BOUND_BUNDLE_SIGS];
		char digest[STORE_DIGEST_STRLEN + 1];
		struct keys_subject subj;
		json_t *verdict;
		int ok;

		for (size_t j = 0; j < r->nsigs; j++) {
			texts[j] = r->sigs[j].text;
			lens[j] = r->sigs[j].len;
		}
		store_digest_str(r->digest, digest);
		keys_subject_manifest(&subj, r->repo, digest, r->manifest,
		    r->manifest_len);
		verdict = trust_judge(st, &subj, texts, lens, r->nsigs, 0, &ok);
		if (ok && keep_sigs(b, i, verdict, path) != 0) {
			json_decref(verdict);
			return EXIT_USAGE;
		}
		if (!ok) {
			size_t k;
			json_t *p;

			cli_warnx("%s: %s@%s: %s", path, r->repo, r->commit,
			    json_string_value(json_object_get(verdict,
			    "reason")));
			json_array_foreach(json_object_get(verdict, "problems"),
			    k, p)
				cli_warnx("  %s", json_string_value(p));
			json_decref(verdict);
			return EXIT_CHECK;
		}
		json_decref(verdict);
	}
	return 0;
}

/*
 * The conclusion of a bundled revision (what names it), from its files'
 * bytes that the bundle holds or, where it left them out, the store: 0,
 * or an exit status, said.
 */
static int
conclude_bundled(struct store *st, struct policy_table *t,
    struct store_bundle *b, const struct store_manifest *m,
    const char *what, json_t **c)
{
	struct policy_input_file *files;
	int rc;

	if ((files = calloc(m->nfiles + 1, sizeof(*files))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	for (size_t j = 0; j < m->nfiles; j++) {
		const struct store_file *f = &m->files[j];
		size_t want = policy_evidence_wants(f->path, f->size), got = 0;
		char *buf = NULL;

		files[j].path = f->path;
		files[j].size = f->size;
		files[j].sha256 = f->sha256;
		if (want == 0 || want < f->size)
			continue;
		if (store_bundle_blob(b, f->sha256, &buf, &got) != 0) {
			/* Left out of the bundle: the store has it. */
			if ((buf = malloc(want)) == NULL ||
			    store_blob_read(st, f->sha256, 0, buf, want,
			    &got) != 0) {
				free(buf);
				continue;
			}
		}
		files[j].buf = buf;
		files[j].len = got;
	}
	if ((rc = gate_conclude_files(st, t, m->repo, m->commit, files,
	    m->nfiles, c)) != 0)
		rc = cli_fail(EXIT_USAGE, "%s: %s", what, gate_lasterror());
	for (size_t j = 0; j < m->nfiles; j++)
		free((void *)files[j].buf);
	free(files);
	return rc;
}

/* The reviews among the signatures the import keeps of a revision. */
static int
bundled_reviews(const struct keys_trust *ring, size_t nring,
    const struct store_manifest *m, const struct store_bundle_revinfo *ri,
    json_t **reviews, unsigned *ntrusted)
{
	const char *texts[BOUND_BUNDLE_SIGS];
	size_t lens[BOUND_BUNDLE_SIGS], n = 0;

	for (size_t j = 0; j < ri->nsigs && n < BOUND_BUNDLE_SIGS; j++) {
		texts[n] = ri->sigs[j].text;
		lens[n++] = ri->sigs[j].len;
	}
	return gate_reviews_of(ring, nring, m, texts, lens, n, reviews,
	    ntrusted);
}

/*
 * The gate, before anything is written: each revision's conclusion from
 * the card, licence and config files the bundle carries (kept by the
 * check) or the store holds, and its trusted signatures and reviews
 * among those the import keeps.  No --force here: what crosses the air
 * gap passes the policy or stays out.
 */
static int
gate_one(struct store *st, struct policy_table *t, struct policy_rules *r,
    struct store_bundle *b, size_t i, const char *path)
{
	const struct store_bundle_revinfo *ri = store_bundle_rev(b, i);
	struct keys_trust *ring = NULL;
	struct store_manifest *m = NULL;
	json_t *c = NULL, *reviews = NULL;
	char reason[1024], what[600];
	unsigned ntrusted = 0;
	size_t nring = 0;
	int rc;

	snprintf(what, sizeof(what), "%s: %s@%s", path, ri->repo, ri->commit);
	if ((rc = store_manifest_parse(ri->manifest, ri->manifest_len,
	    &m)) != 0) {
		rc = cli_store_fail(rc, what);
		goto out;
	}
	if ((rc = conclude_bundled(st, t, b, m, what, &c)) != 0)
		goto out;
	/* The signatures the import keeps, judged as the store will. */
	if ((rc = gate_ring(st, &ring, &nring)) != 0) {
		rc = cli_store_fail(rc, "the keyring");
		goto out;
	}
	if ((rc = bundled_reviews(ring, nring, m, ri, &reviews,
	    &ntrusted)) != 0) {
		rc = cli_fail(EXIT_USAGE, "out of memory");
		goto out;
	}
	rc = gate_judge(r, c, reviews, ntrusted, reason, sizeof(reason));
	if (rc == POLICY_EDENIED) {
		rc = gate_refuse(what, reason);
		cli_warnx("%s: nothing was imported", path);
	} else if (rc != 0)
		rc = cli_fail(EXIT_USAGE, "%s: %s", what, gate_lasterror());
out:
	free(ring);
	json_decref(c);
	json_decref(reviews);
	store_manifest_free(m);
	return rc;
}

static int
check_gate(struct store *st, struct store_bundle *b, const char *path)
{
	struct policy_table *t;
	struct policy_rules *r;
	int rc;

	if ((rc = gate_load(st, &t, &r)) != 0 || r == NULL) {
		policy_table_free(t);
		return rc;
	}
	for (size_t i = 0; i < store_bundle_nrevs(b) && rc == 0; i++)
		rc = gate_one(st, t, r, b, i, path);
	policy_rules_free(r);
	policy_table_free(t);
	return rc;
}

/* What an import brought: a line a revision and a summary, or one JSON
 * document. */
static void
import_report(struct cli *cli, struct store_bundle *b, const char *path,
    const struct keys_release *rel, const struct store_bundle_stats *res)
{
	char bytes[32];
	json_t *revs;

	revs = json_array();
	for (size_t i = 0; i < store_bundle_nrevs(b); i++) {
		const struct store_bundle_revinfo *r = store_bundle_rev(b, i);
		char digest[STORE_DIGEST_STRLEN + 1];

		store_digest_str(r->digest, digest);
		json_array_append_new(revs, json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "type", r->type, "repo", r->repo, "ref", r->ref, "commit",
		    r->commit, "digest", digest));
		if (!cli->json)
			printf("%s%s@%s %s\n", store_type_prefix(r->type),
			    r->repo, r->commit, digest);
	}
	if (cli->json)
		cli_json(json_pack("{s:s,s:I,s:o,s:I,s:I,s:I,s:I,s:I}", "bundle",
		    path, "release", (json_int_t)rel->rl_version, "revisions",
		    revs, "revisions_added", (json_int_t)res->revisions,
		    "chunks_new", (json_int_t)res->chunks, "bytes_new",
		    (json_int_t)res->chunk_bytes, "chunks_omitted",
		    (json_int_t)res->omitted, "bytes", (json_int_t)res->bytes));
	else {
		json_decref(revs);
		printf("%s: release %llu: %llu new revision%s, %llu new chunks "
		    "(%s)\n", path, (unsigned long long)rel->rl_version,
		    (unsigned long long)res->revisions, res->revisions == 1 ?
		    "" : "s", (unsigned long long)res->chunks,
		    cli_bytes(res->chunk_bytes, bytes));
	}
}

static int
import_bundle(struct cli *cli, struct store *st, const char *path)
{
	struct store_bundle *b = NULL;
	struct store_bundle_stats res;
	struct keys_release *rel = NULL;
	struct release_rec rec;
	struct progress *bar;
	const char *index, *sig;
	uint8_t publisher[8];
	size_t ilen, slen;
	int rc;

	if ((rc = store_bundle_open(path, &b)) != 0) {
		cli_store_fail(rc, NULL);
		/* A file that cannot be read is an I/O error; one that is not
		 * a good bundle fails the check. */
		rc = rc > 0 ? EXIT_USAGE : EXIT_CHECK;
		goto out;
	}
	store_bundle_header(b, &index, &ilen, &sig, &slen);
	if ((rc = check_index_sig(st, path, index, ilen, sig, slen,
	    publisher)) != 0)
		goto out;
	bar = progress_start(cli, "check", 0);
	rc = store_bundle_check(b, progress_fn, bar);
	progress_end(bar);
	if (rc != 0) {
		cli_store_fail(rc, NULL);
		rc = EXIT_CHECK;
		goto out;
	}
	if ((rc = check_release(st, b, path, publisher, &rel)) != 0 ||
	    (rc = check_policy(st, b, path)) != 0 ||
	    (rc = check_gate(st, b, path)) != 0)
		goto out;
	/* Taken: the release is recorded, so that an older one is refused
	 * from now on, in the commit of each revision it vouches for. */
	rec.path = path;
	rec.rel = rel;
	rec.doc = store_bundle_release(b, &rec.len);
	rec.refused = 0;
	bar = progress_start(cli, "import", store_bundle_size(b));
	rc = store_bundle_import(st, b, release_record, &rec, progress_fn, bar,
	    &res);
	progress_end(bar);
	if (rc != 0) {
		if (rec.refused)
			rc = EXIT_CHECK;
		else {
			/* A revision or ref the store refuses fails the check. */
			cli_store_fail(rc, NULL);
			rc = rc == STORE_EINVAL ? EXIT_CHECK : cli_status(rc);
		}
		goto out;
	}
	import_report(cli, b, path, rel, &res);
	rc = EXIT_OK;
out:
	keys_release_free(rel);
	store_bundle_free(b);
	return rc;
}

/*
 * The volumes named after the first must be its further volumes, in
 * order: NAME.002, NAME.003, ...  They are read by name, so a file named
 * that is not the volume it stands in for (another bundle, the volumes
 * out of order, one left out) would otherwise be ignored in silence.
 */
static int
check_volumes(int n, char **vols)
{
	char base[PATH_MAX], want[PATH_MAX + 16];
	struct stat named, vol;
	size_t len = strlen(vols[0]);

	if (len > 4 && strcmp(vols[0] + len - 4, ".001") == 0)
		len -= 4;
	if (len >= sizeof(base))
		return cli_fail(EXIT_USAGE, "%.40s...: too long", vols[0]);
	memcpy(base, vols[0], len);
	base[len] = '\0';
	for (int i = 1; i < n; i++) {
		snprintf(want, sizeof(want), "%s.%03d", base, i + 1);
		if (stat(vols[i], &named) == -1)
			return cli_fail(EXIT_USAGE, "%s: %s", vols[i],
			    strerror(errno));
		if (stat(want, &vol) == -1 || named.st_dev != vol.st_dev ||
		    named.st_ino != vol.st_ino)
			return cli_fail(EXIT_USAGE, "%s: named as volume %d of "
			    "%s, which is %s", vols[i], i + 1, vols[0], want);
	}
	return 0;
}

/*
 * import takes no options: a first operand like one is a mistake.
 * Further volumes are found by name; naming them is allowed.
 */
int
cmd_import_check(struct cmd_ctx *ctx)
{
	if (ctx->argv[0][0] == '-')
		return cli_usage(ctx->cli);
	return check_volumes(ctx->argc, ctx->argv);
}

int
cmd_import(struct cmd_ctx *ctx)
{
	const char *path = ctx->argv[0];
	struct stat sb;

	if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
		return import_hfcache(ctx->cli, ctx->st, path);
	return import_bundle(ctx->cli, ctx->st, path);
}
