#!/bin/sh
# Lineage through the upstream while pulling (issue 12, MIRROR.md): a
# fine-tune declaring MIT whose Llama 3.1 base is held only upstream is
# pulled from an airlockd; the downstream store gets the base's metadata
# and none of its weights (the upstream's /metrics counts the bytes), kept
# as a metadata-only revision that ls marks partial and airlockd does not
# serve weights from; `airlock licence` then concludes inside the air gap.
# A base missing upstream ends the chain as "unknown beyond"; --no-bases
# fetches none; --with-datasets mirrors the claimed dataset; repo info
# shows the airlock object and the license-conflict tag.
#
# Expected values from ../shared/LICENCES.md, "Concluding a licence":
# llama3.1 flows down and needs its licence copy and Notice, so an MIT
# fine-tune that ships only an MIT LICENSE concludes "mit AND llama3.1",
# flagged declared-differs (laundering), naming-rule (its name does not
# start with "Llama"), licence-file-absent and notice-absent; a base
# neither held nor reachable makes "apache-2.0 AND unknown beyond X" with
# ancestor-unknown.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

plan 31

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
HF_HOME=$T/hf; export HF_HOME
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT

A=$T/A
B=$T/B
C=$T/C
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
c() { "$AIRLOCK" --store "$C" "$@"; }
sent() {
	curl -sS "$URL/metrics" | sed -n 's/^airlockd_body_bytes_total //p'
}

# A repo folder: DIR, then the card's front matter lines.
repo() {
	_d=$1; shift
	mkdir -p "$_d"
	{ echo '---'; for _l; do echo "$_l"; done; echo '---'; echo '# model'; } \
	    >"$_d/README.md"
}
# The base's weights: 8 MiB, so that fetching them could not hide.
base_size=8388608
repo "$T/base" "license: llama3.1" "library_name: transformers"
printf 'LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\n' >"$T/base/LICENSE"
printf '{"architectures":["LlamaForCausalLM"]}\n' >"$T/base/config.json"
head -c "$base_size" /dev/urandom >"$T/base/model.safetensors"
repo "$T/ft" "license: mit" "base_model: meta-llama/Llama-3.1-8B" \
    "datasets:" "  - org/data" "  - org/absent"
printf 'MIT License\n\nCopyright (c) 2026 org\n' >"$T/ft/LICENSE"
head -c 65536 /dev/urandom >"$T/ft/model.safetensors"
repo "$T/orphan" "license: apache-2.0" "base_model: gone/missing"
head -c 1024 /dev/urandom >"$T/orphan/model.safetensors"
repo "$T/data" "license: cc-by-4.0"
printf 'a,b\n1,2\n' >"$T/data/train.csv"

# A base whose "metadata" is a weight file in disguise: 2 MiB of NOTICE.
repo "$T/big" "license: llama3.1"
head -c 2097152 /dev/urandom >"$T/big/NOTICE"
repo "$T/ft3" "license: mit" "base_model: org/big"
# A chain of ten: org/l1 (llama3.1) <- org/l2 <- ... <- org/l10.
repo "$T/l1" "license: llama3.1"
a init >/dev/null && a key gen --no-password --name up >/dev/null &&
    a add "$T/l1" --repo org/l1 >/dev/null
for i in 2 3 4 5 6 7 8 9 10; do
	repo "$T/l$i" "license: apache-2.0" "base_model: org/l$((i - 1))"
	head -c 4096 /dev/urandom >"$T/l$i/model.safetensors"
	a add "$T/l$i" --repo "org/l$i" >/dev/null
done
a add "$T/base" --repo meta-llama/Llama-3.1-8B >/dev/null &&
    a add "$T/ft" --repo org/ft >/dev/null &&
    a add "$T/ft" --repo org/ft2 >/dev/null &&
    a add "$T/orphan" --repo org/orphan >/dev/null &&
    a add "$T/big" --repo org/big >/dev/null &&
    a add "$T/ft3" --repo org/ft3 >/dev/null &&
    a add "$T/data" --repo org/data --type dataset >/dev/null
check "A: the base, the fine-tune, an orphan and a dataset" test $? -eq 0
check "airlockd serves A" start_daemon "$A"

