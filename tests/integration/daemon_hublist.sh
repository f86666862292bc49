#!/bin/sh
# The rest of the Hub API the clients call (HF-API.md, "Listing, history
# and who am I"), through the real @huggingface/hub and transformers.js
# from npm: listModels and listDatasets (fields, owner, tags, task, sort,
# pages by Link), listCommits, whoAmI, a tokenizer and a configuration
# loaded by transformers.js; downloads counted and kept across restarts;
# the shapes, errors and pagination checked with curl; a store made
# before the repository index gets one.
. "$top_srcdir/tests/lib/tap.sh"

npm=${NPM:-}
[ -n "$npm" ] || npm=$(command -v npm 2>/dev/null) || npm=
[ -n "$npm" ] || skip_all "npm is not installed: the clients cannot be fetched"
command -v node >/dev/null 2>&1 || skip_all "node is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"

plan 52

S=$T/store
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 2000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/secret" 1000 >/dev/null
mkdir -p "$T/data"
printf -- '---\nlicense: cc-by-4.0\ntags:\n  - demo\n---\n# tiny data\n' \
    >"$T/data/README.md"
printf 'id,text\n1,hello\n' >"$T/data/test.csv"
tok=$top_srcdir/tests/data/tiny-tokenizer

add() { "$AIRLOCK" --store "$S" add "$@" | sed 's/^[^@]*@\([0-9a-f]*\) .*/\1/'; }
"$AIRLOCK" --store "$S" init >/dev/null &&
c1=$(add "$T/model" --repo demo/tiny) &&
printf 'second\n' >"$T/model/notes.txt" && c2=$(add "$T/model" --repo demo/tiny) &&
printf 'third\n' >"$T/model/notes.txt" && c3=$(add "$T/model" --repo demo/tiny) &&
add "$T/model" --repo demo/tiny --revision refs/pr/1 >/dev/null &&
add "$tok" --repo demo/tiny-tok >/dev/null &&
add "$T/secret" --repo acme/secret >/dev/null &&
add "$T/data" --repo demo/tiny-data --type dataset >/dev/null
check "the CLI adds three revisions of a model, a tokenizer, a private model and a dataset" \
    test -n "$c1" -a -n "$c2" -a -n "$c3" -a "$c1" != "$c3"
