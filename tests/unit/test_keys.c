/*
 * keys/: minisign-compatible keys and signatures, checked both ways against
 * the real minisign ($MINISIGN), plus tampering, the trust policy and
 * release rollback rules.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sodium.h>

#include "keys/keys.h"
#include "tests/unit/tap_main.h"

extern char **environ;

/* The secret key line's layout (FORMATS.md), to build and damage keys. */
#define SK_KDF		2
#define SK_SALT		6
#define SK_OPSLIMIT	38
#define SK_MEMLIMIT	46
#define SK_KEYID	54
#define SK_SECRET	62
#define SK_CHK		126
#define SK_BLOB		158

static struct {
	char		 dir[PATH_MAX];
	const char	*minisign;	/* NULL: interoperability skipped */
	int		 nfiles;
} g;

/* --- helpers ----------------------------------------------------------- */

static void
path_of(char *buf, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", g.dir, name);

	assert_true(n > 0 && n < PATH_MAX);
}

/* A name not used before in this run, so that tests never collide. */
static void
fresh_name(char *buf, size_t size, const char *stem)
{
	snprintf(buf, size, "%s-%d", stem, g.nfiles++);
}

static void
write_file(const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	FILE *fp;

	path_of(path, name);
	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static char *
read_file(const char *name, size_t *lenp)
{
	char path[PATH_MAX], *buf;
	struct stat sb;
	FILE *fp;

	path_of(path, name);
	assert_non_null(fp = fopen(path, "rb"));
	assert_int_equal(fstat(fileno(fp), &sb), 0);
	assert_non_null(buf = malloc((size_t)sb.st_size + 1));
	assert_int_equal(fread(buf, 1, (size_t)sb.st_size, fp),
	    (size_t)sb.st_size);
	buf[sb.st_size] = '\0';
	fclose(fp);
	if (lenp != NULL)
		*lenp = (size_t)sb.st_size;
	return buf;
}

static void
show_file(const char *name)
{
	char *text = read_file(name, NULL);

	print_message("# %s: %s\n", name, text);
	free(text);
}

/*
 * Run a program with input on its stdin (minisign reads passphrases from
 * stdin, one per line, when stdin is not a terminal), stdout to the file
 * out (or nowhere) and stderr to "stderr.txt".  Returns the exit status.
 */
static int
run(const char *const argv[], const char *input, const char *out)
{
	char outpath[PATH_MAX], errpath[PATH_MAX];
	posix_spawn_file_actions_t fa;
	int pfd[2], status;
	size_t len, off;
	ssize_t n;
	pid_t pid;

	if (out != NULL)
		path_of(outpath, out);
	path_of(errpath, "stderr.txt");
	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[0], 0);
	posix_spawn_file_actions_addclose(&fa, pfd[0]);
	posix_spawn_file_actions_addclose(&fa, pfd[1]);
	posix_spawn_file_actions_addopen(&fa, 1, out != NULL ? outpath :
	    "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, errpath,
	    O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL,
	    (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[0]);
	len = input != NULL ? strlen(input) : 0;
	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(pfd[1], input + off, len - off)) <= 0)
			break;
	close(pfd[1]);
	while (waitpid(pid, &status, 0) == -1)
		assert_int_equal(errno, EINTR);
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

/* Run minisign with the arguments, a NULL-terminated list. */
static int
minisign(const char *input, const char *out, ...)
{
	const char *argv[32];
	va_list ap;
	int i = 0, rc;

	argv[i++] = g.minisign;
	va_start(ap, out);
	while ((argv[i++] = va_arg(ap, const char *)) != NULL)
		assert_true(i < 32);
	va_end(ap);
	if ((rc = run(argv, input, out)) != 0)
		show_file("stderr.txt");
	return rc;
}

static void
random_message(uint8_t *buf, size_t len)
{
	randombytes_buf(buf, len);
}

/* "sha256:" + hex SHA-256 of msg, as the store names a manifest. */
static void
digest_of(const void *msg, size_t len, char out[7 + 64 + 1])
{
	uint8_t h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, msg, len);
	memcpy(out, "sha256:", 7);
	sodium_bin2hex(out + 7, 65, h, sizeof(h));
}

/* Start and length of line n (0-based) of text. */
static void
line_span(const char *text, int n, size_t *start, size_t *len)
{
	const char *p = text, *nl;

	for (int i = 0; i < n; i++) {
		assert_non_null(nl = strchr(p, '\n'));
		p = nl + 1;
	}
	*start = (size_t)(p - text);
	*len = strcspn(p, "\n");
}

/* text with base64 line n decoded, byte `at` XORed with mask, re-encoded. */
static char *
tamper_b64(const char *text, int n, size_t at, uint8_t mask)
{
	uint8_t bin[256];
	char b64[512], *out;
	size_t start, len, binlen;

	line_span(text, n, &start, &len);
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), text + start,
	    len, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	assert_true(at < binlen);
	bin[at] ^= mask;
	sodium_bin2base64(b64, sizeof(b64), bin, binlen,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(out = malloc(strlen(text) + 1));
	memcpy(out, text, start);
	memcpy(out + start, b64, len);
	strcpy(out + start + len, text + start + len);
	return out;
}

