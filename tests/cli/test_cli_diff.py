"""The real `ckpt diff` in subprocesses: exit codes (0 same within tolerance, 1 different,
2 trouble), the --json contract, alignment of wrapped and mapped keys, one-line errors.

Each run pays for importing torch (~2 s), so the files are made once and every run starts
together on a thread pool in a module fixture; each test waits for its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from tests.badfiles import random_bytes
from tests.core.test_diff import (
    Classifier,
    ConvBNNet,
    OtherNet,
    assert_metrics,
    floating,
    reference,
    state,
    total_reference,
    train_convbn,
    train_smallnet,
)
from tests.models import SmallNet, ddp_state_dict, training_checkpoint

# make test-slow (run by CI): every case runs ckpt in a subprocess (2-7 s each)
pytestmark = pytest.mark.slow

CKPT = Path(sys.executable).parent / "ckpt"
TIMEOUT = 120


def ckpt(*args: str | Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    return subprocess.run(
        [*exe, *map(str, args)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


# name -> arguments of `ckpt diff`; file names are in the fixture's folder
RUNS: dict[str, list[str]] = {
    "ddp": ["ddp.pth", "plain.pth"],
    "ddp_json": ["ddp.pth", "plain.pth", "--json"],
    "train_json": ["train.pth", "train_plain.pth", "--json"],
    "trained_json": ["init.pth", "trained.pth", "--json"],
    "arch": ["old.pth", "other.pth"],
    "arch_json": ["old.pth", "other.pth", "--json"],
    "bf16_rtol": ["plain.pth", "bf16.pth", "--rtol", "1e-2"],
    "bf16_rtol_json": ["plain.pth", "bf16.pth", "--rtol", "1e-2", "--json"],
    "convbn": ["cb_init.pth", "cb_trained.pth"],
    "convbn_json": ["cb_init.pth", "cb_trained.pth", "--json"],
    "help": ["--help"],
    "bf16_exact": ["plain.pth", "bf16.pth"],
    "map": ["enc.pth", "bb.pth", "--map", "encoder.=backbone.", "--map", "head.=classifier."],
    "nomap": ["enc.pth", "bb.pth"],
    "nan_json": ["plain.pth", "nan.pth", "--json"],
    "huge_json": ["huge_a.pth", "huge_b.pth", "--json"],
    "missing": ["plain.pth", "no_such_file.pth"],
    "garbage": ["garbage.pth", "plain.pth"],
    "bad_map": ["enc.pth", "bb.pth", "--map", "encoder.backbone."],
}


class Runs:
    """The files (and the tensors they hold), and the runs' futures by name."""

    def __init__(self, root: Path, pool: ThreadPoolExecutor) -> None:
        d = self.d = root
        self.want: dict[str, dict] = {}

        torch.manual_seed(11)
        model = SmallNet()
        self.want["init"] = state(model)
        self.want["trained"] = state(train_smallnet(model))
        torch.save(self.want["init"], d / "init.pth")
        torch.save(self.want["trained"], d / "trained.pth")

        plain = self.want["plain"] = self.want["trained"]
        torch.save(plain, d / "plain.pth")
        torch.save(ddp_state_dict(model, d), d / "ddp.pth")
        torch.save({k: v.bfloat16() if v.is_floating_point() else v for k, v in plain.items()}, d / "bf16.pth")

        nan = {k: v.clone() for k, v in plain.items()}
        nan["blocks.3.weight"][0, :2] = float("nan")
        nan["blocks.3.weight"][1] += 0.5
        self.want["nan"] = nan
        torch.save(nan, d / "nan.pth")

        trained = SmallNet()
        train = training_checkpoint(trained)
        self.want["train_plain"] = state(trained)
        (d / "pg").mkdir()
        train["model"] = ddp_state_dict(trained, d / "pg")
        torch.save(train, d / "train.pth")
        torch.save(self.want["train_plain"], d / "train_plain.pth")

        torch.manual_seed(13)
        cb = ConvBNNet()
        self.want["cb_init"] = state(cb)
        self.want["cb_trained"] = state(train_convbn(cb))
        torch.save(self.want["cb_init"], d / "cb_init.pth")
        torch.save(self.want["cb_trained"], d / "cb_trained.pth")

        torch.manual_seed(7)
        self.want["old"] = state(SmallNet())
        torch.manual_seed(7)
        self.want["other"] = state(OtherNet())
        torch.save(self.want["old"], d / "old.pth")
        torch.save(self.want["other"], d / "other.pth")

        pretrained, new = Classifier("encoder", "head"), Classifier("backbone", "classifier")
        new.backbone.load_state_dict(pretrained.encoder.state_dict())
        new.classifier.load_state_dict(pretrained.head.state_dict())
        self.want["enc"], self.want["bb"] = state(pretrained), state(new)
        torch.save(self.want["enc"], d / "enc.pth")
        torch.save(self.want["bb"], d / "bb.pth")

        gen = torch.Generator().manual_seed(3)
        huge = torch.rand(1000, generator=gen) * 1e21  # a diverged run's exp_avg_sq
        self.want["huge_a"] = {"exp_avg_sq": huge}
        self.want["huge_b"] = {"exp_avg_sq": huge * (1 + 0.1 * torch.randn(1000, generator=gen))}
        torch.save(self.want["huge_a"], d / "huge_a.pth")
        torch.save(self.want["huge_b"], d / "huge_b.pth")

        random_bytes(d, name="garbage.pth")  # never starts like a known format
        self.futures: dict[str, Future] = {
            name: pool.submit(ckpt, "diff", *(str(d / a) if a.endswith(".pth") else a for a in args))
            for name, args in RUNS.items()
        }

    def run(self, name: str, code: int) -> subprocess.CompletedProcess:
        r = self.futures[name].result()
        assert r.returncode == code, f"{name}: exit {r.returncode}, want {code}; stderr: {r.stderr}"
        assert "Traceback" not in r.stderr, r.stderr
        return r

    def json(self, name: str, code: int) -> dict:
        r = self.run(name, code)
        try:
            return json.loads(r.stdout)
        except json.JSONDecodeError as exc:
            raise AssertionError(f"{name}: stdout is not JSON ({exc}); stderr: {r.stderr}") from None


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    try:
        yield Runs(tmp_path_factory.mktemp("cli_diff"), pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


# ---------------------------------------------------------------- the --json contract


def assert_contract(doc: dict) -> None:
    for field in ("a", "b", "aligned_by", "only_a", "only_b", "mismatched", "identical", "changed"):
        assert field in doc, field
    assert set(doc["aligned_by"]) >= {"a_prefix", "b_prefix"}
    for m in doc["mismatched"]:
        assert set(m) >= {"key", "a_shape", "b_shape", "a_dtype", "b_dtype"}, m
    for c in doc["changed"]:
        assert set(c) >= {"key", "max_abs", "mean_abs", "rel_l2", "cosine", "frac_changed"}, c
    for field in ("only_a", "only_b", "identical"):
        assert all(isinstance(k, str) for k in doc[field]), field


@pytest.mark.slow
def test_json_changed_entries_match_a_float64_reference(runs):
    doc = runs.json("trained_json", 1)
    assert_contract(doc)
    assert doc["a"] == str(runs.d / "init.pth") and doc["b"] == str(runs.d / "trained.pth")
    assert doc["aligned_by"] == {"a_prefix": "", "b_prefix": ""}
    init, trained = runs.want["init"], runs.want["trained"]
    assert [c["key"] for c in doc["changed"]] == list(init)
    assert doc["identical"] == doc["only_a"] == doc["only_b"] == doc["mismatched"] == []
    for c in doc["changed"]:
        assert_metrics(c, init[c["key"]], trained[c["key"]])
    nbt = next(c for c in doc["changed"] if c["key"] == "bn1.num_batches_tracked")
    assert nbt["rel_l2"] is None and nbt["cosine"] is None and nbt["max_abs"] == 3.0  # 0 -> 3: no norm to divide by
    # an integer counter: compared exactly, its values given, outside every relative change
    assert nbt["integer"] is True and nbt["rel_change"] is None and (nbt["a_value"], nbt["b_value"]) == (0, 3)
    (counter,) = doc["counters"]
    assert counter == {"name": "num_batches_tracked", "keys": ["bn1.num_batches_tracked"], "changed": 1,
                       "a_values": [0], "b_values": [3], "text": "bn1.num_batches_tracked 0 -> 3"}  # fmt: skip
    floats = floating(init)
    assert doc["total_rel_change"] == pytest.approx(total_reference(init, trained, floats), rel=1e-6)
    assert doc["n_measured"] == len(floats) == len(init) - 1
    # bn1's bias and running mean start at zero: new from zero, relative change 1
    born = {c["key"] for c in doc["changed"] if c["new_from_zero"] and not c["integer"]}
    assert born == {"bn1.bias", "bn1.running_mean"}
    assert all(c["rel_change"] == 1.0 and c["rel_l2"] is None for c in doc["changed"] if c["key"] in born)
    assert (doc["verdict"], doc["same"]) == ("different", False)
    assert doc["verdict_text"] == f"different (exact): {len(init)} tensors, {len(init)} changed"


def test_json_lists_only_a_only_b_and_mismatched_for_different_architectures(runs):
    doc = runs.json("arch_json", 1)
    assert_contract(doc)
    old, other = runs.want["old"], runs.want["other"]
    assert doc["only_a"] == [k for k in old if k.startswith("bn1.")]
    assert doc["only_b"] == ["proj.weight", "proj.bias"]
    assert [{k: m[k] for k in ("key", "a_shape", "b_shape", "a_dtype", "b_dtype")} for m in doc["mismatched"]] == [
        {"key": "fc.weight", "a_shape": [4, 8], "b_shape": [10, 8], "a_dtype": "float32", "b_dtype": "float32"},
        {"key": "fc.bias", "a_shape": [4], "b_shape": [10], "a_dtype": "float32", "b_dtype": "float32"},
    ]
    assert doc["identical"] == [k for k in old if k.startswith(("conv1.", "blocks."))]
    assert doc["changed"] == []
    assert set(other) == set(doc["identical"]) | set(doc["only_b"]) | {"fc.weight", "fc.bias"}


def test_human_output_for_different_architectures(runs):
    out = runs.run("arch", 1).stdout
    n_same = len([k for k in runs.want["old"] if k.startswith(("conv1.", "blocks."))])
    assert out.splitlines()[0] == (
        f"different (exact): {n_same + 9} tensors, {n_same} identical, 2 mismatched, 5 only in A, 2 only in B"
    )
    # conv1 and blocks were compared (identical: 0); the mismatched fc was not
    assert out.splitlines()[1] == f"total relative change 0 over {n_same} floating-point tensors"
    # mismatched rows in the table: shapes, a note, and blank metric cells (never 0)
    table = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line.startswith("fc.")}
    assert table["fc.weight"] == ["fc.weight", "4x8", "->", "10x8", "mismatched"]
    assert table["fc.bias"] == ["fc.bias", "4", "->", "10", "mismatched"]
    assert "only in A (5): bn1.weight, bn1.bias, bn1.running_mean" in out
    assert "only in B (2): proj.weight, proj.bias" in out
    assert "counters:" not in out  # num_batches_tracked is only in A: not compared


