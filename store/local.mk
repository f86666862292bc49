# store/: the content-addressed store (libstore.a, one public header).
noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = store/store.h store/internal.h \
	store/error.c store/env.c store/lock.c store/map.c store/record.c \
	store/hex.c store/table.c store/hash.c store/chunker.c store/ingest.c \
	store/names.c store/refs.c store/pins.c store/sigs.c \
	store/manifest.c store/card.c store/read.c \
	store/verify.c store/gc.c store/source.c store/hashset.c \
	store/inventory.c store/export.c store/bundle.c store/hashpool.c \
	store/revision.c store/repos.c
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(CRYPTO_CFLAGS) \
	$(JANSSON_CFLAGS) $(YAML_CFLAGS) $(ARCHIVE_CFLAGS)
STORE_LIBS = store/libstore.a $(LIB_LIBS) $(LMDB_LIBS) $(CRYPTO_LIBS) \
	$(JANSSON_LIBS) $(YAML_LIBS) $(ARCHIVE_LIBS) -lm

# Unit tests.
check_PROGRAMS += tests/unit/test_store tests/unit/test_source
TESTS += tests/unit/test_store tests/unit/test_source
tests_unit_test_store_SOURCES = tests/unit/test_store.c tests/unit/tap_main.h
tests_unit_test_store_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(LMDB_CFLAGS) \
	$(JANSSON_CFLAGS) $(CRYPTO_CFLAGS)
tests_unit_test_store_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)
tests_unit_test_source_SOURCES = tests/unit/test_source.c tests/unit/tap_main.h
tests_unit_test_source_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(ARCHIVE_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_source_LDADD = $(STORE_LIBS) $(CMOCKA_LIBS)

# Fuzz targets: every parser of untrusted bytes here.
check_PROGRAMS += tests/fuzz/fuzz_card tests/fuzz/fuzz_archive \
	tests/fuzz/fuzz_manifest
FUZZ_TARGETS += tests/fuzz/fuzz_card tests/fuzz/fuzz_archive \
	tests/fuzz/fuzz_manifest
tests_fuzz_fuzz_card_SOURCES = tests/fuzz/fuzz_card.c tests/fuzz/replay.c
tests_fuzz_fuzz_card_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_card_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_card_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_archive_SOURCES = tests/fuzz/fuzz_archive.c tests/fuzz/replay.c
tests_fuzz_fuzz_archive_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_archive_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_archive_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_manifest_SOURCES = tests/fuzz/fuzz_manifest.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_manifest_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_manifest_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_manifest_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
check_PROGRAMS += tests/fuzz/fuzz_bundle tests/fuzz/fuzz_bundle_index \
	tests/fuzz/fuzz_inventory
FUZZ_TARGETS += tests/fuzz/fuzz_bundle tests/fuzz/fuzz_bundle_index \
	tests/fuzz/fuzz_inventory
tests_fuzz_fuzz_bundle_SOURCES = tests/fuzz/fuzz_bundle.c tests/fuzz/replay.c
tests_fuzz_fuzz_bundle_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_bundle_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_bundle_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_bundle_index_SOURCES = tests/fuzz/fuzz_bundle_index.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_bundle_index_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_bundle_index_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_bundle_index_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
tests_fuzz_fuzz_inventory_SOURCES = tests/fuzz/fuzz_inventory.c \
	tests/fuzz/replay.c
tests_fuzz_fuzz_inventory_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
tests_fuzz_fuzz_inventory_LDADD = $(STORE_LIBS)
tests_fuzz_fuzz_inventory_LDFLAGS = $(AM_LDFLAGS) $(FUZZER_LINK)
