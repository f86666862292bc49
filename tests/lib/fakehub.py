#!/usr/bin/env python3
"""fakehub.py - a Hugging Face Hub-faithful upstream for airlock's tests.

Serves repositories built from folders as the Hub does (MIRROR.md):

  GET /api/{models,datasets}/REPO/revision/REV   commit sha, siblings
  GET /api/{models,datasets}/REPO/tree/REV?recursive=true
        pages of PAGE_SIZE entries, an absolute Link: <...>; rel="next"
  GET|HEAD /[datasets/]REPO/resolve/REV/PATH
        non-LFS: 307, relative Location /api/resolve-cache/..., then 200
        with ETag "<git sha1>"; LFS: 302, absolute Location on the CDN
        port, signed and expiring, with X-Linked-Etag, X-Linked-Size,
        X-Repo-Commit and Xet headers (X-Xet-*, Link rel="xet-auth")
  CDN   GET /repos/.../SHA256?Expires=T&Signature=S   Range supported;
        403 for a request carrying Authorization, an expired or a bad
        signature, or a HEAD.  --cdn-url URL puts URL in the LFS
        redirects instead (another server, serving /repos/XX/YY/SHA256)

Gated repositories answer a file other than the card 401 GatedRepo
without a token and 403 GatedRepo with a token not approved; private
ones answer everything 401 RepoNotFound without their token.

Faults (in the spec's "faults" or POST /_fault, a JSON object or list):
  {"kind": K, "path": P, "count": N (default 1; -1 always), ...}
  reset      after=B     the body stops after B bytes, the socket reset
                         (what the client had not read yet is lost);
                         acked=true: once the client's kernel has
                         acknowledged every byte sent (none is lost)
  close      after=B     the body stops after B bytes, the socket closed
  stall      after=B     the body stops after B bytes, nothing more sent
                         until the client goes (or seconds=S)
  status     status=C hop=resolve|body|cdn|api|tree|revision
  ratelimit  window=W hop=...   429 with RateLimit "api";r=0;t=W,
                         RateLimit-Policy and Retry-After: W (unless
                         retry_after is false); any request
                         in the next W seconds is refused 429 as well and
                         counted as "early" in /_stats
  pace       window=W    the answer is served but says RateLimit r=0;t=W;
                         a request within W seconds is "early" (429)
  wrong      offset=O    the CDN flips the byte at O (xor 0xff)
  short      bytes=B     the file is served B bytes shorter (its
                         Content-Length too)
  long       bytes=B     B bytes longer
  tree       page=I status=C  the tree's page I (1 = the second) fails
  loop                   the resolve redirects to itself, forever
  length     value=V     the body's Content-Length is V (then the bytes)
  expire                 the resolve's signed URL has expired already
  norange                the body is the whole file, whatever the Range
  linked     size=S etag=E commit=C   the LFS 302 says these instead
P is a file's path (or "*"); for "tree" and "revision" the repo id.

Control: GET /_stats (JSON: "requests" in order, each with host, method,
path, query, range, auth, status, bytes; "files": per path requests and
body bytes; "cdn_auth": CDN requests that carried Authorization;
"early": requests made inside a rate-limit window), POST /_fault,
POST /_clear (faults and stats).

Usage: fakehub.py [--port-file FILE] [--page-size N] [--ttl S]
                  [--spec FILE.json] [TYPE:ORG/NAME=DIR]...
The spec is {"page_size", "ttl", "repos": [{"type", "id", "dir",
"gated", "private", "tokens": {"hf_..": "approved"|"pending"},
"lfs": [globs]}], "faults": [...]}.  The ports are written as
"HUB_PORT CDN_PORT" to --port-file (a FIFO the test reads) or stdout.
"""

