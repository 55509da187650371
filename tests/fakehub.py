#!/usr/bin/python3
"""fakehub.py — a tiny stand-in for the HuggingFace hub, for headscan's download tests.

Serves repos from a folder with the hub's real URL layout, on 127.0.0.1 only:
  ROOT/models/ORG/NAME/REV/<files>     ROOT/datasets/ORG/NAME/REV/<files>
  (REV is a branch name, "/" written as "%2F", e.g. refs%2Fconvert%2Fparquet)

  GET  /api/{models|datasets}/ORG/NAME/revision/REV  → {"id", "sha", "siblings": [{"rfilename"}]}
  HEAD|GET /[datasets/]ORG/NAME/resolve/REV/FILE     → small files: 200 with ETag (git blob sha1),
        X-Repo-Commit; large files (LFS, > 1 KiB or .safetensors/.parquet): 302 to an absolute
        /cdn/<sha256> URL with X-Linked-Etag (sha256), X-Linked-Size, X-Repo-Commit
  GET  /cdn/<sha256>                                 → the bytes; honours "Range: bytes=N-"
Commits are sha1("type/ORG/NAME@REV"); a commit works as a revision too.
Errors as the hub sends them: 404 with X-Error-Code RepoNotFound / RevisionNotFound /
EntryNotFound; a --gated repo's files need "Authorization: Bearer <--token>" (401 without,
403 with a wrong one). --rename OLD=NEW answers OLD's URLs with a relative 307 to NEW.
Modes: --drop (the first GET of each CDN object sends half its bytes, then closes the
connection), --stall S (the same, but the connection hangs S seconds before closing), --slow BPS (CDN bytes trickle at BPS bytes/s), --fail5xx N (the first N API
requests get 503), --cdn-host H (CDN redirects name host H). Every request is appended to
--log as "METHOD PATH AUTH RANGE" (AUTH = "token" or "-": the token itself is never logged;
RANGE = the Range header or "-"). The port goes to --port-file once listening; the server
exits by itself after --timeout seconds.
"""
import argparse, hashlib, json, os, socket, sys, threading, time, urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

A = None
LOCK = threading.Lock()
dropped = set()
api_failures = [0]


def commit_of(rtype, repo, rev):
    return hashlib.sha1(f"{rtype}/{repo}@{rev}".encode()).hexdigest()


def revisions(rtype, repo):
    d = os.path.join(A.root, rtype, repo)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def find_rev(rtype, repo, rev):
    """The folder name of a revision given as branch name or commit; None if absent."""
    for r in revisions(rtype, repo):
        name = urllib.parse.unquote(r)
        if rev == name or rev == commit_of(rtype, repo, name):
            return r
    return None


def files_of(folder):
    out = []
    for dp, _, fns in os.walk(folder):
        for fn in fns:
            out.append(os.path.relpath(os.path.join(dp, fn), folder))
    return sorted(out)


