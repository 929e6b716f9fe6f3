"""torch.distributed.checkpoint (DCP) folders: ``.metadata`` + ``__R_N.distcp`` files.

Listing reads ``.metadata`` alone, with the restricted unpickler: DCP's record classes
become inert records whose fields are validated into plain records here (torch's own
reader would ``pickle.load`` the file, running whatever it names). Global shapes and
dtypes come from there; every tensor's chunks must lie inside its shape and cover it,
and every chunk's bytes must exist in a shard file of the folder.

A ``.distcp`` file holds one ``torch.save`` archive per chunk (and per non-tensor entry),
back to back. ckptviewer reads each through a window of the file with its own safe zip
reader (no compressed records, restricted unpickling, memory-mapped data) and assembles
the global tensor itself, into zeros: torch's DCP loader is never called, so nothing is
unpickled by torch and no region left uncovered can show uninitialised memory. Chunks
stored with a transform (compression) are refused.
"""

from __future__ import annotations

import io
import itertools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dtype_names import ITEMSIZE, NO_ARITHMETIC, QUANTIZED, name_of, torch_dtype, torch_if_loaded
from ..errors import CheckpointError
from ..lazy import DeferredTensor, LazyTensor
from ..limits import Budget
from ..placeholders import Opaque
from ..progress import check_current
from ..torch_values import TorchValue
from ..unpickle import RestrictedUnpickler
from . import Loaded
from .folders import inside
from .torch_zip import ZipArchive, load_zip

if TYPE_CHECKING:
    import torch

DCP = "dcp"
MAX_METADATA = 256 << 20  # DCP metadata of a 100B-parameter model is a few tens of MB
MAX_BYTES_ENTRIES = 1000  # non-tensor entries read when listing (optimizer settings, step, ...)
_M = "torch.distributed.checkpoint.metadata."
_NAMES = ("Metadata", "TensorStorageMetadata", "BytesStorageMetadata", "ChunkStorageMetadata", "TensorProperties",
          "MetadataIndex", "StorageMeta", "_MEM_FORMAT_ENCODING")  # fmt: skip
RECORDS = {_M + n for n in _NAMES} | {
    f"torch.distributed.checkpoint.{m}._StorageInfo" for m in ("filesystem", "planner")
}


@dataclass(frozen=True)
class Blob:
    """Where one chunk (or non-tensor entry) is stored: a torch.save archive inside a shard file."""

    file: str
    offset: int
    length: int


@dataclass(frozen=True)
class Chunk:
    """One stored piece of a tensor: its place in the global tensor and where its bytes are."""

    offsets: tuple[int, ...]
    sizes: tuple[int, ...]
    blob: Blob | None  # None: its shard file is missing


def _name(obj: Any) -> str:
    return obj.ckpt_global if isinstance(obj, Opaque) else type(obj).__name__


def _state(obj: Any, cls: str) -> Any:
    if not isinstance(obj, Opaque) or not obj.ckpt_global.endswith("." + cls):
        raise CheckpointError(f"DCP metadata: expected a {cls}, found {_name(obj)[:80]}")
    return obj.ckpt_state


def _ints(value: Any, what: str) -> tuple[int, ...]:
    if isinstance(value, Opaque) or not isinstance(value, (tuple, list)):  # torch.Size (or its stand-in) is a tuple
        raise CheckpointError(f"DCP metadata: malformed {what}")
    out = tuple(value)
    if len(out) > 64 or not all(type(v) is int and 0 <= v < 1 << 62 for v in out):
        raise CheckpointError(f"DCP metadata: impossible {what} {list(out)[:6]}")
    return out


class DcpTensor(DeferredTensor):
    """A tensor of a DCP checkpoint: global shape and dtype now, data assembled on demand.

    The dtype is held by name (listing imports no torch); ``dtype`` is torch's (imports torch).
    """

    def __init__(self, folder: DcpFolder, fqn: str, shape: tuple[int, ...], dtype: str, chunks: list[Chunk]) -> None:
        self.folder, self.fqn, self._shape, self._dtype_name, self.chunks = folder, fqn, shape, dtype, chunks

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype_name(self) -> str:
        return self._dtype_name

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]  # torch's dtype on demand, not stored
        return torch_dtype(self._dtype_name)

    def materialize(self) -> torch.Tensor:
        return self.folder.read(self)


