/*
 * hf_common.c - what the Hub's answers share: a repository's object id
 * and the Hub's time stamps (repository info, listings, commits).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "daemon/airlockd.h"

void
hf_object_id(const char *type, const char *repo, char out[25])
{
	uint8_t d[STORE_HASH_LEN];
	char full[STORE_HEX_LEN + 1], name[BOUND_REPO_ID + 16];

	snprintf(name, sizeof(name), "%s/%s", type, repo);
	store_sha256(name, strlen(name), d);
	store_hex(d, STORE_HASH_LEN, full);
	memcpy(out, full, 24);
	out[24] = '\0';
}

void
hf_time_ms(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char when[24];

	if (ms < 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, 32, "1970-01-01T00:00:00.000Z");
		return;
	}
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", when, (int)(ms % 1000));
}
