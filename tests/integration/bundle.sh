#!/bin/sh
# Bundles across the air gap: export from store A, import into store B.
# A round trip, a delta against B's inventory, a HF cache import, and
# every kind of bad bundle refused with B left exactly as it was.
. "$top_srcdir/tests/lib/tap.sh"

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
state() { sha256sum "$B/data.mdb" | cut -c1-64; }
# Runs an import that must be refused; checks the message and that B is
# exactly as it was.
refused() {
	_what=$1 _want=$2
	shift 2
	_before=$(state)
	b import "$@" >"$T/imp.out" 2>&1
	_rc=$?
	if [ $_rc -eq 1 ] && grep -q -- "$_want" "$T/imp.out" &&
	    [ "$(state)" = "$_before" ]; then
		ok "$_what: refused, store unchanged"
	else
		diag "exit $_rc: $(cat "$T/imp.out")"
		[ "$(state)" = "$_before" ] || diag "the store changed"
		not_ok "$_what: refused with \"$_want\", store unchanged"
	fi
}
offset_of() { grep -obUa -- "$2" "$1" | head -n1 | cut -d: -f1; }

m=$T/m
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 3000000
# A marker in the weights, to find a chunk's bytes inside the bundle.
printf 'AIRLOCK-CHUNK-MARKER' | dd of="$m/model.safetensors" bs=1 \
    seek=1500000 conv=notrunc 2>/dev/null

check "A: init, key, add" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password --name alice &&
    '$AIRLOCK' --store '$A' add '$m' --repo acme/tiny"
check "B: init" b init
a key pub alice >"$T/alice.pub"

check "export" a export acme/tiny -o "$T/full.bundle"
refused "a bundle signed by an untrusted key" "does not trust" "$T/full.bundle"
check "B trusts A's key" b trust add "$T/alice.pub"

# Bad bundles first, while B is empty.
cp "$T/full.bundle" "$T/bad"
flip_byte "$T/bad" "$(offset_of "$T/bad" AIRLOCK-CHUNK-MARKER)"
refused "a flipped byte in a chunk" "does not match its hash" "$T/bad"

