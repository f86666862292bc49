# lib/: small things that several parts share.
EXTRA_DIST += lib/bounds.h lib/crash.h
