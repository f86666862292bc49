#!/bin/sh
# bench/store.sh [SIZE_MIB] - the store's figures against peer tools on the
# same file, in one run (DESIGN.md §8).  Needs a built tree: run from the
# build directory or set AIRLOCK.  Prints ratios; asserts nothing.
#
#   add            ÷ cp FILE DIR && sync        target ≤ 1.2 (aim 1.0)
#   add peak RSS                                 target ≤ 256 MiB
#   re-add         ÷ sha256sum FILE              target ≤ 0.5
#   verify         ÷ sha256sum -c                target ≤ 0.35
#   page waste                                   target ≤ 2 %
#   header +100 B: new bytes stored ÷ file       target ≤ 1 %
#   add after gc freed half ÷ add into a fresh store (throughput) ≥ 0.8
set -eu
size_mib=${1:-2048}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
AIRLOCK=${AIRLOCK:-$(pwd)/airlock}
bench_built "$AIRLOCK"
bench_need /usr/bin/time "GNU time is needed (apt-get install time)"
bench_workdir "${BENCH_DIR:-/var/tmp}"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
pct() { echo "scale=3; 100 * $1 / $2" | bc -l; }
al() { "$AIRLOCK" --store "$W/store" "$@"; }

echo "# airlock store benchmark: ${size_mib} MiB of random safetensors weights"
# The weights: random bytes, kept so that a second revision can have the
# same tensors behind a larger header.
head -c $((size_mib * 1048576)) /dev/urandom >"$W/weights"
sh "$here/tests/lib/mkmodel.sh" "$W/m1" $((size_mib * 1048576)) 0 "$W/weights"
file=$W/m1/model.safetensors
bytes=$(stat -c %s "$file")
cat "$file" >/dev/null	# both sides start from the page cache
sync

# cp && sync, the peer of add.
mkdir "$W/cpdir"
t=$(now); cp "$file" "$W/cpdir/" && sync; cp_s=$(since "$t")
rm -rf "$W/cpdir"; sync

al init >/dev/null
t=$(now)
/usr/bin/time -f %M -o "$W/rss" "$AIRLOCK" --store "$W/store" add "$W/m1" \
    --repo bench/m >/dev/null
add_s=$(since "$t")
rss_kib=$(cat "$W/rss")

# Re-add of bytes the store has: the peer is hashing them once.
t=$(now); sha256sum "$file" >"$W/sums"; sha_s=$(since "$t")
t=$(now); al add "$W/m1" --repo bench/again >/dev/null; readd_s=$(since "$t")

# Verify: the peer is sha256sum -c.
t=$(now); sha256sum -c "$W/sums" >/dev/null; shac_s=$(since "$t")
t=$(now); al verify bench/m >/dev/null; verify_s=$(since "$t")

waste=$(al --json stats | sed -n 's/.*"page_waste": \([0-9.e-]*\).*/\1/p')

# A second revision whose header grew by 100 bytes: every tensor shifts.
sh "$here/tests/lib/mkmodel.sh" "$W/m2" $((size_mib * 1048576)) 100 "$W/weights"
new=$(al --json add "$W/m2" --repo bench/m | sed -n 's/.*"new_bytes": \([0-9]*\).*/\1/p')

# Add after gc freed half the store, against a fresh store.
half=$((size_mib / 2))
for n in a b c; do
	mkdir -p "$W/h$n"
	head -c $((half * 1048576)) /dev/urandom >"$W/h$n/model.safetensors"
done
rm -rf "$W/store" "$W/m1" "$W/m2" "$W/weights"
al init >/dev/null
al add "$W/ha" --repo bench/h >/dev/null
al add "$W/hb" --repo bench/h >/dev/null	# main moves: only ha's commit id names it
# Commit ids are roots: only a retention lets ha go.
freed=$(al --json gc --keep-last 1 | sed -n 's/.*"bytes": \([0-9]*\).*/\1/p')
sync
t=$(now); al add "$W/hc" --repo bench/after-gc >/dev/null; aftergc_s=$(since "$t")
rm -rf "$W/store"; al init >/dev/null; sync
t=$(now); al add "$W/hc" --repo bench/fresh >/dev/null; fresh_s=$(since "$t")

printf '%-34s %8.2f s   cp+sync %6.2f s   ratio %s (target <= 1.2)\n' \
    "add ${size_mib} MiB" "$add_s" "$cp_s" "$(ratio "$add_s" "$cp_s")"
printf '%-34s %8d MiB (target <= 256)\n' "add peak RSS" $((rss_kib / 1024))
printf '%-34s %8.2f s   sha256sum %4.2f s   ratio %s (target <= 0.5)\n' \
    "re-add (all bytes stored)" "$readd_s" "$sha_s" "$(ratio "$readd_s" "$sha_s")"
printf '%-34s %8.2f s   sha256sum -c %4.2f s   ratio %s (target <= 0.35)\n' \
    "verify" "$verify_s" "$shac_s" "$(ratio "$verify_s" "$shac_s")"
printf '%-34s %8s %%  (target <= 2)\n' "page waste" "$(echo "scale=3; 100 * $waste" | bc -l)"
printf '%-34s %8s %%  (%s bytes; target <= 1)\n' "header +100 B: new bytes stored" \
    "$(pct "$new" "$bytes")" "$new"
printf '%-34s %8.2f s   fresh %6.2f s   throughput ratio %s (target >= 0.8)\n' \
    "add after gc freed half" "$aftergc_s" "$fresh_s" "$(ratio "$fresh_s" "$aftergc_s")"
printf '%-34s %8s MiB (gc --keep-last 1 after main moved)\n' "  of which gc freed" \
    "$(echo "scale=1; ${freed:-0} / 1048576" | bc -l)"
