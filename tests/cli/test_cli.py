"""The real `ckpt` command in a subprocess: JSON contract, exit codes, human output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

CKPT = Path(sys.executable).parent / "ckpt"
DATA = Path(__file__).parents[1] / "data"


def ckpt(*args: str, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``ckpt`` (``env`` adds to the environment; COLUMNS is unset unless given)."""
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    full = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "CKPT_DEBUG")} | (env or {})
    return subprocess.run([*exe, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=full)


def ckpt_all(*commands: tuple) -> list[subprocess.CompletedProcess]:
    """Run several ``ckpt`` commands at once (each a tuple of ``ckpt``'s arguments), results in order.

    Each process spends seconds importing torch on one core; started together they overlap
    instead of queueing, and every result is still checked on its own."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return list(pool.map(lambda command: ckpt(*command), commands))


class Runs:
    """Every ``ckpt`` run of this module, started together when its first test asks (as many at once as
    there are cores: each process spends seconds importing torch); each test checks its own runs."""

    def __init__(self, d: Path, pool: ThreadPoolExecutor) -> None:
        from ckptviewer.demo import make_demo_checkpoint

        self.demo = make_demo_checkpoint(d / "demo.pth", steps=1)  # only read: shared by every test here
        self.clean = d / "clean.pth"
        torch.save({"w": torch.randn(5, 5)}, self.clean)
        demo, clean, ddp = self.demo, self.clean, DATA / "ddp_state_dict.pth"
        commands: dict[str, tuple] = {
            "info_json": ("info", DATA / "train_checkpoint.pth", "--json"),
            "info_human": ("info", ddp),
            "tree_json": ("tree", ddp, "--json", "--depth", "2"),
            "tree_human": ("tree", ddp, "--depth", "2"),
            "stats_json": ("stats", demo, "--keys", "model.*layer2.0.*", "--json"),
            "stats_nothing": ("stats", demo, "--keys", "nothing.*"),
            "scan_json": ("scan", demo, "--json"),
            "scan_fail_on_error": ("scan", demo, "--fail-on", "error"),
            "scan_clean_gate": ("scan", clean, "--fail-on", "warning"),
            "scan_clean": ("scan", clean),
            "usage_none": (),
            "usage_unknown": ("frobnicate", demo),
            "usage_bad_depth": ("tree", demo, "--depth", "x"),
            "cuda": ("stats", demo, "--device", "cuda"),
        }
        self.futures: dict[str, Future] = {name: pool.submit(ckpt, *args) for name, args in commands.items()}
        exe = f"{CKPT}" if CKPT.exists() else f"{sys.executable} -m ckptviewer"
        self.futures["closed_pipe"] = pool.submit(subprocess.run, f"{exe} info {demo} | head -1", shell=True,
                                                  capture_output=True, text=True, timeout=120)  # fmt: skip

    def __getitem__(self, name: str) -> subprocess.CompletedProcess:
        return self.futures[name].result()


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    try:
        yield Runs(tmp_path_factory.mktemp("cli"), pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def test_info_json_follows_the_contract_on_the_gpu_training_checkpoint(runs):
    r = runs["info_json"]
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    for field in ("path", "format", "saved_on", "n_tensors", "n_elements", "total_bytes", "tensors", "prefixes",
                  "state_dict_key", "unsafe_globals", "metadata", "warnings"):  # fmt: skip
        assert field in doc, field
    assert doc["format"] == "torch-zip"
    assert "cuda:0" in doc["saved_on"]
    assert doc["n_tensors"] == 80 and doc["n_elements"] == 101571
    assert doc["prefixes"] == ["module."] and doc["state_dict_key"] == "model"
    assert doc["unsafe_globals"] == ["argparse.Namespace"]
    assert doc["metadata"]["args"] == {
        "__class__": "argparse.Namespace",
        "lr": 0.01,
        "batch_size": 8,
        "arch": "SmallNet",
    }
    row = doc["tensors"][0]
    assert row == {"key": "model.module.conv1.weight", "shape": [16, 3, 3, 3], "dtype": "float32",
                   "numel": 432, "nbytes": 1728}  # fmt: skip
    assert "optimizer.state.0.exp_avg" in {t["key"] for t in doc["tensors"]}


def test_info_human_output(runs):
    r = runs["info_human"]
    assert r.returncode == 0
    assert "saved on cuda:0" in r.stdout and "29 tensors" in r.stdout and "module." in r.stdout
    assert "module.fc.weight" in r.stdout


def test_tree_json_and_depth(runs):
    r, human = runs["tree_json"], runs["tree_human"]
    doc = json.loads(r.stdout)
    module = doc["children"][0]
    assert module["name"] == "module" and module["n_params"] > 0
    assert [c["name"] for c in module["children"]] == ["conv1", "bn1", "layer1", "layer2", "fc"]
    assert all("children" not in c for c in module["children"])
    assert "layer1" in human.stdout and "running_mean" not in human.stdout


def test_stats_json_with_key_globs(runs):
    r = runs["stats_json"]
    assert r.returncode == 0, r.stderr
    rows = json.loads(r.stdout)["tensors"]
    assert [row["key"] for row in rows] == ["model.module.layer2.0.weight", "model.module.layer2.0.bias"]
    w = rows[0]
    assert set(w) == {"key", "numel", "min", "max", "mean", "std", "l2", "n_nan", "n_inf", "n_zero"}
    assert w["n_nan"] > 0 and w["mean"] is not None and w["min"] < 0 < w["max"]
    t = torch.load(runs.demo, weights_only=False)["model"]["module.layer2.0.weight"]
    finite = t[torch.isfinite(t)].double()
    assert w["mean"] == pytest.approx(finite.mean().item(), rel=1e-5)
    assert w["std"] == pytest.approx(finite.std().item(), rel=1e-5)


def test_stats_glob_matching_nothing_is_an_error(runs):
    r = runs["stats_nothing"]
    assert r.returncode == 1 and "no tensor key matches" in r.stderr


@pytest.mark.slow
def test_scan_reports_nan_and_fail_on_exit_code(runs):
    r, fail_on_error = runs["scan_json"], runs["scan_fail_on_error"]
    clean_gate, clean_human = runs["scan_clean_gate"], runs["scan_clean"]
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert {"key": "model.module.layer2.0.weight", "kind": "nan"}.items() <= doc["findings"][0].items()
    assert fail_on_error.returncode == 3, fail_on_error.stderr
    assert clean_gate.returncode == 0, clean_gate.stderr
    assert "0 errors" in clean_human.stdout


def test_bad_usage_exits_2(runs):
    usage = [runs["usage_none"], runs["usage_unknown"], runs["usage_bad_depth"]]
    assert [r.returncode for r in usage] == [2, 2, 2], [r.stderr for r in usage]


def test_cuda_without_gpu_is_a_clear_error(runs):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    r = runs["cuda"]
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1 and "no usable CUDA GPU" in r.stderr


def test_output_to_a_closed_pipe_is_quiet(runs):
    r = runs["closed_pipe"]
    assert r.returncode == 0 and "Traceback" not in r.stderr
