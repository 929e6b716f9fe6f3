"""Checkpoints on object storage and web servers, read through fsspec by range requests.

A URL (``s3://``, ``gs://``, ``https://``, ``hf://`` ...) becomes a :class:`RemotePath`: the
subset of :class:`pathlib.Path` the readers use (``name``, ``/``, ``open("rb")``, ``stat``,
``is_file``, ``is_dir``, ``iterdir``, ``read_text``), so the same readers serve local and
remote files. Every byte goes through a local block cache (:class:`BlockCache`): a sparse
file the size of the object in the user's cache folder plus a map of the blocks present,
filled by parallel range requests, size-capped across objects. Readers memory-map that file
(``core.filemap``) exactly as they map a local checkpoint.

Credentials come from where fsspec and its filesystems look (environment, config files,
the libraries' defaults). They never appear in what we print or store: ``str(RemotePath)``
is :func:`redact` of the URL (no user:password, no query string).
"""

from __future__ import annotations

import atexit
import errno
import hashlib
import io
import json
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, wait
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .errors import CheckpointError
from .filemap import PositionedReader
from .progress import check_current, report_download

BLOCK = 256 << 10  # bytes per cache block: listing reads a few (a slow server sends 256 KiB faster than 4 MiB)
PART = 16 << 20  # bytes per range request when fetching a run of missing blocks
# requests in flight per object: PARALLEL for a read plus as many reading ahead, 2 x PARALLEL threads at
# most (memory: 8 x 16 MiB). More threads lose on a 2-core machine to the GIL and the server's share of
# the CPU (bench_remote: 4 beat 8 and 2 there); high-latency stores keep 8 requests busy
PARALLEL = 4
READAHEAD = 64 << 20  # bytes fetched ahead in the background once reads go sequentially
ZIP_NAMES = (".pth", ".pt", ".bin", ".ckpt", ".pt2", ".tar", ".zip")  # names of likely torch zip files
SCAN = 1 << 20  # a fetch at least this large, starting where the last one ended, means a scan
MISSING, PRESENT, IN_FLIGHT, HELD = 0, 1, 2, 3  # HELD: fetched ahead, in memory, not yet in the cache file
# a scan's read-ahead is used from memory and written to the cache file behind it: writing it first put the
# disk's write speed (throttled while dirty pages pile up) between the network and the statistics
HOLD_MAX = 64 << 20  # read-ahead bytes held in memory; the scan's already passed ones are dropped past this
COPY_MAX = 64 << 20  # reads up to this size are copied out of memory; larger ones wait for the cache file
DEFAULT_CACHE_MAX = 8 << 30

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
# schemes fsspec serves that are local files: those stay plain paths
_LOCAL_SCHEMES = ("file", "local")
# the package each scheme needs, for a clear message when it is not installed
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "http": "aiohttp", "https": "aiohttp",
             "hf": "huggingface_hub", "az": "adlfs", "abfs": "adlfs"}  # fmt: skip


def is_url(text: str | os.PathLike) -> bool:
    """Whether ``text`` is a URL naming a remote object (not a local path, not file://)."""
    if not isinstance(text, str):
        return False
    return bool(_URL.match(text)) and text.split("://", 1)[0].lower() not in _LOCAL_SCHEMES


def redact(url: str) -> str:
    """``url`` as it may be shown or stored: no user or password, no query string or fragment.

    Pre-signed URLs carry their signature in the query; user:password@ is a credential too.
    """
    try:
        parts = urlsplit(url)
        if parts.hostname is not None:
            parts.port  # noqa: B018 - raises ValueError for a port out of range: then nothing is shown
        # the host as written, less any user info: .hostname lower-cases it, and hf://Org/Repo's "Org" is a
        # case-sensitive name (a URL changed by redaction would also count as carrying a secret)
        host = parts.netloc.rpartition("@")[2]
    except ValueError:  # a malformed host or a port out of range: show no part of what follows the scheme
        return url.split("://", 1)[0][:20] + "://…"
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def has_credentials(url: str) -> bool:
    """Whether ``url`` itself carries a secret (user info or a query): never remember it."""
    return redact(url) != url


