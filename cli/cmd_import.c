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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bounds.h"
#include "cli.h"
#include "keys.h"
#include "trust.h"

int	import_hfcache(struct cli *, struct store *, const char *);

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
	if (trust_ring(st, &ring, &nring) != 0)
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
	keys_keyid_hex(v.sv_keyid, hex);
	memcpy(publisher, v.sv_keyid, 8);
	if (rc == 0 && ntrusted == 1)
		return 0;
	switch (v.sv_verdict) {
	case KEYS_V_UNKNOWN_KEY:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s, which this "
		    "store does not trust (airlock trust add)", path, hex);
	case KEYS_V_REVOKED:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s (%s), which "
		    "is revoked", path, hex, v.sv_name);
	case KEYS_V_OUT_OF_SCOPE:
		return cli_fail(EXIT_CHECK, "%s: signed by key %s (%s), whose "
		    "scope does not cover publishing bundles (it needs \"*\")",
		    path, hex, v.sv_name);
	case KEYS_V_COMMENT_MISMATCH:
		return cli_fail(EXIT_CHECK, "%s: the signature names another "
		    "index", path);
	case KEYS_V_MALFORMED:
		return cli_fail(EXIT_CHECK, "%s: the index signature is not a "
		    "signature: %s", path, keys_strerror(v.sv_error));
	default:
		return cli_fail(EXIT_CHECK, "%s: the index does not match its "
		    "signature by %s: %s", path, hex, keys_strerror(v.sv_error));
	}
}

/*
 * The release: by the key that signed the index, naming the revisions the
 * index carries, not expired, and not older than one taken before.
 */
static int
check_release(struct store *st, struct store_bundle *b, const char *path,
    const uint8_t publisher[8], struct keys_release **relp)
{
	struct keys_release *rel = NULL, *seen = NULL;
	char hex[KEYS_KEYID_HEXLEN + 1];
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
		snprintf(repo, sizeof(repo), "%s%s", strcmp(r->type,
		    "dataset") == 0 ? "datasets/" : "", r->repo);
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
		keys_release_free(rel);
		return cli_fail(EXIT_CHECK, "%s: the release expired at %s",
		    path, rel->rl_expires);
	}
	keys_keyid_hex(publisher, hex);
	if (store_kv_get(st, STORE_RELEASE, publisher, 8, &old, &oldlen) == 0) {
		if (keys_release_parse(old, oldlen, &seen) == 0)
			rc = keys_release_check_rollback(seen, old, oldlen, rel,
			    doc, len);
		else
			rc = 0;
		if (rc == KEYS_EROLLBACK)
			cli_warnx("%s: release %llu of key %s is older than "
			    "release %llu, already imported: a rollback", path,
			    (unsigned long long)rel->rl_version, hex,
			    (unsigned long long)seen->rl_version);
		else if (rc == KEYS_EEQUIVOCAL)
			cli_warnx("%s: release %llu of key %s differs from the "
			    "release %llu already imported", path,
			    (unsigned long long)rel->rl_version, hex,
			    (unsigned long long)seen->rl_version);
		else if (rc != 0)
			cli_warnx("%s: release: %s", path, keys_strerror(rc));
		keys_release_free(seen);
		free(old);
		if (rc != 0) {
			keys_release_free(rel);
			return EXIT_CHECK;
		}
	}
	*relp = rel;
	return 0;
}

/* Every revision must meet the trust policy before anything is written. */
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
		subj.su_kind = KEYS_TC_MANIFEST;
		subj.su_repo = r->repo;
		subj.su_digest = digest;
		subj.su_msg = r->manifest;
		subj.su_len = r->manifest_len;
		verdict = trust_judge(st, &subj, texts, lens, r->nsigs, 0, &ok);
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

static int
import_bundle(struct cli *cli, struct store *st, const char *path)
{
	struct store_bundle *b = NULL;
	struct store_bundle_stats res;
	struct keys_release *rel = NULL;
	struct progress *bar;
	const char *index, *sig;
	uint8_t publisher[8];
	char bytes[32];
	size_t ilen, slen;
	json_t *revs;
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
	    (rc = check_policy(st, b, path)) != 0)
		goto out;
	bar = progress_start(cli, "import", store_bundle_size(b));
	rc = store_bundle_import(st, b, progress_fn, bar, &res);
	progress_end(bar);
	if (rc != 0) {
		rc = cli_store_fail(rc, NULL);
		goto out;
	}
	/* Taken: remember it, so an older one is refused from now on. */
	{
		const char *doc;
		size_t len;

		void *old = NULL;
		size_t oldlen = 0;
		int same;

		doc = store_bundle_release(b, &len);
		same = store_kv_get(st, STORE_RELEASE, publisher, 8, &old,
		    &oldlen) == 0 && oldlen == len && memcmp(old, doc, len) == 0;
		free(old);
		if (!same && (rc = store_kv_put(st, STORE_RELEASE, publisher, 8,
		    doc, len)) != 0) {
			rc = cli_store_fail(rc, NULL);
			goto out;
		}
	}
	revs = json_array();
	for (size_t i = 0; i < store_bundle_nrevs(b); i++) {
		const struct store_bundle_revinfo *r = store_bundle_rev(b, i);
		char digest[STORE_DIGEST_STRLEN + 1];

		store_digest_str(r->digest, digest);
		json_array_append_new(revs, json_pack("{s:s,s:s,s:s,s:s,s:s}",
		    "type", r->type, "repo", r->repo, "ref", r->ref, "commit",
		    r->commit, "digest", digest));
		if (!cli->json)
			printf("%s%s@%s %s\n", strcmp(r->type, "dataset") == 0 ?
			    "datasets/" : "", r->repo, r->commit, digest);
	}
	if (cli->json)
		cli_json(json_pack("{s:s,s:I,s:o,s:I,s:I,s:I,s:I,s:I}", "bundle",
		    path, "release", (json_int_t)rel->rl_version, "revisions",
		    revs, "revisions_added", (json_int_t)res.revisions,
		    "chunks_new", (json_int_t)res.chunks, "bytes_new",
		    (json_int_t)res.chunk_bytes, "chunks_omitted",
		    (json_int_t)res.omitted, "bytes", (json_int_t)res.bytes));
	else {
		json_decref(revs);
		printf("%s: release %llu: %llu new revision%s, %llu new chunks "
		    "(%s)\n", path, (unsigned long long)rel->rl_version,
		    (unsigned long long)res.revisions, res.revisions == 1 ?
		    "" : "s", (unsigned long long)res.chunks,
		    cli_bytes(res.chunk_bytes, bytes));
	}
	rc = EXIT_OK;
out:
	keys_release_free(rel);
	store_bundle_free(b);
	return rc;
}

int
cmd_import(struct cli *cli, int argc, char **argv)
{
	struct store *st;
	struct stat sb;
	int rc;

	if (argc < 2 || argv[1][0] == '-')
		return cli_usage(cli);
	/* Further volumes are found by name; naming them is allowed. */
	if ((rc = cli_open(cli, 0, &st)) != 0)
		return rc;
	if (stat(argv[1], &sb) == 0 && S_ISDIR(sb.st_mode))
		rc = import_hfcache(cli, st, argv[1]);
	else
		rc = import_bundle(cli, st, argv[1]);
	store_close(st);
	return rc;
}
