#!/bin/sh
# kill -9 of `airlock add` of a large file at several points: before any
# batch is committed, after one, after all the chunks but before the
# revision commit.  Each time the store opens, verify --all passes, no
# partial revision is listed, and the add then runs again to the end.
# The killed runs are airlock-crashtest's: the installed airlock has no hook.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
m=$T/m
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 268435456	# 256 MiB of weights
total=$(cat "$m"/* | wc -c)
check "init" al init
check "a first, small revision" al add "$top_srcdir/tests/fuzz/corpus" --repo acme/small

for point in 1 120000000 250000000 $total; do
	AIRLOCK_CRASH_AFTER=$point "$AIRLOCK_CRASHTEST" --store "$S" add "$m" --repo acme/big >"$T/add.out" 2>&1
	rc=$?
	[ $rc -eq 137 ] && ok "add killed after $point bytes" ||
	    not_ok "add was not killed at $point (exit $rc)"
	check "the store opens after the kill at $point" al stats
	al ls | grep -q 'acme/big' && not_ok "a partial revision is listed" ||
	    ok "no revision of acme/big is listed"
	check "verify --all passes after the kill at $point" al verify --all
done
check "the add runs again to the end" al add "$m" --repo acme/big
check "verify --all" al verify --all
check "checkout" al checkout acme/big "$T/out"
diff -r "$m" "$T/out" >/dev/null && ok "the revision is byte-identical" ||
    not_ok "checkout differs"
# What the killed adds left behind is unreferenced and gc takes it.
check "gc after the crashes" al gc
check "verify --all after gc" al verify --all
done_testing
