"""Fuzz targets: each takes the fuzzer's bytes and drives ckptviewer the way the CLI and GUI do.

The contract: the only exception that may leave a target is
:class:`~ckptviewer.core.errors.CheckpointError` (and subclasses). Any other exception, a
signal, a hang or a memory blow-up is a finding.

One deliberate exception to the contract: the ``unpickle`` target calls
``RestrictedUnpickler.load()`` directly, where a malformed pickle raises whatever
``pickle._Unpickler`` raises (``EOFError``, ``UnpicklingError``, ``struct.error`` ...).
Every caller wraps those into a ``CheckpointError`` (``load_zip``, ``load_legacy``,
``load_dcp``), so by default they are *soft* findings (:class:`SoftFinding`: logged with
one example, fuzzing goes on); ``set_strict(True)`` (``run.py --strict``) makes them hard.
What that target does hold as hard findings: crashes, hangs, memory, exceptions from
``index.walk`` outside the default, and any module imported while unpickling.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import pickle
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.errors import CheckpointError
from ckptviewer.core.index import walk
from ckptviewer.core.lazy import StorageRef
from ckptviewer.core.stats import histogram, tensor_stats
from ckptviewer.core.summary import info_document
from ckptviewer.core.tensor_display import can_heatmap, heatmap, values_page
from ckptviewer.core.tree import build_tree
from ckptviewer.core.unpickle import RestrictedUnpickler, StorageType

from .mutators import unpack

MAX_NUMEL = 1_000_000  # tensors larger than this are listed but not computed on
MAX_TENSORS = 4  # tensors computed on per input
HF_INDEX = "model.safetensors.index.json"
DCP_SHARD = "__0_0.distcp"
DEFAULT_SHARD = "model-00001-of-00001.safetensors"

_STRICT = False
_CHECK_IMPORTS = False


class SoftFinding(Exception):
    """An exception the ``unpickle`` target tolerates by default (its callers wrap it); see the module doc."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.exc = exc


class ImportedDuringLoad(AssertionError):
    """The restricted unpickler imported a module: the design says find_class never imports."""


def set_strict(strict: bool) -> None:
    global _STRICT
    _STRICT = strict


def check_imports(enabled: bool) -> None:
    """Turn the 'no module imported while unpickling' check on (after warm-up: lazy imports are fine then)."""
    global _CHECK_IMPORTS
    _CHECK_IMPORTS = enabled


# --- scratch space --------------------------------------------------------------------------------

_SCRATCH: Path | None = None


def scratch() -> Path:
    """A per-process folder (in RAM where possible) that the file targets write into."""
    global _SCRATCH
    if _SCRATCH is None:
        base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
        _SCRATCH = Path(tempfile.mkdtemp(prefix="ckptfuzz-", dir=base))
    return _SCRATCH


def cleanup() -> None:
    global _SCRATCH
    if _SCRATCH is not None:
        shutil.rmtree(_SCRATCH, ignore_errors=True)
        _SCRATCH = None


def _fresh_dir(name: str) -> Path:
    d = scratch() / name
    if d.exists():
        shutil.rmtree(d)
    d.mkdir()
    return d


# --- what the CLI/GUI do with an opened checkpoint ---------------------------------------------------


def exercise(path: Path) -> None:
    """Open like ``ckpt info``, build the layer tree, and inspect a few tensors like the window does."""
    with open_checkpoint(path, device="cpu") as ckpt:
        json.dumps(info_document(ckpt), allow_nan=False)
        build_tree(ckpt)
        done = 0
        for entry in list(ckpt.tensors.values()):
            if done >= MAX_TENSORS:
                break
            if entry.numel > MAX_NUMEL:
                continue
            done += 1
            try:
                t = entry.load()
                stats = tensor_stats(t, entry.key)
                if stats.min is not None:
                    histogram(t, 16, (float(stats.min), float(stats.max)))
                if can_heatmap(entry.shape):
                    heatmap(t, max_side=32)
                values_page(t, 0, 64)
                values_page(t, max(entry.numel - 5, 0), 10)
            except CheckpointError:
                continue  # this tensor is refused; the others must still work


def _write(name: str, data: bytes) -> Path:
    path = scratch() / name
    path.write_bytes(data)
    return path


# --- the targets ----------------------------------------------------------------------------------


