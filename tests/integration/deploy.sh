#!/bin/sh
# A deployment pinned by a lockfile, end to end: lock on store A, pull
# --lock from airlockd(A) into store B, checkout --lock into a folder and
# into a HF cache, verify --lock of both with no store, then one changed
# byte, one extra and one missing file, each named on a line of its own;
# a tampered lockfile refused.  Expected values come from sha256sum,
# python's hashlib and json, Debian's minisign, and the real
# @huggingface/hub reading the HF cache offline.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v minisign >/dev/null 2>&1 || skip_all "minisign is not installed"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT
HF_HOME=$T/hfhome; export HF_HOME

plan 72

a() { "$AIRLOCK" --store "$T/a" "$@"; }
b() { "$AIRLOCK" --store "$T/b" "$@"; }
# verify with no store at all: the lockfile and the key are all it has.
nostore() { "$AIRLOCK" --store "$T/no-store-here" "$@"; }

sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 400000 >/dev/null
mkdir -p "$T/model/nested/deeper"
printf 'deep\n' >"$T/model/nested/deeper/file.txt"
: >"$T/model/empty.txt"
mkdir -p "$T/data"
printf 'id,text\n1,hello\n' >"$T/data/train.csv"
a init >/dev/null && a key gen --no-password --name alice >/dev/null &&
a add "$T/model" --repo acme/tiny >/dev/null &&
a add "$T/data" --repo acme/data --type dataset >/dev/null
check "store A has a signed model and a dataset" test $? -eq 0
a key pub alice >"$T/alice.pub"
C=$(a show acme/tiny | sed -n 's/^commit *//p')
a tag acme/tiny@main v1 >/dev/null

