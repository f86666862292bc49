#!/bin/sh
# airlock pull from the fake Hub (tests/lib/fakehub.py), the protocol of
# MIRROR.md: the revision's commit kept, every tree page followed, the
# 307 (relative) and 302 (absolute, to the CDN) redirects followed by
# hand, Accept-Encoding: identity, the card and the licence first, Xet
# headers ignored, the token never sent to the CDN, an expired signed URL
# resolved again, gated and private repositories with and without their
# token (exit 1 with the upstream's words), --include/--exclude making a
# partial revision whose manifest says so, and a dataset.  Expected hashes
# come from sha256sum and git hash-object, what was asked from the fake's
# own record of every request.
. "$top_srcdir/tests/lib/tap.sh"
. "$top_srcdir/tests/lib/fakehub.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v git >/dev/null 2>&1 || skip_all "git is not installed"

unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
unset HF_TOKEN AIRLOCK_UPSTREAM HF_ENDPOINT
HF_HOME=$T/hf; export HF_HOME
AIRLOCK_RETRY_BACKOFF=100; export AIRLOCK_RETRY_BACKOFF

M=$T/model
sh "$top_srcdir/tests/lib/mkmodel.sh" "$M" 2000000 >/dev/null
mkdir -p "$M/onnx" "$T/gated" "$T/private" "$T/data/train"
printf 'onnx bytes\n' >"$M/onnx/model.onnx"
cp -R "$M/." "$T/gated/"
cp -R "$M/." "$T/private/"
printf -- '---\nlicense: cc-by-4.0\n---\n# corpus\n' >"$T/data/README.md"
printf 'a,b\n1,2\n' >"$T/data/train/part-0.csv"
python3 -c 'import os, sys; open(sys.argv[1], "wb").write(os.urandom(500000))' \
    "$T/data/train/part-0.parquet"
cat >"$T/spec.json" <<EOF
{"page_size": 3, "repos": [
 {"type": "model", "id": "org/tiny", "dir": "$M"},
 {"type": "model", "id": "org/gated", "dir": "$T/gated", "gated": true,
  "tokens": {"hf_approved": "approved", "hf_pending": "pending"}},
 {"type": "model", "id": "org/private", "dir": "$T/private", "private": true,
  "tokens": {"hf_owner": "approved"}},
 {"type": "dataset", "id": "org/corpus", "dir": "$T/data"}]}
EOF
printf 'hf_approved\n' >"$T/approved.token"
printf 'hf_pending\n' >"$T/pending.token"
printf 'hf_owner\n' >"$T/owner.token"

check "the fake Hub starts" start_fakehub --spec "$T/spec.json"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
fresh() { rm -rf "$S"; "$AIRLOCK" --store "$S" init >/dev/null && hub_clear; }
pull_ok() { check "$@"; cp "$T/.out" "$T/pull.out"; }
pull_fails() { fails "$@"; cp "$T/.out" "$T/pull.out"; }
said() { grep -q -- "$1" "$T/pull.out" || { cat "$T/pull.out"; return 1; }; }
commit_of() { hub_stats "d[\"commits\"][\"$1\"]"; }
# The manifest's value of a Python expression of m (the manifest).
manifest() {
	al manifest "$1" | python3 -c 'import json, sys
m = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$2"
}

# --- the whole protocol, no fault ----------------------------------------------
fresh
pull_ok "pull org/tiny" al pull org/tiny --from "$HUB"
commit=$(commit_of model/org/tiny)
check "  it prints ORG/NAME@COMMIT sha256:DIGEST with the upstream's commit" \
    grep -Eq "^org/tiny@$commit sha256:[0-9a-f]{64}\$" "$T/pull.out"
check "  verify --all passes" al verify --all
check "  the checkout is the folder" sh -c \
    "'$AIRLOCK' --store '$S' checkout org/tiny '$T/co' && diff -r '$M' '$T/co'"
