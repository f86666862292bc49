#!/bin/sh
# bench/chain.sh [SIZE_MIB] - a chained pull (airlockd -> airlock pull) of a
# revision whose safetensors header grew by 100 bytes: bytes on the wire,
# as the upstream's /metrics counts every body it sent, against the file's
# size.  Needs a built tree (run from the build directory or set AIRLOCK
# and AIRLOCKD).  Prints the ratio; asserts nothing.
#
#   wire bytes of the second pull ÷ size of model.safetensors   ≤ 1 %
#   first (whole) pull ÷ (curl -o of the file + sha256sum)     for reference
set -eu
size_mib=${1:-2048}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
AIRLOCK=${AIRLOCK:-$(pwd)/airlock}
AIRLOCKD=${AIRLOCKD:-$(pwd)/airlockd}
bench_built "$AIRLOCK" "$AIRLOCKD"
bench_workdir "${BENCH_DIR:-/var/tmp}"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
A() { "$AIRLOCK" --store "$W/A" "$@"; }
B() { "$AIRLOCK" --store "$W/B" "$@"; }
sent() { curl -sS "$url/metrics" | sed -n 's/^airlockd_body_bytes_total //p'; }

echo "# airlock chained pull: ${size_mib} MiB of random safetensors weights"
bytes=$((size_mib * 1048576))
head -c "$bytes" /dev/urandom >"$W/weights"
sh "$here/tests/lib/mkmodel.sh" "$W/m" "$bytes" 0 "$W/weights"
A init >/dev/null
A key gen --no-password >/dev/null
A add "$W/m" --repo bench/m >/dev/null
B init >/dev/null
B key gen --no-password >/dev/null

mkfifo "$W/port"
"$AIRLOCKD" -d -c /dev/null --store "$W/A" --listen 127.0.0.1:0 \
    --port-file "$W/port" 2>"$W/airlockd.log" &
pid=$!
bench_started "$pid" TERM
url=http://$(timeout 10 head -n 1 "$W/port")

t=$(now); B pull bench/m --from "$url" >/dev/null; first_s=$(since "$t")
first=$(sent)
sync
t=$(now)
curl -sS -o "$W/copy" "$url/bench/m/resolve/main/model.safetensors" &&
    sha256sum "$W/copy" >/dev/null
curl_s=$(since "$t")
rm -f "$W/copy"

sh "$here/tests/lib/mkmodel.sh" "$W/m" "$bytes" 100 "$W/weights"
A add "$W/m" --repo bench/m >/dev/null
before=$(sent)
t=$(now); B pull bench/m --from "$url" >/dev/null; second_s=$(since "$t")
after=$(sent)
file=$(stat -c %s "$W/m/model.safetensors")

printf '%-34s %8.2f s   %s bytes on the wire\n' "first pull (whole)" \
    "$first_s" "$first"
printf '%-34s %8.2f s   ratio %s\n' "curl -o + sha256sum of the file" \
    "$curl_s" "$(echo "scale=3; $first_s / $curl_s" | bc -l)"
printf '%-34s %8.2f s   %s bytes on the wire\n' "second pull (header grew 100 B)" \
    "$second_s" "$((after - before))"
printf '%-34s %8s %%  (%s of %s bytes; target <= 1)\n' \
    "wire bytes / file size" \
    "$(echo "scale=4; 100 * ($after - $before) / $file" | bc -l)" \
    "$((after - before))" "$file"
