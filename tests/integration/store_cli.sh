#!/bin/sh
# The CLI's core over a real store: add -> checkout round trips for many
# file shapes, from folders and archives; ls, show, cat, pins, gc, stats;
# bad input refused with a clear message and the store left as it was.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
digest_of_store() { sha256sum "$S/data.mdb" | cut -c1-64; }
# Folder trees are compared byte for byte, names included.
same_tree() { diff -r "$1" "$2" >/dev/null 2>&1; }

check "init makes a store" al init
check "init again is harmless" al init

# Many file shapes.
m=$T/model
mkdir -p "$m/a/b/c/d" "$m/ünïcödé/файлы" "$m/with space"
: >"$m/empty.txt"
printf x >"$m/one-byte.bin"
head -c 65536 /dev/urandom >"$m/exactly-min-chunk.bin"
head -c 524288 /dev/urandom >"$m/exactly-max-chunk.bin"
head -c 524289 /dev/urandom >"$m/max-plus-one.bin"
head -c 3000017 /dev/urandom >"$m/a/b/c/d/deep.safetensors"
printf 'héllo wörld\n' >"$m/ünïcödé/файлы/текст.txt"
printf 'spaced\n' >"$m/with space/file name.txt"
printf -- '---\nlicense: llama3.1\nbase_model: meta-llama/Llama-3.1-8B\n---\n# card\n' >"$m/README.md"
printf 'LLAMA 3.1 COMMUNITY LICENSE\n' >"$m/LICENSE"

check "add a folder" al add "$m" --repo acme/shapes
out=$(last_output)
case $out in
acme/shapes@[0-9a-f]*" sha256:"[0-9a-f]*) ok "add prints ORG/NAME@COMMIT sha256:DIGEST" ;;
*) not_ok "add prints ORG/NAME@COMMIT sha256:DIGEST (got: $out)" ;;
esac
commit=$(echo "$out" | sed 's/^acme\/shapes@\([0-9a-f]*\) .*/\1/')
digest=$(echo "$out" | sed 's/.* sha256://')
[ "$commit" = "$(echo "$digest" | cut -c1-40)" ] &&
    ok "a local add's commit id is its manifest digest's first 40 digits" ||
    not_ok "commit $commit is not the start of $digest"

check "checkout" al checkout acme/shapes "$T/out1"
same_tree "$m" "$T/out1" && ok "checkout is byte-identical, names included" ||
    not_ok "checkout differs from the source"
check "checkout by commit id" al checkout "acme/shapes@$commit" "$T/out2"
same_tree "$m" "$T/out2" && ok "checkout by commit is identical" || not_ok "by commit"
check "checkout by manifest digest" al checkout "acme/shapes@sha256:$digest" "$T/out3"
fails "checkout into a non-empty folder is refused" 2 al checkout acme/shapes "$T/out1"

# cat gives exactly the bytes.
al cat acme/shapes "a/b/c/d/deep.safetensors" | cmp -s - "$m/a/b/c/d/deep.safetensors" &&
    ok "cat gives the file's bytes" || not_ok "cat differs"
fails "cat of a missing file exits 1" 1 al cat acme/shapes nope.txt

# The manifest records the card's claims and the licence file.
al --json show acme/shapes >"$T/show.json"
grep -q '"license": "llama3.1"' "$T/show.json" &&
    grep -q '"meta-llama/Llama-3.1-8B"' "$T/show.json" &&
    grep -q "\"sha256\": \"$(sha256sum "$m/LICENSE" | cut -c1-64)\"" "$T/show.json" &&
    ok "show --json has the card's claims and the licence file's hash" ||
    not_ok "claims missing from show --json"
grep -q "\"sha256\": \"$(sha256sum "$m/ünïcödé/файлы/текст.txt" | cut -c1-64)\"" "$T/show.json" &&
    ok "file sha256 in the manifest is the real one" || not_ok "file sha256"

# Adding the same content again changes nothing.
before=$(digest_of_store)
check "re-add of unchanged content" al add "$m" --repo acme/shapes
echo "$(last_output)" | grep -q "$commit" &&
    ok "re-add answers with the same revision" || not_ok "re-add made a new revision"
[ "$(digest_of_store)" = "$before" ] && ok "re-add wrote nothing" ||
    not_ok "re-add changed the store"

# Archives of the same folder give the same files.
(cd "$T" && tar czf shapes.tar.gz model)
check "add a .tar.gz of the folder" al add "$T/shapes.tar.gz" --repo acme/from-tgz
al --json show acme/from-tgz | sed -n '/"files"/,/]/p' >"$T/tgz.files"
sed -n '/"files"/,/]/p' "$T/show.json" >"$T/dir.files"
cmp -s "$T/tgz.files" "$T/dir.files" && ok "the archive's files equal the folder's" ||
    not_ok "archive and folder give different files"
