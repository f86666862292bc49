# cli/: the airlock command, one file per command.
bin_PROGRAMS += airlock
airlock_SOURCES = cli/cli.h cli/trust.h cli/main.c cli/util.c cli/revision.c \
	cli/progress.c cli/passphrase.c cli/signing.c cli/trust.c \
	cli/cmd_init.c cli/cmd_add.c cli/cmd_ls.c cli/cmd_show.c \
	cli/cmd_cat.c cli/cmd_checkout.c cli/cmd_verify.c cli/cmd_pin.c \
	cli/cmd_gc.c cli/cmd_stats.c
airlock_SOURCES += cli/cmd_key.c cli/cmd_trust.c cli/cmd_sign.c \
	cli/cmd_manifest.c cli/cmd_export.c cli/cmd_import.c cli/hfcache.c
airlock_SOURCES += cli/cmd_pull.c cli/release.c cli/pull_bases.c
airlock_SOURCES += cli/licence.c cli/cmd_licence.c cli/cmd_policy.c cli/cmd_review.c
airlock_SOURCES += cli/cmd_tag.c cli/cmd_rm.c cli/cmd_lock.c cli/lockfile.h \
	cli/lockfile.c cli/deploy.h cli/deploy.c cli/checkout_hf.c
airlock_SOURCES += cli/bom.h cli/bom.c cli/bom_cyclonedx.c cli/bom_spdx.c \
	cli/cmd_bom.c
airlock_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS) \
	$(EVENT_CFLAGS) $(CURL_CFLAGS) $(CRYPTO_CFLAGS)
airlock_LDADD = $(MIRROR_LIBS) $(GATE_LIBS) $(POLICY_LIBS) $(STORE_LIBS) $(KEYS_LIBS)

TESTS += tests/integration/keys.sh
EXTRA_DIST += tests/integration/keys.sh

# The HF cache reader's fuzz target: the command's files but main.c.
check_PROGRAMS += tests/fuzz/fuzz_hfcache
FUZZ_TARGETS += tests/fuzz/fuzz_hfcache
tests_fuzz_fuzz_hfcache_SOURCES = tests/fuzz/fuzz_hfcache.c \
	tests/fuzz/replay.c cli/cli.h cli/trust.h cli/util.c cli/revision.c \
	cli/progress.c \
	cli/passphrase.c cli/signing.c cli/trust.c cli/cmd_init.c \
	cli/cmd_add.c cli/cmd_ls.c cli/cmd_show.c cli/cmd_cat.c \
	cli/cmd_checkout.c cli/cmd_verify.c cli/cmd_pin.c cli/cmd_gc.c \
	cli/cmd_stats.c cli/cmd_key.c cli/cmd_trust.c cli/cmd_sign.c \
	cli/cmd_manifest.c cli/cmd_export.c cli/cmd_import.c cli/hfcache.c \
	cli/release.c cli/licence.c cli/lockfile.c cli/deploy.c \
	cli/checkout_hf.c cli/cmd_policy.c
tests_fuzz_fuzz_hfcache_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_hfcache_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
tests_fuzz_fuzz_hfcache_LDADD = $(GATE_LIBS) $(POLICY_LIBS) $(STORE_LIBS) $(KEYS_LIBS)
tests_fuzz_fuzz_hfcache_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)

# The lockfile reader's fuzz target.
check_PROGRAMS += tests/fuzz/fuzz_lockfile
FUZZ_TARGETS += tests/fuzz/fuzz_lockfile
tests_fuzz_fuzz_lockfile_SOURCES = tests/fuzz/fuzz_lockfile.c \
	tests/fuzz/replay.c cli/lockfile.h cli/lockfile.c
tests_fuzz_fuzz_lockfile_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) \
	$(SODIUM_CFLAGS)
tests_fuzz_fuzz_lockfile_LDADD = $(STORE_LIBS) $(KEYS_LIBS)
tests_fuzz_fuzz_lockfile_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
