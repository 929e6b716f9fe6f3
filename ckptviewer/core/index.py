"""Walk an unpickled checkpoint: name every tensor, collect the rest as JSON-safe metadata.

Tensor keys are dotted paths from the root (dict keys and list indices joined by ``.``);
tensors inside a pickled ``nn.Module`` (real or placeholder) are named as its
``state_dict()`` would name them. Everything that is not a tensor becomes metadata that
``json.dumps`` accepts.
"""

from __future__ import annotations

import argparse
import datetime
import enum
import math
import pathlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .dtype_names import torch_if_loaded
from .errors import CheckpointError
from .lazy import DeferredTensor, LazyTensor, StorageRef
from .placeholders import Opaque
from .progress import check_current
from .structure import key_name, safe_repr
from .torch_values import SizeValue, TorchValue, shown

if TYPE_CHECKING:
    import torch

MAX_DEPTH = 200
MAX_LIST_METADATA = 256
MAX_STRING = 4096
MAX_KEY = 1 << 14  # characters in one tensor key (real keys are under a few hundred)
MAX_KEYS_TOTAL = 1 << 25  # characters in all keys together: a shared long prefix cannot multiply memory


@dataclass
class Container:
    """A mapping or module in the checkpoint that holds tensors directly."""

    path: str
    direct_tensors: int = 0
    children: int = 0
    is_module: bool = False
    raw: tuple[Any, ...] | None = None  # the real keys from the root (None: inside an object)


@dataclass
class Walk:
    """Everything the walk found."""

    tensors: list[tuple[str, Any]] = field(default_factory=list)  # (key, LazyTensor | Tensor)
    buffers: set[str] = field(default_factory=set)  # keys known to be module buffers
    containers: dict[str, Container] = field(default_factory=dict)
    metadata: Any = None
    warnings: list[str] = field(default_factory=list)


def is_tensor(value: Any) -> bool:
    if isinstance(value, (LazyTensor, DeferredTensor)):
        return True
    torch = torch_if_loaded()  # a torch.Tensor exists only once torch is loaded
    return torch is not None and isinstance(value, torch.Tensor)


def walk(root: Any) -> Walk:
    """Index ``root``: tensors by dotted key, containers, and metadata."""
    result = Walk()
    result.metadata = _Walker(result).visit(root, [], 0, set())
    if result.metadata is _EMPTY:
        result.metadata = {}
    elif not isinstance(result.metadata, dict):
        result.metadata = {"": result.metadata}
    return result


class _Empty:
    """Marks a subtree with no metadata (only tensors), to prune it."""


_EMPTY = _Empty()


_NOT_RAW = object()  # on the raw-key stack: below here, containers are inside an object


