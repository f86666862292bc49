/*
 * trust.c - judging a revision's signatures by the store's keyring and
 * trust policy.
 *
 * The policy asks for "threshold" signatures by distinct trusted keys
 * whose scope covers the repository.  Until a threshold is set it asks for
 * one once the keyring holds a key, and for none in a store that has no
 * keys at all (nothing could sign there).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "keys.h"
#include "trust.h"

struct ring {
	struct keys_trust	*v;
	size_t			 n, cap;
};

static int
ring_add(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct ring *r = arg;

	(void)key;
	(void)klen;
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		void *v = realloc(r->v, cap * sizeof(*r->v));

		if (v == NULL)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	if (keys_trust_from_json(val, vlen, &r->v[r->n]) == 0)
		r->n++;
	return 0;
}

struct sigs {
	char	**text;
	size_t	 *len;
	size_t	  n, cap;
};

static int
sig_add(void *arg, const uint8_t keyid[8], const char *text, size_t len)
{
	struct sigs *s = arg;

	(void)keyid;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 4;
		void *t = realloc(s->text, cap * sizeof(*s->text));
		void *l;

		if (t == NULL)
			return -1;
		s->text = t;
		if ((l = realloc(s->len, cap * sizeof(*s->len))) == NULL)
			return -1;
		s->len = l;
		s->cap = cap;
	}
	if ((s->text[s->n] = malloc(len + 1)) == NULL)
		return -1;
	memcpy(s->text[s->n], text, len);
	s->text[s->n][len] = '\0';
	s->len[s->n++] = len;
	return 0;
}

/* The signatures the policy asks for: see the comment at the top. */
static unsigned
threshold(struct store *st, size_t nring)
{
	void *v;
	size_t len;
	unsigned t;

	if (store_kv_get(st, STORE_SETTING, "threshold", 9, &v, &len) != 0)
		return nring > 0 ? 1 : 0;
	t = (unsigned)strtoul(v, NULL, 10);
	free(v);
	return t;
}

json_t *
trust_check(struct store *st, const struct store_manifest *m, int *okp)
{
	struct ring ring = { 0 };
	struct sigs sigs = { 0 };
	struct keys_sig_verdict *verdicts = NULL;
	struct keys_subject subj;
	char digest[STORE_DIGEST_STRLEN + 1], hex[KEYS_KEYID_HEXLEN + 1];
	json_t *out, *list = json_array();
	size_t ntrusted = 0;
	unsigned need;
	int ok;

	keys_init();
	store_kv_each(st, STORE_TRUST, ring_add, &ring);
	store_sigs(st, m->digest, sig_add, &sigs);
	need = threshold(st, ring.n);
	store_digest_str(m->digest, digest);
	subj.su_kind = KEYS_TC_MANIFEST;
	subj.su_repo = m->repo;
	subj.su_digest = digest;
	subj.su_msg = m->bytes;
	subj.su_len = m->len;
	verdicts = calloc(sigs.n + 1, sizeof(*verdicts));
	if (sigs.n > 0 && verdicts != NULL)
		keys_policy_eval(ring.v, ring.n, need > 0 ? need : 1, &subj,
		    (const char *const *)sigs.text, sigs.len, sigs.n, verdicts,
		    &ntrusted);
	for (size_t i = 0; i < sigs.n && verdicts != NULL; i++) {
		struct keys_sig *ks = NULL;

		keys_keyid_hex(verdicts[i].sv_keyid, hex);
		keys_sig_parse(sigs.text[i], sigs.len[i], &ks);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s?,s:s,s:s?,"
		    "s:b}", "keyid", hex, "name", verdicts[i].sv_name,
		    "trusted_comment", ks != NULL ? ks->ks_trusted_comment :
		    NULL, "verdict", keys_verdict_name(verdicts[i].sv_verdict),
		    "reason", verdicts[i].sv_error != 0 ?
		    keys_strerror(verdicts[i].sv_error) : NULL, "counted",
		    verdicts[i].sv_counted));
		keys_sig_free(ks);
	}
	ok = ntrusted >= need;
	out = json_pack("{s:o,s:I,s:I,s:b,s:o}", "signatures", list,
	    "trusted", (json_int_t)ntrusted, "threshold", (json_int_t)need,
	    "ok", ok, "reason", json_sprintf("%zu trusted signature%s of %zu; "
	    "the policy asks for %u", ntrusted, ntrusted == 1 ? "" : "s",
	    sigs.n, need));
	for (size_t i = 0; i < sigs.n; i++)
		free(sigs.text[i]);
	free(sigs.text);
	free(sigs.len);
	free(verdicts);
	free(ring.v);
	if (okp != NULL)
		*okp = ok;
	return out;
}

void
trust_print(json_t *t)
{
	json_t *sig;
	size_t i;

	printf("%-9s %s: %s\n", "signed", json_is_true(json_object_get(t,
	    "ok")) ? "ok" : "NOT ENOUGH", json_string_value(json_object_get(t,
	    "reason")));
	json_array_foreach(json_object_get(t, "signatures"), i, sig) {
		const char *name = json_string_value(json_object_get(sig,
		    "name"));
		const char *why = json_string_value(json_object_get(sig,
		    "reason"));

		printf("  %s %-16s %-16s%s%s\n", json_string_value(
		    json_object_get(sig, "keyid")), name != NULL && *name ?
		    name : "(unknown)", json_string_value(json_object_get(sig,
		    "verdict")), why != NULL ? " " : "", why != NULL ? why : "");
	}
}
