"""resize-head: a classifier given another number of classes loads strictly into the model
built for that number, keeps its first rows, and draws new rows reproducibly."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from torch import nn

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import EditError, resize_head
from ckptviewer.core.edits.compute import ResizedTensor
from ckptviewer.core.save import save


class Classifier(nn.Module):
    def __init__(self, classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 16, 3), nn.ReLU())
        self.fc = nn.Linear(16, classes)


@pytest.fixture
def imagenet(tmp_path) -> tuple[Path, Classifier]:
    torch.manual_seed(0)
    model = Classifier(1000)
    path = tmp_path / "imagenet.pth"
    torch.save(model.state_dict(), path)
    return path, model


def resized(tmp_path: Path, path: Path, name: str = "out.pth", **kw) -> dict:
    new, _ = resize_head(open_checkpoint(path, device="cpu"), **kw)
    save(new, tmp_path / name, force=True)
    return torch.load(tmp_path / name, weights_only=True)


@pytest.mark.parametrize("rows", [10, 1500])
def test_resized_head_loads_strictly_into_the_model_with_that_many_classes(tmp_path, imagenet, rows):
    path, model = imagenet
    sd = resized(tmp_path, path, globs=["fc.*"], rows=rows)
    Classifier(rows).load_state_dict(sd, strict=True)
    keep = min(rows, 1000)
    assert torch.equal(sd["fc.weight"][:keep], model.fc.weight[:keep].detach())
    assert torch.equal(sd["fc.bias"][:keep], model.fc.bias[:keep].detach())
    assert torch.equal(sd["features.0.weight"], model.features[0].weight.detach())
    if rows > 1000:  # kaiming: U(-1/sqrt(16), 1/sqrt(16)) for weights and biases, as nn.Linear
        new = sd["fc.weight"][1000:]
        assert new.abs().max() <= 1 / math.sqrt(16) and new.std() > 0.1
        assert sd["fc.bias"][1000:].abs().max() <= 1 / math.sqrt(16) and sd["fc.bias"][1000:].std() > 0.1


def test_the_same_seed_gives_the_same_rows_and_another_seed_others(tmp_path, imagenet):
    path, _ = imagenet
    a = resized(tmp_path, path, "a.pth", globs=["fc.*"], rows=1010, seed=7)
    b = resized(tmp_path, path, "b.pth", globs=["fc.*"], rows=1010, seed=7)
    c = resized(tmp_path, path, "c.pth", globs=["fc.*"], rows=1010, seed=8)
    assert torch.equal(a["fc.weight"], b["fc.weight"]) and torch.equal(a["fc.bias"], b["fc.bias"])
    assert not torch.equal(a["fc.weight"][1000:], c["fc.weight"][1000:])
    # each tensor has its own generator (seed + its place): the weight's rows do not start the bias's
    assert not torch.equal(a["fc.weight"][1000:, 0], a["fc.bias"][1000:])


def test_inits_zeros_and_normal(tmp_path, imagenet):
    path, _ = imagenet
    zeros = resized(tmp_path, path, "z.pth", globs=["fc.*"], rows=1200, init="zeros")
    assert not zeros["fc.weight"][1000:].any() and not zeros["fc.bias"][1000:].any()
    normal = resized(tmp_path, path, "n.pth", globs=["fc.*"], rows=1200, init="normal")
    w = normal["fc.weight"][1000:]
    assert 0.008 < w.std() < 0.012 and abs(w.mean()) < 0.002
    assert not normal["fc.bias"][1000:].any()  # biases start at zero


def test_reinit_keeps_no_row(tmp_path, imagenet):
    path, _ = imagenet
    sd = resized(tmp_path, path, globs=["fc.*"], rows=1000, init="zeros", reinit=True)
    assert not sd["fc.weight"].any()
    Classifier(1000).load_state_dict(sd, strict=True)


def test_bf16_heads_keep_their_dtype_and_rows(tmp_path):
    torch.manual_seed(0)
    model = Classifier(5).to(torch.bfloat16)
    torch.save(model.state_dict(), tmp_path / "m.pth")
    sd = resized(tmp_path, tmp_path / "m.pth", globs=["fc.*"], rows=8)
    assert sd["fc.weight"].dtype == torch.bfloat16
    assert torch.equal(sd["fc.weight"][:5], model.fc.weight.detach())


def test_the_edit_is_deferred_and_reports_what_it_does(imagenet):
    path, _ = imagenet
    new, report = resize_head(open_checkpoint(path, device="cpu"), ["fc.*"], "10")
    assert isinstance(new.tensors["fc.weight"].source, ResizedTensor)
    assert new.tensors["fc.weight"].shape == (10, 16)
    assert report.summary == "2 tensors resized from 1,000 to 10 rows (first 10 kept, new rows kaiming, seed 0)"
    assert [r[0] for r in report.record.resized] == ["fc.weight", "fc.bias"]
    assert [r[4] for r in report.record.resized] == [0, 1]  # seeds


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"globs": ["head.*"], "rows": 10}, r"resize: --keys 'head\.\*' matched no tensor key"),
        ({"globs": ["fc.*"], "rows": 0}, "--rows must be at least 1"),
        ({"globs": ["fc.*"], "rows": "ten"}, "--rows: 'ten' is not a number"),
        ({"globs": ["fc.*"], "rows": 10, "init": "xavier"}, "--init is one of zeros, normal, kaiming"),
        ({"globs": ["fc.*"], "rows": 10, "seed": -1}, "--seed must be a non-negative"),
        ({"globs": ["fc.bias"], "rows": 10}, "kaiming init of fc.bias needs its layer's weight"),
    ],
)
def test_bad_requests_are_refused(imagenet, kw, message):
    path, _ = imagenet
    with pytest.raises(EditError, match=message):
        resize_head(open_checkpoint(path, device="cpu"), **kw)
