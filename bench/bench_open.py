#!/usr/bin/env python
"""Benchmark: opening and listing checkpoints, against torch.load in the same run.

Targets (from the issue):

1. open: call -> complete tree for a 2 GiB float32 zip checkpoint (256 tensors), against
   ``torch.load(map_location="cpu", weights_only=True)`` of the same file: at least 20x
   faster, and <= 50 MB of memory growth.
2. a 20,000-tensor checkpoint (an LLM's key count) lists in <= 1 s.

Every measurement runs in a fresh Python process (this script with ``--worker``), after a
warm-up on a tiny checkpoint so one-off lazy imports are not timed, so its RSS growth is
clean. Memory growth is the peak RSS (VmHWM, reset after the imports) minus the RSS just
before the call. Files are read straight after they are written, so they sit in the page
cache: these are warm numbers. Not a pass/fail test: it always exits 0.

Usage: python bench/bench_open.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

from _measure import (
    GIB,
    MB,
    Contention,
    fmt_mb,
    make_layered,
    parse_args,
    reset_peak,
    run_worker,
    scratch,
    serve_worker,
    start,
    status,
    verdict,
)

BIG_BYTES = 2 * GIB
BIG_TENSORS = 256
BIG_MAX_GROWTH = 50 * MB
BIG_MIN_SPEEDUP = 20.0
MANY_TENSORS = 20_000
MANY_MAX_SECONDS = 1.0


# ---------------------------------------------------------------- worker (fresh process)


def _run_once(method: str, path: str) -> tuple[object, int]:
    """Open ``path`` with ``method``; return what keeps it alive and how many tensors it lists."""
    import torch

    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.tree import build_tree

    if method == "ours":
        ckpt = open_checkpoint(path)
        root = build_tree(ckpt)
        return (ckpt, root), root.n_tensors
    if method == "torch":
        sd = torch.load(path, map_location="cpu", weights_only=True)
        return sd, len(sd)
    if method == "torch_mmap":
        sd = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return sd, len(sd)
    raise ValueError(method)


def _release(obj: object) -> None:
    if isinstance(obj, tuple):
        obj[0].close()


def worker(spec: dict) -> dict:
    """Time ``spec["repeats"]`` opens of ``spec["path"]`` in this process; memory of the first."""
    import torch  # noqa: F401  (imported before the baseline, like the app would have it)

    import ckptviewer.core.tree  # noqa: F401

    method, path = spec["method"], spec["path"]
    warm, _ = _run_once(method, spec["warmup"])
    _release(warm)
    del warm
    gc.collect()
    peak_reset = reset_peak()
    rss0 = status("VmRSS")
    times, growth, held, n = [], None, None, 0
    for i in range(spec["repeats"]):
        t0 = time.perf_counter()
        obj, n = _run_once(method, path)
        times.append(time.perf_counter() - t0)
        if i == 0 and rss0 is not None:
            rss1, hwm = status("VmRSS"), status("VmHWM")
            held = rss1 - rss0
            growth = max(hwm - rss0, held) if peak_reset else held
        _release(obj)
        del obj
        gc.collect()
    return {"times": times, "growth": growth, "held": held, "n_tensors": n, "peak_reset": peak_reset}


# ---------------------------------------------------------------- checkpoint makers


def make_big(path: Path, total_bytes: int, n_tensors: int) -> None:
    """``n_tensors`` float32 tensors of equal size, ``total_bytes`` in all, like a model's layers."""
    make_layered(path, total_bytes, n_tensors, "", ("attn.q_proj", "attn.k_proj", "attn.v_proj", "mlp.proj"))


def llm_keys(n: int) -> list[tuple[str, tuple[int, ...]]]:
    """``n`` keys and tiny shapes laid out like a mixture-of-experts LLM (Qwen3-30B-A3B style:
    48 layers x 128 experts gives ~18,900 keys); stops after ``n`` keys."""
    h = 8  # every matrix is tiny: the key count is what is measured, not the bytes
    head = [("model.embed_tokens.weight", (32, h))]
    tail = [("model.norm.weight", (h,)), ("lm_head.weight", (32, h))]
    body: list[tuple[str, tuple[int, ...]]] = []
    layer = 0
    while len(body) < n - len(head) - len(tail):
        p = f"model.layers.{layer}"
        body += [(f"{p}.input_layernorm.weight", (h,))]
        body += [(f"{p}.self_attn.{x}_proj.weight", (h, h)) for x in "qkvo"]
        body += [(f"{p}.self_attn.q_norm.weight", (h,)), (f"{p}.self_attn.k_norm.weight", (h,))]
        body += [(f"{p}.post_attention_layernorm.weight", (h,)), (f"{p}.mlp.gate.weight", (128, h))]
        for e in range(128):
            body += [(f"{p}.mlp.experts.{e}.{x}_proj.weight", (h, h)) for x in ("gate", "up", "down")]
        layer += 1
    return head + body[: n - len(head) - len(tail)] + tail


def make_many(path: Path, n: int) -> None:
    import torch

    torch.manual_seed(0)
    sd = {k: torch.randn(shape).to(torch.bfloat16) for k, shape in llm_keys(n)}
    torch.save(sd, path)


def make_tiny(path: Path) -> None:
    import torch

    torch.save({"model.layers.0.self_attn.q_proj.weight": torch.randn(4, 4), "model.norm.weight": torch.ones(4)}, path)


# ---------------------------------------------------------------- driver


