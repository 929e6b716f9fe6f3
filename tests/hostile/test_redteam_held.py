"""Red team of the block cache's read-ahead held in memory and written behind (core/remote.py: HELD
blocks, ``read_span`` / ``read_into``, ``_write_behind``, ``_drop_passed``, ``flush_all``, ``close``) and
of the torch thread count lowered while a remote tensor is measured (core/stats.py).

Every case runs a short script in a child process limited to 3 GiB of address space and a wall-clock
time (tests/hostile/limited.py); the servers run in this process (tests/hostile/hostile_http.py). The
child shrinks the read-ahead (PART, READAHEAD, HOLD_MAX, COPY_MAX) so a 40 MiB object goes through every
state many times, and can slow its own disk (a sleep before each cache-file write, in the child only) so
the scan overtakes the writer and held spans are dropped. Every statistic is compared with the same
file's, read locally. A test marked xfail(strict) is a bug found here: its reason says what goes wrong.
"""

from __future__ import annotations

import json
import os
import socket
import struct
import threading
import time
from pathlib import Path

import pytest
import torch

from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.stats import checkpoint_stats
from tests.hostile.hostile_http import Handler, HostileServer, VirtualObject
from tests.hostile.limited import ckpt, script

MiB = 1 << 20
# small enough that a 40 MiB object is read ahead in dozens of spans, held, dropped and written behind
SMALL = {"PART": 1 * MiB, "READAHEAD": 8 * MiB, "HOLD_MAX": 2 * MiB, "COPY_MAX": 4 * MiB}

# The child: opens sys.argv[1]'s "url" with the block cache's knobs set, runs one scenario, prints one
# JSON line. "rows" are the statistics (to_json) of every tensor in the checkpoint's order.
_CHILD = r"""
import json, os, resource, sys, threading, time
args = json.loads(sys.argv[1])
from ckptviewer.core import remote
for name, value in args.get("knobs", {}).items():
    setattr(remote, name, value)
if args.get("disk_delay"):  # a disk slower than the network: the writer falls behind the scan
    write = remote.BlockCache._write
    def slow_write(self, data, lo, blocks, _write=write):
        time.sleep(args["disk_delay"])
        return _write(self, data, lo, blocks)
    remote.BlockCache._write = slow_write
import torch
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.progress import CancelToken, Cancelled
from ckptviewer.core.stats import checkpoint_stats

def anon():
    with open("/proc/self/status") as f:
        return int(f.read().split("RssAnon:")[1].split()[0]) << 10

def rows(ckpt, entries=None, **kw):
    return [s.to_json() for s in checkpoint_stats(ckpt, entries, **kw)]

out = {"threads_before": torch.get_num_threads()}
ckpt = open_checkpoint(args["url"], device="cpu")
cache = ckpt.path.block_cache()
if args.get("fsize"):  # a disk that fills up: writes past this offset fail (or are cut short)
    resource.setrlimit(resource.RLIMIT_FSIZE, (args["fsize"], args["fsize"]))
peak = [anon()]
out["anon_open"] = peak[0]
def sample():
    while True:
        peak[0] = max(peak[0], anon())
        time.sleep(0.005)
threading.Thread(target=sample, daemon=True).start()
mode = args.get("mode", "scan")
try:
    if mode == "scan":
        out["rows"] = rows(ckpt)
    elif mode == "jump_back":  # the second half, the first half, then everything
        entries = list(ckpt.tensors.values())
        half = len(entries) // 2
        out["rows"] = rows(ckpt, entries[half:]) + rows(ckpt, entries[:half])
        out["again"] = rows(ckpt)
    elif mode == "two_threads":  # the window's statistics and a diff of the same object at once
        from ckptviewer.core.diff import diff
        local = open_checkpoint(args["local"], device="cpu")
        got = {}
        def stats_thread():
            got["rows"] = rows(ckpt)
        def diff_thread():
            report = diff(ckpt, local)
            got["diff"] = [(r.key, r.status, r.max_abs) for r in report.rows]
        threads = [threading.Thread(target=stats_thread), threading.Thread(target=diff_thread)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out.update(got)
    elif mode == "cancel_then_scan":  # Cancel once some MiB arrived, then a second full scan
        token = CancelToken()
        def progress(p):
            if p.done >= args["cancel_at"]:
                token.cancel()
        try:
            rows(ckpt, progress=progress, cancel=token)
            out["cancelled"] = False
        except Cancelled:
            out["cancelled"] = True
        out["threads_after_cancel"] = torch.get_num_threads()
        out["rows"] = rows(ckpt)
    elif mode == "close_then_read":  # a descriptor number freed by close, taken by another file
        entries = list(ckpt.tensors.values())
        rows(ckpt, entries[:1])
        cache.close()
        others = [os.open(p, os.O_RDWR) for p in args["victims"]]
        try:
            out["rows"] = rows(ckpt)
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"
    elif mode == "cancel_after_then_scan":  # Cancel after some seconds (the scan stuck on a stalled range)
        token = CancelToken()
        threading.Timer(args["cancel_after"], token.cancel).start()
        try:
            rows(ckpt, cancel=token)
            out["cancelled"] = False
        except Cancelled:
            out["cancelled"] = True
        out["rows"] = rows(ckpt)
    elif mode == "thread_started_during":  # a thread that first uses torch while a remote tensor is measured
        scanning, scanned = threading.Event(), threading.Event()
        seen = {}
        def progress(p):
            if p.done >= args["start_at"]:
                scanning.set()
        def other():
            scanning.wait(60)
            seen["during"] = torch.get_num_threads()
            scanned.wait(60)
            seen["after"] = torch.get_num_threads()
        t = threading.Thread(target=other)
        t.start()
        out["rows"] = rows(ckpt, progress=progress)
        scanned.set()
        t.join()
        fresh = {}
        f = threading.Thread(target=lambda: fresh.setdefault("n", torch.get_num_threads()))
        f.start()
        f.join()
        out.update(other_during=seen.get("during"), other_after=seen.get("after"), fresh=fresh["n"])
    else:
        raise SystemExit(f"unknown mode {mode}")
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
out["threads_after"] = torch.get_num_threads()
out["stats"] = dict(cache.stats)
remote.BlockCache.flush_all()
out["peak_anon"] = peak[0]
print(json.dumps(out))
"""


