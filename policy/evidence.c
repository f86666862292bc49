/*
 * evidence.c - what one revision claims, read from its files (policy.h,
 * "Evidence"): the card, licence and notice files, adapter_config.json,
 * config.json, GGUF metadata and mergekit recipes, settled into declared
 * licences, bases (each with where its name came from) and a relation.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "policy/internal.h"
#include "store/store.h"
#include "lib/names.h"

static const char *const licence_prefixes[] = {
	"LICENSE", "LICENCE", "COPYING", "NOTICE",
};

/* Words in file names and tags that mark a quantisation. */
static const char *const quant_words[] = {
	"gguf", "gptq", "awq", "exl2", "bnb", "4bit", "4-bit", "8bit",
	"8-bit", "quantized", "int4", "int8",
};

/* Architectures and pipelines of models that take images. */
static const char *const multimodal_words[] = {
	"image-text-to-text", "visual-question-answering", "image-to-text",
	"any-to-any", "video-text-to-text", "Vision", "Mllama", "Llava",
	"Llama4ForConditionalGeneration", "Gemma3ForConditionalGeneration",
	"VLForConditionalGeneration",
};

static int
has_word(const char *s, const char *const *words, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasestr(s, words[i]) != NULL)
			return 1;
	return 0;
}

#define NWORDS(a)	(sizeof(a) / sizeof((a)[0]))

int
policy_evidence_new(const struct policy_table *t, const char *repo,
    const char *commit, struct policy_evidence **out)
{
	struct policy_evidence *ev;

	*out = NULL;
	if ((ev = calloc(1, sizeof(*ev))) == NULL)
		return ENOMEM;
	ev->table = t;
	ev->repo = strdup(repo);
	ev->commit = commit != NULL ? strdup(commit) : NULL;
	ev->declared = json_array();
	ev->bases = json_array();
	ev->history = json_array();
	ev->notes = json_array();
	if (ev->repo == NULL || (commit != NULL && ev->commit == NULL) ||
	    ev->declared == NULL || ev->bases == NULL || ev->history == NULL ||
	    ev->notes == NULL) {
		policy_evidence_free(ev);
		return ENOMEM;
	}
	*out = ev;
	return 0;
}

void
policy_evidence_free(struct policy_evidence *ev)
{
	if (ev == NULL)
		return;
	for (size_t i = 0; i < ev->nfiles; i++) {
		free(ev->files[i].path);
		free(ev->files[i].text);
	}
	free(ev->repo);
	free(ev->commit);
	free(ev->declared_source);
	free(ev->relation);
	free(ev->relation_source);
	free(ev->config_name);
	free(ev->adapter_base);
	free(ev->body_base);
	json_decref(ev->card);
	json_decref(ev->card_licence);
	json_decref(ev->declared);
	json_decref(ev->bases);
	json_decref(ev->gguf);
	json_decref(ev->recipe);
	json_decref(ev->history);
	json_decref(ev->notes);
	free(ev);
}

static void
note(struct policy_evidence *ev, const char *path, const char *why)
{
	json_array_append_new(ev->notes, json_pack("{s:s,s:s}", "file", path,
	    "note", why));
}

static int
is_licence_file(const char *path)
{
	if (strchr(path, '/') != NULL)
		return 0;
	for (size_t i = 0; i < NWORDS(licence_prefixes); i++)
		if (strncasecmp(path, licence_prefixes[i],
		    strlen(licence_prefixes[i])) == 0)
			return 1;
	return 0;
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

size_t
policy_evidence_wants(const char *path, uint64_t size)
{
	uint64_t want = 0;

	if (strcmp(path, "README.md") == 0)
		want = BOUND_CARD;
	else if (is_licence_file(path) || strcmp(path, "adapter_config.json")
	    == 0 || strcmp(path, "config.json") == 0 ||
	    strcmp(path, "mergekit_config.yml") == 0)
		want = BOUND_EVIDENCE_FILE;
	else if (ends_with(path, ".gguf"))
		want = BOUND_GGUF_PREFIX;
	return (size_t)(size < want ? size : want);
}

/* A base's id from what a file wrote: an id or a Hub URL of one. */
static char *
repo_id(const char *s)
{
	static const char *const prefixes[] = {
		"https://huggingface.co/", "http://huggingface.co/",
		"https://hf.co/", "huggingface.co/", "hf.co/",
	};
	char buf[BOUND_REPO_ID + 1];
	size_t n;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < NWORDS(prefixes); i++)
		if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0) {
			s += strlen(prefixes[i]);
			break;
		}
	if (strncmp(s, NAME_MODELS_PREFIX, strlen(NAME_MODELS_PREFIX)) == 0)
		s += strlen(NAME_MODELS_PREFIX);
	n = strcspn(s, "?#");
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '/')
		buf[--n] = '\0';
	/* ORG/NAME/tree/main and the like: the first two parts. */
	{
		char *slash = strchr(buf, '/');

		if (slash != NULL && (slash = strchr(slash + 1, '/')) != NULL)
			*slash = '\0';
	}
	return store_repo_valid(buf) ? strdup(buf) : NULL;
}

