#!/bin/sh
# The licence gate (airlock policy): a policy set from YAML is shown back
# canonically and a bad one changes nothing; a denied licence stops an add
# (the store unchanged) and a pull before any weight is fetched (the
# upstream airlockd's own body byte counter says how much it sent);
# --force --reason passes and the reflog (read with lmdb's mdb_dump) has
# the reason; airlockd answers 403 PolicyDenied for the files of the
# refused revision (headers and JSON body, read by curl and python); a
# trusted review (review.sh tests the statement itself) lets it through.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v mdb_dump >/dev/null 2>&1 || skip_all "mdb_dump (lmdb-utils) is not installed"

plan 50

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HF_HOME=$T/hf; export HF_HOME
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

weights=3000000
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" $weights >/dev/null
# A fine-tune of Llama 3.1 that says so: its terms govern it.
python3 - "$T/model/README.md" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("license: apache-2.0", "license: llama3.1")
open(p, "w").write(s)
PY
"$AIRLOCK" --store "$T/up" init >/dev/null &&
"$AIRLOCK" --store "$T/up" add "$T/model" --repo org/llamaft >/dev/null
check "the upstream store has org/llamaft" test $? -eq 0

# No policy set: nothing is judged, so not even a licence table is needed
# (the README's demo, from a tree that was never installed).
"$AIRLOCK" --store "$T/nopolicy" init >/dev/null
check "with no policy, add needs no licence table" env \
    AIRLOCK_LICENCES="$T/no-such-table.json" \
    "$AIRLOCK" --store "$T/nopolicy" add "$T/model" --repo org/llamaft

"$AIRLOCK" --store "$T/down" init >/dev/null
printf 'deny: [llama3.1]\nrefuse_flags: [incompatible-merge]\n' >"$T/policy.yaml"
check "policy set takes a YAML policy" \
    "$AIRLOCK" --store "$T/down" policy set "$T/policy.yaml"
"$AIRLOCK" --store "$T/down" --json policy show >"$T/shown.json"
check "policy show gives it back canonically" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["deny"] == ["llama3.1"], d
assert d["refuse_flags"] == ["incompatible-merge"], d
assert d["allow_unknown_lineage"] is True, d' "$T/shown.json"
printf '{"deny": ["llama3.1"], "refuse_flags": ["no-such-flag"]}\n' >"$T/bad.json"
fails "a bad policy file is refused" 2 \
    "$AIRLOCK" --store "$T/down" policy set "$T/bad.json"
cp "$T/.out" "$T/bad.err"
check "naming the file, the key and the value" sh -c \
    "grep -q 'bad.json' '$T/bad.err' && grep -q 'refuse_flags' '$T/bad.err' && grep -q 'no-such-flag' '$T/bad.err'"
"$AIRLOCK" --store "$T/down" --json policy show >"$T/shown2.json"
check "and the old policy stays" cmp "$T/shown.json" "$T/shown2.json"

# add: refused before a byte is stored.
"$AIRLOCK" --store "$T/down" --json stats >"$T/stats.before"
fails "add of a denied licence exits 1" 1 \
    "$AIRLOCK" --store "$T/down" add "$T/model" --repo org/llamaft
cp "$T/.out" "$T/add.err"
check "saying why" grep -q "llama3.1 is denied" "$T/add.err"
"$AIRLOCK" --store "$T/down" --json stats >"$T/stats.after"
check "the store is unchanged (stats)" cmp "$T/stats.before" "$T/stats.after"

# A HF cache folder (as huggingface_hub lays it out) is imported through
# the same gate.
hub=$T/hub/models--org--cached
hcommit=0123456789abcdef0123456789abcdef01234567
mkdir -p "$hub/blobs" "$hub/refs" "$hub/snapshots/$hcommit"
for f in README.md config.json; do
	cp "$T/model/$f" "$hub/blobs/$f.blob"
	ln -s "../../blobs/$f.blob" "$hub/snapshots/$hcommit/$f"
done
printf %s "$hcommit" >"$hub/refs/main"
fails "import of a HF cache folder of a denied licence exits 1" 1 \
    "$AIRLOCK" --store "$T/down" import "$hub"
cp "$T/.out" "$T/hub.err"
check "refused by the policy" grep -q "llama3.1 is denied" "$T/hub.err"
"$AIRLOCK" --store "$T/down" --json stats >"$T/stats.after2"
check "the store is unchanged (stats)" cmp "$T/stats.before" "$T/stats.after2"

