#!/bin/sh
# airlockd keeps where each file it served lies in the data file, to send
# it again with sendfile.  A chunk smaller than half an LMDB page lies
# inside a leaf of the chunk tree, which any later write may copy
# elsewhere and free, and a later write reuse: adds of other files while
# airlockd runs must never make it send those pages instead of the file.
# Through a pipe (splice, the default), by one sendfile a chunk (splice =
# no) and with sendfile = no, and a large file whose last chunk is small.
. "$top_srcdir/tests/lib/tap.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"

ADDS=40
plan 33

S=$T/store
# Random bytes, n of them.
rand() { head -c "$1" /dev/urandom; }
mkdir -p "$T/small" "$T/large"
rand 1000 >"$T/small/small.bin"
# 512 KiB (the largest chunk) of zeros cut anywhere but its end, then
# a tail that is one chunk of its own, 1000 bytes: in a leaf page.
{ head -c 524288 /dev/zero; rand 1000; } >"$T/large/large.bin"
small_sha=$(sha256sum <"$T/small/small.bin" | cut -d' ' -f1)
large_sha=$(sha256sum <"$T/large/large.bin" | cut -d' ' -f1)
"$AIRLOCK" --store "$S" init >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/small" --repo org/small >/dev/null &&
"$AIRLOCK" --store "$S" add "$T/large" --repo org/large >/dev/null
check "the CLI adds a 1000-byte file and a large one" test $? -eq 0

# get URL-PATH OUT: the body to OUT, the headers to OUT.h.
get() { curl -sS -o "$2" -D "$2.h" "$URL$1"; }
hdr() { grep -i "^$1:" "$2.h" | head -n 1 | sed 's/^[^:]*: *//' | tr -d '\r'; }
# same FILE GOT: 200, the length and the bytes of FILE.
same() {
	[ "$(sed -n '1s/^HTTP\/1\.[01] \([0-9]*\).*/\1/p' "$2.h")" = 200 ] &&
	    [ "$(hdr Content-Length "$2")" = "$(wc -c <"$1" | tr -d ' ')" ] &&
	    cmp "$1" "$2"
}
ok_if() { _d=$1; shift; if "$@" >"$T/.cmp" 2>&1; then ok "$_d"; else
	diag "$(cat "$T/.cmp")"; not_ok "$_d"; fi; }

# Adds of small files, each its own chunk in a leaf of the chunk tree,
# in a private repository: their bytes are what a stale place would show.
churn() {
	_i=0
	while [ $_i -lt $ADDS ]; do
		mkdir -p "$T/churn/$1.$_i"
		rand 1000 >"$T/churn/$1.$_i/a.bin"
		rand 1500 >"$T/churn/$1.$_i/b.bin"
		"$AIRLOCK" --store "$S" add "$T/churn/$1.$_i" \
		    --repo "secret/$1" >/dev/null || return 1
		_i=$((_i + 1))
	done
}

# serve NAME [CONF]: a daemon, each file twice around $ADDS adds.
serve() {
	_n=$1; shift
	check "$_n: airlockd starts" start_daemon "$S" "$@"
	get "/v1/blobs/sha256:$small_sha" "$T/s1"
	get "/org/large/resolve/main/large.bin" "$T/l1"
	ok_if "$_n: the small file is served right" same "$T/small/small.bin" "$T/s1"
	ok_if "  and the large one" same "$T/large/large.bin" "$T/l1"
	check "  $ADDS adds of small files while airlockd runs" churn "$_n"
	get "/v1/blobs/sha256:$small_sha" "$T/s2"
	get "/org/large/resolve/main/large.bin" "$T/l2"
	ok_if "  then the small file is still served right" \
	    same "$T/small/small.bin" "$T/s2"
	ok_if "  and the large one, its small last chunk too" \
	    same "$T/large/large.bin" "$T/l2"
	check "  airlockd stops cleanly" stop_daemon
}

serve sendfile
printf 'splice = no\n' >"$T/nosplice.conf"
serve nosplice -c "$T/nosplice.conf"
# held NAME [CONF]: the small file asked for, its bytes handed to the
# socket, then $ADDS adds before the client reads a byte.  A chunk in a
# leaf is copied, never spliced: its page is reused by the adds once its
# window is sent, while the socket, the client's end of it too, still
# holds what it was given.
held() {
	_n=$1; shift
	check "$_n: airlockd starts" start_daemon "$S" "$@"
	rm -f "$T/ready" "$T/go"
	mkfifo "$T/go"
	python3 "$top_srcdir/tests/lib/heldread.py" "${URL##*:}" \
	    "/v1/blobs/sha256:$small_sha" "$T/ready" "$T/go" >"$T/held" &
	_p=$!
	sent() { test -e "$T/ready" && curl -s "$URL/metrics" |
	    grep -q '^airlockd_streams 0$'; }
	check "  precondition: every byte is in the socket" wait_for sent
	check "  $ADDS adds while the client does not read" churn "held$_n"
	echo >"$T/go"
	wait "$_p"
	check "  then the client reads the file as it was" \
	    test "$(cat "$T/held")" = "$small_sha 1000"
	check "  airlockd stops cleanly" stop_daemon
}
held pipe
held nosplice -c "$T/nosplice.conf"
printf 'sendfile = no\nread-size = 64k\n' >"$T/nosendfile.conf"
serve nosendfile -c "$T/nosendfile.conf"

"$AIRLOCK" --store "$S" verify --all >"$T/.out" 2>&1
check "the store verifies after it all" test $? -eq 0
