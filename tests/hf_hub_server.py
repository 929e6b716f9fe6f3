"""A local fake of the Hugging Face hub's HTTP API: what ``HfFileSystem`` (``hf://``) asks of it.

Only model repos, and only reading. The endpoints are those ``huggingface_hub`` 2.x calls to
ls / info / open a repo's files (``hf_file_system.py`` and ``hf_api.py``):

- ``GET /api/models/{org}/{name}`` and ``/api/models/{org}/{name}/revision/{rev}``: repo info
  (``HfFileSystem.resolve_path`` asks it once per repo and revision to tell "no such repo");
- ``GET /api/models/{org}/{name}/tree/{rev}[/{path}]?recursive=&expand=``: a folder's listing,
  paginated by a ``Link: <...>; rel="next"`` header as the hub does;
- ``POST /api/models/{org}/{name}/paths-info/{rev}`` (form: ``paths``, ``expand``): some paths' infos;
- ``GET`` / ``HEAD /{org}/{name}/resolve/{rev}/{path}``: a file's bytes, Range honoured (206), with
  the ETag / X-Repo-Commit / X-Linked-Size headers ``huggingface_hub``'s downloads read.

Errors carry the hub's ``X-Error-Code`` header (RepoNotFound, RevisionNotFound, EntryNotFound),
which ``huggingface_hub`` turns into its typed errors. A repo's revisions are local folders; a
revision is named by a branch or by its (fake, deterministic) commit sha. Every request is logged
(method, path, Range asked, body bytes sent, whether a token came) so tests can bound what an
operation costs and check that the token in the environment was sent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

# files the hub stores in LFS (as .gitattributes of a new model repo says): pointers in git, bytes in LFS
LFS_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".pt2", ".h5", ".msgpack", ".onnx")


@dataclass
class HubRequest:
    method: str
    path: str  # the URL's path, unquoted, without the query
    range: tuple[int, int] | None  # bytes start:stop asked for
    sent: int  # body bytes sent
    token: str | None  # the bearer token the request carried

    @property
    def is_resolve(self) -> bool:
        """A request for a file's bytes (not the API)."""
        return "/resolve/" in self.path and not self.path.startswith("/api/")


@dataclass
class _Revision:
    commit: str
    root: Path


