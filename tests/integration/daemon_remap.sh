#!/bin/sh
# airlockd and a data file that changes under it: another process grows
# the store past airlockd's map (airlockd takes up the new size, never
# answering 5xx for it), and an operator puts another data file in place
# of the one airlockd has open (airlockd opens the new one).
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
plan 14

A=$AIRLOCK
sum() { sha256sum <"$1" | cut -d' ' -f1; }
# fetch REPO FILE WANT: 200, and the bytes' sha256 is WANT.
fetch() {
	_c=$(curl -s -o "$T/got" -w '%{http_code}' \
	    "$URL/$1/resolve/main/$2") || return 1
	[ "$_c" = 200 ] || { echo "HTTP $_c"; cat "$T/got"; return 1; }
	[ "$(sum "$T/got")" = "$3" ] || { echo "wrong bytes"; return 1; }
}
status() {
	curl -s -o /dev/null -w '%{http_code}' "$URL/$1/resolve/main/$2"
}

# --- the map grown by another process ---------------------------------
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/small" 200000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/big" 6000000 >/dev/null
small=$(sum "$T/small/model.safetensors")
big=$(sum "$T/big/model.safetensors")
S=$T/store
"$A" --store "$S" init >/dev/null &&
"$A" --store "$S" add "$T/small" --repo org/small >/dev/null
check "a store with a small model" test $? -eq 0
# airlockd maps 1 MiB of it (what the data file uses, about): the add
# below grows the file past that.
AIRLOCK_MAPSIZE=1048576; export AIRLOCK_MAPSIZE
check "airlockd serves it with a 1 MiB map" start_daemon "$S"
check "  the small model's bytes" fetch org/small model.safetensors "$small"
unset AIRLOCK_MAPSIZE
check "airlock add of a 6 MB model while airlockd runs" \
    "$A" --store "$S" add "$T/big" --repo org/big
check "  the data file is larger than airlockd's map" \
    test "$(stat -c %s "$S/data.mdb")" -gt 1048576
check "airlockd serves the new model's bytes" \
    fetch org/big model.safetensors "$big"
check "  and the old model's" fetch org/small model.safetensors "$small"
check "  twice" fetch org/big model.safetensors "$big"
check "airlockd stops cleanly" stop_daemon

# --- the data file replaced -------------------------------------------
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/b" 300000 >/dev/null
bsum=$(sum "$T/b/model.safetensors")
O=$T/other
"$A" --store "$O" init >/dev/null &&
"$A" --store "$O" add "$T/b" --repo org/b >/dev/null
check "another store with model B" test $? -eq 0
check "airlockd serves the first store" start_daemon "$S"
check "  model A (the small one)" fetch org/small model.safetensors "$small"
# What an operator's restore does: another file, another inode.
cp "$O/data.mdb" "$S/data.mdb.new" && mv "$S/data.mdb.new" "$S/data.mdb"
check "after data.mdb is replaced, airlockd serves model B" \
    wait_for fetch org/b model.safetensors "$bsum"
check "  and 404 for model A" test "$(status org/small model.safetensors)" = 404
stop_daemon
