#!/usr/bin/env python3
"""flipproxy.py UPSTREAM PORTFILE [flip|hide|replace] [PREFIX [OLD NEW]]

A tiny HTTP proxy on loopback for tests: forwards GET and HEAD to the
UPSTREAM base URL as they came (Host included).  With flip (the default)
it flips one bit of the first byte of every 2xx body whose path starts
with PREFIX (default /v1/chunks/), as a tampering upstream or a man in the
middle would; with hide it answers 404 for those paths instead (an
airlockd with /v1/ hidden speaks only the Hub's API); with replace it
replaces the bytes OLD with NEW in those bodies.  Writes the port it
listens on to PORTFILE once it listens: $FLIPPROXY_PORT, or one the
kernel picks.
"""
import http.client
import os
import http.server
import sys
import urllib.parse

UP = urllib.parse.urlsplit(sys.argv[1])
PORTFILE = sys.argv[2]
MODE = sys.argv[3] if len(sys.argv) > 3 else "flip"
PREFIX = sys.argv[4] if len(sys.argv) > 4 else (
    "/v1/chunks/" if MODE == "flip" else "/v1")
OLD = sys.argv[5].encode() if len(sys.argv) > 6 else b""
NEW = sys.argv[6].encode() if len(sys.argv) > 6 else b""
HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        if MODE == "hide" and self.path.startswith(PREFIX):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        conn = http.client.HTTPConnection(UP.hostname, UP.port, timeout=30)
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in HOP}
        conn.request(self.command, self.path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        conn.close()
        if (self.path.startswith(PREFIX) and 200 <= r.status < 300
                and body):
            if MODE == "replace":
                body = body.replace(OLD, NEW)
            else:
                body = bytes([body[0] ^ 1]) + body[1:]
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = forward
    do_HEAD = forward

    def log_message(self, *args):
        pass


srv = http.server.ThreadingHTTPServer(
    ("127.0.0.1", int(os.environ.get("FLIPPROXY_PORT", "0"))), Proxy)
with open(PORTFILE + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(PORTFILE + ".tmp", PORTFILE)
srv.serve_forever()