/* text with base64 line n decoded, bytes at..at+len set, re-encoded. */
static char *
set_b64(const char *text, int n, size_t at, const uint8_t *bytes,
    size_t blen)
{
	uint8_t bin[256];
	char b64[512], *out;
	size_t start, len, binlen;

	line_span(text, n, &start, &len);
	assert_int_equal(sodium_base642bin(bin, sizeof(bin), text + start,
	    len, NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	assert_true(at + blen <= binlen);
	memcpy(bin + at, bytes, blen);
	sodium_bin2base64(b64, sizeof(b64), bin, binlen,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(out = malloc(strlen(text) + 1));
	memcpy(out, text, start);
	memcpy(out + start, b64, len);
	strcpy(out + start + len, text + start + len);
	return out;
}

/* Decode a secret key file's line into blob. */
static void
sk_decode(const char *text, uint8_t blob[SK_BLOB])
{
	size_t start, len, binlen;

	line_span(text, 1, &start, &len);
	assert_int_equal(sodium_base642bin(blob, SK_BLOB, text + start, len,
	    NULL, &binlen, NULL, sodium_base64_VARIANT_ORIGINAL), 0);
	assert_int_equal(binlen, SK_BLOB);
}

static char *
sk_encode(const uint8_t blob[SK_BLOB])
{
	char b64[256], *out;

	sodium_bin2base64(b64, sizeof(b64), blob, SK_BLOB,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(out = malloc(strlen(b64) + 64));
	sprintf(out, "untrusted comment: test key\n%s\n", b64);
	return out;
}

/*
 * A secret key file built here from FORMATS.md with libsodium, encrypted
 * under a cheap scrypt cost so that passphrase tests run fast.
 */
static char *
craft_encrypted_key(const char *passphrase, struct keys_pub *pub)
{
	uint8_t blob[SK_BLOB], stream[SK_BLOB - SK_KEYID];
	crypto_generichash_state st;

	memset(blob, 0, sizeof(blob));
	memcpy(blob, "EdScB2", 6);
	randombytes_buf(blob + SK_SALT, 32);
	for (int i = 0; i < 8; i++) {
		blob[SK_OPSLIMIT + i] = (uint8_t)(32768ULL >> (8 * i));
		blob[SK_MEMLIMIT + i] = (uint8_t)(8388608ULL >> (8 * i));
	}
	randombytes_buf(blob + SK_KEYID, 8);
	crypto_sign_keypair(pub->kp_key, blob + SK_SECRET);
	memcpy(pub->kp_keyid, blob + SK_KEYID, 8);
	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, blob, 2);
	crypto_generichash_update(&st, blob + SK_KEYID, 8);
	crypto_generichash_update(&st, blob + SK_SECRET, 64);
	crypto_generichash_final(&st, blob + SK_CHK, 32);
	assert_int_equal(crypto_pwhash_scryptsalsa208sha256(stream,
	    sizeof(stream), passphrase, strlen(passphrase), blob + SK_SALT,
	    32768, 8388608), 0);
	for (size_t i = 0; i < sizeof(stream); i++)
		blob[SK_KEYID + i] ^= stream[i];
	return sk_encode(blob);
}

static void
assert_pub_equal(const struct keys_pub *a, const struct keys_pub *b)
{
	assert_memory_equal(a->kp_keyid, b->kp_keyid, KEYS_KEYID_BYTES);
	assert_memory_equal(a->kp_key, b->kp_key, KEYS_PUBKEY_BYTES);
}

/* Parse sigtext and verify it over msg with pub; the verify result. */
static int
verify_text(const struct keys_pub *pub, const char *sigtext,
    const void *msg, size_t len, int flags)
{
	struct keys_sig *sig;
	int rc;

	assert_int_equal(keys_sig_parse(sigtext, strlen(sigtext), &sig), 0);
	rc = keys_sig_verify(pub, sig, msg, len, flags);
	keys_sig_free(sig);
	return rc;
}

/* --- key ids and public keys ------------------------------------------- */

static void
test_keyid_hex(void **state)
{
	uint8_t id[8] = { 1, 0, 0, 0, 0, 0, 0, 0 }, back[8];
	char hex[17];

	keys_keyid_hex(id, hex);
	assert_string_equal(hex, "0000000000000001");
	id[0] = 0x2f; id[1] = 0x93; id[7] = 0x7a;
	keys_keyid_hex(id, hex);
	assert_string_equal(hex, "7A0000000000932F");
	assert_int_equal(keys_keyid_parse(hex, back), 0);
	assert_memory_equal(id, back, 8);
	assert_int_equal(keys_keyid_parse("7a0000000000932f", back), 0);
	assert_memory_equal(id, back, 8);
	/* minisign 0.11 prints key ids without leading zeros. */
	assert_int_equal(keys_keyid_parse("1", back), 0);
	assert_int_equal(back[0], 1);
	assert_int_equal(keys_keyid_parse("", back), KEYS_EFORMAT);
	assert_int_equal(keys_keyid_parse("7A0000000000932F0", back),
	    KEYS_EFORMAT);
	assert_int_equal(keys_keyid_parse("0x12", back), KEYS_EFORMAT);
}

static void
test_pub_roundtrip(void **state)
{
	struct keys_secret *sk;
	struct keys_pub pub, back, fromsk;
	char *text, *b64, hex[17], want[64];

	assert_int_equal(keys_generate(&sk, &pub), 0);
	keys_secret_pub(sk, &fromsk);
	assert_pub_equal(&pub, &fromsk);
	assert_int_equal(keys_pub_format(&pub, &text), 0);
	keys_keyid_hex(pub.kp_keyid, hex);
	snprintf(want, sizeof(want),
	    "untrusted comment: minisign public key %s\n", hex);
	assert_memory_equal(text, want, strlen(want));
	assert_int_equal(keys_pub_parse(text, strlen(text), &back), 0);
	assert_pub_equal(&pub, &back);
	/* The bare base64 line, with or without its newline. */
	assert_int_equal(keys_pub_base64(&pub, &b64), 0);
	assert_memory_equal(b64, text + strlen(want), strlen(b64));
	assert_string_equal(text + strlen(want) + strlen(b64), "\n");
	memset(&back, 0, sizeof(back));
	assert_int_equal(keys_pub_parse(b64, strlen(b64), &back), 0);
	assert_pub_equal(&pub, &back);
	free(b64);
	free(text);
	keys_secret_free(sk);
}

static void
test_pub_malformed(void **state)
{
	struct keys_secret *sk;
	struct keys_pub pub, back;
	char *text, *bad;
	size_t len;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_pub_format(&pub, &text), 0);
	len = strlen(text);
	assert_non_null(bad = malloc(len + 16));
	/* Truncated anywhere: never accepted. */
	for (size_t n = 0; n < len - 1; n++)
		assert_int_not_equal(keys_pub_parse(text, n, &back), 0);
	/* Trailing garbage on the base64 line, or after it. */
	memcpy(bad, text, len - 1);
	strcpy(bad + len - 1, "A\n");
	assert_int_equal(keys_pub_parse(bad, strlen(bad), &back),
	    KEYS_EFORMAT);
	memcpy(bad, text, len);
	strcpy(bad + len, "extra\n");
	assert_int_equal(keys_pub_parse(bad, strlen(bad), &back),
	    KEYS_EFORMAT);
	/* Trailing blank lines and CRLF endings are fine. */
	memcpy(bad, text, len);
	strcpy(bad + len, "\n");
	assert_int_equal(keys_pub_parse(bad, strlen(bad), &back), 0);
	/* Another algorithm. */
	free(bad);
	bad = tamper_b64(text, 1, 1, 0x20);
	assert_int_equal(keys_pub_parse(bad, strlen(bad), &back), KEYS_EALG);
	free(bad);
	assert_int_equal(keys_pub_parse("garbage", 7, &back), KEYS_EFORMAT);
	free(text);
	keys_secret_free(sk);
}

/* --- secret keys ------------------------------------------------------- */

static void
test_secret_unencrypted_roundtrip(void **state)
{
	struct keys_secret *sk, *back;
	struct keys_pub pub, pub2;
	char *text, *sig;
	uint8_t msg[100];

	random_message(msg, sizeof(msg));
	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, NULL, &text), 0);
	assert_int_equal(keys_secret_parse(text, strlen(text), NULL, &back),
	    0);
	/* A passphrase given for an unencrypted key is not needed. */
	keys_secret_free(back);
	assert_int_equal(keys_secret_parse(text, strlen(text), "x", &back),
	    0);
	keys_secret_pub(back, &pub2);
	assert_pub_equal(&pub, &pub2);
	assert_int_equal(keys_sign(back, msg, sizeof(msg), "t", NULL, &sig),
	    0);
	assert_int_equal(verify_text(&pub, sig, msg, sizeof(msg), 0), 0);
	free(sig);
	sodium_memzero(text, strlen(text));
	free(text);
	keys_secret_free(back);
	keys_secret_free(sk);
}

static void
test_secret_passphrase(void **state)
{
	struct keys_secret *sk;
	struct keys_pub pub, got;
	char *text;

	text = craft_encrypted_key("correct horse", &pub);
	assert_int_equal(keys_secret_parse(text, strlen(text),
	    "correct horse", &sk), 0);
	keys_secret_pub(sk, &got);
	assert_pub_equal(&pub, &got);
	keys_secret_free(sk);
	free(text);
}

static void
test_secret_wrong_passphrase(void **state)
{
	struct keys_secret *sk = (void *)1;
	struct keys_pub pub;
	char *text;

	text = craft_encrypted_key("correct horse", &pub);
	assert_int_equal(keys_secret_parse(text, strlen(text),
	    "correct hors", &sk), KEYS_EPASSPHRASE);
	assert_null(sk);
	assert_int_equal(keys_secret_parse(text, strlen(text), "", &sk),
	    KEYS_EPASSPHRASE);
	assert_int_equal(keys_secret_parse(text, strlen(text), NULL, &sk),
	    KEYS_ENEEDPASS);
	free(text);
}

static void
test_secret_truncated(void **state)
{
	struct keys_secret *sk, *back;
	struct keys_pub pub;
	char *text;
	size_t len;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, NULL, &text), 0);
	len = strlen(text);
	/* Every cut but the one before the final newline fails. */
	for (size_t n = 0; n < len - 1; n++)
		assert_int_equal(keys_secret_parse(text, n, NULL, &back),
		    KEYS_EFORMAT);
	assert_int_equal(keys_secret_parse(text, len - 1, NULL, &back), 0);
	keys_secret_free(back);
	sodium_memzero(text, len);
	free(text);
	keys_secret_free(sk);
}

static void
test_secret_garbage(void **state)
{
	struct keys_secret *sk = NULL;
	uint8_t noise[512];
	char text[1024];
	int n;

	random_message(noise, sizeof(noise));
	assert_int_equal(keys_secret_parse((char *)noise, sizeof(noise),
	    "pw", &sk), KEYS_EFORMAT);
	assert_int_equal(keys_secret_parse("", 0, NULL, &sk), KEYS_EFORMAT);
	/* Well-formed lines around base64 of the wrong length. */
	n = snprintf(text, sizeof(text), "untrusted comment: x\n");
	sodium_bin2base64(text + n, sizeof(text) - (size_t)n, noise, 157,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(keys_secret_parse(text, strlen(text), NULL, &sk),
	    KEYS_EFORMAT);
	sodium_bin2base64(text + n, sizeof(text) - (size_t)n, noise, 159,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(keys_secret_parse(text, strlen(text), NULL, &sk),
	    KEYS_EFORMAT);
	/* The right length but random: an unknown algorithm. */
	memcpy(noise, "Xx", 2);
	sodium_bin2base64(text + n, sizeof(text) - (size_t)n, noise, SK_BLOB,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_int_equal(keys_secret_parse(text, strlen(text), NULL, &sk),
	    KEYS_EALG);
	assert_null(sk);
}

static void
test_secret_corrupt_unencrypted(void **state)
{
	struct keys_secret *sk, *back = NULL;
	struct keys_pub pub;
	uint8_t blob[SK_BLOB];
	char *text, *bad;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, NULL, &text), 0);
	sk_decode(text, blob);
	blob[SK_CHK + 3] ^= 1;
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), NULL, &back),
	    KEYS_ECHECKSUM);
	free(bad);
	/* minisign -W leaves the checksum zero: the key must still agree. */
	memset(blob + SK_CHK, 0, 32);
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), NULL, &back), 0);
	keys_secret_free(back);
	free(bad);
	blob[SK_SECRET + 40] ^= 1;
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), NULL, &back),
	    KEYS_ECHECKSUM);
	free(bad);
	sodium_memzero(text, strlen(text));
	free(text);
	keys_secret_free(sk);
}

static void
test_secret_limits(void **state)
{
	struct keys_secret *sk = NULL;
	struct keys_pub pub;
	uint8_t blob[SK_BLOB];
	char *text, *bad;

	text = craft_encrypted_key("pw", &pub);
	sk_decode(text, blob);
	blob[SK_OPSLIMIT + 7] = 1;	/* 2^56 scrypt operations */
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), "pw", &sk),
	    KEYS_ELIMITS);
	free(bad);
	sk_decode(text, blob);
	memset(blob + SK_MEMLIMIT, 0xff, 8);
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), "pw", &sk),
	    KEYS_ELIMITS);
	free(bad);
	sk_decode(text, blob);
	memcpy(blob + SK_KDF, "S\0", 2);
	bad = sk_encode(blob);
	assert_int_equal(keys_secret_parse(bad, strlen(bad), "pw", &sk),
	    KEYS_EALG);
	free(bad);
	assert_null(sk);
	free(text);
}

/* --- signatures and tampering ------------------------------------------ */