sha() { "$AIRLOCK" --store "$S" --json show "$1" |
    sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p'; }
tiny=$(sha demo/tiny) tok_sha=$(sha demo/tiny-tok) secret=$(sha acme/secret)
data_sha=$(sha datasets/demo/tiny-data)
check "main of demo/tiny is its third revision" test "$tiny" = "$c3"

cat >"$T/airlockd.conf" <<'EOF2'
downloads-flush = 1
[token alice]
token = hf_alicesecrettoken
role = write
[token bob]
token = hf_bobsecrettoken
[token root]
token = hf_rootsecrettoken
role = admin
[private acme]
user = alice
EOF2

printf '[token alice]\ntoken = hf_aaaaaaaaaaa\nrole = superuser\n[token ../x]\ntoken = hf_bbbbbbbbbbbb\n[private acme]\nuser = nobody\n[token carol]\nrole = read\n' >"$T/bad.conf"
fails "airlockd -n: bad [token] sections and users, each named" 1 \
    "$AIRLOCKD" -n -c "$T/bad.conf"
last_output >"$T/bad.out"
check "  the role, the name, the missing user, the missing token" sh -c '
    grep -q "bad.conf:3: \[token alice\]: role \"superuser\" is not read, write or admin" "$1" &&
    grep -q "bad.conf:5: \[token ../x\]: a name is" "$1" &&
    grep -q "\[private acme\]: user nobody has no \[token nobody\] section" "$1" &&
    grep -q "\[token carol\] has no token" "$1"' - "$T/bad.out"

mkdir -p "$T/npm"
# transformers.js's onnxruntime-node downloads CUDA parts in an install
# script; loading a tokenizer and a configuration needs none of it.
if "$npm" install --prefix "$T/npm" --no-audit --no-fund --loglevel=error \
    --ignore-scripts "@huggingface/hub@${HFHUB_VERSION:-2}" \
    "@huggingface/transformers@${TRANSFORMERS_VERSION:-3}" >"$T/npm.log" 2>&1
then
	ok "npm installs @huggingface/hub and @huggingface/transformers"
else
	diag "$(tail -n 20 "$T/npm.log")"
	not_ok "npm installs @huggingface/hub and @huggingface/transformers"
fi
cp "$top_srcdir/tests/integration/hublist.mjs" "$T/npm/hublist.mjs"
js() { _s=$1; shift; node "$T/npm/hublist.mjs" "$_s" "$URL" "$@"; }

# A tag, where the CLI can make one (airlock tag comes with the
# deployment work); the refs API must list it as a tag, not a branch.
have_tag=0
if "$AIRLOCK" --help 2>&1 | grep -q '^ *airlock tag '; then
	"$AIRLOCK" --store "$S" tag "demo/tiny@$c2" v1.0 >/dev/null && have_tag=1
fi

check "airlockd starts" start_daemon "$S" -c "$T/airlockd.conf"

if [ "$have_tag" = 1 ]; then
	check "refs: the tag under tags, with its commit, not under branches" \
	    python3 - "$URL" "$c2" "$c3" <<'PY'
import json, sys, urllib.request
r = json.load(urllib.request.urlopen(sys.argv[1] + "/api/models/demo/tiny/refs"))
assert r["tags"] == [{"name": "v1.0", "ref": "refs/tags/v1.0",
                      "targetCommit": sys.argv[2]}], r
assert [b["name"] for b in r["branches"]] == ["main"], r
assert r["branches"][0]["targetCommit"] == sys.argv[3], r
PY
else
	ok "refs: the tag under tags # SKIP no airlock tag in this build"
fi

cat >"$T/models.json" <<EOF2
{"demo/tiny": {"private": false, "sha": "$tiny", "task": "text-generation",
  "tags": ["demo", "airlock", "transformers", "license:apache-2.0"]},
 "demo/tiny-tok": {"private": false, "sha": "$tok_sha",
  "task": "feature-extraction", "tags": ["tiny", "test"]}}
EOF2
check "listModels: every public model once, with sha, task, tags" \
    js models "$T/models.json"
python3 - "$T/models.json" "$secret" >"$T/models-alice.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["acme/secret"] = {"private": True, "sha": sys.argv[2]}
print(json.dumps(m))
PY
check "listModels with a token that may read acme: the private one too" \
    js models "$T/models-alice.json" hf_alicesecrettoken
check "listModels with one that may not: not it" \
    js models "$T/models.json" hf_bobsecrettoken
printf '{"demo/tiny-data": {"private": false, "sha": "%s", "tags": ["demo"]}}\n' \
    "$data_sha" >"$T/datasets.json"
check "listDatasets: the dataset, with its sha and tags" \
    js datasets "$T/datasets.json"
check "listModels search.owner" js query demo - - demo/tiny demo/tiny-tok
check "listModels search.tags" js query - tiny - demo/tiny-tok
check "listModels search.task" js query - - text-generation demo/tiny
check "listModels owner and tag together: none" js query acme tiny -

check "listCommits: main's three commits, newest first, over pages of 2" \
    js commits demo/tiny "$c3" "$c2" "$c1"
curl -s -D "$T/h" -o "$T/commits.json" "$URL/api/models/demo/tiny/commits/main?limit=1"
check "commits: X-Total-Count 3" grep -qi '^X-Total-Count: 3' "$T/h"
check "commits: an absolute Link to the next page" \
    grep -q "^Link: <$URL/api/models/demo/tiny/commits/main?p=1&limit=1>; rel=\"next\"" "$T/h"
check "commits: one entry, the newest, in the Hub's shape" python3 - "$T/commits.json" "$c3" <<'PY'
import json, sys, datetime
c = json.load(open(sys.argv[1]))
assert len(c) == 1 and c[0]["id"] == sys.argv[2], c
assert set(c[0]) >= {"id", "title", "message", "authors", "date"}, c[0]
assert isinstance(c[0]["authors"][0]["user"], str)
datetime.datetime.strptime(c[0]["date"], "%Y-%m-%dT%H:%M:%S.%fZ")
PY
check "commits of a commit id: the history up to it" sh -c '
    curl -sf "$1/api/models/demo/tiny/commits/$2" |
    python3 -c "import json,sys; c=json.load(sys.stdin); assert [x[\"id\"] for x in c] == sys.argv[1:], c" "$2" "$3"' \
    - "$URL" "$c2" "$c1"
check "commits of a revision that is not there: 404 RevisionNotFound" sh -c '
    curl -s -D - -o /dev/null "$1/api/models/demo/tiny/commits/nope" |
    grep -q "^X-Error-Code: RevisionNotFound"' - "$URL"
check "commits of a private repository without its token: 401" sh -c '
    test "$(curl -s -o /dev/null -w "%{http_code}" "$1/api/models/acme/secret/commits/main")" = 401' - "$URL"

check "whoAmI: alice writes and reads acme" \
    js whoami hf_alicesecrettoken alice write acme
check "whoAmI: bob reads, in no organisation" js whoami hf_bobsecrettoken bob read
check "whoAmI: an admin reads every private namespace" \
    js whoami hf_rootsecrettoken root admin acme
code() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $2" "$URL$1"; }
check "acme/secret: alice (user = alice) and the admin read it, bob may not" sh -c '
    test "$1" = 200 && test "$2" = 200 && test "$3" = 401' - \
    "$(code /api/models/acme/secret hf_alicesecrettoken)" \
    "$(code /api/models/acme/secret hf_rootsecrettoken)" \
    "$(code /api/models/acme/secret hf_bobsecrettoken)"
check "whoAmI with a token nobody configured: 401" js whoami-refused hf_nosuchtoken
check "whoami-v2 without a token: 401" sh -c '
    test "$(curl -s -o /dev/null -w "%{http_code}" "$1/api/whoami-v2")" = 401' - "$URL"

check "transformers.js loads the tokenizer and the configuration from airlockd" \
    js transformers demo/tiny-tok "$tok" "$T/tjs-cache"

# Downloads: the Hub counts GET and HEAD of config.json, not other files.
for i in 1 2 3; do
	curl -sf -o /dev/null "$URL/demo/tiny/resolve/main/config.json"
done
curl -sf -I -o /dev/null "$URL/demo/tiny/resolve/main/config.json"
curl -sf -o /dev/null "$URL/demo/tiny/resolve/main/model.safetensors"
downloads() {
	curl -sf "$URL/api/models?expand=downloads&search=$1" |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["downloads"])'
}
downloads_are() { test "$(downloads "$1")" = "$2"; }
check "four downloads of demo/tiny counted, written within a second or so" \
    wait_for downloads_are demo/tiny 4
