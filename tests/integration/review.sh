#!/bin/sh
# airlock review: a person's licence conclusion signed with their key (a
# key made by Debian's minisign) over the manifest, the statement in the
# trusted comment.  Stock minisign -V verifies it and refuses it once
# tampered, as airlock attach does; licence and show list it; it travels in
# a bundle and through a mirror chain, and at the receiving store's gate a
# trusted review lets a revision through that the policy refuses without
# it, while a bundle without one is refused with the store unchanged (ls,
# stats, data file) and a chained pull before its weights move.
. "$top_srcdir/tests/lib/tap.sh"

MINISIGN=${MINISIGN:-minisign}
command -v "$MINISIGN" >/dev/null 2>&1 ||
    skip_all "minisign not found (apt-get install minisign)"
command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"

plan 22

A=$T/A
B=$T/B
a() { "$AIRLOCK" --store "$A" "$@"; }
b() { "$AIRLOCK" --store "$B" "$@"; }

mkllama() {
	sh "$top_srcdir/tests/lib/mkmodel.sh" "$1" 200000 >/dev/null
	python3 - "$1/README.md" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read().replace("license: apache-2.0", "license: llama3.1")
open(p, "w").write(s)
PY
}
mkllama "$T/ft"
mkllama "$T/other"
printf 'other\n' >>"$T/other/config.json"

check "A: init, key, two Llama fine-tunes" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password --name alice >/dev/null &&
    '$AIRLOCK' --store '$A' add '$T/ft' --repo acme/llamaft &&
    '$AIRLOCK' --store '$A' add '$T/other' --repo acme/other"
a key pub alice >"$T/alice.pub"
# The reviewer's key is minisign's own, without a password.
"$MINISIGN" -G -W -p "$T/rev.pub" -s "$T/rev.key" >/dev/null 2>&1
"$MINISIGN" -G -W -p "$T/stranger.pub" -s "$T/stranger.key" >/dev/null 2>&1
check "A trusts the reviewer's minisign key" \
    a trust add "$T/rev.pub" --name reviewer --scope '*'

check "review --licence --note --key" a --json review acme/llamaft \
    --licence apache-2.0 --note "relicensed by the licensor, mail of 2026-11-30" \
    --key "$T/rev.key"
kid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["keyid"])' "$T/.out")
fails "review of a licence the table lacks is a usage error" 2 \
    a review acme/llamaft --licence no-such-licence --key "$T/rev.key"

a --json licence acme/llamaft >"$T/licence.json"
check "licence --json lists the review, trusted" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
r = [r for r in c["reviews"] if r["keyid"] == sys.argv[2]]
assert len(r) == 1, c["reviews"]
assert r[0]["licence"] == "apache-2.0" and r[0]["trusted"] is True, r
assert r[0]["note"].startswith("relicensed"), r' "$T/licence.json" "$kid"
check "show lists it" sh -c "'$AIRLOCK' --store '$A' show acme/llamaft |
    grep -q '^reviews .*apache-2.0 by reviewer'"

a manifest acme/llamaft >"$T/manifest.json"
a sig acme/llamaft "$kid" >"$T/review.minisig"
check "stock minisign -V verifies the review over the manifest" \
    "$MINISIGN" -V -p "$T/rev.pub" -m "$T/manifest.json" -x "$T/review.minisig"
check "and its trusted comment is the statement, naming the digest" sh -c "
    grep '^trusted comment: airlock-manifest' '$T/review.minisig' |
    grep -q 'review={\"_type\":\"https://in-toto.io/Statement/v1\"' &&
    grep '^trusted comment:' '$T/review.minisig' |
    grep -q \"\$(sha256sum '$T/manifest.json' | cut -c1-64)\""

sed 's/"licence":"apache-2.0"/"licence":"mit"/' "$T/review.minisig" \
    >"$T/tampered.minisig"
