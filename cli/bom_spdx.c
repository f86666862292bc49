/*
 * bom_spdx.c - a revision as an SPDX 3.0.1 document in JSON-LD
 * (https://spdx.github.io/spdx-spec/v3.0.1/): an ai_AIPackage for the
 * model with the manifest digest as its hash, a software_File for each
 * file with its SHA-256 ("contains"), a dataset_DatasetPackage for each
 * claimed dataset ("trainedOn"), an ai_AIPackage for each base
 * ("ancestorOf" the model it is a base of), and licences as
 * simplelicensing_LicenseExpression elements related by
 * "hasDeclaredLicense" and "hasConcludedLicense".  A term without an SPDX
 * id is LicenseRef-ID, mapped to its source through customIdToUri.
 *
 * Every element's spdxId is urn:airlock:manifest:sha256:HEX#NAME: the
 * same revision gives the same document.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/bom.h"
#include "cli/cli.h"
#include "policy/policy.h"

#define CREATION	"_:creation"

struct doc {
	const struct bom *b;
	json_t		*graph;
	json_t		*elements;	/* spdxIds of everything but the doc */
	unsigned	 nrel;
	unsigned	 nlicence;
};

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A new spdxId: the document's prefix and a name. */
static json_t *__attribute__((format(printf, 2, 3)))
id(const struct doc *d, const char *fmt, ...)
{
	char name[64], buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(name, sizeof(name), fmt, ap);
	va_end(ap);
	snprintf(buf, sizeof(buf), "urn:airlock:manifest:sha256:%s#%s",
	    d->b->hex, name);
	return json_string(buf);
}

/* An element of type with its spdxId and the creation info; added to
 * the graph and the document's list.  Borrowed. */
static json_t *
element(struct doc *d, const char *type, json_t *spdxid, const char *name)
{
	json_t *e = json_pack("{s:s,s:o,s:s}", "type", type, "spdxId", spdxid,
	    "creationInfo", CREATION);

	if (name != NULL)
		json_object_set_new(e, "name", json_string(name));
	json_array_append_new(d->graph, e);
	json_array_append(d->elements, spdxid);
	return e;
}

static void
relate(struct doc *d, json_t *from, const char *type, json_t *to)
{
	json_t *r = element(d, "Relationship", id(d, "relationship-%u",
	    d->nrel++), NULL);

	json_object_set(r, "from", from);
	json_object_set_new(r, "relationshipType", json_string(type));
	json_object_set_new(r, "to", to);
}

static json_t *
sha256(const char *hex)
{
	return json_pack("[{s:s,s:s,s:s}]", "type", "Hash", "algorithm",
	    "sha256", "hashValue", hex);
}

/* LicenseRef-ID: an idstring is letters, digits, '.' and '-'. */
static void
licence_ref(const char *term, char *buf, size_t size)
{
	size_t n = snprintf(buf, size, "LicenseRef-");

	for (; *term != '\0' && n + 1 < size; term++)
		buf[n++] = isalnum((unsigned char)*term) || *term == '.' ?
		    *term : '-';
	buf[n] = '\0';
}

/* terms as an SPDX expression element; its spdxId, borrowed. */
static json_t *
expression(struct doc *d, const char *terms)
{
	const struct policy_licence *l;
	json_t *list = bom_terms(terms), *map = json_array(), *v, *e;
	char expr[2048] = "", ref[256];
	size_t i;

	json_array_foreach(list, i, v) {
		const char *term = json_string_value(v);

		l = bom_licence(d->b, term);
		if (l != NULL && l->spdx != NULL)
			snprintf(ref, sizeof(ref), "%s", l->spdx);
		else {
			licence_ref(term, ref, sizeof(ref));
			if (l != NULL && l->source != NULL)
				json_array_append_new(map, json_pack(
				    "{s:s,s:s,s:s}", "type", "DictionaryEntry",
				    "key", ref, "value", l->source));
		}
		if (i > 0)
			strncat(expr, " AND ", sizeof(expr) - strlen(expr) - 1);
		strncat(expr, ref, sizeof(expr) - strlen(expr) - 1);
	}
	json_decref(list);
	e = element(d, "simplelicensing_LicenseExpression", id(d,
	    "licence-%u", d->nlicence++), NULL);
	json_object_set_new(e, "simplelicensing_licenseExpression",
	    json_string(expr));
	if (json_array_size(map) > 0)
		json_object_set_new(e, "simplelicensing_customIdToUri", map);
	else
		json_decref(map);
	return json_object_get(e, "spdxId");
}

static void
declared(struct doc *d, json_t *from, const char *terms, const char *rel)
{
	if (terms != NULL)
		relate(d, from, rel, json_pack("[O]", expression(d, terms)));
}