b init >/dev/null && b key gen --no-password --name down >/dev/null
before=$(sent)
b pull org/ft --from "$URL" --with-datasets >"$T/pull.out" 2>"$T/pull.err"
st=$?
after=$(sent)
check "pull org/ft --with-datasets succeeds (a claimed dataset absent upstream: status 1)" \
    test "$st" -eq 1
check "  and says the absent dataset" grep -q 'datasets/org/absent' "$T/pull.err"
check "  and prints the base kept as metadata-only" \
    grep -q '^meta-llama/Llama-3.1-8B@.* (metadata-only)$' "$T/pull.out"
diag "upstream body bytes for the pull: $((after - before))"
check "no weight bytes of the base crossed: $((after - before)) < $base_size" \
    test $((after - before)) -lt "$base_size"

b --json ls >"$T/ls.json"
check "ls marks the base's revision partial, under metadata-only" python3 -c '
import json, sys
rows = json.load(open(sys.argv[1]))
base = [r for r in rows if r["repo"] == "meta-llama/Llama-3.1-8B"]
assert len(base) == 1, rows
assert base[0]["ref"] == "metadata-only" and base[0]["kind"] == "partial", base
' "$T/ls.json"
b --json show meta-llama/Llama-3.1-8B@metadata-only >"$T/base.json"
check "the base's revision holds its card, licence and config, not its weights" \
    python3 -c '
import json, sys
files = sorted(f["path"] for f in json.load(open(sys.argv[1]))["files"])
assert files == ["LICENSE", "README.md", "config.json"], files
' "$T/base.json"
check "the base has no main branch downstream" \
    sh -c '! "$0" --store "$1" show meta-llama/Llama-3.1-8B >/dev/null 2>&1' \
    "$AIRLOCK" "$B"

b --json licence org/ft >"$T/lic.json"
check "licence concludes mit AND llama3.1 with the laundering flags" \
    python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["declared"] == "mit", c
assert c["concluded"] == "mit AND llama3.1", c["concluded"]
flags = sorted(f["flag"] for f in c["flags"])
assert flags == sorted(["declared-differs", "naming-rule",
    "licence-file-absent", "notice-absent"]), flags
base = [n for n in c["chain"] if n["repo"] == "meta-llama/Llama-3.1-8B"]
assert base and base[0]["held"] is True and base[0]["declared"] == "llama3.1", c["chain"]
' "$T/lic.json"
check "licence lists the claimed datasets, held or not, with the licence" \
    python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))["datasets"]
assert d == [{"repo": "org/data", "held": True, "licence": "cc-by-4.0"},
    {"repo": "org/absent", "held": False, "licence": None}], d
' "$T/lic.json"
b licence org/ft >"$T/lic.txt"
check "  and in text" grep -q '^datasets .*org/data  held  cc-by-4.0$' \
    "$T/lic.txt"
b show org/ft >"$T/show.txt"
check "show lists them too" grep -q 'org/absent  not held' "$T/show.txt"
check "the dataset is mirrored as a dataset" \
    sh -c '"$0" --store "$1" show datasets/org/data >/dev/null' "$AIRLOCK" "$B"

b pull org/orphan --from "$URL" >/dev/null 2>"$T/orphan.err"
check "a base missing upstream: the pull still succeeds" test $? -eq 0
check "  and says where the lineage ends" grep -q 'gone/missing' "$T/orphan.err"
b --json licence org/orphan >"$T/orphan.json"
check "  concluded unknown beyond it, ancestor-unknown" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["concluded"] == "apache-2.0 AND unknown beyond gone/missing", c["concluded"]
assert [f["flag"] for f in c["flags"]] == ["ancestor-unknown"], c["flags"]
' "$T/orphan.json"

b pull org/l10 --from "$URL" >/dev/null 2>&1
check "a chain of ten: the pull succeeds" test $? -eq 0
check "  and keeps the nine bases as metadata-only revisions" test "$(b ls |
    grep -c '^model  *org/l[0-9]  *metadata-only  *partial ')" -eq 9
