#!/bin/sh
# The cache tier: nginx with contrib/nginx/airlock-cache.conf in front of
# airlockd, and the real @huggingface/hub through it, byte-exact.  What
# is immutable (a file by commit id, /v1/ by hash) is cached in slices; a
# branch resolve is revalidated (a moved branch gives the new bytes at
# once); a private repository, asked with its token, is never stored.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
NGINX=${NGINX:-$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)}
[ -x "$NGINX" ] || skip_all "nginx is not installed"
"$NGINX" -V 2>&1 | grep -q -- --with-http_slice_module ||
    skip_all "this nginx has no slice module"
npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
[ -n "$npm" ] || skip_all "npm is not installed: @huggingface/hub cannot be fetched"
command -v node >/dev/null 2>&1 || skip_all "node is not installed"

S=$T/store
# 20 MB of weights: three 8 MB slices, the last one short.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 20000000 >/dev/null
: >"$T/model/empty.txt"
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/secret" 1000 >/dev/null
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo demo/tiny >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/secret" --repo acme/secret >/dev/null &&
"$AIRLOCK" --store "$S" --json show demo/tiny >"$T/model.json" &&
"$AIRLOCK" --store "$S" --json show acme/secret >"$T/secret.json"
check "the CLI adds a model and a private one" test $? -eq 0
commit=$(sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p' "$T/model.json")
wsha=$(sha256sum <"$T/model/model.safetensors" | cut -d' ' -f1)

printf '[private acme]\ntoken = hf_integrationtesttoken\n' >"$T/airlockd.conf"
check "airlockd starts" start_daemon "$S" -c "$T/airlockd.conf"

# nginx as this user, in a prefix of its own, on a free loopback port:
# the shipped file with its three "here" lines pointed at the test's.
N=$T/nginx
mkdir -p "$N/logs" "$N/tmp" "$N/cache"
port=$(free_port)
sed -e "s|^proxy_cache_path /var/cache/nginx/airlock |proxy_cache_path $N/cache |" \
    -e "s|server 127.0.0.1:8080;|server ${URL#http://};|" \
    -e "s|listen 127.0.0.1:8081;|listen 127.0.0.1:$port;|" \
    "$top_srcdir/contrib/nginx/airlock-cache.conf" >"$N/airlock-cache.conf"
check "  the three lines to change are where the file says" \
    test "$(grep -c "$N/cache \|server ${URL#http://};\|listen 127.0.0.1:$port;" \
    "$N/airlock-cache.conf")" -eq 3
user=
[ "$(id -u)" -eq 0 ] && user="user root;"
cat >"$N/nginx.conf" <<EOF
$user
daemon off;
worker_processes 2;
pid $N/nginx.pid;
error_log $N/logs/error.log warn;
events { worker_connections 256; }
http {
	access_log $N/logs/access.log;
	client_body_temp_path $N/tmp;
	proxy_temp_path $N/tmp;
	fastcgi_temp_path $N/tmp;
	uwsgi_temp_path $N/tmp;
	scgi_temp_path $N/tmp;
	include $N/airlock-cache.conf;
}
EOF
check "nginx -t accepts the configuration" \
    "$NGINX" -t -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log"
"$NGINX" -p "$N" -c "$N/nginx.conf" -e "$N/logs/error.log" &
NGINX_PID=$!
_nginx_stop() {
	[ -n "$NGINX_PID" ] && kill -QUIT "$NGINX_PID" 2>/dev/null &&
	    wait "$NGINX_PID" 2>/dev/null
	NGINX_PID=
}
at_exit _nginx_stop
C=http://127.0.0.1:$port
check "nginx answers /healthz from airlockd" wait_for curl -sf "$C/healthz"

# Pinned to the major version whose requests HF-API.md describes.
mkdir -p "$T/npm"
if "$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
    "@huggingface/hub@${HFHUB_VERSION:-2}" >"$T/npm.log" 2>&1; then
	ok "npm installs @huggingface/hub"
else
	diag "$(tail -n 20 "$T/npm.log")"
	not_ok "npm installs @huggingface/hub"
fi
cp "$top_srcdir/tests/integration/hfhub.mjs" "$T/npm/hfhub.mjs"
hub() { node "$T/npm/hfhub.mjs" "$1" "$C" "$2" "$3" "$4" ${5:+"$5"}; }

# --- @huggingface/hub through the cache --------------------------------------
check "modelInfo through the cache" hub info model demo/tiny "$T/model.json"
check "listFiles through the cache" hub list model demo/tiny "$T/model.json"
check "fileDownloadInfo: sizes and ETags" hub dlinfo model demo/tiny "$T/model.json"
check "downloadFile: every byte of every file (cold cache)" \
    hub download model demo/tiny "$T/model.json"
check "downloadFile again: every byte (from the cache)" \
    hub download model demo/tiny "$T/model.json"
check "parseSafetensorsMetadata: ranges through the slices" \
    hub header model demo/tiny "$T/model.json"
check "snapshotDownload into a Hub cache" \
    hub snapshot model demo/tiny "$T/model.json" "$T/hfcache"
check "a private repository: 401 without the token, served with it" \
    hub private model acme/secret "$T/secret.json" hf_integrationtesttoken

# --- what the cache holds ------------------------------------------------------
keys() { grep -rah '^KEY: ' "$N/cache" 2>/dev/null; }
check "the weights are cached in slices, under the commit id" \
    test "$(keys | grep -c "^KEY: /demo/tiny/resolve/$commit/model.safetensors")" -eq 3
keys | grep -q 'acme/secret' && not_ok "nothing of the private repository is cached" ||
    ok "nothing of the private repository is cached"
for i in 1 2; do
	curl -s -D "$T/h" -o "$T/cfg" -H 'Authorization: Bearer hf_integrationtesttoken' \
	    "$C/acme/secret/resolve/$(sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p' \
	    "$T/secret.json")/config.json"
done
check "  by commit id with the token, twice: the bytes" cmp "$T/cfg" "$T/secret/config.json"
check "  and BYPASS: never from the cache" grep -qi '^X-Cache-Status: BYPASS' "$T/h"
keys | grep -q 'acme/secret' && not_ok "  still nothing of it cached" ||
    ok "  still nothing of it cached"

hdr() { grep -i "^$1:" "$T/h" | tr -d '\r' | cut -d' ' -f2-; }
curl -s -D "$T/h" -o "$T/got" "$C/demo/tiny/resolve/$commit/model.safetensors"
check "by commit id: a HIT, byte-exact" test "$(hdr X-Cache-Status)" = HIT -a \
    "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$wsha"
check "  X-Repo-Commit, ETag and X-Linked-* pass through" \
    test "$(hdr X-Repo-Commit)" = "$commit" -a "$(hdr ETag)" = "\"$wsha\"" -a \
    "$(hdr X-Linked-Etag)" = "\"$wsha\"" -a \
    "$(hdr X-Linked-Size)" = "$(wc -c <"$T/model/model.safetensors" | tr -d " ")"
check "  immutable, as airlockd says" \
    grep -qi '^Cache-Control: public, max-age=31536000, immutable' "$T/h"
curl -s -D "$T/h" -o "$T/got" -r 8388000-8389999 \
    "$C/demo/tiny/resolve/main/model.safetensors"
check "a Range across two slices: 206, the right bytes, from the cache" \
    test "$(head -n 1 "$T/h" | cut -d' ' -f2)" = 206 -a \
    "$(hdr X-Cache-Status)" = HIT -a "$(sha256sum <"$T/got" | cut -d' ' -f1)" = \
    "$(tail -c +8388001 "$T/model/model.safetensors" | head -c 2000 | sha256sum |
    cut -d' ' -f1)"
