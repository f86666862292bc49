#!/bin/sh
# kill -9 at the crash points of lib/crash.h, compiled into the test-only
# airlock-crashtest: before a batch commit and before the revision commit
# of an add, between the revisions of a multi-revision import and before
# its release record, before gc's commit, and in compact between the copy
# and the rename and after the rename.  After each kill the store opens,
# verify --all passes, no half revision is visible, and the work, run
# again, completes.  And a stop between an import's two passes, to change
# the bundle under it.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
# The same command with the crash points; it must be killed (137).
killed() {
	_d=$1; shift
	AIRLOCK_CRASH_AT=$_d "$AIRLOCK_CRASHTEST" --store "$S" "$@" \
	    >"$T/crash.out" 2>&1
	_rc=$?
	[ $_rc -eq 137 ] && ok "$* killed at $_d" || {
		diag "$(tail -n 5 "$T/crash.out")"
		not_ok "$* was not killed at $_d (exit $_rc)"; }
}
# The store after a kill: it opens, verifies, and lists what it should.
intact() {
	check "after the kill at $1: the store opens" al stats
	check "after the kill at $1: verify --all passes" al verify --all
}

[ -x "$AIRLOCK_CRASHTEST" ] || { not_ok "airlock-crashtest is built"; done_testing; }
# The installed command has no hook: the variables are never read.
if grep -q AIRLOCK_CRASH "$AIRLOCK"; then not_ok "airlock has no crash hook"
else ok "airlock has no crash hook"; fi
AIRLOCK_CRASH_AT=revision-commit al init >/dev/null 2>&1
check "airlock ignores AIRLOCK_CRASH_AT" al add "$top_srcdir/tests/fuzz/corpus/card" --repo acme/small

# --- add: batch commits and the revision commit ------------------------------
m=$T/m
sh "$top_srcdir/tests/lib/mkmodel.sh" "$m" 140000000	# three batches
for point in batch-commit:1 batch-commit:2 revision-commit; do
	killed $point add "$m" --repo acme/big
	intact $point
	al ls | grep -q 'acme/big' && not_ok "a partial revision is listed" ||
	    ok "no revision of acme/big is listed after $point"
done
check "the add runs again to the end" al add "$m" --repo acme/big
check "checkout" al checkout acme/big "$T/out"
diff -r "$m" "$T/out" >/dev/null && ok "the revision is byte-identical" ||
    not_ok "checkout differs"
