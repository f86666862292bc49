/*
 * table.c - the licence table: licences.json read, checked whole and
 * looked up by id, alias, link and fingerprint (policy.h, "The licence
 * table").
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/internal.h"
#include "store/store.h"

#ifndef POLICY_LICENCES_FILE
#define POLICY_LICENCES_FILE	"/usr/local/share/airlock/licences.json"
#endif

struct fingerprint {
	uint8_t				 sha[POLICY_FINGERPRINT_LEN];
	const struct policy_licence	*licence;
};

/* A name (id or alias) or a link, in its compared form. */
struct key {
	char				*key;
	const struct policy_licence	*licence;
};

struct policy_table {
	json_t			*root;
	struct policy_licence	*entries;
	size_t			 n;
	struct key		*names;
	size_t			 nnames;
	struct key		*links;
	size_t			 nlinks;
	struct fingerprint	*prints;
	size_t			 nprints;
	/* Normalised strings the entries point to (titles), freed with it. */
	char			**owned;
	size_t			 nowned;
	const char		**lists;	/* licensors and titles */
};

const char *
policy_table_path(void)
{
	const char *env = getenv("AIRLOCK_LICENCES");

	return env != NULL && *env != '\0' ? env : POLICY_LICENCES_FILE;
}

/* A name as compared: lower case, ' ' and '_' as '-'. */
static char *
name_key(const char *s)
{
	char *k = strdup(s), *p;

	if (k == NULL)
		return NULL;
	for (p = k; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
		else if (*p == ' ' || *p == '_')
			*p = '-';
	}
	return k;
}

/* A link as compared: no scheme, no "www.", no trailing '/', lower case. */
static char *
link_key(const char *s)
{
	char *k, *p;
	size_t n;

	if (strncasecmp(s, "https://", 8) == 0)
		s += 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		s += 7;
	if (strncasecmp(s, "www.", 4) == 0)
		s += 4;
	if ((k = strdup(s)) == NULL)
		return NULL;
	for (p = k; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	n = strlen(k);
	while (n > 0 && k[n - 1] == '/')
		k[--n] = '\0';
	return k;
}

static int
key_cmp(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->key,
	    ((const struct key *)b)->key);
}

static const struct policy_licence *
key_find(const struct key *keys, size_t n, const char *k)
{
	struct key want = { .key = (char *)k };
	const struct key *hit;

	hit = bsearch(&want, keys, n, sizeof(*keys), key_cmp);
	return hit != NULL ? hit->licence : NULL;
}

void
policy_table_free(struct policy_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nnames; i++)
		free(t->names[i].key);
	for (size_t i = 0; i < t->nlinks; i++)
		free(t->links[i].key);
	for (size_t i = 0; i < t->nowned; i++)
		free(t->owned[i]);
	free(t->names);
	free(t->links);
	free(t->prints);
	free(t->owned);
	free(t->lists);
	free(t->entries);
	json_decref(t->root);
	free(t);
}

/* Checking one entry's fields, with the entry named in every error. */
struct check {
	json_t		*e;
	size_t		 i;
	const char	*id;
};

static int
bad(const struct check *c, const char *field, const char *why)
{
	return policy_fail(POLICY_EINVAL, "licences.json: entry %zu (%s): "
	    "%s %s", c->i + 1, c->id != NULL ? c->id : "no id", field, why);
}

/* A string field: required ones must be non-empty; *out NULL if absent. */
static int
get_string(const struct check *c, const char *field, int required,
    const char **out)
{
	json_t *v = json_object_get(c->e, field);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return required ? bad(c, field, "is missing") : 0;
	if (!json_is_string(v) || (required && json_string_length(v) == 0))
		return bad(c, field, "is not a string");
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bad(c, field, "has a NUL byte");
	*out = json_string_value(v);
	return 0;
}

static int
get_bool(const struct check *c, const char *field, int *out)
{
	json_t *v = json_object_get(c->e, field);

	*out = 0;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_boolean(v))
		return bad(c, field, "is not true or false");
	*out = json_is_true(v);
	return 0;
}

