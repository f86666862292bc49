# bench/: benchmark scripts (not part of make check) and their helpers.
noinst_PROGRAMS += bench/mkrepos
bench_mkrepos_SOURCES = bench/mkrepos.c
bench_mkrepos_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS)
bench_mkrepos_LDADD = $(STORE_LIBS)
