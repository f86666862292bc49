/*
 * test_policy.c - policy/ without a store: the licence table's shape and
 * sources, normalised text, the GGUF and mergekit readers, and the whole
 * corpus of tests/policy/corpus.yaml concluded and compared with the
 * expectations written from the licence texts.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/bounds.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tests/unit/tap_main.h"

static struct policy_table *table;

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static const char *
srcdir(void)
{
	const char *s = getenv("top_srcdir");

	return s != NULL ? s : ".";
}

static int
load_table(void **state)
{
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/policy/licences.json", srcdir());
	if (policy_table_load(path, &table) != 0) {
		fprintf(stderr, "%s\n", policy_lasterror());
		return -1;
	}
	return 0;
}

/* --- the table ------------------------------------------------------------ */

/* The Hub's licence ids (hub-docs, repositories-licenses.md). */
static const char *const hub_ids[] = {
	"apache-2.0", "mit", "openrail", "bigscience-openrail-m",
	"creativeml-openrail-m", "bigscience-bloom-rail-1.0",
	"bigcode-openrail-m", "afl-3.0", "artistic-2.0", "bsl-1.0", "bsd",
	"bsd-2-clause", "bsd-3-clause", "bsd-3-clause-clear", "c-uda", "cc",
	"cc0-1.0", "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0",
	"cc-by-sa-3.0", "cc-by-sa-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0",
	"cc-by-nc-4.0", "cc-by-nd-4.0", "cc-by-nc-nd-3.0", "cc-by-nc-nd-4.0",
	"cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0",
	"cdla-sharing-1.0", "cdla-permissive-1.0", "cdla-permissive-2.0",
	"wtfpl", "ecl-2.0", "epl-1.0", "epl-2.0", "etalab-2.0", "eupl-1.1",
	"eupl-1.2", "agpl-3.0", "gfdl", "gpl", "gpl-2.0", "gpl-3.0", "lgpl",
	"lgpl-2.1", "lgpl-3.0", "isc", "h-research", "intel-research",
	"lppl-1.3c", "ms-pl", "apple-ascl", "apple-amlr", "mpl-2.0", "odc-by",
	"odbl", "openmdw-1.0", "openrail++", "osl-3.0", "postgresql",
	"ofl-1.1", "ncsa", "unlicense", "zlib", "pddl", "lgpl-lr",
	"deepfloyd-if-license", "fair-noncommercial-research-license",
	"llama2", "llama3", "llama3.1", "llama3.2", "llama3.3", "llama4",
	"grok2-community", "gemma", "unknown", "other",
};

static void
table_has_every_hub_id_with_a_source(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hub_ids) / sizeof(hub_ids[0]); i++) {
		const struct policy_licence *l = policy_licence_find(table,
		    hub_ids[i]);

		if (l == NULL)
			fail_msg("the table lacks the Hub id %s", hub_ids[i]);
		assert_string_equal(l->id, hub_ids[i]);
		assert_true(l->hub);
	}
	for (size_t i = 0; i < policy_table_count(table); i++) {
		const struct policy_licence *l = policy_table_entry(table, i);

		assert_non_null(l->name);
		assert_true(strncmp(l->source, "https://", 8) == 0 ||
		    strncmp(l->source, "http://", 7) == 0);
	}
}

