#!/bin/sh
# airlockd's mirror jobs with the fake Hub (tests/lib/fakehub.py) as the
# upstream, its CDN on a port of its own: a job for a gated repository
# fails with the Hub's words without a token and with one not approved,
# and runs to done with token-file naming the approved one; airlockd then
# serves the revision byte for byte (sha256sum) with the fake's commit id
# in X-Repo-Commit; the CDN never saw an Authorization header; a 429 and
# a spent RateLimit window hold every job (one limiter: the fake counts
# no request inside a window), per host: a window A's Hub spent holds
# neither A's CDN nor a second fake, upstream B; bytes fetched (of a job
# and in /metrics) are the bytes of the bodies the fakes sent, those sent
# twice included, and bytes held those of the files the store had;
# /metrics counts the failures by reason; a mirroring airlockd counts no
# downloads.  What was asked and sent comes from the fakes' own record;
# waits are on the jobs' states.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/fakehub.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

ADMIN=hf_TheAdminOfThisMirror
M=$T/gated
sh "$top_srcdir/tests/lib/mkmodel.sh" "$M" 2000000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/tiny" 1000000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/other" 500000 >/dev/null
# The last file org/tiny fetches is in LFS: its resolve is the job's last
# request of the Hub (the bytes come from the CDN).
head -c 300000 /dev/urandom >"$T/tiny/weights.safetensors"
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/late" 400000 >/dev/null
head -c 200000 /dev/urandom >"$T/late/weights.safetensors"
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/refetch" 600000 >/dev/null
head -c 200000 /dev/urandom >"$T/refetch/weights.safetensors"
cat >"$T/spec.json" <<EOF
{"page_size": 3, "repos": [
 {"type": "model", "id": "org/gated", "dir": "$M", "gated": true,
  "tokens": {"hf_approved": "approved", "hf_pending": "pending"}},
 {"type": "model", "id": "org/tiny", "dir": "$T/tiny"},
 {"type": "model", "id": "org/other", "dir": "$T/other"},
 {"type": "model", "id": "org/late", "dir": "$T/late"},
 {"type": "model", "id": "org/refetch", "dir": "$T/refetch"}]}
EOF
printf 'hf_approved\n' >"$T/approved.token"
printf 'hf_pending\n' >"$T/pending.token"

check "the fake Hub starts" start_fakehub --spec "$T/spec.json"
check "  its CDN on a port of its own ($CDN_PORT)" test "$CDN_PORT" != "${HUB##*:}"
commit=$(hub_stats 'd["commits"]["model/org/gated"]')

B=$T/b
"$AIRLOCK" --store "$B" init >/dev/null &&
"$AIRLOCK" --store "$B" key gen --no-password >/dev/null
check "store B has a signing key without a passphrase" test $? -eq 0
# conf SECTION [TOKEN-FILE]: org/gated mirrored by [mirror "SECTION"].
conf() {
	cat <<EOF
upstream = $HUB
downloads-flush = 1
[admin]
token = $ADMIN
[mirror "$1"]
repos = org/gated
EOF
	[ -z "${2:-}" ] || printf 'token-file = %s\n' "$2"
}

