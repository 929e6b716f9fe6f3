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

import gc
import os
import sys
import time
from pathlib import Path

from _measure import (
    GIB,
    MB,
    MIB,
    make_layered,
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
N_TENSORS = 64
MAX_TIME_RATIO = 1.3
MAX_PEAK_RATIO = 1.2
STREAMED = 0.25  # anonymous peak below this fraction of the checkpoint: "streamed"


# ---------------------------------------------------------------- worker (fresh process)


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
    from ckptviewer.core.edits import strip
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
    return measure_call(lambda: _run_once(method, spec["path"], spec["out"]))


# ---------------------------------------------------------------- driver


def make_checkpoint(path: Path, total_bytes: int, n_tensors: int) -> None:
    """A DDP state_dict: ``n_tensors`` float32 tensors, ``module.`` keys, ``total_bytes`` in all."""
    make_layered(path, total_bytes, n_tensors, "module.", ("attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"))


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
        return run_worker(__file__, spec, method)
    finally:
        out.unlink(missing_ok=True)  # the next run writes a fresh file, like a new save would


def check_runs(method: str, rs: list[dict]) -> None:
    """Say so if a run wrote the wrong number of tensors, or a save of ours was not verified."""
    if any(r["n_tensors"] != N_TENSORS for r in rs):
        print(f"    ERROR: {method} wrote {[r['n_tensors'] for r in rs]} tensors, expected {N_TENSORS}")
    if method == "ours" and not all(r["verified"] for r in rs):
        print("    ERROR: a save was not verified")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(__doc__, argv)
    if args.worker:
        return serve_worker(args.worker, worker)

    scale, note, tmp = start("save", args)
    total = TOTAL_BYTES // scale
    print("note: the source is read from the page cache (warm); every output is a new file on disk.")
    with scratch(tmp):
        src = tmp / "ddp.pt"
        warmup = tmp / "tiny.pt"
        make_tiny(warmup)
        t0 = time.perf_counter()
        make_checkpoint(src, total, N_TENSORS)
        size = src.stat().st_size
        print(f"\ncheckpoint: DDP state_dict, {N_TENSORS} float32 tensors ({total // N_TENSORS // MIB} MiB each), "
              f"module.* keys, {total / GIB:.3f} GiB of tensors, file {size / MB:.0f} MB; "
              f"written in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        order = ("torch", "ours", "torch_fsync", "ours_noverify")
        res, _, load = measure_methods(
            order, ("ours", "ours_noverify", "torch", "torch_fsync"), lambda m: spawn(m, tmp, src, warmup),
            args.repeats, LABELS, 48, "a tiny file", check_runs,
        )  # fmt: skip

        ours, ours_nv = res["ours"]["best"], res["ours_noverify"]["best"]
        ref, ref_fsync = res["torch"]["best"], res["torch_fsync"]["best"]
        ratio = ours / ref
        print(f"\n[1] time, ours (fsync + verify) / torch.save:       {ratio:5.2f}x  (target <= {MAX_TIME_RATIO}x)  "
              f"{verdict(ratio <= MAX_TIME_RATIO)}{note}")  # fmt: skip
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
                  f"{verdict(ok)}{note}")  # fmt: skip
        if anon is not None:
            streamed = anon <= STREAMED * size
            how = "streamed" if streamed else "NOT streamed"
            print(f"    anonymous memory of ours: {anon / MB:.1f} MB = {anon / size:.2f}x: {how}")
            print("    (the rest of the RSS growth is page cache of memory-mapped files, which the kernel can drop)")
        print(f"    {load.line()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
