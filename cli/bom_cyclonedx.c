/*
 * bom_cyclonedx.c - a revision as a CycloneDX 1.6 JSON bill of materials
 * (https://cyclonedx.org/docs/1.6/json/): the model a component of type
 * machine-learning-model with the manifest digest as its hash, its
 * declared and concluded licences (each term a license, by SPDX id where
 * the table gives one, by name otherwise, acknowledged "declared" or
 * "concluded"), its bases in pedigree.ancestors, a modelCard naming the
 * datasets, and its files as components of type file, each with its
 * SHA-256.  The datasets are components of type data.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli/bom.h"
#include "cli/cli.h"
#include "policy/policy.h"

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *
hash(const char *hex)
{
	return json_pack("{s:s,s:s}", "alg", "SHA-256", "content", hex);
}

/* A Hub id as a package URL (purl-spec's huggingface type). */
static json_t *
purl(const char *repo, const char *commit)
{
	char buf[512];

	if (commit != NULL)
		snprintf(buf, sizeof(buf), "pkg:huggingface/%s@%s", repo,
		    commit);
	else
		snprintf(buf, sizeof(buf), "pkg:huggingface/%s", repo);
	return json_string(buf);
}

/* Each term of terms as a license acknowledged as ack. */
static void
licences_add(const struct bom *b, json_t *out, const char *terms,
    const char *ack)
{
	const struct policy_licence *l;
	json_t *list = bom_terms(terms), *v, *lic;
	size_t i;

	json_array_foreach(list, i, v) {
		const char *term = json_string_value(v);

		l = bom_licence(b, term);
		if (l != NULL && l->spdx != NULL)
			lic = json_pack("{s:s}", "id", l->spdx);
		else
			lic = json_pack("{s:s}", "name", l != NULL ? l->name :
			    term);
		json_object_set_new(lic, "acknowledgement", json_string(ack));
		if (l != NULL && l->source != NULL)
			json_object_set_new(lic, "url", json_string(l->source));
		json_array_append_new(out, json_pack("{s:o}", "license", lic));
	}
	json_decref(list);
}

static json_t *
property(const char *name, const char *value)
{
	return json_pack("{s:s,s:s}", "name", name, "value", value);
}

/* The bases: every link of the chain but the revision itself. */
static json_t *
ancestors(const struct bom *b)
{
	json_t *out = json_array(), *v, *c, *props;
	size_t i;

	json_array_foreach(json_object_get(b->conclusion, "chain"), i, v) {
		const char *repo = str(v, "repo"), *commit = str(v, "commit");

		if (i == 0)
			continue;
		c = json_pack("{s:s,s:s,s:o}", "type", "machine-learning-model",
		    "name", repo, "purl", purl(repo, commit));
		if (commit != NULL)
			json_object_set_new(c, "version", json_string(commit));
		if (str(v, "declared") != NULL) {
			json_t *lic = json_array();

			licences_add(b, lic, str(v, "declared"), "declared");
			json_object_set_new(c, "licenses", lic);
		}
		props = json_array();
		json_array_append_new(props, property("airlock:base_of",
		    str(v, "base_of") != NULL ? str(v, "base_of") : ""));
		if (str(v, "source") != NULL)
			json_array_append_new(props, property(
			    "airlock:named_in", str(v, "source")));
		json_array_append_new(props, property("airlock:held",
		    json_is_true(json_object_get(v, "held")) ? "true" :
		    "false"));
		json_object_set_new(c, "properties", props);
		json_array_append_new(out, c);
	}
	return out;
}

static json_t *
files(const struct bom *b)
{
	const struct store_manifest *m = b->m;
	char hex[STORE_HEX_LEN + 1], ref[600];
	json_t *out = json_array(), *c;

	for (size_t i = 0; i < m->nfiles; i++) {
		store_hex(m->files[i].sha256, STORE_HASH_LEN, hex);
		snprintf(ref, sizeof(ref), "file:%s", m->files[i].path);
		c = json_pack("{s:s,s:s,s:s,s:[o]}", "type", "file", "bom-ref",
		    ref, "name", m->files[i].path, "hashes", hash(hex));
		json_array_append_new(out, c);
	}
	return out;
}

static json_t *
model_card(const struct bom *b)
{
	json_t *params = json_object(), *sets = json_array(), *v;
	size_t i;
	char ref[600];

	if (str(b->card, "pipeline_tag") != NULL)
		json_object_set_new(params, "task",
		    json_string(str(b->card, "pipeline_tag")));
	json_array_foreach(b->datasets, i, v) {
		snprintf(ref, sizeof(ref), "dataset:%s", str(v, "repo"));
		json_array_append_new(sets, json_pack("{s:s}", "ref", ref));
	}
	json_object_set_new(params, "datasets", sets);
	return json_pack("{s:o}", "modelParameters", params);
}

static json_t *
model(const struct bom *b)
{
	const struct store_manifest *m = b->m;
	const char *declared = str(b->conclusion, "declared");
	json_t *c, *lic = json_array();
	char ref[600];

	snprintf(ref, sizeof(ref), "model:%s@%s", m->repo, m->commit);
	if (declared != NULL)
		licences_add(b, lic, declared, "declared");
	licences_add(b, lic, str(b->conclusion, "concluded"), "concluded");
	c = json_pack("{s:s,s:s,s:s,s:s,s:o,s:[o],s:o,s:o,s:o}",
	    "type", "machine-learning-model", "bom-ref", ref,
	    "name", m->repo, "version", m->commit,
	    "purl", purl(m->repo, m->commit), "hashes", hash(b->hex),
	    "licenses", lic, "modelCard", model_card(b),
	    "components", files(b));
	if (json_array_size(json_object_get(b->conclusion, "chain")) > 1)
		json_object_set_new(c, "pedigree", json_pack("{s:o}",
		    "ancestors", ancestors(b)));
	return c;
}

static json_t *
dataset(const struct bom *b, json_t *d)
{
	const char *repo = str(d, "repo");
	json_t *c;
	char ref[600];

	snprintf(ref, sizeof(ref), "dataset:%s", repo);
	c = json_pack("{s:s,s:s,s:s}", "type", "data", "bom-ref", ref,
	    "name", repo);
	if (str(d, "commit") != NULL)
		json_object_set_new(c, "version", json_string(str(d, "commit")));
	if (str(d, "licence") != NULL) {
		json_t *lic = json_array();

		licences_add(b, lic, str(d, "licence"), "declared");
		json_object_set_new(c, "licenses", lic);
	}
	json_object_set_new(c, "properties", json_pack("[o]",
	    property("airlock:held", json_is_true(json_object_get(d,
	    "held")) ? "true" : "false")));
	return c;
}

json_t *
bom_cyclonedx(const struct bom *b)
{
	json_t *doc, *components = json_array(), *v;
	char serial[64];
	size_t i;

	snprintf(serial, sizeof(serial), "urn:uuid:%s", b->uuid);
	json_array_append_new(components, model(b));
	json_array_foreach(b->datasets, i, v)
		json_array_append_new(components, dataset(b, v));
	doc = json_pack("{s:s,s:s,s:s,s:s,s:i,s:{s:s,s:{s:[{s:s,s:s,s:s}]}},s:o}",
	    "$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json",
	    "bomFormat", "CycloneDX", "specVersion", "1.6",
	    "serialNumber", serial, "version", 1,
	    "metadata", "timestamp", b->m->created,
	    "tools", "components", "type", "application", "name", "airlock",
	    "version", PACKAGE_VERSION,
	    "components", components);
	return doc;
}
