"""LLM-scale Hugging Face folders (issue #15, point 2): listing a sparse 100+ GB folder, and
statistics shard by shard in worker processes, equal to the serial path bit for bit.

Process pools are slow to start (the server imports torch once): two tests here start one
in the quick suite, the others are ``slow``.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.edits.keys import rename
from ckptviewer.core.edits.select import cast
from ckptviewer.core.progress import Cancelled, CancelToken
from ckptviewer.core.scan import scan
from ckptviewer.core.shard_pool import shard_jobs
from ckptviewer.core.stats import checkpoint_stats, tensor_stats

ROOT = Path(__file__).parents[2]
_spec = importlib.util.spec_from_file_location("bench_folders", ROOT / "bench" / "bench_folders.py")
assert _spec is not None and _spec.loader is not None
bench_folders = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_folders)  # the generators the benchmark uses: one layout for both

# a child that lists the folder with the real CLI and says whether torch was imported
_LIST = """
import contextlib, io, json, sys
from ckptviewer.cli import main
out = {}
for args in (["info", "--json"], ["tree", "--json", "--depth", "3"], ["info"]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        status = main([*args, sys.argv[1]])
    out[args[0] + (" json" if "--json" in args else "")] = [status, buf.getvalue()]
print(json.dumps({"torch": "torch" in sys.modules, "runs": out}))
"""


def test_a_sparse_100gb_folder_lists_without_data_or_torch_with_its_counts(tmp_path):
    folder = tmp_path / "giant"
    made = bench_folders.make_sparse_folder(folder)
    assert made["n_shards"] >= 30 and made["n_tensors"] >= 10_000 and made["total_bytes"] >= 100e9
    shard = sorted(folder.glob("*.safetensors"))[3]
    with safe_open(str(shard), "pt") as f:  # the headers are the safetensors library's own format
        assert len(list(f.keys())) > 100
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", _LIST, str(folder)], capture_output=True, text=True, timeout=120,
                       cwd=ROOT)  # fmt: skip
    elapsed = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr[-2000:]
    child = json.loads(r.stdout.strip().splitlines()[-1])
    assert child["torch"] is False
    assert all(status == 0 for status, _ in child["runs"].values())
    info = json.loads(child["runs"]["info json"][1])
    index = json.loads((folder / "model.safetensors.index.json").read_text())
    assert info["format"] == "hf-sharded" and info["warnings"] == []
    assert info["n_tensors"] == made["n_tensors"] == len(index["weight_map"])
    assert info["total_bytes"] == made["total_bytes"] == index["metadata"]["total_size"]
    assert [t["key"] for t in info["tensors"]] == list(index["weight_map"])  # the index's order
    assert info["metadata"]["config"]["model_type"] == "synthetic_moe"
    tree = json.loads(child["runs"]["tree json"][1])
    assert (tree["n_tensors"], tree["nbytes"]) == (made["n_tensors"], made["total_bytes"])
    assert [c["name"] for c in tree["children"]] == ["model", "lm_head"]
    model = tree["children"][0]
    assert [c["name"] for c in model["children"]] == ["embed_tokens", "layers", "norm"]
    layers = model["children"][1]
    assert len(layers["children"]) == 60 and "children" not in layers["children"][0]  # --depth 3 stops there
    assert layers["children"][59]["n_tensors"] == 4 + 2 + 1 + 64 * 3
    assert layers["dtypes"] == {"bfloat16": layers["n_elements"]}
    text = child["runs"]["info"][1]
    assert f"{made['n_tensors']:,} tensors" in text.splitlines()[1]
    # a guard against reading the 143 GB of holes or a quadratic merge, not the benchmark (1 s there)
    assert elapsed < 30


def _mixed_state_dict() -> dict[str, torch.Tensor]:
    """Every dtype family, NaN/Inf, a scalar, an empty tensor, and tensors past one reduction row."""
    gen = torch.Generator().manual_seed(0)
    big = torch.randn(3_000_001, generator=gen).mul_(0.02).add_(0.5)
    big[::100_003] = float("nan")
    big[7] = float("inf")
    sd = {
        "model.embed.weight": torch.randn(512, 1024, generator=gen),
        "model.layers.0.big": big,
        "model.layers.0.half": torch.randn(300, 301, generator=gen).half(),
        "model.layers.0.bf16": torch.randn(70_000, generator=gen).bfloat16(),
        "model.layers.1.ids": torch.randint(-(2**40), 2**40, (50_000,), generator=gen),
        "model.layers.1.mask": torch.rand(40_000, generator=gen) > 0.5,
        "model.layers.1.u8": torch.randint(0, 255, (33_000,), generator=gen, dtype=torch.uint8),
        "model.layers.1.scale": torch.tensor(3.5),
        "model.layers.2.empty": torch.zeros(0, 4),
        "model.layers.2.f64": torch.randn(100_000, generator=gen, dtype=torch.float64).mul_(1e6),
        "model.layers.2.zeros": torch.zeros(65_536),
        "lm_head.weight": torch.randn(1024, 257, generator=gen),
    }
    return sd


def _write_shards(sd: dict[str, torch.Tensor], folder: Path, n: int = 3, fmt: str = "safetensors") -> None:
    """``sd`` as ``n`` shards and an index, laid out as transformers' save_pretrained does."""
    folder.mkdir(parents=True, exist_ok=True)
    keys = list(sd)
    weight_map = {}
    stem, index = (("model", "model.safetensors.index.json") if fmt == "safetensors"
                   else ("pytorch_model", "pytorch_model.bin.index.json"))  # fmt: skip
    for i in range(n):
        name = f"{stem}-{i + 1:05d}-of-{n:05d}.{'safetensors' if fmt == 'safetensors' else 'bin'}"
        part = {k: sd[k].contiguous() for k in keys[i::n]}
        if fmt == "safetensors":
            save_file(part, str(folder / name), metadata={"format": "pt"})
        else:
            torch.save(part, folder / name)
        weight_map.update(dict.fromkeys(part, name))
    (folder / index).write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))


