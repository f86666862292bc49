# lib/: small helpers that several parts share.
EXTRA_DIST += lib/bounds.h
