#!/usr/bin/env python
"""Benchmark: checkpoints on object storage (a local S3-compatible server in its own process).

Targets (issue #15):

1. Remote listing of a 2 GiB checkpoint (torch zip and safetensors, 256 tensors each):
   bytes read <= 1 % of the file, requests <= 5, wall time <= 2x the local listing plus the
   server's round trips (one HEAD's median time x the requests made). Listing is
   ``open_checkpoint`` + ``build_tree`` with a cold block cache, in a fresh worker process
   (imports done before the clock starts); whole ``ckpt info`` processes are printed too.
2. Remote statistics of 1 GiB (128 x 8 MiB float32 of the safetensors file), cold cache:
   throughput >= 50 % of a plain s3fs sequential read of the same bytes (8 MiB reads), and
   memory <= 256 MB (peak anonymous memory growth; the cache file's mapped pages, which the
   kernel can drop, are printed apart as file-backed).

The server is bench/s3_files_server.py (HeadObject, ranged GetObject, ListObjectsV2 over a
folder, served with pread): moto's server reads an object's whole value for every ranged
GET, seconds per request at 2 GiB, which would time moto rather than the client (the tests
use moto, where only requests and bytes are counted). The server counts requests and the
body bytes it sends.
Not a pass/fail test: prints TARGET MET / MISSED and exits 0.

Usage: python bench/bench_remote.py [--quick] [--repeats N] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from _measure import GIB, MIB, Contention, measure_call, quick_note, run_worker, serve_worker, verdict

BUCKET = "ckpt-bench"
N_TENSORS = 256
SCRIPT = str(Path(__file__).resolve())


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip


def _make(folder: Path, total: int) -> dict[str, Path]:
    import torch
    from safetensors.torch import save_file

    per = total // N_TENSORS // 4
    g = torch.Generator().manual_seed(0)
    sd = {f"model.layers.{i // 4}.block{i % 4}.weight": torch.randn(per, generator=g) for i in range(N_TENSORS)}
    files = {"zip": folder / "big.pth", "safetensors": folder / "big.safetensors"}
    torch.save({"state_dict": sd, "epoch": 3}, files["zip"])
    save_file(sd, str(files["safetensors"]))
    return files


def _counted(endpoint: str, fn) -> tuple[dict, int, int]:
    """Run ``fn``: its result, the requests the server answered meanwhile and the body bytes it sent."""
    urllib.request.urlopen(f"{endpoint}/__reset").read()
    out = fn()
    counts = json.loads(urllib.request.urlopen(f"{endpoint}/__stats").read())
    return out, counts["requests"], counts["bytes"]


# ---------------------------------------------------------------- worker side


def _worker(spec: dict) -> dict:
    os.environ.update(spec["env"])
    os.environ["CKPT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ckpt-bench-cache-", dir=spec.get("cache_parent"))
    try:
        import fsspec  # imports before the clock, as a running app has them
        import s3fs  # noqa: F401
        import torch  # noqa: F401

        from ckptviewer.core.open import open_checkpoint
        from ckptviewer.core.stats import checkpoint_stats
        from ckptviewer.core.tree import build_tree

        what, target = spec["what"], spec["target"]
        if what == "list":
            if not target.startswith("s3://"):
                open_checkpoint(target, device="cpu")  # warm the page cache and the code paths
            elif spec.get("connected"):
                # a process that already talks to the server (the window's second file): s3fs's client
                # set-up (~0.5 s: botocore's service model, the event loop) is behind us
                fsspec.filesystem("s3").info(f"{BUCKET}/warm-up")
            return measure_call(lambda: {"n": len(build_tree(open_checkpoint(target, device="cpu")).children)})
        if what == "rtt":
            fs = fsspec.filesystem("s3")
            times = []
            for _ in range(9):
                fs.invalidate_cache()
                t0 = time.perf_counter()
                fs.info(target.removeprefix("s3://"))
                times.append(time.perf_counter() - t0)
            return {"rtt": statistics.median(times)}
        if what == "stats":
            ckpt = open_checkpoint(target, device="cpu")
            entries = list(ckpt.tensors.values())[: spec["n"]]
            nbytes = sum(e.nbytes for e in entries)
            return measure_call(lambda: {"bytes": nbytes, "n": len(checkpoint_stats(ckpt, entries))})
        if what == "s3fs":
            fs = fsspec.filesystem("s3")
            start, nbytes = spec["start"], spec["bytes"]

            def read() -> dict:
                with fs.open(target.removeprefix("s3://"), "rb", block_size=8 * MIB, cache_type="none") as f:
                    f.seek(start)
                    left = nbytes
                    while left:
                        got = len(f.read(min(8 * MIB, left)))
                        if not got:
                            break
                        left -= got
                return {"bytes": nbytes - left}

            return measure_call(read)
        raise ValueError(what)
    finally:
        shutil.rmtree(os.environ["CKPT_CACHE_DIR"], ignore_errors=True)


# ---------------------------------------------------------------- driver


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="sizes / 8 (a smoke run)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--stats-only", action="store_true", help="only [2], the statistics")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return serve_worker(args.worker, _worker)

    total = 2 * GIB // (8 if args.quick else 1)
    tmp = Path(tempfile.mkdtemp(prefix="ckpt-bench-remote-", dir=args.dir))
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    (tmp / BUCKET).mkdir()
    serve = str(Path(__file__).with_name("s3_files_server.py"))
    server = subprocess.Popen([sys.executable, serve, str(tmp), str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    env = _env(endpoint)
    try:
        os.environ.update(env)
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint + "/__stats", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        (tmp / BUCKET / "warm-up").write_bytes(b"x")
        print(f"writing 2 x {total / GIB:.2f} GiB ...", flush=True)
        files = _make(tmp / BUCKET, total)  # the server serves the bucket's folder
        # the fixtures' 4 GiB of dirty pages would otherwise be written back during the measurements,
        # and the kernel throttles every writer (the block cache's) while it does
        os.sync()
        urls = {kind: f"s3://{BUCKET}/{path.name}" for kind, path in files.items()}
        note = quick_note(args.quick)
        with Contention() as busy:
            rtt = run_worker(SCRIPT, {"what": "rtt", "target": urls["zip"], "env": env}, "rtt")["rtt"]
            if not args.stats_only:
                _listing(args, files, urls, env, endpoint, rtt, note)
            _statistics(files, urls, env, total, note)
        print("\n" + busy.line())
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def _listing(args: argparse.Namespace, files: dict, urls: dict, env: dict, endpoint: str, rtt: float,
             note: str) -> None:  # fmt: skip
    print(f"\nserver round trip (HEAD, median of 9): {rtt * 1000:.1f} ms")
    print(f"\n[1] listing 2 GiB{note}: open_checkpoint + build_tree, cold block cache, "
          f"median of {args.repeats}")  # fmt: skip
    for kind in ("zip", "safetensors"):
        size = files[kind].stat().st_size
        local = [run_worker(SCRIPT, {"what": "list", "target": str(files[kind]), "env": env}, "local")["time"]
                 for _ in range(args.repeats)]  # fmt: skip
        lt = statistics.median(local)
        for connected in (False, True):
            far, reqs, nbytes = [], 0, 0
            for _ in range(args.repeats):
                spec = {"what": "list", "target": urls[kind], "env": env, "connected": connected}
                out, reqs, nbytes = _counted(endpoint, lambda spec=spec: run_worker(SCRIPT, spec, "remote"))
                far.append(out["time"])
            rt = statistics.median(far)
            budget = 2 * lt + reqs * rtt
            label = "client connected" if connected else "first request of the process"
            print(f"  {kind:12s} local {lt * 1000:6.1f} ms   remote {rt * 1000:6.1f} ms ({label})   "
                  f"requests {reqs}   bytes {nbytes / MIB:.1f} MiB = {nbytes / size:.2%} of "
                  f"{size / GIB:.2f} GiB")  # fmt: skip
            print(f"    bytes <= 1 %: {verdict(nbytes <= 0.01 * size)}   requests <= 5: "
                  f"{verdict(reqs <= 5)}   time <= 2 x local + {reqs} round trips "
                  f"({budget * 1000:.0f} ms): {verdict(rt <= budget)}")  # fmt: skip
    print("\n  whole processes (`ckpt info`, imports included; median of 5):")
    for label, target in (("local zip", str(files["zip"])), ("s3 zip", urls["zip"]),
                          ("s3 safetensors", urls["safetensors"])):  # fmt: skip
        times = []
        for _ in range(5):
            cache = tempfile.mkdtemp(prefix="ckpt-bench-cache-")
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-m", "ckptviewer", "info", target], capture_output=True,
                               env={**os.environ, **env, "CKPT_CACHE_DIR": cache}, check=False)  # fmt: skip
            times.append(time.perf_counter() - t0)
            shutil.rmtree(cache, ignore_errors=True)
            if r.returncode:
                print("    failed:", r.stderr.decode().strip()[:200])
        print(f"    {label:16s} {statistics.median(times):.2f} s")


def _statistics(files: dict, urls: dict, env: dict, total: int, note: str) -> None:
    n = N_TENSORS // 2
    print(f"\n[2] statistics of {n} tensors = {total / 2 / GIB:.2f} GiB{note}, cold cache, median of 3")
    start = _data_start(files["safetensors"])
    ref = [run_worker(SCRIPT, {"what": "s3fs", "target": urls["safetensors"], "start": start,
                               "bytes": total // 2, "env": env}, "s3fs") for _ in range(3)]  # fmt: skip
    st = statistics.median(r["time"] for r in ref)
    sb = total / 2 / st
    print(f"  plain s3fs sequential read {st:.2f} s ({sb / MIB:.0f} MiB/s), no disk write")
    # the same statistics of the local file (in the page cache): the computation alone, which no
    # remote read can beat; on 2 cores it also shares them with the server
    local = [run_worker(SCRIPT, {"what": "stats", "target": str(files["safetensors"]), "n": n, "env": env},
                        "stats") for _ in range(3)]  # fmt: skip
    lb = total / 2 / statistics.median(r["time"] for r in local)
    print(f"  the same statistics of the local file (page cache): {lb / MIB:.0f} MiB/s = "
          f"{lb / sb:.2f} of s3fs's read (the computation alone)")  # fmt: skip
    # the block cache writes every fetched byte to its folder: that disk's write speed bounds a scan
    parents = [(f"cache on {tempfile.gettempdir()} (disk)", None)]
    if os.path.isdir("/dev/shm"):
        parents.append(("cache on /dev/shm (memory)", "/dev/shm"))
    for label, parent in parents:
        speed = _write_speed(parent)
        ours = [run_worker(SCRIPT, {"what": "stats", "target": urls["safetensors"], "n": n, "env": env,
                                    "cache_parent": parent}, "stats") for _ in range(3)]  # fmt: skip
        ot = statistics.median(r["time"] for r in ours)
        ob = total / 2 / ot
        anon = max(r["anon"] or 0 for r in ours)
        filed = max(r["file"] or 0 for r in ours)
        print(f"  ckptviewer, {label}: {ot:.2f} s ({ob / MIB:.0f} MiB/s; writing 256 MiB there: "
              f"{speed / MIB:.0f} MiB/s)   ratio {ob / sb:.2f}; of the local statistics: "
              f"{ob / lb:.2f}")  # fmt: skip
        print(f"    throughput >= 50 % of s3fs: {verdict(ob >= 0.5 * sb)}   peak anonymous growth "
              f"{anon / MIB:.0f} MiB <= 256 MB: {verdict(anon <= 256e6)}   (file-backed pages of the "
              f"cache file: {filed / MIB:.0f} MiB, reclaimable)")  # fmt: skip


def _write_speed(parent: str | None) -> float:
    """Bytes per second of writing 256 MiB into a new file under ``parent`` (the cache's medium)."""
    fd, name = tempfile.mkstemp(dir=parent)
    piece = os.urandom(16 * MIB)
    try:
        t0 = time.perf_counter()
        for i in range(16):
            os.pwrite(fd, piece, i * 16 * MIB)
        return 256 * MIB / (time.perf_counter() - t0)
    finally:
        os.close(fd)
        os.unlink(name)


def _data_start(path: Path) -> int:
    import struct

    with open(path, "rb") as f:
        return 8 + struct.unpack("<Q", f.read(8))[0]


if __name__ == "__main__":
    sys.exit(main())
