"""Dynamic-quantized Linear layers: packed weights listed as qint8, statistics dequantized."""

from __future__ import annotations

import warnings

import pytest
import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.stats import entry_stats


def test_dynamic_quantized_linear_packed_params(tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch deprecates the eager quantization API
        q = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    path = tmp_path / "q.pth"
    torch.save(q.state_dict(), path)
    ckpt = open_checkpoint(path)
    assert ckpt.blocked_globals == []
    weight = ckpt.tensors["0._packed_params._packed_params.0"]
    assert weight.dtype == torch.qint8 and weight.shape == (8, 16)
    assert ckpt.metadata["0._packed_params.dtype"] == "qint8"
    s = entry_stats(ckpt, weight)
    assert s.mean == pytest.approx(q[0].weight().dequantize().double().mean().item(), rel=1e-6)