/* The body's "fine-tuned version of [ORG/NAME](URL)", as the Trainer
 * writes it. */
static char *
body_base(const char *s, size_t len)
{
	static const char phrase[] = "fine-tuned version of [";
	char *text, *p, *close, *id = NULL;

	if ((text = strndup(s, len)) == NULL)
		return NULL;
	if ((p = strcasestr(text, phrase)) != NULL &&
	    (close = strstr(p += sizeof(phrase) - 1, "](")) != NULL &&
	    close - p <= BOUND_REPO_ID) {
		char *url = close + 2, *end = strchr(url, ')');

		*close = '\0';
		if ((id = repo_id(p)) == NULL && end != NULL) {
			*end = '\0';
			id = repo_id(url);
		}
	}
	free(text);
	return id;
}

/* Where the card's body starts: after the front matter's closing ---. */
static size_t
body_start(const char *s, size_t len)
{
	if (len < 4 || memcmp(s, "---", 3) != 0)
		return 0;
	for (size_t i = 3; i + 4 <= len; i++)
		if (s[i] == '\n' && memcmp(s + i + 1, "---", 3) == 0) {
			const char *nl = memchr(s + i + 4, '\n', len - i - 4);

			return nl != NULL ? (size_t)(nl - s) + 1 : len;
		}
	return 0;
}

static void
read_card(struct policy_evidence *ev, const char *buf, size_t len)
{
	json_t *card = NULL, *tags, *m;
	const char *s;
	size_t i, body;

	if (store_card_parse(buf, len, &card, NULL) != 0) {
		note(ev, "README.md", store_lasterror());
		return;
	}
	json_decref(ev->card);
	ev->card = card;
	ev->has_card = 1;
	ev->eu_disallowed = json_is_true(json_object_get(card,
	    "extra_gated_eu_disallowed"));
	if ((s = json_string_value(json_object_get(card, "pipeline_tag")))
	    != NULL && has_word(s, multimodal_words, 5))
		ev->multimodal = 1;
	tags = json_object_get(card, "tags");
	json_array_foreach(tags, i, m)
		if (json_is_string(m) && has_word(json_string_value(m),
		    quant_words, NWORDS(quant_words)))
			ev->quant_files = 1;
	body = body_start(buf, len);
	free(ev->body_base);
	ev->body_base = body_base(buf + body, len - body);
}

static void
read_licence_file(struct policy_evidence *ev, const char *path,
    const uint8_t sha256[32], const char *buf, size_t len)
{
	struct policy_file *f;

	if (ev->nfiles == BOUND_EVIDENCE_FILES) {
		note(ev, path, "more licence files than BOUND_EVIDENCE_FILES");
		return;
	}
	f = &ev->files[ev->nfiles];
	memset(f, 0, sizeof(*f));
	if ((f->path = strdup(path)) == NULL)
		return;
	if (sha256 != NULL)
		store_hex(sha256, 32, f->sha256);
	f->notice = strncasecmp(path, "NOTICE", 6) == 0;
	if (buf != NULL) {
		uint8_t fp[POLICY_FINGERPRINT_LEN];

		policy_fingerprint(buf, len, fp);
		store_hex(fp, sizeof(fp), f->fingerprint);
		f->licence = policy_licence_by_text(ev->table, buf, len);
		if (policy_normalise(buf, len, &f->text, NULL) != 0)
			f->text = NULL;
	}
	ev->nfiles++;
}

static json_t *
read_json(struct policy_evidence *ev, const char *path, const char *buf,
    size_t len)
{
	json_error_t jerr;
	json_t *v;

	if ((v = json_loadb(buf, len, 0, &jerr)) == NULL || !json_is_object(v)) {
		char why[256];

		snprintf(why, sizeof(why), "not a JSON object (line %d: %s)",
		    jerr.line, v == NULL ? jerr.text : "not an object");
		note(ev, path, why);
		json_decref(v);
		return NULL;
	}
	return v;
}

