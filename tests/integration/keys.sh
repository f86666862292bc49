#!/bin/sh
# Keys, trust and signed manifests through the airlock CLI, checked both
# ways against Debian's minisign: minisign verifies what airlock signs,
# airlock takes minisign's keys and signatures, and every kind of tampering
# is refused and named.
#
# Two stores: A has its own signing key (add signs with it) and takes
# signatures from an offline approver; B has no key of its own and holds
# the trust policy tests, so that each revision there carries exactly the
# signatures a test gives it.
. "$top_srcdir/tests/lib/tap.sh"

[ -n "${MINISIGN:-}" ] && [ -x "$MINISIGN" ] ||
    skip_all "minisign not found (apt-get install minisign)"
[ -n "${AIRLOCK:-}" ] && [ -x "$AIRLOCK" ] || skip_all "no airlock binary"

plan 118

A=$T/a
B=$T/b
al() { "$AIRLOCK" --store "$A" "$@"; }
bl() { "$AIRLOCK" --store "$B" "$@"; }
unset AIRLOCK_PASSPHRASE_FILE

# flip LINE COLUMN FILE: FILE with one base64 character of a line changed.
flip() {
	awk -v n="$1" -v p="$2" 'NR == n {
		c = substr($0, p, 1); r = (c == "A") ? "B" : "A"
		$0 = substr($0, 1, p - 1) r substr($0, p + 1)
	} { print }' "$3"
}

# mkpair NAME: an unencrypted minisign key pair $T/NAME.{pub,key}.
mkpair() {
	"$MINISIGN" -G -W -p "$T/$1.pub" -s "$T/$1.key" >/dev/null 2>&1
}

# keyid FILE.pub: the key id, as airlock prints it, of a public key.
keyid() {
	"$AIRLOCK" --store "$T/scratch" trust add "$1" >"$T/.kid" 2>&1 &&
	    awk '{ print $2 }' "$T/.kid"
}

# has WHAT: the output of the last check or fails contains WHAT.
has() {
	if grep -q -- "$2" "$T/.out"; then ok "$1"; else
		diag "no \"$2\" in:"; diag "$(cat "$T/.out")"; not_ok "$1"; fi
}

sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m1" 65536 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m2" 65536 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m3" 65536 >/dev/null
"$AIRLOCK" --store "$T/scratch" init >/dev/null
for k in alice bob carol dave erin; do mkpair "$k"; done
ALICE=$(keyid "$T/alice.pub")
BOB=$(keyid "$T/bob.pub")
CAROL=$(keyid "$T/carol.pub")
DAVE=$(keyid "$T/dave.pub")
ERIN=$(keyid "$T/erin.pub")

# --- store A: its own key, minisign both ways ---------------------------

al init >/dev/null
al add "$T/m1" --repo demo/one >/dev/null
check "a store without keys needs no signatures" al verify demo/one

check "key gen --no-password" al key gen --name daemon --no-password
has "key gen names the key and says it is the default" "(default)"
perms=$(stat -c '%a' "$A/keys" "$A/keys/daemon.key" "$A/keys/daemon.pub" | tr '\n' ' ')
if [ "$perms" = "700 600 644 " ]; then ok "key folder 0700, secret key 0600"
else diag "modes: $perms"; not_ok "key folder 0700, secret key 0600"; fi
fails "key gen refuses to overwrite a key" 2 al key gen --name daemon --no-password
# A key's name is its keyring entry's name: the same limit, 127 bytes.
L=$T/long
"$AIRLOCK" --store "$L" init >/dev/null
LONG=$(printf '%0127d' 0 | tr 0 k)
check "key gen takes a name as long as a keyring entry's" \
    "$AIRLOCK" --store "$L" key gen --name "$LONG" --no-password
fails "key gen refuses a name longer than a keyring entry's" 2 \
    "$AIRLOCK" --store "$L" key gen --name "k$LONG" --no-password