/* LICENCES.md's families, as its table gives them. */
static void
table_encodes_licences_md(void **state)
{
	const struct policy_licence *l;

	(void)state;
	for (const char *const *id = (const char *const[]){ "llama3.1",
	    "llama3.2", "llama3.3", "llama4", NULL }; *id != NULL; id++) {
		assert_non_null(l = policy_licence_find(table, *id));
		assert_true(l->flows_down);
		assert_true(l->licence_copy);
		assert_string_equal(l->built_with, "Built with Llama");
		assert_string_equal(l->name_prefix, "Llama");
		assert_int_equal(l->user_threshold, 700000000);
		assert_non_null(l->notice);
		assert_non_null(l->use_policy);
	}
	assert_non_null(l = policy_licence_find(table, "llama3"));
	assert_string_equal(l->name_prefix, "Llama 3");
	assert_string_equal(l->built_with, "Built with Meta Llama 3");
	assert_non_null(l = policy_licence_find(table, "llama2"));
	assert_null(l->name_prefix);
	assert_non_null(l->outputs);
	assert_true(policy_licence_find(table, "llama3.2")->eu_multimodal);
	assert_false(policy_licence_find(table, "llama3.1")->eu_multimodal);
	assert_non_null(l = policy_licence_find(table, "gemma"));
	assert_true(l->flows_down);
	assert_non_null(l->notice);
	assert_true(policy_licensor(l, "google/gemma-2-9b"));
	assert_false(policy_licensor(l, "princeton-nlp/gemma-2-9b-it-SimPO"));
	assert_false(policy_licence_find(table, "apache-2.0")->flows_down);
	assert_false(policy_licence_find(table, "mit")->flows_down);
	/* The spellings of other + license_name. */
	assert_string_equal(policy_licence_find(table, "deepseek")->id,
	    "other:deepseek");
	assert_string_equal(policy_licence_find(table, "DeepSeek License")->id,
	    "other:deepseek");
	assert_string_equal(policy_licence_find(table, "deepseek-v3-licence")->id,
	    "other:deepseek");
	assert_string_equal(policy_licence_find(table, "tongyi-qianwen")->id,
	    "other:tongyi-qianwen");
	assert_string_equal(policy_licence_find(table, "qwen-72b-licence")->id,
	    "other:tongyi-qianwen");
	assert_string_equal(policy_licence_find(table, "qwen")->id, "other:qwen");
	assert_true(policy_licence_find(table, "qwen-research")->non_commercial);
	assert_string_equal(policy_licence_find(table, "mrl")->id, "other:mrl");
	assert_string_equal(policy_licence_find(table,
	    "mistral-research-licence")->id, "other:mrl");
	assert_true(policy_licence_find(table, "mnpl")->non_commercial);
	assert_true(policy_licence_find(table, "cc-by-nc-4.0")->non_commercial);
	assert_true(policy_licence_find(table, "cc-by-nc-4.0")->flows_down);
	assert_true(policy_licence_find(table, "bigcode-openrail-m")->flows_down);
	assert_non_null(policy_licence_find(table, "falcon-180b-license"));
	assert_non_null(policy_licence_find(table, "tii-falcon-llm"));
	assert_string_equal(policy_licence_find(table, "Apache 2.0")->id,
	    "apache-2.0");
	assert_string_equal(policy_licence_by_link(table,
	    "https://llama.meta.com/llama3/license/")->id, "llama3");
	assert_string_equal(policy_licence_by_link(table,
	    "http://mistral.ai/licenses/MRL-0.1.md/")->id, "other:mrl");
	assert_null(policy_licence_find(table, "seallms"));
}

