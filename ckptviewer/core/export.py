"""Write a tensor to .npy and statistics to CSV, atomically (never a half-written file)."""

from __future__ import annotations

import contextlib
import csv
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

import numpy as np
import torch

from .checkpoint import Checkpoint
from .limits import check_dense, check_work
from .progress import CancelToken, ProgressFn, check, report
from .stats import TensorStats, dense_values, stored_elements


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike, mode: str = "wb", before_replace: Callable[[Path], None] | None = None
) -> Iterator[IO]:
    """Write to a temporary file beside ``path``, fsync it, then rename it into place.

    ``before_replace(tmp)`` runs on the complete temporary file first (verification): if it
    raises, nothing is renamed. If anything fails, the temporary file is removed and
    ``path`` is left as it was.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        # mkstemp makes 0600 files; give the mode a plain open() would (or the replaced file's)
        os.fchmod(fd, _mode_for(path))
        text = {"newline": "", "encoding": "utf-8", "errors": "backslashreplace"}  # lone surrogates stay visible
        with open(fd, mode, **({} if "b" in mode else text)) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if before_replace is not None:
            before_replace(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _mode_for(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    # /proc avoids os.umask(0)'s moment of a zero umask for every other thread
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


def tensor_to_numpy(t: torch.Tensor, key: str = "", force: bool = False) -> np.ndarray:
    """A numpy copy; dtypes numpy lacks (bfloat16, float8) become float32.

    The copy is dense: one of a tensor whose logical size dwarfs its stored data is
    refused (:mod:`.limits`) unless ``force``.
    """
    t = dense_values(t, key, force).detach().cpu()
    check_work(key, t.numel(), stored_elements(t), force, "an export")
    check_dense(key, t.numel(), max(t.dtype.itemsize, 4), force, "an exported copy")
    if t.dtype == torch.bfloat16 or (t.dtype.is_floating_point and t.dtype.itemsize == 1):
        t = t.float()
    return t.contiguous().numpy()


def export_npy(
    ckpt: Checkpoint,
    key: str,
    path: str | os.PathLike,
    force: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Save tensor ``key`` of ``ckpt`` as a .npy file, in chunks that report progress and honour a cancel."""
    array = tensor_to_numpy(ckpt.tensor(key), key, force)
    data = memoryview(array.reshape(-1).view(np.uint8).data) if array.size else memoryview(b"")
    with atomic_write(path) as f:
        _npy_header(f, array)
        for start in range(0, len(data), NPY_CHUNK):
            check(cancel)
            f.write(data[start : start + NPY_CHUNK])
            report(progress, min(start + NPY_CHUNK, len(data)), len(data), f"Writing {Path(path).name}")
    return Path(path)


NPY_CHUNK = 16 << 20


def _npy_header(f: IO, array: np.ndarray) -> None:
    """The header np.save writes: version 1.0, or 2.0 when the shape does not fit in it."""
    header = np.lib.format.header_data_from_array_1_0(array)
    try:
        np.lib.format.write_array_header_1_0(f, header)
    except ValueError:
        np.lib.format.write_array_header_2_0(f, header)


STATS_COLUMNS = ("key", "numel", "min", "max", "mean", "std", "l2", "n_nan", "n_inf", "n_zero")


def csv_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula.

    Text that starts with ``= + - @``, a tab or a carriage return gets a leading quote
    (OWASP's advice for CSV injection); numbers are written as numbers.
    """
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_stats_csv(stats: list[TensorStats], path: str | os.PathLike) -> Path:
    """One row per tensor, the columns of ``ckpt stats``; empty cells for undefined values."""
    with atomic_write(path, "w") as f:
        writer = csv.writer(f)
        writer.writerow(STATS_COLUMNS)
        for s in stats:
            row = s.to_json()
            writer.writerow([csv_cell(row[c]) for c in STATS_COLUMNS])
    return Path(path)
