#!/bin/sh
# Bad requests get a clear 4xx and airlockd keeps serving: huge headers
# and bodies, path traversal in repository ids, revisions and file paths,
# broken percent-encoding, absurd ranges, garbage on the wire, too many
# connections, clients that go away, and clients that never read.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v bash >/dev/null 2>&1 || skip_all "bash is needed for raw sockets"

plan 86

S=$T/store
# 16 MB of weights: more than loopback's socket buffers hold.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 16000000 >/dev/null
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo org/tiny >/dev/null
check "the CLI adds a model" test $? -eq 0
big_sha=$(sha256sum <"$T/model/model.safetensors" | cut -d' ' -f1)

cat >"$T/airlockd.conf" <<'EOF'
max-header-size = 8192
max-body-size = 65536
max-connections = 8
EOF
check "airlockd starts" start_daemon "$S" -c "$T/airlockd.conf"
port=${URL##*:}

alive() { curl -sf --max-time 5 "$URL/healthz" >/dev/null; }
# code [curl args] PATH: the status, as curl saw it.
code() {
	_n=$#
	_i=0
	for _a; do
		_i=$((_i + 1))
		if [ $_i -eq $_n ]; then set -- "$@" "$URL$_a"; else set -- "$@" "$_a"; fi
	done
	shift $_n
	curl -s -o /dev/null --max-time 10 --path-as-is -w '%{http_code}' "$@"
}
# expect DESC STATUS [curl args] PATH: that status, then /healthz answers.
expect() {
	_d=$1; _want=$2; shift 2
	_got=$(code "$@")
	if [ "$_got" = "$_want" ] && alive; then ok "$_d"; else
		diag "status $_got, wanted $_want; healthz: $(alive && echo ok || echo DOWN)"
		not_ok "$_d"; fi
}
# A 4xx of any kind, then /healthz answers.
expect_4xx() {
	_d=$1; shift
	_got=$(code "$@")
	case $_got in
	4??) alive && ok "$_d ($_got)" || not_ok "$_d: airlockd stopped answering";;
	*) diag "status $_got"; not_ok "$_d";;
	esac
}
# raw TEXT: writes TEXT to a fresh connection, prints the status line.
raw() {
	bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
	    printf "%b" "$2" >&3; IFS= read -r line <&3; printf "%s\n" "$line"' \
	    _ "$port" "$1" 2>/dev/null | tr -d '\r'
}

# --- sizes -------------------------------------------------------------------
pad=$(head -c 20000 /dev/zero | tr '\0' a)
expect_4xx "a 20 kB header" -H "X-Pad: $pad" /healthz
expect_4xx "many headers adding up past the limit" \
    -H "X-A: ${pad%??????????????}" -H "X-B: ${pad%??????????????}" /healthz
head -c 100000 /dev/zero | tr '\0' a >"$T/body"
expect "a body past max-body-size: 413" 413 -X POST \
    -H 'Content-Type: application/json' --data-binary "@$T/body" \
    /api/models/org/tiny/paths-info/main
long=$(head -c 5000 /dev/zero | tr '\0' a)
expect_4xx "a 5000-byte path" "/org/tiny/resolve/main/$long"
expect_4xx "a 300-byte path component" \
    "/org/tiny/resolve/main/$(head -c 300 /dev/zero | tr '\0' b)"
expect "paths-info with 1001 paths: 400" 400 -X POST \
    -H 'Content-Type: application/json' \
    --data "{\"paths\":[$(seq 1001 | sed 's/.*/"p&"/' | paste -sd, -)]}" \
    /api/models/org/tiny/paths-info/main

# --- traversal ---------------------------------------------------------------
for p in \
    '/org/../resolve/main/config.json' \
    '/%2e%2e/tiny/resolve/main/config.json' \
    '/org/%2E%2E/resolve/main/config.json' \
    '/org%2F..%2F../tiny/resolve/main/config.json' \
    '/org/tiny/resolve/main/../../../etc/passwd' \
    '/org/tiny/resolve/main/nested/%2e%2e/config.json' \
    '/org/tiny/resolve/main/..%2F..%2Fetc%2Fpasswd' \
    '/org/tiny/resolve/main/%2Fetc%2Fpasswd' \
    '/org/tiny/resolve/main/./config.json' \
    '/org/tiny/resolve/main//config.json' \
    '/org/tiny/resolve/..%2F..%2Fmain/config.json' \
    '/org/tiny/resolve/main%2F..%2F..%2Fx/config.json' \
    '/api/models/org/tiny/tree/main/..%2F..' \
    '/api/models/..%2F..%2Fetc/passwd' \
    '/api/models/org/tiny/revision/..' \
    '/v1/blobs/sha256:..%2F..%2Fetc%2Fpasswd' \
    '/v1/refs/model/../tiny'; do
	expect "traversal refused: $p" 400 "$p"
