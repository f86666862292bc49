/*
 * airlock trust add FILE.pub [--name NAME] [--scope PATTERN], trust ls,
 * trust revoke KEYID, trust threshold [N]: the store's keyring and trust
 * policy.
 *
 * The keyring maps a key id to one entry: the public key, a name, a scope
 * (an fnmatch(3) pattern over "ORG/NAME") and the times it was added and
 * revoked.  A key is its public key, not its id: ids are not signed, so
 * one public key is in the keyring under one id only, and a revocation is
 * of the public key and final: adding it again, under any id, does not
 * undo it.
 */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "cli/trust.h"
#include "gate/gate.h"

static const char *
when(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%lld", (long long)t);
	return buf;
}

static json_t *
trust_json(const struct keys_trust *t)
{
	char hex[KEYS_KEYID_HEXLEN + 1], added[32], revoked[32], *b64 = NULL;
	json_t *j;

	keys_keyid_hex(t->kt_pub.kp_keyid, hex);
	if (keys_pub_base64(&t->kt_pub, &b64) != 0)
		return NULL;
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s?}", "keyid", hex, "name",
	    t->kt_name, "scope", t->kt_scope, "public_key", b64, "added",
	    when(t->kt_added, added), "revoked", t->kt_revoked ?
	    when(t->kt_revoked_time, revoked) : NULL);
	free(b64);
	return j;
}

/* The keyring entry for a key id: 0, STORE_ENOTFOUND, or printed error. */
static int
trust_get(struct store *st, const uint8_t keyid[KEYS_KEYID_BYTES],
    struct keys_trust *t)
{
	char hex[KEYS_KEYID_HEXLEN + 1];
	void *val;
	size_t len;
	int rc;

	keys_keyid_hex(keyid, hex);
	rc = store_kv_get(st, STORE_TRUST, keyid, KEYS_KEYID_BYTES, &val, &len);
	if (rc == STORE_ENOTFOUND)
		return rc;
	if (rc != 0)
		return cli_store_fail(rc, "keyring");
	rc = keys_trust_from_json(val, len, t);
	free(val);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "keyring entry %s: %s", hex,
		    keys_strerror(rc));
	return 0;
}

static int
trust_put(struct store *st, const struct keys_trust *t)
{
	char *json;
	int rc;

	if ((rc = keys_trust_to_json(t, &json)) != 0)
		return cli_fail(EXIT_USAGE, "keyring entry: %s",
		    keys_strerror(rc));
	rc = store_kv_put(st, STORE_TRUST, t->kt_pub.kp_keyid,
	    KEYS_KEYID_BYTES, json, strlen(json));
	free(json);
	return rc != 0 ? cli_store_fail(rc, "keyring") : 0;
}

/* The default name: the file's name without ".pub", else the key id. */
static void
default_name(const char *path, const char *hex, char *buf, size_t size)
{
	char copy[4096], *base;
	size_t len;

	snprintf(copy, sizeof(copy), "%s", path);
	base = basename(copy);
	len = strlen(base);
	if (len > 4 && strcmp(base + len - 4, ".pub") == 0)
		base[len - 4] = '\0';
	if (strcmp(path, "-") == 0 || *base == '\0' || strlen(base) >= size)
		base = (char *)hex;
	snprintf(buf, size, "%s", base);
}

/*
 * Refuses pub when its public key is in the keyring under another id:
 * revoked there (a revocation is of the key, whatever its id), or trusted
 * there (one key is one signer: under two ids it would count twice).
 * Returns 0 when it is not, else the exit code, the error printed.
 */
