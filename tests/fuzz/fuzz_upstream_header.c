/*
 * The response headers the mirror acts on: Link (the tree's next page),
 * RateLimit and Retry-After (how long every transfer waits),
 * Content-Range (where a resumed body starts), Content-Length and
 * X-Linked-Size, ETag and X-Linked-Etag, and an error's words.  Each
 * reader gets the whole input as the header's value.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/bounds.h"
#include "mirror/mirror_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_link(const char *v)
{
	char *url = upstream_link_next(v), *needle;
	size_t len;

	if (url == NULL)
		return;
	/* A URL that was between < and > in the value, with no space. */
	len = strlen(url);
	if (len == 0 || len > BOUND_UPSTREAM_URL ||
	    strpbrk(url, " \t\r\n<>\"") != NULL ||
	    (needle = malloc(len + 3)) == NULL)
		abort();
	needle[0] = '<';
	memcpy(needle + 1, url, len);
	memcpy(needle + 1 + len, ">", 2);
	if (strstr(v, needle) == NULL)
		abort();
	free(needle);
	free(url);
}

static void
check_waits(const char *v)
{
	long s;

	if ((s = upstream_ratelimit(v)) < -1 || s > BOUND_UPSTREAM_WAIT)
		abort();
	if ((s = upstream_retry_after(v, 1764547200)) < -1 ||
	    s > BOUND_UPSTREAM_WAIT)
		abort();
}

static void
check_sizes(const char *v)
{
	uint64_t a, b, total;
	char tag[128];

	if (upstream_size(v, &a) == 0 && a > BOUND_UPSTREAM_SIZE)
		abort();
	if (upstream_content_range(v, &a, &b, &total) == 0 &&
	    (a > b || b >= total || total > BOUND_UPSTREAM_SIZE))
		abort();
	if (upstream_etag(v, tag, sizeof(tag)) == 0) {
		if (*tag == '\0' || strchr(tag, '"') != NULL)
			abort();
		for (char *q = tag; *q != '\0'; q++)
			if (isupper((unsigned char)*q))
				abort();
	}
}

static void
check_words(const char *v, size_t len)
{
	char out[600];

	upstream_words(NULL, NULL, v, len, out, sizeof(out));
	upstream_words("GatedRepo", NULL, v, len, out, sizeof(out));
	for (char *q = out; *q != '\0'; q++)
		if ((unsigned char)*q < ' ')
			abort();
	upstream_words(NULL, v, NULL, 0, out, sizeof(out));
	for (char *q = out; *q != '\0'; q++)
		if ((unsigned char)*q < ' ')
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *v;

	if (size > 65536 || (v = malloc(size + 1)) == NULL)
		return 0;
	memcpy(v, data, size);
	v[size] = '\0';
	check_link(v);
	check_waits(v);
	check_sizes(v);
	check_words(v, size);
	free(v);
	return 0;
}
