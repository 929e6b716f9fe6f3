"""Write a (possibly edited) checkpoint to .pth or .safetensors: atomically, then verified.

* The format follows the output's extension: ``.safetensors`` writes the tensors (the
  model state_dict of a training checkpoint) with string metadata; anything else is a
  torch.save zip file holding the whole structure.
* Atomic: bytes go to a temporary file beside the output, which is flushed, fsynced and
  renamed over the final name only when complete. A failure, a cancel or a kill leaves
  the previous file (if any) untouched and nothing under the final name.
* The source file is never overwritten; any other existing file only with ``force``.
* Tensors that shared a storage in the source share it in a .pth output; a .safetensors
  file cannot share, so such tensors are written as separate copies (and reported).
* Objects loaded as placeholders (untrusted classes) cannot be written back; the error
  names their keys.
* After writing, the output is re-opened and every tensor compared bit for bit with what
  was intended. A tensor computed for the save (an average, a merged LoRA, a DCP tensor
  written to .safetensors) is not computed again for that: the SHA-256 of the bytes
  handed to the file is taken as they are written, and the file's bytes must give the
  same digest (as strong against a bad write, and memory stays one tensor).
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..formatting import plural
from .checkpoint import Checkpoint
from .dtypes import UNSAVABLE
from .errors import CheckpointError
from .export import atomic_write
from .filemap import is_remote
from .lazy import CastTensor, DeferredTensor, LazyTensor, StorageRef, settable_stride
from .limits import check_work
from .placeholders import Opaque
from .progress import CancelToken, ProgressFn, check, check_current, report
from .remote import RemotePath, is_url, remote_error
from .stats import iter_chunks, stored_elements
from .structure import children, key_name, rebuild  # one container rule for edits and saves
from .torch_values import is_stand_in, real

SAFETENSORS_DTYPES = {
    torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8", torch.uint8: "U8",
    torch.bool: "BOOL", torch.uint16: "U16", torch.uint32: "U32", torch.uint64: "U64",
    torch.float8_e4m3fn: "F8_E4M3", torch.float8_e5m2: "F8_E5M2", torch.complex64: "C64",
}  # fmt: skip
WRITE_CHUNK = 64 << 20
VERIFY_CHUNK = 16 << 20


@dataclass
class SaveReport:
    """What was written where, and whether re-reading it gave back every tensor."""

    path: str
    format: str
    n_tensors: int = 0
    nbytes: int = 0  # tensor bytes written
    file_bytes: int = 0
    verified: bool = False
    shared_copies: list[str] = field(default_factory=list)  # safetensors: written as copies
    left_out: list[str] = field(default_factory=list)  # safetensors: non-tensor content not written
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


def output_format(path: str | os.PathLike) -> str:
    return "safetensors" if str(path).lower().endswith(".safetensors") else "torch-zip"


def check_output(ckpt: Checkpoint, out: Path, force: bool) -> None:
    """Refuse an output that is any file an input was read from (``force`` or not), or an
    existing file without ``force``.

    Every file of every input counts (each shard of a folder, its index and configs, the
    files a graft borrows from), however it is spelled: through symlinks, hard links or
    another path to the same file.
    """
    if is_remote(out):
        return _check_remote_output(ckpt, out, force)  # type: ignore[arg-type]
    real_out = os.path.realpath(out)
    for src in ckpt.input_files():
        if is_remote(src):
            continue  # a remote input is never a local file
        if "\0" in str(src):
            continue  # a name no file can have (an index may still list it): not the output
        same = os.path.realpath(src) == real_out
        if not same and out.exists() and src.exists():
            same = os.path.samefile(out, src)
        if same:
            raise CheckpointError(f"{out}: is a file of an input checkpoint; refusing to overwrite the source")
    if out.is_dir():
        raise CheckpointError(f"{out}: is a directory")
    if out.exists() and not force:
        raise CheckpointError(f"{out}: already exists; use --force to replace it")
    if not out.parent.is_dir():
        raise CheckpointError(f"{out.parent}: no such folder")


def _check_remote_output(ckpt: Checkpoint, out: RemotePath, force: bool) -> None:
    """As :func:`check_output` for a URL: never an input's object, an existing one only with ``force``."""
    for src in ckpt.input_files():
        if is_remote(src) and src.fs.protocol == out.fs.protocol and src.fspath == out.fspath:  # type: ignore[attr-defined]
            raise CheckpointError(f"{out}: is an object of an input checkpoint; refusing to overwrite the source")
    if out.url.split("://", 1)[0].lower() in ("http", "https"):
        raise CheckpointError(f"{out}: cannot write to a web server; write to a local path or object storage")
    if out.is_dir():
        raise CheckpointError(f"{out}: is a folder")
    if out.exists() and not force:
        raise CheckpointError(f"{out}: already exists; use --force to replace it")


