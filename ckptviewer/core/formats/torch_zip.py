"""Reader for torch.save zip files (PyTorch >= 1.6, any extension).

Only ``data.pkl`` and the zip's central directory (through torch's own C++ zip reader)
are read to list the file. Storages
become :class:`~ckptviewer.core.lazy.StorageRef` records; their bytes are served from a
private memory map of the whole file when a tensor is materialized.
"""

from __future__ import annotations

import io
import pickle
import threading
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, NotACheckpointError
from ..lazy import StorageRef
from ..unpickle import RestrictedUnpickler, StorageType
from . import Loaded
from .sniff import TORCH_ZIP

MAX_PICKLE = 1 << 30  # the largest real data.pkl seen is a few tens of MB


TORCHSCRIPT = "torchscript"


class ZipArchive:
    """A torch zip file: its records (via torch's own zip reader) and a memory map."""

    def __init__(self, path: Path, size: int) -> None:
        self.path = path
        self.size = size
        self._lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None
        try:
            self._reader = torch._C.PyTorchFileReader(str(path))
            records = set(self._reader.get_all_records())
        except RuntimeError:
            raise NotACheckpointError(f"{path}: not a readable checkpoint: {describe_zip(path)}") from None
        if "data.pkl" not in records:
            raise NotACheckpointError(f"{path}: not a PyTorch checkpoint: {describe_zip(path)}")
        # torch.jit.save: the same data.pkl and storages, plus compiled code we never run
        self.torchscript = "constants.pkl" in records or any(r.startswith("code/") for r in records)
        self.records = records
        if self._reader.get_record_size("data.pkl") > MAX_PICKLE:
            raise CheckpointError(f"{path}: data.pkl is larger than {MAX_PICKLE >> 20} MiB (a decompression bomb?)")
        self.data_pkl = self.read_record("data.pkl")
        self.byteorder = (
            self.read_record("byteorder").decode("ascii", "replace") if "byteorder" in records else "little"
        )

    def read_record(self, name: str) -> bytes:
        try:
            return bytes(self._reader.get_record(name))
        except RuntimeError as exc:
            raise CheckpointError(f"{self.path}: damaged zip record {name!r} ({_first_line(exc)})") from None

    def record_size(self, key: str) -> int | None:
        name = f"data/{key}"
        return self._reader.get_record_size(name) if name in self.records else None

    def file_offset(self, ref: StorageRef) -> int:
        """Where the bytes of ``ref`` start in the file."""
        return self._reader.get_record_offset(f"data/{ref.key}") + ref.byte_offset

    def untyped_storage(self, ref: StorageRef) -> torch.UntypedStorage:
        """The bytes of ``ref``: a view of the file's private memory map."""
        name = f"data/{ref.key}"
        if name not in self.records:
            raise CheckpointError(f"{self.path}: storage record {name} is missing")
        try:
            offset = self._reader.get_record_offset(name) + ref.byte_offset
        except RuntimeError as exc:
            raise CheckpointError(f"{self.path}: damaged zip record {name} ({_first_line(exc)})") from None
        if offset + ref.nbytes > self.size:
            raise CheckpointError(f"{self.path}: storage {name} runs past the end of the file (truncated?)")
        storage = self._mapped()[offset : offset + ref.nbytes]
        if self.byteorder == "big":
            storage = _swapped(storage, ref.dtype)
        return storage

    def _mapped(self) -> torch.UntypedStorage:
        with self._lock:
            if self._file_storage is None:
                # MAP_PRIVATE: pages are read on first touch and never written back
                self._file_storage = torch.UntypedStorage.from_file(str(self.path), False, self.size)
            return self._file_storage

    def close(self) -> None:
        self._reader = None  # type: ignore[assignment]


def describe_zip(path: Path) -> str:
    """What a zip that torch cannot use as a checkpoint holds, for the error message."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return "a damaged or truncated zip archive (no valid central directory)"
    if not names:
        return "an empty zip archive"
    if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        shown = ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")
        return f"a zip archive without data.pkl (holds {len(names)} entries: {shown})"
    return "a zip archive that torch's reader rejects (damaged?)"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _swapped(storage: torch.UntypedStorage, dtype: torch.dtype) -> torch.UntypedStorage:
    copy = torch.UntypedStorage(storage.nbytes())
    copy.copy_(storage)
    copy.byteswap(dtype)
    return copy


def load_zip(path: Path, size: int) -> Loaded:
    """List a torch zip checkpoint without reading tensor data."""
    archive = ZipArchive(path, size)
    storages: dict[str, StorageRef] = {}
    locations: set[str] = set()

    def persistent_load(pid: Any) -> StorageRef:
        if not isinstance(pid, tuple) or len(pid) != 5 or _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")
        storage_type, key, location, numel = pid[1:]
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError("storage record without a storage type")
        key, location = _ascii(key), _ascii(location)
        ref = storages.get(key)
        if ref is None:
            ref = StorageRef(key, storage_type.dtype, int(numel), location, archive)
            storages[key] = ref
            locations.add(location)
        return ref

    unpickler = RestrictedUnpickler(io.BytesIO(archive.data_pkl), persistent_load, script=archive.torchscript)
    try:
        root = unpickler.load()
    except CheckpointError:
        raise
    except Exception as exc:  # any pickle damage, hostile or not, is one clear line
        archive.close()
        raise CheckpointError(f"{path}: cannot read data.pkl ({type(exc).__name__}: {exc})") from None
    _check_records(path, archive, storages)
    warnings = [] if archive.byteorder in ("little", "big") else [f"unknown byte order {archive.byteorder!r}"]
    return Loaded(
        format=TORCHSCRIPT if archive.torchscript else TORCH_ZIP,
        root=root,
        locations=locations,
        unsafe_globals=unpickler.unsafe_globals,
        blocked_globals=unpickler.blocked_globals,
        warnings=warnings,
        close=archive.close,
    )


def _check_records(path: Path, archive: ZipArchive, storages: dict[str, StorageRef]) -> None:
    for key, ref in storages.items():
        size = archive.record_size(key)
        if size is None:
            raise CheckpointError(f"{path}: storage record data/{key} is missing (damaged or hand-edited file)")
        if size < ref.nbytes:
            raise CheckpointError(f"{path}: storage record data/{key} holds {size} bytes but {ref.nbytes} are needed")


def _ascii(value: Any) -> str:
    return value.decode("ascii") if isinstance(value, bytes) else str(value)
