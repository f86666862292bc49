/*
 * Fuzz target: the gate's policy file reader (policy_rules_parse), and
 * policy_gate over what it accepts.  The licence table is a small one
 * built in, so that the target needs no file.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char table_json[] =
    "{\"format\":\"airlock.licences/v1\",\"licences\":["
    "{\"id\":\"llama3.1\",\"name\":\"Llama 3.1\",\"source\":\"https://a\","
    "\"aliases\":[\"llama-3.1\"],\"flows_down\":true},"
    "{\"id\":\"apache-2.0\",\"name\":\"Apache\",\"source\":\"https://b\","
    "\"aliases\":[\"apache 2.0\"]},"
    "{\"id\":\"cc-by-nc-4.0\",\"name\":\"CC BY-NC\",\"source\":\"https://c\","
    "\"non_commercial\":true}]}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct policy_table *t;
	struct policy_rules *r;
	json_t *c;
	char why[256];

	if (t == NULL && policy_table_parse(table_json, strlen(table_json),
	    &t) != 0)
		__builtin_trap();
	if (policy_rules_parse(t, data, len, &r) != 0)
		return 0;
	c = json_pack("{s:s,s:[{s:s,s:s}]}", "concluded", "apache-2.0 AND "
	    "llama3.1 AND unknown beyond a/b", "flags", "flag",
	    "declared-differs", "detail", "d");
	(void)policy_gate(r, c, 1, why, sizeof(why));
	if (memchr(why, 0, sizeof(why)) == NULL)
		__builtin_trap();	/* the reason is always a string */
	json_decref(c);
	policy_rules_free(r);
	return 0;
}
