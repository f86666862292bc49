/*
 * airlock key gen [--name NAME] [--no-password], key ls, key pub [NAME]:
 * the store's own signing keys.
 *
 * A key lives in STORE/keys/NAME.key (mode 0600, in a 0700 folder) and
 * NAME.pub, in minisign's formats, so that stock minisign signs and
 * verifies with them.  The setting "default_key" names the key that add
 * and sign use; the first key made becomes it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "lib/bounds.h"
#include "cli/cli.h"
#include "keys/keys.h"
#include "cli/trust.h"
#include "gate/gate.h"

/* A key's name is part of two file names: keep it to a safe alphabet. */
static int
key_name_valid(const char *name)
{
	size_t len = strlen(name);

	return len > 0 && len <= BOUND_KEY_NAME && name[0] != '.' &&
	    name[0] != '-' && strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789._-") == len;
}

/* The name in the setting "default_key", or NULL (malloc'd). */
static char *
default_key(struct store *st)
{
	void *v;
	size_t len;

	if (store_kv_get(st, STORE_SETTING, "default_key", 11, &v, &len) != 0)
		return NULL;
	return v;
}

/*
 * The folder that holds the secret keys is private to its owner, even if
 * someone made it before with a looser mode.
 */
static int
key_dir(struct store *st, char *dir, size_t size)
{
	struct stat sb;

	if ((size_t)snprintf(dir, size, "%s/keys", store_dir(st)) >= size)
		return cli_fail(EXIT_USAGE, "%s: path too long", store_dir(st));
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	if (lstat(dir, &sb) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return cli_fail(EXIT_USAGE, "%s: not a folder", dir);
	if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
	return 0;
}

/* Writes a file that must not exist yet; on failure nothing is left. */
static int
write_new(const char *path, const char *text, mode_t mode)
{
	size_t len = strlen(text), off = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    mode);
	if (fd == -1)
		return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		off += (size_t)n;
	}
	if (fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	cli_warnx("%s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(path);
	return EXIT_USAGE;
}

static const char *
gen_name(const struct cmd_ctx *ctx)
{
	return ctx->opt['n'] != NULL ? ctx->opt['n'] : "default";
}

int
cmd_key_gen_check(struct cmd_ctx *ctx)
{
	const char *name = gen_name(ctx);

	if (!key_name_valid(name))
		return cli_fail(EXIT_USAGE, "%s: a key name is 1 to %d letters, "
		    "digits, '.', '_' or '-', not starting with '.' or '-'",
		    name, BOUND_KEY_NAME);
	return 0;
}

/* The new key's two files, in a private folder, neither there yet. */
static int
gen_paths(struct store *st, const char *name, char skpath[4096],
    char pkpath[4096])
{
	char dir[4096];
	struct stat sb;
	int rc;

	if (key_paths(st, name, skpath, pkpath, 4096) != 0)
		return cli_fail(EXIT_USAGE, "%s: path too long", store_dir(st));
	if ((rc = key_dir(st, dir, sizeof(dir))) != 0)
		return rc;
	/* Checked before the slow part; O_EXCL in write_new closes the race. */
	if (lstat(skpath, &sb) == 0 || lstat(pkpath, &sb) == 0)
		return cli_fail(EXIT_USAGE, "key %s: %s exists already; a key "
		    "is never overwritten", name, lstat(skpath, &sb) == 0 ?
		    skpath : pkpath);
	return 0;
}

/* The new key's passphrase, asked twice; never empty. */
static int
gen_pass(const char *name, char **pass)
{
	char prompt[128];

	snprintf(prompt, sizeof(prompt), "Passphrase for the new key %s: ",
	    name);
	if ((*pass = passphrase_get(prompt, 1)) == NULL)
		return EXIT_USAGE;
	if (**pass == '\0')
		return cli_fail(EXIT_USAGE, "key %s: the passphrase is empty "
		    "(--no-password makes a key without one)", name);
	return 0;
}

int
cmd_key_gen(struct cmd_ctx *ctx)
{
	char skpath[4096], pkpath[4096], hex[KEYS_KEYID_HEXLEN + 1];
	char *pass = NULL, *sktext = NULL, *pktext = NULL, *json = NULL;
	char *def = NULL;
	const char *name = gen_name(ctx);
	struct cli *cli = ctx->cli;
	struct store *st = ctx->st;
	struct keys_secret *sk = NULL;
	struct keys_trust trust;
	struct keys_pub pub;
	int rc, nopass = ctx->opt['N'] != NULL;
	int made_sk = 0, made_pk = 0, made_trust = 0, is_default = 0;

	if ((rc = gen_paths(st, name, skpath, pkpath)) != 0 ||
	    (!nopass && (rc = gen_pass(name, &pass)) != 0))
		goto fail;
	if ((rc = keys_generate(&sk, &pub)) != 0 ||
	    (rc = keys_secret_format(sk, pass, &sktext)) != 0 ||
	    (rc = keys_pub_format(&pub, &pktext)) != 0) {
		rc = cli_fail(EXIT_USAGE, "key %s: %s", name,
		    keys_strerror(rc));
		goto fail;
	}
	if ((rc = write_new(skpath, sktext, 0600)) != 0)
		goto fail;
	made_sk = 1;
	if ((rc = write_new(pkpath, pktext, 0644)) != 0)
		goto fail;
	made_pk = 1;
	if ((rc = keys_trust_init(&trust, &pub, name, "*",
	    (int64_t)time(NULL))) != 0 ||
	    (rc = keys_trust_to_json(&trust, &json)) != 0) {
		rc = cli_fail(EXIT_USAGE, "key %s: %s", name,
		    keys_strerror(rc));
		goto fail;
	}
	if ((rc = store_kv_put(st, STORE_TRUST, pub.kp_keyid,
	    KEYS_KEYID_BYTES, json, strlen(json))) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto fail;
	}
	made_trust = 1;
	if ((def = default_key(st)) == NULL) {
		if ((rc = store_kv_put(st, STORE_SETTING, "default_key", 11,
		    name, strlen(name))) != 0) {
			rc = cli_store_fail(rc, "default_key");
			goto fail;
		}
		is_default = 1;
	}
	keys_keyid_hex(pub.kp_keyid, hex);
	if (cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s,s:b,s:b}", "name", name,
		    "keyid", hex, "secret_key", skpath, "public_key", pkpath,
		    "encrypted", !nopass, "default", is_default));
	else
		printf("key %s %s%s\nsecret key %s\npublic key %s\n", name,
		    hex, is_default ? " (default)" : "", skpath, pkpath);
	rc = EXIT_OK;
