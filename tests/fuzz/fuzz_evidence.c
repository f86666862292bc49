/*
 * Fuzz target: every reader of a revision's evidence at once.  The input
 * is given as README.md (front matter and the body's base), as
 * adapter_config.json, config.json, LICENSE, NOTICE, a .gguf file and a
 * mergekit recipe of one revision, which is then concluded with no base
 * held.  The licence table is a small one built in.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char table_json[] =
    "{\"format\":\"airlock.licences/v1\",\"licences\":["
    "{\"id\":\"llama3.1\",\"name\":\"Llama 3.1\",\"source\":\"https://a\","
    "\"flows_down\":true,\"licence_copy\":true,\"name_prefix\":\"Llama\","
    "\"notice\":\"Llama 3.1 is licensed\",\"titles\":[\"Llama 3.1\"]},"
    "{\"id\":\"other\",\"name\":\"Other\",\"source\":\"https://b\"},"
    "{\"id\":\"unknown\",\"name\":\"Unknown\",\"source\":\"https://c\"}]}";

static int
not_held(void *arg, const char *repo, struct policy_evidence **out)
{
	(void)arg;
	(void)repo;
	*out = NULL;
	return POLICY_ENOTFOUND;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static const char *const paths[] = {
		"README.md", "adapter_config.json", "config.json", "LICENSE",
		"NOTICE", "model.gguf", "mergekit_config.yml",
	};
	static struct policy_table *t;
	struct policy_evidence *ev;
	struct policy_lineage *lin;
	json_t *out;

	if (t == NULL && policy_table_parse(table_json, strlen(table_json),
	    &t) != 0)
		__builtin_trap();
	if (policy_evidence_new(t, "fuzz/model", NULL, &ev) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		policy_evidence_file(ev, paths[i], len, NULL, data, len);
	json_decref(policy_evidence_json(ev));
	if ((out = json_pack("{s:s}", "license", "other")) != NULL) {
		policy_evidence_history(ev, "earlier", out);
		json_decref(out);
	}
	if (policy_lineage_build(t, ev, not_held, NULL, &lin) != 0)
		return 0;
	if (policy_conclude(t, lin, &out) == 0) {
		if (!json_is_string(json_object_get(out, "concluded")))
			__builtin_trap();	/* always a conclusion */
		json_decref(out);
	}
	policy_lineage_free(lin);
	return 0;
}
