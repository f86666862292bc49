/*
 * lockfile.c - reading, writing and judging deployment lockfiles
 * (lockfile.h, FORMATS.md "Lockfile").
 *
 * A lockfile is read as untrusted bytes: it must be the canonical form
 * this file writes, and each model's file list is checked against the
 * manifest bytes it carries, so that the only thing left to trust is the
 * manifest itself, which the signatures cover.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "lib/names.h"
#include "cli/lockfile.h"
#include "keys/keys.h"

#define LOCK_DUMP	(JSON_SORT_KEYS | JSON_COMPACT)

static int
lfail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* Whether o has exactly the keys named (NULL-terminated). */
static int
keys_exactly(json_t *o, const char *const *names, const char **bad)
{
	const char *k;
	json_t *v;
	size_t n = 0;

	for (; names[n] != NULL; n++)
		;
	json_object_foreach(o, k, v) {
		size_t i;

		for (i = 0; i < n && strcmp(names[i], k) != 0; i++)
			;
		if (i == n) {
			*bad = k;
			return 0;
		}
	}
	*bad = NULL;
	return json_object_size(o) == n || (*bad = "a field missing", 0);
}

static int
parse_files(json_t *files, const struct store_manifest *m, const char *what,
    char *err, size_t errlen)
{
	static const char *const fkeys[] = { "path", "sha256", "size", NULL };
	char hex[STORE_HEX_LEN + 1];
	const char *bad;
	json_t *f;
	size_t i;

	if (!json_is_array(files) || json_array_size(files) != m->nfiles)
		return lfail(err, errlen, "%s: \"files\" is not the %zu files "
		    "of its manifest", what, m->nfiles);
	json_array_foreach(files, i, f) {
		const struct store_file *mf = &m->files[i];
		const char *path = json_string_value(json_object_get(f, "path"));
		const char *sha = json_string_value(json_object_get(f,
		    "sha256"));
		json_t *size = json_object_get(f, "size");

		if (!json_is_object(f) || !keys_exactly(f, fkeys, &bad))
			return lfail(err, errlen, "%s: file %zu: %s", what, i,
			    bad != NULL ? bad : "not an object");
		store_hex(mf->sha256, STORE_HASH_LEN, hex);
		if (path == NULL || strcmp(path, mf->path) != 0 ||
		    sha == NULL || strcmp(sha, hex) != 0 ||
		    !json_is_integer(size) ||
		    (uint64_t)json_integer_value(size) != mf->size ||
		    json_integer_value(size) < 0)
			return lfail(err, errlen, "%s: file %s: not what its "
			    "signed manifest says (%s, %llu bytes, sha256 %s)",
			    what, path != NULL ? path : "(no path)", mf->path,
			    (unsigned long long)mf->size, hex);
	}
	return 0;
}

static int
parse_sigs(json_t *sigs, struct lock_model *lm, const char *what, char *err,
    size_t errlen)
{
	static const char *const skeys[] = { "keyid", "minisig", NULL };
	static const char *const pkeys[] = { "keyid", "minisig", "pubkey",
	    NULL };
	const char *bad;
	json_t *s;
	size_t i;

	if (!json_is_array(sigs) || json_array_size(sigs) > BOUND_BUNDLE_SIGS)
		return lfail(err, errlen, "%s: \"signatures\" is not a list of "
		    "at most %d", what, BOUND_BUNDLE_SIGS);
	if ((lm->sigs = calloc(json_array_size(sigs) + 1,
	    sizeof(*lm->sigs))) == NULL)
		return lfail(err, errlen, "out of memory");
	json_array_foreach(sigs, i, s) {
		struct lock_sig *ls = &lm->sigs[i];
		struct keys_sig *ks;
		struct keys_pub pub;
		char hex[KEYS_KEYID_HEXLEN + 1];

		if (!json_is_object(s) || (!keys_exactly(s, skeys, &bad) &&
		    !keys_exactly(s, pkeys, &bad)))
			return lfail(err, errlen, "%s: signature %zu: %s", what,
			    i, bad != NULL ? bad : "not an object");
		ls->keyid = json_string_value(json_object_get(s, "keyid"));
		ls->minisig = json_string_value(json_object_get(s, "minisig"));
		ls->pubkey = json_string_value(json_object_get(s, "pubkey"));
		if (ls->keyid == NULL || ls->minisig == NULL ||
		    (json_object_get(s, "pubkey") != NULL && ls->pubkey == NULL))
			return lfail(err, errlen, "%s: signature %zu: a field "
			    "is not a string", what, i);
		ls->len = json_string_length(json_object_get(s, "minisig"));
		if (ls->len > BOUND_SIGFILE || keys_sig_parse(ls->minisig,
		    ls->len, &ks) != 0)
			return lfail(err, errlen, "%s: signature %zu: not a "
			    "minisign signature", what, i);
		keys_keyid_hex(ks->ks_keyid, hex);
		keys_sig_free(ks);
		if (strcmp(hex, ls->keyid) != 0)
			return lfail(err, errlen, "%s: signature %zu: made by "
			    "key %s, not %s", what, i, hex, ls->keyid);
		if (ls->pubkey != NULL) {
			if (keys_pub_parse(ls->pubkey, strlen(ls->pubkey),
			    &pub) != 0)
				return lfail(err, errlen, "%s: signature %zu: "
				    "its public key does not parse", what, i);
			keys_keyid_hex(pub.kp_keyid, hex);
			if (strcmp(hex, ls->keyid) != 0)
				return lfail(err, errlen, "%s: signature %zu: "
				    "its public key is key %s's", what, i, hex);
		}
		lm->nsigs++;
	}
	return 0;
}

