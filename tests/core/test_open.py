"""open_checkpoint on real files written by torch: formats, naming, locating, sharing."""

from __future__ import annotations

import argparse
import collections
import datetime
import json
import pathlib

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core import CheckpointError, DeviceError, open_checkpoint, resolve_device
from ckptviewer.core.summary import info_document
from tests.models import SmallNet, TiedLM, ddp_state_dict, lightning_checkpoint, training_checkpoint


def test_zip_state_dict_lists_every_tensor_with_shape_and_dtype(tmp_path):
    model = SmallNet()
    path = tmp_path / "weights.bin"  # the extension does not matter
    torch.save(model.state_dict(), path)
    ckpt = open_checkpoint(path, device="cpu")
    assert ckpt.format == "torch-zip"
    sd = model.state_dict()
    assert list(ckpt.tensors) == list(sd)
    for key, t in sd.items():
        entry = ckpt.tensors[key]
        assert entry.shape == tuple(t.shape) and entry.dtype == t.dtype
        assert torch.equal(ckpt.tensor(key), t)
    assert ckpt.state_dict_key == ""
    assert ckpt.saved_on == ["cpu"]
    assert ckpt.n_elements == sum(t.numel() for t in sd.values())
    assert ckpt.tensors["bn1.running_var"].role == "buffer"
    assert ckpt.tensors["bn1.num_batches_tracked"].role == "buffer"
    assert ckpt.tensors["conv1.weight"].role == "parameter"
    assert ckpt.n_parameters == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("ext", [".pth", ".pt", ".ckpt", ".tar", ""])
def test_format_is_detected_by_content_not_extension(tmp_path, ext):
    path = tmp_path / f"file{ext}"
    torch.save({"w": torch.ones(2)}, path)
    assert open_checkpoint(path).format == "torch-zip"
    st = tmp_path / f"st{ext}"
    save_file({"w": torch.ones(2)}, st)
    assert open_checkpoint(st).format == "safetensors"


def test_legacy_format_with_views_and_dtypes(tmp_path):
    base = torch.arange(10, dtype=torch.float32)
    sd = {"a": base, "view": base[2:5], "i16": torch.arange(3, dtype=torch.int16), "h": torch.randn(4, 4).half()}
    path = tmp_path / "old.pth"
    torch.save(sd, path, _use_new_zipfile_serialization=False)
    ckpt = open_checkpoint(path)
    assert ckpt.format == "torch-legacy"
    for k, t in sd.items():
        assert torch.equal(ckpt.tensor(k), t), k
    assert ckpt.tensors["view"].shared_with == "a"
    assert ckpt.total_bytes == 40 + 6 + 32  # the view shares the 40 bytes of `a`


def test_safetensors_with_metadata(tmp_path):
    tensors = {"enc.layers.10.w": torch.randn(3, 4), "enc.layers.2.w": torch.randn(2).to(torch.bfloat16)}
    path = tmp_path / "model.safetensors"
    save_file(tensors, path, metadata={"format": "pt", "epoch": "4"})
    ckpt = open_checkpoint(path)
    assert ckpt.format == "safetensors"
    assert ckpt.metadata["__metadata__"] == {"format": "pt", "epoch": "4"}
    for k, t in tensors.items():
        assert torch.equal(ckpt.tensor(k), t)
    assert ckpt.saved_on == []


def test_fixture_saved_on_cuda_opens_on_cpu_and_says_where_it_was_saved(data_dir):
    ckpt = open_checkpoint(data_dir / "ddp_state_dict.pth", device="cpu")
    assert ckpt.saved_on == ["cuda:0"]
    assert ckpt.n_tensors == 29 and ckpt.n_elements == 34046
    assert ckpt.prefixes == ["module."]
    assert all(k.startswith("module.") for k in ckpt.tensors)
    t = ckpt.tensor("module.conv1.weight")
    assert t.device.type == "cpu" and t.shape == (16, 3, 3, 3) and torch.isfinite(t).all()


def test_fixture_training_checkpoint_shows_namespace_without_trust(data_dir):
    ckpt = open_checkpoint(data_dir / "train_checkpoint.pth")
    assert ckpt.n_tensors == 80 and ckpt.n_elements == 101571
    assert ckpt.state_dict_key == "model" and ckpt.prefixes == ["module."]
    assert ckpt.metadata["args"] == {"__class__": "argparse.Namespace", "lr": 0.01, "batch_size": 8, "arch": "SmallNet"}
    assert ckpt.metadata["epoch"] == 5 and ckpt.metadata["best_acc"] == 0.4375
    assert ckpt.unsafe_globals == ["argparse.Namespace"]
    assert ckpt.blocked_globals == []  # Namespace is inert data: loaded, nothing executed
    assert isinstance(ckpt.root["args"], argparse.Namespace)
    assert "optimizer.state.0.exp_avg" in ckpt.tensors
    assert "cuda:0" in ckpt.saved_on
    json.dumps(info_document(ckpt), allow_nan=False)


