"""Statistics and histograms against float64 references computed in the test."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from ckptviewer.core import CancelToken, open_checkpoint
from ckptviewer.core.progress import Cancelled
from ckptviewer.core.stats import checkpoint_stats, histogram, iter_chunks, tensor_stats


def reference(t: torch.Tensor) -> dict:
    v = t.abs() if t.is_complex() else t
    v = v.double().reshape(-1)
    finite = v[torch.isfinite(v)]
    return {
        "min": finite.min().item(), "max": finite.max().item(), "mean": finite.mean().item(),
        "std": finite.std().item(), "l2": finite.norm().item(),
        "n_nan": int(torch.isnan(v).sum()), "n_inf": int(torch.isinf(v).sum()), "n_zero": int((finite == 0).sum()),
    }  # fmt: skip


def check(s, ref, rel=1e-5):
    for k in ("min", "max", "mean", "std", "l2"):
        assert getattr(s, k) == pytest.approx(ref[k], rel=rel, abs=1e-6), k
    for k in ("n_nan", "n_inf", "n_zero"):
        assert getattr(s, k) == ref[k], k


@pytest.mark.parametrize("chunk", [7, 1000, 1 << 20])
def test_nan_and_inf_are_counted_and_excluded(chunk):
    t = torch.randn(5000) * 3 + 100
    t[10], t[20], t[30], t[40:45] = float("nan"), float("inf"), float("-inf"), 0.0
    s = tensor_stats(t, chunk=chunk)
    check(s, reference(t))
    assert (s.n_nan, s.n_inf, s.n_zero) == (1, 2, 5)


def test_variance_of_values_far_from_zero_is_accurate():
    t = 1.0 + 1e-3 * torch.randn(1 << 18)  # like a BatchNorm running_var
    check(tensor_stats(t, chunk=1 << 12), reference(t), rel=1e-4)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64, torch.float8_e4m3fn])
def test_low_and_high_precision_floats(dtype):
    t = torch.randn(3000).to(dtype)
    check(tensor_stats(t, chunk=256), reference(t.float()), rel=1e-4)


@pytest.mark.parametrize("dtype", [torch.int8, torch.int32, torch.int64, torch.uint8, torch.bool])
def test_integers_and_bool_by_value(dtype):
    t = torch.randint(0, 2, (1000,)).to(dtype) if dtype == torch.bool else torch.randint(-100, 100, (1000,)).to(dtype)
    s = tensor_stats(t, chunk=128)
    check(s, reference(t.long()))
    assert isinstance(s.min, int) and isinstance(s.max, int)


def test_large_integers_keep_exact_min_max():
    t = torch.tensor([2**62, -(2**62) + 1, 5], dtype=torch.int64)
    s = tensor_stats(t)
    assert s.min == -(2**62) + 1 and s.max == 2**62


def test_complex_uses_magnitude():
    t = torch.randn(500, dtype=torch.complex64)
    check(tensor_stats(t), reference(t))


def test_quantized_tensor_is_dequantized():
    q = torch.quantize_per_tensor(torch.randn(100), scale=0.05, zero_point=3, dtype=torch.qint8)
    check(tensor_stats(q), reference(q.dequantize()))


def test_empty_and_scalar():
    s = tensor_stats(torch.empty(0, 3))
    assert s.numel == 0 and s.min is None and s.mean is None and s.std is None and s.l2 is None
    s = tensor_stats(torch.tensor(2.5))
    assert s.min == s.max == s.mean == 2.5 and s.std is None and s.l2 == 2.5
    s = tensor_stats(torch.full((4,), float("nan")))
    assert s.n_nan == 4 and s.min is None and s.to_json()["mean"] is None


def test_non_contiguous_tensors_are_chunked_without_a_full_copy():
    base = torch.randn(64, 300)
    t = base.t()  # non-contiguous
    chunks = list(iter_chunks(t, 1000))
    assert max(c.numel() for c in chunks) <= 1000
    assert sum(c.numel() for c in chunks) == t.numel()
    check(tensor_stats(t, chunk=1000), reference(t))
    check(tensor_stats(base[:, ::3], chunk=50), reference(base[:, ::3]))


def test_checkpoint_stats_progress_and_cancel(demo_checkpoint):
    ckpt = open_checkpoint(demo_checkpoint)
    seen = []
    results = checkpoint_stats(ckpt, progress=seen.append)
    assert len(results) == ckpt.n_tensors
    assert seen[-1].done == seen[-1].total == sum(e.nbytes for e in ckpt.tensors.values())
    assert all(a.done <= b.done for a, b in itertools.pairwise(seen))
    nan_row = next(s for s in results if s.key == "model.module.layer2.0.weight")
    assert nan_row.n_nan > 0 and math.isfinite(nan_row.mean)

    token = CancelToken()

    def cancel_midway(p):
        if p.done > p.total // 3:
            token.cancel()

    with pytest.raises(Cancelled):
        checkpoint_stats(ckpt, progress=cancel_midway, cancel=token)


def test_histogram_counts_finite_values_and_reports_nan_inf():
    t = torch.tensor([0.0, 1.0, 1.0, 2.0, 3.0, float("nan"), float("inf")])
    h = histogram(t, bins=3)
    assert h.edges == [0.0, 1.0, 2.0, 3.0]
    assert h.counts == [1, 2, 2] and (h.n_nan, h.n_inf) == (1, 1)
    assert sum(histogram(torch.randn(10_000), bins=50).counts) == 10_000
    const = histogram(torch.full((5,), 7.0), bins=4)
    assert sum(const.counts) == 5
    assert histogram(torch.full((3,), float("nan"))).counts == []
