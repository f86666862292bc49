/*
 * judge.c - a chained pull's judge (mirror.h, mirror_judge_fn): the
 * upstream airlockd's signatures over the manifest, and its release
 * against rollback, by the pulling store's keyring, before any chunk
 * moves.  `airlock pull` and airlockd's mirror jobs both judge by it.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/bounds.h"
#include "keys/keys.h"
#include "mirror/mirror.h"

struct mirror_judge {
	struct store		*st;
	char			*msg;		/* the caller's */
	size_t			 msgsize;
	int			 refused;	/* MIRROR_JUDGE_* */
	/* The release taken, recorded in the revision's commit. */
	struct keys_release	*rel;
	const char		*upstream;
	const char		*doc;
	size_t			 len;
	char			 setting[100];	/* "publisher sha256:HEX" */
	uint8_t			 publisher[8];	/* its value */
	int			 known;		/* there is one */
};

static int
judge_fail(struct mirror_judge *j, int how, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->msg, j->msgsize, fmt, ap);
	va_end(ap);
	j->refused = how;
	return MIRROR_EREFUSED;
}

static void
judge_say(struct mirror_judge *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->msg, j->msgsize, fmt, ap);
	va_end(ap);
}

int
mirror_judge_new(struct store *st, char *msg, size_t msgsize,
    struct mirror_judge **out)
{
	struct mirror_judge *j;

	*out = NULL;
	if (msgsize > 0)
		msg[0] = '\0';
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return MIRROR_ENOMEM;
	j->st = st;
	j->msg = msg;
	j->msgsize = msgsize;
	*out = j;
	return 0;
}

int
mirror_judge_refused(const struct mirror_judge *j)
{
	return j->refused;
}

void
mirror_judge_free(struct mirror_judge *j)
{
	if (j == NULL)
		return;
	keys_release_free(j->rel);
	free(j);
}

/*
 * The publisher whose releases this store took from an upstream, by its
 * URL: the setting "publisher sha256:HEX" (HEX the URL's sha256) holds
 * its key id.  Once there is one, the upstream must go on publishing
 * releases by that key: one that stops (the release stripped, so that
 * an older state passes unchecked) or signs with another is refused.
 */
static int
publisher_get(struct mirror_judge *j, const char *upstream)
{
	char hex[STORE_HEX_LEN + 1];
	uint8_t d[STORE_HASH_LEN];
	void *val;
	size_t len;
	int rc;

	store_sha256(upstream, strlen(upstream), d);
	store_hex(d, STORE_HASH_LEN, hex);
	snprintf(j->setting, sizeof(j->setting), "publisher sha256:%s", hex);
	rc = store_kv_get(j->st, STORE_SETTING, j->setting, strlen(j->setting),
	    &val, &len);
	if (rc == STORE_ENOTFOUND)
		return 0;
	if (rc != 0)
		return judge_fail(j, MIRROR_JUDGE_FAILED, "the upstream's "
		    "publisher record: %s", store_lasterror());
	if (len != 8) {
		free(val);
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: refused: this "
		    "store's record of its publisher (setting \"%s\") cannot "
		    "be read", upstream, j->setting);
	}
	memcpy(j->publisher, val, 8);
	free(val);
	j->known = 1;
	return 0;
}

/*
 * In the revision's commit: the release against the record again, under
 * the write transaction (another pull may have taken a higher one
 * meanwhile), then the record and the publisher's.
 */
static int
judge_commit(void *arg, struct store_kvtxn *kt)
{
	struct mirror_judge *j = arg;
	const uint8_t *key = j->rel->rl_publisher;
	const void *old = NULL;
	size_t oldlen = 0;
	int rc;

	rc = store_kvtxn_get(kt, STORE_RELEASE, key, 8, &old, &oldlen);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return rc;
	if (rc == STORE_ENOTFOUND)
		old = NULL;
	if (keys_release_vs_record(j->upstream, j->rel, j->doc, j->len, old,
	    oldlen, j->msg, j->msgsize) != 0) {
		j->refused = MIRROR_JUDGE_CHECK;
		return STORE_ECANCELED;
	}
	if (old == NULL || oldlen != j->len || memcmp(old, j->doc, j->len) != 0)
		if ((rc = store_kvtxn_put(kt, STORE_RELEASE, key, 8, j->doc,
		    j->len)) != 0)
			return rc;
	return store_kvtxn_put(kt, STORE_SETTING, j->setting,
	    strlen(j->setting), key, 8);
}