/* A list of strings; NULL or absent is empty. */
static int
get_list(const struct check *c, const char *field, json_t **out)
{
	json_t *v = json_object_get(c->e, field), *m;
	size_t i;

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return bad(c, field, "is not a list");
	json_array_foreach(v, i, m)
		if (!json_is_string(m) || json_string_length(m) == 0 ||
		    strlen(json_string_value(m)) != json_string_length(m))
			return bad(c, field, "has a member that is not a "
			    "string");
	*out = v;
	return 0;
}

/* Counts what the lookup arrays need, so each is allocated once. */
static void
count(json_t *list, size_t *names, size_t *links, size_t *prints,
    size_t *strings)
{
	json_t *e;
	size_t i;

	json_array_foreach(list, i, e) {
		*names += 1 + json_array_size(json_object_get(e, "aliases"));
		*links += json_array_size(json_object_get(e, "links"));
		*prints += json_array_size(json_object_get(e, "fingerprints"));
		*strings += json_array_size(json_object_get(e, "titles")) +
		    json_array_size(json_object_get(e, "licensor_orgs"));
	}
}

static int
add_key(struct key *keys, size_t *n, char *k, const struct policy_licence *l)
{
	if (k == NULL)
		return ENOMEM;
	keys[*n].key = k;
	keys[(*n)++].licence = l;
	return 0;
}

static int
entry_fields(struct policy_table *t, const struct check *c,
    struct policy_licence *l, size_t *nlists)
{
	json_t *titles, *orgs, *v;
	size_t i;
	int rc;

	if ((rc = get_string(c, "name", 1, &l->name)) != 0 ||
	    (rc = get_string(c, "source", 1, &l->source)) != 0 ||
	    (rc = get_string(c, "spdx", 0, &l->spdx)) != 0 ||
	    (rc = get_string(c, "notice", 0, &l->notice)) != 0 ||
	    (rc = get_string(c, "built_with", 0, &l->built_with)) != 0 ||
	    (rc = get_string(c, "name_prefix", 0, &l->name_prefix)) != 0 ||
	    (rc = get_string(c, "use_policy", 0, &l->use_policy)) != 0 ||
	    (rc = get_string(c, "outputs", 0, &l->outputs)) != 0 ||
	    (rc = get_string(c, "note", 0, &l->note)) != 0 ||
	    (rc = get_bool(c, "hub", &l->hub)) != 0 ||
	    (rc = get_bool(c, "flows_down", &l->flows_down)) != 0 ||
	    (rc = get_bool(c, "licence_copy", &l->licence_copy)) != 0 ||
	    (rc = get_bool(c, "non_commercial", &l->non_commercial)) != 0 ||
	    (rc = get_bool(c, "eu_multimodal", &l->eu_multimodal)) != 0 ||
	    (rc = get_list(c, "titles", &titles)) != 0 ||
	    (rc = get_list(c, "licensor_orgs", &orgs)) != 0)
		return rc;
	if (strncmp(l->source, "https://", 8) != 0 &&
	    strncmp(l->source, "http://", 7) != 0)
		return bad(c, "source", "is not a URL");
	v = json_object_get(c->e, "user_threshold");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return bad(c, "user_threshold", "is not a count");
		l->user_threshold = (uint64_t)json_integer_value(v);
	}
	l->licensors = t->lists + *nlists;
	json_array_foreach(orgs, i, v)
		t->lists[(*nlists)++] = json_string_value(v);
	l->nlicensors = json_array_size(orgs);
	l->titles = t->lists + *nlists;
	json_array_foreach(titles, i, v) {
		char *norm;

		if ((rc = policy_normalise(json_string_value(v),
		    json_string_length(v), &norm, NULL)) != 0)
			return rc;
		t->owned[t->nowned++] = norm;
		t->lists[(*nlists)++] = norm;
	}
	l->ntitles = json_array_size(titles);
	return 0;
}