import argparse
import base64
import fcntl
import fnmatch
import hashlib
import hmac
import json
import os
import select
import signal
import socket
import struct
import sys
import termios
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.urandom(16)
LOCK = threading.RLock()
STATE = {
    "repos": {},        # (type, id) -> repo
    "faults": [],
    "requests": [],
    "files": {},
    "cdn_auth": 0,
    "early": 0,
    "windows": [],      # times until which requests are refused
    "page_size": 2,
    "ttl": 3600,
    "hub_port": 0,
    "cdn_port": 0,
    "cdn_url": None,
}
LFS_GLOBS = ["*.safetensors", "*.bin", "*.gguf", "*.parquet", "*.pt",
             "*.onnx", "*.h5", "*.msgpack"]


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256, size):
    return ("version https://git-lfs.github.com/spec/v1\n"
            "oid sha256:%s\nsize %d\n" % (sha256, size)).encode()


class Repo:
    def __init__(self, rtype, rid, folder, gated=False, private=False,
                 tokens=None, lfs=None):
        self.type = rtype
        self.id = rid
        self.gated = gated
        self.private = private
        self.tokens = tokens or {}
        self.files = {}
        globs = lfs if lfs is not None else LFS_GLOBS
        for root, dirs, names in os.walk(folder):
            dirs.sort()
            for name in sorted(names):
                full = os.path.join(root, name)
                rel = os.path.relpath(full, folder).replace(os.sep, "/")
                with open(full, "rb") as f:
                    data = f.read()
                entry = {"data": data, "size": len(data)}
                if any(fnmatch.fnmatch(os.path.basename(rel), g)
                       for g in globs):
                    sha = hashlib.sha256(data).hexdigest()
                    ptr = lfs_pointer(sha, len(data))
                    entry.update(lfs=True, sha256=sha,
                                 oid=git_blob_sha1(ptr),
                                 pointer_size=len(ptr))
                else:
                    entry.update(lfs=False, oid=git_blob_sha1(data))
                self.files[rel] = entry
        listing = "".join("%s %s\n" % (p, e["oid"])
                          for p, e in sorted(self.files.items()))
        self.sha = hashlib.sha1((rid + "\n" + listing).encode()).hexdigest()

    def tree(self):
        """The recursive listing, directories included, as the Hub sorts
        it (by path)."""
        out, dirs = [], set()
        for path in self.files:
            parts = path.split("/")
            for i in range(1, len(parts)):
                dirs.add("/".join(parts[:i]))
        for d in dirs:
            out.append({"type": "directory", "oid": hashlib.sha1(
                d.encode()).hexdigest(), "size": 0, "path": d})
        for path, e in self.files.items():
            item = {"type": "file", "oid": e["oid"], "size": e["size"],
                    "path": path}
            if e["lfs"]:
                item["lfs"] = {"oid": e["sha256"], "size": e["size"],
                               "pointerSize": e["pointer_size"]}
                item["xetHash"] = hashlib.sha256(
                    b"xet" + e["data"][:64]).hexdigest()
            out.append(item)
        out.sort(key=lambda x: x["path"])
        return out

    def access(self, token, path=None):
        """None when allowed, else (status, code, message)."""
        kind = "dataset" if self.type == "dataset" else "model"
        grant = self.tokens.get(token) if token else None
        if self.private and grant != "approved":
            return (401, "RepoNotFound", "Repository not found")
        if self.gated and path is not None and path not in (
                "README.md", ".gitattributes") and grant != "approved":
            if token is None:
                return (401, "GatedRepo", "Access to %s %s is restricted. "
                        "You must have access to it and be authenticated "
                        "to access it. Please log in." % (kind, self.id))
            return (403, "GatedRepo", "Access to %s %s is restricted and "
                    "you are not in the authorized list. Visit "
                    "https://huggingface.co/%s to ask for access."
                    % (kind, self.id, self.id))
        return None


def take_fault(kinds, key, hop=None, page=None):
    """The first fault of one of kinds for key still to apply, used once."""
    with LOCK:
        for f in STATE["faults"]:
            if f["kind"] not in kinds:
                continue
            if f.get("path", "*") not in ("*", key):
                continue
            if hop is not None and f.get("hop", hop) != hop:
                continue
            if page is not None and int(f.get("page", 1)) != page:
                continue
            if f.get("count", 1) == 0:
                continue
            if f.get("count", 1) > 0:
                f["count"] = f.get("count", 1) - 1
            return dict(f)
    return None


