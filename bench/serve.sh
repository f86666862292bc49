#!/bin/sh
# bench/serve.sh [BUILDDIR]
#
# airlockd against nginx, serving the same 2 GiB file over loopback, in one
# run on this machine (DESIGN.md §8):
#   - one client (curl -o /dev/null): airlockd's throughput ÷ nginx's
#     (target >= 0.8);
#   - 32 clients at once: the same ratio (target >= 1.0), the best of
#     RUNS for each server, and each run's fastest and slowest client:
#     a job that starts on many nodes waits for the last;
#   - 32 clients through the cache tier (nginx with
#     contrib/nginx/airlock-cache.conf in front of airlockd, the cache
#     filled once): its throughput / nginx serving the file itself
#     (target >= 0.9);
#   - one client, cold: the file's pages (nginx's file, the store's data
#     file) dropped from the page cache before each run, with
#     posix_fadvise(DONTNEED) on those files only, so that other work on
#     the machine keeps its cache; fincore says whether the drop took;
#   - airlockd's peak resident size, VmHWM (target <= 64 MiB).
# The warm rows serve from the page cache (the file and the store are read
# once first), nginx with sendfile, as Debian ships it.  Not part of make
# check: a test asserts behaviour, a benchmark measures time.
#
# Environment: SIZE (bytes, default 2 GiB), CLIENTS (32), RUNS (3: each
# row's best run for each server counts), AIRLOCKD_CONF (a configuration
# for airlockd; default: none, its defaults), NGINX (/usr/sbin/nginx),
# AIRLOCK, AIRLOCKD (default: BUILDDIR/airlock, BUILDDIR/airlockd),
# KEEP=1 keeps the work folder.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
build=${1:-$top}
AIRLOCK=${AIRLOCK:-$build/airlock}
AIRLOCKD=${AIRLOCKD:-$build/airlockd}
NGINX=${NGINX:-/usr/sbin/nginx}
SIZE=${SIZE:-2147483648}
CLIENTS=${CLIENTS:-32}
RUNS=${RUNS:-3}

bench_built "$AIRLOCK" "$AIRLOCKD"
bench_need "$NGINX" "apt-get install nginx-light"
bench_need curl "is needed"

bench_workdir
# nginx started by root reads as its unprivileged user.
chmod 755 "$W"
# Bytes per second as a human figure.
rate() { awk -v b="$1" 'BEGIN { printf "%.2f GB/s", b / 1e9 }'; }

echo "airlock serve benchmark: $(nproc) cores, $(uname -r)"
echo "file: $SIZE bytes (random, shaped like a safetensors shard)"

# The file: a safetensors header, then pseudo-random tensor bytes (AES-CTR
# is much faster than /dev/urandom and as incompressible).
mkdir -p "$W/model"
openssl enc -aes-128-ctr -pass pass:airlock-bench -nosalt -pbkdf2 \
    </dev/zero 2>/dev/null | head -c "$SIZE" >"$W/data"
sh "$top/tests/lib/mkmodel.sh" "$W/model" "$SIZE" 0 "$W/data" >/dev/null
rm -f "$W/data"
file=$W/model/model.safetensors
bytes=$(wc -c <"$file")
"$AIRLOCK" --store "$W/store" init >/dev/null
"$AIRLOCK" --store "$W/store" add "$W/model" --repo bench/model >/dev/null
# Nothing left to write back while the servers are measured.
sync

# drop FILE...: the files' pages out of the page cache, theirs only, so
# that other work on the machine keeps its cache; where python3 has
# posix_fadvise (can_drop=1).
can_drop=0
python3 -c 'import os; os.posix_fadvise' 2>/dev/null && can_drop=1
drop() {
	python3 -c 'import os, sys
for f in sys.argv[1:]:
    fd = os.open(f, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)' "$@"
}

# Both serve from memory.  Some virtual machines give the page cache back
# to the host within seconds, so each server's file is read again before
# each of its runs.
warm_n() { cat "$file" >/dev/null; }
warm_a() { cat "$W/store/data.mdb" >/dev/null; }
# How a file came into the page cache decides the size of its pages
# (folios): written in big writes or read ahead, large ones; in small
# writes or faulted in, 4 KiB ones, which cost more to send and to copy
# out per byte.  Both files are dropped and read back once, so that both
# lie in the cache as read-ahead puts them, as after a restart, and
# neither server is measured on how its file happened to be written.
[ "$can_drop" -eq 0 ] || drop "$file" "$W/store/data.mdb"

# airlockd with its defaults, or AIRLOCKD_CONF.
if [ -n "${AIRLOCKD_CONF:-}" ]; then
	cp "$AIRLOCKD_CONF" "$W/airlockd.conf"
else
	: >"$W/airlockd.conf"
fi
"$AIRLOCKD" -d -c "$W/airlockd.conf" --store "$W/store" \
    --listen 127.0.0.1:0 --port-file "$W/port" 2>"$W/airlockd.log" &
