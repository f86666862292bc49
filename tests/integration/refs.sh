#!/bin/sh
# Commit ids never move: a second snapshot or a bundle that gives a stored
# commit id other bytes is refused, and the first bytes stay.  gc keeps what
# only a commit id names, and sweeps nothing when a manifest it must read is
# damaged.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
A=$T/A
al() { "$AIRLOCK" --store "$S" "$@"; }
a() { "$AIRLOCK" --store "$A" "$@"; }
state() { sha256sum "$S/data.mdb" | cut -c1-64; }
nchunks() {
	"$AIRLOCK" --store "$1" --json stats |
	    sed -n 's/^ *"chunks": \([0-9]*\).*/\1/p'
}
digest_of() { sed -n 's/^[^ ]* \(sha256:[0-9a-f]\{64\}\)$/\1/p' "$T/.out"; }
# Polls the clock (at most 2 s) until the second changes, so that a
# manifest built now has another "created" than one built before.
next_second() {
	_t=$(date +%s) _n=0
	while [ "$(date +%s)" -eq "$_t" ] && [ $_n -lt 40 ]; do
		sleep 0.05
		_n=$((_n + 1))
	done
}
# hfcache DIR COMMIT SRC [REF]: DIR (models--ORG--NAME) gets a snapshot
# COMMIT of the files in SRC, as huggingface_hub lays it out; refs/REF
# names it when REF is given.
hfcache() {
	_d=$1 _c=$2 _src=$3 _ref=${4:-}
	mkdir -p "$_d/blobs" "$_d/refs" "$_d/snapshots/$_c"
	for _f in $(ls "$_src"); do
		if [ "$_f" = model.safetensors ]; then
			_n=$(sha256sum "$_src/$_f" | cut -c1-64)
		else
			_n=$( (printf 'blob %d\0' "$(stat -c %s "$_src/$_f")"
			    cat "$_src/$_f") | sha1sum | cut -c1-40)
		fi
		cp "$_src/$_f" "$_d/blobs/$_n"
		ln -s "../../blobs/$_n" "$_d/snapshots/$_c/$_f"
	done
	[ -z "$_ref" ] || printf %s "$_c" >"$_d/refs/$_ref"
}

c=0123456789abcdef0123456789abcdef01234567
for i in 1 2 3 4; do
	sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m$i" 300000
done
hfcache "$T/h1/models--acme--c" $c "$T/m1" main
hfcache "$T/h2/models--acme--c" $c "$T/m2" main

check "init" al init
check "import a HF cache snapshot" al import "$T/h1/models--acme--c"
d1=$(digest_of)

# Item: the same commit id with other bytes.
before=$(state)
fails "a second snapshot with the same commit id and other bytes: exit 1" 1 \
    al import "$T/h2/models--acme--c"
msg=$(last_output)
echo "$msg" | grep "acme/c@$c" | grep -F "$d1" |
    grep -Eq 'sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}' &&
    ok "the message names the ref and both digests" ||
    not_ok "message: $msg"
[ "$(state)" = "$before" ] && ok "the refused import changed nothing" ||
    not_ok "the refused import changed the store"
al cat "acme/c@$c" model.safetensors | cmp -s - "$T/m1/model.safetensors" &&
    ok "the commit still gives the first bytes" ||
    not_ok "the commit id was repointed"
al cat acme/c model.safetensors | cmp -s - "$T/m1/model.safetensors" &&
    ok "main did not move either" || not_ok "main moved"

next_second
check "the same folder again" al import "$T/h1/models--acme--c"
[ "$(digest_of)" = "$d1" ] && ok "it names the same revision" ||
    not_ok "another revision: $(last_output)"
[ "$(state)" = "$before" ] && ok "importing the same folder twice is a no-op" ||
    not_ok "the second import changed the store"

# A bundle may not repoint a commit id either.
check "A: init, key" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password --name alice"
a key pub alice >"$T/alice.pub"
check "trust A's key" al trust add "$T/alice.pub"
check "A: import the other snapshot" a import "$T/h2/models--acme--c"
check "A: export it by commit id" a export "acme/c@$c" -o "$T/c.bundle"
before=$(state)
fails "a bundle with the same commit id and other bytes: exit 1" 1 \
    al import "$T/c.bundle"
last_output | grep "acme/c@$c" | grep -F "$d1" |
    grep -Eq 'sha256:[0-9a-f]{64}.*sha256:[0-9a-f]{64}' &&
    ok "the message names the ref and both digests" ||
    not_ok "message: $(last_output)"
[ "$(state)" = "$before" ] && ok "the refused bundle changed nothing" ||
    not_ok "the refused bundle changed the store"
al cat "acme/c@$c" model.safetensors | cmp -s - "$T/m1/model.safetensors" &&
    ok "the commit still gives the first bytes" ||
    not_ok "the bundle repointed the commit id"