static void
table_refuses_bad_entries(void **state)
{
	static const char *const bad[] = {
		"{}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":{}}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":[{\"id\":\"x\","
		    "\"name\":\"X\"}]}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":[{\"id\":\"x\","
		    "\"name\":\"X\",\"source\":\"not a url\"}]}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":[{\"id\":\"x\","
		    "\"name\":\"X\",\"source\":\"https://a\"},{\"id\":\"y\","
		    "\"name\":\"Y\",\"source\":\"https://b\",\"aliases\":[\"X\"]}]}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":[{\"id\":\"x\","
		    "\"name\":\"X\",\"source\":\"https://a\",\"flows_down\":1}]}",
		"{\"format\":\"airlock.licences/v1\",\"licences\":[{\"id\":\"x\","
		    "\"name\":\"X\",\"source\":\"https://a\",\"fingerprints\":"
		    "[{\"sha256\":\"00\",\"of\":\"t\"}]}]}",
	};
	struct policy_table *t;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(policy_table_parse(bad[i], strlen(bad[i]), &t),
		    POLICY_EINVAL);
		assert_null(t);
	}
	assert_non_null(strstr(policy_lasterror(), "entry 1 (x)"));
	assert_int_equal(policy_table_load("/nonexistent/licences.json", &t),
	    POLICY_ENOTABLE);
	assert_non_null(strstr(policy_lasterror(), "/nonexistent/licences.json"));
}

/* --- normalised text -------------------------------------------------------- */

static void
normalise_as_documented(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "MIT License\n\nCopyright (c) 2023 DeepSeek\n\nPermission is "
		  "hereby granted,\r\n  free of charge.", "mit license permission "
		  "is hereby granted free of charge" },
		{ "  COPYRIGHT 2024 Meta\nLlama 3.1 is licensed", "llama 3 1 is "
		  "licensed" },
		{ "Copyright © Meta Platforms, Inc. All Rights Reserved.", "" },
		{ "a Copyright line stays", "a copyright line stays" },
		{ "“Built with Llama” — é", "built with llama" },
		{ "", "" },
	};
	char *out;
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(policy_normalise(cases[i].in,
		    strlen(cases[i].in), &out, &n), 0);
		assert_string_equal(out, cases[i].out);
		assert_int_equal(n, strlen(cases[i].out));
		free(out);
	}
}

/* sha256 of "mit license", from sha256sum, not from the code. */
static void
fingerprint_is_sha256_of_the_normal_form(void **state)
{
	uint8_t fp[POLICY_FINGERPRINT_LEN];
	char hex[65];

	(void)state;
	policy_fingerprint("MIT  License!\n", 14, fp);
	store_hex(fp, sizeof(fp), hex);
	assert_string_equal(hex, "bf637265454fa1bb19e93b82695ec6f4ef7cfe2a"
	    "7c742cf53ab79facb4d91c0c");
}

/* --- GGUF ------------------------------------------------------------------- */

struct buf {
	uint8_t	*p;
	size_t	 n, cap;
};

static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void
put_le(struct buf *b, uint64_t v, size_t n)
{
	uint8_t x[8];

	for (size_t i = 0; i < n; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	put(b, x, n);
}

static void
put_str(struct buf *b, const char *s)
{
	put_le(b, strlen(s), 8);
	put(b, s, strlen(s));
}

/*
 * A GGUF v3 header as ggml's docs/gguf.md lays it out: the metadata of
 * meta (strings as type 8, integers as u32, type 4), then a tokenizer
 * array of strings that the reader must skip, then an f32.
 */
static struct buf
gguf_of(json_t *meta)
{
	struct buf b = { 0 };
	const char *key;
	json_t *v;

	put(&b, "GGUF", 4);
	put_le(&b, 3, 4);
	put_le(&b, 0, 8);
	put_le(&b, json_object_size(meta) + 2, 8);
	put_str(&b, "tokenizer.ggml.tokens");
	put_le(&b, 9, 4);
	put_le(&b, 8, 4);
	put_le(&b, 3, 8);
	put_str(&b, "<s>");
	put_str(&b, "</s>");
	put_str(&b, "hello");
	json_object_foreach(meta, key, v) {
		put_str(&b, key);
		if (json_is_integer(v)) {
			put_le(&b, 4, 4);
			put_le(&b, (uint64_t)json_integer_value(v), 4);
		} else {
			put_le(&b, 8, 4);
			put_str(&b, json_string_value(v));
		}
	}
	put_str(&b, "general.score");
	put_le(&b, 6, 4);
	put_le(&b, 0x3f800000, 4);
	return b;
}

static void
gguf_reads_general_keys(void **state)
{
	json_t *meta = json_pack("{s:s,s:s,s:i,s:s}", "general.license",
	    "llama3.1", "general.name", "Llama 3.1 8B", "general.base_model.count",
	    1, "general.base_model.0.repo_url",
	    "https://huggingface.co/meta-llama/Llama-3.1-8B"), *out;
	struct buf b = gguf_of(meta);

	(void)state;
	assert_int_equal(policy_gguf_read(b.p, b.n, &out), 0);
	assert_string_equal(json_string_value(json_object_get(out,
	    "general.license")), "llama3.1");
	assert_int_equal(json_integer_value(json_object_get(out,
	    "general.base_model.count")), 1);
	assert_null(json_object_get(out, "tokenizer.ggml.tokens"));
	assert_null(json_object_get(out, "truncated"));
	json_decref(out);
	/* Cut inside the last pair: what came before is still read. */
	assert_int_equal(policy_gguf_read(b.p, b.n - 3, &out), 0);
	assert_true(json_is_true(json_object_get(out, "truncated")));
	assert_non_null(json_object_get(out, "general.license"));
	json_decref(out);
	/* Not GGUF, a version 1 header, a count past the bound. */
	assert_int_equal(policy_gguf_read("GGML", 4, &out), POLICY_EINVAL);
	b.p[4] = 1;
	assert_int_equal(policy_gguf_read(b.p, b.n, &out), POLICY_EINVAL);
	b.p[4] = 3;
	b.p[16 + 4] = 0x7f;
	assert_int_equal(policy_gguf_read(b.p, b.n, &out), POLICY_EINVAL);
	assert_non_null(strstr(policy_lasterror(), "metadata pairs"));
	free(b.p);
	json_decref(meta);
}

/* --- mergekit ----------------------------------------------------------------- */

static void
recipe_names_every_model(void **state)
{
	static const char slerp[] =
	    "slices:\n  - sources:\n      - model: a/one\n        layer_range: "
	    "[0, 32]\n      - model: b/two\n        layer_range: [0, 32]\n"
	    "merge_method: slerp\nbase_model: a/one\nparameters:\n  t: 0.5\n";
	static const char ties[] =
	    "models:\n  - model: c/three+d/lora\n    parameters: {density: 0.5}\n"
	    "  - model:\n      model:\n        path: e/four\nmerge_method: ties\n"
	    "base_model: ./local\n";
	json_t *m;

	(void)state;
	assert_int_equal(policy_recipe_read(slerp, strlen(slerp), &m), 0);
	assert_int_equal(json_array_size(m), 2);
	assert_string_equal(json_string_value(json_array_get(m, 0)), "a/one");
	assert_string_equal(json_string_value(json_array_get(m, 1)), "b/two");
	json_decref(m);
	assert_int_equal(policy_recipe_read(ties, strlen(ties), &m), 0);
	assert_int_equal(json_array_size(m), 3);
	assert_string_equal(json_string_value(json_array_get(m, 1)), "d/lora");
	assert_string_equal(json_string_value(json_array_get(m, 2)), "e/four");
	json_decref(m);
	assert_int_equal(policy_recipe_read("a: [\n", 5, &m), POLICY_EINVAL);
	assert_int_equal(policy_recipe_read("a: 1\n---\nb: 2\n", 14, &m),
	    POLICY_EINVAL);
	assert_non_null(strstr(policy_lasterror(), "more than one"));
}

/* --- lineage and obligations, by hand-made evidence ---------------------------- */

/* Evidence of a model card alone. */
static struct policy_evidence *
card_only(const char *repo, const char *front)
{
	struct policy_evidence *ev;
	char md[2048];

	assert_int_equal(policy_evidence_new(table, repo, NULL, &ev), 0);
	snprintf(md, sizeof(md), "---\n%s---\n", front);
	assert_int_equal(policy_evidence_file(ev, "README.md", strlen(md),
	    NULL, md, strlen(md)), 0);
	return ev;
}

/* A resolver over a fixed list of cards; counts what it was asked. */
struct cards {
	const char	*const (*cards)[2];
	size_t		 n;
	int		 asked;
	int		 fail;		/* answer this error for every base */
};

static int
resolve_cards(void *arg, const char *repo, struct policy_evidence **out)
{
	struct cards *c = arg;

	c->asked++;
	if (c->fail != 0)
		return c->fail;
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->cards[i][0], repo) == 0) {
			*out = card_only(repo, c->cards[i][1]);
			return 0;
		}
	return POLICY_ENOTFOUND;
}

