noinst_LIBRARIES += keys/libkeys.a
keys_libkeys_a_SOURCES = keys/keys.h keys/internal.h keys/util.c \
	keys/key.c keys/sig.c keys/comment.c keys/trust.c keys/release.c \
	keys/signer.c
keys_libkeys_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
KEYS_LIBS = keys/libkeys.a $(LIB_LIBS) $(SODIUM_LIBS) $(JANSSON_LIBS)

# Unit tests; the interoperability ones run the real minisign ($MINISIGN).
check_PROGRAMS += tests/unit/test_keys
TESTS += tests/unit/test_keys
tests_unit_test_keys_SOURCES = tests/unit/test_keys.c tests/unit/tap_main.h
tests_unit_test_keys_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_keys_LDADD = $(KEYS_LIBS) $(CMOCKA_LIBS)

# Fuzz targets for every parser of untrusted bytes here.
check_PROGRAMS += tests/fuzz/fuzz_pubkey
tests_fuzz_fuzz_pubkey_SOURCES = tests/fuzz/fuzz_pubkey.c tests/fuzz/replay.c
tests_fuzz_fuzz_pubkey_LDADD = $(KEYS_LIBS)
tests_fuzz_fuzz_pubkey_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_pubkey

check_PROGRAMS += tests/fuzz/fuzz_seckey
tests_fuzz_fuzz_seckey_SOURCES = tests/fuzz/fuzz_seckey.c tests/fuzz/replay.c
tests_fuzz_fuzz_seckey_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_seckey_LDADD = $(KEYS_LIBS)
tests_fuzz_fuzz_seckey_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_seckey

check_PROGRAMS += tests/fuzz/fuzz_sig
tests_fuzz_fuzz_sig_SOURCES = tests/fuzz/fuzz_sig.c tests/fuzz/replay.c
tests_fuzz_fuzz_sig_LDADD = $(KEYS_LIBS)
tests_fuzz_fuzz_sig_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_sig

check_PROGRAMS += tests/fuzz/fuzz_release
tests_fuzz_fuzz_release_SOURCES = tests/fuzz/fuzz_release.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_release_LDADD = $(KEYS_LIBS)
tests_fuzz_fuzz_release_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_release
