"""`diff` (ckptviewer.core.diff) on checkpoints that torch wrote from real models, before
and after real optimizer steps; every metric is checked against a float64 reference
computed here from the tensors that were saved.

The reference follows the module's definitions: metrics over the elements that are finite
on both sides, ``rel_change = ||b - a|| / max(||a||, ||b||)`` (0 when both are zero), the
legacy ``rel_l2 = ||b - a|| / ||a||`` (None where a is zero), ``frac_changed`` = elements
that differ (a NaN on both sides at the same place does not) / all elements. Module and
total relative change: the same formula over sums of squares, floating-point tensors only.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ckptviewer.core import Cancelled, CancelToken, open_checkpoint
from ckptviewer.core.diff import (
    CHANGED,
    DIFFERENT,
    IDENTICAL,
    MISMATCHED,
    ONLY_A,
    ONLY_B,
    SAME,
    SAME_WITHIN_TOL,
    WITHIN_TOL,
    DiffReport,
    TensorDiff,
    diff,
    diff_tree,
    export_csv,
    export_json,
    layers,
    verdict,
)
from ckptviewer.core.stats import CHUNK
from tests.models import SmallNet, ddp_state_dict, training_checkpoint

# ---------------------------------------------------------------- models and training


def smallnet_loss(model: SmallNet, x: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """SmallNet's forward pass (it has none of its own): conv, BN, pooled, 12 ReLU MLP blocks, fc."""
    h = model.bn1(model.conv1(x)).relu().mean((2, 3))
    for block in model.blocks:
        h = block(h).relu()
    return F.cross_entropy(model.fc(h), target)


