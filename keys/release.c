/*
 * Release documents (airlock.release/v1): the refs a publishing store
 * serves, under a version that only grows, so that an importer can refuse
 * to be rolled back to an older, signed but superseded, set of revisions.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/bounds.h"
#include "keys/keys.h"
#include "keys/internal.h"
#include "lib/names.h"

#define RFC3339_LEN	20	/* "2026-11-23T12:00:00Z" */
#define DIGEST_PREFIX	"sha256:"

/* "YYYY-MM-DDTHH:MM:SSZ", a real UTC date, as seconds since the epoch. */
static int
time_parse(const char *s, time_t *out)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";
	struct tm tm, back;
	time_t t;
	int v[6], f = 0;

	if (strlen(s) != RFC3339_LEN)
		return KEYS_EFORMAT;
	memset(v, 0, sizeof(v));
	for (size_t i = 0; i < RFC3339_LEN; i++) {
		if (shape[i] != 'd') {
			if (s[i] != shape[i])
				return KEYS_EFORMAT;
			f += i > 0 && shape[i - 1] == 'd';
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return KEYS_EFORMAT;
		v[f] = v[f] * 10 + (s[i] - '0');
	}
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = v[0] - 1900;
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	back = tm;
	/* timegm() normalises 31 April into 1 May: refuse what it moved. */
	if ((t = timegm(&back)) == (time_t)-1 || back.tm_year != tm.tm_year ||
	    back.tm_mon != tm.tm_mon || back.tm_mday != tm.tm_mday ||
	    back.tm_hour != tm.tm_hour || back.tm_min != tm.tm_min ||
	    back.tm_sec != tm.tm_sec)
		return KEYS_EFORMAT;
	if (out != NULL)
		*out = t;
	return KEYS_OK;
}

/*
 * The repository as FORMATS.md "Release" names it (ORG/NAME, or
 * datasets/ORG/NAME), a revision by the store's rules, the commit id (40
 * hex for git's sha1, up to 64 for its sha256) and the manifest digest.
 */
static int
ref_valid(const char *repo, const char *revision, const char *commit,
    const char *manifest)
{
	size_t plen = strlen(DIGEST_PREFIX), clen = strlen(commit);

	return name_qualified_valid(repo) && name_revision_valid(revision) &&
	    clen >= 40 && clen <= 64 && hex_valid(commit, clen) &&
	    strncmp(manifest, DIGEST_PREFIX, plen) == 0 &&
	    hex_valid(manifest + plen, 64);
}

void
keys_release_free(struct keys_release *rel)
{
	if (rel == NULL)
		return;
	for (size_t i = 0; i < rel->rl_nrefs; i++) {
		free(rel->rl_refs[i].rr_repo);
		free(rel->rl_refs[i].rr_revision);
		free(rel->rl_refs[i].rr_commit);
		free(rel->rl_refs[i].rr_manifest);
	}
	free(rel->rl_refs);
	free(rel->rl_created);
	free(rel->rl_expires);
	free(rel);
}

int
keys_release_new(const uint8_t publisher[KEYS_KEYID_BYTES], uint64_t version,
    const char *created, const char *expires, struct keys_release **relp)
{
	struct keys_release *rel;

	if (publisher == NULL || created == NULL || relp == NULL)
		return KEYS_EINVAL;
	*relp = NULL;
	if (version > INT64_MAX || time_parse(created, NULL) != 0 ||
	    (expires != NULL && time_parse(expires, NULL) != 0))
		return KEYS_EINVAL;
	if ((rel = calloc(1, sizeof(*rel))) == NULL)
		return KEYS_ENOMEM;
	memcpy(rel->rl_publisher, publisher, KEYS_KEYID_BYTES);
	rel->rl_version = version;
	if ((rel->rl_created = strdup(created)) == NULL ||
	    (expires != NULL && (rel->rl_expires = strdup(expires)) == NULL)) {
		keys_release_free(rel);
		return KEYS_ENOMEM;
	}
	*relp = rel;
	return KEYS_OK;
}

int
keys_release_add(struct keys_release *rel, const char *repo,
    const char *revision, const char *commit, const char *manifest)
{
	struct keys_release_ref *refs, *r;

	if (rel == NULL || repo == NULL || revision == NULL ||
	    commit == NULL || manifest == NULL ||
	    !ref_valid(repo, revision, commit, manifest))
		return KEYS_EINVAL;
	if (rel->rl_nrefs >= BOUND_RELEASE_REFS)
		return KEYS_EINVAL;
	refs = realloc(rel->rl_refs, (rel->rl_nrefs + 1) * sizeof(*refs));
	if (refs == NULL)
		return KEYS_ENOMEM;
	rel->rl_refs = refs;
	r = &refs[rel->rl_nrefs];
	r->rr_repo = strdup(repo);
	r->rr_revision = strdup(revision);
	r->rr_commit = strdup(commit);
	r->rr_manifest = strdup(manifest);
	rel->rl_nrefs++;
	if (r->rr_repo == NULL || r->rr_revision == NULL ||
	    r->rr_commit == NULL || r->rr_manifest == NULL)
		return KEYS_ENOMEM;
	return KEYS_OK;
}

