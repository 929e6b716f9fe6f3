"""torch.distributed.checkpoint (DCP) folders: ``.metadata`` + ``__R_N.distcp`` files.

Listing reads ``.metadata`` alone, with the restricted unpickler: DCP's record classes
become inert records whose fields are validated and copied into real DCP dataclasses
(torch's own reader would ``pickle.load`` the file, running whatever it names). Global
shapes and dtypes come from there. A tensor's data is read on demand with torch's DCP
reader on a single process (no process group), which assembles it from every rank's
shards. Non-tensor entries (step, param_group settings) are small ``torch.save`` blobs:
they are read with ckptviewer's own safe reader, never with torch's DCP planner (which
unpickles them with ``weights_only=False``).
"""

from __future__ import annotations

import io
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..lazy import DeferredTensor, LazyTensor
from ..unpickle import Opaque, RestrictedUnpickler
from . import Loaded

DCP = "dcp"
MAX_METADATA = 1 << 30
_M = "torch.distributed.checkpoint.metadata."
_NAMES = ("Metadata", "TensorStorageMetadata", "BytesStorageMetadata", "ChunkStorageMetadata", "TensorProperties",
          "MetadataIndex", "StorageMeta", "_MEM_FORMAT_ENCODING")  # fmt: skip
RECORDS = {_M + n for n in _NAMES} | {
    f"torch.distributed.checkpoint.{m}._StorageInfo" for m in ("filesystem", "planner")
}


def _name(obj: Any) -> str:
    return obj.ckpt_global if isinstance(obj, Opaque) else type(obj).__name__


def _state(obj: Any, cls: str) -> Any:
    if not isinstance(obj, Opaque) or not obj.ckpt_global.endswith("." + cls):
        raise CheckpointError(f"DCP metadata: expected a {cls}, found {_name(obj)}")
    return obj.ckpt_state


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if isinstance(value, Opaque) or not isinstance(value, (tuple, list, torch.Size)):
        raise CheckpointError(f"DCP metadata: malformed {what}")
    out = tuple(value)
    if not all(type(v) is int and 0 <= v < 1 << 62 for v in out):
        raise CheckpointError(f"DCP metadata: impossible {what} {list(out)[:6]}")
    return out


class DcpTensor(DeferredTensor):
    """A tensor of a DCP checkpoint: global shape and dtype now, data assembled on demand."""

    def __init__(self, folder: DcpFolder, fqn: str, shape: tuple[int, ...], dtype: torch.dtype) -> None:
        self.folder, self.fqn, self._shape, self.dtype = folder, fqn, shape, dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    def materialize(self) -> torch.Tensor:
        return self.folder.read(self.fqn, self._shape, self.dtype)