def cache_dir() -> Path:
    """Where remote blocks are cached: ``$CKPT_CACHE_DIR`` or the user's cache folder."""
    if os.environ.get("CKPT_CACHE_DIR"):
        return Path(os.environ["CKPT_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "ckptviewer" / "remote"


def cache_limit() -> int:
    """The cache's size cap in bytes (``$CKPT_CACHE_MAX``, e.g. ``2G``; default 8 GiB)."""
    text = os.environ.get("CKPT_CACHE_MAX", "").strip().upper()
    if not text:
        return DEFAULT_CACHE_MAX
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(text[-1:], 1)
    try:
        return int(float(text.rstrip("KMGTB")) * scale)
    except ValueError:
        return DEFAULT_CACHE_MAX


def _filesystem(url: str) -> tuple[Any, str]:
    """fsspec's filesystem and path for ``url``, or a one-line error naming what to install."""
    scheme = url.split("://", 1)[0].lower()
    try:
        import fsspec
    except ImportError:
        raise CheckpointError(f"{redact(url)}: remote paths need fsspec: pip install 'ckptviewer[remote]'") from None
    options: dict[str, Any] = {}
    if scheme in ("http", "https"):
        import aiohttp

        # a server that stops answering is an error after a minute, not aiohttp's 5 minutes per read
        options["client_kwargs"] = {"timeout": aiohttp.ClientTimeout(total=None, sock_connect=15, sock_read=60)}
    try:
        fs, path = fsspec.core.url_to_fs(url, **options)
    except ImportError:
        package = _PACKAGES.get(scheme, f"the fsspec package for {scheme}://")
        raise CheckpointError(f"{redact(url)}: {scheme}:// needs {package}: pip install {package}") from None
    except ValueError:
        raise CheckpointError(f"{redact(url)}: no filesystem is known for {scheme}:// URLs") from None
    if scheme == "hf":
        # huggingface_hub (imported just now, which set its level) logs every retry of a failed request
        # on stderr ("Retrying in 8s [Retry 4/5]"); the failure reaches the user once, as one line
        logging.getLogger("huggingface_hub").setLevel(logging.ERROR)
    return fs, path


def remote_error(shown: str, exc: BaseException) -> CheckpointError:
    """One clear line for a failed remote operation, never quoting a URL's secrets."""
    if isinstance(exc, CheckpointError):
        return exc
    if isinstance(exc, FileNotFoundError):
        return CheckpointError(f"{shown}: no such object")
    response = getattr(exc, "response", None)  # huggingface_hub's HfHubHTTPError (httpx) carries the answer
    status = getattr(response, "status_code", None) or getattr(exc, "status", None)  # aiohttp: .status
    if isinstance(exc, PermissionError) or status in (401, 403):
        return CheckpointError(f"{shown}: access denied (check your credentials)")
    text = str(exc).splitlines()[0] if str(exc) else ""
    # what a library says may quote the URL it was given, query and all: keep only what precedes it
    text = re.sub(r"[A-Za-z][A-Za-z0-9+.-]*://\S*", lambda m: redact(m.group(0)), text)[:200]
    return CheckpointError(f"{shown}: cannot read ({type(exc).__name__}{': ' + text if text else ''})")


class _Stat:
    """The fields of ``os.stat_result`` readers use, for a remote object."""

    def __init__(self, size: int, is_dir: bool, mtime: float) -> None:
        self.st_size = size
        self.st_mode = stat.S_IFDIR | 0o555 if is_dir else stat.S_IFREG | 0o444
        self.st_mtime = mtime


class RemotePath:
    """A remote file or folder, as readers use a :class:`pathlib.Path`.

    Folder listings are asked once and shared with the children made by ``/``, so telling a
    folder's kind (index? adapter? DCP?) costs one listing request.
    """

    is_remote = True

    def __init__(self, url: str, *, _fs: Any = None, _path: str | None = None, _info: dict | None = None) -> None:
        self.url = url.rstrip("/") if url.count("/") > 3 else url
        if _fs is None:
            _fs, _path = _filesystem(self.url)
            try:  # a URL opened (or reloaded) anew is listed anew: fsspec keeps listings for the process
                _fs.invalidate_cache(_path)
            except Exception:
                pass
        self.fs = _fs
        self.fspath = (_path or "").rstrip("/") or (_path or "")
        self._info = _info
        self._children: dict[str, dict] | None = None
        self._made: dict[str, RemotePath] = {}  # children made by "/"
        self._lock = threading.Lock()
        self._cache: BlockCache | None = None

    # -- naming -----------------------------------------------------------
    def __str__(self) -> str:
        return redact(self.url)

    def __repr__(self) -> str:
        return f"RemotePath({redact(self.url)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RemotePath) and other.url == self.url

    def __hash__(self) -> int:
        return hash(self.url)

    @property
    def name(self) -> str:
        """The last part of the URL's path (never its query: a signature is not a name)."""
        parts = urlsplit(self.url)
        return parts.path.rstrip("/").rsplit("/", 1)[-1] or (parts.hostname or "")

    @property
    def suffix(self) -> str:
        name = self.name
        return name[name.rfind(".") :] if "." in name.lstrip(".") else ""

    @property
    def stem(self) -> str:
        suffix = self.suffix
        return self.name[: -len(suffix)] if suffix else self.name

    def resolve(self) -> RemotePath:
        """Itself: an object store has no links to resolve (``Path.resolve`` for readers that ask)."""
        return self

    @property
    def parent(self) -> RemotePath:
        head, _, query = self.url.partition("?")
        parent_url = head.rstrip("/").rsplit("/", 1)[0] + (f"?{query}" if query else "")
        web = self.url.split("://", 1)[0].lower() in ("http", "https")
        return RemotePath(parent_url, _fs=self.fs, _path=parent_url if web else self.fspath.rsplit("/", 1)[0])

    def __truediv__(self, name: str) -> RemotePath:
        if "/" in name or name in ("", ".", ".."):
            raise CheckpointError(f"{self}: {name!r} is not a file name inside it")
        known = self._made.get(name)
        if known is not None:
            return known  # the same object: what it learnt (size, version, blocks) is not asked again
        head, _, query = self.url.partition("?")
        url = f"{head.rstrip('/')}/{name}" + (f"?{query}" if query else "")
        web = self.url.split("://", 1)[0].lower() in ("http", "https")  # fsspec's path is the URL itself
        child = RemotePath(url, _fs=self.fs, _path=url if web else f"{self.fspath}/{name}")
        if self._children is not None:
            child._info = self._children.get(name, {"type": "missing"})
        self._made[name] = child
        return child

    # -- what it is -------------------------------------------------------
    def info(self) -> dict:
        """fsspec's info for the object (size, type, ETag...), asked once."""
        if self._info is None:
            try:
                self._info = dict(_cancellable(self.fs.info, self.fspath))
            except FileNotFoundError:
                self._info = {"type": "missing"}
            except Exception as exc:
                raise remote_error(str(self), exc) from None
        if self._info.get("type") == "missing":
            raise CheckpointError(f"{self}: no such file or folder")
        return self._info

    def _kind(self) -> str:
        try:
            info = self.info()
        except CheckpointError:
            return "missing"
        kind = str(info.get("type", "file"))
        return "directory" if kind == "directory" else "file"

    def exists(self) -> bool:
        return self._kind() != "missing"

    def is_file(self) -> bool:
        return self._kind() == "file"

    def is_dir(self) -> bool:
        return self._kind() == "directory"

    def stat(self) -> _Stat:
        info = self.info()
        size = info.get("size")
        if self._kind() == "file" and not isinstance(size, int):
            raise CheckpointError(f"{self}: the server does not say how large the file is")
        mtime = info.get("mtime") or info.get("LastModified") or info.get("last_modified") or 0
        when = (
            mtime.timestamp()
            if hasattr(mtime, "timestamp")
            else float(mtime)
            if isinstance(mtime, (int, float))
            else 0.0
        )
        return _Stat(int(size or 0), self._kind() == "directory", when)

    def iterdir(self) -> Iterator[RemotePath]:
        for name in sorted(self._listing()):
            yield self / name

    def _listing(self) -> dict[str, dict]:
        with self._lock:
            if self._children is None:
                try:
                    entries = _cancellable(self.fs.ls, self.fspath, detail=True)
                except FileNotFoundError:
                    entries = []
                except Exception as exc:
                    raise remote_error(str(self), exc) from None
                children = {}
                for e in entries:
                    name = str(e.get("name", "")).rstrip("/").rsplit("/", 1)[-1]
                    if name and name not in (".", ".."):
                        children[name] = dict(e)
                self._children = children
            return self._children

    def list_folder(self) -> None:
        """Ask for this folder's listing now: its children then answer is_file/stat without requests."""
        self._listing()

    # -- bytes ------------------------------------------------------------
    def block_cache(self) -> BlockCache:
        with self._lock:
            if self._cache is None:
                self._cache = BlockCache.for_object(self)
            return self._cache

    def cache_file(self) -> Path:
        """The local sparse file holding this object's fetched blocks (readers map it)."""
        return self.block_cache().data_path

    def fetch(self, start: int, stop: int) -> None:
        """Make bytes ``start:stop`` present in the cache file (parallel range requests)."""
        self.block_cache().fetch(start, stop)

    def read_span(self, start: int, nbytes: int) -> Any:
        """Bytes ``start:start+nbytes`` copied into a fresh storage if some are only in memory (a scan's
        read-ahead not yet written), else None: the cache file's map holds them (see BlockCache.read_span)."""
        return self.block_cache().read_span(start, nbytes)

    def open(self, mode: str = "rb") -> io.BufferedReader:
        """A seekable binary file reading through the block cache (remote inputs are read-only)."""
        if mode != "rb":
            raise CheckpointError(f"{self}: remote inputs are read-only")
        return io.BufferedReader(RemoteFile(self.block_cache()), buffer_size=1 << 16)

    def read_bytes(self) -> bytes:
        with self.open() as f:
            return f.read()

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.read_bytes().decode(encoding)


def as_path(text: str | os.PathLike) -> Path:
    """A local :class:`Path`, or a :class:`RemotePath` for a URL (typed as Path: readers take both)."""
    if isinstance(text, RemotePath):
        return text  # type: ignore[return-value]
    if is_url(text):  # type: ignore[arg-type]
        return RemotePath(text)  # type: ignore[arg-type, return-value]
    if isinstance(text, str) and text.lower().startswith("file://"):
        return Path(urlsplit(text).path)
    return Path(text)


def prefetch_heads(paths: list[Any], workers: int = 16) -> None:
    """Fetch the first block of each remote file at once (shard headers of a large folder);
    files that cannot be read are left for their reader to report."""

    def head(p: Any) -> None:
        try:
            p.fetch(0, BLOCK)
        except CheckpointError:
            pass

    if len(paths) > 1:
        pool = _DaemonPool(min(workers, len(paths)), "ckpt-heads")
        try:
            for f in [pool.submit(head, p) for p in paths]:
                while not f.done():
                    wait([f], timeout=0.05)
                    check_current()
        finally:
            pool.shutdown()
    check_current()


def local_folder(path: Path) -> Path:
    """The folder beside ``path`` for a file dialog: its parent, or the home folder for a URL."""
    return Path.home() if getattr(path, "is_remote", False) else path.parent


class RemoteFile(PositionedReader):
    """A read-only, seekable file over a remote object: every read goes through its block cache."""

    def __init__(self, cache: BlockCache) -> None:
        super().__init__()
        self.cache, self.pos, self.length = cache, 0, cache.size

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        n = max(0, min(len(view), self.cache.size - self.pos))
        if n == 0:
            return 0
        got = self.cache.read_into(self.pos, view[:n])
        self.pos += got
        return got


class BlockCache:
    """One remote object's bytes in a local sparse file, fetched block by block on demand.

    ``<key>.data`` is the object's size, holes where nothing was fetched; ``<key>.blocks``
    holds one byte per block (1: present). The key is a hash of the URL (without secrets),
    the size and the object's version (ETag / modification time), so a changed object gets
    a fresh cache; an object whose server tells no version is cached for this process only.
    Requests, bytes and blocks fetched are counted (``stats``) for tests and benchmarks.
    """

    _open: dict[str, BlockCache] = {}  # noqa: RUF012 - one per object in a process; never evicted
    _registry_lock = threading.Lock()

    def __init__(self, remote: RemotePath, size: int, key: str) -> None:
        self.remote, self.size, self.key = remote, size, key
        folder = private_cache_dir()
        self.data_path = folder / f"{key}.data"
        self.blocks_path = folder / f"{key}.blocks"
        self.n_blocks = (size + BLOCK - 1) // BLOCK
        self.stats = {"requests": 0, "bytes": 0, "held": 0, "dropped": 0}  # held/dropped: read-ahead spans
        self.etag: str | None = None  # the version ranges must be of (web servers: If-Match)
        # never through a link planted in the folder: that would write the object's bytes over its target
        try:
            self._fd = os.open(self.data_path, os.O_RDWR | os.O_CREAT | _NOFOLLOW, 0o600)
        except OSError as exc:
            raise CheckpointError(f"{self.data_path}: cannot use the block cache ({exc.strerror or exc})") from None
        st = os.fstat(self._fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(self._fd)
            raise CheckpointError(f"{self.data_path}: not a plain file of the block cache; remove it")
        if st.st_size != size:
            os.ftruncate(self._fd, size)  # sparse: no disk used until blocks arrive
        _lock_file(self._fd, exclusive=False)  # in use: another process's eviction passes it by
        # the map is written in place, a byte per block as it arrives (after its data); checked like the
        # data file: a hard link planted there was truncated and overwritten, a FIFO hung the open
        self._blocks_fd = self._open_block_map()
        present = os.pread(self._blocks_fd, self.n_blocks + 1, 0)
        ok = len(present) == self.n_blocks and set(present) <= {MISSING, PRESENT}
        self.present = bytearray(present if ok else bytes(self.n_blocks))  # per block: MISSING/PRESENT/IN_FLIGHT/HELD
        if not ok:
            os.ftruncate(self._blocks_fd, 0)
            os.pwrite(self._blocks_fd, bytes(self.n_blocks), 0)
        self._cond = threading.Condition()
        self._busy: set[int] = set()  # blocks a request is fetching now
        self._ahead = 0  # read-ahead requests in flight
        self._last_stop: int | None = None
        self._consumed = 0  # where the scan's reads (of SCAN bytes or more) have got to: held spans before are passed
        # span start -> (stop, bytes) of HELD blocks, oldest first
        self._held: dict[int, tuple[int, bytes | bytearray]] = {}
        self._held_bytes = 0
        self._writing: int | None = None  # the held span being written now (never dropped)
        self._pool = _DaemonPool(2 * PARALLEL, "ckpt-fetch")
        self._writer = _DaemonPool(1, "ckpt-cache-write")  # one thread: held spans written in order
        self._io = threading.Lock()  # held while writing to the files; close takes it to close them
        self._closed = False
        self._reading = 0  # preads of the cache file under way: close waits for them (under _cond)
        _touch(self.data_path)

    def _open_block_map(self) -> int:
        """The block map's descriptor: a plain file with no other name (never through a link, a FIFO
        or a folder planted under its name); the data file is closed when it cannot be used."""
        try:
            fd = os.open(self.blocks_path, os.O_RDWR | os.O_CREAT | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0), 0o600)
        except OSError as exc:
            os.close(self._fd)
            raise CheckpointError(f"{self.blocks_path}: cannot use the block cache ({exc.strerror or exc})") from None
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
            os.close(fd)
            os.close(self._fd)
            raise CheckpointError(f"{self.blocks_path}: not a plain file of the block cache; remove it")
        return fd

    @classmethod
    def for_object(cls, remote: RemotePath) -> BlockCache:
        info = remote.info()
        size = remote.stat().st_size
        version = next((str(info[k]) for k in ("ETag", "etag", "blob_id", "last_commit", "mtime", "LastModified")
                        if info.get(k)), None)  # fmt: skip
        ident = json.dumps([redact(remote.url), remote.url if has_credentials(remote.url) else "", size, version])
        if version is None:
            ident += f"|{os.getpid()}|{time.time()}"  # no way to tell a changed object: this process only
        key = hashlib.sha256(ident.encode()).hexdigest()[:32]
        with cls._registry_lock:
            cache = cls._open.get(key)
            if cache is None or cache.remote.url != remote.url:
                _evict(private_cache_dir(), cache_limit(), keep=size)
                cache = cls._open[key] = cls(remote, size, key)
                etag = info.get("ETag") or info.get("etag")
                # a strong ETag only: If-Match compares strongly, a weak one would never match
                cache.etag = str(etag) if etag and str(etag).startswith('"') else None
                cache.start_ends()
            return cache

    def start_ends(self) -> None:
        """For a file named like a torch zip (.pth, .pt, .bin, .ckpt, .pt2), ask for its first and
        last block at once, in the background: its listing reads the start (data.pkl) and the end
        (central directory), and two requests in flight cost one round trip instead of two. Other
        formats (safetensors, GGUF, JSON) need only their start."""
        if not self.remote.name.lower().endswith(ZIP_NAMES):
            return
        with self._cond:
            claimed = self._claim(0, 1) + self._claim(max(1, self.n_blocks - 1), self.n_blocks)
        for span in self._runs(claimed):
            self._pool.submit(self._store, span, True, False)

    def _runs(self, blocks: list[int]) -> list[tuple[int, int]]:
        """Byte ranges of ``blocks`` (sorted), merged where adjacent and cut to PART bytes each."""
        runs: list[tuple[int, int]] = []
        for b in blocks:
            lo, hi = b * BLOCK, min((b + 1) * BLOCK, self.size)
            if runs and runs[-1][1] == lo and runs[-1][1] - runs[-1][0] < PART:
                runs[-1] = (runs[-1][0], hi)
            else:
                runs.append((lo, hi))
        return runs

    def _claim(self, first: int, last: int, limit: int | None = None) -> list[int]:
        """Mark the missing blocks of ``first..last`` as in flight (ours to fetch); at most ``limit``."""
        claimed = []
        for b in range(first, last):
            if self.present[b] == MISSING:
                self.present[b] = IN_FLIGHT
                claimed.append(b)
                if limit is not None and len(claimed) >= limit:
                    break
        return claimed

    def fetch(self, start: int, stop: int) -> None:
        """Make bytes ``start:stop`` present: missing blocks fetched by up to PARALLEL range requests
        of PART bytes at once (memory: PARALLEL x PART), blocks another thread is fetching waited for;
        cancellable between requests. Reading on from where the last fetch ended starts a read-ahead
        of the next READAHEAD bytes in the background, so a sequential scan keeps requests in flight."""
        stop = min(stop, self.size)
        if stop <= start:
            return
        self._check_open()
        first, last = start // BLOCK, (stop + BLOCK - 1) // BLOCK
        # a scan (tensor after tensor, each at least 1 MiB, each starting where the last ended) rather
        # than look-ups (headers, one tensor): only then read ahead. Small reads neither count nor reset.
        sequential = False
        if stop - start >= SCAN:
            follows = self._last_stop is not None and 0 <= start - self._last_stop <= SCAN
            sequential = follows
            self._last_stop = stop
        while True:
            with self._cond:
                claimed = self._claim(first, last)
            if claimed:
                self._fetch_claimed(claimed)
            if sequential and stop < self.size:
                self._read_ahead(last)
                sequential = False
            with self._cond:
                while any(self.present[b] == IN_FLIGHT for b in range(first, last)):
                    self._cond.wait(0.05)
                    check_current()
                    self._check_open()
                if all(self.present[b] in (PRESENT, HELD) for b in range(first, last)):
                    return
            # a block another fetch failed on is missing again: claim it ourselves

    def _fetch_claimed(self, claimed: list[int]) -> None:
        """Fetch claimed blocks in parallel and wait for them (checking for Cancel while waiting)."""
        parts = self._runs(claimed)
        futures = [self._pool.submit(self._store, span) for span in parts]
        total = sum(hi - lo for lo, hi in parts)
        done = 0
        try:
            for (lo, hi), f in zip(parts, futures):
                while not f.done():
                    wait([f], timeout=0.05)
                    check_current()
                    self._check_open()  # a closed cache's threads run nothing more
                f.result()
                done += hi - lo
                if len(parts) > 1:
                    report_download(done, total)
        except BaseException:
            for f in futures:
                f.cancel()
            with self._cond:  # what was not fetched may be claimed again
                for b in claimed:
                    if self.present[b] == IN_FLIGHT and not self._running(b):
                        self.present[b] = MISSING
                self._cond.notify_all()
            raise

    def _check_open(self) -> None:
        """Raise once :meth:`close` has run: its threads are gone (a fetch would wait for ever) and its
        descriptors' numbers may name other files (a read would return their bytes)."""
        if self._closed:
            raise CheckpointError(f"{self.remote}: its block cache was closed; open it again")

    def _running(self, block: int) -> bool:
        return block in self._busy

    def _read_ahead(self, block: int) -> None:
        with self._cond:
            if self._ahead >= PARALLEL or self._unpassed() >= HOLD_MAX:
                return  # enough is in flight already, or held for the scan to reach
            end = min(self.n_blocks, block + READAHEAD // BLOCK)
            claimed = self._claim(block, end, limit=(PARALLEL - self._ahead) * max(1, PART // BLOCK))
            self._ahead += len(self._runs(claimed)) if claimed else 0
        if claimed:
            for span in self._runs(claimed):
                self._pool.submit(self._store, span, True)

    def _store(self, span: tuple[int, int], ahead: bool = False, counted: bool = True) -> None:
        """Fetch one range; a scan's span is held in memory and written behind (see :meth:`_hold`),
        anything else written to the cache file at once. Its blocks become held or present (or missing
        again on failure, for the next reader to claim)."""
        lo, hi = span
        blocks = range(lo // BLOCK, (hi + BLOCK - 1) // BLOCK)
        with self._cond:
            self._busy.update(blocks)
        try:
            data = self._get(span)
            if counted and (ahead or self._room_for(hi - lo)):  # used from memory, written behind
                self._hold(lo, hi, data)
            else:
                try:
                    self._write(data, lo, blocks)
                except OSError as exc:  # a full disk, a file-size limit: one line, not a traceback
                    why = exc.strerror or exc
                    raise CheckpointError(
                        f"{self.data_path}: cannot write the block cache ({why}); free space or set CKPT_CACHE_DIR"
                    ) from None
                del data
                with self._cond:
                    for b in blocks:
                        self.present[b] = PRESENT
        except BaseException:
            with self._cond:
                for b in blocks:
                    self.present[b] = MISSING
            if not ahead:
                raise
        finally:
            with self._cond:
                self._busy.difference_update(blocks)
                if ahead and counted:
                    self._ahead -= 1
                self._cond.notify_all()

    def _get(self, span: tuple[int, int]) -> bytes | bytearray:
        lo, hi = span
        try:
            if self.remote.url.split("://", 1)[0].lower() in ("http", "https"):
                data = _http_range(self.remote, lo, hi, self.etag, self.size)
            else:
                fs = self.remote.fs
                data = fs.cat_file(self.remote.fspath, start=lo, end=hi, **_exact_range(fs))
        except Exception as exc:
            raise remote_error(str(self.remote), exc) from None
        self.stats["requests"] += 1
        self.stats["bytes"] += len(data)
        if len(data) != hi - lo:
            raise CheckpointError(
                f"{self.remote}: the server sent {len(data)} bytes for a range of {hi - lo} "
                "(does it honour Range requests?)"
            )
        return data  # bytes, or the bytearray _http_range filled (never changed after: no copy)

    # -- read-ahead held in memory, written behind --------------------------
    def _hold(self, lo: int, hi: int, data: bytes | bytearray) -> None:
        """Keep a scan's span (read-ahead, or one its reader waits for) in memory, its blocks HELD, and
        queue it for the cache file."""
        with self._cond:
            self._held[lo] = (hi, data)
            self._held_bytes += hi - lo
            self.stats["held"] += 1
            for b in range(lo // BLOCK, (hi + BLOCK - 1) // BLOCK):
                self.present[b] = HELD
            self._drop_passed()
        self._writer.submit(self._write_behind, lo)

    def _room_for(self, nbytes: int) -> bool:
        """Whether a span a reader waits for is worth holding too (a scan's tensor, not a header) and
        fits: written to the file first, it waits for the disk like read-ahead did."""
        with self._cond:
            return nbytes >= SCAN and self._held_bytes + nbytes <= HOLD_MAX

    def _unpassed(self) -> int:
        """Held bytes the scan has not reached yet (under ``_cond``)."""
        passed = self._consumed
        return sum(hi - lo for lo, (hi, _) in self._held.items() if hi > passed)

    def _drop_passed(self) -> None:
        """Past HOLD_MAX, forget held spans the scan has passed that the disk has not taken yet: they
        are missing again (fetched anew if read again), rather than the scan waiting for the disk."""
        passed = self._consumed
        for lo in list(self._held):
            if self._held_bytes <= HOLD_MAX:
                break
            hi, _ = self._held[lo]
            if hi <= passed and lo != self._writing:
                del self._held[lo]
                self._held_bytes -= hi - lo
                self.stats["dropped"] += 1
                for b in range(lo // BLOCK, (hi + BLOCK - 1) // BLOCK):
                    if self.present[b] == HELD:
                        self.present[b] = MISSING
        self._cond.notify_all()

    def _write(self, data: bytes | bytearray, lo: int, blocks: range) -> None:
        """Put fetched bytes in the cache file, then mark their blocks present in the map file.
        Never after :meth:`close`: its descriptors' numbers may name other files by then."""
        with self._io:
            if self._closed:
                raise OSError(errno.EBADF, "the block cache was closed")
            _pwrite_all(self._fd, data, lo)
            _pwrite_all(self._blocks_fd, b"\x01" * len(blocks), blocks.start)

    def _write_behind(self, lo: int) -> None:
        """Write one held span to the cache file (the writer thread); its blocks become present."""
        with self._cond:
            entry = self._held.get(lo)
            if entry is None:
                return  # dropped meanwhile
            self._writing = lo
        hi, data = entry
        blocks = range(lo // BLOCK, (hi + BLOCK - 1) // BLOCK)
        try:
            self._write(data, lo, blocks)
            state = PRESENT
        except OSError:
            state = MISSING  # a full disk: fetched again when read again
        with self._cond:
            self._writing = None
            if self._held.pop(lo, None) is not None:
                self._held_bytes -= hi - lo
            for b in blocks:
                if self.present[b] == HELD:
                    self.present[b] = state
            self._cond.notify_all()

    def read_into(self, pos: int, view: memoryview) -> int:
        """Read ``len(view)`` bytes at ``pos`` (fetched first if missing; held ones from memory)."""
        stop = pos + len(view)
        first, last = pos // BLOCK, (stop + BLOCK - 1) // BLOCK
        while True:
            self.fetch(pos, stop)
            with self._cond:
                if any(self.present[b] not in (PRESENT, HELD) for b in range(first, last)):
                    continue  # dropped between the fetch and now: fetch again
                held = [(lo, hi, data) for lo, (hi, data) in self._held.items() if lo < stop and hi > pos]
            break
        at = pos  # held parts are copied from memory (the file has holes there), the rest read from the file
        for lo, hi, data in sorted(held, key=lambda h: h[0]):
            a, b = max(lo, pos), min(hi, stop)
            if at < a:
                self._pread(view[at - pos : a - pos], at)
            view[a - pos : b - pos] = memoryview(data)[a - lo : b - lo]
            at = max(at, b)
        if at < stop:
            self._pread(view[at - pos :], at)
        if stop - pos >= SCAN:  # a scan's read (not a header's): what lies before may be dropped from memory
            with self._cond:
                self._consumed = stop  # not the furthest ever: a second scan from the start passes nothing yet
        return len(view)

    def _pread(self, view: memoryview, pos: int) -> None:
        with self._cond:  # counted, so that close does not close the descriptor under the read
            self._check_open()
            self._reading += 1
        try:
            got = os.preadv(self._fd, [view], pos) if hasattr(os, "preadv") else _pread_into(self._fd, view, pos)
        finally:
            with self._cond:
                self._reading -= 1
                self._cond.notify_all()
        if got != len(view):
            raise CheckpointError(f"{self.remote}: the block cache file {self.data_path} was cut short")

    def read_span(self, pos: int, nbytes: int) -> Any:
        """Bytes ``pos:pos+nbytes`` as a fresh torch storage when some are held in memory and the
        span is small enough to copy; None when the cache file has them all (map it instead)."""
        if nbytes <= 0:
            return None
        stop = pos + nbytes
        first, last = pos // BLOCK, (stop + BLOCK - 1) // BLOCK
        while True:
            self.fetch(pos, stop)
            with self._cond:
                states = set(self.present[first:last])
                if states == {PRESENT}:
                    return None
                if nbytes > COPY_MAX and HELD in states:
                    # too large to copy: wait until the writer has put it in the file (or dropped it)
                    while any(self.present[b] == HELD for b in range(first, last)):
                        self._cond.wait(0.05)
                        check_current()
                        self._check_open()  # a closed cache's writer writes nothing more
                    continue
                if states <= {PRESENT, HELD}:
                    break
        import torch

        buffer = bytearray(nbytes)
        self.read_into(pos, memoryview(buffer))
        return torch.frombuffer(buffer, dtype=torch.uint8).untyped_storage()

    def flush(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) until the read-ahead in flight has landed and what is held in
        memory is in the cache file."""
        end = time.monotonic() + timeout
        with self._cond:
            while (self._held or self._ahead) and time.monotonic() < end:
                self._cond.wait(0.05)

    @classmethod
    def flush_all(cls, timeout: float = 10.0) -> None:
        """Write every open cache's held read-ahead before the process ends (registered at exit):
        the next process then finds it in the cache instead of fetching it again."""
        with cls._registry_lock:
            caches = list(cls._open.values())
        end = time.monotonic() + timeout
        for cache in caches:
            cache.flush(max(0.0, end - time.monotonic()))

    def close(self) -> None:
        """Release the cache file (its blocks stay for the next time the object is opened)."""
        with BlockCache._registry_lock:
            BlockCache._open.pop(self.key, None)
        self.flush(10.0)
        self._pool.shutdown()
        self._writer.shutdown()
        with self._cond:  # no read starts from now on; those under way end first
            self._closed = True
            while self._reading:
                self._cond.wait(0.05)
        with self._io:  # a write under way ends first; later ones see _closed
            for fd in (self._fd, self._blocks_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass


atexit.register(BlockCache.flush_all)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_ASK: _DaemonPool | None = None  # requests made while the caller waits (info, listings)
_ASK_LOCK = threading.Lock()


def _cancellable(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` in a daemon thread, waited for with Cancel checked: a server that
    answers one byte a second cannot hold an open (or the process's exit) hostage."""
    global _ASK
    with _ASK_LOCK:
        if _ASK is None:
            _ASK = _DaemonPool(4, "ckpt-ask")
        pool = _ASK
    future = pool.submit(lambda: fn(*args, **kwargs))
    while not future.done():
        wait([future], timeout=0.05)
        check_current()
    return future.result()


def private_cache_dir() -> Path:
    """:func:`cache_dir`, made if needed (mode 0700) and checked to be this user's alone.

    A folder others may write to (``CKPT_CACHE_DIR=/tmp``) gets a private subfolder
    ``ckptviewer-<uid>``; a folder that is a link, or owned by someone else, is refused.
    """
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name != "posix":
        return folder
    st = os.lstat(folder)
    if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        folder = folder / f"ckptviewer-{os.getuid()}"
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            pass
        st = os.lstat(folder)
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o077:
            raise CheckpointError(f"{folder}: the block cache folder is not yours alone; set CKPT_CACHE_DIR")
    return folder


class _DaemonPool:
    """A fixed pool of daemon threads running submitted calls (futures): a request stuck on a slow
    server never keeps the process from exiting after Ctrl-C, as ThreadPoolExecutor's workers,
    joined at exit, would."""

    def __init__(self, workers: int, name: str) -> None:
        import queue

        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._threads = [threading.Thread(target=self._work, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for t in self._threads:
            t.start()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            future, fn, args = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:
                future.set_exception(exc)

    def submit(self, fn: Any, *args: Any) -> Future:
        future: Future = Future()
        self._queue.put((future, fn, args))
        return future

    def shutdown(self) -> None:
        for _ in self._threads:
            self._queue.put(None)


def _http_range(remote: RemotePath, lo: int, hi: int, etag: str | None, size: int) -> bytes | bytearray:
    """Bytes ``lo:hi`` of a web server's file, read with fsspec's own HTTP session but checked
    here: the answer must be a 206 for exactly that range of an object of ``size`` bytes
    (Content-Range), of the version first seen (If-Match, ETag), and no more than ``hi - lo`` bytes
    are ever read from the body: a server sending gigabytes, or forever, for a small range is cut
    off, not buffered."""
    from fsspec.asyn import sync

    fs = remote.fs
    shown = str(remote)

    async def get() -> bytes | bytearray:
        session = await fs.set_session()
        headers = {"Range": f"bytes={lo}-{hi - 1}", "Accept-Encoding": "identity"}
        if etag:
            headers["If-Match"] = etag
        kwargs = dict(fs.kwargs)
        headers = {**kwargs.pop("headers", {}), **headers}
        async with session.get(fs.encode_url(remote.fspath), headers=headers, **kwargs) as r:
            if r.status == 404:
                raise FileNotFoundError(shown)
            if r.status in (401, 403):
                raise PermissionError(shown)
            if r.status == 412:
                raise CheckpointError(f"{shown}: the file changed on the server while it was read; open it again")
            if r.status != 206:
                raise CheckpointError(f"{shown}: the server answered {r.status} to a Range request "
                                      "(it must honour Range requests)")  # fmt: skip
            # the total too: a range of an object of another size is of another version of it
            if str(r.headers.get("Content-Range", "")) not in (f"bytes {lo}-{hi - 1}/{size}", f"bytes {lo}-{hi - 1}/*"):
                raise CheckpointError(f"{shown}: the server sent other bytes than the range asked for")
            if etag and r.headers.get("ETag") not in (None, etag):
                raise CheckpointError(f"{shown}: the file changed on the server while it was read; open it again")
            # filled in place: a growing buffer copied to bytes at the end held each range twice (with 8
            # requests of 16 MiB in flight, a scan's anonymous memory went past 256 MiB)
            out = bytearray(hi - lo)
            got = 0
            while True:
                chunk = await r.content.read(min(1 << 20, hi - lo + 1 - got))
                if not chunk:
                    return out if got == hi - lo else bytes(out[:got])
                if got + len(chunk) > hi - lo:
                    raise CheckpointError(f"{shown}: the server sent more bytes than the range asked for")
                out[got : got + len(chunk)] = chunk
                got += len(chunk)

    return sync(fs.loop, get)


def _lock_file(fd: int, exclusive: bool) -> bool:
    """flock ``fd`` without waiting; True if locked (always True where flock does not exist)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


def _in_use(path: Path) -> bool:
    """Whether some process holds ``path`` open as a block cache (its shared lock)."""
    try:
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
    except OSError:
        return False
    try:
        return not _lock_file(fd, exclusive=True)
    finally:
        os.close(fd)


def _exact_range(fs: Any) -> dict[str, Any]:
    """cat_file's options for ``fs`` so that a range asks for that range only.

    fsspec's default cat_file (HfFileSystem's, among others) opens the file with a read-ahead cache that
    asks the server for 5 MiB past the range's end: listing an hf:// folder downloaded whole shards.
    Async filesystems (s3fs) mirror their own _cat_file on the instance and take no such option."""
    import fsspec

    default = getattr(fs.cat_file, "__func__", None) is fsspec.AbstractFileSystem.cat_file
    return {"cache_type": "none"} if default else {}


def _pwrite_all(fd: int, data: Any, pos: int) -> None:
    """Write all of ``data`` at ``pos`` or raise OSError. A write may be cut short (a disk filling up,
    a file-size limit): its blocks would then be marked present over a hole of zeros."""
    view = memoryview(data).cast("B")
    while len(view):
        done = os.pwrite(fd, view, pos)
        if done <= 0:
            raise OSError(errno.ENOSPC, "nothing could be written")
        view, pos = view[done:], pos + done


def _pread_into(fd: int, view: memoryview, pos: int) -> int:
    data = os.pread(fd, len(view), pos)
    view[: len(data)] = data
    return len(data)


def _touch(path: Path) -> None:
    try:
        os.utime(path)
    except OSError:
        pass


def _evict(folder: Path, limit: int, keep: int) -> None:
    """Remove least recently used cached objects until the cache (plus ``keep`` bytes about to
    be cached) fits ``limit``; objects open in this process are kept."""
    try:
        entries = [p for p in folder.glob("*.data") if p.stem not in BlockCache._open]
    except OSError:
        return
    used = []
    total = 0
    for p in entries:
        try:
            st = p.stat()
        except OSError:
            continue
        disk = st.st_blocks * 512 if hasattr(st, "st_blocks") else st.st_size
        used.append((st.st_mtime, disk, p))
        total += disk
    for _mtime, disk, p in sorted(used):
        if total + min(keep, limit) <= limit:
            break
        if _in_use(p):
            continue  # another process reads it now
        for q in (p, p.with_suffix(".blocks")):
            try:
                q.unlink()
            except OSError:
                pass
        total -= disk
