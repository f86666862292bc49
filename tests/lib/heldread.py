#!/usr/bin/env python3
"""heldread.py PORT PATH READY GO: GET PATH from 127.0.0.1:PORT, write
READY once asked, and read nothing until GO (a FIFO) is opened for
writing; then read the whole answer.  Prints the body's sha256 and
length: what the socket held while the client waited."""
import hashlib
import socket
import sys

port, path, ready, go = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", int(port)))
s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
open(ready, "w").close()
with open(go) as f:     # blocks until the test opens it to write
    f.read()
buf = b""
while True:
    got = s.recv(65536)
    if not got:
        break
    buf += got
body = buf.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in buf else b""
print(hashlib.sha256(body).hexdigest(), len(body))
