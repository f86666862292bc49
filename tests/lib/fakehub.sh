# The fake Hub (tests/lib/fakehub.py) for integration tests; source it
# after tap.sh.
#
#   start_fakehub ARGS...  start fakehub.py with ARGS (a --spec, TYPE:ID=DIR
#       folders) and wait, at most 10 s, for it to say its ports: the port
#       file is a FIFO, so the read wakes when it is written.  Sets HUB (the
#       upstream's URL), CDN_PORT and FAKEHUB_PID; it is stopped at exit.
#   hub_fault JSON         add a fault (or a list of them)
#   hub_clear              drop the faults and the counts
#   hub_stats EXPR [URL]   print a Python expression of the /_stats
#       document d, e.g. 'd["files"]["config.json"]["bytes"]'; with the
#       helpers reqs(path) (the requests for a file, in order) and
#       order() (the files in the order first asked for); of the fake
#       at URL (another instance's $HUB) if given
FAKEHUB_PID=
HUB=
CDN_PORT=
_fakehub_kill() {
	if [ -n "$FAKEHUB_PID" ]; then
		kill -TERM "$FAKEHUB_PID" 2>/dev/null
		wait "$FAKEHUB_PID" 2>/dev/null
		FAKEHUB_PID=
	fi
}
start_fakehub() {
	rm -f "$T/fakehub.port"
	mkfifo "$T/fakehub.port" || return 1
	python3 "$top_srcdir/tests/lib/fakehub.py" --port-file "$T/fakehub.port" \
	    "$@" 2>>"$T/fakehub.log" &
	FAKEHUB_PID=$!
	case " $_tap_cleanups " in *" _fakehub_kill "*) ;; *) at_exit _fakehub_kill ;; esac
	_ports=$(timeout 10 head -n 1 "$T/fakehub.port")
	if [ -z "$_ports" ]; then
		diag "fakehub did not start:"; diag "$(tail -n 20 "$T/fakehub.log")"
		_fakehub_kill
		return 1
	fi
	HUB="http://127.0.0.1:${_ports% *}"
	CDN_PORT=${_ports#* }
}
hub_fault() {
	curl -sf --max-time 10 -X POST --data-binary "$1" "$HUB/_fault" >/dev/null
}
hub_clear() {
	curl -sf --max-time 10 -X POST "$HUB/_clear" >/dev/null
}
hub_stats() {
	curl -sf --max-time 10 "${2:-$HUB}/_stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
def reqs(path):
    return [r for r in d["requests"] if r["file"] == path]
def order():
    seen = []
    for r in d["requests"]:
        f = r["file"]
        if f and ":" not in f and f not in seen:
            seen.append(f)
    return seen
print(eval(sys.argv[1]))' "$1"
}
