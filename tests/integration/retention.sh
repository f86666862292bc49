#!/bin/sh
# Names that never move and names that go: tags (a second tag of the name
# on another revision refused, naming both; the same again a no-op; listed
# as tags by ls and /v1/refs); rm of a branch and of a repository (its
# tags and commit ids only with --force, in the reflog with who and why,
# read back with LMDB's own mdb_dump), which a running airlockd stops
# serving at once; gc --keep-last N, which lets a branch's older revisions
# go unless a tag or a pin keeps them.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v mdb_dump >/dev/null 2>&1 || skip_all "mdb_dump (lmdb-utils) is not installed"
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

plan 44

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
# rev N: a model whose weights differ in each revision (its own blob).
rev() {
	mkdir -p "$T/m$1"
	printf '{"rev": %d}\n' "$1" >"$T/m$1/config.json"
	head -c 300000 /dev/urandom >"$T/m$1/model.safetensors"
	al add "$T/m$1" --repo acme/ret | sed 's/^[^@]*@\([0-9a-f]*\) .*/\1/'
}
status() { curl -s -o /dev/null -w '%{http_code}' "$URL$1"; }

al init >/dev/null
C1=$(rev 1)
C2=$(rev 2)
check "two revisions of acme/ret" test -n "$C1" -a -n "$C2"

# --- tags ---------------------------------------------------------------
check "tag acme/ret@$C1 v1" al tag "acme/ret@$C1" v1
check "the same tag again is a no-op" al tag "acme/ret@$C1" v1
last_output | grep -q 'already tagged' && ok "  and says so" ||
    not_ok "  and says so"
fails "v1 on another revision is refused" 1 al tag acme/ret@main v1
last_output | grep -q "$C1" && last_output | grep -q "$C2" &&
    ok "  naming both commits" || { diag "$(last_output)"; not_ok "  naming both commits"; }
got=$(al show acme/ret@v1 | sed -n 's/^commit *//p')
check "  and v1 still names $C1" test "$got" = "$C1"
fails "add --revision v1 cannot move the tag" 1 al add "$T/m2" --repo acme/ret --revision v1
fails "a tag may not take a branch's name" 2 al tag "acme/ret@$C1" main
al ls >"$T/ls"
check "ls lists v1 as a tag and main as a branch" sh -c \
    "grep -Eq '^model +acme/ret +v1 +tag ' '$T/ls' && grep -Eq '^model +acme/ret +main +branch ' '$T/ls'"
check "show says v1 is a tag" sh -c "'$AIRLOCK' --store '$S' show acme/ret@v1 | grep -q '^refs *v1 (tag)\$'"
al --json ls >"$T/ls.json"
check "ls --json says kind tag" python3 -c "
import json, sys
refs = {r['ref']: r['kind'] for r in json.load(open('$T/ls.json'))}
sys.exit(refs != {'main': 'branch', 'v1': 'tag'})"

check "airlockd starts" start_daemon "$S"
curl -sf "$URL/v1/refs/model/acme/ret" >"$T/refs.json"
check "/v1/refs says v1 is a tag, main a branch, the ids commits" python3 -c "
import json, sys
kinds = {r['name']: r['kind'] for r in json.load(open('$T/refs.json'))}
sys.exit(kinds != {'main': 'branch', 'v1': 'tag', '$C1': 'commit', '$C2': 'commit'})"

# --- rm, with airlockd serving ------------------------------------------
check "revision main is served" test "$(status /api/models/acme/ret/revision/main)" = 200
check "rm acme/ret@main" al rm acme/ret@main --reason "main is retired"
check "  airlockd stops serving main at once (404)" \
    test "$(status /api/models/acme/ret/revision/main)" = 404
check "  and still serves the tag" \
    test "$(status /api/models/acme/ret/revision/v1)" = 200
fails "rm of a tag without --force is refused" 1 al rm acme/ret@v1
fails "rm of a commit id without --force is refused" 1 al rm "acme/ret@$C2"
check "rm of the repository without --force keeps tags and commit ids" al rm acme/ret
last_output | grep -q 'kept 1 tags and 2 commit ids' && ok "  and says what it kept" ||
    { diag "$(last_output)"; not_ok "  and says what it kept"; }
check "rm --force deletes the rest" al rm --force acme/ret --reason "licence withdrawn"
check "  airlockd answers 404 for the repository at once" \
    test "$(status /api/models/acme/ret/revision/$C1)" = 404
mdb_dump -p -s reflog "$S" >"$T/reflog"
check "the reflog says who deleted it and why" sh -c \
    "grep -q '\"who\":\"$(id -un)\"' '$T/reflog' && grep -q 'rm --force: licence withdrawn' '$T/reflog' && grep -q 'rm: main is retired' '$T/reflog'"
stop_daemon
al gc >"$T/gc"
check "gc reclaims both revisions" grep -q '^removed 2 revisions, 4 blobs' "$T/gc"

# --- gc --keep-last -----------------------------------------------------
K1=$(rev 1)
K2=$(rev 2)
K3=$(rev 3)
K4=$(rev 4)
al tag "acme/ret@$K2" kept >/dev/null
al pin "acme/ret@$K1" --name deploy >/dev/null
al gc >"$T/gc"
check "plain gc keeps every revision a commit id names" grep -q '^removed 0 revisions' "$T/gc"
al --json gc --keep-last 1 --dry-run >"$T/dry.json"
check "gc --keep-last 1 --dry-run would let one revision go (the pin and the tag keep two)" \
    python3 -c "
import json, sys
r = json.load(open('$T/dry.json'))
sys.exit(not (r['dry_run'] and r['revisions'] == 1 and r['commits'] == 1))"
check "  and deletes nothing" al show "acme/ret@$K3"
al gc --keep-last 2 >"$T/gc"
check "gc --keep-last 2 keeps main's last two" grep -q '^removed 0 revisions' "$T/gc"
al gc --keep-last 1 >"$T/gc"
check "gc --keep-last 1 removes the third" grep -q "^removed 1 revisions, 2 blobs" "$T/gc"
fails "  whose commit id is gone" 1 al show "acme/ret@$K3"
check "  the pinned, the tagged and the head remain" sh -c \
    "'$AIRLOCK' --store '$S' show acme/ret@$K1 >/dev/null && '$AIRLOCK' --store '$S' show acme/ret@kept >/dev/null && '$AIRLOCK' --store '$S' show acme/ret@main | grep -q $K4"
check "verify --all passes after it" al verify --all

# --- bad input ----------------------------------------------------------
fails "rm of a repository that is not there" 1 al rm acme/nothing
fails "rm of a branch that is not there" 1 al rm acme/ret@nope
fails "rm of a digest is a usage error" 2 al rm "acme/ret@sha256:$(printf %064d 0)"
fails "gc --keep-last -1 is a usage error" 2 al gc --keep-last -1
fails "gc --keep-last x is a usage error" 2 al gc --keep-last x
fails "a tag shaped like a commit id is refused" 2 al tag acme/ret@main "$K1"
fails "tag without @REV is a usage error" 2 al tag acme/ret v9
fails "tag of a revision that is not there" 1 al tag acme/ret@nope v9
fails "rm --reason of more than 1024 bytes is a usage error" 2 \
    al rm acme/ret --reason "$(printf '%01100d' 0)"
check "  and main is still there" al show acme/ret@main