dpid=$!
bench_started "$dpid" TERM
bench_until airlockd "$W/airlockd.log" test -s "$W/port"
a_url="http://$(cat "$W/port")/bench/model/resolve/main/model.safetensors"
# VmHWM counts the pages of the store's file that airlockd has mapped,
# which are the page cache's; its private memory (RssAnon) has no
# high-water mark of its own, so it is sampled.
(
	peak=0
	while kill -0 "$dpid" 2>/dev/null; do
		a=$(awk '/^RssAnon:/ { print $2 }' "/proc/$dpid/status" 2>/dev/null) || break
		[ -n "$a" ] && [ "$a" -gt "$peak" ] && { peak=$a; echo "$peak" >"$W/anon"; }
		sleep 0.1
	done
) &

# nginx-light, on its own configuration, in the foreground.
nport=$(free_port)
bench_nginx_conf "$W/nginx" auto 1024 <<EOF
	sendfile on;
	tcp_nopush on;
	server {
		listen 127.0.0.1:$nport;
		root $W/model;
	}
EOF
"$NGINX" -p "$W/nginx" -c "$W/nginx/nginx.conf" -e "$W/nginx/error.log" &
npid=$!
bench_started "$npid" QUIT
n_url="http://127.0.0.1:$nport/model.safetensors"
bench_until nginx "$W/nginx/error.log" curl -sf -o /dev/null -r 0-0 "$n_url"
curl -sf -o /dev/null -r 0-0 "$a_url"

# The cache tier: the shipped file, its three "here" lines pointed at this
# run's airlockd, cache directory and port.
cport=$(free_port)
mkdir -p "$W/cache/data"
sed -e "s|^proxy_cache_path /var/cache/nginx/airlock |proxy_cache_path $W/cache/data |" \
    -e "s|server 127.0.0.1:8080;|server $(cat "$W/port");|" \
    -e "s|listen 127.0.0.1:8081;|listen 127.0.0.1:$cport;|" \
    "$top/contrib/nginx/airlock-cache.conf" >"$W/cache/airlock-cache.conf"
bench_nginx_conf "$W/cache" auto 1024 <<EOF
	sendfile on;
	tcp_nopush on;
	include $W/cache/airlock-cache.conf;
EOF
"$NGINX" -p "$W/cache" -c "$W/cache/nginx.conf" -e "$W/cache/error.log" &
cpid=$!
bench_started "$cpid" QUIT
c_url="http://127.0.0.1:$cport/bench/model/resolve/main/model.safetensors"
bench_until "the cache tier" "$W/cache/error.log" \
    curl -sf -o /dev/null "http://127.0.0.1:$cport/healthz"

# All must send the same bytes, or the figures mean nothing.  The cache
# tier's first read fills its cache.
a_sum=$(curl -s "$a_url" | sha256sum | cut -d' ' -f1)
n_sum=$(sha256sum <"$file" | cut -d' ' -f1)
c_sum=$(curl -s "$c_url" | sha256sum | cut -d' ' -f1)
[ "$a_sum" = "$n_sum" ] || { echo "airlockd sent other bytes than the file" >&2; exit 1; }
[ "$c_sum" = "$n_sum" ] || { echo "the cache tier sent other bytes than the file" >&2; exit 1; }
[ "$(curl -s -o /dev/null -D - "$c_url" | tr -d '\r' | sed -n 's/^X-Cache-Status: //ip')" = HIT ] ||
    { echo "the cache tier does not serve the file from its cache" >&2; exit 1; }
warm_c() { find "$W/cache/data" -type f -exec cat {} + >/dev/null; }

# best A B: the larger of two rates.
best() { awk -v a="$1" -v b="$2" 'BEGIN { print ((a > b) ? a : b) }'; }
# faster URL BEST: one client's bytes per second from URL, or BEST if
# that was faster.
faster() { best "$(curl -s -o /dev/null -w '%{speed_download}' "$1")" "$2"; }

# One client: the best of RUNS, alternating servers.
best_a=0
best_n=0
i=0
while [ $i -lt "$RUNS" ]; do
	warm_n
	best_n=$(faster "$n_url" "$best_n")
	warm_a
	best_a=$(faster "$a_url" "$best_a")
	i=$((i + 1))
done

