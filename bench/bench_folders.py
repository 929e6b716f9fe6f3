#!/usr/bin/env python
"""Benchmark: LLM-scale Hugging Face folders (issue #15, point 2).

1. Listing: a sparse folder (real safetensors headers, data holes: nothing written) of 40
   shards declaring ~134 GB and ~12,000 bf16 tensors (a MoE layout). ``ckpt info FOLDER``
   as a whole process, median of ``--repeats`` (default 5), interleaved with ``python -c
   "import torch"`` in the same run. Target: **<= 1 s**. A 240-shard / 40,000-tensor folder
   (~470 GB) is measured too, without a target.
2. Statistics over a real folder (4 shards x 64 MiB of float32): ``checkpoint_stats``
   serial against the shard-parallel worker pool (``parallel=True``), best of the repeats,
   the pool's first call (its server starts and imports torch) shown apart; the speed-up is
   printed and the results must be bit-identical JSON.
3. Memory: a fresh process per run scans one real folder and diffs it against a second one,
   at 2 and at 8 shards of 32 MiB (the same 4 MiB tensors, four times as many); the peaks of
   anonymous and file-backed RSS are printed: anonymous memory must stay bounded (it may grow
   by <= 10 % of the added data: tensor by tensor, chunk by chunk; what one tensor needs does
   not add up); the mapped file pages are the kernel's to drop.

Not a pass/fail test: it always exits 0. ``--quick``: 1/8 of the real folders' size.

Usage: python bench/bench_folders.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import json
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

# the same Python, the code under test on sys.path as this process sees it (PYTHONPATH kept)
CKPT = "import sys; from ckptviewer.cli import main; sys.exit(main(sys.argv[1:]))"
LISTING_TARGET_S = 1.0
MAX_ANON_SHARE = 0.10


def moe_tensors(n_layers: int, n_experts: int, hidden: int, inter: int, vocab: int) -> list[tuple[str, list[int]]]:
    """(key, shape) of a Mixture-of-Experts decoder laid out as transformers names it."""
    tensors = [("model.embed_tokens.weight", [vocab, hidden])]
    for i in range(n_layers):
        p = f"model.layers.{i}."
        tensors += [(f"{p}self_attn.{n}.weight", [hidden, hidden]) for n in ("q_proj", "k_proj", "v_proj", "o_proj")]
        tensors += [(f"{p}input_layernorm.weight", [hidden]), (f"{p}post_attention_layernorm.weight", [hidden])]
        tensors.append((f"{p}mlp.gate.weight", [n_experts, hidden]))
        for e in range(n_experts):
            tensors += [(f"{p}mlp.experts.{e}.gate_proj.weight", [inter, hidden]),
                        (f"{p}mlp.experts.{e}.up_proj.weight", [inter, hidden]),
                        (f"{p}mlp.experts.{e}.down_proj.weight", [hidden, inter])]  # fmt: skip
    return tensors + [("model.norm.weight", [hidden]), ("lm_head.weight", [vocab, hidden])]


def make_sparse_folder(
    folder: Path, n_shards: int = 40, n_layers: int = 60, n_experts: int = 64, hidden: int = 4096, inter: int = 1408,
    vocab: int = 152064,
) -> dict:  # fmt: skip
    """A Hugging Face sharded folder whose shards are sparse files: each a real safetensors
    header (as the safetensors library writes it: u64 length, JSON, space padding to 8) and
    a hole for the data. Returns ``{"n_tensors", "total_bytes", "n_shards"}`` (bf16)."""
    folder.mkdir(parents=True, exist_ok=True)
    tensors = moe_tensors(n_layers, n_experts, hidden, inter, vocab)
    per = -(-len(tensors) // n_shards)
    weight_map: dict[str, str] = {}
    total = 0
    for s in range(n_shards):
        name = f"model-{s + 1:05d}-of-{n_shards:05d}.safetensors"
        header: dict = {"__metadata__": {"format": "pt"}}
        offset = 0
        for key, shape in tensors[s * per : (s + 1) * per]:
            nbytes = 2
            for d in shape:
                nbytes *= d
            header[key] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + nbytes]}
            offset += nbytes
            weight_map[key] = name
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)
        with open(folder / name, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            f.truncate(8 + len(raw) + offset)  # the data: a hole, no block written
        total += offset
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2))
    (folder / "config.json").write_text(json.dumps({"model_type": "synthetic_moe", "hidden_size": hidden}))
    return {"n_tensors": len(tensors), "total_bytes": total, "n_shards": n_shards}


def make_real_folder(folder: Path, n_shards: int = 4, shard_bytes: int = 64 << 20, per_shard: int = 8, seed: int = 0):
    """A real sharded folder written by the safetensors library: ``n_shards`` shards of
    ``per_shard`` float32 tensors (random, a different offset per tensor), index and config."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(seed)
    rows = max(1, shard_bytes // 4 // per_shard // 1024)
    weight_map = {}
    for s in range(n_shards):
        name = f"model-{s + 1:05d}-of-{n_shards:05d}.safetensors"
        part = {}
        for j in range(per_shard):
            key = f"model.layers.{s * per_shard + j}.mlp.weight"
            part[key] = torch.randn(rows, 1024, generator=gen).mul_(0.02).add_(0.001 * j)
            weight_map[key] = name
        save_file(part, str(folder / name), metadata={"format": "pt"})
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "synthetic"}))


