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
	struct keys_release *seen = NULL;
	char hex[KEYS_KEYID_HEXLEN + 1];
	int rc;

	if (old == NULL)
		return 0;
	keys_keyid_hex(rel->rl_publisher, hex);
	if ((rc = keys_release_parse(old, oldlen, &seen)) != 0)
		return cli_fail(EXIT_CHECK, "%s: refused: this store's release "
		    "record for key %s (the highest release taken from it) "
		    "cannot be read: %s", path, hex, keys_strerror(rc));
	rc = keys_release_check_rollback(seen, old, oldlen, rel, doc, len);
	if (rc == KEYS_EROLLBACK)
		cli_warnx("%s: release %llu of key %s is older than release "
		    "%llu, taken already: a rollback", path,
		    (unsigned long long)rel->rl_version, hex,
		    (unsigned long long)seen->rl_version);
	else if (rc == KEYS_EEQUIVOCAL)
		cli_warnx("%s: release %llu of key %s differs from the release "
		    "%llu taken already", path,
		    (unsigned long long)rel->rl_version, hex,
		    (unsigned long long)seen->rl_version);
	else if (rc != 0)
		cli_warnx("%s: refused: this store's release record for key "
		    "%s: %s", path, hex, keys_strerror(rc));
	keys_release_free(seen);
	return rc != 0 ? EXIT_CHECK : 0;
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
