#!/bin/sh
# airlock pull chained to another airlockd (MIRROR.md, "Chaining"): GET /v1/
# says it is one, even for a store that never published a release; the pull
# takes the manifest as its own bytes with the upstream's signatures (which
# minisign verifies), the same commit id, a byte-identical checkout; a
# revision whose safetensors header grew costs <= 1 % of the file on the
# wire, counted by the upstream's /metrics; a chunk tampered with on the way
# is refused, naming it, with nothing committed; and an upstream rolled
# back to an older release is refused.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
command -v minisign >/dev/null 2>&1 || skip_all "minisign is not installed"

plan 37

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HF_HOME=$T/hf; export HF_HOME
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
# The upstream's count of body bytes sent, from its /metrics.
sent() {
	curl -sS "$URL/metrics" | sed -n 's/^airlockd_body_bytes_total //p'
}
requests() {
	curl -sS "$URL/metrics" | awk -v r="route=\"$1\"" \
	    'index($0, r) { split($0, f, " "); n += f[2] } END { print n + 0 }'
}
main_of() { b --json show org/m | python3 -c \
    'import json, sys; print(json.load(sys.stdin)["commit"])'; }

# 64 MiB of weights: a chunk of the largest size (512 KiB) is 0.8 % of it.
size=67108864
head -c "$size" /dev/urandom >"$T/weights"
mk() { sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m$1" "$size" "$2" \
    "$T/weights" >/dev/null; }
mk 1 0

a init >/dev/null && a key gen --no-password --name alice >/dev/null &&
    a add "$T/m1" --repo org/m >/dev/null
check "A: a store with org/m, signed by alice" test $? -eq 0
a key pub alice >"$T/alice.pub"
alice=$(sed -n 's/^untrusted comment: minisign public key //p' "$T/alice.pub")

check "airlockd serves A" start_daemon "$A"
curl -sS "$URL/v1/" >"$T/index.json"
check "GET /v1/ of a store that never published a release: an airlockd" \
    python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))["airlock"]
assert d["api"] == 1, d
assert d["version"] == sys.argv[2], d
assert re.fullmatch("[0-9a-f]{32}", d["store"]), d
assert {"refs", "manifests", "signatures", "blobs", "chunks"} <= set(d["offers"]), d
assert "release" not in d["offers"], d
' "$T/index.json" "$("$AIRLOCK" --version | awk '{print $NF}')"

b init >/dev/null && b key gen --no-password --name bob >/dev/null
check "B: pull org/m from A" b pull org/m --from "$URL"
printed=$(last_output)
[ "$(requests v1_chunk)" -gt 0 ] && [ "$(requests resolve)" -eq 0 ] &&
    ok "  chained: chunks by /v1/, no file by the Hub's resolve" ||
    not_ok "  chained: v1_chunk $(requests v1_chunk), resolve $(requests resolve)"
commit=$(curl -sS -o /dev/null -D - "$URL/org/m/resolve/main/config.json" |
    tr -d '\r' | sed -n 's/^[Xx]-[Rr]epo-[Cc]ommit: //p')
check "  the upstream's commit id ($commit)" sh -c \
    "echo '$printed' | grep -Eq '^org/m@$commit sha256:[0-9a-f]{64}\$'"
check "  verify --all passes" b verify --all
check "  the checkout is the folder added upstream, byte for byte" sh -c \
    "'$AIRLOCK' --store '$B' checkout org/m '$T/out1' && diff -r '$T/m1' '$T/out1'"
a manifest org/m >"$T/manifest.a"
b manifest org/m >"$T/manifest.b"
check "  the manifest is the upstream's, byte for byte" cmp "$T/manifest.a" \
    "$T/manifest.b"
b sig org/m "$alice" >"$T/alice.minisig"
check "  alice's signature came with it, and minisign -V accepts it" \
    minisign -V -q -p "$T/alice.pub" -m "$T/manifest.b" -x "$T/alice.minisig"
