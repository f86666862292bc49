#!/bin/sh
# bench/bundle.sh [SIZE_MIB] - bundles against tar on the same files, in
# one run.  Needs a built tree (run from the build directory or set
# AIRLOCK).  Prints each run's times and the ratios of the best of RUNS
# (4) runs; asserts nothing.
#
#   export                       ÷ tar cf of the model folder     ≤ 1.0
#   import                       ÷ (tar xf + sha256sum of the files) ≤ 1.0
#   delta (header grew 100 B)    ÷ full bundle, in bytes          ≤ 1 %
set -eu
size_mib=${1:-2048}
runs=${RUNS:-4}
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
sync

# min A B: the shorter of two times.
min() { awk -v a="$1" -v b="$2" 'BEGIN { print ((b == "" || a < b) ? a : b) }'; }

# Each step the best of RUNS, airlock and the tool taking turns to go
# first: on a virtual disk, the second of two big writes in a row waits
# for the host to write back the first, whatever the guest's sync said.
# Each reads its input from the page cache: some virtual machines give a
# guest's idle memory back to the host, and the first read of a "cached"
# file then runs at the host's pace, so each input is read just before
# its step.  What is timed is the copy, and the writes reaching the disk.
warm() { cat "$@" >/dev/null; }
step_tar() {
	rm -f "$W/m.tar"; sync; warm "$W"/m/*
	t=$(now); tar cf "$W/m.tar" -C "$W" m && sync; t1=$(since "$t")
}
step_export() {
	rm -f "$W/m.bundle"; sync; warm "$W/A/data.mdb"
	t=$(now); A export bench/m -o "$W/m.bundle" >/dev/null && sync; t2=$(since "$t")
}
# Against tar xf of the same bytes and sha256sum of what it unpacked.
step_untar() {
	rm -rf "$W/x"; mkdir "$W/x"; sync; warm "$W/m.tar"
	t=$(now)
	tar xf "$W/m.tar" -C "$W/x" && sync && (cd "$W/x/m" && sha256sum * >/dev/null)
	t3=$(since "$t")
	rm -rf "$W/x"
}
# Into an empty store.
step_import() {
	rm -rf "$W/B"; B init >/dev/null
	A key pub | B trust add - --name a >/dev/null
	sync; warm "$W/m.bundle"
	t=$(now); B import "$W/m.bundle" >/dev/null; t4=$(since "$t")
}
tar_s= export_s= untar_s= import_s=
i=0
while [ $i -lt "$runs" ]; do
	if [ $((i % 2)) -eq 0 ]; then
		step_tar; step_export; step_untar; step_import
	else
		step_export; step_tar; step_import; step_untar
	fi
	printf '# run %d: tar cf %.2f s, export %.2f s, tar xf + sha256sum %.2f s, import %.2f s\n' \
	    $((i + 1)) "$t1" "$t2" "$t3" "$t4"
	tar_s=$(min "$t1" "$tar_s") export_s=$(min "$t2" "$export_s")
	untar_s=$(min "$t3" "$untar_s") import_s=$(min "$t4" "$import_s")
	i=$((i + 1))
done
rm -f "$W/m.tar"

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
