/*
 * keys: Ed25519 keys and signatures in minisign's formats, the keyring's
 * trust policy, and signed release documents (FORMATS.md, DESIGN.md §5).
 *
 * Sections, and the file that implements each:
 *   errors, set-up, key ids		keys/util.c
 *   public and secret keys		keys/key.c
 *   hashing, signing, verifying	keys/sig.c
 *   trusted comments			keys/comment.c
 *   the keyring and its policy		keys/trust.c
 *   release documents			keys/release.c
 * The limits on untrusted input are lib/bounds.h's BOUND_*; helpers that
 * the sources share are keys/internal.h.
 *
 * Errors: the library never prints, logs or exits.  Every function that
 * can fail returns KEYS_OK (0) or a negative KEYS_E* code, which
 * keys_strerror() names; each declaration lists the codes a caller may
 * want to tell apart (KEYS_EINVAL, a NULL or out-of-range argument, and
 * KEYS_ENOMEM are possible wherever an argument or an allocation is).
 * The only other results: void functions cannot fail, and the two
 * predicates keys_tc_names_subject() and keys_trust_in_scope() return 1
 * or 0, never an error.
 *
 * Ownership: a "char **" result is a NUL-terminated string allocated with
 * malloc(3) that the caller releases with free(3); on an error it is set
 * to NULL.  A struct returned through a "**" argument is the caller's and
 * is released with its own keys_*_free(), which accepts NULL.  A const
 * pointer returned into an argument (keys_trust_lookup()) points into
 * that argument and lives as long as it.  Inputs are never retained after
 * a call returns.  Byte inputs (text, len) need not be NUL-terminated.
 * There are no callbacks.
 *
 * Threads: call keys_init() once before anything else (it is idempotent
 * and thread-safe); afterwards every function is safe to call from
 * several threads on distinct objects, and on the same object when it is
 * const.
 */
#ifndef AIRLOCK_KEYS_H
#define AIRLOCK_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lib/bounds.h"	/* the limits on untrusted input, BOUND_* */

/* Errors (util.c).  keys_strerror() never returns NULL. */
#define KEYS_OK			  0
#define KEYS_ENOMEM		 -1	/* out of memory */
#define KEYS_EINVAL		 -2	/* bad argument (a caller's bug) */
#define KEYS_EFORMAT		 -3	/* malformed, truncated, or trailing */
#define KEYS_EALG		 -4	/* unsupported algorithm */
#define KEYS_ENEEDPASS		 -5	/* the secret key is encrypted */
#define KEYS_EPASSPHRASE	 -6	/* wrong passphrase */
#define KEYS_ECHECKSUM		 -7	/* unencrypted secret key is corrupt */
#define KEYS_ELIMITS		 -8	/* scrypt limits above the maximum */
#define KEYS_EKEYID		 -9	/* signature or release of another key */
#define KEYS_ESIG		-10	/* signature does not match message */
#define KEYS_EGLOBALSIG		-11	/* trusted comment was tampered with */
#define KEYS_ELEGACY		-12	/* legacy "Ed" signature not allowed */
#define KEYS_ECOMMENT		-13	/* comment too long or not printable */
#define KEYS_ENOTFOUND		-14	/* no such trusted-comment field */
#define KEYS_ETOOSMALL		-15	/* output buffer too small */
#define KEYS_ESCHEMA		-16	/* document of an unknown schema */
#define KEYS_ETHRESHOLD		-17	/* too few trusted signatures */
#define KEYS_EROLLBACK		-18	/* older than a release already seen */
#define KEYS_EEQUIVOCAL		-19	/* same release version, other bytes */
#define KEYS_EEXPIRED		-20	/* release past its expiry time */
#define KEYS_ECRYPTO		-21	/* libsodium failed (init, memory) */
#define KEYS_ENOKEY		-22	/* no keyring entry holds the key */

/* Sizes of the minisign formats, in bytes. */
#define KEYS_KEYID_BYTES	8
#define KEYS_KEYID_HEXLEN	16
#define KEYS_PUBKEY_BYTES	32
#define KEYS_SIG_BYTES		64
#define KEYS_HASH_BYTES		64	/* BLAKE2b-512, the prehash */

/* Start libsodium.  KEYS_ECRYPTO when it cannot. */
int		 keys_init(void);
/* A static string: "unknown error" for a code that is not KEYS_E*. */
const char	*keys_strerror(int);