def _save_remote(ckpt: Checkpoint, out: RemotePath, force: bool, **kwargs: Any) -> SaveReport:
    """Write to a local temporary file (atomic, verified as always), upload it as one object,
    then read the object back and compare its SHA-256 with the file's: only then is it done.
    A failed upload or comparison removes what was uploaded (nothing half-written is left)."""
    _check_remote_output(ckpt, out, force)
    with tempfile.TemporaryDirectory(prefix="ckpt-upload-") as folder:
        tmp = Path(folder) / out.name
        rep = save(ckpt, tmp, force=True, **kwargs)
        digest = _sha256(tmp.open("rb"))
        try:
            out.fs.put_file(str(tmp), out.fspath)
            out.fs.invalidate_cache(out.fspath)
            uploaded = out.fs.info(out.fspath).get("size")
            if uploaded != tmp.stat().st_size:
                raise CheckpointError(f"{out}: the uploaded object has {uploaded} bytes, not {tmp.stat().st_size}")
            with out.fs.open(out.fspath, "rb", block_size=PIECE) as f:
                if _sha256(f) != digest:
                    raise CheckpointError(f"{out}: the uploaded object differs from what was written")
        except BaseException as exc:
            try:
                out.fs.rm_file(out.fspath)
            except Exception:
                pass
            if isinstance(exc, Exception) and not isinstance(exc, CheckpointError):
                raise remote_error(str(out), exc) from None
            raise
    rep.path = str(out)
    return rep


PIECE = 8 << 20


def _sha256(f: Any) -> str:
    import hashlib

    h = hashlib.sha256()
    with f:
        while piece := f.read(PIECE):
            check_current()
            h.update(piece)
    return h.hexdigest()


def placeholders(ckpt: Checkpoint) -> list[str]:
    """Dotted keys of objects that were not loaded (placeholders) and so cannot be saved."""
    found: list[str] = []

    def walk(obj: Any, path: str) -> None:
        if isinstance(obj, Opaque):
            found.append(path or "(root)")
            return
        items = children(obj)
        for k, v in items or []:
            walk(v, f"{path}.{key_name(k)}" if path else key_name(k))

    walk(ckpt.root, "")
    return found


@dataclass(frozen=True)
class _Written:
    """A computed tensor as it was written (.safetensors): what the verification compares the file with."""

    dtype: torch.dtype
    shape: tuple[int, ...]
    nbytes: int
    sha256: bytes  # of the bytes handed to the file


