"""Measurement helpers shared by the benchmark scripts in this folder.

The scripts import them with ``from _measure import ...``: a script's own folder is on
``sys.path`` (also in the ``--worker`` processes they start), so that works wherever the
script is run from. Linux is assumed for the memory figures (``/proc``); elsewhere they
are None and print as ``n/a``.
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
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

GIB = 1 << 30
MIB = 1 << 20
MB = 1_000_000


# ---------------------------------------------------------------- memory of this process


def status(field: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM, RssAnon, RssFile) in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak() -> bool:
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
            v = status(field)
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


def measure_call(fn: Callable[[], dict]) -> dict:
    """Time one call of ``fn`` and measure the memory it grows this process by.

    Resets VmHWM first, then returns ``fn()``'s dict together with ``time`` (seconds),
    ``growth`` (peak RSS minus the RSS before the call; None where VmHWM could not be
    reset), ``anon`` and ``file`` (peak RssAnon / RssFile growth, sampled every 5 ms) and
    ``peak_reset``. Call it after a warm-up and ``gc.collect()``.
    """
    peak_reset = reset_peak()
    rss0, anon0, file0 = status("VmRSS"), status("RssAnon"), status("RssFile")
    with Sampler() as sampler:
        t0 = time.perf_counter()
        info = fn()
        elapsed = time.perf_counter() - t0
    hwm = status("VmHWM")
    growth = None if rss0 is None or hwm is None else (hwm - rss0 if peak_reset else None)
    anon = None if anon0 is None else sampler.peak["RssAnon"] - anon0
    filed = None if file0 is None else sampler.peak["RssFile"] - file0
    return {"time": elapsed, "growth": growth, "anon": anon, "file": filed, "peak_reset": peak_reset, **info}


# ---------------------------------------------------------------- other processes


def busy_seconds() -> float | None:
    """CPU-seconds that all of the machine's CPUs have been busy (steal included), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def own_seconds() -> float:
    """CPU-seconds used by this process and its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class Contention:
    """CPU time that other processes (and a hypervisor: steal) took while we measured.

    On a 2-core machine one busy neighbour makes every parallel region wait for a
    descheduled thread, so the timings are only meaningful when this stays small.
    """

    def __enter__(self) -> Contention:
        self.wall, self.busy, self.own = time.perf_counter(), busy_seconds(), own_seconds()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall
        busy = busy_seconds()
        self.other = None if busy is None or self.busy is None else busy - self.busy - (own_seconds() - self.own)

    def line(self) -> str:
        """One line: how much CPU other processes used, and whether that skews the timings."""
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


# ---------------------------------------------------------------- worker processes


def run_worker(script: str, spec: dict, name: str) -> dict:
    """Run ``script --worker SPEC`` in a fresh Python process; the JSON dict it prints last.

    Raises RuntimeError with the worker's stderr if it fails (``name`` says which).
    """
    r = subprocess.run(
        [sys.executable, script, "--worker", json.dumps(spec)], capture_output=True, text=True, check=False
    )
    if r.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def serve_worker(arg: str, worker: Callable[[dict], dict]) -> int:
    """The ``--worker`` side of :func:`run_worker`: run ``worker`` on the spec, print its result as JSON."""
    print(json.dumps(worker(json.loads(arg))))
    return 0


def run_interleaved(order: Iterable[str], repeats: int, run: Callable[[str], dict]) -> dict[str, list[dict]]:
    """``repeats`` rounds of ``run(method)`` for each method in ``order``, interleaved, so a slow
    spell of the machine hits every method; the results by method."""
    order = tuple(order)
    runs: dict[str, list[dict]] = {m: [] for m in order}
    for _ in range(repeats):
        for method in order:
            runs[method].append(run(method))
    return runs


def worst(runs: list[dict], field: str) -> int | None:
    """The largest non-None ``field`` over ``runs``, or None if there is none."""
    vals = [r[field] for r in runs if r[field] is not None]
    return max(vals) if vals else None


def summarize(runs: list[dict]) -> dict:
    """Best and median ``time``, largest ``growth``/``anon``/``file`` and whether every run reset VmHWM."""
    times = [r["time"] for r in runs]
    return {
        "best": min(times), "median": statistics.median(times),
        "growth": worst(runs, "growth"), "anon": worst(runs, "anon"), "file": worst(runs, "file"),
        "peak_reset": all(r["peak_reset"] for r in runs),
    }  # fmt: skip


# ---------------------------------------------------------------- checkpoints


def make_layered(path: Path, total_bytes: int, n_tensors: int, prefix: str, kinds: tuple[str, ...]) -> None:
    """Save ``n_tensors`` float32 tensors of equal size, ``total_bytes`` in all, like a model's
    layers: keys ``{prefix}blocks.{i // len(kinds)}.{kind}.weight``, random values (seed 0)."""
    import torch

    gen = torch.Generator().manual_seed(0)
    numel = total_bytes // 4 // n_tensors
    cols = 2048 if numel % 2048 == 0 else 1
    sd = {}
    for i in range(n_tensors):
        sd[f"{prefix}blocks.{i // len(kinds)}.{kinds[i % len(kinds)]}.weight"] = torch.randn(
            numel // cols, cols, generator=gen
        )
    torch.save(sd, path)


# ---------------------------------------------------------------- output


def fmt_mb(n: int | None, width: int = 7) -> str:
    """``n`` bytes as ``"   12.3 MB"`` (number right-aligned in ``width``), or ``"n/a"``."""
    return "n/a" if n is None else f"{n / MB:{width}.1f} MB"


def evict(paths: Iterable[str | Path]) -> bool:
    """Drop these files (only these) from the page cache: the next read comes from the disk.
    False where posix_fadvise does not exist (nothing dropped)."""
    if not hasattr(os, "posix_fadvise"):
        return False
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)  # dirty pages are not dropped
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return True