@pytest.mark.slow
def test_human_output_says_the_headline_the_counters_and_new_from_zero(runs):
    init, trained = runs.want["cb_init"], runs.want["cb_trained"]
    out = runs.run("convbn", 1).stdout
    lines = out.splitlines()
    floats = floating(init)
    assert lines[0] == f"different (exact): {len(init)} tensors, {len(init)} changed"
    want = total_reference(init, trained, floats)
    assert lines[1].startswith("total relative change ") and lines[1].endswith(
        f" over {len(floats)} floating-point tensors"
    )
    assert float(lines[1].split()[3]) == pytest.approx(want, rel=2e-3)  # printed with 3 significant digits
    assert lines[2] == "counters: num_batches_tracked 0 -> 4 in 3 layers"
    table = {line.split()[0]: line for line in lines[4:]}
    assert not any(k.endswith("num_batches_tracked") for k in table)  # reported apart, not in the table
    # the zero-initialised fc bias, and each BatchNorm's bias and running mean
    born = {k for k, line in table.items() if line.rstrip().endswith("new from zero")}
    batch_norms = ("stem.1", "stage1.1", "stage2.1")
    assert born == {"fc.bias"} | {f"{bn}.{p}" for bn in batch_norms for p in ("bias", "running_mean")}
    for key in born:
        assert table[key].split()[2] == "1", table[key]  # relative change 1, not a ratio over nothing
    doc = runs.json("convbn_json", 1)
    assert doc["verdict_text"] == lines[0]