class _Materializer:
    """Turns lazy leaves into tensors; one storage object per source storage, so torch.save
    writes tied weights once."""

    def __init__(self, spill_dir: Path | None = None) -> None:
        self.storages: dict[int, torch.UntypedStorage] = {}
        self.casts: dict[tuple, torch.Tensor] = {}
        # computed tensors by id of their DeferredTensor (kept, so the id stays theirs): the structure
        # torch.save writes and the tensors verification compares are the same, computed once
        self.deferred: dict[int, tuple[DeferredTensor, torch.Tensor]] = {}
        self.spill_dir = spill_dir  # where computed tensors wait, file-backed, for torch.save

    def _spilled(self, t: torch.Tensor) -> torch.Tensor:
        """``t`` copied into an unlinked file in ``spill_dir``, so the kernel may page it out.

        torch.save pickles the whole structure before writing any data, so every computed
        tensor (a cast, a DCP tensor) must exist at once; kept in anonymous memory that
        would be the whole checkpoint.
        """
        if self.spill_dir is None or t.numel() * t.element_size() < (1 << 20):
            return t
        nbytes = t.numel() * t.element_size()
        fd, path = tempfile.mkstemp(prefix=".ckptviewer-spill-", dir=self.spill_dir)
        try:
            os.ftruncate(fd, nbytes)
            storage = torch.UntypedStorage.from_file(path, True, nbytes)
        finally:
            os.close(fd)
            os.unlink(path)  # the mapping keeps the pages; nothing is left behind on disk
        out = torch.empty((0,), dtype=t.dtype).set_(storage, 0, tuple(t.shape))
        out.copy_(t)
        return out

    def tensor(self, leaf: Any) -> torch.Tensor:
        if isinstance(leaf, LazyTensor):
            storage = self._storage(leaf.storage)
            t = torch.empty((0,), dtype=leaf.dtype)
            t.set_(storage, leaf.offset, leaf.shape, settable_stride(leaf.shape, leaf.stride))
            return torch.nn.Parameter(t, requires_grad=leaf.requires_grad) if leaf.is_parameter else t
        if isinstance(leaf, CastTensor):
            base = leaf.base
            key = (
                (id(base.storage), base.offset, base.shape, base.stride, leaf.dtype)
                if isinstance(base, LazyTensor)
                else (id(base), leaf.dtype)
            )
            if key not in self.casts:
                self.casts[key] = self._spilled(self.tensor(base).detach().to(leaf.dtype))
                release_memory()
            return self.casts[key]
        if isinstance(leaf, DeferredTensor):
            if id(leaf) not in self.deferred:
                self.deferred[id(leaf)] = (leaf, self._spilled(leaf.materialize()))
                release_memory()
            return self.deferred[id(leaf)][1]
        return leaf

    def _storage(self, ref: StorageRef) -> torch.UntypedStorage:
        s = self.storages.get(id(ref))
        if s is None:
            s = self.storages[id(ref)] = ref.load()
        return s

    def structure(self, obj: Any) -> Any:
        if isinstance(obj, (LazyTensor, DeferredTensor, torch.Tensor)):
            return self.tensor(obj)
        if is_stand_in(obj):  # a dtype, Size ... listed by name: the file gets torch's own object
            return self.structure(real(obj))
        items = children(obj)
        if items is None:
            return obj
        return rebuild(obj, [(k, self.structure(v)) for k, v in items])


class _CountingFile:
    """A file wrapper that reports bytes written and honours cancellation between writes."""

    def __init__(self, f: Any, total: int, progress: ProgressFn | None, cancel: CancelToken | None) -> None:
        self.f, self.total, self.progress, self.cancel = f, max(total, 1), progress, cancel
        self.written = 0

    def write(self, data: Any) -> int:
        check(self.cancel)
        n = self.f.write(data)
        self.written += len(memoryview(data).cast("B")) if n is None else n
        report(self.progress, min(self.written, self.total), self.total, "Writing")
        return n if n is not None else len(data)

    def flush(self) -> None:
        self.f.flush()

    def tell(self) -> int:
        return self.f.tell()

    def seek(self, *args: Any) -> int:
        return self.f.seek(*args)

    def fileno(self) -> int:
        return self.f.fileno()


def save(
    ckpt: Checkpoint,
    out: str | os.PathLike,
    *,
    force: bool = False,
    verify: bool = True,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force_compute: bool = False,
) -> SaveReport:
    """Write ``ckpt`` to ``out`` (format by extension), atomically, verified before it is
    renamed into place: a failed or cancelled verification leaves no file under ``out``
    (and an existing one untouched).

    ``force_compute`` writes densely (safetensors) a tensor whose logical size dwarfs its
    stored data, which is refused otherwise (:mod:`.limits`).
    """
    if is_url(out):
        return _save_remote(ckpt, RemotePath(str(out)), force, verify=verify, progress=progress,
                            cancel=cancel, force_compute=force_compute)  # fmt: skip
    out = Path(out)
    check_output(ckpt, out, force)
    fmt = output_format(out)
    bad = placeholders(ckpt) if fmt == "torch-zip" else []
    if bad:
        shown = ", ".join(bad[:8]) + (" ..." if len(bad) > 8 else "")
        raise CheckpointError(
            f"cannot save {len(bad)} objects that were not loaded (untrusted classes): {shown}; "
            "drop them (ckpt drop --keys ...) or open the file with --trust"
        )
    rep = SaveReport(str(out), fmt)
    mat = _Materializer()

    def finish(tmp: Path, intended: dict[str, Any]) -> None:
        rep.file_bytes = tmp.stat().st_size
        if verify:
            _verify(tmp, intended, rep, cancel)

    try:
        if fmt == "safetensors":
            _write_safetensors(ckpt, out, mat, rep, progress, cancel, finish, force_compute)
        else:
            _write_torch(ckpt, out, mat, rep, progress, cancel, finish)
    except OSError as exc:
        raise CheckpointError(f"{out}: could not write ({exc.strerror or exc})") from None
    return rep


