/*
 * card.c - a model card's YAML front matter, read with libyaml into JSON
 * (the Hub's cardData) and into the claims a manifest records.
 *
 * Plain scalars are typed as PyYAML types them (the Hub reads cards with
 * it): null, booleans including yes/no/on/off, integers, floats; quoted and
 * block scalars are strings.  Aliases are expanded, so a node budget and a
 * depth limit stop an alias bomb.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "lib/bounds.h"
#include "store/internal.h"

struct conv {
	yaml_document_t	*doc;
	size_t		 nodes;
	const char	*err;
	size_t		 line;
};

static json_t *
scalar(const yaml_node_t *n)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes",
	    "Yes", "YES", "on", "On", "ON" };
	static const char *const no[] = { "false", "False", "FALSE", "no",
	    "No", "NO", "off", "Off", "OFF" };
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	char *end;

	/* libyaml's loader gives every untagged scalar the str tag, so the
	 * style is what tells a quoted "3" from a plain 3. */
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(s, len);
	if (len == 0 || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0)
		return json_null();
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcmp(s, yes[i]) == 0)
			return json_true();
		if (strcmp(s, no[i]) == 0)
			return json_false();
	}
	if (strlen(s) == len && strspn(s, "+-0123456789") == len) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (errno == 0 && *end == '\0' && end != s)
			return json_integer(v);
	}
	if (strlen(s) == len && strspn(s, "+-0123456789.eE") == len &&
	    strpbrk(s, "0123456789") != NULL) {
		double d;

		errno = 0;
		d = strtod(s, &end);
		if (errno == 0 && *end == '\0' && isfinite(d))
			return json_real(d);
	}
	return json_stringn(s, len);
}

static json_t *
convert(struct conv *c, yaml_node_t *n, int depth)
{
	json_t *out;

	if (n == NULL) {
		c->err = "dangling node";
		return NULL;
	}
	c->line = n->start_mark.line + 1;
	if (depth > BOUND_YAML_DEPTH) {
		c->err = "nested too deeply";
		return NULL;
	}
	if (++c->nodes > BOUND_YAML_NODES) {
		c->err = "too many nodes (an alias bomb?)";
		return NULL;
	}
	switch (n->type) {
	case YAML_SCALAR_NODE:
		if ((out = scalar(n)) == NULL)
			c->err = "a string that is not UTF-8";
		return out;
	case YAML_SEQUENCE_NODE:
		if ((out = json_array()) == NULL)
			return NULL;
		for (yaml_node_item_t *i = n->data.sequence.items.start;
		    i < n->data.sequence.items.top; i++) {
			json_t *v = convert(c, yaml_document_get_node(c->doc, *i),
			    depth + 1);

			if (v == NULL || json_array_append_new(out, v) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	case YAML_MAPPING_NODE:
		if ((out = json_object()) == NULL)
			return NULL;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		    p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
			json_t *v;

			if (k == NULL || k->type != YAML_SCALAR_NODE) {
				c->err = "a mapping key that is not a scalar";
				json_decref(out);
				return NULL;
			}
			/* Keys are strings in JSON; a NUL would cut one. */
			if (memchr(k->data.scalar.value, 0,
			    k->data.scalar.length) != NULL) {
				c->line = k->start_mark.line + 1;
				c->err = "a key with a NUL byte";
				json_decref(out);
				return NULL;
			}
			v = convert(c, yaml_document_get_node(c->doc, p->value),
			    depth + 1);
			/* json_object_setn_new takes v even when it fails. */
			if (v == NULL || json_object_setn_new(out,
			    (const char *)k->data.scalar.value,
			    k->data.scalar.length, v) != 0) {
				if (v != NULL && c->err == NULL)
					c->err = "a key that is not UTF-8";
				json_decref(out);
				return NULL;
			}
		}
		return out;
	default:
		c->err = "an empty node";
		return NULL;
	}
}

/*
 * Finds the front matter: the text between a first line "---" and the next
 * line "---".  Returns 0 with *yaml NULL when there is none.
 */
static int
front_matter(const char *s, size_t len, const char **yaml, size_t *ylen)
{
	size_t i;

	*yaml = NULL;
	*ylen = 0;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
		s += 3;	/* a byte order mark */
		len -= 3;
	}
	if (len < 4 || memcmp(s, "---", 3) != 0 ||
	    (s[3] != '\n' && (s[3] != '\r' || len < 5 || s[4] != '\n')))
		return 0;
	i = s[3] == '\n' ? 4 : 5;
	for (size_t line = i; line < len;) {
		const char *nl = memchr(s + line, '\n', len - line);
		size_t end = nl != NULL ? (size_t)(nl - s) : len, n = end - line;

		if (n > 0 && s[end - 1] == '\r')
			n--;
		if (n == 3 && memcmp(s + line, "---", 3) == 0) {
			*yaml = s + i;
			*ylen = line - i;
			return 0;
		}
		line = end + 1;
	}
	return store_fail(STORE_EINVAL, "model card: front matter has no "
	    "closing ---");
}

/* A string, or the first string of a list, or null. */
static json_t *
one_string(json_t *v)
{
	if (json_is_array(v))
		v = json_array_get(v, 0);
	return json_is_string(v) ? json_incref(v) : json_null();
}

