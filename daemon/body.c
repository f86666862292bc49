/*
 * body.c - POST bodies: what a client sends in, parsed and checked here
 * before the handler looks anything up, so that a bad body changes
 * nothing and gets one clear reason.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/body.h"
#include "daemon/route.h"
#include "store/store.h"

struct form {
	json_t	*paths;
	int	 expand;
	int	 toomany;
	int	 nomem;
};

static int
form_pair(void *arg, const char *name, const char *value)
{
	struct form *f = arg;

	if (strcmp(name, "paths") == 0) {
		if (json_array_size(f->paths) >= BOUND_PATHS_INFO) {
			f->toomany = 1;
			return 1;
		}
		if (json_array_append_new(f->paths, json_string(value)) != 0) {
			f->nomem = 1;
			return 1;
		}
	} else if (strcmp(name, "expand") == 0)
		f->expand = route_bool(value);
	return 0;
}

static int
json_paths(const char *body, size_t len, struct form *f, char *why)
{
	json_error_t err;
	json_t *root, *v, *e;
	size_t i;
	int rc = 0;

	if ((root = json_loadb(body, len, 0, &err)) == NULL) {
		snprintf(why, BODY_WHY, "body: %s", err.text);
		return 400;
	}
	if (!json_is_object(root)) {
		snprintf(why, BODY_WHY, "body: not a JSON object");
		rc = 400;
		goto out;
	}
	v = json_object_get(root, "paths");
	if (json_is_string(v))
		rc = json_array_append(f->paths, v);
	else if (json_is_array(v)) {
		json_array_foreach(v, i, e) {
			if (!json_is_string(e))
				continue;
			if (json_array_size(f->paths) >= BOUND_PATHS_INFO) {
				f->toomany = 1;
				break;
			}
			if ((rc = json_array_append(f->paths, e)) != 0)
				break;
		}
	}
	if (rc != 0) {
		snprintf(why, BODY_WHY, "out of memory");
		rc = 500;
		goto out;
	}
	v = json_object_get(root, "expand");
	f->expand = json_is_true(v) || (json_is_string(v) &&
	    route_bool(json_string_value(v)));
out:
	json_decref(root);
	return rc;
}

int
body_paths_info(const char *body, size_t len, int json, json_t **paths,
    int *expand, char *why)
{
	struct form f = { NULL, 0, 0, 0 };
	int rc = 0;

	*paths = NULL;
	*expand = 0;
	if ((f.paths = json_array()) == NULL) {
		snprintf(why, BODY_WHY, "out of memory");
		return 500;
	}
	if (json)
		rc = json_paths(body, len, &f, why);
	else if (route_pairs(body, len, form_pair, &f) < 0) {
		snprintf(why, BODY_WHY, "body: malformed form data");
		rc = 400;
	}
	if (rc == 0 && f.nomem) {
		snprintf(why, BODY_WHY, "out of memory");
		rc = 500;
	} else if (rc == 0 && f.toomany) {
		snprintf(why, BODY_WHY, "more than %d paths",
		    BOUND_PATHS_INFO);
		rc = 400;
	}
	if (rc != 0) {
		json_decref(f.paths);
		return rc;
	}
	*paths = f.paths;
	*expand = f.expand;
	return 0;
}

int
body_chunks(const char *body, size_t len, json_t **list,
    uint8_t (**hashes)[32], char *why)
{
	json_error_t err;
	json_t *root, *l, *v;
	uint8_t (*sha)[32] = NULL;
	size_t i, n;

	*list = NULL;
	*hashes = NULL;
	if ((root = json_loadb(body, len, 0, &err)) == NULL) {
		snprintf(why, BODY_WHY, "body: %s", err.text);
		return 400;
	}
	l = json_is_array(root) ? root : json_object_get(root, "chunks");
	if (!json_is_array(l)) {
		snprintf(why, BODY_WHY, "body: expected {\"chunks\": [...]}");
		goto bad;
	}
	if ((n = json_array_size(l)) > BOUND_CHUNKS_ASKED) {
		snprintf(why, BODY_WHY, "more than %d chunks",
		    BOUND_CHUNKS_ASKED);
		goto bad;
	}
	if (n > 0 && (sha = calloc(n, sizeof(*sha))) == NULL) {
		snprintf(why, BODY_WHY, "out of memory");
		json_decref(root);
		return 500;
	}
	json_array_foreach(l, i, v) {
		if (!json_is_string(v) ||
		    store_digest_parse(json_string_value(v), sha[i]) != 0) {
			snprintf(why, BODY_WHY, "chunks[%zu]: not a sha256", i);
			goto bad;
		}
	}
	*list = json_incref(l);
	*hashes = sha;
	json_decref(root);
	return 0;
bad:
	free(sha);
	json_decref(root);
	return 400;
}

int
body_url_valid(const char *url)
{
	const char *p;
	size_t len = strlen(url);

	if (strncmp(url, "http://", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		p = url + 8;
	else
		return 0;
	if (len > BOUND_JOB_UPSTREAM || *p == '\0' || *p == '/' || url[len - 1] == '/')
		return 0;
	for (; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '"' || *p == '<' ||
		    *p == '>' || *p == '\\')
			return 0;
	return 1;
}

/* A string member, or NULL when it is absent or null; -1 for another. */
static int
member_string(json_t *root, const char *name, const char **out)
{
	json_t *v = json_object_get(root, name);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	return strlen(*out) == json_string_length(v) ? 0 : -1;
}

