/*
 * The keyring's entries and the trust policy.  Pure logic: the store keeps
 * each entry as the bytes of keys_trust_to_json() and hands the entries
 * back for keys_policy_eval().
 */
#include "config.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "keys/keys.h"
#include "keys/internal.h"

#define TRUST_SCHEMA	"airlock.trust/v1"

static int
name_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && memchr(name, '\t', len) == NULL &&
	    keys_comment_check(name, len, BOUND_KEY_NAME, 1) == 0;
}

static int
scope_valid(const char *scope)
{
	size_t len = strlen(scope);

	return len > 0 && len <= BOUND_KEY_SCOPE &&
	    keys_printable_ascii(scope, len);
}

int
keys_trust_init(struct keys_trust *t, const struct keys_pub *pub,
    const char *name, const char *scope, int64_t added)
{
	if (t == NULL || pub == NULL || name == NULL || scope == NULL ||
	    !name_valid(name) || !scope_valid(scope))
		return KEYS_EINVAL;
	memset(t, 0, sizeof(*t));
	t->kt_pub = *pub;
	snprintf(t->kt_name, sizeof(t->kt_name), "%s", name);
	snprintf(t->kt_scope, sizeof(t->kt_scope), "%s", scope);
	t->kt_added = added;
	return KEYS_OK;
}

/* Revoking twice keeps the first time: it is the one that was announced. */
int
keys_trust_revoke(struct keys_trust *t, int64_t when)
{
	if (t == NULL)
		return KEYS_EINVAL;
	if (!t->kt_revoked) {
		t->kt_revoked = 1;
		t->kt_revoked_time = when;
	}
	return KEYS_OK;
}

int
keys_trust_in_scope(const struct keys_trust *t, const char *repo)
{
	if (repo == NULL)
		return strcmp(t->kt_scope, "*") == 0;
	return fnmatch(t->kt_scope, repo, 0) == 0;
}

int
keys_trust_to_json(const struct keys_trust *t, char **json)
{
	char hex[KEYS_KEYID_HEXLEN + 1], *b64 = NULL;
	json_t *obj = NULL;
	int rc;

	if (t == NULL || json == NULL)
		return KEYS_EINVAL;
	*json = NULL;
	/* The struct is open to callers: check what they may have set. */
	if (memchr(t->kt_name, '\0', sizeof(t->kt_name)) == NULL ||
	    memchr(t->kt_scope, '\0', sizeof(t->kt_scope)) == NULL ||
	    !name_valid(t->kt_name) || !scope_valid(t->kt_scope))
		return KEYS_EINVAL;
	if ((rc = keys_pub_base64(&t->kt_pub, &b64)) != 0)
		return rc;
	keys_keyid_hex(t->kt_pub.kp_keyid, hex);
	rc = KEYS_ENOMEM;
	obj = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "schema",
	    TRUST_SCHEMA, "keyid", hex, "pubkey", b64, "name", t->kt_name,
	    "scope", t->kt_scope, "added", (json_int_t)t->kt_added);
	if (obj == NULL)
		goto fail;
	if (t->kt_revoked && json_object_set_new(obj, "revoked",
	    json_integer((json_int_t)t->kt_revoked_time)) != 0)
		goto fail;
	if ((*json = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT)) != NULL)
		rc = KEYS_OK;
fail:
	json_decref(obj);
	free(b64);
	return rc;
}

int
keys_trust_from_json(const char *json, size_t len, struct keys_trust *t)
{
	const char *schema, *hex, *b64, *name, *scope;
	json_int_t added, revoked = -1;
	uint8_t keyid[KEYS_KEYID_BYTES];
	struct keys_trust tmp;
	struct keys_pub pub;
	json_t *obj;
	int rc;

	if (json == NULL || t == NULL)
		return KEYS_EINVAL;
	if ((rc = keys_json_load(json, len, BOUND_TRUST_ENTRY, TRUST_SCHEMA,
	    &obj)) != 0)
		return rc;
	rc = KEYS_EFORMAT;
	if (json_unpack(obj, "{s:s, s:s, s:s, s:s, s:s, s:I, s?I !}",
	    "schema", &schema, "keyid", &hex, "pubkey", &b64, "name", &name,
	    "scope", &scope, "added", &added, "revoked", &revoked) != 0)
		goto fail;
	if (json_object_get(obj, "revoked") != NULL && revoked < 0)
		goto fail;
	if (keys_pub_parse(b64, strlen(b64), &pub) != 0 ||
	    keys_keyid_parse(hex, keyid) != 0 ||
	    memcmp(keyid, pub.kp_keyid, sizeof(keyid)) != 0)
		goto fail;
	if (keys_trust_init(&tmp, &pub, name, scope, added) != 0)
		goto fail;
	if (json_object_get(obj, "revoked") != NULL)
		keys_trust_revoke(&tmp, revoked);
	*t = tmp;
	rc = KEYS_OK;
fail:
	json_decref(obj);
	return rc;
}

