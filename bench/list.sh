#!/bin/sh
# bench/list.sh [BUILDDIR]
#
# Listing many repositories (DESIGN.md §8; issue 13: "list 10,000 repos in
# well under 100 ms"): bench/mkrepos fills a store with COUNT small
# repositories, airlockd serves it, and curl times pages of /api/models —
# the first page of 500 as @huggingface/hub asks it, 1000 (the largest),
# sorted by downloads and by lastModified, filtered by a tag, searched,
# and a walk of every page by its Link cursor.  Prints the median of RUNS
# requests of each, in milliseconds.  Not part of make check: a test
# asserts behaviour, a benchmark measures time.
#
# Environment: COUNT (10000), RUNS (5), AIRLOCKD (BUILDDIR/airlockd),
# MKREPOS (BUILDDIR/bench/mkrepos), WORK (a folder for the store; default
# under /dev/shm when there is one, so that making it costs no fsyncs),
# KEEP=1 keeps it.
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
build=${1:-$top}
AIRLOCKD=${AIRLOCKD:-$build/airlockd}
MKREPOS=${MKREPOS:-$build/bench/mkrepos}
COUNT=${COUNT:-10000}
RUNS=${RUNS:-5}
bench_built "$AIRLOCKD" "$MKREPOS"
base=${WORK:-}
[ -n "$base" ] || { [ -d /dev/shm ] && base=/dev/shm || base=${TMPDIR:-/tmp}; }
bench_workdir "$base"

start=$(date +%s.%N)
"$MKREPOS" "$W/store" "$COUNT"
made=$(date +%s.%N)
printf 'made %d repositories in %.1f s\n' "$COUNT" \
    "$(echo "$made - $start" | bc)"

mkfifo "$W/port"
"$AIRLOCKD" -d --store "$W/store" --listen 127.0.0.1:0 \
    --port-file "$W/port" -c /dev/null 2>"$W/airlockd.log" &
pid=$!
bench_started "$pid" TERM
read -r addr <"$W/port"
url="http://$addr"

# The median of RUNS timings of one URL, in ms.
median() {
	i=0
	while [ "$i" -lt "$RUNS" ]; do
		curl -sf -o /dev/null -w '%{time_total}\n' "$1"
		i=$((i + 1))
	done | sort -n | awk '{ t[NR] = $1 } END {
	    printf "%.1f", t[int((NR + 1) / 2)] * 1000 }'
}

# airlockd's own CPU time so far, in ms: on a shared machine the wall
# time of a request says as much about the neighbours as about airlockd.
hz=$(getconf CLK_TCK)
cpu() { awk -v hz="$hz" '{ printf "%d", ($14 + $15) * 1000 / hz }' \
    "/proc/$pid/stat"; }

row() {
	c0=$(cpu)
	wall=$(median "$url/api/models?$2")
	c1=$(cpu)
	printf '%-44s %8s ms %8s ms CPU\n' "$1" "$wall" \
	    "$(echo "scale=1; ($c1 - $c0) / $RUNS" | bc)"
}

echo "GET /api/models over $COUNT repositories (wall: median of $RUNS;"
echo "CPU: airlockd's user + system time per request, their mean):"
row "first page of 500 (@huggingface/hub)" "limit=500"
row "1000 (the largest page)" "limit=1000"
row "500, sort=downloads" "limit=500&sort=downloads"
row "500, sort=lastModified, direction=-1" \
    "limit=500&sort=lastModified&direction=-1"
row "filter=variant-3 (a tag of 1 in 10)" "filter=variant-3&limit=500"
row "search=model-99 (111 hits)" "search=model-99&limit=500"
row "author=org7" "author=org7"
row "500 with full=true (siblings)" "limit=500&full=true"

# Every page, by the Link each gives.
next="$url/api/models?limit=500"
pages=0
t0=$(date +%s.%N)
while [ -n "$next" ]; do
	next=$(curl -sf -D - -o /dev/null "$next" | tr -d '\r' |
	    sed -n 's/^Link: <\([^>]*\)>; rel="next"$/\1/p')
	pages=$((pages + 1))
done
t1=$(date +%s.%N)
printf '%-44s %8.1f ms (%d pages, %.1f ms a page)\n' \
    "every page of 500, by cursor" "$(echo "($t1 - $t0) * 1000" | bc)" \
    "$pages" "$(echo "($t1 - $t0) * 1000 / $pages" | bc -l)"