static int
ref_cmp(const void *a, const void *b)
{
	const struct keys_release_ref *x = *(const struct keys_release_ref *
	    const *)a, *y = *(const struct keys_release_ref * const *)b;
	int c;

	if ((c = strcmp(x->rr_repo, y->rr_repo)) != 0)
		return c;
	return strcmp(x->rr_revision, y->rr_revision);
}

/* The refs sorted, as a JSON array; NULL on a duplicate repo@revision. */
static json_t *
refs_json(const struct keys_release *rel, int *rc)
{
	const struct keys_release_ref **sorted;
	json_t *arr = NULL, *o;
	size_t i;

	*rc = KEYS_ENOMEM;
	if ((sorted = calloc(rel->rl_nrefs + 1, sizeof(*sorted))) == NULL)
		return NULL;
	for (i = 0; i < rel->rl_nrefs; i++)
		sorted[i] = &rel->rl_refs[i];
	qsort(sorted, rel->rl_nrefs, sizeof(*sorted), ref_cmp);
	if ((arr = json_array()) == NULL)
		goto fail;
	for (i = 0; i < rel->rl_nrefs; i++) {
		if (i > 0 && ref_cmp(&sorted[i - 1], &sorted[i]) == 0) {
			*rc = KEYS_EINVAL;
			goto fail;
		}
		o = json_pack("{s:s, s:s, s:s, s:s}", "repo",
		    sorted[i]->rr_repo, "revision", sorted[i]->rr_revision,
		    "commit", sorted[i]->rr_commit, "manifest",
		    sorted[i]->rr_manifest);
		if (o == NULL || json_array_append_new(arr, o) != 0)
			goto fail;
	}
	free(sorted);
	*rc = KEYS_OK;
	return arr;
fail:
	json_decref(arr);
	free(sorted);
	return NULL;
}

int
keys_release_format(const struct keys_release *rel, char **json,
    size_t *len)
{
	char hex[KEYS_KEYID_HEXLEN + 1];
	json_t *obj = NULL, *refs;
	int rc;

	if (rel == NULL || json == NULL)
		return KEYS_EINVAL;
	*json = NULL;
	if ((refs = refs_json(rel, &rc)) == NULL)
		return rc;
	keys_keyid_hex(rel->rl_publisher, hex);
	rc = KEYS_ENOMEM;
	obj = json_pack("{s:s, s:s, s:I, s:s, s:o}", "schema",
	    KEYS_RELEASE_SCHEMA, "publisher", hex, "version",
	    (json_int_t)rel->rl_version, "created", rel->rl_created,
	    "refs", refs);
	if (obj == NULL)
		goto fail;
	if (rel->rl_expires != NULL && json_object_set_new(obj, "expires",
	    json_string(rel->rl_expires)) != 0)
		goto fail;
	if ((*json = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT)) == NULL)
		goto fail;
	if (len != NULL)
		*len = strlen(*json);
	rc = KEYS_OK;
fail:
	json_decref(obj);
	return rc;
}

static int
refs_parse(json_t *arr, struct keys_release *rel)
{
	const char *repo, *revision, *commit, *manifest;
	json_t *o;
	size_t i;
	int rc;

	if (!json_is_array(arr) || json_array_size(arr) > BOUND_RELEASE_REFS)
		return KEYS_EFORMAT;
	json_array_foreach(arr, i, o) {
		if (json_unpack(o, "{s:s, s:s, s:s, s:s !}", "repo", &repo,
		    "revision", &revision, "commit", &commit, "manifest",
		    &manifest) != 0)
			return KEYS_EFORMAT;
		if ((rc = keys_release_add(rel, repo, revision, commit,
		    manifest)) != 0)
			return rc == KEYS_EINVAL ? KEYS_EFORMAT : rc;
	}
	return KEYS_OK;
}

/*
 * Only the canonical form is accepted: the bytes must be exactly what
 * keys_release_format() writes for the parsed values, so that "the same
 * release" means the same bytes and one digest.
 */