static int
entry_keys(struct policy_table *t, const struct check *c,
    const struct policy_licence *l)
{
	json_t *aliases, *links, *prints, *v;
	size_t i;
	int rc;

	if ((rc = get_list(c, "aliases", &aliases)) != 0 ||
	    (rc = get_list(c, "links", &links)) != 0)
		return rc;
	if ((rc = add_key(t->names, &t->nnames, name_key(l->id), l)) != 0)
		return rc;
	json_array_foreach(aliases, i, v)
		if ((rc = add_key(t->names, &t->nnames,
		    name_key(json_string_value(v)), l)) != 0)
			return rc;
	json_array_foreach(links, i, v)
		if ((rc = add_key(t->links, &t->nlinks,
		    link_key(json_string_value(v)), l)) != 0)
			return rc;
	prints = json_object_get(c->e, "fingerprints");
	if (prints != NULL && !json_is_array(prints))
		return bad(c, "fingerprints", "is not a list");
	json_array_foreach(prints, i, v) {
		const char *hex = json_string_value(json_object_get(v,
		    "sha256"));

		if (hex == NULL || strlen(hex) != 64 ||
		    store_unhex(hex, t->prints[t->nprints].sha,
		    POLICY_FINGERPRINT_LEN) != 0)
			return bad(c, "fingerprints", "has a sha256 that is "
			    "not 64 hex digits");
		if (!json_is_string(json_object_get(v, "of")))
			return bad(c, "fingerprints", "has one that does not "
			    "say what text it is of");
		t->prints[t->nprints++].licence = l;
	}
	return 0;
}

/* Two keys alike for two licences, after sorting: the table would be
 * ambiguous.  Two spellings of one licence that compare alike are not. */
static int
duplicate(struct key *keys, size_t n, const char *what)
{
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 1; i < n; i++)
		if (strcmp(keys[i].key, keys[i - 1].key) == 0 &&
		    keys[i].licence != keys[i - 1].licence)
			return policy_fail(POLICY_EINVAL, "licences.json: %s "
			    "\"%s\" names both %s and %s", what, keys[i].key,
			    keys[i - 1].licence->id, keys[i].licence->id);
	return 0;
}

static int
build(struct policy_table *t, json_t *list)
{
	size_t names = 0, links = 0, prints = 0, strings = 0, nlists = 0, i;
	json_t *e;
	int rc;

	count(list, &names, &links, &prints, &strings);
	t->n = json_array_size(list);
	if ((t->entries = calloc(t->n ? t->n : 1, sizeof(*t->entries))) == NULL ||
	    (t->names = calloc(names + 1, sizeof(*t->names))) == NULL ||
	    (t->links = calloc(links + 1, sizeof(*t->links))) == NULL ||
	    (t->prints = calloc(prints + 1, sizeof(*t->prints))) == NULL ||
	    (t->owned = calloc(strings + 1, sizeof(*t->owned))) == NULL ||
	    (t->lists = calloc(strings + 1, sizeof(*t->lists))) == NULL)
		return ENOMEM;
	json_array_foreach(list, i, e) {
		struct check c = { .e = e, .i = i };
		struct policy_licence *l = &t->entries[i];

		if (!json_is_object(e))
			return bad(&c, "entry", "is not an object");
		if ((rc = get_string(&c, "id", 1, &l->id)) != 0)
			return rc;
		c.id = l->id;
		if ((rc = entry_fields(t, &c, l, &nlists)) != 0 ||
		    (rc = entry_keys(t, &c, l)) != 0)
			return rc;
	}
	if ((rc = duplicate(t->names, t->nnames, "the name")) != 0 ||
	    (rc = duplicate(t->links, t->nlinks, "the link")) != 0)
		return rc;
	return 0;
}

