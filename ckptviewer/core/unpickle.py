"""A restricted unpickler that never runs code from a checkpoint.

Every global a pickle names goes through :meth:`RestrictedUnpickler.find_class`, the only
door through which pickle reaches Python objects. It answers with

* a lazy rebuilder for torch's tensor-rebuild functions (no data is read),
* the real object for torch's own weights-only allowlist,
* the real object for a few inert types (``argparse.Namespace``, numpy arrays and
  scalars, pure paths, datetimes, torch enums) that training scripts commonly save,
* and an inert :class:`Opaque` placeholder type for everything else. Calling,
  instantiating or setting state on a placeholder only records the arguments.

Globals outside torch's weights-only allowlist are collected in ``unsafe_globals``;
those that became placeholders (and so were not executed) also in ``blocked_globals``.
"""

from __future__ import annotations

import _compat_pickle
import argparse
import builtins
import collections
import datetime
import enum
import io
import pathlib
import pickle
import sys
from collections.abc import Callable
from typing import Any

import torch

from .lazy import LazyTensor, StorageRef, contiguous_stride


class Opaque:
    """An object the checkpoint referenced but that was not executed or imported.

    Placeholder types are created per global name (``posix.system``,
    ``mylib.models.ResNet``); the class attribute ``ckpt_global`` holds that name. An
    instance remembers what pickle tried to do with it: constructor ``args``, ``state``
    from BUILD, and ``items``/``dictitems`` from APPENDS/SETITEMS.
    """

    ckpt_global = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> Opaque:
        obj = object.__new__(cls)
        obj.__dict__["_ckpt"] = {"args": args, "kwargs": kwargs}
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    # pickle protocol hooks: record, never act
    def __setstate__(self, state: Any) -> None:
        self.__dict__["_ckpt"]["state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__["_ckpt"].setdefault("dictitems", {})[key] = value

    def append(self, item: Any) -> None:
        self.__dict__["_ckpt"].setdefault("items", []).append(item)

    def extend(self, items: Any) -> None:
        self.__dict__["_ckpt"].setdefault("items", []).extend(items)

    def __call__(self, *args: Any, **kwargs: Any) -> Opaque:
        return placeholder_type(f"{self.ckpt_global}(...)")(*args, **kwargs)

    def __reduce__(self):  # saving a placeholder back would write a lie
        raise TypeError(f"{self.ckpt_global} was not loaded (untrusted); it cannot be saved")

    def __repr__(self) -> str:
        return f"<{self.ckpt_global}: not executed>"

    @property
    def ckpt_args(self) -> tuple:
        return self.__dict__["_ckpt"]["args"]

    @property
    def ckpt_state(self) -> Any:
        return self.__dict__["_ckpt"].get("state")

    @property
    def ckpt_items(self) -> list:
        return self.__dict__["_ckpt"].get("items", [])

    @property
    def ckpt_dictitems(self) -> dict:
        return self.__dict__["_ckpt"].get("dictitems", {})


_placeholder_types: dict[str, type[Opaque]] = {}


def placeholder_type(name: str) -> type[Opaque]:
    """The (cached) placeholder type standing for the global ``name``."""
    cls = _placeholder_types.get(name)
    if cls is None:
        short = name.rsplit(".", 1)[-1] or "Opaque"
        cls = type(short, (Opaque,), {"ckpt_global": name, "__module__": "ckptviewer.placeholder"})
        _placeholder_types[name] = cls
    return cls


# --- lazy versions of torch's tensor rebuild functions ---------------------------------


def _lazy(storage: Any, offset: int, size: Any, stride: Any, dtype: torch.dtype | None = None) -> Any:
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("tensor record without a storage")
    shape = tuple(map(int, size))
    strides = tuple(map(int, stride)) if stride is not None else contiguous_stride(shape)
    if len(strides) != len(shape) or (shape and min(shape) < 0) or offset < 0:
        raise pickle.UnpicklingError(f"tensor record with an impossible shape {list(shape)}")
    return LazyTensor(storage, int(offset), shape, strides, dtype or storage.dtype)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _lazy(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    t = _lazy(storage, storage_offset, size, stride)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    t = _lazy(storage, storage_offset, size, stride, dtype=dtype)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    if isinstance(data, LazyTensor):
        data.is_parameter = True
        data.requires_grad = bool(requires_grad)
        return data
    if isinstance(data, torch.Tensor):
        return torch.nn.Parameter(data, requires_grad=bool(requires_grad))
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    result = func(*args)
    if isinstance(result, LazyTensor):
        if new_type is torch.nn.Parameter:
            result.is_parameter = True
        elif new_type is not torch.Tensor:
            result.subclass = getattr(new_type, "ckpt_global", None) or getattr(new_type, "__qualname__", "?")
    return result


def _materialized(value: Any) -> Any:
    """Turn lazy records into real (memory-mapped) torch objects, for rare rebuilders."""
    if isinstance(value, StorageRef):
        return torch.storage.TypedStorage(wrap_storage=value.load(), dtype=value.dtype, _internal=True)
    if isinstance(value, LazyTensor):
        return value.materialize()
    if isinstance(value, tuple):
        return tuple(_materialized(v) for v in value)
    if isinstance(value, list):
        return [_materialized(v) for v in value]
    return value


def _eager(name: str, func: Callable) -> Callable:
    """Wrap a rarely used torch rebuilder: real storages in, an Opaque out if it fails."""

    def rebuild(*args: Any) -> Any:
        try:
            return func(*_materialized(args))
        except Exception as exc:  # a damaged record must not fail the whole file
            return placeholder_type(f"{name} (failed: {exc})")(*args)

    return rebuild


def _cpu_from_device_tensor(data, dtype, device, requires_grad):
    # torch would move the tensor to `device` (maybe cuda): keep it on the CPU
    return _materialized(data).to(dtype).requires_grad_(bool(requires_grad))


def _safe_reconstructor(cls, base, state):
    """copyreg._reconstructor for allowed or placeholder classes only."""
    if isinstance(cls, type) and issubclass(cls, Opaque):
        return cls(state) if state is not None else cls()
    if base is object:
        return object.__new__(cls)
    return base.__new__(cls, state)


_LAZY = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": _cpu_from_device_tensor,
    "copyreg._reconstructor": _safe_reconstructor,
}


def _torch_allowlist() -> dict[str, Any]:
    from torch._weights_only_unpickler import _get_allowed_globals

    return dict(_get_allowed_globals())


def _inert_types() -> dict[str, Any]:
    """Types that are pure data: loading them runs no code from the file."""
    inert: dict[str, Any] = {
        "argparse.Namespace": argparse.Namespace,
        "pathlib.PosixPath": pathlib.PurePosixPath,
        "pathlib.WindowsPath": pathlib.PureWindowsPath,
        "pathlib.Path": pathlib.PurePath,
        "pathlib.PurePosixPath": pathlib.PurePosixPath,
        "pathlib.PureWindowsPath": pathlib.PureWindowsPath,
        "pathlib.PurePath": pathlib.PurePath,
        "collections.defaultdict": collections.defaultdict,
        "collections.deque": collections.deque,
    }
    for name in ("datetime", "date", "time", "timedelta", "timezone"):
        inert[f"datetime.{name}"] = getattr(datetime, name)
    # no bytes/range: bytes(10**11) or list(range(10**11)) would be a memory bomb
    for name in ("dict", "list", "tuple", "int", "float", "str", "bool", "frozenset", "slice"):
        inert[f"builtins.{name}"] = getattr(builtins, name)
    try:
        import numpy as np
        from numpy._core import multiarray
    except ImportError:  # numpy < 2 or absent: numpy objects become placeholders
        return inert
    for core in ("numpy.core", "numpy._core"):
        inert[f"{core}.multiarray._reconstruct"] = multiarray._reconstruct
        inert[f"{core}.multiarray.scalar"] = multiarray.scalar
    inert["numpy.ndarray"] = np.ndarray
    inert["numpy.dtype"] = np.dtype
    for name in dir(np.dtypes):
        if name.endswith("DType"):
            inert[f"numpy.dtypes.{name}"] = getattr(np.dtypes, name)
    return inert


_ALLOWED: dict[str, Any] | None = None
_INERT: dict[str, Any] | None = None


def _tables() -> tuple[dict[str, Any], dict[str, Any]]:
    global _ALLOWED, _INERT
    if _ALLOWED is None:
        _ALLOWED = _torch_allowlist()
        _INERT = _inert_types()
    return _ALLOWED, _INERT  # type: ignore[return-value]


def _storage_type(module: str, name: str) -> Any:
    """The dtype carrier for ``torch.FloatStorage``-style names, or None."""
    if module not in ("torch", "torch.cuda", "torch.storage") or not name.endswith("Storage"):
        return None
    if name == "UntypedStorage":
        return StorageType(torch.uint8)
    try:
        return StorageType(torch.storage._get_dtype_from_pickle_storage_type(name))
    except KeyError:
        return None


class StorageType:
    """What ``torch.FloatStorage`` means inside a pickle: a dtype for persistent_load."""

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


def _torch_enum(module: str, name: str) -> Any:
    """An enum class from an already imported torch module (never triggers an import)."""
    if not (module == "torch" or module.startswith("torch.")):
        return None
    mod = sys.modules.get(module)
    obj = getattr(mod, name, None) if mod is not None else None
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return obj
    return None


class RestrictedUnpickler(pickle.Unpickler):
    """pickle.Unpickler whose ``find_class`` only hands out allowed or inert objects."""

    def __init__(self, file: Any, persistent_load: Callable[[Any], Any] | None = None) -> None:
        super().__init__(file, encoding="utf-8")
        self.unsafe_globals: set[str] = set()
        self.blocked_globals: set[str] = set()
        if persistent_load is not None:
            self.persistent_load = persistent_load

    def find_class(self, module: str, name: str) -> Any:
        if not isinstance(module, str) or not isinstance(name, str):
            raise pickle.UnpicklingError("malformed global reference")
        # protocol 2 (torch.save's default) writes Python 2 names such as __builtin__.set;
        # pickle's own find_class maps them, and this override must too
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if module == "torch.tensor":  # renamed in torch 1.9; torch maps it the same way
            module = "torch._tensor"
        full = f"{module}.{name}"
        storage = _storage_type(module, name)
        if storage is not None:
            return storage
        if full in _LAZY:
            return _LAZY[full]
        allowed, inert = _tables()
        if full in allowed:
            obj = allowed[full]
            if full.startswith("torch._utils._rebuild") or full.startswith("torch._tensor._rebuild"):
                return _eager(full, obj)
            return obj
        self.unsafe_globals.add(full)
        if full in inert:
            return inert[full]
        enum_type = _torch_enum(module, name)
        if enum_type is not None:
            return enum_type
        self.blocked_globals.add(full)
        return placeholder_type(full)


def restricted_loads(data: bytes) -> Any:
    """Unpickle a small header pickle (no storages) with the restricted unpickler."""
    return RestrictedUnpickler(io.BytesIO(data)).load()