struct sigfix {
	struct keys_secret	*sk;
	struct keys_pub		 pub;
	uint8_t			 msg[1000];
	char			*sig;
};

#define FIX_TC	"airlock-manifest\trepo=google/gemma-2-2b\ttime=1763900000"

static int
sigfix_setup(void **state)
{
	struct sigfix *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	random_message(f->msg, sizeof(f->msg));
	if (keys_generate(&f->sk, &f->pub) != 0 ||
	    keys_sign(f->sk, f->msg, sizeof(f->msg), FIX_TC, NULL,
	    &f->sig) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
sigfix_teardown(void **state)
{
	struct sigfix *f = *state;

	keys_secret_free(f->sk);
	free(f->sig);
	free(f);
	return 0;
}

static void
test_sign_verify(void **state)
{
	struct sigfix *f = *state;
	struct keys_sig *sig;

	assert_int_equal(keys_sig_parse(f->sig, strlen(f->sig), &sig), 0);
	assert_int_equal(sig->ks_alg, KEYS_SIG_PREHASHED);
	assert_memory_equal(sig->ks_keyid, f->pub.kp_keyid, 8);
	assert_string_equal(sig->ks_trusted_comment, FIX_TC);
	assert_string_equal(sig->ks_untrusted_comment,
	    "signature from airlock secret key");
	assert_int_equal(keys_sig_verify(&f->pub, sig, f->msg,
	    sizeof(f->msg), 0), 0);
	keys_sig_free(sig);
}

static void
test_sign_prehashed_stream(void **state)
{
	struct sigfix *f = *state;
	uint8_t hash[KEYS_HASH_BYTES];
	struct keys_hash *h;
	struct keys_sig *sig;
	char *text;

	/* Hashing in pieces gives what signing the whole message gives. */
	assert_int_equal(keys_hash_new(&h), 0);
	for (size_t off = 0; off < sizeof(f->msg); off += 7)
		keys_hash_update(h, f->msg + off, sizeof(f->msg) - off < 7 ?
		    sizeof(f->msg) - off : 7);
	keys_hash_final(h, hash);
	keys_hash_free(h);
	assert_int_equal(keys_sign_prehashed(f->sk, hash, "streamed",
	    "uc", &text), 0);
	assert_int_equal(verify_text(&f->pub, text, f->msg, sizeof(f->msg),
	    0), 0);
	assert_int_equal(keys_sig_parse(f->sig, strlen(f->sig), &sig), 0);
	assert_int_equal(keys_sig_verify_prehashed(&f->pub, sig, hash), 0);
	hash[0] ^= 1;
	assert_int_equal(keys_sig_verify_prehashed(&f->pub, sig, hash),
	    KEYS_ESIG);
	keys_sig_free(sig);
	free(text);
}

static void
test_tamper_message(void **state)
{
	struct sigfix *f = *state;

	f->msg[500] ^= 0x01;
	assert_int_equal(verify_text(&f->pub, f->sig, f->msg,
	    sizeof(f->msg), 0), KEYS_ESIG);
	f->msg[500] ^= 0x01;
	assert_int_equal(verify_text(&f->pub, f->sig, f->msg,
	    sizeof(f->msg) - 1, 0), KEYS_ESIG);
}

static void
test_tamper_signature(void **state)
{
	struct sigfix *f = *state;
	char *bad;

	/* Byte 10 is the first byte of the Ed25519 signature. */
	bad = tamper_b64(f->sig, 1, 10, 0x01);
	assert_int_equal(verify_text(&f->pub, bad, f->msg, sizeof(f->msg),
	    0), KEYS_ESIG);
	free(bad);
	bad = tamper_b64(f->sig, 1, 73, 0x80);
	assert_int_equal(verify_text(&f->pub, bad, f->msg, sizeof(f->msg),
	    0), KEYS_ESIG);
	free(bad);
}

static void
test_tamper_trusted_comment(void **state)
{
	struct sigfix *f = *state;
	size_t start, len;
	char *bad;

	assert_non_null(bad = strdup(f->sig));
	line_span(bad, 2, &start, &len);
	bad[start + len - 1] ^= 0x01;	/* time=1763900000 -> ...01 */
	assert_int_equal(verify_text(&f->pub, bad, f->msg, sizeof(f->msg),
	    0), KEYS_EGLOBALSIG);
	free(bad);
}

static void
test_tamper_global_signature(void **state)
{
	struct sigfix *f = *state;
	char *bad;

	bad = tamper_b64(f->sig, 3, 5, 0x04);
	assert_int_equal(verify_text(&f->pub, bad, f->msg, sizeof(f->msg),
	    0), KEYS_EGLOBALSIG);
	free(bad);
}

static void
test_wrong_key(void **state)
{
	struct sigfix *f = *state;
	struct keys_secret *other;
	struct keys_pub opub;

	assert_int_equal(keys_generate(&other, &opub), 0);
	assert_int_equal(verify_text(&opub, f->sig, f->msg, sizeof(f->msg),
	    0), KEYS_EKEYID);
	/* Another key that claims the signer's key id. */
	memcpy(opub.kp_keyid, f->pub.kp_keyid, 8);
	assert_int_equal(verify_text(&opub, f->sig, f->msg, sizeof(f->msg),
	    0), KEYS_ESIG);
	keys_secret_free(other);
}

static void
test_sig_malformed(void **state)
{
	struct sigfix *f = *state;
	struct keys_sig *sig = NULL;
	size_t len = strlen(f->sig), start, llen;
	char *bad;

	for (size_t n = 0; n < len - 1; n++)
		assert_int_not_equal(keys_sig_parse(f->sig, n, &sig), 0);
	assert_null(sig);
	assert_int_equal(keys_sig_parse(f->sig, len - 1, &sig), 0);
	keys_sig_free(sig);
	/* A fifth line. */
	assert_non_null(bad = malloc(len + 8));
	memcpy(bad, f->sig, len);
	strcpy(bad + len, "more\n");
	assert_int_equal(keys_sig_parse(bad, strlen(bad), &sig),
	    KEYS_EFORMAT);
	/* Trailing garbage on a base64 line. */
	line_span(f->sig, 1, &start, &llen);
	memcpy(bad, f->sig, start + llen);
	strcpy(bad + start + llen, "=");
	strcat(bad, f->sig + start + llen);
	assert_int_equal(keys_sig_parse(bad, strlen(bad), &sig),
	    KEYS_EFORMAT);
	free(bad);
	/* An unknown algorithm. */
	bad = tamper_b64(f->sig, 1, 0, 0x10);
	assert_int_equal(keys_sig_parse(bad, strlen(bad), &sig), KEYS_EALG);
	free(bad);
	/* A NUL inside the trusted comment. */
	assert_non_null(bad = strdup(f->sig));
	line_span(bad, 2, &start, &llen);
	bad[start + 20] = '\0';
	assert_int_not_equal(keys_sig_parse(bad, len, &sig), 0);
	free(bad);
}

/*
 * A legacy "Ed" signature (Ed25519 over the message itself), made here
 * with libsodium from FORMATS.md, independently of keys_sign().
 */
static char *
craft_legacy_sig(const uint8_t *msg, size_t len, struct keys_pub *pub)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES], blob[74], global[64];
	uint8_t gm[64 + 16];
	char b1[128], b2[128], *out;

	crypto_sign_keypair(pub->kp_key, sk);
	randombytes_buf(pub->kp_keyid, 8);
	memcpy(blob, "Ed", 2);
	memcpy(blob + 2, pub->kp_keyid, 8);
	crypto_sign_detached(blob + 10, NULL, msg, len, sk);
	memcpy(gm, blob + 10, 64);
	memcpy(gm + 64, "legacy", 6);
	crypto_sign_detached(global, NULL, gm, 70, sk);
	sodium_bin2base64(b1, sizeof(b1), blob, 74,
	    sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(b2, sizeof(b2), global, 64,
	    sodium_base64_VARIANT_ORIGINAL);
	assert_non_null(out = malloc(512));
	snprintf(out, 512, "untrusted comment: old\n%s\n"
	    "trusted comment: legacy\n%s\n", b1, b2);
	return out;
}

static void
test_legacy_refused(void **state)
{
	struct keys_pub pub;
	struct keys_sig *sig;
	uint8_t msg[64], hash[KEYS_HASH_BYTES];
	char *text;

	random_message(msg, sizeof(msg));
	text = craft_legacy_sig(msg, sizeof(msg), &pub);
	assert_int_equal(keys_sig_parse(text, strlen(text), &sig), 0);
	assert_int_equal(sig->ks_alg, KEYS_SIG_LEGACY);
	assert_int_equal(keys_sig_verify(&pub, sig, msg, sizeof(msg), 0),
	    KEYS_ELEGACY);
	assert_int_equal(keys_sig_verify(&pub, sig, msg, sizeof(msg),
	    KEYS_VERIFY_LEGACY), 0);
	msg[0] ^= 1;
	assert_int_equal(keys_sig_verify(&pub, sig, msg, sizeof(msg),
	    KEYS_VERIFY_LEGACY), KEYS_ESIG);
	memset(hash, 0, sizeof(hash));
	assert_int_equal(keys_sig_verify_prehashed(&pub, sig, hash),
	    KEYS_ELEGACY);
	keys_sig_free(sig);
	free(text);
}

static void
test_comment_rules(void **state)
{
	struct sigfix *f = *state;
	char *text = NULL, *big;

	assert_int_equal(keys_sign(f->sk, "m", 1, "two\nlines", NULL, &text),
	    KEYS_ECOMMENT);
	assert_int_equal(keys_sign(f->sk, "m", 1, "bell\a", NULL, &text),
	    KEYS_ECOMMENT);
	assert_int_equal(keys_sign(f->sk, "m", 1, "bad \xc3\x28 utf8", NULL,
	    &text), KEYS_ECOMMENT);
	assert_int_equal(keys_sign(f->sk, "m", 1, "ok", "cr\r", &text),
	    KEYS_ECOMMENT);
	assert_null(text);
	assert_int_equal(keys_sign(f->sk, "m", 1, "caf\xc3\xa9\tok", NULL,
	    &text), 0);
	assert_int_equal(verify_text(&f->pub, text, "m", 1, 0), 0);
	free(text);
	/* The longest trusted comment minisign reads, and one byte more. */
	assert_non_null(big = malloc(BOUND_TRUSTED_COMMENT + 2));
	memset(big, 'a', BOUND_TRUSTED_COMMENT + 1);
	big[BOUND_TRUSTED_COMMENT + 1] = '\0';
	assert_int_equal(keys_sign(f->sk, "m", 1, big, NULL, &text),
	    KEYS_ECOMMENT);
	big[BOUND_TRUSTED_COMMENT] = '\0';
	assert_int_equal(keys_sign(f->sk, "m", 1, big, NULL, &text), 0);
	assert_int_equal(verify_text(&f->pub, text, "m", 1, 0), 0);
	free(text);
	free(big);
}

/* --- trusted comments -------------------------------------------------- */

static void
test_tc_fields(void **state)
{
	char *tc, buf[128], small[4];

	assert_int_equal(keys_tc_manifest("google/gemma-2-2b",
	    "c5ebcd40d208330abc697524c919956e692655cf", "sha256:ab",
	    1763900000, &tc), 0);
	assert_string_equal(tc, "airlock-manifest\trepo=google/gemma-2-2b"
	    "\tcommit=c5ebcd40d208330abc697524c919956e692655cf"
	    "\tdigest=sha256:ab\ttime=1763900000");
	assert_int_equal(keys_tc_kind(tc, buf, sizeof(buf)), 0);
	assert_string_equal(buf, KEYS_TC_MANIFEST);
	assert_int_equal(keys_tc_get(tc, "digest", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "sha256:ab");
	assert_int_equal(keys_tc_get(tc, "time", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1763900000");
	assert_int_equal(keys_tc_get(tc, "dig", buf, sizeof(buf)),
	    KEYS_ENOTFOUND);
	assert_int_equal(keys_tc_get(tc, "digest", small, sizeof(small)),
	    KEYS_ETOOSMALL);
	free(tc);
	assert_int_equal(keys_tc_get("k\tdigest=a\tdigest=b", "digest", buf,
	    sizeof(buf)), KEYS_EFORMAT);
	assert_int_equal(keys_tc_get("k\tnovalue", "digest", buf,
	    sizeof(buf)), KEYS_EFORMAT);
	assert_int_equal(keys_tc_kind("timestamp:1\tfile:x", buf,
	    sizeof(buf)), KEYS_EFORMAT);
	assert_int_equal(keys_tc_manifest("a\tb", NULL, "d", 0, &tc),
	    KEYS_ECOMMENT);
	assert_int_equal(keys_tc_release(7, "sha256:cd", 5, &tc), 0);
	assert_string_equal(tc,
	    "airlock-release\tversion=7\tdigest=sha256:cd\ttime=5");
	free(tc);
}

/* --- keyring and policy ------------------------------------------------ */

static void
test_trust_json(void **state)
{
	struct keys_secret *sk;
	struct keys_trust t, back;
	struct keys_pub pub;
	char *json, *bad;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_trust_init(&t, &pub, "Alice Smith", "google/*",
	    1763900000), 0);
	assert_int_equal(keys_trust_to_json(&t, &json), 0);
	assert_int_equal(keys_trust_from_json(json, strlen(json), &back), 0);
	assert_memory_equal(&t, &back, sizeof(t));
	/* Compact, with sorted keys. */
	assert_true(strncmp(json, "{\"added\":1763900000,\"keyid\":",
	    28) == 0);
	free(json);
	assert_int_equal(keys_trust_revoke(&t, 1763900100), 0);
	assert_int_equal(keys_trust_revoke(&t, 1763999999), 0);
	assert_int_equal(t.kt_revoked_time, 1763900100);
	assert_int_equal(keys_trust_to_json(&t, &json), 0);
	assert_int_equal(keys_trust_from_json(json, strlen(json), &back), 0);
	assert_true(back.kt_revoked);
	assert_int_equal(back.kt_revoked_time, 1763900100);
	/* Another schema, an unknown field, a truncation. */
	assert_non_null(bad = strdup(json));
	memcpy(strstr(bad, "trust/v1"), "trust/v9", 8);
	assert_int_equal(keys_trust_from_json(bad, strlen(bad), &back),
	    KEYS_ESCHEMA);
	free(bad);
	assert_non_null(bad = malloc(strlen(json) + 16));
	strcpy(bad, "{\"zzz\":1,");
	strcat(bad, json + 1);
	assert_int_equal(keys_trust_from_json(bad, strlen(bad), &back),
	    KEYS_EFORMAT);
	free(bad);
	assert_int_equal(keys_trust_from_json(json, strlen(json) - 1, &back),
	    KEYS_EFORMAT);
	free(json);
	assert_int_equal(keys_trust_init(&t, &pub, "", "*", 0), KEYS_EINVAL);
	assert_int_equal(keys_trust_init(&t, &pub, "x", "a b", 0),
	    KEYS_EINVAL);
	keys_secret_free(sk);
}

static void
test_trust_scope(void **state)
{
	struct keys_trust t;
	struct keys_pub pub;

	memset(&pub, 0, sizeof(pub));
	assert_int_equal(keys_trust_init(&t, &pub, "g", "google/*", 0), 0);
	assert_true(keys_trust_in_scope(&t, "google/gemma-2b"));
	assert_true(keys_trust_in_scope(&t, "google/gemma-2-2b"));
	assert_false(keys_trust_in_scope(&t, "googler/gemma"));
	assert_false(keys_trust_in_scope(&t, "meta-llama/Llama-3-8B"));
	assert_false(keys_trust_in_scope(&t, NULL));
	assert_int_equal(keys_trust_init(&t, &pub, "all", "*", 0), 0);
	assert_true(keys_trust_in_scope(&t, "meta-llama/Llama-3-8B"));
	assert_true(keys_trust_in_scope(&t, "gpt2"));
	assert_true(keys_trust_in_scope(&t, NULL));
}

/* The entry for a public key is found under any id; a revocation wins. */
static void
test_trust_lookup(void **state)
{
	const struct keys_trust *e = (const struct keys_trust *)1;
	struct keys_trust ring[3];
	struct keys_pub a, b;

	(void)state;
	memset(&a, 0x11, sizeof(a));
	b = a;
	memset(b.kp_keyid, 0x22, sizeof(b.kp_keyid));
	assert_int_equal(keys_trust_lookup(NULL, 0, &a, &e), KEYS_ENOKEY);
	assert_null(e);
	assert_int_equal(keys_trust_init(&ring[0], &a, "a", "*", 0), 0);
	assert_int_equal(keys_trust_lookup(ring, 1, &b, &e), 0);
	assert_ptr_equal(e, &ring[0]);
	/* Another key under a's id is not a's entry. */
	memset(b.kp_key, 0x33, sizeof(b.kp_key));
	memcpy(b.kp_keyid, a.kp_keyid, sizeof(b.kp_keyid));
	assert_int_equal(keys_trust_init(&ring[1], &b, "b", "*", 0), 0);
	assert_int_equal(keys_trust_lookup(&ring[1], 1, &a, &e), KEYS_ENOKEY);
	memset(a.kp_keyid, 0x44, sizeof(a.kp_keyid));
	assert_int_equal(keys_trust_init(&ring[2], &a, "a2", "*", 0), 0);
	assert_int_equal(keys_trust_revoke(&ring[2], 5), 0);
	assert_int_equal(keys_trust_lookup(ring, 3, &ring[0].kt_pub, &e), 0);
	assert_ptr_equal(e, &ring[2]);
	assert_int_equal(keys_trust_lookup(ring, 3, NULL, &e), KEYS_EINVAL);
	assert_int_equal(keys_trust_lookup(NULL, 1, &a, &e), KEYS_EINVAL);
	assert_string_not_equal(keys_strerror(KEYS_ENOKEY), "unknown error");
}

#define NSIGNERS	3

struct polfix {
	struct keys_secret	*sk[NSIGNERS];
	struct keys_trust	 ring[NSIGNERS];
	char			 manifest[256];
	char			 digest[80];
	struct keys_subject	 su;
};

static const char *repo = "google/gemma-2-2b";

static int
polfix_setup(void **state)
{
	static const char *names[NSIGNERS] = { "alice", "bob", "carol" };
	struct polfix *f;
	struct keys_pub pub;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return -1;
	snprintf(f->manifest, sizeof(f->manifest),
	    "{\"repo\":{\"id\":\"%s\",\"type\":\"model\"},"
	    "\"schema\":\"airlock.manifest/v1\"}", repo);
	digest_of(f->manifest, strlen(f->manifest), f->digest);
	for (int i = 0; i < NSIGNERS; i++)
		if (keys_generate(&f->sk[i], &pub) != 0 ||
		    keys_trust_init(&f->ring[i], &pub, names[i], "google/*",
		    1763900000) != 0)
			return -1;
	f->su.su_kind = KEYS_TC_MANIFEST;
	f->su.su_repo = repo;
	f->su.su_digest = f->digest;
	f->su.su_msg = f->manifest;
	f->su.su_len = strlen(f->manifest);
	*state = f;
	return 0;
}

static int
polfix_teardown(void **state)
{
	struct polfix *f = *state;

	for (int i = 0; i < NSIGNERS; i++)
		keys_secret_free(f->sk[i]);
	free(f);
	return 0;
}

/* Signer i's signature of the fixture's manifest, naming repo and digest. */
static char *
polsign(struct polfix *f, int i, const char *r, const char *digest)
{
	char *tc, *sig;

	assert_int_equal(keys_tc_manifest(r, "c5ebcd40d208330abc697524c919"
	    "956e692655cf", digest, 1763900000, &tc), 0);
	assert_int_equal(keys_sign(f->sk[i], f->manifest,
	    strlen(f->manifest), tc, NULL, &sig), 0);
	free(tc);
	return sig;
}

static int
poleval(struct polfix *f, size_t nring, unsigned int threshold,
    char **sigs, size_t nsigs, struct keys_sig_verdict *v, size_t *n)
{
	return keys_policy_eval(f->ring, nring, threshold, &f->su,
	    (const char *const *)sigs, NULL, nsigs, v, n);
}

static void
free_sigs(char **sigs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(sigs[i]);
}

static void
test_policy_trusted(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	char *sigs[1];
	size_t n;

	sigs[0] = polsign(f, 1, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].vd_verdict, KEYS_V_TRUSTED);
	assert_int_equal(v[0].vd_error, 0);
	assert_true(v[0].vd_counted);
	assert_false(v[0].vd_names_nothing);
	assert_string_equal(v[0].vd_name, "bob");
	assert_memory_equal(v[0].vd_keyid, f->ring[1].kt_pub.kp_keyid, 8);
	free_sigs(sigs, 1);
}

static void
test_policy_unknown_key(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	char *sigs[1];
	size_t n;

	/* Only alice and bob are in the keyring; carol signs. */
	sigs[0] = polsign(f, 2, repo, f->digest);
	assert_int_equal(poleval(f, 2, 1, sigs, 1, v, &n), KEYS_ETHRESHOLD);
	assert_int_equal(n, 0);
	assert_int_equal(v[0].vd_verdict, KEYS_V_UNKNOWN_KEY);
	assert_string_equal(v[0].vd_name, "");
	assert_false(v[0].vd_counted);
	free_sigs(sigs, 1);
}

static void
test_policy_revoked(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	char *sigs[1];
	size_t n;

	/* Signed while trusted, revoked later: it no longer counts. */
	sigs[0] = polsign(f, 0, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n), 0);
	assert_int_equal(keys_trust_revoke(&f->ring[0], 1763900500), 0);
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(n, 0);
	assert_int_equal(v[0].vd_verdict, KEYS_V_REVOKED);
	assert_string_equal(v[0].vd_name, "alice");
	free_sigs(sigs, 1);
}

static void
test_policy_revoked_readded(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	struct keys_trust ring[2];
	char *sigs[1];

	/* Adding a revoked key again does not undo the revocation. */
	ring[0] = f->ring[0];
	ring[1] = f->ring[0];
	keys_trust_revoke(&ring[0], 1);
	sigs[0] = polsign(f, 0, repo, f->digest);
	assert_int_equal(keys_policy_eval(ring, 2, 1, &f->su,
	    (const char *const *)sigs, NULL, 1, v, NULL), KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_REVOKED);
	free_sigs(sigs, 1);
}

static void
test_policy_out_of_scope(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	char *sigs[1];
	size_t n;

	snprintf(f->ring[1].kt_scope, sizeof(f->ring[1].kt_scope),
	    "meta-llama/*");
	sigs[0] = polsign(f, 1, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_OUT_OF_SCOPE);
	assert_string_equal(v[0].vd_name, "bob");
	/* A release is no one repository's: only scope "*" vouches. */
	f->su.su_repo = NULL;
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_OUT_OF_SCOPE);
	snprintf(f->ring[1].kt_scope, sizeof(f->ring[1].kt_scope), "*");
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n), 0);
	free_sigs(sigs, 1);
}

