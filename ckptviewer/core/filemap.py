"""Bytes of a checkpoint file for torch: a private memory map, local or remote.

Readers hand out tensor bytes as views of one private map of the whole file. A remote
object (``core.remote.RemotePath``) is mapped through its local block-cache file: the
bytes a view covers are fetched (by range, in parallel) before the view is returned, so
the same reader code serves both.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch


class PositionedReader(io.RawIOBase):
    """A read-only, seekable raw file of ``length`` bytes whose subclass says how to ``readinto``
    at ``self.pos`` (a window of a file, a remote object through its block cache)."""

    length = 0
    pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, pos: int, whence: int = 0) -> int:
        self.pos = max(0, pos if whence == 0 else self.pos + pos if whence == 1 else self.length + pos)
        return self.pos


def is_remote(path: Any) -> bool:
    """Whether ``path`` names a remote object (a RemotePath) rather than a local file."""
    return bool(getattr(path, "is_remote", False))


def file_size(path: Path) -> int:
    """The size of the file in bytes (a remote object's from its listing, no data read)."""
    return path.stat().st_size if is_remote(path) else os.path.getsize(path)


def map_file(path: Path, size: int) -> torch.UntypedStorage:
    """A private (copy-on-write) memory map of the first ``size`` bytes of ``path``.

    Remote objects are mapped through their cache file; call :func:`fetch` for the bytes
    before touching them.
    """
    import torch

    local = str(path)
    if is_remote(path):
        # the open cache file itself (by its descriptor): if the cache file is removed meanwhile, the
        # map and the downloads still go to the same file
        fd = path.block_cache()._fd  # type: ignore[attr-defined]
        local = f"/proc/self/fd/{fd}" if os.path.exists(f"/proc/self/fd/{fd}") else str(path.cache_file())  # type: ignore[attr-defined]
    return torch.UntypedStorage.from_file(local, False, size)  # type: ignore[return-value]


AHEAD_MIN = 1 << 20  # spans from this size on are asked of the disk ahead
AHEAD_MAX = 512 << 20  # at most this much per span: the rest comes with the kernel's own read-ahead
AHEAD_PAST = 32 << 20  # and this much past its end: the next tensor arrives while this one is computed on


def fetch(path: Path, start: int, stop: int) -> None:
    """Make bytes ``start:stop`` ready to read: a remote object's fetched into its cache file; a
    local file's asked of the disk at once (``posix_fadvise(WILLNEED)``, in the background).

    Tensors read side by side from several files (an average of five checkpoints, a diff, a run)
    would otherwise reach the disk as page faults hopping between the files, a few hundred KiB
    each: 8x slower than reading the files one after the other.
    """
    if stop <= start:
        return
    if is_remote(path):
        path.fetch(start, stop)  # type: ignore[attr-defined]
    elif stop - start >= AHEAD_MIN and hasattr(os, "posix_fadvise"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return  # a hint only: the read itself reports what is wrong
        try:
            os.posix_fadvise(fd, start, min(stop - start + AHEAD_PAST, AHEAD_MAX), os.POSIX_FADV_WILLNEED)
        except OSError:
            pass
        finally:
            os.close(fd)


def view(mapped: torch.UntypedStorage, path: Path, first: int, nbytes: int, itemsize: int) -> torch.UntypedStorage:
    """Bytes ``first:first+nbytes`` of ``mapped`` (the map of ``path``), fetched if remote;
    copied into aligned memory when ``first`` is not a multiple of ``itemsize``."""
    import torch

    if is_remote(path):
        copied = path.read_span(first, nbytes)  # type: ignore[attr-defined]
        if copied is not None:
            return copied  # type: ignore[no-any-return]
    else:
        fetch(path, first, first + nbytes)
    part: torch.UntypedStorage = mapped[first : first + nbytes]  # type: ignore[assignment]
    if itemsize > 1 and first % itemsize:
        copy = torch.UntypedStorage(nbytes)
        copy.copy_(part)
        return copy
    return part


SPILL = 64 << 20  # computed tensors at least this large live in a file the kernel may page out


def file_backed_empty(numel: int, dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised 1-D tensor; from :data:`SPILL` bytes on, backed by an unlinked temporary file
    (shared map) instead of anonymous memory, so a large computed tensor (a dequantized GGUF weight)
    does not have to fit in RAM. A failure to allocate is a one-line CheckpointError."""
    import tempfile

    import torch

    from .errors import CheckpointError

    nbytes = numel * dtype.itemsize
    if nbytes < SPILL:
        return torch.empty(numel, dtype=dtype)
    fd, name = tempfile.mkstemp(prefix=".ckptviewer-values-")
    try:
        os.ftruncate(fd, nbytes)
        storage = torch.UntypedStorage.from_file(name, True, nbytes)
    except (OSError, RuntimeError) as exc:
        raise CheckpointError(f"cannot make room for {nbytes >> 20} MiB of values ({exc})") from None
    finally:
        os.close(fd)
        os.unlink(name)
    return torch.empty((0,), dtype=dtype).set_(storage, 0, (numel,), (1,))  # type: ignore[arg-type]
