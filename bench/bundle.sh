#!/bin/sh
# bench/bundle.sh [SIZE_MIB] - bundles against tar on the same files, in
# one run.  Needs a built tree (run from the build directory or set
# AIRLOCK).  Prints ratios; asserts nothing.
#
#   export                       ÷ tar cf of the model folder     ≤ 1.0
#   import                       ÷ (tar xf + sha256sum of the files) ≤ 1.0
#   delta (header grew 100 B)    ÷ full bundle, in bytes          ≤ 1 %
set -eu
size_mib=${1:-2048}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/bench/lib.sh"
AIRLOCK=${AIRLOCK:-$(pwd)/airlock}
bench_built "$AIRLOCK"
bench_workdir "${BENCH_DIR:-/var/tmp}"

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc -l; }
ratio() { echo "scale=3; $1 / $2" | bc -l; }
A() { "$AIRLOCK" --store "$W/A" "$@"; }
B() { "$AIRLOCK" --store "$W/B" "$@"; }

echo "# airlock bundle benchmark: ${size_mib} MiB of random safetensors weights"
head -c $((size_mib * 1048576)) /dev/urandom >"$W/weights"
sh "$here/tests/lib/mkmodel.sh" "$W/m" $((size_mib * 1048576)) 0 "$W/weights"
A init >/dev/null
A key gen --no-password >/dev/null
A add "$W/m" --repo bench/m >/dev/null
B init >/dev/null
A key pub | B trust add - --name a >/dev/null
sync

# Export against tar cf of the same folder.
t=$(now); tar cf "$W/m.tar" -C "$W" m && sync; tar_s=$(since "$t")
t=$(now); A export bench/m -o "$W/m.bundle" >/dev/null && sync; export_s=$(since "$t")

# Import against tar xf and sha256sum of what it unpacked.
mkdir "$W/x"; sync
t=$(now)
tar xf "$W/m.tar" -C "$W/x" && sync && (cd "$W/x/m" && sha256sum * >/dev/null)
untar_s=$(since "$t")
rm -rf "$W/x" "$W/m.tar"; sync
t=$(now); B import "$W/m.bundle" >/dev/null; import_s=$(since "$t")

# A delta: the same weights behind a header 100 bytes longer.
B inventory -o "$W/B.inv" >/dev/null
sh "$here/tests/lib/mkmodel.sh" "$W/m" $((size_mib * 1048576)) 100 "$W/weights"
A add "$W/m" --repo bench/m >/dev/null
A export bench/m -o "$W/delta.bundle" --have "$W/B.inv" >/dev/null
full=$(stat -c %s "$W/m.bundle")
delta=$(stat -c %s "$W/delta.bundle")

printf '%-28s %8.2f s   tar cf %6.2f s   ratio %s (target <= 1.0)\n' \
    "export ${size_mib} MiB" "$export_s" "$tar_s" "$(ratio "$export_s" "$tar_s")"
printf '%-28s %8.2f s   tar xf + sha256sum %6.2f s   ratio %s (target <= 1.0)\n' \
    "import" "$import_s" "$untar_s" "$(ratio "$import_s" "$untar_s")"
printf '%-28s %8s %%  (%s of %s bytes; target <= 1)\n' "delta bundle / full" \
    "$(echo "scale=3; 100 * $delta / $full" | bc -l)" "$delta" "$full"
