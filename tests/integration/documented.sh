#!/bin/sh
# What airlock(1) promises that no other test checked: adding a .tar.xz,
# pins with notes, where the default store is, a key whose id another key
# in the keyring has, a failed checkout leaving nothing, split bundles with
# every volume named, and verify finding a stored git sha1 that is wrong
# while every sha256 is right.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
m=$T/model
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 30000 >/dev/null
check "init" al init

# --- .tar.xz -----------------------------------------------------------------
(cd "$T" && tar cJf model.tar.xz model)
check "add a .tar.xz of the folder" al add "$T/model.tar.xz" --repo acme/xz
check "  its checkout is the folder" al checkout acme/xz "$T/xz"
check "  byte for byte" diff -r "$m" "$T/xz"
(cd "$m" && tar cJf "$T/flat.tar.xz" .)
check "add a .tar.xz without a top folder" al add "$T/flat.tar.xz" --repo acme/xz
last_output | grep -q "^acme/xz@" && ok "  the same revision, as the same files" ||
    { diag "$(last_output)"; not_ok "  the same revision, as the same files"; }
printf 'not xz at all' >"$T/bad.tar.xz"
fails "a broken .tar.xz is refused" 2 al add "$T/bad.tar.xz" --repo acme/badxz
al ls | grep -q acme/badxz && not_ok "  and adds nothing" || ok "  and adds nothing"

# --- pin --note, pins ----------------------------------------------------------
digest=$(al --json show acme/xz | sed -n 's/^  "digest": "\(sha256:[0-9a-f]*\)",$/\1/p')
check "pin with a note" al pin acme/xz@main --name prod --note "rolled out 2026-12-01"
check "pin without a name" al pin acme/xz@main
check "pins" al pins
short=$(echo "$digest" | cut -c1-19)	# pins shows sha256: and 12 digits
last_output | grep -q "^prod  *model/acme/xz@main  *$short .* rolled out 2026-12-01\$" &&
    ok "  prod: the target, the digest and the note" ||
    { diag "$(last_output)"; not_ok "  prod: the target, the digest and the note"; }
last_output | grep -q "^acme/xz@main  *model/acme/xz@main " &&
    ok "  a pin is named by its argument by default" ||
    not_ok "  no pin named acme/xz@main"
check "pins --json" al --json pins
last_output | python3 -c 'import json, sys
p = json.load(sys.stdin)
prod = [x for x in p if x["name"] == "prod"]
sys.exit(not (len(p) == 2 and len(prod) == 1 and
    prod[0]["note"] == "rolled out 2026-12-01" and
    prod[0]["digest"] == sys.argv[1] and
    prod[0]["target"] == "model/acme/xz@main"))' "$digest" &&
    ok "  with the note" || { diag "$(last_output)"; not_ok "  with the note"; }
check "unpin" al unpin prod
al pins | grep -q '^prod ' && not_ok "  prod is still listed" || ok "  prod is gone"

# --- the default store -------------------------------------------------------
# Without --store: $AIRLOCK_STORE, else $XDG_DATA_HOME/airlock (if it is an
# absolute path), else ~/.local/share/airlock.
store_of() { python3 -c 'import json, sys; print(json.load(sys.stdin)["store"])'; }
where() { env -u AIRLOCK_STORE -u XDG_DATA_HOME HOME="$T/home" "$@" \
    "$AIRLOCK" --json stats | store_of; }
mkdir -p "$T/home"
check "init in HOME" env -u AIRLOCK_STORE -u XDG_DATA_HOME HOME="$T/home" \
    "$AIRLOCK" init
check "  it is ~/.local/share/airlock" test -f "$T/home/.local/share/airlock/data.mdb"
check "  and found there" test "$(where)" = "$T/home/.local/share/airlock"
check "init with XDG_DATA_HOME" env -u AIRLOCK_STORE HOME="$T/home" \
    XDG_DATA_HOME="$T/xdg" "$AIRLOCK" init
check "  it is \$XDG_DATA_HOME/airlock" test -f "$T/xdg/airlock/data.mdb"
check "  and found there" test "$(where XDG_DATA_HOME="$T/xdg")" = "$T/xdg/airlock"
check "  a relative XDG_DATA_HOME is not used" \
    test "$(cd "$T" && where XDG_DATA_HOME=xdg)" = "$T/home/.local/share/airlock"
check "init with AIRLOCK_STORE" env HOME="$T/home" XDG_DATA_HOME="$T/xdg" \
    AIRLOCK_STORE="$T/env" "$AIRLOCK" init
check "  it is \$AIRLOCK_STORE, before XDG_DATA_HOME" \
    test "$(where XDG_DATA_HOME="$T/xdg" AIRLOCK_STORE="$T/env")" = "$T/env"
check "  and --store before it" test "$(env AIRLOCK_STORE="$T/env" \
    "$AIRLOCK" --store "$S" --json stats | store_of)" = "$S"

# --- a key id clash ------------------------------------------------------------
check "two keys" sh -c "'$AIRLOCK' --store '$T/k1' init && '$AIRLOCK' --store '$T/k1' key gen --no-password &&
    '$AIRLOCK' --store '$T/k2' init && '$AIRLOCK' --store '$T/k2' key gen --no-password"
al_k() { "$AIRLOCK" --store "$T/$1" key pub >"$T/$1.pub"; }
al_k k1 && al_k k2
# k2's public key under k1's key id: "Ed", 8 bytes of id, 32 of key.
{ sed -n 1p "$T/k1.pub"
  { sed -n 2p "$T/k1.pub" | base64 -d | head -c 10
    sed -n 2p "$T/k2.pub" | base64 -d | tail -c 32; } | base64 -w0; echo; } >"$T/clash.pub"