has "key gen says how long a name may be" "is 1 to 127 letters"
DAEMON=$(al --json key ls | sed -n 's/.*"keyid": "\([0-9A-F]*\)".*/\1/p')
check "key ls lists the key" al key ls
has "key ls marks the default key" "^\* daemon *$DAEMON unencrypted trusted"
al key pub >"$T/daemon.pub"
if cmp -s "$T/daemon.pub" "$A/keys/daemon.pub"; then ok "key pub prints the public key file"
else not_ok "key pub prints the public key file"; fi
check "trust ls lists the store's own key" al trust ls
has "the store's own key is trusted for every repository" "^$DAEMON daemon *\* .* trusted"

fails "a revision added before the key fails verify" 1 al verify demo/one
has "verify says the revision is not signed" "not signed"
check "sign with the store's key" al sign demo/one
check "verify passes once signed" al verify demo/one

al add "$T/m2" --repo demo/two >/dev/null
check "add signs a new revision with the default key" al sig demo/two "$DAEMON"
check "verify passes for an added revision" al verify demo/two

# airlock -> minisign
al manifest demo/two >"$T/two.json"
al sig demo/two >"$T/two.minisig"
check "minisign -V accepts airlock's signature of the exported manifest" \
    "$MINISIGN" -V -p "$T/daemon.pub" -m "$T/two.json" -x "$T/two.minisig"
DIGEST2=$(sha256sum "$T/two.json" | cut -d' ' -f1)
has "the trusted comment names the manifest's digest" "digest=sha256:$DIGEST2"
sed 's/"schema"/"schemA"/' "$T/two.json" >"$T/two-bad.json"
fails "minisign -V refuses a manifest with a flipped byte" 1 \
    "$MINISIGN" -V -p "$T/daemon.pub" -m "$T/two-bad.json" -x "$T/two.minisig"

# minisign -> airlock: an approver's key and a signature made offline
check "trust add a key made by minisign -G" al trust add "$T/alice.pub"
has "the name defaults to the file's name" "trusted $ALICE alice scope \*"
al manifest demo/two >"$T/offline.json"
al manifest --comment demo/two >"$T/offline.tc"
"$MINISIGN" -S -s "$T/alice.key" -m "$T/offline.json" -x "$T/alice.minisig" \
    -t "$(cat "$T/offline.tc")" >/dev/null 2>&1
check "attach a signature made by minisign -S" al attach demo/two "$T/alice.minisig"
check "sig prints the attached signature by key id" al sig demo/two "$ALICE"
if al sig demo/two "$ALICE" | cmp -s - "$T/alice.minisig"; then
	ok "the attached signature is stored byte for byte"
else not_ok "the attached signature is stored byte for byte"; fi
fails "sig with several signatures and no key id asks for one" 2 al sig demo/two
has "sig names the key ids to choose from" "$ALICE"
check "show --json lists the signatures" al --json show demo/two
has "show --json gives each signature's key id" "\"keyid\": \"$ALICE\""
has "show --json gives the signer's name" "\"name\": \"alice\""
has "show --json gives the trusted comment" "\"trusted_comment\": \"airlock-manifest"
has "show --json gives the verdict" "\"verdict\": \"trusted\""
check "sign --key with a minisign secret key" al sign demo/one --key "$T/alice.key"
check "sig has the signature by that key" al sig demo/one "$ALICE"

# Tampered and wrong signatures are refused by attach.
flip 2 60 "$T/alice.minisig" >"$T/bad-sig.minisig"
fails "attach refuses a flipped byte in the signature" 1 \
    al attach demo/two "$T/bad-sig.minisig"
has "attach says the signature does not match" "does not match the manifest"
sed '3s/time=/time=1/' "$T/alice.minisig" >"$T/bad-tc.minisig"
fails "attach refuses an altered trusted comment" 1 \
    al attach demo/two "$T/bad-tc.minisig"
has "attach says the trusted comment was altered" "trusted comment or its signature was altered"
flip 4 40 "$T/alice.minisig" >"$T/bad-global.minisig"
fails "attach refuses a flipped byte in the global signature" 1 \
    al attach demo/two "$T/bad-global.minisig"