api() { curl -sS -H "Authorization: Bearer $ADMIN" "$@"; }
# job_check ID PYTHON-EXPR: the expression over the job j is true.
job_check() {
	api "$URL/v1/mirror/jobs/$1" | python3 -c '
import json, sys
j = json.load(sys.stdin)
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
# job_of REPO SECTION: the id of the job the section has for REPO.
job_of() {
	api "$URL/v1/mirror/jobs" | python3 -c '
import json, sys
print([j["id"] for j in json.load(sys.stdin) if j["repo"] == sys.argv[1] and j["mirror"] == sys.argv[2]][0])' "$1" "$2"
}
post() {
	api -X POST -d "{\"repo\":\"$1\"}" "$URL/v1/mirror/jobs" |
	    python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'
}
hdr() { tr -d '\r' <"$2" | sed -n "s/^$1: //Ip" | head -n 1; }
# What the fake sent of files' bodies (the CDN's and the resolve-cache's
# 2xx answers), since the last hub_clear.
BODIES='sum(r["bytes"] for r in d["requests"] if r["status"] in (200, 206) and (r["host"] == "cdn" or r["path"].startswith("/api/resolve-cache/")))'
sent_total=0

# --- (a) gated, no token -----------------------------------------------------------
# The fake's words, as it answers a client without a token.
curl -sS -o /dev/null -D "$T/h" "$HUB/org/gated/resolve/main/config.json"
said=$(hdr X-Error-Message "$T/h")
check "the fake refuses config.json of org/gated without a token: GatedRepo" \
    test "$(hdr X-Error-Code "$T/h")" = GatedRepo
hub_clear
conf anonymous >"$T/b.conf"
check "airlockd B starts, mirroring org/gated without a token" \
    start_daemon "$B" -c "$T/b.conf"
anon=$(job_of org/gated anonymous)
check "the job without a token fails" wait_for job_check "$anon" 'j["state"] == "failed"'
listed_failed() {
	api "$URL/v1/mirror/jobs" | python3 -c '
import json, sys
j = [j for j in json.load(sys.stdin) if j["id"] == int(sys.argv[1])][0]
sys.exit(0 if j["state"] == "failed" and j["error"] == "gated" and
    "HTTP 401" in j["reason"] and "GatedRepo" in j["reason"] and
    sys.argv[2] in j["reason"] else 1)' "$1" "$2"
}
check "  GET /v1/mirror/jobs says failed, gated, with the Hub's words ($said)" \
    listed_failed "$anon" "$said"
check "  and B has no revision of org/gated" sh -c \
    "[ \"\$(curl -sS -o /dev/null -w '%{http_code}' '$URL/api/models/org/gated')\" = 404 ]"
sent=$(hub_stats "$BODIES")
check "  its bytes_fetched is what the fake sent of bodies ($sent)" \
    job_check "$anon" "j['bytes_fetched'] == $sent"
sent_total=$((sent_total + sent))

# --- (b) a token not approved ---------------------------------------------------------
curl -sS -o /dev/null -D "$T/h" -H 'Authorization: Bearer hf_pending' \
    "$HUB/org/gated/resolve/main/config.json"
said=$(hdr X-Error-Message "$T/h")
hub_clear
conf pending "$T/pending.token" >"$T/b.conf"
kill -HUP "$AIRLOCKD_PID"
check "SIGHUP: [mirror \"pending\"], a token not approved, makes a job" \
    wait_for job_of org/gated pending
pending=$(job_of org/gated pending)
check "  which fails" wait_for job_check "$pending" 'j["state"] == "failed"'
check "  gated, with the Hub's words (403 GatedRepo: $said)" job_check "$pending" \
    "j['error'] == 'gated' and 'HTTP 403' in j['reason'] and 'GatedRepo' in j['reason'] and '''$said''' in j['reason']"
sent=$(hub_stats "$BODIES")
sent_total=$((sent_total + sent))

# --- (c) token-file naming the approved token --------------------------------------
hub_clear
conf approved "$T/approved.token" >"$T/b.conf"
kill -HUP "$AIRLOCKD_PID"
check "SIGHUP: [mirror \"approved\"] with token-file makes a job" \
    wait_for job_of org/gated approved
approved=$(job_of org/gated approved)
check "  which runs to done" wait_for job_check "$approved" 'j["state"] == "done"'
check "  with the fake's commit id ($commit)" job_check "$approved" \
    "j['commit'] == '$commit' and j['files'] == 7"
sent=$(hub_stats "$BODIES")
check "  its bytes_fetched is what the fake sent of bodies ($sent)" \
    job_check "$approved" "j['bytes_fetched'] == $sent"
sent_total=$((sent_total + sent))
serves() {
	(cd "$1" && find . -type f | sed 's|^\./||') | while IFS= read -r f; do
		want=$(sha256sum <"$1/$f" | cut -d' ' -f1)
		got=$(curl -sSf "$URL/$2/resolve/main/$f" | sha256sum | cut -d' ' -f1)
		[ "$want" = "$got" ] || { echo "$f: $got, wanted $want"; return 1; }
	done
}
check "B serves every file of org/gated byte for byte (sha256sum)" serves "$M" org/gated
curl -sS -o /dev/null -D "$T/h" "$URL/org/gated/resolve/main/model.safetensors"
check "  with the fake's commit id in X-Repo-Commit" \
    test "$(hdr X-Repo-Commit "$T/h")" = "$commit"

# --- (d) the CDN and the token ---------------------------------------------------------
check "the job sent its token to the Hub" test "$(hub_stats \
    'len([r for r in d["requests"] if r["host"] == "hub" and r["auth"]])')" -gt 0
check "  and fetched model.safetensors from the CDN" test "$(hub_stats \
    'len([r for r in reqs("model.safetensors") if r["host"] == "cdn" and r["status"] == 200])')" -eq 1
check "  which never saw an Authorization header (the fake's count)" sh -c "
    [ '$(hub_stats 'd["cdn_auth"]')' -eq 0 ] &&
    [ '$(hub_stats 'len([r for r in d["requests"] if r["host"] == "cdn" and r["auth"]])')' -eq 0 ]"

# --- downloads -------------------------------------------------------------------
# A mirroring airlockd has one writer, the mirror's: it counts no
# downloads (airlockd.conf(5), downloads-flush), the jobs' fetches least
# of all, though a client read config.json above.
check "a mirroring airlockd says it counts no downloads" \
    grep -q 'mirroring: downloads are not counted' "$T/airlockd.log"
check "  and org/gated has none" test "$(curl -sf \
    "$URL/api/models?expand=downloads&search=org/gated" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["downloads"])')" -eq 0

# --- (e) 429 and a spent window while two jobs run: one limiter -----------------------
hub_clear
# (model.safetensors: the files that are the same in org/gated are held)
hub_fault '{"kind": "ratelimit", "path": "model.safetensors", "hop": "resolve", "window": 2}'
hub_fault '{"kind": "pace", "path": "weights.safetensors", "hop": "resolve", "window": 3}'
tiny=$(post org/tiny)
other=$(post org/other)
check "two jobs POSTed: org/tiny runs to done" wait_for job_check "$tiny" 'j["state"] == "done"'
check "  and org/other after it" wait_for job_check "$other" 'j["state"] == "done"'
check "  the fake answered one 429" test "$(hub_stats \
    'len([r for r in d["requests"] if r["status"] == 429])')" -eq 1
check "  org/tiny counts it as a retry" job_check "$tiny" 'j["retries"] == 1'
check "  no request of either came inside a window (the fake's count)" \
    test "$(hub_stats 'd["early"]')" -eq 0
# The window org/tiny's last request to the Hub spent held org/other's
# first: it came 3 s after, by the fake's clock.
check "  org/other's first request came after the window org/tiny's last spent" \
    test "$(hub_stats '[r["t"] for r in d["requests"] if "org/other" in r["path"]][0] - [r["t"] for r in reqs("weights.safetensors") if r["status"] == 302 and "org/tiny" in r["path"]][0] >= 3')" = True
check "B serves org/tiny byte for byte (sha256sum)" serves "$T/tiny" org/tiny
check "  and org/other" serves "$T/other" org/other
sent=$(hub_stats "$BODIES")
sent_total=$((sent_total + sent))

# --- (f) /metrics -------------------------------------------------------------------
curl -sS "$URL/metrics" >"$T/metrics"
metric() { sed -n "s/^$1 //p" "$T/metrics"; }
check "/metrics: bytes fetched are what the fake sent of bodies ($sent_total)" \
    test "$(metric airlockd_mirror_fetched_bytes_total)" -eq "$sent_total"
check "  two failures, gated" sh -c "
    [ '$(metric 'airlockd_mirror_failures_total{reason="gated"}')' -eq 2 ] &&
    [ '$(metric 'airlockd_mirror_failures_total{reason="auth"}')' -eq 0 ]"
check "  jobs by state: three done" \
    test "$(metric 'airlockd_mirror_jobs{state="done"}')" -eq 3
check "  one retry" test "$(metric airlockd_mirror_retries_total)" -eq 1

# --- the limiter holds a host, not every host --------------------------------------
# A second fake Hub, upstream B; the first is A.  A's window spent on the
# resolve of org/late's last file holds A's Hub, not A's CDN, and not B.
HUB_A=$HUB
PID_HUB_A=$FAKEHUB_PID
FAKEHUB_PID=
kill_hub_a() { kill -TERM "$PID_HUB_A" 2>/dev/null; wait "$PID_HUB_A" 2>/dev/null; }
at_exit kill_hub_a
check "a second fake Hub starts (upstream B)" start_fakehub "model:org/elsewhere=$T/late"
HUB_B=$HUB
HUB=$HUB_A
hub_clear
curl -sf --max-time 10 -X POST "$HUB_B/_clear" >/dev/null
hub_fault '{"kind": "pace", "path": "weights.safetensors", "hop": "resolve", "window": 6}'
late=$(post org/late)
elsewhere=$(api -X POST -d "{\"repo\":\"org/elsewhere\",\"upstream\":\"$HUB_B\"}" \
    "$URL/v1/mirror/jobs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
again=$(post org/other)
wait_for job_check "$late" 'j["state"] == "done"' &&
wait_for job_check "$elsewhere" 'j["state"] == "done"' &&
wait_for job_check "$again" 'j["state"] == "done"'
check "org/late from A, org/elsewhere from B, org/other from A again: done" test $? -eq 0
paced=$(hub_stats '[r["t"] for r in reqs("weights.safetensors") if r["status"] == 302][0]')
cdn=$(hub_stats '[r["t"] for r in reqs("weights.safetensors") if r["host"] == "cdn"][0]')
first_b=$(hub_stats '[r["t"] for r in d["requests"] if not r["path"].startswith("/_")][0]' "$HUB_B")
next_a=$(hub_stats '[r["t"] for r in d["requests"] if "org/other" in r["path"]][0]')
within() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) < 6 else 1)' "$@"; }
check "  A's CDN was asked for weights.safetensors inside A's window (by A's clock)" \
    within "$paced" "$cdn"
