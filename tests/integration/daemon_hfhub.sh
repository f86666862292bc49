#!/bin/sh
# The real @huggingface/hub from npm, unmodified, against airlockd: repo
# info, recursive listing, download info and every byte of every file of a
# model and of a dataset, checked against the store's own record; a
# refs/pr/1 revision, a snapshot into a Hub cache, a private repository.
. "$top_srcdir/tests/lib/tap.sh"

npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
[ -n "$npm" ] || skip_all "npm is not installed: @huggingface/hub cannot be fetched"
command -v node >/dev/null 2>&1 || skip_all "node is not installed"

plan 19

S=$T/store
# The demo model, with a nested folder, an empty file and a name that
# needs percent-encoding; 5 MB of weights span many read buffers.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 5000000 >/dev/null
mkdir -p "$T/model/nested/deeper"
printf 'a text file in a folder\n' >"$T/model/nested/deeper/file with space.txt"
: >"$T/model/empty.txt"
# A dataset: a card, a CSV (not LFS) and a parquet file (LFS by name).
mkdir -p "$T/data/data"
printf -- '---\nlicense: cc-by-4.0\ntags:\n  - demo\n---\n# tiny data\n' \
    >"$T/data/README.md"
printf 'id,text\n1,hello\n2,world\n' >"$T/data/data/test.csv"
head -c 300000 /dev/urandom >"$T/data/data/train.parquet"
# A private one.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/secret" 1000 >/dev/null

"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo demo/tiny >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo demo/tiny --revision refs/pr/1 >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/data" --repo demo/tiny-data --type dataset >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/secret" --repo acme/secret >/dev/null
check "the CLI adds a model, a refs/pr/1 revision, a dataset and a private model" test $? -eq 0
"$AIRLOCK" --store "$S" --json show demo/tiny >"$T/model.json" &&
"$AIRLOCK" --store "$S" --json show demo/tiny@refs/pr/1 >"$T/pr.json" &&
"$AIRLOCK" --store "$S" --json show datasets/demo/tiny-data >"$T/data.json" &&
"$AIRLOCK" --store "$S" --json show acme/secret >"$T/secret.json"
check "airlock --json show describes them" test $? -eq 0

cat >"$T/airlockd.conf" <<'EOF'
[private acme]
token = hf_integrationtesttoken
EOF

# Pinned to the major version whose requests HF-API.md describes.
mkdir -p "$T/npm"
if "$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
    "@huggingface/hub@${HFHUB_VERSION:-2}" >"$T/npm.log" 2>&1; then
	ok "npm installs @huggingface/hub $(node -p "require('$T/npm/node_modules/@huggingface/hub/package.json').version" 2>/dev/null)"
else
	diag "$(tail -n 20 "$T/npm.log")"
	not_ok "npm installs @huggingface/hub"
fi
# Imports resolve next to the script, so it runs from beside node_modules.
cp "$top_srcdir/tests/integration/hfhub.mjs" "$T/npm/hfhub.mjs"

check "airlockd starts" start_daemon "$S" -c "$T/airlockd.conf"

hub() { node "$T/npm/hfhub.mjs" "$1" "$URL" "$2" "$3" "$4" ${5:+"$5"}; }

check "modelInfo: name, sha, siblings" hub info model demo/tiny "$T/model.json"
check "listFiles (recursive): sizes, oids, lfs" hub list model demo/tiny "$T/model.json"
check "fileDownloadInfo: size and ETag of every file, the empty one too" \
    hub dlinfo model demo/tiny "$T/model.json"
check "downloadFile: every byte of every file" \
    hub download model demo/tiny "$T/model.json"
check "revision refs/pr/1: info, listing and bytes" \
    hub revision model demo/tiny "$T/pr.json" refs/pr/1
check "a missing file is null, not an error" \
    hub missing model demo/tiny "$T/model.json"
check "parseSafetensorsMetadata reads the header with ranges" \
    hub header model demo/tiny "$T/model.json"
check "snapshotDownload into a Hub cache" \
    hub snapshot model demo/tiny "$T/model.json" "$T/hfcache"
commit=$(sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p' "$T/model.json")
check "the cache's refs/main names the commit" \
    test "$(cat "$T/hfcache/models--demo--tiny/refs/main")" = "$commit"

check "datasetInfo: name, sha, siblings" hub info dataset demo/tiny-data "$T/data.json"
check "dataset listFiles (recursive)" hub list dataset demo/tiny-data "$T/data.json"
check "dataset fileDownloadInfo" hub dlinfo dataset demo/tiny-data "$T/data.json"
check "dataset downloadFile: every byte" hub download dataset demo/tiny-data "$T/data.json"

check "a private repository: 401 without the token, served with it" \
    hub private model acme/secret "$T/secret.json" hf_integrationtesttoken

check "airlockd stops cleanly on SIGTERM" stop_daemon
