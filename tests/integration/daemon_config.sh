#!/bin/sh
# airlockd.conf(5) and the process's life: -n checks a file and names
# every mistake with its line, SIGHUP reloads (and keeps the old file's
# settings when the new one is broken), SIGTERM lets downloads under way
# finish, and gives up on a client that never reads after drain-timeout.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v bash >/dev/null 2>&1 || skip_all "bash is needed for raw sockets"

plan 45

S=$T/store
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 4000000 >/dev/null
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo acme/tiny >/dev/null
check "the CLI adds a model" test $? -eq 0
sha=$(sha256sum <"$T/model/model.safetensors" | cut -d' ' -f1)
# A download that outlasts the socket buffers, for the drain and for the
# clients that never read (at 4 MB, airlockd may have handed every byte
# to the kernel before a look, and then it has nothing to wait for).
mkdir "$T/large"
head -c 64000000 /dev/urandom >"$T/large/weights.bin"
"$AIRLOCK" --store "$S" add "$T/large" --repo acme/large >/dev/null
large_sha=$(sha256sum <"$T/large/weights.bin" | cut -d' ' -f1)

# --- -n ----------------------------------------------------------------------
cat >"$T/good.conf" <<'EOF'
# a comment
listen = 127.0.0.1:8080
store = /var/lib/airlock
workers = 2
max-connections = 100
max-header-size = 16k
max-body-size = 1M
timeout = 30
drain-timeout = 5
public-url = https://airlock.example.org
tree-page-size = 500
read-size = 256k
read-buffers = 64
stall-timeout = 10
sendfile = no
send-windows = 64

[private acme]
token = hf_aaaaaaaaaaaaaaaa
token = hf_bbbbbbbbbbbbbbbb
EOF
check "-n accepts a good file" "$AIRLOCKD" -n -c "$T/good.conf"
check "  and says so" sh -c "'$AIRLOCKD' -n -c '$T/good.conf' | grep -q 'configuration OK'"

cat >"$T/bad.conf" <<'EOF'
listen = 127.0.0.1:8080
workers = 2
colour = blue
timeout = soon
max-connections = 0
this line is not an option
[nonsense]
[private acme]
token = secret
listen = nowhere
EOF
fails "-n refuses a broken file (status 1)" 1 "$AIRLOCKD" -n -c "$T/bad.conf"
"$AIRLOCKD" -n -c "$T/bad.conf" 2>"$T/err"
for want in ':3: unknown option "colour"' ':4: timeout: "soon" is not a number' \
    ':5: max-connections: 0 is out of range' ':6: expected "name = value"' \
    ':9: [private acme]: a token must start with "hf_"'; do
	check "  names the line: $want" grep -qF "bad.conf$want" "$T/err"
done
check "  never echoes a token" sh -c "! grep -q secret '$T/err'"
printf 'sendfile = maybe\nsend-windows = 1\nsplice = perhaps\n' >"$T/bad3.conf"
fails "a bad sendfile, send-windows or splice is refused" 1 "$AIRLOCKD" -n -c "$T/bad3.conf"
"$AIRLOCKD" -n -c "$T/bad3.conf" 2>"$T/err"
for want in ':1: sendfile: "maybe" is not yes or no' \
    ':2: send-windows: 1 is out of range' \
    ':3: splice: "perhaps" is not yes or no'; do
	check "  names the line: $want" grep -qF "bad3.conf$want" "$T/err"
done
printf 'listen = nowhere\n' >"$T/bad2.conf"
fails "listen without a port is refused" 1 "$AIRLOCKD" -n -c "$T/bad2.conf"
fails "a missing -c file is an error" 1 "$AIRLOCKD" -n -c "$T/nonexistent.conf"
fails "an unknown option is a usage error (status 2)" 2 "$AIRLOCKD" --frobnicate

