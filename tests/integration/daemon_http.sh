#!/bin/sh
# airlockd's HTTP API with curl: the headers HF clients check on LFS and
# plain files, revisions by branch, commit, digest and refs/pr/1 in both
# encodings, ranges, the error codes, tree, paths-info, pagination, CORS,
# the native /v1/ API, /metrics and /healthz.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"

plan 125

S=$T/store
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/model" 1000000 >/dev/null
mkdir -p "$T/model/a/b/c"
printf 'deep\n' >"$T/model/a/b/c/deep.txt"
printf 'shallow\n' >"$T/model/a/top.txt"
: >"$T/model/empty.txt"
mkdir -p "$T/data"
printf 'x,y\n1,2\n' >"$T/data/table.csv"
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo org/tiny >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/model" --repo org/tiny --revision refs/pr/1 >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/data" --repo org/data --type dataset >/dev/null
check "the CLI adds a model, its refs/pr/1 and a dataset" test $? -eq 0
"$AIRLOCK" --store "$S" --json show org/tiny >"$T/show.json"
commit=$(sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p' "$T/show.json")
digest=$(sed -n 's/^  "digest": "sha256:\([0-9a-f]*\)",$/\1/p' "$T/show.json")
# refs/pr/1 has the same files, but may be another revision (its own time).
pr_commit=$("$AIRLOCK" --store "$S" --json show org/tiny@refs/pr/1 |
    sed -n 's/^  "commit": "\([0-9a-f]*\)",$/\1/p')
# A field of one file in the show output (keys come sorted, path among them).
field() {
	awk -v p="$1" -v k="$2" '
	    /^ *\{ *$/ { n = 0; split("", cur) }
	    /^ *"[a-z_0-9]+": / { key = $1; gsub(/[":]/, "", key)
		v = $2; gsub(/[",]/, "", v); cur[key] = v }
	    /^ *\},? *$/ { if (cur["path"] == p && (k in cur)) { print cur[k]; exit } }
	' "$T/show.json"
}
lfs_sha=$(field model.safetensors sha256)
lfs_size=$(field model.safetensors size)
cfg_sha1=$(field config.json git_sha1)
cfg_size=$(field config.json size)
check "the revisions have commits and an LFS file" \
    test -n "$commit" -a -n "$pr_commit" -a -n "$lfs_sha" -a \
    "$(field model.safetensors lfs)" = true

cat >"$T/airlockd.conf" <<'EOF'
# small pages, to see pagination
tree-page-size = 3
EOF
check "airlockd starts" start_daemon "$S" -c "$T/airlockd.conf"

# get [curl args] URL-PATH: headers to $T/h, body to $T/b.
get() {
	_p=$1; shift
	curl -sS -o "$T/b" -D "$T/h" "$@" "$URL$_p"
}
status() { sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' "$T/h"; }
hdr() { grep -i "^$1:" "$T/h" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
has_status() { [ "$(status)" = "$1" ]; }
has_hdr() { [ "$(hdr "$1")" = "$2" ]; }
no_hdr() { ! grep -qi "^$1:" "$T/h"; }
body_is() { [ "$(cat "$T/b")" = "$1" ]; }
body_has() { grep -qF -- "$1" "$T/b"; }
sha_is() { [ "$(sha256sum <"$T/b" | cut -d' ' -f1)" = "$1" ]; }
ok_if() { _d=$1; shift; if "$@"; then ok "$_d"; else
	diag "status $(status)"; diag "$(head -c 300 "$T/b")"; not_ok "$_d"; fi; }

# --- resolve: an LFS file -----------------------------------------------
get /org/tiny/resolve/main/model.safetensors -I
ok_if "HEAD of an LFS file: 200" has_status 200
ok_if "  X-Repo-Commit is the commit" has_hdr X-Repo-Commit "$commit"
ok_if "  ETag is the sha256" has_hdr ETag "\"$lfs_sha\""
ok_if "  X-Linked-Etag is the sha256" has_hdr X-Linked-Etag "\"$lfs_sha\""
ok_if "  X-Linked-Size is the size" has_hdr X-Linked-Size "$lfs_size"
ok_if "  Content-Length is the size, on HEAD too" has_hdr Content-Length "$lfs_size"
ok_if "  Accept-Ranges: bytes" has_hdr Accept-Ranges bytes
ok_if "  no Xet header, no redirect, no Content-Encoding" \
    sh -c "! grep -qi '^x-xet\|^location:\|^content-encoding:\|xet-auth' '$T/h'"
# A body after a HEAD answer would be read as the next answer's start.
curl -sS -I -o /dev/null "$URL/org/tiny/resolve/main/model.safetensors" \
    --next -sS -o "$T/b" "$URL/healthz"
ok_if "  HEAD sends no body: the next answer on the connection is intact" \
    body_is ok
get /org/tiny/resolve/main/model.safetensors
ok_if "GET of an LFS file: every byte" sha_is "$lfs_sha"

# --- resolve: a file that is not LFS -----------------------------------------
get /org/tiny/resolve/main/config.json -I
ok_if "HEAD of a plain file: ETag is the git blob sha1" has_hdr ETag "\"$cfg_sha1\""
ok_if "  no X-Linked-Etag or X-Linked-Size" sh -c "! grep -qi '^x-linked' '$T/h'"
ok_if "  Content-Length" has_hdr Content-Length "$cfg_size"
get /org/tiny/resolve/main/config.json
ok_if "GET of a plain file: its bytes" cmp -s "$T/b" "$T/model/config.json"
get /org/tiny/resolve/main/a/b/c/deep.txt
ok_if "a nested path" cmp -s "$T/b" "$T/model/a/b/c/deep.txt"
get /datasets/org/data/resolve/main/table.csv
ok_if "a dataset's file under /datasets/" cmp -s "$T/b" "$T/data/table.csv"

# --- revisions ---------------------------------------------------------------
for rev in main HEAD "$commit" "$(echo "$commit" | cut -c1-10)" \
    "sha256:$digest" refs%2Fpr%2F1 refs/pr/1; do
	want=$commit
	case $rev in refs*) want=$pr_commit;; esac
	get "/org/tiny/resolve/$rev/config.json"
	ok_if "revision $rev resolves to its commit" \
	    sh -c "[ '$(status)' = 200 ] && [ '$(hdr X-Repo-Commit)' = '$want' ]"
done
get "/org/tiny/resolve/$commit/config.json"
ok_if "by commit: immutable cache headers" \
    has_hdr Cache-Control "public, max-age=31536000, immutable"
get /org/tiny/resolve/main/config.json
ok_if "by branch: not immutable" no_hdr Cache-Control
get /api/models/org/tiny/revision/refs%2Fpr%2F1
ok_if "repo info at refs%2Fpr%2F1" body_has "\"sha\":\"$pr_commit\""
get /api/models/org/tiny/revision/refs/pr/1
ok_if "repo info at refs/pr/1, unencoded" body_has "\"sha\":\"$pr_commit\""
get /api/models/org/tiny/revision/HEAD
ok_if "repo info at HEAD (the alias of main)" body_has "\"sha\":\"$commit\""

# --- ranges ------------------------------------------------------------------
get /org/tiny/resolve/main/config.json -H 'Range: bytes=0-0'
ok_if "bytes=0-0: 206" has_status 206
ok_if "  Content-Range: bytes 0-0/size" has_hdr Content-Range "bytes 0-0/$cfg_size"
ok_if "  one byte" body_is "$(head -c 1 "$T/model/config.json")"
get /org/tiny/resolve/main/config.json -H 'Range: bytes=2-9'
ok_if "bytes=2-9: those 8 bytes" \
    sh -c "[ '$(hdr Content-Range)' = 'bytes 2-9/$cfg_size' ] && [ '$(hdr Content-Length)' = 8 ] && [ \"\$(cat '$T/b')\" = \"\$(tail -c +3 '$T/model/config.json' | head -c 8)\" ]"
get /org/tiny/resolve/main/config.json -H 'Range: bytes=10-'
ok_if "bytes=10-: the rest (a resume)" \
    sh -c "tail -c +11 '$T/model/config.json' | cmp -s - '$T/b'"
get /org/tiny/resolve/main/config.json -H 'Range: bytes=-5'
ok_if "bytes=-5: the last five" \
    sh -c "[ '$(status)' = 206 ] && tail -c 5 '$T/model/config.json' | cmp -s - '$T/b'"
get /org/tiny/resolve/main/config.json -H 'Range: bytes=-100000'
ok_if "bytes=-n longer than the file: all of it" cmp -s "$T/b" "$T/model/config.json"
get /org/tiny/resolve/main/model.safetensors -H 'Range: bytes=300000-699999'
ok_if "a range inside an LFS file, across read buffers" \
    sh -c "[ '$(status)' = 206 ] && tail -c +300001 '$T/model/model.safetensors' | head -c 400000 | cmp -s - '$T/b'"
get /org/tiny/resolve/main/config.json -H "Range: bytes=$cfg_size-"
ok_if "a range past the end: 416" has_status 416
ok_if "  Content-Range: bytes */size" has_hdr Content-Range "bytes */$cfg_size"
ok_if "  X-Error-Code RangeNotSatisfiable" has_hdr X-Error-Code RangeNotSatisfiable
get /org/tiny/resolve/main/config.json -H 'Range: bytes=5-2'
ok_if "a reversed range: 416" has_status 416
get /org/tiny/resolve/main/config.json -H 'Range: bytes=0-1,4-5'
ok_if "several ranges: the whole file, 200" \
    sh -c "[ '$(status)' = 200 ] && cmp -s '$T/b' '$T/model/config.json'"
get /org/tiny/resolve/main/config.json -H 'Range: items=0-1'
ok_if "another unit: ignored, 200" has_status 200
get /org/tiny/resolve/main/empty.txt -H 'Range: bytes=0-0'
ok_if "bytes=0-0 on an empty file: 200, empty" \
    sh -c "[ '$(status)' = 200 ] && [ '$(hdr Content-Length)' = 0 ] && [ ! -s '$T/b' ]"
ok_if "  with Content-Range's total 0, for @huggingface/hub" \
    has_hdr Content-Range "bytes */0"
get /org/tiny/resolve/main/empty.txt -I
ok_if "HEAD of an empty file: Content-Length 0, the empty blob's sha1" \
    sh -c "[ '$(hdr Content-Length)' = 0 ] && [ '$(hdr ETag)' = '\"e69de29bb2d1d6434b8b29ae775ad8c2e48c5391\"' ]"

# --- errors ------------------------------------------------------------------
get /org/tiny/resolve/main/nope.bin
ok_if "a missing file: 404 EntryNotFound" \
    sh -c "[ '$(status)' = 404 ] && [ '$(hdr X-Error-Code)' = EntryNotFound ]"
ok_if "  with X-Repo-Commit" has_hdr X-Repo-Commit "$commit"
ok_if "  and a JSON error" body_has '"error":'
get /org/tiny/resolve/main/nope.bin -I
ok_if "  HEAD too" has_hdr X-Error-Code EntryNotFound
get /org/tiny/resolve/v9.9/config.json
ok_if "a missing revision: 404 RevisionNotFound" \
    sh -c "[ '$(status)' = 404 ] && [ '$(hdr X-Error-Code)' = RevisionNotFound ]"
get /org/nope/resolve/main/config.json
ok_if "a missing repository: 404 RepoNotFound" \
    sh -c "[ '$(status)' = 404 ] && [ '$(hdr X-Error-Code)' = RepoNotFound ]"
get /api/models/org/nope
ok_if "repo info of a missing repository: RepoNotFound" has_hdr X-Error-Code RepoNotFound
get /api/datasets/org/tiny
ok_if "a model is not a dataset: RepoNotFound" has_hdr X-Error-Code RepoNotFound
get /api/models/org/tiny/tree/nope
ok_if "tree of a missing revision: RevisionNotFound" has_hdr X-Error-Code RevisionNotFound
get /api/models/org/tiny/tree/main/nope
ok_if "tree of a missing folder: EntryNotFound" has_hdr X-Error-Code EntryNotFound
get /no/such/thing
ok_if "an unknown route: 404 with a JSON error" \
    sh -c "[ '$(status)' = 404 ] && grep -q '\"error\"' '$T/b'"
get /org/tiny/resolve/main/config.json -X PUT
ok_if "PUT: 405 with Allow" \
    sh -c "[ '$(status)' = 405 ] && [ -n '$(hdr Allow)' ] && [ '$(hdr X-Error-Code)' = MethodNotAllowed ]"

# --- repository info ---------------------------------------------------------
get "/api/models/org/tiny?blobs=true&expand=siblings&expand=cardData&securityStatus=true"
for k in '"id":"org/tiny"' '"_id":"' "\"sha\":\"$commit\"" '"private":false' \
    '"gated":false' '"downloads":' '"likes":0' '"pipeline_tag":"text-generation"' \
    '"library_name":"transformers"' '"cardData":{' '"license":"apache-2.0"' \
    '"rfilename":"a/b/c/deep.txt"' "\"sha256\":\"$lfs_sha\"" '"pointerSize":' \
    "\"blobId\":\"$cfg_sha1\""; do
	ok_if "repo info has $k" body_has "$k"
done
ok_if "lastModified has milliseconds" \
    sh -c "grep -Eq '\"lastModified\":\"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z\"' '$T/b'"
ok_if "no xetHash, no half safetensors" sh -c "! grep -q 'xetHash\|\"safetensors\"' '$T/b'"
get /api/datasets/org/data
ok_if "dataset info" body_has '"id":"org/data"'

# --- tree and pagination -----------------------------------------------------
get "/api/models/org/tiny/tree/main?recursive=true"
ok_if "tree: a page of 3 and a next link" \
    sh -c "[ \$(grep -o '\"path\"' '$T/b' | wc -l) -eq 3 ] && grep -q 'rel=\"next\"' '$T/h'"
ok_if "  the link is absolute, with a space after the ;" \
    sh -c "grep -Eqi '^link: <http://127\.0\.0\.1:[0-9]+/api/models/org/tiny/tree/[0-9a-f]{40}\?[^>]*>; rel=\"next\"' '$T/h'"
# Follow every link; the pages together are the whole listing.
: >"$T/paths"
next="$URL/api/models/org/tiny/tree/main?recursive=true"
pages=0
while [ -n "$next" ] && [ $pages -lt 20 ]; do
	curl -sS -D "$T/h" -o "$T/b" "$next"
	grep -o '"path":"[^"]*"' "$T/b" >>"$T/paths"
	next=$(hdr Link | sed -n 's/^<\(.*\)>; rel="next"$/\1/p')
	pages=$((pages + 1))
done
ok_if "following the links lists every file and folder once" \
    sh -c "[ \$(sort -u '$T/paths' | wc -l) -eq \$(wc -l <'$T/paths') ] && grep -q '\"a/b/c/deep.txt\"' '$T/paths' && grep -q '\"a/b/c\"' '$T/paths' && [ \$(grep -c . '$T/paths') -eq 13 ]"
get "/api/models/org/tiny/tree/main/a?recursive=false"
ok_if "tree of a folder, not recursive" \
    sh -c "grep -q '\"path\":\"a/top.txt\"' '$T/b' && grep -q '\"path\":\"a/b\"' '$T/b' && ! grep -q 'deep.txt' '$T/b'"
get "/api/models/org/tiny/tree/main/a%2Fb?recursive=True"
ok_if "tree path %2F-encoded, True as a boolean" body_has '"path":"a/b/c/deep.txt"'
get "/api/models/org/tiny/tree/refs/pr/1/a/b/c"
ok_if "tree at refs/pr/1 unencoded, with a path" body_has '"path":"a/b/c/deep.txt"'
get "/api/models/org/tiny/tree/main?expand=true"
ok_if "expand=true: lastCommit with the commit id" body_has "\"lastCommit\":{\"id\":\"$commit\""
ok_if "a folder has a git tree oid" \
    sh -c "grep -Eq '\"type\":\"directory\",\"oid\":\"[0-9a-f]{40}\"' '$T/b'"

# --- paths-info --------------------------------------------------------------
get /api/models/org/tiny/paths-info/main -X POST \
    --data 'paths=config.json&paths=a%2Fb&paths=missing.txt&expand=false'
ok_if "paths-info, form body (Python): a file and a folder" \
    sh -c "grep -q '\"path\":\"config.json\"' '$T/b' && grep -q '\"type\":\"directory\",\"oid\":\"[0-9a-f]*\",\"size\":0,\"path\":\"a/b\"' '$T/b'"
ok_if "  a missing path is left out" sh -c "! grep -q missing.txt '$T/b'"
get /api/models/org/tiny/paths-info/refs%2Fpr%2F1 -X POST \
    -H 'Content-Type: application/json' \
    --data '{"paths":["model.safetensors","a/b/c/deep.txt"],"expand":true}'
ok_if "paths-info, JSON body (JS): the LFS file's lfs.oid" \
    body_has "\"lfs\":{\"oid\":\"$lfs_sha\""
ok_if "  a nested path" body_has '"path":"a/b/c/deep.txt"'
ok_if "  expand: lastCommit" body_has '"lastCommit":'
get /api/models/org/tiny/paths-info/main -X POST -H 'Content-Type: application/json' \
    --data '{"paths":'
ok_if "paths-info with broken JSON: 400" has_status 400

# --- raw, refs, discussions --------------------------------------------------
get /org/tiny/raw/main/model.safetensors
ok_if "/raw of an LFS file is its pointer" \
    body_is "$(printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s' "$lfs_sha" "$lfs_size")"
ok_if "  ETag: the pointer's blob sha1, as in the tree" \
    has_hdr ETag "\"$(field model.safetensors git_sha1)\""
get /org/tiny/raw/main/config.json
ok_if "/raw of a plain file is the file" cmp -s "$T/b" "$T/model/config.json"
get "/api/models/org/tiny/refs?include_prs=1"
ok_if "refs: main" body_has "\"name\":\"main\",\"ref\":\"refs/heads/main\",\"targetCommit\":\"$commit\""
ok_if "  and the pull request" \
    body_has "\"pullRequests\":[{\"name\":\"refs/pr/1\",\"ref\":\"refs/pr/1\",\"targetCommit\":\"$pr_commit\""
get /api/models/org/tiny/discussions
ok_if "discussions: an empty list" body_has '"discussions":[]'

# --- CORS --------------------------------------------------------------------
get /org/tiny/resolve/main/config.json -X OPTIONS \
    -H 'Origin: http://example.org' -H 'Access-Control-Request-Method: GET' \
    -H 'Access-Control-Request-Headers: authorization, range'
ok_if "a preflight: 204 with the methods and headers" \
    sh -c "[ '$(status)' = 204 ] && grep -qi '^access-control-allow-headers:.*Authorization.*Range' '$T/h' && grep -qi '^access-control-allow-methods:.*POST' '$T/h'"
get /org/tiny/resolve/main/config.json -H 'Origin: http://example.org'
ok_if "answers expose X-Repo-Commit, ETag, Content-Range, X-Linked-Size" \
    sh -c "grep -i '^access-control-expose-headers:' '$T/h' | grep -q 'X-Repo-Commit.*ETag.*Content-Range.*X-Linked-Size' && [ '$(hdr Access-Control-Allow-Origin)' = '*' ]"

# --- native API --------------------------------------------------------------
get /v1/refs/model/org/tiny
ok_if "/v1/refs of a repository" body_has "\"manifest\":\"sha256:$digest\""
get "/v1/manifests/sha256:$digest"
ok_if "/v1/manifests: the exact canonical bytes" sha_is "$digest"
ok_if "  immutable" has_hdr Cache-Control "public, max-age=31536000, immutable"
get "/v1/signatures/sha256:$digest"
ok_if "/v1/signatures: a JSON list" sh -c "head -c 1 '$T/b' | grep -q '\['"
get "/v1/blobs/sha256:$lfs_sha"
ok_if "/v1/blobs: the blob" sha_is "$lfs_sha"
ok_if "  immutable, with its sha256 as ETag" \
    sh -c "[ '$(hdr Cache-Control)' = 'public, max-age=31536000, immutable' ] && [ '$(hdr ETag)' = '\"$lfs_sha\"' ]"
get "/v1/blobs/sha256:$lfs_sha" -H 'Range: bytes=-10'
ok_if "/v1/blobs with a Range" \
    sh -c "[ '$(status)' = 206 ] && tail -c 10 '$T/model/model.safetensors' | cmp -s - '$T/b'"
get "/v1/blobs/sha256:$lfs_sha/chunks"
chunk=$(grep -o '"sha256":"[0-9a-f]*"' "$T/b" | head -n 1 | cut -d'"' -f4)
ok_if "/v1/blobs/…/chunks lists the chunks from offset 0" body_has '"offset":0,'
get "/v1/chunks/sha256:$chunk"
ok_if "/v1/chunks: a chunk, by its hash" sha_is "$chunk"
absent=0000000000000000000000000000000000000000000000000000000000000001
get /v1/chunks/missing -X POST -H 'Content-Type: application/json' \
    --data "{\"chunks\":[\"$chunk\",\"$absent\"]}"
ok_if "/v1/chunks/missing names only the absent one" \
    body_is "{\"missing\":[\"$absent\"]}"
get "/v1/blobs/sha256:$absent"
ok_if "/v1/blobs of an absent hash: 404" has_status 404
get /v1/release
ok_if "/v1/release: 404 until a release is published" \
    sh -c "[ '$(status)' = 404 ] && [ '$(hdr X-Error-Code)' = ReleaseNotFound ]"

# --- /metrics, /healthz ------------------------------------------------------
get /metrics
ok_if "/metrics counts requests by route and status" \
    body_has 'airlockd_requests_total{route="resolve",status="200"}'
ok_if "  and 404s" body_has 'airlockd_requests_total{route="resolve",status="404"}'
ok_if "  bytes sent, chunks and store size" \
    sh -c "grep -q '^airlockd_sent_bytes_total [1-9]' '$T/b' && grep -q '^airlockd_store_chunks [1-9]' '$T/b' && grep -q '^airlockd_store_file_bytes [1-9]' '$T/b'"
get /healthz
ok_if "/healthz" sh -c "[ '$(status)' = 200 ] && [ \"\$(cat '$T/b')\" = ok ]"

# --- where a file lies changes under gc --------------------------------------
# airlockd keeps where each file it served lies in the data file.  A gc
# frees those pages, another add fills them, and the same file added
# again lies elsewhere: it must still be served right, not from the old
# places.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/churn" 3000000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/other" 200000 >/dev/null
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/filler" 3000000 >/dev/null
churn_sha=$(sha256sum <"$T/churn/model.safetensors" | cut -d' ' -f1)
churn=/org/churn/resolve/main/model.safetensors
"$AIRLOCK" --store "$S" add "$T/churn" --repo org/churn >/dev/null
get $churn
ok_if "a file is served" sha_is "$churn_sha"
"$AIRLOCK" --store "$S" add "$T/other" --repo org/churn >/dev/null &&
"$AIRLOCK" --store "$S" gc >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/filler" --repo org/filler >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/churn" --repo org/churn >/dev/null
check "  the CLI drops it (gc), fills its pages and adds it again" test $? -eq 0
get $churn
ok_if "  and it is served right from its new places" sha_is "$churn_sha"

check "airlockd stops cleanly on SIGTERM" stop_daemon

# --- without sendfile --------------------------------------------------------
printf 'sendfile = no\nread-size = 64k\n' >"$T/nosendfile.conf"
check "airlockd starts with sendfile = no" start_daemon "$S" -c "$T/nosendfile.conf"
get /org/tiny/resolve/main/model.safetensors
ok_if "  an LFS file, read into buffers" sha_is "$lfs_sha"
get /org/tiny/resolve/main/model.safetensors -H 'Range: bytes=300000-699999'
ok_if "  a range across read buffers" \
    sh -c "[ '$(status)' = 206 ] && tail -c +300001 '$T/model/model.safetensors' | head -c 400000 | cmp -s - '$T/b'"
get /org/tiny/resolve/main/config.json -H 'Range: bytes=-5'
ok_if "  bytes=-5 of a small file" \
    sh -c "[ '$(status)' = 206 ] && tail -c 5 '$T/model/config.json' | cmp -s - '$T/b'"
check "  airlockd stops cleanly on SIGTERM" stop_daemon