/*
 * Whether s is a digest as airlock writes it, "sha256:" and 64 lower-case
 * hex digits (its bytes in d): a lockfile is canonical JSON, so another
 * spelling of the same digest is not one.
 */
static int
digest_canonical(const char *s, uint8_t d[STORE_HASH_LEN])
{
	return strncmp(s, "sha256:", 7) == 0 &&
	    hex_valid(s + 7, STORE_HEX_LEN) &&
	    store_digest_parse(s, d) == 0;
}

static int
parse_model(json_t *o, size_t idx, struct lock_model *lm, char *err,
    size_t errlen)
{
	static const char *const mkeys[] = { "commit", "files", "manifest",
	    "manifest_bytes", "repo", "revision", "signatures", "type", NULL };
	const char *digest, *bytes, *commit, *bad;
	char what[BOUND_REPO_ID + 64], got[STORE_DIGEST_STRLEN + 1];
	uint8_t want[STORE_HASH_LEN];
	size_t blen;

	snprintf(what, sizeof(what), "model %zu", idx);
	if (!json_is_object(o) || !keys_exactly(o, mkeys, &bad))
		return lfail(err, errlen, "%s: %s", what, bad != NULL ?
		    bad : "not an object");
	lm->type = json_string_value(json_object_get(o, "type"));
	lm->repo = json_string_value(json_object_get(o, "repo"));
	lm->revision = json_string_value(json_object_get(o, "revision"));
	commit = json_string_value(json_object_get(o, "commit"));
	digest = json_string_value(json_object_get(o, "manifest"));
	bytes = json_string_value(json_object_get(o, "manifest_bytes"));
	if (lm->type == NULL || lm->repo == NULL || lm->revision == NULL ||
	    commit == NULL || digest == NULL || bytes == NULL)
		return lfail(err, errlen, "%s: a field is not a string", what);
	if (!store_type_valid(lm->type) || !store_repo_valid(lm->repo) ||
	    (!store_revision_valid(lm->revision) &&
	    !digest_canonical(lm->revision, want)))
		return lfail(err, errlen, "%s: not a type, repository and "
		    "revision", what);
	snprintf(what, sizeof(what), "%s%s@%s", store_type_prefix(lm->type),
	    lm->repo, lm->revision);
	if (!digest_canonical(digest, want))
		return lfail(err, errlen, "%s: %s: not a sha256: digest", what,
		    digest);
	blen = json_string_length(json_object_get(o, "manifest_bytes"));
	if (store_manifest_parse(bytes, blen, &lm->m) != 0)
		return lfail(err, errlen, "%s: its manifest: %s", what,
		    store_lasterror());
	store_digest_str(lm->m->digest, got);
	if (memcmp(lm->m->digest, want, STORE_HASH_LEN) != 0)
		return lfail(err, errlen, "%s: its manifest's bytes hash to "
		    "%s, not %s", what, got, digest);
	if (strcmp(lm->m->type, lm->type) != 0 ||
	    strcmp(lm->m->repo, lm->repo) != 0 ||
	    strcmp(lm->m->commit, commit) != 0)
		return lfail(err, errlen, "%s: its manifest is %s%s@%s's",
		    what, store_type_prefix(lm->m->type), lm->m->repo,
		    lm->m->commit);
	if (parse_files(json_object_get(o, "files"), lm->m, what, err,
	    errlen) != 0)
		return -1;
	return parse_sigs(json_object_get(o, "signatures"), lm, what, err,
	    errlen);
}