fail:
	/* A key that is not in the keyring is not half made: remove it. */
	if (rc != EXIT_OK && made_sk)
		unlink(skpath);
	if (rc != EXIT_OK && made_pk)
		unlink(pkpath);
	if (rc != EXIT_OK && made_trust)
		store_kv_delete(st, STORE_TRUST, pub.kp_keyid,
		    KEYS_KEYID_BYTES);
	if (sktext != NULL) {
		sodium_memzero(sktext, strlen(sktext));
		free(sktext);
	}
	free(pktext);
	free(json);
	free(def);
	keys_secret_free(sk);
	passphrase_free(pass);
	return rc;
}

static int
pub_name(const struct dirent *d)
{
	size_t len = strlen(d->d_name);

	return len > 4 && strcmp(d->d_name + len - 4, ".pub") == 0;
}

/*
 * One of the store's keys, as key ls shows it.  Its standing is its public
 * key's, under whatever id the keyring holds it.
 */
static json_t *
key_entry(struct store *st, const char *name, const char *def,
    const struct keys_trust *ring, size_t nring)
{
	char skpath[4096], pkpath[4096], hex[KEYS_KEYID_HEXLEN + 1];
	const char *secret, *keyring = "absent";
	const struct keys_trust *entry;
	struct keys_secret *sk = NULL;
	struct keys_trust trust;
	struct keys_pub pub;
	char *text;
	void *val;
	size_t len;
	int rc;

	if (key_paths(st, name, skpath, pkpath, sizeof(skpath)) != 0 ||
	    cli_read_file(pkpath, BOUND_SIGFILE, &text, &len) != 0)
		return NULL;
	rc = keys_pub_parse(text, len, &pub);
	free(text);
	if (rc != 0) {
		cli_warnx("%s: %s", pkpath, keys_strerror(rc));
		return NULL;
	}
	keys_keyid_hex(pub.kp_keyid, hex);
	/* Without a passphrase, parsing tells encrypted from not cheaply. */
	if (access(skpath, F_OK) != 0)
		secret = "missing";
	else if (cli_read_file(skpath, BOUND_SIGFILE, &text, &len) != 0)
		secret = "unreadable";
	else {
		rc = keys_secret_parse(text, len, NULL, &sk);
		sodium_memzero(text, len);
		free(text);
		if (rc == KEYS_ENEEDPASS)
			secret = "encrypted";
		else if (rc == 0) {
			struct keys_pub skpub;

			keys_secret_pub(sk, &skpub);
			secret = memcmp(&skpub, &pub, sizeof(pub)) == 0 ?
			    "unencrypted" : "does not match the public key";
		} else
			secret = keys_strerror(rc);
		keys_secret_free(sk);
	}
	if (keys_trust_lookup(ring, nring, &pub, &entry) == 0)
		keyring = entry->kt_revoked ? "revoked" : "trusted";
	else if (store_kv_get(st, STORE_TRUST, pub.kp_keyid, KEYS_KEYID_BYTES,
	    &val, &len) == 0) {
		if (keys_trust_from_json(val, len, &trust) != 0)
			keyring = "unreadable";
		else if (memcmp(&trust.kt_pub, &pub, sizeof(pub)) != 0)
			keyring = "another key has its id";
		else
			keyring = trust.kt_revoked ? "revoked" : "trusted";
		free(val);
	}
	return json_pack("{s:s,s:s,s:b,s:s,s:s,s:s,s:s}", "name", name,
	    "keyid", hex, "default", def != NULL && strcmp(def, name) == 0,
	    "secret", secret, "keyring", keyring, "secret_key", skpath,
	    "public_key", pkpath);
}