has "attach says the global signature does not verify" "trusted comment or its signature was altered"
head -n 2 "$T/alice.minisig" >"$T/short.minisig"
fails "attach refuses a truncated signature file" 1 al attach demo/two "$T/short.minisig"
head -c 300 /dev/urandom >"$T/garbage.minisig"
fails "attach refuses garbage" 1 al attach demo/two "$T/garbage.minisig"
has "attach says it is not a signature" "not a minisign signature"
"$MINISIGN" -S -s "$T/alice.key" -m "$T/offline.json" -x "$T/other.minisig" \
    -t "$(al manifest --comment demo/one)" >/dev/null 2>&1
fails "attach refuses a trusted comment that names another manifest" 1 \
    al attach demo/two "$T/other.minisig"
has "attach names the other manifest" "names another manifest"
"$MINISIGN" -S -s "$T/bob.key" -m "$T/offline.json" -x "$T/bob.minisig" \
    -t "$(cat "$T/offline.tc")" >/dev/null 2>&1
fails "attach refuses a signature by a key not in the keyring" 1 \
    al attach demo/two "$T/bob.minisig"
has "attach names the unknown key" "$BOB"
al sig demo/two "$ALICE" >"$T/after.minisig"
if cmp -s "$T/after.minisig" "$T/alice.minisig" &&
    ! al sig demo/two "$BOB" >/dev/null 2>&1; then
	ok "refused signatures change nothing"
else not_ok "refused signatures change nothing"; fi

# Stock minisign's default trusted comment names nothing: the signature
# covers the manifest's bytes, which name the repository and the files.
al add "$T/m3" --repo demo/plain >/dev/null
al manifest demo/plain >"$T/plain.json"
"$MINISIGN" -S -s "$T/alice.key" -m "$T/plain.json" -x "$T/plain.minisig" \
    >/dev/null 2>&1
case $(sed -n 's/^trusted comment: //p' "$T/plain.minisig") in
timestamp:*)	ok "minisign's default trusted comment names no manifest" ;;
*)		not_ok "minisign's default trusted comment names no manifest" ;;
esac
check "attach takes a signature with minisign's default trusted comment" \
    al attach demo/plain "$T/plain.minisig"
has "attach says its trusted comment names nothing" "trusted comment names nothing"
if al sig demo/plain "$ALICE" | cmp -s - "$T/plain.minisig"; then
	ok "it is stored byte for byte"
else not_ok "it is stored byte for byte"; fi
check "show a revision with that signature" al show demo/plain
has "show marks the signature whose comment names nothing" \
    "$ALICE alice *trusted *(trusted comment names nothing: timestamp:"
check "show --json" al --json show demo/plain
has "show --json says the comment names nothing" '"comment_names_nothing": true'
check "trust threshold 2 in A" al trust threshold 2
check "it counts towards the threshold with the store's own signature" \
    al verify demo/plain
check "verify --json" al --json verify demo/plain
has "verify counts two trusted signatures" '"trusted": 2'
"$MINISIGN" -S -s "$T/alice.key" -m "$T/plain.json" -x "$T/plain-other.minisig" \
    -t "$(al manifest --comment demo/two)" >/dev/null 2>&1
fails "attach still refuses minisign -t naming another manifest" 1 \
    al attach demo/plain "$T/plain-other.minisig"
has "attach names the other manifest's digest" "names another manifest: digest=sha256:$DIGEST2"
if al sig demo/plain "$ALICE" | cmp -s - "$T/plain.minisig"; then
	ok "the refused signature changed nothing"
else not_ok "the refused signature changed nothing"; fi

# --- store B: the trust policy --------------------------------------------

