"""From what a reader found (or an edit rearranged) to a :class:`Checkpoint`.

:func:`assemble` indexes an unpickled root: every tensor gets its dotted key (repeats
renamed ``key~2``), a :class:`TensorEntry` with its storage identity, and the model
state_dict, wrapper prefixes and flavor are located. :func:`derive` does the same for an
edited root, sharing the opened checkpoint's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

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
from .dtype_names import itemsize, name_of
from .errors import CheckpointError
from .formats import Loaded
from .index import walk
from .lazy import CastTensor, DeferredTensor, LazyTensor
from .progress import check_current, gc_paused

if TYPE_CHECKING:
    import torch


def assemble(path: Path, loaded: Loaded, device: str, trust: bool) -> Checkpoint:
    """The Checkpoint of what a reader found: tensors named and located, the model found."""
    found = walk(loaded.root)
    entries: dict[str, TensorEntry] = {}
    first_by_storage: dict[str, str] = {}
    warnings = list(loaded.warnings) + found.warnings
    repeats: dict[str, int] = {}  # next suffix per repeated key: renaming stays linear
    for key, value in found.tensors:
        check_current()
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
        known = getattr(entries[k].source, "is_buffer", False)
        buffer = k in found.buffers or known or k.rsplit(".", 1)[-1] in BUFFER_NAMES
        entries[k].role = BUFFER if buffer else PARAMETER
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
        device_name=str(device),
        trusted=trust,
        root=loaded.root,
        _close=loaded.close,
        flavor=flavor,
        files=list(loaded.files) or [path],
        state_dict_path=(() if sd_key == "" else container.raw if container is not None else None),
    )


def derive(ckpt: Checkpoint, root: Any, report: Any) -> Checkpoint:
    """A new Checkpoint over an edited ``root``, sharing ``ckpt``'s files; ``report`` joins its history."""
    opened = ckpt.opened
    # what readers add beside the root: safetensors' __metadata__, a GGUF file's key-values
    kept = ("__metadata__", "gguf", "gguf_file")
    extra: dict[str, Any] = {k: opened.metadata[k] for k in kept if k in opened.metadata}
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
        new = assemble(ckpt.path, loaded, ckpt.device_name, ckpt.trusted)
    new.history = (*ckpt.history, report)
    new.origin = opened
    new.companions = ckpt.companions
    return new


def _entry(path: Path, key: str, value: LazyTensor | CastTensor | torch.Tensor) -> TensorEntry:
    if isinstance(value, CastTensor):
        base = _entry(path, key, value.base)
        storage_key = f"cast:{value.dtype}:{base.storage_key}:{_view_of(value.base)}"
        nbytes = value.numel * itemsize(value.dtype_name)
        return TensorEntry(key, value.shape, value.dtype_name, storage_key, nbytes, None, value)
    if isinstance(value, DeferredTensor):
        encoding = getattr(value, "encoding", None)  # stored otherwise than as its dtype (GGUF blocks)
        nbytes = value.stored_nbytes if encoding else value.numel * itemsize(value.dtype_name)  # type: ignore[attr-defined]
        storage_key = f"deferred:{id(value):x}"
        return TensorEntry(key, tuple(value.shape), value.dtype_name, storage_key, nbytes, None, value,
                           encoding=encoding)  # fmt: skip
    if isinstance(value, LazyTensor):
        ref = value.storage
        if value.extent() > ref.numel:
            raise CheckpointError(
                f"{path}: tensor {key!r} of shape {list(value.shape)} needs {value.extent()} elements "
                f"but its storage holds {ref.numel} (damaged or forged file)"
            )
        # record names ("0", "1", ...) repeat in every file: a graft mixes two files
        storage_key = f"{id(ref.source):x}/{ref.key}" + (f"@{ref.byte_offset}" if ref.byte_offset else "")
        return TensorEntry(key, value.shape, value.dtype_name, storage_key, ref.nbytes, ref.location, value)
    t = value
    try:
        storage = t.untyped_storage()
        storage_key, nbytes = f"ptr:{storage.data_ptr()}:{storage.nbytes()}", storage.nbytes()
    except (RuntimeError, NotImplementedError):  # sparse, nested, meta: no plain storage
        storage_key, nbytes = f"id:{id(t)}", t.numel() * t.element_size()
    return TensorEntry(key, tuple(t.shape), name_of(t.dtype), storage_key, nbytes, None, t, role=OTHER)


def _view_of(t: LazyTensor | DeferredTensor | torch.Tensor) -> tuple:
    """What makes two views of one storage the same tensor (for shared casts)."""
    if isinstance(t, LazyTensor):
        return (t.offset, t.shape, t.stride)
    if isinstance(t, DeferredTensor):  # a DCP tensor: itself
        return (id(t),)
    return (t.storage_offset(), tuple(t.shape), t.stride())
