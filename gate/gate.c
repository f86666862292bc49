/*
 * gate.c - the policy in the store, reviews and the verdict (gate.h).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate/gate.h"
#include "keys/keys.h"
#include "lib/bounds.h"
#include "policy/policy.h"

static __thread char lasterror[1024];

static int
gate_fail(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(lasterror, sizeof(lasterror), fmt, ap);
	va_end(ap);
	return code;
}

const char *
gate_lasterror(void)
{
	return lasterror[0] != '\0' ? lasterror : policy_lasterror();
}

int
gate_policy_set(struct store *st)
{
	void *v;
	size_t len;
	int rc;

	rc = store_kv_get(st, STORE_SETTING, GATE_SETTING,
	    strlen(GATE_SETTING), &v, &len);
	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	free(v);
	return 1;
}

int
gate_rules_get(struct store *st, const struct policy_table *t,
    struct policy_rules **out)
{
	void *v;
	size_t len;
	int rc;

	*out = NULL;
	lasterror[0] = '\0';
	rc = store_kv_get(st, STORE_SETTING, GATE_SETTING,
	    strlen(GATE_SETTING), &v, &len);
	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc != 0)
		return rc;
	rc = policy_rules_parse(t, v, len, out);
	free(v);
	if (rc != 0)
		return gate_fail(rc, "the store's policy: %s",
		    policy_lasterror());
	return 0;
}

int
gate_rules_set(struct store *st, const struct policy_rules *r)
{
	char *s;
	int rc;

	if ((s = json_dumps(policy_rules_json(r), JSON_SORT_KEYS |
	    JSON_COMPACT)) == NULL)
		return ENOMEM;
	rc = store_kv_put(st, STORE_SETTING, GATE_SETTING,
	    strlen(GATE_SETTING), s, strlen(s));
	free(s);
	return rc;
}

int
gate_review_statement(const char *repo, const char *digest_hex,
    const char *licence, const char *note, int64_t time, char **out)
{
	json_t *st;

	*out = NULL;
	st = json_pack("{s:s,s:[{s:s,s:{s:s}}],s:s,s:{s:s,s:s,s:I}}",
	    "_type", GATE_REVIEW_TYPE, "subject", "name", repo, "digest",
	    "sha256", digest_hex, "predicateType", GATE_REVIEW_PREDICATE,
	    "predicate", "licence", licence, "note", note != NULL ? note : "",
	    "time", (json_int_t)time);
	if (st == NULL)
		return EINVAL;
	*out = json_dumps(st, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(st);
	return *out != NULL ? 0 : ENOMEM;
}

static int
copy_str(char *dst, size_t size, json_t *v, const char *name, int empty_ok)
{
	const char *s = json_string_value(v);
	size_t len;

	if (s == NULL)
		return gate_fail(POLICY_EINVAL, "review: %s is not a string",
		    name);
	len = json_string_length(v);
	if (len >= size || strlen(s) != len || (!empty_ok && len == 0))
		return gate_fail(POLICY_EINVAL, "review: %s is empty, too long "
		    "or holds a NUL", name);
	memcpy(dst, s, len + 1);
	return 0;
}

int
gate_review_parse(const char *buf, size_t len, const char *repo,
    const char *digest_hex, struct gate_review *r)
{
	json_error_t e;
	json_t *root, *sub, *pred, *v;
	const char *s;
	int rc = POLICY_EINVAL;

	memset(r, 0, sizeof(*r));
	lasterror[0] = '\0';
	if (len > BOUND_TRUSTED_COMMENT)
		return gate_fail(POLICY_EINVAL, "review: %zu bytes, over %d",
		    len, BOUND_TRUSTED_COMMENT);
	if ((root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e)) == NULL)
		return gate_fail(POLICY_EINVAL, "review: not JSON: %s (at %d)",
		    e.text, e.position);
	s = json_string_value(json_object_get(root, "_type"));
	if (!json_is_object(root) || s == NULL || strcmp(s, GATE_REVIEW_TYPE)) {
		gate_fail(rc, "review: _type is not %s", GATE_REVIEW_TYPE);
		goto out;
	}
	s = json_string_value(json_object_get(root, "predicateType"));
	if (s == NULL || strcmp(s, GATE_REVIEW_PREDICATE) != 0) {
		gate_fail(rc, "review: predicateType is not %s",
		    GATE_REVIEW_PREDICATE);
		goto out;
	}
	sub = json_object_get(root, "subject");
	if (!json_is_array(sub) || json_array_size(sub) != 1) {
		gate_fail(rc, "review: subject is not a list of one");
		goto out;
	}
	sub = json_array_get(sub, 0);
	s = json_string_value(json_object_get(sub, "name"));
	if (s == NULL || (repo != NULL && strcmp(s, repo) != 0)) {
		gate_fail(rc, "review: the subject is not %s",
		    repo != NULL ? repo : "a repository");
		goto out;
	}
	s = json_string_value(json_object_get(json_object_get(sub, "digest"),
	    "sha256"));
	if (s == NULL || (digest_hex != NULL && strcmp(s, digest_hex) != 0)) {
		gate_fail(rc, "review: the subject's digest is not sha256:%s",
		    digest_hex != NULL ? digest_hex : "HEX");
		goto out;
	}
	pred = json_object_get(root, "predicate");
	if (!json_is_object(pred)) {
		gate_fail(rc, "review: predicate is not an object");
		goto out;
	}
	if ((rc = copy_str(r->licence, sizeof(r->licence),
	    json_object_get(pred, "licence"), "predicate.licence", 0)) != 0)
		goto out;
	v = json_object_get(pred, "note");
	if (v != NULL && (rc = copy_str(r->note, sizeof(r->note), v,
	    "predicate.note", 1)) != 0)
		goto out;
	v = json_object_get(pred, "time");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		rc = gate_fail(POLICY_EINVAL, "review: predicate.time is not "
		    "a time");
		goto out;
	}
	r->time = json_integer_value(v);
	rc = 0;
out:
	json_decref(root);
	return rc;
}

int
gate_ring(struct store *st, struct keys_trust **out, size_t *n)
{
	struct keys_ring r = { 0 };
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_kv_each(st, STORE_TRUST, keys_ring_add, &r)) != 0) {
		free(r.v);
		return rc;
	}
	*out = r.v;
	*n = r.n;
	return 0;
}

struct sigs {
	char	*text[BOUND_BUNDLE_SIGS];
	size_t	 len[BOUND_BUNDLE_SIGS];
	size_t	 n;
};

static int
sig_add(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	struct sigs *s = arg;

	(void)keyid;
	if (s->n == BOUND_BUNDLE_SIGS)
		return 0;
	if ((s->text[s->n] = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(s->text[s->n], text, len);
	s->text[s->n][len] = '\0';
	s->len[s->n++] = len;
	return 0;
}

/* The review a verified signature carries, appended to list. */
static void
review_add(json_t *list, const struct store_manifest *m, const char *text,
    size_t len, const struct keys_sig_verdict *v)
{
	char field[BOUND_TRUSTED_COMMENT + 1], hex[2 * STORE_HASH_LEN + 1];
	char kid[KEYS_KEYID_HEXLEN + 1];
	struct keys_sig *sig;
	struct gate_review r;

	if (v->vd_verdict != KEYS_V_TRUSTED &&
	    v->vd_verdict != KEYS_V_OUT_OF_SCOPE &&
	    v->vd_verdict != KEYS_V_REVOKED)
		return;		/* its comment is not known to be the signer's */
	if (keys_sig_parse(text, len, &sig) != 0)
		return;
	store_hex(m->digest, STORE_HASH_LEN, hex);
	if (keys_tc_get(sig->ks_trusted_comment, GATE_REVIEW_FIELD, field,
	    sizeof(field)) == 0 && gate_review_parse(field, strlen(field),
	    m->repo, hex, &r) == 0) {
		keys_keyid_hex(v->vd_keyid, kid);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s,s:s,s:I,"
		    "s:s,s:b}", "keyid", kid, "name", v->vd_name, "licence",
		    r.licence, "note", r.note, "time", (json_int_t)r.time,
		    "verdict", keys_verdict_name(v->vd_verdict), "trusted",
		    v->vd_verdict == KEYS_V_TRUSTED));
	}
	keys_sig_free(sig);
}