def signed(path, expires):
    msg = ("%s\n%d" % (path, expires)).encode()
    return hmac.new(SECRET, msg, hashlib.sha256).hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fakehub"
    host_kind = "hub"

    def log_message(self, fmt, *args):
        pass

    # --- bookkeeping -------------------------------------------------------

    def record(self, status, nbytes, key=None):
        """Records the answer before it is sent (the client may act on it
        at once), so that the requests are in the order they happened;
        more() adds the body bytes sent afterwards."""
        u = urllib.parse.urlsplit(self.path)
        with LOCK:
            self.entry = {
                "t": time.time(), "host": self.host_kind,
                "method": self.command, "path": urllib.parse.unquote(u.path),
                "query": u.query, "range": self.headers.get("Range"),
                "auth": self.headers.get("Authorization") is not None,
                "accept_encoding": self.headers.get("Accept-Encoding"),
                "user_agent": self.headers.get("User-Agent"),
                "status": status, "bytes": 0, "file": key}
            STATE["requests"].append(self.entry)
            if key is not None:
                s = STATE["files"].setdefault(key, {"requests": 0,
                                                    "bytes": 0})
                s["requests"] += 1
        self.more(nbytes)

    def more(self, nbytes):
        with LOCK:
            self.entry["bytes"] += nbytes
            key = self.entry["file"]
            if key is not None:
                STATE["files"][key]["bytes"] += nbytes

    def token(self):
        a = self.headers.get("Authorization")
        if a and a.startswith("Bearer "):
            return a[7:].strip()
        return None

    def send(self, status, body=b"", ctype="application/json",
             headers=None, key=None, head=False):
        if isinstance(body, str):
            body = body.encode()
        self.record(status, 0 if head else len(body), key)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, status, code, message, key=None, headers=None):
        h = {"X-Error-Code": code, "X-Error-Message": message}
        h.update(headers or {})
        self.send(status, json.dumps({"error": message}), headers=h,
                  key=key, head=self.command == "HEAD")

    def refused_by_window(self, key=None):
        """Inside a rate-limit window: 429, counted as early."""
        now = time.time()
        with LOCK:
            until = max(STATE["windows"], default=0)
            if now >= until:
                return False
            STATE["early"] += 1
        left = max(1, int(until - now + 0.999))
        self.error(429, "RateLimited", "Rate limit reached", key=key,
                   headers={"RateLimit": '"api";r=0;t=%d' % left,
                            "RateLimit-Policy":
                            '"fixed window";"api";q=1;w=%d' % left,
                            "Retry-After": str(left)})
        return True

    def rate_faults(self, key, hop):
        """A 429 fault (True: answered), or the headers of a pace one."""
        f = take_fault(("ratelimit",), key, hop)
        if f is not None:
            w = int(f.get("window", 2))
            with LOCK:
                STATE["windows"].append(time.time() + w)
            h = {"RateLimit": '"api";r=0;t=%d' % w,
                 "RateLimit-Policy": '"fixed window";"api";q=500;w=%d' % w}
            if f.get("retry_after", True):
                h["Retry-After"] = str(w)
            self.error(429, "RateLimited", "You have been rate-limited; "
                       "you can retry this action in %d seconds." % w,
                       key=key, headers=h)
            return True, {}
        f = take_fault(("pace",), key, hop)
        if f is not None:
            w = int(f.get("window", 2))
            with LOCK:
                STATE["windows"].append(time.time() + w)
            return False, {"RateLimit": '"api";r=0;t=%d' % w,
                           "RateLimit-Policy":
                           '"fixed window";"api";q=500;w=%d' % w}
        return False, {"RateLimit": '"api";r=499;t=300',
                       "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}

    def status_fault(self, key, hop):
        f = take_fault(("status",), key, hop)
        if f is None:
            return False
        st = int(f.get("status", 503))
        self.error(st, "ServiceUnavailable" if st == 503 else "Error",
                   "injected HTTP %d" % st, key=key)
        return True

    # --- dispatch ----------------------------------------------------------

    def do_HEAD(self):
        self.dispatch()

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        if self.host_kind != "hub":
            return self.send(405, "{}")
        if u.path == "/_fault":
            f = json.loads(body or b"{}")
            with LOCK:
                STATE["faults"].extend(f if isinstance(f, list) else [f])
            return self.send(200, "{}")
        if u.path == "/_clear":
            with LOCK:
                STATE["faults"] = []
                STATE["requests"] = []
                STATE["files"] = {}
                STATE["cdn_auth"] = 0
                STATE["early"] = 0
                STATE["windows"] = []
            return self.send(200, "{}")
        self.send(404, "{}")

    def dispatch(self):
        try:
            if self.host_kind == "cdn":
                self.cdn()
            else:
                self.hub()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def hub(self):
        u = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in u.path.split("/")]
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/_stats":
            with LOCK:
                doc = json.dumps({
                    "requests": STATE["requests"], "files": STATE["files"],
                    "cdn_auth": STATE["cdn_auth"], "early": STATE["early"],
                    "commits": {"%s/%s" % k: r.sha
                                for k, r in STATE["repos"].items()}})
            return self.send(200, doc)
        if self.refused_by_window():
            return
        # /api/{models,datasets}/ORG/NAME/{revision,tree}/REV[/...]
        if len(parts) >= 7 and parts[1] == "api" and parts[2] in (
                "models", "datasets"):
            rtype = "model" if parts[2] == "models" else "dataset"
            repo = STATE["repos"].get((rtype, parts[3] + "/" + parts[4]))
            what = parts[5]
            rev = parts[6]
            if repo is None:
                return self.error(401, "RepoNotFound",
                                  "Repository not found")
            denied = repo.access(self.token())
            if denied:
                return self.error(*denied)
            if rev not in ("main", repo.sha):
                return self.error(404, "RevisionNotFound",
                                  "Invalid rev id: %s" % rev)
            if what == "revision":
                return self.revision(repo)
            if what == "tree":
                return self.tree(repo, q)
        # /api/resolve-cache/{models,datasets}/ORG/NAME/SHA/PATH
        if len(parts) >= 8 and parts[1] == "api" and \
                parts[2] == "resolve-cache":
            rtype = "model" if parts[3] == "models" else "dataset"
            repo = STATE["repos"].get((rtype, parts[4] + "/" + parts[5]))
            path = "/".join(parts[7:])
            if repo is None or parts[6] != repo.sha or \
                    path not in repo.files:
                return self.error(404, "EntryNotFound", "Entry not found")
            denied = repo.access(self.token(), path)
            if denied:
                return self.error(*denied, key=path)
            return self.body(repo, path, "body")
        # /[datasets/]ORG/NAME/resolve/REV/PATH
        rtype = "model"
        p = parts[1:]
        if p and p[0] == "datasets":
            rtype, p = "dataset", p[1:]
        if len(p) >= 5 and p[2] == "resolve":
            repo = STATE["repos"].get((rtype, p[0] + "/" + p[1]))
            if repo is None:
                return self.error(401, "RepoNotFound",
                                  "Repository not found")
            return self.resolve(repo, p[3], "/".join(p[4:]))
        self.send(404, json.dumps({"error": "not found"}))

    def revision(self, repo):
        key = "revision:" + repo.id
        limited, rl = self.rate_faults(repo.id, "revision")
        if limited or self.status_fault(repo.id, "revision"):
            return
        doc = {"_id": "66" + repo.sha[:22], "id": repo.id,
               "private": repo.private,
               "gated": "manual" if repo.gated else False,
               "disabled": False, "sha": repo.sha,
               "lastModified": "2026-11-23T12:00:00.000Z",
               "createdAt": "2026-11-01T12:00:00.000Z",
               "tags": ["airlock"], "downloads": 0, "likes": 0,
               "siblings": [{"rfilename": p} for p in sorted(repo.files)]}
        self.send(200, json.dumps(doc), headers=rl, key=key)

    def tree(self, repo, q):
        limited, rl = self.rate_faults(repo.id, "tree")
        if limited or self.status_fault(repo.id, "tree"):
            return
        entries = repo.tree()
        if q.get("recursive", ["false"])[0] != "true":
            entries = [e for e in entries if "/" not in e["path"]]
        start = 0
        if "cursor" in q:
            start = json.loads(base64.urlsafe_b64decode(
                q["cursor"][0].encode()))["i"]
        size = STATE["page_size"]
        page_index = start // size
        f = take_fault(("tree",), repo.id, page=page_index)
        if f is not None:
            return self.error(int(f.get("status", 500)), "Error",
                              "injected failure of the tree's page %d"
                              % (page_index + 1), key="tree:%d" % page_index)
        page = entries[start:start + size]
        headers = dict(rl)
        if start + size < len(entries):
            cur = base64.urlsafe_b64encode(json.dumps(
                {"i": start + size}).encode()).decode()
            nq = dict((k, v[0]) for k, v in q.items() if k != "cursor")
            nq["cursor"] = cur
            headers["Link"] = '<http://127.0.0.1:%d%s?%s>; rel="next"' % (
                STATE["hub_port"], urllib.parse.quote(
                    urllib.parse.urlsplit(self.path).path),
                urllib.parse.urlencode(nq))
        self.send(200, json.dumps(page), headers=headers,
                  key="tree:%d" % page_index)

    def resolve(self, repo, rev, path):
        head = self.command == "HEAD"
        limited, rl = self.rate_faults(path, "resolve")
        if limited or self.status_fault(path, "resolve"):
            return
        denied = repo.access(self.token(), path)
        if denied:
            return self.error(*denied, key=path)
        if rev not in ("main", repo.sha):
            return self.error(404, "RevisionNotFound",
                              "Invalid rev id: %s" % rev)
        if path not in repo.files:
            return self.error(404, "EntryNotFound",
                              "%s does not exist on \"%s\"" % (path, rev))
        e = repo.files[path]
        if take_fault(("loop",), path) is not None:
            # Each hop's answer is this one again: the loop never ends.
            with LOCK:
                STATE["faults"].append({"kind": "loop", "path": path,
                                        "count": 1})
            return self.send(302, "Found.", "text/plain", headers={
                "Location": urllib.parse.quote(
                    urllib.parse.urlsplit(self.path).path),
                "X-Repo-Commit": repo.sha}, key=path, head=head)
        common = {"X-Repo-Commit": repo.sha}
        common.update(rl)
        if not e["lfs"]:
            loc = "/api/resolve-cache/%ss/%s/%s/%s?%%2F%s%%2Fresolve%%2F" \
                  "%s%%2F%s&etag=%%22%s%%22" % (
                      repo.type, repo.id, repo.sha,
                      urllib.parse.quote(path), repo.id.replace("/", "%2F"),
                      rev, urllib.parse.quote(path, safe=""), e["oid"])
            common.update({"Location": loc, "ETag": '"%s"' % e["oid"],
                           "Vary": "Origin, Accept-Encoding"})
            return self.send(307, "Temporary Redirect. Redirecting to "
                             + loc, "text/plain", headers=common,
                             key=path, head=head)
        expires = int(time.time()) + STATE["ttl"]
        if take_fault(("expire",), path) is not None:
            expires = int(time.time()) - 10
        cdn_path = "/repos/%s/%s/%s" % (repo.sha[:2], repo.sha[2:4],
                                        e["sha256"])
        loc = "%s%s?response-content-disposition=" \
              "inline%%3B+filename%%3D%%22%s%%22&Expires=%d&" \
              "Signature=%s&Key-Pair-Id=K3RPWS32NSSJCE" % (
                  STATE["cdn_url"] or
                  "http://127.0.0.1:%d" % STATE["cdn_port"], cdn_path,
                  urllib.parse.quote(path.split("/")[-1]), expires,
                  signed(cdn_path, expires))
        common.update({
            "Location": loc,
            "ETag": '"%s"' % e["sha256"],
            "X-Linked-Etag": '"%s"' % e["sha256"],
            "X-Linked-Size": str(e["size"]),
            "X-Xet-Hash": hashlib.sha256(b"xet" + e["data"][:64])
            .hexdigest(),
            "X-Xet-Refresh-Route": "/api/%ss/%s/xet-read-token/%s" % (
                repo.type, repo.id, repo.sha),
            "X-Xet-Cas-Url": "http://127.0.0.1:%d/xet-cas"
                             % STATE["hub_port"],
            "X-Xet-Access-Token": "xet_not_for_you",
            "X-Xet-Token-Expiration": str(expires),
            "Link": '<http://127.0.0.1:%d/api/%ss/%s/xet-read-token/%s>; '
                    'rel="xet-auth", <http://127.0.0.1:%d/xet-cas>; '
                    'rel="xet-reconstruction-info"' % (
                        STATE["hub_port"], repo.type, repo.id, repo.sha,
                        STATE["hub_port"]),
        })
        f = take_fault(("linked",), path)
        if f is not None:
            for k, h in (("size", "X-Linked-Size"), ("etag", "X-Linked-Etag"),
                         ("commit", "X-Repo-Commit")):
                if k in f:
                    common[h] = f[k]
        self.send(302, "Found. Redirecting to " + loc, "text/plain",
                  headers=common, key=path, head=head)

    # --- bodies --------------------------------------------------------------

    def body(self, repo, path, hop):
        """A file's bytes (resolve-cache or CDN), Range and faults."""
        e = repo.files[path]
        head = self.command == "HEAD"
        if self.status_fault(path, hop):
            return
        data = e["data"]
        f = take_fault(("wrong",), path)
        if f is not None and len(data) > 0:
            o = min(int(f.get("offset", 0)), len(data) - 1)
            data = data[:o] + bytes([data[o] ^ 0xff]) + data[o + 1:]
        f = take_fault(("short", "long"), path)
        if f is not None:
            n = int(f.get("bytes", 1))
            data = data[:max(0, len(data) - n)] if f["kind"] == "short" \
                else data + b"\0" * n
        start, end, status = 0, len(data) - 1, 200
        rng = self.headers.get("Range")
        if rng and take_fault(("norange",), path) is not None:
            rng = None
        if rng and rng.startswith("bytes=") and "," not in rng:
            a, _, b = rng[6:].partition("-")
            if a.isdigit():
                start = int(a)
                end = int(b) if b.isdigit() else len(data) - 1
                end = min(end, len(data) - 1)
                if start >= len(data):
                    self.send(416, "", headers={
                        "Content-Range": "bytes */%d" % len(data)},
                        key=path)
                    return
                status = 206
        part = data[start:end + 1]
        headers = {"Accept-Ranges": "bytes", "X-Repo-Commit": repo.sha,
                   "ETag": '"%s"' % (e["sha256"] if e["lfs"] else e["oid"])}
        if status == 206:
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end,
                                                            len(data))
        length = str(len(part))
        lf = take_fault(("length",), path)
        if lf is not None:
            length = str(lf.get("value", 10 ** 17))
        reset = take_fault(("reset", "close"), path)
        stall = take_fault(("stall",), path) if reset is None else None
        self.record(status, 0, path)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", length)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        cut = None
        if reset is not None:
            cut = int(reset.get("after", len(part) // 2))
        if stall is not None:
            cut = int(stall.get("after", len(part) // 2))
        if lf is not None:
            cut = min(len(part), 4096)
        sent = 0
        try:
            view = memoryview(part)[:cut if cut is not None else len(part)]
            while sent < len(view):
                n = self.wfile.write(view[sent:sent + 65536])
                sent += n if n else 0
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.more(sent)
            self.close_connection = True
            return
        self.more(sent)
        if reset is not None and reset["kind"] == "close":
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        elif reset is not None or lf is not None:
            if reset is not None and reset.get("acked"):
                self.acked()
            self.abort()
        elif stall is not None:
            # Nothing more: wait until the client gives up and closes.
            limit = time.time() + float(stall.get("seconds", 300))
            while time.time() < limit:
                r, _, _ = select.select([self.connection], [], [], 0.2)
                if r:
                    try:
                        if not self.connection.recv(4096):
                            break
                    except OSError:
                        break
            self.abort()

    def acked(self):
        """Waits until the client's kernel has acknowledged every byte
        sent (the send queue is empty), or 10 s."""
        limit = time.time() + 10
        buf = struct.pack("i", 0)
        while time.time() < limit:
            try:
                n = struct.unpack("i", fcntl.ioctl(self.connection.fileno(),
                                                   termios.TIOCOUTQ, buf))[0]
            except OSError:
                return
            if n == 0:
                return
            time.sleep(0.005)

    def abort(self):
        """Ends the connection with a reset, whatever is in flight."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass

    def cdn(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        key = None
        with LOCK:
            for r in STATE["repos"].values():
                for p, e in r.files.items():
                    if e["lfs"] and u.path.endswith("/" + e["sha256"]):
                        key, repo = p, r
        if self.headers.get("Authorization") is not None:
            with LOCK:
                STATE["cdn_auth"] += 1
            return self.send(403, "<?xml version=\"1.0\" encoding=\"UTF-8\""
                             "?><Error><Code>InvalidArgument</Code><Message>"
                             "Only one auth mechanism allowed; only the "
                             "X-Amz-Algorithm query parameter, Signature "
                             "query string parameter or the Authorization "
                             "header should be specified</Message></Error>",
                             "application/xml", key=key)
        try:
            expires = int(q["Expires"][0])
            sig = q["Signature"][0]
        except (KeyError, ValueError):
            return self.send(403, "<Error><Code>MissingKey</Code></Error>",
                             "application/xml", key=key)
        if not hmac.compare_digest(sig, signed(u.path, expires)) or \
                key is None or self.command != "GET":
            return self.send(403, "<Error><Code>SignatureDoesNotMatch"
                             "</Code></Error>", "application/xml", key=key)
        if time.time() > expires:
            return self.send(403, "<Error><Code>AccessDenied</Code><Message>"
                             "Request has expired</Message></Error>",
                             "application/xml", key=key)
        self.body(repo, key, "cdn")


class HubHandler(Handler):
    host_kind = "hub"


class CdnHandler(Handler):
    host_kind = "cdn"


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    ap.add_argument("--page-size", type=int)
    ap.add_argument("--ttl", type=int)
    ap.add_argument("--spec")
    # Another server for the LFS files (nginx in bench/mirror.sh), which
    # must serve /repos/XX/YY/SHA256 as the file of that sha256; its own
    # CDN port then only serves what is asked of it directly.
    ap.add_argument("--cdn-url")
    ap.add_argument("repos", nargs="*")
    a = ap.parse_args()
    spec = {}
    if a.spec:
        with open(a.spec) as f:
            spec = json.load(f)
    STATE["page_size"] = a.page_size or spec.get("page_size", 2)
    STATE["ttl"] = a.ttl or spec.get("ttl", 3600)
    STATE["cdn_url"] = a.cdn_url
    for r in spec.get("repos", []):
        repo = Repo(r.get("type", "model"), r["id"], r["dir"],
                    gated=r.get("gated", False),
                    private=r.get("private", False),
                    tokens=r.get("tokens"), lfs=r.get("lfs"))
        STATE["repos"][(repo.type, repo.id)] = repo
    for arg in a.repos:
        what, _, folder = arg.partition("=")
        rtype, _, rid = what.rpartition(":")
        repo = Repo(rtype or "model", rid, folder)
        STATE["repos"][(repo.type, repo.id)] = repo
    STATE["faults"] = list(spec.get("faults", []))
    hub = Server(("127.0.0.1", 0), HubHandler)
    cdn = Server(("127.0.0.1", 0), CdnHandler)
    STATE["hub_port"] = hub.server_address[1]
    STATE["cdn_port"] = cdn.server_address[1]
    for s in (hub, cdn):
        threading.Thread(target=s.serve_forever, daemon=True).start()
    line = "%d %d\n" % (STATE["hub_port"], STATE["cdn_port"])
    if a.port_file:
        with open(a.port_file, "w") as f:
            f.write(line)
    else:
        sys.stdout.write(line)
        sys.stdout.flush()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