def _write_torch(ckpt, out, mat, rep, progress, cancel, finish) -> None:
    for k, e in ckpt.tensors.items():
        if e.dtype in UNSAVABLE:
            raise CheckpointError(f"{k}: torch.save cannot write dtype {e.dtype_name}; drop or cast that tensor")
    mat.spill_dir = out.parent
    obj = mat.structure(ckpt.root)
    intended = {k: mat.tensor(e.source) for k, e in ckpt.tensors.items()}
    seen: set[int] = set()
    for t in intended.values():
        if t.layout != torch.strided:
            continue
        s = t.untyped_storage()
        if s._cdata not in seen:
            seen.add(s._cdata)
            rep.nbytes += s.nbytes()
    rep.n_tensors = len(intended)
    with atomic_write(out, before_replace=lambda tmp: finish(tmp, intended)) as f:
        torch.save(obj, _CountingFile(f, rep.nbytes, progress, cancel))


def _write_safetensors(ckpt, out, mat, rep, progress, cancel, finish, force_compute=False) -> None:
    """Stream a safetensors file: header, then each tensor's bytes in order (no full copy)."""
    prefix = f"{ckpt.state_dict_key}." if ckpt.state_dict_key else ""
    model = ckpt.model_keys() if ckpt.state_dict_key is not None else list(ckpt.tensors)
    keys = model or list(ckpt.tensors)
    chosen = set(keys)
    rep.left_out = [k for k in ckpt.tensors if k not in chosen]
    if rep.left_out:
        rep.warnings.append(f"{plural(len(rep.left_out), 'tensor')} outside the model state_dict not written")
    names = {k: k[len(prefix) :] if k.startswith(prefix) else k for k in keys}
    header: dict[str, Any] = {}
    offset = 0
    intended: dict[str, torch.Tensor | _Written] = {}
    for k in keys:
        entry = ckpt.tensors[k]
        if entry.dtype not in SAFETENSORS_DTYPES:
            raise CheckpointError(f"{k}: dtype {entry.dtype_name} cannot be stored in safetensors")
        if entry.shared_with is not None and entry.shared_with in names:
            rep.shared_copies.append(names[k])
        if not _unicode(names[k]):
            raise CheckpointError(f"{k!r}: not valid Unicode (a lone surrogate); a safetensors key cannot hold it")
        n = entry.numel * entry.dtype.itemsize
        header[names[k]] = {"dtype": SAFETENSORS_DTYPES[entry.dtype], "shape": list(entry.shape),
                            "data_offsets": [offset, offset + n]}  # fmt: skip
        offset += n
    metadata = ckpt.metadata.get("__metadata__") if isinstance(ckpt.metadata.get("__metadata__"), dict) else {}
    metadata = {str(a): str(b) for a, b in (metadata or {}).items()}
    if not all(_unicode(a) and _unicode(b) for a, b in metadata.items()):
        raise CheckpointError("safetensors __metadata__ holds text that is not valid Unicode (a lone surrogate)")
    header = {"__metadata__": metadata, **header} if metadata else header
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # data starts 8-byte aligned, as the safetensors library writes
    total = offset
    rep.n_tensors, rep.nbytes = len(keys), total
    if rep.shared_copies:
        shared = plural(len(rep.shared_copies), "tensor")
        rep.warnings.append(f"{shared} shared storage; safetensors stores them as copies")
    done = 0
    with atomic_write(out, before_replace=lambda tmp: finish(tmp, intended)) as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for k in keys:
            src = ckpt.tensors[k].source
            # deferred tensors (casts, averages, DCP shards) are produced one at a time and not kept:
            # peak memory is the largest tensor, not the checkpoint; verify compares the file with the
            # digest of the bytes written instead of computing them again
            deferred = isinstance(src, DeferredTensor)
            t = src.materialize() if deferred else mat.tensor(src).detach()
            if t.layout != torch.strided or t.is_quantized or t.device.type == "meta":
                raise CheckpointError(f"{k}: sparse, quantized and meta tensors cannot be stored in safetensors")
            check_work(k, t.numel(), stored_elements(t), force_compute, "writing it out densely")
            digest = hashlib.sha256() if deferred else None
            done = _write_bytes(f, t, digest, cancel, progress, (done, total, names[k]))
            if digest is not None:
                intended[names[k]] = _Written(t.dtype, tuple(t.shape), t.numel() * t.dtype.itemsize, digest.digest())
                del t
                release_memory()
            else:
                intended[names[k]] = t