class _FakeSource:
    """A storage source for the bare unpickler: zero bytes (the rebuilders that validate data read some)."""

    MAX = 16 << 20

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, *_: Any
    ) -> torch.UntypedStorage:
        stop = ref.nbytes if stop is None else stop
        if not 0 <= start <= stop <= ref.nbytes or stop - start > self.MAX:
            raise CheckpointError(f"the unpickle target serves at most {self.MAX} zero bytes within the storage")
        return torch.zeros(stop - start, dtype=torch.uint8).untyped_storage()

    def file_offset(self, ref: StorageRef) -> int:
        return 0


_SOURCE = _FakeSource()


def _persistent_load(pid: Any) -> Any:
    """zip (5-tuple) and legacy (6-tuple) storage records, as the two readers accept them."""
    if not isinstance(pid, tuple) or not pid or pid[0] not in ("storage", b"storage"):
        if isinstance(pid, tuple) and pid and pid[0] in ("module", b"module") and len(pid) > 1:
            return pid[1]
        raise pickle.UnpicklingError("unknown persistent id")
    if len(pid) not in (5, 6) or not isinstance(pid[1], StorageType):
        raise pickle.UnpicklingError("malformed storage record")
    return StorageRef(str(pid[2]), pid[1].dtype_name, int(pid[4]), str(pid[3]), _SOURCE)


def unpickle(data: bytes) -> None:
    """``RestrictedUnpickler(data).load()``, then ``index.walk`` over the result."""
    before = set(sys.modules) if _CHECK_IMPORTS else None
    try:
        root = RestrictedUnpickler(io.BytesIO(data), _persistent_load, size=len(data)).load()
    except CheckpointError:
        raise
    except (pickle.UnpicklingError, EOFError) as exc:
        if _STRICT:
            raise CheckpointError(str(exc)) from None  # these two are how pickle says "malformed"
        raise SoftFinding(exc) from exc
    except Exception as exc:
        if _STRICT:
            raise
        raise SoftFinding(exc) from exc
    finally:
        if before is not None and len(sys.modules) != len(before):
            new = sorted(set(sys.modules) - before)
            if new:
                raise ImportedDuringLoad(f"unpickling imported {', '.join(new[:5])}")
    walk(root)


def zip_file(data: bytes) -> None:
    """The bytes as a ``.pt`` file: open, index, inspect (torch zip and TorchScript, by content)."""
    exercise(_write("fuzz.pt", data))


def legacy_file(data: bytes) -> None:
    """The bytes as a legacy ``.pt`` file (the format is sniffed from content, as for every file)."""
    exercise(_write("fuzz_legacy.pt", data))


def safetensors_file(data: bytes) -> None:
    """The bytes as a ``.safetensors`` file."""
    exercise(_write("fuzz.safetensors", data))


def dcp_folder(data: bytes) -> None:
    """A packed input (:func:`~tests.fuzz.mutators.pack`): ``.metadata``, then the ``__0_0.distcp`` shard."""
    meta, shard = unpack(data)
    folder = _fresh_dir("dcp")
    (folder / ".metadata").write_bytes(meta)
    if shard:
        (folder / DCP_SHARD).write_bytes(shard)
    exercise(folder)


def _shard_names(index: bytes) -> list[str]:
    """Shard file names the index names that are safe to create in the scratch folder."""
    try:
        doc = json.loads(index)
        names = list(dict.fromkeys(doc["weight_map"].values()))
    except Exception:  # a broken index: the shard goes under its usual name
        return [DEFAULT_SHARD]
    ok = [
        n for n in names
        if isinstance(n, str) and 0 < len(n) < 200 and "/" not in n and "\\" not in n and "\0" not in n
        and n not in (".", "..", HF_INDEX)
    ]  # fmt: skip
    return ok[:2] or [DEFAULT_SHARD]


def hf_folder(data: bytes) -> None:
    """A packed input: ``model.safetensors.index.json``, then one shard (written under the names the index uses)."""
    index, shard = unpack(data)
    folder = _fresh_dir("hf")
    (folder / HF_INDEX).write_bytes(index)
    for name in _shard_names(index):
        with contextlib.suppress(OSError):
            (folder / name).write_bytes(shard)
    exercise(folder)


TARGETS: dict[str, Callable[[bytes], None]] = {
    "unpickle": unpickle,
    "zip_pkl": zip_file,
    "zip_raw": zip_file,
    "legacy": legacy_file,
    "safetensors": safetensors_file,
    "dcp": dcp_folder,
    "hf": hf_folder,
}


def quiet() -> None:
    """No warnings on stderr (DCP's "assuming a single process", torch's TypedStorage notes)."""
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
