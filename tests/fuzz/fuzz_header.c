/*
 * airlockd's Host and Authorization headers.  The input is a Host value,
 * a newline and an Authorization value; each function also reads the
 * whole input.  A host that is taken must be safe to echo inside a Link
 * header's <URL>; a bearer token must be the rest of its header after
 * "Bearer " and the spaces that follow, and fit BOUND_TOKEN.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_host(const char *hdr)
{
	const char *h = route_host(hdr);
	size_t len;

	if (h == NULL)
		return;
	if (h != hdr || (len = strlen(h)) == 0 || len > BOUND_HOST)
		abort();
	/* Nothing that could end the URL, the header or the line. */
	if (strpbrk(h, " \t\r\n<>\"',;\\/?#@%") != NULL)
		abort();
}

static void
check_bearer(const char *hdr)
{
	const char *t = route_bearer(hdr);
	size_t skip;

	if (t == NULL) {
		/* Refused: another scheme, or an empty or too long token. */
		if (strncasecmp(hdr, "Bearer ", 7) == 0) {
			skip = 7 + strspn(hdr + 7, " ");
			if (hdr[skip] != '\0' &&
			    strlen(hdr + skip) <= BOUND_TOKEN)
				abort();
		}
		return;
	}
	if (strncasecmp(hdr, "Bearer ", 7) != 0)
		abort();
	skip = 7 + strspn(hdr + 7, " ");
	if (t != hdr + skip || *t == '\0' || *t == ' ' ||
	    strlen(t) > BOUND_TOKEN)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *nl;

	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	check_host(buf);
	check_bearer(buf);
	if ((nl = strchr(buf, '\n')) != NULL) {
		*nl = '\0';
		check_host(buf);
		check_bearer(nl + 1);
	}
	free(buf);
	return 0;
}