int
body_mirror_job(const char *body, size_t len, struct body_job *job,
    char *why)
{
	static const char *const names[] = { "repo", "type", "revision",
	    "upstream" };
	const char *repo, *type, *rev, *up, *key;
	json_error_t err;
	json_t *root, *v;
	int rc = 400;

	memset(job, 0, sizeof(*job));
	if ((root = json_loadb(body, len, JSON_REJECT_DUPLICATES,
	    &err)) == NULL) {
		snprintf(why, BODY_WHY, "body: %s", err.text);
		return 400;
	}
	if (!json_is_object(root)) {
		snprintf(why, BODY_WHY, "body: not a JSON object");
		goto out;
	}
	json_object_foreach(root, key, v) {
		size_t i;

		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcmp(key, names[i]) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			snprintf(why, BODY_WHY, "body: unknown member \"%.64s\"",
			    key);
			goto out;
		}
	}
	if (member_string(root, "repo", &repo) != 0 || repo == NULL ||
	    !store_repo_valid(repo)) {
		snprintf(why, BODY_WHY, "body: \"repo\" must be ORG/NAME");
		goto out;
	}
	if (member_string(root, "type", &type) != 0 ||
	    (type != NULL && !store_type_valid(type))) {
		snprintf(why, BODY_WHY, "body: \"type\" must be model or "
		    "dataset");
		goto out;
	}
	if (member_string(root, "revision", &rev) != 0 || (rev != NULL &&
	    (!store_revision_valid(rev) || strncmp(rev, "sha256:", 7) == 0))) {
		snprintf(why, BODY_WHY, "body: \"revision\" must be a branch, "
		    "tag or commit id upstream");
		goto out;
	}
	if (member_string(root, "upstream", &up) != 0 ||
	    (up != NULL && !body_url_valid(up))) {
		snprintf(why, BODY_WHY, "body: \"upstream\" must be an http(s) "
		    "URL without a trailing slash");
		goto out;
	}
	snprintf(job->repo, sizeof(job->repo), "%s", repo);
	snprintf(job->type, sizeof(job->type), "%s", type != NULL ? type :
	    "model");
	snprintf(job->revision, sizeof(job->revision), "%s", rev != NULL ?
	    rev : "main");
	if (up != NULL)
		snprintf(job->upstream, sizeof(job->upstream), "%s", up);
	rc = 0;
out:
	json_decref(root);
	return rc;
}