@pytest.mark.parametrize(("text", "json_run", "code"), [("ddp", "ddp_json", 0), ("arch", "arch_json", 1),
                                                          ("bf16_rtol", "bf16_rtol_json", 0),
                                                          ("convbn", "convbn_json", 1)])  # fmt: skip
def test_the_verdict_line_json_and_exit_status_agree(runs, text, json_run, code):
    first = runs.run(text, code).stdout.splitlines()[0]
    doc = runs.json(json_run, code)
    assert doc["verdict_text"] == first
    assert doc["same"] is (code == 0) and doc["verdict"] in (
        ("same", "within_tolerance") if code == 0 else ("different",)
    )


def test_help_defines_relative_change(runs):
    out = runs.run("help", 0).stdout
    assert "||B - A|| / max(||A||, ||B||)" in out and "new from zero" in out and "counters:" in out


# ---------------------------------------------------------------- alignment


def test_ddp_state_dict_is_the_same_as_the_plain_one(runs):
    out = runs.run("ddp", 0).stdout
    n = len(runs.want["plain"])
    assert out.startswith(f"same (exact): {n} tensors, {n} identical\n")
    assert "aligned by removing 'module.' from A" in out
    doc = runs.json("ddp_json", 0)
    assert_contract(doc)
    assert doc["aligned_by"] == {"a_prefix": "module.", "b_prefix": ""}
    assert doc["identical"] == list(runs.want["plain"])
    assert doc["changed"] == doc["only_a"] == doc["only_b"] == doc["mismatched"] == []
    assert doc["same"] is True