check "  the manifest's sha256 of model.safetensors is sha256sum's" test \
    "$(manifest org/tiny '[f["sha256"] for f in m["files"] if f["path"] == "model.safetensors"][0]')" = \
    "$(sha256sum "$M/model.safetensors" | cut -d' ' -f1)"
check "  the manifest's git sha1 of config.json is git hash-object's" test \
    "$(manifest org/tiny '[f["git_sha1"] for f in m["files"] if f["path"] == "config.json"][0]')" = \
    "$(git hash-object "$M/config.json")"
check "  the source is the upstream, main and its commit" test \
    "$(manifest org/tiny 'm["source"]["upstream"], m["source"]["revision"], m["source"]["commit"]')" = \
    "('$HUB', 'main', '$commit')"
pages=$(python3 -c 'import sys; print(-(-int(sys.argv[1]) // 3))' \
    "$(cd "$M" && { find . -type f; find . -mindepth 1 -type d; } | wc -l)")
check "  every page of the tree ($pages of 3 entries) was read" test \
    "$(hub_stats 'len([r for r in d["requests"] if (r["file"] or "").startswith("tree:")])')" -eq "$pages"
check "  the card and the licence were fetched first" test \
    "$(hub_stats 'order()[:2]')" = "['README.md', 'LICENSE']"
check "  non-LFS files by a relative 307 to resolve-cache" test \
    "$(hub_stats '[r["status"] for r in reqs("config.json")]')" = "[307, 200]"
check "  LFS files by a 302 to the CDN, once" test \
    "$(hub_stats '[(r["host"], r["status"]) for r in reqs("model.safetensors")]')" = \
    "[('hub', 302), ('cdn', 200)]"
check "  every request sent Accept-Encoding: identity and airlock's User-Agent" test \
    "$(hub_stats 'all(r["accept_encoding"] == "identity" and r["user_agent"].startswith("airlock/") for r in d["requests"] if r["path"] != "/_stats" and not r["path"].startswith("/_"))')" = True
check "  the Xet headers were ignored: no request to a Xet URL" test \
    "$(hub_stats 'len([r for r in d["requests"] if "xet" in r["path"]])')" -eq 0

# --- an expired signed URL ---------------------------------------------------------
fresh
hub_fault '{"kind": "expire", "path": "model.safetensors"}'
pull_ok "a signed CDN URL that has expired: resolved again, the pull succeeds" \
    al pull org/tiny --from "$HUB"
check "  verify --all passes" al verify --all
check "  the CDN said 403, then the file was resolved again and came" test \
    "$(hub_stats '[(r["host"], r["status"]) for r in reqs("model.safetensors")]')" = \
    "[('hub', 302), ('cdn', 403), ('hub', 302), ('cdn', 200)]"

# --- gated -------------------------------------------------------------------------
fresh
pull_fails "a gated repository without a token: exit 1" 1 \
    al pull org/gated --from "$HUB"
check "  saying it is gated" said "gated"
check "  in the upstream's words" said "You must have access to it and be authenticated"
check "  nothing was committed" sh -c "! '$AIRLOCK' --store '$S' show org/gated"
check "  and no weights were asked for (the card came first)" test \
    "$(hub_stats 'len(reqs("model.safetensors"))')" -eq 0

fresh
pull_fails "a gated repository with a token not approved: exit 1" 1 \
    al pull org/gated --from "$HUB" --token-file "$T/pending.token"
check "  in the upstream's words" said "not in the authorized list"

fresh
pull_ok "a gated repository with an approved token (--token-file)" \
    al pull org/gated --from "$HUB" --token-file "$T/approved.token"
check "  verify --all passes" al verify --all
check "  the token went to the Hub" test \
    "$(hub_stats 'all(r["auth"] for r in d["requests"] if r["host"] == "hub" and not r["path"].startswith("/_"))')" = True
check "  and never to the CDN" test \
    "$(hub_stats 'd["cdn_auth"] + len([r for r in d["requests"] if r["host"] == "cdn" and r["auth"]])')" -eq 0
check "  the CDN served the weights" test \
    "$(hub_stats '[r["status"] for r in reqs("model.safetensors") if r["host"] == "cdn"]')" = "[200]"