def test_ddp_state_dict_from_a_real_process_group(tmp_path):
    sd = ddp_state_dict(SmallNet(), tmp_path)
    path = tmp_path / "ddp.pth"
    torch.save(sd, path)
    ckpt = open_checkpoint(path)
    assert ckpt.prefixes == ["module."]
    assert ckpt.state_dict_key == ""


def test_torch_compile_and_ddp_prefix_chains(tmp_path):
    compiled = torch.compile(SmallNet())  # no forward: nothing is compiled, keys get _orig_mod.
    path = tmp_path / "compiled.pth"
    torch.save(compiled.state_dict(), path)
    assert open_checkpoint(path).prefixes == ["_orig_mod."]
    both = {f"module.{k}": v for k, v in compiled.state_dict().items()}
    torch.save({"state_dict": both}, path)
    ckpt = open_checkpoint(path)
    assert ckpt.state_dict_key == "state_dict"
    assert ckpt.prefixes == ["module.", "_orig_mod."]


def test_training_checkpoint_nesting_and_metadata(tmp_path):
    path = tmp_path / "train.pth"
    torch.save(training_checkpoint(SmallNet()), path)
    ckpt = open_checkpoint(path)
    assert ckpt.state_dict_key == "model"
    assert "optimizer.state.0.exp_avg_sq" in ckpt.tensors
    assert ckpt.tensors["optimizer.state.0.exp_avg"].role == "tensor"
    assert ckpt.metadata["optimizer"]["param_groups"][0]["lr"] == 0.01
    assert ckpt.metadata["args"]["arch"] == "SmallNet"
    assert "model" not in ckpt.metadata  # only tensors there: no empty metadata shell


def test_lightning_checkpoint_locates_state_dict(tmp_path):
    path = tmp_path / "epoch=7.ckpt"
    torch.save(lightning_checkpoint(SmallNet()), path)
    ckpt = open_checkpoint(path)
    assert ckpt.state_dict_key == "state_dict"
    assert ckpt.prefixes == []
    assert ckpt.metadata["pytorch-lightning_version"] == "2.4.0"
    assert ckpt.metadata["hyper_parameters"] == {"lr": 0.1, "hidden": 8}
    assert "optimizer_states.0.state.0.momentum_buffer" in ckpt.tensors


def test_lists_tuples_ordered_dicts_at_any_depth(tmp_path):
    obj = {"a": [torch.ones(1), (torch.zeros(2), {"deep": collections.OrderedDict(x=torch.ones(3))})], "n": None}
    path = tmp_path / "nested.pth"
    torch.save(obj, path)
    ckpt = open_checkpoint(path)
    assert list(ckpt.tensors) == ["a.0", "a.1.0", "a.1.1.deep.x"]
    assert ckpt.metadata == {"n": None}


def test_tied_weights_are_listed_twice_but_counted_once(tmp_path):
    model = TiedLM()
    path = tmp_path / "tied.pth"
    torch.save(model.state_dict(), path)
    ckpt = open_checkpoint(path)
    assert set(ckpt.tensors) == {"embed.weight", "head.weight"}
    assert ckpt.tensors["head.weight"].shared_with == "embed.weight"
    assert ckpt.total_bytes == 50 * 16 * 4
    assert ckpt.n_elements == 2 * 50 * 16  # each key lists its elements


def test_inert_types_load_as_themselves(tmp_path):
    obj = {
        "w": torch.ones(2),
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "where": pathlib.PurePosixPath("/data/run1"),
        "np_scalar": np.float64(0.25),
        "np_array": np.arange(4, dtype=np.int32),
        "dtype": torch.bfloat16,
        "counts": collections.Counter(a=2),
    }
    path = tmp_path / "inert.pth"
    torch.save(obj, path)
    ckpt = open_checkpoint(path)
    assert ckpt.blocked_globals == []
    m = ckpt.metadata
    assert m["when"] == "2026-01-02T03:04:05"
    assert m["where"] == "/data/run1"
    assert m["np_scalar"] == 0.25
    assert m["np_array"] == {"__class__": "numpy.ndarray", "shape": [4], "dtype": "int32", "values": [0, 1, 2, 3]}
    assert m["dtype"] == "bfloat16"
    json.dumps(info_document(ckpt), allow_nan=False)


class Custom:  # a class the reader of the file may not have: stays a placeholder
    def __init__(self) -> None:
        self.weights = torch.ones(3)
        self.name = "custom"


def test_unknown_class_becomes_placeholder_with_its_tensors_listed(tmp_path):
    path = tmp_path / "custom.pth"
    torch.save({"obj": Custom()}, path)
    ckpt = open_checkpoint(path)
    assert ckpt.blocked_globals == ["tests.core.test_open.Custom"]
    assert "obj.weights" in ckpt.tensors
    assert ckpt.metadata["obj"]["__class__"] == "tests.core.test_open.Custom"
    assert ckpt.metadata["obj"]["__not_executed__"] is True
    assert ckpt.metadata["obj"]["state"] == {"name": "custom"}