/*
 * Key ids (util.c).  Eight random bytes, shown as minisign shows them: the
 * bytes read as a little-endian u64 in upper-case hex, zero-padded to 16
 * digits.  keys_keyid_parse() takes 1 to 16 hex digits of either case, so
 * that minisign 0.11's unpadded form is accepted too; anything else is
 * KEYS_EFORMAT.
 */
void		 keys_keyid_hex(const uint8_t id[KEYS_KEYID_BYTES],
		    char out[KEYS_KEYID_HEXLEN + 1]);
int		 keys_keyid_parse(const char *hex,
		    uint8_t id[KEYS_KEYID_BYTES]);

/*
 * Keys (key.c).  A public key: small, plain data, copied by value.  A key
 * is its Ed25519 public key; the id only names it (see keys_policy_eval).
 */
struct keys_pub {
	uint8_t		kp_keyid[KEYS_KEYID_BYTES];
	uint8_t		kp_key[KEYS_PUBKEY_BYTES];
};

/*
 * Parse a minisign .pub file ("untrusted comment: ..." line, base64 line)
 * or a bare base64 line as minisign -P takes it.  The comment is ignored
 * but must be one line within BOUND_COMMENT.  KEYS_EFORMAT for bad
 * lines, base64 or trailing bytes; KEYS_EALG for a key that is not "Ed".
 */
int		 keys_pub_parse(const char *text, size_t len,
		    struct keys_pub *pub);
/* "untrusted comment: minisign public key <KEYID>\n<base64>\n"; free(3). */
int		 keys_pub_format(const struct keys_pub *pub, char **text);
/* The bare base64 line, no newline, as minisign -P takes it; free(3). */
int		 keys_pub_base64(const struct keys_pub *pub, char **text);

/*
 * A secret key, opaque.  It lives in sodium_malloc() memory, read-only
 * once made; keys_secret_free() wipes and frees it.
 */
struct keys_secret;

/* A new key pair from the system's randomness; KEYS_ECRYPTO if it fails. */
int		 keys_generate(struct keys_secret **sk, struct keys_pub *pub);
/*
 * Parse a minisign secret key file.  An encrypted key ("Sc") needs the
 * passphrase (else KEYS_ENEEDPASS) and costs one scrypt run with the
 * file's limits, refused above BOUND_SCRYPT_OPSLIMIT or
 * BOUND_SCRYPT_MEMLIMIT with KEYS_ELIMITS.  A wrong passphrase gives
 * KEYS_EPASSPHRASE.  For an unencrypted key the passphrase is ignored;
 * its checksum may be all zeros, as minisign -G -W writes it, else a
 * wrong one is KEYS_ECHECKSUM.  KEYS_EFORMAT for bad lines, KEYS_EALG for
 * an unknown algorithm, KDF or checksum, KEYS_EINVAL for a passphrase
 * over BOUND_PASSPHRASE.  *sk is the caller's, for keys_secret_free().
 */
int		 keys_secret_parse(const char *text, size_t len,
		    const char *passphrase, struct keys_secret **sk);
/*
 * Write a minisign secret key file, encrypted with scrypt at minisign's
 * _SENSITIVE limits when passphrase is not NULL (1 GiB of memory and some
 * seconds), unencrypted when it is NULL.  The text of an unencrypted key
 * is the secret itself: wipe it (sodium_memzero) before free(3).  The
 * passphrase is at most BOUND_PASSPHRASE bytes (else KEYS_EINVAL).
 */
int		 keys_secret_format(const struct keys_secret *sk,
		    const char *passphrase, char **text);
void		 keys_secret_pub(const struct keys_secret *sk,
		    struct keys_pub *pub);
void		 keys_secret_free(struct keys_secret *sk);

/*
 * A signer (signer.c): a secret key loaded from its file and its public
 * half, for the signatures airlock makes.  keys_signer_load reads the
 * file (at most BOUND_SIGFILE bytes, into memory that is wiped) and
 * parses it; a key that needs a passphrase calls pass, which writes it,
 * NUL-terminated, into buf (size bytes, wiped after) and returns 0, or
 * returns nonzero to give up, returned as it is.  With pass NULL such a
 * key is KEYS_ENEEDPASS (a daemon asks nobody).  Errors: an errno value
 * (positive) for the file (EFBIG when it is too large), else
 * keys_secret_parse()'s.  *out is for keys_signer_free().
 */
