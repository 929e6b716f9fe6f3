"""TorchScript archives: parameters and buffers as a module tree, nothing compiled is run."""

from __future__ import annotations

import zipfile

import pytest
import torch

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.tree import build_tree
from ckptviewer.demo import DemoNet


@pytest.mark.parametrize("how", ["script", "trace"])
def test_scripted_and_traced_modules_list_their_state_dict(tmp_path, how):
    model = DemoNet().eval()
    compiled = torch.jit.script(model) if how == "script" else torch.jit.trace(model, torch.randn(1, 3, 8, 8))
    path = tmp_path / "model.pt"
    compiled.save(str(path))
    ckpt = open_checkpoint(path)
    assert ckpt.format == "torchscript" and ckpt.flavor == "whole-model"
    assert list(ckpt.tensors) == list(model.state_dict())
    assert all(torch.equal(ckpt.tensor(k), v) for k, v in model.state_dict().items())
    assert ckpt.unsafe_globals == [] and ckpt.blocked_globals == []  # compiled classes are not imports
    assert ckpt.tensors["bn1.running_var"].role == "buffer"
    assert ckpt.metadata["__class__"] == "ckptviewer.demo.DemoNet"
    assert [c.name for c in build_tree(ckpt).find("layer1").children] == ["0", "1", "3", "4"]


def test_torchscript_archive_with_a_missing_record(tmp_path):
    src = tmp_path / "model.pt"
    torch.jit.script(DemoNet()).save(str(src))
    broken = tmp_path / "broken.pt"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(broken, "w") as zout:
        for info in zin.infolist():
            if not info.filename.endswith("/data/3"):
                zout.writestr(info, zin.read(info.filename))
    with pytest.raises(CheckpointError, match="data/3 is missing"):
        open_checkpoint(broken)
