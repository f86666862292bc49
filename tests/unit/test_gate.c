/*
 * test_gate.c - gate/ where it meets a store: the policy kept as a
 * setting (none, set, damaged), a review's statement as in-toto spells it
 * (its fields read back with jansson, not the gate's reader) and every
 * way a statement can lie, the verdict with trusted and untrusted
 * reviews, and the conclusion of files not stored yet.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "gate/gate.h"
#include "lib/bounds.h"
#include "policy/policy.h"
#include "store/store.h"
#include "tests/unit/tap_main.h"

static struct policy_table *table;

#define REPO	"acme/Llama-ft"
#define DIGEST	"0123456789abcdef0123456789abcdef" \
		"0123456789abcdef0123456789abcdef"

static int
load_table(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];

	(void)state;
	snprintf(path, sizeof(path), "%s/policy/licences.json",
	    top != NULL ? top : ".");
	if (policy_table_load(path, &table) != 0) {
		fprintf(stderr, "%s\n", policy_lasterror());
		return -1;
	}
	return 0;
}

static int
free_table(void **state)
{
	(void)state;
	policy_table_free(table);
	return 0;
}

struct fixture {
	char		 dir[64];
	struct store	*st;
};

static int
store_up(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_gate.XXXXXX");
	if (mkdtemp(f->dir) == NULL ||
	    store_open(f->dir, STORE_CREATE, &f->st) != 0)
		return -1;
	*state = f;
	return 0;
}

static int
store_down(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	store_close(f->st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static struct policy_rules *
rules(const char *text)
{
	struct policy_rules *r;

	if (policy_rules_parse(table, text, strlen(text), &r) != 0)
		fail_msg("%s: %s", text, policy_lasterror());
	return r;
}

/* --- the policy setting ------------------------------------------------------ */

static void
policy_setting_round_trip(void **state)
{
	struct fixture *f = *state;
	struct policy_rules *r, *got;

	/* None set: nothing to judge, and no rules. */
	assert_int_equal(gate_policy_set(f->st), 0);
	got = (struct policy_rules *)1;
	assert_int_equal(gate_rules_get(f->st, table, &got), 0);
	assert_null(got);

	r = rules("deny: [cc-by-nc-4.0]\nrefuse_flags: [declared-differs]\n"
	    "min_signatures: 2\n");
	assert_int_equal(gate_rules_set(f->st, r), 0);
	assert_int_equal(gate_policy_set(f->st), 1);
	assert_int_equal(gate_rules_get(f->st, table, &got), 0);
	assert_non_null(got);
	assert_true(json_equal(policy_rules_json(r), policy_rules_json(got)));
	policy_rules_free(got);
	policy_rules_free(r);
}

static void
damaged_policy_never_passes(void **state)
{
	static const char *const damaged[] = {
		"{\"deny\": [\"llama3.9\"]}",	/* an id the table lacks */
		"{\"deny\": ",			/* cut short */
		"{\"alow\": []}",		/* a key the gate cannot mean */
	};
	struct fixture *f = *state;
	struct policy_rules *got;

	for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++) {
		assert_int_equal(store_kv_put(f->st, STORE_SETTING,
		    GATE_SETTING, strlen(GATE_SETTING), damaged[i],
		    strlen(damaged[i])), 0);
		got = (struct policy_rules *)1;
		assert_int_equal(gate_rules_get(f->st, table, &got),
		    POLICY_EINVAL);
		assert_null(got);
		if (strstr(gate_lasterror(), "the store's policy") == NULL)
			fail_msg("%s: \"%s\" does not name the store's policy",
			    damaged[i], gate_lasterror());
		/* Still "set": the gate does not fall open. */
		assert_int_equal(gate_policy_set(f->st), 1);
	}
}

/* --- reviews ------------------------------------------------------------------- */