# A bundle whose revision is published under a 40-hex ref that is another
# revision's commit id: its index is edited and signed again with A's key.
if command -v minisign >/dev/null 2>&1; then
	check "A: add a revision on a branch" a add "$T/m3" --repo acme/c \
	    --revision other
	check "A: export it" a export acme/c@other -o "$T/o.bundle"
	mkdir "$T/x"
	(cd "$T/x" && tar xf "$T/o.bundle" && tar tf "$T/o.bundle" >"$T/order" &&
	    sed -i "s/\"ref\":\"other\"/\"ref\":\"$c\"/" airlock-bundle.json &&
	    sed -i "s/\\\\\"revision\\\\\":\\\\\"other\\\\\"/\\\\\"revision\\\\\":\\\\\"$c\\\\\"/" \
	    airlock-bundle.json &&
	    d=$(sha256sum airlock-bundle.json | cut -c1-64) &&
	    v=$(sed -n 's/^trusted comment: airlock-release\tversion=\([0-9]*\).*/\1/p' \
	    airlock-bundle.json.minisig) &&
	    minisign -S -s "$A/keys/alice.key" -m airlock-bundle.json \
	    -x airlock-bundle.json.minisig -c "airlock bundle index" \
	    -t "$(printf 'airlock-release\tversion=%s\tdigest=sha256:%s\ttime=%s' \
	    "$v" "$d" "$(date +%s)")" </dev/null >/dev/null &&
	    tar --format=pax -cf "$T/forged.bundle" -T "$T/order")
	grep -q "\"ref\":\"$c\"" "$T/x/airlock-bundle.json" &&
	    ok "the forged bundle publishes a revision as $c" ||
	    not_ok "forging the bundle failed"
	before=$(state)
	fails "a bundle naming another revision by a stored commit id: exit 1" 1 \
	    al import "$T/forged.bundle"
	last_output | grep "acme/c@$c" | grep -Fq "$d1" &&
	    ok "the message names the ref and its digest" ||
	    not_ok "message: $(last_output)"
	[ "$(state)" = "$before" ] && ok "the forged bundle changed nothing" ||
	    not_ok "the forged bundle changed the store"
	al cat "acme/c@$c" model.safetensors |
	    cmp -s - "$T/m1/model.safetensors" &&
	    ok "the commit still gives the first bytes" ||
	    not_ok "the forged bundle repointed the commit id"
	# Where no revision has that commit id, the ref is still no branch.
	F=$T/F
	"$AIRLOCK" --store "$F" init >/dev/null
	"$AIRLOCK" --store "$F" trust add "$T/alice.pub" >/dev/null
	fstate=$(sha256sum "$F/data.mdb" | cut -c1-64)
	fails "a 40-hex ref that is not its revision's commit: exit 1" 1 \
	    "$AIRLOCK" --store "$F" import "$T/forged.bundle"
	last_output | grep -q "acme/c@$c: a branch or tag may not look like a commit id" &&
	    ok "the message names the ref and why" ||
	    not_ok "message: $(last_output)"
	[ "$(sha256sum "$F/data.mdb" | cut -c1-64)" = "$fstate" ] &&
	    ok "the store is unchanged" || not_ok "the store changed"
	fails "the ref was not written" 1 "$AIRLOCK" --store "$F" show "acme/c@$c"
else
	ok "# SKIP minisign is not installed: no forged bundle"
fi

# Item: what only a commit id names survives gc.
c3=89abcdef0123456789abcdef0123456789abcdef
hfcache "$T/h3/models--acme--nameless" $c3 "$T/m3"
check "import a snapshot that no ref names" al import \
    "$T/h3/models--acme--nameless"
check "A: add a revision" a add "$T/m4" --repo acme/bycommit
c4=$(sed -n 's/^acme\/bycommit@\([0-9a-f]*\) .*/\1/p' "$T/.out")
check "A: export it by commit id" a export "acme/bycommit@$c4" \
    -o "$T/bycommit.bundle"
check "import the bundle" al import "$T/bycommit.bundle"
check "gc" al gc
al cat "acme/nameless@$c3" model.safetensors |
    cmp -s - "$T/m3/model.safetensors" &&
    ok "the unnamed snapshot reads back after gc" ||
    not_ok "gc swept a revision its commit id names"
al cat "acme/bycommit@$c4" model.safetensors |
    cmp -s - "$T/m4/model.safetensors" &&
    ok "the bundle's revision by commit id reads back after gc" ||
    not_ok "gc swept a bundle revision its commit id names"
check "verify the bundle's revision after gc" al verify "acme/bycommit@$c4"

# Item: gc refuses to sweep when a manifest it reaches is damaged.
G=$T/G
g() { "$AIRLOCK" --store "$G" "$@"; }
cp "$T/m1/config.json" "$T/m2/AIRLOCK-MANIFEST-MARKER.json"
check "G: init" g init
check "G: add a model" g add "$T/m1" --repo acme/keep
check "G: add another" g add "$T/m2" --repo acme/bad
bad=$(digest_of)
check "G: verify before" g verify --all
for off in $(grep -obUa 'AIRLOCK-MANIFEST-MARKER' "$G/data.mdb" | cut -d: -f1); do
	printf 'X' | dd of="$G/data.mdb" bs=1 seek="$off" conv=notrunc 2>/dev/null
done
n0=$(nchunks "$G")
fails "gc with a damaged manifest: exit 1" 1 g gc
last_output | grep -F "$bad" | grep -q 'airlock verify' &&
    ok "it names the manifest and advises airlock verify" ||
    not_ok "message: $(last_output)"
fails "gc --dry-run refuses too" 1 g gc --dry-run
[ "$(nchunks "$G")" = "$n0" ] && ok "nothing was swept ($n0 chunks)" ||
    not_ok "gc swept $n0 -> $(nchunks "$G") chunks"
check "the other revision still verifies" g verify acme/keep
fails "verify names the damaged one" 1 g verify acme/bad
done_testing
