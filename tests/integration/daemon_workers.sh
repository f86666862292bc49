#!/bin/sh
# airlockd with workers = 4: four serving loops on one socket, taking
# connections in turn.  Many keep-alive clients at once get byte-exact
# files over reused connections, spread evenly over the loops (/metrics
# counts connections and requests per loop), pipelined
# requests are answered in order, SIGHUP reaches every loop, and SIGTERM
# during a slow download lets it finish and exits 0.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v bash >/dev/null 2>&1 || skip_all "bash is not installed"
# This test is about workers = 4 from the file, whatever the suite runs with.
unset AIRLOCK_TEST_WORKERS

plan 20

S=$T/store
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 1000000 >/dev/null
mkdir "$T/big"
head -c 4000000 /dev/urandom >"$T/big/weights.bin"
mkdir "$T/large"
head -c 24000000 /dev/urandom >"$T/large/weights.bin"
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo org/tiny >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/big" --repo org/big >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo acme/secret >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/large" --repo org/large >/dev/null
check "the store has a model, a 4 MB file, a private model and a 24 MB file" \
    test $? -eq 0
sha() { sha256sum <"$1" | cut -d' ' -f1; }
tiny_sha=$(sha "$T/model/model.safetensors")
cfg_sha=$(sha "$T/model/config.json")
big_sha=$(sha "$T/big/weights.bin")
large_sha=$(sha "$T/large/weights.bin")

cat >"$T/airlockd.conf" <<'EOF'
workers = 4
[private acme]
token = hf_firsttoken0001
EOF
check "airlockd starts with workers = 4" start_daemon "$S" -c "$T/airlockd.conf"
check "  and says it runs 4 of them" grep -q ", 4 workers," "$T/airlockd.log"

# --- keep-alive clients at once ---------------------------------------------
# 32 curl processes, each asking for four files on one connection.
n=32
i=0
pids=
while [ $i -lt $n ]; do
	d=$T/c$i
	mkdir "$d"
	curl -s -w '%{num_connects} %{http_code}\n' \
	    -o "$d/1" "$URL/org/tiny/resolve/main/model.safetensors" \
	    -o "$d/2" "$URL/org/big/resolve/main/weights.bin" \
	    -o "$d/3" "$URL/org/tiny/resolve/main/config.json" \
	    -o "$d/4" "$URL/org/tiny/resolve/main/model.safetensors" \
	    >"$d/w" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
failed=0
for p in $pids; do wait "$p" || failed=$((failed + 1)); done
check "32 clients at once: every curl succeeds" test "$failed" -eq 0
bad=0
i=0
while [ $i -lt $n ]; do
	d=$T/c$i
	[ "$(sha "$d/1")" = "$tiny_sha" ] && [ "$(sha "$d/2")" = "$big_sha" ] &&
	    [ "$(sha "$d/3")" = "$cfg_sha" ] && [ "$(sha "$d/4")" = "$tiny_sha" ] ||
	    bad=$((bad + 1))
	i=$((i + 1))
done
check "  all 128 files are byte-exact" test "$bad" -eq 0
# num_connects: 1 for the first transfer, 0 for each that reused it.
statuses=$(cat "$T"/c*/w | awk '$2 != 200' | wc -l)
check "  every answer is a 200" test "$statuses" -eq 0
reused=0
i=0
while [ $i -lt $n ]; do
	[ "$(awk '{ s += $1 } END { print s }' "$T/c$i/w")" = 1 ] &&
	    [ "$(wc -l <"$T/c$i/w")" -eq 4 ] && reused=$((reused + 1))
	i=$((i + 1))
done
check "  each client made one connection for its four files" \
    test "$reused" -eq "$n"

curl -s "$URL/metrics" >"$T/m"
loops=$(grep -c '^airlockd_loop_requests_total{loop="[0-3]"} [1-9]' "$T/m")
check "/metrics: 32 connections were served by more than one loop" \
    test "$loops" -ge 2
check "  it lists the four loops and no other" \
    test "$(grep -c '^airlockd_loop_requests_total{' "$T/m")" -eq 4