class _Walker:
    def __init__(self, result: Walk) -> None:
        self.r = result
        self.raw: list[Any] = []  # the real keys leading to what is visited
        self.key_chars = 0

    def add_tensor(self, key: str, value: Any) -> None:
        """Name a tensor; keys are bounded (a long key shared through the memo multiplies)."""
        self.key_chars += len(key)
        if len(key) > MAX_KEY or self.key_chars > MAX_KEYS_TOTAL:
            raise CheckpointError(
                f"tensor keys longer than {MAX_KEY:,} characters, or {MAX_KEYS_TOTAL:,} in all (a key bomb?)"
            )
        self.r.tensors.append((key, value))

    def child(self, value: Any, path: list[str], raw_key: Any, depth: int, active: set[int]) -> Any:
        """Visit ``value``, reached through the real key ``raw_key``."""
        self.raw.append(raw_key)
        try:
            return self.visit(value, path, depth, active)
        finally:
            self.raw.pop()

    def raw_path(self) -> tuple[Any, ...] | None:
        return None if any(k is _NOT_RAW for k in self.raw) else tuple(self.raw)

    def visit(self, value: Any, path: list[str], depth: int, active: set[int]) -> Any:
        check_current()
        if is_tensor(value):
            self.add_tensor(".".join(path), value)
            return _EMPTY
        if depth > MAX_DEPTH or id(value) in active:
            if depth > MAX_DEPTH:
                self.r.warnings.append(f"nesting deeper than {MAX_DEPTH} levels at {'.'.join(path[:5])}...: not shown")
            return "<recursive reference>" if id(value) in active else _EMPTY
        scalar = _scalar(value)
        if scalar is not _NOT_SCALAR:
            return scalar
        active.add(id(value))
        try:
            return self._visit_object(value, path, depth, active)
        finally:
            active.discard(id(value))

    def _visit_object(self, value: Any, path: list[str], depth: int, active: set[int]) -> Any:
        if isinstance(value, Opaque):
            return self._visit_opaque(value, path, depth, active)
        torch = torch_if_loaded()  # a real module (trusted mode) exists only once torch is loaded
        if torch is not None and isinstance(value, torch.nn.Module):
            return self._visit_real_module(value, path)
        if isinstance(value, Mapping):
            return self._visit_mapping(value, path, depth, active)
        if isinstance(value, (list, tuple)):
            meta = [self.child(v, path + [str(i)], i, depth + 1, active) for i, v in enumerate(value)]
            return _prune_list(meta)
        if isinstance(value, argparse.Namespace):
            meta = self._visit_mapping(vars(value), path, depth, active, count=False)
            return {"__class__": "argparse.Namespace", **(meta if isinstance(meta, dict) else {})}
        if isinstance(value, StorageRef):  # a bare storage saved on its own
            return {"__class__": "torch.UntypedStorage", "nbytes": value.nbytes, "location": value.location}
        if isinstance(value, (set, frozenset)):
            items = sorted(value, key=safe_repr)
            return _prune_list([self.child(v, path, _NOT_RAW, depth + 1, active) for v in items])
        return _describe(value)

    def _visit_mapping(self, value: Mapping, path: list[str], depth: int, active: set[int], count: bool = True) -> Any:
        meta: dict[str, Any] = {}
        tensors = 0
        # type-level items(): an instance attribute cannot hide the contents
        for k, v in dict.items(value) if isinstance(value, dict) else value.items():
            name = key_name(k)
            if is_tensor(v):
                tensors += 1
            child = self.child(v, path + [name], k, depth + 1, active)
            if child is not _EMPTY:
                meta[name] = child
        if count and tensors:
            p = ".".join(path)
            self.r.containers[p] = Container(p, tensors, len(value), raw=self.raw_path())
        return meta if meta else _EMPTY

    def _visit_opaque(self, value: Opaque, path: list[str], depth: int, active: set[int]) -> Any:
        state = value.ckpt_state
        name = value.ckpt_global
        if isinstance(state, dict) and "_parameters" in state and "_modules" in state:
            return self._visit_module_state(name, state, path, depth, active)
        if value.ckpt_script and isinstance(state, dict):
            return self._visit_script_module(name, state, path, depth, active)
        meta: dict[str, Any] = {"__class__": name, "__not_executed__": True}
        parts = {"args": value.ckpt_args, "state": state, "items": value.ckpt_items, "dictitems": value.ckpt_dictitems}
        for part, content in parts.items():
            if content is None or (isinstance(content, (tuple, list, dict)) and not content):
                continue
            child = self.child(content, path, _NOT_RAW, depth + 1, active)
            if child is not _EMPTY:
                meta[part] = child
        return meta

    def _visit_module_state(self, cls: str, state: dict, path: list[str], depth: int, active: set[int]) -> Any:
        """A pickled nn.Module: name tensors the way its state_dict() would."""
        p = ".".join(path)
        container = self.r.containers.setdefault(p, Container(p, is_module=True))
        container.is_module = True
        skip = state.get("_non_persistent_buffers_set")
        skip = skip if isinstance(skip, (set, frozenset)) else set()
        for group in ("_parameters", "_buffers"):
            items = state.get(group)
            if not isinstance(items, Mapping):
                continue
            for k, v in items.items():
                if v is None or not is_tensor(v) or (group == "_buffers" and k in skip):
                    continue
                key = ".".join(path + [key_name(k)])
                self.add_tensor(key, v)
                container.direct_tensors += 1
                if group == "_buffers":
                    self.r.buffers.add(key)
        meta: dict[str, Any] = {"__class__": cls}
        modules = state.get("_modules")
        if isinstance(modules, Mapping):
            for k, sub in modules.items():
                if sub is None:
                    continue
                child = self.child(sub, path + [key_name(k)], _NOT_RAW, depth + 1, active)
                if child is not _EMPTY:
                    meta[key_name(k)] = child
        return meta

    def _visit_script_module(self, cls: str, state: dict, path: list[str], depth: int, active: set[int]) -> Any:
        """A TorchScript module: parameters, buffers and submodules are plain attributes."""
        p = ".".join(path)
        container = self.r.containers.setdefault(p, Container(p, is_module=True))
        container.is_module = True
        name = cls.removeprefix("__torch__.")
        meta: dict[str, Any] = {"__class__": ".".join(part for part in name.split(".") if "mangle" not in part)}
        for k, v in state.items():
            if k in ("training", "_is_full_backward_hook"):
                continue
            if is_tensor(v):
                key = ".".join([*path, key_name(k)])
                self.add_tensor(key, v)
                container.direct_tensors += 1
                if key_name(k) in ("running_mean", "running_var", "num_batches_tracked"):
                    self.r.buffers.add(key)
                continue
            child = self.child(v, [*path, key_name(k)], _NOT_RAW, depth + 1, active)
            if child is not _EMPTY:
                meta[key_name(k)] = child
        return meta

    def _visit_real_module(self, module: torch.nn.Module, path: list[str]) -> Any:
        p = ".".join(path)
        self.r.containers[p] = Container(p, is_module=True)
        buffers = {name for name, _ in module.named_buffers()}
        for k, v in module.state_dict(keep_vars=True).items():
            if is_tensor(v):
                key = ".".join(path + [k])
                self.add_tensor(key, v)
                if k in buffers:
                    self.r.buffers.add(key)
        return {"__class__": f"{type(module).__module__}.{type(module).__qualname__}"}


