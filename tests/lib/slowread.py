#!/usr/bin/env python3
"""slowread.py PORT PATH CHUNK PAUSE: GET PATH from 127.0.0.1:PORT and read
the body CHUNK bytes at a time, PAUSE seconds between reads, never longer:
a client that is slow but steady.  Prints the body's sha256 and length."""
import hashlib
import socket
import sys
import time

port, path, chunk, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
s = socket.create_connection(("127.0.0.1", int(port)))
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, chunk)
s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
buf = b""
while b"\r\n\r\n" not in buf:
    got = s.recv(chunk)
    if not got:
        break
    buf += got
body = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
h = hashlib.sha256(body)
n = len(body)
while True:
    time.sleep(pause)
    got = s.recv(chunk)
    if not got:
        break
    h.update(got)
    n += len(got)
print(h.hexdigest(), n)
