/*
 * names.c - repository ids, revision names and hex strings (names.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "lib/bounds.h"
#include "lib/names.h"

int
name_type_valid(const char *type)
{
	return type != NULL && (strcmp(type, "model") == 0 ||
	    strcmp(type, "dataset") == 0);
}

static int
repo_part_valid(const char *p, size_t len)
{
	if (len == 0 || len > BOUND_REPO_PART)
		return 0;
	/* ^[A-Za-z0-9][A-Za-z0-9._-]*$, and not ".." in it. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9'))
			continue;
		if (i == 0 || (c != '.' && c != '_' && c != '-'))
			return 0;
		if (c == '.' && p[i - 1] == '.')
			return 0;
	}
	return 1;
}

int
name_repo_valid(const char *repo)
{
	const char *slash;

	if (repo == NULL)
		return 0;
	if ((slash = strchr(repo, '/')) == NULL)
		return repo_part_valid(repo, strlen(repo));
	return repo_part_valid(repo, (size_t)(slash - repo)) &&
	    repo_part_valid(slash + 1, strlen(slash + 1));
}

int
name_revision_valid(const char *rev)
{
	size_t len;

	if (rev == NULL || (len = strlen(rev)) == 0 || len > BOUND_REVISION)
		return 0;
	if (rev[0] == '-' || rev[0] == '/' || rev[len - 1] == '/' ||
	    rev[len - 1] == '.' || strstr(rev, "..") != NULL ||
	    strstr(rev, "//") != NULL || strstr(rev, "@{") != NULL)
		return 0;
	for (const char *p = rev; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f || strchr("~^:?*[\\", c) != NULL)
			return 0;
	}
	return 1;
}

int
hex_valid(const char *s, size_t n)
{
	return s != NULL && strspn(s, "0123456789abcdef") == n && s[n] == '\0';
}

size_t
name_qualify(char *buf, size_t size, const char *type, const char *repo)
{
	int n;

	if (!name_type_valid(type) || !name_repo_valid(repo))
		return 0;
	/* A model of org "datasets" would read back as a dataset. */
	if (strcmp(type, "model") == 0 && strncmp(repo, NAME_DATASETS_PREFIX,
	    strlen(NAME_DATASETS_PREFIX)) == 0)
		return 0;
	n = snprintf(buf, size, "%s%s", strcmp(type, "dataset") == 0 ?
	    NAME_DATASETS_PREFIX : "", repo);
	if (n < 0 || (size_t)n >= size)
		return 0;
	return (size_t)n;
}

int
name_qualified_valid(const char *s)
{
	size_t plen = strlen(NAME_DATASETS_PREFIX);

	if (s != NULL && strncmp(s, NAME_DATASETS_PREFIX, plen) == 0)
		s += plen;
	return name_repo_valid(s);
}