int
policy_table_parse(const void *buf, size_t len, struct policy_table **out)
{
	struct policy_table *t;
	json_error_t jerr;
	json_t *list;
	int rc;

	*out = NULL;
	if (len > BOUND_LICENCE_TABLE)
		return policy_fail(POLICY_EINVAL, "licences.json: larger than "
		    "%d bytes", BOUND_LICENCE_TABLE);
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return ENOMEM;
	t->root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (t->root == NULL) {
		policy_table_free(t);
		return policy_fail(POLICY_EINVAL, "licences.json: line %d: %s",
		    jerr.line, jerr.text);
	}
	if (!json_is_string(json_object_get(t->root, "format")) ||
	    strcmp(json_string_value(json_object_get(t->root, "format")),
	    "airlock.licences/v1") != 0 ||
	    !json_is_array(list = json_object_get(t->root, "licences"))) {
		policy_table_free(t);
		return policy_fail(POLICY_EINVAL, "licences.json: not an "
		    "airlock.licences/v1 table with a list of licences");
	}
	if ((rc = build(t, list)) != 0) {
		if (rc == ENOMEM)
			policy_fail(rc, "licences.json: out of memory");
		policy_table_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

int
policy_table_load(const char *path, struct policy_table **out)
{
	struct stat sb;
	char *buf;
	ssize_t n;
	int fd, rc;

	*out = NULL;
	if (path == NULL)
		path = policy_table_path();
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return policy_fail(POLICY_ENOTABLE, "licence table %s: %s "
		    "(AIRLOCK_LICENCES names another)", path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > BOUND_LICENCE_TABLE) {
		close(fd);
		return policy_fail(POLICY_ENOTABLE, "licence table %s: not a "
		    "regular file of at most %d bytes", path,
		    BOUND_LICENCE_TABLE);
	}
	if ((buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		close(fd);
		return ENOMEM;
	}
	n = read(fd, buf, (size_t)sb.st_size);
	close(fd);
	if (n != sb.st_size) {
		free(buf);
		return policy_fail(POLICY_ENOTABLE, "licence table %s: short "
		    "read", path);
	}
	rc = policy_table_parse(buf, (size_t)n, out);
	free(buf);
	return rc;
}

size_t
policy_table_count(const struct policy_table *t)
{
	return t->n;
}

const struct policy_licence *
policy_table_entry(const struct policy_table *t, size_t i)
{
	return i < t->n ? &t->entries[i] : NULL;
}

const struct policy_licence *
policy_licence_find(const struct policy_table *t, const char *name)
{
	const struct policy_licence *l;
	char *k;

	if (name == NULL || (k = name_key(name)) == NULL)
		return NULL;
	l = key_find(t->names, t->nnames, k);
	if (l == NULL && strncmp(k, "other:", 6) == 0)
		l = key_find(t->names, t->nnames, k + 6);
	free(k);
	return l;
}

const struct policy_licence *
policy_licence_by_link(const struct policy_table *t, const char *url)
{
	const struct policy_licence *l;
	char *k;

	if (url == NULL || (k = link_key(url)) == NULL)
		return NULL;
	l = key_find(t->links, t->nlinks, k);
	free(k);
	return l;
}

const struct policy_licence *
policy_licence_by_text(const struct policy_table *t, const void *buf,
    size_t len)
{
	uint8_t sha[POLICY_FINGERPRINT_LEN];

	policy_fingerprint(buf, len, sha);
	for (size_t i = 0; i < t->nprints; i++)
		if (memcmp(t->prints[i].sha, sha, sizeof(sha)) == 0)
			return t->prints[i].licence;
	return NULL;
}

int
policy_licensor(const struct policy_licence *l, const char *repo)
{
	const char *slash = strchr(repo, '/');
	size_t n = slash != NULL ? (size_t)(slash - repo) : strlen(repo);

	for (size_t i = 0; i < l->nlicensors; i++)
		if (strlen(l->licensors[i]) == n &&
		    strncasecmp(l->licensors[i], repo, n) == 0)
			return 1;
	return 0;
}
