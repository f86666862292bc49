#!/bin/sh
# airlock --help prints each command's synopsis as the man page has it:
# the .It Cm lines of man/airlock.1, made plain text by synopsis.awk, equal
# the usage lines after the first, in the same order.  And the command
# table behind both dispatches as it says.
. "$top_srcdir/tests/lib/tap.sh"

A=$AIRLOCK
awk -f "$top_srcdir/tests/lib/synopsis.awk" "$top_srcdir/man/airlock.1" \
    >"$T/man" 2>"$T/err"
check "the man page's synopses are read" test -s "$T/man" -a ! -s "$T/err"
"$A" --help >"$T/help"
check "--help succeeds" test $? -eq 0
sed -e 1d -e 's/^       airlock //' "$T/help" >"$T/usage"
if diff "$T/man" "$T/usage" >"$T/diff"; then
	ok "--help lists every command as man/airlock.1 does"
else
	diag "$(cat "$T/diff")"
	not_ok "--help lists every command as man/airlock.1 does"
fi
head -n 1 "$T/help" >"$T/first"
echo "usage: airlock [--store DIR] [--json] COMMAND ..." >"$T/want"
check "the first line names the global options" cmp "$T/first" "$T/want"
# A wrong usage names the command's own synopsis lines, from the same table.
"$A" trust frobnicate 2>"$T/err" >/dev/null
check "an unknown subcommand is a usage error" test $? -eq 2
grep '^trust ' "$T/man" | sed -e '1s/^/usage: airlock /' \
    -e '2,$s/^/       airlock /' >"$T/want"
grep -v 'no such command' "$T/err" >"$T/got"
check "its usage is trust's synopses" cmp "$T/got" "$T/want"
# The same table drives dispatch: wrong arguments print the command's own
# synopsis; what a command refuses is refused before any store is opened.
"$A" --store "$T/none" show 2>"$T/err"
check "show without REPO is a usage error" test $? -eq 2
grep '^show ' "$T/man" | sed 's/^/usage: airlock /' >"$T/want"
check "and prints show's synopsis" cmp "$T/err" "$T/want"
"$A" --store "$T/none" gc --frobnicate 2>"$T/err"
check "an unknown option is a usage error" test $? -eq 2
check "named with the command's synopsis" grep -qxF \
    "usage: airlock $(grep '^gc ' "$T/man")" "$T/err"
"$A" --store "$T/none" key gen --name .bad 2>"$T/err"
check "a bad key name is refused" test $? -eq 2
check "by name, before the store" grep -q '^airlock: \.bad: a key name' \
    "$T/err"
"$A" --store "$T/none" trust threshold 1x 2>"$T/err"
check "a bad threshold is refused" test $? -eq 2
check "by name, before the store" grep -q '^airlock: 1x: the threshold' \
    "$T/err"
check "and no store was made" test ! -e "$T/none"
done_testing
