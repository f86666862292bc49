/*
 * trust.c - judging a revision's signatures by the store's keyring and
 * trust policy.
 *
 * The policy asks for "threshold" signatures by distinct trusted keys
 * whose scope covers the repository.  Until a threshold is set it asks for
 * one once the keyring holds a key, and for none in a store that has no
 * keys at all (nothing could sign there).  Whatever keeps the signatures
 * from being judged (an unreadable keyring, a threshold that is not a
 * number) fails the check: a store never passes by accident.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "cli/trust.h"
#include "gate/gate.h"

int
trust_threshold(struct store *st, size_t nring, unsigned *need,
    int *is_default)
{
	unsigned long t;
	char *v, *end;
	size_t len;
	int rc;

	*need = 0;
	*is_default = 0;
	rc = store_kv_get(st, STORE_SETTING, "threshold", 9, (void **)&v, &len);
	if (rc == STORE_ENOTFOUND) {
		*is_default = 1;
		*need = nring > 0 ? 1 : 0;
		return 0;
	}
	if (rc != 0)
		return -1;
	t = strtoul(v, &end, 10);
	rc = len > 0 && len < 4 && strspn(v, "0123456789") == len &&
	    *end == '\0' && t <= BOUND_TRUST_THRESHOLD ? 0 : -1;
	free(v);
	if (rc == 0)
		*need = (unsigned)t;
	return rc;
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
			return ENOMEM;
		s->text = t;
		if ((l = realloc(s->len, cap * sizeof(*s->len))) == NULL)
			return ENOMEM;
		s->len = l;
		s->cap = cap;
	}
	if ((s->text[s->n] = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(s->text[s->n], text, len);
	s->text[s->n][len] = '\0';
	s->len[s->n++] = len;
	return 0;
}

/* What a signature that does not count needs said about it. */
static json_t *
problem(const char *hex, const struct keys_sig_verdict *v)
{
	const char *why = v->vd_error != 0 ? keys_strerror(v->vd_error) : NULL;

	if (v->vd_verdict == KEYS_V_MALFORMED)
		return json_sprintf("signature: %s%s%s",
		    keys_verdict_name(v->vd_verdict), why != NULL ? ": " : "",
		    why != NULL ? why : "");
	if (v->vd_verdict == KEYS_V_TRUSTED)
		return json_sprintf("signature by %s (%s): counted already: "
		    "the same public key signed twice", hex, v->vd_name);
	return json_sprintf("signature by %s%s%s%s: %s%s%s", hex,
	    *v->vd_name ? " (" : "", v->vd_name, *v->vd_name ? ")" : "",
	    keys_verdict_name(v->vd_verdict), why != NULL ? ": " : "",
	    why != NULL ? why : "");
}

