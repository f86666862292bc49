#!/bin/sh
# demo.sh - airlock's main job on this machine: a store with a generated
# demo model in it, signed, served by airlockd on 127.0.0.1 with the Hub's
# API.  Run from the built tree.  Ctrl-C stops the daemon.
set -eu
top=$(cd "$(dirname "$0")" && pwd)
store=${AIRLOCK_STORE:-$top/demo-store}
port=${AIRLOCK_PORT:-8080}
# Not installed: the licence table of this tree, for licence conclusions.
[ -n "${AIRLOCK_LICENCES:-}" ] || { AIRLOCK_LICENCES=$top/policy/licences.json
	export AIRLOCK_LICENCES; }
al() { "$top/airlock" --store "$store" "$@"; }

al init
[ -f "$store/keys/default.key" ] || al key gen --no-password >/dev/null
model=$(mktemp -d)
sh "$top/tests/lib/mkmodel.sh" "$model" 4194304
al add "$model" --repo airlock-demo/tiny-demo
rm -rf "$model"
al verify airlock-demo/tiny-demo
cat <<EOT

airlockd serves $store on http://127.0.0.1:$port - try:
  curl http://127.0.0.1:$port/api/models/airlock-demo/tiny-demo
  curl -O http://127.0.0.1:$port/airlock-demo/tiny-demo/resolve/main/config.json
  $top/airlock --store $store licence airlock-demo/tiny-demo
  HF_ENDPOINT=http://127.0.0.1:$port hf download airlock-demo/tiny-demo

EOT
exec "$top/airlockd" -d --listen "127.0.0.1:$port" --store "$store"
