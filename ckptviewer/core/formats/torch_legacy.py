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
from typing import TYPE_CHECKING, Any

from ..dtype_names import itemsize
from ..errors import CheckpointError
from ..lazy import StorageRef
from ..limits import Budget
from ..unpickle import RestrictedUnpickler, StorageType
from . import Loaded
from .sniff import TORCH_LEGACY

if TYPE_CHECKING:
    import torch


class LegacyFile:
    """Serves storage bytes of a legacy checkpoint by reading them from the file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data_offsets: dict[str, int] = {}
        self._lock = threading.Lock()

    def file_offset(self, ref: StorageRef) -> int:
        return self.data_offsets[ref.key] + ref.byte_offset

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref``, read from the file (this format cannot be mapped in place)."""
        import torch

        stop = ref.nbytes if stop is None else stop
        if not 0 <= start <= stop <= ref.nbytes:
            raise CheckpointError(f"{self.path}: a tensor reaches outside its storage {ref.key}")
        with self._lock, self.path.open("rb") as f:
            f.seek(self.file_offset(ref) + start)
            raw = bytearray(f.read(stop - start))
        if len(raw) != stop - start:
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
        if not _count(numel):
            raise pickle.UnpicklingError("storage record with an impossible size")
        root_key, location = _ascii(root_key), _ascii(location)
        dtype = storage_type.dtype_name
        root = roots.get(root_key)
        if root is None:
            root = roots[root_key] = StorageRef(root_key, dtype, int(numel), location, source)
            locations.add(location)
        if view is None:
            return root
        if not isinstance(view, tuple) or len(view) != 3:
            raise pickle.UnpicklingError("malformed storage view record")
        view_key, offset, view_size = view
        view_key = _ascii(view_key)
        if dtype != root.dtype_name:  # offsets count elements of the root's type: one type per storage
            raise pickle.UnpicklingError("a storage viewed as another element type")
        if not (_count(offset) and _count(view_size) and offset + view_size <= root.numel):
            raise pickle.UnpicklingError("storage view record reaching outside its storage")
        if view_key not in views:
            views[view_key] = StorageRef(
                root_key, dtype, int(view_size), location, source, byte_offset=int(offset) * itemsize(dtype)
            )
        return views[view_key]

    budget = Budget.for_size(size)  # one budget for the five pickles of this file
    with path.open("rb") as f:
        try:
            header = [RestrictedUnpickler(f, budget=budget).load() for _ in range(3)]
            unpickler = RestrictedUnpickler(f, persistent_load, budget=budget)
            root = unpickler.load()
            keys = RestrictedUnpickler(f, budget=budget).load()
            if not isinstance(keys, list):
                raise pickle.UnpicklingError("the list of storage keys is missing")
            keys = [_ascii(k) for k in keys]
        except Exception as exc:
            raise CheckpointError(f"{path}: cannot read legacy checkpoint ({type(exc).__name__}: {exc})") from None
        if header[1] != 1001:
            raise CheckpointError(f"{path}: unknown legacy protocol version {header[1]!r}")
        offset = f.tell()
        for key in keys:
            f.seek(offset)
            count = f.read(8)
            if len(count) != 8 or key not in roots or key in source.data_offsets:
                raise CheckpointError(f"{path}: storage {key} is missing or cut short (truncated file)")
            (n,) = struct.unpack("<q", count)
            # the element count torch reads back must be the one the pickle declared
            if n != roots[key].numel:
                raise CheckpointError(
                    f"{path}: storage {key} holds {n} elements but the pickle declares {roots[key].numel}"
                )
            source.data_offsets[key] = offset + 8
            offset += 8 + n * itemsize(roots[key].dtype_name)
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
        files=[path],
    )


def _ascii(value: Any) -> str:
    """A storage key or location: short text, nothing else."""
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str) or len(value) > 256:
        raise pickle.UnpicklingError("storage record with a malformed key or location")
    return value


def _count(value: Any) -> bool:
    return type(value) is int and 0 <= value < 1 << 62
