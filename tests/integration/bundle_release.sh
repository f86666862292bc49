#!/bin/sh
# Releases and signatures across the air gap, and what airlockd publishes:
# an unreadable release record makes import refuse; concurrent exports
# never share a version; a bundle cannot store a signature under a key id
# that did not make it; /v1/release is the release export last signed,
# and minisign verifies it; /v1/ keeps private repositories private.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v mdb_dump >/dev/null 2>&1 && command -v mdb_load >/dev/null 2>&1 ||
    skip_all "mdb_dump and mdb_load (lmdb-utils) are not installed"
[ -n "${MINISIGN:-}" ] || MINISIGN=$(command -v minisign) ||
    skip_all "minisign is not installed"

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }
state() { sha256sum "$B/data.mdb" | cut -c1-64; }
hexof() { od -An -tx1 | tr -d ' \n'; }
# poke STORE DB KEYSUFFIX VALUEHEX: with LMDB's own tools, sets the value
# of every entry of the named database whose key ends with the hex
# KEYSUFFIX (empty: every entry) to VALUEHEX.
poke() {
	mdb_dump -s "$2" "$1" | awk -v suf="$3" -v val="$4" '
	    /^HEADER=END/ { print; body = 1; next }
	    /^DATA=END/ { print; body = 0; next }
	    body && key == "" { key = $1; print; next }
	    body { n = length(suf)
		if (n == 0 || substr(key, length(key) - n + 1) == suf)
			print " " val
		else
			print
		key = ""; next }
	    { print }' >"$T/poke.dump" && mdb_load -s "$2" -f "$T/poke.dump" "$1"
}
# A key id as airlock prints it (minisign's order) to the bytes' hex.
kidbytes() {
	echo "$1" | tr A-F a-f | sed 's/\(..\)/\1 /g' |
	    awk '{ for (i = NF; i > 0; i--) printf "%s", $i }'
}

sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m" 30000 >/dev/null
check "A: init, key, add" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password --name alice &&
    '$AIRLOCK' --store '$A' add '$T/m' --repo acme/tiny"
a key pub alice >"$T/alice.pub"
alice=$(sed -n 's/^untrusted comment: .* \([0-9A-F]\{16\}\)$/\1/p' "$T/alice.pub")
[ -n "$alice" ] || alice=$(a --json key ls | sed -n 's/.*"keyid": "\([0-9A-F]*\)".*/\1/p' | head -n1)
# A second signer, a stock minisign key: carol.
"$MINISIGN" -G -W -p "$T/carol.pub" -s "$T/carol.key" >/dev/null 2>&1
check "A: carol signs acme/tiny too" a sign acme/tiny --key "$T/carol.key"
# (minisign leaves out a key id's leading zeros; airlock does not.)
carol=$(sed -n 's/^untrusted comment: minisign public key \([0-9A-F]*\)$/0000000000000000\1/p' \
    "$T/carol.pub" | sed 's/.*\(.\{16\}\)$/\1/')
check "B: init, trust alice and carol" sh -c "'$AIRLOCK' --store '$B' init &&
    '$AIRLOCK' --store '$B' trust add '$T/alice.pub' &&
    '$AIRLOCK' --store '$B' trust add '$T/carol.pub'"

# --- item 9: a signature is kept under the key id that made it ----------
check "export release 1" a export acme/tiny -o "$T/r1.bundle"
check "import release 1" b import "$T/r1.bundle"
b sig acme/tiny "$carol" >"$T/carol.before" 2>&1
b sig acme/tiny "$alice" >"$T/alice.before" 2>&1
grep -q 'trusted comment: airlock-manifest' "$T/carol.before" &&
    ok "B keeps carol's signature" || not_ok "carol's: $(cat "$T/carol.before")"
# In A, carol's entry now holds alice's signature, then junk: the next
# bundle's index claims carol for a signature carol did not make.
alicesig=$(a sig acme/tiny "$alice" | hexof)
check "A: alice's signature under carol's key id" \
    poke "$A" sig "$(kidbytes "$carol")" "$alicesig"
a sig acme/tiny "$carol" | cmp -s - "$T/alice.before" &&
    ok "  A now has alice's signature as carol's" || not_ok "  A's poke missed"
check "export release 2 (carol's entry is alice's)" a export acme/tiny -o "$T/r2.bundle"
check "import release 2" b import "$T/r2.bundle"
b sig acme/tiny "$carol" >"$T/carol.after" 2>&1
cmp -s "$T/carol.before" "$T/carol.after" &&
    ok "carol's signature survives a bundle that claims carol for alice's" ||
    { diag "$(cat "$T/carol.after")"; not_ok "carol's signature was overwritten"; }
b sig acme/tiny "$alice" >"$T/alice.after" 2>&1
cmp -s "$T/alice.before" "$T/alice.after" &&
    ok "  alice's is as it was" || not_ok "alice's changed"
check "A: junk under carol's key id" \
    poke "$A" sig "$(kidbytes "$carol")" "$(printf 'junk, not a signature\n' | hexof)"