def test_whole_pickled_model_named_like_its_state_dict(tmp_path):
    model = SmallNet()
    model.register_buffer("scratch", torch.zeros(2), persistent=False)
    path = tmp_path / "model.pt"
    torch.save(model, path)
    ckpt = open_checkpoint(path)
    assert list(ckpt.tensors) == list(model.state_dict())
    assert "tests.models.SmallNet" in ckpt.blocked_globals
    assert ckpt.state_dict_key == ""
    assert ckpt.tensors["bn1.running_mean"].role == "buffer"
    assert ckpt.metadata["__class__"] == "tests.models.SmallNet"


def test_trust_loads_real_objects(tmp_path):
    model = SmallNet()
    path = tmp_path / "model.pt"
    torch.save({"net": model, "epoch": 1}, path)
    ckpt = open_checkpoint(path, trust=True)
    assert ckpt.trusted and ckpt.unsafe_globals == []
    assert isinstance(ckpt.root["net"], SmallNet)
    assert list(ckpt.tensors) == [f"net.{k}" for k in model.state_dict()]
    assert ckpt.state_dict_key == "net"


def test_listing_reads_no_tensor_data(tmp_path):
    """Corrupt every tensor byte after saving: listing still works, values differ."""
    path = tmp_path / "big.pth"
    torch.save({"w": torch.zeros(1 << 16)}, path)
    ckpt_before = open_checkpoint(path)
    info = info_document(ckpt_before)
    raw = bytearray(path.read_bytes())
    start = raw.find(bytes(4 * 1024))  # the zeros
    raw[start : start + 4 * (1 << 16)] = b"\x01" * (4 * (1 << 16))
    path.write_bytes(raw)
    ckpt = open_checkpoint(path)
    assert info_document(ckpt)["tensors"] == info["tensors"]
    assert ckpt.tensor("w").abs().sum() > 0  # the data was read only now


def test_storages_are_memory_mapped_not_copied(tmp_path):
    path = tmp_path / "m.pth"
    torch.save({"w": torch.arange(1000.0)}, path)
    t = open_checkpoint(path).tensor("w")
    assert torch.equal(t, torch.arange(1000.0))
    t.add_(1)  # a private mapping: writing to the tensor never touches the file
    assert torch.equal(open_checkpoint(path).tensor("w"), torch.arange(1000.0))


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type in ("cpu", "cuda")
    with pytest.raises(DeviceError, match="unknown device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="no usable CUDA"):
            resolve_device("cuda:0")


def test_missing_path_is_a_checkpoint_error(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        open_checkpoint(tmp_path / "nope.pth")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_device_runs_statistics_on_the_gpu(data_dir):
    from ckptviewer.core.stats import entry_stats

    ckpt = open_checkpoint(data_dir / "ddp_state_dict.pth", device="cuda")
    assert ckpt.device.type == "cuda"
    entry = ckpt.tensors["module.conv1.weight"]
    s = entry_stats(ckpt, entry)
    t = entry.load().double()
    assert s.mean == pytest.approx(t.mean().item(), rel=1e-5)


def test_quantized_sparse_float8_complex_and_unsigned_tensors(tmp_path):
    from ckptviewer.core.stats import entry_stats

    obj = {
        "q": torch.quantize_per_tensor(torch.randn(10), 0.1, 2, torch.qint8),
        "qc": torch.quantize_per_channel(
            torch.randn(4, 3), torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0, 1, 2, 3]), 0, torch.quint8
        ),
        "sparse": torch.eye(4).to_sparse(),
        "f8": torch.randn(5).to(torch.float8_e5m2),
        "c": torch.randn(3, dtype=torch.complex64),
        "u16": torch.tensor([1, 2, 3]).to(torch.uint16),
        "untyped": torch.arange(4, dtype=torch.int32).untyped_storage(),  # not a tensor: metadata
    }
    path = tmp_path / "odd.pth"
    torch.save(obj, path)
    ckpt = open_checkpoint(path)
    assert ckpt.blocked_globals == []
    assert {k: e.dtype for k, e in ckpt.tensors.items()} == {
        "q": torch.qint8, "qc": torch.quint8, "sparse": torch.float32, "f8": torch.float8_e5m2,
        "c": torch.complex64, "u16": torch.uint16,
    }  # fmt: skip
    qc = entry_stats(ckpt, ckpt.tensors["qc"])
    assert qc.mean == pytest.approx(obj["qc"].dequantize().double().mean().item(), rel=1e-6)
    assert entry_stats(ckpt, ckpt.tensors["sparse"]).n_zero == 12
    assert entry_stats(ckpt, ckpt.tensors["u16"]).max == 3
    assert ckpt.metadata["untyped"] == {"__class__": "torch.UntypedStorage", "nbytes": 16, "location": "cpu"}
