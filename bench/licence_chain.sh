#!/bin/sh
# bench/licence_chain.sh [LEVELS [RUNS]]: how long `airlock licence` takes
# on a chain of LEVELS fine-tunes (default 10), each the base of the next,
# the first a Llama 3.1 model; RUNS runs (default 20), the median and the
# slowest printed.  A measurement, not a test: it asserts nothing.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/bench/lib.sh"
AIRLOCK=${AIRLOCK:-$top/airlock}
levels=${1:-10}
runs=${2:-20}
bench_built "$AIRLOCK"
bench_workdir
S=$W/store
"$AIRLOCK" --store "$S" init >/dev/null
prev=
for i in $(seq 0 "$levels"); do
	d=$W/m$i
	mkdir -p "$d"
	if [ -z "$prev" ]; then
		printf -- '---\nlicense: llama3.1\n---\n' >"$d/README.md"
	else
		printf -- '---\nlicense: apache-2.0\nbase_model: %s\n---\n' "$prev" >"$d/README.md"
	fi
	printf 'LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\n' >"$d/LICENSE"
	head -c 4096 /dev/urandom >"$d/model.safetensors"
	"$AIRLOCK" --store "$S" add "$d" --repo "bench/Llama-chain-$i" >/dev/null
	prev=bench/Llama-chain-$i
done
"$AIRLOCK" --store "$S" --json licence "$prev" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print("chain of", len(d["chain"]), "revisions; concluded:", d["concluded"])'
python3 - "$AIRLOCK" "$S" "$prev" "$runs" <<'PY'
import os, subprocess, sys, time
airlock, store, repo, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def measure(args):
    wall, cpu = [], []
    for _ in range(runs):
        s = time.perf_counter()
        p = subprocess.Popen([airlock, "--store", store] + args,
                             stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        assert status == 0, args
        wall.append(time.perf_counter() - s)
        cpu.append(ru.ru_utime + ru.ru_stime)
    wall.sort(); cpu.sort()
    return wall[len(wall) // 2] * 1000, cpu[len(cpu) // 2] * 1000
lw, lc = measure(["licence", repo])
bw, bc = measure(["stats"])
print("airlock licence on the chain: median %.1f ms wall, %.1f ms CPU; "
      "airlock stats on the same store (the floor: start, store open): "
      "%.1f ms wall, %.1f ms CPU; %d runs each" % (lw, lc, bw, bc, runs))
PY
