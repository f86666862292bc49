#!/bin/sh
# Replay every fuzz target's committed corpus (TAP).  A crash, a sanitizer
# report or a leak fails the target's test point.
. "$top_srcdir/tests/lib/tap.sh"

set -- $FUZZ_TARGETS
plan $#
for target; do
	name=${target##*/fuzz_}
	corpus=$top_srcdir/tests/fuzz/corpus/$name
	if [ ! -d "$corpus" ]; then
		not_ok "$name: no corpus at $corpus"
		continue
	fi
	if "$top_builddir/$target" "$corpus"/* >"$TMPDIR_TAP/$name.out" 2>&1; then
		ok "$name: $(ls "$corpus" | wc -l) inputs"
	else
		sed 's/^/# /' "$TMPDIR_TAP/$name.out" | tail -n 40
		not_ok "$name: crashed on its corpus"
	fi
done