# --- private -----------------------------------------------------------------------
fresh
pull_fails "a private repository without a token: exit 1" 1 \
    al pull org/private --from "$HUB"
check "  saying it needs a token" said "needs a token"
check "  in the upstream's words" said "Repository not found"
fresh
HF_TOKEN=hf_owner; export HF_TOKEN
pull_ok "a private repository with its token (\$HF_TOKEN)" \
    al pull org/private --from "$HUB"
unset HF_TOKEN
check "  the checkout is the folder" sh -c \
    "'$AIRLOCK' --store '$S' checkout org/private '$T/co.p' && diff -r '$T/private' '$T/co.p'"
check "  the token never went to the CDN" test "$(hub_stats 'd["cdn_auth"]')" -eq 0

# --- --include / --exclude -----------------------------------------------------------
fresh
pull_ok "pull --include '*.json' --exclude 'tokenizer*'" \
    al pull org/tiny --from "$HUB" --include '*.json' --exclude 'tokenizer*'
want=$(cd "$M" && for f in *.json; do case $f in tokenizer*) ;; *) echo "$f" ;; esac; done;
    echo LICENSE; echo README.md)
want=$(echo "$want" | sort | tr '\n' ' ')
got=$(manifest org/tiny '" ".join(sorted(f["path"] for f in m["files"]))')
check "  the revision holds the chosen files, the card and the licence ($want)" \
    test "$got " = "$want"
check "  its manifest says it is partial: source.include and source.exclude" test \
    "$(manifest org/tiny 'm["source"].get("include"), m["source"].get("exclude")')" = \
    "(['*.json'], ['tokenizer*'])"
check "  its commit id is its own: the upstream's names the whole revision" \
    sh -c "! grep -q '@$commit ' '$T/pull.out' && grep -Eq '^org/tiny@[0-9a-f]{40} ' '$T/pull.out'"
check "  the card and the licence were fetched first" test \
    "$(hub_stats 'order()[:2]')" = "['README.md', 'LICENSE']"
check "  no other file was asked for" test \
    "$(hub_stats 'len(reqs("model.safetensors")) + len(reqs("tokenizer.json"))')" -eq 0
check "  verify --all passes" al verify --all
pull_ok "  the whole revision after it" al pull org/tiny --from "$HUB"
check "  is the upstream's commit" grep -Eq "^org/tiny@$commit sha256:" "$T/pull.out"
check "  and holds every file" test "$(manifest org/tiny 'len(m["files"])')" -eq \
    "$(cd "$M" && find . -type f | wc -l)"
check "  with no include or exclude in its source" test \
    "$(manifest org/tiny '"include" in m["source"] or "exclude" in m["source"]')" = False

# --- a dataset -----------------------------------------------------------------------
fresh
pull_ok "pull --type dataset org/corpus" \
    al pull org/corpus --type dataset --from "$HUB"
check "  it prints datasets/org/corpus@COMMIT" \
    grep -Eq "^datasets/org/corpus@$(commit_of dataset/org/corpus) sha256:" "$T/pull.out"
check "  through /api/datasets/ and /datasets/.../resolve/" test \
    "$(hub_stats 'all(r["path"].startswith(("/api/datasets/", "/datasets/", "/api/resolve-cache/datasets/")) for r in d["requests"] if r["host"] == "hub" and not r["path"].startswith(("/_", "/v1/")))')" = True
check "  the parquet file by the CDN, sha256sum's hash" test \
    "$(al manifest datasets/org/corpus | python3 -c 'import json, sys
print([f["sha256"] for f in json.load(sys.stdin)["files"] if f["path"].endswith(".parquet")][0])')" = \
    "$(sha256sum "$T/data/train/part-0.parquet" | cut -d' ' -f1)"
check "  the checkout is the folder" sh -c \
    "'$AIRLOCK' --store '$S' checkout datasets/org/corpus '$T/co.d' && diff -r '$T/data' '$T/co.d'"

_fakehub_kill
done_testing