static int
release_canonical(const struct keys_release *rel, const char *json,
    size_t len)
{
	size_t outlen;
	char *out;
	int rc;

	if ((rc = keys_release_format(rel, &out, &outlen)) != 0)
		return rc == KEYS_EINVAL ? KEYS_EFORMAT : rc;
	rc = outlen == len && memcmp(out, json, len) == 0 ? KEYS_OK :
	    KEYS_EFORMAT;
	free(out);
	return rc;
}

static int
release_unpack(json_t *obj, struct keys_release **relp)
{
	const char *schema, *publisher, *created, *expires = NULL;
	uint8_t keyid[KEYS_KEYID_BYTES];
	json_int_t version;
	json_t *refs;
	int rc;

	if (json_unpack(obj, "{s:s, s:s, s:I, s:s, s?s, s:o !}", "schema",
	    &schema, "publisher", &publisher, "version", &version, "created",
	    &created, "expires", &expires, "refs", &refs) != 0 ||
	    version < 0 || keys_keyid_parse(publisher, keyid) != 0)
		return KEYS_EFORMAT;
	if ((rc = keys_release_new(keyid, (uint64_t)version, created, expires,
	    relp)) != 0)
		return rc == KEYS_EINVAL ? KEYS_EFORMAT : rc;
	return refs_parse(refs, *relp);
}

int
keys_release_parse(const char *json, size_t len, struct keys_release **relp)
{
	struct keys_release *rel = NULL;
	json_t *obj;
	int rc;

	if (json == NULL || relp == NULL)
		return KEYS_EINVAL;
	*relp = NULL;
	if ((rc = keys_json_load(json, len, BOUND_RELEASE, KEYS_RELEASE_SCHEMA,
	    &obj)) != 0)
		return rc;
	if ((rc = release_unpack(obj, &rel)) != 0 ||
	    (rc = release_canonical(rel, json, len)) != 0)
		goto fail;
	*relp = rel;
	rel = NULL;
fail:
	keys_release_free(rel);
	json_decref(obj);
	return rc;
}

int
keys_release_check_expiry(const struct keys_release *rel, time_t now)
{
	time_t expires;

	if (rel == NULL)
		return KEYS_EINVAL;
	if (rel->rl_expires == NULL)
		return KEYS_OK;
	if (time_parse(rel->rl_expires, &expires) != 0)
		return KEYS_EFORMAT;
	return now < expires ? KEYS_OK : KEYS_EEXPIRED;
}

int
keys_release_check_rollback(const struct keys_release *seen,
    const void *seen_doc, size_t seen_len, const struct keys_release *rel,
    const void *doc, size_t len)
{
	if (rel == NULL)
		return KEYS_EINVAL;
	if (seen == NULL)
		return KEYS_OK;
	if (memcmp(seen->rl_publisher, rel->rl_publisher,
	    KEYS_KEYID_BYTES) != 0)
		return KEYS_EKEYID;
	if (rel->rl_version < seen->rl_version)
		return KEYS_EROLLBACK;
	if (rel->rl_version > seen->rl_version)
		return KEYS_OK;
	if (seen_doc == NULL || doc == NULL)
		return KEYS_EINVAL;
	if (seen_len != len || memcmp(seen_doc, doc, len) != 0)
		return KEYS_EEQUIVOCAL;
	return KEYS_OK;
}

int
keys_release_vs_record(const char *what, const struct keys_release *rel,
    const void *doc, size_t len, const void *old, size_t oldlen, char *err,
    size_t esize)
{
	struct keys_release *seen = NULL;
	char hex[KEYS_KEYID_HEXLEN + 1];
	int rc;

	if (old == NULL)
		return 0;
	keys_keyid_hex(rel->rl_publisher, hex);
	if ((rc = keys_release_parse(old, oldlen, &seen)) != 0) {
		snprintf(err, esize, "%s: refused: this store's release record "
		    "for key %s (the highest release taken from it) cannot be "
		    "read: %s", what, hex, keys_strerror(rc));
		return rc;
	}
	rc = keys_release_check_rollback(seen, old, oldlen, rel, doc, len);
	if (rc == KEYS_EROLLBACK)
		snprintf(err, esize, "%s: release %llu of key %s is older than "
		    "release %llu, taken already: a rollback", what,
		    (unsigned long long)rel->rl_version, hex,
		    (unsigned long long)seen->rl_version);
	else if (rc == KEYS_EEQUIVOCAL)
		snprintf(err, esize, "%s: release %llu of key %s differs from "
		    "the release %llu taken already", what,
		    (unsigned long long)rel->rl_version, hex,
		    (unsigned long long)seen->rl_version);
	else if (rc != 0)
		snprintf(err, esize, "%s: refused: this store's release record "
		    "for key %s: %s", what, hex, keys_strerror(rc));
	keys_release_free(seen);
	return rc;
}
