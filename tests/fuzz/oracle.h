/*
 * oracle.h - what the fuzz targets check a parser's results against,
 * written apart from the store's own validators so that it checks them.
 */
#ifndef FUZZ_ORACLE_H
#define FUZZ_ORACLE_H

#include <string.h>

/*
 * A relative path whose components are none of "", "." and "..".
 * "..sjlon" and "a..b" are names like any other.
 */
static inline int
oracle_contained(const char *path)
{
	const char *p = path, *end;

	if (*p == '\0' || *p == '/')
		return 0;
	for (;;) {
		size_t len;

		end = strchr(p, '/');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return 0;
		if (end == NULL)
			return 1;
		p = end + 1;
	}
}

#endif