def spawn(method: str, path: Path, warmup: Path, repeats: int) -> dict:
    spec = {"method": method, "path": str(path), "warmup": str(warmup), "repeats": repeats}
    return run_worker(__file__, spec, method)


LABELS = {
    "ours": "open_checkpoint + build_tree",
    "torch": "torch.load(weights_only=True)",
    "torch_mmap": "torch.load(weights_only=True, mmap=True)",
}


def check_count(method: str, counts: list[int], expected: int) -> None:
    """Say so if a method listed the wrong number of tensors (its time would mean nothing)."""
    if any(c != expected for c in counts):
        print(f"    ERROR: {LABELS[method]} listed {counts} tensors, expected {expected}: its numbers are void")


def bench_big(tmp: Path, warmup: Path, scale: int, repeats: int, quick_note: str) -> None:
    path = tmp / "big.pt"
    total = BIG_BYTES // scale
    t0 = time.perf_counter()
    make_big(path, total, BIG_TENSORS)
    made = time.perf_counter() - t0
    print(f"\n[1] {total / GIB:.2f} GiB float32 zip checkpoint, {BIG_TENSORS} tensors (written in {made:.1f} s)")
    print(f"    fresh process per run, warm-up on a tiny file first; best of {repeats} runs, memory = max over runs")
    print(f"    {'method':44} {'best':>9} {'median':>9} {'peak RSS growth':>16}")
    res = {}
    peak_reset = True
    with Contention() as load:
        for method in ("ours", "torch", "torch_mmap"):
            runs = [spawn(method, path, warmup, 1) for _ in range(repeats)]
            times = [r["times"][0] for r in runs]
            growths = [r["growth"] for r in runs if r["growth"] is not None]
            res[method] = (min(times), max(growths) if growths else None)
            peak_reset &= all(r["peak_reset"] for r in runs)
            row = f"{min(times):8.4f}s {statistics.median(times):8.4f}s {fmt_mb(res[method][1], 8):>16}"
            print(f"    {LABELS[method]:44} {row}")
            check_count(method, [r["n_tensors"] for r in runs], BIG_TENSORS)
    if not peak_reset:
        print("    (could not reset VmHWM: growth is RSS held after the call, not the peak)")
    ours_t, ours_mem = res["ours"]
    speedup = res["torch"][0] / ours_t
    print(f"    speed-up vs torch.load:        {speedup:8.1f}x   (target >= {BIG_MIN_SPEEDUP:.0f}x)    "
          f"{verdict(speedup >= BIG_MIN_SPEEDUP)}{quick_note}")  # fmt: skip
    mem_ok = ours_mem is not None and ours_mem <= BIG_MAX_GROWTH
    print(f"    memory growth of ours:       {fmt_mb(ours_mem, 8)}   (target <= {BIG_MAX_GROWTH / MB:.0f} MB)  "
          f"{verdict(mem_ok)}{quick_note}")  # fmt: skip
    print(f"    for reference, vs torch.load(mmap=True): {res['torch_mmap'][0] / ours_t:.1f}x (no target)")
    print(f"    {load.line()}")
    path.unlink()


def bench_many(tmp: Path, warmup: Path, scale: int, repeats: int, quick_note: str) -> None:
    path = tmp / "many.pt"
    n = MANY_TENSORS // scale
    t0 = time.perf_counter()
    make_many(path, n)
    made = time.perf_counter() - t0
    size = path.stat().st_size
    print(f"\n[2] {n:,}-tensor LLM-style checkpoint (model.layers.N.mlp.experts.M..., bfloat16, "
          f"{size / MB:.1f} MB; written in {made:.1f} s)")  # fmt: skip
    print(f"    one fresh process per method, warm-up on a tiny file, then {repeats} runs in it")
    print(f"    {'method':44} {'best':>9} {'median':>9} {'peak RSS growth':>16}")
    res = {}
    with Contention() as load:
        for method in ("ours", "torch_mmap", "torch"):
            r = spawn(method, path, warmup, repeats)
            res[method] = r
            best, med = min(r["times"]), statistics.median(r["times"])
            print(f"    {LABELS[method]:44} {best:8.4f}s {med:8.4f}s {fmt_mb(r['growth'], 8):>16}")
            check_count(method, [r["n_tensors"]], n)
    best = min(res["ours"]["times"])
    med = statistics.median(res["ours"]["times"])
    print(f"    ours: best {best:.3f} s, median {med:.3f} s   (target <= {MANY_MAX_SECONDS:.0f} s, on the median)   "
          f"{verdict(med <= MANY_MAX_SECONDS)}{quick_note}")  # fmt: skip
    ref = min(res["torch_mmap"]["times"])
    print(f"    for reference, vs torch.load(mmap=True): {ref / best:.2f}x (no target)")
    print(f"    {load.line()}")
    path.unlink()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(
        __doc__,
        argv,
        quick_help="1/8 of the sizes: a smoke run, not the targets",
        repeats_help="runs per measurement (default 3)",
    )
    if args.worker:
        return serve_worker(args.worker, worker)

    scale, note, tmp = start("open", args, what="sizes")
    print("note: each file is timed right after it is written, so it is in the page cache (warm, no disk I/O).")
    with scratch(tmp):
        warmup = tmp / "tiny.pt"
        make_tiny(warmup)
        bench_big(tmp, warmup, scale, args.repeats, note)
        bench_many(tmp, warmup, scale, args.repeats, note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