static void
test_policy_comment_mismatch(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[3];
	char other[80], *sigs[3], *tc;
	size_t n;

	/* A good signature of this manifest whose comment names another. */
	digest_of("other manifest", 14, other);
	sigs[0] = polsign(f, 0, repo, other);
	sigs[1] = polsign(f, 1, "google/gemma-7b", f->digest);
	assert_int_equal(keys_tc_release(3, f->digest, 0, &tc), 0);
	assert_int_equal(keys_sign(f->sk[2], f->manifest,
	    strlen(f->manifest), tc, NULL, &sigs[2]), 0);
	free(tc);
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 3, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(n, 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(v[i].vd_verdict, KEYS_V_COMMENT_MISMATCH);
	free_sigs(sigs, 3);
}

static void
test_policy_bad_signature(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[2];
	char *sigs[2];
	size_t n;

	sigs[0] = polsign(f, 0, repo, f->digest);
	sigs[1] = tamper_b64(sigs[0], 1, 20, 0x01);
	free(sigs[0]);
	assert_non_null(sigs[0] = strdup("not a signature"));
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 2, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_MALFORMED);
	assert_int_equal(v[0].vd_error, KEYS_EFORMAT);
	assert_int_equal(v[1].vd_verdict, KEYS_V_BAD_SIGNATURE);
	assert_int_equal(v[1].vd_error, KEYS_ESIG);
	free_sigs(sigs, 2);
}

