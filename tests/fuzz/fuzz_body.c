/*
 * airlockd's POST bodies: paths-info, as JSON and as a form,
 * /v1/chunks/missing and /v1/mirror/jobs.  Each input is given to all
 * four.  A body that
 * parses must give what the handlers rely on: at most BOUND_PATHS_INFO
 * strings; at most BOUND_CHUNKS_ASKED strings whose hashes are exactly
 * what store_digest_parse makes of them; a mirror job whose repository,
 * type, revision and upstream each pass the store's rules (a revision
 * the upstream can name, never a manifest digest).  One that does not
 * must say why and give nothing back.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/body.h"
#include "store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_failed(int rc, const char *why)
{
	if ((rc != 400 && rc != 500) || why[0] == '\0' ||
	    strlen(why) >= BODY_WHY)
		abort();
}

static void
check_paths(const char *body, size_t len, int json)
{
	char why[BODY_WHY] = "";
	json_t *paths = NULL, *v;
	size_t i;
	int expand = -1, rc;

	rc = body_paths_info(body, len, json, &paths, &expand, why);
	if (rc != 0) {
		check_failed(rc, why);
		if (paths != NULL)
			abort();
		return;
	}
	if (!json_is_array(paths) ||
	    json_array_size(paths) > BOUND_PATHS_INFO ||
	    (expand != 0 && expand != 1))
		abort();
	json_array_foreach(paths, i, v)
		if (!json_is_string(v))
			abort();
	json_decref(paths);
}

static void
check_chunks(const char *body, size_t len)
{
	char why[BODY_WHY] = "";
	json_t *list = NULL, *v;
	uint8_t (*sha)[32] = NULL, again[STORE_HASH_LEN];
	size_t i;
	int rc;

	rc = body_chunks(body, len, &list, &sha, why);
	if (rc != 0) {
		check_failed(rc, why);
		if (list != NULL || sha != NULL)
			abort();
		return;
	}
	if (!json_is_array(list) ||
	    json_array_size(list) > BOUND_CHUNKS_ASKED ||
	    (json_array_size(list) > 0) != (sha != NULL))
		abort();
	json_array_foreach(list, i, v) {
		if (!json_is_string(v) ||
		    store_digest_parse(json_string_value(v), again) != 0 ||
		    memcmp(again, sha[i], sizeof(again)) != 0)
			abort();
	}
	json_decref(list);
	free(sha);
}

static void
check_job(const char *body, size_t len)
{
	static const struct body_job zero;
	struct body_job job;
	char why[BODY_WHY] = "";
	int rc;

	rc = body_mirror_job(body, len, &job, why);
	if (rc != 0) {
		check_failed(rc, why);
		if (memcmp(&job, &zero, sizeof(job)) != 0)
			abort();
		return;
	}
	if (!store_repo_valid(job.repo) || !store_type_valid(job.type) ||
	    !store_revision_valid(job.revision) ||
	    strncmp(job.revision, "sha256:", 7) == 0 ||
	    (job.upstream[0] != '\0' && !body_url_valid(job.upstream)) ||
	    (job.upstream[0] != '\0' && strncmp(job.upstream, "http://", 7) != 0 &&
	    strncmp(job.upstream, "https://", 8) != 0) ||
	    strpbrk(job.upstream, " \t\r\n\"<>") != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;

	/* The daemon gives the handlers a NUL-terminated copy. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	check_paths(buf, size, 1);
	check_paths(buf, size, 0);
	check_chunks(buf, size);
	check_job(buf, size);
	free(buf);
	return 0;
}