def is_lfs(name, size):
    return size > 1024 or name.endswith((".safetensors", ".parquet", ".bin"))


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def cdn_index():
    idx = {}
    for dp, _, fns in os.walk(A.root):
        for fn in fns:
            p = os.path.join(dp, fn)
            with open(p, "rb") as f:
                idx[hashlib.sha256(f.read()).hexdigest()] = p
    return idx


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def record(self):
        auth = "token" if self.headers.get("Authorization") else "-"
        if A.log:
            with LOCK, open(A.log, "a") as f:
                f.write(f"{self.command} {self.path} {auth} {self.headers.get('Range') or '-'}\n")

    def reply(self, code, headers=None, body=b""):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def error(self, code, err_code, msg):
        self.reply(code, {"X-Error-Code": err_code, "X-Error-Message": msg, "Content-Type": "text/plain"},
                   msg.encode())

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def handle_any(self):
        try:
            self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True   # the client went away (a cancelled download)

    def route(self):
        self.record()
        path = urllib.parse.urlsplit(self.path).path
        for pair in A.rename:
            old, new = pair.split("=", 1)
            for prefix in ("/api/models/", "/api/datasets/", "/", "/datasets/"):
                if path.startswith(prefix + old + "/"):
                    return self.reply(307, {"Location": prefix + new + path[len(prefix + old):]})
        if path.startswith("/cdn/"):
            return self.cdn(path[5:])
        if path.startswith("/api/"):
            return self.api(path[5:])
        rtype = "models"
        if path.startswith("/datasets/"):
            rtype, path = "datasets", path[len("/datasets"):]
        parts = path.lstrip("/").split("/")
        # ORG/NAME/resolve/REV/FILE, or NAME/resolve/REV/FILE for the hub's canonical
        # namespace-less repos (gpt2, distilgpt2, ...)
        k = 2 if len(parts) >= 5 and parts[2] == "resolve" else 1
        if len(parts) < k + 3 or parts[k] != "resolve":
            return self.error(404, "RepoNotFound", "no such route")
        repo = "/".join(parts[:k])
        rev = urllib.parse.unquote(parts[k + 1])
        fname = urllib.parse.unquote("/".join(parts[k + 2:]))
        if not revisions(rtype, repo):
            return self.error(404, "RepoNotFound", f"Repository Not Found for url: {self.path}")
        if repo in A.gated:
            auth = self.headers.get("Authorization")
            if not auth:
                return self.error(401, "GatedRepo", "Access to this gated repo is restricted; log in")
            if auth != f"Bearer {A.token}":
                return self.error(403, "GatedRepo", "You have not been granted access to this repo")
        rdir = find_rev(rtype, repo, rev)
        if rdir is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        fpath = os.path.join(A.root, rtype, repo, rdir, fname)
        if not os.path.isfile(fpath) or ".." in fname.split("/"):
            self.send_response(404)
            self.send_header("X-Error-Code", "EntryNotFound")
            self.send_header("X-Repo-Commit", commit_of(rtype, repo, urllib.parse.unquote(rdir)))
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(fpath, "rb") as f:
            data = f.read()
        commit = commit_of(rtype, repo, urllib.parse.unquote(rdir))
        if is_lfs(fname, len(data)):
            sha = hashlib.sha256(data).hexdigest()
            host = f"http://{A.cdn_host}:{self.server.server_port}"
            return self.reply(302, {"Location": f"{host}/cdn/{sha}?X-Signature=secret", "X-Repo-Commit": commit,
                                    "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(len(data)),
                                    "ETag": f'"{git_blob_sha1(data)}"'})
        return self.reply(200, {"X-Repo-Commit": commit, "ETag": f'"{git_blob_sha1(data)}"',
                                "Content-Type": "application/octet-stream"}, data)

    def api(self, rest):
        parts = rest.split("/")
        if A.fail5xx and api_failures[0] < A.fail5xx:
            api_failures[0] += 1
            return self.error(503, "Unavailable", "try again")
        # models/ORG/NAME/revision/REV or models/NAME/revision/REV (namespace-less repos)
        k = 3 if len(parts) >= 5 and parts[3] == "revision" else 2
        if len(parts) < k + 2 or parts[0] not in ("models", "datasets") or parts[k] != "revision":
            return self.error(404, "RepoNotFound", "no such API route")
        rtype, repo = parts[0], "/".join(parts[1:k])
        rev = urllib.parse.unquote("/".join(parts[k + 1:]))
        if not revisions(rtype, repo):
            return self.error(404, "RepoNotFound", f"Repository Not Found: {repo}")
        rdir = find_rev(rtype, repo, rev)
        if rdir is None:
            return self.error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
        folder = os.path.join(A.root, rtype, repo, rdir)
        body = json.dumps({"id": repo, "sha": commit_of(rtype, repo, urllib.parse.unquote(rdir)),
                           "gated": "manual" if repo in A.gated else False,
                           "siblings": [{"rfilename": f} for f in files_of(folder)]}).encode()
        self.reply(200, {"Content-Type": "application/json"}, body)

    def cdn(self, name):
        sha = name.split("?")[0]
        p = cdn_index().get(sha)
        if not p:
            return self.error(404, "EntryNotFound", "no such object")
        with open(p, "rb") as f:
            data = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start >= len(data):
                return self.reply(416, {"Content-Range": f"bytes */{len(data)}"})
        body = data[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", f'"{sha}"')
        self.end_headers()
        if self.command == "HEAD":
            return
        if (A.drop or A.stall) and self.command == "GET":
            with LOCK:
                first = sha not in dropped
                dropped.add(sha)
            if first:
                # half of the bytes, then the connection goes away (or hangs for --stall s)
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                if A.stall:
                    time.sleep(A.stall)
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
        if A.slow:
            chunk = max(1, A.slow // 20)
            for i in range(0, len(body), chunk):
                self.wfile.write(body[i:i + chunk])
                self.wfile.flush()
                time.sleep(chunk / A.slow)
        else:
            self.wfile.write(body)


def main():
    global A
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--token", default="")
    ap.add_argument("--gated", action="append", default=[])
    ap.add_argument("--rename", action="append", default=[])
    ap.add_argument("--drop", action="store_true")
    ap.add_argument("--slow", type=int, default=0)
    ap.add_argument("--stall", type=float, default=0)
    ap.add_argument("--fail5xx", type=int, default=0)
    ap.add_argument("--cdn-host", default="127.0.0.1", help="host name in CDN redirects (e.g. localhost, "
                    "to be another host than the endpoint's 127.0.0.1)")
    A = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = A.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_port))
    os.rename(tmp, A.port_file)
    threading.Timer(A.timeout, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