bl init >/dev/null
bl add "$T/m3" --repo demo/three >/dev/null
check "trust add alice in B" bl trust add "$T/alice.pub"
fails "a keyring with a key asks for one signature" 1 bl verify demo/three
bl sign demo/three --key "$T/bob.key" >/dev/null 2>&1
fails "a signature by an unknown key does not count" 1 bl verify demo/three
has "verify names the unknown key" "signature by $BOB: unknown key"
check "a signature by a trusted key counts" bl sign demo/three --key "$T/alice.key"
check "verify passes with it" bl verify demo/three
check "trust revoke" bl trust revoke "$ALICE"
fails "a revoked key's signature no longer counts" 1 bl verify demo/three
has "verify names the revoked key" "signature by $ALICE (alice): revoked key"
fails "a revoked key cannot be trusted again" 1 bl trust add "$T/alice.pub"
check "trust ls shows the revocation" bl trust ls
has "trust ls marks the key revoked" "^$ALICE alice .* revoked "
bl trust add "$T/carol.pub" --scope 'other/*' >/dev/null
bl sign demo/three --key "$T/carol.key" >/dev/null 2>&1
fails "a key out of scope does not count" 1 bl verify demo/three
has "verify names the key out of scope" "signature by $CAROL (carol): key out of scope"
check "adding a key again keeps its scope" bl trust add "$T/carol.pub"
has "the key's entry is unchanged" "unchanged $CAROL carol scope other/\*"
bl trust add "$T/dave.pub" --scope 'demo/*' >/dev/null
bl sign demo/three --key "$T/dave.key" >/dev/null
check "a key in scope counts" bl verify demo/three
check "trust threshold 2" bl trust threshold 2
fails "two-person rule: one trusted signature is not enough" 1 bl verify demo/three
has "verify says how many the policy asks for" "1 trusted signature of 4; the policy asks for 2"
bl trust add "$T/erin.pub" >/dev/null
bl sign demo/three --key "$T/erin.key" >/dev/null
check "two-person rule: met with a second key" bl verify demo/three
check "trust threshold prints the policy" bl trust threshold
has "the policy is the threshold set" "^threshold 2:"
bl add "$T/m1" --repo demo/unsigned >/dev/null
check "trust threshold 0" bl trust threshold 0
check "threshold 0: an unsigned revision verifies" bl verify demo/unsigned

# Bad key files change nothing.
head -c 300 /dev/urandom | base64 >"$T/garbage.pub"
head -c 40 "$T/erin.pub" >"$T/short.pub"
fails "trust add refuses a garbage key file" 2 bl trust add "$T/garbage.pub"
fails "trust add refuses a truncated key file" 2 bl trust add "$T/short.pub"
head -c 300 /dev/urandom | base64 >"$T/garbage.key"
head -c 120 "$T/erin.key" >"$T/short.key"
fails "sign --key refuses a garbage key file" 2 \
    bl sign demo/unsigned --key "$T/garbage.key"
fails "sign --key refuses a truncated key file" 2 \
    bl sign demo/unsigned --key "$T/short.key"
if [ "$(bl trust ls | wc -l)" -eq 4 ] &&
    ! bl sig demo/unsigned >/dev/null 2>&1; then
	ok "bad key files change nothing"
else not_ok "bad key files change nothing"; fi

# --- store C: a key is its public key, whatever its id -----------------
# Key ids are not signed: the same Ed25519 key under another id is still
# the same person, revoked or counted once.

C=$T/c
cl() { "$AIRLOCK" --store "$C" "$@"; }
# realias IN OUT ID: IN (a .pub or .minisig) with the key id ID (8 bytes
# of text), the 8 bytes after the 2-byte algorithm of its base64 line.
realias() {
	sed -n 2p "$1" | base64 -d >"$T/.raw"
	{ sed -n 1p "$1"
	  { head -c 2 "$T/.raw"; printf %s "$3"; tail -c +11 "$T/.raw"; } |
	      base64 -w0
	  echo
	  sed -n '3,$p' "$1"; } >"$2"
}
# Those ids read as little-endian u64s, as minisign shows key ids.
ALIAS1=3144495341494C41
ALIAS2=3244495341494C41
cl init >/dev/null
cl add "$T/m1" --repo demo/c >/dev/null
cl manifest demo/c >"$T/c.json"
cl manifest --comment demo/c >"$T/c.tc"
for k in dave erin; do
	cl trust add "$T/$k.pub" >/dev/null
	"$MINISIGN" -S -s "$T/$k.key" -m "$T/c.json" -x "$T/c-$k.minisig" \
	    -t "$(cat "$T/c.tc")" >/dev/null 2>&1
