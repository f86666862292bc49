# store/: the content-addressed store (libstore.a, one public header).
noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = store/store.h store/internal.h \
	store/store.c store/hash.c store/chunker.c store/ingest.c \
	store/ref.c store/manifest.c store/card.c store/read.c \
	store/verify.c store/gc.c store/source.c
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(CRYPTO_CFLAGS) \
	$(JANSSON_CFLAGS) $(YAML_CFLAGS) $(ARCHIVE_CFLAGS)
STORE_LIBS = store/libstore.a $(LMDB_LIBS) $(CRYPTO_LIBS) $(JANSSON_LIBS) \
	$(YAML_LIBS) $(ARCHIVE_LIBS) -lm
