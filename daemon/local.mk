# daemon/: airlockd, the HTTP server (HF API and native API).
sbin_PROGRAMS += airlockd
airlockd_SOURCES = daemon/airlockd.h daemon/route.h daemon/main.c \
	daemon/log.c daemon/conf.c daemon/pool.c daemon/http.c \
	daemon/response.c daemon/stream.c \
	daemon/extents.c daemon/route.c daemon/revision.c \
	daemon/body.h daemon/body.c daemon/hf_api.c daemon/native_api.c \
	daemon/metrics.c daemon/licence.c \
	daemon/writer.c daemon/signer.c daemon/jobs.c \
	daemon/hf_list.c daemon/hf_history.c daemon/hf_common.c \
	daemon/downloads.c
airlockd_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(INIH_CFLAGS) \
	$(JANSSON_CFLAGS) $(SODIUM_CFLAGS) $(CRYPTO_CFLAGS) $(CURL_CFLAGS)
airlockd_LDADD = $(MIRROR_LIBS) $(GATE_LIBS) $(POLICY_LIBS) $(STORE_LIBS) \
	$(KEYS_LIBS) $(EVENT_LIBS) $(INIH_LIBS)

EXTRA_DIST += daemon/airlockd.service daemon/airlockd.conf

# The request parser's fuzz target: the parser and the store's validators.
check_PROGRAMS += tests/fuzz/fuzz_request
tests_fuzz_fuzz_request_SOURCES = tests/fuzz/fuzz_request.c \
	tests/fuzz/replay.c daemon/route.c daemon/route.h
tests_fuzz_fuzz_request_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_request_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_request_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_request_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
FUZZ_TARGETS += tests/fuzz/fuzz_request

# The Host and Authorization headers, the POST bodies, airlockd.conf.
check_PROGRAMS += tests/fuzz/fuzz_header tests/fuzz/fuzz_body \
	tests/fuzz/fuzz_config
FUZZ_TARGETS += tests/fuzz/fuzz_header tests/fuzz/fuzz_body \
	tests/fuzz/fuzz_config
tests_fuzz_fuzz_header_SOURCES = tests/fuzz/fuzz_header.c \
	tests/fuzz/replay.c daemon/route.c daemon/route.h
tests_fuzz_fuzz_header_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_header_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_header_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_header_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_body_SOURCES = tests/fuzz/fuzz_body.c tests/fuzz/replay.c \
	daemon/body.c daemon/body.h daemon/route.c daemon/route.h
tests_fuzz_fuzz_body_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_body_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_body_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_body_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c \
	tests/fuzz/replay.c daemon/conf.c
tests_fuzz_fuzz_config_CPPFLAGS = $(AM_CPPFLAGS)
tests_fuzz_fuzz_config_CFLAGS = $(AM_CFLAGS) $(EVENT_CFLAGS) $(INIH_CFLAGS) \
	$(JANSSON_CFLAGS) $(SODIUM_CFLAGS)
tests_fuzz_fuzz_config_LDADD = $(POLICY_LIBS) $(STORE_LIBS) $(KEYS_LIBS) $(EVENT_LIBS) \
	$(INIH_LIBS)
tests_fuzz_fuzz_config_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)

# Integration tests: a real airlockd on a free loopback port.
TESTS += tests/integration/daemon_http.sh tests/integration/daemon_abuse.sh \
	tests/integration/daemon_config.sh tests/integration/daemon_hfhub.sh \
	tests/integration/daemon_extents.sh \
	tests/integration/bundle_release.sh \
	tests/integration/daemon_hublist.sh
TESTS += tests/integration/daemon_mirror.sh \
	tests/integration/daemon_mirror_judge.sh
EXTRA_DIST += tests/integration/daemon_mirror.sh \
	tests/integration/daemon_mirror_judge.sh
EXTRA_DIST += tests/integration/daemon_http.sh \
	tests/integration/bundle_release.sh \
	tests/integration/daemon_abuse.sh tests/integration/daemon_config.sh \
	tests/integration/daemon_hfhub.sh tests/integration/hfhub.mjs \
	tests/integration/daemon_extents.sh \
	tests/integration/daemon_hublist.sh tests/integration/hublist.mjs \
	tests/data/tiny-tokenizer
