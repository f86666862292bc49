# mirror/: fetching revisions from an upstream (libmirror.a, one public
# header): libcurl's multi-socket API on a libevent base.
noinst_LIBRARIES += mirror/libmirror.a
mirror_libmirror_a_SOURCES = mirror/mirror.h mirror/mirror_int.h \
	mirror/engine.c mirror/pull.c
mirror_libmirror_a_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(EVENT_CFLAGS) \
	$(JANSSON_CFLAGS)
MIRROR_LIBS = mirror/libmirror.a $(CURL_LIBS) $(EVENT_LIBS)