# pull: refused on the card, before the weights.
check "airlockd starts on the upstream store" start_daemon "$T/up"
UP=$URL
python3 "$top_srcdir/tests/lib/flipproxy.py" "$UP" "$T/proxy.port" hide &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; }
at_exit stop_proxy
wait_for test -s "$T/proxy.port"
HUB=http://127.0.0.1:$(cat "$T/proxy.port")
body_bytes() {
	curl -sf "$UP/metrics" | sed -n 's/^airlockd_body_bytes_total //p'
}
b0=$(body_bytes)
fails "pull of a denied licence exits 1" 1 \
    "$AIRLOCK" --store "$T/down" pull org/llamaft --from "$HUB"
b1=$(body_bytes)
diag "the upstream sent $((b1 - b0)) body bytes for the refused pull"
check "before any weight was fetched ($((b1 - b0)) < $weights bytes sent)" \
    test $((b1 - b0)) -lt $weights
check "and no revision is in the store" sh -c \
    "test -z \"\$('$AIRLOCK' --store '$T/down' ls)\""

check "pull --force --reason passes" "$AIRLOCK" --store "$T/down" pull \
    org/llamaft --from "$HUB" --force --reason "legal approved, ticket 4711"
b2=$(body_bytes)
check "and it fetched the weights (the counter counts them: $((b2 - b1)) bytes)" \
    test $((b2 - b1)) -ge $weights
check "and the reflog has the reason" sh -c \
    "mdb_dump -p -s refs '$T/down' 2>/dev/null | grep -q 'ticket 4711' ||
     mdb_dump -p -a '$T/down' | grep -q 'ticket 4711'"
stop_proxy
stop_daemon

# serving: 403 PolicyDenied for the files, the reason said.
start_daemon "$T/down"
curl -s -D "$T/h" -o "$T/body" "$URL/org/llamaft/resolve/main/config.json"
tr -d '\r' <"$T/h" >"$T/headers"
check "airlockd answers 403 with X-Error-Code: PolicyDenied" sh -c \
    "head -n 1 '$T/headers' | grep -q ' 403' && grep -qi '^x-error-code: PolicyDenied\$' '$T/headers'"
check "the reason in X-Error-Message and the JSON body" sh -c \
    "grep -i '^x-error-message:' '$T/headers' | grep -q 'llama3.1 is denied' &&
     python3 -c 'import json,sys; assert \"llama3.1 is denied\" in json.load(open(sys.argv[1]))[\"error\"]' '$T/body'"

# A trusted review lets it through.
"$AIRLOCK" --store "$T/down" key gen --name reviewer --no-password >/dev/null
"$AIRLOCK" --store "$T/down" key pub >"$T/reviewer.pub"
"$AIRLOCK" --store "$T/down" trust add "$T/reviewer.pub" --name reviewer \
    --scope '*' >/dev/null
"$AIRLOCK" --store "$T/down" review org/llamaft --licence apache-2.0 \
    --note "relicensed by the licensor, mail of 2026-11-30" >/dev/null
code=$(curl -s -o "$T/config.json" -w '%{http_code}' \
    "$URL/org/llamaft/resolve/main/config.json")
check "after a trusted review the file is served (HTTP $code)" sh -c \
    "test '$code' = 200 && cmp '$T/config.json' '$T/model/config.json'"
stop_daemon

# The same keys in airlockd.conf's [policy]: checked whole by -n, naming
# the file, the line and the key; they govern a store with no policy.
printf '[policy]\ndeny = llama3.1\nrefuse_flags = no-such-flag\n' >"$T/bad.conf"
fails "airlockd -n refuses a bad [policy]" 1 "$AIRLOCKD" -n -c "$T/bad.conf"
cp "$T/.out" "$T/conf.err"
check "naming the file, the line and the value" sh -c \
    "grep -q 'bad.conf:2:.*refuse_flags.*no-such-flag' '$T/conf.err'"
printf '[policy]\ndeny = llama3.1, gemma\nallow_unknown_lineage = yes\n' >"$T/policy.conf"
check "airlockd -n takes a good one" "$AIRLOCKD" -n -c "$T/policy.conf"
start_daemon "$T/up" -c "$T/policy.conf"
code=$(curl -s -o /dev/null -D "$T/h2" -w '%{http_code}' \
    "$URL/org/llamaft/resolve/main/config.json")