static int
same_key_elsewhere(struct store *st, const char *path,
    const struct keys_pub *pub)
{
	char hex[KEYS_KEYID_HEXLEN + 1], other[KEYS_KEYID_HEXLEN + 1], buf[32];
	const struct keys_trust *revoked = NULL, *trusted = NULL;
	struct keys_trust *ring;
	size_t n;
	int rc, here = 0;

	if ((rc = gate_ring(st, &ring, &n)) != 0)
		return cli_store_fail(rc, "keyring");
	for (size_t i = 0; i < n; i++) {
		if (memcmp(ring[i].kt_pub.kp_key, pub->kp_key,
		    KEYS_PUBKEY_BYTES) != 0)
			continue;
		/* Under the same id, trust_add() says what it is. */
		if (memcmp(ring[i].kt_pub.kp_keyid, pub->kp_keyid,
		    KEYS_KEYID_BYTES) == 0)
			here = 1;
		else if (ring[i].kt_revoked) {
			if (revoked == NULL)
				revoked = &ring[i];
		} else if (trusted == NULL)
			trusted = &ring[i];
	}
	/*
	 * A keyring from before this rule may hold a key under two ids:
	 * each entry may still change its name or scope (the policy counts
	 * the key once).
	 */
	if (here)
		trusted = NULL;
	keys_keyid_hex(pub->kp_keyid, hex);
	rc = 0;
	if (revoked != NULL) {
		keys_keyid_hex(revoked->kt_pub.kp_keyid, other);
		rc = cli_fail(EXIT_CHECK, "%s: key %s: its public key was "
		    "revoked under id %s (%s) on %s; a revoked key is never "
		    "trusted again, under any id", path, hex, other,
		    revoked->kt_name, when(revoked->kt_revoked_time, buf));
	} else if (trusted != NULL) {
		keys_keyid_hex(trusted->kt_pub.kp_keyid, other);
		rc = cli_fail(EXIT_CHECK, "%s: key %s: its public key is "
		    "already trusted as key %s (%s); a key is its public key, "
		    "whatever its id (trust add the file of %s to change its "
		    "name or scope)", path, hex, other, trusted->kt_name,
		    other);
	}
	free(ring);
	return rc;
}

/* The entry FILE.pub, --name and --scope make; prints why not. */
static int
new_entry(const struct cmd_ctx *ctx, struct keys_trust *t)
{
	char namebuf[BOUND_KEY_NAME + 1], hex[KEYS_KEYID_HEXLEN + 1];
	char *text = NULL;
	const char *path = ctx->argv[0], *name = ctx->opt['n'];
	const char *scope = ctx->opt['s'] != NULL ? ctx->opt['s'] : "*";
	struct keys_pub pub;
	size_t len;
	int rc;

	if ((rc = cli_read_file(path, BOUND_SIGFILE, &text, &len)) != 0)
		return rc;
	rc = keys_pub_parse(text, len, &pub);
	free(text);
	if (rc != 0)
		return cli_fail(EXIT_USAGE, "%s: not a minisign public key: %s",
		    path, keys_strerror(rc));
	keys_keyid_hex(pub.kp_keyid, hex);
	if (name == NULL) {
		default_name(path, hex, namebuf, sizeof(namebuf));
		name = namebuf;
	}
	/* Tried apart so that the message says which one is wrong. */
	if (keys_trust_init(t, &pub, name, "*", 0) != 0)
		return cli_fail(EXIT_USAGE, "%s: a name is printable text "
		    "without tabs, at most %d bytes", name, BOUND_KEY_NAME);
	if (keys_trust_init(t, &pub, name, scope, (int64_t)time(NULL)) != 0)
		return cli_fail(EXIT_USAGE, "%s: a scope is a pattern such as "
		    "'*' or 'ORG/*', printable ASCII, at most %d bytes", scope,
		    BOUND_KEY_SCOPE);
	return 0;
}

/* FILE.pub is read once (it may be stdin), before the store opens. */
int
cmd_trust_add_check(struct cmd_ctx *ctx)
{
	if ((ctx->data = malloc(sizeof(struct keys_trust))) == NULL)
		return cli_fail(EXIT_USAGE, "out of memory");
	return new_entry(ctx, ctx->data);
}