const char *
keys_verdict_name(enum keys_verdict v)
{
	switch (v) {
	case KEYS_V_TRUSTED:
		return "trusted";
	case KEYS_V_UNKNOWN_KEY:
		return "unknown key";
	case KEYS_V_REVOKED:
		return "revoked key";
	case KEYS_V_OUT_OF_SCOPE:
		return "key out of scope";
	case KEYS_V_BAD_SIGNATURE:
		return "bad signature";
	case KEYS_V_COMMENT_MISMATCH:
		return "trusted comment names another subject";
	case KEYS_V_MALFORMED:
		return "malformed signature";
	}
	return "unknown verdict";
}

/*
 * A key is its public key.  The id is not covered by any signature (the
 * holder of a signature or a .pub file may rewrite it), so it only says
 * which entries to try.
 */
static int
same_key(const struct keys_pub *a, const struct keys_pub *b)
{
	return memcmp(a->kp_key, b->kp_key, KEYS_PUBKEY_BYTES) == 0;
}

int
keys_trust_lookup(const struct keys_trust *ring, size_t nring,
    const struct keys_pub *pub, const struct keys_trust **entry)
{
	const struct keys_trust *found = NULL;

	if (entry != NULL)
		*entry = NULL;
	if ((ring == NULL && nring) || pub == NULL || entry == NULL)
		return KEYS_EINVAL;
	for (size_t i = 0; i < nring; i++) {
		if (!same_key(&ring[i].kt_pub, pub))
			continue;
		if (found == NULL || (ring[i].kt_revoked && !found->kt_revoked))
			found = &ring[i];
	}
	if (found == NULL)
		return KEYS_ENOKEY;
	*entry = found;
	return KEYS_OK;
}

/*
 * The entry whose key verifies the signature, or nothing.  Key ids are
 * chosen by whoever makes a key, so two entries may share one: try each.
 */
static const struct keys_trust *
find_signer(const struct keys_trust *ring, size_t nring,
    const struct keys_sig *sig, const uint8_t hash[KEYS_HASH_BYTES],
    int *error)
{
	int rc = KEYS_EKEYID;

	for (size_t i = 0; i < nring; i++) {
		if (memcmp(ring[i].kt_pub.kp_keyid, sig->ks_keyid,
		    KEYS_KEYID_BYTES) != 0)
			continue;
		if ((rc = keys_sig_verify_prehashed(&ring[i].kt_pub, sig,
		    hash)) == 0)
			return &ring[i];
	}
	*error = rc;
	return NULL;
}

/*
 * Among the entries for the signer's public key, under any id: revoked if
 * any entry is (a revocation must not be undone by adding the key again,
 * under its id or another), else the entry whose scope covers the
 * repository, the one that verified the signature first, else NULL.
 */
static const struct keys_trust *
signer_entry(const struct keys_trust *ring, size_t nring,
    const struct keys_trust *t, const char *repo, int *revoked)
{
	const struct keys_trust *found = NULL;

	*revoked = 0;
	if (keys_trust_in_scope(t, repo))
		found = t;
	for (size_t i = 0; i < nring; i++) {
		if (!same_key(&ring[i].kt_pub, &t->kt_pub))
			continue;
		if (ring[i].kt_revoked)
			*revoked = 1;
		else if (found == NULL && keys_trust_in_scope(&ring[i], repo))
			found = &ring[i];
	}
	return found;
}

static int
field_is(const char *comment, const char *key, const char *want)
{
	char buf[BOUND_TRUSTED_COMMENT + 1];

	return keys_tc_get(comment, key, buf, sizeof(buf)) == 0 &&
	    strcmp(buf, want) == 0;
}

/*
 * Does the verified trusted comment name the subject being checked?  One
 * that names nothing does not contradict it: the signature covers the
 * subject's bytes, which name the repository and what it holds.
 */
