# bench/lib.sh - what the benchmark scripts share, sourced (". lib.sh"),
# never run: their prerequisite checks, the work folder and the servers
# stopped when they end, a free port, and the wait for a server to start.
# Each script keeps its own figures and its own way of printing them.

BENCH=${0##*/}
BENCH_TOP=$(cd "$(dirname "$0")/.." && pwd)

# From a build tree, the licence table that airlock and airlockd read is
# the source's.
[ -n "${AIRLOCK_LICENCES:-}" ] || [ ! -f "$BENCH_TOP/policy/licences.json" ] ||
    export AIRLOCK_LICENCES="$BENCH_TOP/policy/licences.json"

bench_fail() {
	echo "$BENCH: $*" >&2
	exit 2
}

# bench_built FILE...: each FILE a built program.
bench_built() {
	for _x; do
		[ -x "$_x" ] || bench_fail "$_x: not built (make, or name the build: BUILDDIR, AIRLOCK, AIRLOCKD)"
	done
}

# bench_need PROGRAM WHY: PROGRAM (a path, or a name on PATH) is there,
# else WHY is said.
bench_need() {
	case $1 in
	*/*) [ -x "$1" ] ;;
	*) command -v "$1" >/dev/null ;;
	esac || bench_fail "$1: $2"
}

# bench_workdir [BASE]: W, a new folder under BASE (default TMPDIR or
# /tmp), removed when the script ends (KEEP=1 keeps it), after the
# processes given to bench_started are stopped.  An interrupt ends the
# script, so that this still happens.
BENCH_PIDS=
bench_workdir() {
	W=$(mktemp -d "${1:-${TMPDIR:-/tmp}}/airlock-bench.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 1' INT TERM
}

# bench_started PID SIGNAL: stop PID with SIGNAL at the end; the last
# started is stopped first.  bench_stopped PID: the script stopped it.
bench_started() {
	BENCH_PIDS="$1:$2 $BENCH_PIDS"
}
bench_stopped() {
	_left=
	for _p in $BENCH_PIDS; do
		[ "${_p%%:*}" = "$1" ] || _left="$_left $_p"
	done
	BENCH_PIDS=$_left
}

bench_cleanup() {
	for _p in $BENCH_PIDS; do
		kill -"${_p#*:}" "${_p%%:*}" 2>/dev/null &&
		    wait "${_p%%:*}" 2>/dev/null
	done
	[ "${KEEP:-0}" = 1 ] || rm -rf "$W"
}

# A TCP port free on loopback now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $((20000 + $$ % 20000))
}

# bench_until WHAT LOG COMMAND...: COMMAND again every 50 ms until it
# succeeds; after 200 tries WHAT did not start: LOG is shown and the
# script ends.
bench_until() {
	_what=$1
	_log=$2
	shift 2
	_n=0
	until "$@"; do
		_n=$((_n + 1))
		[ $_n -gt 200 ] && { echo "$_what did not start" >&2
		    cat "$_log" >&2; exit 1; }
		sleep 0.05
	done
}

# bench_nginx_conf DIR WORKERS CONNECTIONS: DIR/nginx.conf for an nginx in
# the foreground keeping everything under DIR; what its http block holds
# besides the temporary paths is read from stdin.
bench_nginx_conf() {
	mkdir -p "$1/tmp"
	{
		cat <<EOF
worker_processes $2;
daemon off;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections $3; }
http {
	access_log off;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	uwsgi_temp_path $1/tmp;
	scgi_temp_path $1/tmp;
EOF
		cat
		echo "}"
	} >"$1/nginx.conf"
}