def run_child(cache: Path, url: str, timeout: float = 120, **args: object) -> dict:
    """The child's result for ``url`` (knobs SMALL unless given)."""
    args.setdefault("knobs", SMALL)
    return script(cache, _CHILD, json.dumps({"url": url, **args}), timeout=timeout)


@pytest.fixture
def cache(tmp_path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


@pytest.fixture(scope="module")
def mixed(tmp_path_factory) -> tuple[Path, bytes, list[dict]]:
    """A 40 MiB safetensors file: 3 MiB tensors with tiny int8 ones between them (so float64 and
    float16 tensors start at offsets that are not multiples of their item size) and its statistics,
    measured locally."""
    g = torch.Generator().manual_seed(15)
    tensors = {}
    for i in range(12):
        tensors[f"big{i:02d}"] = torch.randn(700_000 + 3 * i, generator=g) * (i + 1)
        tensors[f"tiny{i:02d}"] = torch.randint(-5, 5, (3 + i,), dtype=torch.int8, generator=g)
        tensors[f"f64_{i:02d}"] = torch.randn(5_000 + i, dtype=torch.float64, generator=g)
        tensors[f"f16_{i:02d}"] = torch.randn(300_001, generator=g).half()
    tensors["big00"][123] = float("nan")
    tensors["big05"][7] = float("inf")
    path = tmp_path_factory.mktemp("mixed") / "m.safetensors"
    path.write_bytes(packed(tensors))
    rows = [s.to_json() for s in checkpoint_stats(open_checkpoint(path, device="cpu"))]
    return path, path.read_bytes(), rows


def packed(tensors: dict[str, torch.Tensor]) -> bytes:
    """A safetensors file with the tensors in this order, back to back (safetensors.torch.save_file
    sorts them by alignment; the format allows any offsets, and hostile files use them)."""
    names = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.int8: "I8"}
    header, blobs, at = {}, [], 0
    for key, t in tensors.items():
        blob = t.contiguous().view(torch.uint8).numpy().tobytes()
        header[key] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


@pytest.fixture
def server():
    s = HostileServer()
    yield s
    s.stop()