static void
test_policy_threshold(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[2];
	char *sigs[2];
	size_t n;

	/* Two-person rule: one signature is not enough, two are. */
	sigs[0] = polsign(f, 0, repo, f->digest);
	sigs[1] = polsign(f, 2, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 2, sigs, 1, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(n, 1);
	assert_int_equal(poleval(f, NSIGNERS, 2, sigs, 2, v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(v[0].vd_counted && v[1].vd_counted);
	assert_int_equal(poleval(f, NSIGNERS, 3, sigs, 2, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(poleval(f, NSIGNERS, 0, sigs, 2, v, &n),
	    KEYS_EINVAL);
	free_sigs(sigs, 2);
}

static void
test_policy_duplicate_signer(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[3];
	char *sigs[3];
	size_t n;

	/* Alice signs twice (two different signatures): she counts once. */
	sigs[0] = polsign(f, 0, repo, f->digest);
	sigs[1] = polsign(f, 0, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 2, sigs, 2, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].vd_verdict, KEYS_V_TRUSTED);
	assert_int_equal(v[1].vd_verdict, KEYS_V_TRUSTED);
	assert_true(v[0].vd_counted);
	assert_false(v[1].vd_counted);
	/* The same key added twice under two names is still one key. */
	f->ring[1] = f->ring[0];
	snprintf(f->ring[1].kt_name, sizeof(f->ring[1].kt_name), "alias");
	sigs[2] = polsign(f, 0, repo, f->digest);
	assert_int_equal(poleval(f, NSIGNERS, 2, sigs, 3, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(n, 1);
	free_sigs(sigs, 3);
}

/*
 * Key ids are not signed: whoever holds a signature or a public key may
 * rewrite them.  Entry i's public key under another id, and a signature
 * whose id names that entry.
 */
static struct keys_trust
alias_entry(const struct keys_trust *t, uint8_t mask)
{
	struct keys_trust a = *t;

	for (int i = 0; i < KEYS_KEYID_BYTES; i++)
		a.kt_pub.kp_keyid[i] ^= mask;
	snprintf(a.kt_name, sizeof(a.kt_name), "alias");
	return a;
}

static char *
sig_as(const char *sig, const struct keys_trust *t)
{
	return set_b64(sig, 1, 2, t->kt_pub.kp_keyid, KEYS_KEYID_BYTES);
}

static void
test_policy_revoked_other_id(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[2];
	struct keys_trust ring[2];
	char *sigs[2];
	size_t n;

	/* Alice is revoked; her public key comes back under another id. */
	ring[0] = f->ring[0];
	keys_trust_revoke(&ring[0], 1);
	ring[1] = alias_entry(&f->ring[0], 0x5a);
	sigs[0] = polsign(f, 0, repo, f->digest);
	sigs[1] = sig_as(sigs[0], &ring[1]);
	assert_int_equal(keys_policy_eval(ring, 2, 1, &f->su,
	    (const char *const *)sigs, NULL, 2, v, &n), KEYS_ETHRESHOLD);
	assert_int_equal(n, 0);
	assert_int_equal(v[0].vd_verdict, KEYS_V_REVOKED);
	assert_int_equal(v[1].vd_verdict, KEYS_V_REVOKED);
	assert_false(v[1].vd_counted);
	/* Whichever of the two entries is the revoked one. */
	ring[1].kt_revoked = 0;
	ring[0].kt_revoked = 0;
	keys_trust_revoke(&ring[1], 1);
	assert_int_equal(keys_policy_eval(ring, 2, 1, &f->su,
	    (const char *const *)sigs, NULL, 2, v, &n), KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_REVOKED);
	assert_int_equal(v[1].vd_verdict, KEYS_V_REVOKED);
	free_sigs(sigs, 2);
}

static void
test_policy_same_key_two_ids(void **state)
{
	struct polfix *f = *state;
	struct keys_sig_verdict v[3];
	struct keys_trust ring[3];
	char *sigs[3];
	size_t n;

	/* One key under two ids is one signer: no two-person rule alone. */
	ring[0] = f->ring[0];
	ring[1] = alias_entry(&f->ring[0], 0xa5);
	ring[2] = f->ring[1];
	sigs[0] = polsign(f, 0, repo, f->digest);
	sigs[1] = sig_as(sigs[0], &ring[1]);
	assert_int_equal(keys_policy_eval(ring, 3, 2, &f->su,
	    (const char *const *)sigs, NULL, 2, v, &n), KEYS_ETHRESHOLD);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].vd_verdict, KEYS_V_TRUSTED);
	assert_int_equal(v[1].vd_verdict, KEYS_V_TRUSTED);
	assert_true(v[0].vd_counted);
	assert_false(v[1].vd_counted);
	/* A second person meets it. */
	sigs[2] = polsign(f, 1, repo, f->digest);
	assert_int_equal(keys_policy_eval(ring, 3, 2, &f->su,
	    (const char *const *)sigs, NULL, 3, v, &n), 0);
	assert_int_equal(n, 2);
	assert_true(v[2].vd_counted);
	free_sigs(sigs, 3);
}

static void
test_policy_comment_names_nothing(void **state)
{
	static const char *nothing[] = {
		"timestamp:1763900000\tfile:manifest.json\thashed",
		"timestamp:1763900000\tfile:manifest.json",
		"",
		"approved",
		"approved by alice",
	};
	static const char *wrong[] = {
		"airlock-manifest",
		"airlock-manifest repo=google/gemma-2-2b",
		"airlock-release\tversion=1",
		"airlock-bundle\tdigest=x",
	};
	struct polfix *f = *state;
	struct keys_sig_verdict v[1];
	char *sigs[1];
	size_t n;

	/* Stock minisign's comment: the signed bytes name the manifest. */
	for (size_t i = 0; i < sizeof(nothing) / sizeof(*nothing); i++) {
		assert_int_equal(keys_sign(f->sk[0], f->manifest,
		    strlen(f->manifest), nothing[i], NULL, &sigs[0]), 0);
		assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n), 0);
		assert_int_equal(n, 1);
		assert_int_equal(v[0].vd_verdict, KEYS_V_TRUSTED);
		assert_true(v[0].vd_counted);
		assert_true(v[0].vd_names_nothing);
		free_sigs(sigs, 1);
	}
	/* One that claims airlock's form must name this manifest. */
	for (size_t i = 0; i < sizeof(wrong) / sizeof(*wrong); i++) {
		assert_int_equal(keys_sign(f->sk[0], f->manifest,
		    strlen(f->manifest), wrong[i], NULL, &sigs[0]), 0);
		assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n),
		    KEYS_ETHRESHOLD);
		assert_int_equal(v[0].vd_verdict, KEYS_V_COMMENT_MISMATCH);
		assert_false(v[0].vd_names_nothing);
		free_sigs(sigs, 1);
	}
	/* The comment is still signed: altering it is refused. */
	assert_int_equal(keys_sign(f->sk[0], f->manifest,
	    strlen(f->manifest), nothing[0], NULL, &sigs[0]), 0);
	sigs[0][strlen(sigs[0]) - 92] ^= 1;
	assert_int_equal(poleval(f, NSIGNERS, 1, sigs, 1, v, &n),
	    KEYS_ETHRESHOLD);
	assert_int_equal(v[0].vd_verdict, KEYS_V_BAD_SIGNATURE);
	assert_int_equal(v[0].vd_error, KEYS_EGLOBALSIG);
	free_sigs(sigs, 1);
}

