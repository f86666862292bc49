# daemon/: airlockd, the HTTP server (HF API and native API).
sbin_PROGRAMS += airlockd
airlockd_SOURCES = daemon/airlockd.h daemon/route.h daemon/main.c \
	daemon/log.c daemon/config.c daemon/pool.c daemon/http.c \
	daemon/stream.c daemon/extents.c daemon/route.c daemon/revision.c \
	daemon/hf_api.c daemon/native_api.c daemon/metrics.c
airlockd_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(INIH_CFLAGS) \
	$(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS)
airlockd_LDADD = $(STORE_LIBS) $(KEYS_LIBS) $(EVENT_LIBS) $(INIH_LIBS)

EXTRA_DIST += daemon/airlockd.service daemon/airlockd.conf

# The request parser's fuzz target: the parser and the store's validators.
check_PROGRAMS += tests/fuzz/fuzz_request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c \
	tests/fuzz/replay.c daemon/route.c daemon/route.h
tests_fuzz_fuzz_request_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/daemon
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_request_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_request

# Integration tests: a real airlockd on a free loopback port.
TESTS += tests/integration/daemon_http.sh tests/integration/daemon_abuse.sh \
	tests/integration/daemon_config.sh tests/integration/daemon_hfhub.sh \
	tests/integration/daemon_extents.sh \
	tests/integration/bundle_release.sh
EXTRA_DIST += tests/integration/daemon_http.sh \
	tests/integration/bundle_release.sh \
	tests/integration/daemon_abuse.sh tests/integration/daemon_config.sh \
	tests/integration/daemon_hfhub.sh tests/integration/hfhub.mjs \
	tests/integration/daemon_extents.sh
