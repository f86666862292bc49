# mirror/: fetching revisions from an upstream (libmirror.a, one public
# header): libcurl's multi-socket API on a libevent base.  judge.c
# judges an upstream airlockd by the store's keyring (keys/).
noinst_LIBRARIES += mirror/libmirror.a
mirror_libmirror_a_SOURCES = mirror/mirror.h mirror/mirror_int.h \
	mirror/engine.c mirror/pull.c mirror/upstream.c mirror/chain.c \
	mirror/judge.c
mirror_libmirror_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(EVENT_CFLAGS) \
	$(JANSSON_CFLAGS)
MIRROR_LIBS = mirror/libmirror.a $(CURL_LIBS) $(EVENT_LIBS)

# Fuzz targets: every reader of an upstream's answers (upstream.c, and
# an airlockd's in chain.c).
check_PROGRAMS += tests/fuzz/fuzz_upstream_revision \
	tests/fuzz/fuzz_upstream_tree tests/fuzz/fuzz_upstream_header \
	tests/fuzz/fuzz_chain
FUZZ_TARGETS += tests/fuzz/fuzz_upstream_revision \
	tests/fuzz/fuzz_upstream_tree tests/fuzz/fuzz_upstream_header \
	tests/fuzz/fuzz_chain
FUZZ_MIRROR_LIBS = $(MIRROR_LIBS) $(STORE_LIBS) $(JANSSON_LIBS)
tests_fuzz_fuzz_upstream_revision_SOURCES = \
	tests/fuzz/fuzz_upstream_revision.c tests/fuzz/replay.c
tests_fuzz_fuzz_upstream_revision_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_fuzz_fuzz_upstream_revision_LDADD = $(FUZZ_MIRROR_LIBS)
tests_fuzz_fuzz_upstream_revision_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_upstream_tree_SOURCES = tests/fuzz/fuzz_upstream_tree.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_upstream_tree_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_fuzz_fuzz_upstream_tree_LDADD = $(FUZZ_MIRROR_LIBS)
tests_fuzz_fuzz_upstream_tree_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_upstream_header_SOURCES = tests/fuzz/fuzz_upstream_header.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_upstream_header_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_fuzz_fuzz_upstream_header_LDADD = $(FUZZ_MIRROR_LIBS)
tests_fuzz_fuzz_upstream_header_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_chain_SOURCES = tests/fuzz/fuzz_chain.c tests/fuzz/replay.c
tests_fuzz_fuzz_chain_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_chain_LDADD = $(FUZZ_MIRROR_LIBS)
tests_fuzz_fuzz_chain_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