rm -rf "$T/out"
# A new revision of a branch that exists, killed before its commit: the
# branch still names the old one.
digest() { al --json show "$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["digest"])'; }
old=$(digest acme/big)
printf 'one more\n' >"$m/NOTES.txt"
killed revision-commit add "$m" --repo acme/big
intact "revision-commit of a second revision"
check "  the branch still names the first revision" \
    test "$(digest acme/big)" = "$old"
rm "$m/NOTES.txt"

# --- gc and compact ----------------------------------------------------------
# An add of other bytes, killed after its first batch commit, leaves
# chunks that nothing references: gc has work to do.
sh "$top_srcdir/tests/lib/mkmodel.sh" "$T/m2" 140000000
killed batch-commit:2 add "$T/m2" --repo acme/other
# What gc sweeps: the counts of revisions, blobs and chunks.
stats() { al --json stats | grep -E '^  "(revisions|blobs|chunks)":' | tr -d ' \n'; }
before=$(stats)
killed gc-commit gc
intact gc-commit
[ "$(stats)" = "$before" ] && ok "a gc killed before its commit swept nothing" ||
    not_ok "a gc killed before its commit changed the store"
for point in compact-copied compact-renamed; do
	killed $point gc --compact
	intact $point
	check "after the kill at $point: acme/big checks out" \
	    al checkout acme/big "$T/out"
	diff -r "$m" "$T/out" >/dev/null && ok "  byte-identical" ||
	    not_ok "  checkout differs"
	rm -rf "$T/out"
done
check "gc --compact runs again to the end" al gc --compact
[ "$(stats)" != "$before" ] && ok "  and sweeps what the killed add left" ||
    not_ok "  the killed add's chunks are still there"
check "verify --all after gc --compact" al verify --all
test ! -e "$S/compact.tmp" && ok "compact left no copy behind" ||
    not_ok "compact.tmp is left behind"

# --- import: between revisions and before the release record -----------------
A=$T/A
a() { "$AIRLOCK" --store "$A" "$@"; }
check "A: init, key" sh -c "'$AIRLOCK' --store '$A' init &&
    '$AIRLOCK' --store '$A' key gen --no-password"
for v in 1 2 3; do
	mkdir -p "$T/r$v"
	printf 'revision %s\n' $v >"$T/r$v/README.md"
	head -c 300000 /dev/urandom >"$T/r$v/weights.bin"
	check "A: revision v$v" a add "$T/r$v" --repo acme/multi --revision v$v
done
check "export release 1 (v1)" a export acme/multi@v1 -o "$T/old.bundle"
check "export release 2 (v1, v2, v3)" a export acme/multi@v1 acme/multi@v2 \
    acme/multi@v3 -o "$T/multi.bundle"
S=$T/B
check "B: init and trust A" sh -c "'$AIRLOCK' --store '$S' init &&
    '$AIRLOCK' --store '$A' key pub | '$AIRLOCK' --store '$S' trust add - --name a"
killed import-revision:1 import "$T/multi.bundle"
intact import-revision:1
check "  the first revision is whole" al checkout acme/multi@v1 "$T/o1"
diff -r "$T/r1" "$T/o1" >/dev/null && ok "  byte-identical" || not_ok "  differs"
fails "  the second is not there" 1 al show acme/multi@v2
# The record is written in each revision's commit: a kill before it leaves
# that revision out, as a kill before the commit would.
killed release import "$T/multi.bundle"
intact release
fails "  the second is still not there" 1 al show acme/multi@v2
check "the import runs again to the end" al import "$T/multi.bundle"
for v in 1 2 3; do
	check "  v$v is listed and whole" al checkout acme/multi@v$v "$T/c$v"
	diff -r "$T/r$v" "$T/c$v" >/dev/null && ok "  byte-identical" ||
	    not_ok "  differs"
done
check "verify --all" al verify --all
# The release record was written: the older release is a rollback now.
fails "release 1 after release 2 is refused" 1 al import "$T/old.bundle"
last_output | grep -q rollback && ok "  as a rollback" ||
    { diag "$(last_output)"; not_ok "  not as a rollback"; }

# --- import: a medium that reads otherwise the second time -------------------
# The first pass checks every chunk and writes nothing; the second reads
# the bundle again into the room its transaction reserves and checks each
# chunk there again, on another core.  A byte that changes between the
# passes is caught before any commit, even of the batch before the last
# one (70 MB: two batches): refused, naming the chunk, and the good
# bundle then brings every chunk in (Python's tarfile counts them).
mkdir -p "$T/g"
head -c 70000000 /dev/urandom >"$T/g/weights.bin"
check "A: a 70 MB revision" a add "$T/g" --repo acme/medium
check "  exported" a export acme/medium -o "$T/g.bundle"
python3 - "$T/g.bundle" >"$T/g.where" <<'EOF'
import sys, tarfile
chunks = [m for m in tarfile.open(sys.argv[1]) if m.name.startswith("chunks/")]
third = chunks[2]
print(third.offset_data + third.size // 2, third.name[7:], len(chunks))
EOF
read -r g_at g_chunk g_count <"$T/g.where"
S=$T/G
check "G: init and trust A" sh -c "'$AIRLOCK' --store '$S' init &&
    '$AIRLOCK' --store '$A' key pub | '$AIRLOCK' --store '$S' trust add - --name a"
AIRLOCK_CRASH_STOP=import-second-pass "$AIRLOCK_CRASHTEST" --store "$S" \
    import "$T/g.bundle" >"$T/g.out" 2>&1 &
g_pid=$!
stopped() { [ "$(cut -d' ' -f3 "/proc/$g_pid/stat")" = T ]; }
check "precondition: the import stopped between its passes" wait_for stopped
flip_byte "$T/g.bundle" "$g_at"
kill -CONT "$g_pid"
wait "$g_pid"
check "a chunk that reads otherwise the second time is refused" test $? -eq 1
check "  naming the chunk" grep -q \
    "chunk $g_chunk (entry 2 of the chunks) does not match its hash" "$T/g.out"
fails "  no revision is there" 1 al show acme/medium
flip_byte "$T/g.bundle" "$g_at"
al import "$T/g.bundle" >"$T/g.out" 2>&1
check "the good bundle imports" test $? -eq 0
check "  all $g_count of its chunks new: the refused one committed none" \
    grep -q "1 new revision, $g_count new chunks" "$T/g.out"
check "  verify --all" al verify --all
done_testing