int
cmd_trust_add(struct cmd_ctx *ctx)
{
	char hex[KEYS_KEYID_HEXLEN + 1];
	const char *path = ctx->argv[0], *verb = "trusted";
	int name_given = ctx->opt['n'] != NULL;
	int scope_given = ctx->opt['s'] != NULL;
	struct keys_trust t = *(struct keys_trust *)ctx->data, old;
	const struct keys_pub *pub = &t.kt_pub;
	struct store *st = ctx->st;
	int rc;

	keys_keyid_hex(pub->kp_keyid, hex);
	if ((rc = same_key_elsewhere(st, path, pub)) != 0)
		goto out;
	rc = trust_get(st, pub->kp_keyid, &old);
	if (rc == 0) {
		if (memcmp(&old.kt_pub, pub, sizeof(*pub)) != 0) {
			rc = cli_fail(EXIT_CHECK, "%s: key id %s belongs to "
			    "another key in the keyring (%s)", path, hex,
			    old.kt_name);
			goto out;
		}
		if (old.kt_revoked) {
			char buf[32];

			rc = cli_fail(EXIT_CHECK, "%s: key %s (%s) was revoked "
			    "on %s; a revoked key is never trusted again",
			    path, hex, old.kt_name, when(old.kt_revoked_time,
			    buf));
			goto out;
		}
		/*
		 * The same key again: a new name or scope, same history.
		 * What is not given stays, so that adding a key twice never
		 * widens its scope to the default "*" by accident.
		 */
		if (!name_given)
			memcpy(t.kt_name, old.kt_name, sizeof(t.kt_name));
		if (!scope_given)
			memcpy(t.kt_scope, old.kt_scope, sizeof(t.kt_scope));
		t.kt_added = old.kt_added;
		verb = strcmp(t.kt_name, old.kt_name) == 0 &&
		    strcmp(t.kt_scope, old.kt_scope) == 0 ? "unchanged" :
		    "updated";
	} else if (rc != STORE_ENOTFOUND)
		goto out;
	if ((rc = trust_put(st, &t)) != 0)
		goto out;
	if (ctx->cli->json)
		cli_json(trust_json(&t));
	else
		printf("%s %s %s scope %s\n", verb, hex, t.kt_name,
		    t.kt_scope);
	rc = EXIT_OK;
out:
	return rc;
}

struct listing {
	json_t			*list;
	const struct keys_trust	*ring;
	size_t			 n;
};

/*
 * An entry whose public key is revoked under another id (a keyring from
 * before a revocation was of the key) is revoked: shown so, and as what.
 */
static void
revoked_elsewhere(const struct listing *l, const struct keys_trust *t,
    json_t *j)
{
	char hex[KEYS_KEYID_HEXLEN + 1], buf[32];

	for (size_t i = 0; i < l->n && !t->kt_revoked; i++)
		if (l->ring[i].kt_revoked && memcmp(l->ring[i].kt_pub.kp_key,
		    t->kt_pub.kp_key, KEYS_PUBKEY_BYTES) == 0) {
			keys_keyid_hex(l->ring[i].kt_pub.kp_keyid, hex);
			json_object_set_new(j, "revoked", json_string(when(
			    l->ring[i].kt_revoked_time, buf)));
			json_object_set_new(j, "revoked_as", json_string(hex));
			return;
		}
}

static int
list_entry(void *arg, const void *key, size_t klen, const void *val,
    size_t vlen)
{
	struct listing *l = arg;
	json_t *list = l->list, *j;
	char hex[KEYS_KEYID_HEXLEN + 1];
	struct keys_trust t;
	int rc;

	if ((rc = keys_trust_from_json(val, vlen, &t)) != 0) {
		/* Listed, so that a damaged keyring is noticed. */
		if (klen == KEYS_KEYID_BYTES)
			keys_keyid_hex(key, hex);
		else
			snprintf(hex, sizeof(hex), "?");
		json_array_append_new(list, json_pack("{s:s,s:s}", "keyid",
		    hex, "error", keys_strerror(rc)));
	} else if ((j = trust_json(&t)) != NULL) {
		revoked_elsewhere(l, &t, j);
		json_array_append_new(list, j);
	}
	return 0;
}

