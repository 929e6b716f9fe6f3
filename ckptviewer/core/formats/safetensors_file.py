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
from typing import TYPE_CHECKING

from ..dtype_names import itemsize
from ..errors import CheckpointError
from ..filemap import map_file, view
from ..lazy import LazyTensor, StorageRef, contiguous_stride
from . import Loaded
from .sniff import SAFETENSORS

if TYPE_CHECKING:
    import torch

MAX_HEADER = 100 * 1024 * 1024  # the safetensors library's own limit

# the header's dtype -> torch's dtype name
DTYPES = {
    "F64": "float64", "F32": "float32", "F16": "float16", "BF16": "bfloat16",
    "I64": "int64", "I32": "int32", "I16": "int16", "I8": "int8",
    "U64": "uint64", "U32": "uint32", "U16": "uint16", "U8": "uint8",
    "BOOL": "bool", "C64": "complex64",
    "F8_E4M3": "float8_e4m3fn", "F8_E5M2": "float8_e5m2",
}  # fmt: skip


class SafetensorsFile:
    """Serves tensor bytes of a safetensors file from a memory map."""

    def __init__(self, path: Path, size: int, data_start: int) -> None:
        self.path, self.size, self.data_start = path, size, data_start
        self._lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None

    def file_offset(self, ref: StorageRef) -> int:
        return self.data_start + int(ref.key.split(":")[0]) + ref.byte_offset

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref``: a view of the file's private memory map."""
        stop = ref.nbytes if stop is None else stop
        if not 0 <= start <= stop <= ref.nbytes:
            raise CheckpointError(f"{self.path}: a tensor reaches outside its data")
        first = self.file_offset(ref) + start
        with self._lock:
            if self._file_storage is None:
                self._file_storage = map_file(self.path, self.size)
        size = dtype.itemsize if dtype is not None else itemsize(ref.dtype_name)
        return view(self._file_storage, self.path, first, stop - start, size)


def load_safetensors(path: Path, size: int) -> Loaded:
    """List a safetensors file from its header alone."""
    with path.open("rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        if n > size - 8:
            raise CheckpointError(f"{path}: safetensors header claims {n} bytes but the file has only {size}")
        if n > MAX_HEADER:
            raise CheckpointError(f"{path}: safetensors header of {n} bytes is larger than the 100 MB limit")
        raw = f.read(n)
    try:
        header = json.loads(raw, object_pairs_hook=_ObjectCount(max(1000, n // 16)))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:100]
        raise CheckpointError(f"{path}: safetensors header is not valid JSON ({why})") from None
    if not isinstance(header, dict):
        raise CheckpointError(f"{path}: safetensors header is not a JSON object")
    data_start, data_len = 8 + n, size - 8 - n
    source = SafetensorsFile(path, size, data_start)
    metadata = header.pop("__metadata__", None)
    # the safetensors library reads __metadata__ as strings only and refuses anything else
    if metadata is None:
        metadata = {}
    elif not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise CheckpointError(f"{path}: safetensors __metadata__ is not an object of strings")
    root: dict[str, LazyTensor] = {}
    spans: list[tuple[int, int, str]] = []
    for name, spec in header.items():
        dtype, shape, begin, end = _check_entry(path, name, spec, data_len)
        ref = StorageRef(f"{begin}:{end}", dtype, (end - begin) // itemsize(dtype), None, source)
        root[name] = LazyTensor(ref, 0, shape, contiguous_stride(shape), dtype)
        spans.append((begin, end, name))
    _check_coverage(path, spans, data_len)
    return Loaded(
        format=SAFETENSORS,
        root=root,
        extra_metadata={"__metadata__": metadata} if metadata else {},
        files=[path],
    )


class _ObjectCount:
    """``object_pairs_hook`` that refuses a header of absurdly many JSON objects.

    A tensor's entry is one object for some 60 header bytes; 20 million ``{}`` in 60 MB
    would cost gigabytes of dicts before any check could run.
    """

    def __init__(self, limit: int) -> None:
        self.left = limit

    def __call__(self, pairs: list[tuple[str, object]]) -> dict:
        self.left -= 1
        if self.left < 0:
            raise ValueError("too many objects for its size (a memory bomb?)")
        return dict(pairs)


def _check_coverage(path: Path, spans: list[tuple[int, int, str]], data_len: int) -> None:
    """Tensors tile the data exactly, as the safetensors library requires (no overlaps, no gaps)."""
    end = 0
    for begin, stop, name in sorted(spans):
        if begin != end:
            raise CheckpointError(
                f"{path}: safetensors header entry {name!r} starts at byte {begin}, not where the previous "
                f"tensor ends ({end}): overlapping or missing data"
            )
        end = stop
    if end != data_len:
        raise CheckpointError(f"{path}: safetensors tensors cover {end} of the file's {data_len} data bytes")


def _check_entry(path: Path, name: str, spec: object, data_len: int) -> tuple[str, tuple[int, ...], int, int]:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{path}: safetensors header entry {name!r} {why}")

    if not isinstance(spec, dict):
        raise bad("is not an object")
    name_of_dtype = spec.get("dtype")
    dtype = DTYPES.get(name_of_dtype) if isinstance(name_of_dtype, str) else None
    if dtype is None:
        raise bad(f"has unknown dtype {str(name_of_dtype)[:40]!r}")
    shape, offsets = spec.get("shape"), spec.get("data_offsets")
    if not isinstance(shape, list) or len(shape) > 64 or not all(type(d) is int and 0 <= d < 1 << 62 for d in shape):
        raise bad(f"has an invalid shape {str(shape)[:60]}")
    if not (isinstance(offsets, list) and len(offsets) == 2 and all(type(o) is int for o in offsets)):
        raise bad(f"has invalid data_offsets {str(offsets)[:60]}")
    begin, end = offsets
    if not 0 <= begin <= end <= data_len:
        raise bad(f"points at bytes {begin}..{end}, outside the {data_len} data bytes of the file")
    need = math.prod(shape) * itemsize(dtype)
    if end - begin != need:
        raise bad(f"says shape {shape} of {spec['dtype']} ({need} bytes) but spans {end - begin} bytes")
    return dtype, tuple(shape), begin, end