static void
statement_is_in_toto(void **state)
{
	json_error_t e;
	json_t *doc, *sub, *pred;
	char *s;

	(void)state;
	assert_int_equal(gate_review_statement(REPO, DIGEST, "llama3.1",
	    "read the licence", 1700000000, &s), 0);
	/* Read with jansson, field by field, as a verifier would. */
	doc = json_loads(s, JSON_REJECT_DUPLICATES, &e);
	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "_type")),
	    "https://in-toto.io/Statement/v1");
	assert_string_equal(json_string_value(json_object_get(doc,
	    "predicateType")), "https://airlock.dev/review/v1");
	assert_int_equal(json_array_size(json_object_get(doc, "subject")), 1);
	sub = json_array_get(json_object_get(doc, "subject"), 0);
	assert_string_equal(json_string_value(json_object_get(sub, "name")),
	    REPO);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    sub, "digest"), "sha256")), DIGEST);
	pred = json_object_get(doc, "predicate");
	assert_string_equal(json_string_value(json_object_get(pred,
	    "licence")), "llama3.1");
	assert_string_equal(json_string_value(json_object_get(pred, "note")),
	    "read the licence");
	assert_int_equal(json_integer_value(json_object_get(pred, "time")),
	    1700000000);
	/* One line, ASCII: it lives in a minisign trusted comment. */
	assert_null(strchr(s, '\n'));
	for (const char *p = s; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	json_decref(doc);
	free(s);
}

static void
statement_reads_back(void **state)
{
	struct gate_review r;
	char *s;

	(void)state;
	assert_int_equal(gate_review_statement(REPO, DIGEST, "llama3.1",
	    NULL, 42, &s), 0);
	assert_int_equal(gate_review_parse(s, strlen(s), REPO, DIGEST, &r), 0);
	assert_string_equal(r.licence, "llama3.1");
	assert_string_equal(r.note, "");
	assert_int_equal(r.time, 42);
	free(s);
}

static void
statements_that_lie_are_refused(void **state)
{
	static char longnote[BOUND_NOTE + 64];
	static const struct {
		const char *json, *says;
	} bad[] = {
		{ "{\"_type\":\"https://in-toto.io/Statement/v0.1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}}],\"predicate\":{\"licence\":\"mit\","
		  "\"time\":1}}", "_type" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://slsa.dev/provenance/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}}],\"predicate\":{\"licence\":\"mit\","
		  "\"time\":1}}", "predicateType" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"acme/other\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}}],\"predicate\":{\"licence\":\"mit\","
		  "\"time\":1}}", "the subject is not " REPO },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"ff" DIGEST "\"}}],\"predicate\":{\"licence\":\"mit\","
		  "\"time\":1}}", "digest" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}},{\"name\":\"acme/other\",\"digest\":"
		  "{\"sha256\":\"" DIGEST "\"}}],\"predicate\":{\"licence\":"
		  "\"mit\",\"time\":1}}", "a list of one" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}}],\"predicate\":{\"time\":1}}",
		  "predicate.licence" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"predicateType\":\"https://airlock.dev/review/v1\","
		  "\"subject\":[{\"name\":\"" REPO "\",\"digest\":{\"sha256\":"
		  "\"" DIGEST "\"}}],\"predicate\":{\"licence\":\"mit\","
		  "\"time\":-5}}", "predicate.time" },
		{ "{\"_type\":\"https://in-toto.io/Statement/v1\","
		  "\"_type\":\"https://in-toto.io/Statement/v1\"}",
		  "not JSON" },			/* a duplicate key */
		{ "[1, 2]", "_type" },
	};
	struct gate_review r;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(gate_review_parse(bad[i].json,
		    strlen(bad[i].json), REPO, DIGEST, &r), POLICY_EINVAL);
		if (strstr(gate_lasterror(), bad[i].says) == NULL)
			fail_msg("%s: \"%s\" does not say %s", bad[i].json,
			    gate_lasterror(), bad[i].says);
	}
	/* A note over the bound. */
	memset(longnote, 'x', BOUND_NOTE + 1);
	assert_int_equal(gate_review_statement(REPO, DIGEST, "mit", longnote,
	    1, &s), 0);
	assert_int_equal(gate_review_parse(s, strlen(s), REPO, DIGEST, &r),
	    POLICY_EINVAL);
	assert_non_null(strstr(gate_lasterror(), "predicate.note"));
	free(s);
}

/* --- the verdict ------------------------------------------------------------------- */

/* A conclusion as policy_conclude shapes it: concluded, flags. */
static json_t *
conclusion(const char *concluded, const char *flag)
{
	json_t *c = json_pack("{s:s,s:s,s:[]}", "declared", "mit",
	    "concluded", concluded, "flags");

	if (flag != NULL)
		json_array_append_new(json_object_get(c, "flags"),
		    json_pack("{s:s,s:s}", "flag", flag, "detail",
		    "declared mit, concluded llama3.1"));
	return c;
}