int
cmd_trust_ls(struct cmd_ctx *ctx)
{
	struct keys_trust *ring = NULL;
	struct store *st = ctx->st;
	struct listing l;
	json_t *list, *e;
	size_t i;
	int rc;

	list = json_array();
	l.list = list;
	if ((rc = gate_ring(st, &ring, &l.n)) != 0 ||
	    (l.ring = ring, rc = store_kv_each(st, STORE_TRUST, list_entry,
	    &l)) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto out;
	}
	if (ctx->cli->json)
		cli_json(json_incref(list));
	else
		json_array_foreach(list, i, e) {
			const char *err = json_string_value(json_object_get(e,
			    "error"));
			const char *rev = json_string_value(json_object_get(e,
			    "revoked"));
			const char *as = json_string_value(json_object_get(e,
			    "revoked_as"));

			if (err != NULL) {
				printf("%-16s unreadable entry: %s\n",
				    json_string_value(json_object_get(e,
				    "keyid")), err);
				continue;
			}
			printf("%s %-20s %-24s %s %s%s%s%s\n",
			    json_string_value(json_object_get(e, "keyid")),
			    json_string_value(json_object_get(e, "name")),
			    json_string_value(json_object_get(e, "scope")),
			    json_string_value(json_object_get(e, "added")),
			    rev != NULL ? "revoked " : "trusted",
			    rev != NULL ? rev : "", as != NULL ? " as " : "",
			    as != NULL ? as : "");
		}
	rc = EXIT_OK;
out:
	free(ring);
	json_decref(list);
	return rc;
}

/* The store's default signing key's id, to warn before it is revoked. */
static int
default_keyid(struct store *st, uint8_t keyid[KEYS_KEYID_BYTES])
{
	char path[4096], *text;
	struct keys_pub pub;
	void *name;
	size_t len;
	int rc;

	if (store_kv_get(st, STORE_SETTING, "default_key", 11, &name,
	    &len) != 0)
		return -1;
	rc = key_paths(st, name, NULL, path, sizeof(path));
	free(name);
	if (rc != 0 || access(path, R_OK) != 0 ||
	    cli_read_file(path, BOUND_SIGFILE, &text, &len) != 0)
		return -1;
	rc = keys_pub_parse(text, len, &pub);
	free(text);
	if (rc != 0)
		return -1;
	memcpy(keyid, pub.kp_keyid, KEYS_KEYID_BYTES);
	return 0;
}

/* Revokes, at t's time, the other ids under which t's public key is. */
static int
revoke_aliases(struct store *st, const struct keys_trust *t)
{
	struct keys_trust *ring;
	size_t n;
	int rc;

	if ((rc = gate_ring(st, &ring, &n)) != 0)
		return cli_store_fail(rc, "keyring");
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (ring[i].kt_revoked || memcmp(ring[i].kt_pub.kp_key,
		    t->kt_pub.kp_key, KEYS_PUBKEY_BYTES) != 0)
			continue;
		keys_trust_revoke(&ring[i], t->kt_revoked_time);
		rc = trust_put(st, &ring[i]);
	}
	free(ring);
	return rc;
}

int
cmd_trust_revoke_check(struct cmd_ctx *ctx)
{
	uint8_t keyid[KEYS_KEYID_BYTES];

	if (keys_keyid_parse(ctx->argv[0], keyid) != 0)
		return cli_fail(EXIT_USAGE, "%s: not a key id (1 to 16 hex "
		    "digits)", ctx->argv[0]);
	return 0;
}

int
cmd_trust_revoke(struct cmd_ctx *ctx)
{
	uint8_t keyid[KEYS_KEYID_BYTES], mine[KEYS_KEYID_BYTES];
	char hex[KEYS_KEYID_HEXLEN + 1], buf[32];
	struct store *st = ctx->st;
	struct keys_trust t;
	int rc, again;

	(void)keys_keyid_parse(ctx->argv[0], keyid);	/* checked */
	keys_keyid_hex(keyid, hex);
	if ((rc = trust_get(st, keyid, &t)) != 0) {
		if (rc == STORE_ENOTFOUND)
			rc = cli_fail(EXIT_CHECK, "%s: no such key in the "
			    "keyring", hex);
		goto out;
	}
	/* Revoking twice keeps the first time, the one that counts. */
	if (!(again = t.kt_revoked)) {
		keys_trust_revoke(&t, (int64_t)time(NULL));
		if ((rc = trust_put(st, &t)) != 0)
			goto out;
		if (default_keyid(st, mine) == 0 &&
		    memcmp(mine, keyid, sizeof(mine)) == 0)
			cli_warnx("%s (%s) is this store's default signing key: "
			    "the signatures it makes no longer count", hex,
			    t.kt_name);
	}
	/*
	 * The revocation is of the public key.  A keyring from before that
	 * rule may hold it under other ids too: the policy counts them
	 * revoked already; mark them so, that trust ls says so.
	 */
	if ((rc = revoke_aliases(st, &t)) != 0)
		goto out;
	if (ctx->cli->json)
		cli_json(trust_json(&t));
	else
		printf("%s %s %s on %s\n", again ? "already revoked" :
		    "revoked", hex, t.kt_name, when(t.kt_revoked_time, buf));
	rc = EXIT_OK;
out:
	return rc;
}