int
cmd_key_ls(struct cmd_ctx *ctx)
{
	struct dirent **names = NULL;
	struct keys_trust *ring = NULL;
	struct store *st = ctx->st;
	char dir[4096], *def;
	json_t *list, *e;
	size_t i, nring = 0;
	int n = 0, rc;

	def = default_key(st);
	list = json_array();
	if ((rc = gate_ring(st, &ring, &nring)) != 0) {
		rc = cli_store_fail(rc, "keyring");
		goto out;
	}
	snprintf(dir, sizeof(dir), "%s/keys", store_dir(st));
	if ((n = scandir(dir, &names, pub_name, alphasort)) == -1 &&
	    errno != ENOENT) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", dir, strerror(errno));
		goto out;
	}
	for (int k = 0; k < n; k++) {
		size_t len = strlen(names[k]->d_name) - 4;

		names[k]->d_name[len] = '\0';
		if (key_name_valid(names[k]->d_name) &&
		    (e = key_entry(st, names[k]->d_name, def, ring,
		    nring)) != NULL)
			json_array_append_new(list, e);
	}
	if (ctx->cli->json)
		cli_json(json_incref(list));
	else
		json_array_foreach(list, i, e)
			printf("%c %-20s %s %-11s %s\n", json_is_true(
			    json_object_get(e, "default")) ? '*' : ' ',
			    json_string_value(json_object_get(e, "name")),
			    json_string_value(json_object_get(e, "keyid")),
			    json_string_value(json_object_get(e, "secret")),
			    json_string_value(json_object_get(e, "keyring")));
	rc = EXIT_OK;
out:
	for (int k = 0; k < n; k++)
		free(names[k]);
	free(names);
	free(ring);
	json_decref(list);
	free(def);
	return rc;
}

int
cmd_key_pub(struct cmd_ctx *ctx)
{
	char pkpath[4096], hex[KEYS_KEYID_HEXLEN + 1], *def = NULL;
	char *text = NULL, *b64 = NULL;
	const char *name;
	struct keys_pub pub;
	struct store *st = ctx->st;
	size_t len;
	int rc;

	if (ctx->argc == 1)
		name = ctx->argv[0];
	else if ((name = def = default_key(st)) == NULL) {
		rc = cli_fail(EXIT_CHECK, "the store has no default key "
		    "(airlock key gen makes one)");
		goto out;
	}
	if (!key_name_valid(name)) {
		rc = cli_fail(EXIT_USAGE, "%s: not a key name", name);
		goto out;
	}
	if (key_paths(st, name, NULL, pkpath, sizeof(pkpath)) != 0 ||
	    access(pkpath, F_OK) != 0) {
		rc = cli_fail(EXIT_CHECK, "key %s: no such key in %s/keys",
		    name, store_dir(st));
		goto out;
	}
	if ((rc = cli_read_file(pkpath, BOUND_SIGFILE, &text, &len)) != 0)
		goto out;
	if ((rc = keys_pub_parse(text, len, &pub)) != 0 ||
	    (rc = keys_pub_base64(&pub, &b64)) != 0) {
		rc = cli_fail(EXIT_USAGE, "%s: %s", pkpath, keys_strerror(rc));
		goto out;
	}
	keys_keyid_hex(pub.kp_keyid, hex);
	if (ctx->cli->json)
		cli_json(json_pack("{s:s,s:s,s:s,s:s}", "name", name, "keyid",
		    hex, "public_key", b64, "file", text));
	else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
		rc = cli_fail(EXIT_USAGE, "stdout: %s", strerror(errno));
		goto out;
	}
	rc = EXIT_OK;
out:
	free(b64);
	free(text);
	free(def);
	return rc;
}
