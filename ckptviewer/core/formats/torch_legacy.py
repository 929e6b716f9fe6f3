"""Reader for torch.save's legacy (pre-1.6, non-zip) format.

The file is four pickles (magic number, protocol, system info, the object) followed by
the list of storage keys and then each storage's bytes, each preceded by its element
count. Listing reads the pickles and hops over the storage headers; tensor bytes are read
only when a tensor is materialized (this format cannot be memory-mapped in place).
"""

from __future__ import annotations

import pickle
import struct
import threading
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..lazy import StorageRef
from ..unpickle import RestrictedUnpickler, StorageType
from . import Loaded
from .sniff import TORCH_LEGACY


class LegacyFile:
    """Serves storage bytes of a legacy checkpoint by reading them from the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data_offsets: dict[str, int] = {}
        self._lock = threading.Lock()

    def file_offset(self, ref: StorageRef) -> int:
        return self.data_offsets[ref.key] + ref.byte_offset

    def untyped_storage(self, ref: StorageRef) -> torch.UntypedStorage:
        start = self.file_offset(ref)
        with self._lock, open(self.path, "rb") as f:
            f.seek(start)
            raw = bytearray(f.read(ref.nbytes))
        if len(raw) != ref.nbytes:
            raise CheckpointError(f"{self.path}: storage {ref.key} is cut short (truncated file)")
        if not raw:
            return torch.UntypedStorage(0)
        return torch.frombuffer(raw, dtype=torch.uint8).untyped_storage()


def load_legacy(path: Path, size: int) -> Loaded:
    """List a legacy-format checkpoint; storage bytes are located, not read."""
    source = LegacyFile(path)
    roots: dict[str, StorageRef] = {}
    views: dict[str, StorageRef] = {}
    locations: set[str] = set()

    def persistent_load(pid: Any) -> Any:
        if not isinstance(pid, tuple) or not pid:
            raise pickle.UnpicklingError("malformed persistent id")
        typename = _ascii(pid[0])
        if typename == "module":  # (class, source file, source): the class is already resolved
            return pid[1]
        if typename != "storage" or len(pid) != 6:
            raise pickle.UnpicklingError(f"unknown persistent id type {typename!r}")
        storage_type, root_key, location, numel, view = pid[1:]
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError("storage record without a storage type")
        root_key, location = _ascii(root_key), _ascii(location)
        dtype = storage_type.dtype
        root = roots.get(root_key)
        if root is None:
            root = roots[root_key] = StorageRef(root_key, dtype, int(numel), location, source)
            locations.add(location)
        if view is None:
            return root
        view_key, offset, view_size = view
        view_key = _ascii(view_key)
        if view_key not in views:
            views[view_key] = StorageRef(
                root_key, dtype, int(view_size), location, source, byte_offset=int(offset) * dtype.itemsize
            )
        return views[view_key]

    with open(path, "rb") as f:
        try:
            header = [RestrictedUnpickler(f).load() for _ in range(3)]
            unpickler = RestrictedUnpickler(f, persistent_load)
            root = unpickler.load()
            keys = [_ascii(k) for k in RestrictedUnpickler(f).load()]
        except Exception as exc:
            raise CheckpointError(f"{path}: cannot read legacy checkpoint ({type(exc).__name__}: {exc})") from None
        if header[1] != 1001:
            raise CheckpointError(f"{path}: unknown legacy protocol version {header[1]!r}")
        offset = f.tell()
        for key in keys:
            f.seek(offset)
            count = f.read(8)
            if len(count) != 8 or key not in roots:
                raise CheckpointError(f"{path}: storage {key} is missing or cut short (truncated file)")
            (n,) = struct.unpack("<q", count)
            source.data_offsets[key] = offset + 8
            offset += 8 + n * roots[key].dtype.itemsize
        if offset > size:
            raise CheckpointError(f"{path}: storage data runs past the end of the file (truncated file)")
    missing = set(roots) - set(source.data_offsets)
    if missing:
        raise CheckpointError(f"{path}: storage {sorted(missing)[0]} has no data (damaged file)")
    return Loaded(
        format=TORCH_LEGACY,
        root=root,
        locations=locations,
        unsafe_globals=unpickler.unsafe_globals,
        blocked_globals=unpickler.blocked_globals,
    )


def _ascii(value: Any) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)
