/*
 * licence.c - policy/ over the store, for licence, show and ls: the
 * evidence of a stored revision, its bases resolved among the store's
 * revisions, the repo's other revisions as history, and the conclusion
 * printed for people.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/bounds.h"
#include "gate/gate.h"
#include "keys/keys.h"
#include "policy/policy.h"

int
licence_table(struct policy_table **t)
{
	int rc;

	if ((rc = policy_table_load(NULL, t)) != 0)
		return cli_fail(EXIT_USAGE, "%s", policy_lasterror());
	return 0;
}

int
licence_conclude(struct store *st, struct policy_table *t,
    const struct store_manifest *m, json_t **out)
{
	struct keys_trust *ring = NULL;
	json_t *reviews = NULL;
	unsigned ntrusted;
	size_t nring = 0;
	int rc;

	if ((rc = policy_store_conclude(st, t, m, NULL, NULL, out)) != 0)
		return rc;
	/* The reviews signed for it, as the keyring judges them. */
	if ((rc = gate_ring(st, &ring, &nring)) == 0 &&
	    (rc = gate_reviews(st, ring, nring, m, &reviews, &ntrusted)) == 0)
		json_object_set_new(*out, "reviews", reviews);
	free(ring);
	if (rc != 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

static void
reviews_print(json_t *c, int width)
{
	json_t *v;
	size_t i;

	json_array_foreach(json_object_get(c, "reviews"), i, v) {
		const char *note = json_string_value(json_object_get(v, "note"));

		printf("%-*s %s by %s (%s, %s)%s%s\n", width, i == 0 ? "reviews" :
		    "", json_string_value(json_object_get(v, "licence")),
		    json_string_value(json_object_get(v, "name"))[0] != '\0' ?
		    json_string_value(json_object_get(v, "name")) : "?",
		    json_string_value(json_object_get(v, "keyid")),
		    json_string_value(json_object_get(v, "verdict")),
		    note != NULL && *note != '\0' ? ": " : "",
		    note != NULL ? note : "");
	}
}

static const char *
str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The datasets the card claims, held or not, with their licence. */
static void
print_datasets(json_t *c, int width)
{
	json_t *d;
	size_t i;

	json_array_foreach(json_object_get(c, "datasets"), i, d) {
		printf("%-*s %s  ", width, i == 0 ? "datasets" : "",
		    str(d, "repo"));
		if (!json_is_true(json_object_get(d, "held")))
			printf("not held\n");
		else
			printf("held  %s\n", str(d, "licence") != NULL ?
			    str(d, "licence") : "(none declared)");
	}
}

void
licence_print_summary(json_t *c)
{
	json_t *f;
	size_t i;

	printf("%-9s %s\n", "concluded", str(c, "concluded"));
	json_array_foreach(json_object_get(c, "flags"), i, f)
		printf("%-9s %s: %s\n", i == 0 ? "flags" : "", str(f, "flag"),
		    str(f, "detail"));
	print_datasets(c, 9);
	reviews_print(c, 9);
}

void
licence_print(json_t *c)
{
	json_t *v, *m;
	const char *s;
	size_t i;

	printf("model %s@%s\n", str(c, "repo"), str(c, "commit") != NULL ?
	    str(c, "commit") : "?");
	s = str(c, "declared");
	printf("%-11s %s", "declared", s != NULL ? s : "(none)");
	if (str(c, "declared_source") != NULL)
		printf(" (%s)", str(c, "declared_source"));
	printf("\n%-11s %s\n", "concluded", str(c, "concluded"));
	json_array_foreach(json_object_get(c, "chain"), i, v) {
		json_int_t depth = json_integer_value(json_object_get(v,
		    "depth"));

		printf("%-11s %*s%s", i == 0 ? "lineage" : "", (int)depth * 2,
		    "", str(v, "repo"));
		if (!json_is_true(json_object_get(v, "held")))
			printf("  not held");
		else {
			if (str(v, "commit") != NULL)
				printf("@%.12s", str(v, "commit"));
			printf("  %s", str(v, "declared") != NULL ?
			    str(v, "declared") : "(none declared)");
		}
		if (str(v, "relation") != NULL)
			printf("  (a %s)", str(v, "relation"));
		if (str(v, "source") != NULL)
			printf("  [named in %s's %s]", str(v, "base_of"),
			    str(v, "source"));
		printf("\n");
	}
	json_array_foreach(json_object_get(c, "licence_files"), i, v)
		printf("%-11s %s sha256:%s%s%s\n", i == 0 ? "files" : "",
		    str(v, "path"), str(v, "sha256") != NULL ? str(v, "sha256") :
		    "?", str(v, "fingerprint_of") != NULL ? "  text of " : "",
		    str(v, "fingerprint_of") != NULL ?
		    str(v, "fingerprint_of") : "");
	json_array_foreach(json_object_get(c, "flags"), i, v)
		printf("%-11s %s: %s\n", i == 0 ? "flags" : "", str(v, "flag"),
		    str(v, "detail"));
	if (json_array_size(json_object_get(c, "flags")) == 0)
		printf("%-11s %s\n", "flags", "(none)");
	json_array_foreach(json_object_get(c, "obligations"), i, v)
		printf("%-11s %s%s%s%s: %s\n", i == 0 ? "obligations" : "",
		    str(v, "obligation"), str(v, "licence") != NULL ? " (" : "",
		    str(v, "licence") != NULL ? str(v, "licence") : "",
		    str(v, "licence") != NULL ? ")" : "", str(v, "text"));
	print_datasets(c, 11);
	json_array_foreach(json_object_get(c, "notes"), i, m)
		printf("%-11s %s\n", i == 0 ? "notes" : "", json_string_value(m));
	reviews_print(c, 11);
}