static json_t *
conclude(struct policy_evidence *root, struct cards *c)
{
	struct policy_lineage *lin;
	json_t *out;

	assert_int_equal(policy_lineage_build(table, root, resolve_cards, c,
	    &lin), 0);
	assert_int_equal(policy_conclude(table, lin, &out), 0);
	policy_lineage_free(lin);
	return out;
}

static int
has_obligation(json_t *c, const char *kind, const char *licence)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(c, "obligations"), i, o)
		if (strcmp(json_string_value(json_object_get(o, "obligation")),
		    kind) == 0 && (licence == NULL || (json_is_string(
		    json_object_get(o, "licence")) && strcmp(json_string_value(
		    json_object_get(o, "licence")), licence) == 0)))
			return 1;
	return 0;
}

static void
obligations_follow_the_terms(void **state)
{
	static const char *const cards[][2] = {
		{ "meta-llama/Llama-3.2-11B-Vision-Instruct",
		  "license: llama3.2\npipeline_tag: image-text-to-text\n" },
		{ "Qwen/Qwen2.5-3B", "license: other\nlicense_name: "
		  "qwen-research\n" },
		{ "Qwen/Qwen2.5-7B", "license: apache-2.0\n" },
	};
	struct cards c = { .cards = cards, .n = 3 };
	json_t *out;

	(void)state;
	/* A fine-tune of the vision model: Llama's duties and the EU
	 * restriction of its use policy for multimodal models. */
	out = conclude(card_only("acme/Llama-3.2-vision-ft", "license: "
	    "llama3.2\nbase_model: meta-llama/Llama-3.2-11B-Vision-Instruct\n"),
	    &c);
	assert_true(has_obligation(out, "eu-restriction", "llama3.2"));
	assert_true(has_obligation(out, "built-with", "llama3.2"));
	assert_true(has_obligation(out, "user-threshold", "llama3.2"));
	assert_true(has_obligation(out, "notice", "llama3.2"));
	assert_true(has_obligation(out, "naming", "llama3.2"));
	assert_false(has_obligation(out, "non-commercial", NULL));
	json_decref(out);
	/* A text-only Llama 3.2 model has no EU restriction. */
	out = conclude(card_only("meta-llama/Llama-3.2-1B", "license: "
	    "llama3.2\npipeline_tag: text-generation\n"), &c);
	assert_false(has_obligation(out, "eu-restriction", NULL));
	json_decref(out);
	/* A repository gated away from the EU says so whatever its terms. */
	out = conclude(card_only("acme/gated", "license: mit\n"
	    "extra_gated_eu_disallowed: true\n"), &c);
	assert_true(has_obligation(out, "eu-restriction", NULL));
	json_decref(out);
	/* The research licence: non-commercial, Built with Qwen. */
	out = conclude(card_only("acme/qwen-3b-ft", "license: apache-2.0\n"
	    "base_model: Qwen/Qwen2.5-3B\n"), &c);
	assert_true(has_obligation(out, "non-commercial", "other:qwen-research"));
	assert_true(has_obligation(out, "built-with", "other:qwen-research"));
	json_decref(out);
	/* Apache all the way: no duties listed. */
	out = conclude(card_only("acme/qwen-7b-ft", "license: apache-2.0\n"
	    "base_model: Qwen/Qwen2.5-7B\n"), &c);
	assert_string_equal(json_string_value(json_object_get(out,
	    "concluded")), "apache-2.0");
	assert_int_equal(json_array_size(json_object_get(out, "obligations")), 0);
	assert_int_equal(json_array_size(json_object_get(out, "flags")), 0);
	json_decref(out);
}