def train_smallnet(model: SmallNet, steps: int = 3) -> SmallNet:
    """A few real Adam steps on random images (BatchNorm statistics move too)."""
    gen = torch.Generator().manual_seed(1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(steps):
        x = torch.randn(6, 3, 7, 7, generator=gen)
        target = torch.randint(0, 4, (6,), generator=gen)
        opt.zero_grad()
        smallnet_loss(model, x, target).backward()
        opt.step()
    return model


def state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A copy of the state_dict that later training does not touch."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class OtherNet(nn.Module):
    """SmallNet's next version: no BatchNorm, a 10-class fc, a new projection."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, bias=False)
        self.blocks = nn.Sequential(*[nn.Linear(8, 8) for _ in range(12)])
        self.fc = nn.Linear(8, 10)
        self.proj = nn.Linear(8, 8)


class Classifier(nn.Module):
    """A backbone (named ``encoder`` or ``backbone``) and a linear head."""

    def __init__(self, trunk: str = "backbone", head: str = "head") -> None:
        super().__init__()
        setattr(self, trunk, nn.Sequential(nn.Linear(16, 32), nn.LayerNorm(32), nn.ReLU(), nn.Linear(32, 32)))
        setattr(self, head, nn.Linear(32, 4))
        self.trunk_name, self.head_name = trunk, head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return getattr(self, self.head_name)(getattr(self, self.trunk_name)(x).relu())


def train_head_only(model: Classifier, steps: int = 4) -> Classifier:
    """Fine-tuning with a frozen backbone: only the head's parameters get updates."""
    for p in getattr(model, model.trunk_name).parameters():
        p.requires_grad_(False)
    head = getattr(model, model.head_name)
    opt = torch.optim.SGD(head.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(2)
    for _ in range(steps):
        x = torch.randn(8, 16, generator=gen)
        target = torch.randint(0, 4, (8,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(x), target).backward()
        opt.step()
    return model


# ---------------------------------------------------------------- reference and helpers


def reference(a: torch.Tensor, b: torch.Tensor) -> dict:
    """The metrics of a changed tensor, in float64, over the elements finite on both sides."""
    x, y = a.double().reshape(-1), b.double().reshape(-1)
    shared_nan = x.isnan() & y.isnan()
    differs = ~((x == y) | shared_nan)
    both = x.isfinite() & y.isfinite()
    xs, ys = x[both], y[both]
    d = ys - xs
    a2, b2, d2 = float(xs @ xs), float(ys @ ys), float(d @ d)
    return {
        "max_abs": float(d.abs().max()) if d.numel() else 0.0,
        "mean_abs": float(d.abs().mean()) if d.numel() else None,
        "rel_l2": math.sqrt(d2 / a2) if a2 > 0 else (0.0 if d2 == 0 else None),
        "rel_change": math.sqrt(d2 / max(a2, b2)) if max(a2, b2) > 0 else 0.0,
        "cosine": float(xs @ ys) / math.sqrt(a2 * b2) if a2 > 0 and b2 > 0 else None,
        "frac_changed": int(differs.sum()) / x.numel(),
        "new_nan": int((y.isnan() & ~x.isnan()).sum()),
        "new_inf": int((y.isinf() & ~x.isinf()).sum()),
        "a2": a2,
        "b2": b2,
        "d2": d2,
    }


def total_reference(a: dict, b: dict, keys: list[str]) -> float:
    """Relative change over ``keys``: sqrt(sum ||b-a||^2 / max(sum ||a||^2, sum ||b||^2)), float64."""
    refs = [reference(a[k], b[k]) for k in keys]
    a2, b2, d2 = (math.fsum(r[f] for r in refs) for f in ("a2", "b2", "d2"))
    return math.sqrt(d2 / max(a2, b2)) if max(a2, b2) > 0 else 0.0


def floating(sd: dict) -> list[str]:
    """The keys of floating-point tensors (the scope of every relative change)."""
    return [k for k, v in sd.items() if v.is_floating_point() or v.is_complex()]


def assert_metrics(row, a: torch.Tensor, b: torch.Tensor, rel: float = 1e-5) -> None:
    """``row`` (a TensorDiff or its JSON) has the reference metrics of ``a`` -> ``b``.

    Five significant digits: float32 chunks are reduced with float32 dot products (fast),
    and their sums accumulated in float64.
    """
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    ref = reference(a, b)
    key = get("key")
    assert get("frac_changed") == pytest.approx(ref["frac_changed"], rel=1e-12), f"{key}: frac_changed"
    for k in ("max_abs", "mean_abs", "rel_l2"):
        if ref[k] is None:
            assert get(k) is None, f"{key}: {k} is undefined"
        else:
            assert get(k) == pytest.approx(ref[k], rel=rel, abs=1e-12), f"{key}: {k}"
    if get("integer"):
        assert get("rel_change") is None, f"{key}: an integer tensor has no relative change"
    else:
        assert get("rel_change") == pytest.approx(ref["rel_change"], rel=rel, abs=1e-12), f"{key}: rel_change"
    assert get("new_from_zero") == (ref["a2"] == 0 and ref["b2"] > 0), f"{key}: new_from_zero"
    if ref["cosine"] is None:
        assert get("cosine") is None, f"{key}: cosine"
    else:
        assert get("cosine") == pytest.approx(ref["cosine"], abs=1e-6), f"{key}: cosine"
    if not isinstance(row, dict) or "new_nan" in row:
        assert (get("new_nan"), get("new_inf")) == (ref["new_nan"], ref["new_inf"]), f"{key}: new NaN/Inf"


def save(obj: object, path: Path) -> Path:
    torch.save(obj, path)
    return path


def diff_objects(tmp_path: Path, a: object, b: object, **kw) -> DiffReport:
    """torch.save both, open them (lazily, on the CPU) and diff."""
    pa, pb = save(a, tmp_path / "a.pth"), save(b, tmp_path / "b.pth")
    with open_checkpoint(pa, device="cpu") as ca, open_checkpoint(pb, device="cpu") as cb:
        return diff(ca, cb, **kw)


def rows(rep: DiffReport) -> dict:
    return {r.key: r for r in rep.rows}


def keys(rep: DiffReport, status: str) -> list[str]:
    return [r.key for r in rep.by_status(status)]


# ---------------------------------------------------------------- training changes every tensor


def test_optimizer_steps_metrics_match_a_float64_reference(tmp_path):
    model = SmallNet()
    before = state(model)
    after = state(train_smallnet(model))
    rep = diff_objects(tmp_path, before, after)

    assert [r.key for r in rep.rows] == list(before)  # A's order
    assert keys(rep, CHANGED) == list(before) and rep.counts[CHANGED] == len(before)
    assert not rep.same
    by_key = rows(rep)
    for key, a in before.items():
        r, b = by_key[key], after[key]
        assert (r.a_shape, r.b_shape) == (list(a.shape), list(b.shape))
        assert r.a_dtype == r.b_dtype == ("float32" if a.is_floating_point() else "int64")
        assert r.numel == a.numel()
        assert_metrics(r, a, b)
        assert r.outside_tol == int((a != b).sum()), key
    # a ReLU net under Adam: some elements get no gradient at all and keep their bits
    assert any(0 < r.frac_changed < 1 for r in rep.rows)
    # num_batches_tracked: int64 0 -> 3, compared exactly, with its values; no relative change
    nbt = by_key["bn1.num_batches_tracked"]
    assert nbt.integer and (nbt.a_value, nbt.b_value) == (0, 3)
    assert (nbt.max_abs, nbt.frac_changed, nbt.rel_l2, nbt.rel_change, nbt.cosine) == (3.0, 1.0, None, None, None)
    assert nbt.to_json()["rel_l2"] is None

    # the headline: floating-point tensors only (the counter's 0 -> 3 would swamp it)
    want_total = total_reference(before, after, floating(before))
    assert rep.total_rel_change == pytest.approx(want_total, rel=1e-6)
    assert rep.n_measured == len(before) - 1
    with_counter = total_reference(before, after, list(before))
    assert with_counter > 3 * want_total  # counting the counter would say four times what moved
    doc = rep.to_json()
    json.dumps(doc, allow_nan=False)
    assert doc["same"] is False and doc["counts"][CHANGED] == len(before)


def test_a_tensor_changed_only_after_its_first_chunks_still_matches_the_reference(tmp_path):
    """An embedding fine-tuned on a few rare tokens: only its last rows move, so the first
    CHUNK-sized pieces are bit-equal and the difference sits in the last one."""
    emb = nn.Embedding(50_000, 64)  # 3.2 M elements: 4 chunks
    assert emb.weight.numel() > 3 * CHUNK
    before = state(emb)
    opt = torch.optim.SGD(emb.parameters(), lr=0.1)  # no momentum: untouched rows keep their bits
    for _ in range(3):
        opt.zero_grad()
        emb(torch.arange(49_900, 50_000)).square().sum().backward()
        opt.step()
    after = state(emb)
    rep = diff_objects(tmp_path, before, after)
    (r,) = rep.rows
    assert r.status == CHANGED
    assert r.frac_changed == pytest.approx(100 * 64 / emb.weight.numel())
    assert_metrics(r, before["weight"], after["weight"])
    ref = reference(before["weight"], after["weight"])
    assert rep.total_rel_change == pytest.approx(ref["rel_change"], rel=1e-5)


def test_values_beyond_float32_squares_still_give_finite_metrics(tmp_path):
    """A diverged run: Adam's exp_avg_sq holds values above sqrt(float32 max) ~ 1.8e19,
    whose squares overflow float32 but not float64 (the accumulators are float64)."""
    gen = torch.Generator().manual_seed(3)
    a = torch.rand(1000, generator=gen).mul_(1e21)
    b = a * (1 + 1e-3 * torch.randn(1000, generator=gen))
    rep = diff_objects(tmp_path, {"optimizer.state.0.exp_avg_sq": a}, {"optimizer.state.0.exp_avg_sq": b})
    (r,) = rep.rows
    assert_metrics(r, a, b)
    assert rep.total_rel_change == pytest.approx(reference(a, b)["rel_change"], rel=1e-6)
    json.dumps(rep.to_json(), allow_nan=False)


# ---------------------------------------------------------------- alignment


def test_ddp_state_dict_is_identical_to_the_plain_one_after_alignment(tmp_path):
    model = train_smallnet(SmallNet(), steps=1)
    plain = state(model)
    wrapped = ddp_state_dict(model, tmp_path)
    assert all(k.startswith("module.") for k in wrapped)
    rep = diff_objects(tmp_path, wrapped, plain)
    assert (rep.a_prefix, rep.b_prefix) == ("module.", "")
    assert keys(rep, IDENTICAL) == list(plain)
    assert rep.counts == {IDENTICAL: len(plain), CHANGED: 0, MISMATCHED: 0, ONLY_A: 0, ONLY_B: 0}
    assert rep.same and rep.total_rel_change == 0.0
    r = rows(rep)["fc.weight"]
    assert (r.a_key, r.b_key) == ("module.fc.weight", "fc.weight")
    # the other way round, too
    back = diff_objects(tmp_path, plain, wrapped)
    assert (back.a_prefix, back.b_prefix) == ("", "module.") and back.same
    assert keys(back, IDENTICAL) == list(plain)


def test_training_checkpoint_with_a_ddp_model_aligns_with_a_plain_state_dict(tmp_path):
    model = SmallNet()
    train = training_checkpoint(model)  # trains model in place; 'model' is its plain state_dict
    plain = state(model)
    train["model"] = ddp_state_dict(model, tmp_path)
    assert isinstance(train["args"], argparse.Namespace)
    rep = diff_objects(tmp_path, train, plain)
    assert (rep.a_prefix, rep.b_prefix) == ("model.module.", "")
    assert keys(rep, IDENTICAL) == list(plain)
    assert rep.counts[CHANGED] == rep.counts[MISMATCHED] == rep.counts[ONLY_B] == 0
    only_a = keys(rep, ONLY_A)
    assert only_a and all(k.startswith("optimizer.state.") for k in only_a)  # Adam's state has no partner
    assert not rep.same
    back = diff_objects(tmp_path, plain, train)
    assert (back.a_prefix, back.b_prefix) == ("", "model.module.")
    assert keys(back, IDENTICAL) == list(plain) and keys(back, ONLY_B) == only_a


def test_prefix_maps_align_encoder_with_backbone(tmp_path):
    """Transfer learning: a pretrained ``encoder`` became the ``backbone`` of a new model."""
    torch.manual_seed(5)
    pretrained = Classifier("encoder", "head")
    new = Classifier("backbone", "classifier")
    new.backbone.load_state_dict(pretrained.encoder.state_dict())
    a, b = state(pretrained), state(new)

    unmapped = diff_objects(tmp_path, a, b)
    assert keys(unmapped, ONLY_A) == list(a) and keys(unmapped, ONLY_B) == list(b)

    rep = diff_objects(tmp_path, a, b, maps=[("encoder.", "backbone.")])
    trunk = [k for k in b if k.startswith("backbone.")]
    assert keys(rep, IDENTICAL) == trunk
    assert rows(rep)["backbone.0.weight"].a_key == "encoder.0.weight"
    assert keys(rep, ONLY_A) == ["head.weight", "head.bias"]
    assert keys(rep, ONLY_B) == ["classifier.weight", "classifier.bias"]

    # maps apply to the aligned keys: a DDP-wrapped encoder maps the same way
    both = diff_objects(tmp_path, ddp_state_dict(pretrained, tmp_path), b, maps=[("encoder.", "backbone.")])
    assert both.a_prefix == "module." and keys(both, IDENTICAL) == trunk

    # and with the head mapped as well, the two are the same
    new.classifier.load_state_dict(pretrained.head.state_dict())
    full = diff_objects(tmp_path, a, state(new), maps=[("encoder.", "backbone."), ("head.", "classifier.")])
    assert full.same and keys(full, IDENTICAL) == list(b)


# ---------------------------------------------------------------- structure


def test_different_architectures_list_only_a_only_b_and_mismatched(tmp_path):
    torch.manual_seed(7)
    old = SmallNet()
    torch.manual_seed(7)
    new = OtherNet()  # the same init order for conv1; BN draws nothing, so blocks get the same values too
    a, b = state(old), state(new)
    rep = diff_objects(tmp_path, a, b)
    assert keys(rep, ONLY_A) == [k for k in a if k.startswith("bn1.")]
    assert keys(rep, ONLY_B) == ["proj.weight", "proj.bias"]
    assert keys(rep, MISMATCHED) == ["fc.weight", "fc.bias"]
    fc = rows(rep)["fc.weight"]
    assert (fc.a_shape, fc.b_shape, fc.a_dtype, fc.b_dtype) == ([4, 8], [10, 8], "float32", "float32")
    assert keys(rep, IDENTICAL) == [k for k in a if k.startswith(("conv1.", "blocks."))]
    assert not rep.same
    # rows: A's order, then what only B has
    assert [r.key for r in rep.rows] == list(a) + ["proj.weight", "proj.bias"]
    doc = rep.to_json()
    assert doc["mismatched"][1] == {"key": "fc.bias", "a_shape": [4], "b_shape": [10], "a_dtype": "float32",
                                    "b_dtype": "float32"}  # fmt: skip
    assert doc["only_b"] == ["proj.weight", "proj.bias"]


# ---------------------------------------------------------------- NaN and Inf


def test_nans_appearing_are_counted_and_never_same(tmp_path):
    gen = torch.Generator().manual_seed(4)
    a = torch.randn(64, 32, generator=gen)
    b = a + 1e-3 * torch.randn(64, 32, generator=gen)
    b[3, :5] = math.nan
    b[10, 7] = math.nan
    rep = diff_objects(tmp_path, {"w": a, "v": a[0].clone()}, {"w": b, "v": a[0].clone()})
    r = rows(rep)["w"]
    assert r.status == CHANGED and r.new_nan == 6 and r.new_inf == 0
    assert_metrics(r, a, b)
    assert math.isfinite(r.max_abs) and math.isfinite(r.rel_l2)
    assert rows(rep)["v"].status == IDENTICAL
    assert not rep.same
    # no tolerance forgives a NaN that was not there
    with (
        open_checkpoint(tmp_path / "a.pth", device="cpu") as ca,
        open_checkpoint(tmp_path / "b.pth", device="cpu") as cb,
    ):
        assert not diff(ca, cb, atol=1e9, rtol=1e9).same
    json.dumps(rep.to_json(), allow_nan=False)


def test_nan_in_the_same_place_is_not_a_change(tmp_path):
    gen = torch.Generator().manual_seed(5)
    a = torch.randn(50, 40, generator=gen)
    a[0, :3] = math.nan
    a[17, 11] = math.nan
    rep = diff_objects(tmp_path, {"w": a}, {"w": a.clone()})
    (r,) = rep.rows
    assert r.status == IDENTICAL and r.new_nan == 0
    assert rep.same

    # the same NaNs, every other value moved a little
    b = a + 1e-4 * torch.randn(50, 40, generator=gen)
    assert int(b.isnan().sum()) == 4
    rep = diff_objects(tmp_path, {"w": a}, {"w": b})
    (r,) = rep.rows
    assert r.status == CHANGED and r.new_nan == 0
    # the shared NaNs are not changes (NaN != NaN would count them)
    assert r.frac_changed == pytest.approx((int((a != b).sum()) - 4) / a.numel())
    assert r.frac_changed > 0.99
    assert_metrics(r, a, b)
    assert math.isfinite(r.rel_l2) and math.isfinite(r.cosine)
    assert not rep.same
    with (
        open_checkpoint(tmp_path / "a.pth", device="cpu") as ca,
        open_checkpoint(tmp_path / "b.pth", device="cpu") as cb,
    ):
        loose = diff(ca, cb, atol=1e-2)
    assert loose.same and loose.rows[0].outside_tol == 0  # the NaNs themselves never count against it


def test_infs_appearing_are_counted(tmp_path):
    gen = torch.Generator().manual_seed(6)
    a = torch.randn(1000, generator=gen)
    b = a.clone()
    b[5], b[6], b[700] = math.inf, -math.inf, math.inf
    b[100:200] += 0.01
    rep = diff_objects(tmp_path, {"w": a}, {"w": b})
    (r,) = rep.rows
    assert r.status == CHANGED and r.new_inf == 3 and r.new_nan == 0
    assert_metrics(r, a, b)
    assert r.max_abs == pytest.approx(0.01, rel=1e-3)  # over the finite pairs
    assert r.frac_changed == pytest.approx(103 / 1000)
    assert not rep.same
    with (
        open_checkpoint(tmp_path / "a.pth", device="cpu") as ca,
        open_checkpoint(tmp_path / "b.pth", device="cpu") as cb,
    ):
        assert not diff(ca, cb, atol=1e9).same
    # an Inf already there on both sides is no change
    same_inf = diff_objects(tmp_path, {"w": b}, {"w": b.clone()})
    assert same_inf.rows[0].status == IDENTICAL and same_inf.same


# ---------------------------------------------------------------- dtypes and tolerance


def test_bfloat16_copy_of_the_same_weights(tmp_path):
    model = train_smallnet(SmallNet(), steps=1)
    fp32 = state(model)
    bf16 = {k: v.bfloat16() if v.is_floating_point() else v for k, v in fp32.items()}
    pa, pb = save(fp32, tmp_path / "fp32.pth"), save(bf16, tmp_path / "bf16.pth")
    with open_checkpoint(pa, device="cpu") as ca, open_checkpoint(pb, device="cpu") as cb:
        exact = diff(ca, cb)
        loose = diff(ca, cb, rtol=1e-2)
        tight = diff(ca, cb, rtol=1e-4)
    assert keys(exact, IDENTICAL) == ["bn1.num_batches_tracked"]
    floats = [k for k, v in fp32.items() if v.is_floating_point()]
    assert keys(exact, CHANGED) == floats
    for key in floats:
        r = rows(exact)[key]
        assert (r.a_dtype, r.b_dtype) == ("float32", "bfloat16")
        assert r.to_json()["b_dtype"] == "bfloat16"
        assert 0 < r.rel_l2 < 2**-8  # bfloat16 keeps 8 bits of mantissa
        assert r.cosine > 0.9999
        assert_metrics(r, fp32[key], bf16[key])
    assert not exact.same
    assert loose.same  # |a - b| <= 2**-9 |a|: within rtol 1e-2
    assert not tight.same


def test_integer_tensors_are_compared_exactly(tmp_path):
    """A BatchNorm that has seen 2**24 batches, one more batch later: int64 values above
    float32's 24-bit mantissa must still count as different (exact mode says DIFFERENT)."""
    a = {"bn1.num_batches_tracked": torch.tensor(2**24), "ids": torch.arange(2**24, 2**24 + 8)}
    b = {"bn1.num_batches_tracked": torch.tensor(2**24 + 1), "ids": torch.arange(2**24, 2**24 + 8)}
    b["ids"][3] += 1
    rep = diff_objects(tmp_path, a, b)
    for key in a:
        r = rows(rep)[key]
        assert r.status == CHANGED, key
        assert r.max_abs == 1.0 and r.outside_tol == 1, key
        assert r.frac_changed == pytest.approx(1 / a[key].numel()), key
    assert not rep.same


# ---------------------------------------------------------------- a frozen backbone under a trained head


def test_frozen_backbone_is_identical_and_modules_show_where_training_happened(tmp_path):
    torch.manual_seed(8)
    model = Classifier()
    before = state(model)
    after = state(train_head_only(model))
    rep = diff_objects(tmp_path, before, after)
    assert keys(rep, IDENTICAL) == [k for k in before if k.startswith("backbone.")]
    assert keys(rep, CHANGED) == ["head.weight", "head.bias"]
    for key in ("head.weight", "head.bias"):
        assert_metrics(rows(rep)[key], before[key], after[key])
    mods = rep.modules()
    assert list(mods) == ["backbone", "backbone.0", "backbone.1", "backbone.3", "head"]
    assert all(mods[m] == 0.0 for m in mods if m.startswith("backbone"))
    assert mods["head"] > 0
    assert mods["head"] == pytest.approx(total_reference(before, after, ["head.weight", "head.bias"]), rel=1e-6)
    assert rep.total_rel_change == pytest.approx(total_reference(before, after, list(before)), rel=1e-6)
    assert 0 < rep.total_rel_change < mods["head"]


# ---------------------------------------------------------------- progress and cancellation


def two_models(tmp_path: Path) -> tuple[Path, Path, dict]:
    model = SmallNet()
    before = state(model)
    pa = save(before, tmp_path / "before.pth")
    pb = save(state(train_smallnet(model)), tmp_path / "after.pth")
    return pa, pb, before


def test_progress_counts_bytes_of_both_sides_and_reaches_the_total(tmp_path):
    pa, pb, before = two_models(tmp_path)
    seen = []
    with open_checkpoint(pa, device="cpu") as ca, open_checkpoint(pb, device="cpu") as cb:
        diff(ca, cb, progress=seen.append)
    total = 2 * sum(t.numel() * t.element_size() for t in before.values())
    assert seen and all(p.total == total for p in seen)
    done = [p.done for p in seen]
    assert done == sorted(done) and done[-1] == total and max(done) <= total
    assert seen[-1].message == "Done" and seen[-1].fraction == 1.0
    assert {p.message for p in seen[:-1]} <= set(before)


def test_progress_with_a_dtype_change_never_passes_the_total(tmp_path):
    """fp32 (A) against bf16 (B): each element is 4 bytes on one side and 2 on the other."""
    gen = torch.Generator().manual_seed(9)
    a = {"w": torch.randn(3000, generator=gen), "v": torch.randn(500, generator=gen)}
    b = {k: v.bfloat16() for k, v in a.items()}
    seen = []
    diff_objects(tmp_path, a, b, progress=seen.append)
    total = 6 * (3000 + 500)
    assert all(p.total == total for p in seen)
    done = [p.done for p in seen]
    assert max(done) <= total, f"progress went past its total: {done} of {total}"
    assert done == sorted(done) and done[-1] == total


def test_cancel_raises_cancelled(tmp_path):
    pa, pb, _ = two_models(tmp_path)
    with open_checkpoint(pa, device="cpu") as ca, open_checkpoint(pb, device="cpu") as cb:
        token = CancelToken()
        token.cancel()
        with pytest.raises(Cancelled):
            diff(ca, cb, cancel=token)

        # cancelled from the progress callback, after the first tensor: stops before the end
        token = CancelToken()
        seen = []

        def on_progress(p) -> None:
            seen.append(p)
            token.cancel()

        with pytest.raises(Cancelled):
            diff(ca, cb, progress=on_progress, cancel=token)
        assert len(seen) == 1 and seen[0].message != "Done"

        # the token is per call: a fresh one runs to the end
        assert diff(ca, cb, cancel=CancelToken()).counts[CHANGED] > 0


def test_rows_within_tolerance_agree_with_the_verdict_and_unmeasured_modules_have_no_change(tmp_path):
    a = {"enc.w": torch.ones(4), "enc.b": torch.zeros(2), "head.w": torch.ones(3, 2), "fc.w": torch.ones(2)}
    b = {"enc.w": torch.ones(4) + 1e-5, "enc.b": torch.zeros(2), "head.w": torch.ones(4, 2), "fc.w": torch.ones(2) * 3}
    rep = diff_objects(tmp_path, a, b, atol=1e-3)
    r = rows(rep)
    assert r["enc.w"].status == CHANGED and r["enc.w"].within_tol and r["enc.w"].verdict == WITHIN_TOL
    assert not r["fc.w"].within_tol and r["fc.w"].verdict == CHANGED
    assert rep.verdict_counts == {IDENTICAL: 1, WITHIN_TOL: 1, CHANGED: 1, MISMATCHED: 1, ONLY_A: 0, ONLY_B: 0}
    assert rep.counts[CHANGED] == 2  # the JSON's counts keep their meaning; each changed row says within_tol
    assert {c["key"]: c["within_tol"] for c in rep.to_json()["changed"]} == {"enc.w": True, "fc.w": False}
    tree = diff_tree(rep)
    assert tree.find("head").rel_change is None  # only a mismatched pair below: nothing measured, not 0
    assert tree.find("enc").worst == WITHIN_TOL and tree.find("enc").counts == {WITHIN_TOL: 1, IDENTICAL: 1}
    only_equal = diff_objects(tmp_path, {"w": torch.ones(4)}, {"w": torch.ones(4) + 1e-5}, atol=1e-3)
    assert only_equal.same and only_equal.verdict_counts[WITHIN_TOL] == 1


def test_exports_write_the_json_document_and_one_csv_row_per_key(tmp_path):
    import csv

    a = {"w": torch.ones(4), "gone": torch.ones(1), "m": torch.ones(2)}
    b = {"w": torch.ones(4) * 2, "new": torch.ones(1), "m": torch.ones(3)}
    rep = diff_objects(tmp_path, a, b)
    doc = json.loads(export_json(rep, tmp_path / "d.json").read_text())
    assert doc == json.loads(json.dumps(rep.to_json()))
    with export_csv(rep, tmp_path / "d.csv").open(newline="") as f:
        table = {row["key"]: row for row in csv.DictReader(f)}
    assert set(table) == {"w", "gone", "new", "m"} and table["m"]["status"] == MISMATCHED
    assert table["m"]["a_shape"] == "2" and table["m"]["b_shape"] == "3" and table["m"]["new_nan"] == ""
    assert float(table["w"]["max_abs"]) == 1.0 and table["w"]["within_tol"] == "False"
    assert table["gone"]["b_shape"] == "" and table["new"]["status"] == ONLY_B
    assert not list(tmp_path.glob(".*.part"))


# ---------------------------------------------------------------- one meaning for relative change


class ConvBNNet(nn.Module):
    """Three conv + BatchNorm stages and a classifier whose bias starts at zero."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.stage1 = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8))
        self.stage2 = nn.Sequential(nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16))
        self.fc = nn.Linear(16, 5)
        nn.init.zeros_(self.fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for stage in (self.stem, self.stage1, self.stage2):
            x = stage(x).relu()
        return self.fc(x.mean((2, 3)))


def train_convbn(model: ConvBNNet, steps: int = 4) -> ConvBNNet:
    """Real SGD steps in train mode: weights, BatchNorm statistics and counters all move."""
    gen = torch.Generator().manual_seed(12)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(steps):
        x = torch.randn(4, 3, 8, 8, generator=gen)
        target = torch.randint(0, 5, (4,), generator=gen)
        opt.zero_grad()
        F.cross_entropy(model(x), target).backward()
        opt.step()
    return model


def prefixed(keys: list[str], module: str) -> list[str]:
    return [k for k in keys if k.startswith(module + ".")]


def test_headline_modules_and_layers_are_over_floating_point_tensors_only(tmp_path):
    torch.manual_seed(13)
    model = ConvBNNet()
    before = state(model)
    after = state(train_convbn(model))
    floats = floating(before)
    assert len(floats) == len(before) - 3  # three num_batches_tracked
    rep = diff_objects(tmp_path, before, after)

    assert rep.total_rel_change == pytest.approx(total_reference(before, after, floats), rel=1e-6)
    assert rep.n_measured == len(floats)
    assert (
        rep.headline() == f"total relative change {rep.total_rel_change:.3g} over {len(floats)} floating-point tensors"
    )

    # every module aggregate against float64, over its floating-point tensors only
    mods = rep.modules()
    want_modules = {".".join(k.split(".")[:i]) for k in floats for i in range(1, k.count(".") + 1)}
    assert set(mods) == want_modules
    for module, value in mods.items():
        assert value == pytest.approx(total_reference(before, after, prefixed(floats, module)), rel=1e-6), module
    # a BatchNorm layer reads what its statistics and affine parameters did, not its counter's 0 -> 4
    bn = "stage1.1"
    assert mods[bn] == pytest.approx(total_reference(before, after, prefixed(floats, bn)), rel=1e-6)
    assert total_reference(before, after, prefixed(list(before), bn)) > 3 * mods[bn]

    # the chart's layers carry the same figures
    tree = diff_tree(rep)
    chart = {n.path: n.rel_change for n in layers(tree)}
    assert list(chart) == ["stem.0", "stem.1", "stage1.0", "stage1.1", "stage2.0", "stage2.1", "fc"]
    for path, value in chart.items():
        assert value == pytest.approx(mods[path], rel=1e-12), path
    assert tree.find("stem.1.num_batches_tracked").rel_change is None
    assert tree.find("stem.1").measured_worst == CHANGED

    # the counters, reported apart with their values
    (group,) = rep.counters()
    nbt = [k for k in before if k.endswith("num_batches_tracked")]
    assert group.name == "num_batches_tracked" and [r.key for r in group.rows] == nbt
    assert group.text() == "num_batches_tracked 0 -> 4 in 3 layers"
    doc = rep.to_json()
    assert doc["counters"] == [{"name": "num_batches_tracked", "keys": nbt, "changed": 3, "a_values": [0, 0, 0],
                                "b_values": [4, 4, 4], "text": "num_batches_tracked 0 -> 4 in 3 layers"}]  # fmt: skip
    assert doc["n_measured"] == len(floats)
    assert doc["total_rel_change"] == rep.total_rel_change
    changed = {c["key"]: c for c in doc["changed"]}
    assert changed[nbt[0]]["integer"] is True and changed[nbt[0]]["rel_change"] is None
    assert (changed[nbt[0]]["a_value"], changed[nbt[0]]["b_value"]) == (0, 4)

    # the zero-initialised bias: new from zero, 1 and not a ratio over nothing
    bias = rows(rep)["fc.bias"]
    assert before["fc.bias"].abs().sum() == 0 and after["fc.bias"].abs().sum() > 0
    assert bias.new_from_zero and bias.rel_change == 1.0 and bias.rel_l2 is None and bias.cosine is None
    assert changed["fc.bias"]["new_from_zero"] is True
    for key in floats:
        assert_metrics(rows(rep)[key], before[key], after[key])
    json.dumps(doc, allow_nan=False)


def test_relative_change_where_a_is_zero(tmp_path):
    gen = torch.Generator().manual_seed(14)
    w = torch.randn(6, 4, generator=gen)
    born = torch.randn(4, generator=gen)
    a = {"zero.w": torch.zeros(5), "signed.w": torch.zeros(5), "born.b": torch.zeros(4), "grow.w": w,
         "flip.w": w.clone()}  # fmt: skip
    b = {"zero.w": torch.zeros(5), "signed.w": -torch.zeros(5), "born.b": born, "grow.w": 3 * w, "flip.w": -w}
    rep = diff_objects(tmp_path, a, b)
    r = rows(rep)
    # both zero: nothing moved, 0 (bit-equal, or equal in value with -0.0)
    assert r["zero.w"].status == IDENTICAL and r["zero.w"].rel_change == 0.0
    assert r["signed.w"].status == CHANGED and r["signed.w"].verdict == WITHIN_TOL
    assert r["signed.w"].rel_change == 0.0 and not r["signed.w"].new_from_zero
    # from all zero to non-zero: 1, flagged
    assert r["born.b"].new_from_zero and r["born.b"].rel_change == 1.0 and r["born.b"].rel_l2 is None
    # bounded by 2: ||3w - w|| / ||3w|| = 2/3, ||-w - w|| / ||w|| = 2
    assert r["grow.w"].rel_change == pytest.approx(2 / 3, rel=1e-6) and not r["grow.w"].new_from_zero
    assert r["flip.w"].rel_change == pytest.approx(2.0, rel=1e-6)
    for key in a:
        if r[key].status == CHANGED:
            assert_metrics(r[key], a[key], b[key])
    mods = rep.modules()
    assert mods["zero"] == 0.0 and mods["signed"] == 0.0 and mods["born"] == 1.0
    assert rep.total_rel_change == pytest.approx(total_reference(a, b, list(a)), rel=1e-6)
    # zeros against zeros only: 0, and the verdict says the values are equal
    zeros = diff_objects(
        tmp_path, {"w": torch.zeros(3), "v": torch.zeros(2)}, {"w": -torch.zeros(3), "v": torch.zeros(2)}
    )
    assert zeros.total_rel_change == 0.0
    assert zeros.verdict.kind == SAME_WITHIN_TOL and zeros.verdict.exit_status == 0
    assert zeros.verdict.text == "same values (exact): 2 tensors, 1 identical, 1 equal in value"


def test_mismatched_and_one_sided_rows_carry_no_number(tmp_path):
    import csv

    torch.manual_seed(7)
    old = state(SmallNet())
    torch.manual_seed(7)
    new = state(OtherNet())
    rep = diff_objects(tmp_path, old, new)
    unmeasured = [r for r in rep.rows if r.status in (MISMATCHED, ONLY_A, ONLY_B)]
    assert {r.status for r in unmeasured} == {MISMATCHED, ONLY_A, ONLY_B}
    metrics = ("max_abs", "mean_abs", "rel_l2", "rel_change", "cosine", "frac_changed", "new_nan", "new_inf",
               "outside_tol", "a_value", "b_value")  # fmt: skip
    for r in unmeasured:
        doc = r.to_json()
        assert all(doc[m] is None for m in metrics), doc
        assert not r.new_from_zero and not r.measured
    assert rows(rep)["fc.weight"].numel is None  # two sizes, none of them "the" count
    assert rows(rep)["proj.weight"].numel == 64  # one side: its count
    with export_csv(rep, tmp_path / "d.csv").open(newline="") as f:
        table = {row["key"]: row for row in csv.DictReader(f)}
    for r in unmeasured:
        assert all(table[r.key][m] == "" for m in metrics), table[r.key]
    # modules with nothing measured have no relative change, not 0
    tree = diff_tree(rep)
    for path in ("fc", "proj", "bn1"):
        assert tree.find(path).rel_change is None, path
        assert path not in rep.modules()
    assert rep.total_rel_change == 0.0  # conv1 and blocks: identical
    assert rep.n_measured == len(keys(rep, IDENTICAL))
    # only unmeasured keys: no headline figure at all
    none = diff_objects(tmp_path, {"w": torch.ones(2)}, {"w": torch.ones(3), "x": torch.ones(1)})
    assert none.total_rel_change is None and none.to_json()["total_rel_change"] is None
    assert none.headline() == "total relative change: none (no floating-point tensors compared)"
    assert diff_tree(none).rel_change is None


def test_integer_and_bool_tensors_are_reported_apart_as_counters(tmp_path):
    gen = torch.Generator().manual_seed(15)
    w = torch.randn(8, 8, generator=gen)
    a = {"l1.num_batches_tracked": torch.tensor(2), "l1.weight": w, "l2.num_batches_tracked": torch.tensor(2),
         "l3.num_batches_tracked": torch.tensor(5), "step": torch.tensor(10),
         "mask.keep": torch.ones(6, dtype=torch.bool), "ids": torch.arange(4)}  # fmt: skip
    b = {k: v.clone() for k, v in a.items()}
    b["l1.weight"] = w + 1e-4
    for layer in ("l1", "l2", "l3"):
        b[f"{layer}.num_batches_tracked"] = torch.tensor(7)
    b["mask.keep"][2] = False
    rep = diff_objects(tmp_path, a, b, atol=1e9)  # forgives any float change, never an integer one
    texts = [g.text() for g in rep.counters()]
    assert texts == ["num_batches_tracked 2..5 -> 7 in 3 layers (3 of 3 changed)", "step 10 (unchanged)",
                     "mask.keep changed", "ids identical"]  # fmt: skip
    r = rows(rep)
    assert r["l1.weight"].within_tol and not r["l1.weight"].integer
    assert all(r[k].integer for k in a if k != "l1.weight")
    assert (r["l3.num_batches_tracked"].a_value, r["l3.num_batches_tracked"].b_value) == (5, 7)
    assert (r["step"].status, r["step"].a_value, r["step"].b_value) == (IDENTICAL, 10, 10)
    assert r["mask.keep"].status == CHANGED and r["mask.keep"].a_value is None and r["mask.keep"].outside_tol == 1
    assert not r["l2.num_batches_tracked"].within_tol and r["l2.num_batches_tracked"].outside_tol == 1
    assert rep.verdict.kind == DIFFERENT and not rep.same
    # the headline and the modules see the float weight only
    assert rep.n_measured == 1 and list(rep.modules()) == ["l1"]
    assert rep.total_rel_change == pytest.approx(reference(w, b["l1.weight"])["rel_change"], rel=1e-6)
    doc = rep.to_json()
    assert [g["name"] for g in doc["counters"]] == ["num_batches_tracked", "step", "keep", "ids"]
    assert doc["counters"][0]["a_values"] == [2, 2, 5] and doc["counters"][0]["b_values"] == [7, 7, 7]
    assert doc["counters"][2]["a_values"] is None  # a mask has no single value
    # the counters alone differ: exit 1 even though every float is within tolerance
    assert doc["same"] is False and doc["verdict"] == DIFFERENT


def test_verdict_is_a_function_of_the_rows_and_the_tolerance():
    def row(key: str, status: str, outside: int = 0, new_nan: int = 0) -> TensorDiff:
        measured = status in (IDENTICAL, CHANGED)
        return TensorDiff(key, key, key, status, outside_tol=outside if measured else None,
                          new_nan=new_nan if measured else None)  # fmt: skip

    same = [row("a", IDENTICAL), row("b", IDENTICAL)]
    v = verdict(same, 0.0, 0.0)
    assert (v.kind, v.same, v.exit_status, v.text) == (SAME, True, 0, "same (exact): 2 tensors, 2 identical")
    within = [*same, row("c", CHANGED)]
    v = verdict(within, 1e-3, 0.0)
    assert (v.kind, v.exit_status) == (SAME_WITHIN_TOL, 0)
    assert v.text == "same within tolerance (atol 0.001, rtol 0): 3 tensors, 2 identical, 1 within tolerance"
    assert verdict(within, 0.0, 0.0).text == "same values (exact): 3 tensors, 2 identical, 1 equal in value"
    v = verdict([*within, row("d", CHANGED, outside=3)], 0.0, 0.01)
    assert (v.kind, v.exit_status) == (DIFFERENT, 1)
    assert v.text == "different (atol 0, rtol 0.01): 4 tensors, 2 identical, 1 changed, 1 within tolerance"
    assert verdict([row("e", CHANGED, new_nan=1)], 1e9, 1e9).kind == DIFFERENT  # a NaN that appeared
    for status, words in ((MISMATCHED, "1 mismatched"), (ONLY_A, "1 only in A"), (ONLY_B, "1 only in B")):
        v = verdict([*same, row("x", status)], 1.0, 1.0)
        assert v.kind == DIFFERENT and v.text == f"different (atol 1, rtol 1): 3 tensors, 2 identical, {words}"
