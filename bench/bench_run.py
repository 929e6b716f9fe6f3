#!/usr/bin/env python
"""Benchmark: the run view of 10 checkpoints of 200 MiB, cold and cached, against reading them once.

Targets (from the issue): the run view (``find_run`` + ``analyse_run``) of a run of 10 × 200 MiB
checkpoints takes, cold (nothing cached), at most 1.5x the time of reading every checkpoint once
with plain torch; reopened (figures cached per file), at most 0.5 s.

Each checkpoint is a training dict {'model', 'optimizer', 'step'}: a model of 16 float32 weights
(1/3 of the bytes) and Adam's exp_avg / exp_avg_sq for each (2/3), as a real training run saves
it; checkpoint t's weights are t-1's plus a small update. Each measurement runs in a fresh
Python process (this script with ``--worker``) after a warm-up on a small run (imports, torch's
thread pool):

* run view, cold: ``find_run`` + ``analyse_run`` with an empty cache folder: opens every checkpoint,
  then one chunked pass per checkpoint over its weights, the previous and the first checkpoint's
  weights (same chunk ranges) and its Adam moments;
* run view, cached: the same calls again over the cache folder the cold run filled;
* reference: for each file ``torch.load(mmap=True, weights_only=True)`` and ``t.sum()`` of every
  tensor (every byte read once).

The files sit in the page cache (written just before): warm reads for every method alike.
Not a pass/fail test: it always exits 0.

Usage: python bench/bench_run.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import gc
import shutil
import sys
import time
from pathlib import Path

from _measure import (
    MIB,
    evict,
    measure_call,
    measure_methods,
    parse_args,
    run_worker,
    scratch,
    serve_worker,
    start,
    verdict,
)

N_CHECKPOINTS = 10
CHECKPOINT_BYTES = 200 * MIB
N_WEIGHTS = 16
MAX_COLD_RATIO = 1.5
MAX_WARM_SECONDS = 0.5


# ---------------------------------------------------------------- worker (fresh process)


def _view(folder: str, cache: str) -> dict:
    from ckptviewer.core.run import analyse_run, find_run

    report = analyse_run(find_run(folder, cache_dir=Path(cache)), cache_dir=Path(cache))
    return {"n": len(report.checkpoints), "layers": len(report.layers), "cached": sum(report.cached),
            "findings": [(f.kind, f.checkpoint, f.key) for f in report.findings]}  # fmt: skip


def _plain(folder: str) -> dict:
    import torch

    n = 0
    for f in sorted(Path(folder).glob("*.pth")):
        sd = torch.load(f, map_location="cpu", weights_only=True, mmap=True)
        stack = [sd]
        while stack:  # every tensor of the nested dicts (model, optimizer state)
            node = stack.pop()
            for v in node.values() if isinstance(node, dict) else node:
                if isinstance(v, torch.Tensor):
                    v.sum()
                elif isinstance(v, (dict, list)):
                    stack.append(v)
        n += 1
    return {"n": n}


def worker(spec: dict) -> dict:
    import torch  # noqa: F401  (imported before the baseline, as the CLI would have it)

    from ckptviewer.core import run  # noqa: F401  (module imports, not timed)

    method = spec["method"]
    warm_cache = Path(spec["tmp"]) / f"warm-cache-{method}-{time.monotonic_ns()}"
    warm_cache.mkdir()
    _view(spec["warm"], str(warm_cache))
    _plain(spec["warm"])
    gc.collect()
    if method.endswith("_disk") and not evict(Path(spec["run"]).iterdir()):
        return {"time": float("nan"), "growth": None, "anon": None, "file": None, "peak_reset": False, "n": 0,
                "cached": 0, "findings": []}  # fmt: skip
    if method.startswith("plain"):
        return measure_call(lambda: _plain(spec["run"]))
    cache = Path(spec["tmp"]) / "cache"
    if method.startswith("cold"):
        shutil.rmtree(cache, ignore_errors=True)
        cache.mkdir()
    return measure_call(lambda: _view(spec["run"], str(cache)))


# ---------------------------------------------------------------- driver


def make_run(folder: Path, n: int, checkpoint_bytes: int) -> None:
    """``n`` training checkpoints of ``checkpoint_bytes`` each (see the module docstring)."""
    import torch

    folder.mkdir()
    gen = torch.Generator().manual_seed(0)
    numel = checkpoint_bytes // 3 // 4 // N_WEIGHTS
    model = {f"layers.{i}.weight": torch.randn(numel // 256, 256, generator=gen) * 0.02 for i in range(N_WEIGHTS)}
    avg = {k: torch.zeros_like(v) for k, v in model.items()}
    sq = {k: torch.zeros_like(v) for k, v in model.items()}
    for step in range(1, n + 1):
        for k, w in model.items():
            grad = torch.randn(w.shape, generator=gen) * 0.01
            avg[k].mul_(0.9).add_(grad, alpha=0.1)
            sq[k].mul_(0.999).addcmul_(grad, grad, value=0.001)
            w.sub_(1e-3 * avg[k] / (sq[k].sqrt() + 1e-8))
        state = {i: {"step": torch.tensor(float(step * 100)), "exp_avg": avg[k], "exp_avg_sq": sq[k]}
                 for i, k in enumerate(model)}  # fmt: skip
        groups = [
            {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.0, "params": list(range(len(model)))}
        ]
        torch.save({"model": model, "optimizer": {"state": state, "param_groups": groups}, "step": step * 100},
                   folder / f"model_step{step * 100}.pth")  # fmt: skip


LABELS = {
    "plain": "torch.load(mmap) + sum of every tensor",
    "cold": "run view, nothing cached",
    "plain_disk": "plain, files evicted from the page cache",
    "cold_disk": "run view, nothing cached, files evicted",
    "warm": "run view, cached (reopened)",
}
METHODS = ("plain", "cold", "plain_disk", "cold_disk", "warm")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    if args.worker:
        return serve_worker(args.worker, worker)
    scale, note, tmp = start("run", args)
    size = CHECKPOINT_BYTES // scale
    print("note: the checkpoints are read from the page cache (warm).")
    with scratch(tmp):
        t0 = time.perf_counter()
        make_run(tmp / "run", N_CHECKPOINTS, size)
        make_run(tmp / "warm", 3, 3 * MIB)
        files = sorted((tmp / "run").iterdir())
        total = sum(f.stat().st_size for f in files)
        print(f"\nrun: {len(files)} checkpoints of {files[0].stat().st_size / MIB:.0f} MiB ({N_WEIGHTS} weights + Adam "
              f"moments), {total / MIB:.0f} MiB in all; written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        spec = {"run": str(tmp / "run"), "warm": str(tmp / "warm"), "tmp": str(tmp)}

        def run(method: str) -> dict:
            return run_worker(__file__, {**spec, "method": method}, method)

        # cold before warm in every round: the warm run reads the cache the cold one wrote
        res, runs, load = measure_methods(METHODS, METHODS, run, args.repeats, LABELS, 42, "a 3 x 3 MiB run")
        cold_runs = runs["cold"] + runs["cold_disk"]
        if any(r["cached"] != N_CHECKPOINTS for r in runs["warm"]) or any(r["cached"] for r in cold_runs):
            print("    ERROR: the cached runs were not all cached, or the cold ones were")
        print("\n[1] cold run view (nothing cached) / reading every checkpoint once:")
        for label, ours, ref in (("files on disk (evicted from the page cache before each run)", "cold_disk",
                                  "plain_disk"), ("files in the page cache", "cold", "plain")):  # fmt: skip
            cold, plain = res[ours]["best"], res[ref]["best"]
            if cold != cold:  # NaN: no posix_fadvise here
                print(f"    {label}: n/a on this system")
                continue
            ratio = cold / plain
            print(
                f"    {label}: {ratio:5.2f}x  (target <= {MAX_COLD_RATIO}x)  {verdict(ratio <= MAX_COLD_RATIO)}{note}"
            )
            speeds = f"run view {total / MIB / cold:.0f} MiB/s, plain reads {total / MIB / plain:.0f} MiB/s"
            print(f"      throughput: {speeds}")
        print("    (the run view reads each checkpoint's weights three times, with the previous and the first")
        print("    checkpoint's, and makes ~9 passes over each weight chunk and its Adam moments; plain reads one)")
        anon = max((r["anon"] or 0) for r in cold_runs)
        print(f"    anonymous memory peak of the cold runs: {anon / MIB:.1f} MiB (chunks, not tensors)")
        warm = res["warm"]["best"]
        print(f"\n[2] reopened (cached) run view: {warm:.3f} s  (target <= {MAX_WARM_SECONDS} s)  "
              f"{verdict(warm <= MAX_WARM_SECONDS)}{note}")  # fmt: skip
        findings = runs["cold"][0]["findings"]
        print(f"\nfindings on this synthetic run: {findings or 'none'} (a steady run: none expected)")
        print(f"    {load.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