/* A list of strings, from a string or a list; other members are dropped. */
static json_t *
string_list(json_t *v)
{
	json_t *out = json_array(), *m;
	size_t i;

	if (out == NULL)
		return NULL;
	if (json_is_string(v))
		json_array_append(out, v);
	else if (json_is_array(v))
		json_array_foreach(v, i, m)
			if (json_is_string(m))
				json_array_append(out, m);
	return out;
}

static json_t *
claims_of(json_t *card)
{
	return json_pack("{s:o,s:o,s:o,s:o,s:o,s:o}",
	    "license", one_string(json_object_get(card, "license")),
	    "license_name", one_string(json_object_get(card, "license_name")),
	    "license_link", one_string(json_object_get(card, "license_link")),
	    "base_model", string_list(json_object_get(card, "base_model")),
	    "base_model_relation", one_string(json_object_get(card,
	    "base_model_relation")),
	    "datasets", string_list(json_object_get(card, "datasets")));
}

/*
 * The manifest that carries the claims refuses a NUL in a string, as
 * other JSON readers would cut the string there: names the first claim
 * that has one.
 */
static const char *
claim_with_nul(json_t *claims)
{
	const char *key;
	json_t *v, *m;
	size_t i;

	json_object_foreach(claims, key, v) {
		if (json_is_string(v) &&
		    strlen(json_string_value(v)) != json_string_length(v))
			return key;
		json_array_foreach(v, i, m)
			if (strlen(json_string_value(m)) != json_string_length(m))
				return key;
	}
	return NULL;
}

int
store_card_parse(const void *buf, size_t len, json_t **cardp, json_t **claimsp)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct conv c = { 0 };
	const char *yaml;
	size_t ylen;
	json_t *card = NULL;
	yaml_node_t *rootnode;
	const char *key;
	int rc;

	if (cardp != NULL)
		*cardp = NULL;
	if (claimsp != NULL)
		*claimsp = NULL;
	if (len > BOUND_CARD)
		return store_fail(STORE_EINVAL, "model card: larger than %d "
		    "bytes", BOUND_CARD);
	if ((rc = front_matter(buf, len, &yaml, &ylen)) != 0)
		return rc;
	if (yaml == NULL || ylen == 0)
		card = json_object();
	else {
		if (!yaml_parser_initialize(&parser))
			return ENOMEM;
		yaml_parser_set_input_string(&parser, (const unsigned char *)yaml,
		    ylen);
		if (!yaml_parser_load(&parser, &doc)) {
			rc = store_fail(STORE_EINVAL, "model card: front matter "
			    "line %zu: %s", parser.problem_mark.line + 2,
			    parser.problem != NULL ? parser.problem : "bad YAML");
			yaml_parser_delete(&parser);
			return rc;
		}
		c.doc = &doc;
		rootnode = yaml_document_get_root_node(&doc);
		if (rootnode == NULL)
			card = json_object();
		else if (rootnode->type != YAML_MAPPING_NODE)
			c.err = "front matter is not a mapping";
		else
			card = convert(&c, rootnode, 0);
		yaml_document_delete(&doc);
		yaml_parser_delete(&parser);
		if (card == NULL)
			return store_fail(STORE_EINVAL, "model card: front matter "
			    "line %zu: %s", c.line + 1, c.err != NULL ? c.err :
			    "out of memory");
	}
	if (card == NULL)
		return ENOMEM;
	if (claimsp != NULL && (*claimsp = claims_of(card)) == NULL) {
		json_decref(card);
		return ENOMEM;
	}
	if (claimsp != NULL && (key = claim_with_nul(*claimsp)) != NULL) {
		rc = store_fail(STORE_EINVAL, "model card: %s has a NUL byte",
		    key);
		json_decref(*claimsp);
		*claimsp = NULL;
		json_decref(card);
		return rc;
	}
	if (cardp != NULL)
		*cardp = card;
	else
		json_decref(card);
	return 0;
}

static void
tag_add(json_t *tags, const char *prefix, const char *tag)
{
	char buf[BOUND_REPO_ID + 64];
	size_t i;
	json_t *v;

	if (tag == NULL || *tag == '\0')
		return;
	if (prefix != NULL) {
		snprintf(buf, sizeof(buf), "%s:%s", prefix, tag);
		tag = buf;
	}
	json_array_foreach(tags, i, v)
		if (strcmp(json_string_value(v), tag) == 0)
			return;
	json_array_append_new(tags, json_string(tag));
}

/* A card field that may be one string or a list of them. */
static void
tags_of(json_t *tags, json_t *card, const char *field, const char *prefix)
{
	json_t *t = json_object_get(card, field), *v;
	size_t i;

	if (json_is_string(t))
		tag_add(tags, prefix, json_string_value(t));
	json_array_foreach(t, i, v)
		if (json_is_string(v))
			tag_add(tags, prefix, json_string_value(v));
}

json_t *
store_card_tags(json_t *card)
{
	json_t *tags = json_array();

	if (tags == NULL || !json_is_object(card))
		return tags;
	tags_of(tags, card, "tags", NULL);
	tags_of(tags, card, "library_name", NULL);
	tags_of(tags, card, "pipeline_tag", NULL);
	tags_of(tags, card, "language", NULL);
	tags_of(tags, card, "license", "license");
	tags_of(tags, card, "datasets", "dataset");
	tags_of(tags, card, "base_model", "base_model");
	return tags;
}
