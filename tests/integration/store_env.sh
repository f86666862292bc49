#!/bin/sh
# The store's environment: compaction excludes every other opener (airlockd
# included, even on a store without airlock.lock), a full disk is named and
# changes nothing, a store we may only read is still read (or the error
# names lock.mdb), and the map grows past its initial size.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

A=$AIRLOCK
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 300000 >/dev/null
want=$(sha256sum <"$T/model/model.safetensors" | cut -d' ' -f1)

# --- 7: gc --compact under a running airlockd -------------------------
S=$T/store
"$A" --store "$S" init >/dev/null &&
"$A" --store "$S" add "$T/model" --repo org/m >/dev/null
check "a store with a model" test $? -eq 0
rm -f "$S/airlock.lock"
check "airlockd serves a store without airlock.lock" start_daemon "$S"
served() {
	curl -sf "$URL/org/m/resolve/main/model.safetensors" >"$T/got" &&
	    [ "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$want" ]
}
fails "gc --compact under airlockd (no airlock.lock) is refused" 2 \
    "$A" --store "$S" gc --compact
last_output >"$T/err"
check "  the error says another process has the store open" \
    grep -q "another process has the store open" "$T/err"
check "  airlockd still serves the right bytes" served
fails "gc --compact under airlockd (airlock.lock there now) is refused" 2 \
    "$A" --store "$S" gc --compact
check "  airlockd still serves the right bytes" served
check "airlockd stops cleanly" stop_daemon
check "without airlockd, gc --compact works" "$A" --store "$S" gc --compact
check "  and the store verifies" "$A" --store "$S" verify
"$A" --store "$S" cat org/m model.safetensors >"$T/got"
check "  and cat gives the same bytes" \
    test "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$want"

# --- 11: map size -----------------------------------------------------
M=$T/small
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/big" 6000000 >/dev/null
check "a store with a 1 MiB initial map takes a 6 MB model" \
    env AIRLOCK_MAPSIZE=1048576 "$A" --store "$M" init
check "  (add)" env AIRLOCK_MAPSIZE=1048576 "$A" --store "$M" add "$T/big" \
    --repo org/big
check "  and verifies" env AIRLOCK_MAPSIZE=1048576 "$A" --store "$M" verify
env AIRLOCK_MAPSIZE=1048576 "$A" --store "$M" --json stats >"$T/stats.json"
mapsize=$(sed -n 's/.*"map_size": *\([0-9]*\).*/\1/p' "$T/stats.json")
mapused=$(sed -n 's/.*"map_used": *\([0-9]*\).*/\1/p' "$T/stats.json")
filesz=$(stat -c %s "$M/data.mdb")
check "stats --json shows the map grown past 1 MiB and the data file" \
    test -n "$mapsize" -a "${mapsize:-0}" -gt 1048576 -a \
    "${mapsize:-0}" -ge "$filesz"
check "  and what of it is used, no more than the data file" \
    test -n "$mapused" -a "${mapused:-0}" -gt 0 -a "${mapused:-0}" -le "$filesz"
env AIRLOCK_MAPSIZE=1048576 "$A" --store "$M" stats >"$T/stats.txt"
check "stats shows the map size" grep -q "^map " "$T/stats.txt"

# --- 11: a read-only mount ------------------------------------------------
mkdir -p "$T/mnt"
if [ "$(id -u)" -ne 0 ] ||
    ! mount -t tmpfs -o size=32m tmpfs "$T/mnt" 2>/dev/null; then
	ok "# SKIP the read-only mount and full disk tests: mount(8) needs root"
	done_testing
fi
unmount() { umount "$T/mnt" 2>/dev/null; }
at_exit unmount
R=$T/mnt/store
"$A" --store "$R" init >/dev/null &&
"$A" --store "$R" add "$T/model" --repo org/m >/dev/null
check "a store on a tmpfs" test $? -eq 0
"$A" --store "$R" ls >"$T/ls.before"
mount -o remount,ro "$T/mnt"
check "the tmpfs is mounted read-only" sh -c "! touch '$T/mnt/x' 2>/dev/null"
check "  ls reads it" "$A" --store "$R" ls
check "  verify reads it" "$A" --store "$R" verify
check "  checkout reads it" "$A" --store "$R" checkout org/m "$T/co"
check "  and checks out the right bytes" \
    test "$(sha256sum <"$T/co/model.safetensors" | cut -d' ' -f1)" = "$want"
check "  airlockd serves it" start_daemon "$R"
check "  the right bytes" served
stop_daemon
mount -o remount,rw "$T/mnt"

# --- 11: a full disk ------------------------------------------------------
# The tmpfs has 32 MiB; the store holds a small model.  A 40 MB model fills
# the disk during a commit.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/huge" 40000000 >/dev/null
fails "an add that fills the disk fails" 2 \
    "$A" --store "$R" add "$T/huge" --repo org/huge
last_output >"$T/err"
check "  saying no space left on the tmpfs, where it is mounted and where the store is" \
    grep -qF "no space left on tmpfs mounted at $(realpath "$T/mnt") (store at $R)" "$T/err"
check "  the store verifies" "$A" --store "$R" verify
"$A" --store "$R" ls >"$T/ls.after"
check "  and holds what it held" cmp "$T/ls.before" "$T/ls.after"
fails "  org/huge is not there" 1 "$A" --store "$R" show org/huge

# --- 11: a store of another user ------------------------------------------
rm -rf "$T/huge"
O=$T/other
"$A" --store "$O" init >/dev/null &&
"$A" --store "$O" add "$T/model" --repo org/m >/dev/null
chmod -R a-w "$O"
chmod 755 "$T"
asnobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
"$A" --store "$O" ls >"$T/ls.root"
check "nobody can ls a store of root's it may only read" \
    asnobody "$A" --store "$O" ls
check "  and sees what root sees" sh -c "setpriv --reuid=nobody --regid=nogroup --clear-groups \
    '$A' --store '$O' ls | cmp - '$T/ls.root'"
check "  verify reads it" asnobody "$A" --store "$O" verify
check "  cat reads it" sh -c "setpriv --reuid=nobody --regid=nogroup \
    --clear-groups '$A' --store '$O' cat org/m model.safetensors |
    sha256sum | grep -q '^$want '"
# Lock bytes of data.mdb (store/internal.h): 1 is held by every process
# that has the store open read-write, 2 by readers without lock.mdb.
holding() {
	_byte=$1; shift
	python3 -c 'import fcntl, os, struct, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, fcntl.F_OFD_SETLK,
    struct.pack("hhqqi4x", fcntl.F_RDLCK, 0, int(sys.argv[2]), 1, 0))
sys.exit(subprocess.call(sys.argv[3:]))' "$O/data.mdb" "$_byte" "$@"
}
fails "while a writer has it open, nobody's ls is refused" 2 \
    holding 1 setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$A" --store "$O" ls
last_output >"$T/err"
check "  naming lock.mdb and the permission" \
    grep -q "$O/lock.mdb: permission denied" "$T/err"
fails "while such a reader has it open, a write is refused" 2 \
    holding 2 "$A" --store "$O" pin org/m@main --name p1
last_output >"$T/err"
check "  saying why" grep -q "may not write its lock.mdb" "$T/err"
check "  and when it is gone, the write works" "$A" --store "$O" pin org/m@main --name p1

done_testing
