#!/bin/sh
# bench/fuzz.sh [-b BUILDDIR] [-t NAME]... SECONDS
#
# Fuzzes every libFuzzer target (tests/fuzz/fuzz_NAME.c) for SECONDS each,
# one after the other, under AddressSanitizer (which finds leaks too),
# starting from its committed corpus.  The build is a separate one, made
# here if it is not there yet:
#
#	BUILDDIR/configure --enable-fuzzing --enable-asan CC=clang
#
# BUILDDIR is $FUZZ_BUILD or build-fuzz in the source tree; it must not
# be the source tree itself, which must not be configured in place (run
# make distclean there first).  The inputs a run finds go to
# BUILDDIR/fuzz-out/NAME/corpus (not the committed corpus); anything that
# crashes, leaks or hangs to BUILDDIR/fuzz-out/NAME/ as libFuzzer names it
# (crash-*, leak-*, timeout-*, oom-*).  Prints one line a target: its
# executions, and what it found.  Exit 0 if nothing was found, 1 if a
# target found something, 2 on a usage or build error.
set -eu

usage() {
	echo "usage: bench/fuzz.sh [-b BUILDDIR] [-t NAME]... SECONDS" >&2
	exit 2
}

here=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD:-$here/build-fuzz}
only=
while getopts b:t: opt; do
	case $opt in
	b) build=$OPTARG ;;
	t) only="$only $OPTARG" ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 1 ] || usage
seconds=$1
case $seconds in
'' | *[!0-9]* | 0) echo "bench/fuzz.sh: SECONDS must be a positive number" >&2
	exit 2 ;;
esac

fail() {
	echo "bench/fuzz.sh: $*" >&2
	exit 2
}

# A build of its own: configure refuses a VPATH build of a configured tree.
mkdir -p "$build"
build=$(cd "$build" && pwd)
[ "$build" != "$here" ] || fail "BUILDDIR must not be the source tree"
if [ ! -f "$build/Makefile" ] ||
    ! grep -q '^FUZZER_LINK = -fsanitize=fuzzer' "$build/Makefile"; then
	[ ! -f "$here/config.status" ] || fail "$here is configured in" \
	    "place: run make distclean there first (or build elsewhere)"
	[ -x "$here/configure" ] || (cd "$here" && autoreconf -fi) ||
	    fail "autoreconf failed"
	echo "# configuring $build: --enable-fuzzing --enable-asan CC=${CC:-clang}"
	(cd "$build" && "$here/configure" -q --enable-fuzzing --enable-asan \
	    CC="${CC:-clang}") || fail "configure failed (is clang installed?)"
fi

# The targets, as the Makefile lists them.
targets=$(printf 'print-fuzz-targets:\n\t@echo $(FUZZ_TARGETS)\n' |
    make -s -C "$build" -f Makefile -f - print-fuzz-targets) ||
    fail "cannot list the fuzz targets"
if [ -n "$only" ]; then
	want=
	for name in $only; do
		case " $targets " in
		*" tests/fuzz/fuzz_$name "*) want="$want tests/fuzz/fuzz_$name" ;;
		*) fail "no fuzz target $name (have: $(echo "$targets" |
			    sed 's,tests/fuzz/fuzz_,,g'))" ;;
		esac
	done
	targets=$want
fi
echo "# building:" $targets
make -s -C "$build" -j"${JOBS:-2}" $targets >"$build/fuzz-build.log" 2>&1 ||
    { tail -n 20 "$build/fuzz-build.log" >&2; fail "build failed"; }

# Leaks are findings; a report stops the run at once.
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export ASAN_OPTIONS
found=0
echo "# $seconds s a target, one at a time"
for target in $targets; do
	name=${target##*/fuzz_}
	out=$build/fuzz-out/$name
	mkdir -p "$out/corpus"
	rm -f "$out/log"
	# -close_fd_mask=3: the target's own chatter; libFuzzer and ASan
	# report on a descriptor of their own.
	status=0
	"$build/$target" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
	    -artifact_prefix="$out/" "$out/corpus" \
	    "$here/tests/fuzz/corpus/$name" >"$out/log" 2>&1 || status=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/log" |
	    tail -n 1)
	if [ -z "$execs" ]; then
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$out/log" |
		    tail -n 1)
	fi
	units=$(ls "$out/corpus" | wc -l)
	finding=$(sed -n 's/.*Test unit written to \(.*\)/\1/p' "$out/log" |
	    tail -n 1)
	if [ "$status" -ne 0 ] || [ -n "$finding" ]; then
		found=1
		why=$(grep -m 1 -E '^==[0-9]+==ERROR|^SUMMARY|ALARM|deadly' \
		    "$out/log" || grep -m 1 'out-of-memory' "$out/log" || true)
		printf '%-14s %10s execs  FOUND: %s\n' "$name" "${execs:-?}" \
		    "${why:-exit status $status}"
		printf '%-14s %10s        input: %s  log: %s\n' "" "" \
		    "${finding:-none written}" "$out/log"
	else
		printf '%-14s %10s execs  ok (%s new inputs in %s)\n' "$name" \
		    "${execs:-?}" "$units" "$out/corpus"
	fi
done
exit $found