blob=/v1/blobs/sha256:$wsha
curl -s -o /dev/null "$C$blob"
curl -s -D "$T/h" -o "$T/got" "$C$blob"
check "/v1/ blob by hash: a HIT the second time, byte-exact" \
    test "$(hdr X-Cache-Status)" = HIT -a \
    "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$wsha"
curl -s -D "$T/h" -o /dev/null "$C/api/models/demo/tiny"
check "repository info is not cached" test -z "$(hdr X-Cache-Status)"

# --- a branch that moves -------------------------------------------------------
curl -s -D "$T/h" -o /dev/null "$C/demo/tiny/resolve/main/model.safetensors"
check "by branch: the bytes of the branch's commit, from the cache" \
    test "$(hdr X-Cache-Status)" = HIT -a "$(hdr X-Repo-Commit)" = "$commit"
check "  and not immutable downstream" sh -c "! grep -qi '^Cache-Control:' '$T/h'"
head -c 3000000 /dev/urandom >"$T/model/model.safetensors"
check "main moves to a revision with other weights" \
    "$AIRLOCK" --store "$S" add "$T/model" --repo demo/tiny
new=$("$AIRLOCK" --store "$S" --json show demo/tiny |
    sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p')
curl -s -D "$T/h" -o "$T/got" "$C/demo/tiny/resolve/main/model.safetensors"
check "  the next resolve of main gives the new bytes at once" \
    test "$(hdr X-Repo-Commit)" = "$new" -a "$new" != "$commit" -a \
    "$(sha256sum <"$T/got" | cut -d' ' -f1)" = \
    "$(sha256sum <"$T/model/model.safetensors" | cut -d' ' -f1)"
curl -s -D "$T/h" -o "$T/got" "$C/demo/tiny/resolve/$commit/model.safetensors"
check "  the old commit still gives the old bytes, from the cache" \
    test "$(hdr X-Cache-Status)" = HIT -a \
    "$(sha256sum <"$T/got" | cut -d' ' -f1)" = "$wsha"
curl -s -D "$T/h" -o /dev/null "$C/demo/tiny/resolve/main/nope.bin"
check "a missing file: airlockd's 404 and error code" \
    test "$(head -n 1 "$T/h" | cut -d' ' -f2)" = 404 -a \
    "$(hdr X-Error-Code)" = EntryNotFound

_nginx_stop
check "airlockd stops cleanly on SIGTERM" stop_daemon
done_testing