static void
lineage_cycles_bounds_and_errors(void **state)
{
	static const char *const loop[][2] = {
		{ "a/one", "license: llama3.1\nbase_model: a/two\n" },
		{ "a/two", "license: llama3.1\nbase_model: a/one\n" },
	};
	struct cards c = { .cards = loop, .n = 2 };
	struct policy_lineage *lin;
	json_t *out;

	(void)state;
	/* A cycle ends at the repository seen again, each asked once. */
	out = conclude(card_only("a/zero", "license: mit\nbase_model: a/one\n"),
	    &c);
	assert_int_equal(c.asked, 2);
	assert_int_equal(json_array_size(json_object_get(out, "chain")), 3);
	assert_non_null(strstr(json_string_value(json_object_get(out,
	    "concluded")), "llama3.1"));
	json_decref(out);
	/* A base named twice (card list) is one link. */
	c.asked = 0;
	out = conclude(card_only("a/merge", "license: llama3.1\nbase_model: "
	    "[a/one, a/one, https://huggingface.co/a/one]\n"), &c);
	assert_int_equal(c.asked, 2);
	json_decref(out);
	/* The resolver's error stops the build and is returned. */
	c.fail = EIO;
	assert_int_equal(policy_lineage_build(table, card_only("a/x",
	    "base_model: a/one\n"), resolve_cards, &c, &lin), EIO);
	assert_null(lin);
	c.fail = 0;
	/* Not a repository id: not a base. */
	out = conclude(card_only("a/y", "license: mit\nbase_model: [\"../..\", "
	    "\"/abs/path\", \"\"]\n"), &c);
	assert_int_equal(json_array_size(json_object_get(out, "chain")), 1);
	json_decref(out);
}

/* The licensor may relicense its own: Meta's Llama 3.3 over its Llama 3.1
 * is Llama 3.3 alone; anyone else's is bound by both. */
static void
licensor_relicenses_its_own(void **state)
{
	static const char *const cards[][2] = {
		{ "meta-llama/Llama-3.1-70B", "license: llama3.1\n" },
	};
	struct cards c = { .cards = cards, .n = 1 };
	json_t *out;

	(void)state;
	out = conclude(card_only("meta-llama/Llama-3.3-70B-Instruct",
	    "license: llama3.3\nbase_model: meta-llama/Llama-3.1-70B\n"), &c);
	assert_string_equal(json_string_value(json_object_get(out,
	    "concluded")), "llama3.3");
	assert_int_equal(json_array_size(json_object_get(out, "flags")), 0);
	json_decref(out);
	out = conclude(card_only("acme/Llama-3.3-70B-remix", "license: "
	    "llama3.3\nbase_model: meta-llama/Llama-3.1-70B\n"), &c);
	assert_string_equal(json_string_value(json_object_get(out,
	    "concluded")), "llama3.3 AND llama3.1");
	json_decref(out);
}

/* A chain deeper than BOUND_LINEAGE_DEPTH: cut, with a note, not a hang. */
static int
resolve_deep(void *arg, const char *repo, struct policy_evidence **out)
{
	char next[64], front[128];
	int n;

	(void)arg;
	n = atoi(strchr(repo, '/') + 2);
	snprintf(next, sizeof(next), "deep/m%d", n + 1);
	snprintf(front, sizeof(front), "license: llama3.1\nbase_model: %s\n",
	    next);
	*out = card_only(repo, front);
	return 0;
}

