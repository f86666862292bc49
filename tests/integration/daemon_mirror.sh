#!/bin/sh
# airlockd's mirror jobs, with another airlockd as the upstream: a job
# airlockd.conf names runs at start and the downstream then serves the
# revision byte for byte with the upstream's commit id; the admin API
# wants an admin's token (401 without one, 403 with another); a job
# POSTed runs to done; a job for a repository the upstream lacks fails
# with the upstream's own words; an interval re-runs a job at the cost
# of two requests when nothing changed upstream; SIGHUP adds a job, and keeps the configuration in use
# when the new one is bad; DELETE cancels a running and a queued job,
# and neither leaves a revision.  Waits are on the jobs' states.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

plan 56

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

ADMIN=hf_TheAdminOfThisMirror
READER=hf_OnlyReadsSecretRepos
A=$T/a
B=$T/b

# --- the upstream: airlockd A over store A ------------------------------------
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/tiny" 2000000 >/dev/null
mkdir -p "$T/tiny/sub dir"
printf 'nested\n' >"$T/tiny/sub dir/notes.txt"
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/second" 500000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/big" 150000000 >/dev/null
"$AIRLOCK" --store "$A" init >/dev/null &&
"$AIRLOCK" --store "$A" add "$T/tiny" --repo org/tiny >/dev/null &&
"$AIRLOCK" --store "$A" add "$T/second" --repo org/second >/dev/null &&
"$AIRLOCK" --store "$A" add "$T/second" --repo org/third --revision v1 >/dev/null &&
"$AIRLOCK" --store "$A" add "$T/big" --repo org/big >/dev/null
check "the upstream store has org/tiny, org/second, org/third@v1 and org/big" test $? -eq 0
printf 'tree-page-size = 3\ndownloads-flush = 1\n' >"$T/a.conf"
check "airlockd A serves it" start_daemon "$A" -c "$T/a.conf"
URL_A=$URL
PID_A=$AIRLOCKD_PID
AIRLOCKD_PID=
kill_a() { [ -n "$PID_A" ] && kill -KILL "$PID_A" 2>/dev/null; wait "$PID_A" 2>/dev/null; }
at_exit kill_a

# --- the downstream: airlockd B mirrors org/tiny ------------------------------
"$AIRLOCK" --store "$B" init >/dev/null &&
"$AIRLOCK" --store "$B" key gen --no-password >/dev/null
check "store B has a signing key without a passphrase" test $? -eq 0
conf_b() {
	cat <<EOF
upstream = $URL_A
[admin]
token = $ADMIN
[private secret]
token = $READER
[mirror "a"]
repos = org/tiny
interval = $1
EOF
}
conf_b 1 >"$T/b.conf"
check "airlockd -n accepts the mirror configuration" "$AIRLOCKD" -n -c "$T/b.conf"
{ conf_b 1; printf 'type = space\nrepos = org/tiny@sha256:00\n[mirror "b c"]\n'; } >"$T/bad.conf"
fails "  and refuses bad values, at start too" 1 \
    "$AIRLOCKD" -d -c "$T/bad.conf" --store "$B" --listen 127.0.0.1:0
last_output >"$T/bad.err"
check "  naming the section and the key of each" sh -c "
    grep -q 'bad.conf:9: \\[mirror \"a\"\\] type: \"space\" is not model or dataset' '$T/bad.err' &&
    grep -q 'bad.conf:10: \\[mirror \"a\"\\] repos: \"org/tiny@sha256:00\" is not ORG/NAME' '$T/bad.err' &&
    grep -q 'bad.conf:11: \\[mirror \"b c\"\\]: the name is' '$T/bad.err'"
"$AIRLOCK" --store "$T/nokey" init >/dev/null
fails "airlockd will not mirror into a store without a signing key" 1 \
    "$AIRLOCKD" -d -c "$T/b.conf" --store "$T/nokey" --listen 127.0.0.1:0
