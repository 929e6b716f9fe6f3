"""A small seed corpus of VALID inputs, written by the real libraries (torch, safetensors, DCP).

``write_seeds(folder)`` writes ``folder/<target>/<name>`` for every fuzz target; each
seed is well under 64 KiB. Two-part targets (``dcp``, ``hf``) take one packed input
(:func:`tests.fuzz.mutators.pack`): the metadata or index file, then the shard.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import io
import math
import pathlib
import pickle
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .mutators import pack, split_pickles

MAX_SEED = 64 << 10
HF_SHARD = "model-00001-of-00001.safetensors"
DCP_SHARD = "__0_0.distcp"


class _Tiny(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 3, 2)
        self.bn = nn.BatchNorm2d(3)
        self.fc = nn.Linear(3, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


def _model() -> nn.Module:
    torch.manual_seed(0)
    return _Tiny()


def _training_checkpoint() -> dict:
    model = _model()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 2, 4, 4)).sum().backward()
    opt.step()
    return {
        "epoch": 3,
        "global_step": 120,
        "model": {f"module.{k}": v for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "args": argparse.Namespace(lr=0.01, arch="tiny", batch_size=8, path=pathlib.PurePosixPath("/data")),
        "best_acc": 0.5,
    }


def _lightning() -> dict:
    return {
        "state_dict": {f"model.{k}": v for k, v in _model().state_dict().items()},
        "pytorch-lightning_version": "2.2.0",
        "hyper_parameters": {"lr": 1e-3, "layers": [3, 2]},
        "epoch": 1,
        "global_step": 10,
        "loops": {},
        "optimizer_states": [],
        "lr_schedulers": [],
    }


def _views() -> dict:
    base = torch.arange(24, dtype=torch.float32)
    grid = base.view(4, 6)
    emb = nn.Parameter(torch.randn(5, 3))
    return {
        "base": base,
        "slice": base[2:10],
        "transposed": grid.t(),
        "strided": grid[:, ::2],
        "expanded": torch.ones(1, 3).expand(4, 3),
        "embed.weight": emb,
        "head.weight": emb,  # tied
        "scalar": torch.tensor(2.5),
        "empty": torch.empty(0, 3),
        "nan": torch.tensor([1.0, math.nan, math.inf, -math.inf]),
    }


def _dtypes() -> dict:
    x = torch.linspace(-2, 2, 12)
    return {
        "bf16": x.bfloat16(),
        "f16": x.half(),
        "f64": x.double(),
        "i8": torch.arange(-6, 6, dtype=torch.int8),
        "i64": torch.arange(12),
        "u8": torch.arange(12, dtype=torch.uint8),
        "bool": x > 0,
        "c64": torch.complex(x, -x),
        "f8": x.to(torch.float8_e4m3fn),
    }


def _sparse() -> dict:
    i = torch.tensor([[0, 1, 2], [2, 0, 1]])
    coo = torch.sparse_coo_tensor(i, torch.tensor([3.0, 4.0, 5.0]), (3, 3))
    return {"coo": coo, "coalesced": coo.coalesce(), "csr": torch.eye(3).to_sparse_csr()}


def _quantized() -> dict:
    x = torch.linspace(-1, 1, 12).view(3, 4)
    return {
        "per_tensor": torch.quantize_per_tensor(x, 0.01, 3, torch.quint8),
        "per_channel": torch.quantize_per_channel(
            x, torch.tensor([0.1, 0.2, 0.3]), torch.tensor([0, 1, 2]), 0, torch.qint8
        ),
    }


def _nested() -> dict:
    return {
        "layers": [{"w": torch.ones(2, 2), "b": (torch.zeros(2), [torch.arange(3)])}, None],
        "ordered": collections.OrderedDict(a=torch.ones(1), b={"deep": {"deeper": (1, 2.5, "x", b"raw")}}),
        "meta": {"name": "run-1", "ratio": 0.25, "flags": {True, False}, "frozen": frozenset({1, 2}), "none": None},
        "numpy": {"array": np.arange(4, dtype=np.float32), "scalar": np.float64(1.5), "int": np.int64(7)},
        "when": datetime.datetime(2024, 5, 1, 12, 30),
        "delta": datetime.timedelta(seconds=90),
        "dtype": torch.float16,
        "size": torch.Size([2, 3]),
        "device": torch.device("cpu"),
    }


def _objects() -> dict:
    """Everything torch.save writes for plain Python data (no tensors): all pickle opcodes."""
    return {
        "ints": [0, 1, -1, 255, 256, 65535, 1 << 40, -(1 << 70)],
        "floats": [0.0, -1.5, math.inf, math.nan],
        "text": ["", "a", "ümlaut", "x" * 300],
        "bytes": [b"", b"\x00\xff", bytearray(b"ba")],
        "containers": ((), (1,), (1, 2), (1, 2, 3), (1, 2, 3, 4), [], {}, set(), frozenset({3})),
        "shared": [[1, 2]] * 3,
        "ns": argparse.Namespace(a=1, b=[2]),
        "od": collections.OrderedDict(z=1),
        "dd": collections.defaultdict(list, {"k": [1]}),
        "complex": 1 + 2j,
        "bool": (True, False, None),
        "path": pathlib.PurePosixPath("/tmp/x"),
        "date": datetime.date(2020, 1, 2),
    }


def _torch_save(obj: object, *, legacy: bool = False) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def _torchscript() -> bytes:
    class Script(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = nn.Linear(3, 2)
            self.register_buffer("scale", torch.ones(2))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.fc(x) * self.scale

    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(Script()), buf)
    return buf.getvalue()


def _safetensors(tensors: dict, metadata: dict | None = None) -> bytes:
    from safetensors.torch import save

    return save(tensors, metadata=metadata)


def _dcp() -> tuple[bytes, bytes]:
    import torch.distributed.checkpoint as dcp

    model = _model()
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no process group: assuming a single process"
        dcp.save({"model": model.state_dict(), "step": 3}, checkpoint_id=tmp)
        return (Path(tmp) / ".metadata").read_bytes(), (Path(tmp) / DCP_SHARD).read_bytes()


def _hf_index(keys: list[str], shard: str, total: int) -> bytes:
    index = {"metadata": {"total_size": total}, "weight_map": {k: shard for k in keys}}
    return _json(index)


def _json(obj: object) -> bytes:
    import json

    return json.dumps(obj, indent=2).encode()


def data_pkl(zip_bytes: bytes) -> bytes:
    """The ``data.pkl`` record of a torch zip file."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        name = next(n for n in zf.namelist() if n.endswith("/data.pkl") or n == "data.pkl")
        return zf.read(name)