static void
read_config(struct policy_evidence *ev, const char *buf, size_t len)
{
	json_t *c = read_json(ev, "config.json", buf, len), *m;
	size_t i;

	if (c == NULL)
		return;
	free(ev->config_name);
	ev->config_name = repo_id(json_string_value(json_object_get(c,
	    "_name_or_path")));
	if (json_is_object(json_object_get(c, "quantization_config")))
		ev->quant_config = 1;
	json_array_foreach(json_object_get(c, "architectures"), i, m)
		if (json_is_string(m) && has_word(json_string_value(m),
		    multimodal_words + 5, NWORDS(multimodal_words) - 5))
			ev->multimodal = 1;
	json_decref(c);
}

static void
read_adapter(struct policy_evidence *ev, const char *buf, size_t len)
{
	json_t *c = read_json(ev, "adapter_config.json", buf, len);

	ev->adapter_files = 1;
	if (c == NULL)
		return;
	free(ev->adapter_base);
	ev->adapter_base = repo_id(json_string_value(json_object_get(c,
	    "base_model_name_or_path")));
	json_decref(c);
}

static void
read_gguf(struct policy_evidence *ev, const char *path, const char *buf,
    size_t len)
{
	json_t *meta;

	ev->quant_files = 1;
	if (buf == NULL || ev->ngguf >= BOUND_GGUF_FILES)
		return;
	ev->ngguf++;
	if (policy_gguf_read(buf, len, &meta) != 0) {
		note(ev, path, policy_lasterror());
		return;
	}
	if (ev->gguf == NULL)
		ev->gguf = meta;
	else
		json_decref(meta);
}

static void
read_recipe(struct policy_evidence *ev, const char *buf, size_t len)
{
	json_t *models;

	if (policy_recipe_read(buf, len, &models) != 0) {
		note(ev, "mergekit_config.yml", policy_lasterror());
		return;
	}
	json_decref(ev->recipe);
	ev->recipe = models;
}

int
policy_evidence_file(struct policy_evidence *ev, const char *path,
    uint64_t size, const uint8_t sha256[32], const void *buf, size_t len)
{
	const char *base = strrchr(path, '/');

	(void)size;
	base = base != NULL ? base + 1 : path;
	if (strcmp(path, "README.md") == 0 && buf != NULL)
		read_card(ev, buf, len);
	else if (is_licence_file(path))
		read_licence_file(ev, path, sha256, buf, len);
	else if (strcmp(path, "adapter_config.json") == 0 && buf != NULL)
		read_adapter(ev, buf, len);
	else if (strcmp(path, "config.json") == 0 && buf != NULL)
		read_config(ev, buf, len);
	else if (strcmp(path, "mergekit_config.yml") == 0 && buf != NULL)
		read_recipe(ev, buf, len);
	else if (ends_with(path, ".gguf"))
		read_gguf(ev, path, buf, len);
	else if (strncmp(base, "adapter_model.", 14) == 0)
		ev->adapter_files = 1;
	else if (has_word(base, quant_words + 1, 3) || ends_with(path,
	    ".exl2"))
		ev->quant_files = 1;
	ev->finished = 0;
	return 0;
}

/* One declared value: an id of the table, "other", or "other:NAME". */
static json_t *
declared_one(const struct policy_table *t, const char *v, json_t *claims,
    const struct policy_file *files, size_t nfiles)
{
	const struct policy_licence *l;
	const char *name, *link;
	char buf[256];

	if (strcasecmp(v, "other") != 0) {
		if ((l = policy_licence_find(t, v)) != NULL)
			return json_string(l->id);
		snprintf(buf, sizeof(buf), "other:%s", v);
		return json_string(buf);
	}
	name = json_string_value(json_object_get(claims, "license_name"));
	link = json_string_value(json_object_get(claims, "license_link"));
	if (name != NULL && *name != '\0') {
		if ((l = policy_licence_find(t, name)) != NULL)
			return json_string(l->id);
		snprintf(buf, sizeof(buf), "other:%s", name);
		return json_string(buf);
	}
	if ((l = policy_licence_by_link(t, link)) != NULL)
		return json_string(l->id);
	for (size_t i = 0; i < nfiles; i++)
		if (!files[i].notice && files[i].licence != NULL)
			return json_string(files[i].licence->id);
	return json_string("other");
}

