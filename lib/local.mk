# lib/: small things that several parts share (libairlock.a: the name rules).
EXTRA_DIST += lib/bounds.h lib/crash.h
noinst_LIBRARIES += lib/libairlock.a
lib_libairlock_a_SOURCES = lib/names.h lib/names.c
LIB_LIBS = lib/libairlock.a
