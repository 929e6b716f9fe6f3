"""average: checkpoints averaged in float64 and rounded once, against an independent reference.

The reference is computed here from the files torch wrote: ``torch.stack(...).double()``,
``mean`` (or the weighted sum), rounded once to the input dtype. Files are real
``torch.save`` / safetensors files; the averaged tensors come back through a real save.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import EditError, average
from ckptviewer.core.edits import compute as compute_module
from ckptviewer.core.edits.average import normalised_weights
from ckptviewer.core.edits.compute import AveragedTensor
from ckptviewer.core.save import save


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, 10)


def write_models(tmp_path: Path, n: int, dtype: torch.dtype, suffix: str = ".pth") -> tuple[list[Path], list[dict]]:
    """``n`` differently trained copies of Net in ``dtype`` (num_batches_tracked differs too)."""
    paths, states = [], []
    for i in range(n):
        torch.manual_seed(i)
        model = Net()
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.num_batches_tracked.fill_(100 * (i + 1))
        sd = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in model.state_dict().items()}
        path = tmp_path / f"m{i}{suffix}"
        if suffix == ".safetensors":
            save_file(sd, path)
        else:
            torch.save(sd, path)
        paths.append(path)
        states.append(sd)
    return paths, states


def averaged(tmp_path: Path, paths: list[Path], weights=None, name: str = "avg.pth") -> dict:
    cs = [open_checkpoint(p, device="cpu") for p in paths]
    new, _ = average(cs[0], cs[1:], weights)
    save(new, tmp_path / name)
    return torch.load(tmp_path / name, weights_only=True) if name.endswith(".pth") else _st(tmp_path / name)


def _st(path: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(path)


def reference(states: list[dict], key: str, weights=None) -> torch.Tensor:
    stacked = torch.stack([s[key] for s in states]).double()
    if weights is None:
        return stacked.mean(0).to(states[0][key].dtype)
    w = torch.tensor(weights, dtype=torch.float64) / sum(weights)
    return (stacked * w.reshape(-1, *[1] * (stacked.dim() - 1))).sum(0).to(states[0][key].dtype)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16, torch.float64])
def test_uniform_average_equals_the_float64_mean_rounded_once(tmp_path, dtype):
    paths, states = write_models(tmp_path, 3, dtype)
    out = averaged(tmp_path, paths)
    assert list(out) == list(states[0])
    for key, t in out.items():
        if t.is_floating_point():
            assert t.dtype == dtype
            assert torch.equal(t, reference(states, key)), key
    assert out["bn.num_batches_tracked"].item() == 300  # integers from the last input


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_weighted_average_equals_the_float64_weighted_sum(tmp_path, dtype):
    paths, states = write_models(tmp_path, 3, dtype)
    out = averaged(tmp_path, paths, ["1", "1", "2"])
    for key in ("conv.weight", "fc.weight", "bn.running_var"):
        assert torch.equal(out[key], reference(states, key, [1, 1, 2])), key
    # relative weights: 1 1 2 is 0.25 0.25 0.5, bit for bit
    again = averaged(tmp_path, paths, [0.25, 0.25, 0.5], "avg2.pth")
    assert all(torch.equal(out[k], again[k]) for k in out)


def test_a_naive_float32_average_would_differ_somewhere(tmp_path):
    """The test above can fail: summing in the input dtype gives other bits for bf16."""
    paths, states = write_models(tmp_path, 5, torch.bfloat16)
    out = averaged(tmp_path, paths)
    naive = sum(s["conv.weight"] for s in states) / 5  # bf16 arithmetic, rounded at every step
    assert not torch.equal(naive, out["conv.weight"])
    assert torch.equal(out["conv.weight"], reference(states, "conv.weight"))


def test_streamed_chunk_by_chunk_gives_the_same_bits(tmp_path, monkeypatch):
    """Chunks far smaller than a tensor (the accumulator is one chunk): the same result."""
    paths, states = write_models(tmp_path, 4, torch.float32, ".safetensors")
    monkeypatch.setattr(compute_module, "AVERAGE_CHUNK", 7)  # conv.weight: 216 elements, 31 chunks
    out = averaged(tmp_path, paths, None, "avg.safetensors")
    for key in ("conv.weight", "fc.weight", "fc.bias"):
        assert torch.equal(out[key], reference(states, key)), key


def test_the_edit_reads_no_tensor_data_until_saved(tmp_path):
    paths, _ = write_models(tmp_path, 3, torch.float32)
    cs = [open_checkpoint(p, device="cpu") for p in paths]
    new, report = average(cs[0], cs[1:])
    assert isinstance(new.tensors["fc.weight"].source, AveragedTensor)
    assert new.tensors["fc.weight"].shape == (10, 8) and new.tensors["fc.weight"].dtype_name == "float32"
    assert report.summary == "8 of 9 model tensors averaged over 3 checkpoints, 1 integer tensor taken from m2.pth"
    assert set(new.input_files()) >= set(paths)  # a save may not overwrite any of them


def test_ddp_and_plain_inputs_align_without_wrapper_prefixes(tmp_path):
    paths, states = write_models(tmp_path, 2, torch.float32)
    torch.save({f"module.{k}": v for k, v in states[1].items()}, paths[1])
    out = averaged(tmp_path, paths)
    assert list(out) == list(states[0])
    assert torch.equal(out["fc.weight"], reference(states, "fc.weight"))


def test_training_checkpoint_keeps_everything_outside_the_model_from_the_first(tmp_path):
    paths, states = write_models(tmp_path, 2, torch.float32)
    for i, p in enumerate(paths):
        torch.save(
            {"epoch": i, "state_dict": states[i], "optimizer": {"state": {0: {"exp_avg": torch.ones(3) * i}}}}, p
        )
    cs = [open_checkpoint(p, device="cpu") for p in paths]
    new, report = average(cs[0], cs[1:])
    assert report.warnings == ["1 tensor outside the model state_dict (optimizer state, ...) kept from m0.pth "
                               "as they are, not averaged"]  # fmt: skip
    save(new, tmp_path / "avg.pth")
    out = torch.load(tmp_path / "avg.pth", weights_only=True)
    assert out["epoch"] == 0 and torch.equal(out["optimizer"]["state"][0]["exp_avg"], torch.zeros(3))
    assert torch.equal(out["state_dict"]["fc.bias"], reference(states, "fc.bias"))


def test_mismatched_keys_shapes_and_dtypes_are_refused_with_the_list(tmp_path):
    paths, states = write_models(tmp_path, 3, torch.float32)
    other = dict(states[1])
    del other["fc.bias"]
    other["fc.weight"] = torch.zeros(5, 8)
    other["conv.bias"] = other["conv.bias"].double()
    other["extra.weight"] = torch.zeros(2)
    torch.save(other, paths[1])
    cs = [open_checkpoint(p, device="cpu") for p in paths]
    with pytest.raises(EditError) as info:
        average(cs[0], cs[1:])
    message = str(info.value)
    assert message.startswith("average refused: the inputs differ in 4 places: ")
    for said in ("fc.bias: not in m1.pth", "fc.weight: [10, 8] float32 vs [5, 8] float32 in m1.pth",
                 "conv.bias: [8] float32 vs [8] float64 in m1.pth", "extra.weight: only in m1.pth"):  # fmt: skip
        assert said in message
    assert {m["key"] for m in info.value.report.mismatches} == {"fc.bias", "fc.weight", "conv.bias", "extra.weight"}


def test_a_long_list_of_differences_is_cut_with_a_count(tmp_path):
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({f"layer{i}.weight": torch.zeros(2) for i in range(30)}, a)
    torch.save({f"layer{i}.weight": torch.zeros(3) for i in range(30)}, b)
    with pytest.raises(EditError, match=r"differ in 30 places: .* \(\+10 more\)$"):
        average(open_checkpoint(a, device="cpu"), [open_checkpoint(b, device="cpu")])


@pytest.mark.parametrize(
    "weights, message",
    [
        (["1", "2"], "2 weights for 3 inputs; give one each"),
        (["1", "-1", "2"], "weights must not be negative"),
        (["0", "0", "0"], "the weights sum to zero"),
        (["1", "x", "2"], "--weights: 'x' is not a number"),
        (["1", "nan", "2"], "--weights: 'nan' is not a finite number"),
    ],
)
def test_bad_weights_are_refused(tmp_path, weights, message):
    paths, _ = write_models(tmp_path, 3, torch.float32)
    cs = [open_checkpoint(p, device="cpu") for p in paths]
    with pytest.raises(EditError, match=message):
        average(cs[0], cs[1:], weights)


def test_one_input_alone_is_refused(tmp_path):
    paths, _ = write_models(tmp_path, 1, torch.float32)
    with pytest.raises(EditError, match="give at least one more checkpoint"):
        average(open_checkpoint(paths[0], device="cpu"), [])


def test_weights_are_normalised_by_their_sum():
    assert normalised_weights([1, 1, 2], 3) == (0.25, 0.25, 0.5)
    assert normalised_weights([0.2, 0.3, 0.5], 3) == (0.2, 0.3, 0.5)  # summing to 1: used as given
    assert normalised_weights([], 3) is None
