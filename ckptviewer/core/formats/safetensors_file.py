"""Reader for single ``.safetensors`` files, with a header that is checked, not trusted.

The 8-byte length and JSON header are validated against the file size before anything is
allocated; every tensor's dtype, shape and byte range must agree. Tensor bytes come from
a private memory map of the file.
"""

from __future__ import annotations

import json
import math
import struct
import threading
from pathlib import Path

import torch

from ..errors import CheckpointError
from ..lazy import LazyTensor, StorageRef, contiguous_stride
from . import Loaded
from .sniff import SAFETENSORS

MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U64": torch.uint64, "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8,
    "BOOL": torch.bool, "C64": torch.complex64,
    "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}  # fmt: skip


class SafetensorsFile:
    """Serves tensor bytes of a safetensors file from a memory map."""

    def __init__(self, path: Path, size: int, data_start: int) -> None:
        self.path, self.size, self.data_start = path, size, data_start
        self._lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None

    def file_offset(self, ref: StorageRef) -> int:
        return self.data_start + int(ref.key.split(":")[0]) + ref.byte_offset

    def untyped_storage(self, ref: StorageRef) -> torch.UntypedStorage:
        start = self.file_offset(ref)
        with self._lock:
            if self._file_storage is None:
                self._file_storage = torch.UntypedStorage.from_file(str(self.path), False, self.size)
        view = self._file_storage[start : start + ref.nbytes]
        if start % ref.dtype.itemsize:  # misaligned for the dtype: give it aligned memory
            copy = torch.UntypedStorage(ref.nbytes)
            copy.copy_(view)
            return copy
        return view


def load_safetensors(path: Path, size: int) -> Loaded:
    """List a safetensors file from its header alone."""
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > size - 8:
            raise CheckpointError(f"{path}: safetensors header claims {n} bytes but the file has only {size}")
        if n > MAX_HEADER:
            raise CheckpointError(f"{path}: safetensors header of {n} bytes is larger than the 100 MB limit")
        raw = f.read(n)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: safetensors header is not valid JSON ({exc})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    data_start, data_len = 8 + n, size - 8 - n
    source = SafetensorsFile(path, size, data_start)
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict):
        raise CheckpointError(f"{path}: safetensors __metadata__ is not a JSON object")
    root: dict[str, LazyTensor] = {}
    refs: dict[str, StorageRef] = {}
    for name, spec in header.items():
        dtype, shape, begin, end = _check_entry(path, name, spec, data_len)
        key = f"{begin}:{end}"
        ref = refs.get(key)
        if ref is None or ref.dtype != dtype:
            ref = refs[key] = StorageRef(key, dtype, (end - begin) // dtype.itemsize, None, source)
        root[name] = LazyTensor(ref, 0, shape, contiguous_stride(shape), dtype)
    return Loaded(format=SAFETENSORS, root=root, extra_metadata={"__metadata__": metadata} if metadata else {})


def _check_entry(path: Path, name: str, spec: object, data_len: int) -> tuple[torch.dtype, tuple[int, ...], int, int]:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{path}: safetensors header entry {name!r} {why}")

    if not isinstance(spec, dict):
        raise bad("is not an object")
    dtype = DTYPES.get(spec.get("dtype"))  # type: ignore[arg-type]
    if dtype is None:
        raise bad(f"has unknown dtype {spec.get('dtype')!r}")
    shape, offsets = spec.get("shape"), spec.get("data_offsets")
    if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
        raise bad(f"has an invalid shape {shape!r}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(isinstance(o, int) for o in offsets)):
        raise bad(f"has invalid data_offsets {offsets!r}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_len:
        raise bad(f"points at bytes {begin}..{end}, outside the {data_len} data bytes of the file")
    need = math.prod(shape) * dtype.itemsize
    if end - begin != need:
        raise bad(f"says shape {shape} of {spec['dtype']} ({need} bytes) but spans {end - begin} bytes")
    return dtype, tuple(shape), begin, end