def unaligned(data: bytes) -> int:
    """How many tensors of the file start at an offset that is not a multiple of their item size."""
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8 : 8 + n])
    size = {"F64": 8, "F32": 4, "F16": 2, "I8": 1}
    return sum((8 + n + t["data_offsets"][0]) % size[t["dtype"]] != 0 for k, t in header.items() if k != "__metadata__")


# --- wrong results -----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("disk_delay", [0, 0.05], ids=["disk_keeps_up", "disk_falls_behind"])
def test_a_scan_through_held_and_present_blocks_equals_the_local_file(cache, server, mixed, disk_delay):
    """Tensors straddling HELD and PRESENT blocks, unaligned float64/float16 tensors, tiny ones
    between large ones; with a slow disk, spans the scan passed are dropped and fetched anew. Then a
    second process finds correct bytes under every block the first one marked present."""
    _path, data, local = mixed
    assert unaligned(data) >= 12
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, disk_delay=disk_delay)
    assert got.get("error") is None, got
    assert got["rows"] == local
    assert got["stats"]["held"] >= 5, got["stats"]
    if disk_delay:
        assert got["stats"]["dropped"] >= 1, got["stats"]
    again = run_child(cache, url, knobs={})  # from the cache file the first one left
    assert again["rows"] == local
    if not disk_delay:  # all held read-ahead reached the cache file, at the latest at exit (flush_all)
        assert again["stats"]["requests"] == 0, again["stats"]


@pytest.mark.slow
def test_two_processes_scanning_one_object_while_their_disks_fall_behind(cache, server, mixed):
    """Both write the same cache file behind their scans (and drop what they passed); each one's
    numbers, and a third process's from what they left, are the local file's."""
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    results: list[dict] = []
    threads = [threading.Thread(target=lambda: results.append(run_child(cache, url, disk_delay=0.02)))
               for _ in range(2)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and all(r.get("error") is None and r["rows"] == local for r in results), results
    assert run_child(cache, url, knobs={})["rows"] == local


@pytest.mark.slow
def test_a_scan_that_jumps_back(cache, server, mixed):
    """The second half, then the first half (the scan's last stop now lies behind held spans), then all."""
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, mode="jump_back", disk_delay=0.02)
    half = len(local) // 2
    assert got.get("error") is None, got
    assert got["rows"] == local[half:] + local[:half]
    assert got["again"] == local


@pytest.mark.slow
def test_statistics_and_a_diff_of_one_object_in_two_threads(cache, server, mixed):
    """Two scans of one block cache at once (the window's statistics, a diff against the local file):
    each one's read-ahead is 'passed' by the other's position and may be dropped under it."""
    path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, mode="two_threads", local=str(path), disk_delay=0.02)
    assert got.get("error") is None, got
    assert got["rows"] == local
    assert all(status == "identical" for _key, status, _max in got["diff"]), got["diff"]
    assert len(got["diff"]) == len(local)


@pytest.mark.slow
def test_cancel_in_the_middle_of_a_scan_then_a_second_scan(cache, server, mixed):
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, mode="cancel_then_scan", cancel_at=15 * MiB, disk_delay=0.02)
    assert got.get("error") is None, got
    assert got["cancelled"] is True
    assert got["rows"] == local
    assert got["threads_after_cancel"] == got["threads_before"] == got["threads_after"]


# --- data loss, corruption ---------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("knobs", [SMALL, {}], ids=["small_spans", "default_spans"])
def test_a_disk_that_fills_up_never_leaves_zeros_under_a_present_block(cache, server, mixed, knobs):
    """A file-size limit (RLIMIT_FSIZE, as a full disk) in the middle of a span: the write is cut short.
    Seen: the short write was taken for a whole one, its blocks marked present over a hole, and the next
    process's statistics were silently wrong; the scan itself ended in a raw OSError. Now the first
    process fails with one clean line (or measures right) and the second measures right."""
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, knobs=knobs, fsize=20_000_003)
    if got.get("error") is not None:
        assert got["error"].startswith("CheckpointError: ") and "cannot write the block cache" in got["error"], got
    else:
        assert got["rows"] == local
    again = run_child(cache, url, knobs={})
    assert again.get("error") is None, again
    assert again["rows"] == local


