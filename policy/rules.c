/*
 * rules.c - the gate's rules: a policy file (YAML or JSON) read and
 * checked against the licence table, and a conclusion judged by it
 * (policy.h, "The gate").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/internal.h"
#include "store/store.h"

struct policy_rules {
	json_t	*doc;		/* the canonical form: what policy_rules_json gives */
};

static const char *const flag_names[] = {
	POLICY_FLAG_DIFFERS, POLICY_FLAG_MISSING, POLICY_FLAG_UNNAMED,
	POLICY_FLAG_UNKNOWN, POLICY_FLAG_NAMING, POLICY_FLAG_MERGE,
	POLICY_FLAG_CHANGED, POLICY_FLAG_NOFILE, POLICY_FLAG_NONOTICE,
	POLICY_FLAG_ANCESTOR,
};

int
policy_flag_valid(const char *name)
{
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (strcmp(name, flag_names[i]) == 0)
			return 1;
	return 0;
}

void
policy_rules_free(struct policy_rules *r)
{
	if (r == NULL)
		return;
	json_decref(r->doc);
	free(r);
}

/* A list of licence ids, each spelled as the table spells it. */
static int
licence_list(const struct policy_table *t, json_t *v, const char *key,
    json_t **out)
{
	json_t *m;
	size_t i;

	*out = json_array();
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return policy_fail(POLICY_EINVAL, "policy: %s is not a list",
		    key);
	json_array_foreach(v, i, m) {
		const struct policy_licence *l;
		const char *s = json_string_value(m);

		if (s == NULL)
			return policy_fail(POLICY_EINVAL, "policy: %s[%zu] is "
			    "not a licence id", key, i);
		if ((l = policy_licence_find(t, s)) != NULL)
			s = l->id;
		else if (strncmp(s, "other:", 6) != 0 || s[6] == '\0')
			return policy_fail(POLICY_EINVAL, "policy: %s[%zu]: %s "
			    "is not in the licence table (write other:NAME for "
			    "a licence it lacks)", key, i, s);
		json_array_append_new(*out, json_string(s));
	}
	return 0;
}

static int
flag_list(json_t *v, json_t **out)
{
	json_t *m;
	size_t i;

	*out = json_array();
	if (v == NULL)
		return 0;
	if (!json_is_array(v))
		return policy_fail(POLICY_EINVAL, "policy: refuse_flags is not "
		    "a list");
	json_array_foreach(v, i, m) {
		if (!json_is_string(m) || !policy_flag_valid(json_string_value(m)))
			return policy_fail(POLICY_EINVAL, "policy: refuse_flags"
			    "[%zu]: %s is not a flag policy/ raises", i,
			    json_is_string(m) ? json_string_value(m) : "?");
		json_array_append(*out, m);
	}
	return 0;
}

static int
parse_doc(json_t *doc, const struct policy_table *t, json_t **out)
{
	static const char *const keys[] = {
		"allow", "deny", "refuse_flags", "min_signatures",
		"allow_unknown_lineage",
	};
	json_t *allow = NULL, *deny = NULL, *flags = NULL, *v;
	const char *key;
	json_int_t sigs = 0;
	int unknown = 1, rc;

	json_object_foreach(doc, key, v) {
		size_t i;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(key, keys[i]) == 0)
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return policy_fail(POLICY_EINVAL, "policy: unknown key "
			    "\"%s\"", key);
	}
	if ((v = json_object_get(doc, "min_signatures")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > 255)
			return policy_fail(POLICY_EINVAL, "policy: "
			    "min_signatures is not a count from 0 to 255");
		sigs = json_integer_value(v);
	}
	if ((v = json_object_get(doc, "allow_unknown_lineage")) != NULL) {
		if (!json_is_boolean(v))
			return policy_fail(POLICY_EINVAL, "policy: "
			    "allow_unknown_lineage is not true or false");
		unknown = json_is_true(v);
	}
	if ((rc = licence_list(t, json_object_get(doc, "allow"), "allow",
	    &allow)) != 0 ||
	    (rc = licence_list(t, json_object_get(doc, "deny"), "deny",
	    &deny)) != 0 ||
	    (rc = flag_list(json_object_get(doc, "refuse_flags"), &flags)) != 0) {
		json_decref(allow);
		json_decref(deny);
		json_decref(flags);
		return rc;
	}
	*out = json_pack("{s:o*,s:o,s:o,s:I,s:b}", "allow",
	    json_object_get(doc, "allow") != NULL ? allow : NULL, "deny", deny,
	    "refuse_flags", flags, "min_signatures", sigs,
	    "allow_unknown_lineage", unknown);
	if (json_object_get(doc, "allow") == NULL)
		json_decref(allow);
	return *out != NULL ? 0 : ENOMEM;
}

