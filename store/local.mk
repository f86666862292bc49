noinst_LIBRARIES += store/libstore.a
store_libstore_a_SOURCES = store/store.h
store_libstore_a_CFLAGS = $(AM_CFLAGS) $(LMDB_CFLAGS) $(CRYPTO_CFLAGS) \
	$(JANSSON_CFLAGS) $(YAML_CFLAGS) $(ARCHIVE_CFLAGS)
STORE_LIBS = store/libstore.a $(LMDB_LIBS) $(CRYPTO_LIBS) $(JANSSON_LIBS) \
	$(YAML_LIBS) $(ARCHIVE_LIBS)