/*
 * Each signature is kept under the key id that it carries, once it
 * parses; one by a key in the keyring must verify over the manifest and
 * name it, or the pull is refused (the upstream, or what stands between,
 * is not telling the truth).  One by a key the keyring lacks is kept as
 * it came, for show and verify to judge once that key is trusted.
 */
static int
judge_sigs(struct mirror_judge *j, struct mirror_chain_vouch *v,
    const struct keys_ring *ring)
{
	struct keys_sig_verdict verdicts[BOUND_BUNDLE_SIGS];
	const char *texts[BOUND_BUNDLE_SIGS];
	size_t lens[BOUND_BUNDLE_SIGS];
	char digest[STORE_DIGEST_STRLEN + 1], hex[KEYS_KEYID_HEXLEN + 1];
	struct keys_subject subj;
	int rc;

	if (v->nsigs == 0)
		return 0;
	for (size_t i = 0; i < v->nsigs; i++) {
		texts[i] = v->sigs[i].text;
		lens[i] = v->sigs[i].len;
	}
	store_digest_str(v->manifest->digest, digest);
	keys_subject_manifest(&subj, v->manifest->repo, digest,
	    v->manifest->bytes, v->manifest->len);
	memset(verdicts, 0, sizeof(verdicts));
	rc = keys_policy_eval(ring->v, ring->n, 1, &subj, texts, lens,
	    v->nsigs, verdicts, NULL);
	if (rc != 0 && rc != KEYS_ETHRESHOLD)
		return judge_fail(j, MIRROR_JUDGE_FAILED, "the upstream's "
		    "signatures: %s", keys_strerror(rc));
	for (size_t i = 0; i < v->nsigs; i++) {
		keys_keyid_hex(verdicts[i].vd_keyid, hex);
		switch (verdicts[i].vd_verdict) {
		case KEYS_V_TRUSTED:
		case KEYS_V_UNKNOWN_KEY:
		case KEYS_V_OUT_OF_SCOPE:
			v->sigs[i].keep = 1;
			memcpy(v->sigs[i].keyid, verdicts[i].vd_keyid, 8);
			break;
		case KEYS_V_REVOKED:
			break;	/* it never counts again: not worth keeping */
		case KEYS_V_MALFORMED:
			return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: the "
			    "upstream's signature %zu of manifest %s is not a "
			    "signature: %s", v->upstream, i, digest,
			    keys_strerror(verdicts[i].vd_error));
		default:
			return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: the "
			    "upstream's signature by key %s does not verify "
			    "over manifest %s: %s", v->upstream, hex, digest,
			    verdicts[i].vd_verdict == KEYS_V_COMMENT_MISMATCH ?
			    "it names another manifest" :
			    keys_strerror(verdicts[i].vd_error));
		}
	}
	return 0;
}

/* The release's signature by the keyring: the verdict, its key id. */
static int
release_verdict(const struct mirror_chain_vouch *v,
    const struct keys_ring *ring, struct keys_sig_verdict *vd)
{
	struct keys_subject subj;
	char digest[STORE_DIGEST_STRLEN + 1];
	const char *texts[1] = { v->release_sig };
	uint8_t d[STORE_HASH_LEN];

	store_sha256(v->release, v->release_len, d);
	store_digest_str(d, digest);
	subj.su_kind = KEYS_TC_RELEASE;
	subj.su_repo = NULL;
	subj.su_digest = digest;
	subj.su_msg = v->release;
	subj.su_len = v->release_len;
	memset(vd, 0, sizeof(*vd));
	return keys_policy_eval(ring->v, ring->n, 1, &subj, texts,
	    &v->release_sig_len, 1, vd, NULL);
}