/* --- releases ---------------------------------------------------------- */

#define COMMIT	"c5ebcd40d208330abc697524c919956e692655cf"
#define MDIGEST	"sha256:" \
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char *
release_doc(uint64_t version, const char *revision, size_t *len)
{
	uint8_t id[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct keys_release *rel;
	char *json;

	assert_int_equal(keys_release_new(id, version,
	    "2026-11-23T12:00:00Z", NULL, &rel), 0);
	assert_int_equal(keys_release_add(rel, "meta-llama/Llama-3-8B",
	    revision, COMMIT, MDIGEST), 0);
	assert_int_equal(keys_release_add(rel, "google/gemma-2-2b", "main",
	    COMMIT, MDIGEST), 0);
	assert_int_equal(keys_release_format(rel, &json, len), 0);
	keys_release_free(rel);
	return json;
}

static void
test_release_roundtrip(void **state)
{
	struct keys_release *rel;
	size_t len, len2;
	char *json, *again;

	json = release_doc(42, "main", &len);
	assert_non_null(strstr(json, "\"schema\":\"airlock.release/v1\""));
	assert_non_null(strstr(json, "\"publisher\":\"0807060504030201\""));
	/* Sorted by repository, whatever the order they were added in. */
	assert_true(strstr(json, "google/") < strstr(json, "meta-llama/"));
	assert_int_equal(keys_release_parse(json, len, &rel), 0);
	assert_int_equal(rel->rl_version, 42);
	assert_int_equal(rel->rl_nrefs, 2);
	assert_null(rel->rl_expires);
	assert_string_equal(rel->rl_refs[0].rr_repo, "google/gemma-2-2b");
	assert_string_equal(rel->rl_refs[1].rr_manifest, MDIGEST);
	assert_int_equal(keys_release_format(rel, &again, &len2), 0);
	assert_int_equal(len, len2);
	assert_memory_equal(json, again, len);
	keys_release_free(rel);
	free(again);
	free(json);
}

static void
test_release_malformed(void **state)
{
	struct keys_release *rel = NULL;
	char *json, *bad;
	size_t len;

	json = release_doc(1, "main", &len);
	assert_non_null(bad = strdup(json));
	memcpy(strstr(bad, "release/v1"), "release/v2", 10);
	assert_int_equal(keys_release_parse(bad, len, &rel), KEYS_ESCHEMA);
	free(bad);
	/* Not canonical: a space after the first brace. */
	assert_non_null(bad = malloc(len + 2));
	bad[0] = '{';
	bad[1] = ' ';
	memcpy(bad + 2, json + 1, len - 1);
	assert_int_equal(keys_release_parse(bad, len + 1, &rel),
	    KEYS_EFORMAT);
	free(bad);
	assert_int_equal(keys_release_parse(json, len - 1, &rel),
	    KEYS_EFORMAT);
	assert_int_equal(keys_release_parse("[]", 2, &rel), KEYS_EFORMAT);
	assert_null(rel);
	free(json);
}

static void
test_release_rollback(void **state)
{
	struct keys_release *seen, *older, *same, *newer;
	char *dseen, *dolder, *dsame, *dnewer;
	size_t lseen, lolder, lsame, lnewer;

	dseen = release_doc(10, "main", &lseen);
	dolder = release_doc(9, "main", &lolder);
	dsame = release_doc(10, "v2.0", &lsame);
	dnewer = release_doc(11, "v2.0", &lnewer);
	assert_int_equal(keys_release_parse(dseen, lseen, &seen), 0);
	assert_int_equal(keys_release_parse(dolder, lolder, &older), 0);
	assert_int_equal(keys_release_parse(dsame, lsame, &same), 0);
	assert_int_equal(keys_release_parse(dnewer, lnewer, &newer), 0);
	assert_int_equal(keys_release_check_rollback(NULL, NULL, 0, older,
	    dolder, lolder), 0);
	assert_int_equal(keys_release_check_rollback(seen, dseen, lseen,
	    older, dolder, lolder), KEYS_EROLLBACK);
	assert_int_equal(keys_release_check_rollback(seen, dseen, lseen,
	    same, dsame, lsame), KEYS_EEQUIVOCAL);
	assert_int_equal(keys_release_check_rollback(seen, dseen, lseen,
	    seen, dseen, lseen), 0);
	assert_int_equal(keys_release_check_rollback(seen, dseen, lseen,
	    newer, dnewer, lnewer), 0);
	newer->rl_publisher[0] ^= 1;
	assert_int_equal(keys_release_check_rollback(seen, dseen, lseen,
	    newer, dnewer, lnewer), KEYS_EKEYID);
	keys_release_free(seen);
	keys_release_free(older);
	keys_release_free(same);
	keys_release_free(newer);
	free(dseen);
	free(dolder);
	free(dsame);
	free(dnewer);
}

static void
test_release_expiry(void **state)
{
	uint8_t id[8] = { 0 };
	struct keys_release *rel;

	assert_int_equal(keys_release_new(id, 1, "2026-11-23T12:00:00Z",
	    "2026-12-01T00:00:00Z", &rel), 0);
	/* 2026-11-30T23:59:59Z and 2026-12-01T00:00:00Z. */
	assert_int_equal(keys_release_check_expiry(rel, 1796083199), 0);
	assert_int_equal(keys_release_check_expiry(rel, 1796083200),
	    KEYS_EEXPIRED);
	keys_release_free(rel);
	assert_int_equal(keys_release_new(id, 1, "2026-02-30T00:00:00Z",
	    NULL, &rel), KEYS_EINVAL);
	assert_int_equal(keys_release_new(id, 1, "2026-11-23 12:00:00Z",
	    NULL, &rel), KEYS_EINVAL);
}

/* --- interoperability with minisign ------------------------------------ */

static void
test_interop_minisign_verifies_airlock(void **state)
{
	struct keys_secret *sk;
	struct keys_pub pub;
	char pubf[64], msgf[64], sigf[64], outf[64], *text, *sig, *out;
	char pp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX], *b64;
	uint8_t msg[4096];

	fresh_name(pubf, sizeof(pubf), "airlock.pub");
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	fresh_name(outf, sizeof(outf), "out");
	random_message(msg, sizeof(msg));
	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_pub_format(&pub, &text), 0);
	write_file(pubf, text, strlen(text));
	write_file(msgf, msg, sizeof(msg));
	assert_int_equal(keys_sign(sk, msg, sizeof(msg), FIX_TC,
	    "made by airlock", &sig), 0);
	write_file(sigf, sig, strlen(sig));
	path_of(pp, pubf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	/* -H: minisign must see the prehashed form. */
	assert_int_equal(minisign(NULL, outf, "-V", "-H", "-Q", "-p", pp,
	    "-m", mp, "-x", sp, NULL), 0);
	out = read_file(outf, NULL);
	assert_string_equal(out, FIX_TC "\n");
	free(out);
	/* The bare form (-P) of the same key. */
	assert_int_equal(keys_pub_base64(&pub, &b64), 0);
	assert_int_equal(minisign(NULL, NULL, "-V", "-P", b64, "-m", mp,
	    "-x", sp, NULL), 0);
	free(b64);
	/* And minisign does refuse a tampered message. */
	msg[0] ^= 1;
	write_file(msgf, msg, sizeof(msg));
	assert_int_not_equal(run((const char *[]){ g.minisign, "-V", "-p",
	    pp, "-m", mp, "-x", sp, NULL }, NULL, NULL), 0);
	free(sig);
	free(text);
	keys_secret_free(sk);
}