int
lock_parse(const void *buf, size_t len, struct lockfile **out, char *err,
    size_t errlen)
{
	static const char *const tkeys[] = { "created", "models", "schema",
	    NULL };
	struct lockfile *lf;
	json_error_t je;
	json_t *models, *v;
	const char *schema, *bad;
	char *canon;
	size_t i, body = len;
	int same;

	*out = NULL;
	if (len > BOUND_LOCKFILE)
		return lfail(err, errlen, "over %u bytes", (unsigned)BOUND_LOCKFILE);
	if (body > 0 && ((const char *)buf)[body - 1] == '\n')
		body--;
	if ((lf = calloc(1, sizeof(*lf))) == NULL)
		return lfail(err, errlen, "out of memory");
	if ((lf->root = json_loadb(buf, body, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		lfail(err, errlen, "not JSON: %s (line %d)", je.text, je.line);
		goto fail;
	}
	if (!json_is_object(lf->root)) {
		lfail(err, errlen, "not a JSON object");
		goto fail;
	}
	schema = json_string_value(json_object_get(lf->root, "schema"));
	if (schema == NULL || strcmp(schema, LOCK_SCHEMA) != 0) {
		lfail(err, errlen, "schema %s: not one this airlock reads (%s)",
		    schema != NULL ? schema : "(none)", LOCK_SCHEMA);
		goto fail;
	}
	canon = json_dumps(lf->root, LOCK_DUMP);
	same = canon != NULL && strlen(canon) == body &&
	    memcmp(canon, buf, body) == 0;
	free(canon);
	if (!same) {
		lfail(err, errlen, "not in canonical form (keys sorted, no "
		    "white space): it was edited or not written by airlock");
		goto fail;
	}
	models = json_object_get(lf->root, "models");
	lf->created = json_string_value(json_object_get(lf->root, "created"));
	if (!keys_exactly(lf->root, tkeys, &bad) || lf->created == NULL ||
	    !json_is_array(models) || json_array_size(models) == 0 ||
	    json_array_size(models) > BOUND_LOCK_MODELS) {
		lfail(err, errlen, "not a lockfile: %s", bad != NULL ? bad :
		    "\"models\" is not a list of 1 to 1000 models");
		goto fail;
	}
	if ((lf->models = calloc(json_array_size(models),
	    sizeof(*lf->models))) == NULL) {
		lfail(err, errlen, "out of memory");
		goto fail;
	}
	json_array_foreach(models, i, v) {
		lf->n++;
		if (parse_model(v, i, &lf->models[i], err, errlen) != 0)
			goto fail;
		for (size_t j = 0; j < i; j++)
			if (strcmp(lf->models[j].type, lf->models[i].type) ==
			    0 && strcmp(lf->models[j].repo,
			    lf->models[i].repo) == 0) {
				lfail(err, errlen, "%s: named twice",
				    lf->models[i].repo);
				goto fail;
			}
	}
	*out = lf;
	return 0;
fail:
	lock_free(lf);
	return -1;
}

void
lock_free(struct lockfile *lf)
{
	if (lf == NULL)
		return;
	for (size_t i = 0; i < lf->n; i++) {
		store_manifest_free(lf->models[i].m);
		free(lf->models[i].sigs);
	}
	free(lf->models);
	json_decref(lf->root);
	free(lf);
}

json_t *
lock_model_json(const struct store_manifest *m, const char *revision,
    const char *const *sigs, const size_t *lens, const char *const *pubkeys,
    size_t nsigs)
{
	char digest[STORE_DIGEST_STRLEN + 1], hex[STORE_HEX_LEN + 1];
	json_t *files = json_array(), *jsigs = json_array();

	if (files == NULL || jsigs == NULL)
		goto fail;
	for (size_t i = 0; i < m->nfiles; i++) {
		store_hex(m->files[i].sha256, STORE_HASH_LEN, hex);
		if (json_array_append_new(files, json_pack("{s:s,s:I,s:s}",
		    "path", m->files[i].path, "size",
		    (json_int_t)m->files[i].size, "sha256", hex)) != 0)
			goto fail;
	}
	for (size_t i = 0; i < nsigs; i++) {
		struct keys_sig *ks;
		char id[KEYS_KEYID_HEXLEN + 1];
		json_t *s;

		if (keys_sig_parse(sigs[i], lens[i], &ks) != 0)
			continue;	/* not one anyone could check */
		keys_keyid_hex(ks->ks_keyid, id);
		keys_sig_free(ks);
		s = json_pack("{s:s,s:s%}", "keyid", id, "minisig", sigs[i],
		    lens[i]);
		if (s != NULL && pubkeys[i] != NULL)
			json_object_set_new(s, "pubkey", json_string(pubkeys[i]));
		if (json_array_append_new(jsigs, s) != 0)
			goto fail;
	}
	store_digest_str(m->digest, digest);
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s%,s:o,s:o}", "type", m->type,
	    "repo", m->repo, "revision", revision, "commit", m->commit,
	    "manifest", digest, "manifest_bytes", m->bytes, m->len, "files",
	    files, "signatures", jsigs);
fail:
	json_decref(files);
	json_decref(jsigs);
	return NULL;
}