# many URL TAG: CLIENTS at once, all the bytes over the wall-clock time
# of the slowest; the fastest and slowest client's times go on TAG's list.
many() {
	_start=$(date +%s.%N)
	_pids=
	_k=0
	while [ $_k -lt "$CLIENTS" ]; do
		curl -s -o /dev/null -w '%{size_download} %{time_total}\n' "$1" >"$W/many.$_k" &
		_pids="$_pids $!"
		_k=$((_k + 1))
	done
	wait $_pids
	_end=$(date +%s.%N)
	# A client cut short would make the figure a lie.
	_short=$(cat "$W"/many.* | awk -v b="$bytes" '$1 != b' | wc -l)
	[ "$_short" -eq 0 ] || echo "serve.sh: $_short of $CLIENTS clients got fewer than $bytes bytes" >&2
	# How long the slowest client took against the fastest, for $2's row.
	cat "$W"/many.* | awk 'NR == 1 || $2 < lo { lo = $2 } $2 > hi { hi = $2 }
	    END { printf "%.1f-%.1f s ", lo, hi }' >>"$W/spread.$2"
	awk -v s="$_start" -v e="$_end" -v n="$CLIENTS" -v b="$bytes" \
	    'BEGIN { printf "%.0f", n * b / (e - s) }'
}
# The best of RUNS for each, the three taking turns, as for one client: a
# single run on a shared machine measures its neighbours as much as the
# server.
many_n=0
many_a=0
many_c=0
i=0
while [ $i -lt "$RUNS" ]; do
	warm_n
	many_n=$(best "$(many "$n_url" n)" "$many_n")
	warm_a
	many_a=$(best "$(many "$a_url" a)" "$many_a")
	warm_c
	many_c=$(best "$(many "$c_url" c)" "$many_c")
	i=$((i + 1))
done

# Cold: the file's pages dropped, for nginx's file and for the store.
# Percent of the file in the page cache, or "?" without fincore.
resident() {
	command -v fincore >/dev/null 2>&1 || { echo "?"; return; }
	fincore -b -n -o RES "$1" | awk -v s="$(wc -c <"$1")" '{ printf "%.0f", 100 * $1 / s }'
}
cold_a=0
cold_n=0
cold_left=
if [ "$can_drop" -eq 1 ]; then
	i=0
	while [ $i -lt "$RUNS" ]; do
		drop "$file"
		cold_left="$cold_left nginx:$(resident "$file")%"
		cold_n=$(faster "$n_url" "$cold_n")
		drop "$W/store/data.mdb"
		cold_left="$cold_left airlockd:$(resident "$W/store/data.mdb")%"
		cold_a=$(faster "$a_url" "$cold_a")
		i=$((i + 1))
	done
fi

hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$dpid/status")
anon=$(cat "$W/anon" 2>/dev/null || echo 0)
nhwm=$(for p in $(pgrep -P "$npid") $npid; do awk '/^VmHWM:/ { print $2 }' "/proc/$p/status"; done |
    sort -n | tail -n 1)

ratio1=$(awk -v a="$best_a" -v n="$best_n" 'BEGIN { printf "%.2f", a / n }')
ratio2=$(awk -v a="$many_a" -v n="$many_n" 'BEGIN { printf "%.2f", a / n }')
ratio3=$(awk -v a="$many_c" -v n="$many_n" 'BEGIN { printf "%.2f", a / n }')
ratio4=$(awk -v a="$cold_a" -v n="$cold_n" 'BEGIN { printf "%.2f", (n > 0 ? a / n : 0) }')
verdict() { awk -v r="$1" -v t="$2" -v up="$3" 'BEGIN { ok = up ? r >= t : r <= t; print ok ? "met" : "NOT met" }'; }

echo
printf '%-34s %-12s %-12s %s\n' "" airlockd nginx "airlockd / nginx"
printf '%-34s %-12s %-12s %s (target >= 0.8: %s)\n' "one client, curl -o /dev/null" \
    "$(rate "$best_a")" "$(rate "$best_n")" "$ratio1" "$(verdict "$ratio1" 0.8 1)"
printf '%-34s %-12s %-12s %s (target >= 1.0: %s)\n' "$CLIENTS clients at once" \
    "$(rate "$many_a")" "$(rate "$many_n")" "$ratio2" "$(verdict "$ratio2" 1.0 1)"
printf '%-34s %s\n' "  fastest-slowest client, each run" "airlockd: $(cat "$W/spread.a")"
printf '%-34s %s\n' "" "nginx:    $(cat "$W/spread.n")"
printf '%-34s %-12s %-12s %s (target >= 0.9: %s)\n' "$CLIENTS clients, through the cache" \
    "$(rate "$many_c")" "$(rate "$many_n")" "$ratio3" "$(verdict "$ratio3" 0.9 1)"
printf '%-34s %s\n' "  fastest-slowest client, each run" "cache:    $(cat "$W/spread.c")"
if [ "$cold_n" != 0 ]; then
	printf '%-34s %-12s %-12s %s\n' "one client, cold page cache" \
	    "$(rate "$cold_a")" "$(rate "$cold_n")" "$ratio4"
	printf '%-34s %s\n' "  resident after each drop" "$cold_left"
else
	printf '%-34s %s\n' "one client, cold page cache" \
	    "not measured: posix_fadvise is not available here"
fi
printf '%-34s %-12s %-12s (target <= 64 MiB: %s)\n' "peak RSS (VmHWM)" \
    "$(awk -v k="$hwm" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
    "$(awk -v k="$nhwm" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
    "$(verdict "$(awk -v k="$hwm" 'BEGIN { print k / 1024 }')" 64 0)"
printf '%-34s %-12s\n' "  of which private (RssAnon, peak)" \
    "$(awk -v k="$anon" 'BEGIN { printf "%.1f MiB", k / 1024 }')"