json_t *
trust_judge(struct store *st, const struct keys_subject *subj,
    const char *const *texts, const size_t *lens, size_t nsigs,
    unsigned need_at_least, int *okp)
{
	struct keys_trust *ring = NULL;
	struct keys_sig_verdict *verdicts = NULL;
	char hex[KEYS_KEYID_HEXLEN + 1];
	json_t *out, *list = json_array(), *problems = json_array();
	const char *failure = NULL;
	size_t nring = 0, ntrusted = 0;
	unsigned need = 0;
	int is_default = 0, ok, rc;

	if (keys_init() != 0)
		failure = "libsodium failed to start";
	else if (gate_ring(st, &ring, &nring) != 0)
		failure = "the keyring cannot be read";
	else if (trust_threshold(st, nring, &need, &is_default) != 0)
		failure = "the store's threshold setting is not a number "
		    "(airlock trust threshold N sets it)";
	else if ((verdicts = calloc(nsigs + 1, sizeof(*verdicts))) == NULL)
		failure = "out of memory";
	if (need < need_at_least)
		need = need_at_least;
	if (failure == NULL && nsigs > 0) {
		rc = keys_policy_eval(ring, nring, need > 0 ? need : 1, subj,
		    texts, lens, nsigs, verdicts, &ntrusted);
		if (rc != 0 && rc != KEYS_ETHRESHOLD)
			failure = keys_strerror(rc);
	}
	for (size_t i = 0; i < nsigs && failure == NULL; i++) {
		struct keys_sig_verdict *v = &verdicts[i];
		struct keys_sig *ks = NULL;

		keys_keyid_hex(v->vd_keyid, hex);
		keys_sig_parse(texts[i], lens[i], &ks);
		json_array_append_new(list, json_pack("{s:s,s:s,s:s?,s:b,s:s,"
		    "s:s?,s:b}", "keyid", hex, "name", v->vd_name,
		    "trusted_comment", ks != NULL ? ks->ks_trusted_comment :
		    NULL, "comment_names_nothing", v->vd_names_nothing,
		    "verdict", keys_verdict_name(v->vd_verdict),
		    "reason", v->vd_error != 0 ? keys_strerror(v->vd_error) :
		    NULL, "counted", v->vd_counted));
		if (!v->vd_counted)
			json_array_append_new(problems, problem(hex, v));
		keys_sig_free(ks);
	}
	ok = failure == NULL && ntrusted >= need;
	if (failure == NULL && nsigs == 0 && need > 0)
		failure = "not signed";
	out = json_pack("{s:o,s:I,s:I,s:b,s:b,s:o,s:o}", "signatures", list,
	    "trusted", (json_int_t)ntrusted, "threshold", (json_int_t)need,
	    "default", is_default, "ok", ok, "problems", problems,
	    "reason", failure != NULL ? json_sprintf("%s; the policy asks "
	    "for %u trusted signature%s", failure, need, need == 1 ? "" : "s") :
	    json_sprintf("%zu trusted signature%s of %zu; the policy asks "
	    "for %u", ntrusted, ntrusted == 1 ? "" : "s", nsigs, need));
	free(verdicts);
	free(ring);
	if (okp != NULL)
		*okp = ok;
	return out;
}

void
trust_subject(const struct store_manifest *m,
    char digest[STORE_DIGEST_STRLEN + 1], struct keys_subject *subj)
{
	store_digest_str(m->digest, digest);
	keys_subject_manifest(subj, m->repo, digest, m->bytes, m->len);
}

json_t *
trust_check(struct store *st, const struct store_manifest *m, int *okp)
{
	struct sigs sigs = { 0 };
	struct keys_subject subj;
	char digest[STORE_DIGEST_STRLEN + 1];
	json_t *out;

	trust_subject(m, digest, &subj);
	if (store_sigs(st, m->digest, sig_add, &sigs) != 0) {
		if (okp != NULL)
			*okp = 0;
		out = json_pack("{s:[],s:I,s:I,s:b,s:b,s:[],s:s}", "signatures",
		    "trusted", (json_int_t)0, "threshold", (json_int_t)0,
		    "default", 0, "ok", 0, "problems", "reason",
		    "the signatures cannot be read");
	} else
		out = trust_judge(st, &subj, (const char *const *)sigs.text,
		    sigs.len, sigs.n, 0, okp);
	for (size_t i = 0; i < sigs.n; i++)
		free(sigs.text[i]);
	free(sigs.text);
	free(sigs.len);
	return out;
}

void
trust_comment_print(const char *comment)
{
	for (; *comment != '\0'; comment++)
		putchar(*comment == '\t' ? ' ' : *comment);
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

		printf("  %s %-16s %-16s%s%s", json_string_value(
		    json_object_get(sig, "keyid")), name != NULL && *name ?
		    name : "(unknown)", json_string_value(json_object_get(sig,
		    "verdict")), why != NULL ? ": " : "", why != NULL ? why : "");
		/* Said, so that no one reads more into it than the bytes. */
		if (json_is_true(json_object_get(sig,
		    "comment_names_nothing"))) {
			printf(" (trusted comment names nothing: ");
			trust_comment_print(json_string_value(json_object_get(
			    sig, "trusted_comment")));
			printf(")");
		}
		printf("\n");
	}
}