def verdict(ok: bool) -> str:
    """``TARGET MET`` or ``TARGET MISSED``."""
    return "TARGET MET" if ok else "TARGET MISSED"


def quick_note(quick: bool, what: str = "size") -> str:
    """The suffix of a verdict in a ``--quick`` run (``what``: "size" or "sizes"); empty otherwise."""
    return f"  (quick {what}: not the real target)" if quick else ""


def memory_table_header(width: int) -> str:
    """Header of the per-method table: time, RSS growth, anonymous and file-backed peaks."""
    return f"{'method':{width}} {'best':>8} {'median':>8} {'RSS growth':>11} {'anon peak':>11} {'file peak':>11}"


def memory_table_row(label: str, width: int, s: dict) -> str:
    """A row of :func:`memory_table_header` from a :func:`summarize` dict."""
    return (f"{label:{width}} {s['best']:7.3f}s {s['median']:7.3f}s "
            f"{fmt_mb(s['growth']):>11} {fmt_mb(s['anon']):>11} {fmt_mb(s['file']):>11}")  # fmt: skip


def memory_table(
    runs: dict[str, list[dict]],
    methods: Iterable[str],
    labels: dict[str, str],
    width: int,
    check: Callable[[str, list[dict]], None] | None = None,
) -> dict[str, dict]:
    """Print the rows of :func:`memory_table_header` for ``methods`` (in that order), each
    followed by whatever ``check(method, its runs)`` prints, then a note if VmHWM could not
    be reset; return the :func:`summarize` dicts by method."""
    res: dict[str, dict] = {}
    for method in methods:
        res[method] = summarize(runs[method])
        print(memory_table_row(labels[method], width, res[method]))
        if check is not None:
            check(method, runs[method])
    if not all(s["peak_reset"] for s in res.values()):
        print("(could not reset VmHWM: RSS growth is not available)")
    return res


def banner(name: str, tmp: Path, quick: bool, threads: str | None = None) -> str:
    """The first line of a script's output: versions, torch threads (``threads``), temp dir."""
    import platform

    import torch

    if threads is None:
        threads = f"{torch.get_num_threads()} torch threads"
    return (f"{name}: torch {torch.__version__}, Python {platform.python_version()}, "
            f"{threads}, temp dir {tmp}{'  [QUICK]' if quick else ''}")  # fmt: skip


# ---------------------------------------------------------------- command line, temp dir


def parse_args(
    doc: str,
    argv: list[str] | None,
    *,
    quick_help: str = "1/8 of the size: a smoke run, not the targets",
    dir_help: str = "where to write the temporary checkpoints (default: under /tmp)",
    repeats_help: str = "fresh processes per method (default 3)",
    worker: bool = True,
) -> argparse.Namespace:
    """The common options: ``--quick``, ``--dir`` (checked to exist), ``--repeats`` and, if
    ``worker``, the hidden ``--worker SPEC``."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help=quick_help)
    ap.add_argument("--dir", default=None, help=dir_help)
    ap.add_argument("--repeats", type=int, default=3, help=repeats_help)
    if worker:
        ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.dir is not None and not Path(args.dir).is_dir():
        ap.error(f"--dir {args.dir}: no such directory")
    return args


def measure_methods(
    order: Iterable[str],
    methods: Iterable[str],
    run: Callable[[str], dict],
    repeats: int,
    labels: dict[str, str],
    width: int,
    warmup: str,
    check: Callable[[str, list[dict]], None] | None = None,
) -> tuple[dict[str, dict], dict[str, list[dict]], Contention]:
    """Run every method ``repeats`` times (``run(method)``, rounds interleaved in ``order``),
    watching :class:`Contention`, and print the table of :func:`memory_table` (``methods``).

    ``warmup`` names what the workers warm up on. Returns the summaries and the runs by
    method, and the contention (for its :meth:`Contention.line`).
    """
    print(f"a fresh process per run (warm-up on {warmup} first), methods interleaved; best of {repeats}")
    print("runs, memory = max over runs")
    print(memory_table_header(width))
    with Contention() as load:  # interleaved, so a slow spell of the disk hits every method
        runs = run_interleaved(order, repeats, run)
    return memory_table(runs, methods, labels, width, check), runs, load


def start(name: str, args: argparse.Namespace, what: str = "size", threads: str | None = None) -> tuple[int, str, Path]:
    """Begin the run of ``bench_<name>``: a fresh temp dir under ``args.dir``, the banner printed.

    Returns the scale (8 with ``--quick``, else 1), the verdicts' :func:`quick_note` and the temp dir.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f"ckptbench-{name}-", dir=args.dir))
    print(banner(f"bench_{name}", tmp, args.quick, threads))
    return (8 if args.quick else 1), quick_note(args.quick, what), tmp


@contextmanager
def scratch(tmp: Path) -> Iterator[Path]:
    """Remove ``tmp`` at the end, also on error or Ctrl-C; on success print the total time."""
    t_start = time.perf_counter()
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\ntotal {time.perf_counter() - t_start:.0f} s; removed {tmp}")