[ "$(a sig acme/tiny "$carol")" = 'junk, not a signature' ] &&
    ok "  A now has junk as carol's" || not_ok "  A's poke missed"
check "export release 3 (carol's entry is junk)" a export acme/tiny -o "$T/r3.bundle"
check "import release 3" b import "$T/r3.bundle"
b sig acme/tiny "$carol" >"$T/carol.after" 2>&1
cmp -s "$T/carol.before" "$T/carol.after" &&
    ok "carol's signature survives junk claimed as hers" ||
    { diag "$(cat "$T/carol.after")"; not_ok "carol's signature was overwritten by junk"; }
b sig acme/tiny >"$T/sigs" 2>&1
[ "$(grep -c '^  [0-9A-F]\{16\}$' "$T/sigs")" -eq 2 ] && grep -q "^  $alice$" "$T/sigs" &&
    grep -q "^  $carol$" "$T/sigs" && ok "  B keeps two signatures: alice's and carol's" ||
    not_ok "B's signatures, not $alice and $carol: $(cat "$T/sigs")"

# --- item 8: the release record, checked and written with the import ----
check "export release 4" a export acme/tiny -o "$T/r4.bundle"
before=$(state)
check "B: the release record made unreadable" \
    poke "$B" release "" "$(printf 'not a release' | hexof)"
corrupt=$(state)
b import "$T/r4.bundle" >"$T/imp.out" 2>&1
rc=$?
if [ $rc -eq 1 ] && grep -q "release record" "$T/imp.out" &&
    grep -q "$alice" "$T/imp.out" && [ "$(state)" = "$corrupt" ]; then
	ok "an unreadable release record: import refused, store unchanged"
else
	diag "exit $rc: $(cat "$T/imp.out")"
	not_ok "an unreadable release record: refused, naming it"
fi
# Concurrent exports: each gets its own version.
for i in 1 2 3; do a --json export acme/tiny -o "$T/c$i.bundle" >"$T/c$i.out" 2>&1 & done
wait
versions=$(for i in 1 2 3; do sed -n 's/.*"release": *\([0-9]*\).*/\1/p' "$T/c$i.out"; done | sort -n)
[ "$(echo "$versions" | wc -l)" -eq 3 ] && [ "$(echo "$versions" | uniq | wc -l)" -eq 3 ] &&
    ok "three concurrent exports, three versions ($(echo $versions))" ||
    not_ok "concurrent exports: versions $(echo $versions); $(cat "$T"/c?.out)"
last=$(echo "$versions" | tail -n1)

# --- item 13: airlockd publishes the release export signed --------------
# A private repository in A, and a public one.
# acme/secret has a file of its own; its other files are pub/open's too.
cp -R "$T/m" "$T/ms"
printf 'the private part\n' >"$T/ms/secret.txt"
secret=$(sha256sum "$T/ms/secret.txt" | cut -c1-64)
shared=$(sha256sum "$T/m/config.json" | cut -c1-64)
check "A: add acme/secret and pub/open" sh -c "'$AIRLOCK' --store '$A' add '$T/ms' --repo acme/secret &&
    '$AIRLOCK' --store '$A' add '$T/m' --repo pub/open"
check "export acme/secret" a --json export acme/secret -o "$T/s.bundle"
last=$(sed -n 's/.*"release": *\([0-9]*\).*/\1/p' "$T/.out")
printf '[private acme]\ntoken = hf_releasetesttoken\n' >"$T/airlockd.conf"
check "airlockd starts" start_daemon "$A" -c "$T/airlockd.conf"
code() { curl -s -o "$T/b" -w '%{http_code}' "$@"; }
[ "$(code "$URL/v1/release")" = 200 ] && cp "$T/b" "$T/release" &&
    ok "/v1/release: 200" || not_ok "/v1/release: $(cat "$T/b")"
[ "$(code "$URL/v1/release.minisig")" = 200 ] && cp "$T/b" "$T/release.minisig" &&
    ok "/v1/release.minisig: 200" || not_ok "/v1/release.minisig: $(cat "$T/b")"
check "minisign -V verifies the release with A's public key" \
    "$MINISIGN" -V -q -p "$T/alice.pub" -m "$T/release" -x "$T/release.minisig"
grep -q "\"version\":$last[,}]" "$T/release" &&
    grep -q "\"repo\":\"acme/secret\"" "$T/release" &&
    ok "  it is the last export's release, $last" ||
    not_ok "  not release $last: $(cat "$T/release")"
grep -q "^trusted comment: airlock-release	version=$last	" "$T/release.minisig" &&
    ok "  its trusted comment names the version" ||
    not_ok "  comment: $(cat "$T/release.minisig")"
head -n1 "$T/release.minisig" | grep -qx 'untrusted comment: airlock release' &&
    ok "  its untrusted comment says it is a release" ||
    not_ok "  untrusted comment: $(head -n1 "$T/release.minisig")"