class DcpFolder:
    """The validated metadata of one DCP folder and a way to read tensors from it."""

    def __init__(self, path: Path, metadata: Any) -> None:
        self.path, self.metadata = path, metadata
        self._lock = threading.Lock()

    def read(self, fqn: str, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
        from torch.distributed.checkpoint import FileSystemReader
        from torch.distributed.checkpoint import load as dcp_load
        from torch.distributed.checkpoint.api import CheckpointException

        metadata = self.metadata

        class _Reader(FileSystemReader):  # metadata already read (safely): never pickle.load it again
            def read_metadata(self) -> Any:
                return metadata

        out = torch.empty(shape, dtype=dtype)
        with self._lock, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "assuming the intent is a single process": yes
            try:
                dcp_load({fqn: out}, storage_reader=_Reader(str(self.path)), no_dist=True)
            except (Exception, CheckpointException) as exc:  # DCP's exception derives from BaseException
                first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
                raise CheckpointError(f"{self.path}: cannot read {fqn} ({first})") from None
        return out


def load_dcp(folder: Path, readers: dict) -> Loaded:
    """List a DCP folder from ``.metadata``; bytes entries are read now (they are small)."""
    from torch.distributed.checkpoint.filesystem import _StorageInfo
    from torch.distributed.checkpoint.metadata import (
        BytesStorageMetadata,
        ChunkStorageMetadata,
        Metadata,
        MetadataIndex,
        TensorProperties,
        TensorStorageMetadata,
    )  # fmt: skip

    meta_path = folder / ".metadata"
    if meta_path.stat().st_size > MAX_METADATA:
        raise CheckpointError(f"{meta_path}: larger than {MAX_METADATA >> 20} MiB")
    unpickler = RestrictedUnpickler(io.BytesIO(meta_path.read_bytes()), records=RECORDS)
    try:
        raw = unpickler.load()
    except Exception as exc:
        raise CheckpointError(f"{meta_path}: cannot read DCP metadata ({type(exc).__name__}: {exc})") from None
    state = _state(raw, "Metadata")
    if not isinstance(state, dict) or not isinstance(state.get("state_dict_metadata"), dict):
        raise CheckpointError(f"{meta_path}: DCP metadata without a state_dict_metadata")
    sdm: dict[str, Any] = {}
    shapes: dict[str, tuple[tuple[int, ...], torch.dtype]] = {}
    for fqn, item in state["state_dict_metadata"].items():
        if not isinstance(fqn, str):
            raise CheckpointError(f"{meta_path}: a DCP key that is not a string")
        if isinstance(item, Opaque) and item.ckpt_global.endswith(".BytesStorageMetadata"):
            sdm[fqn] = BytesStorageMetadata()
            continue
        t = _state(item, "TensorStorageMetadata")
        props = _state(t.get("properties") if isinstance(t, dict) else None, "TensorProperties")
        dtype = props[0] if isinstance(props, tuple) and props else None
        if not isinstance(dtype, torch.dtype):
            raise CheckpointError(f"{meta_path}: {fqn} has no valid dtype")
        size = _ints(t.get("size"), f"size of {fqn}")
        chunks = []
        for c in t.get("chunks") or []:
            cs = _state(c, "ChunkStorageMetadata")
            chunks.append(ChunkStorageMetadata(offsets=torch.Size(_ints(cs.get("offsets"), "chunk offsets")),
                                               sizes=torch.Size(_ints(cs.get("sizes"), "chunk sizes"))))  # fmt: skip
        sdm[fqn] = TensorStorageMetadata(properties=TensorProperties(dtype=dtype), size=torch.Size(size), chunks=chunks)
        shapes[fqn] = (size, dtype)
    storage: dict[Any, Any] = {}
    files: set[str] = set()
    for index, info in (state.get("storage_data") or {}).items():
        ix, si = _state(index, "MetadataIndex"), _state(info, "_StorageInfo")
        if not isinstance(ix, dict) or not isinstance(si, dict):
            raise CheckpointError(f"{meta_path}: malformed storage_data")
        rel = si.get("relative_path")
        if not isinstance(rel, str) or "/" in rel or "\\" in rel or rel in ("", ".", ".."):
            raise CheckpointError(f"{meta_path}: storage file {rel!r} points outside the folder; refusing it")
        offset = ix.get("offset")
        offset = torch.Size(_ints(offset, "index offset")) if offset is not None else None
        position = ix.get("index") if isinstance(ix.get("index"), int) else None
        key = MetadataIndex(fqn=str(ix.get("fqn")), offset=offset, index=position)
        descriptors = si.get("transform_descriptors")
        extra = {"transform_descriptors": list(descriptors)} if descriptors else {}
        start, length = _ints([si.get("offset"), si.get("length")], "offset/length")
        storage[key] = _StorageInfo(relative_path=rel, offset=start, length=length, **extra)
        files.add(rel)
    metadata = Metadata(state_dict_metadata=sdm, storage_data=storage)
    source = DcpFolder(folder, metadata)
    result = Loaded(
        format=DCP, root={}, unsafe_globals=unpickler.unsafe_globals, blocked_globals=unpickler.blocked_globals
    )
    missing = sorted(f for f in files if not (folder / f).is_file())
    for f in missing:
        result.warnings.append(f"shard file {f} is missing: tensors with data in it cannot be read")
    lost = {k.fqn for k, v in storage.items() if v.relative_path in missing}
    for fqn, item in sdm.items():
        if isinstance(item, BytesStorageMetadata):
            value = _read_bytes(folder, fqn, storage, missing)
        else:
            shape, dtype = shapes[fqn]
            value = DcpTensor(source, fqn, shape, dtype)
            if fqn in lost:
                result.warnings.append(f"{fqn}: part of its data was in a missing shard")
        # DCP flattens {"model": {...}, "optim": {...}}: restore the first level, so the model is found
        head, _, rest = fqn.partition(".")
        group = result.root.setdefault(head, {}) if rest else None
        if isinstance(group, dict) and rest:
            group[rest] = value
        else:
            result.root[fqn] = value
    return result


def _read_bytes(folder: Path, fqn: str, storage: dict, missing: list[str]) -> Any:
    """A non-tensor entry: a torch.save blob inside a .distcp file, read with the safe reader."""
    from ..open import open_checkpoint

    info = next((v for k, v in storage.items() if k.fqn == fqn), None)
    if info is None or info.relative_path in missing:
        return "<missing>"
    if getattr(info, "transform_descriptors", None):
        return "<stored with a transform; not shown>"
    with open(folder / info.relative_path, "rb") as f:
        f.seek(info.offset)
        blob = f.read(info.length)
    fd, tmp = tempfile.mkstemp(suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(blob)
        with open_checkpoint(tmp, device="cpu") as ckpt:
            value = ckpt.root
            if isinstance(value, (LazyTensor, torch.Tensor)):
                value = ckpt.tensor("").clone()
            return value if not isinstance(value, (dict, list)) or not ckpt.tensors else "<object holding tensors>"
    except CheckpointError:
        return "<unreadable entry>"
    finally:
        os.unlink(tmp)


def shard_count(metadata: Any) -> int:
    return len({v.relative_path for v in metadata.storage_data.values()}) if metadata else 0