def test_training_checkpoint_with_a_ddp_model_aligns_with_the_plain_state_dict(runs):
    doc = runs.json("train_json", 1)  # the optimizer's tensors have no partner in a bare state_dict
    assert_contract(doc)
    assert doc["aligned_by"] == {"a_prefix": "model.module.", "b_prefix": ""}
    assert doc["identical"] == list(runs.want["train_plain"])
    assert doc["only_a"] and all(k.startswith("optimizer.state.") for k in doc["only_a"])
    assert doc["changed"] == doc["only_b"] == doc["mismatched"] == []


def test_prefix_maps_align_encoder_with_backbone(runs):
    out = runs.run("map", 0).stdout
    n = len(runs.want["bb"])
    assert out.startswith(f"same (exact): {n} tensors, {n} identical\n")
    out = runs.run("nomap", 1).stdout
    assert "only in A (8): encoder.0.weight" in out and "only in B (8): backbone.0.weight" in out


# ---------------------------------------------------------------- dtype, tolerance, NaN


def test_bfloat16_is_the_same_within_rtol_and_different_exactly(runs):
    out = runs.run("bf16_rtol", 0).stdout
    n = len(runs.want["plain"])
    # the counts agree with the verdict: the changed tensors are said to be within tolerance
    assert (
        out.splitlines()[0]
        == f"same within tolerance (atol 0, rtol 0.01): {n} tensors, 1 identical, {n - 1} within tolerance"
    )
    out = runs.run("bf16_exact", 1).stdout
    assert out.startswith(f"different (exact): {n} tensors, 1 identical, {n - 1} changed\n")
    assert "float32->bfloat16" in out
    rows = [line.split() for line in out.splitlines() if line.startswith("blocks.0.weight ")]
    assert rows, out
    rel_l2 = float(rows[0][2])
    assert 0 < rel_l2 < 2**-8


def test_nans_appearing_are_reported(runs):
    doc = runs.json("nan_json", 1)
    assert_contract(doc)
    (c,) = doc["changed"]
    assert c["key"] == "blocks.3.weight" and c["new_nan"] == 2
    assert_metrics(c, runs.want["plain"]["blocks.3.weight"], runs.want["nan"]["blocks.3.weight"])
    assert len(doc["identical"]) == len(runs.want["plain"]) - 1


def test_values_beyond_float32_squares_give_valid_json(runs):
    """|x| > 1.8e19: x*x overflows float32; the JSON must still be complete and finite."""
    doc = runs.json("huge_json", 1)
    (c,) = doc["changed"]
    a, b = runs.want["huge_a"]["exp_avg_sq"], runs.want["huge_b"]["exp_avg_sq"]
    assert c["rel_l2"] == pytest.approx(reference(a, b)["rel_l2"], rel=1e-6)
    assert doc["total_rel_change"] == pytest.approx(reference(a, b)["rel_change"], rel=1e-6)


# ---------------------------------------------------------------- trouble


@pytest.mark.parametrize(
    ("name", "words"),
    [("missing", ["no_such_file.pth"]), ("garbage", ["garbage.pth", "not a PyTorch checkpoint"]),
     ("bad_map", ["SRC=DST", "encoder.backbone."])],
)  # fmt: skip
def test_bad_input_is_exit_2_with_one_line(runs, name, words):
    r = runs.run(name, 2)
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("ckpt: error:"), r.stderr
    for w in words:
        assert w in r.stderr, f"{w!r} not in {r.stderr!r}"
