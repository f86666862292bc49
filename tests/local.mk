# Tests: cmocka unit tests and shell integration tests, both speaking TAP,
# and fuzz targets whose corpora every build replays.
#
# A fuzz target is tests/fuzz/fuzz_NAME.c with LLVMFuzzerTestOneInput and a
# corpus in tests/fuzz/corpus/NAME/.  Without --enable-fuzzing it is linked
# with replay.c, a main() that feeds it each file named on the command line;
# with it, libFuzzer's main() does the same and can also fuzz.

TESTS += tests/fuzz/corpora.sh
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/corpora.sh tests/fuzz/oracle.h tests/lib/tap.sh \
	tests/unit/chunker_cuts.txt
AM_TESTS_ENVIRONMENT += FUZZ_TARGETS='$(FUZZ_TARGETS)'; export FUZZ_TARGETS;

# Integration tests: the real CLI (and daemon) over real stores.  One a
# line, so that two new tests never touch the same line.
INTEGRATION_TESTS = tests/integration/store_cli.sh
INTEGRATION_TESTS += tests/integration/corrupt.sh
INTEGRATION_TESTS += tests/integration/bundle.sh
INTEGRATION_TESTS += tests/integration/bundle_crash.sh
INTEGRATION_TESTS += tests/integration/crash.sh
INTEGRATION_TESTS += tests/integration/crash_points.sh
INTEGRATION_TESTS += tests/integration/store_env.sh
INTEGRATION_TESTS += tests/integration/daemon_remap.sh
INTEGRATION_TESTS += tests/integration/refs.sh
INTEGRATION_TESTS += tests/integration/anchors.sh
INTEGRATION_TESTS += tests/integration/pull.sh
INTEGRATION_TESTS += tests/integration/pull_chain.sh
INTEGRATION_TESTS += tests/integration/pull_faults.sh
INTEGRATION_TESTS += tests/integration/pull_hub.sh
INTEGRATION_TESTS += tests/integration/pull_lineage.sh
INTEGRATION_TESTS += tests/integration/pull_resume.sh
INTEGRATION_TESTS += tests/integration/documented.sh
INTEGRATION_TESTS += tests/integration/synopsis.sh
INTEGRATION_TESTS += tests/integration/bundle_dataset.sh
INTEGRATION_TESTS += tests/integration/licence.sh
INTEGRATION_TESTS += tests/integration/retention.sh
INTEGRATION_TESTS += tests/integration/deploy.sh
INTEGRATION_TESTS += tests/integration/gate.sh
INTEGRATION_TESTS += tests/integration/review.sh
INTEGRATION_TESTS += tests/integration/bom.sh
INTEGRATION_TESTS += tests/integration/cache_tier.sh
INTEGRATION_TESTS += tests/integration/daemon_workers.sh
INTEGRATION_TESTS += tests/integration/daemon_mirror_hub.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) tests/lib/mkmodel.sh tests/lib/mkgguf.py \
	tests/lib/synopsis.awk \
	tests/lib/flipproxy.py tests/lib/fakehub.py tests/lib/fakehub.sh \
	tests/lib/slowread.py
EXTRA_DIST += tests/integration/hfcache.mjs
EXTRA_DIST += tests/integration/bom_validate.cjs

# airlock-crashtest: the airlock command built from the same sources with
# the crash points of lib/crash.h compiled in, for the crash tests only;
# the installed airlock never has them.
check_PROGRAMS += airlock-crashtest
airlock_crashtest_SOURCES = $(airlock_SOURCES) $(store_libstore_a_SOURCES) \
	lib/crash.h
airlock_crashtest_CPPFLAGS = $(AM_CPPFLAGS) -DAIRLOCK_CRASH_POINTS
airlock_crashtest_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) \
	$(LMDB_CFLAGS) $(CRYPTO_CFLAGS) $(YAML_CFLAGS) $(ARCHIVE_CFLAGS) \
	$(EVENT_CFLAGS) $(CURL_CFLAGS)
airlock_crashtest_LDADD = $(MIRROR_LIBS) $(GATE_LIBS) $(POLICY_LIBS) $(KEYS_LIBS) $(LMDB_LIBS) $(CRYPTO_LIBS) \
	$(JANSSON_LIBS) $(YAML_LIBS) $(ARCHIVE_LIBS) -lm
AM_TESTS_ENVIRONMENT += AIRLOCK_CRASHTEST='$(abs_top_builddir)/airlock-crashtest'; export AIRLOCK_CRASHTEST;
