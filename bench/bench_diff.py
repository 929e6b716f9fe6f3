#!/usr/bin/env python
"""Benchmark: diff of two 1 GiB checkpoints, against statistics of both in the same run.

Target (from the issue): ``diff`` of two 1 GiB checkpoints takes at most 1.5x the time of
computing statistics on both, with peak memory growth at most 10% of one checkpoint.

The checkpoints hold 16 float32 tensors of 64 MiB each. B is A plus small noise in most
tensors; a few are bit-identical (the first, one in the middle, the last), and one holds
NaNs at the same places on both sides (noise around them). Each measurement runs in a
fresh Python process (this script with ``--worker``), after a warm-up on a small pair
(8 MiB tensors, one NaN) so that one-off costs are neither timed nor counted as growth:
lazy imports, and the first use of torch's thread pool and of the allocator (about 50 MB
of anonymous memory that a warm-up on a tiny pair leaves in the diff's growth):

* diff: ``open_checkpoint`` of both + ``diff(a, b)``; reads tensor data with plain reads
  into reusable buffers;
* reference: ``open_checkpoint`` of both + ``checkpoint_stats`` on each; reads tensor data
  through memory maps.

Memory is the peak RSS growth: VmHWM (reset through /proc/self/clear_refs after the warm-up)
minus the RSS just before the call. RSS counts the pages of memory-mapped files too, so the
statistics side grows by up to both files (pages the kernel can drop at will); a sampler
thread records the peaks of anonymous (RssAnon, what really has to fit in RAM) and
file-backed (RssFile) memory every 5 ms, to tell the two apart. Files are read right after
they are written, so they sit in the page cache (warm). After the timed runs, the diff's
numbers for a few tensors are checked against a float64 reference.
Not a pass/fail test: it always exits 0.

Usage: python bench/bench_diff.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import gc
import math
import sys
import time
from pathlib import Path

from _measure import (
    GIB,
    MB,
    MIB,
    measure_call,
    measure_methods,
    parse_args,
    run_worker,
    scratch,
    serve_worker,
    start,
    verdict,
)

TOTAL_BYTES = 1 * GIB
N_TENSORS = 16
MAX_TIME_RATIO = 1.5
MAX_GROWTH = 0.10  # of one checkpoint
IDENTICAL = (0, 8, 15)  # indices of tensors that B keeps bit for bit
NAN_TENSOR = 5  # NaNs at the same places on both sides, noise elsewhere
NAN_EVERY = 10_000  # about one NaN per this many elements
NOISE = 1e-3  # relative size of B's changes


# ---------------------------------------------------------------- worker (fresh process)


def _run_once(method: str, a: str, b: str) -> dict:
    """Open ``a`` and ``b`` and run ``method`` on them; what the run reports."""
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.diff import diff
    from ckptviewer.core.stats import checkpoint_stats

    with open_checkpoint(a, device="cpu") as ca, open_checkpoint(b, device="cpu") as cb:
        if method == "diff":
            rep = diff(ca, cb)
            rows = [r.to_json() for r in rep.rows]
            return {"counts": rep.counts, "rows": rows, "n_tensors": len(rows)}
        if method == "stats":
            sa, sb = checkpoint_stats(ca), checkpoint_stats(cb)
            return {"n_tensors": min(len(sa), len(sb)), "n_nan": [s.n_nan for s in sa]}
    raise ValueError(method)


def worker(spec: dict) -> dict:
    """One timed run of ``spec["method"]`` in this process, after a warm-up on the small pair."""
    import torch  # noqa: F401  (imported before the baseline, as the CLI would have it)

    from ckptviewer.core import diff, stats  # noqa: F401  (warm the module imports, not timed)

    method = spec["method"]
    _run_once(method, spec["warm_a"], spec["warm_b"])
    gc.collect()
    return measure_call(lambda: _run_once(method, spec["a"], spec["b"]))


# ---------------------------------------------------------------- driver


def key(i: int) -> str:
    return f"model.layers.{i}.mlp.weight"


def make_pair(a_path: Path, b_path: Path, total_bytes: int, n_tensors: int) -> None:
    """A: ``n_tensors`` float32 tensors (NaNs in one); B: A plus noise except in ``IDENTICAL``.

    B is made by changing A's tensors in place after A is saved: about 1x the size in RAM.
    """
    import torch

    gen = torch.Generator().manual_seed(0)
    numel = total_bytes // 4 // n_tensors
    sd = {}
    for i in range(n_tensors):
        t = torch.randn(numel // 1024, 1024, generator=gen).mul_(0.02 * (1 + i % 4))
        if i == NAN_TENSOR:
            where = torch.randint(0, numel, (numel // NAN_EVERY,), generator=gen)
            t.view(-1)[where] = math.nan
        sd[key(i)] = t
    torch.save(sd, a_path)
    for i, t in enumerate(sd.values()):
        if i not in IDENTICAL:  # NaN + noise stays NaN: the NaNs stay where they were
            t.add_(torch.randn(t.shape, generator=gen).mul_(NOISE * 0.02 * (1 + i % 4)))
    torch.save(sd, b_path)


def make_warmup(a_path: Path, b_path: Path) -> None:
    """A small pair (8 MiB tensors: two chunks each, one NaN) that runs every code path once."""
    import torch

    a = {"w": torch.randn(2048, 1024), "v": torch.ones(64)}
    a["w"][0, 0] = math.nan
    torch.save(a, a_path)
    torch.save({"w": a["w"] + 1e-3, "v": a["v"]}, b_path)


LABELS = {
    "diff": "open both + diff(a, b)",
    "stats": "open both + checkpoint_stats on each",
}


def spawn(method: str, spec: dict) -> dict:
    return run_worker(__file__, {**spec, "method": method}, method)


def check_count(method: str, rs: list[dict]) -> None:
    """Say so if a run covered the wrong number of tensors (its numbers would mean nothing)."""
    if any(r["n_tensors"] != N_TENSORS for r in rs):
        print(f"    ERROR: {method} covered {[r['n_tensors'] for r in rs]} tensors, expected {N_TENSORS}")


def reference(a, b) -> dict:
    """float64 metrics of a changed tensor over the elements finite on both sides."""
    x, y = a.double().reshape(-1), b.double().reshape(-1)
    differs = int((~((x == y) | (x.isnan() & y.isnan()))).sum())
    both = x.isfinite() & y.isfinite()
    x, y = x[both], y[both]
    d = y - x
    a2, b2 = float(x @ x), float(y @ y)
    return {
        "max_abs": float(d.abs().max()), "mean_abs": float(d.abs().mean()),
        "rel_l2": math.sqrt(float(d @ d) / a2), "cosine": float(x @ y) / math.sqrt(a2 * b2),
        "frac_changed": differs / a.numel(), "both_finite": int(both.sum()),
    }  # fmt: skip


def check_results(a_path: Path, b_path: Path, rows: list[dict]) -> None:
    """The diff's statuses, and its metrics of two tensors against float64."""
    import torch

    by_key = {r["key"]: r for r in rows}
    want = {key(i): "identical" if i in IDENTICAL else "changed" for i in range(N_TENSORS)}
    got = {k: by_key[k]["status"] for k in want if k in by_key}
    print("\nresults: statuses " + ("as built" if got == want else f"WRONG: {got} != {want}"))
    a = torch.load(a_path, map_location="cpu", weights_only=True, mmap=True)
    b = torch.load(b_path, map_location="cpu", weights_only=True, mmap=True)
    worst = 0.0
    for i in (1, NAN_TENSOR):
        ref, row = reference(a[key(i)], b[key(i)]), by_key[key(i)]
        errs = []
        for m in ("max_abs", "mean_abs", "rel_l2", "frac_changed"):
            errs.append(abs(row[m] - ref[m]) / abs(ref[m]) if row[m] is not None else math.inf)
        errs.append(abs(row["cosine"] - ref["cosine"]) if row["cosine"] is not None else math.inf)
        worst = max(worst, *errs)
        print(f"  {key(i):26} rel_l2 {row['rel_l2']:.4e} (ref {ref['rel_l2']:.4e})  cosine {row['cosine']:.9f}  "
              f"frac_changed {row['frac_changed']:.6f} (ref {ref['frac_changed']:.6f})  "
              f"max rel err {max(errs):.1e}")  # fmt: skip
    print(f"  accuracy of diff vs float64: {'OK' if worst <= 1e-5 else 'NOT OK'} (errors <= 1e-5)")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    if args.worker:
        return serve_worker(args.worker, worker)

    scale, note, tmp = start("diff", args)
    total = TOTAL_BYTES // scale
    print("note: both files are read from the page cache (warm).")
    with scratch(tmp):
        a_path, b_path = tmp / "a.pt", tmp / "b.pt"
        warm_a, warm_b = tmp / "warm_a.pt", tmp / "warm_b.pt"
        make_warmup(warm_a, warm_b)
        t0 = time.perf_counter()
        make_pair(a_path, b_path, total, N_TENSORS)
        size = a_path.stat().st_size
        print(f"\ncheckpoints: 2 x {N_TENSORS} float32 tensors ({total // N_TENSORS // MIB} MiB each), "
              f"{total / GIB:.3f} GiB of tensors each, files {size / MB:.0f} MB; B = A + {NOISE:g} relative noise "
              f"except tensors {list(IDENTICAL)} (bit-identical); tensor {NAN_TENSOR} has ~1 NaN per "
              f"{NAN_EVERY:,} elements on both sides; written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        spec = {"a": str(a_path), "b": str(b_path), "warm_a": str(warm_a), "warm_b": str(warm_b)}
        res, runs, load = measure_methods(
            ("stats", "diff"), ("diff", "stats"), lambda m: spawn(m, spec),
            args.repeats, LABELS, 40, "a small pair", check_count,
        )  # fmt: skip

        ours, ref = res["diff"]["best"], res["stats"]["best"]
        ratio = ours / ref
        print(f"\n[1] time, diff / statistics of both:  {ratio:5.2f}x  (target <= {MAX_TIME_RATIO}x)  "
              f"{verdict(ratio <= MAX_TIME_RATIO)}{note}")  # fmt: skip
        print(f"    throughput: diff {2 * total / GIB / ours:.2f} GiB/s, statistics {2 * total / GIB / ref:.2f} GiB/s "
              "(both files read)")  # fmt: skip

        print(f"\n[2] peak memory growth, as a share of one checkpoint ({size / MB:.0f} MB):")
        for method in ("diff", "stats"):
            r = res[method]
            fields = (("RSS growth", "growth"), ("anonymous", "anon"), ("file-backed", "file"))
            parts = [f"{name} {'n/a' if r[f] is None else f'{r[f] / size:5.3f}x'}" for name, f in fields]
            print(f"    {LABELS[method]:40} {'   '.join(parts)}")
        growth = res["diff"]["growth"]
        if growth is None:
            print("    RSS growth of diff: n/a (no /proc/self/clear_refs)")
        else:
            ok = growth <= MAX_GROWTH * size
            print(f"    RSS growth of diff: {growth / MB:.1f} MB = {growth / size:.3f}x one checkpoint  "
                  f"(target <= {MAX_GROWTH:.2f}x)  {verdict(ok)}{note}")  # fmt: skip
        print("    (statistics read through memory maps: their RSS counts the mapped file pages, which the kernel")
        print("    can drop; diff reads with plain reads into reusable buffers, so its pages stay in the page cache)")
        print(f"    {load.line()}")
        check_results(a_path, b_path, runs["diff"][0]["rows"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
