#!/bin/sh
# airlockd's mirror jobs chained to another airlockd judge the upstream as
# `airlock pull` does (mirror_judge): a job keeps the upstream's signature
# with the manifest (minisign -V accepts it over the stored manifest), and
# a job through an upstream whose signature was altered, or that rolled
# back to an older release, fails as "refused", naming the upstream, and
# commits nothing.  Waits are on the jobs' states.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v minisign >/dev/null 2>&1 || skip_all "minisign is not installed"

plan 17

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

ADMIN=hf_TheAdminOfThisMirror
A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
mk() { sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m$1" 300000 "$1" >/dev/null; }

# --- B, the mirror: its own key, and alice's trusted ------------------------
mk 1
a init >/dev/null && a key gen --no-password --name alice >/dev/null &&
    a add "$T/m1" --repo org/m >/dev/null && a key pub alice >"$T/alice.pub"
check "A: org/m, signed by alice" test $? -eq 0
alice=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/alice.pub")
b init >/dev/null && b key gen --no-password --name bob >/dev/null &&
    b trust add "$T/alice.pub" >/dev/null
check "B: its key bob (no passphrase), alice trusted" test $? -eq 0
printf '[admin]\ntoken = %s\n' "$ADMIN" >"$T/b.conf"
check "airlockd B starts, with the admin API" start_daemon "$B" -c "$T/b.conf"
URL_B=$URL
PID_B=$AIRLOCKD_PID
AIRLOCKD_PID=
kill_b() { [ -n "$PID_B" ] && kill -KILL "$PID_B" 2>/dev/null; wait "$PID_B" 2>/dev/null; }
at_exit kill_b
check "airlockd A serves A" start_daemon "$A"

api() { curl -sS -H "Authorization: Bearer $ADMIN" "$@"; }
# post UPSTREAM: the id of a new job for org/m from UPSTREAM.
post() {
	api -X POST -d "{\"repo\":\"org/m\",\"upstream\":\"$1\"}" \
	    "$URL_B/v1/mirror/jobs" |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
job_check() {
	api "$URL_B/v1/mirror/jobs/$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
job_json() { api "$URL_B/v1/mirror/jobs/$1"; }
# The commit B serves for org/m's main, or nothing.
served() {
	curl -sS -o /dev/null -D - "$URL_B/org/m/resolve/main/config.json" |
	    tr -d '\r' | sed -n 's/^[Xx]-[Rr]epo-[Cc]ommit: //p'
}
ended() { wait_for job_check "$1" 'j["state"] in ("done", "failed")'; }

# --- a job keeps the upstream's signature ---------------------------------
id=$(post "$URL")
ended "$id"
check "a job for org/m from A runs to done" job_check "$id" 'j["state"] == "done"'
job_json "$id" | diag "$(cat)"
b manifest org/m >"$T/manifest.b" && a manifest org/m >"$T/manifest.a"
check "  the manifest is A's, byte for byte" cmp "$T/manifest.a" "$T/manifest.b"
b sig org/m "$alice" >"$T/alice.minisig" 2>"$T/sig.err"
check "  alice's signature was kept with it, and minisign -V accepts it" \
    minisign -V -q -p "$T/alice.pub" -m "$T/manifest.b" -x "$T/alice.minisig"
b --json show org/m >"$T/show.json"
check "  B shows alice's signature, trusted, and its own" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = {s["keyid"]: s["verdict"] for s in d["signatures"]}
assert len(v) == 2 and v.get(sys.argv[2]) == "trusted", v
' "$T/show.json" "$alice"
good=$(served)

# --- alice's signature altered on the way ----------------------------------
mk 2
a add "$T/m2" --repo org/m >/dev/null
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy.port" replace \
    /v1/signatures/ 'repo=org/m' 'repo=org/x' &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; }
at_exit stop_proxy
wait_for test -s "$T/proxy.port"
bad="http://127.0.0.1:$(cat "$T/proxy.port")"
id=$(post "$bad")
ended "$id"
check "a job through a proxy that alters alice's signature fails, refused" \
    job_check "$id" 'j["state"] == "failed" and j["error"] == "refused"'
job_json "$id" | diag "$(cat)"
check "  naming the upstream and her key" job_check "$id" \
    "j['reason'].startswith('$bad: ') and 'signature by key $alice does not verify' in j['reason']"
check "  and nothing was committed: B serves what it served" \
    test "$(served)" = "$good"
stop_proxy

# --- an upstream rolled back to an older release ---------------------------
a export org/m -o "$T/r1.bundle" >/dev/null	# release 1
stop_daemon
cp -a "$A" "$T/A-old"
start_daemon "$A"
a export org/m -o "$T/r2.bundle" >/dev/null	# release 2
id=$(post "$URL")
ended "$id"
check "a job from A at release 2 runs to done" job_check "$id" 'j["state"] == "done"'
stop_daemon
mk 3
"$AIRLOCK" --store "$T/A-old" add "$T/m3" --repo org/m >/dev/null
check "A rolled back to release 1, with a newer revision, serves" \
    start_daemon "$T/A-old"
before=$(served)
id=$(post "$URL")
ended "$id"
check "a job from the rolled-back A fails, refused" \
    job_check "$id" 'j["state"] == "failed" and j["error"] == "refused"'
job_json "$id" | diag "$(cat)"
check "  as a rollback, naming the upstream" job_check "$id" \
    "j['reason'].startswith('$URL: ') and 'a rollback' in j['reason']"
check "  and nothing was committed" test "$(served)" = "$before"
stop_daemon

kill -TERM "$PID_B"
wait "$PID_B"
check "airlockd B stops cleanly" test $? -eq 0
PID_B=