check "checkout of the archive's revision" al checkout acme/from-tgz "$T/out4"
same_tree "$m" "$T/out4" && ok "archive round trip is identical" || not_ok "archive round trip"

# ls and datasets.
check "add a dataset" al add "$m/ünïcödé" --repo acme/data --type dataset
al ls | grep -q '^dataset  acme/data' && al ls 'acme/sh*' | grep -q 'acme/shapes' &&
    ! al ls 'acme/sh*' | grep -q 'acme/data' &&
    ok "ls lists repositories and filters by pattern" || not_ok "ls"

# Bad input: a clear error, exit 2, the store unchanged.
before=$(digest_of_store)
unchanged() {
	[ "$(digest_of_store)" = "$before" ] && ok "$1: store unchanged" ||
	    not_ok "$1: the store changed"
}
bad=$T/bad
mkdir -p "$bad"
cp -r "$m" "$bad/escape"
ln -s /etc/passwd "$bad/escape/passwd"
fails "a symlink out of the folder is refused" 2 al add "$bad/escape" --repo acme/bad
last_output | grep -q 'passwd: a link that leaves the folder' &&
    ok "the message names the link" || not_ok "message: $(last_output)"
unchanged "escaping link"

mkdir -p "$bad/card"
printf -- '---\nlicense: [mit\n---\n' >"$bad/card/README.md"
head -c 100000 /dev/urandom >"$bad/card/w.bin"
fails "a malformed model card is refused" 2 al add "$bad/card" --repo acme/bad
last_output | grep -q 'README.md: model card: front matter line' &&
    ok "the message names the card and the line" || not_ok "message: $(last_output)"
unchanged "malformed card"

(cd "$T" && tar cf "$bad/dotdot.tar" -P --transform='s,^model/LICENSE,../LICENSE,' model)
fails "an archive entry with .. is refused" 2 al add "$bad/dotdot.tar" --repo acme/bad
last_output | grep -q '\.\./LICENSE: not a valid path' &&
    ok "the message names the entry" || not_ok "message: $(last_output)"
(cd "$T" && tar cf "$bad/abs.tar" -P --transform='s,^model/LICENSE,/tmp/LICENSE,' model)
fails "an absolute archive entry is refused" 2 al add "$bad/abs.tar" --repo acme/bad
(cd "$T" && tar cf "$bad/dev.tar" -C / dev/null)
fails "an archive with a device is refused" 2 al add "$bad/dev.tar" --repo acme/bad
unchanged "bad archives"

fails "a bad repo id is refused" 2 al add "$m" --repo '../etc/passwd'
last_output | grep -q 'not a repository id' && ok "the message says why" ||
    not_ok "message: $(last_output)"
unchanged "bad repo id"

# Pins and gc: a pinned revision survives its branch moving on, and so
# does an unpinned one, which its commit id still names.  (A repo of its
# own: acme/from-tgz shares every chunk of acme/shapes.)
g=$T/gcmodel
sh "$top_srcdir/tests/lib/mkmodel.sh" "$g" 2000000
check "add a model for gc" al add "$g" --repo acme/gc
commit=$(last_output | sed 's/^acme\/gc@\([0-9a-f]*\) .*/\1/')
check "pin it" al pin acme/gc@main --name prod
sh "$top_srcdir/tests/lib/mkmodel.sh" "$g" 2000000
check "add a second revision to main" al add "$g" --repo acme/gc
al --json stats >"$T/s1.json"
check "gc with the pin" al --json gc
last_output | grep -q '"revisions": 0' && ok "gc keeps the pinned revision" ||
    not_ok "gc dropped a pinned revision: $(last_output)"
check "verify the pinned revision" al verify "acme/gc@$commit"
check "unpin" al unpin prod
check "gc --dry-run" al --json gc --dry-run
dry=$(last_output | grep '"chunks"' | tr -dc 0-9)
check "gc without the pin" al --json gc
got=$(last_output | grep '"chunks"' | tr -dc 0-9)
last_output | grep -q '"revisions": 0' && [ "$got" = "$dry" ] &&
    ok "gc keeps the revision its commit id names (swept $got chunks, as the dry run said)" ||
    not_ok "gc: $(last_output), dry run said $dry"
check "the old commit is still whole" al verify "acme/gc@$commit"
check "verify --all after gc" al verify --all
check "checkout after gc" al checkout acme/gc "$T/out5"
same_tree "$g" "$T/out5" && ok "what main reaches is whole after gc" ||
    not_ok "main damaged by gc"
al --json stats | grep -q '"page_waste"' && ok "stats reports page waste" ||
    not_ok "stats"
size_before=$(stat -c %s "$S/data.mdb")
check "gc --compact" al --json gc --compact
size_after=$(stat -c %s "$S/data.mdb")
[ "$size_after" -lt "$size_before" ] &&
    ok "compact shrank the data file ($size_before -> $size_after)" ||
    not_ok "compact: $size_before -> $size_after"
check "verify --all after compact" al verify --all
done_testing