/* A minisign key pair in the test directory; encrypted if pw != NULL. */
static void
minisign_keypair(const char *pw, char *pubf, char *keyf, size_t size)
{
	char pp[PATH_MAX], kp[PATH_MAX], input[256];

	fresh_name(pubf, size, "ms.pub");
	fresh_name(keyf, size, "ms.key");
	path_of(pp, pubf);
	path_of(kp, keyf);
	if (pw == NULL) {
		assert_int_equal(minisign(NULL, NULL, "-G", "-W", "-p", pp,
		    "-s", kp, NULL), 0);
		return;
	}
	/* minisign asks twice, reading lines from a non-terminal stdin. */
	snprintf(input, sizeof(input), "%s\n%s\n", pw, pw);
	assert_int_equal(minisign(input, NULL, "-G", "-p", pp, "-s", kp,
	    NULL), 0);
}

static void
test_interop_airlock_verifies_minisign(void **state)
{
	char pubf[64], keyf[64], msgf[64], sigf[64];
	char pp[PATH_MAX], kp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX];
	struct keys_pub pub, bare;
	struct keys_sig *sig;
	char *text, *sigtext, *line;
	uint8_t msg[10000];
	size_t len;

	minisign_keypair(NULL, pubf, keyf, sizeof(pubf));
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	path_of(pp, pubf);
	path_of(kp, keyf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	random_message(msg, sizeof(msg));
	write_file(msgf, msg, sizeof(msg));
	assert_int_equal(minisign(NULL, NULL, "-S", "-s", kp, "-m", mp,
	    "-x", sp, "-t", FIX_TC, "-c", "made by minisign", NULL), 0);
	text = read_file(pubf, &len);
	assert_int_equal(keys_pub_parse(text, len, &pub), 0);
	/* The second line alone is the -P form. */
	line = strchr(text, '\n') + 1;
	assert_int_equal(keys_pub_parse(line, strlen(line), &bare), 0);
	assert_pub_equal(&pub, &bare);
	sigtext = read_file(sigf, &len);
	assert_int_equal(keys_sig_parse(sigtext, len, &sig), 0);
	assert_int_equal(sig->ks_alg, KEYS_SIG_PREHASHED);
	assert_string_equal(sig->ks_trusted_comment, FIX_TC);
	assert_string_equal(sig->ks_untrusted_comment, "made by minisign");
	assert_int_equal(keys_sig_verify(&pub, sig, msg, sizeof(msg), 0), 0);
	msg[9999] ^= 1;
	assert_int_equal(keys_sig_verify(&pub, sig, msg, sizeof(msg), 0),
	    KEYS_ESIG);
	keys_sig_free(sig);
	free(sigtext);
	free(text);
}

static void
test_interop_legacy_refused(void **state)
{
	char pubf[64], keyf[64], msgf[64], sigf[64];
	char pp[PATH_MAX], kp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX];
	struct keys_pub pub;
	char *text, *sigtext;
	uint8_t msg[300];
	size_t len;

	minisign_keypair(NULL, pubf, keyf, sizeof(pubf));
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	path_of(pp, pubf);
	path_of(kp, keyf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	random_message(msg, sizeof(msg));
	write_file(msgf, msg, sizeof(msg));
	assert_int_equal(minisign(NULL, NULL, "-S", "-l", "-s", kp, "-m", mp,
	    "-x", sp, "-t", "legacy", NULL), 0);
	text = read_file(pubf, &len);
	assert_int_equal(keys_pub_parse(text, len, &pub), 0);
	sigtext = read_file(sigf, &len);
	assert_int_equal(verify_text(&pub, sigtext, msg, sizeof(msg), 0),
	    KEYS_ELEGACY);
	assert_int_equal(verify_text(&pub, sigtext, msg, sizeof(msg),
	    KEYS_VERIFY_LEGACY), 0);
	free(sigtext);
	free(text);
}

/* airlock loads a minisign -W key and signs; minisign verifies. */
static void
test_interop_unencrypted_key_to_airlock(void **state)
{
	char pubf[64], keyf[64], msgf[64], sigf[64];
	char pp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX];
	struct keys_secret *sk;
	struct keys_pub pub, got;
	char *text, *sig;
	uint8_t msg[128];
	size_t len;

	minisign_keypair(NULL, pubf, keyf, sizeof(pubf));
	text = read_file(keyf, &len);
	assert_int_equal(keys_secret_parse(text, len, NULL, &sk), 0);
	free(text);
	text = read_file(pubf, &len);
	assert_int_equal(keys_pub_parse(text, len, &pub), 0);
	free(text);
	keys_secret_pub(sk, &got);
	assert_pub_equal(&pub, &got);
	random_message(msg, sizeof(msg));
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	write_file(msgf, msg, sizeof(msg));
	assert_int_equal(keys_sign(sk, msg, sizeof(msg), "t", NULL, &sig), 0);
	write_file(sigf, sig, strlen(sig));
	path_of(pp, pubf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	assert_int_equal(minisign(NULL, NULL, "-V", "-p", pp, "-m", mp, "-x",
	    sp, NULL), 0);
	free(sig);
	keys_secret_free(sk);
}

/* minisign signs with an unencrypted key that airlock wrote. */
static void
test_interop_unencrypted_key_to_minisign(void **state)
{
	char keyf[64], msgf[64], sigf[64];
	char kp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX];
	struct keys_secret *sk;
	struct keys_pub pub;
	char *text, *sigtext;
	uint8_t msg[128];
	size_t len;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, NULL, &text), 0);
	fresh_name(keyf, sizeof(keyf), "airlock.key");
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	write_file(keyf, text, strlen(text));
	sodium_memzero(text, strlen(text));
	free(text);
	random_message(msg, sizeof(msg));
	write_file(msgf, msg, sizeof(msg));
	path_of(kp, keyf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	assert_int_equal(minisign(NULL, NULL, "-S", "-s", kp, "-m", mp, "-x",
	    sp, "-t", "by minisign", NULL), 0);
	sigtext = read_file(sigf, &len);
	assert_int_equal(verify_text(&pub, sigtext, msg, sizeof(msg), 0), 0);
	free(sigtext);
	keys_secret_free(sk);
}

/* airlock decrypts a key that minisign encrypted (scrypt, ~6 s each). */
static void
test_interop_encrypted_key_to_airlock(void **state)
{
	char pubf[64], keyf[64];
	struct keys_secret *sk = NULL;
	struct keys_pub pub, got;
	char *text, *key;
	size_t len, keylen;

	minisign_keypair("s3cret pass", pubf, keyf, sizeof(pubf));
	text = read_file(pubf, &len);
	assert_int_equal(keys_pub_parse(text, len, &pub), 0);
	free(text);
	key = read_file(keyf, &keylen);
	assert_int_equal(keys_secret_parse(key, keylen, NULL, &sk),
	    KEYS_ENEEDPASS);
	assert_int_equal(keys_secret_parse(key, keylen, "s3cret pass", &sk),
	    0);
	keys_secret_pub(sk, &got);
	assert_pub_equal(&pub, &got);
	keys_secret_free(sk);
	sk = NULL;
	assert_int_equal(keys_secret_parse(key, keylen, "s3cret pas", &sk),
	    KEYS_EPASSPHRASE);
	assert_null(sk);
	free(key);
}

