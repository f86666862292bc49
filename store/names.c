/*
 * names.c - the names the store takes: repository types and ids and
 * revision names (lib/names.c's rules), paths inside a repository
 * (store.h, "Names").
 */
#include "config.h"

#include <string.h>

#include <jansson.h>

#include "lib/bounds.h"
#include "store/internal.h"
#include "lib/names.h"

int
store_type_valid(const char *type)
{
	return name_type_valid(type);
}

const char *
store_type_prefix(const char *type)
{
	return type != NULL && strcmp(type, "dataset") == 0 ?
	    NAME_DATASETS_PREFIX : "";
}

const char *
store_type_plural(const char *type)
{
	return type != NULL && strcmp(type, "dataset") == 0 ? "datasets" :
	    "models";
}

int
store_repo_valid(const char *repo)
{
	return name_repo_valid(repo);
}

int
store_revision_valid(const char *rev)
{
	return name_revision_valid(rev);
}

int
store_path_valid(const char *path)
{
	const char *p, *slash;
	size_t len;

	if (path == NULL || (len = strlen(path)) == 0 || len > BOUND_PATH)
		return 0;
	/* JSON carries it: it must be UTF-8. */
	json_t *s = json_stringn(path, len);
	if (s == NULL)
		return 0;
	json_decref(s);
	for (p = path;; p = slash + 1) {
		size_t n;

		slash = strchr(p, '/');
		n = slash != NULL ? (size_t)(slash - p) : strlen(p);
		if (n == 0 || n > BOUND_PATH_COMPONENT ||
		    (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)p[i] < ' ' || p[i] == 0x7f)
				return 0;
		if (slash == NULL)
			return 1;
	}
}
