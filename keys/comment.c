/*
 * Trusted comments in airlock's form: "KIND\tKEY=VALUE\tKEY=VALUE...".
 * The global signature covers them, so once a signature verifies, these
 * fields are what the signer said about the signed bytes.
 */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"
#include "keys/internal.h"

/* Kinds and keys: [a-z0-9._-]+ */
static int
token_valid(const char *s, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

static int
value_valid(const char *s)
{
	size_t len = strlen(s);

	return memchr(s, '\t', len) == NULL &&
	    keys_comment_check(s, len, BOUND_TRUSTED_COMMENT, 1) == 0;
}

int
keys_tc_format(const char *kind, const struct keys_tc_field *fields,
    size_t nfields, char **comment)
{
	size_t i, len, off;
	char *out;

	if (kind == NULL || comment == NULL || (fields == NULL && nfields))
		return KEYS_EINVAL;
	*comment = NULL;
	if (!token_valid(kind, strlen(kind)))
		return KEYS_EINVAL;
	len = strlen(kind);
	for (i = 0; i < nfields; i++) {
		if (fields[i].tf_key == NULL || fields[i].tf_value == NULL ||
		    !token_valid(fields[i].tf_key, strlen(fields[i].tf_key)))
			return KEYS_EINVAL;
		if (!value_valid(fields[i].tf_value))
			return KEYS_ECOMMENT;
		len += strlen(fields[i].tf_key) + 1;
		len += strlen(fields[i].tf_value) + 1;
		if (len > BOUND_TRUSTED_COMMENT)
			return KEYS_ECOMMENT;
	}
	if ((out = malloc(len + 1)) == NULL)
		return KEYS_ENOMEM;
	off = (size_t)snprintf(out, len + 1, "%s", kind);
	for (i = 0; i < nfields; i++)
		off += (size_t)snprintf(out + off, len + 1 - off, "\t%s=%s",
		    fields[i].tf_key, fields[i].tf_value);
	*comment = out;
	return KEYS_OK;
}

int
keys_tc_manifest(const char *repo, const char *commit, const char *digest,
    int64_t time, char **comment)
{
	struct keys_tc_field f[4];
	char timebuf[32];
	size_t n = 0;

	if (repo == NULL || digest == NULL)
		return KEYS_EINVAL;
	snprintf(timebuf, sizeof(timebuf), "%" PRId64, time);
	f[n++] = (struct keys_tc_field){ "repo", repo };
	if (commit != NULL)
		f[n++] = (struct keys_tc_field){ "commit", commit };
	f[n++] = (struct keys_tc_field){ "digest", digest };
	f[n++] = (struct keys_tc_field){ "time", timebuf };
	return keys_tc_format(KEYS_TC_MANIFEST, f, n, comment);
}

int
keys_tc_release(uint64_t version, const char *digest, int64_t time,
    char **comment)
{
	struct keys_tc_field f[3];
	char verbuf[32], timebuf[32];

	if (digest == NULL)
		return KEYS_EINVAL;
	snprintf(verbuf, sizeof(verbuf), "%" PRIu64, version);
	snprintf(timebuf, sizeof(timebuf), "%" PRId64, time);
	f[0] = (struct keys_tc_field){ "version", verbuf };
	f[1] = (struct keys_tc_field){ "digest", digest };
	f[2] = (struct keys_tc_field){ "time", timebuf };
	return keys_tc_format(KEYS_TC_RELEASE, f, 3, comment);
}

/*
 * Whether the comment claims to say what was signed.  By prefix, not by a
 * full parse: a malformed comment that claims airlock's form must not pass
 * as one that names nothing.
 */
void
keys_subject_manifest(struct keys_subject *su, const char *repo,
    const char *digest, const void *bytes, size_t len)
{
	su->su_kind = KEYS_TC_MANIFEST;
	su->su_repo = repo;
	su->su_digest = digest;
	su->su_msg = bytes;
	su->su_len = len;
}

int
keys_tc_names_subject(const char *comment)
{
	if (comment == NULL)
		return 0;
	return strncmp(comment, KEYS_TC_AIRLOCK, strlen(KEYS_TC_AIRLOCK)) == 0;
}

static int
copy_out(const char *s, size_t len, char *buf, size_t size)
{
	if (buf == NULL || len >= size)
		return KEYS_ETOOSMALL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return KEYS_OK;
}

int
keys_tc_kind(const char *comment, char *buf, size_t size)
{
	size_t len;

	if (comment == NULL)
		return KEYS_EINVAL;
	len = strcspn(comment, "\t");
	if (!token_valid(comment, len))
		return KEYS_EFORMAT;
	return copy_out(comment, len, buf, size);
}

/*
 * A key that appears twice is malformed rather than "the first wins": a
 * reader that picked the other one would see a different subject.
 */
int
keys_tc_get(const char *comment, const char *key, char *buf, size_t size)
{
	const char *field, *value = NULL, *eq;
	size_t keylen, len, valuelen = 0;

	if (comment == NULL || key == NULL)
		return KEYS_EINVAL;
	keylen = strlen(key);
	len = strcspn(comment, "\t");
	if (!token_valid(comment, len))
		return KEYS_EFORMAT;
	for (field = comment + len; *field == '\t'; field += len) {
		field++;
		len = strcspn(field, "\t");
		eq = memchr(field, '=', len);
		if (eq == NULL || !token_valid(field, (size_t)(eq - field)))
			return KEYS_EFORMAT;
		if ((size_t)(eq - field) != keylen ||
		    memcmp(field, key, keylen) != 0)
			continue;
		if (value != NULL)
			return KEYS_EFORMAT;
		value = eq + 1;
		valuelen = len - keylen - 1;
	}
	if (value == NULL)
		return KEYS_ENOTFOUND;
	return copy_out(value, valuelen, buf, size);
}