static int
comment_matches(const char *comment, const struct keys_subject *su)
{
	char kind[BOUND_TRUSTED_COMMENT + 1];

	if (!keys_tc_names_subject(comment))
		return 1;
	if (keys_tc_kind(comment, kind, sizeof(kind)) != 0 ||
	    strcmp(kind, su->su_kind) != 0)
		return 0;
	if (su->su_repo != NULL && !field_is(comment, "repo", su->su_repo))
		return 0;
	if (su->su_digest != NULL &&
	    !field_is(comment, "digest", su->su_digest))
		return 0;
	return 1;
}

/* One signature's verdict; *signer is its key's entry when trusted. */
static void
eval_one(const struct keys_trust *ring, size_t nring,
    const struct keys_subject *su, const uint8_t hash[KEYS_HASH_BYTES],
    const char *text, size_t len, struct keys_sig_verdict *v,
    const struct keys_trust **signer)
{
	const struct keys_trust *t, *entry;
	struct keys_sig *sig = NULL;
	int revoked;

	memset(v, 0, sizeof(*v));
	*signer = NULL;
	v->vd_verdict = KEYS_V_MALFORMED;
	if ((v->vd_error = keys_sig_parse(text, len, &sig)) != 0)
		return;
	memcpy(v->vd_keyid, sig->ks_keyid, KEYS_KEYID_BYTES);
	if ((t = find_signer(ring, nring, sig, hash, &v->vd_error)) == NULL) {
		v->vd_verdict = v->vd_error == KEYS_EKEYID ?
		    KEYS_V_UNKNOWN_KEY : KEYS_V_BAD_SIGNATURE;
		goto done;
	}
	v->vd_names_nothing = !keys_tc_names_subject(sig->ks_trusted_comment);
	entry = signer_entry(ring, nring, t, su->su_repo, &revoked);
	snprintf(v->vd_name, sizeof(v->vd_name), "%s",
	    (entry != NULL ? entry : t)->kt_name);
	if (revoked)
		v->vd_verdict = KEYS_V_REVOKED;
	else if (entry == NULL)
		v->vd_verdict = KEYS_V_OUT_OF_SCOPE;
	else if (!comment_matches(sig->ks_trusted_comment, su))
		v->vd_verdict = KEYS_V_COMMENT_MISMATCH;
	else {
		v->vd_verdict = KEYS_V_TRUSTED;
		*signer = entry;
	}
done:
	keys_sig_free(sig);
}

int
keys_policy_eval(const struct keys_trust *ring, size_t nring,
    unsigned int threshold, const struct keys_subject *su,
    const char *const *sigs, const size_t *siglens, size_t nsigs,
    struct keys_sig_verdict *verdicts, size_t *ntrusted)
{
	const struct keys_trust **signers;
	uint8_t hash[KEYS_HASH_BYTES];
	size_t i, j, count = 0;

	if ((ring == NULL && nring) || threshold == 0 || su == NULL ||
	    su->su_kind == NULL || (su->su_msg == NULL && su->su_len) ||
	    (sigs == NULL && nsigs) || (verdicts == NULL && nsigs))
		return KEYS_EINVAL;
	if ((signers = calloc(nsigs + 1, sizeof(*signers))) == NULL)
		return KEYS_ENOMEM;
	crypto_generichash(hash, sizeof(hash), su->su_msg, su->su_len,
	    NULL, 0);
	for (i = 0; i < nsigs; i++) {
		eval_one(ring, nring, su, hash, sigs[i], siglens != NULL ?
		    siglens[i] : strlen(sigs[i]), &verdicts[i], &signers[i]);
		if (signers[i] == NULL)
			continue;
		for (j = 0; j < i; j++)
			if (signers[j] != NULL && same_key(&signers[j]->kt_pub,
			    &signers[i]->kt_pub))
				break;
		if (j == i) {
			verdicts[i].vd_counted = 1;
			count++;
		}
	}
	free(signers);
	if (ntrusted != NULL)
		*ntrusted = count;
	return count >= threshold ? KEYS_OK : KEYS_ETHRESHOLD;
}

int
keys_ring_add(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct keys_ring *r = arg;

	(void)key;
	(void)klen;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		void *v = realloc(r->v, cap * sizeof(*r->v));

		if (v == NULL)
			return ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	if (keys_trust_from_json(val, vlen, &r->v[r->n]) == 0)
		r->n++;
	return 0;
}
