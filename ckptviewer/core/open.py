"""open_checkpoint: sniff the format, read it safely and lazily, index what is inside."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from .checkpoint import (
    BUFFER,
    BUFFER_NAMES,
    OTHER,
    PARAMETER,
    Checkpoint,
    TensorEntry,
    guess_flavor,
    locate_state_dict,
    wrapper_prefixes,
)
from .errors import CheckpointError, DeviceError, NotACheckpointError
from .formats import Loaded
from .formats.dcp import DCP, load_dcp
from .formats.folders import PEFT, folder_kind, load_hf_sharded, load_peft, load_single
from .formats.safetensors_file import load_safetensors
from .formats.sniff import SAFETENSORS, TORCH_LEGACY, TORCH_TAR, TORCH_ZIP, check_path, sniff
from .formats.torch_legacy import load_legacy
from .formats.torch_zip import load_zip
from .formats.trusted import load_trusted
from .index import walk
from .lazy import CastTensor, DeferredTensor, LazyTensor
from .tasks import CancelToken, ProgressFn, check, gc_paused, report

_READERS = {TORCH_ZIP: load_zip, TORCH_LEGACY: load_legacy, SAFETENSORS: load_safetensors}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``auto``/``cpu``/``cuda``/``cuda:N`` into a device that exists, or raise."""
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


def available_devices() -> list[str]:
    """Devices a user can pick: auto, cpu and each CUDA device present."""
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
    path = Path(path)
    dev = resolve_device(device)
    report(progress, 0, 3, f"Reading {path.name}")
    folder = folder_kind(path) if path.is_dir() or path.name.endswith(".index.json") else None
    if folder is None:
        fmt = sniff(path)
        size = check_path(path).st_size
    check(cancel)
    report(progress, 1, 3, "Unpickling")
    with gc_paused():
        loaded = _read_folder(folder, trust) if folder is not None else _read(path, size, fmt, trust)
        check(cancel)
        report(progress, 2, 3, "Indexing")
        try:
            ckpt = _index(path, loaded, dev, trust)
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
        return load_dcp(file, _READERS)
    if kind == "single":
        return _read(file, file.stat().st_size, sniff(file), trust) if trust else load_single(file, _READERS)
    if kind == PEFT:
        return load_peft(file, _READERS)
    return load_hf_sharded(file, _READERS)


def _index(path: Path, loaded: Loaded, device: torch.device, trust: bool) -> Checkpoint:
    found = walk(loaded.root)
    entries: dict[str, TensorEntry] = {}
    first_by_storage: dict[str, str] = {}
    warnings = list(loaded.warnings) + found.warnings
    repeats: dict[str, int] = {}  # next suffix per repeated key: renaming stays linear
    for key, value in found.tensors:
        if key in entries:
            n = repeats.get(key, 2)
            while f"{key}~{n}" in entries:
                n += 1
            repeats[key] = n + 1
            if n <= 4:
                warnings.append(f"two tensors are both named {key!r}; the second is listed as {key}~{n}")
            elif n == 5:
                warnings.append(f"more tensors are named {key!r}; they are listed as {key}~5, {key}~6, ...")
            key = f"{key}~{n}"
        entry = _entry(path, key, value)
        entry.shared_with = first_by_storage.setdefault(entry.storage_key, key)
        if entry.shared_with == key:
            entry.shared_with = None
        entries[key] = entry

    keys = list(entries)
    sd_key = locate_state_dict(found.containers, keys)
    model_prefix = "" if not sd_key else sd_key + "."
    model_keys = [k for k in keys if sd_key is not None and k.startswith(model_prefix)]
    for k in model_keys:
        entries[k].role = BUFFER if (k in found.buffers or k.rsplit(".", 1)[-1] in BUFFER_NAMES) else PARAMETER
    prefixes = wrapper_prefixes([k[len(model_prefix) :] for k in model_keys])
    metadata = found.metadata
    metadata.update(loaded.extra_metadata)
    container = found.containers.get(sd_key) if sd_key is not None else None
    lightning = isinstance(metadata, dict) and "pytorch-lightning_version" in metadata
    if lightning and not any(k == "state_dict" or k.startswith("state_dict.") for k in keys):
        warnings.append("a PyTorch Lightning checkpoint without a 'state_dict' entry: the model weights are missing")
    flavor = guess_flavor(
        metadata, sd_key, prefixes, bool(container and container.is_module), len(model_keys) < len(keys)
    )
    return Checkpoint(
        path=path,
        format=loaded.format,
        tensors=entries,
        metadata=metadata,
        saved_on=sorted(loaded.locations),
        state_dict_key=sd_key,
        prefixes=prefixes,
        unsafe_globals=sorted(loaded.unsafe_globals),
        blocked_globals=sorted(loaded.blocked_globals),
        warnings=warnings,
        device=device,
        trusted=trust,
        root=loaded.root,
        _close=loaded.close,
        flavor=flavor,
        files=list(loaded.files) or [path],
    )