/*
 * Keys that can still vouch for something: distinct public keys, none of
 * whose entries is revoked.
 */
static size_t
live_keys(const struct keys_trust *ring, size_t n)
{
	size_t live = 0, i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < n; j++)
			if (memcmp(ring[j].kt_pub.kp_key, ring[i].kt_pub.kp_key,
			    KEYS_PUBKEY_BYTES) == 0 && (ring[j].kt_revoked ||
			    j < i))
				break;
		if (j == n)
			live++;
	}
	return live;
}

/*
 * With no N, prints the policy in force; with N, sets it.  0 means that
 * signatures are not required (they are still checked and shown).
 */
static int
threshold_arg(const char *s, unsigned long *n)
{
	char *end;

	errno = 0;
	*n = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    *n > BOUND_TRUST_THRESHOLD)
		return -1;
	return 0;
}

/* Setting N writes: only then is the store opened read-write. */
int
cmd_trust_threshold_check(struct cmd_ctx *ctx)
{
	unsigned long n;

	if (ctx->argc == 0)
		return 0;
	if (threshold_arg(ctx->argv[0], &n) != 0)
		return cli_fail(EXIT_USAGE, "%s: the threshold is a number "
		    "from 0 to %d", ctx->argv[0], BOUND_TRUST_THRESHOLD);
	ctx->store = CMD_STORE_RW;
	return 0;
}

int
cmd_trust_threshold(struct cmd_ctx *ctx)
{
	const char *arg = ctx->argc == 1 ? ctx->argv[0] : NULL;
	struct keys_trust *ring = NULL;
	struct store *st = ctx->st;
	unsigned need;
	size_t nring;
	unsigned long n = 0;
	int rc, is_default;

	if (arg != NULL)
		(void)threshold_arg(arg, &n);	/* checked */
	if ((rc = gate_ring(st, &ring, &nring)) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto out;
	}
	if (arg != NULL) {
		char val[16];

		snprintf(val, sizeof(val), "%lu", n);
		if ((rc = store_kv_put(st, STORE_SETTING, "threshold", 9, val,
		    strlen(val))) != 0) {
			rc = cli_store_fail(rc, "threshold");
			goto out;
		}
		if (n > live_keys(ring, nring))
			cli_warnx("threshold %lu: the keyring has %zu "
			    "unrevoked key%s, so no revision can meet it yet",
			    n, live_keys(ring, nring),
			    live_keys(ring, nring) == 1 ? "" : "s");
	}
	if (trust_threshold(st, nring, &need, &is_default) != 0) {
		rc = cli_fail(EXIT_USAGE, "the store's threshold setting is "
		    "not a number (airlock trust threshold N sets it)");
		goto out;
	}
	if (ctx->cli->json)
		cli_json(json_pack("{s:I,s:b,s:I,s:I}", "threshold",
		    (json_int_t)need, "default", is_default, "keys",
		    (json_int_t)nring, "unrevoked",
		    (json_int_t)live_keys(ring, nring)));
	else if (need == 0)
		printf("threshold 0%s: signatures are not required\n",
		    is_default ? " (default: the keyring is empty)" : "");
	else
		printf("threshold %u%s: a revision needs %u signature%s by "
		    "distinct trusted keys in scope\n", need, is_default ?
		    " (default)" : "", need, need == 1 ? "" : "s");
	rc = EXIT_OK;
out:
	free(ring);
	return rc;
}
