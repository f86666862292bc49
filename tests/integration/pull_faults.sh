#!/bin/sh
# airlock pull from the fake Hub (tests/lib/fakehub.py) when the upstream
# misbehaves, a test each: a reset mid-file (resumed by Range, not
# refetched), a stall (cut and resumed), 503 then success, 429 with
# RateLimit (waited out: no request inside the window), RateLimit r=0 on
# a good answer (the next request waits as well), wrong bytes (refetched,
# or refused naming the file and both hashes, never committed), a file
# shorter or longer than the tree said, a tree page that fails
# (transiently: retried; persistently: refused naming it), a redirect
# loop, an absurd Content-Length.  Expected hashes come from sha256sum and
# git hash-object; what was fetched from the fake's own counts.  No
# assertion depends on timing: where a reset cuts depends on the load, so
# only a close, or a reset once the client has acknowledged every byte, is
# asserted to the byte.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/fakehub.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v git >/dev/null 2>&1 || skip_all "git is not installed"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT
HF_HOME=$T/hf; export HF_HOME
# Short back-offs, so that each retry costs a fraction of a second
# (airlock(1), ENVIRONMENT); a short stall time only for the stall.
AIRLOCK_RETRY_BACKOFF=100; export AIRLOCK_RETRY_BACKOFF

M=$T/model
sh "$top_srcdir/tests/lib/mkmodel.sh" "$M" 3000000 >/dev/null
python3 -c 'import os, base64; print(base64.b64encode(os.urandom(750000)).decode())' \
    >"$M/vocab.txt"