static void
lineage_depth_is_bounded(void **state)
{
	struct policy_lineage *lin;
	json_t *out, *notes;
	size_t i;
	json_t *m;
	int cut = 0;

	(void)state;
	assert_int_equal(policy_lineage_build(table, card_only("deep/m0",
	    "license: llama3.1\nbase_model: deep/m1\n"), resolve_deep, NULL,
	    &lin), 0);
	assert_int_equal(policy_conclude(table, lin, &out), 0);
	notes = json_object_get(out, "notes");
	json_array_foreach(notes, i, m)
		cut |= strstr(json_string_value(m), "cut there") != NULL;
	assert_true(cut);
	assert_int_equal(json_array_size(json_object_get(out, "chain")),
	    BOUND_LINEAGE_DEPTH + 2);
	json_decref(out);
	policy_lineage_free(lin);
}

/* --- the gate's rules ------------------------------------------------------- */

static struct policy_rules *
rules(const char *text)
{
	struct policy_rules *r;

	if (policy_rules_parse(table, text, strlen(text), &r) != 0)
		fail_msg("%s: %s", text, policy_lasterror());
	return r;
}

static void
rules_read_yaml_and_json_alike(void **state)
{
	static const char yaml[] =
	    "# what production may run\n"
	    "allow: [apache-2.0, MIT, Llama 3.1]\n"
	    "deny:\n  - cc-by-nc-4.0\n  - other:seallms\n"
	    "refuse_flags: [declared-differs]\n"
	    "min_signatures: 1\n"
	    "allow_unknown_lineage: false\n";
	static const char json[] =
	    "{\"allow\": [\"apache-2.0\", \"mit\", \"llama3.1\"], \"deny\": "
	    "[\"cc-by-nc-4.0\", \"other:seallms\"], \"refuse_flags\": "
	    "[\"declared-differs\"], \"min_signatures\": 1, "
	    "\"allow_unknown_lineage\": false}";
	struct policy_rules *a = rules(yaml), *b = rules(json), *e = rules("");

	(void)state;
	assert_true(json_equal(policy_rules_json(a), policy_rules_json(b)));
	/* Spellings become the table's ids. */
	assert_string_equal(json_string_value(json_array_get(json_object_get(
	    policy_rules_json(a), "allow"), 2)), "llama3.1");
	/* An empty policy lets everything through. */
	assert_null(json_object_get(policy_rules_json(e), "allow"));
	assert_true(json_is_true(json_object_get(policy_rules_json(e),
	    "allow_unknown_lineage")));
	policy_rules_free(a);
	policy_rules_free(b);
	policy_rules_free(e);
}

static void
rules_refuse_what_they_cannot_mean(void **state)
{
	static const struct {
		const char *text, *says;
	} bad[] = {
		{ "alow: [mit]\n", "unknown key \"alow\"" },
		{ "deny: [llama3.9]\n", "llama3.9 is not in the licence table" },
		{ "deny: mit\n", "deny is not a list" },
		{ "refuse_flags: [laundered]\n", "laundered is not a flag" },
		{ "min_signatures: -1\n", "min_signatures" },
		{ "min_signatures: two\n", "min_signatures" },
		{ "allow_unknown_lineage: maybe\n", "allow_unknown_lineage" },
		{ "allow: [\"other:\"]\n", "other:" },
		{ "- a list\n", "policy: line 1: front matter is not a mapping" },
		{ "# a comment\n{\"deny\": [\n", "policy: line " },
	};
	struct policy_rules *r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(policy_rules_parse(table, bad[i].text,
		    strlen(bad[i].text), &r), POLICY_EINVAL);
		assert_null(r);
		if (strstr(policy_lasterror(), bad[i].says) == NULL)
			fail_msg("%s: \"%s\" does not say %s", bad[i].text,
			    policy_lasterror(), bad[i].says);
	}
}

