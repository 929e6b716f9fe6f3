"""The health scan on the calibration set (tests/calibration.py): real layouts, trained a few
steps or freshly initialised, and damaged copies with one known problem each."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import load_file

from ckptviewer.core import open_checkpoint
from ckptviewer.core.scan import scan
from tests import calibration as cal

# where a fresh model's one "untrained" note goes: the model's root in the file
MODEL_ROOT = {"cnn_bn": "", "transformer": "", "lora": "", "lightning": "state_dict", "training": "model"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return cal.calibration_set(tmp_path_factory.mktemp("trained"), trained=True)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    return cal.calibration_set(tmp_path_factory.mktemp("fresh"), trained=False)


@pytest.mark.parametrize("name", list(cal.CALIBRATION))
def test_a_trained_checkpoint_has_no_error_and_no_warning(trained, name):
    report = scan(open_checkpoint(trained[name]))
    alarming = [(f.key, f.kind, f.message) for f in report.findings if f.severity != "info"]
    assert alarming == []
    assert "untrained" not in {f.kind for f in report.findings}
    assert len(report.stats) == len(open_checkpoint(trained[name]).tensors)


@pytest.mark.parametrize("name", list(cal.CALIBRATION))
def test_a_fresh_checkpoint_says_untrained_once_and_nothing_else(fresh, name):
    report = scan(open_checkpoint(fresh[name]))
    assert [(f.key, f.kind, f.severity) for f in report.findings] == [(MODEL_ROOT[name], "untrained", "info")]
    assert report.findings[0].message.startswith("looks untrained: ")


def test_the_untrained_notes_count_what_they_saw(fresh):
    cnn = scan(open_checkpoint(fresh["cnn_bn"])).findings[0].message
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in cal.ConvBN().modules())
    assert f"{n_bn} BatchNorm layers at their initial values" in cnn and "num_batches_tracked = 0" in cnn
    lora = scan(open_checkpoint(fresh["lora"])).findings[0].message
    n_b = sum(k.endswith("lora_B.weight") for k in load_file(str(fresh["lora"] / "adapter_model.safetensors")))
    assert f"all {n_b} lora_B matrices are zero: the adapter is untrained" in lora
    lm = scan(open_checkpoint(fresh["transformer"])).findings[0].message
    n_norm = sum(isinstance(m, torch.nn.LayerNorm) for m in cal.TinyLM().modules())
    assert f"all {n_norm} normalisation layers at their initial values" in lm


# damaged file -> the one (kind, severity) expected on the damaged key
EXPECTED = {
    "nan": {("nan", "error")},
    "fp16": {("fp16_overflow", "error")},
    "shard": {("outlier", "error")},  # plus nan/inf: random bytes hold some, also errors
    "zero_matrix": {("all_zero", "warning")},
    "running_var": {("bn_running_var", "error")},
    "optimizer_nan": {("optimizer_nonfinite", "warning")},
    "dead_filters": {("dead_rows", "warning")},
    "duplicate": {("duplicate", "warning")},
}


@pytest.mark.parametrize("name", list(cal.BROKEN))
def test_each_damage_is_found_with_its_kind_and_nothing_else(tmp_path, name):
    path, damaged = cal.BROKEN[name](tmp_path)
    report = scan(open_checkpoint(path))
    assert {f.key for f in report.findings} == {damaged}
    found = {(f.kind, f.severity) for f in report.findings}
    if name == "shard":
        assert EXPECTED[name] <= found and {s for _, s in found} == {"error"}
        assert found - EXPECTED[name] <= {("nan", "error"), ("inf", "error")}
    else:
        assert found == EXPECTED[name]


def test_the_measured_figures_of_the_damage(tmp_path):
    path, key = cal.broken_nan(tmp_path)
    t = torch.load(path, weights_only=True)[key]
    (f,) = scan(open_checkpoint(path)).findings
    assert f.message == f"{int(torch.isnan(t).sum()):,} NaN of {t.numel():,} values"
    path, key = cal.broken_fp16(tmp_path)
    (f,) = scan(open_checkpoint(path)).findings
    assert f.message.startswith("1 ±Inf of ")  # the one weight set to 1e5 before the cast
    path, key = cal.broken_dead_filters(tmp_path)
    (f,) = scan(open_checkpoint(path)).findings
    rows = torch.load(path, weights_only=True)[key].shape[0]
    assert f.message == f"{len(cal.DEAD_FILTERS)} of {rows} output channels are all zero (1, 5, 9)"
    path, key = cal.broken_shard(tmp_path)
    outlier = next(f for f in scan(open_checkpoint(path)).findings if f.kind == "outlier")
    assert "layers.*.linear1.weight" in outlier.message
    raw = load_file(str(path / "model-00002-of-00002.safetensors"))[key].double()
    top = raw[torch.isfinite(raw)].abs().max().item()
    assert f"largest magnitude {top:.3g}" in outlier.message and math.isfinite(top) and top > 1e20
