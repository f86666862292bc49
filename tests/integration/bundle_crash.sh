#!/bin/sh
# kill -9 during import at several points: the store opens and verifies,
# shows no revision of the bundle, and a second run completes the import.
# The killed runs are airlock-crashtest's: the installed airlock has no hook.
. "$top_srcdir/tests/lib/tap.sh"

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
m=$T/m
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 200000000
check "A: init, key, add" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password &&
    '$AIRLOCK' --store '$A' add '$m' --repo acme/big"
check "export" a export acme/big -o "$T/big.bundle"
size=$(stat -c %s "$T/big.bundle")
check "B: init and trust A" sh -c "'$AIRLOCK' --store '$B' init &&
    '$AIRLOCK' --store '$A' key pub | '$AIRLOCK' --store '$B' trust add - --name a"

for point in 1 90000000 $((size - 1000)); do
	AIRLOCK_CRASH_AFTER=$point "$AIRLOCK_CRASHTEST" --store "$B" import "$T/big.bundle" >"$T/imp.out" 2>&1
	rc=$?
	[ $rc -eq 137 ] && ok "import killed after $point bytes" ||
	    not_ok "import was not killed at $point (exit $rc)"
	check "B opens after the kill at $point" b stats
	b ls | grep -q acme/big && not_ok "a half import is listed" ||
	    ok "no revision of the bundle is listed"
	check "verify --all after the kill at $point" b verify --all
done
check "the import completes on a second run" b import "$T/big.bundle"
check "verify --all" b verify --all
check "checkout" b checkout acme/big "$T/out"
diff -r "$m" "$T/out" >/dev/null && ok "byte-identical" || not_ok "differs"
done_testing
