"""Reader for torch.save zip files (PyTorch >= 1.6, any extension).

Only ``data.pkl`` and the zip's central directory (read with Python's zipfile) are read to
list the file: listing imports no torch. Storages become
:class:`~ckptviewer.core.lazy.StorageRef` records; their bytes are served from a private
memory map of the whole file when a tensor is materialized. Before the first byte of data
is served, torch's own C++ zip reader must read the archive exactly as we did (records,
sizes, offsets, data.pkl): otherwise the bytes shown could differ from what torch.load reads.
"""

from __future__ import annotations

import io
import pickle
import struct
import threading
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CheckpointError, NotACheckpointError
from ..filemap import PositionedReader, file_size, is_remote, map_file, view
from ..lazy import StorageRef
from ..limits import Budget
from ..unpickle import RestrictedUnpickler, StorageType
from . import Loaded
from .sniff import TORCH_ZIP

if TYPE_CHECKING:
    import torch

MAX_PICKLE = 1 << 30  # the largest real data.pkl seen is a few tens of MB


TORCHSCRIPT = "torchscript"


class FileWindow(PositionedReader):
    """Bytes ``base .. base+length`` of a file, as a read-only file of their own.

    A DCP shard file holds one torch.save archive per tensor chunk, back to back: each
    is read through a window with the same checks as a checkpoint file.
    """

    def __init__(self, path: Path, base: int, length: int) -> None:
        super().__init__()
        self._f = path.open("rb")  # closed with the window (a RemotePath's file reads by range)
        self.base, self.length, self.pos = base, length, 0

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.length - self.pos))
        self._f.seek(self.base + self.pos)
        got = self._f.readinto(memoryview(buffer).cast("B")[:n]) or 0
        self.pos += got
        return got

    def close(self) -> None:
        self._f.close()
        super().close()