check "airlockd.conf's policy refuses the file (HTTP $code, PolicyDenied)" sh -c \
    "test '$code' = 403 && tr -d '\r' <'$T/h2' | grep -qi '^x-error-code: PolicyDenied\$'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/models/org/llamaft")
check "while its metadata still answers (HTTP $code)" test "$code" = 200
stop_daemon

# What names the base only in a GGUF header or a config.json is judged
# before the weights move (the fake Hub, tests/lib/fakehub.py, counts the
# body bytes it sends of each file).  A GGUF of a Llama 3.1 fine-tune
# (tests/lib/mkgguf.py, from ggml's docs/gguf.md) says general.license mit
# and names its base by general.base_model.0.repo_url; its card says
# nothing of either.  The base is held (its card and LICENSE), so the
# conclusion is llama3.1 (LICENCES.md: llama3.1 flows down, and a
# quantisation adds no licence of its own), which the policy denies.
. "$top_srcdir/tests/lib/fakehub.sh"
gsize=25000000
gguf=model-Q4_K_M.gguf
mkdir -p "$T/gg" "$T/cfg" "$T/base"
hlen=$(python3 "$top_srcdir/tests/lib/mkgguf.py" "$T/gg/$gguf" $gsize mit \
    https://huggingface.co/meta-llama/Llama-3.1-8B)
printf -- '---\ntags:\n- gguf\n---\n# Finetune 8B, quantised\n' >"$T/gg/README.md"
diag "the GGUF's header (metadata and tensor infos) is $hlen bytes of $gsize"
printf -- '---\nlicense: apache-2.0\n---\n# a fine-tune\n' >"$T/cfg/README.md"
printf '{"_name_or_path": "meta-llama/Llama-3.1-8B", "architectures": ["LlamaForCausalLM"]}\n' \
    >"$T/cfg/config.json"
head -c $weights /dev/urandom >"$T/cfg/model.safetensors"
printf -- '---\nlicense: llama3.1\n---\n# Llama 3.1\n' >"$T/base/README.md"
printf 'LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\n' >"$T/base/LICENSE"
check "the fake Hub serves org/gguf and org/cfgft" start_fakehub \
    "org/gguf=$T/gg" "org/cfgft=$T/cfg"
# A store that holds the base and denies llama3.1; one that allows it.
check "two stores hold the base, meta-llama/Llama-3.1-8B" sh -c '
for s in G H; do
	"$1" --store "$2/$s" init && "$1" --store "$2/$s" add "$2/base" \
	    --repo meta-llama/Llama-3.1-8B || exit 1
done' sh "$AIRLOCK" "$T"
"$AIRLOCK" --store "$T/G" policy set "$T/policy.yaml" >/dev/null
printf 'deny: [gemma]\n' >"$T/allow.yaml"
"$AIRLOCK" --store "$T/H" policy set "$T/allow.yaml" >/dev/null
gbytes() { hub_stats "d[\"files\"].get(\"$1\", {}).get(\"bytes\", 0)"; }
greqs() { hub_stats "d[\"files\"].get(\"$1\", {}).get(\"requests\", 0)"; }

hub_clear
fails "pull of a GGUF whose header names a Llama base exits 1" 1 \
    "$AIRLOCK" --store "$T/G" pull org/gguf --from "$HUB"
cp "$T/.out" "$T/gguf.err"
check "  refused by the policy, before any weight" sh -c \
    "grep -q 'llama3.1 is denied' '$T/gguf.err' &&
     grep -q 'refused before any weight was fetched' '$T/gguf.err'"
sent=$(gbytes $gguf)
diag "the fake Hub sent $sent bytes of the $gsize-byte GGUF for the refused pull"
check "  fewer than 3 MB of the GGUF were sent ($sent)" test "$sent" -lt 3000000
check "  asked for by Range: bytes=0-2097151, answered 206" test "$(hub_stats \
    "sorted(set((r['range'], r['status']) for r in reqs('$gguf') if r['host'] == 'cdn'))")" \
    = "[('bytes=0-2097151', 206)]"
check "  and the store holds no revision of it" sh -c \
    "! '$AIRLOCK' --store '$T/G' ls | grep -q org/gguf"

hub_clear
hub_fault "{\"kind\": \"norange\", \"path\": \"$gguf\"}"
fails "an upstream that ignores the Range: refused as well" 1 \
    "$AIRLOCK" --store "$T/G" pull org/gguf --from "$HUB"
cp "$T/.out" "$T/norange.err"
sent=$(gbytes $gguf)
diag "answering 200 with the whole body, the fake Hub sent $sent bytes before the cut"
check "  the transfer was cut: fewer than the whole file sent ($sent < $gsize)" \
    sh -c "grep -q 'llama3.1 is denied' '$T/norange.err' && test $sent -lt $gsize"

hub_clear
check "the same GGUF under a policy that allows it pulls" \
    "$AIRLOCK" --store "$T/H" pull org/gguf --from "$HUB"
"$AIRLOCK" --store "$T/H" checkout org/gguf "$T/out-gg" >/dev/null
check "  byte-exact (sha256sum)" test \
    "$(sha256sum <"$T/gg/$gguf")" = "$(sha256sum <"$T/out-gg/$gguf")"
"$AIRLOCK" --store "$T/H" --json licence org/gguf >"$T/gg.lic"
check "  concluded llama3.1, the base named by the header (a quantisation)" \
    python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["declared"] == "mit" and c["declared_source"] == "gguf", c
assert c["concluded"] == "llama3.1", c
base = [n for n in c["chain"] if n["repo"] == "meta-llama/Llama-3.1-8B"]
assert base and base[0]["source"] == "gguf", c["chain"]
' "$T/gg.lic"

hub_clear
fails "pull of a fine-tune whose config.json names a Llama base exits 1" 1 \
    "$AIRLOCK" --store "$T/G" pull org/cfgft --from "$HUB"
cp "$T/.out" "$T/cfg.err"
check "  refused by the policy" grep -q 'llama3.1 is denied' "$T/cfg.err"
check "  config.json was fetched for the gate, the weights not at all" sh -c \
    "test $(greqs config.json) -ge 1 &&
     test '$(greqs model.safetensors) $(gbytes model.safetensors)' = '0 0'"
check "  and the store holds no revision of it" sh -c \
    "! '$AIRLOCK' --store '$T/G' ls | grep -q org/cfgft"
_fakehub_kill

# From another airlockd (by chunks over /v1/): the GGUF's first chunks
# are the head; its /metrics counts the body bytes it sent.
"$AIRLOCK" --store "$T/U" init >/dev/null &&
    "$AIRLOCK" --store "$T/U" add "$T/gg" --repo org/gguf >/dev/null
check "an airlockd serves org/gguf" start_daemon "$T/U"
c0=$(curl -sf "$URL/metrics" | sed -n 's/^airlockd_body_bytes_total //p')
fails "a chained pull of the GGUF is refused" 1 \
    "$AIRLOCK" --store "$T/G" pull org/gguf --from "$URL"
cp "$T/.out" "$T/chain.err"
c1=$(curl -sf "$URL/metrics" | sed -n 's/^airlockd_body_bytes_total //p')
diag "the upstream airlockd sent $((c1 - c0)) body bytes for the refused chained pull"
check "  by the policy, with fewer than 3 MB sent ($((c1 - c0)))" sh -c \
    "grep -q 'llama3.1 is denied' '$T/chain.err' && test $((c1 - c0)) -lt 3000000"
check "  and the store holds no revision of it" sh -c \
    "! '$AIRLOCK' --store '$T/G' ls | grep -q org/gguf"
rm -rf "$T/H"
"$AIRLOCK" --store "$T/H" init >/dev/null &&
    "$AIRLOCK" --store "$T/H" add "$T/base" --repo meta-llama/Llama-3.1-8B >/dev/null &&
    "$AIRLOCK" --store "$T/H" policy set "$T/allow.yaml" >/dev/null
check "a chained pull of it under a policy that allows it" \
    "$AIRLOCK" --store "$T/H" pull org/gguf --from "$URL"
rm -rf "$T/out-gg"
"$AIRLOCK" --store "$T/H" checkout org/gguf "$T/out-gg" >/dev/null
check "  byte-exact (sha256sum)" test \
    "$(sha256sum <"$T/gg/$gguf")" = "$(sha256sum <"$T/out-gg/$gguf")"
stop_daemon