class DcpFolder:
    """A validated DCP folder: reads chunks through windows of its shard files."""

    def __init__(self, path: Path, budget: Budget | None = None) -> None:
        self.path = path
        self.budget = budget  # shared by every non-tensor entry read while listing

    def open_blob(self, blob: Blob, budget: Budget | None = None) -> Loaded:
        """The torch.save archive ``blob`` points at, read by ckptviewer's own zip reader."""
        return load_zip(self.path / blob.file, blob.length, blob.offset, budget=budget)

    def read(self, t: DcpTensor) -> torch.Tensor:
        """The global tensor ``t``, assembled from its chunks into zeros."""
        import torch

        out = torch.zeros(t.shape, dtype=t.dtype)
        for chunk in t.chunks:
            if chunk.blob is None:
                raise CheckpointError(f"{self.path}: cannot read {t.fqn} (part of its data is in a missing shard file)")
            loaded = self.open_blob(chunk.blob)
            try:
                part = loaded.root
                if not isinstance(part, LazyTensor) or part.shape != chunk.sizes or part.dtype != t.dtype:
                    raise CheckpointError(
                        f"{self.path}: cannot read {t.fqn} (a stored chunk does not match its metadata)"
                    )
                target = out
                for dim, (start, size) in enumerate(zip(chunk.offsets, chunk.sizes)):
                    target = target.narrow(dim, start, size)
                start, stop = part.byte_span()
                archive = part.storage.source
                assert isinstance(archive, ZipArchive)
                data = archive.read_copy(part.storage, start, stop, part.dtype)
                target.copy_(torch.empty((0,), dtype=part.dtype).set_(data, 0, part.shape, part.stride))
            finally:
                if loaded.close:
                    loaded.close()
        return out


def load_dcp(folder: Path, readers: dict) -> Loaded:
    """List a DCP folder from ``.metadata``; non-tensor entries are read now (they are small)."""
    meta_path = inside(folder, folder / ".metadata")
    state, unpickler, size = _read_metadata(meta_path)
    blobs, files = _storage(folder, meta_path, state.get("storage_data"))
    result = Loaded(
        format=DCP,
        root={},
        unsafe_globals=unpickler.unsafe_globals,
        blocked_globals=unpickler.blocked_globals,
        files=[meta_path, *(folder / f for f in files)],
    )
    for f in sorted(f for f, present in files.items() if not present):
        result.warnings.append(f"shard file {f} is missing: tensors with data in it cannot be read")
    source = DcpFolder(folder, Budget.for_size(size))
    result.root = _regroup(_entries(source, meta_path, state["state_dict_metadata"], blobs, result.warnings))
    return result


def _read_metadata(meta_path: Path) -> tuple[dict, RestrictedUnpickler, int]:
    """The ``Metadata`` state of ``.metadata``, the unpickler that read it, and its size."""
    size = meta_path.stat().st_size
    if size > MAX_METADATA:
        raise CheckpointError(f"{meta_path}: larger than {MAX_METADATA >> 20} MiB")
    unpickler = RestrictedUnpickler(io.BytesIO(meta_path.read_bytes()), records=RECORDS, size=size)
    try:
        raw = unpickler.load()
    except Exception as exc:
        raise CheckpointError(f"{meta_path}: cannot read DCP metadata ({type(exc).__name__}: {exc})") from None
    state = _state(raw, "Metadata")
    if not isinstance(state, dict) or not isinstance(state.get("state_dict_metadata"), dict):
        raise CheckpointError(f"{meta_path}: DCP metadata without a state_dict_metadata")
    return state, unpickler, size


def _entries(source: DcpFolder, meta_path: Path, items: dict, blobs: dict, warnings: list[str]) -> dict[str, Any]:
    """Each fully qualified name -> its lazy tensor or its (read) non-tensor value."""
    n_bytes = 0
    entries: dict[str, Any] = {}
    for fqn, item in items.items():
        check_current()
        if not isinstance(fqn, str) or len(fqn) > 4096:
            raise CheckpointError(f"{meta_path}: a DCP key that is not a string")
        if isinstance(item, Opaque) and item.ckpt_global.endswith(".BytesStorageMetadata"):
            n_bytes += 1
            value: Any = "<not read: too many non-tensor entries>"
            if n_bytes <= MAX_BYTES_ENTRIES:
                value = _read_bytes(source, blobs.get((fqn, None)))
            elif n_bytes == MAX_BYTES_ENTRIES + 1:
                warnings.append(f"only the first {MAX_BYTES_ENTRIES} non-tensor entries were read")
        else:
            value = _tensor(source, meta_path, fqn, item, blobs)
            if any(c.blob is None for c in value.chunks):
                warnings.append(f"{fqn}: part of its data was in a missing shard")
        entries[fqn] = value
    return entries


