#!/bin/sh
# What airlock computes that other tools compute too, checked against
# them rather than against airlock's own output: the LFS pointer text,
# byte for byte (printf from sha256sum and stat, and git lfs pointer when
# it is installed), its git blob sha1 (git hash-object), and the git ids
# of every file and folder the tree endpoint lists (git write-tree of the
# same files, with each LFS file replaced by its pointer).
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v git >/dev/null 2>&1 || skip_all "git is not installed"
# jq-like: python3 -c over the tree listing.
tree_py() { python3 -c "import json, sys
for e in json.load(open(sys.argv[1])):
$1" "$T/tree.json" "${2-}"; }

S=$T/store
m=$T/model
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 1000000 >/dev/null
# Nested folders, and names that sort differently as paths and as git
# tree entries would if a folder sorted without its slash: a.txt, a/,
# a-b/, a0/, ab/.
mkdir -p "$m/a/b/c" "$m/a-b" "$m/a0" "$m/ab" "$m/data"
printf 'deep\n' >"$m/a/b/c/deep.txt"
printf 'x\n' >"$m/a/x.txt"
printf 'with a space\n' >"$m/a/with space.txt"
head -c 70000 /dev/urandom >"$m/a/b/weights.bin"	# LFS by name
printf 'a.txt\n' >"$m/a.txt"
printf 'y\n' >"$m/a-b/y.txt"
printf 'z\n' >"$m/a0/z.txt"
printf 'w\n' >"$m/ab/w.txt"
: >"$m/a/empty.txt"
head -c 11000000 /dev/urandom >"$m/data/big.dat"	# LFS by size
lfs_files="model.safetensors a/b/weights.bin data/big.dat"

check "add the model" sh -c "'$AIRLOCK' --store '$S' init &&
    '$AIRLOCK' --store '$S' add '$m' --repo acme/m"
check "airlockd starts" start_daemon "$S"

# The pointer of the git-lfs spec, from sha256sum and stat alone.
pointer() {
	printf 'version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %s\n' \
	    "$(sha256sum <"$1" | cut -d' ' -f1)" "$(stat -c %s "$1")"
}
mkdir "$T/ptr"
for f in $lfs_files; do
	p=$T/ptr/$(echo "$f" | tr / _)
	pointer "$m/$f" >"$p"
	curl -sS -D "$T/h" -o "$T/got" "$URL/acme/m/raw/main/$f"
	cmp -s "$p" "$T/got" && ok "/raw of $f: the spec's pointer, byte for byte" || {
		diag "$(od -c "$T/got" | tail -n 3)"
		not_ok "/raw of $f differs from the spec's pointer"; }
	if command -v git-lfs >/dev/null 2>&1; then
		git lfs pointer --file="$m/$f" 2>/dev/null >"$T/gl"
		check "  git lfs pointer prints the same" cmp "$p" "$T/gl"
	fi
	etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: "\([0-9a-f]*\)".*/\1/p' "$T/h")
	check "  its ETag is git hash-object of the pointer" \
	    test "$etag" = "$(git hash-object "$p")"
done

# git's view: the same files, LFS ones as their pointers.
g=$T/git
cp -R "$m" "$g"
for f in $lfs_files; do cp "$T/ptr/$(echo "$f" | tr / _)" "$g/$f"; done
git -C "$g" init -q &&
    git -C "$g" -c core.autocrlf=false add -A &&
    tree=$(git -C "$g" write-tree)
check "git write-tree of the same files" test -n "$tree"
git -C "$g" ls-tree -r -t "$tree" |
    awk -F '\t' '{ split($1, a, " "); print $2 " " a[3] }' | sort >"$T/git.ids"
curl -sS "$URL/api/models/acme/m/tree/main?recursive=true" >"$T/tree.json"
tree_py '    print(e["path"], e["oid"])' | sort >"$T/al.ids"
check "the tree lists git's folders and files, with git's ids" \
    diff "$T/git.ids" "$T/al.ids"
for d in a a/b a/b/c a-b a0 ab data; do
	check "  folder $d: git's tree id" test "$(tree_py '
    if e["path"] == sys.argv[2] and e["type"] == "directory": print(e["oid"])' \
	    "$d")" = "$(git -C "$g" rev-parse "$tree:$d")"
done
for f in $lfs_files; do
	p=$T/ptr/$(echo "$f" | tr / _)
	check "  $f: lfs oid, size and pointerSize" test "$(tree_py '
    if e["path"] == sys.argv[2]: l = e["lfs"]; print(l["oid"], l["size"], l["pointerSize"])' \
	    "$f")" = "$(sha256sum <"$m/$f" | cut -d' ' -f1) $(stat -c %s "$m/$f") $(stat -c %s "$p")"
done
check "airlockd stops cleanly" stop_daemon
done_testing