last_output >"$T/nokey.err"
check "  and says how to make one" grep -q 'no signing key.*airlock key gen --no-password' "$T/nokey.err"
check "airlockd B starts with it" start_daemon "$B" -c "$T/b.conf"
URL_B=$URL

api() { curl -sS -H "Authorization: Bearer $ADMIN" "$@"; }
# job_check ID PYTHON-EXPR: the expression over the job j is true.
job_check() {
	api "$URL_B/v1/mirror/jobs/$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
# job_of REPO [SECTION]: the id of the job [mirror "SECTION"] (a) has for REPO.
job_of() {
	api "$URL_B/v1/mirror/jobs" | python3 -c '
import json, sys
print([j["id"] for j in json.load(sys.stdin) if j["repo"] == sys.argv[1] and j["mirror"] == sys.argv[2]][0])' "$1" "${2:-a}"
}
hdr() { tr -d '\r' <"$2" | sed -n "s/^$1: //Ip" | head -n 1; }
status() { sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' "$1"; }

tiny=$(job_of org/tiny)
check "the configured job is listed" test -n "$tiny"
check "  and runs to done" wait_for job_check "$tiny" 'j["state"] == "done"'
# (interval = 1 runs it again meanwhile: each run, once done, says so)
check "  having fetched every byte of the revision" wait_for job_check "$tiny" \
    'j["state"] == "done" and j["bytes_done"] == j["bytes_total"] > 2000000 and j["files"] == 8'

# The revision, as a client reads it from B.
serves_tiny() {
	(cd "$T/tiny" && find . -type f | sed 's|^\./||') | while IFS= read -r f; do
		want=$(sha256sum <"$T/tiny/$f" | cut -d' ' -f1)
		enc=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$f")
		got=$(curl -sSf "$URL_B/org/tiny/resolve/main/$enc" | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "$f: $got, wanted $want"; return 1; }
	done
}
check "B serves every file of org/tiny byte for byte (sha256sum)" serves_tiny
curl -sS -o /dev/null -D "$T/a.h" "$URL_A/org/tiny/resolve/main/config.json"
curl -sS -o /dev/null -D "$T/b.h" "$URL_B/org/tiny/resolve/main/config.json"
commit_a=$(hdr X-Repo-Commit "$T/a.h")
check "  with A's commit id in X-Repo-Commit ($commit_a)" \
    sh -c "[ -n '$commit_a' ] && [ '$(hdr X-Repo-Commit "$T/b.h")' = '$commit_a' ]"
check "  and the job says that commit" wait_for job_check "$tiny" \
    "j['state'] == 'done' and j['commit'] == '$commit_a'"

# --- the interval: a run whose upstream commit is the same ---------------------
# A is an airlockd: the pull is chained, and an unchanged one costs the
# probe of /v1/ and the refs (tests/integration/pull_chain.sh), no more.
check "interval = 1 runs the job again, unchanged, in two requests" \
    wait_for job_check "$tiny" \
    'j["runs"] >= 2 and j["state"] == "done" and j["unchanged"] and j["requests"] == 2'
conf_b 0 >"$T/b.conf"
kill -HUP "$AIRLOCKD_PID"
check "  SIGHUP with interval = 0: no run is planned" \
    wait_for job_check "$tiny" 'j["interval"] == 0 and j["next"] is None and j["state"] == "done"'
tiny_runs=$(api "$URL_B/v1/mirror/jobs/$tiny" | python3 -c 'import json, sys; print(json.load(sys.stdin)["runs"])')
# What A answered, by its own count: requests but those for /metrics.
served_a() {
	curl -sS "$URL_A/metrics" |
	    awk '/^airlockd_requests_total/ && !/route="metrics"/ { n += $2 } END { print n + 0 }'
}
before=$(served_a)
again=$(api -X POST -d '{"repo":"org/tiny"}' "$URL_B/v1/mirror/jobs" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
wait_for job_check "$again" 'j["state"] == "done"'
two_more() { [ $(($(served_a) - before)) -eq 2 ] && job_check "$again" 'j["unchanged"]'; }
check "  a job for org/tiny again is unchanged, and A answered it two requests" two_more

# --- the admin API's tokens ----------------------------------------------------
curl -sS -o /dev/null -D "$T/h" "$URL_B/v1/mirror/jobs"
check "GET /v1/mirror/jobs without a token: 401 Unauthorized" \
    sh -c "[ '$(status "$T/h")' = 401 ] && [ '$(hdr X-Error-Code "$T/h")' = Unauthorized ]"
curl -sS -o /dev/null -D "$T/h" -H "Authorization: Bearer $READER" "$URL_B/v1/mirror/jobs"
check "  with a token that only reads a private namespace: 403 Forbidden" \
    sh -c "[ '$(status "$T/h")' = 403 ] && [ '$(hdr X-Error-Code "$T/h")' = Forbidden ]"
curl -sS -o /dev/null -D "$T/h" -X POST -d '{"repo":"org/second"}' \
    "$URL_B/v1/mirror/jobs"
check "  POST without a token: 401, and no job" \
    sh -c "[ '$(status "$T/h")' = 401 ] && ! api '$URL_B/v1/mirror/jobs' | grep -q org/second"
curl -sS -o /dev/null -D "$T/h" -X DELETE -H "Authorization: Bearer $READER" \
    "$URL_B/v1/mirror/jobs/$tiny"
check "  DELETE with a reader's token: 403" test "$(status "$T/h")" = 403

# --- a job POSTed, and reads while it writes --------------------------------------
api -D "$T/h" -o "$T/post.json" -X POST -H 'Content-Type: application/json' \
    -d '{"repo":"org/big","type":"model","revision":"main"}' "$URL_B/v1/mirror/jobs"
big=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$T/post.json" 2>/dev/null)
check "POST a job for org/big: 202 and the job with an id" \
    sh -c "[ '$(status "$T/h")' = 202 ] && [ -n '$big' ] && grep -q '\"repo\":\"org/big\"' '$T/post.json'"
# While the writer stores and commits org/big, B keeps serving org/tiny.
same=0 reads=0
while ! job_check "$big" 'j["state"] in ("done", "failed")'; do
	for i in 1 2 3 4 5; do
		curl -sSf "$URL_B/org/tiny/resolve/main/model.safetensors" |
		    cmp -s - "$T/tiny/model.safetensors" && same=$((same + 1))
		reads=$((reads + 1))
	done
	[ $reads -ge 5000 ] && break
done
check "  GET of the job follows it to done" job_check "$big" 'j["state"] == "done"'
check "  every read of org/tiny meanwhile was byte-exact ($same of $reads)" \
    test "$same" -eq "$reads"
big_sha=$(sha256sum <"$T/big/model.safetensors" | cut -d' ' -f1)
check "  and B serves org/big's weights byte for byte" sh -c \
    "[ \"\$(curl -sSf '$URL_B/org/big/resolve/main/model.safetensors' | sha256sum | cut -d' ' -f1)\" = '$big_sha' ]"

# --- a repository the upstream does not have ------------------------------------
nope=$(api -X POST -d '{"repo":"org/nope"}' "$URL_B/v1/mirror/jobs" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
check "a job for a repository A lacks fails" wait_for job_check "$nope" 'j["state"] == "failed"'
curl -sS -o /dev/null -D "$T/h" "$URL_A/api/models/org/nope/revision/main"
said=$(hdr X-Error-Message "$T/h")
check "  with A's words ($said)" job_check "$nope" \
    "'$said' in j['reason'] and j['error'] == 'not_found'"
curl -sS -o /dev/null -D "$T/h" "$URL_B/api/models/org/nope"
check "  and B has no such repository" test "$(status "$T/h")" = 404

# --- bad requests ----------------------------------------------------------------
bad_post() { api -o /dev/null -w '%{http_code}' -X POST -d "$1" "$URL_B/v1/mirror/jobs"; }
all_refused() {
	for b in '{"repo":"../x"}' '{"repo":"org/a","type":"space"}' \
	    '{"repo":"org/a","revision":"sha256:00"}' \
	    '{"repo":"org/a","upstream":"ftp://x"}' \
	    '{"repo":"org/a","token":"hf_xxxxxxxx"}' '{"repo":"org/a","repo":"org/b"}' \
	    '["org/a"]' 'not json'; do
		[ "$(bad_post "$b")" = 400 ] || { echo "$b: not 400"; return 1; }
	done
}
check "POST refuses a bad repo, type, revision, upstream or member with 400" all_refused
api -D "$T/h" -o /dev/null "$URL_B/v1/mirror/jobs/999999"
check "  GET of a job that does not exist: 404 JobNotFound" \
    sh -c "[ '$(status "$T/h")' = 404 ] && [ '$(hdr X-Error-Code "$T/h")' = JobNotFound ]"
check "  and none of them made a job" sh -c \
    "[ \$(curl -sS -H 'Authorization: Bearer $ADMIN' '$URL_B/v1/mirror/jobs' | python3 -c 'import json, sys; print(len(json.load(sys.stdin)))') = 4 ]"

# --- SIGHUP ----------------------------------------------------------------------
{ conf_b 0 | sed 's|^repos = org/tiny$|repos = org/tiny org/second|'
  printf '[mirror "part"]\nrepo = org/third@v1\ninclude = *.json\n'; } >"$T/b.conf"
kill -HUP "$AIRLOCKD_PID"
check "SIGHUP adding org/second to the section makes a job" wait_for job_of org/second
second=$(job_of org/second)
check "  which runs to done" wait_for job_check "$second" 'j["state"] == "done"'
check "  and B serves org/second's card" sh -c \
    "curl -sSf '$URL_B/org/second/resolve/main/README.md' | cmp -s - '$T/second/README.md'"
# The card and the licence come whatever the globs (airlock(1), pull).
jsons=$(cd "$T/second" && ls *.json README.md LICENSE | sort | tr '\n' ' ')
tree_v1() {
	wait_for job_of org/third part &&
	wait_for job_check "$(job_of org/third part)" 'j["state"] == "done"' &&
	[ "$(curl -sSf "$URL_B/api/models/org/third/tree/v1" | python3 -c '
import json, sys
print(" ".join(sorted(e["path"] for e in json.load(sys.stdin))) + " ")')" = "$jsons" ]
}
check "  and [mirror \"part\"], include = *.json, only the JSON files (and card, licence) at v1" tree_v1
check "  org/tiny's job was kept, not run again" job_check "$tiny" "j['runs'] == $tiny_runs"
{ conf_b 0; printf 'interval = soon\n'; } >"$T/b.conf"
kill -HUP "$AIRLOCKD_PID"
check "a bad SIGHUP names the section and the key" wait_for \
    grep -q '\[mirror "a"\] interval: "soon" is not a time' "$T/airlockd.log"
check "  and keeps the configuration in use" \
    wait_for grep -q 'keeping the configuration in use' "$T/airlockd.log"
check "  its admin token and its jobs too" job_check "$second" 'j["state"] == "done"'

# --- DELETE: a running job and a queued one ---------------------------------------
# An upstream that accepts and never answers keeps a job fetching.
python3 -c '
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
held = []
while True:
    c, _ = s.accept(); held.append(c)
' "$T/stall.port" &
STALL_PID=$!
kill_stall() { kill "$STALL_PID" 2>/dev/null; wait "$STALL_PID" 2>/dev/null; }
at_exit kill_stall
wait_for test -s "$T/stall.port"
stall="http://127.0.0.1:$(cat "$T/stall.port")"
run=$(api -X POST -d "{\"repo\":\"org/stalled\",\"upstream\":\"$stall\"}" \
    "$URL_B/v1/mirror/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
check "a job from an upstream that never answers is fetching" \
    wait_for job_check "$run" 'j["state"] == "fetching"'
queued=$(api -X POST -d '{"repo":"org/second","revision":"main"}' \
    "$URL_B/v1/mirror/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
check "  and one POSTed after it waits, queued" job_check "$queued" 'j["state"] == "queued"'
api -D "$T/h" -o "$T/del.json" -X DELETE "$URL_B/v1/mirror/jobs/$queued"
check "DELETE of the queued job cancels it at once (200)" sh -c \
    "[ '$(status "$T/h")' = 200 ] && grep -q '\"state\":\"cancelled\"' '$T/del.json'"
api -D "$T/h" -o /dev/null -X DELETE "$URL_B/v1/mirror/jobs/$run"
check "DELETE of the running job: 202" test "$(status "$T/h")" = 202
check "  and it ends cancelled, without waiting for the upstream" \
    wait_for job_check "$run" 'j["state"] == "cancelled"'
curl -sS -o /dev/null -D "$T/h" "$URL_B/api/models/org/stalled"
check "  leaving no revision" test "$(status "$T/h")" = 404
api -D "$T/h" -o /dev/null -X DELETE "$URL_B/v1/mirror/jobs/$run"
check "  a second DELETE: 409 JobEnded" sh -c \
    "[ '$(status "$T/h")' = 409 ] && [ '$(hdr X-Error-Code "$T/h")' = JobEnded ]"

# --- /metrics ---------------------------------------------------------------------
curl -sS "$URL_B/metrics" >"$T/metrics"
metric() { sed -n "s/^$1 //p" "$T/metrics"; }
check "/metrics: jobs by state, bytes fetched, failures by reason" sh -c "
    [ \"$(metric 'airlockd_mirror_jobs{state=\"done\"}')\" -ge 3 ] &&
    [ \"$(metric 'airlockd_mirror_jobs{state=\"cancelled\"}')\" = 2 ] &&
    [ \"$(metric 'airlockd_mirror_jobs{state=\"failed\"}')\" = 1 ] &&
    [ \"$(metric 'airlockd_mirror_failures_total{reason=\"not_found\"}')\" = 1 ] &&
    [ \"$(metric airlockd_mirror_fetched_bytes_total)\" -gt 152000000 ]"

# A counts downloads (it does not mirror): of org/tiny, the one config.json
# this test read from it, and none of B's jobs' fetches, which ran before.
a_downloads() {
	curl -sf "$URL_A/api/models?expand=downloads&search=org/tiny" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["downloads"])'
}
a_counted() { test "$(a_downloads)" -ge 1; }
check "A counts the download of org/tiny's config.json by curl" wait_for a_counted
check "  and none for B's jobs that fetched org/tiny from it" test "$(a_downloads)" -eq 1

run=$(api -X POST -d "{\"repo\":\"org/stalled\",\"upstream\":\"$stall\"}" \
    "$URL_B/v1/mirror/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
wait_for job_check "$run" 'j["state"] == "fetching"'
check "SIGTERM while a job is fetching: airlockd B stops cleanly" stop_daemon
check "store B verifies" "$AIRLOCK" --store "$B" verify --all
"$AIRLOCK" --store "$B" manifest org/tiny >"$T/m" &&
"$AIRLOCK" --store "$B" sig org/tiny >"$T/m.minisig" &&
"$AIRLOCK" --store "$B" key pub >"$T/b.pub"
check "  each mirrored revision carries a signature by B's key" test $? -eq 0
[ -n "${MINISIGN:-}" ] || MINISIGN=$(command -v minisign) || MINISIGN=
if [ -n "$MINISIGN" ]; then
	check "  that minisign -V accepts" \
	    "$MINISIGN" -V -q -p "$T/b.pub" -m "$T/m" -x "$T/m.minisig"
else
	ok "  that minisign -V accepts # SKIP minisign is not installed"
fi
"$AIRLOCK" --store "$B" ls >"$T/ls"
check "  and lists only the revisions that were committed" sh -c \
    "grep -q org/tiny '$T/ls' && grep -q org/big '$T/ls' && grep -q org/second '$T/ls' && ! grep -q -e org/stalled -e org/nope '$T/ls'"
kill -TERM "$PID_A"
wait "$PID_A"
check "airlockd A stops cleanly" test $? -eq 0
PID_A=
