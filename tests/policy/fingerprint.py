#!/usr/bin/env python3
"""fingerprint.py FILE...: the sha256 of each licence text's normalised
form, as policy/policy.h defines it, written independently of the C code
so that each checks the other:

  lines are split at LF; ASCII letters are lower-cased; every byte that is
  not an ASCII letter or digit separates words; a line whose first word is
  "copyright" is dropped (so a filled-in or template copyright line does
  not change the licence); the remaining words are joined by one space.
"""
import hashlib
import sys


def normalise(data: bytes) -> bytes:
    words = []
    for line in data.split(b"\n"):
        w = []
        cur = bytearray()
        for b in line:
            c = b | 0x20 if 0x41 <= b <= 0x5A else b
            if 0x61 <= c <= 0x7A or 0x30 <= c <= 0x39:
                cur.append(c)
            elif cur:
                w.append(bytes(cur))
                cur = bytearray()
        if cur:
            w.append(bytes(cur))
        if w and w[0] == b"copyright":
            continue
        words.extend(w)
    return b" ".join(words)


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(normalise(data)).hexdigest()


if __name__ == "__main__":
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            print(fingerprint(f.read()), path)