struct keys_signer;
typedef int	(*keys_pass_fn)(void *arg, char *buf, size_t size);

int		 keys_signer_load(const char *path, keys_pass_fn pass,
		    void *arg, struct keys_signer **out);
/* Both live as long as the signer. */
const uint8_t	*keys_signer_keyid(const struct keys_signer *);
const struct keys_secret *keys_signer_secret(const struct keys_signer *);
/*
 * A manifest's signature as airlock makes it: over the manifest's bytes
 * (msg, len), the trusted comment keys_tc_manifest(repo, commit,
 * "sha256:HEX" of digest, now), the untrusted "signature from airlock
 * key HEX".  keyid gets the signer's key id; *text, a .minisig file, is
 * for free(3).  keys_tc_manifest()'s and keys_sign()'s errors.
 */
int		 keys_signer_sign_manifest(const struct keys_signer *,
		    const char *repo, const char *commit,
		    const uint8_t digest[32], const void *msg, size_t len,
		    uint8_t keyid[KEYS_KEYID_BYTES], char **text);
void		 keys_signer_free(struct keys_signer *);

/*
 * Hashing (sig.c): BLAKE2b-512 of a message in pieces, for signing or
 * verifying content too large to hold in memory.  keys_hash_new() makes
 * a state for keys_hash_free().
 */
struct keys_hash;

int		 keys_hash_new(struct keys_hash **h);
void		 keys_hash_update(struct keys_hash *h, const void *buf,
		    size_t len);
/* Finishes h; it must not be updated again. */
void		 keys_hash_final(struct keys_hash *h,
		    uint8_t out[KEYS_HASH_BYTES]);
void		 keys_hash_free(struct keys_hash *h);

/*
 * Signing (sig.c), in minisign's prehashed "ED" form.  The trusted comment
 * (required, may be empty) and the untrusted comment (NULL for a default)
 * must be one line of printable UTF-8 (tabs allowed) within
 * BOUND_TRUSTED_COMMENT and BOUND_COMMENT.  *sigtext is a complete .minisig
 * file, for free(3).  KEYS_ECOMMENT for a comment that is not, KEYS_ECRYPTO
 * if libsodium fails.
 */
int		 keys_sign(const struct keys_secret *sk, const void *msg,
		    size_t len, const char *trusted_comment,
		    const char *untrusted_comment, char **sigtext);
int		 keys_sign_prehashed(const struct keys_secret *sk,
		    const uint8_t hash[KEYS_HASH_BYTES],
		    const char *trusted_comment,
		    const char *untrusted_comment, char **sigtext);

#define KEYS_SIG_PREHASHED	1	/* "ED": Ed25519 over BLAKE2b-512 */
#define KEYS_SIG_LEGACY		2	/* "Ed": Ed25519 over the message */

/*
 * A parsed .minisig file (sig.c); the strings live inside the struct's
 * block and go with keys_sig_free().  The trusted comment is printable
 * UTF-8; the untrusted comment holds no control character but tab, and
 * need not be UTF-8.
 */
struct keys_sig {
	int		 ks_alg;		/* KEYS_SIG_* */
	uint8_t		 ks_keyid[KEYS_KEYID_BYTES];
	uint8_t		 ks_sig[KEYS_SIG_BYTES];
	uint8_t		 ks_global_sig[KEYS_SIG_BYTES];
	const char	*ks_trusted_comment;	/* unverified until verify */
	const char	*ks_untrusted_comment;
};

/*
 * KEYS_EFORMAT for bad lines, base64 or an untrusted comment, KEYS_ECOMMENT
 * for a trusted comment that is not printable or too long, KEYS_EALG for
 * a signature neither "ED" nor "Ed".  *sig is for keys_sig_free().
 */
int		 keys_sig_parse(const char *text, size_t len,
		    struct keys_sig **sig);
void		 keys_sig_free(struct keys_sig *sig);

/*
 * Verify in this order: key id (KEYS_EKEYID), algorithm (KEYS_ELEGACY for
 * "Ed" unless KEYS_VERIFY_LEGACY), the signature over the message
 * (KEYS_ESIG), the global signature over the trusted comment
 * (KEYS_EGLOBALSIG).  Only after 0 is the trusted comment trustworthy.
 */