def _write_bytes(
    f: Any,
    t: torch.Tensor,
    digest: Any,
    cancel: CancelToken | None,
    progress: ProgressFn | None,
    at: tuple[int, int, str],
) -> int:
    """Write ``t``'s bytes (feeding ``digest`` with them too); ``at``: elements done so far, in all, and
    the tensor's name, for progress. Returns the elements done after it.

    A function of its own so that no piece of ``t`` outlives it: a view of its last piece left in a
    variable would keep the whole tensor alive while the next one is computed."""
    done, total, name = at
    for piece in _byte_pieces(t):
        check(cancel)
        data = memoryview(piece.numpy())
        f.write(data)
        if digest is not None:
            digest.update(data)
        done += piece.numel()
        report(progress, done, total, name)
    return done


def _byte_pieces(t: torch.Tensor) -> Iterator[torch.Tensor]:
    """The bytes of ``t`` in row-major order, a bounded piece at a time (never a full copy)."""
    if t.numel() == 0:
        return
    size = max(1, WRITE_CHUNK // t.dtype.itemsize)
    for piece in iter_chunks(t, size):
        yield piece.contiguous().view(torch.uint8)


def _unicode(text: str) -> bool:
    """Whether ``text`` encodes to UTF-8 (a pickle can hold lone surrogates; JSON readers refuse them)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def release_memory() -> None:
    """Give freed heap back to the OS (glibc keeps big freed blocks: RSS would creep up to
    the size of everything materialized so far)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _libc() -> Any:
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _libc()


def _verify(out: Path, intended: dict[str, Any], rep: SaveReport, cancel: CancelToken | None) -> None:
    """Re-open ``out`` and compare every tensor, bit for bit, with what was meant.

    Storage bytes are read back with plain reads into one reusable buffer (not a second
    memory map), so verifying a 1 GiB file does not add 1 GiB of mapped pages; the
    expected bytes are produced a bounded piece at a time.
    """
    from .open import open_checkpoint

    def fail(key: str, why: str) -> CheckpointError:
        return CheckpointError(f"{out}: verification failed: {key} {why}")

    buffer = bytearray(VERIFY_CHUNK)
    checked: set[int] = set()
    with open_checkpoint(out, device="cpu") as written, open(out, "rb") as f:
        for key, t in intended.items():
            check(cancel)
            entry = written.tensors.get(key)
            if entry is None:
                raise fail(key, "is missing")
            src = entry.source
            if isinstance(t, _Written):  # computed for the save: the file's bytes against the digest taken
                if not isinstance(src, LazyTensor) or src.dtype != t.dtype or src.shape != t.shape:
                    raise fail(key, f"was written as {list(entry.shape)} {entry.dtype_name}")
                if src.storage.nbytes != t.nbytes:
                    raise fail(key, "has the wrong number of bytes")
                if _file_sha256(f, src.storage.source.file_offset(src.storage), t.nbytes, buffer, cancel) != t.sha256:
                    raise fail(key, "differs from what was meant to be written")
                continue
            plain = t.layout == torch.strided and not t.is_quantized
            if not (isinstance(src, LazyTensor) and plain):
                if not _bit_equal(written.tensor(key), t):
                    raise fail(key, "differs from what was meant to be written")
                continue
            if src.dtype != t.dtype or src.shape != tuple(t.shape):
                raise fail(key, f"was written as {list(src.shape)} {src.dtype}")
            ref = src.storage
            whole = t.untyped_storage()
            same_layout = src.offset == t.storage_offset() and src.stride == t.stride()
            if same_layout and ref.nbytes == whole.nbytes():  # .pth: the whole storage, once
                if id(ref) in checked:
                    continue
                checked.add(id(ref))
                pieces: Iterator[torch.Tensor] = iter([torch.empty((0,), dtype=torch.uint8).set_(whole)])
                nbytes = whole.nbytes()
            else:  # safetensors: the tensor's own bytes, in row-major order
                pieces, nbytes = _byte_pieces(t), t.numel() * t.dtype.itemsize
            if nbytes != ref.nbytes:
                raise fail(key, "has the wrong number of bytes")
            if not _file_matches(f, ref.source.file_offset(ref), pieces, buffer, cancel):
                raise fail(key, "differs from what was meant to be written")
    rep.verified = True


def _file_matches(
    f: Any, offset: int, pieces: Iterator[torch.Tensor], buffer: bytearray, cancel: CancelToken | None
) -> bool:
    """Whether the file holds, from ``offset`` on, the bytes of ``pieces`` one after another."""
    pos = offset
    for expected in pieces:
        n = expected.numel()
        done = 0
        while done < n:
            check(cancel)
            size = min(len(buffer), n - done)
            f.seek(pos)
            view = memoryview(buffer)[:size]
            if f.readinto(view) != size:
                return False
            got = torch.frombuffer(view, dtype=torch.uint8)
            want = expected[done : done + size]
            if size % 8 == 0 and want.data_ptr() % 8 == 0:  # compare 8 bytes at a time: 5x faster
                got, want = got.view(torch.int64), want.view(torch.int64)
            if not torch.equal(got, want):
                return False
            done += size
            pos += size
    return True


def _file_sha256(f: Any, offset: int, nbytes: int, buffer: bytearray, cancel: CancelToken | None) -> bytes | None:
    """The SHA-256 of ``nbytes`` of the file from ``offset`` on (None if the file ends first)."""
    digest = hashlib.sha256()
    f.seek(offset)
    left = nbytes
    while left:
        check(cancel)
        view = memoryview(buffer)[: min(len(buffer), left)]
        got = f.readinto(view)
        if not got:
            return None
        digest.update(view[:got])
        left -= got
    return digest.digest()


def _bit_equal(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Same dtype, shape and bytes (NaN payloads included)."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if a.device.type == "meta" or b.device.type == "meta":  # no data: shape and dtype are all there is
        return a.device.type == b.device.type
    if a.is_quantized or b.is_quantized:
        return bool(torch.equal(a.int_repr(), b.int_repr())) and a.qscheme() == b.qscheme()
    if a.layout != torch.strided or b.layout != torch.strided:  # compare parts, never densify
        if a.layout != b.layout:
            return False
        return all(_bit_equal(x, y) for x, y in zip(_sparse_parts(a), _sparse_parts(b)))
    if a.numel() == 0:
        return True
    av = a.detach().contiguous().reshape(-1).view(torch.uint8)
    bv = b.detach().contiguous().reshape(-1).view(torch.uint8)
    return bool(torch.equal(av, bv))


def _sparse_parts(t: torch.Tensor) -> tuple[torch.Tensor, ...]:
    if t.layout == torch.sparse_coo:
        c = t.coalesce()
        return c.indices(), c.values()
    if t.layout in (torch.sparse_csr, torch.sparse_bsr):
        return t.crow_indices(), t.col_indices(), t.values()
    return t.ccol_indices(), t.row_indices(), t.values()


__all__ = ["SaveReport", "check_output", "output_format", "placeholders", "save"]
