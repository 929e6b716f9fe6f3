"""open_checkpoint: sniff the format, read it safely and lazily, index what is inside."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .assemble import assemble
from .checkpoint import Checkpoint
from .errors import CheckpointError, DeviceError, NotACheckpointError
from .filemap import is_remote
from .formats import Loaded
from .formats.folders import PEFT, folder_kind, load_hf_sharded, load_peft, load_single
from .formats.gguf_file import load_gguf
from .formats.pt2 import is_pt2, load_pt2
from .formats.safetensors_file import load_safetensors
from .formats.sniff import GGUF, SAFETENSORS, TORCH_LEGACY, TORCH_TAR, TORCH_ZIP, check_path, sniff
from .formats.torch_legacy import load_legacy
from .formats.torch_zip import load_zip
from .progress import CancelToken, ProgressFn, cancel_scope, check, gc_paused, report, step_scope
from .remote import as_path

if TYPE_CHECKING:
    import torch

DCP = "dcp"  # folder_kind's name for a torch.distributed.checkpoint folder


def _load_zip(path: Path, size: int) -> Loaded:
    """A torch.save zip, or else a torch.export archive (both are zips; the records tell)."""
    try:
        return load_zip(path, size)
    except NotACheckpointError:
        if is_pt2(path):
            return load_pt2(path, size)
        raise


_READERS = {TORCH_ZIP: _load_zip, TORCH_LEGACY: load_legacy, SAFETENSORS: load_safetensors, GGUF: load_gguf}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N`` into a device that exists, or raise."""
    import torch

    name = str(device).strip().lower()
    if name == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, ValueError):
        raise DeviceError(f"unknown device {device!r}: use auto, cpu, cuda or cuda:N") from None
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(
                f"device {name!r} was asked for, but this machine has no usable CUDA GPU; use --device cpu"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise DeviceError(f"device {name!r} does not exist: this machine has {count} CUDA device(s)")
        return dev
    raise DeviceError(f"device {name!r} is not supported: use auto, cpu, cuda or cuda:N")


def resolve_device_name(device: str | torch.device = "auto") -> str:
    """``str(resolve_device(device))``, without importing torch where the answer needs none.

    ``cpu`` is always ``cpu``; ``auto`` is ``cpu`` on a machine without any GPU device node
    (torch cannot see a GPU there either). Otherwise torch is asked.
    """
    name = str(device).strip().lower()
    if name == "cpu" or (name == "auto" and not _gpu_device_nodes()):
        return "cpu"
    return str(resolve_device(device))


def _gpu_device_nodes() -> bool:
    """Whether this machine shows a device node a GPU build of torch could use (NVIDIA,
    AMD ROCm, WSL's GPU); without one ``torch.cuda.is_available()`` is False."""
    if os.name != "posix":
        return True  # no cheap answer elsewhere: ask torch
    dev = Path("/dev")
    try:
        return any(n.startswith("nvidia") or n in ("kfd", "dxg") for n in os.listdir(dev))
    except OSError:
        return True


def available_devices() -> list[str]:
    """Devices a user can pick: auto, cpu and each CUDA device present."""
    import torch

    cuda = [f"cuda:{i}" for i in range(torch.cuda.device_count())] if torch.cuda.is_available() else []
    return ["auto", "cpu", *cuda]


def open_checkpoint(
    path: str | os.PathLike,
    device: str | torch.device = "auto",
    *,
    trust: bool = False,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
) -> Checkpoint:
    """Open the checkpoint at ``path`` without running code from it or reading tensor data.

    ``device`` is where statistics will be computed; tensors are always mapped onto the
    CPU first, so a file saved on ``cuda:0`` opens on a machine without a GPU.
    ``trust=True`` unpickles with full ``torch.load`` (runs code named by the file).
    Raises :class:`CheckpointError` with a one-line message on any bad input.
    """
    with cancel_scope(cancel):
        return _open(as_path(path), resolve_device_name(device), trust, progress, cancel)


def _open(path: Path, dev: str, trust: bool, progress: ProgressFn | None, cancel: CancelToken | None) -> Checkpoint:
    report(progress, 0, 3, f"Reading {path.name}")
    if is_remote(path) and trust:
        raise CheckpointError(f"{path}: Trust runs code from the file; download it and open the local copy to trust it")
    is_dir = path.is_dir()
    if is_dir and is_remote(path):
        path.list_folder()  # type: ignore[attr-defined]  # one listing answers every "is X there?" below
    folder = folder_kind(path) if is_dir or path.name.endswith(".index.json") else None
    if folder is None:
        fmt = sniff(path)
        size = check_path(path).st_size
    check(cancel)
    report(progress, 1, 3, "Unpickling")
    with gc_paused():
        with step_scope(progress, 1, 3):  # shard by shard, for folders
            loaded = _read_folder(folder, trust) if folder is not None else _read(path, size, fmt, trust)
        check(cancel)
        report(progress, 2, 3, "Indexing")
        try:
            ckpt = assemble(path, loaded, dev, trust)
        except Exception as exc:
            if loaded.close:
                loaded.close()
            if isinstance(exc, CheckpointError):
                raise
            # a structure nothing legitimate produces (hostile or corrupt): one clear line
            raise CheckpointError(f"{path}: cannot index the checkpoint ({type(exc).__name__}: {exc})") from None
    report(progress, 3, 3, "Done")
    return ckpt


def _read(path: Path, size: int, fmt: str, trust: bool) -> Loaded:
    if trust:
        from .formats.trusted import load_trusted  # torch.load: imports torch

        return load_trusted(path, size, fmt)
    if fmt == TORCH_TAR:
        raise NotACheckpointError(f"{path}: an old tar-format torch checkpoint (torch < 0.4); open it with --trust")
    try:
        return _READERS[fmt](path, size)
    except RecursionError:
        raise CheckpointError(f"{path}: the pickle is nested too deeply to read safely") from None
    except MemoryError:
        raise CheckpointError(f"{path}: the file asks for more memory than this machine has") from None


def _read_folder(folder: tuple[str, Path], trust: bool) -> Loaded:
    kind, file = folder
    if kind == DCP:
        from .formats.dcp import load_dcp  # imported when a DCP folder is opened (no torch needed)

        return load_dcp(file, _READERS)
    if kind == "single":
        return _read(file, file.stat().st_size, sniff(file), trust) if trust else load_single(file, _READERS)
    if kind == PEFT:
        return load_peft(file, _READERS)
    return load_hf_sharded(file, _READERS)