char *
lock_dump(json_t *models, size_t *len)
{
	char created[32], *text, *out;
	time_t now = time(NULL);
	struct tm tm;
	json_t *root;

	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	root = json_pack("{s:s,s:s,s:O}", "schema", LOCK_SCHEMA, "created",
	    created, "models", models);
	text = root != NULL ? json_dumps(root, LOCK_DUMP) : NULL;
	json_decref(root);
	if (text == NULL)
		return NULL;
	*len = strlen(text) + 1;
	if ((out = malloc(*len + 1)) != NULL) {
		memcpy(out, text, *len - 1);
		out[*len - 1] = '\n';
		out[*len] = '\0';
	}
	free(text);
	return out;
}

int
lock_judge(const struct lock_model *lm, const struct keys_trust *ring,
    size_t n, unsigned threshold, char *err, size_t errlen)
{
	struct keys_sig_verdict *vd;
	struct keys_subject subj;
	const char **texts;
	size_t *lens, trusted = 0;
	char digest[STORE_DIGEST_STRLEN + 1];
	int rc = 0;

	texts = calloc(lm->nsigs + 1, sizeof(*texts));
	lens = calloc(lm->nsigs + 1, sizeof(*lens));
	vd = calloc(lm->nsigs + 1, sizeof(*vd));
	if (texts == NULL || lens == NULL || vd == NULL) {
		rc = lfail(err, errlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < lm->nsigs; i++) {
		texts[i] = lm->sigs[i].minisig;
		lens[i] = lm->sigs[i].len;
	}
	store_digest_str(lm->m->digest, digest);
	keys_subject_manifest(&subj, lm->m->repo, digest, lm->m->bytes,
	    lm->m->len);
	(void)keys_policy_eval(ring, n, threshold > 0 ? threshold : 1, &subj,
	    texts, lens, lm->nsigs, vd, &trusted);
	for (size_t i = 0; i < lm->nsigs; i++) {
		enum keys_verdict v = vd[i].vd_verdict;

		/* A forged signature is a tampered lockfile, whoever made
		 * the key. */
		if (v == KEYS_V_BAD_SIGNATURE || v == KEYS_V_COMMENT_MISMATCH ||
		    v == KEYS_V_MALFORMED) {
			rc = lfail(err, errlen, "%s%s@%s: signature by key %s: "
			    "%s (the lockfile was tampered with)",
			    store_type_prefix(lm->type), lm->repo, lm->revision,
			    lm->sigs[i].keyid, keys_verdict_name(v));
			goto out;
		}
	}
	if (trusted < threshold)
		rc = lfail(err, errlen, "%s%s@%s: %zu trusted signatures, the "
		    "policy asks for %u", store_type_prefix(lm->type), lm->repo,
		    lm->revision, trusted, threshold);
out:
	free(texts);
	free(lens);
	free(vd);
	return rc;
}

void
lock_hfcache_name(const char *type, const char *repo, char *buf, size_t size)
{
	size_t used;

	used = (size_t)snprintf(buf, size, "%s--", store_type_plural(type));
	for (const char *p = repo; *p != '\0' && used + 3 < size; p++) {
		if (*p == '/') {
			buf[used++] = '-';
			buf[used++] = '-';
		} else
			buf[used++] = *p;
	}
	buf[used < size ? used : size - 1] = '\0';
}

void
lock_etag(const struct store_file *f, char *buf, size_t size)
{
	char hex[STORE_HEX_LEN + 1];

	if (f->lfs)
		store_hex(f->sha256, STORE_HASH_LEN, hex);
	else
		store_hex(f->git_sha1, STORE_SHA1_LEN, hex);
	snprintf(buf, size, "%s", hex);
}
