#!/usr/bin/env python
"""Benchmark: launch to listing, as whole processes, against importing torch in the same run.

What a user waits for after typing ``ckpt info FILE`` or double-clicking a file is a fresh
process: its imports count. Targets (issue #14):

1. ``ckpt info`` of a 2 GiB / 256-tensor checkpoint: <= 0.5 s and <= 0.15x ``import torch``;
2. ``ckpt info`` of a 20,000-tensor checkpoint: <= 1.0 s;
3. ``ckpt info`` of a Hugging Face sharded safetensors folder: <= 0.5 s;
4. the window (``ckptviewer FILE --quit-after-first-paint``, offscreen): process start to the
   layer tree painted <= 1.0 s, for a 244-tensor mobilenet-like file and the 2 GiB file.
   Skipped, with a note, when the window has no such flag yet.

Each case is a command line run ``--repeats`` times (default 5), interleaved with the
baselines ``python -c "import torch"`` and ``python -c "import torch; torch.load(F,
mmap=True, weights_only=True)"``; the median wall time of each is printed with its ratio to
the baselines of the same run. Files are generated once under ``--dir`` (default: a cache
folder under /tmp, kept between runs) and are read warm from the page cache. Not a
pass/fail test: it always exits 0.

Usage: python bench/bench_launch.py [--quick] [--dir DIR] [--repeats N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _measure import GIB, make_layered, verdict

BIG_BYTES, BIG_TENSORS = 2 * GIB, 256
MANY_TENSORS = 20_000
SHARDS, SHARD_TENSORS = 4, 64
MOBILENET_TENSORS = 244

# the same Python, the code under test on sys.path as this process sees it (PYTHONPATH kept)
CKPT = "import sys; from ckptviewer.cli import main; sys.exit(main(sys.argv[1:]))"
WINDOW = "import sys; from ckptviewer.gui.app import main_exit; sys.argv[0] = 'ckptviewer'; main_exit()"


def _make_files(folder: Path, quick: bool) -> dict[str, Path]:
    """The checkpoints of the cases, written once (a marker file says one is complete)."""
    import torch

    scale = 8 if quick else 1
    files = {
        "big": folder / f"big-{BIG_BYTES // scale}.pth",
        "many": folder / f"many-{MANY_TENSORS}.pth",
        "hf": folder / f"hf-sharded-{scale}",
        "mobilenet": folder / "mobilenet.pth",
    }
    for name, path in files.items():
        done = path.with_name(path.name + ".done")
        if done.exists():
            continue
        print(f"writing {path.name} ...", flush=True)
        if name == "big":
            make_layered(path, BIG_BYTES // scale, BIG_TENSORS, "", ("attn", "mlp"))
        elif name == "many":
            gen = torch.Generator().manual_seed(0)
            torch.save({f"model.layers.{i // 8}.p{i % 8}.weight": torch.randn(16, generator=gen)
                        for i in range(MANY_TENSORS)}, path)  # fmt: skip
        elif name == "hf":
            _make_hf_folder(path, BIG_BYTES // scale // 4)
        else:
            _make_mobilenet(path)
        done.touch()
    return files


def _make_hf_folder(folder: Path, total_bytes: int) -> None:
    import json

    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    numel = total_bytes // 4 // (SHARDS * SHARD_TENSORS)
    weight_map = {}
    for s in range(SHARDS):
        name = f"model-{s + 1:05d}-of-{SHARDS:05d}.safetensors"
        sd = {f"model.layers.{s * SHARD_TENSORS + i}.weight": torch.zeros(numel) for i in range(SHARD_TENSORS)}
        save_file(sd, str(folder / name))
        weight_map.update(dict.fromkeys(sd, name))
    index = {"metadata": {"total_size": total_bytes}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))


def _make_mobilenet(path: Path) -> None:
    """A 244-tensor state_dict shaped like torchvision's mobilenet_v2 (conv + batch norm blocks)."""
    import torch

    sd: dict[str, torch.Tensor] = {}
    i = 0
    while len(sd) < MOBILENET_TENSORS - 2:
        c = 32 + 16 * (i % 8)
        sd[f"features.{i}.conv.weight"] = torch.randn(c, c // 4, 3, 3)
        for part in ("weight", "bias", "running_mean", "running_var"):
            sd[f"features.{i}.bn.{part}"] = torch.randn(c)
        sd[f"features.{i}.bn.num_batches_tracked"] = torch.tensor(0)
        i += 1
    sd = dict(list(sd.items())[: MOBILENET_TENSORS - 2])
    sd["classifier.1.weight"] = torch.randn(1000, 1280)
    sd["classifier.1.bias"] = torch.randn(1000)
    torch.save(sd, path)


def _timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Wall seconds of one process, and its stdout; raises if it fails."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise RuntimeError(f"{argv[-3:]} exited {done.returncode}: {done.stderr.strip()[-300:]}")
    return elapsed, done.stdout


def _window_has_flag(env: dict[str, str]) -> bool:
    code = "import inspect, ckptviewer.gui.app as m; print('--quit-after-first-paint' in inspect.getsource(m))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return out.stdout.strip() == "True"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="1/8 of the sizes, 3 runs: a smoke run, not the targets")
    ap.add_argument("--dir", default=None, help="where the generated checkpoints are kept (default: /tmp cache)")
    ap.add_argument("--repeats", type=int, default=None, help="processes per case (default 5; 3 with --quick)")
    args = ap.parse_args(argv)
    repeats = args.repeats or (3 if args.quick else 5)
    folder = Path(args.dir or Path(tempfile.gettempdir()) / "ckptviewer-bench-launch")
    folder.mkdir(parents=True, exist_ok=True)
    files = _make_files(folder, args.quick)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    py = sys.executable
    load = "import sys, torch; torch.load(sys.argv[1], mmap=True, weights_only=True)"
    cases: dict[str, list[str]] = {
        "python -c 'import torch'": [py, "-c", "import torch"],
        "torch.load(2 GiB, mmap)": [py, "-c", load, str(files["big"])],
        "ckpt info 2 GiB / 256 tensors": [py, "-c", CKPT, "info", str(files["big"])],
        f"ckpt info {MANY_TENSORS} tensors": [py, "-c", CKPT, "info", str(files["many"])],
        "ckpt info HF sharded folder": [py, "-c", CKPT, "info", str(files["hf"])],
    }
    window = _window_has_flag(env)
    if window:
        for name in ("mobilenet", "big"):
            cases[f"window first paint: {name}"] = [py, "-c", WINDOW, str(files[name]), "--quit-after-first-paint"]
    times: dict[str, list[float]] = {k: [] for k in cases}
    paints: dict[str, list[float]] = {k: [] for k in cases}
    for _ in range(repeats):  # interleaved: a burst of load elsewhere hits every case alike
        for label, cmd in cases.items():
            elapsed, out = _timed(cmd, env)
            times[label].append(elapsed)
            for line in out.splitlines():
                if line.startswith("first-paint-s="):
                    paints[label].append(float(line.split("=", 1)[1]))
    med = {k: statistics.median(v) for k, v in times.items()}
    torch_s, load_s = med["python -c 'import torch'"], med["torch.load(2 GiB, mmap)"]
    print(f"\nmedian of {repeats} processes each (python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")
    print(f"{'case':36} {'median':>8} {'min':>8} {'x import torch':>15} {'x torch.load':>13}")
    for label in cases:
        print(f"{label:36} {med[label]:7.2f}s {min(times[label]):7.2f}s {med[label] / torch_s:14.2f}x "
              f"{med[label] / load_s:12.2f}x" + (f"  first-paint-s {statistics.median(paints[label]):.2f}"
                                                 if paints[label] else ""))  # fmt: skip
    targets = [
        ("ckpt info 2 GiB / 256 tensors", 0.5, 0.15),
        (f"ckpt info {MANY_TENSORS} tensors", 1.0, None),
        ("ckpt info HF sharded folder", 0.5, None),
    ]
    if window:
        targets += [("window first paint: mobilenet", 1.0, None), ("window first paint: big", 1.0, None)]
    else:
        print("\nwindow rows skipped: ckptviewer has no --quit-after-first-paint flag yet")
    quick = "  (quick sizes: not the real target)" if args.quick else ""
    print()
    for label, seconds, ratio in targets:
        ok = med[label] <= seconds and (ratio is None or med[label] / torch_s <= ratio)
        limit = f"<= {seconds} s" + (f" and <= {ratio}x import torch" if ratio else "")
        print(f"{label}: {med[label]:.2f} s ({limit}): {verdict(ok)}{quick}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