kr() { "$AIRLOCK" --store "$T/k3" "$@"; }
check "trust the first" sh -c "'$AIRLOCK' --store '$T/k3' init &&
    '$AIRLOCK' --store '$T/k3' trust add '$T/k1.pub' --name one"
kr trust ls >"$T/ls.before"
fails "another key with its id is refused" 1 kr trust add "$T/clash.pub" --name two
last_output | grep -q "belongs to another key in the keyring (one)" &&
    ok "  naming the key it clashes with" ||
    { diag "$(last_output)"; not_ok "  naming the key it clashes with"; }
kr trust ls >"$T/ls.after"
check "  and the keyring is as it was" cmp "$T/ls.before" "$T/ls.after"
check "  the first key is trusted again, unchanged" kr trust add "$T/k1.pub"

# --- a failed checkout leaves nothing --------------------------------------------
# Rot one chunk of model.safetensors (one chunk: its key is the file's
# sha256), which is written after LICENSE, README.md, config.json...
sha=$(sha256sum <"$m/model.safetensors" | cut -d' ' -f1)
mdb_dump -s chunk "$S" >"$T/chunk.dump" &&
awk -v k=" $sha" '
    hit { $0 = substr($0, 1, 101) (substr($0, 102, 1) == "0" ? "1" : "0") substr($0, 103); hit = 0 }
    $0 == k { hit = 1 } { print }' "$T/chunk.dump" >"$T/chunk.bad" &&
    ! cmp -s "$T/chunk.dump" "$T/chunk.bad" && mdb_load -s chunk -f "$T/chunk.bad" "$S" 2>/dev/null
check "rot a chunk" test $? -eq 0
mkdir "$T/co"
fails "checkout over a rotten chunk fails the check" 1 al checkout acme/xz "$T/co/out"
last_output | grep -q "model.safetensors" && ok "  naming the file" ||
    { diag "$(last_output)"; not_ok "  naming the file"; }
check "  and leaves nothing, no partial files, no temporary folder" \
    test -z "$(ls -A "$T/co")"
mkdir "$T/co/empty"
fails "into an empty folder too" 1 al checkout acme/xz "$T/co/empty"
check "  which stays empty" test -z "$(ls -A "$T/co/empty")"
check "  and nothing beside it" test "$(ls -A "$T/co")" = empty
# Put it back for the tests below.
mdb_load -s chunk -f "$T/chunk.dump" "$S" 2>/dev/null
check "verify after the repair" al verify --all

# --- a git sha1 that is wrong while every sha256 is right ----------------------
# git's blob id, by hand: sha1 of "blob SIZE\0" and the bytes.
g=$({ printf 'blob %s\000' "$(stat -c %s "$m/config.json")"; cat "$m/config.json"; } |
    sha1sum | cut -d' ' -f1)
bad=$(echo "$g" | awk '{ c = substr($0, 1, 1); print (c == "0" ? "1" : "0") substr($0, 2) }')
mdb_dump -s blob "$S" >"$T/blob.dump" &&
sed "s/$g/$bad/" "$T/blob.dump" >"$T/blob.bad" &&
    ! cmp -s "$T/blob.dump" "$T/blob.bad" && mdb_load -s blob -f "$T/blob.bad" "$S" 2>/dev/null
check "rewrite config.json's git sha1 in its blob record" test $? -eq 0
fails "verify --all fails" 1 al verify --all
last_output | grep -q "config.json: git sha1" && ok "  naming the file and the git sha1" ||
    { diag "$(last_output)"; not_ok "  naming the file and the git sha1"; }
fails "verify of the revision fails" 1 al verify acme/xz
mdb_load -s blob -f "$T/blob.dump" "$S" 2>/dev/null
check "verify passes with the record put back" al verify --all

# --- split bundles, every volume named -----------------------------------------
S=$T/A
B=$T/B
b() { "$AIRLOCK" --store "$B" "$@"; }
head -c 2500000 /dev/urandom >"$m/weights.bin"
check "A: a key and a signed revision of 2.5 MB" sh -c "'$AIRLOCK' --store '$S' init &&
    '$AIRLOCK' --store '$S' key gen --no-password &&
    '$AIRLOCK' --store '$S' add '$m' --repo acme/split"
check "export in 1 MiB volumes" al export acme/split -o "$T/v" --split 1M
check "  three of them" test -f "$T/v.003" -a ! -f "$T/v.004"
check "B: init and trust" sh -c "'$AIRLOCK' --store '$B' init &&
    '$AIRLOCK' --store '$S' key pub | '$AIRLOCK' --store '$B' trust add - --name s"
state() { sha256sum "$B/data.mdb" | cut -c1-64; }
before=$(state)
fails "volumes named in the wrong order are refused" 2 b import "$T/v.001" "$T/v.003" "$T/v.002"
last_output | grep -q "v.003" && ok "  naming the volume" ||
    { diag "$(last_output)"; not_ok "  naming the volume"; }
fails "a volume left out of the names is refused" 2 b import "$T/v.001" "$T/v.003"
fails "another file named as a volume is refused" 2 b import "$T/v.001" "$T/model.tar.xz"
fails "two bundles named at once are refused" 2 b import "$T/v.001" "$T/flat.tar.xz"
check "  and B is as it was" test "$(state)" = "$before"
check "all volumes named in order: imported" b import "$T/v.001" "$T/v.002" "$T/v.003"
check "  verify --all" b verify --all
check "  checkout" b checkout acme/split "$T/split"
check "  byte for byte" diff -r "$m" "$T/split"
done_testing