def _regroup(entries: dict[str, Any]) -> dict[str, Any]:
    """DCP flattens ``{"model": {...}, "optim": {...}}``: give the keys their first level back,
    so the model is found. A first level that is also a key of its own stays flat (no entry
    may hide another)."""
    heads = {fqn.partition(".")[0] for fqn in entries if "." in fqn}
    clash = heads & set(entries)
    root: dict[str, Any] = {}
    for fqn, value in entries.items():
        head, _, rest = fqn.partition(".")
        if rest and head not in clash:
            root.setdefault(head, {})[rest] = value
        else:
            root[fqn] = value
    return root


def _storage(folder: Path, meta_path: Path, data: Any) -> tuple[dict[tuple, Blob | None], dict[str, bool]]:
    """(fqn, chunk offsets or None) -> where it is stored; and each shard file -> present."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise CheckpointError(f"{meta_path}: malformed storage_data")
    blobs: dict[tuple, Blob | None] = {}
    files: dict[str, bool] = {}
    sizes: dict[str, int] = {}
    for index, info in data.items():
        ix, si = _state(index, "MetadataIndex"), _state(info, "_StorageInfo")
        if not isinstance(ix, dict) or not isinstance(si, dict):
            raise CheckpointError(f"{meta_path}: malformed storage_data")
        rel = si.get("relative_path")
        if not isinstance(rel, str) or "/" in rel or "\\" in rel or rel in ("", ".", "..") or len(rel) > 255:
            raise CheckpointError(f"{meta_path}: storage file {str(rel)[:80]!r} points outside the folder; refusing it")
        if si.get("transform_descriptors"):
            raise CheckpointError(
                f"{meta_path}: entries are stored with a transform (compression); not supported, refusing them"
            )
        if rel not in files:
            path = folder / rel
            files[rel] = path.is_file()
            if files[rel]:
                inside(folder, path)
                sizes[rel] = path.stat().st_size
        start, length = _ints([si.get("offset"), si.get("length")], "offset/length")
        if files[rel] and start + length > sizes[rel]:
            raise CheckpointError(f"{meta_path}: an entry lies past the end of shard file {rel}")
        offset = ix.get("offset")
        key = (str(ix.get("fqn")), _ints(offset, "index offset") if offset is not None else None)
        blobs[key] = Blob(rel, start, length) if files[rel] else None
    return blobs, files


def _tensor(source: DcpFolder, meta_path: Path, fqn: str, item: Any, blobs: dict) -> DcpTensor:
    t = _state(item, "TensorStorageMetadata")
    props = _state(t.get("properties") if isinstance(t, dict) else None, "TensorProperties")
    dtype = _dtype_name(props[0] if isinstance(props, tuple) and props else None)
    if dtype is None:
        raise CheckpointError(f"{meta_path}: {fqn} has no valid dtype")
    if dtype in QUANTIZED or dtype in NO_ARITHMETIC:  # DCP cannot save these: a forged record
        raise CheckpointError(f"{meta_path}: {fqn} has dtype {dtype}, which DCP cannot hold")
    shape = _ints(t.get("size"), f"size of {fqn}")
    raw_chunks = t.get("chunks") or []
    if not isinstance(raw_chunks, list):
        raise CheckpointError(f"{meta_path}: {fqn} has malformed chunks")
    chunks: list[Chunk] = []
    covered = 0
    for c in raw_chunks:
        cs = _state(c, "ChunkStorageMetadata")
        if not isinstance(cs, dict):
            raise CheckpointError(f"{meta_path}: {fqn} has a malformed chunk")
        offsets, sizes = _ints(cs.get("offsets"), "chunk offsets"), _ints(cs.get("sizes"), "chunk sizes")
        if len(offsets) != len(shape) or len(sizes) != len(shape):
            raise CheckpointError(f"{meta_path}: {fqn} has a chunk of the wrong rank")
        if any(o + s > n for o, s, n in zip(offsets, sizes, shape)):
            raise CheckpointError(f"{meta_path}: {fqn} has a chunk outside its shape {list(shape)}")
        key = (fqn, offsets)
        if key not in blobs:
            raise CheckpointError(f"{meta_path}: {fqn} has a chunk without stored data")
        blob = blobs[key]
        volume = math.prod(sizes)
        if blob is not None and blob.length < volume * ITEMSIZE[dtype]:
            raise CheckpointError(f"{meta_path}: {fqn} has a chunk whose stored data is too short")
        covered += volume
        chunks.append(Chunk(offsets, sizes, blob))
    # the chunks must supply every element exactly once (a region no chunk covers has no data)
    if covered != math.prod(shape):
        raise CheckpointError(
            f"{meta_path}: {fqn} declares {math.prod(shape):,} elements but its chunks hold {covered:,}; refusing it"
        )
    if not _tile(shape, chunks):
        raise CheckpointError(f"{meta_path}: {fqn} has chunks that overlap (and leave a gap); refusing it")
    return DcpTensor(source, fqn, shape, dtype, chunks)


def _dtype_name(value: Any) -> str | None:
    """The name of a dtype the metadata names: torch's own object, or its stand-in while
    torch is not loaded (:mod:`..torch_values`); None for anything else."""
    if isinstance(value, TorchValue):
        return value.name if value.kind == "dtype" and value.name in ITEMSIZE else None
    torch = torch_if_loaded()
    if torch is not None and isinstance(value, torch.dtype) and name_of(value) in ITEMSIZE:
        return name_of(value)
    return None


MAX_CELLS = 1 << 20  # cells of the grid the chunk boundaries cut a tensor into, checked one by one


def _tile(shape: tuple[int, ...], chunks: list[Chunk]) -> bool:
    """Whether ``chunks`` (whose volumes add up to the tensor's) cover it without overlapping.

    The chunks' boundaries cut the tensor into a grid of cells; each chunk covers whole
    cells, and no cell may be covered twice. Sharding cuts one or two dimensions, so the
    grid is small; a grid past :data:`MAX_CELLS` is refused rather than checked slowly.
    """
    if len(chunks) <= 1 or not shape:
        return True
    cuts = [sorted({0, n, *(c.offsets[d] for c in chunks), *(c.offsets[d] + c.sizes[d] for c in chunks)})
            for d, n in enumerate(shape)]  # fmt: skip
    if math.prod(len(c) - 1 for c in cuts) > MAX_CELLS:
        return False
    index = [{v: i for i, v in enumerate(c)} for c in cuts]
    seen: set[tuple[int, ...]] = set()
    for chunk in chunks:
        ranges = [range(index[d][o], index[d][o + s]) for d, (o, s) in enumerate(zip(chunk.offsets, chunk.sizes))]
        for cell in itertools.product(*ranges):
            if cell in seen:
                return False
            seen.add(cell)
    return True


def _read_bytes(source: DcpFolder, blob: Blob | None) -> Any:
    """A non-tensor entry: the torch.save archive it is, read with the safe reader."""
    if blob is None:
        return "<missing>"
    try:
        loaded = source.open_blob(blob, source.budget)
    except CheckpointError:
        return "<unreadable entry>"
    try:
        value = loaded.root
        if isinstance(value, (bytes, bytearray)) and len(value) > 1 << 16:
            return {"__bytes__": len(value)}  # what the listing shows of it anyway; not kept
        if isinstance(value, LazyTensor):
            return value.materialize().clone() if value.numel <= 1 << 16 else "<a tensor>"
        if loaded.blocked_globals:
            return "<an object that was not loaded (untrusted class)>"
        if isinstance(value, (dict, list, tuple)) and _holds_tensors(value):
            return "<object holding tensors>"
        return value
    except CheckpointError:
        return "<unreadable entry>"
    finally:
        if loaded.close:
            loaded.close()


def _holds_tensors(value: Any) -> bool:
    from ..index import walk

    return bool(walk(value).tensors)


def shard_count(folder: Path) -> int:
    """How many shard files a DCP folder has."""
    return sum(1 for p in folder.iterdir() if p.name.endswith(".distcp"))
