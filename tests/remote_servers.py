"""Local servers for remote-path tests: moto's S3 server and an HTTP server that honours Range.

Both count what clients ask of them, so tests can assert how many requests and bytes an
operation costs (listing a 2 GiB file must not download it).
"""

from __future__ import annotations

import json
import os
import re
import socket
import threading
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BUCKET = "ckpt-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Request:
    method: str
    path: str
    range: tuple[int, int] | None  # bytes start:stop asked for
    sent: int  # body bytes sent


@dataclass
class RangeHTTPServer:
    """Serves ``root`` over HTTP/1.1 with HEAD, Range GETs (206), ETag; logs every request."""

    root: Path
    honour_range: bool = True
    log: list[Request] = field(default_factory=list)

    def start(self) -> RangeHTTPServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def _file(self) -> Path | None:
                rel = self.path.split("?", 1)[0].lstrip("/")
                p = (server.root / rel).resolve()
                return p if p.is_file() and server.root.resolve() in p.parents else None

            def _head(self, p: Path, status: int, length: int, extra: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(length))
                self.send_header("Content-Type", "application/octet-stream")
                st = p.stat()
                self.send_header("ETag", f'"{st.st_size:x}-{st.st_mtime_ns:x}"')
                if server.honour_range:
                    self.send_header("Accept-Ranges", "bytes")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()

            def do_HEAD(self) -> None:
                p = self._file()
                server.log.append(Request("HEAD", self.path, None, 0))  # before the answer: see FakeHub._log
                if p is None:
                    self.send_error(404)
                    return
                self._head(p, 200, p.stat().st_size, {})

            def do_GET(self) -> None:
                p = self._file()
                if p is None:
                    server.log.append(Request("GET", self.path, None, 0))
                    self.send_error(404)
                    return
                size = p.stat().st_size
                m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
                if m and server.honour_range:
                    start = int(m.group(1))
                    stop = min(int(m.group(2)) + 1 if m.group(2) else size, size)
                    self._head(p, 206, stop - start, {"Content-Range": f"bytes {start}-{stop - 1}/{size}"})
                    rng: tuple[int, int] | None = (start, stop)
                else:
                    start, stop, rng = 0, size, None
                    self._head(p, 200, size, {})
                server.log.append(Request("GET", self.path, rng, stop - start))
                with open(p, "rb") as f:
                    f.seek(start)
                    left = stop - start
                    while left:
                        chunk = f.read(min(left, 1 << 20))
                        if not chunk:
                            break
                        self.wfile.write(chunk)
                        left -= len(chunk)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def bytes_sent(self) -> int:
        return sum(r.sent for r in self.log)


class S3Server:
    """moto's S3 server on a free local port; ``env`` points boto/s3fs at it with test credentials."""

    def __init__(self) -> None:
        import tempfile

        from moto.server import ThreadedMotoServer

        # moto's request recorder writes to a file in the working directory unless told otherwise
        os.environ["MOTO_RECORDER_FILEPATH"] = os.path.join(tempfile.mkdtemp(prefix="moto-"), "recording")
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing-key-id",
            "AWS_SECRET_ACCESS_KEY": "testing-secret-key",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
        os.environ.update(self.env)
        self.client().create_bucket(Bucket=BUCKET)

    def client(self):
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id="testing-key-id", aws_secret_access_key="testing-secret-key")  # fmt: skip

    def upload(self, local: Path, key: str) -> str:
        """Upload a file, or a folder's files under ``key/``; the s3:// URL."""
        c = self.client()
        if local.is_dir():
            for p in sorted(local.rglob("*")):
                if p.is_file():
                    c.upload_file(str(p), BUCKET, f"{key}/{p.relative_to(local).as_posix()}")
        else:
            c.upload_file(str(local), BUCKET, key)
        return f"s3://{BUCKET}/{key}"

    def start_recording(self) -> None:
        urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/reset-recording", data=b"").read()
        urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/start-recording", data=b"").read()

    def recorded(self) -> list[dict]:
        """The requests made since :meth:`start_recording` (method, path, Range header)."""
        raw = urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/download-recording").read()
        urllib.request.urlopen(f"{self.endpoint}/moto-api/recorder/stop-recording", data=b"").read()
        out = []
        for line in raw.decode().splitlines():
            if line.strip():
                r = json.loads(line)
                out.append({"method": r.get("method"), "path": r.get("path", r.get("url")),
                            "range": (r.get("headers") or {}).get("Range")})  # fmt: skip
        return out

    def stop(self) -> None:
        self.server.stop()


def range_bytes(records: list[dict], sizes: dict[str, int] | None = None) -> int:
    """Bytes the recorded GETs asked for (Range headers; a GET without one counts as 0 here)."""
    total = 0
    for r in records:
        m = re.fullmatch(r"bytes=(\d+)-(\d+)", r.get("range") or "")
        if r["method"] == "GET" and m:
            total += int(m.group(2)) + 1 - int(m.group(1))
    return total