_NOT_SCALAR = object()


def _scalar(value: Any) -> Any:
    """JSON form of a scalar value, or _NOT_SCALAR."""
    if value is None or isinstance(value, (bool, int)):
        if isinstance(value, enum.Enum):  # str() of an IntEnum member is its number (3.11+)
            return f"{type(value).__name__}.{value.name}"
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 63:
            return f"<integer of {value.bit_length()} bits>"  # JSON and str() choke on huge ints
        return value
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, str):
        return value if len(value) <= MAX_STRING else value[:MAX_STRING] + f"... ({len(value)} characters)"
    if isinstance(value, (bytes, bytearray)):
        return {"__bytes__": len(value)}
    if isinstance(value, (TorchValue, SizeValue)):  # torch's values named while torch was not loaded
        return shown(value)
    torch = torch_if_loaded()  # torch's own values exist only once torch is loaded
    if torch is not None:
        if isinstance(value, (torch.dtype, torch.device, torch.memory_format, torch.layout)):
            return str(value).removeprefix("torch.")
        if isinstance(value, torch.Size):
            return list(value)
    if isinstance(value, complex):
        return {"real": _float(value.real), "imag": _float(value.imag)}
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, pathlib.PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return f"{type(value).__name__}.{value.name}"
    if type(value).__module__ == "numpy":
        return _numpy(value)
    return _NOT_SCALAR


def _float(x: float) -> Any:
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _numpy(value: Any) -> Any:
    import numpy as np

    if isinstance(value, np.generic):
        item = value.item()
        if isinstance(item, np.generic):  # longdouble and friends have no Python equivalent
            return safe_repr(item)
        return _scalar(item) if _scalar(item) is not _NOT_SCALAR else safe_repr(item)
    if isinstance(value, np.ndarray):
        meta: dict[str, Any] = {"__class__": "numpy.ndarray", "shape": list(value.shape), "dtype": str(value.dtype)}
        if value.size <= 16 and value.dtype.kind in "biuf":
            meta["values"] = [_scalar(v) for v in value.reshape(-1).tolist()]
        return meta
    if isinstance(value, np.dtype):
        return str(value)
    return _NOT_SCALAR


def _describe(value: Any) -> Any:
    cls = type(value)
    return {"__class__": f"{cls.__module__}.{cls.__qualname__}", "repr": safe_repr(value)}


def _prune_list(meta: list) -> Any:
    if all(m is _EMPTY for m in meta):
        return _EMPTY
    items = [None if m is _EMPTY else m for m in meta]
    if len(items) > MAX_LIST_METADATA:
        return items[:MAX_LIST_METADATA] + [f"... {len(items) - MAX_LIST_METADATA} more"]
    return items