#define KEYS_VERIFY_LEGACY	0x01

int		 keys_sig_verify(const struct keys_pub *pub,
		    const struct keys_sig *sig, const void *msg, size_t len,
		    int flags);
/* As keys_sig_verify() with the message's BLAKE2b-512; never "Ed". */
int		 keys_sig_verify_prehashed(const struct keys_pub *pub,
		    const struct keys_sig *sig,
		    const uint8_t hash[KEYS_HASH_BYTES]);

/*
 * Trusted comments (comment.c) in airlock's form: a kind, then tab-separated
 * key=value fields, e.g.
 *   airlock-manifest\trepo=ORG/NAME\tcommit=HEX\tdigest=sha256:HEX\ttime=N
 * Kinds and keys are [a-z0-9._-]+; values are printable, without tabs.
 */
#define KEYS_TC_MANIFEST	"airlock-manifest"
#define KEYS_TC_RELEASE		"airlock-release"

struct keys_tc_field {
	const char	*tf_key;
	const char	*tf_value;
};

/*
 * *comment, for free(3), is kind and the fields in order.  KEYS_EINVAL for
 * a kind or key that is not a token, KEYS_ECOMMENT for a value with a tab
 * or unprintable, or a comment over BOUND_TRUSTED_COMMENT.
 */
int		 keys_tc_format(const char *kind,
		    const struct keys_tc_field *fields, size_t nfields,
		    char **comment);
/* As keys_tc_format(); commit may be NULL (no upstream commit). */
int		 keys_tc_manifest(const char *repo, const char *commit,
		    const char *digest, int64_t time, char **comment);
int		 keys_tc_release(uint64_t version, const char *digest,
		    int64_t time, char **comment);
/*
 * A predicate: 1 when the comment claims airlock's form: its kind (the text
 * up to the first tab) begins with "airlock-".  Such a comment names a
 * subject and must match it; any other (stock minisign's default
 * "timestamp:N\tfile:NAME\thashed", free text) names nothing, as does NULL.
 */
#define KEYS_TC_AIRLOCK		"airlock-"

int		 keys_tc_names_subject(const char *comment);
/*
 * Lookups: copy the kind, or a field's value, into buf (NUL-terminated).
 * KEYS_EFORMAT when the comment is not in airlock's form, KEYS_ETOOSMALL
 * when buf is NULL or too small; keys_tc_get() also gives KEYS_ENOTFOUND
 * for a key that is absent and KEYS_EFORMAT for one present twice.
 */
int		 keys_tc_kind(const char *comment, char *buf, size_t size);
int		 keys_tc_get(const char *comment, const char *key, char *buf,
		    size_t size);

/*
 * A keyring entry (trust.c).  The store keeps entries as opaque bytes, the
 * compact JSON of keys_trust_to_json().  The scope is an fnmatch(3) pattern
 * matched against a repository id ("ORG/NAME") with no flags, so that "*"
 * and "?" also match "/": the scope "*" covers every repository, and
 * "google/" followed by "*" covers every repository of google.  Matching is
 * case-sensitive.
 */
struct keys_trust {
	struct keys_pub	 kt_pub;
	char		 kt_name[BOUND_KEY_NAME + 1];
	char		 kt_scope[BOUND_KEY_SCOPE + 1];
	int64_t		 kt_added;		/* seconds since the epoch */
	int		 kt_revoked;		/* its public key never counts again */
	int64_t		 kt_revoked_time;
};

/*
 * KEYS_EINVAL unless the name is 1 to BOUND_KEY_NAME bytes of printable
 * UTF-8 without tabs and the scope 1 to BOUND_KEY_SCOPE bytes of
 * printable ASCII.
 */
int		 keys_trust_init(struct keys_trust *t,
		    const struct keys_pub *pub, const char *name,
		    const char *scope, int64_t added);
/* Revoking twice keeps the first time. */
int		 keys_trust_revoke(struct keys_trust *t, int64_t when);
/* *json is for free(3); KEYS_EINVAL for a name or scope that is not. */
int		 keys_trust_to_json(const struct keys_trust *t, char **json);
/*
 * KEYS_EFORMAT for bytes over BOUND_TRUST_ENTRY, bad JSON, an unknown or
 * missing field or a bad value; KEYS_ESCHEMA for another schema.  *t is
 * unchanged on an error.
 */
