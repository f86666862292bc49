#!/bin/sh
# A dataset across the air gap: its release names it "datasets/ORG/NAME"
# (the Hub's convention, FORMATS.md "Release"), the importer checks the
# index against that name, and the dataset arrives as a dataset, byte for
# byte.
. "$top_srcdir/tests/lib/tap.sh"

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }

d=$T/d
mkdir -p "$d/data"
printf 'text\nhello\nworld\n' >"$d/data/train.csv"
head -c 300000 /dev/urandom >"$d/data/blob.bin"
printf -- '---\nlicense: mit\n---\n# corpus\n' >"$d/README.md"

check "A: init, key, add a dataset" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password --name alice &&
    '$AIRLOCK' --store '$A' add '$d' --repo acme/corpus --type dataset"
check "B: init" b init
a key pub alice >"$T/alice.pub"
check "B trusts A's key" b trust add "$T/alice.pub"

check "export datasets/acme/corpus" a export datasets/acme/corpus \
    -o "$T/ds.bundle"
# The release in the index names the dataset as the Hub does (read with
# tar and python's json, not with airlock).
mkdir "$T/x"
tar -xf "$T/ds.bundle" -C "$T/x" airlock-bundle.json
repo=$(python3 -c 'import json, sys
idx = json.load(open(sys.argv[1]))
print(" ".join(r["repo"] for r in json.loads(idx["release"])["refs"]))' \
    "$T/x/airlock-bundle.json")
[ "$repo" = datasets/acme/corpus ] &&
    ok "the release names it datasets/acme/corpus" ||
    { diag "release repos: $repo"; not_ok "the release names it datasets/acme/corpus"; }
check "import it" b import "$T/ds.bundle"
check "verify it" b verify datasets/acme/corpus
for f in data/train.csv data/blob.bin README.md; do
	b cat datasets/acme/corpus "$f" | cmp -s - "$d/$f" &&
	    ok "$f: the same bytes (cmp)" || not_ok "$f: the same bytes (cmp)"
done
# It is a dataset there, and nothing else is.
repos=$(b --json ls | python3 -c 'import json, sys
print(" ".join(r["type"] + ":" + r["repo"] for r in json.load(sys.stdin)))')
[ "$repos" = dataset:acme/corpus ] && ok "B holds the dataset, as a dataset" ||
    { diag "B holds: $repos"; not_ok "B holds the dataset, as a dataset"; }
check "importing it again changes nothing" b import "$T/ds.bundle"
done_testing