int
gate_reviews_of(const struct keys_trust *ring, size_t nring,
    const struct store_manifest *m, const char *const *texts,
    const size_t *lens, size_t n, json_t **out, unsigned *ntrusted)
{
	struct keys_sig_verdict v[BOUND_BUNDLE_SIGS];
	char digest[STORE_DIGEST_STRLEN + 1];
	struct keys_subject su;
	size_t count = 0;
	int rc;

	*ntrusted = 0;
	if (n > BOUND_BUNDLE_SIGS)
		n = BOUND_BUNDLE_SIGS;
	store_digest_str(m->digest, digest);
	keys_subject_manifest(&su, m->repo, digest, m->bytes, m->len);
	/* Threshold 1: only the verdicts count here, not whether it is met;
	 * a failure to judge leaves every verdict "malformed". */
	for (size_t i = 0; i < n; i++) {
		memset(&v[i], 0, sizeof(v[i]));
		v[i].vd_verdict = KEYS_V_MALFORMED;
	}
	rc = keys_policy_eval(ring, nring, 1, &su, texts, lens, n, v, &count);
	if (rc != KEYS_OK && rc != KEYS_ETHRESHOLD) {
		for (size_t i = 0; i < n; i++)
			v[i].vd_verdict = KEYS_V_MALFORMED;
		count = 0;
	}
	if ((*out = json_array()) == NULL)
		return ENOMEM;
	for (size_t i = 0; i < n; i++)
		review_add(*out, m, texts[i], lens[i], &v[i]);
	*ntrusted = (unsigned)count;
	return 0;
}