# --- item 13: /v1/ of a private repository --------------------------------
sdigest=$(a --json show acme/secret | sed -n 's/^  "digest": "sha256:\([0-9a-f]*\)",$/\1/p')
lfs=$(a --json show acme/secret | awk '/"path": "model.safetensors"/ { f = 1 } f && /"sha256"/ { gsub(/[",]/, "", $2); print $2; exit }')
tok='Authorization: Bearer hf_releasetesttoken'
bad='Authorization: Bearer hf_notthetokenatall'
for p in /v1/refs/model/acme/secret "/v1/manifests/sha256:$sdigest" \
    "/v1/signatures/sha256:$sdigest"; do
	c=$(code "$URL$p")
	case $c in 401|404) ok "$p without a token: $c" ;;
	*) not_ok "$p without a token: $c $(head -c 200 "$T/b")" ;; esac
	c=$(code -H "$bad" "$URL$p")
	case $c in 401|404) ok "$p with a wrong token: $c" ;;
	*) not_ok "$p with a wrong token: $c" ;; esac
	[ "$(code -H "$tok" "$URL$p")" = 200 ] && ok "$p with the token: 200" ||
	    not_ok "$p with the token: $(head -c 200 "$T/b")"
done
code "$URL/v1/refs" >/dev/null
! grep -q 'acme/secret' "$T/b" && grep -q 'pub/open' "$T/b" &&
    ok "/v1/refs without a token leaves acme/secret out" ||
    not_ok "/v1/refs: $(head -c 300 "$T/b")"
code -H "$tok" "$URL/v1/refs" >/dev/null
grep -q 'acme/secret' "$T/b" && ok "/v1/refs with the token lists it" ||
    not_ok "/v1/refs with the token: $(head -c 300 "$T/b")"
[ "$(code -H "$tok" "$URL/v1/manifests/sha256:$sdigest")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$sdigest" ] &&
    ok "  the manifest's bytes hash to its digest" || not_ok "manifest bytes"
[ "$(code -H "$tok" "$URL/v1/blobs/sha256:$lfs")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$lfs" ] &&
    ok "/v1/blobs of the private repository with the token: its bytes" ||
    not_ok "/v1/blobs with the token"
# A blob only the private repository holds is answered as the repository
# is; one a public repository holds too is served to all.
for p in "/v1/blobs/sha256:$secret" "/v1/blobs/sha256:$secret/chunks"; do
	c=$(code "$URL$p")
	[ "$c" = 401 ] && ok "$p (only acme/secret's) without a token: 401" ||
	    not_ok "$p without a token: $c $(head -c 100 "$T/b")"
	c=$(code -I "$URL$p")
	[ "$c" = 401 ] && ok "  HEAD without a token: 401" || not_ok "  HEAD: $c"
	c=$(code -H "$bad" "$URL$p")
	[ "$c" = 401 ] && ok "  with a wrong token: 401" || not_ok "  wrong token: $c"
	[ "$(code -H "$tok" "$URL$p")" = 200 ] && ok "  with the token: 200" ||
	    not_ok "  with the token: $(head -c 100 "$T/b")"
done
[ "$(code -H "$tok" "$URL/v1/blobs/sha256:$secret")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$secret" ] &&
    ok "  its bytes hash to its sha256" || not_ok "  its bytes"
# A file of one chunk is its chunk: the chunk's hash is the file's, so
# /v1/chunks must answer for it as /v1/blobs does, or it hands the private
# file to whoever knows its sha256.
c=$(code "$URL/v1/chunks/sha256:$secret")
[ "$c" = 401 ] && ok "/v1/chunks of acme/secret's one-chunk file without a token: 401" ||
    not_ok "/v1/chunks of the private file without a token: $c $(head -c 100 "$T/b")"
c=$(code -H "$bad" "$URL/v1/chunks/sha256:$secret")
[ "$c" = 401 ] && ok "  with a wrong token: 401" || not_ok "  wrong token: $c"
[ "$(code -H "$tok" "$URL/v1/chunks/sha256:$secret")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$secret" ] &&
    ok "  with the token: its bytes" || not_ok "  with the token: $(head -c 100 "$T/b")"
[ "$(code "$URL/v1/chunks/sha256:$shared")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$shared" ] &&
    ok "/v1/chunks of a one-chunk file pub/open has too, without a token: 200" ||
    not_ok "/v1/chunks of a shared file: $(head -c 100 "$T/b")"
[ "$(code "$URL/v1/blobs/sha256:$shared")" = 200 ] &&
    [ "$(sha256sum <"$T/b" | cut -c1-64)" = "$shared" ] &&
    ok "/v1/blobs of a file pub/open has too, without a token: 200" ||
    not_ok "/v1/blobs of a shared file: $(head -c 100 "$T/b")"
check "airlockd stops cleanly" stop_daemon

# A version counter that is not a number refuses the export.
check "A: release_version made unreadable" poke "$A" setting \
    "$(printf release_version | hexof)" "$(printf 'x1' | hexof)"
a export acme/tiny -o "$T/x.bundle" >"$T/x.out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q release_version "$T/x.out" && [ ! -e "$T/x.bundle" ] &&
    ok "an unreadable version counter: export refused, naming it" ||
    not_ok "exit $rc: $(cat "$T/x.out")"
done_testing