b --json licence org/l10 >"$T/l10.json"
check "  licence follows them to llama3.1" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert c["concluded"] == "apache-2.0 AND llama3.1", c["concluded"]
assert len(c["chain"]) == 10 and all(n["held"] for n in c["chain"]), c["chain"]
' "$T/l10.json"
t0=$(date +%s%N)
b licence org/l10 >/dev/null
t1=$(date +%s%N)
diag "airlock licence on a 10-level chain: $(((t1 - t0) / 1000000)) ms"

b pull org/ft3 --from "$URL" >/dev/null 2>&1 &&
    b --json show org/big@metadata-only >"$T/big.json"
check "a base's metadata file over 1 MiB (BOUND_CARD) is left out" \
    python3 -c '
import json, sys
files = [f["path"] for f in json.load(open(sys.argv[1]))["files"]]
assert files == ["README.md"], files
' "$T/big.json"

c init >/dev/null && c key gen --no-password --name c >/dev/null
c pull org/ft2 --from "$URL" --no-bases >/dev/null 2>&1
check "--no-bases: the pull succeeds" test $? -eq 0
check "  and fetches no base" sh -c '! "$0" --store "$1" ls | grep -q Llama' \
    "$AIRLOCK" "$C"
stop_daemon

check "airlockd serves B" start_daemon "$B"
code() { curl -s -o /dev/null -w '%{http_code}' "$URL/$1"; }
check "B does not serve the base's weights (main)" \
    test "$(code meta-llama/Llama-3.1-8B/resolve/main/model.safetensors)" = 404
check "  nor by the metadata-only ref" test "$(code \
    meta-llama/Llama-3.1-8B/resolve/metadata-only/model.safetensors)" = 404
curl -sS "$URL/api/models/org/ft" >"$T/info.json"
check "repo info: the airlock object, the license-conflict tag, cardData as the card says" \
    python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
a = j["airlock"]
assert a["declared"] == "mit" and a["concluded"] == "mit AND llama3.1", a
assert "declared-differs" in a["flags"] and a["reviews"] == [], a
assert "license-conflict" in j["tags"], j["tags"]
assert j["cardData"]["license"] == "mit", j["cardData"]
' "$T/info.json"
for i in 1 2 3; do
	diag "repo info of org/l10 (10 levels), request $i: $(curl -sS -o "$T/l10info.json" -w '%{time_total}' "$URL/api/models/org/l10") s"
done
check "repo info of a 10-level chain concludes it" python3 -c '
import json, sys
a = json.load(open(sys.argv[1]))["airlock"]
assert a["concluded"] == "apache-2.0 AND llama3.1", a
' "$T/l10info.json"
commit=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sha"])' "$T/info.json")
curl -sS "$URL/api/models/org/ft/revision/$commit" >"$T/info2.json"
check "  and by revision" python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["airlock"]["concluded"] == "mit AND llama3.1", j
assert "license-conflict" in j["tags"], j["tags"]
' "$T/info2.json"

# The real @huggingface/hub, as daemon_hfhub.sh installs it: modelInfo's
# additionalFields pass the airlock object and the tags through.
npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
if [ -z "$npm" ] || ! command -v node >/dev/null 2>&1; then
	ok "# SKIP npm is not installed"
	ok "# SKIP npm is not installed"
else
	mkdir -p "$T/npm"
	"$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
	    "@huggingface/hub@${HFHUB_VERSION:-2}" >"$T/npm.log" 2>&1
	check "npm installs @huggingface/hub" test $? -eq 0
	cat >"$T/npm/info.mjs" <<'JS'
import * as hub from "@huggingface/hub";
const [hubUrl, name] = process.argv.slice(2);
const i = await hub.modelInfo({ name, hubUrl,
    additionalFields: ["airlock", "tags", "cardData"] });
const a = i.airlock;
if (!a || a.concluded !== "mit AND llama3.1" || a.declared !== "mit" ||
    !a.flags.includes("declared-differs") || !Array.isArray(a.reviews) ||
    !i.tags.includes("license-conflict") || i.cardData.license !== "mit") {
	console.error(JSON.stringify(i));
	process.exit(1);
}
JS
	check "modelInfo (@huggingface/hub) gets the airlock object and license-conflict" \
	    node "$T/npm/info.mjs" "$URL" org/ft
fi
stop_daemon