# --- lock ---------------------------------------------------------------
check "lock acme/tiny@v1 -o FILE" a lock acme/tiny@v1 -o "$T/lock.json"
check "the lockfile is canonical JSON of schema airlock.lockfile/v1" python3 -c "
import json, sys
raw = open('$T/lock.json', 'rb').read()
doc = json.loads(raw)
canon = json.dumps(doc, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode() + b'\n'
sys.exit(not (raw == canon and doc['schema'] == 'airlock.lockfile/v1'))"
# The manifest digest, and every file's sha256, by independent tools.
python3 - "$T/lock.json" "$T" <<'EOF' >"$T/lockcheck" 2>&1
import hashlib, json, sys
doc = json.load(open(sys.argv[1]))
m = doc["models"][0]
raw = m["manifest_bytes"].encode()
assert m["manifest"] == "sha256:" + hashlib.sha256(raw).hexdigest(), "digest"
assert m["repo"] == "acme/tiny" and m["revision"] == "v1", "names"
assert [(f["path"], f["size"], f["sha256"]) for f in m["files"]] == \
    [(f["path"], f["size"], f["sha256"]) for f in json.loads(raw)["files"]], "files"
open(sys.argv[2] + "/manifest.bin", "wb").write(raw)
open(sys.argv[2] + "/manifest.bin.minisig", "w").write(m["signatures"][0]["minisig"])
open(sys.argv[2] + "/lock-alice.pub", "w").write(m["signatures"][0]["pubkey"])
for f in m["files"]:
    print(f["sha256"] + "  " + f["path"])
EOF
check "its digest is the sha256 of the manifest bytes it carries" test $? -eq 0
(cd "$T/model" && find . -type f | sed 's|^\./||' | LC_ALL=C sort | xargs -d '\n' sha256sum) >"$T/want.sha"
check "its files are the folder's, by sha256sum" cmp "$T/want.sha" "$T/lockcheck"
check "minisign -V verifies its signature with the public key it carries" \
    minisign -V -q -p "$T/lock-alice.pub" -m "$T/manifest.bin"
check "  which is alice's" cmp "$T/alice.pub" "$T/lock-alice.pub"

# --- pull --lock from airlockd(A) into B --------------------------------
check "airlockd serves store A" start_daemon "$T/a"
b init >/dev/null
b trust add "$T/alice.pub" --name alice >/dev/null
check "B trusts alice: pull --lock from airlockd(A)" \
    b pull --lock "$T/lock.json" --from "$URL"
want=$(python3 -c "import json; print(json.load(open('$T/lock.json'))['models'][0]['manifest'])")
b manifest "acme/tiny@$want" | sha256sum | cut -d' ' -f1 >"$T/got.digest"
check "B holds exactly the locked manifest" test "sha256:$(cat "$T/got.digest")" = "$want"
check "  with alice's signature" sh -c "'$AIRLOCK' --store '$T/b' sig acme/tiny@$C >'$T/b.minisig' &&
    minisign -V -q -p '$T/alice.pub' -m '$T/manifest.bin' -x '$T/b.minisig'"
check "  and it verifies" b verify "acme/tiny@$C"
check "a second pull --lock has it already" b pull --lock "$T/lock.json" --from "$URL"
last_output | grep -q 'had it' && ok "  and fetches nothing" || not_ok "  and fetches nothing"

# --- checkout --lock ----------------------------------------------------
# The Hub's sequence (an airlockd whose /v1/ a proxy hides): the files by
# commit, each checked, and the lockfile's own manifest committed.
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/hide.port" hide /v1 &
hide=$!
stop_hide() { kill "$hide" 2>/dev/null; wait "$hide" 2>/dev/null; }
at_exit stop_hide
wait_for test -s "$T/hide.port"
"$AIRLOCK" --store "$T/d" init >/dev/null
"$AIRLOCK" --store "$T/d" trust add "$T/alice.pub" >/dev/null
check "pull --lock by the Hub's API alone" "$AIRLOCK" --store "$T/d" --json \
    pull --lock "$T/lock.json" --from "http://127.0.0.1:$(cat "$T/hide.port")"
grep -q '"chained": true' "$T/.out" && not_ok "  not chained" || ok "  not chained"
check "  the locked manifest, with alice's signature" sh -c \
    "'$AIRLOCK' --store '$T/d' manifest acme/tiny@$C | sha256sum | grep -q '^${want#sha256:} ' &&
    '$AIRLOCK' --store '$T/d' sig acme/tiny@$C >'$T/d.minisig' &&
    minisign -V -q -p '$T/alice.pub' -m '$T/manifest.bin' -x '$T/d.minisig'"
stop_hide

check "checkout --lock into a folder" b checkout --lock "$T/lock.json" "$T/deploy"
check "  byte for byte the folder added on A" diff -r "$T/model" "$T/deploy"
check "checkout --lock --hf-cache" b checkout --lock "$T/lock.json" "$T/hf" --hf-cache
check "  refs/v1 is the commit, with no newline" test "$(cat "$T/hf/models--acme--tiny/refs/v1")" = "$C" -a \
    "$(wc -c <"$T/hf/models--acme--tiny/refs/v1")" -eq 40
check "  snapshot links are relative, into ../../blobs (one ../ more a level)" sh -c "
    test \"\$(readlink '$T/hf/models--acme--tiny/snapshots/$C/config.json')\" = \
        \"../../blobs/\$(git hash-object '$T/model/config.json')\" &&
    test \"\$(readlink '$T/hf/models--acme--tiny/snapshots/$C/nested/deeper/file.txt')\" = \
        \"../../../../blobs/\$(git hash-object '$T/model/nested/deeper/file.txt')\" &&
    test \"\$(readlink '$T/hf/models--acme--tiny/snapshots/$C/model.safetensors')\" = \
        \"../../blobs/\$(sha256sum <'$T/model/model.safetensors' | cut -d' ' -f1)\""
stop_daemon

# An upstream that serves the locked commit with other bytes: a HF cache
# of it whose config.json was changed (its blob renamed to its new git
# id), imported into store E, which keeps the commit id.
cp -r "$T/hf" "$T/hf-evil"
E=$T/hf-evil/models--acme--tiny
printf '{"evil": true}\n' >"$T/evil.json"
cp "$T/evil.json" "$E/blobs/$(git hash-object "$T/evil.json")"
ln -sf "../../blobs/$(git hash-object "$T/evil.json")" "$E/snapshots/$C/config.json"
"$AIRLOCK" --store "$T/e" init >/dev/null
"$AIRLOCK" --store "$T/e" import "$E" >/dev/null
check "store E has acme/tiny@$C with another config.json" sh -c \
    "'$AIRLOCK' --store '$T/e' cat acme/tiny@$C config.json | cmp -s - '$T/evil.json'"
check "airlockd serves store E" start_daemon "$T/e"
"$AIRLOCK" --store "$T/c" init >/dev/null
"$AIRLOCK" --store "$T/c" trust add "$T/alice.pub" >/dev/null
fails "pull --lock from it is refused" 1 \
    "$AIRLOCK" --store "$T/c" pull --lock "$T/lock.json" --from "$URL"
last_output | grep -q "the upstream.s manifest is sha256:[0-9a-f]*, the lockfile.s $want" && ok "  naming both digests" ||
    { diag "$(last_output)"; not_ok "  naming both digests"; }
fails "  and store C has no such revision" 1 "$AIRLOCK" --store "$T/c" show "acme/tiny@$C"
python3 "$top_srcdir/tests/lib/flipproxy.py" "$URL" "$T/hide2.port" hide /v1 &
hide=$!
wait_for test -s "$T/hide2.port"
fails "by the Hub's API alone, too" 1 \
    "$AIRLOCK" --store "$T/c" pull --lock "$T/lock.json" --from "http://127.0.0.1:$(cat "$T/hide2.port")"
last_output | grep -q 'config.json: not the file the manifest names' && ok "  naming config.json" ||
    { diag "$(last_output)"; not_ok "  naming config.json"; }
fails "  and store C still has no such revision" 1 "$AIRLOCK" --store "$T/c" show "acme/tiny@$C"
stop_hide
stop_daemon
fails "checkout --lock of a revision the store lacks says so" 1 \
    "$AIRLOCK" --store "$T/c" checkout --lock "$T/lock.json" "$T/none"
last_output | grep -q 'pull --lock' && ok "  and what fetches it" ||
    { diag "$(last_output)"; not_ok "  and what fetches it"; }

# --- verify --lock, with no store and no daemon -------------------------
check "verify --lock of the folder, no store, --trust alice.pub" \
    nostore verify --lock "$T/lock.json" "$T/deploy" --trust "$T/alice.pub"
fails "verify --lock with no store and no --trust is a usage error" 2 \
    nostore verify --lock "$T/lock.json" "$T/deploy"
check "verify --lock --hf-cache, no store" \
    nostore verify --lock "$T/lock.json" --hf-cache "$T/hf" --trust "$T/alice.pub"
test -e "$T/no-store-here" && not_ok "verify made no store" || ok "verify made no store"

# A real HF client reads the cache with the network turned off.
npm=$(command -v npm 2>/dev/null) || npm=
if [ -n "$npm" ] && command -v node >/dev/null 2>&1 &&
    mkdir -p "$T/npm" && "$npm" install --prefix "$T/npm" --no-audit --no-fund \
    --loglevel=error "@huggingface/hub@${HFHUB_VERSION:-2}" >"$T/npm.log" 2>&1; then
	cp "$top_srcdir/tests/integration/hfcache.mjs" "$T/npm/"
	node "$T/npm/hfcache.mjs" "$T/hf" acme/tiny "$C" config.json \
	    model.safetensors nested/deeper/file.txt empty.txt >"$T/hub.out" 2>&1
	check "@huggingface/hub reads the cache offline" test $? -eq 0
	check "  scanCacheDir: acme/tiny, commit $C, refs [v1], no warnings" python3 -c "
import json, sys
scan = json.loads(open('$T/hub.out').readline())
r = scan['repos']
sys.exit(not (scan['warnings'] == [] and len(r) == 1 and r[0]['id'] == 'acme/tiny'
    and r[0]['revisions'][0]['commit'] == '$C' and r[0]['revisions'][0]['refs'] == ['v1']
    and 'config.json' in r[0]['revisions'][0]['files']))"
	bad=0
	tail -n +2 "$T/hub.out" | while IFS="$(printf '\t')" read -r p file; do
		cmp -s "$T/model/$p" "$file" || { echo "$p differs"; exit 1; }
	done || bad=1
	check "  downloadFileToCacheDir by commit gives every byte, no fetch" test "$bad" -eq 0 -a \
	    "$(tail -n +2 "$T/hub.out" | wc -l)" -eq 4
else
	ok "# SKIP npm cannot install @huggingface/hub"
	ok "# SKIP npm cannot install @huggingface/hub"
	ok "# SKIP npm cannot install @huggingface/hub"
fi

# --- drift --------------------------------------------------------------
printf 'X' | dd of="$T/deploy/config.json" bs=1 seek=3 conv=notrunc 2>/dev/null
printf 'extra\n' >"$T/deploy/nested/extra.bin"
rm "$T/deploy/tokenizer.json"
nostore verify --lock "$T/lock.json" "$T/deploy" --trust "$T/alice.pub" >"$T/drift" 2>"$T/drift.err"
check "one changed byte, one extra, one missing: exit 1" test $? -eq 1
check "  three lines, one per file" test "$(wc -l <"$T/drift")" -eq 3
check "  the changed byte: config.json, sha256 named" \
    grep -q "^$T/deploy/config.json: sha256 [0-9a-f]\{64\}, the lockfile says $(grep ' config.json$' "$T/want.sha" | cut -c1-64)\$" "$T/drift"
check "  the extra: nested/extra.bin" grep -q "^$T/deploy/nested/extra.bin: extra" "$T/drift"
check "  the missing: tokenizer.json" grep -q "^$T/deploy/tokenizer.json: missing" "$T/drift"
nostore --json verify --lock "$T/lock.json" "$T/deploy" --trust "$T/alice.pub" >"$T/drift.json"
check "  --json: one document, the same three lines" python3 -c "
import json, sys
d = json.load(open('$T/drift.json'))
sys.exit(not (d['ok'] is False and d['drifted'] == 3 and
    d['lines'] == open('$T/drift').read().splitlines()))"

S=$T/hf/models--acme--tiny/snapshots/$C
blob=$(readlink -f "$S/README.md")
chmod u+w "$blob"
printf 'Y' | dd of="$blob" bs=1 seek=0 conv=notrunc 2>/dev/null
: >"$S/stray.txt"
rm "$S/nested/deeper/file.txt"
nostore verify --lock "$T/lock.json" --hf-cache "$T/hf" --trust "$T/alice.pub" >"$T/hdrift" 2>"$T/hdrift.err"
check "the HF cache drifted the same way: exit 1" test $? -eq 1
check "  README.md, stray.txt and nested/deeper/file.txt each named" sh -c "
    grep -q '^$S/README.md: sha256 ' '$T/hdrift' && grep -q '^$S/stray.txt: extra' '$T/hdrift' &&
    grep -q '^$S/nested/deeper/file.txt: missing' '$T/hdrift' && test \$(wc -l <'$T/hdrift') -eq 3"
check "checkout --hf-cache again mends the cache it merges into" \
    b checkout --lock "$T/lock.json" "$T/hf" --hf-cache
rm "$S/stray.txt"
check "  and it verifies again" nostore verify --lock "$T/lock.json" --hf-cache "$T/hf" --trust "$T/alice.pub"

# --- tampered lockfiles -------------------------------------------------
# tamper.py MODE: a lockfile whose file list lies (its manifest does not),
# whose manifest was changed and its digest fixed (its signature then
# fails), or that is not in canonical form.
cat >"$T/tamper.py" <<'EOF'
import hashlib, json, sys
mode, src, dst = sys.argv[1:]
doc = json.load(open(src))
m = doc["models"][0]
if mode == "files":
    m["files"][0]["sha256"] = "0" * 64
elif mode == "manifest":
    man = json.loads(m["manifest_bytes"])
    man["files"][0]["sha256"] = "0" * 64
    raw = json.dumps(man, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    m["manifest_bytes"] = raw
    m["manifest"] = "sha256:" + hashlib.sha256(raw.encode()).hexdigest()
    m["commit"] = m["manifest"][7:47]   # a local add's commit id
    m["files"][0]["sha256"] = "0" * 64
elif mode == "upper":
    m["manifest"] = m["manifest"][:7] + m["manifest"][7:].upper()
if mode == "pretty":
    open(dst, "w").write(json.dumps(doc, indent=2))
else:
    open(dst, "w").write(json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
EOF
for mode in files manifest pretty upper; do
	python3 "$T/tamper.py" $mode "$T/lock.json" "$T/lock-$mode.json"
done
fails "a lockfile whose files differ from its manifest is refused" 1 \
    nostore verify --lock "$T/lock-files.json" "$T/hf" --hf-cache --trust "$T/alice.pub"
last_output | grep -q 'not what its signed manifest says' && ok "  saying so" ||
    { diag "$(last_output)"; not_ok "  saying so"; }
fails "a lockfile whose manifest was changed is refused: the signature fails" 1 \
    nostore verify --lock "$T/lock-manifest.json" "$T/hf" --hf-cache --trust "$T/alice.pub"
last_output | grep -q 'tampered' && ok "  saying it was tampered with" ||
    { diag "$(last_output)"; not_ok "  saying it was tampered with"; }
fails "a lockfile not in canonical form is refused" 1 \
    nostore verify --lock "$T/lock-pretty.json" "$T/hf" --hf-cache --trust "$T/alice.pub"
fails "a lockfile that spells its manifest's digest in upper case is refused" 1 \
    nostore verify --lock "$T/lock-upper.json" "$T/hf" --hf-cache --trust "$T/alice.pub"
last_output | grep -q 'not a sha256: digest' && ok "  naming the digest" ||
    { diag "$(last_output)"; not_ok "  naming the digest"; }
fails "pull --lock of the tampered one is refused" 1 b pull --lock "$T/lock-manifest.json" --from http://127.0.0.1:9
fails "checkout --lock of it too" 1 b checkout --lock "$T/lock-manifest.json" "$T/nowhere"
test -e "$T/nowhere" && not_ok "  and writes nothing" || ok "  and writes nothing"

# --- two models: DIR/ORG/NAME and DIR/datasets/ORG/NAME ------------------
check "lock of a model and a dataset" a lock acme/tiny@v1 datasets/acme/data -o "$T/two.json"
check "checkout --lock of both, from A" a checkout --lock "$T/two.json" "$T/two"
check "  each in its folder" sh -c "diff -r '$T/model' '$T/two/acme/tiny' && diff -r '$T/data' '$T/two/datasets/acme/data'"
check "  and they verify" nostore verify --lock "$T/two.json" "$T/two" --trust "$T/alice.pub"

# --- revisions asked by digest and by commit prefix; bad input ----------
check "lock by manifest digest" a lock "acme/tiny@$want" -o "$T/bydigest.json"
check "  checkout --lock --hf-cache of it writes no ref" sh -c \
    "'$AIRLOCK' --store '$T/a' checkout --lock '$T/bydigest.json' '$T/hfd' --hf-cache >/dev/null &&
    test ! -e '$T/hfd/models--acme--tiny/refs/$want' && test -z \"\$(ls '$T/hfd/models--acme--tiny/refs')\""
check "  and it verifies" nostore verify --lock "$T/bydigest.json" --hf-cache "$T/hfd" --trust "$T/alice.pub"
check "lock by commit prefix" a lock "acme/tiny@$(echo "$C" | cut -c1-12)" -o "$T/byprefix.json"
fails "a repository named twice is a usage error" 2 a lock acme/tiny acme/tiny@v1 -o "$T/twice.json"
test -e "$T/twice.json" && not_ok "  and no lockfile is written" || ok "  and no lockfile is written"
fails "lock of a repository that is not there" 1 a lock acme/nothing -o "$T/none.json"
fails "verify --lock of a lockfile that is not there is a usage error" 2 \
    nostore verify --lock "$T/absent.json" "$T/deploy" --trust "$T/alice.pub"
fails "--trust of a file that is not a public key is a usage error" 2 \
    nostore verify --lock "$T/lock.json" "$T/deploy" --trust "$T/lock.json"