static void
gate_judges_a_conclusion(void **state)
{
	static const char *const cards[][2] = {
		{ "meta-llama/Llama-3.1-8B", "license: llama3.1\n" },
		{ "upstage/SOLAR-10.7B-Instruct-v1.0", "license: cc-by-nc-4.0\n" },
	};
	struct cards c = { .cards = cards, .n = 2 };
	struct policy_rules *r;
	json_t *launder, *clean, *nc, *lost;
	char why[512];

	(void)state;
	launder = conclude(card_only("acme/Llama-ft", "license: apache-2.0\n"
	    "base_model: meta-llama/Llama-3.1-8B\n"), &c);
	clean = conclude(card_only("acme/plain", "license: mit\n"), &c);
	nc = conclude(card_only("acme/nc-ft", "license: mit\nbase_model: "
	    "upstage/SOLAR-10.7B-Instruct-v1.0\n"), &c);
	lost = conclude(card_only("acme/orphan", "license: mit\nbase_model: "
	    "nowhere/base\n"), &c);

	r = rules("refuse_flags: [declared-differs]\n");
	assert_int_equal(policy_gate(r, launder, 0, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "declared-differs"));
	assert_int_equal(policy_gate(r, clean, 0, why, sizeof(why)), 0);
	assert_string_equal(why, "allowed");
	policy_rules_free(r);

	r = rules("deny: [cc-by-nc-4.0]\n");
	assert_int_equal(policy_gate(r, nc, 0, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "cc-by-nc-4.0 is denied"));
	assert_int_equal(policy_gate(r, launder, 0, why, sizeof(why)), 0);
	policy_rules_free(r);

	r = rules("allow: [apache-2.0, mit]\n");
	assert_int_equal(policy_gate(r, launder, 0, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "llama3.1 is not among those allowed"));
	assert_int_equal(policy_gate(r, clean, 0, why, sizeof(why)), 0);
	/* Unknown lineage passes unless refused. */
	assert_int_equal(policy_gate(r, lost, 0, why, sizeof(why)), 0);
	policy_rules_free(r);
	r = rules("allow_unknown_lineage: false\n");
	assert_int_equal(policy_gate(r, lost, 0, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "unknown beyond nowhere/base"));
	policy_rules_free(r);

	r = rules("min_signatures: 2\n");
	assert_int_equal(policy_gate(r, clean, 1, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "1 trusted signatures"));
	assert_int_equal(policy_gate(r, clean, 2, why, sizeof(why)), 0);
	policy_rules_free(r);
	json_decref(launder);
	json_decref(clean);
	json_decref(nc);
	json_decref(lost);
}

/* --- the corpus --------------------------------------------------------------- */

struct corpus {
	json_t	*cases;
};

/* Builds the evidence of one case from its card, body and files. */
static struct policy_evidence *
evidence_of(json_t *c)
{
	struct policy_evidence *ev;
	const char *repo = json_string_value(json_object_get(c, "repo"));
	json_t *card = json_object_get(c, "card"), *files, *v, *h;
	const char *path;
	uint8_t sha[32];
	size_t i;

	assert_int_equal(policy_evidence_new(table, repo, "0123456789abcdef"
	    "0123456789abcdef01234567", &ev), 0);
	if (json_is_string(card)) {
		const char *body = json_string_value(json_object_get(c, "body"));
		size_t n = json_string_length(card) + (body ? strlen(body) : 0) +
		    16;
		char *md = malloc(n);

		snprintf(md, n, "---\n%s---\n%s", json_string_value(card),
		    body != NULL ? body : "");
		store_sha256(md, strlen(md), sha);
		policy_evidence_file(ev, "README.md", strlen(md), sha, md,
		    strlen(md));
		free(md);
	}
	files = json_object_get(c, "files");
	json_object_foreach(files, path, v) {
		if (strcmp(path, "gguf") == 0) {
			struct buf b = gguf_of(v);

			store_sha256(b.p, b.n, sha);
			policy_evidence_file(ev, "model-Q4_K_M.gguf", b.n, sha,
			    b.p, b.n);
			free(b.p);
			continue;
		}
		store_sha256(json_string_value(v), json_string_length(v), sha);
		policy_evidence_file(ev, path, json_string_length(v), sha,
		    json_string_value(v), json_string_length(v));
	}
	json_array_foreach(json_object_get(c, "history"), i, h)
		assert_int_equal(policy_evidence_history(ev, "earlier", h), 0);
	return ev;
}

static int
resolve(void *arg, const char *repo, struct policy_evidence **out)
{
	struct corpus *cp = arg;
	json_t *c;
	size_t i;

	json_array_foreach(cp->cases, i, c)
		if (strcmp(json_string_value(json_object_get(c, "repo")),
		    repo) == 0) {
			*out = evidence_of(c);
			return 0;
		}
	return POLICY_ENOTFOUND;
}

/* "A AND B" as a sorted list of terms, for comparing sets. */
static json_t *
terms(const char *s)
{
	json_t *out = json_array();
	const char *p;

	while (s != NULL && *s != '\0') {
		p = strstr(s, " AND ");
		json_array_append_new(out, p != NULL ? json_stringn(s,
		    (size_t)(p - s)) : json_string(s));
		s = p != NULL ? p + 5 : NULL;
	}
	return out;
}

static int
same_set(json_t *a, json_t *b)
{
	json_t *m, *n;
	size_t i, j;

	json_array_foreach(a, i, m) {
		json_array_foreach(b, j, n)
			if (json_equal(m, n))
				break;
		if (j == json_array_size(b))
			return 0;
	}
	json_array_foreach(b, i, m) {
		json_array_foreach(a, j, n)
			if (json_equal(m, n))
				break;
		if (j == json_array_size(a))
			return 0;
	}
	return 1;
}

