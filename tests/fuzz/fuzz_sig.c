/*
 * Signature files, and everything that reads a parsed signature: the
 * verifier, the trusted-comment fields and the policy evaluation.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The public key that signed the seed corpus's airlock signatures. */
static const char corpus_pub[] =
    "RWS5HXCxn64uUq2G8RqLGXqu2GLsetg8w4qmslSv4Mga3a4anSgCarb+";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct keys_trust ring[1];
	static int ready;
	struct keys_sig_verdict v;
	struct keys_subject su;
	struct keys_sig *sig;
	const char *text = (const char *)data;
	char buf[256];

	if (!ready) {
		struct keys_pub pub;

		if (keys_init() != 0 || keys_pub_parse(corpus_pub,
		    strlen(corpus_pub), &pub) != 0 ||
		    keys_trust_init(&ring[0], &pub, "fuzz", "*", 0) != 0)
			abort();
		ready = 1;
	}
	if (keys_sig_parse(text, size, &sig) == 0) {
		(void)keys_sig_verify(&ring[0].kt_pub, sig, data, size, 0);
		(void)keys_sig_verify(&ring[0].kt_pub, sig, "airlock", 7,
		    KEYS_VERIFY_LEGACY);
		(void)keys_tc_kind(sig->ks_trusted_comment, buf, sizeof(buf));
		(void)keys_tc_get(sig->ks_trusted_comment, "digest", buf,
		    sizeof(buf));
		keys_sig_free(sig);
	}
	memset(&su, 0, sizeof(su));
	su.su_kind = KEYS_TC_MANIFEST;
	su.su_repo = "google/gemma-2-2b";
	su.su_digest = "sha256:0";
	su.su_msg = "airlock";
	su.su_len = 7;
	(void)keys_policy_eval(ring, 1, 1, &su, &text, &size, 1, &v, NULL);
	return 0;
}