class ZipArchive:
    """A torch zip file (or a window of one file holding it): its records and a memory map.

    Records are listed with Python's zipfile (:func:`_stored_entries`); torch's own zip
    reader checks them before any data is served (:meth:`torch_reader`); storage bytes
    come from a private map of the whole file.
    """

    def __init__(self, path: Path, size: int, base: int = 0) -> None:
        self.path = path
        self.size = size  # bytes of the archive (the window's length)
        self.base = base  # where the archive starts in the file
        self._lock = threading.Lock()
        self._reader_lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None
        # torch's reader takes a local file by name; a part of one, or a remote object, as a file object
        whole = not is_remote(path) and base == 0 and size == file_size(path)
        self._window = None if whole else FileWindow(path, base, size)
        self._reader: Any = None  # torch's reader, opened (and checked) before data is read
        self._closed = False
        try:
            self.entries = _stored_entries(path, self._window or path)
        except CheckpointError:
            # a zip we cannot read: torch's reader says first what it makes of it (as it
            # always did), so the refusal is the same whoever reads first
            self._open_torch_reader()
            raise
        records = set(self.entries)
        if "data.pkl" not in records:
            raise NotACheckpointError(f"{path}: not a PyTorch checkpoint: {self.describe()}")
        # torch.jit.save: the same data.pkl and storages, plus compiled code we never run
        self.torchscript = "constants.pkl" in records or any(r.startswith("code/") for r in records)
        self.records = records
        self.offsets = _Offsets(self)
        if self.entries["data.pkl"].file_size > MAX_PICKLE:
            raise CheckpointError(f"{path}: data.pkl is larger than {MAX_PICKLE >> 20} MiB")
        self.data_pkl = self.read_record("data.pkl")
        self.byteorder = (
            self.read_record("byteorder").decode("ascii", "replace") if "byteorder" in records else "little"
        )

    def read_record(self, name: str) -> bytes:
        """A stored record's bytes, read from the file at its local header's data offset."""
        info = self.entries[name]
        start = _data_offset(self, info)
        if start < 0 or start + info.file_size > self.size:
            raise CheckpointError(f"{self.path}: damaged zip record {name!r} (its local header is missing)")
        with self.path.open("rb") as f:
            f.seek(self.base + start)
            data = f.read(info.file_size)
        if len(data) != info.file_size:
            raise CheckpointError(f"{self.path}: damaged zip record {name!r} (cut short)")
        return data

    def record_size(self, key: str) -> int | None:
        name = f"data/{key}"
        return self.entries[name].file_size if name in self.records else None

    def torch_reader(self) -> Any:
        """torch's own zip reader, checked once to read this archive as we listed it.

        Called before any data is served: records, their sizes and data.pkl must agree,
        with the refusals listing used to make when torch's reader came first.
        """
        with self._reader_lock:
            if self._reader is None:
                if self._closed:
                    raise CheckpointError(f"{self.path}: the checkpoint was closed")
                reader = self._open_torch_reader()
                self._check_agreement(reader)
                self._reader = reader
            return self._reader

    def _open_torch_reader(self) -> Any:
        import torch

        if self._window is not None:
            self._window.seek(0)  # torch's reader starts where the file object stands
        try:
            reader = torch._C.PyTorchFileReader(self._window or str(self.path))
            records = set(reader.get_all_records())
        except (RuntimeError, UnicodeDecodeError, ValueError):  # miniz errors, record names not UTF-8
            raise NotACheckpointError(f"{self.path}: not a readable checkpoint: {self.describe()}") from None
        if "data.pkl" not in records:
            raise NotACheckpointError(f"{self.path}: not a PyTorch checkpoint: {self.describe()}")
        return reader

    def _check_agreement(self, reader: Any) -> None:
        differ = CheckpointError(
            f"{self.path}: the zip's records are read differently by different zip readers; refusing it"
        )
        if set(reader.get_all_records()) != self.records:
            raise differ
        try:
            for name, info in self.entries.items():
                read = name in ("data.pkl", "byteorder") or name.startswith("data/")
                if read and int(reader.get_record_size(name)) != info.file_size:
                    raise differ
            if bytes(reader.get_record("data.pkl")) != self.data_pkl:
                raise differ
            if "byteorder" in self.records and bytes(reader.get_record("byteorder")) != self.read_record("byteorder"):
                raise differ
        except RuntimeError as exc:
            raise CheckpointError(f"{self.path}: damaged zip record ({_first_line(exc)})") from None

    def describe(self) -> str:
        return describe_zip(self._window or self.path)

    def file_offset(self, ref: StorageRef) -> int:
        """Where the bytes of ``ref`` start in the file."""
        return self.base + self.offsets[f"data/{ref.key}"] + ref.byte_offset

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref``: a view of the file's private memory map."""
        import torch  # noqa: F401 - the storage below is torch's

        name = f"data/{ref.key}"
        if name not in self.records:
            raise CheckpointError(f"{self.path}: storage record {name} is missing")
        offset = self.offsets[name] + ref.byte_offset
        stop = ref.nbytes if stop is None else stop
        if offset + ref.nbytes > self.size or not 0 <= start <= stop <= ref.nbytes:
            raise CheckpointError(f"{self.path}: storage {name} runs past the end of the file (truncated?)")
        first = self.base + offset + start
        storage = view(self._mapped(), self.path, first, stop - start, 1)  # torch maps records 64-byte aligned
        if self.byteorder == "big":  # as torch.load: swapped by the storage's element type
            storage = _swapped(storage, ref.dtype)
        return storage

    def read_copy(self, ref: StorageRef, start: int, stop: int, dtype: torch.dtype) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref`` read into private memory with plain file reads.

        For data that is used once (DCP chunks copied into their tensor): mapped pages would
        stay resident until the whole map is dropped.
        """
        import torch

        name = f"data/{ref.key}"
        offset = self.offsets[name] + ref.byte_offset
        if name not in self.records or offset + ref.nbytes > self.size or not 0 <= start <= stop <= ref.nbytes:
            raise CheckpointError(f"{self.path}: storage {name} runs past the end of its archive")
        storage = torch.UntypedStorage(stop - start)
        if stop > start:
            with self.path.open("rb") as f:
                f.seek(self.base + offset + start)
                view = torch.empty((0,), dtype=torch.uint8).set_(storage).numpy()
                if f.readinto(memoryview(view)) != stop - start:
                    raise CheckpointError(f"{self.path}: storage {name} is cut short")
        if self.byteorder == "big":
            storage.byteswap(ref.dtype)
        return storage

    def _mapped(self) -> torch.UntypedStorage:

        self.torch_reader()  # torch reads this archive as we do, or nothing is served
        with self._lock:
            if self._file_storage is None:
                # MAP_PRIVATE: pages are read on first touch and never written back
                whole = self.base + self.size
                self._file_storage = map_file(self.path, whole)
            return self._file_storage

    def close(self) -> None:
        self._reader = None
        self._closed = True
        if self._window is not None:
            self._window.close()


class _Offsets:
    """Where each record's bytes start, checked on first use against our own reading of the zip.

    torch's reader and Python's zipfile must agree on every record we map: otherwise the
    bytes shown could differ from the bytes torch.load reads.
    """

    def __init__(self, archive: ZipArchive) -> None:
        self.archive = archive
        self.known: dict[str, int] = {}

    def __getitem__(self, name: str) -> int:
        offset = self.known.get(name)
        if offset is None:
            archive = self.archive
            reader = archive.torch_reader()
            try:
                offset = reader.get_record_offset(name)
            except RuntimeError as exc:
                raise CheckpointError(f"{archive.path}: damaged zip record {name} ({_first_line(exc)})") from None
            if offset != _data_offset(archive, archive.entries[name]):
                raise CheckpointError(
                    f"{archive.path}: zip record {name} is located differently by different zip readers "
                    "(a crafted archive); refusing it"
                )
            self.known[name] = offset
        return offset


def _stored_entries(path: Path, source: Any) -> dict[str, zipfile.ZipInfo]:
    """The zip's records as Python's zipfile reads them; refuse what torch.save never writes.

    torch.save stores records uncompressed, each name once. A compressed record would show
    its compressed bytes through our memory map while torch inflates it (and a deflated
    data.pkl is a decompression bomb); a repeated name may be resolved differently by
    different readers.
    """
    try:
        with zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
    except Exception as exc:  # zipfile raises many kinds (NotImplementedError, UnicodeDecodeError, ...)
        raise CheckpointError(f"{path}: the zip directory is damaged or crafted ({_first_line(exc)})") from None
    if not infos:
        raise CheckpointError(f"{path}: an empty zip archive")
    prefix = infos[0].filename.split("/", 1)[0] + "/"
    entries: dict[str, zipfile.ZipInfo] = {}
    for info in infos:
        if not info.filename.startswith(prefix):
            continue
        name = info.filename[len(prefix) :]
        if name in entries:
            raise CheckpointError(f"{path}: the zip holds two records named {name!r}; refusing it")
        read = name in ("data.pkl", "byteorder") or name.startswith("data/")  # TorchScript compresses code/
        if read and info.compress_type != zipfile.ZIP_STORED:
            raise CheckpointError(
                f"{path}: zip record {name!r} is compressed; torch.save never compresses records, refusing it"
            )
        if read and info.compress_size != info.file_size:
            raise CheckpointError(f"{path}: zip record {name!r} has inconsistent sizes; refusing it")
        entries[name] = info
    return entries


def _data_offset(archive: ZipArchive, info: zipfile.ZipInfo) -> int:
    """Where a stored record's bytes start in the archive: after its local header (-1: none there)."""
    if archive.base + info.header_offset < 0:  # a forged offset before the file's start (seek refuses it)
        return -1
    with archive.path.open("rb") as f:
        f.seek(archive.base + info.header_offset)
        header = f.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        return -1
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def describe_zip(path: Any) -> str:
    """What a zip that torch cannot use as a checkpoint holds, for the error message."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
    except Exception:  # zipfile raises many kinds (NotImplementedError, UnicodeDecodeError, ...)
        return "a damaged or truncated zip archive (no valid central directory)"
    if not names:
        return "an empty zip archive"
    if not any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
        return f"a zip archive without data.pkl (it holds {len(names)} other entries)"
    return "a zip archive that torch's reader rejects (damaged?)"


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _swapped(storage: torch.UntypedStorage, dtype: torch.dtype) -> torch.UntypedStorage:
    import torch

    copy = torch.UntypedStorage(storage.nbytes())
    copy.copy_(storage)
    copy.byteswap(dtype)
    return copy


def load_zip(path: Path, size: int, base: int = 0, budget: Budget | None = None) -> Loaded:
    """List a torch zip checkpoint (or one at ``base`` in a larger file) without reading tensor data.

    ``budget``: the memory budget to charge (shared by the archives of one DCP folder).
    """
    archive = ZipArchive(path, size, base)
    storages: dict[str, StorageRef] = {}
    locations: set[str] = set()

    def persistent_load(pid: Any) -> StorageRef:
        if not isinstance(pid, tuple) or len(pid) != 5 or _ascii(pid[0]) != "storage":
            raise pickle.UnpicklingError(f"unknown persistent id {str(pid)[:80]}")
        storage_type, key, location, numel = pid[1:]
        if not isinstance(storage_type, StorageType):
            raise pickle.UnpicklingError("storage record without a storage type")
        if type(numel) is not int or not 0 <= numel < 1 << 62:
            raise pickle.UnpicklingError("storage record with an impossible size")
        key, location = _ascii(key), _ascii(location)
        ref = storages.get(key)
        if ref is None:
            ref = StorageRef(key, storage_type.dtype_name, int(numel), location, archive)
            storages[key] = ref
            locations.add(location)
        return ref

    unpickler = RestrictedUnpickler(
        io.BytesIO(archive.data_pkl),
        persistent_load,
        script=archive.torchscript,
        size=len(archive.data_pkl),
        budget=budget,
    )
    try:
        root = unpickler.load()
    except CheckpointError:
        raise
    except Exception as exc:  # any pickle damage, hostile or not, is one clear line
        archive.close()
        raise CheckpointError(f"{path}: cannot read data.pkl ({type(exc).__name__}: {exc})") from None
    _check_records(path, archive, storages)
    if archive.byteorder not in ("little", "big"):  # torch.load refuses it too
        raise CheckpointError(f"{path}: unknown byte order {archive.byteorder[:20]!r} in the archive")
    warnings: list[str] = []
    return Loaded(
        format=TORCHSCRIPT if archive.torchscript else TORCH_ZIP,
        root=root,
        locations=locations,
        unsafe_globals=unpickler.unsafe_globals,
        blocked_globals=unpickler.blocked_globals,
        warnings=warnings,
        close=archive.close,
        files=[path],
    )


def _check_records(path: Path, archive: ZipArchive, storages: dict[str, StorageRef]) -> None:
    for key, ref in storages.items():
        size = archive.record_size(key)
        if size is None:
            raise CheckpointError(f"{path}: storage record data/{key} is missing (damaged or hand-edited file)")
        if size < ref.nbytes:
            raise CheckpointError(f"{path}: storage record data/{key} holds {size} bytes but {ref.nbytes} are needed")


def _ascii(value: Any) -> str:
    """A storage key or location: short text, nothing else."""
    if isinstance(value, bytes):
        value = value.decode("ascii")
    if not isinstance(value, str) or len(value) > 256:
        raise pickle.UnpicklingError("storage record with a malformed key or location")
    return value
