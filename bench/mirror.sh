#!/bin/sh
# bench/mirror.sh [BUILDDIR]
#
# airlock pull of a 2 GiB safetensors-shaped model from an upstream on
# loopback, against what a script would do with curl, in one run on this
# machine (DESIGN.md §8):
#   - pull's time ÷ (curl -o of the same files + sha256sum of them)
#     (target <= 0.8: hashing and storing overlap the transfer);
#   - pull's peak resident size, GNU time's %M (target <= 256 MiB);
#   - a pull killed (kill -9) once the upstream has sent half the big
#     file, then run again: the bytes the upstream sent the second time ÷
#     the file's size (target <= 0.55), counted by airlockd's /metrics.
# Upstreams: airlockd serving a store over the Hub API (behind nginx,
# which hides its /v1/ so that the pull takes the Hub's sequence, not the
# chained one); and, when the fake Hub (tests/lib/fakehub.py) is there,
# nginx serving the same files behind its redirects (FAKEHUB=0 skips it).  The upstream serves from the page
# cache (its files are read once first).  Not part of make check: a test
# asserts behaviour, a benchmark measures time.
#
# Environment: SIZE (bytes, default 2 GiB), RUNS (3: the best of each
# counts), AIRLOCK, AIRLOCKD (default: BUILDDIR/airlock, BUILDDIR/airlockd),
# NGINX (/usr/sbin/nginx), KEEP=1 keeps the work folder.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
build=${1:-$top}
AIRLOCK=${AIRLOCK:-$build/airlock}
AIRLOCKD=${AIRLOCKD:-$build/airlockd}
NGINX=${NGINX:-/usr/sbin/nginx}
SIZE=${SIZE:-2147483648}
RUNS=${RUNS:-3}
FAKEHUB=${FAKEHUB:-1}
TIME=/usr/bin/time

bench_built "$AIRLOCK" "$AIRLOCKD"
bench_need "$TIME" "GNU time is needed (apt-get install time)"
bench_need curl "is needed"
# nginx in front of the airlockd upstream hides its /v1/ (below).
bench_need "$NGINX" "apt-get install nginx-light"

bench_workdir
# nginx started by root reads as its unprivileged user.
chmod 755 "$W"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT
HF_HOME=$W/hf; export HF_HOME

now() { date +%s.%N; }
since() { awk -v s="$1" -v e="$(now)" 'BEGIN { printf "%.3f", e - s }'; }
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b < a) ? b : a }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print r <= t ? "met" : "NOT met" }'; }

echo "airlock mirror benchmark: $(nproc) cores, $(uname -r)"
echo "model: $SIZE bytes of weights (random, one safetensors shard) and five small files"

mkdir -p "$W/model"
openssl enc -aes-128-ctr -pass pass:airlock-bench -nosalt -pbkdf2 \
    </dev/zero 2>/dev/null | head -c "$SIZE" >"$W/data"
sh "$top/tests/lib/mkmodel.sh" "$W/model" "$SIZE" 0 "$W/data" >/dev/null
rm -f "$W/data"
big=$(wc -c <"$W/model/model.safetensors")
files=$(cd "$W/model" && ls)
"$AIRLOCK" --store "$W/up" init >/dev/null
"$AIRLOCK" --store "$W/up" add "$W/model" --repo bench/model >/dev/null
sync

: >"$W/airlockd.conf"
"$AIRLOCKD" -d -c "$W/airlockd.conf" --store "$W/up" \
    --listen 127.0.0.1:0 --port-file "$W/port" 2>"$W/airlockd.log" &
dpid=$!
bench_started "$dpid" TERM
bench_until airlockd "$W/airlockd.log" test -s "$W/port"
D=http://$(cat "$W/port")
sent() { curl -sS "$D/metrics" | sed -n 's/^airlockd_sent_bytes_total //p'; }

# An airlockd upstream is chained (its /v1/: bench/chain.sh measures
# that); nginx in front of it hides /v1/, so that the Hub's sequence runs,
# and streams the rest through.  The peer goes through it as well.
nport=$(free_port)
bench_nginx_conf "$W/nginx" 1 256 <<EOF
	server {
		listen 127.0.0.1:$nport;
		location /v1 { return 404; }
		location / {
			proxy_pass $D;
			proxy_http_version 1.1;
			proxy_buffering off;
			proxy_redirect off;
			proxy_set_header Host \$http_host;
		}
	}
EOF
"$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" &
npid=$!
bench_started "$npid" QUIT
A=http://127.0.0.1:$nport
bench_until nginx "$W/nginx/error.log" \
    curl -sf -o /dev/null "$A/api/models/bench/model/revision/main"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$A/v1/")" = 404 ] ||
    { echo "mirror.sh: nginx does not hide airlockd's /v1/" >&2; exit 1; }