check "  B was asked inside A's window (B's first request, by the fakes' clock)" \
    within "$paced" "$first_b"
check "  A's Hub was asked nothing inside it (A's count)" test "$(hub_stats 'd["early"]')" -eq 0
check "  and B's job was never held: no request of B's was refused" test "$(hub_stats \
    'len([r for r in d["requests"] if r["status"] == 429])' "$HUB_B")" -eq 0
check "  the job after it, from A again, waited for A's window" python3 -c '
import sys; sys.exit(0 if float(sys.argv[2]) - float(sys.argv[1]) >= 6 else 1)' "$paced" "$next_a"
check "B serves org/elsewhere byte for byte" serves "$T/late" org/elsewhere
sent_total=$((sent_total + $(hub_stats "$BODIES") + $(hub_stats "$BODIES" "$HUB_B")))

# --- what the jobs count: the bytes on the wire, and the bytes held ------------------
# model.safetensors is cut at 100 kB, then sent whole to the Range that
# asks for the rest (the first 100 kB twice); weights.safetensors fails
# its hash once and is sent twice.
hub_clear
hub_fault '{"kind": "close", "path": "model.safetensors", "after": 100000}'
hub_fault '{"kind": "norange", "path": "model.safetensors"}'
hub_fault '{"kind": "wrong", "path": "weights.safetensors", "offset": 1000}'
refetch=$(post org/refetch)
check "a job cut at 100 kB, answered 200 to its Range, fed wrong bytes once: done" \
    wait_for job_check "$refetch" 'j["state"] == "done"'