int
policy_rules_parse(const struct policy_table *t, const void *buf, size_t len,
    struct policy_rules **out)
{
	json_t *doc = NULL;
	int rc;

	*out = NULL;
	/* JSON is read as YAML, whose flow style it is. */
	if ((rc = policy_yaml_read("policy", buf, len, &doc)) != 0)
		return rc;
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		json_decref(doc);
		return ENOMEM;
	}
	rc = parse_doc(doc, t, &(*out)->doc);
	json_decref(doc);
	if (rc != 0) {
		policy_rules_free(*out);
		*out = NULL;
	}
	return rc;
}

json_t *
policy_rules_json(const struct policy_rules *r)
{
	return r->doc;
}

static int
listed(json_t *list, const char *s)
{
	json_t *m;
	size_t i;

	json_array_foreach(list, i, m)
		if (strcmp(json_string_value(m), s) == 0)
			return 1;
	return 0;
}

int
policy_gate(const struct policy_rules *r, json_t *conclusion,
    unsigned signatures, char *reason, size_t size)
{
	json_t *allow = json_object_get(r->doc, "allow"), *f;
	const char *c = json_string_value(json_object_get(conclusion,
	    "concluded"));
	char *terms, *t, *save = NULL;
	size_t i;
	int rc = 0;

	snprintf(reason, size, "allowed");
	json_array_foreach(json_object_get(conclusion, "flags"), i, f) {
		const char *name = json_string_value(json_object_get(f, "flag"));

		if (listed(json_object_get(r->doc, "refuse_flags"), name)) {
			snprintf(reason, size, "flag %s refuses it: %s", name,
			    json_string_value(json_object_get(f, "detail")));
			return POLICY_EDENIED;
		}
	}
	if (json_integer_value(json_object_get(r->doc, "min_signatures")) >
	    (json_int_t)signatures) {
		snprintf(reason, size, "%u trusted signatures, the policy asks "
		    "for %lld", signatures, (long long)json_integer_value(
		    json_object_get(r->doc, "min_signatures")));
		return POLICY_EDENIED;
	}
	if (c == NULL || (terms = strdup(c)) == NULL)
		return ENOMEM;
	/* Terms are joined by " AND "; "unknown beyond X" has spaces. */
	for (t = terms; t != NULL && rc == 0; t = save) {
		char *and = strstr(t, " AND ");

		save = NULL;
		if (and != NULL) {
			*and = '\0';
			save = and + 5;
		}
		if (strncmp(t, "unknown beyond ", 15) == 0) {
			if (!json_is_true(json_object_get(r->doc,
			    "allow_unknown_lineage"))) {
				snprintf(reason, size, "the lineage is %s and "
				    "the policy refuses unknown lineage", t);
				rc = POLICY_EDENIED;
			}
		} else if (listed(json_object_get(r->doc, "deny"), t)) {
			snprintf(reason, size, "the concluded licence %s is "
			    "denied (%s)", t, c);
			rc = POLICY_EDENIED;
		} else if (allow != NULL && !listed(allow, t)) {
			snprintf(reason, size, "the concluded licence %s is not "
			    "among those allowed (%s)", t, c);
			rc = POLICY_EDENIED;
		}
	}
	free(terms);
	return rc;
}
