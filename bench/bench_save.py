#!/usr/bin/env python
"""Benchmark: strip + save of a 1 GiB DDP checkpoint, against torch.save in the same run.

Target (from the issue): strip + save of a 1 GiB checkpoint takes at most 1.3x the time of
``torch.save`` of the same dict, and the peak memory during the save is at most 1.2x the
checkpoint's size (better: streamed). Both are reported.

The checkpoint is a DDP-style state_dict: 64 float32 tensors of 16 MiB, every key starting
with ``module.``. Each measurement runs in a fresh Python process (this script with
``--worker``), after a warm-up on a tiny checkpoint so one-off lazy imports are not timed:

* ours: ``open_checkpoint`` + ``strip`` + ``save`` (atomic: temporary file, fsync, rename;
  then the verifying re-read), and the same with ``save(..., verify=False)``;
* reference: ``torch.load(mmap=True, weights_only=True)``, the keys stripped in a dict
  comprehension, ``torch.save`` to a new file; and the same followed by ``os.fsync`` of
  the output, since ours syncs and plain ``torch.save`` does not.

Memory is the peak RSS growth: VmHWM (reset through /proc/self/clear_refs after the warm-up)
minus the RSS just before the call. RSS counts the pages of memory-mapped files too (the
source read through mmap), which the kernel can drop at will, so a sampler thread also
records the peak of anonymous memory (RssAnon, what really has to fit in RAM) every 5 ms.
Files are read right after they are written, so they sit in the page cache (warm).
Not a pass/fail test: it always exits 0.

Usage: python bench/bench_save.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GIB = 1 << 30
MIB = 1 << 20
MB = 1_000_000

TOTAL_BYTES = 1 * GIB
N_TENSORS = 64
MAX_TIME_RATIO = 1.3
MAX_PEAK_RATIO = 1.2
STREAMED = 0.25  # anonymous peak below this fraction of the checkpoint: "streamed"


# ---------------------------------------------------------------- worker (fresh process)


def _status(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile) in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


class Sampler:
    """Peak RssAnon and RssFile, sampled every ``interval`` seconds on a thread."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.peak = {"RssAnon": 0, "RssFile": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for field in self.peak:
            v = _status(field)
            if v is not None:
                self.peak[field] = max(self.peak[field], v)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Sampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def _fsync_path(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _run_once(method: str, src: str, out: str) -> dict:
    """Strip ``src`` and save it to ``out`` with ``method``; what the run reports."""
    import torch

    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.edit import strip
    from ckptviewer.core.save import save

    if method in ("ours", "ours_noverify"):
        with open_checkpoint(src, device="cpu") as ckpt:
            new, _ = strip(ckpt)
            rep = save(new, out, verify=(method == "ours"))
        return {"n_tensors": rep.n_tensors, "verified": rep.verified, "file_bytes": rep.file_bytes}
    if method in ("torch", "torch_fsync"):
        sd = torch.load(src, map_location="cpu", weights_only=True, mmap=True)
        sd = {k.removeprefix("module."): v for k, v in sd.items()}
        torch.save(sd, out)
        if method == "torch_fsync":
            _fsync_path(out)
        return {"n_tensors": len(sd), "verified": False, "file_bytes": os.path.getsize(out)}
    raise ValueError(method)


def worker(spec: dict) -> dict:
    """One timed strip + save of ``spec["path"]`` in this process, after a warm-up."""
    import torch  # noqa: F401  (imported before the baseline, as the CLI would have it)

    import ckptviewer.core.save  # noqa: F401

    method = spec["method"]
    _run_once(method, spec["warmup"], spec["warmup_out"])
    os.unlink(spec["warmup_out"])
    gc.collect()
    peak_reset = _reset_peak()
    rss0, anon0, file0 = _status("VmRSS"), _status("RssAnon"), _status("RssFile")
    with Sampler() as sampler:
        t0 = time.perf_counter()
        info = _run_once(method, spec["path"], spec["out"])
        elapsed = time.perf_counter() - t0
    hwm = _status("VmHWM")
    growth = None if rss0 is None or hwm is None else (hwm - rss0 if peak_reset else None)
    anon = None if anon0 is None else sampler.peak["RssAnon"] - anon0
    filed = None if file0 is None else sampler.peak["RssFile"] - file0
    return {"time": elapsed, "growth": growth, "anon": anon, "file": filed, "peak_reset": peak_reset, **info}


# ---------------------------------------------------------------- driver


def make_checkpoint(path: Path, total_bytes: int, n_tensors: int) -> None:
    """A DDP state_dict: ``n_tensors`` float32 tensors, ``module.`` keys, ``total_bytes`` in all."""
    import torch

    gen = torch.Generator().manual_seed(0)
    numel = total_bytes // 4 // n_tensors
    cols = 2048 if numel % 2048 == 0 else 1
    kinds = ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2")
    sd = {}
    for i in range(n_tensors):
        sd[f"module.blocks.{i // 4}.{kinds[i % 4]}.weight"] = torch.randn(numel // cols, cols, generator=gen)
    torch.save(sd, path)


def make_tiny(path: Path) -> None:
    import torch

    torch.save({"module.blocks.0.attn.qkv.weight": torch.randn(4, 4), "module.norm.weight": torch.ones(4)}, path)


LABELS = {
    "ours": "ours: open + strip + save (fsync, verify)",
    "ours_noverify": "ours: ... save(verify=False) (fsync)",
    "torch": "torch.load(mmap) + strip + torch.save",
    "torch_fsync": "torch.load(mmap) + strip + torch.save + fsync",
}


def spawn(method: str, tmp: Path, src: Path, warmup: Path) -> dict:
    out = tmp / f"out_{method}.pt"
    spec = {"method": method, "path": str(src), "out": str(out), "warmup": str(warmup),
            "warmup_out": str(tmp / f"warm_{method}.pt")}  # fmt: skip
    try:
        r = subprocess.run(
            [sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True, check=False
        )
        if r.returncode != 0:
            raise RuntimeError(f"worker {method} failed:\n{r.stderr.strip()}")
        return json.loads(r.stdout.strip().splitlines()[-1])
    finally:
        out.unlink(missing_ok=True)  # the next run writes a fresh file, like a new save would


def fmt_mb(n: int | None) -> str:
    return "n/a" if n is None else f"{n / MB:7.1f} MB"


def verdict(ok: bool) -> str:
    return "TARGET MET" if ok else "TARGET MISSED"


class Contention:
    """CPU time that other processes (and a hypervisor: steal) took while we measured."""

    def __enter__(self) -> Contention:
        self.wall, self.busy, self.own = time.perf_counter(), _busy_seconds(), _own_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        busy = _busy_seconds()
        self.other = None if busy is None or self.busy is None else busy - self.busy - (_own_seconds() - self.own)

    def line(self) -> str:
        if self.other is None:
            return "CPU use of other processes: unknown (no /proc/stat)"
        cores = os.cpu_count() or 1
        share = max(self.other, 0.0) / (self.wall * cores)
        if share < 0.05:
            note = "quiet"
        elif share < 0.2:
            note = "a little busy: timings may be slightly pessimistic"
        else:
            note = "WARNING: the machine was busy, timings are skewed; rerun when it is idle"
        used = max(self.other, 0.0)
        return f"other processes used {used:.1f} CPU-s of {cores} cores x {self.wall:.0f} s ({share:.0%}): {note}"


def _busy_seconds() -> float | None:
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1/8 of the size: a smoke run, not the targets")
    ap.add_argument("--dir", default=None, help="where to write the temporary checkpoints (default: under /tmp)")
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per method (default 3)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.dir is not None and not Path(args.dir).is_dir():
        ap.error(f"--dir {args.dir}: no such directory")
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    import torch

    scale = 8 if args.quick else 1
    quick_note = "  (quick size: not the real target)" if args.quick else ""
    total = TOTAL_BYTES // scale
    tmp = Path(tempfile.mkdtemp(prefix="ckptbench-save-", dir=args.dir))
    print(f"bench_save: torch {torch.__version__}, Python {platform.python_version()}, "
          f"{torch.get_num_threads()} torch threads, temp dir {tmp}{'  [QUICK]' if args.quick else ''}")  # fmt: skip
    print("note: the source is read from the page cache (warm); every output is a new file on disk.")
    t_start = time.perf_counter()
    try:
        src = tmp / "ddp.pt"
        warmup = tmp / "tiny.pt"
        make_tiny(warmup)
        t0 = time.perf_counter()
        make_checkpoint(src, total, N_TENSORS)
        size = src.stat().st_size
        print(f"\ncheckpoint: DDP state_dict, {N_TENSORS} float32 tensors ({total // N_TENSORS // MIB} MiB each), "
              f"module.* keys, {total / GIB:.3f} GiB of tensors, file {size / MB:.0f} MB; "
              f"written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        print(f"a fresh process per run (warm-up on a tiny file first), methods interleaved; best of {args.repeats}")
        print("runs, memory = max over runs")
        print(f"{'method':48} {'best':>8} {'median':>8} {'RSS growth':>11} {'anon peak':>11} {'file peak':>11}")
        res: dict[str, dict] = {}
        peak_reset = True
        order = ("torch", "ours", "torch_fsync", "ours_noverify")
        runs: dict[str, list[dict]] = {m: [] for m in order}
        with Contention() as load:
            for _ in range(args.repeats):  # interleaved, so a slow spell of the disk hits every method
                for method in order:
                    runs[method].append(spawn(method, tmp, src, warmup))
        for method in ("ours", "ours_noverify", "torch", "torch_fsync"):
            rs = runs[method]
            times = [r["time"] for r in rs]

            def worst(field: str, rs: list[dict] = rs) -> int | None:
                vals = [r[field] for r in rs if r[field] is not None]
                return max(vals) if vals else None

            res[method] = {"best": min(times), "growth": worst("growth"), "anon": worst("anon")}
            peak_reset &= all(r["peak_reset"] for r in rs)
            print(f"{LABELS[method]:48} {min(times):7.3f}s {statistics.median(times):7.3f}s "
                  f"{fmt_mb(worst('growth')):>11} {fmt_mb(worst('anon')):>11} {fmt_mb(worst('file')):>11}")  # fmt: skip
            if any(r["n_tensors"] != N_TENSORS for r in rs):
                print(f"    ERROR: {method} wrote {[r['n_tensors'] for r in rs]} tensors, expected {N_TENSORS}")
            if method == "ours" and not all(r["verified"] for r in rs):
                print("    ERROR: a save was not verified")
        if not peak_reset:
            print("(could not reset VmHWM: RSS growth is not available)")

        ours, ours_nv = res["ours"]["best"], res["ours_noverify"]["best"]
        ref, ref_fsync = res["torch"]["best"], res["torch_fsync"]["best"]
        ratio = ours / ref
        print(f"\n[1] time, ours (fsync + verify) / torch.save:       {ratio:5.2f}x  (target <= {MAX_TIME_RATIO}x)  "
              f"{verdict(ratio <= MAX_TIME_RATIO)}{quick_note}")  # fmt: skip
        print(f"    for fairness, ours (fsync + verify) / torch.save + fsync:      {ours / ref_fsync:5.2f}x")
        print(f"    ours without verify (fsync) / torch.save + fsync:              {ours_nv / ref_fsync:5.2f}x")
        print(f"    ours without verify (fsync) / torch.save:                      {ours_nv / ref:5.2f}x")
        print(f"    the verifying re-read costs {ours - ours_nv:.3f} s; the fsync costs torch.save "
              f"{ref_fsync - ref:.3f} s")  # fmt: skip

        growth, anon = res["ours"]["growth"], res["ours"]["anon"]
        print(f"\n[2] peak memory during strip + save, as a share of the checkpoint ({size / MB:.0f} MB):")
        for method in ("ours", "ours_noverify", "torch", "torch_fsync"):
            g, a = res[method]["growth"], res[method]["anon"]
            gs = "n/a" if g is None else f"{g / size:5.2f}x"
            as_ = "n/a" if a is None else f"{a / size:5.2f}x"
            print(f"    {LABELS[method]:48} RSS growth {gs}   anonymous {as_}")
        if growth is None:
            print("    RSS growth of ours: n/a (no /proc/self/clear_refs)")
        else:
            ok = growth <= MAX_PEAK_RATIO * size
            print(f"    RSS growth of ours: {growth / size:.2f}x the checkpoint  (target <= {MAX_PEAK_RATIO}x)  "
                  f"{verdict(ok)}{quick_note}")  # fmt: skip
        if anon is not None:
            streamed = anon <= STREAMED * size
            how = "streamed" if streamed else "NOT streamed"
            print(f"    anonymous memory of ours: {anon / MB:.1f} MB = {anon / size:.2f}x: {how}")
            print("    (the rest of the RSS growth is page cache of memory-mapped files, which the kernel can drop)")
        print(f"    {load.line()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; removed {tmp}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
