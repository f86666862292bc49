#!/bin/sh
# airlock bom over a real store: a Llama 3.1 base, an MIT fine-tune of it
# that claims two datasets (one held), written as CycloneDX 1.6 and SPDX
# 3.0.1.  The CycloneDX BOM is validated by the official schema through
# @cyclonedx/cyclonedx-library's validator from npm; the SPDX document by
# SPDX 3.0.1's JSON schema (as @cyclonedx/cdxgen ships it on npm, or
# $SPDX_SCHEMA) through ajv, its licence ids against the SPDX licence list
# CycloneDX's schema carries, its graph's shape here.  Hashes come from
# sha256sum, the concluded licence
# from airlock licence --json, the serial number from Python's uuid5.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
card() { mkdir -p "$T/$1"; printf -- '---\n%s---\n# %s\n' "$2" "$1" >"$T/$1/README.md"; }
js() { _code=$1; shift; python3 -c "import json, sys
d = json.load(sys.stdin)
$_code" "$@"; }

check "init" al init
card base 'license: llama3.1
pipeline_tag: text-generation
'
head -c 3000 /dev/urandom >"$T/base/model.safetensors"
check "add the base" al add "$T/base" --repo meta-llama/Llama-3.1-8B
card ft 'license: mit
base_model: meta-llama/Llama-3.1-8B
pipeline_tag: text-generation
datasets:
  - acme/instructions
  - elsewhere/never-pulled
  - acme/instructions
'
head -c 5000 /dev/urandom >"$T/ft/model.safetensors"
printf '{"model_type": "llama"}\n' >"$T/ft/config.json"
mkdir -p "$T/ft/nested"
printf 'tokens\n' >"$T/ft/nested/tokenizer.txt"
check "add an MIT fine-tune of it claiming two datasets (one twice)" al add "$T/ft" --repo acme/Llama-3.1-ft
card data 'license: cc-by-4.0
'
printf 'id,text\n1,hello\n' >"$T/data/train.csv"
check "add one of the datasets" al add "$T/data" --repo acme/instructions --type dataset

# One that declares nothing, on a base the store lacks.
card orphan 'base_model: elsewhere/never-pulled-model
'
head -c 100 /dev/urandom >"$T/orphan/model.safetensors"
check "add a model declaring no licence on a base the store lacks" al add "$T/orphan" --repo acme/orphan

al --json licence acme/Llama-3.1-ft >"$T/licence.json"
al --json show acme/Llama-3.1-ft >"$T/show.json"
al --json show meta-llama/Llama-3.1-8B >"$T/base.json"
al --json show datasets/acme/instructions >"$T/data.json"
digest=$(al manifest acme/Llama-3.1-ft | sha256sum | cut -d' ' -f1)
(cd "$T/ft" && find . -type f | sed 's|^\./||' | sort | while read -r f; do
	printf '%s %s\n' "$f" "$(sha256sum <"$f" | cut -d' ' -f1)"; done) >"$T/sums"

check "bom --format cyclonedx" al bom acme/Llama-3.1-ft --format cyclonedx
last_output >"$T/c.json"
check "bom --format spdx -o FILE" al bom acme/Llama-3.1-ft --format spdx -o "$T/s.json"
check "  writes the file and nothing to stdout" test -s "$T/s.json" -a -z "$(last_output)"
check "  leaves no .part behind" test ! -e "$T/s.json.part"

# Determinism: the same revision gives the same bytes, to stdout or -o.
al bom acme/Llama-3.1-ft --format cyclonedx -o "$T/c2.json"
check "cyclonedx twice: the same bytes" cmp "$T/c.json" "$T/c2.json"
al bom acme/Llama-3.1-ft --format spdx >"$T/s2.json"
check "spdx twice (stdout and -o): the same bytes" cmp "$T/s.json" "$T/s2.json"

# CycloneDX content, against sha256sum, licence --json, show and uuid5.
python3 - "$T" "$digest" "$top_srcdir/policy/licences.json" <<'PY' &&
import json, sys, uuid
T, digest, table = sys.argv[1], sys.argv[2], sys.argv[3]
c = json.load(open(T + "/c.json"))
lic = json.load(open(T + "/licence.json"))
show = json.load(open(T + "/show.json"))
base = json.load(open(T + "/base.json"))
data = json.load(open(T + "/data.json"))
sums = dict(l.split() for l in open(T + "/sums"))
entries = {e["id"]: e for e in json.load(open(table))["licences"]}
def cdx(term):
    e = entries[term]
    return ("id", e["spdx"]) if e.get("spdx") else ("name", e["name"])
def licences(comp, ack):
    return sorted(("id", l["license"]["id"]) if "id" in l["license"] else ("name", l["license"]["name"])
                  for l in comp.get("licenses", []) if l["license"]["acknowledgement"] == ack)

assert c["bomFormat"] == "CycloneDX" and c["specVersion"] == "1.6" and c["version"] == 1
assert c["serialNumber"] == "urn:uuid:%s" % uuid.uuid5(uuid.NAMESPACE_URL, "urn:airlock:manifest:sha256:" + digest), c["serialNumber"]
assert c["metadata"]["timestamp"] == show["created"], (c["metadata"], show["created"])
assert [t["name"] for t in c["metadata"]["tools"]["components"]] == ["airlock"]
m = c["components"][0]
assert m["type"] == "machine-learning-model" and m["name"] == "acme/Llama-3.1-ft"
assert m["version"] == show["commit"] and m["purl"] == "pkg:huggingface/acme/Llama-3.1-ft@" + show["commit"]
assert m["hashes"] == [{"alg": "SHA-256", "content": digest}], m["hashes"]
files = {f["name"]: f["hashes"][0]["content"] for f in m["components"]}
assert all(f["type"] == "file" and f["hashes"][0]["alg"] == "SHA-256" for f in m["components"])
assert files == sums, (files, sums)
assert lic["concluded"] != lic["declared"]
assert licences(m, "concluded") == sorted(cdx(t) for t in lic["concluded"].split(" AND ")), licences(m, "concluded")
assert licences(m, "concluded") == [("id", "MIT"), ("name", "Llama 3.1 Community License Agreement")]
assert licences(m, "declared") == [("id", "MIT")], licences(m, "declared")
anc = m["pedigree"]["ancestors"]
assert [(a["type"], a["name"], a["version"]) for a in anc] == [("machine-learning-model", "meta-llama/Llama-3.1-8B", base["commit"])], anc
assert licences(anc[0], "declared") == [cdx("llama3.1")]
refs = [d["ref"] for d in m["modelCard"]["modelParameters"]["datasets"]]
assert m["modelCard"]["modelParameters"]["task"] == "text-generation"
sets = {d["bom-ref"]: d for d in c["components"][1:]}
assert all(d["type"] == "data" for d in sets.values())
assert sorted(sets[r]["name"] for r in refs) == ["acme/instructions", "elsewhere/never-pulled"], refs
held = [d for d in sets.values() if d["name"] == "acme/instructions"][0]
assert held["version"] == data["commit"] and licences(held, "declared") == [("id", "CC-BY-4.0")]
PY
	ok "cyclonedx: digest, file hashes, licences, ancestors, datasets, serial and time as the independent tools say" ||
	not_ok "cyclonedx: digest, file hashes, licences, ancestors, datasets, serial and time as the independent tools say"

# SPDX 3.0.1 content and graph shape.
python3 - "$T" "$digest" "$top_srcdir/policy/licences.json" <<'PY' >"$T/spdx-ids" &&
import json, sys
T, digest, table = sys.argv[1], sys.argv[2], sys.argv[3]
s = json.load(open(T + "/s.json"))
lic = json.load(open(T + "/licence.json"))
show = json.load(open(T + "/show.json"))
base = json.load(open(T + "/base.json"))
sums = dict(l.split() for l in open(T + "/sums"))
entries = {e["id"]: e for e in json.load(open(table))["licences"]}
assert s["@context"] == "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
g = s["@graph"]
ci = [e for e in g if e["type"] == "CreationInfo"]
assert len(ci) == 1 and ci[0]["specVersion"] == "3.0.1" and ci[0]["created"] == show["created"]
byid = {}
for e in g:
    if e["type"] == "CreationInfo":
        continue
    assert e["spdxId"] not in byid, e["spdxId"]
    assert e["creationInfo"] == ci[0]["@id"], e
    byid[e["spdxId"]] = e
doc = [e for e in g if e["type"] == "SpdxDocument"]
assert len(doc) == 1
assert sorted(doc[0]["element"]) == sorted(i for i in byid if i != doc[0]["spdxId"])
for a in ci[0]["createdBy"] + ci[0]["createdUsing"]:
    assert a in byid
model = byid[doc[0]["rootElement"][0]]
assert model["type"] == "ai_AIPackage" and model["name"] == "acme/Llama-3.1-ft"
assert model["software_packageVersion"] == show["commit"]
assert model["verifiedUsing"] == [{"type": "Hash", "algorithm": "sha256", "hashValue": digest}]
rels = [e for e in g if e["type"] == "Relationship"]
for r in rels:
    assert r["from"] in byid and all(t in byid for t in r["to"]), r
def rel(frm, kind):
    return [byid[t] for r in rels if r["from"] == frm and r["relationshipType"] == kind for t in r["to"]]
files = {f["name"]: f["verifiedUsing"][0]["hashValue"] for f in rel(model["spdxId"], "contains")}
assert all(f["type"] == "software_File" for f in rel(model["spdxId"], "contains"))
assert files == sums, (files, sums)
def spdx(term):
    e = entries[term]
    return e["spdx"] or "LicenseRef-" + term
concluded = rel(model["spdxId"], "hasConcludedLicense")
assert len(concluded) == 1 and concluded[0]["type"] == "simplelicensing_LicenseExpression"
expr = concluded[0]["simplelicensing_licenseExpression"]
assert sorted(expr.split(" AND ")) == sorted(spdx(t) for t in lic["concluded"].split(" AND ")), expr
assert sorted(expr.split(" AND ")) == ["LicenseRef-llama3.1", "MIT"], expr
m = {d["key"]: d["value"] for d in concluded[0]["simplelicensing_customIdToUri"]}
assert m == {"LicenseRef-llama3.1": entries["llama3.1"]["source"]}, m
declared = rel(model["spdxId"], "hasDeclaredLicense")
assert [d["simplelicensing_licenseExpression"] for d in declared] == ["MIT"]
bases = [e for e in g if e["type"] == "ai_AIPackage" and e is not model]
assert [(b["name"], b["software_packageVersion"]) for b in bases] == [("meta-llama/Llama-3.1-8B", base["commit"])]
assert rel(bases[0]["spdxId"], "ancestorOf") == [model]
sets = rel(model["spdxId"], "trainedOn")
assert all(d["type"] == "dataset_DatasetPackage" for d in sets)
assert sorted(d["name"] for d in sets) == ["acme/instructions", "elsewhere/never-pulled"]
held = [d for d in sets if d["name"] == "acme/instructions"][0]
assert [x["simplelicensing_licenseExpression"] for x in rel(held["spdxId"], "hasDeclaredLicense")] == ["CC-BY-4.0"]
ids = set()
for e in g:
    if e["type"] == "simplelicensing_LicenseExpression":
        ids |= {t for t in e["simplelicensing_licenseExpression"].split(" AND ") if not t.startswith("LicenseRef-")}
print(" ".join(sorted(ids)))
PY
	ok "spdx: AIPackage, files, licences, ancestorOf, trainedOn as the independent tools say; every reference resolves" ||
	not_ok "spdx: AIPackage, files, licences, ancestorOf, trainedOn as the independent tools say; every reference resolves"

check "bom of acme/orphan, both formats" sh -c '"$1" --store "$2" bom acme/orphan --format cyclonedx >"$3/o.cdx" &&
    "$1" --store "$2" bom acme/orphan --format spdx >"$3/o.spdx"' sh "$AIRLOCK" "$S" "$T"
al --json licence acme/orphan >"$T/orphan.json"
python3 - "$T" <<'PY' &&
import json, sys
T = sys.argv[1]
lic = json.load(open(T + "/orphan.json"))
c = json.load(open(T + "/o.cdx"))
s = json.load(open(T + "/o.spdx"))
assert lic["declared"] is None and "unknown beyond elsewhere/never-pulled-model" in lic["concluded"], lic
m = c["components"][0]
assert [l for l in m["licenses"] if l["license"]["acknowledgement"] == "declared"] == []
assert sorted(l["license"]["name"] for l in m["licenses"]) == sorted(lic["concluded"].split(" AND ")), m["licenses"]
a = m["pedigree"]["ancestors"]
assert [x["name"] for x in a] == ["elsewhere/never-pulled-model"] and "version" not in a[0]
assert {"name": "airlock:held", "value": "false"} in a[0]["properties"]
rels = [e["relationshipType"] for e in s["@graph"] if e["type"] == "Relationship"]
assert "hasDeclaredLicense" not in rels and rels.count("hasConcludedLicense") == 1 and "ancestorOf" in rels, rels
PY
	ok "  nothing declared, concluded unknown beyond the base, the base listed as not held" ||
	not_ok "  nothing declared, concluded unknown beyond the base, the base listed as not held"

# Bad inputs: a clear error, the exit status of DESIGN.md §7, no output.
fails "--format xml is a usage error" 2 al bom acme/Llama-3.1-ft --format xml
last_output | grep -q 'format xml: no such format' && ok "  naming the format" || { diag "$(last_output)"; not_ok "  naming the format"; }
fails "no --format is a usage error" 2 al bom acme/Llama-3.1-ft
last_output | grep -q 'format is required' && ok "  saying so" || not_ok "  saying so"
fails "a repository the store lacks is not found (1)" 1 al bom acme/nothing --format spdx
last_output | grep -q 'acme/nothing: no such repository' && ok "  naming it" || { diag "$(last_output)"; not_ok "  naming it"; }
fails "a revision the store lacks is not found (1)" 1 al bom acme/Llama-3.1-ft@v9 --format cyclonedx
fails "-o into a missing directory is an I/O error" 2 al bom acme/Llama-3.1-ft --format spdx -o "$T/no/such/dir/x.json"
last_output | grep -q "$T/no/such/dir" && ok "  naming the path" || not_ok "  naming the path"
check "  and leaves nothing" test ! -e "$T/no"
AIRLOCK_LICENCES=$T/none.json "$AIRLOCK" --store "$S" bom acme/Llama-3.1-ft --format cyclonedx -o "$T/none.cdx" >"$T/none.out" 2>&1
check "without a licence table, bom is an I/O error" test $? -eq 2
check "  naming the table, writing nothing" sh -c "grep -q '$T/none.json' '$T/none.out' && test ! -e '$T/none.cdx'"

# The official schemas, from npm.
npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
if [ -n "$npm" ] && command -v node >/dev/null 2>&1 && mkdir -p "$T/npm" &&
    "$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
    @cyclonedx/cyclonedx-library@10 ajv@8 ajv-formats@3 \
    ajv-formats-draft2019@1 >"$T/npm.log" 2>&1; then
	ok "npm installs @cyclonedx/cyclonedx-library $(node -p "require('$T/npm/node_modules/@cyclonedx/cyclonedx-library/package.json').version" 2>/dev/null) and ajv"
	cp "$top_srcdir/tests/integration/bom_validate.cjs" "$T/npm/bom_validate.cjs"
	v() { node "$T/npm/bom_validate.cjs" "$@"; }
	check "the CycloneDX BOM is valid against bom-1.6.schema.json" v cyclonedx "$T/c.json"
	# The validator is live: a licence id outside the SPDX list fails.
	python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
c["components"][0]["licenses"][0]["license"]["id"] = "Llama-3.1"
json.dump(c, open(sys.argv[2], "w"))' "$T/c.json" "$T/bad.json"
	fails "  a BOM with a made-up SPDX id is not" 1 v cyclonedx "$T/bad.json"
	al bom meta-llama/Llama-3.1-8B --format cyclonedx -o "$T/base.cdx"
	check "the base's BOM (no ancestors, no datasets) is valid too" v cyclonedx "$T/base.cdx"
	al bom datasets/acme/instructions --format cyclonedx -o "$T/data.cdx"
	check "a dataset's BOM is valid too" v cyclonedx "$T/data.cdx"
	check "the orphan's BOM (unknown lineage, nothing declared) is valid too" v cyclonedx "$T/o.cdx"
	check "the SPDX document's licence ids are on the SPDX list ($(cat "$T/spdx-ids"))" v spdx-ids $(cat "$T/spdx-ids")
	fails "  and Llama-3.1 is not" 1 v spdx-ids Llama-3.1
	# SPDX 3.0.1's JSON schema, as shacl2code generates it from SPDX's
	# model (https://spdx.org/schema/3.0.1/spdx-json-schema.json), ships in
	# @cyclonedx/cdxgen's data/ (spdx-export.schema.json): taken from npm
	# (npm pack, no install), its bytes pinned by their sha256.  $SPDX_SCHEMA
	# names another copy.
	if [ -n "${SPDX_SCHEMA:-}" ]; then
		schema=$SPDX_SCHEMA
	else
		schema=$T/npm/spdx-json-schema-3.0.1.json
		check "npm gives SPDX 3.0.1's JSON schema (@cyclonedx/cdxgen 12.8.4, data/spdx-export.schema.json)" \
		    sh -c 'cd "$1" && "$2" pack --silent @cyclonedx/cdxgen@12.8.4 >pack.name 2>>npm.log &&
		    tar xzf "$(cat pack.name)" package/data/spdx-export.schema.json &&
		    mv package/data/spdx-export.schema.json "$3"' sh "$T/npm" "$npm" "$schema"
		check "  its bytes are the pinned ones (sha256)" test \
		    "$(sha256sum <"$schema" | cut -d' ' -f1)" = \
		    873ff9d3177a0c12495fe585c5012f7bec0aa70aabed1f2f1e79f25bd95eb107
		check "  and it is SPDX 3.0.1's (its @context)" grep -q \
		    '"const": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"' "$schema"
	fi
	if [ -f "$schema" ]; then
		check "the SPDX document is valid against SPDX 3.0.1's JSON schema" v spdx "$schema" "$T/s.json"
		al bom datasets/acme/instructions --format spdx -o "$T/data.spdx"
		check "  a dataset's too" v spdx "$schema" "$T/data.spdx"
		check "  the orphan's too" v spdx "$schema" "$T/o.spdx"
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
[e for e in d["@graph"] if e["type"] == "ai_AIPackage"][0]["software_primaryPurpose"] = "weights"
json.dump(d, open(sys.argv[2], "w"))' "$T/s.json" "$T/bad.spdx"
		fails "  and one with a purpose outside SPDX's vocabulary is not" 1 v spdx "$schema" "$T/bad.spdx"
	else
		not_ok "the SPDX schema at $schema is missing"
	fi
else
	diag "$(tail -n 5 "$T/npm.log" 2>/dev/null)"
	ok "# SKIP npm cannot install @cyclonedx/cyclonedx-library"
fi
done_testing