@dataclass
class FakeHub:
    """The fake hub over local folders (``add``); ``start`` it, point ``HF_ENDPOINT`` at ``url``.

    ``token``: when set, every request must carry ``Authorization: Bearer <token>`` (else 401),
    as a private repo would. ``page_size``: entries per tree page (the hub sends 1000). ``down``:
    drop every connection unanswered (``"files"``: only those asking for a file's bytes).
    """

    token: str | None = None
    page_size: int = 1000
    down: bool | str = False  # True: every connection dropped unanswered; "files": only file downloads
    repos: dict[str, dict[str, _Revision]] = field(default_factory=dict)
    log: list[HubRequest] = field(default_factory=list)

    def add(self, repo_id: str, folder: Path, revision: str = "main") -> str:
        """Serve ``folder``'s files as ``repo_id`` at branch ``revision``; the revision's commit sha."""
        digest = hashlib.sha1(f"{repo_id}@{revision}".encode())
        for p in sorted(folder.rglob("*")):
            if p.is_file():
                digest.update(p.relative_to(folder).as_posix().encode() + b"\0" + _blob_sha1(p).encode())
        commit = digest.hexdigest()
        self.repos.setdefault(repo_id, {})[revision] = _Revision(commit, folder)
        return commit

    def commit(self, repo_id: str, revision: str = "main") -> str:
        """The commit sha a branch of ``repo_id`` points at."""
        return self.repos[repo_id][revision].commit

    # -- what the repos hold ---------------------------------------------------
    def _revision(self, repo_id: str, rev: str) -> _Revision | None:
        revisions = self.repos[repo_id]
        return revisions.get(rev) or next((r for r in revisions.values() if r.commit == rev), None)

    def _entry(self, root: Path, rel: str, expand: bool, commit: str) -> dict:
        p = root / rel if rel else root
        if p.is_dir():
            tree = hashlib.sha1(("tree " + rel).encode() + commit.encode()).hexdigest()
            out: dict = {"type": "directory", "oid": tree, "path": rel, "size": 0}
        else:
            size = p.stat().st_size
            out = {"type": "file", "oid": _blob_sha1(p), "size": size, "path": rel}
            if p.name.endswith(LFS_SUFFIXES):
                out["lfs"] = {"oid": _sha256(p), "size": size, "pointerSize": 134}
        if expand:
            out["lastCommit"] = {"id": commit, "title": "Upload", "date": "2024-01-02T03:04:05.000Z"}
        return out

    def _children(self, root: Path, rel: str, recursive: bool) -> list[str]:
        base = root / rel if rel else root
        found = base.rglob("*") if recursive else base.iterdir()
        rels = [p.relative_to(root).as_posix() for p in found]
        # the hub lists folders first ("tree first"), then files, each sorted
        return sorted(rels, key=lambda r: (not (root / r).is_dir(), r))

    # -- serving ---------------------------------------------------------------
    def start(self) -> FakeHub:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _token(self) -> str | None:
                auth = self.headers.get("Authorization", "")
                return auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None

            def _log(self, rng: tuple[int, int] | None, sent: int) -> HubRequest:
                """Log the request before its answer goes out: a client that has its bytes must find
                it in the log (logged after, a loaded machine let a test see it late)."""
                path = unquote(urlsplit(self.path).path)
                entry = HubRequest(self.command, path, rng, sent, self._token())
                with hub._lock:
                    hub.log.append(entry)
                return entry

            def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self._log(None, 0 if self.command == "HEAD" else len(body))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _json(self, doc: object, headers: dict[str, str] | None = None) -> None:
                self._send(200, json.dumps(doc).encode(), {"Content-Type": "application/json", **(headers or {})})

            def _error(self, status: int, code: str | None, message: str) -> None:
                headers = {"Content-Type": "application/json", "X-Error-Message": message}
                if code:
                    headers["X-Error-Code"] = code
                self._send(status, json.dumps({"error": message}).encode(), headers)

            def do_HEAD(self) -> None:
                self._dispatch()

            def do_GET(self) -> None:
                self._dispatch()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self._body = self.rfile.read(length) if 0 < length <= 1 << 20 else b""
                self._dispatch()

            def _dispatch(self) -> None:
                is_file = "/resolve/" in self.path and not self.path.startswith("/api/")
                if hub.down is True or (hub.down == "files" and is_file):
                    self._log(None, 0)
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if hub.token is not None and self._token() != hub.token:
                    self._error(401, None, "Invalid credentials in Authorization header")
                    return
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                segments = [unquote(s) for s in parts.path.strip("/").split("/")]
                if segments[:2] == ["api", "models"] and len(segments) >= 4:
                    self._api(f"{segments[2]}/{segments[3]}", segments[4:], query)
                elif len(segments) >= 4 and segments[2] == "resolve":
                    self._resolve(f"{segments[0]}/{segments[1]}", segments[3], "/".join(segments[4:]))
                else:
                    self._error(404, None, "Not Found")

            def _api(self, repo_id: str, rest: list[str], query: dict[str, list[str]]) -> None:
                if repo_id not in hub.repos:
                    self._error(404, "RepoNotFound", "Repository not found")
                    return
                action, rev = (rest[0], rest[1]) if len(rest) >= 2 else ("info", "main")
                revision = hub._revision(repo_id, rev)
                if revision is None:
                    self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
                    return
                root, commit = revision.root, revision.commit
                if action in ("info", "revision") and self.command == "GET":
                    siblings = [{"rfilename": r} for r in hub._children(root, "", True) if (root / r).is_file()]
                    self._json({"id": repo_id, "modelId": repo_id, "sha": commit, "private": hub.token is not None,
                                "lastModified": "2024-01-02T03:04:05.000Z", "siblings": siblings})  # fmt: skip
                elif action == "tree" and self.command == "GET":
                    rel = "/".join(rest[2:])
                    if rel and not (root / rel).is_dir():
                        self._error(404, "EntryNotFound", f"{rel} does not exist on {rev}")
                        return
                    truthy = ("true", "True", "1")
                    recursive = query.get("recursive", ["false"])[0] in truthy
                    expand = query.get("expand", ["false"])[0] in truthy
                    rels = hub._children(root, rel, recursive)
                    start = int(query.get("cursor", ["0"])[0])
                    page = rels[start : start + hub.page_size]
                    headers = {}
                    if start + hub.page_size < len(rels):
                        nxt = f"{hub.url}{urlsplit(self.path).path}?recursive={recursive}&expand={expand}"
                        headers["Link"] = f'<{nxt}&cursor={start + hub.page_size}>; rel="next"'
                    self._json([hub._entry(root, r, expand, commit) for r in page], headers)
                elif action == "paths-info" and self.command == "POST":
                    form = parse_qs(getattr(self, "_body", b"").decode())
                    expand = form.get("expand", ["False"])[0] in ("true", "True", "1")
                    found = [p for p in form.get("paths", []) if (root / p).exists() and ".." not in p.split("/")]
                    self._json([hub._entry(root, p, expand, commit) for p in found])
                else:
                    self._error(404, None, "Not Found")

            def _resolve(self, repo_id: str, rev: str, rel: str) -> None:
                if repo_id not in hub.repos:
                    self._error(404, "RepoNotFound", "Repository not found")
                    return
                revision = hub._revision(repo_id, rev)
                if revision is None:
                    self._error(404, "RevisionNotFound", f"Invalid rev id: {rev}")
                    return
                p = revision.root / rel
                if not rel or ".." in rel.split("/") or not p.is_file():
                    self._error(404, "EntryNotFound", f"{rel} does not exist on {rev}")
                    return
                size = p.stat().st_size
                entry = hub._entry(revision.root, rel, False, revision.commit)
                etag = entry["lfs"]["oid"] if "lfs" in entry else entry["oid"]
                headers = {"Content-Type": "application/octet-stream", "Accept-Ranges": "bytes",
                           "ETag": f'"{etag}"', "X-Repo-Commit": revision.commit}  # fmt: skip
                if "lfs" in entry:
                    headers |= {"X-Linked-Etag": f'"{etag}"', "X-Linked-Size": str(size)}
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", "").strip())
                if m:
                    start = int(m.group(1))
                    stop = min(int(m.group(2)) + 1 if m.group(2) else size, size)
                    if start >= size or stop <= start:
                        self._send(416, b"", {"Content-Range": f"bytes */{size}"})
                        return
                    status, rng = 206, (start, stop)
                    headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
                else:
                    start, stop, status, rng = 0, size, 200, None
                entry = self._log(rng, 0)
                self.send_response(status)
                self.send_header("Content-Length", str(stop - start))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    with open(p, "rb") as f:
                        f.seek(start)
                        while entry.sent < stop - start:
                            chunk = f.read(min(stop - start - entry.sent, 1 << 20))
                            if not chunk:
                                break
                            entry.sent += len(chunk)  # counted before the client can have them
                            self.wfile.write(chunk)

        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        """The endpoint (``HF_ENDPOINT``)."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- what clients asked ----------------------------------------------------
    def resolves(self, since: int = 0) -> list[HubRequest]:
        """The requests for files' bytes (GET and HEAD on ``resolve``) since log index ``since``."""
        return [r for r in self.log[since:] if r.is_resolve]

    def bytes_sent(self, since: int = 0) -> int:
        """Body bytes of files sent since log index ``since`` (API answers not counted)."""
        return sum(r.sent for r in self.resolves(since))


def file_url(endpoint: str, repo_id: str, path: str, revision: str = "main") -> str:
    """The https-style address of a file in a repo (what ``hf_hub_url`` builds)."""
    return f"{endpoint}/{repo_id}/resolve/{quote(revision, safe='')}/{quote(path)}"


def _blob_sha1(p: Path) -> str:
    """git's blob id of the file's bytes (what the hub reports as a small file's oid)."""
    st = p.stat()
    return _digest(str(p), st.st_size, st.st_mtime_ns, "blob")


def _sha256(p: Path) -> str:
    """The file's sha256 (an LFS file's oid and ETag)."""
    st = p.stat()
    return _digest(str(p), st.st_size, st.st_mtime_ns, "sha256")


@functools.lru_cache(maxsize=4096)
def _digest(path: str, size: int, mtime_ns: int, kind: str) -> str:
    """Hashed once per file version: every listing names every file's oid."""
    h = hashlib.sha1(b"blob %d\0" % size) if kind == "blob" else hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