done

# --- encodings ---------------------------------------------------------------
for p in \
    '/org/tiny/resolve/main/config%zz.json' \
    '/org/tiny/resolve/main/config.json%' \
    '/org/tiny/resolve/main/config.json%2' \
    '/org/tiny/resolve/main/config%00.json' \
    '/org/tiny/resolve/main/%ff%fe.json' \
    '/org/tiny/resolve/main/%c0%ae%c0%ae/config.json' \
    '/org/tiny/resolve/ma%zzin/config.json' \
    '/org/ti%ny/resolve/main/config.json'; do
	expect "bad percent-encoding refused: $p" 400 "$p"
done
expect "a malformed query: 400" 400 '/api/models/org/tiny/tree/main?recursive=%zz'

# --- ranges ------------------------------------------------------------------
f=/org/tiny/resolve/main/config.json
expect "bytes=99999999999999999999999999-: 416" 416 \
    -H 'Range: bytes=99999999999999999999999999-' "$f"
expect "bytes=0-99999999999999999999999999: 206, the whole file" 206 \
    -H 'Range: bytes=0-99999999999999999999999999' "$f"
expect "bytes=-99999999999999999999999999: 206" 206 \
    -H 'Range: bytes=-99999999999999999999999999' "$f"
expect "bytes=-0: 416" 416 -H 'Range: bytes=-0' "$f"
expect "bytes=--1: 416" 416 -H 'Range: bytes=--1' "$f"
expect "bytes=1-2-3: 416" 416 -H 'Range: bytes=1-2-3' "$f"
expect "bytes=abc: 416" 416 -H 'Range: bytes=abc' "$f"
expect "bytes: without '=': 416" 416 -H 'Range: bytes 0-1' "$f"

# --- the wire ----------------------------------------------------------------
case $(raw 'GARBAGE\r\n\r\n') in
"HTTP/1."?" 4"*) alive && ok "garbage request line: 4xx" || not_ok "garbage: airlockd down";;
*) not_ok "garbage request line: 4xx";;
esac
case $(raw 'GET /healthz HTTP/1.1\r\nHost: x\r\nBad header line\r\n\r\n') in
"HTTP/1."?" 4"*) alive && ok "a header line without a colon: 4xx" || not_ok "airlockd down";;
*) not_ok "a header line without a colon: 4xx";;
esac
expect "TRACE is not served" 501 -X TRACE /healthz
expect "DELETE: 405" 405 -X DELETE /org/tiny/resolve/main/config.json

# --- clients that go away ----------------------------------------------------
curl -s "$URL/org/tiny/resolve/main/model.safetensors" 2>/dev/null |
    head -c 100000 >/dev/null
curl -s "$URL/org/tiny/resolve/main/model.safetensors" -H 'Range: bytes=5-' \
    2>/dev/null | head -c 1 >/dev/null
streams0() { curl -s "$URL/metrics" | grep -q '^airlockd_streams 0$'; }
check "clients that hang up mid-download are let go" wait_for streams0
check "and airlockd still answers" alive

# --- too many connections ----------------------------------------------------
# Eight connections that made a request, were served, and stay open
# (keep-alive).  Each writes its status line once it was served; one that
# lost a race with a connection not yet seen closed asks again.
pids=
for i in 1 2 3 4 5 6 7 8; do
	bash -c 'while :; do
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" >&3
		IFS= read -r line <&3
		case $line in "HTTP/1.1 200"*) break;; esac
		exec 3<&-
		sleep 0.05
	done
	echo "$line" >"$2"
	exec sleep 30' _ "$port" "$T/held.$i" &
	pids="$pids $!"
done
held() { [ "$(cat "$T"/held.* 2>/dev/null | grep -c '^HTTP/1.1 200')" = 8 ]; }
check "  precondition: eight connections were served and stay open" \
    wait_for held
check "a ninth connection: 503" test "$(code /v1/refs)" = 503
kill $pids 2>/dev/null
wait $pids 2>/dev/null
check "with them closed, a connection is served again" wait_for alive

# --- a client that never reads -----------------------------------------------
# It asks for 16 MB and reads nothing; the socket fills and its stream
# stalls while holding its buffers.  Others must not wait for it.
never_reads "$port" /org/tiny/resolve/main/model.safetensors 60 &
slow=$!
curl -s --max-time 30 "$URL/org/tiny/resolve/main/model.safetensors" \
    -o "$T/got"
check "a full download completes while a client never reads" \
    test "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$big_sha"