# --- SIGHUP ------------------------------------------------------------------
printf 'tree-page-size = 100\n' >"$T/live.conf"
check "airlockd starts" start_daemon "$S" -c "$T/live.conf"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "acme/tiny is public" test "$(code "$URL/api/models/acme/tiny")" = 200
cat >"$T/live.conf" <<'EOF'
tree-page-size = 2
[private acme]
token = hf_reloadedtoken1
EOF
kill -HUP "$AIRLOCKD_PID"
private() { [ "$(code "$URL/api/models/acme/tiny")" = 401 ]; }
check "after SIGHUP it is private: 401" wait_for private
check "  a token from the new file reads it" test "$(code \
    -H 'Authorization: Bearer hf_reloadedtoken1' "$URL/api/models/acme/tiny")" = 200
check "  the new page size applies" sh -c "curl -s -D - -o /dev/null \
    -H 'Authorization: Bearer hf_reloadedtoken1' \
    '$URL/api/models/acme/tiny/tree/main' | grep -qi '^link:'"
printf 'tree-page-size = 2\n[private acme]\ntoken = nope\n' >"$T/live.conf"
kill -HUP "$AIRLOCKD_PID"
kept() { grep -q "keeping the configuration in use" "$T/airlockd.log"; }
check "a broken file on SIGHUP is reported and not applied" wait_for kept
check "  the old token still works" test "$(code \
    -H 'Authorization: Bearer hf_reloadedtoken1' "$URL/api/models/acme/tiny")" = 200
check "  and the line is named in the log" grep -q 'live.conf:3:' "$T/airlockd.log"

# --- SIGTERM -----------------------------------------------------------------
printf '[private acme]\ntoken = hf_reloadedtoken1\n' >"$T/live.conf"
kill -HUP "$AIRLOCKD_PID"
curl -s --limit-rate 32M -H 'Authorization: Bearer hf_reloadedtoken1' \
    -o "$T/got" "$URL/acme/large/resolve/main/weights.bin" &
dl=$!
streaming() { curl -s "$URL/metrics" | grep -q '^airlockd_streams 1$'; }
check "precondition: a download is under way" wait_for streaming
kill -TERM "$AIRLOCKD_PID"
refused() { ! curl -s --max-time 2 "$URL/healthz" >/dev/null; }
check "on SIGTERM it stops accepting" wait_for refused
wait "$dl"
check "  a download under way runs to its end" \
    test "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$large_sha"
check "  then airlockd exits 0" stop_daemon

printf 'drain-timeout = 1\n' >"$T/drain.conf"
check "airlockd starts" start_daemon "$S" -c "$T/drain.conf"
port=${URL##*:}
never_reads "$port" /acme/large/resolve/main/weights.bin 30 &
idle=$!
two_conns() { curl -s "$URL/metrics" | grep -q '^airlockd_connections 2$'; }
check "precondition: the idle client is connected" wait_for two_conns
check "a client that never reads does not keep it from exiting after drain-timeout" stop_daemon
check "  the log says why" grep -q "drain time-out" "$T/airlockd.log"
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null || :

# A second signal during a drain exits at once: a client that never reads
# holds its connection, the drain would wait 60 s for it.
printf 'drain-timeout = 60\n' >"$T/drain.conf"
for second in TERM INT; do
	: >"$T/airlockd.log"
	check "airlockd starts (then SIGTERM, SIG$second)" \
	    start_daemon "$S" -c "$T/drain.conf"
	port=${URL##*:}
	never_reads "$port" /acme/large/resolve/main/weights.bin 30 &
	idle=$!
	check "  precondition: the idle client is connected" wait_for two_conns
	kill -TERM "$AIRLOCKD_PID"
	check "  precondition: SIGTERM starts a drain" \
	    wait_for grep -q 'SIGTERM: draining' "$T/airlockd.log"
	grep -q stopping "$T/airlockd.log" && not_ok "  the drain waits" ||
	    ok "  the drain waits for the client"
	kill -$second "$AIRLOCKD_PID"
	check "  SIG$second during the drain stops it at once" \
	    wait_for grep -q stopping "$T/airlockd.log"
	check "  and airlockd exits 0" stop_daemon
	kill "$idle" 2>/dev/null
	wait "$idle" 2>/dev/null || :
done