# ---------------------------------------------------------------- 1. listing


def _run(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr.strip()[-2000:]}")
    return elapsed


def listing(tmp: Path, repeats: int) -> None:
    print("\n1. ckpt info of a sparse LLM-scale folder, whole process (median of "
          f"{repeats}, interleaved with `python -c 'import torch'`)")  # fmt: skip
    folders = {
        "40 shards": (tmp / "sparse-40", {}),
        "240 shards": (tmp / "sparse-240", {"n_shards": 240, "n_layers": 160, "n_experts": 80}),
    }
    cases = {}
    for name, (folder, kw) in folders.items():
        desc = make_sparse_folder(folder, **kw)
        cases[name] = ([sys.executable, "-c", CKPT, "info", str(folder)], desc)
    torch_cmd = [sys.executable, "-c", "import torch"]
    times: dict[str, list[float]] = {name: [] for name in [*cases, "import torch"]}
    for cmd, _ in cases.values():
        _run(cmd)  # warm: the headers in the page cache
    for _ in range(repeats):
        for name, (cmd, _) in cases.items():
            times[name].append(_run(cmd))
        times["import torch"].append(_run(torch_cmd))
    base = statistics.median(times["import torch"])
    label = 'python -c "import torch"'
    print(f"  {label:56} {base:6.3f} s")
    for name, (_, desc) in cases.items():
        med = statistics.median(times[name])
        what = f"ckpt info ({name}, {desc['n_tensors']:,} tensors, {desc['total_bytes'] / 1e9:.0f} GB)"
        line = f"  {what:56} {med:6.3f} s = {med / base:.2f}x import torch"
        if name == "40 shards":
            line += f"  [target <= {LISTING_TARGET_S} s: {_verdict(med <= LISTING_TARGET_S)}]"
        print(line)


# ---------------------------------------------------------------- 2. statistics


