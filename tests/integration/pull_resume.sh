#!/bin/sh
# airlock pull resumes after a kill -9: during a transfer (at a byte count
# the test chooses, and just before a batch commit) and just before the
# revision's commit; and after a full disk (as root, on a tmpfs).  After each kill the store verifies, no revision of
# the repository is listed, and the same pull run again fetches only what
# was missing: the files committed before the kill are not fetched, and
# the stored part of the big file is not fetched again.  What was fetched
# the second time is counted by the upstream (airlockd's
# airlockd_sent_bytes_total), not by the pull.  gc keeps a partial file
# (a pull after it still resumes; the finished files no revision names
# yet are swept and fetched again); gc --partial drops it (the next pull
# fetches the whole file).
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
[ -x "$AIRLOCK_CRASHTEST" ] || skip_all "airlock-crashtest is not built"

plan 48

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HF_HOME=$T/hf; export HF_HOME
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

# 150 MB of weights: a pull commits every 32 MiB of new chunks, so a kill
# after 120 MB has at least 64 MiB committed, and so does a kill before
# the third commit.
MIB64=67108864
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 150000000 >/dev/null
big=$(stat -c %s "$T/model/model.safetensors")
total=$(cat "$T"/model/* | wc -c)
"$AIRLOCK" --store "$T/up" init >/dev/null &&
"$AIRLOCK" --store "$T/up" add "$T/model" --repo org/big >/dev/null
check "the upstream store has org/big" test $? -eq 0
check "airlockd serves it" start_daemon "$T/up"
# Its /v1/ hidden, so that the Hub's sequence runs (an airlockd upstream
# is otherwise chained: pull_chain.sh).
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy.port" hide &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; }
at_exit stop_proxy
wait_for test -s "$T/proxy.port"
HUB=http://127.0.0.1:$(cat "$T/proxy.port")

sent() { curl -sS "$URL/metrics" | sed -n 's/^airlockd_sent_bytes_total //p'; }
# kill_pull STORE WHAT ENV...: the pull under the crash hook, killed (137).
kill_pull() {
	_s=$1; _what=$2; shift 2
	env "$@" "$AIRLOCK_CRASHTEST" --store "$_s" pull org/big --from "$HUB" \
	    >"$T/crash.out" 2>&1
	_rc=$?
	[ $_rc -eq 137 ] && ok "pull killed $_what" || {
		diag "$(tail -n 5 "$T/crash.out")"
		not_ok "pull killed $_what (exit $_rc)"; }
}
# after_kill STORE WHAT: the store verifies and lists no half revision.
after_kill() {
	check "after $2: verify --all passes" \
	    "$AIRLOCK" --store "$1" verify --all
	"$AIRLOCK" --store "$1" ls >"$T/ls" 2>&1
	grep -q 'org/big' "$T/ls" && not_ok "after $2: no revision listed" ||
	    ok "after $2: no revision listed"
}
# rerun STORE: the same pull again; WIRE is what airlockd sent for it.
rerun() {
	_b=$(sent)
	"$AIRLOCK" --store "$1" --json pull org/big --from "$HUB" >"$T/again.json"
	_rc=$?
	_a=$(sent)
	WIRE=$((_a - _b))
	return $_rc
}
# A field of the last pull's --json summary.
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/again.json" "$1"; }
same_as_upstream() {
	rm -rf "$T/out"
	"$AIRLOCK" --store "$1" checkout org/big "$T/out" && diff -r "$T/model" "$T/out"
}

# --- killed during the transfer, at 120 MB ---------------------------------
D=$T/d1
"$AIRLOCK" --store "$D" init >/dev/null
kill_pull "$D" "after 120 MB" AIRLOCK_CRASH_AFTER=120000000
after_kill "$D" "the kill after 120 MB"
check "the pull run again succeeds" rerun "$D"
diag "fetched again: $WIRE of $total bytes"
check "  it fetched at least 64 MiB less than the revision (airlockd's count: $WIRE)" \
    test "$WIRE" -le $((total - MIB64))
check "  and what it says it fetched is what airlockd sent" \
    test "$(json fetched)" -eq "$WIRE"
check "  it read back a stored part of model.safetensors" \
    test "$(json resumed)" -ge "$MIB64"
check "  the files stored before the kill were not fetched (held)" \
    test "$(json held)" -gt 0
check "  fetched + resumed + held is the revision" \
    test $(($(json fetched) + $(json resumed) + $(json held))) -eq "$total"
check "  verify --all passes" "$AIRLOCK" --store "$D" verify --all
check "  the checkout is the folder added upstream" same_as_upstream "$D"

# --- killed just before the third batch commit ------------------------------
D=$T/d2
"$AIRLOCK" --store "$D" init >/dev/null
kill_pull "$D" "before its third batch commit" AIRLOCK_CRASH_AT=batch-commit:3
after_kill "$D" "the kill before the third batch commit"
# gc sweeps the files that no revision names, but keeps the partial one.
check "a gc between the kill and the rerun" "$AIRLOCK" --store "$D" gc
check "the pull run again succeeds" rerun "$D"
check "  it fetched at least 64 MiB less than the revision (airlockd's count: $WIRE)" \
    test "$WIRE" -le $((total - MIB64))
check "  what it says it fetched is what airlockd sent" \
    test "$(json fetched)" -eq "$WIRE"
check "  it read back the stored part that gc kept" \
    test "$(json resumed)" -ge "$MIB64"
check "  the checkout is the folder added upstream" same_as_upstream "$D"

# --- killed just before the revision's commit ------------------------------
D=$T/d3
"$AIRLOCK" --store "$D" init >/dev/null
kill_pull "$D" "before the revision commit" AIRLOCK_CRASH_AT=revision-commit
after_kill "$D" "the kill before the revision commit"
check "the pull run again succeeds" rerun "$D"
check "  it fetched at least 128 MiB less than the revision (airlockd's count: $WIRE)" \
    test "$WIRE" -le $((total - 2 * MIB64))
check "  what it says it fetched is what airlockd sent" \
    test "$(json fetched)" -eq "$WIRE"
check "  verify --all passes" "$AIRLOCK" --store "$D" verify --all
check "  the checkout is the folder added upstream" same_as_upstream "$D"
"$AIRLOCK" --store "$D" --json pull org/big --from "$HUB" >"$T/again.json"
check "  and a third pull is unchanged" test "$(json unchanged)" = True

# --- gc --partial drops the stored part --------------------------------------
D=$T/d4
"$AIRLOCK" --store "$D" init >/dev/null
kill_pull "$D" "after 120 MB, then gc --partial" AIRLOCK_CRASH_AFTER=120000000
"$AIRLOCK" --store "$D" --json gc --partial >"$T/gc.json"
check "gc --partial drops one partial file" python3 -c '
import json, sys
g = json.load(open(sys.argv[1]))
sys.exit(0 if g["partial_files"] == 1 and g["chunks"] > 0 else 1)' "$T/gc.json"
check "  verify --all passes" "$AIRLOCK" --store "$D" verify --all
check "the pull run again succeeds" rerun "$D"
check "  it fetched all of model.safetensors again (airlockd's count: $WIRE)" \
    test "$WIRE" -ge "$big"
check "  nothing was read back" test "$(json resumed)" -eq 0
check "  the checkout is the folder added upstream" same_as_upstream "$D"

# --- the progress bar: on a terminal only ------------------------------------
"$AIRLOCK" --store "$T/d5" init >/dev/null
python3 - "$AIRLOCK" --store "$T/d5" pull org/big --from "$HUB" >"$T/tty.out" <<'PY'
import os, pty, subprocess, sys, threading
master, slave = pty.openpty()
got = []
def drain():
    while True:
        try:
            d = os.read(master, 65536)
        except OSError:
            return
        if not d:
            return
        got.append(d)
t = threading.Thread(target=drain)
t.start()
rc = subprocess.run(sys.argv[1:], stderr=slave, stdout=subprocess.DEVNULL).returncode
os.close(slave)
t.join()
sys.stdout.write(b"".join(got).decode("utf-8", "replace"))
sys.exit(rc)
PY
check "a pull with standard error on a terminal succeeds" test $? -eq 0
check "  it draws the bar: bytes of the revision's, a rate, files" grep -Eq \
    "pull .*/ +143\.1 MiB .*%.*/s [0-9]+/7 files" "$T/tty.out"
rm -rf "$T/d5"
"$AIRLOCK" --store "$T/d5" init >/dev/null
"$AIRLOCK" --store "$T/d5" pull org/big --from "$HUB" --no-bases >/dev/null \
    2>"$T/pipe.err"
check "  on a pipe it draws nothing" test ! -s "$T/pipe.err"

# --- a full disk ---------------------------------------------------------------
# A store on a 120 MiB tmpfs: the first three batch commits fit, the
# fourth does not.  With room again, the pull resumes after the batches it
# committed.
mkdir -p "$T/mnt"
if [ "$(id -u)" -ne 0 ] ||
    ! mount -t tmpfs -o size=120m tmpfs "$T/mnt" 2>/dev/null; then
	for _i in 1 2 3 4 5 6 7; do
		ok "# SKIP the full disk tests: mount(8) needs root"
	done
	stop_daemon
	exit 0
fi
unmount() { umount "$T/mnt" 2>/dev/null; }
at_exit unmount
D=$T/mnt/store
"$AIRLOCK" --store "$D" init >/dev/null
fails "a pull that fills the disk fails (exit 2)" 2 \
    "$AIRLOCK" --store "$D" pull org/big --from "$HUB"
last_output >"$T/full.err"
diag "$(cat "$T/full.err")"
check "  it says the disk is full" grep -qi 'no space\|full' "$T/full.err"
after_kill "$D" "the full disk"
mount -o remount,size=400m "$T/mnt"
check "with room again, the pull run again succeeds" rerun "$D"
check "  it fetched at least 64 MiB less than the revision (airlockd's count: $WIRE)" \
    test "$WIRE" -le $((total - MIB64))
check "  the checkout is the folder added upstream" same_as_upstream "$D"
stop_daemon
