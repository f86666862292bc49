#!/bin/sh
# Bytes that rot on disk are caught: a byte of a chunk flipped inside
# LMDB's data file makes verify exit 1 naming the file and the offset, and
# cat refuses to hand the bad bytes out.
. "$top_srcdir/tests/lib/tap.sh"

S=$T/store
al() { "$AIRLOCK" --store "$S" "$@"; }
m=$T/m
mkdir -p "$m"
# A file with a marker we can find in the data file, past the first chunk.
{
	head -c 700000 /dev/urandom
	printf 'AIRLOCK-CORRUPT-ME-PLEASE'
	head -c 700000 /dev/urandom
} >"$m/model.safetensors"
printf '{"a":1}\n' >"$m/config.json"
check "init" al init
check "add" al add "$m" --repo acme/rot
check "verify before" al verify acme/rot

off=$(grep -obUa 'AIRLOCK-CORRUPT-ME-PLEASE' "$S/data.mdb" | head -n1 | cut -d: -f1)
if [ -z "$off" ]; then
	not_ok "the marker is in the data file"
	done_testing
fi
ok "the marker is in the data file at $off"
printf 'X' | dd of="$S/data.mdb" bs=1 seek="$off" conv=notrunc 2>/dev/null

fails "verify after the flip exits 1" 1 al verify acme/rot
last_output | grep -q 'model.safetensors: sha256 mismatch at chunk [0-9]* (offset [0-9]*)' &&
    ok "verify names the file, chunk and offset" ||
    not_ok "verify said: $(last_output)"
# The chunk's offset in the file is where the marker's chunk starts.
chunk_off=$(last_output | sed -n 's/.*(offset \([0-9]*\)).*/\1/p' | head -n1)
[ -n "$chunk_off" ] && [ "$chunk_off" -le 700000 ] && [ "$chunk_off" -gt 0 ] &&
    ok "the offset ($chunk_off) is the start of the chunk holding byte 700000" ||
    not_ok "offset $chunk_off"
fails "verify --all exits 1 too" 1 al verify --all
fails "cat refuses rotten bytes" 1 al cat acme/rot model.safetensors
check "the other file is still fine" al cat acme/rot config.json
done_testing
