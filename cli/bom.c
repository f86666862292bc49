/*
 * bom.c - the facts a bill of materials states about a stored revision,
 * gathered once for both formats (bom.h).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cli/bom.h"
#include "cli/cli.h"
#include "policy/policy.h"

/* RFC 4122 appendix C: the name space of URLs (and so of URIs). */
static const uint8_t uuid_ns_url[16] = {
	0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
};

/* A version 5 UUID of name in the URL name space (RFC 4122 §4.3). */
static int
uuid5(const char *name, char out[37])
{
	uint8_t buf[16 + 128], md[EVP_MAX_MD_SIZE];
	size_t len = strlen(name);
	unsigned mdlen;

	if (len > sizeof(buf) - 16)
		return EINVAL;
	memcpy(buf, uuid_ns_url, 16);
	memcpy(buf + 16, name, len);
	if (EVP_Digest(buf, 16 + len, md, &mdlen, EVP_sha1(), NULL) != 1)
		return ENOMEM;
	md[6] = (md[6] & 0x0f) | 0x50;
	md[8] = (md[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4],
	    md[5], md[6], md[7], md[8], md[9], md[10], md[11], md[12], md[13],
	    md[14], md[15]);
	return 0;
}

/* The card's front matter, {} when there is none or it does not parse:
 * the BOM states what the manifest and the conclusion say regardless. */
static json_t *
card_of(struct store *st, const struct store_manifest *m)
{
	const struct store_file *f = store_manifest_file(m, "README.md");
	json_t *card = NULL;
	size_t want, got;
	char *buf;

	if (f == NULL || (want = policy_evidence_wants(f->path, f->size)) == 0)
		return json_object();
	if ((buf = malloc(want)) == NULL)
		return NULL;
	if (store_blob_read(st, f->sha256, 0, buf, want, &got) != 0 ||
	    store_card_parse(buf, got, &card, NULL) != 0)
		card = json_object();
	free(buf);
	return card;
}

/* One dataset the card claims: whether the store holds it (its main
 * branch) and, if so, its commit and the licence its card declares. */
static json_t *
dataset_of(struct store *st, const char *repo)
{
	struct store_manifest *m;
	uint8_t digest[STORE_HASH_LEN];
	json_t *d, *lic;

	if ((d = json_pack("{s:s,s:b}", "repo", repo, "held", 0)) == NULL)
		return NULL;
	if (store_resolve(st, "dataset", repo, NULL, digest) != 0 ||
	    store_manifest_get(st, digest, &m) != 0)
		return d;
	json_object_set_new(d, "held", json_true());
	json_object_set_new(d, "commit", json_string(m->commit));
	if (json_is_string(lic = json_object_get(m->claims, "license")))
		json_object_set(d, "licence", lic);
	store_manifest_free(m);
	return d;
}

/* Predicate: list has a dataset called repo. */
static int
listed(json_t *list, const char *repo)
{
	json_t *v;
	size_t i;

	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(json_object_get(v, "repo")),
		    repo) == 0)
			return 1;
	return 0;
}

/* The datasets the card claims, each once (a BOM names each element by
 * one reference), in the card's order. */
static json_t *
datasets_of(struct store *st, const struct store_manifest *m)
{
	json_t *list, *v, *d;
	size_t i;

	if ((list = json_array()) == NULL)
		return NULL;
	json_array_foreach(json_object_get(m->claims, "datasets"), i, v) {
		if (!json_is_string(v) || listed(list, json_string_value(v)))
			continue;
		if ((d = dataset_of(st, json_string_value(v))) == NULL ||
		    json_array_append_new(list, d) != 0) {
			json_decref(list);
			return NULL;
		}
	}
	return list;
}

int
bom_gather(struct store *st, const struct policy_table *t,
    const struct store_manifest *m, struct bom *b)
{
	char name[128];
	int rc;

	memset(b, 0, sizeof(*b));
	b->m = m;
	b->table = t;
	store_hex(m->digest, STORE_HASH_LEN, b->hex);
	snprintf(name, sizeof(name), "urn:airlock:manifest:sha256:%s", b->hex);
	if ((rc = uuid5(name, b->uuid)) != 0)
		return rc;
	if ((rc = licence_conclude(st, (struct policy_table *)t, m,
	    &b->conclusion)) != 0)
		return rc;
	if ((b->card = card_of(st, m)) == NULL ||
	    (b->datasets = datasets_of(st, m)) == NULL)
		return ENOMEM;
	return 0;
}

void
bom_free(struct bom *b)
{
	json_decref(b->conclusion);
	json_decref(b->card);
	json_decref(b->datasets);
	memset(b, 0, sizeof(*b));
}

json_t *
bom_terms(const char *s)
{
	json_t *terms = json_array();
	const char *and;

	if (terms == NULL || s == NULL)
		return terms;
	while ((and = strstr(s, " AND ")) != NULL) {
		json_array_append_new(terms, json_stringn(s, and - s));
		s = and + 5;
	}
	json_array_append_new(terms, json_string(s));
	return terms;
}

const struct policy_licence *
bom_licence(const struct bom *b, const char *term)
{
	if (strncmp(term, "unknown beyond ", 15) == 0)
		return NULL;
	return policy_licence_find(b->table, term);
}