def _as_json(results) -> str:
    return json.dumps([s.to_json() for s in results])


def test_statistics_do_not_depend_on_torchs_thread_count():
    """What lets workers run with fewer threads than the parent and still match it to the bit."""
    sd = _mixed_state_dict()
    before = torch.get_num_threads()
    try:
        runs = []
        for threads in (1, 3):
            torch.set_num_threads(threads)
            runs.append([tensor_stats(t, k).to_json() for k, t in sd.items()])
    finally:
        torch.set_num_threads(before)
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_parallel_statistics_equal_serial_bit_for_bit_in_order_also_renamed(tmp_path):
    sd = _mixed_state_dict()
    _write_shards(sd, tmp_path)
    ckpt = open_checkpoint(tmp_path)
    assert len(shard_jobs(ckpt, list(ckpt.tensors.values())) or []) == 3
    serial = checkpoint_stats(ckpt, parallel=False)
    seen = []
    parallel = checkpoint_stats(ckpt, parallel=True, progress=seen.append)
    assert [s.key for s in parallel] == list(ckpt.tensors)
    assert _as_json(parallel) == _as_json(serial)
    assert seen[-1].done == seen[-1].total == sum(e.nbytes for e in ckpt.tensors.values())
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))
    # a working copy with renamed keys: still plain shard tensors, the keys are labels
    renamed, _ = rename(ckpt, r"^model\.layers\.", "blocks.")
    jobs = shard_jobs(renamed, list(renamed.tensors.values()))
    assert jobs is not None and {i.key for j in jobs for i in j.items} == set(renamed.tensors)
    subset = [e for e in renamed.tensors.values() if e.key.startswith("blocks.")][::-1]  # any order comes back
    got = checkpoint_stats(renamed, subset, parallel=True)
    assert _as_json(got) == _as_json(checkpoint_stats(renamed, subset, parallel=False))
    assert [s.key for s in got] == [e.key for e in subset]
    # an unsaved cast is not what the shards hold: the serial path measures it
    halved, _ = cast(ckpt, "float16", ["model.embed.*"])
    assert shard_jobs(halved, list(halved.tensors.values())) is None
    assert (
        checkpoint_stats(halved, parallel=True)[0].to_json()
        == tensor_stats(sd["model.embed.weight"].half(), "model.embed.weight").to_json()
    )