check "transformers.js fetched its config.json from airlockd: counted" \
    test "$(downloads demo/tiny-tok)" -ge 1
check "listModels sort=downloads: demo/tiny first" js sorted downloads demo/tiny
check "repository info: downloads 4, xetEnabled false" python3 - "$URL" <<'PY'
import json, sys, urllib.request
j = json.load(urllib.request.urlopen(sys.argv[1] + "/api/models/demo/tiny?expand=xetEnabled"))
assert j["downloads"] == 4 and j["xetEnabled"] is False and j["likes"] == 0, j
PY

check "expand=xetEnabled: _id, id and xetEnabled false; unknown ones ignored" \
    python3 - "$URL" <<'PY'
import json, sys, urllib.request
u = sys.argv[1] + "/api/models?expand=xetEnabled&expand%5B%5D=gguf&expand=nonsense"
j = json.load(urllib.request.urlopen(u))
assert all(set(e) == {"_id", "id", "xetEnabled"} and e["xetEnabled"] is False for e in j), j
PY
check "the default entry: the fields HF-API.md lists" python3 - "$URL" <<'PY'
import json, sys, urllib.request, datetime
j = json.load(urllib.request.urlopen(sys.argv[1] + "/api/models?search=demo/tiny-tok&cardData=true"))
e = j[0]
for k in ("id", "_id", "modelId", "author", "sha", "lastModified", "createdAt",
          "private", "gated", "downloads", "likes", "tags", "pipeline_tag",
          "library_name", "cardData"):
    assert k in e, (k, e)
for k in ("lastModified", "createdAt"):
    datetime.datetime.strptime(e[k], "%Y-%m-%dT%H:%M:%S.%fZ")
assert e["cardData"]["library_name"] == "transformers.js", e
assert "siblings" not in e
j = json.load(urllib.request.urlopen(sys.argv[1] + "/api/models?search=demo/tiny-tok&full=true"))
assert sorted(s["rfilename"] for s in j[0]["siblings"]) == ["README.md",
    "config.json", "tokenizer.json", "tokenizer_config.json"], j
PY
check "ties (likes are all 0) go by id from a to z; sort=id direction=-1 from z" \
    python3 - "$URL" <<'PY'
import json, sys, urllib.request
def ids(q):
    return [e["id"] for e in json.load(urllib.request.urlopen(sys.argv[1] + "/api/models?" + q))]
assert ids("sort=likes") == ["demo/tiny", "demo/tiny-tok"], ids("sort=likes")
assert ids("sort=likes&limit=1") == ["demo/tiny"]
assert ids("sort=id&direction=-1") == ["demo/tiny-tok", "demo/tiny"]
assert ids("sort=id") == ["demo/tiny", "demo/tiny-tok"]
PY
for q in "sort=stars" "direction=up" "cursor=garbage" "limit=-1"; do
	check "a listing with $q: 400 BadRequest, naming it" sh -c '
	    curl -s -D "$3" -o /dev/null "$1/api/models?$2"
	    grep -q "^X-Error-Code: BadRequest" "$3" &&
	    grep -q "^X-Error-Message: ${2%%=*}" "$3"' - "$URL" "$q" "$T/h"