int
gate_reviews(struct store *st, const struct keys_trust *ring, size_t nring,
    const struct store_manifest *m, json_t **out, unsigned *ntrusted)
{
	struct sigs s = { 0 };
	int rc;

	*out = NULL;
	*ntrusted = 0;
	if ((rc = store_sigs(st, m->digest, sig_add, &s)) == 0)
		rc = gate_reviews_of(ring, nring, m, (const char *const *)s.text,
		    s.len, s.n, out, ntrusted);
	for (size_t i = 0; i < s.n; i++)
		free(s.text[i]);
	return rc;
}

int
gate_judge(const struct policy_rules *r, json_t *conclusion, json_t *reviews,
    unsigned signatures, char *reason, size_t size)
{
	json_t *rv, *c;
	size_t i;
	int rc;

	json_array_foreach(reviews, i, rv) {
		char why[512];

		if (!json_is_true(json_object_get(rv, "trusted")))
			continue;
		/* A person's conclusion stands for the computed one: the
		 * flags were theirs to weigh. */
		if ((c = json_deep_copy(conclusion)) == NULL)
			return ENOMEM;
		json_object_set(c, "concluded", json_object_get(rv, "licence"));
		json_object_set_new(c, "flags", json_array());
		rc = policy_gate(r, c, signatures, why, sizeof(why));
		json_decref(c);
		snprintf(reason, size, "reviewed as %s by %s (%s): %s",
		    json_string_value(json_object_get(rv, "licence")),
		    json_string_value(json_object_get(rv, "name")),
		    json_string_value(json_object_get(rv, "keyid")), why);
		return rc;
	}
	return policy_gate(r, conclusion, signatures, reason, size);
}

int
gate_check_stored(struct store *st, const struct policy_table *t,
    const struct policy_rules *r, const struct store_manifest *m,
    char *reason, size_t size)
{
	struct keys_trust *ring = NULL;
	json_t *c = NULL, *reviews = NULL;
	unsigned ntrusted = 0;
	size_t nring = 0;
	int rc;

	if ((rc = policy_store_conclude(st, t, m, NULL, NULL, &c)) != 0)
		goto out;
	if ((rc = gate_ring(st, &ring, &nring)) != 0 ||
	    (rc = gate_reviews(st, ring, nring, m, &reviews, &ntrusted)) != 0)
		goto out;
	rc = gate_judge(r, c, reviews, ntrusted, reason, size);
out:
	json_decref(c);
	json_decref(reviews);
	free(ring);
	return rc;
}

int
gate_conclude_files(struct store *st, const struct policy_table *t,
    const char *repo, const char *commit,
    const struct policy_input_file *files, size_t n, json_t **out)
{
	return policy_store_conclude_files(st, t, repo, commit, files, n,
	    POLICY_STORE_MAIN_ONLY, out);
}