static void
append_unique(json_t *list, json_t *v)
{
	json_t *m;
	size_t i;

	if (v == NULL)
		return;
	json_array_foreach(list, i, m)
		if (json_equal(m, v)) {
			json_decref(v);
			return;
		}
	json_array_append_new(list, v);
}

json_t *
policy_declared_of(const struct policy_table *t, json_t *claims,
    const struct policy_file *files, size_t nfiles, int *unknown)
{
	json_t *out = json_array(), *lic, *m;
	size_t i;

	*unknown = 0;
	if (out == NULL)
		return NULL;
	lic = json_object_get(claims, "license");
	if (json_is_string(lic))
		lic = json_pack("[O]", lic);
	else
		json_incref(lic);
	json_array_foreach(lic, i, m) {
		const char *v = json_string_value(m);

		if (v == NULL || *v == '\0')
			continue;
		if (strcasecmp(v, "unknown") == 0) {
			*unknown = 1;
			continue;
		}
		append_unique(out, declared_one(t, v, claims, files, nfiles));
	}
	json_decref(lic);
	return out;
}

static void
settle_declared(struct policy_evidence *ev)
{
	const char *src = NULL;
	json_t *d = NULL, *g;
	int unknown = 0;

	json_decref(ev->card_licence);
	ev->card_licence = NULL;
	if (ev->card != NULL && json_object_get(ev->card, "license") != NULL) {
		ev->card_licence = json_incref(json_object_get(ev->card,
		    "license"));
		d = policy_declared_of(ev->table, ev->card, ev->files,
		    ev->nfiles, &unknown);
		src = "card";
	}
	if ((d == NULL || json_array_size(d) == 0) && !unknown &&
	    json_is_string(json_object_get(ev->gguf, "general.license"))) {
		json_decref(d);
		g = json_pack("{s:O}", "license", json_object_get(ev->gguf,
		    "general.license"));
		d = policy_declared_of(ev->table, g, ev->files, ev->nfiles,
		    &unknown);
		json_decref(g);
		src = "gguf";
	}
	if ((d == NULL || json_array_size(d) == 0) && !unknown) {
		json_decref(d);
		d = json_array();
		for (size_t i = 0; i < ev->nfiles; i++)
			if (!ev->files[i].notice && ev->files[i].licence != NULL)
				append_unique(d, json_string(
				    ev->files[i].licence->id));
		src = "licence-file";
	}
	json_decref(ev->declared);
	ev->declared = d != NULL ? d : json_array();
	free(ev->declared_source);
	ev->declared_source = json_array_size(ev->declared) > 0 || unknown ?
	    strdup(src) : NULL;
}

static void
add_base(struct policy_evidence *ev, char *repo, const char *source)
{
	json_t *m;
	size_t i;

	if (repo == NULL)
		return;
	if (strcmp(repo, ev->repo) == 0 ||
	    json_array_size(ev->bases) >= BOUND_LINEAGE_BASES) {
		free(repo);
		return;
	}
	json_array_foreach(ev->bases, i, m)
		if (strcmp(json_string_value(json_object_get(m, "repo")),
		    repo) == 0) {
			free(repo);
			return;
		}
	json_array_append_new(ev->bases, json_pack("{s:s,s:s}", "repo", repo,
	    "source", source));
	free(repo);
}

static void
gguf_bases(struct policy_evidence *ev)
{
	json_int_t n = json_integer_value(json_object_get(ev->gguf,
	    "general.base_model.count"));
	char key[64];

	for (json_int_t i = 0; i < n && i < BOUND_LINEAGE_BASES; i++) {
		snprintf(key, sizeof(key), "general.base_model.%lld.repo_url",
		    (long long)i);
		add_base(ev, repo_id(json_string_value(json_object_get(ev->gguf,
		    key))), "gguf");
	}
}

