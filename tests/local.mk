# Tests: cmocka unit tests and shell integration tests, both speaking TAP,
# and fuzz targets whose corpora every build replays.
#
# A fuzz target is tests/fuzz/fuzz_NAME.c with LLVMFuzzerTestOneInput and a
# corpus in tests/fuzz/corpus/NAME/.  Without --enable-fuzzing it is linked
# with replay.c, a main() that feeds it each file named on the command line;
# with it, libFuzzer's main() does the same and can also fuzz.

TESTS += tests/fuzz/corpora.sh
EXTRA_DIST += tests/fuzz/corpus tests/fuzz/corpora.sh tests/lib/tap.sh
AM_TESTS_ENVIRONMENT += FUZZ_TARGETS='$(FUZZ_TARGETS)'; export FUZZ_TARGETS;

# Integration tests: the real CLI (and daemon) over real stores.
TESTS += tests/integration/store_cli.sh tests/integration/corrupt.sh \
	tests/integration/bundle.sh tests/integration/bundle_crash.sh \
	tests/integration/crash.sh tests/integration/store_env.sh
EXTRA_DIST += tests/integration/store_cli.sh tests/integration/corrupt.sh \
	tests/integration/bundle.sh tests/integration/bundle_crash.sh \
	tests/integration/crash.sh tests/integration/store_env.sh \
	tests/lib/mkmodel.sh