size=$(wc -c <"$M/model.safetensors")
vsize=$(wc -c <"$M/vocab.txt")
want256=$(sha256sum "$M/model.safetensors" | cut -d' ' -f1)
# The bytes the fake serves with the byte at 1000 flipped, hashed here.
bad256=$(python3 -c 'import hashlib, sys
d = bytearray(open(sys.argv[1], "rb").read()); d[1000] ^= 0xff
print(hashlib.sha256(d).hexdigest())' "$M/model.safetensors")

check "the fake Hub starts" start_fakehub --page-size 3 "model:org/tiny=$M"
commit=$(hub_stats 'd["commits"]["model/org/tiny"]')

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
fresh() { rm -rf "$S"; "$AIRLOCK" --store "$S" init >/dev/null && hub_clear; }
pulled() {
	al verify --all >/dev/null 2>&1 &&
	al checkout org/tiny "$T/co.$1" >/dev/null 2>&1 &&
	diff -r "$M" "$T/co.$1" >/dev/null &&
	al show org/tiny | grep -q "$commit"
}
# Nothing committed: no revision of org/tiny, and the store verifies.
nothing() {
	! al show org/tiny >/dev/null 2>&1 && [ -z "$(al ls)" ] &&
	al verify --all >/dev/null 2>&1
}
# The output of the last pull, kept for the assertions that follow it.
pull_ok() { check "$@"; cp "$T/.out" "$T/pull.out"; }
pull_fails() { fails "$@"; cp "$T/.out" "$T/pull.out"; }
said() { grep -q -- "$1" "$T/pull.out" || { cat "$T/pull.out"; return 1; }; }

# --- a reset mid-file ---------------------------------------------------------
fresh
hub_fault '{"kind": "reset", "path": "model.safetensors", "after": 1000000}'
pull_ok "a reset at 1 MB of model.safetensors: the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  the revision is whole and the upstream's commit" pulled reset
served=$(hub_stats 'sum(r["bytes"] for r in reqs("model.safetensors") if r["host"] == "cdn")')
resend=$((served - size))
check "  bytes sent again ($resend) < the file ($size)" test "$resend" -lt "$size"
# A reset drops what the fake had not sent yet, so where the range starts
# depends on the machine's load; a reset once the client has every byte
# sent, or a close after them, does not: the retry asks for the rest from
# the byte the cut was at, whenever the pull sees the end (issue 11: a
# retry from the wait for the headers, when the answer had already ended,
# asked for the whole file again, the bytes that had come thrown away).
# At 4096 bytes the cut comes with the headers, so the answer has mostly
# ended by the time the pull looks.
for f in reset:1000000:acked close:1000000 close:4096; do
	kind=${f%%:*} cut=${f#*:} acked=false
	case $cut in *:acked) cut=${cut%:acked} acked=true ;; esac
	fresh
	hub_fault '{"kind": "'$kind'", "path": "model.safetensors", "after": '$cut', "acked": '$acked'}'
	pull_ok "$kind at byte $cut of model.safetensors (acked: $acked): the pull succeeds" \
	    al pull org/tiny --from "$HUB"
	check "  whole" pulled $kind$cut
	cdn=$(hub_stats '[r["range"] for r in reqs("model.safetensors") if r["host"] == "cdn"]')
	check "  the retry asks for bytes=$cut- ($cdn)" \
	    test "$cdn" = "[None, 'bytes=$cut-']"
	served=$(hub_stats 'sum(r["bytes"] for r in reqs("model.safetensors") if r["host"] == "cdn")')
	check "  no byte sent twice ($served for $size)" test "$served" -eq "$size"
done

fresh
hub_fault '{"kind": "reset", "path": "vocab.txt", "after": 300000}'
pull_ok "a reset of a non-LFS file (resolve-cache): the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  whole" pulled reset2
served=$(hub_stats 'sum(r["bytes"] for r in reqs("vocab.txt") if r["status"] in (200, 206))')
check "  bytes sent again ($((served - vsize))) < the file ($vsize)" \
    test $((served - vsize)) -lt "$vsize"

fresh
hub_fault '{"kind": "reset", "path": "model.safetensors", "after": 1000000}'
hub_fault '{"kind": "norange", "path": "model.safetensors"}'
pull_ok "a reset, then a server that ignores the Range (200): the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  whole" pulled norange
check "  the second answer was the whole file again" test "$(hub_stats \
    '[(r["status"], r["bytes"]) for r in reqs("model.safetensors") if r["host"] == "cdn"][-1]')" = \
    "(200, $size)"

# --- a stall ------------------------------------------------------------------
fresh
hub_fault '{"kind": "stall", "path": "model.safetensors", "after": 500000}'
pull_ok "a stall after 500 kB (AIRLOCK_STALL_TIME=3): cut and resumed" \
    env AIRLOCK_STALL_TIME=3 "$AIRLOCK" --store "$S" pull org/tiny --from "$HUB"
check "  whole" pulled stall
served=$(hub_stats 'sum(r["bytes"] for r in reqs("model.safetensors") if r["host"] == "cdn")')
check "  bytes sent again ($((served - size))) < the file" \
    test $((served - size)) -lt "$size"
check "  resumed with a Range from where it stalled" test "$(hub_stats \
    '[r["range"] for r in reqs("model.safetensors") if r["host"] == "cdn"][-1]')" = "bytes=500000-"

# --- 503 then success ---------------------------------------------------------
fresh
hub_fault '{"kind": "status", "status": 503, "path": "config.json", "hop": "resolve", "count": 2}'
hub_fault '{"kind": "status", "status": 503, "path": "model.safetensors", "hop": "cdn", "count": 1}'
pull_ok "503 twice on a resolve, once on the CDN: the pull succeeds" \
    al --json pull org/tiny --from "$HUB"
check "  it counts three retries" said '"retries": 3,'
check "  whole" pulled 503
check "  config.json was resolved three times" \
    test "$(hub_stats 'len([r for r in reqs("config.json") if r["status"] in (307, 503)])')" -eq 3

# --- 429 with RateLimit -------------------------------------------------------
fresh
hub_fault '{"kind": "ratelimit", "path": "config.json", "hop": "resolve", "window": 2}'
pull_ok "429 with RateLimit t=2 and Retry-After: 2: the pull waits and succeeds" \
    al pull org/tiny --from "$HUB"
check "  whole" pulled 429
check "  no request inside the window" test "$(hub_stats 'd["early"]')" -eq 0
check "  one 429 in all" test "$(hub_stats \
    'len([r for r in d["requests"] if r["status"] == 429])')" -eq 1

fresh
hub_fault '{"kind": "ratelimit", "path": "model.safetensors", "hop": "resolve", "window": 1, "retry_after": false}'
pull_ok "429 with RateLimit t=1 and no Retry-After: waits t + 1, succeeds" \
    al pull org/tiny --from "$HUB"
check "  no request inside the window" test "$(hub_stats 'd["early"]')" -eq 0

fresh
hub_fault '{"kind": "pace", "path": "org/tiny", "hop": "tree", "window": 2}'
pull_ok "a tree page answered with RateLimit r=0;t=2: the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  the next request waited out the window (one limiter)" \
    test "$(hub_stats 'd["early"]')" -eq 0

# --- wrong bytes --------------------------------------------------------------
fresh
hub_fault '{"kind": "wrong", "path": "model.safetensors", "offset": 1000, "count": 1}'
pull_ok "wrong bytes from the CDN once: refetched, the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  whole" pulled wrong
check "  model.safetensors came twice from the CDN" test "$(hub_stats \
    'len([r for r in reqs("model.safetensors") if r["host"] == "cdn" and r["status"] == 200])')" -eq 2

fresh
hub_fault '{"kind": "wrong", "path": "model.safetensors", "offset": 1000, "count": -1}'
pull_fails "wrong bytes every time: refused, exit 1" 1 al pull org/tiny --from "$HUB"
check "  naming the file" said "model.safetensors"
check "  and the sha256 expected (${want256%"${want256#????????????}"})" \
    said "${want256%"${want256#????????????}"}"
check "  and the sha256 got (${bad256%"${bad256#????????????}"})" \
    said "${bad256%"${bad256#????????????}"}"
check "  nothing was committed" nothing

fresh
hub_fault '{"kind": "wrong", "path": "config.json", "offset": 3, "count": 1}'
pull_ok "wrong bytes of a non-LFS file once (its git sha1 fails): refetched" \
    al pull org/tiny --from "$HUB"
check "  whole" pulled wrong2
fresh
hub_fault '{"kind": "wrong", "path": "config.json", "offset": 3, "count": -1}'
pull_fails "wrong bytes of a non-LFS file every time: refused, exit 1" 1 \
    al pull org/tiny --from "$HUB"
gitsha=$(git hash-object "$M/config.json")
check "  naming the file and the git sha1 expected (${gitsha%"${gitsha#????????????}"})" \
    sh -c "grep -q config.json '$T/pull.out' && grep -q '${gitsha%"${gitsha#????????????}"}' '$T/pull.out'"
check "  nothing was committed" nothing

# --- a file shorter or longer than the tree said ------------------------------
fresh
hub_fault '{"kind": "short", "path": "config.json", "bytes": 10, "count": -1}'
pull_fails "config.json 10 bytes short: refused, exit 1" 1 al pull org/tiny --from "$HUB"
check "  naming the file and both sizes" sh -c \
    "grep -q 'config.json' '$T/pull.out' && grep -q '$(($(wc -c <"$M/config.json") - 10))' '$T/pull.out' && grep -q '$(wc -c <"$M/config.json")' '$T/pull.out'"
check "  nothing was committed" nothing

fresh
hub_fault '{"kind": "long", "path": "model.safetensors", "bytes": 100, "count": -1}'
pull_fails "model.safetensors 100 bytes long: refused, exit 1" 1 \
    al pull org/tiny --from "$HUB"
check "  naming the file and the sizes" sh -c \
    "grep -q 'model.safetensors' '$T/pull.out' && grep -q '$((size + 100))' '$T/pull.out'"
check "  nothing was committed" nothing

# --- the 302 says another file -------------------------------------------------
fresh
hub_fault '{"kind": "linked", "path": "model.safetensors", "size": "12", "count": -1}'
pull_fails "the LFS 302 says X-Linked-Size: 12: refused, exit 1" 1 \
    al pull org/tiny --from "$HUB"
check "  naming the file and the header" said "model.safetensors: .*X-Linked-Size 12"
check "  before any request to the CDN" test "$(hub_stats \
    'len([r for r in reqs("model.safetensors") if r["host"] == "cdn"])')" -eq 0
check "  nothing was committed" nothing
fresh
hub_fault "{\"kind\": \"linked\", \"path\": \"model.safetensors\", \"etag\": \"\\\"$bad256\\\"\", \"count\": -1}"
pull_fails "the LFS 302 says another sha256 (X-Linked-Etag): refused, exit 1" 1 \
    al pull org/tiny --from "$HUB"
check "  naming both hashes" sh -c "grep -q '$bad256' '$T/pull.out' && grep -q '$want256' '$T/pull.out'"
check "  before any request to the CDN" test "$(hub_stats \
    'len([r for r in reqs("model.safetensors") if r["host"] == "cdn"])')" -eq 0
fresh
hub_fault '{"kind": "linked", "path": "model.safetensors", "commit": "0123456789abcdef0123456789abcdef01234567", "count": -1}'
pull_fails "the LFS 302 answers for another commit (X-Repo-Commit): refused" 2 \
    al pull org/tiny --from "$HUB"
check "  naming both commits" sh -c "grep -q 0123456789abcdef0123456789abcdef01234567 '$T/pull.out' && grep -q '$commit' '$T/pull.out'"
check "  nothing was committed" nothing

# --- a tree page that fails ---------------------------------------------------
fresh
hub_fault '{"kind": "tree", "path": "org/tiny", "page": 1, "status": 500, "count": 1}'
pull_ok "the tree's second page fails once: retried, the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  whole (every page)" pulled tree

fresh
hub_fault '{"kind": "tree", "path": "org/tiny", "page": 1, "status": 500, "count": -1}'
pull_fails "the tree's second page fails every time: refused" 2 \
    al pull org/tiny --from "$HUB"
check "  naming the page and what the upstream said" sh -c \
    "grep -q 'page 2' '$T/pull.out' && grep -q 'HTTP 500' '$T/pull.out' && grep -q 'injected failure' '$T/pull.out'"
check "  nothing was committed" nothing

# --- a redirect loop ----------------------------------------------------------
fresh
hub_fault '{"kind": "loop", "path": "config.json"}'
pull_fails "a resolve that redirects to itself: refused" 2 al pull org/tiny --from "$HUB"
check "  saying so" said "redirects"
check "  after a bounded number of hops" test "$(hub_stats \
    'len(reqs("config.json"))')" -le 12
check "  nothing was committed" nothing

# --- an absurd Content-Length -------------------------------------------------
fresh
hub_fault '{"kind": "length", "path": "model.safetensors", "value": 100000000000000000, "count": -1}'
pull_fails "Content-Length: 100000000000000000 for a 3 MB file: refused" 1 \
    al pull org/tiny --from "$HUB"
check "  naming the file and the length" sh -c \
    "grep -q 'model.safetensors' '$T/pull.out' && grep -q 'Content-Length' '$T/pull.out' && grep -q '100000000000000000' '$T/pull.out'"
check "  nothing was committed" nothing

_fakehub_kill
done_testing
