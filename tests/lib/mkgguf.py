#!/usr/bin/env python3
"""mkgguf.py - a GGUF v3 file for the tests, written from ggml's
docs/gguf.md rather than by airlock's reader: "GGUF", u32 version 3, u64
tensor count, u64 metadata count, the metadata pairs (u64-length string
key, u32 type, value), the tensor infos (name, u32 dims, u64 each, u32
ggml type, u64 offset), padding to general.alignment (32), then the
tensor data.  Every number little endian.

The general.* keys come first, as llama.cpp's writer puts them, then a
tokenizer array of strings (what makes a real header a few hundred KiB)
and the tensors' bytes (random) up to SIZE bytes in all.

Usage: mkgguf.py FILE SIZE LICENSE BASE_REPO_URL [TOKENS]
"""

import os
import struct
import sys

T_U32, T_STRING, T_ARRAY = 4, 8, 9
ALIGN = 32


def s(text):
    b = text.encode()
    return struct.pack("<Q", len(b)) + b


def kv_str(key, value):
    return s(key) + struct.pack("<I", T_STRING) + s(value)


def kv_u32(key, value):
    return s(key) + struct.pack("<I", T_U32) + struct.pack("<I", value)


def main():
    path, size, licence, base_url = sys.argv[1], int(sys.argv[2]), \
        sys.argv[3], sys.argv[4]
    ntok = int(sys.argv[5]) if len(sys.argv) > 5 else 32000
    base_repo = base_url.rstrip("/").split("/")[-1]
    kvs = [
        kv_str("general.architecture", "llama"),
        kv_str("general.name", "Finetune 8B GGUF"),
        kv_str("general.license", licence),
        kv_u32("general.base_model.count", 1),
        kv_str("general.base_model.0.name", base_repo),
        kv_str("general.base_model.0.organization", "Meta Llama"),
        kv_str("general.base_model.0.repo_url", base_url),
        kv_u32("general.alignment", ALIGN),
        s("tokenizer.ggml.tokens") + struct.pack("<I", T_ARRAY) +
        struct.pack("<IQ", T_STRING, ntok) +
        b"".join(s("tok%05d" % i) for i in range(ntok)),
    ]
    # Two f32 tensors (ggml type 0) sharing the data after the header.
    nfloat = 1024
    tensors = [("token_embd.weight", 0), ("output.weight", nfloat * 4)]
    infos = b"".join(s(name) + struct.pack("<I", 1) +
                     struct.pack("<Q", nfloat) + struct.pack("<I", 0) +
                     struct.pack("<Q", off) for name, off in tensors)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs)) + \
        b"".join(kvs) + infos
    head += b"\0" * (-len(head) % ALIGN)
    if size < len(head):
        sys.exit("mkgguf.py: %d bytes is less than the header's %d"
                 % (size, len(head)))
    with open(path, "wb") as f:
        f.write(head)
        left = size - len(head)
        while left > 0:
            n = min(left, 1 << 20)
            f.write(os.urandom(n))
            left -= n
    print(len(head))


if __name__ == "__main__":
    main()
