"""A hostile HTTP server for red-team tests of remote checkpoints (core/remote.py over fsspec).

The server serves one *virtual object* per path (a size, a few byte chunks, zeros
elsewhere: a 100 GB object costs nothing) and misbehaves as each test asks through a
``behave`` function. It logs every request (method, path, Range, headers) and counts the
body bytes it managed to send, so a test can tell that a client stopped reading.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class VirtualObject:
    """``size`` bytes: ``chunks`` (offset -> bytes) over zeros."""

    size: int
    chunks: dict[int, bytes] = field(default_factory=dict)
    etag: str = '"v1"'

    @classmethod
    def of(cls, data: bytes, etag: str = '"v1"') -> VirtualObject:
        return cls(len(data), {0: data}, etag)

    def read(self, start: int, stop: int) -> bytes:
        stop = min(stop, self.size)
        if stop <= start:
            return b""
        out = bytearray(stop - start)
        for at, chunk in self.chunks.items():
            lo, hi = max(start, at), min(stop, at + len(chunk))
            if lo < hi:
                out[lo - start : hi - start] = chunk[lo - at : hi - at]
        return bytes(out)


@dataclass
class Seen:
    method: str
    path: str
    range: tuple[int, int] | None
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: object) -> None:  # quiet
        pass

    # -- helpers the behaviours use ---------------------------------------------------------
    def asked_range(self, size: int) -> tuple[int, int] | None:
        m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        if not m:
            return None
        start = int(m.group(1))
        return start, min(int(m.group(2)) + 1 if m.group(2) else size, size)

    def obj(self) -> VirtualObject | None:
        return self.server.owner.objects.get(self.path.split("?", 1)[0].split("#", 1)[0])

    def send_body(self, data: bytes) -> None:
        try:
            self.wfile.write(data)
            self.server.owner.sent += len(data)
        except OSError:
            pass

    def stream_forever(self, chunk: int = 1 << 20, limit: int = 20 << 30) -> None:
        """Zeros until the client hangs up (or ``limit`` bytes: a safety net for the test machine)."""
        block = b"\0" * chunk
        sent = 0
        try:
            while sent < limit:
                self.wfile.write(block)
                sent += chunk
                self.server.owner.sent += chunk
        except OSError:
            pass

    def head(self, status: int, headers: dict[str, str]) -> None:
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()

    def honest(self, method: str, obj: VirtualObject | None = None) -> None:
        """What a good server does: HEAD, Range GETs (206) with ETag."""
        obj = obj or self.obj()
        if obj is None:
            self.send_error(404)
            return
        base = {"ETag": obj.etag, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream"}
        if method == "HEAD":
            self.head(200, {**base, "Content-Length": str(obj.size)})
            return
        rng = self.asked_range(obj.size)
        if rng is None:
            start, stop = 0, obj.size
            self.head(200, {**base, "Content-Length": str(obj.size)})
        else:
            start, stop = rng
            self.head(206, {**base, "Content-Length": str(stop - start),
                            "Content-Range": f"bytes {start}-{stop - 1}/{obj.size}"})  # fmt: skip
        for at in range(start, stop, 1 << 20):
            self.send_body(obj.read(at, min(stop, at + (1 << 20))))

    # -- dispatch ---------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        rng = None
        obj = self.obj()
        if obj is not None:
            rng = self.asked_range(obj.size)
        with owner.lock:
            owner.log.append(Seen(method, self.path, rng, {k: v for k, v in self.headers.items()}))
        owner.behave(self, method)

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: HostileServer


class HostileServer:
    """``behave(handler, method)`` answers each request; honest by default."""

    def __init__(self, behave: Callable[[Handler, str], None] | None = None) -> None:
        self.objects: dict[str, VirtualObject] = {}
        self.behave = behave or (lambda h, m: h.honest(m))
        self.log: list[Seen] = []
        self.lock = threading.Lock()
        self.sent = 0
        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.httpd.owner = self
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def add(self, path: str, obj: VirtualObject) -> str:
        self.objects[path] = obj
        return self.url + path

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def slow_loris_server(delay: float = 1.0) -> tuple[socket.socket, threading.Event]:
    """A raw TCP server answering every connection one byte per ``delay`` seconds, forever."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    stop = threading.Event()

    def serve(conn: socket.socket) -> None:
        text = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000
        with conn:
            try:
                conn.recv(65536)
                for b in text:
                    if stop.is_set():
                        return
                    conn.sendall(bytes([b]))
                    time.sleep(delay)
            except OSError:
                return

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return sock, stop