check "the tampered copy differs" sh -c "! cmp -s '$T/review.minisig' '$T/tampered.minisig'"
fails "minisign -V refuses the tampered review" 1 \
    "$MINISIGN" -V -p "$T/rev.pub" -m "$T/manifest.json" -x "$T/tampered.minisig"
fails "airlock attach refuses it too" 1 \
    a attach acme/llamaft "$T/tampered.minisig"
a --json licence acme/llamaft >"$T/licence2.json"
check "and the review kept is the one signed" cmp "$T/licence.json" "$T/licence2.json"

# A review by a key nobody trusts is listed as such and counts for nothing.
a review acme/other --licence apache-2.0 --key "$T/stranger.key" >/dev/null
a --json licence acme/other >"$T/licence.other.json"
check "a review by an unknown key is not listed as a trusted one" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
assert all(r["trusted"] is False for r in c["reviews"]), c["reviews"]' \
    "$T/licence.other.json"

# Across the air gap, to a store whose policy denies Llama terms.
b init >/dev/null
b trust add "$T/alice.pub" --name alice >/dev/null
b trust add "$T/rev.pub" --name reviewer --scope '*' >/dev/null
printf 'deny: [llama3.1]\n' >"$T/policy.yaml"
b policy set "$T/policy.yaml" >/dev/null
a export acme/other -o "$T/other.bundle" >/dev/null
a export acme/llamaft -o "$T/ft.bundle" >/dev/null
b ls >"$T/ls.before"; b --json stats >"$T/stats.before"
sum0=$(sha256sum "$B/data.mdb" | cut -c1-64)
fails "import of a denied licence reviewed by no trusted key exits 1" 1 \
    b import "$T/other.bundle"
cp "$T/.out" "$T/import.err"
check "saying why" grep -q "llama3.1 is denied" "$T/import.err"
b ls >"$T/ls.after"; b --json stats >"$T/stats.after"
check "the store is unchanged (ls, stats, its data file)" sh -c "
    cmp '$T/ls.before' '$T/ls.after' && cmp '$T/stats.before' '$T/stats.after' &&
    test \"\$(sha256sum '$B/data.mdb' | cut -c1-64)\" = '$sum0'"
check "the reviewed one imports: the trusted review lets it through" \
    b import "$T/ft.bundle"
b --json licence acme/llamaft >"$T/licence.B.json"
check "and its review came with it, trusted there too" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
r = [r for r in c["reviews"] if r["keyid"] == sys.argv[2]]
assert len(r) == 1 and r[0]["trusted"] is True and r[0]["licence"] == "apache-2.0", c["reviews"]
' "$T/licence.B.json" "$kid"

# Through a mirror chain: an airlockd upstream (store A), store C pulls.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT
HF_HOME=$T/hf; export HF_HOME
C=$T/C
c() { "$AIRLOCK" --store "$C" "$@"; }
c init >/dev/null
c trust add "$T/rev.pub" --name reviewer --scope '*' >/dev/null
c policy set "$T/policy.yaml" >/dev/null
start_daemon "$A"
body_bytes() {
	curl -sf "$URL/metrics" | sed -n 's/^airlockd_body_bytes_total //p'
}
b0=$(body_bytes)
fails "a chained pull of the unreviewed one is refused" 1 \
    c pull acme/other --from "$URL"
b1=$(body_bytes)
check "before its weights moved ($((b1 - b0)) body bytes < 200000)" \
    test $((b1 - b0)) -lt 200000
check "the reviewed one pulls through the chain" c pull acme/llamaft --from "$URL"
c --json licence acme/llamaft >"$T/licence.C.json"
check "with its review, trusted in C" python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
r = [r for r in c["reviews"] if r["keyid"] == sys.argv[2]]
assert len(r) == 1 and r[0]["trusted"] is True and r[0]["licence"] == "apache-2.0", c["reviews"]
' "$T/licence.C.json" "$kid"
stop_daemon