def derive(ckpt: Checkpoint, root: Any, report: Any) -> Checkpoint:
    """A new Checkpoint over an edited ``root``, sharing ``ckpt``'s files; ``report`` joins its history."""
    opened = ckpt.opened
    extra = {"__metadata__": opened.metadata["__metadata__"]} if "__metadata__" in opened.metadata else {}
    loaded = Loaded(
        format=ckpt.format,
        root=root,
        locations=set(ckpt.saved_on),
        unsafe_globals=set(ckpt.unsafe_globals),
        blocked_globals=set(ckpt.blocked_globals),
        extra_metadata=extra,
        files=list(opened.files),
    )
    with gc_paused():
        new = _index(ckpt.path, loaded, ckpt.device, ckpt.trusted)
    new.history = (*ckpt.history, report)
    new.origin = opened
    new.companions = ckpt.companions
    return new


def _entry(path: Path, key: str, value: LazyTensor | CastTensor | torch.Tensor) -> TensorEntry:
    if isinstance(value, CastTensor):
        base = _entry(path, key, value.base)
        storage_key = f"cast:{value.dtype}:{base.storage_key}:{_view_of(value.base)}"
        return TensorEntry(key, value.shape, value.dtype, storage_key, value.numel * value.dtype.itemsize, None, value)
    if isinstance(value, DeferredTensor):
        nbytes = value.numel * value.dtype.itemsize
        return TensorEntry(key, tuple(value.shape), value.dtype, f"deferred:{id(value):x}", nbytes, None, value)
    if isinstance(value, LazyTensor):
        ref = value.storage
        if value.extent() > ref.numel:
            raise CheckpointError(
                f"{path}: tensor {key!r} of shape {list(value.shape)} needs {value.extent()} elements "
                f"but its storage holds {ref.numel} (damaged or forged file)"
            )
        # record names ("0", "1", ...) repeat in every file: a graft mixes two files
        storage_key = f"{id(ref.source):x}/{ref.key}" + (f"@{ref.byte_offset}" if ref.byte_offset else "")
        return TensorEntry(key, value.shape, value.dtype, storage_key, ref.nbytes, ref.location, value)
    t = value
    try:
        storage = t.untyped_storage()
        storage_key, nbytes = f"ptr:{storage.data_ptr()}:{storage.nbytes()}", storage.nbytes()
    except (RuntimeError, NotImplementedError):  # sparse, nested, meta: no plain storage
        storage_key, nbytes = f"id:{id(t)}", t.numel() * t.element_size()
    return TensorEntry(key, tuple(t.shape), t.dtype, storage_key, nbytes, None, t, role=OTHER)


def _view_of(t: LazyTensor | DeferredTensor | torch.Tensor) -> tuple:
    """What makes two views of one storage the same tensor (for shared casts)."""
    if isinstance(t, LazyTensor):
        return (t.offset, t.shape, t.stride)
    if isinstance(t, DeferredTensor):  # a DCP tensor: itself
        return (id(t),)
    return (t.storage_offset(), tuple(t.shape), t.stride())