int		 keys_trust_from_json(const char *json, size_t len,
		    struct keys_trust *t);
/*
 * A keyring as the store keeps it: one keys_trust_to_json document per
 * entry (the store's STORE_TRUST table).  keys_ring_add has the shape of
 * the store's store_kv_fn, so that
 *	store_kv_each(st, STORE_TRUST, keys_ring_add, &ring)
 * reads the whole keyring while keys/ knows nothing of the store.  An
 * entry that does not parse is left out, which can only make fewer
 * signatures count (`airlock trust ls` names it).  ring->v is malloc'd,
 * for free(3), also after an error; ENOMEM is the only error.
 */
struct keys_ring {
	struct keys_trust	*v;
	size_t			 n, cap;
};
int		 keys_ring_add(void *ring, const void *key, size_t klen,
		    const void *val, size_t vlen);
/* A predicate: 1 when the entry's scope covers repo, else 0. */
int		 keys_trust_in_scope(const struct keys_trust *t,
		    const char *repo);
/*
 * The keyring's entry for a public key, under whatever id: one that is
 * revoked if any entry of that key is (a revocation is of the key), else
 * the first.  *entry points into ring, NULL on an error.  An entry under
 * pub's id that holds another key is not pub's.  Errors: KEYS_EINVAL,
 * KEYS_ENOKEY when no entry holds the key.
 */
int		 keys_trust_lookup(const struct keys_trust *ring, size_t nring,
		    const struct keys_pub *pub,
		    const struct keys_trust **entry);

/* The policy (trust.c).  What a signature vouches for. */
enum keys_verdict {
	KEYS_V_TRUSTED = 0,	/* good, in scope, comment matches */
	KEYS_V_UNKNOWN_KEY,	/* no keyring entry with that key */
	KEYS_V_REVOKED,		/* signed by a revoked key, at any time */
	KEYS_V_OUT_OF_SCOPE,	/* key may not vouch for this repository */
	KEYS_V_BAD_SIGNATURE,	/* does not verify against the key */
	KEYS_V_COMMENT_MISMATCH,/* verified, but names another subject */
	KEYS_V_MALFORMED	/* not a signature airlock can read */
};

/*
 * The thing signatures are checked for.  repo NULL is a document that is
 * not one repository's (a release): only keys of scope "*" vouch for it,
 * and the comment's repo= is not checked.  digest NULL leaves the
 * comment's digest= unchecked.  A trusted comment in airlock's form
 * (keys_tc_names_subject()) must name this kind, repo and digest; one
 * that names nothing (minisign's default, say) is accepted, since the
 * signature covers the subject's bytes, which say what they are.
 */
struct keys_subject {
	const char	*su_kind;	/* KEYS_TC_MANIFEST, KEYS_TC_RELEASE */
	const char	*su_repo;	/* must equal the comment's repo= */
	const char	*su_digest;	/* must equal the comment's digest= */
	const void	*su_msg;	/* the exact signed bytes */
	size_t		 su_len;
};
/*
 * Fills *su for a manifest of repo whose digest string ("sha256:HEX") and
 * exact bytes are given; it keeps the pointers, which must outlive it.
 */
void		 keys_subject_manifest(struct keys_subject *su,
		    const char *repo, const char *digest, const void *bytes,
		    size_t len);

/* One signature's verdict, filled by keys_policy_eval(). */
struct keys_sig_verdict {
	enum keys_verdict vd_verdict;
	int		 vd_error;	/* the KEYS_E* behind a failure, or 0 */
	uint8_t		 vd_keyid[KEYS_KEYID_BYTES];	/* zero if malformed */
	char		 vd_name[BOUND_KEY_NAME + 1];	/* "" if unknown */
	int		 vd_counted;	/* counted towards the threshold */
	int		 vd_names_nothing; /* verified; comment names nothing */
};

/*
 * Check each signature text against the keyring for the subject, filling
 * verdicts[0..nsigs).  A key is its Ed25519 public key: key ids are not
 * signed, so anyone may put a key under another id.  The signature's id
 * picks the entries to verify it with; then every entry that holds the
 * same public key, whatever its id, is the same signer: revoked if any of
 * them is, and counted once however many times and under however many
 * ids it signed.
 * Returns 0 when at least threshold (>= 1) distinct keys are trusted,
 * KEYS_ETHRESHOLD when not (verdicts and *ntrusted are filled either
 * way), another code on a bad argument.  siglens may be NULL when every
 * text is NUL-terminated; ntrusted may be NULL.
 */
