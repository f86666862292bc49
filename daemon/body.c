/*
 * body.c - POST bodies: what a client sends in, parsed and checked here
 * before the handler looks anything up, so that a bad body changes
 * nothing and gets one clear reason.
 */
#include "config.h"

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