static json_t *
review(const char *licence, int trusted)
{
	return json_pack("[{s:s,s:s,s:s,s:b}]", "licence", licence, "name",
	    "alice", "keyid", "0123456789ABCDEF", "trusted", trusted);
}

static void
verdict_weighs_trusted_reviews_only(void **state)
{
	struct policy_rules *r = rules("refuse_flags: [declared-differs]\n"
	    "deny: [cc-by-nc-4.0]\n");
	json_t *c = conclusion("llama3.1", "declared-differs");
	json_t *untrusted = review("llama3.1", 0), *trusted = review("llama3.1",
	    1), *denied = review("cc-by-nc-4.0", 1);
	char why[512];

	(void)state;
	assert_int_equal(gate_judge(r, c, NULL, GATE_NO_SIGNATURES, why,
	    sizeof(why)), POLICY_EDENIED);
	assert_non_null(strstr(why, "declared-differs"));
	/* A review nobody trusts says nothing. */
	assert_int_equal(gate_judge(r, c, untrusted, GATE_NO_SIGNATURES, why,
	    sizeof(why)), POLICY_EDENIED);
	assert_non_null(strstr(why, "declared-differs"));
	/* A trusted one weighed the flags: its licence is judged. */
	assert_int_equal(gate_judge(r, c, trusted, GATE_NO_SIGNATURES, why,
	    sizeof(why)), 0);
	assert_non_null(strstr(why, "reviewed as llama3.1 by alice"));
	assert_int_equal(gate_judge(r, c, denied, GATE_NO_SIGNATURES, why,
	    sizeof(why)), POLICY_EDENIED);
	assert_non_null(strstr(why, "reviewed as cc-by-nc-4.0"));
	assert_non_null(strstr(why, "cc-by-nc-4.0 is denied"));
	/* The conclusion itself is left as it was. */
	assert_int_equal(json_array_size(json_object_get(c, "flags")), 1);
	assert_string_equal(json_string_value(json_object_get(c, "concluded")),
	    "llama3.1");
	json_decref(c);
	json_decref(untrusted);
	json_decref(trusted);
	json_decref(denied);
	policy_rules_free(r);
}

static void
verdict_counts_signatures_where_there_are_some(void **state)
{
	struct policy_rules *r = rules("min_signatures: 2\n");
	json_t *c = conclusion("mit", NULL);
	char why[512];

	(void)state;
	/* add and pull: none yet to count. */
	assert_int_equal(gate_judge(r, c, NULL, GATE_NO_SIGNATURES, why,
	    sizeof(why)), 0);
	assert_int_equal(gate_judge(r, c, NULL, 1, why, sizeof(why)),
	    POLICY_EDENIED);
	assert_non_null(strstr(why, "1 trusted signatures"));
	assert_int_equal(gate_judge(r, c, NULL, 2, why, sizeof(why)), 0);
	json_decref(c);
	policy_rules_free(r);
}

/* --- the conclusion of files not stored yet ------------------------------------- */

static void
files_conclude_through_a_missing_base(void **state)
{
	static const char card[] = "---\nlicense: mit\nbase_model: "
	    "meta-llama/Llama-3.1-8B\n---\n# a fine-tune\n";
	struct fixture *f = *state;
	struct policy_input_file file = { .path = "README.md",
	    .size = sizeof(card) - 1, .buf = card, .len = sizeof(card) - 1 };
	json_t *c;

	assert_int_equal(gate_conclude_files(f->st, table, REPO, NULL, &file,
	    1, &c), 0);
	assert_string_equal(json_string_value(json_object_get(c, "declared")),
	    "mit");
	/* The store holds no base: the chain ends there, said so. */
	assert_non_null(strstr(json_string_value(json_object_get(c,
	    "concluded")), "unknown beyond meta-llama/Llama-3.1-8B"));
	json_decref(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(policy_setting_round_trip,
		    store_up, store_down),
		cmocka_unit_test_setup_teardown(damaged_policy_never_passes,
		    store_up, store_down),
		cmocka_unit_test(statement_is_in_toto),
		cmocka_unit_test(statement_reads_back),
		cmocka_unit_test(statements_that_lie_are_refused),
		cmocka_unit_test(verdict_weighs_trusted_reviews_only),
		cmocka_unit_test(verdict_counts_signatures_where_there_are_some),
		cmocka_unit_test_setup_teardown(
		    files_conclude_through_a_missing_base, store_up,
		    store_down),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, load_table, free_table);
}