b --json show org/m >"$T/show.json"
check "  B lists both signatures: alice's and its own" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ids = {s["keyid"] for s in d["signatures"]}
assert sys.argv[2] in ids and len(ids) == 2, ids
' "$T/show.json" "$alice"
b --json pull org/m --from "$URL" >"$T/again.json"
check "  a second pull is unchanged: the probe and the refs, nothing more" \
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["unchanged"] is True and d["requests"] == 2, d
' "$T/again.json"

# --- the header grew: only the chunks around it move ---------------------------
mk 2 100
a add "$T/m2" --repo org/m >/dev/null
before=$(sent)
check "B: pull the revision whose header grew by 100 bytes" b pull org/m \
    --from "$URL"
after=$(sent)
file=$(wc -c <"$T/m2/model.safetensors")
ratio=$(python3 -c "print('%.4f' % (($after - $before) / $file))")
diag "wire bytes $((after - before)) / file $file = $ratio"
python3 -c "import sys; sys.exit(0 if $ratio <= 0.01 else 1)" &&
    ok "  bytes on the wire <= 1 % of the file ($ratio)" ||
    not_ok "  bytes on the wire $((after - before)) > 1 % of $file ($ratio)"
check "  the checkout is the new folder, byte for byte" sh -c \
    "'$AIRLOCK' --store '$B' checkout org/m '$T/out2' && diff -r '$T/m2' '$T/out2'"
good=$(main_of)

# --- a chunk tampered with on the way --------------------------------------------
mk 3 200
a add "$T/m3" --repo org/m >/dev/null
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy.port" &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; }
at_exit stop_proxy
wait_for test -s "$T/proxy.port"
fails "a tampered chunk: the pull is refused" 1 b pull org/m \
    --from "http://127.0.0.1:$(cat "$T/proxy.port")"
diag "$(last_output)"
last_output | grep -Eq 'model.safetensors: chunk [0-9]+ \(sha256:[0-9a-f]{64}, offset [0-9]+\).*do not match' &&
    ok "  naming the file and the chunk" ||
    { diag "$(last_output)"; not_ok "  naming the file and the chunk"; }
[ "$(main_of)" = "$good" ] && ok "  nothing committed: main is where it was" ||
    not_ok "  main moved to $(main_of)"
stop_proxy
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy2.port" flip \
    /v1/manifests/ &
proxy=$!
wait_for test -s "$T/proxy2.port"
fails "a tampered manifest: the pull is refused" 1 b pull org/m \
    --from "http://127.0.0.1:$(cat "$T/proxy2.port")"
last_output | grep -Eq 'manifest sha256:[0-9a-f]{64}: .*do not hash to it' &&
    [ "$(main_of)" = "$good" ] && ok "  naming it; nothing committed" ||
    { diag "$(last_output)"; not_ok "  naming it; nothing committed"; }
stop_proxy

python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy4.port" replace \
    /v1/ '"api":1' '"api":2' &
proxy=$!
wait_for test -s "$T/proxy4.port"
fails "an airlockd of another API version: refused (exit 2)" 2 b pull org/m \
    --from "http://127.0.0.1:$(cat "$T/proxy4.port")"
last_output | grep -q 'API is version 2; this airlock speaks version 1' &&
    [ "$(main_of)" = "$good" ] && ok "  saying so; nothing committed" ||
    { diag "$(last_output)"; not_ok "  saying so; nothing committed"; }
stop_proxy

# --- a partial pull: a manifest of its own, by the Hub's sequence ----------------
resolves=$(requests resolve)
"$AIRLOCK" --store "$T/C" init >/dev/null
check "a pull with --include from an airlockd" "$AIRLOCK" --store "$T/C" \
    pull org/m --from "$URL" --include '*.json'
got=$("$AIRLOCK" --store "$T/C" manifest org/m | python3 -c \
    'import json, sys; print(" ".join(f["path"] for f in json.load(sys.stdin)["files"]))')