def legacy_pickles(data: bytes) -> list[bytes]:
    """The five pickles at the start of a legacy torch.save file (magic, protocol, sys info, object, keys)."""
    parts = split_pickles(data)
    if parts is None:
        raise ValueError("not a legacy torch.save file")
    return parts[:5]


def _zip_seeds() -> dict[str, bytes]:
    return {
        "state_dict.pt": _torch_save(_model().state_dict()),
        "training.pt": _torch_save(_training_checkpoint()),
        "lightning.ckpt": _torch_save(_lightning()),
        "whole_model.pt": _torch_save(_model()),
        "views.pt": _torch_save(_views()),
        "dtypes.pt": _torch_save(_dtypes()),
        "sparse.pt": _torch_save(_sparse()),
        "quantized.pt": _torch_save(_quantized()),
        "nested.pt": _torch_save(_nested()),
        "torchscript.pt": _torchscript(),
    }


def _legacy_seeds() -> dict[str, bytes]:
    return {
        "state_dict.pt": _torch_save(_model().state_dict(), legacy=True),
        "training.pt": _torch_save(_training_checkpoint(), legacy=True),
        "views.pt": _torch_save(_views(), legacy=True),
        "dtypes.pt": _torch_save({k: v for k, v in _dtypes().items() if k != "f8"}, legacy=True),
        "nested.pt": _torch_save(_nested(), legacy=True),
        "whole_model.pt": _torch_save(_model(), legacy=True),
    }


def _safetensors_seeds() -> dict[str, bytes]:
    sd = {k: v.contiguous() for k, v in _model().state_dict().items()}
    dtypes = {k: v for k, v in _dtypes().items() if k != "c64"}
    return {
        "state_dict.safetensors": _safetensors(sd, {"format": "pt"}),
        "dtypes.safetensors": _safetensors(dtypes),
        "odd.safetensors": _safetensors(
            {"scalar": torch.tensor(1.0), "empty": torch.empty(0, 4), "i32": torch.arange(5, dtype=torch.int32)}
        ),
    }


def _hf_seeds() -> dict[str, bytes]:
    sd = {k: v.contiguous() for k, v in _model().state_dict().items()}
    shard = _safetensors(sd, {"format": "pt"})
    total = sum(v.numel() * v.element_size() for v in sd.values())
    keys = list(sd)
    zip_shard = _torch_save(sd)
    return {
        "index.bin": pack(_hf_index(keys, HF_SHARD, total), shard),
        "missing_shard.bin": pack(
            _json({"weight_map": {**{k: HF_SHARD for k in keys[:3]}, "lm.w": "model-00002-of-00002.safetensors"}}),
            shard,
        ),
        "zip_shard.bin": pack(_hf_index(keys, HF_SHARD, total), zip_shard),
    }  # fmt: skip


def _pickle_seeds(zips: dict[str, bytes], legacies: dict[str, bytes]) -> dict[str, bytes]:
    out = {f"zip_{Path(k).stem}.pkl": data_pkl(v) for k, v in zips.items()}
    for k, v in legacies.items():
        out[f"legacy_{Path(k).stem}.pkl"] = legacy_pickles(v)[3]
    for protocol in range(6):
        out[f"objects_p{protocol}.pkl"] = pickle.dumps(_objects(), protocol=protocol)
    return out


def all_seeds() -> dict[str, dict[str, bytes]]:
    """{target: {name: bytes}} for every fuzz target."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sparse invariants, quantized deprecation, DCP single process
        zips = _zip_seeds()
        legacies = _legacy_seeds()
        metadata, distcp = _dcp()
    seeds = {
        "unpickle": _pickle_seeds(zips, legacies),
        "zip_pkl": zips,
        "zip_raw": zips,
        "legacy": legacies,
        "safetensors": _safetensors_seeds(),
        "dcp": {"dcp.bin": pack(metadata, distcp)},
        "hf": _hf_seeds(),
    }
    for target, named in seeds.items():
        for name, data in named.items():
            if len(data) >= MAX_SEED:
                raise AssertionError(f"seed {target}/{name} is {len(data)} bytes (>= 64 KiB)")
    return seeds


def write_seeds(folder: str | Path) -> dict[str, Path]:
    """Write the seed corpus as ``folder/<target>/<name>``; returns {target: its folder}."""
    folder = Path(folder)
    out = {}
    for target, named in all_seeds().items():
        d = folder / target
        d.mkdir(parents=True, exist_ok=True)
        for name, data in named.items():
            (d / name).write_bytes(data)
        out[target] = d
    return out


if __name__ == "__main__":
    import sys

    for target, d in write_seeds(sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/seeds").items():
        print(target, d, len(list(d.iterdir())))