# The loops take connections in turn: 32 at once are 8 on each, give or
# take the one each earlier connection left.
accepted=$(sed -n 's/^airlockd_loop_connections_total{loop="[0-3]"} //p' "$T/m" | sort -n)
check "  the loops took the connections in turn: $(echo $accepted) differ by one at most" \
    test "$(echo "$accepted" | wc -l)" -eq 4 -a \
    "$(echo "$accepted" | tail -n 1)" -le "$(($(echo "$accepted" | head -n 1) + 1))" -a \
    "$(echo "$accepted" | awk '{ s += $1 } END { print s }')" -ge 32
by_loop=$(awk '/^airlockd_loop_requests_total\{/ { s += $2 } END { print s }' "$T/m")
by_route=$(awk '/^airlockd_requests_total\{/ { s += $2 } END { print s }' "$T/m")
check "  the loops' counts add up to the routes' ($by_route)" \
    test "$by_loop" = "$by_route" -a "$by_route" -ge 128

# --- pipelined requests -------------------------------------------------------
# Three requests written at once on each of 16 connections, answered in
# order; the last closes it.
port=${URL##*:}
i=0
pids=
while [ $i -lt 16 ]; do
	bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"
	    printf "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /org/tiny/resolve/main/config.json HTTP/1.1\r\nHost: x\r\n\r\nGET /api/models/org/nonexistent HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
	    cat <&3' _ "$port" >"$T/p$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
good=0
i=0
while [ $i -lt 16 ]; do
	[ "$(grep -a '^HTTP/1\.1 ' "$T/p$i" | tr -d '\r' | cut -d' ' -f2 |
	    tr '\n' ' ')" = "200 200 404 " ] && good=$((good + 1))
	i=$((i + 1))
done
check "pipelined: 16 connections each get 200, 200, 404 in order" \
    test "$good" -eq 16

# --- SIGHUP -------------------------------------------------------------------
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "a token not yet configured does not read the private model" \
    test "$(code -H 'Authorization: Bearer hf_secondtoken002' \
    "$URL/api/models/acme/secret")" = 401
cat >"$T/airlockd.conf" <<'EOF'
workers = 4
[private acme]
token = hf_firsttoken0001
token = hf_secondtoken002
EOF
: >"$T/airlockd.log"
kill -HUP "$AIRLOCKD_PID"
# Logged when the last of the four loops has taken the new file.
reloaded() { grep -q "configuration reloaded" "$T/airlockd.log"; }
check "SIGHUP: every loop takes the new configuration" wait_for reloaded
per_loop() {
	curl -s "$URL/metrics" |
	    sed -n 's/^airlockd_loop_requests_total{loop="\([0-9]*\)"} \([0-9]*\)$/\1 \2/p'
}
per_loop >"$T/before"
# 64 connections, one request each, with the token the reload added.
i=0
pids=
while [ $i -lt 64 ]; do
	code -H 'Authorization: Bearer hf_secondtoken002' \
	    "$URL/api/models/acme/secret" >"$T/h$i" &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
check "  64 new connections with the new token all read the private model" \
    test "$(cat "$T"/h* | tr -d '\n' | sed 's/200//g')" = ""
per_loop >"$T/after"
# Each loop's count grew by its share of the 64, plus at most the one
# /metrics request of "before": 2 or more means it answered the token.
reached=$(join "$T/before" "$T/after" | awk '$3 - $2 >= 2' | wc -l)
check "  and all four loops answered some of them" test "$reached" -eq 4

# --- SIGTERM during a slow download ------------------------------------------
curl -s --limit-rate 6M -o "$T/got" "$URL/org/large/resolve/main/weights.bin" &
dl=$!
streaming() { curl -s "$URL/metrics" | grep -q '^airlockd_streams 1$'; }
check "precondition: a download is under way" wait_for streaming
pid=$AIRLOCKD_PID
kill -TERM "$pid"
# A child that has exited stays a zombie until waited for: poll its state.
gone() { ! [ -e "/proc/$pid" ] || grep -q '^[0-9]* ([^)]*) Z' "/proc/$pid/stat"; }
check "SIGTERM: airlockd exits after the download, within the bound" wait_for gone
wait "$pid"
st=$?
AIRLOCKD_PID=
check "  with status 0" test "$st" -eq 0
wait "$dl"
check "  the download under way ran to its end, byte-exact" \
    test "$(sha "$T/got")" = "$large_sha"