static json_t *
model(struct doc *d)
{
	const struct store_manifest *m = d->b->m;
	json_t *e, *files = json_array(), *f;
	char hex[STORE_HEX_LEN + 1], purl[512];

	e = element(d, "ai_AIPackage", id(d, "model"), m->repo);
	snprintf(purl, sizeof(purl), "pkg:huggingface/%s@%s", m->repo,
	    m->commit);
	json_object_set_new(e, "software_packageVersion",
	    json_string(m->commit));
	json_object_set_new(e, "software_packageUrl", json_string(purl));
	json_object_set_new(e, "software_primaryPurpose", json_string("model"));
	json_object_set_new(e, "releaseTime", json_string(m->created));
	json_object_set_new(e, "verifiedUsing", sha256(d->b->hex));
	if (str(d->b->card, "pipeline_tag") != NULL)
		json_object_set_new(e, "ai_domain", json_pack("[s]",
		    str(d->b->card, "pipeline_tag")));
	for (size_t i = 0; i < m->nfiles; i++) {
		f = element(d, "software_File", id(d, "file-%zu", i),
		    m->files[i].path);
		store_hex(m->files[i].sha256, STORE_HASH_LEN, hex);
		json_object_set_new(f, "verifiedUsing", sha256(hex));
		json_array_append(files, json_object_get(f, "spdxId"));
	}
	if (json_array_size(files) > 0)
		relate(d, json_object_get(e, "spdxId"), "contains", files);
	else
		json_decref(files);
	return json_object_get(e, "spdxId");
}

/* Each base an ai_AIPackage, ancestorOf the link it is a base of. */
static void
bases(struct doc *d, json_t *root)
{
	json_t *ids = json_object(), *v, *e, *of;
	size_t i;

	json_array_foreach(json_object_get(d->b->conclusion, "chain"), i, v) {
		const char *repo = str(v, "repo");

		if (i == 0) {
			json_object_set(ids, repo, root);
			continue;
		}
		e = element(d, "ai_AIPackage", id(d, "base-%zu", i), repo);
		if (str(v, "commit") != NULL)
			json_object_set_new(e, "software_packageVersion",
			    json_string(str(v, "commit")));
		json_object_set_new(e, "software_primaryPurpose",
		    json_string("model"));
		json_object_set(ids, repo, json_object_get(e, "spdxId"));
		declared(d, json_object_get(e, "spdxId"), str(v, "declared"),
		    "hasDeclaredLicense");
	}
	json_array_foreach(json_object_get(d->b->conclusion, "chain"), i, v) {
		if (i == 0 || str(v, "base_of") == NULL ||
		    (of = json_object_get(ids, str(v, "base_of"))) == NULL)
			continue;
		relate(d, json_object_get(ids, str(v, "repo")), "ancestorOf",
		    json_pack("[O]", of));
	}
	json_decref(ids);
}

static void
datasets(struct doc *d, json_t *root)
{
	json_t *to = json_array(), *v, *e;
	size_t i;

	json_array_foreach(d->b->datasets, i, v) {
		e = element(d, "dataset_DatasetPackage", id(d, "dataset-%zu", i),
		    str(v, "repo"));
		if (str(v, "commit") != NULL)
			json_object_set_new(e, "software_packageVersion",
			    json_string(str(v, "commit")));
		json_object_set_new(e, "software_primaryPurpose",
		    json_string("data"));
		json_object_set_new(e, "dataset_datasetType",
		    json_pack("[s]", "noAssertion"));
		json_array_append(to, json_object_get(e, "spdxId"));
		declared(d, json_object_get(e, "spdxId"), str(v, "licence"),
		    "hasDeclaredLicense");
	}
	if (json_array_size(to) > 0)
		relate(d, root, "trainedOn", to);
	else
		json_decref(to);
}

json_t *
bom_spdx(const struct bom *b)
{
	struct doc d = { .b = b };
	json_t *root, *agent, *tool, *doc, *out;

	d.graph = json_array();
	d.elements = json_array();
	agent = id(&d, "agent-airlock");
	tool = id(&d, "tool-airlock");
	json_array_append_new(d.graph, json_pack("{s:s,s:s,s:s,s:s,s:[O],"
	    "s:[O]}", "type", "CreationInfo", "@id", CREATION, "specVersion",
	    "3.0.1", "created", b->m->created, "createdBy", agent,
	    "createdUsing", tool));
	element(&d, "SoftwareAgent", agent, "airlock");
	element(&d, "Tool", tool, "airlock " PACKAGE_VERSION);
	root = model(&d);
	declared(&d, root, str(b->conclusion, "declared"),
	    "hasDeclaredLicense");
	declared(&d, root, str(b->conclusion, "concluded"),
	    "hasConcludedLicense");
	bases(&d, root);
	datasets(&d, root);
	doc = json_pack("{s:s,s:o,s:s,s:s,s:[s,s,s,s,s],s:[O],s:o}",
	    "type", "SpdxDocument", "spdxId", id(&d, "document"),
	    "creationInfo", CREATION, "name", b->m->repo,
	    "profileConformance", "core", "software", "ai", "dataset",
	    "simpleLicensing", "rootElement", root, "element", d.elements);
	json_array_append_new(d.graph, doc);
	out = json_pack("{s:s,s:o}", "@context",
	    "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph",
	    d.graph);
	return out;
}