static void
settle_bases(struct policy_evidence *ev)
{
	json_t *b = json_object_get(ev->card, "base_model"), *m;
	size_t i;

	json_array_clear(ev->bases);
	if (json_is_string(b))
		add_base(ev, repo_id(json_string_value(b)), "card");
	json_array_foreach(b, i, m)
		add_base(ev, repo_id(json_string_value(m)), "card");
	if (json_array_size(ev->bases) == 0)
		add_base(ev, ev->adapter_base != NULL ?
		    strdup(ev->adapter_base) : NULL, "adapter_config");
	if (json_array_size(ev->bases) == 0)
		gguf_bases(ev);
	if (json_array_size(ev->bases) == 0)
		json_array_foreach(ev->recipe, i, m)
			add_base(ev, strdup(json_string_value(m)), "recipe");
	if (json_array_size(ev->bases) == 0)
		add_base(ev, ev->body_base != NULL ? strdup(ev->body_base) :
		    NULL, "card-body");
	if (json_array_size(ev->bases) == 0)
		add_base(ev, ev->config_name != NULL ?
		    strdup(ev->config_name) : NULL, "config");
}

static void
settle_relation(struct policy_evidence *ev)
{
	static const char *const relations[] = {
		"adapter", "merge", "quantized", "finetune",
	};
	const char *r = json_string_value(json_object_get(ev->card,
	    "base_model_relation")), *src = "card";

	if (r != NULL) {
		size_t i;

		for (i = 0; i < NWORDS(relations); i++)
			if (strcmp(r, relations[i]) == 0)
				break;
		if (i == NWORDS(relations)) {
			note(ev, "README.md", "base_model_relation is none of "
			    "adapter, merge, quantized, finetune");
			r = NULL;
		}
	}
	if (r == NULL) {
		src = "inferred";
		if (json_array_size(ev->bases) == 0)
			r = NULL;
		else if (ev->adapter_files)
			r = "adapter";
		else if (ev->quant_config || ev->ngguf > 0)
			r = "quantized";
		else if (json_array_size(ev->bases) > 1 || ev->recipe != NULL)
			r = "merge";
		else if (ev->quant_files)
			r = "quantized";
		else
			r = "finetune";
	}
	free(ev->relation);
	free(ev->relation_source);
	ev->relation = r != NULL ? strdup(r) : NULL;
	ev->relation_source = r != NULL ? strdup(src) : NULL;
}

void
policy_evidence_finish(struct policy_evidence *ev)
{
	if (ev->finished)
		return;
	settle_declared(ev);
	settle_bases(ev);
	settle_relation(ev);
	ev->finished = 1;
}

const char *
policy_evidence_relation(const struct policy_evidence *ev)
{
	return ev->relation;
}

json_t *
policy_evidence_bases(const struct policy_evidence *ev)
{
	policy_evidence_finish((struct policy_evidence *)ev);
	return ev->bases;
}

int
policy_evidence_history(struct policy_evidence *ev, const char *revision,
    json_t *claims)
{
	json_t *d;
	int unknown;

	if ((d = policy_declared_of(ev->table, claims, NULL, 0, &unknown))
	    == NULL)
		return ENOMEM;
	if (unknown)
		json_array_append_new(d, json_string("unknown"));
	return json_array_append_new(ev->history, json_pack("{s:s,s:o}",
	    "revision", revision, "declared", d)) == 0 ? 0 : ENOMEM;
}

json_t *
policy_evidence_json(const struct policy_evidence *cev)
{
	struct policy_evidence *ev = (struct policy_evidence *)cev;
	json_t *files = json_array();

	policy_evidence_finish(ev);
	for (size_t i = 0; i < ev->nfiles; i++) {
		const struct policy_file *f = &ev->files[i];

		json_array_append_new(files, json_pack("{s:s,s:s?,s:s?,s:s?,s:b}",
		    "path", f->path, "sha256", f->sha256[0] ? f->sha256 : NULL,
		    "fingerprint", f->fingerprint[0] ? f->fingerprint : NULL,
		    "fingerprint_of", f->licence != NULL ? f->licence->id : NULL,
		    "notice", f->notice));
	}
	return json_pack("{s:s,s:s?,s:b,s:O?,s:O,s:s?,s:O,s:s?,s:s?,s:o,"
	    "s:O?,s:O?,s:s?,s:s?,s:s?,s:O,s:O}",
	    "repo", ev->repo, "commit", ev->commit, "card", ev->has_card,
	    "license_as_written", ev->card_licence, "declared", ev->declared,
	    "declared_source", ev->declared_source, "bases", ev->bases,
	    "relation", ev->relation, "relation_source", ev->relation_source,
	    "licence_files", files, "gguf", ev->gguf, "recipe", ev->recipe,
	    "adapter_base", ev->adapter_base, "config_name_or_path",
	    ev->config_name, "body_base", ev->body_base, "history",
	    ev->history, "notes", ev->notes);
}
