"""take-ema: the EMA weights of real training checkpoints, written as a state_dict that
loads with ``load_state_dict(strict=True)`` into the model and holds the EMA's values."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import EditError, take_ema
from ckptviewer.core.save import save


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.fc = nn.Linear(4, 3)


class ModelEmaV2(nn.Module):
    """timm's ModelEmaV2 as it is laid out: the averaged copy is ``self.module``."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.module = copy.deepcopy(model)
        with torch.no_grad():
            for p in self.module.parameters():
                p.add_(1.0)  # the EMA differs from the model
            self.module.bn.running_mean.add_(5.0)


def trained() -> tuple[Net, ModelEmaV2]:
    torch.manual_seed(0)
    model = Net()
    return model, ModelEmaV2(model)


def extracted(tmp_path: Path, root: dict, name: str = "train.pth") -> tuple[dict, object]:
    torch.save(root, tmp_path / name)
    new, report = take_ema(open_checkpoint(tmp_path / name, device="cpu"))
    save(new, tmp_path / "ema.pth")
    return torch.load(tmp_path / "ema.pth", weights_only=True), report


def assert_loads_as_the_ema(sd: dict, ema: nn.Module, buffers_from: nn.Module | None = None) -> None:
    fresh = Net()
    fresh.load_state_dict(sd, strict=True)
    want = ema.state_dict()
    for k, v in fresh.state_dict().items():
        source = (
            buffers_from.state_dict() if buffers_from is not None and k not in dict(ema.named_parameters()) else want
        )
        assert torch.equal(v, source[k]), k


def test_timm_model_ema_v2_state_dict_with_its_module_prefix(tmp_path):
    model, ema = trained()
    root = {"epoch": 3, "model": model.state_dict(), "model_ema": ema.state_dict(), "optimizer": {"state": {}}}
    assert all(k.startswith("module.") for k in root["model_ema"])
    sd, report = extracted(tmp_path, root)
    assert list(sd) == list(model.state_dict())
    assert_loads_as_the_ema(sd, ema.module)
    assert report.summary == "9 of 9 model tensors taken from the EMA at model_ema"
    assert report.warnings == []


def test_timm_train_script_state_dict_ema(tmp_path):
    model, ema = trained()
    root = {"arch": "net", "state_dict": model.state_dict(), "state_dict_ema": ema.module.state_dict()}
    sd, report = extracted(tmp_path, root)
    assert_loads_as_the_ema(sd, ema.module)
    assert "state_dict_ema" in report.summary


def test_lightning_ema_callback_with_parameters_only(tmp_path):
    """A Lightning EMA callback keeping parameters only: buffers come from the model, and it is said."""
    model, ema = trained()
    weights = {k: v.clone() for k, v in ema.module.named_parameters()}
    root = {"pytorch-lightning_version": "2.4.0", "epoch": 1, "global_step": 10,
            "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
            "callbacks": {"EMA{'decay': 0.999}": {"ema_weights": {f"model.{k}": v for k, v in weights.items()}}},
            "optimizer_states": [], "lr_schedulers": []}  # fmt: skip
    torch.save(root, tmp_path / "light.ckpt")
    new, report = take_ema(open_checkpoint(tmp_path / "light.ckpt", device="cpu"))
    assert report.counts["model_tensors"] == {"total": 9, "from_ema": 6, "from_model": 3}
    assert report.warnings[0].startswith("3 model tensors the EMA does not hold taken from the model: ")
    save(new, tmp_path / "ema.pth")
    sd = torch.load(tmp_path / "ema.pth", weights_only=True)
    assert list(sd) == [f"model.{k}" for k in model.state_dict()]
    fresh = nn.Module()
    fresh.model = Net()
    fresh.load_state_dict(sd, strict=True)
    assert torch.equal(fresh.model.fc.weight, ema.module.fc.weight)
    assert torch.equal(fresh.model.bn.running_mean, model.bn.running_mean)  # buffer from the model


def test_ema_object_with_a_shadow_dict(tmp_path):
    model, ema = trained()
    shadow = {k: v.clone() for k, v in ema.module.state_dict().items()}
    root = {"model": model.state_dict(), "ema": {"decay": 0.9999, "num_updates": 12, "shadow": shadow}}
    sd, report = extracted(tmp_path, root)
    assert_loads_as_the_ema(sd, ema.module)
    assert "ema['shadow']" in report.summary


def test_torch_averaged_model_leaves_n_averaged_out(tmp_path):
    model, ema = trained()
    swa = AveragedModel(ema.module)
    root = {"model": model.state_dict(), "ema_model": swa.state_dict()}
    assert "n_averaged" in root["ema_model"]
    sd, _ = extracted(tmp_path, root)
    assert_loads_as_the_ema(sd, ema.module)


def test_a_checkpoint_of_only_the_ema(tmp_path):
    _, ema = trained()
    sd, report = extracted(tmp_path, {"state_dict_ema": ema.module.state_dict(), "epoch": 5})
    assert_loads_as_the_ema(sd, ema.module)
    assert report.summary == "9 tensors taken from the EMA at state_dict_ema, as the model state_dict"


def test_the_key_can_be_named(tmp_path):
    model, ema = trained()
    torch.save({"model": model.state_dict(), "averaged": {"weights": ema.module.state_dict()}}, tmp_path / "t.pth")
    ckpt = open_checkpoint(tmp_path / "t.pth", device="cpu")
    with pytest.raises(EditError, match=r"^take-ema: no EMA weights found \(looked for state_dict_ema, model_ema"):
        take_ema(ckpt)
    new, _ = take_ema(ckpt, "averaged.weights")
    save(new, tmp_path / "ema.pth")
    assert_loads_as_the_ema(torch.load(tmp_path / "ema.pth", weights_only=True), ema.module)
    with pytest.raises(EditError, match=r"^take-ema: no EMA weights found \(looked for nowhere\)$"):
        take_ema(ckpt, "nowhere")


def test_an_ema_of_another_model_is_refused_with_the_differences(tmp_path):
    model, _ = trained()
    other = nn.Sequential(nn.Linear(4, 3))
    torch.save({"model": model.state_dict(), "model_ema": other.state_dict()}, tmp_path / "t.pth")
    with pytest.raises(EditError) as info:
        take_ema(open_checkpoint(tmp_path / "t.pth", device="cpu"))
    assert str(info.value).startswith("take-ema refused: the EMA at model_ema does not fit the model (2 differences: ")
    assert "0.weight: in the EMA, not in the model" in str(info.value)