done
realias "$T/dave.pub" "$T/dave-alias.pub" ALIASID1
realias "$T/c-dave.minisig" "$T/c-dave-alias.minisig" ALIASID1
realias "$T/erin.pub" "$T/erin-alias.pub" ALIASID2
realias "$T/c-erin.minisig" "$T/c-erin-alias.minisig" ALIASID2
check "minisign -V: a key id rewritten in both files still verifies" \
    "$MINISIGN" -V -p "$T/dave-alias.pub" -m "$T/c.json" \
    -x "$T/c-dave-alias.minisig"
check "trust threshold 2 in C" cl trust threshold 2
fails "trust add refuses a trusted public key under another id" 1 \
    cl trust add "$T/dave-alias.pub"
has "trust add names the id it is trusted under" \
    "$ALIAS1: its public key is already trusted as key $DAVE (dave)"
check "attach dave's signature" cl attach demo/c "$T/c-dave.minisig"
fails "attach refuses dave's signature under the other id" 1 \
    cl attach demo/c "$T/c-dave-alias.minisig"
fails "one person under two ids does not meet a two-person rule" 1 \
    cl verify demo/c
has "verify counts one trusted signature" "1 trusted signature of 1; the policy asks for 2"
check "trust revoke erin" cl trust revoke "$ERIN"
fails "trust add refuses a revoked public key under another id" 1 \
    cl trust add "$T/erin-alias.pub"
has "trust add says under which id it was revoked" \
    "$ALIAS2: its public key was revoked under id $ERIN (erin)"
fails "attach refuses erin's signature under the other id" 1 \
    cl attach demo/c "$T/c-erin-alias.minisig"
fails "the revoked key does not vouch again" 1 cl verify demo/c
# key ls names a key's standing by its public key too: a .pub whose id
# the keyring does not hold is still the key trusted or revoked under
# another id.
mkdir -m 700 "$C/keys"
cp "$T/dave-alias.pub" "$C/keys/davealias.pub"
cp "$T/erin-alias.pub" "$C/keys/erinalias.pub"
check "key ls lists keys the keyring holds under other ids" cl key ls
has "key ls: trusted under another id is trusted" \
    "^  davealias  *$ALIAS1 missing  *trusted$"
has "key ls: revoked under another id is revoked" \
    "^  erinalias  *$ALIAS2 missing  *revoked$"
if [ "$(cl trust ls | wc -l)" -eq 2 ] && ! cl trust ls | grep -q "$ALIAS1\\|$ALIAS2"; then
	ok "refused keys change nothing"
else diag "$(cl trust ls)"; not_ok "refused keys change nothing"; fi

# --- passphrases (scrypt: a few seconds and 1 GiB each) -----------------

printf 'right horse\nright horse\n' |
    "$MINISIGN" -G -p "$T/enc.pub" -s "$T/enc.key" >/dev/null 2>&1
ENC=$(keyid "$T/enc.pub")
bl trust add "$T/enc.pub" >/dev/null
printf 'wrong horse\n' >"$T/wrong.pass"
printf 'right horse\n' >"$T/right.pass"
fails "a wrong passphrase stops sign" 2 env AIRLOCK_PASSPHRASE_FILE="$T/wrong.pass" \
    "$AIRLOCK" --store "$B" sign demo/unsigned --key "$T/enc.key"
has "sign says the passphrase is wrong" "wrong passphrase"
fails "a wrong passphrase signs nothing" 1 bl sig demo/unsigned "$ENC"
check "airlock decrypts a key that minisign encrypted" env \
    AIRLOCK_PASSPHRASE_FILE="$T/right.pass" \
    "$AIRLOCK" --store "$B" sign demo/unsigned --key "$T/enc.key"
check "key gen with a passphrase" env AIRLOCK_PASSPHRASE_FILE="$T/right.pass" \
    "$AIRLOCK" --store "$B" key gen --name person
printf 'right horse\n' | "$MINISIGN" -S -s "$B/keys/person.key" \
    -m "$T/offline.json" -x "$T/person.minisig" >/dev/null 2>&1
check "minisign decrypts a key that airlock encrypted" \
    "$MINISIGN" -V -p "$B/keys/person.pub" -m "$T/offline.json" \
    -x "$T/person.minisig"