def test_a_single_file_and_a_gpu_device_keep_the_serial_path(tmp_path):
    sd = _mixed_state_dict()
    save_file({k: v.contiguous() for k, v in sd.items()}, str(tmp_path / "model.safetensors"))
    ckpt = open_checkpoint(tmp_path / "model.safetensors")
    assert len(shard_jobs(ckpt, list(ckpt.tensors.values())) or []) == 1  # one job: checkpoint_stats stays serial
    _write_shards(sd, tmp_path / "sharded")
    sharded = open_checkpoint(tmp_path / "sharded")
    sharded.device_name = "cuda"  # statistics on a GPU are not split over CPU processes
    assert shard_jobs(sharded, list(sharded.tensors.values())) is None


@pytest.mark.slow
def test_parallel_equals_serial_for_torch_zip_shards(tmp_path):
    sd = _mixed_state_dict()
    _write_shards(sd, tmp_path, n=2, fmt="bin")
    ckpt = open_checkpoint(tmp_path)
    assert len(shard_jobs(ckpt, list(ckpt.tensors.values())) or []) == 2
    assert _as_json(checkpoint_stats(ckpt, parallel=True)) == _as_json(checkpoint_stats(ckpt, parallel=False))


@pytest.mark.slow
def test_a_shard_corrupted_after_opening_is_one_line_and_the_scan_goes_on(tmp_path, monkeypatch):
    sd = _mixed_state_dict()
    _write_shards(sd, tmp_path)
    ckpt = open_checkpoint(tmp_path)
    serial = {s.key: s.to_json() for s in checkpoint_stats(ckpt, parallel=False)}
    clean_scan = scan(ckpt)
    bad = tmp_path / "model-00002-of-00003.safetensors"
    raw = bytearray(bad.read_bytes())
    raw[8] = ord("[")  # the header is no longer a JSON object; the size is unchanged
    bad.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError) as err:
        checkpoint_stats(ckpt, parallel=True)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(bad))
    # the scan takes the pool when it pays (here: always) and reports the shard's tensors as unreadable
    monkeypatch.setattr("ckptviewer.core.shard_pool.MIN_BYTES", 0)
    report = scan(ckpt)
    lost = list(sd)[1::3]
    unreadable = [f for f in report.findings if f.kind == "unreadable"]
    assert sorted(f.key for f in unreadable) == sorted(lost)
    assert all(bad.name in f.message for f in unreadable)
    assert {k: s.to_json() for k, s in report.stats.items()} == {k: v for k, v in serial.items() if k not in lost}
    assert clean_scan.n_errors < report.n_errors


@pytest.mark.slow
def test_cancel_stops_the_workers_promptly(tmp_path):
    bench_folders.make_real_folder(tmp_path, n_shards=8, shard_bytes=16 << 20)
    ckpt = open_checkpoint(tmp_path)
    token = CancelToken()
    when: list[float] = []

    def progress(p) -> None:
        if not when:
            when.append(time.perf_counter())
            token.cancel()

    with pytest.raises(Cancelled):
        checkpoint_stats(ckpt, parallel=True, progress=progress, cancel=token)
    assert when and time.perf_counter() - when[0] < 5
    assert multiprocessing.active_children() == []  # no worker left behind
    # and the next call works
    assert len(checkpoint_stats(ckpt, parallel=True)) == ckpt.n_tensors
