"""A minimal S3-compatible server over a local folder, for timing range reads.

moto's server reads an object's whole value for every ranged GET (a 2 GiB object costs
seconds per request), which measures moto, not the client. This one answers what s3fs
needs to read objects — HeadObject, GetObject with Range, ListObjectsV2 — straight from
``ROOT/<bucket>/<key>`` with ``pread``; authentication is not checked. Bench use only.
``GET /__stats`` answers the requests and body bytes served since the last ``GET /__reset``.

Usage: python bench/s3_files_server.py ROOT PORT
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape


def make_handler(root: Path) -> type[BaseHTTPRequestHandler]:
    counts = {"requests": 0, "bytes": 0}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # as S3 and nginx (tcp_nodelay) do: with Nagle on, a small body written after the headers
        # waits for the client's delayed ACK (40 ms on Linux), which timed the kernel, not the client
        disable_nagle_algorithm = True

        def log_message(self, *args: object) -> None:
            pass

        def _target(self) -> tuple[str, str, dict]:
            parts = urlsplit(self.path)
            path = unquote(parts.path).lstrip("/")
            bucket, _, key = path.partition("/")
            return bucket, key, parse_qs(parts.query)

        def _headers(self, status: int, length: int, extra: dict[str, str]) -> None:
            counts["requests"] += 1
            counts["bytes"] += length if self.command == "GET" else 0
            self.send_response(status)
            self.send_header("Content-Length", str(length))
            for k, v in extra.items():
                self.send_header(k, v)
            self.end_headers()

        def _object(self, bucket: str, key: str) -> Path | None:
            p = (root / bucket / key).resolve()
            return p if p.is_file() and root.resolve() in p.parents else None

        def _meta(self, p: Path) -> dict[str, str]:
            st = p.stat()
            etag = hashlib.md5(f"{st.st_size}-{st.st_mtime_ns}".encode()).hexdigest()
            return {"ETag": f'"{etag}"', "Last-Modified": formatdate(st.st_mtime, usegmt=True),
                    "Accept-Ranges": "bytes", "Content-Type": "binary/octet-stream"}  # fmt: skip

        def _missing(self) -> None:
            body = b"<Error><Code>NoSuchKey</Code><Message>not found</Message></Error>"
            self._headers(404, len(body), {"Content-Type": "application/xml"})
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:
            bucket, key, _ = self._target()
            p = self._object(bucket, key) if key else None
            if p is None:
                if not key and (root / bucket).is_dir():
                    self._headers(200, 0, {})
                    return
                self._missing()
                return
            self._headers(200, p.stat().st_size, self._meta(p))

        def do_GET(self) -> None:
            if self.path in ("/__stats", "/__reset"):
                body = json.dumps(counts).encode()
                if self.path == "/__reset":
                    counts.update(requests=0, bytes=0)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            bucket, key, query = self._target()
            if not key or "list-type" in query:
                self._list(bucket, query)
                return
            p = self._object(bucket, key)
            if p is None:
                self._missing()
                return
            size = p.stat().st_size
            m = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
            extra = self._meta(p)
            if m:
                start = int(m.group(1))
                stop = min(int(m.group(2)) + 1 if m.group(2) else size, size)
                extra["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
                self._headers(206, stop - start, extra)
            else:
                start, stop = 0, size
                self._headers(200, size, extra)
            fd = os.open(p, os.O_RDONLY)
            try:
                pos = start
                while pos < stop:
                    chunk = os.pread(fd, min(8 << 20, stop - pos), pos)
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    pos += len(chunk)
            finally:
                os.close(fd)

        def _list(self, bucket: str, query: dict) -> None:
            prefix = query.get("prefix", [""])[0]
            delimiter = query.get("delimiter", [""])[0]
            base = root / bucket
            keys, prefixes = [], set()
            for p in sorted(base.rglob("*")):
                if not p.is_file():
                    continue
                k = p.relative_to(base).as_posix()
                if not k.startswith(prefix):
                    continue
                rest = k[len(prefix) :]
                if delimiter and delimiter in rest:
                    prefixes.add(prefix + rest.split(delimiter, 1)[0] + delimiter)
                else:
                    keys.append((k, p))
            items = "".join(
                f"<Contents><Key>{escape(k)}</Key><Size>{p.stat().st_size}</Size>"
                f"<ETag>{self._meta(p)['ETag']}</ETag><LastModified>2026-01-01T00:00:00.000Z</LastModified>"
                "<StorageClass>STANDARD</StorageClass></Contents>"
                for k, p in keys
            )
            common = "".join(f"<CommonPrefixes><Prefix>{escape(c)}</Prefix></CommonPrefixes>" for c in sorted(prefixes))
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><ListBucketResult '
                'xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                f"<Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix><KeyCount>{len(keys)}</KeyCount>"
                f"<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>{items}{common}</ListBucketResult>"
            ).encode()
            self._headers(200, len(body), {"Content-Type": "application/xml"})
            self.wfile.write(body)

    return Handler


def main() -> int:
    root, port = Path(sys.argv[1]), int(sys.argv[2])
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(root))
    server.daemon_threads = True
    server.serve_forever(poll_interval=0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
