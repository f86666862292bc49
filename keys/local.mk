noinst_LIBRARIES += keys/libkeys.a
keys_libkeys_a_SOURCES = keys/keys.h
keys_libkeys_a_CFLAGS = $(AM_CFLAGS) $(SODIUM_CFLAGS) $(JANSSON_CFLAGS)
KEYS_LIBS = keys/libkeys.a $(SODIUM_LIBS) $(JANSSON_LIBS)