/* minisign decrypts a key that airlock encrypted, and signs with it. */
static void
test_interop_encrypted_key_to_minisign(void **state)
{
	char keyf[64], msgf[64], sigf[64];
	char kp[PATH_MAX], mp[PATH_MAX], sp[PATH_MAX];
	struct keys_secret *sk;
	struct keys_pub pub;
	char *text, *sigtext;
	uint8_t msg[128], blob[SK_BLOB];
	size_t len;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, "airlock pw", &text), 0);
	sk_decode(text, blob);
	assert_memory_equal(blob, "EdScB2", 6);
	fresh_name(keyf, sizeof(keyf), "airlock.key");
	fresh_name(msgf, sizeof(msgf), "msg");
	fresh_name(sigf, sizeof(sigf), "msg.minisig");
	write_file(keyf, text, strlen(text));
	free(text);
	random_message(msg, sizeof(msg));
	write_file(msgf, msg, sizeof(msg));
	path_of(kp, keyf);
	path_of(mp, msgf);
	path_of(sp, sigf);
	assert_int_equal(minisign("airlock pw\n", NULL, "-S", "-s", kp, "-m",
	    mp, "-x", sp, "-t", "by minisign", NULL), 0);
	sigtext = read_file(sigf, &len);
	assert_int_equal(verify_text(&pub, sigtext, msg, sizeof(msg), 0), 0);
	free(sigtext);
	keys_secret_free(sk);
}

/* --- the signer, the keyring's entries, the release record ------------ */

static int
pass_never(void *arg, char *buf, size_t size)
{
	(*(int *)arg)++;
	return -1;
}

static void
test_signer(void **state)
{
	struct keys_secret *sk;
	struct keys_signer *s;
	struct keys_pub pub;
	struct keys_sig *sig;
	char name[64], path[PATH_MAX], *text, *sigtext, big[BOUND_SIGFILE + 2];
	uint8_t digest[32], keyid[8];
	const char *msg = "{\"files\":[]}";
	int asked = 0;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_secret_format(sk, NULL, &text), 0);
	fresh_name(name, sizeof(name), "signer.key");
	write_file(name, text, strlen(text));
	path_of(path, name);
	/* An unencrypted key asks for no passphrase. */
	assert_int_equal(keys_signer_load(path, pass_never, &asked, &s), 0);
	assert_int_equal(asked, 0);
	assert_memory_equal(keys_signer_keyid(s), pub.kp_keyid, 8);
	memset(digest, 0xab, sizeof(digest));
	assert_int_equal(keys_signer_sign_manifest(s, "org/m",
	    "c5ebcd40d208330abc697524c919956e692655cf", digest, msg,
	    strlen(msg), keyid, &sigtext), 0);
	assert_memory_equal(keyid, pub.kp_keyid, 8);
	assert_int_equal(verify_text(&pub, sigtext, msg, strlen(msg), 0), 0);
	assert_int_equal(keys_sig_parse(sigtext, strlen(sigtext), &sig), 0);
	assert_non_null(strstr(sig->ks_trusted_comment, "\tdigest=sha256:"
	    "abababababababababababababababababababababababababababababababab"));
	assert_non_null(strstr(sig->ks_trusted_comment, "\trepo=org/m"));
	keys_sig_free(sig);
	free(sigtext);
	keys_signer_free(s);
	/* No file, or one too large to be a key: the errno value. */
	path_of(path, "no-such.key");
	assert_int_equal(keys_signer_load(path, NULL, NULL, &s), ENOENT);
	assert_null(s);
	memset(big, 'x', sizeof(big));
	fresh_name(name, sizeof(name), "big.key");
	write_file(name, big, sizeof(big));
	path_of(path, name);
	assert_int_equal(keys_signer_load(path, NULL, NULL, &s), EFBIG);
	sodium_memzero(text, strlen(text));
	free(text);
	keys_secret_free(sk);
}

static void
test_ring_add(void **state)
{
	struct keys_ring ring = { 0 };
	struct keys_secret *sk;
	struct keys_trust t;
	struct keys_pub pub;
	char *json;

	assert_int_equal(keys_generate(&sk, &pub), 0);
	assert_int_equal(keys_trust_init(&t, &pub, "alice", "*", 1763900000),
	    0);
	assert_int_equal(keys_trust_to_json(&t, &json), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(keys_ring_add(&ring, "k", 1, json,
		    strlen(json)), 0);
		/* An entry that does not parse is left out. */
		assert_int_equal(keys_ring_add(&ring, "k", 1, "{}", 2), 0);
	}
	assert_int_equal(ring.n, 20);
	assert_memory_equal(&ring.v[19], &t, sizeof(t));
	free(ring.v);
	free(json);
	keys_secret_free(sk);
}

static void
test_release_vs_record(void **state)
{
	struct keys_release *rel;
	char *one, *two, err[512];
	size_t len1, len2;

	one = release_doc(1, "main", &len1);
	two = release_doc(2, "main", &len2);
	assert_int_equal(keys_release_parse(one, len1, &rel), 0);
	/* No record: nothing to be older than. */
	err[0] = '\0';
	assert_int_equal(keys_release_vs_record("up", rel, one, len1, NULL, 0,
	    err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(keys_release_vs_record("up", rel, one, len1, two,
	    len2, err, sizeof(err)), KEYS_EROLLBACK);
	assert_string_equal(err, "up: release 1 of key 0807060504030201 is "
	    "older than release 2, taken already: a rollback");
	/* An unreadable record fails closed. */
	assert_int_not_equal(keys_release_vs_record("up", rel, one, len1,
	    "{", 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "cannot be read"));
	keys_release_free(rel);
	assert_int_equal(keys_release_parse(two, len2, &rel), 0);
	assert_int_equal(keys_release_vs_record("up", rel, two, len2, one,
	    len1, err, sizeof(err)), 0);
	keys_release_free(rel);
	free(one);
	free(two);
}

/* --- set-up ------------------------------------------------------------ */

static int
remove_entry(const char *path, const struct stat *sb, int type,
    struct FTW *ftw)
{
	return remove(path);
}

static int
remove_tree(const char *dir)
{
	return nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keyid_hex),
		cmocka_unit_test(test_pub_roundtrip),
		cmocka_unit_test(test_pub_malformed),
		cmocka_unit_test(test_secret_unencrypted_roundtrip),
		cmocka_unit_test(test_secret_passphrase),
		cmocka_unit_test(test_secret_wrong_passphrase),
		cmocka_unit_test(test_secret_truncated),
		cmocka_unit_test(test_secret_garbage),
		cmocka_unit_test(test_secret_corrupt_unencrypted),
		cmocka_unit_test(test_secret_limits),
#define SIGTEST(t) cmocka_unit_test_setup_teardown(t, sigfix_setup, \
	sigfix_teardown)
		SIGTEST(test_sign_verify),
		SIGTEST(test_sign_prehashed_stream),
		SIGTEST(test_tamper_message),
		SIGTEST(test_tamper_signature),
		SIGTEST(test_tamper_trusted_comment),
		SIGTEST(test_tamper_global_signature),
		SIGTEST(test_wrong_key),
		SIGTEST(test_sig_malformed),
		SIGTEST(test_comment_rules),
		cmocka_unit_test(test_legacy_refused),
		cmocka_unit_test(test_tc_fields),
		cmocka_unit_test(test_trust_json),
		cmocka_unit_test(test_trust_scope),
		cmocka_unit_test(test_trust_lookup),
#define POLTEST(t) cmocka_unit_test_setup_teardown(t, polfix_setup, \
	polfix_teardown)
		POLTEST(test_policy_trusted),
		POLTEST(test_policy_unknown_key),
		POLTEST(test_policy_revoked),
		POLTEST(test_policy_revoked_readded),
		POLTEST(test_policy_out_of_scope),
		POLTEST(test_policy_comment_mismatch),
		POLTEST(test_policy_bad_signature),
		POLTEST(test_policy_threshold),
		POLTEST(test_policy_duplicate_signer),
		POLTEST(test_policy_revoked_other_id),
		POLTEST(test_policy_same_key_two_ids),
		POLTEST(test_policy_comment_names_nothing),
		cmocka_unit_test(test_release_roundtrip),
		cmocka_unit_test(test_release_malformed),
		cmocka_unit_test(test_release_rollback),
		cmocka_unit_test(test_signer),
		cmocka_unit_test(test_ring_add),
		cmocka_unit_test(test_release_vs_record),
		cmocka_unit_test(test_release_expiry),
		cmocka_unit_test(test_interop_minisign_verifies_airlock),
		cmocka_unit_test(test_interop_airlock_verifies_minisign),
		cmocka_unit_test(test_interop_legacy_refused),
		cmocka_unit_test(test_interop_unencrypted_key_to_airlock),
		cmocka_unit_test(test_interop_unencrypted_key_to_minisign),
		cmocka_unit_test(test_interop_encrypted_key_to_airlock),
		cmocka_unit_test(test_interop_encrypted_key_to_minisign),
	};
	const char *tmp, *ms;
	int rc;

	if (keys_init() != 0)
		return 99;
	/* minisign may exit before reading the passphrase we pipe to it. */
	signal(SIGPIPE, SIG_IGN);
	ms = getenv("MINISIGN");
	g.minisign = ms != NULL && *ms != '\0' ? ms : NULL;
	if (g.minisign == NULL) {
		/*
		 * cmocka 1.1.5 reports skip() as "not ok # SKIP", a failure to
		 * Automake's TAP driver: leave these tests out instead.
		 */
		printf("# SKIP interoperability tests (test_interop_*): "
		    "MINISIGN is not set; make check sets it when configure "
		    "finds minisign\n");
		cmocka_set_skip_filter("test_interop_*");
	}
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(g.dir, sizeof(g.dir), "%s/test_keys.XXXXXX", tmp);
	if (mkdtemp(g.dir) == NULL)
		return 99;
	rc = RUN_TAP(tests);
	if (remove_tree(g.dir) != 0)
		rc = 99;
	return rc;
}
