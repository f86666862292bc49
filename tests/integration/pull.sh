#!/bin/sh
# airlock pull with an airlockd as the upstream, its /v1/ hidden by a proxy
# so that the Hub's sequence runs (pull_chain.sh has the chained pull): the
# revision arrives whole (every page of a small-paged tree), verifies,
# checks out byte for byte as the folder that was added upstream, keeps the
# upstream's commit id (as curl reads X-Repo-Commit), and a second pull
# changes nothing.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"

plan 19

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HF_HOME=$T/hf; export HF_HOME
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 3000000 >/dev/null
mkdir -p "$T/model/a/b c"
printf 'deep\n' >"$T/model/a/b c/deep file.txt"
: >"$T/model/empty.txt"
"$AIRLOCK" --store "$T/up" init >/dev/null &&
"$AIRLOCK" --store "$T/up" add "$T/model" --repo org/tiny >/dev/null
check "the upstream store has org/tiny" test $? -eq 0

printf 'tree-page-size = 2\n' >"$T/airlockd.conf"
check "airlockd starts on the upstream store" \
    start_daemon "$T/up" -c "$T/airlockd.conf"

python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/proxy.port" hide &
proxy=$!
stop_proxy() { kill "$proxy" 2>/dev/null; wait "$proxy" 2>/dev/null; }
at_exit stop_proxy
wait_for test -s "$T/proxy.port"
HUB=http://127.0.0.1:$(cat "$T/proxy.port")

"$AIRLOCK" --store "$T/down" init >/dev/null
check "pull from airlockd" "$AIRLOCK" --store "$T/down" pull org/tiny \
    --from "$HUB"
printed=$(last_output)
commit=$(curl -sS -o /dev/null -D - "$URL/org/tiny/resolve/main/config.json" |
    tr -d '\r' | sed -n 's/^[Xx]-[Rr]epo-[Cc]ommit: //p')
check "it prints ORG/NAME@COMMIT sha256:DIGEST with the upstream's commit" \
    sh -c "echo '$printed' | grep -Eq '^org/tiny@$commit sha256:[0-9a-f]{64}\$'"
check "verify --all passes" "$AIRLOCK" --store "$T/down" verify --all
check "the checkout is the folder added upstream" sh -c \
    "'$AIRLOCK' --store '$T/down' checkout org/tiny '$T/out' && diff -r '$T/model' '$T/out'"
want=$(cd "$T/model" && find . -type f | wc -l)
got=$("$AIRLOCK" --store "$T/down" manifest org/tiny |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)["files"]))')
check "every file of every tree page came ($want)" test "$got" -eq "$want"

cp "$T/down/data.mdb" "$T/before.mdb" 2>/dev/null || true
"$AIRLOCK" --store "$T/down" --json pull org/tiny --from "$HUB" >"$T/again.json"
check "a second pull is unchanged, in one request" sh -c \
    "grep -q '\"unchanged\": true' '$T/again.json' && grep -q '\"requests\": 1,' '$T/again.json'"
check "and it printed the same digest" sh -c \
    "grep -q \"\$(echo '$printed' | cut -d' ' -f2)\" '$T/again.json'"

# Filters make a partial revision that says so; a pull with other filters
# (or none) is not the same pull, and is not "unchanged".  The card and the
# licence come whatever the filters say.
F=$T/filtered
field() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$T/f.json" "$1"; }
"$AIRLOCK" --store "$F" init >/dev/null
"$AIRLOCK" --store "$F" --json pull org/tiny --from "$HUB" --include '*.json' \
    --exclude 'tok*' >"$T/f.json"
check "a pull with --include and --exclude" test "$(field files)" -eq 4
"$AIRLOCK" --store "$F" manifest org/tiny >"$T/f.manifest"
check "  its manifest has those files and names the filters in its source" \
    python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))
paths = sorted(f["path"] for f in m["files"])
s = m["source"]
sys.exit(0 if paths == ["LICENSE", "README.md", "config.json", "generation_config.json"] and
    s["include"] == ["*.json"] and s["exclude"] == ["tok*"] else 1)' "$T/f.manifest"
"$AIRLOCK" --store "$F" --json pull org/tiny --from "$HUB" --include '*.json' \
    --exclude 'tok*' >"$T/f.json"
check "  the same pull again is unchanged" test "$(field unchanged)" = True
"$AIRLOCK" --store "$F" --json pull org/tiny --from "$HUB" --include '*.json' \
    >"$T/f.json"
check "  with other filters it is not unchanged" sh -c \
    "test '$(field unchanged)' = False && test '$(field files)' -eq 6"
sent() { curl -sS "$URL/metrics" | sed -n 's/^airlockd_sent_bytes_total //p'; }
chunks() { "$AIRLOCK" --store "$F" --json stats | python3 -c 'import json, sys; print(json.load(sys.stdin)["chunks"])'; }
before=$(sent)
c0=$(chunks)
"$AIRLOCK" --store "$F" --json pull org/tiny --from "$HUB" >"$T/f.json"
wire=$(($(sent) - before))
c1=$(chunks)
check "  without filters it is not unchanged: every file ($want)" sh -c \
    "test '$(field unchanged)' = False && test '$(field files)' -eq $want"
# Every file but the .json ones and the LICENSE it has, counted by airlockd,
# sized by find; the card is read from the wire each time, for its claims.
rest=$(find "$T/model" -type f ! -name '*.json' ! -name LICENSE -exec cat {} + |
    wc -c)
check "  the files it had were not fetched again ($wire bytes sent, want $rest)" \
    test "$wire" -eq "$rest"
check "  --json: chunks_new is what the store gained ($((c1 - c0)), by stats)" \
    test "$(field chunks_new)" -eq $((c1 - c0))
check "  --json: fetched is what airlockd sent, no retries, some seconds" sh -c \
    "test '$(field fetched)' -eq $wire && test '$(field retries)' -eq 0 &&
    python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) > 0 else 1)' '$(field seconds)'"
check "  the commit id names the whole revision" sh -c \
    "'$AIRLOCK' --store '$F' checkout 'org/tiny@$commit' '$T/fout' && diff -r '$T/model' '$T/fout'"
check "  verify --all passes" "$AIRLOCK" --store "$F" verify --all
stop_proxy
stop_daemon
