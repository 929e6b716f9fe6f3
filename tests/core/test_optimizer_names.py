"""Optimizer state.<i> mapped to the parameters it belongs to, where the order allows."""

from __future__ import annotations

import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.summary import info_document, training_summary
from tests.models import SmallNet, lightning_checkpoint, training_checkpoint


def test_adam_state_maps_to_parameter_names_in_model_order(tmp_path):
    model = SmallNet()
    path = tmp_path / "train.pth"
    torch.save(training_checkpoint(model), path)
    ckpt = open_checkpoint(path)
    names = training_summary(ckpt).param_names
    params = [n for n, _ in model.named_parameters()]
    assert list(names.values()) == params
    for i, name in enumerate(params):
        assert ckpt.tensors[f"optimizer.state.{i}.exp_avg"].shape == dict(model.named_parameters())[name].shape
    info = info_document(ckpt)["optimizer"]
    assert info["state_bytes"] > info["weight_bytes"] > 0  # Adam keeps two moments per weight
    assert info["param_names"]["optimizer.state.0"] == "conv1.weight"


def test_lightning_optimizer_states_and_ddp_prefixes(tmp_path, data_dir):
    path = tmp_path / "l.ckpt"
    torch.save(lightning_checkpoint(SmallNet()), path)
    names = training_summary(open_checkpoint(path)).param_names
    assert names["optimizer_states.0.state.0"] == "model.conv1.weight"
    gpu = training_summary(open_checkpoint(data_dir / "train_checkpoint.pth")).param_names
    assert gpu["optimizer.state.16"] == "fc.bias"  # module. stripped from the names shown


def test_an_optimizer_over_a_subset_is_not_guessed(tmp_path):
    model = SmallNet()
    opt = torch.optim.Adam(model.fc.parameters())
    model.fc.weight.sum().backward()
    opt.step()
    path = tmp_path / "partial.pth"
    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict()}, path)
    s = training_summary(open_checkpoint(path))
    assert s.param_names == {} and "order unknown" in s.param_names_note


def test_thousands_of_parameters_map_in_linear_time(tmp_path):
    """Metadata shortens long lists: the mapping must read the real param_groups."""
    import time

    n = 3000
    sd = {f"layers.{i}.weight": torch.zeros(2) for i in range(n)}
    opt = {"state": {i: {"exp_avg": torch.zeros(2)} for i in range(n)}, "param_groups": [{"params": list(range(n))}]}
    path = tmp_path / "big.pth"
    torch.save({"model": sd, "optimizer": opt}, path)
    ckpt = open_checkpoint(path)
    start = time.perf_counter()
    names = training_summary(ckpt).param_names
    assert len(names) == n and names[f"optimizer.state.{n - 1}"] == f"layers.{n - 1}.weight"
    assert time.perf_counter() - start < 5  # a guard against the quadratic scan, not a benchmark