# The card and the licence come whatever the globs (airlock(1)).
[ "$got" = "LICENSE README.md config.json generation_config.json tokenizer.json tokenizer_config.json" ] &&
    [ "$(requests resolve)" -gt "$resolves" ] &&
    ok "  only those files, by the Hub's sequence" ||
    not_ok "  files: $got; resolve requests $resolves -> $(requests resolve)"

# --- by a short commit id: that revision, and no branch named after it --------
short=$(echo "$commit" | cut -c1-7)
"$AIRLOCK" --store "$T/D" init >/dev/null
check "a pull of org/m@$short, the first revision's short commit id" \
    "$AIRLOCK" --store "$T/D" pull "org/m@$short" --from "$URL"
"$AIRLOCK" --store "$T/D" --json show "org/m@$commit" >"$T/short.json"
check "  it is that commit, and no ref moved" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["commit"] == sys.argv[2] and d["refs"] == [], d
' "$T/short.json" "$commit"

# --- a rollback of the upstream's release -----------------------------------------
check "B trusts alice" b trust add "$T/alice.pub"
mk 5 250
a add "$T/m5" --repo org/m >/dev/null
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy3.port" replace \
    /v1/signatures/ 'repo=org/m' 'repo=org/x' &
proxy=$!
wait_for test -s "$T/proxy3.port"
fails "alice's signature altered on the way: the pull is refused" 1 b pull \
    org/m --from "http://127.0.0.1:$(cat "$T/proxy3.port")"
last_output | grep -q "signature by key $alice does not verify" &&
    [ "$(main_of)" = "$good" ] && ok "  naming her key; nothing committed" ||
    { diag "$(last_output)"; not_ok "  naming her key; nothing committed"; }
stop_proxy
a export org/m -o "$T/r1.bundle" >/dev/null
curl -sS "$URL/v1/" | python3 -c '
import json, sys
assert "release" in json.load(sys.stdin)["airlock"]["offers"]' &&
    ok "GET /v1/ offers the release once one is published" ||
    not_ok "GET /v1/ does not offer the release published"
stop_daemon
cp -a "$A" "$T/A-old"	# the upstream as it was at release 1
start_daemon "$A"
a export org/m -o "$T/r2.bundle" >/dev/null
check "B: pull from A at release 2" b pull org/m --from "$URL"
stop_daemon
mk 4 300
"$AIRLOCK" --store "$T/A-old" add "$T/m4" --repo org/m >/dev/null
start_daemon "$T/A-old"
before=$(main_of)
fails "the upstream rolled back to release 1: refused" 1 b pull org/m \
    --from "$URL"
diag "$(last_output)"
last_output | grep -q 'rollback' && ok "  as a rollback" ||
    { diag "$(last_output)"; not_ok "  as a rollback"; }
[ "$(main_of)" = "$before" ] && ok "  nothing committed" ||
    not_ok "  main moved to $(main_of)"
stop_daemon

# --- an upstream that hides its release, once one was taken from it ----------
start_daemon "$A"
mk 6 350
a add "$T/m6" --repo org/m >/dev/null && a export org/m -o "$T/r3.bundle" >/dev/null
port=$(free_port)
FLIPPROXY_PORT=$port python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" \
    "$T/proxy5.port" hide /nothing &
proxy=$!
wait_for test -s "$T/proxy5.port"
check "B: pull release 3 through http://127.0.0.1:$port" b pull org/m \
    --from "http://127.0.0.1:$port"
stop_proxy
mk 7 400
a add "$T/m7" --repo org/m >/dev/null
FLIPPROXY_PORT=$port python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" \
    "$T/proxy6.port" hide /v1/release &
proxy=$!
wait_for test -s "$T/proxy6.port"
before=$(main_of)
fails "the same upstream without its release: refused" 1 b pull org/m \
    --from "http://127.0.0.1:$port"
last_output | grep -q "publishes no release, and this store took releases by key $alice" &&
    [ "$(main_of)" = "$before" ] && ok "  naming the key; nothing committed" ||
    { diag "$(last_output)"; not_ok "  naming the key; nothing committed"; }
stop_proxy
stop_daemon
