"""Health scan rules, one at a time, on hand-made checkpoints written by torch and safetensors."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core import open_checkpoint
from ckptviewer.core.roles import MODEL, OPTIMIZER, OTHER, tensor_roles
from ckptviewer.core.scan import KINDS, SEVERITY_MEANING, Finding, scan, worst_by_path
from tests import calibration as cal

DOCS = Path(__file__).resolve().parents[2] / "docs" / "SCAN.md"


def _scan(tmp_path: Path, obj, name: str = "x.pth"):
    path = tmp_path / name
    torch.save(obj, path)
    return scan(open_checkpoint(path))


def _found(report) -> set[tuple[str, str, str]]:
    return {(f.key, f.kind, f.severity) for f in report.findings}


def test_each_per_tensor_rule_with_its_severity(tmp_path):
    nan = torch.randn(10, 4)
    nan[3, 1] = nan[7, 0] = math.nan
    inf = torch.randn(10)
    inf[0] = math.inf
    sparse = torch.zeros(10, 100)
    sparse[torch.arange(10), torch.arange(10)] = 1.0  # 1% non-zero, but no row is all zero
    sd = {
        "ok.weight": torch.randn(64, 64),
        "a.weight": nan,
        "b.weight": inf,
        "dead.weight": torch.zeros(8, 8),
        "fc.bias": torch.zeros(8),  # a zero bias is an initial value, not a finding
        "norm.weight": torch.ones(16),
        "norm.bias": torch.zeros(16),
        "big.weight": torch.tensor([3e5, 1.0, 2.0, 3.0]),
        "bn.running_mean": torch.randn(3),
        "bn.running_var": torch.tensor([1.0, 0.0, -0.5]),
        "bn.num_batches_tracked": torch.tensor(10**6),  # an integer count: never "extreme"
        "sparse.weight": sparse,
    }
    report = _scan(tmp_path, sd)
    assert _found(report) == {
        ("a.weight", "nan", "error"), ("b.weight", "inf", "error"), ("bn.running_var", "bn_running_var", "error"),
        ("dead.weight", "all_zero", "warning"), ("big.weight", "extreme", "warning"),
        ("sparse.weight", "mostly_zero", "info"),
    }  # fmt: skip
    by_key = report.by_key()
    assert by_key["a.weight"][0].message == f"{int(torch.isnan(nan).sum())} NaN of 40 values"
    assert [f.severity for f in report.findings] == ["error"] * 3 + ["warning"] * 2 + ["info"]
    assert report.to_json()["counts"] == {"error": 3, "warning": 2, "info": 1}
    assert len(report.stats) == len(sd)
    assert all(f.why == KINDS[f.kind].why and f.why for f in report.findings)
    assert set(report.to_json()["findings"][0]) == {"key", "kind", "severity", "message", "why"}


def test_clean_checkpoint_has_no_findings(tmp_path):
    assert _scan(tmp_path, {"w": torch.randn(10, 10), "b": torch.randn(10)}).findings == []


def test_float16_values_at_65504_are_an_overflow(tmp_path):
    w = torch.randn(32, 32) * 0.05
    w.view(-1)[[3, 100, 700]] = torch.tensor([65510.0, -70000.0, 1e6])  # -> 65504, -inf, inf in float16
    w.view(-1)[5] = 65506.0  # rounds to 65504 too
    half = w.half()
    expect_inf, expect_limit = int(torch.isinf(half).sum()), 2  # written above: 65510 and 65506
    report = _scan(tmp_path, {"layer.weight": half, "other.weight": (torch.randn(8, 8) * 0.1).half()})
    (f,) = report.findings
    assert (f.key, f.kind, f.severity) == ("layer.weight", "fp16_overflow", "error")
    assert f.message == f"{expect_inf} ±Inf and {expect_limit} at ±65504 of 1,024 float16 values"
    # bfloat16 holds the same magnitude: large (extreme), not overflowed
    bf16 = _scan(tmp_path, {"layer.weight": torch.tensor([[65504.0, 1.0], [2.0, 3.0]]).bfloat16()})
    assert _found(bf16) == {("layer.weight", "extreme", "warning")}


def test_roles_of_a_lightning_a_training_and_a_gan_checkpoint(tmp_path):
    lightning = open_checkpoint(cal.lightning(tmp_path))
    roles = tensor_roles(lightning)
    assert {roles[k] for k in roles if k.startswith("state_dict.")} == {MODEL}
    assert {roles[k] for k in roles if k.startswith("optimizer_states.")} == {OPTIMIZER}
    assert {k.split(".")[0] for k, r in roles.items() if r == OTHER} == {"callbacks", "loops"}
    training = open_checkpoint(cal.training_checkpoint(tmp_path))
    roles = tensor_roles(training)
    assert roles["model_ema.conv1.weight"] == MODEL and roles["best_loss"] == OTHER
    assert roles["optimizer.state.0.exp_avg"] == OPTIMIZER
    gan = {"generator": {"fc.weight": torch.randn(4, 4)}, "discriminator": {"fc.weight": torch.randn(4, 4)},
           "opt_d": {"state": {0: {"exp_avg": torch.randn(4, 4)}}, "param_groups": []}}  # fmt: skip
    torch.save(gan, tmp_path / "gan.pth")
    roles = tensor_roles(open_checkpoint(tmp_path / "gan.pth"))
    assert roles == {"generator.fc.weight": MODEL, "discriminator.fc.weight": MODEL, "opt_d.state.0.exp_avg": OPTIMIZER}


def test_non_weights_are_not_judged_and_optimizer_state_has_its_own_rules(tmp_path):
    ckpt = {
        "model": {"fc.weight": torch.randn(4, 4)},
        "optimizer": {"state": {0: {"step": torch.tensor(0.0), "exp_avg": torch.full((4, 4), math.nan)}},
                      "param_groups": [{"params": [0]}]},
        "callbacks": {"ModelCheckpoint": {"kth_value": torch.tensor(math.inf), "zeros": torch.zeros(4, 4)}},
        "best_loss": torch.tensor(math.inf),
    }  # fmt: skip
    report = _scan(tmp_path, ckpt)
    assert _found(report) == {
        ("optimizer.state.0.exp_avg", "optimizer_nonfinite", "warning"),
        ("optimizer", "optimizer_step_zero", "info"),
    }
    assert report.by_key()["optimizer"][0].message == "step counter is 0 for 1 parameter"


def test_outlier_among_siblings_needs_orders_of_magnitude(tmp_path):
    g = torch.Generator().manual_seed(1)
    sd = {f"layers.{i}.fc.weight": torch.randn(16, 16, generator=g) * 0.02 for i in range(5)}
    sd["layers.2.fc.weight"][0, 0] = 10.0  # ~100x its siblings (peaks ~0.06): unusual, not garbage
    assert _scan(tmp_path, sd).findings == []
    sd["layers.2.fc.weight"][0, 0] = 1e5  # beyond --extreme too: said once, as the outlier
    report = _scan(tmp_path, sd)
    assert _found(report) == {("layers.2.fc.weight", "outlier", "error")}
    assert "layers.*.fc.weight" in report.findings[0].message
    del sd["layers.1.fc.weight"], sd["layers.3.fc.weight"], sd["layers.4.fc.weight"]  # 2 left: no median
    assert _found(_scan(tmp_path, sd)) == {("layers.2.fc.weight", "extreme", "warning")}


def test_dead_rows_but_not_an_embedding_padding_row(tmp_path):
    fc = torch.randn(6, 5)
    fc[[0, 4]] = 0.0
    emb = torch.randn(10, 5)
    emb[0] = 0.0  # nn.Embedding(padding_idx=0)
    fc_one = torch.randn(6, 5)
    fc_one[2] = 0.0
    report = _scan(tmp_path, {"fc.weight": fc, "embed_tokens.weight": emb, "head.weight": fc_one})
    assert _found(report) == {("fc.weight", "dead_rows", "warning"), ("head.weight", "dead_rows", "warning")}
    assert report.by_key()["fc.weight"][0].message == "2 of 6 output channels are all zero (0, 4)"


def test_equal_tensors_that_are_not_duplicates(tmp_path):
    lm = cal.lm_model()
    sd = {k: v.detach().clone().contiguous() for k, v in lm.state_dict().items()}  # tied head saved as a copy
    mask = torch.tril(torch.ones(9, 9))
    inv_freq = 1.0 / (10000 ** (torch.arange(0, 8, 2).float() / 8))
    for i in range(TINY_LAYERS := cal.TinyLM.LAYERS):
        sd[f"layers.{i}.attn.bias"] = mask.clone()  # GPT-2's causal mask buffer, in every layer
        sd[f"layers.{i}.rotary.inv_freq"] = inv_freq.clone()
    assert TINY_LAYERS >= 2
    save_file(sd, str(tmp_path / "lm.safetensors"))
    report = scan(open_checkpoint(tmp_path / "lm.safetensors"))
    assert [f for f in report.findings if f.severity != "info"] == []
    sd["layers.3.linear2.weight"] = sd["layers.0.linear2.weight"].clone()
    save_file(sd, str(tmp_path / "dup.safetensors"))
    report = scan(open_checkpoint(tmp_path / "dup.safetensors"))
    assert _found(report) == {("layers.3.linear2.weight", "duplicate", "warning")}
    assert report.findings[0].message == "bit-identical to layers.0.linear2.weight"


def test_batchnorm_statistics_never_updated_while_weights_trained(tmp_path):
    sd = cal.cnn_model().state_dict()
    sd["bn2.running_mean"].zero_()
    sd["bn2.running_var"].fill_(1.0)
    sd["bn2.num_batches_tracked"].zero_()
    assert _found(_scan(tmp_path, sd)) == {("bn2.running_var", "bn_stats_initial", "warning")}


def test_a_fresh_resnet_with_zero_init_residual_is_only_untrained(tmp_path):
    model = cal.ConvBN()
    torch.nn.init.zeros_(model.bn2.weight)  # torchvision's zero_init_residual=True
    report = _scan(tmp_path, model.state_dict())
    assert _found(report) == {("", "untrained", "info")}


def test_one_lora_b_left_at_zero_while_the_others_trained(tmp_path):
    from safetensors.torch import load_file

    folder = cal.lora_adapter(tmp_path)
    tensors = load_file(str(folder / "adapter_model.safetensors"))
    victim = "base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"
    tensors[victim] = torch.zeros_like(tensors[victim])
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    report = scan(open_checkpoint(folder))
    assert _found(report) == {(victim, "lora_b_zero", "warning")}
    n_b = sum(k.endswith("lora_B.weight") for k in tensors)
    assert report.findings[0].message == f"all zero, while {n_b - 1} other lora_B are trained"


def test_infos_mark_only_their_own_path():
    findings = [
        Finding("model", "untrained", "info", "looks untrained"),
        Finding("model.layer1.conv.weight", "all_zero", "warning", "..."),
        Finding("model.layer2.fc.weight", "nan", "error", "..."),
        Finding("model.layer3.fc.weight", "mostly_zero", "info", "..."),
    ]
    marks = worst_by_path(findings)
    assert marks == {
        "model": "error", "model.layer1": "warning", "model.layer1.conv": "warning",
        "model.layer1.conv.weight": "warning", "model.layer2": "error", "model.layer2.fc": "error",
        "model.layer2.fc.weight": "error", "model.layer3.fc.weight": "info",
    }  # fmt: skip
    assert worst_by_path([Finding("", "untrained", "info", "")]) == {}


def test_docs_list_every_kind_with_its_severity():
    text = DOCS.read_text(encoding="utf-8")
    for severity, meaning in SEVERITY_MEANING.items():
        assert meaning in text, severity
    rows = {m[1]: m[2] for m in re.finditer(r"^\| `(\w+)` \| (\w+)", text, re.MULTILINE)}
    assert rows == {kind: k.severity for kind, k in KINDS.items()}
    assert [kind for kind, k in KINDS.items() if k.why not in text] == []  # the table says what the code says


@pytest.mark.parametrize("kind", list(KINDS))
def test_every_kind_says_why_in_one_sentence(kind):
    why = KINDS[kind].why
    assert why.endswith(".") and len(why) < 220, why
    assert KINDS[kind].todo.endswith("."), kind