@pytest.mark.slow
def test_reading_after_close_never_uses_a_reused_descriptor(tmp_path, cache, server, mixed):
    """close() frees the cache file's descriptor numbers; two files opened next take them. Seen: the
    next read through the checkpoint waited for ever (its fetch threads were gone). Now it is one clean
    error, and neither file is read as the object nor written."""
    _path, data, _local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    victims = [tmp_path / "victim1", tmp_path / "victim2"]
    for v in victims:
        v.write_bytes(b"\xff" * len(data))
    got = run_child(cache, url, mode="close_then_read", victims=[str(v) for v in victims], timeout=60)
    assert got.get("error") == f"CheckpointError: {url}: its block cache was closed; open it again", got
    assert all(v.read_bytes() == b"\xff" * len(data) for v in victims)


# --- memory ------------------------------------------------------------------------------------------------


def sparse_safetensors(tmp_path: Path, n: int, size: int) -> tuple[VirtualObject, Path]:
    """``n`` float32 tensors of ``size`` bytes, zeros but for one value each (i + 1 in the middle of the
    i-th): the server's virtual object and the same file on disk, sparse."""
    header, at = {}, 0
    for i in range(n):
        header[f"t{i:03d}"] = {"dtype": "F32", "shape": [size // 4], "data_offsets": [at, at + size]}
        at += size
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    base = 8 + len(text)
    chunks = {0: struct.pack("<Q", len(text)) + text}
    for i in range(n):
        chunks[base + i * size + size // 2] = struct.pack("<f", float(i + 1))
    obj = VirtualObject(base + at, chunks)
    path = tmp_path / "sparse.safetensors"
    with open(path, "wb") as f:
        f.truncate(obj.size)
        for offset, chunk in chunks.items():
            f.seek(offset)
            f.write(chunk)
    return obj, path


@pytest.mark.slow
@pytest.mark.parametrize("disk_delay", [0, 0.5], ids=["disk_keeps_up", "disk_falls_behind"])
def test_anonymous_memory_of_a_1gib_scan_stays_bounded(tmp_path, cache, server, disk_delay):
    """A 1 GiB scan with the real sizes (16 MiB ranges, 64 MiB held): anonymous memory grows by at most
    256 MiB, even with a disk that takes half a second per write. Seen before: each range's body was
    read into a growing buffer and copied to bytes at its end (twice the range per request), 262 MiB."""
    obj, path = sparse_safetensors(tmp_path, 64, 16 * MiB)
    local = [s.to_json() for s in checkpoint_stats(open_checkpoint(path, device="cpu"))]
    url = server.add("/m.safetensors", obj)
    got = run_child(cache, url, knobs={}, disk_delay=disk_delay, timeout=180)
    assert got.get("error") is None, got
    assert got["rows"] == local
    grown = got["peak_anon"] - got["anon_open"]
    assert grown <= 256 * MiB, f"anonymous memory grew by {grown / MiB:.0f} MiB ({got['stats']})"


# --- a hostile server under the read-ahead -----------------------------------------------------------------


def first_answers_wrong(how: str, after: int = 4 * MiB):
    """A server answering the first request for each range starting past ``after`` wrongly (``how``),
    and honestly when that range is asked again: read-ahead ranges fail in the background (their blocks
    must be missing again, fetched anew), a range the scan asks for itself fails it with one line."""
    seen: set[int] = set()
    lock = threading.Lock()

    def behave(h: Handler, method: str) -> None:
        obj = h.obj()
        rng = h.asked_range(obj.size) if obj is not None else None
        if method == "HEAD" or obj is None or rng is None or rng[0] < after:
            return h.honest(method)
        with lock:
            first = rng[0] not in seen
            seen.add(rng[0])
        if not first:
            return h.honest(method)
        start, stop = rng
        n = stop - start
        rng_header = f"bytes {start}-{stop - 1}/{obj.size}"
        if how == "short":  # says n bytes, sends half, hangs up
            h.close_connection = True
            h.head(206, {"Content-Length": str(n), "Content-Range": rng_header, "ETag": obj.etag})
            h.send_body(obj.read(start, start + n // 2))
        elif how == "long":  # n bytes and a kilobyte more
            h.close_connection = True
            h.head(206, {"Content-Length": str(n + 1024), "Content-Range": rng_header, "ETag": obj.etag})
            h.send_body(obj.read(start, stop) + b"\x7f" * 1024)
        elif how == "other_range":  # the right length, another offset's bytes, said so
            other = max(0, start - 3 * MiB)
            h.head(206, {"Content-Length": str(n), "Content-Range": f"bytes {other}-{other + n - 1}/{obj.size}",
                         "ETag": obj.etag})  # fmt: skip
            h.send_body(obj.read(other, other + n))
        elif how == "other_total":  # the right range of an object of another size: it changed
            h.head(206, {"Content-Length": str(n), "Content-Range": f"bytes {start}-{stop - 1}/{obj.size + 1}",
                         "ETag": obj.etag})  # fmt: skip
            h.send_body(b"\x7f" * n)
        elif how == "other_etag":  # another version's bytes under its own ETag
            h.head(206, {"Content-Length": str(n), "Content-Range": rng_header, "ETag": '"v2"'})
            h.send_body(b"\x7f" * n)
        elif how == "reset":  # a few bytes, then a TCP reset
            h.close_connection = True
            h.head(206, {"Content-Length": str(n), "Content-Range": rng_header, "ETag": obj.etag})
            h.send_body(obj.read(start, start + 1000))
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            h.connection.close()
        else:
            raise AssertionError(how)

    return behave


@pytest.mark.slow
@pytest.mark.parametrize("how", ["short", "long", "other_range", "other_total", "other_etag", "reset"])
def test_a_server_answering_ranges_wrongly_never_puts_wrong_bytes_in_a_result_or_the_cache(cache, mixed, how):
    """Each range is first answered wrongly, then honestly. Whatever the scan makes of it (right numbers
    from the read-ahead's retries, or one clean line), no wrong byte is measured or kept: the next
    process, against an honest server, measures the local file's numbers from what this one cached."""
    _path, data, local = mixed
    s = HostileServer(first_answers_wrong(how))
    try:
        url = s.add("/m.safetensors", VirtualObject.of(data))
        got = run_child(cache, url)
        s.behave = lambda h, m: h.honest(m)
        again = run_child(cache, url, knobs={})
    finally:
        s.stop()
    if got.get("error") is not None:
        assert got["error"].startswith("CheckpointError: "), got["error"]
        assert "\n" not in got["error"]
    else:
        assert got["rows"] == local
    assert again.get("error") is None, again
    assert again["rows"] == local


# --- torch's thread count ----------------------------------------------------------------------------------


needs_two_cores = pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the thread count is never lowered")


@pytest.mark.slow
@needs_two_cores
def test_a_thread_that_starts_using_torch_during_a_remote_scan_keeps_all_threads(cache, server, mixed):
    """torch.set_num_threads is per thread with OpenMP, but it also sets the count every thread that
    first uses torch later starts with. Seen: a thread that began using torch while a remote tensor was
    measured (the window's next task, a diff) kept one thread fewer for good."""
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    got = run_child(cache, url, mode="thread_started_during", start_at=8 * MiB, disk_delay=0.02)
    assert got.get("error") is None, got
    assert got["rows"] == local
    assert got["threads_after"] == got["threads_before"] == got["fresh"]
    assert got["other_after"] == got["threads_before"], got


@pytest.mark.slow
@needs_two_cores
def test_the_thread_count_comes_back_after_a_failed_remote_scan(cache, mixed):
    """The server stops answering data ranges in the middle of the scan: the error is one line and the
    thread count is what it was."""
    _path, data, _local = mixed

    def fails_late(h: Handler, method: str) -> None:
        obj = h.obj()
        rng = h.asked_range(obj.size) if obj is not None else None
        if method == "GET" and rng is not None and rng[0] >= 20 * MiB:
            h.send_error(500)
            return
        h.honest(method)

    s = HostileServer(fails_late)
    try:
        got = run_child(cache, s.add("/m.safetensors", VirtualObject.of(data)))
    finally:
        s.stop()
    assert got["error"].startswith("CheckpointError: "), got
    assert got["threads_after"] == got["threads_before"]


# --- a server that changes the object or stalls in the middle of a scan ------------------------------------


@pytest.mark.slow
def test_an_object_replaced_in_the_middle_of_a_scan(tmp_path, cache, mixed):
    """After 10 ranges the server serves version B (other bytes, same size, ETag "B") and answers 412
    to If-Match "v1". The scan measures version A throughout or stops with one line; what it cached
    is A's (the next open, of B, gets a cache of its own and B's numbers)."""
    _path, data, local = mixed
    n = struct.unpack("<Q", data[:8])[0] + 8
    b_data = data[:n] + (torch.frombuffer(bytearray(data[n:]), dtype=torch.uint8) ^ 1).numpy().tobytes()
    (tmp_path / "b.safetensors").write_bytes(b_data)
    local_b = [r.to_json() for r in checkpoint_stats(open_checkpoint(tmp_path / "b.safetensors", device="cpu"))]
    versions = {"A": VirtualObject.of(data, '"v1"'), "B": VirtualObject.of(b_data, '"B"')}
    gets = []

    def replaced(h: Handler, method: str) -> None:
        if method == "GET":
            gets.append(1)
        obj = versions["A" if len(gets) <= 10 else "B"]
        if h.headers.get("If-Match") not in (None, obj.etag):
            h.send_response(412)
            h.send_header("Content-Length", "0")
            h.end_headers()
            return
        h.honest(method, obj)

    s = HostileServer(replaced)
    try:
        url = s.add("/m.safetensors", versions["A"])
        got = run_child(cache, url, disk_delay=0.02)
        again = run_child(cache, url, knobs={})
    finally:
        s.stop()
    if got.get("error") is not None:
        assert got["error"].startswith("CheckpointError: ") and "changed" in got["error"], got["error"]
    else:
        assert got["rows"] == local
    assert again.get("error") is None, again
    assert again["rows"] == local_b


@pytest.mark.slow
def test_a_read_ahead_range_that_stalls_until_cancel(cache, mixed):
    """The first request for a range past 10 MiB gets no answer for 4 s while the others are answered.
    The scan waiting for it stops at Cancel; once the range arrives, a second scan measures right."""
    _path, data, local = mixed
    stalled = threading.Event()

    def stalls(h: Handler, method: str) -> None:
        obj = h.obj()
        rng = h.asked_range(obj.size) if obj is not None else None
        if method == "GET" and rng is not None and rng[0] >= 10 * MiB and not stalled.is_set():
            stalled.set()
            time.sleep(4)
        h.honest(method)

    s = HostileServer(stalls)
    try:
        got = run_child(cache, s.add("/m.safetensors", VirtualObject.of(data)), mode="cancel_after_then_scan",
                        cancel_after=2.0)  # fmt: skip
    finally:
        s.stop()
    assert stalled.is_set()
    assert got.get("error") is None, got
    assert got["cancelled"] is True
    assert got["rows"] == local


# --- a hostile cache folder --------------------------------------------------------------------------------


def cache_key(url: str, size: int, etag: str) -> str:
    """BlockCache.for_object's key of an object (predictable from its URL, size and ETag)."""
    import hashlib

    from ckptviewer.core.remote import redact

    return hashlib.sha256(json.dumps([redact(url), "", size, etag]).encode()).hexdigest()[:32]


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hard_link", "folder", "fifo"])
def test_a_planted_block_map_is_not_written_through(tmp_path, cache, server, mixed, kind):
    """The block map (<key>.blocks) planted as a hard link to another file of the user's, a folder or a
    FIFO. Seen: the linked file was truncated and overwritten with the map (the data file was checked
    for links, the map was not); a folder or FIFO ended in a raw OSError."""
    _path, data, local = mixed
    url = server.add("/m.safetensors", VirtualObject.of(data))
    planted = cache / f"{cache_key(url, len(data), chr(34) + 'v1' + chr(34))}.blocks"
    victim = tmp_path / "notes.txt"
    victim.write_bytes(b"precious " * 1000)
    if kind == "hard_link":
        os.link(victim, planted)
    elif kind == "folder":
        planted.mkdir()
    else:
        os.mkfifo(planted)
    r = ckpt(cache, "stats", url, "--json", "--device", "cpu", timeout=60)
    assert r.returncode in (0, 1), r.stderr[-2000:]
    assert "traceback" not in r.stderr.lower() and "unexpected" not in r.stderr.lower(), r.stderr[-2000:]
    if r.returncode == 0:
        assert json.loads(r.stdout)["tensors"] == local
    else:
        assert r.stderr.count("\n") == 1, r.stderr
    assert victim.read_bytes() == b"precious " * 1000
