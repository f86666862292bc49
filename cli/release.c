/*
 * release.c - a publisher's release against the highest one this store
 * has taken from it (FORMATS.md, rollback protection): what import and a
 * chained pull share.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/crash.h"
#include "cli/cli.h"
#include "keys/keys.h"

/*
 * The release against the record this store keeps for its publisher (old
 * is NULL when there is none): refused when it is older, when the same
 * version differs, and when the record cannot be read.  That record is
 * what stops a rollback, so an unreadable one fails closed: it must not
 * count as "none seen".
 */
int
release_vs_record(const char *path, const struct keys_release *rel,
    const char *doc, size_t len, const void *old, size_t oldlen)
{
	char err[1024];

	if (keys_release_vs_record(path, rel, doc, len, old, oldlen, err,
	    sizeof(err)) == 0)
		return 0;
	cli_warnx("%s", err);
	return EXIT_CHECK;
}

int
release_record(void *arg, struct store_kvtxn *kt)
{
	struct release_rec *r = arg;
	const uint8_t *key = r->rel->rl_publisher;
	const void *old;
	size_t oldlen;
	int rc;

	CRASH_POINT("release");
	rc = store_kvtxn_get(kt, STORE_RELEASE, key, 8, &old, &oldlen);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (release_vs_record(r->path, r->rel, r->doc, r->len, old,
	    oldlen) != 0) {
		r->refused = 1;
		return STORE_ECANCELED;
	}
	if (old != NULL && oldlen == r->len && memcmp(old, r->doc, r->len) == 0)
		return 0;
	return store_kvtxn_put(kt, STORE_RELEASE, key, 8, r->doc, r->len);
}