int		 keys_policy_eval(const struct keys_trust *ring, size_t nring,
		    unsigned int threshold, const struct keys_subject *subject,
		    const char *const *sigs, const size_t *siglens,
		    size_t nsigs, struct keys_sig_verdict *verdicts,
		    size_t *ntrusted);
/* A static string, "unknown verdict" for a value outside the enum. */
const char	*keys_verdict_name(enum keys_verdict);

/*
 * Release documents (release.c, airlock.release/v1): canonical JSON that a
 * publishing store signs so that importers can refuse rollbacks.  Times are
 * RFC 3339 UTC ("2026-11-23T12:00:00Z").  Parse only bytes whose signature
 * has been verified; the parser accepts exactly the canonical form it
 * writes.
 */
#define KEYS_RELEASE_SCHEMA	"airlock.release/v1"

struct keys_release_ref {
	char		*rr_repo;
	char		*rr_revision;
	char		*rr_commit;
	char		*rr_manifest;	/* "sha256:HEX" */
};

struct keys_release {
	uint8_t			 rl_publisher[KEYS_KEYID_BYTES];
	uint64_t		 rl_version;	/* at most INT64_MAX */
	char			*rl_created;
	char			*rl_expires;	/* NULL: never */
	struct keys_release_ref	*rl_refs;
	size_t			 rl_nrefs;
};

/*
 * Build a release; it copies the strings.  expires may be NULL.  Add refs
 * with keys_release_add(), then keys_release_format().  *rel is for
 * keys_release_free(), which frees the strings and refs too.  KEYS_EINVAL
 * for a time that is not RFC 3339 or a version over INT64_MAX.
 */
int		 keys_release_new(const uint8_t publisher[KEYS_KEYID_BYTES],
		    uint64_t version, const char *created, const char *expires,
		    struct keys_release **rel);
/* KEYS_EINVAL for a repository, revision, commit or digest that is not. */
int		 keys_release_add(struct keys_release *rel, const char *repo,
		    const char *revision, const char *commit,
		    const char *manifest);
/* The canonical bytes, sorted by repo then revision; *json for free(3). */
int		 keys_release_format(const struct keys_release *rel,
		    char **json, size_t *len);
/*
 * KEYS_EFORMAT for bytes over BOUND_RELEASE, more than BOUND_RELEASE_REFS
 * refs, a bad field or bytes that are not the canonical form;
 * KEYS_ESCHEMA for another schema.  *rel is for keys_release_free().
 */
int		 keys_release_parse(const char *json, size_t len,
		    struct keys_release **rel);
void		 keys_release_free(struct keys_release *rel);
/*
 * 0 while rel has no expiry or now is before it, else KEYS_EEXPIRED
 * (KEYS_EFORMAT for an expiry that does not parse).
 */
int		 keys_release_check_expiry(const struct keys_release *rel,
		    time_t now);
/*
 * Rollback protection.  seen is the highest release seen from the same
 * publisher (NULL if none) and seen_doc its bytes: a lower version is
 * KEYS_EROLLBACK, an equal one is accepted only when byte-identical
 * (else KEYS_EEQUIVOCAL), a higher one is accepted.  Releases of two
 * publishers give KEYS_EKEYID.
 */
int		 keys_release_check_rollback(const struct keys_release *seen,
		    const void *seen_doc, size_t seen_len,
		    const struct keys_release *rel, const void *doc,
		    size_t len);

/*
 * The same against the record a store keeps of the highest release taken
 * from rel's publisher (old, oldlen: its bytes, NULL when there is none),
 * for import and a chained pull: refused when rel is older
 * (KEYS_EROLLBACK), the same version differs (KEYS_EEQUIVOCAL), or the
 * record cannot be read (its parse error: that record is what stops a
 * rollback, so an unreadable one fails closed).  err gets the reason,
 * naming what (the bundle or upstream the release came from).
 */
int		 keys_release_vs_record(const char *what,
		    const struct keys_release *rel, const void *doc,
		    size_t len, const void *old, size_t oldlen, char *err,
		    size_t esize);

#endif /* AIRLOCK_KEYS_H */
