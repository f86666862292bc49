/*
 * recipe.c - the models a mergekit recipe (mergekit_config.yml) merges
 * (policy.h, "mergekit recipes").  The YAML is read by the store's card
 * reader (libyaml, with its node budget and depth limit), given the recipe
 * as front matter.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"
#include "store/store.h"

/* A document marker would end the front matter early: refused. */
static int
several_documents(const char *s, size_t len)
{
	for (size_t line = 0; line < len;) {
		const char *nl = memchr(s + line, '\n', len - line);
		size_t end = nl != NULL ? (size_t)(nl - s) : len, n = end - line;

		if (n > 0 && s[end - 1] == '\r')
			n--;
		if (n >= 3 && (memcmp(s + line, "---", 3) == 0 ||
		    memcmp(s + line, "...", 3) == 0) &&
		    (n == 3 || s[line + 3] == ' ' || s[line + 3] == '\t'))
			return 1;
		line = end + 1;
	}
	return 0;
}

static void
add_model(json_t *out, const char *s)
{
	char buf[BOUND_REPO_ID + 1];
	const char *plus;
	size_t i, n;
	json_t *m;

	/* "base+lora": both are models the merge is made of. */
	while (s != NULL && *s != '\0' &&
	    json_array_size(out) < BOUND_LINEAGE_BASES) {
		plus = strchr(s, '+');
		n = plus != NULL ? (size_t)(plus - s) : strlen(s);
		if (n > 0 && n < sizeof(buf)) {
			memcpy(buf, s, n);
			buf[n] = '\0';
			if (store_repo_valid(buf)) {
				json_array_foreach(out, i, m)
					if (strcmp(json_string_value(m), buf) == 0)
						break;
				if (i == json_array_size(out))
					json_array_append_new(out,
					    json_string(buf));
			}
		}
		s = plus != NULL ? plus + 1 : NULL;
	}
}

/* Every string under a "model" or "base_model" key, at any depth. */
static void
walk(json_t *v, int named, json_t *out)
{
	const char *key;
	json_t *m;
	size_t i;

	if (json_is_string(v) && named)
		add_model(out, json_string_value(v));
	else if (json_is_array(v))
		json_array_foreach(v, i, m)
			walk(m, named, out);
	else if (json_is_object(v))
		json_object_foreach(v, key, m)
			walk(m, strcmp(key, "model") == 0 ||
			    strcmp(key, "base_model") == 0 ||
			    (named && strcmp(key, "path") == 0), out);
}

int
policy_yaml_read(const char *what, const void *buf, size_t len, json_t **out)
{
	const char *err, *p;
	char *wrapped;
	size_t line;
	int rc;

	*out = NULL;
	if (len > BOUND_EVIDENCE_FILE)
		return policy_fail(POLICY_EINVAL, "%s: larger than %d bytes",
		    what, BOUND_EVIDENCE_FILE);
	if (memchr(buf, 0, len) != NULL)
		return policy_fail(POLICY_EINVAL, "%s: a NUL byte", what);
	if (several_documents(buf, len))
		return policy_fail(POLICY_EINVAL, "%s: more than one YAML "
		    "document", what);
	if ((wrapped = malloc(len + 10)) == NULL)
		return ENOMEM;
	memcpy(wrapped, "---\n", 4);
	memcpy(wrapped + 4, buf, len);
	memcpy(wrapped + 4 + len, "\n---\n", 5);
	rc = store_card_parse(wrapped, len + 9, out, NULL);
	free(wrapped);
	if (rc == 0)
		return 0;
	/* The card reader counts the "---" line this added as line 1. */
	err = store_lasterror();
	if ((p = strstr(err, "front matter line ")) != NULL &&
	    sscanf(p, "front matter line %zu:", &line) == 1 &&
	    (p = strchr(p, ':')) != NULL)
		return policy_fail(POLICY_EINVAL, "%s: line %zu:%s", what,
		    line > 1 ? line - 1 : line, p + 1);
	return policy_fail(POLICY_EINVAL, "%s: %s", what, err);
}

int
policy_recipe_read(const void *buf, size_t len, json_t **out)
{
	json_t *doc, *models;
	int rc;

	*out = NULL;
	if ((rc = policy_yaml_read("mergekit recipe", buf, len, &doc)) != 0)
		return rc;
	if ((models = json_array()) == NULL) {
		json_decref(doc);
		return ENOMEM;
	}
	walk(doc, 0, models);
	json_decref(doc);
	*out = models;
	return 0;
}
