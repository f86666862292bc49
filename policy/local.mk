# policy/: licence and provenance (libpolicy.a, one public header), and
# the licence table it reads, installed as data.
noinst_LIBRARIES += policy/libpolicy.a
policy_libpolicy_a_SOURCES = policy/policy.h policy/internal.h \
	policy/error.c policy/text.c policy/table.c policy/gguf.c \
	policy/recipe.c policy/evidence.c policy/lineage.c policy/conclude.c \
	policy/rules.c policy/stored.c
policy_libpolicy_a_CPPFLAGS = $(AM_CPPFLAGS) \
	-DPOLICY_LICENCES_FILE='"$(pkgdatadir)/licences.json"'
policy_libpolicy_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
POLICY_LIBS = policy/libpolicy.a

dist_pkgdata_DATA = policy/licences.json
AM_TESTS_ENVIRONMENT += AIRLOCK_LICENCES='$(abs_top_srcdir)/policy/licences.json'; export AIRLOCK_LICENCES;

# Unit tests: the table, the readers and the corpus, without a store.
check_PROGRAMS += tests/unit/test_policy
TESTS += tests/unit/test_policy
tests_unit_test_policy_SOURCES = tests/unit/test_policy.c tests/unit/tap_main.h
tests_unit_test_policy_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_policy_LDADD = $(POLICY_LIBS) $(STORE_LIBS) $(CMOCKA_LIBS)
EXTRA_DIST += tests/policy

# Fuzz targets: the licence table, GGUF metadata, mergekit and policy
# file readers, and every evidence reader of a revision at once.
check_PROGRAMS += tests/fuzz/fuzz_licences tests/fuzz/fuzz_gguf \
	tests/fuzz/fuzz_recipe tests/fuzz/fuzz_policy tests/fuzz/fuzz_evidence
FUZZ_TARGETS += tests/fuzz/fuzz_licences tests/fuzz/fuzz_gguf \
	tests/fuzz/fuzz_recipe tests/fuzz/fuzz_policy tests/fuzz/fuzz_evidence
tests_fuzz_fuzz_licences_SOURCES = tests/fuzz/fuzz_licences.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_licences_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_licences_LDADD = $(POLICY_LIBS) $(STORE_LIBS)
tests_fuzz_fuzz_licences_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_gguf_SOURCES = tests/fuzz/fuzz_gguf.c tests/fuzz/replay.c
tests_fuzz_fuzz_gguf_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_gguf_LDADD = $(POLICY_LIBS) $(STORE_LIBS)
tests_fuzz_fuzz_gguf_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_recipe_SOURCES = tests/fuzz/fuzz_recipe.c tests/fuzz/replay.c
tests_fuzz_fuzz_recipe_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_recipe_LDADD = $(POLICY_LIBS) $(STORE_LIBS)
tests_fuzz_fuzz_recipe_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_policy_SOURCES = tests/fuzz/fuzz_policy.c tests/fuzz/replay.c
tests_fuzz_fuzz_policy_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_policy_LDADD = $(POLICY_LIBS) $(STORE_LIBS)
tests_fuzz_fuzz_policy_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_evidence_SOURCES = tests/fuzz/fuzz_evidence.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_evidence_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_evidence_LDADD = $(POLICY_LIBS) $(STORE_LIBS)
tests_fuzz_fuzz_evidence_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
