# The licence gate over the store: policy/ meets the store and keyring.
noinst_LIBRARIES += gate/libgate.a
gate_libgate_a_SOURCES = gate/gate.h gate/gate.c
gate_libgate_a_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(SODIUM_CFLAGS)
GATE_LIBS = gate/libgate.a

check_PROGRAMS += tests/fuzz/fuzz_review
FUZZ_TARGETS += tests/fuzz/fuzz_review
tests_fuzz_fuzz_review_SOURCES = tests/fuzz/fuzz_review.c tests/fuzz/replay.c
tests_fuzz_fuzz_review_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_review_LDADD = $(GATE_LIBS) $(POLICY_LIBS) $(STORE_LIBS) \
	$(KEYS_LIBS)
tests_fuzz_fuzz_review_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)

check_PROGRAMS += tests/unit/test_gate
TESTS += tests/unit/test_gate
tests_unit_test_gate_SOURCES = tests/unit/test_gate.c tests/unit/tap_main.h
tests_unit_test_gate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_gate_LDADD = $(GATE_LIBS) $(POLICY_LIBS) $(STORE_LIBS) \
	$(KEYS_LIBS) $(CMOCKA_LIBS)
