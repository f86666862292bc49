# TAP helpers for the shell integration tests.  Source it; it makes a
# temporary directory ($T) that is removed on exit, and counts test points.
#
#   plan N            print the plan (or done_testing at the end)
#   ok DESC           a passing test point
#   not_ok DESC       a failing one
#   check DESC CMD... run CMD, pass if it exits 0
#   fails DESC STATUS CMD...   pass if CMD exits with STATUS
#   skip_all REASON   skip the whole script
#   free_port         print a free loopback TCP port

set -u
T=$(mktemp -d "${TMPDIR:-/tmp}/airlock-test.XXXXXX") || exit 99
TMPDIR_TAP=$T
_tap_n=0
_tap_failed=0
_tap_cleanups=
_tap_exit() {
	for c in $_tap_cleanups; do "$c"; done
	rm -rf "$T"
}
trap _tap_exit EXIT
trap 'exit 1' INT TERM
at_exit() { _tap_cleanups="$_tap_cleanups $1"; }

plan() { echo "1..$1"; }
# Instead of plan: the plan at the end, when the count is only known then.
done_testing() { echo "1..$_tap_n"; exit 0; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
not_ok() {
	_tap_n=$((_tap_n + 1)); _tap_failed=$((_tap_failed + 1))
	echo "not ok $_tap_n - $*"
}
diag() { echo "$*" | sed 's/^/# /'; }

check() {
	_d=$1; shift
	if "$@" >"$T/.out" 2>&1; then ok "$_d"; else
		diag "$(tail -n 20 "$T/.out")"; not_ok "$_d"; fi
}

fails() {
	_d=$1; _want=$2; shift 2
	"$@" >"$T/.out" 2>&1
	_got=$?
	if [ "$_got" -eq "$_want" ]; then ok "$_d"; else
		diag "exit $_got, wanted $_want"; diag "$(tail -n 20 "$T/.out")"
		not_ok "$_d"; fi
}

# The output of the last check or fails, for a follow-up assertion.
last_output() { cat "$T/.out"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $((20000 + $$ % 20000))
}

# airlockd for integration tests.
#
#   start_daemon STORE [ARGS...]   start $AIRLOCKD in the foreground on a
#       port the kernel picks (--listen 127.0.0.1:0) and wait, at most 10 s,
#       for it to say where it listens: the port file is a FIFO, so the
#       read wakes when airlockd writes it, with no polling.  Sets URL and
#       AIRLOCKD_PID; the log is $T/airlockd.log.  Without a -c in ARGS the
#       configuration is empty (-c /dev/null), never the system's.
#       AIRLOCK_TEST_WORKERS, when set, is passed as --workers (which wins
#       over the workers of a -c file).
#   stop_daemon        SIGTERM, wait; returns airlockd's exit status (a
#       sanitizer's report at exit makes it nonzero).
#   wait_for CMD...    run CMD until it succeeds, at most 30 s: for states
#       that only a query shows (a reload applied, a connection gone).  The
#       bound is for a loaded machine (both sanitizer builds, other jobs); a
#       state that is reached returns at once.
AIRLOCKD_PID=
URL=

# flip_byte FILE OFFSET: FILE with the byte at OFFSET changed (its low
# bit), in place.
flip_byte() {
	_c=$(dd if="$1" bs=1 skip="$2" count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf '%03o' $(( (_c ^ 1) & 255 )))" |
	    dd of="$1" bs=1 seek="$2" conv=notrunc 2>/dev/null
}

# never_reads PORT PATH SECONDS: asks for PATH on 127.0.0.1:PORT and holds
# the connection for SECONDS without reading a byte.  Only with &: it
# execs, so that $! is the process holding the connection.
never_reads() {
	exec bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
	    printf "GET %s HTTP/1.1\r\nHost: x\r\n\r\n" "$2" >&3
	    exec sleep "$3"' _ "$1" "$2" "$3"
}
wait_for() {
	_w=0
	until "$@" >/dev/null 2>&1; do
		_w=$((_w + 1))
		[ "$_w" -gt 600 ] && return 1
		sleep 0.05
	done
}
_daemon_kill() {
	if [ -n "$AIRLOCKD_PID" ]; then
		kill -KILL "$AIRLOCKD_PID" 2>/dev/null
		wait "$AIRLOCKD_PID" 2>/dev/null
		AIRLOCKD_PID=
	fi
}
start_daemon() {
	_store=$1; shift
	_conf="-c /dev/null"
	for _a; do [ "$_a" = "-c" ] && _conf=; done
	# The whole suite runs with any number of loops: AIRLOCK_TEST_WORKERS.
	_workers=
	[ -n "${AIRLOCK_TEST_WORKERS:-}" ] && _workers="--workers $AIRLOCK_TEST_WORKERS"
	rm -f "$T/airlockd.port"
	mkfifo "$T/airlockd.port" || return 1
	# shellcheck disable=SC2086
	"$AIRLOCKD" -d $_conf --store "$_store" --listen 127.0.0.1:0 \
	    --port-file "$T/airlockd.port" $_workers "$@" 2>>"$T/airlockd.log" &
	AIRLOCKD_PID=$!
	case " $_tap_cleanups " in *" _daemon_kill "*) ;; *) at_exit _daemon_kill ;; esac
	_addr=$(timeout 10 head -n 1 "$T/airlockd.port")
	if [ -z "$_addr" ]; then
		diag "airlockd did not start:"; diag "$(tail -n 20 "$T/airlockd.log")"
		_daemon_kill
		return 1
	fi
	URL="http://$_addr"
	curl -sf --max-time 10 "$URL/healthz" >/dev/null
}
stop_daemon() {
	[ -n "$AIRLOCKD_PID" ] || return 0
	kill -TERM "$AIRLOCKD_PID" 2>/dev/null
	wait "$AIRLOCKD_PID"
	_st=$?
	AIRLOCKD_PID=
	return $_st
}