done

# Pages by cursor: every repository once, even when one is added between
# two pages before the cursor.
check "pages of 1 by an absolute Link: each model once, a model added meanwhile not repeated" \
    python3 - "$URL" "$AIRLOCK" "$S" "$T/model" <<'PY'
import json, re, subprocess, sys, urllib.request
url, airlock, store, model = sys.argv[1:5]
nxt, seen, pages = url + "/api/models?limit=1&sort=id", [], 0
while nxt:
    r = urllib.request.urlopen(nxt)
    seen += [e["id"] for e in json.load(r)]
    link = r.headers.get("Link")
    nxt = None
    if link:
        m = re.fullmatch(r'<(http://[^>]+)>; rel="next"', link)
        assert m, link
        nxt = m.group(1)
    pages += 1
    if pages == 2:
        subprocess.run([airlock, "--store", store, "add", model, "--repo",
                        "aaa/first"], check=True, stdout=subprocess.DEVNULL)
assert seen == ["demo/tiny", "demo/tiny-tok"], seen
PY

check "airlockd stops cleanly on SIGTERM" stop_daemon

# More than the 500 a page @huggingface/hub asks for: it must follow the
# Link from page to page.
check "bench/mkrepos makes 1234 repositories" \
    "$top_builddir/bench/mkrepos" "$T/many" 1234
start_daemon "$T/many" &&
check "listModels follows the Link over three pages: each of 1234 once" \
    js many 1234
stop_daemon

python3 - "$T/models.json" "$(sha aaa/first)" >"$T/models-after.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["aaa/first"] = {"private": False, "sha": sys.argv[2]}
print(json.dumps(m))
PY

# What is counted after the last write is written at exit.
sed -i 's/^downloads-flush = 1$/downloads-flush = 3600/' "$T/airlockd.conf"
start_daemon "$S" -c "$T/airlockd.conf" &&
curl -sf -o /dev/null "$URL/demo/tiny/resolve/main/config.json" &&
curl -sf -o /dev/null "$URL/demo/tiny/resolve/main/config.json" &&
stop_daemon && start_daemon "$S" -c "$T/airlockd.conf"
check "downloads counted before SIGTERM are kept: 6" test "$(downloads demo/tiny)" = 6
stop_daemon

# A store made before the index: its tables, without the index's.
O=$T/old
mkdir -p "$O"
for db in $(mdb_dump -l "$S"); do
	case $db in repos|downloads) continue ;; esac
	# Hex: mdb_load misreads long printable values.  " 7265..." is
	# the key "repoindex".
	mdb_dump -s "$db" "$S" | if [ "$db" = meta ]; then
		awk 'skip { skip = 0; next }
		    $0 == " 7265706f696e646578" { skip = 1; next } { print }'
	else cat; fi | mdb_load -s "$db" "$O" 2>/dev/null
done
check "an older store: no index tables, no index mark" sh -c '
    ! mdb_dump -l "$1" | grep -qx repos &&
    ! mdb_dump -s meta "$1" | grep -qx " 7265706f696e646578"' - "$O"
check "an older store reads as before: airlock ls" sh -c '
    "$1" --store "$2" ls | grep -q demo/tiny-tok' - "$AIRLOCK" "$O"
check "airlockd opens it for writing and builds the index" \
    start_daemon "$O" -c "$T/airlockd.conf"
check "  its listing has every model, with what their cards say" \
    js models "$T/models-after.json"
stop_daemon
check "  and the store is marked as indexed" sh -c '
    mdb_dump -s meta "$1" | grep -qx " 7265706f696e646578"' - "$O"

# airlock rm: the repository leaves the listing at once, in the same
# transaction as its refs.
if "$AIRLOCK" --help 2>&1 | grep -q '^ *airlock rm '; then
	check "airlock rm --force removes demo/tiny-tok" \
	    "$AIRLOCK" --store "$O" rm demo/tiny-tok --force --reason test
	start_daemon "$O" -c "$T/airlockd.conf" &&
	check "  the listing no longer has it" sh -c '
	    curl -sf "$1/api/models?expand=sha" | python3 -c "import json,sys
ids = [e[\"id\"] for e in json.load(sys.stdin)]
assert \"demo/tiny-tok\" not in ids and \"demo/tiny\" in ids, ids"' - "$URL"
	stop_daemon
else
	ok "airlock rm removes a repository # SKIP no airlock rm in this build"
	ok "  from the listing # SKIP no airlock rm in this build"
fi