# The peer: what a script without airlock does, each file by curl -o, then
# sha256sum over them.
peer() {
	_url=$1
	rm -rf "$W/peer"
	mkdir -p "$W/peer"
	_s=$(now)
	for f in $files; do
		curl -sSfL -o "$W/peer/$f" "$_url/bench/model/resolve/main/$f"
	done
	(cd "$W/peer" && sha256sum $files >/dev/null)
	since "$_s"
}
# One pull into a new store: "seconds peak-KiB".
pull() {
	rm -rf "$W/down"
	"$AIRLOCK" --store "$W/down" init >/dev/null
	"$TIME" -f '%e %M' -o "$W/time" "$AIRLOCK" --store "$W/down" pull \
	    bench/model --from "$1" >/dev/null
	cat "$W/time"
}
# The pull must bring the same bytes, or its figures mean nothing.
check_pull() {
	rm -rf "$W/out"
	"$AIRLOCK" --store "$W/down" checkout bench/model "$W/out" >/dev/null
	diff -r "$W/model" "$W/out" >/dev/null || { echo "mirror.sh: the pull differs from the model" >&2; exit 1; }
	rm -rf "$W/out"
}
warm() { cat "$W/up/data.mdb" >/dev/null; cat "$W"/model/* >/dev/null; }

# bench UPSTREAM-NAME URL: the best of RUNS, pull and peer alternating.
bench() {
	_name=$1; _url=$2
	_bp= _bc= _rss=0
	_i=0
	while [ $_i -lt "$RUNS" ]; do
		warm
		_c=$(peer "$_url")
		_bc=$(min "$_bc" "$_c")
		rm -rf "$W/peer"
		warm
		set -- $(pull "$_url")
		_bp=$(min "$_bp" "$1")
		[ "$2" -gt "$_rss" ] && _rss=$2
		_i=$((_i + 1))
	done
	check_pull
	_r=$(awk -v p="$_bp" -v c="$_bc" 'BEGIN { printf "%.2f", p / c }')
	_m=$(awk -v k="$_rss" 'BEGIN { printf "%.1f", k / 1024 }')
	printf '%-10s %-10s %-24s %-10s (target <= 0.8: %s)\n' "$_name" \
	    "${_bp} s" "${_bc} s" "$_r" "$(verdict "$_r" 0.8)"
	printf '%-10s peak RSS %s MiB (target <= 256 MiB: %s)\n' "" "$_m" \
	    "$(verdict "$_m" 256)"
}

echo
printf '%-10s %-10s %-24s %s\n' upstream pull "curl -o + sha256sum" "pull / peer"
bench airlockd "$A"

# The fake Hub's redirect to nginx serving the same files, when it exists.
if [ "$FAKEHUB" = 1 ] && [ -f "$top/tests/lib/fakehub.py" ] && [ -x "$NGINX" ]; then
	# The files by sha256, as the fake Hub's redirects name them.
	mkdir -p "$W/cdn"
	for f in $files; do
		ln -f "$W/model/$f" "$W/cdn/$(sha256sum <"$W/model/$f" | cut -c1-64)"
	done
	cport=$(free_port)
	bench_nginx_conf "$W/cdnx" 1 256 <<EOF
	server {
		listen 127.0.0.1:$cport;
		sendfile on;
		location ~ ^/repos/[0-9a-f][0-9a-f]/[0-9a-f][0-9a-f]/([0-9a-f]+)\$ {
			alias $W/cdn/\$1;
		}
	}
EOF
	"$NGINX" -p "$W/cdnx" -c "$W/cdnx/nginx.conf" -e "$W/cdnx/error.log" &
	cpid=$!
	bench_started "$cpid" QUIT
	python3 "$top/tests/lib/fakehub.py" --port-file "$W/hubport" \
	    --cdn-url "http://127.0.0.1:$cport" "model:bench/model=$W/model" \
	    2>"$W/fakehub.log" &
	hpid=$!
	bench_started "$hpid" TERM
	# It reads and hashes every file first: up to 2 minutes.
	_n=0
	until [ -s "$W/hubport" ]; do
		_n=$((_n + 1))
		[ $_n -gt 2400 ] && { echo "the fake Hub did not start" >&2
		    cat "$W/fakehub.log" >&2; exit 1; }
		sleep 0.05
	done
	H=http://127.0.0.1:$(cut -d' ' -f1 "$W/hubport")
	bench_until "nginx (CDN)" "$W/cdnx/error.log" \
	    curl -sfL -o /dev/null -r 0-0 "$H/bench/model/resolve/main/model.safetensors"
	bench "fake Hub" "$H"
	echo "           (the Hub's API from the fake, the weights by its 302 from nginx)"
else
	echo "(fake Hub + nginx: skipped, tests/lib/fakehub.py is not there)"
fi

# Resume: killed once airlockd has sent half the big file.
rm -rf "$W/down"
"$AIRLOCK" --store "$W/down" init >/dev/null
warm
s0=$(sent)
"$AIRLOCK" --store "$W/down" pull bench/model --from "$A" >/dev/null 2>&1 &
ppid_=$!
bench_started "$ppid_" KILL
while :; do
	s=$(sent)
	[ $((s - s0)) -ge $((big / 2)) ] && break
	kill -0 "$ppid_" 2>/dev/null || { echo "mirror.sh: the pull ended before half" >&2; exit 1; }
	sleep 0.02
done
kill -KILL "$ppid_"
wait "$ppid_" 2>/dev/null || true
bench_stopped "$ppid_"
at=$(($(sent) - s0))
b=$(sent)
"$AIRLOCK" --store "$W/down" --json pull bench/model --from "$A" >"$W/resume.json"
again=$(($(sent) - b))
check_pull
"$AIRLOCK" --store "$W/down" verify --all >/dev/null
r=$(awk -v a="$again" -v f="$big" 'BEGIN { printf "%.3f", a / f }')
echo
printf 'resume: killed with %s of %s bytes sent; the rerun fetched %s bytes\n' \
    "$at" "$big" "$again"
printf 'resume: refetched / file %s (target <= 0.55: %s)\n' "$r" "$(verdict "$r" 0.55)"
