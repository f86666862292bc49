/*
 * revision.c - from files to a signed revision: what add, the import of a
 * HF cache, the mirror and uploads share (store.h, "Revisions").
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bounds.h"
#include "internal.h"

int
store_source_claims(struct store_source *src, json_t **claims)
{
	char *buf, why[sizeof("README.md: ") + 1024];
	size_t len;
	int rc;

	*claims = NULL;
	for (size_t i = 0; i < store_source_count(src); i++) {
		if (strcmp(store_source_entry(src, i)->path, "README.md") != 0)
			continue;
		if ((rc = store_source_slurp(src, i, BOUND_CARD, &buf,
		    &len)) != 0)
			return rc;
		rc = store_card_parse(buf, len, NULL, claims);
		free(buf);
		if (rc != 0) {
			/* The detail names the card, as the reason alone
			 * would not say which file it is about. */
			snprintf(why, sizeof(why), "%s", store_lasterror());
			return store_fail(rc, "README.md: %s", why);
		}
		return 0;
	}
	return 0;
}