# Two chunks flipped: the first in the bundle's order is the one named,
# whichever core checks it (Python's tarfile says where each chunk is).
cp "$T/full.bundle" "$T/bad"
at=$(offset_of "$T/bad" AIRLOCK-CHUNK-MARKER)
python3 - "$T/bad" "$at" >"$T/where" <<'EOF'
import sys, tarfile
at = int(sys.argv[2])
chunks = [m for m in tarfile.open(sys.argv[1]) if m.name.startswith("chunks/")]
first = next(m for m in chunks if m.offset_data <= at < m.offset_data + m.size)
print(first.name[7:], chunks[-1].offset_data + chunks[-1].size // 2)
EOF
read -r first last_at <"$T/where"
flip_byte "$T/bad" "$at"
flip_byte "$T/bad" "$last_at"
refused "two flipped chunks" "chunk $first (entry [0-9]* of the chunks) does not match" "$T/bad"

cp "$T/full.bundle" "$T/bad"
flip_byte "$T/bad" $(( $(offset_of "$T/bad" '"schema":"airlock.manifest/v1"') + 12 ))
refused "a flipped byte in a manifest" "does not match its digest" "$T/bad"

cp "$T/full.bundle" "$T/bad"
flip_byte "$T/bad" $(( $(offset_of "$T/bad" '"schema":"airlock.bundle/v1"') + 12 ))
refused "a flipped byte in the index" "does not match its signature" "$T/bad"

cp "$T/full.bundle" "$T/bad"
flip_byte "$T/bad" $(( $(offset_of "$T/bad" 'trusted comment: airlock-release') + 20 ))
refused "a flipped byte in the index's signature" "signature" "$T/bad"

cp "$T/full.bundle" "$T/bad"
flip_byte "$T/bad" $(( $(offset_of "$T/bad" 'trusted comment: airlock-manifest') + 20 ))
refused "a flipped byte in a manifest's signature" "does not match the index" "$T/bad"

printf 'hello\n' >"$T/extra.txt"
cp "$T/full.bundle" "$T/bad"
(cd "$T" && tar rf bad extra.txt)
refused "an entry the index does not list" "extra.txt is not in the index" "$T/bad"
cp "$T/full.bundle" "$T/bad"
(cd "$T" && tar rf bad -P --transform='s,^extra.txt,../evil.txt,' extra.txt)
refused "an entry named with .." "../evil.txt is not in the index" "$T/bad"
cp "$T/full.bundle" "$T/bad"
(cd "$T" && tar rf bad -P --transform='s,^extra.txt,/etc/evil,' extra.txt)
refused "an entry with an absolute path" "not in the index" "$T/bad"
ln -s /etc/passwd "$T/link"
cp "$T/full.bundle" "$T/bad"
(cd "$T" && tar rf bad link)
refused "a link entry" "links are not allowed" "$T/bad"
cp "$T/full.bundle" "$T/bad"
(tar rf "$T/bad" -C / dev/null)
refused "a device entry" "not a regular file" "$T/bad"
head -c 40000 "$T/full.bundle" >"$T/bad"
refused "a truncated bundle" "ends early" "$T/bad"

# Split bundles: truncated, missing and reordered volumes.
check "export split in 1 MiB volumes" a export acme/tiny -o "$T/split" --split 1M
[ -f "$T/split.001" ] && [ -f "$T/split.003" ] && [ ! -f "$T/split" ] &&
    [ "$(stat -c %s "$T/split.001")" -eq 1048576 ] &&
    ok "volumes split.001... of 1 MiB" || not_ok "volumes: $(ls "$T")"
mkdir "$T/v"
cp "$T"/split.0* "$T/v/"
truncate -s 1000000 "$T/v/split.002"
refused "a truncated volume" "split.002 has 1000000 bytes" "$T/v/split.001"
cp "$T"/split.0* "$T/v/"
rm "$T/v/split.002"
refused "a missing volume" "split.002 is missing" "$T/v/split.001"
cp "$T"/split.0* "$T/v/"
mv "$T/v/split.002" "$T/v/x" && mv "$T/v/split.003" "$T/v/split.002" &&
    mv "$T/v/x" "$T/v/split.003"
if [ "$(stat -c %s "$T/v/split.003")" -eq 1048576 ]; then
	refused "volumes in the wrong order" "" "$T/v/split.001"
else
	# The last volume is short: swapping it in is caught by its size.
	refused "volumes in the wrong order" "bytes" "$T/v/split"
fi

# The round trip.
check "import the split bundle by its first volume" b import "$T/split.001"
check "verify --all in B" b verify --all
check "checkout in B" b checkout acme/tiny "$T/outB"
diff -r "$m" "$T/outB" >/dev/null && ok "B's checkout is byte-identical to A's source" ||
    not_ok "B's checkout differs"
before=$(state)
check "importing the same bundle again" b import "$T/split.001"
[ "$(state)" = "$before" ] && ok "importing twice changes nothing" ||
    not_ok "the second import changed the store"

# Rollback: release 4 taken, then release 3 offered.
check "export release 3" a export acme/tiny -o "$T/r3.bundle"
check "export release 4" a export acme/tiny -o "$T/r4.bundle"
check "import release 4" b import "$T/r4.bundle"
refused "an older release (rollback)" "rollback" "$T/r3.bundle"

# A delta: a new revision whose safetensors header grew by 100 bytes.
# (100 MB of weights: the chunk the header sits in is the only new one,
# up to 512 KiB, and the target is a share of the whole.)
head -c 100000000 /dev/urandom >"$T/weights"
m2=$T/m2
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m2" 100000000 0 "$T/weights"
check "add revision 1 of acme/grow" a add "$m2" --repo acme/grow
check "export it" a export acme/grow -o "$T/grow1.bundle"
check "import it" b import "$T/grow1.bundle"
check "B's inventory" b inventory -o "$T/B.inv"
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m2" 100000000 100 "$T/weights"
check "add revision 2: the header grew" a add "$m2" --repo acme/grow
check "full bundle of revision 2" a export acme/grow -o "$T/full2.bundle"
check "delta bundle of revision 2" a export acme/grow -o "$T/delta2.bundle" --have "$T/B.inv"
full=$(stat -c %s "$T/full2.bundle")
delta=$(stat -c %s "$T/delta2.bundle")
[ $((delta * 100)) -le "$full" ] &&
    ok "the delta bundle is <= 1 % of the full one ($delta of $full bytes)" ||
    not_ok "delta $delta bytes vs full $full"
check "import the delta" b import "$T/delta2.bundle"
check "verify --all after the delta" b verify --all
check "checkout revision 2 in B" b checkout acme/grow "$T/outG"
diff -r "$m2" "$T/outG" >/dev/null && ok "revision 2 is byte-identical" ||
    not_ok "revision 2 differs"
check "a fresh store C" "$AIRLOCK" --store "$T/C" init
"$AIRLOCK" --store "$T/C" trust add "$T/alice.pub" >/dev/null
"$AIRLOCK" --store "$T/C" import "$T/delta2.bundle" >"$T/imp.out" 2>&1
[ $? -eq 1 ] && grep -q "leaves out chunk" "$T/imp.out" &&
    ok "a delta refused by a store that lacks its base" ||
    not_ok "delta into C: $(cat "$T/imp.out")"

# Policy: a threshold of 2 is not met by one signature; a revoked key.
check "export for the policy tests" a export acme/tiny -o "$T/p.bundle"
check "B: threshold 2" b trust threshold 2
refused "a bundle whose revisions do not meet the threshold" "asks for 2" "$T/p.bundle"
check "B: threshold 1" b trust threshold 1
check "B revokes A's key" b trust revoke "$(a --json key ls | sed -n 's/.*"keyid": "\([0-9A-F]*\)".*/\1/p' | head -n1)"
refused "a bundle signed by a revoked key" "revoked" "$T/p.bundle"

# A HF cache folder, as huggingface_hub lays it out.
hub=$T/hub/models--acme--cached
commit=0123456789abcdef0123456789abcdef01234567
mkdir -p "$hub/blobs" "$hub/refs" "$hub/snapshots/$commit/sub"
for f in config.json model.safetensors; do
	if [ "$f" = model.safetensors ]; then
		name=$(sha256sum "$m/$f" | cut -c1-64)
	else
		name=$( (printf 'blob %d\0' "$(stat -c %s "$m/$f")"; cat "$m/$f") |
		    sha1sum | cut -c1-40)
	fi
	cp "$m/$f" "$hub/blobs/$name"
	ln -s "../../blobs/$name" "$hub/snapshots/$commit/$f"
done
printf %s "$commit" >"$hub/refs/main"
check "import a HF cache folder" a import "$hub"
a show acme/cached | grep -q "commit    $commit" &&
    ok "the snapshot keeps its commit id" || not_ok "commit id lost"
check "verify it" a verify acme/cached
a cat acme/cached model.safetensors | cmp -s - "$m/model.safetensors" &&
    ok "its bytes are the blob's" || not_ok "bytes differ"
printf 'x' >>"$hub/blobs/$(sha256sum "$m/model.safetensors" | cut -c1-64)"
fails "a damaged HF cache blob is refused" 1 a import "$hub/snapshots/$commit"

# Export moves chunk bytes from the data file by copy_file_range(2), which
# a pair of file systems may refuse (EXDEV): then by write(2), the same
# bundle.  A store on /dev/shm exported into $T tries both paths.
S=/dev/shm/airlock-bundle-$$
rm_shm() { rm -rf "$S"; }
at_exit rm_shm
if [ -d /dev/shm ] && [ "$(stat -f -c %T /dev/shm)" != "$(stat -f -c %T "$T")" ] &&
    cp -R "$A" "$S" 2>/dev/null; then
	rm -f "$T/shm.bundle"
	check "a store on another file system exports" \
	    "$AIRLOCK" --store "$S" export acme/tiny -o "$T/shm.bundle"
	mkdir "$T/shm.x" && tar xf "$T/shm.bundle" -C "$T/shm.x"
	_bad=0 _n=0
	for f in "$T/shm.x/chunks/"*; do
		_n=$((_n + 1))
		[ "$(sha256sum <"$f" | cut -c1-64)" = "${f##*/}" ] || _bad=1
	done
	[ $_bad -eq 0 ] && [ $_n -gt 1 ] &&
	    ok "  each of its $_n chunks hashes to its name (sha256sum)" ||
	    not_ok "  a chunk's bytes do not hash to its name"
else
	ok "# SKIP /dev/shm is missing or on the same kind of file system as $T"
	ok "# SKIP (its chunks)"
fi
done_testing