size=$(wc -c <"$T/refetch/model.safetensors")
wsize=$(wc -c <"$T/refetch/weights.safetensors")
check "  the fake sent model.safetensors and 100 kB of it again" test "$(hub_stats \
    'sum(r["bytes"] for r in reqs("model.safetensors") if r["host"] == "cdn")')" -eq $((size + 100000))
check "  and weights.safetensors twice" test "$(hub_stats \
    'sum(r["bytes"] for r in reqs("weights.safetensors") if r["host"] == "cdn")')" -eq $((2 * wsize))
sent=$(hub_stats "$BODIES")
check "  bytes_fetched is every byte of the bodies the fake sent ($sent)" \
    job_check "$refetch" "j['bytes_fetched'] == $sent"
sent_total=$((sent_total + sent))
# The files the fake sent no body of were in the store (the same bytes in
# org/tiny and the others): sized by wc, their sum is what the job held.
hub_stats 'sorted(set(r["file"] for r in d["requests"] if r["status"] in (200, 206) and (r["host"] == "cdn" or r["path"].startswith("/api/resolve-cache/"))))' >"$T/sent.files"
held=$(python3 -c '
import ast, os, sys
sent = ast.literal_eval(open(sys.argv[2]).read())
top = sys.argv[1]
print(sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(top)
    for f in fs if os.path.relpath(os.path.join(r, f), top) not in sent))' \
    "$T/refetch" "$T/sent.files")
check "  bytes_held is the files' the fake sent no body of ($held)" \
    job_check "$refetch" "j['bytes_held'] == $held > 0"
curl -sS "$URL/metrics" >"$T/metrics"
check "/metrics: bytes fetched are what both fakes sent of bodies ($sent_total)" \
    test "$(metric airlockd_mirror_fetched_bytes_total)" -eq "$sent_total"
jobs_held=$(api "$URL/v1/mirror/jobs" | python3 -c 'import json, sys; print(sum(j["bytes_held"] for j in json.load(sys.stdin)))')
check "  bytes held are the jobs' ($jobs_held)" \
    test "$(metric airlockd_mirror_held_bytes_total)" -eq "$jobs_held"

check "airlockd B stops cleanly" stop_daemon
check "store B verifies" "$AIRLOCK" --store "$B" verify --all
done_testing