/* The release parsed, its publisher's, not expired, not rolled back. */
static int
release_holds(struct mirror_judge *j, struct mirror_chain_vouch *v,
    const uint8_t keyid[8])
{
	void *old = NULL;
	size_t oldlen = 0;
	int rc;

	if ((rc = keys_release_parse(v->release, v->release_len, &j->rel))
	    != 0)
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: release: %s",
		    v->upstream, keys_strerror(rc));
	if (memcmp(j->rel->rl_publisher, keyid, 8) != 0)
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: the release "
		    "names another publisher than the key that signed it",
		    v->upstream);
	if (keys_release_check_expiry(j->rel, time(NULL)) != 0)
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: refused: its "
		    "release %llu expired at %s", v->upstream,
		    (unsigned long long)j->rel->rl_version,
		    j->rel->rl_expires);
	rc = store_kv_get(j->st, STORE_RELEASE, keyid, 8, &old, &oldlen);
	if (rc != 0 && rc != STORE_ENOTFOUND)
		return judge_fail(j, MIRROR_JUDGE_FAILED, "the release "
		    "records: %s", store_lasterror());
	rc = keys_release_vs_record(v->upstream, j->rel, v->release,
	    v->release_len, old, oldlen, j->msg, j->msgsize);
	free(old);
	if (rc != 0) {
		j->refused = MIRROR_JUDGE_CHECK;
		return MIRROR_EREFUSED;
	}
	return 0;
}

/*
 * The upstream's release, signed by a key of scope "*" in the keyring,
 * not expired and not older than the highest taken from that key: else
 * refused.  Taken, it is recorded in the revision's commit.  A release by
 * a key the keyring lacks tells nothing that can be checked: said, and
 * not recorded.
 */
static int
judge_release(struct mirror_judge *j, struct mirror_chain_vouch *v,
    const struct keys_ring *ring)
{
	struct keys_sig_verdict vd;
	char hex[KEYS_KEYID_HEXLEN + 1], was[KEYS_KEYID_HEXLEN + 1];
	int rc;

	rc = release_verdict(v, ring, &vd);
	keys_keyid_hex(vd.vd_keyid, hex);
	if (j->known && memcmp(vd.vd_keyid, j->publisher, 8) != 0) {
		keys_keyid_hex(j->publisher, was);
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: refused: its "
		    "release is signed by key %s, its releases taken before "
		    "by key %s", v->upstream, hex, was);
	}
	if (rc != 0 && vd.vd_verdict == KEYS_V_UNKNOWN_KEY) {
		judge_say(j, "%s: its release is signed by key %s, which this "
		    "store does not trust: not checked for rollback",
		    v->upstream, hex);
		return 0;
	}
	if (rc != 0)
		return judge_fail(j, MIRROR_JUDGE_CHECK, "%s: refused: its "
		    "release does not hold: %s (key %s)", v->upstream,
		    vd.vd_verdict == KEYS_V_OUT_OF_SCOPE ? "the key's scope "
		    "does not cover publishing (it needs \"*\")" :
		    keys_verdict_name(vd.vd_verdict), hex);
	if ((rc = release_holds(j, v, vd.vd_keyid)) != 0)
		return rc;
	j->upstream = v->upstream;
	j->doc = v->release;
	j->len = v->release_len;
	v->kv = judge_commit;
	v->kv_arg = j;
	return 0;
}

int
mirror_judge(void *arg, struct mirror_chain_vouch *v)
{
	struct mirror_judge *j = arg;
	struct keys_ring ring = { 0 };
	char was[KEYS_KEYID_HEXLEN + 1];
	int rc;

	/* What an earlier pull by this judge left (pull --lock's). */
	keys_release_free(j->rel);
	j->rel = NULL;
	j->known = j->refused = 0;
	if (j->msgsize > 0)
		j->msg[0] = '\0';
	if (keys_init() != 0)
		return judge_fail(j, MIRROR_JUDGE_FAILED, "libsodium failed "
		    "to start");
	if (store_kv_each(j->st, STORE_TRUST, keys_ring_add, &ring) != 0) {
		free(ring.v);
		return judge_fail(j, MIRROR_JUDGE_FAILED, "the keyring cannot "
		    "be read");
	}
	if ((rc = publisher_get(j, v->upstream)) == 0 &&
	    (rc = judge_sigs(j, v, &ring)) == 0) {
		if (v->release != NULL)
			rc = judge_release(j, v, &ring);
		else if (j->known) {
			keys_keyid_hex(j->publisher, was);
			rc = judge_fail(j, MIRROR_JUDGE_CHECK, "%s: refused: it "
			    "publishes no release, and this store took releases "
			    "by key %s from it (a rollback that hides the "
			    "release?)", v->upstream, was);
		}
	}
	free(ring.v);
	return rc;
}