static int
has_flag(json_t *flags, const char *name)
{
	json_t *m;
	size_t i;

	json_array_foreach(flags, i, m)
		if (strcmp(json_string_value(m), name) == 0)
			return 1;
	return 0;
}

static void
corpus_conclusions_match(void **state)
{
	struct corpus cp;
	json_t *doc, *c;
	size_t len, i, right = 0, expected = 0, found = 0, extra = 0;
	size_t laundering = 0, caught = 0;
	char path[4096], *yaml, *wrapped;
	int bad = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/policy/corpus.yaml", srcdir());
	yaml = slurp(path, &len);
	wrapped = malloc(len + 16);
	snprintf(wrapped, len + 16, "---\n%s\n---\n", yaml);
	if (store_card_parse(wrapped, strlen(wrapped), &doc, NULL) != 0)
		fail_msg("corpus.yaml: %s", store_lasterror());
	free(yaml);
	free(wrapped);
	cp.cases = json_object_get(doc, "cases");
	assert_true(json_array_size(cp.cases) >= 60);
	json_array_foreach(cp.cases, i, c) {
		struct policy_lineage *lin;
		json_t *out, *want, *got, *wflags, *gflags = json_array(), *f;
		json_t *expect = json_object_get(c, "expect");
		const char *repo = json_string_value(json_object_get(c, "repo"));
		size_t j;
		int ok;

		assert_non_null(json_string_value(json_object_get(c, "cite")));
		assert_int_equal(policy_lineage_build(table, evidence_of(c),
		    resolve, &cp, &lin), 0);
		assert_int_equal(policy_conclude(table, lin, &out), 0);
		want = terms(json_string_value(json_object_get(expect,
		    "concluded")));
		got = terms(json_string_value(json_object_get(out, "concluded")));
		json_array_foreach(json_object_get(out, "flags"), j, f)
			if (!has_flag(gflags, json_string_value(
			    json_object_get(f, "flag"))))
				json_array_append(gflags, json_object_get(f,
				    "flag"));
		wflags = json_object_get(expect, "flags");
		ok = same_set(want, got);
		right += ok;
		json_array_foreach(wflags, j, f) {
			size_t k;
			json_t *m;

			expected++;
			json_array_foreach(gflags, k, m)
				if (json_equal(m, f))
					break;
			found += k < json_array_size(gflags);
		}
		json_array_foreach(gflags, j, f) {
			size_t k;
			json_t *m;

			json_array_foreach(wflags, k, m)
				if (json_equal(m, f))
					break;
			extra += k == json_array_size(wflags);
		}
		for (j = 0; j < json_array_size(wflags); j++)
			if (strcmp(json_string_value(json_array_get(wflags, j)),
			    "declared-differs") == 0) {
				laundering++;
				caught += has_flag(gflags, "declared-differs");
			}
		if (!ok || !same_set(wflags, gflags)) {
			char *g = json_dumps(gflags, JSON_COMPACT), *w =
			    json_dumps(wflags, JSON_COMPACT);

			print_message("# MISMATCH %s: concluded \"%s\" (want "
			    "\"%s\"), flags %s (want %s)\n", repo,
			    json_string_value(json_object_get(out, "concluded")),
			    json_string_value(json_object_get(expect,
			    "concluded")), g, w);
			free(g);
			free(w);
			bad++;
		}
		json_decref(want);
		json_decref(got);
		json_decref(gflags);
		json_decref(out);
		policy_lineage_free(lin);
	}
	print_message("# corpus: conclusions correct %zu/%zu, flags found "
	    "%zu/%zu expected (%zu not expected), laundering flagged "
	    "%zu/%zu\n", right, json_array_size(cp.cases), found, expected,
	    extra, caught, laundering);
	json_decref(doc);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(table_has_every_hub_id_with_a_source),
		cmocka_unit_test(table_encodes_licences_md),
		cmocka_unit_test(table_refuses_bad_entries),
		cmocka_unit_test(normalise_as_documented),
		cmocka_unit_test(fingerprint_is_sha256_of_the_normal_form),
		cmocka_unit_test(gguf_reads_general_keys),
		cmocka_unit_test(recipe_names_every_model),
		cmocka_unit_test(obligations_follow_the_terms),
		cmocka_unit_test(lineage_cycles_bounds_and_errors),
		cmocka_unit_test(licensor_relicenses_its_own),
		cmocka_unit_test(lineage_depth_is_bounded),
		cmocka_unit_test(rules_read_yaml_and_json_alike),
		cmocka_unit_test(rules_refuse_what_they_cannot_mean),
		cmocka_unit_test(gate_judges_a_conclusion),
		cmocka_unit_test(corpus_conclusions_match),
	};

	if (load_table(NULL) != 0)
		return 1;
	return RUN_TAP(tests);
}