def stats(tmp: Path, scale: int, repeats: int, note: str) -> None:
    import torch
    from _measure import Contention

    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.shard_pool import cpu_count, shard_jobs
    from ckptviewer.core.stats import checkpoint_stats

    folder = tmp / "real-a"
    make_real_folder(folder, shard_bytes=(64 << 20) // scale)
    for f in folder.iterdir():
        f.read_bytes()  # warm: both sides read from the page cache
    ckpt = open_checkpoint(folder)
    size = sum(e.nbytes for e in ckpt.tensors.values())
    jobs = shard_jobs(ckpt, list(ckpt.tensors.values()))
    print(f"\n2. statistics of a real folder: {len(jobs or [])} shards, {size / 2**20:.0f} MiB of float32, "
          f"{cpu_count()} CPUs ({torch.get_num_threads()} torch threads serial)")  # fmt: skip
    t0 = time.perf_counter()
    first = checkpoint_stats(ckpt, parallel=True)
    cold = time.perf_counter() - t0
    runs: dict[str, list[float]] = {"serial": [], "parallel": []}
    results = {}
    with Contention() as load:  # interleaved: a slow spell of the machine hits both
        for _ in range(repeats):
            for mode in runs:
                t0 = time.perf_counter()
                results[mode] = checkpoint_stats(ckpt, parallel=mode == "parallel")
                runs[mode].append(time.perf_counter() - t0)
    same = (
        [s.to_json() for s in results["serial"]]
        == [s.to_json() for s in results["parallel"]]
        == [s.to_json() for s in first]
    )
    ser, par = min(runs["serial"]), min(runs["parallel"])
    print(f"  serial                        {ser:6.3f} s  {size / ser / 1e9:5.2f} GB/s")
    print(
        f"  parallel (pool started)       {par:6.3f} s  {size / par / 1e9:5.2f} GB/s  speed-up {ser / par:.2f}x{note}"
    )
    print(f"  parallel, first call (server) {cold:6.3f} s  (the pool's server starts and imports torch once)")
    print(f"  results bit-identical JSON, same order: {same}")
    print(f"  {load.line()}")
    ckpt.close()


# ---------------------------------------------------------------- 3. memory


def _memory_worker(spec: dict) -> dict:
    from _measure import measure_call

    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.stats import checkpoint_stats

    a, b = open_checkpoint(spec["a"]), open_checkpoint(spec["b"])
    # warm-up on one tensor: torch's first computation sets up its allocator and threads,
    # which is not memory the folder's size asks for
    checkpoint_stats(a, [next(iter(a.tensors.values()))], parallel=False)
    if spec["what"] == "scan":
        from ckptviewer.core.scan import scan

        return measure_call(lambda: {"n": scan(a).to_json()["n_scanned"]})
    from ckptviewer.core.diff import diff

    return measure_call(lambda: {"n": len(diff(a, b).rows)})


def memory(tmp: Path, scale: int, repeats: int) -> None:
    from _measure import fmt_mb, run_worker

    print(f"\n3. memory: scan of one folder, diff of two, a fresh process per run, worst of {repeats}; "
          "2 shards, then 8 of the same tensors: anonymous memory must not grow with the data")  # fmt: skip
    peaks: dict[str, list[tuple[int, int, int, float]]] = {"scan": [], "diff": []}
    shard_bytes = (32 << 20) // scale  # the same tensors (4 MiB each), more of them: 2 shards, then 8
    for n_shards in (2, 8):
        a, b = tmp / f"mem-a-{n_shards}", tmp / f"mem-b-{n_shards}"
        make_real_folder(a, n_shards=n_shards, shard_bytes=shard_bytes, seed=0)
        make_real_folder(b, n_shards=n_shards, shard_bytes=shard_bytes, seed=1)
        size = sum(f.stat().st_size for f in a.glob("*.safetensors"))
        for what in peaks:
            runs = [run_worker(__file__, {"what": what, "a": str(a), "b": str(b)}, what) for _ in range(repeats)]
            anon = max(r["anon"] or 0 for r in runs)
            filed = max(r["file"] or 0 for r in runs)
            best = min(r["time"] for r in runs)
            peaks[what].append((size, anon, filed, best))
            print(f"  {what:5} {size / 1e6:5.0f} MB folder(s): {best:6.2f} s  anon peak {fmt_mb(anon)}  "
                  f"file-backed peak {fmt_mb(filed)}")  # fmt: skip
        shutil.rmtree(a), shutil.rmtree(b)
    for what, ((s0, a0, _, _), (s1, a1, _, _)) in peaks.items():
        growth = (a1 - a0) / (s1 - s0)
        ok = growth <= MAX_ANON_SHARE
        print(f"  {what}: anonymous peak grows by {growth:.1%} of the added data "
              f"[<= {MAX_ANON_SHARE:.0%}, bounded: {_verdict(ok)}]")  # fmt: skip


def _verdict(ok: bool) -> str:
    return "TARGET MET" if ok else "TARGET MISSED"


def main(argv: list[str] | None = None) -> int:
    from _measure import parse_args, scratch, serve_worker, start

    args = parse_args(__doc__ or "", argv, repeats_help="runs per case (default 5)")
    if args.worker:
        return serve_worker(args.worker, _memory_worker)
    repeats = args.repeats if "--repeats" in (argv or sys.argv) else 5
    scale, note, tmp = start("folders", args, "sizes")
    with scratch(tmp):
        listing(tmp, repeats)
        stats(tmp, scale, max(2, repeats // 2 + 1), note)
        memory(tmp, scale, min(repeats, 3))
    return 0


if __name__ == "__main__":
    sys.exit(main())