stalled() { curl -s "$URL/metrics" | grep -q '^airlockd_streams [1-9]'; }
check "  (the idle client's stream is still open, stalled)" stalled
check "  and /healthz answers" alive
kill "$slow" 2>/dev/null
wait "$slow" 2>/dev/null
check "airlockd stops cleanly on SIGTERM" stop_daemon

# When two clients that never read hold every read buffer (without
# sendfile) or every send window (with it), a third must still be served:
# the one stalled longest is disconnected.  Buffers and windows are each
# loop's share, and only one loop puts the three clients on the same one:
# --workers 1, whatever the suite runs with.
tight() { # WHAT GAUGE N CONFIG-LINES
	printf '%s\nstall-timeout = 1\n' "$4" >"$T/tight.conf"
	gauge="^$2 $3\$"
	: >"$T/airlockd.log"
	check "airlockd starts with $1" start_daemon "$S" -c "$T/tight.conf" \
	    --workers 1
	port=${URL##*:}
	slow=
	for i in 1 2; do
		never_reads "$port" /org/tiny/resolve/main/model.safetensors 60 &
		slow="$slow $!"
	done
	# Stalled: all of them out, and no byte sent between two looks.
	: >"$T/sent"
	stuck() {
		curl -s "$URL/metrics" >"$T/m" &&
		    grep -q "$gauge" "$T/m" || return 1
		_now=$(grep '^airlockd_sent_bytes_total ' "$T/m")
		_then=$(cat "$T/sent")
		echo "$_now" >"$T/sent"
		[ "$_now" = "$_then" ]
	}
	check "  precondition: the idle clients took all of $1" wait_for stuck
	curl -s --max-time 30 "$URL/org/tiny/resolve/main/model.safetensors" \
	    -o "$T/got"
	check "  a download completes though idle clients held them all" \
	    test "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$big_sha"
	check "  a stalled client was disconnected, and said so in the log" \
	    grep -q "disconnected" "$T/airlockd.log"
	kill $slow 2>/dev/null
	wait $slow 2>/dev/null
	check "  airlockd stops cleanly on SIGTERM" stop_daemon
}
tight "four read buffers, no sendfile" airlockd_read_buffers_in_use 4 \
    "$(printf 'sendfile = no\nread-size = 64k\nread-buffers = 4')"
tight "two send windows" airlockd_send_windows_in_use 2 "send-windows = 2"

# The write time-out holds while a stream sends: a client that stops
# reading is cut off after `timeout` seconds without progress, one that
# reads slowly but steadily is not.  Every way of sending, each seen on
# the gauge of streams that send through a pipe: PIPES of them.  A pipe
# is closed with its stream: airlockd's descriptors, as the kernel lists
# them, are as many as before.
cut_off() { # WHAT PIPES CONFIG-LINES
	printf '%s\ntimeout = 2\n' "$3" >"$T/cut.conf"
	: >"$T/airlockd.log"
	check "airlockd starts with $1 and timeout = 2" start_daemon "$S" \
	    -c "$T/cut.conf"
	port=${URL##*:}
	fds() { ls "/proc/$AIRLOCKD_PID/fd" | wc -l; }
	fds_before=$(fds)
	never_reads "$port" /org/tiny/resolve/main/model.safetensors 60 &
	slow=$!
	check "  precondition: the idle client's stream is open" wait_for stalled
	check "  it sends through $2 pipe(s)" sh -c "curl -s '$URL/metrics' |
	    grep -qx 'airlockd_send_pipes $2'"
	# 64 kB every 10 ms: about 4 s for the 16 MB, never 2 s idle.
	python3 "$top_srcdir/tests/lib/slowread.py" "$port" \
	    /org/tiny/resolve/main/model.safetensors 65536 0.01 >"$T/slow"
	check "  a client reading 64 kB every 10 ms for 4 s gets every byte" \
	    test "$(cat "$T/slow")" = "$big_sha $(wc -c <"$T/model/model.safetensors")"
	idle() { curl -s "$URL/metrics" | grep -q '^airlockd_streams 0$'; }
	check "  the client that reads nothing was cut off" wait_for idle
	kill "$slow" 2>/dev/null
	wait "$slow" 2>/dev/null
	# A /metrics client of wait_for may not be closed yet: a leak never is.
	fds_back() { [ "$(fds)" -eq "$fds_before" ]; }
	check "  its descriptors are closed: $fds_before open, as before" \
	    wait_for fds_back
	check "  airlockd stops cleanly on SIGTERM" stop_daemon
}
cut_off "sendfile, through a pipe" 1 ""
cut_off "sendfile, no splice" 0 "splice = no"
cut_off "no sendfile" 0 "sendfile = no"
