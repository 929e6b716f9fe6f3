"""Walking and rebuilding an unpickled checkpoint: one set of rules for every reader of it.

The index names tensors with :func:`key_name`, edits and saves walk containers with
:func:`children` and copy them with :func:`rebuild`, and the exported recipe carries the
very same functions (its source is generated from this module), so the keys a user sees,
the structure an edit writes and the script that replays it cannot drift apart.

The functions use only the standard library (and torch once loaded): the recipe runs without ckptviewer.
"""

from __future__ import annotations

import argparse
import pathlib
from collections.abc import Mapping
from typing import Any

from .progress import check_current

SAFE_REPR_TYPES = (str, bytes, bool, int, float, complex, type(None), pathlib.PurePath)


def safe_repr(value: Any, limit: int = 200) -> str:
    """repr() of simple values only: a repr of an arbitrary object can take minutes or recurse."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1 << 63:
        return f"<integer of {value.bit_length()} bits>"
    kind = type(value)  # torch's dtype and device classes, by name: this module imports no torch
    if getattr(kind, "ckpt_stand_in", False):  # their stand-ins (torch_values) show as torch's own objects do
        return repr(value)[:limit] if value.kind in ("dtype", "device") else f"<torch.{value.kind}>"
    if isinstance(value, SAFE_REPR_TYPES) or (kind.__module__ == "torch" and kind.__name__ in ("dtype", "device")):
        return repr(value)[:limit]
    if isinstance(value, (tuple, frozenset)) and len(value) <= 8:
        return "(" + ", ".join(safe_repr(v, limit // 4) for v in value) + ")"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def key_name(k: Any) -> str:
    """The dotted-key part for a container key (dict key, list index, attribute name)."""
    if isinstance(k, str):
        return k
    if isinstance(k, (int, float, bool)) or k is None:
        return safe_repr(k) if isinstance(k, int) and not isinstance(k, bool) and abs(k) >= 1 << 63 else str(k)
    if isinstance(k, bytes):
        return k.decode("utf-8", "replace")
    return safe_repr(k)


def children(obj: Any) -> list[tuple[Any, Any]] | None:
    """(raw key, value) pairs of a container a walk goes into, or None for anything else."""
    check_current()  # every edit and save walks through here: a cancel stops it
    if isinstance(obj, dict):  # type-level items(): an instance attribute cannot hide them
        return list(dict.items(obj))
    if isinstance(obj, Mapping):
        return list(obj.items())
    if isinstance(obj, (list, tuple)):
        return list(enumerate(obj))
    if isinstance(obj, argparse.Namespace):
        return list(vars(obj).items())
    return None


def rebuild(obj: Any, items: list[tuple[Any, Any]]) -> Any:
    """A container of ``obj``'s type holding ``items`` (attributes such as _metadata kept)."""
    if isinstance(obj, argparse.Namespace):
        return argparse.Namespace(**{k: v for k, v in items})
    if isinstance(obj, tuple):
        return type(obj)(v for _, v in items) if type(obj) is tuple else tuple(v for _, v in items)
    if isinstance(obj, list):
        return [v for _, v in items]
    try:
        new = type(obj)()
    except TypeError:
        new = {}
    if hasattr(new, "default_factory") and hasattr(obj, "default_factory"):
        new.default_factory = obj.default_factory
    for k, v in items:
        new[k] = v
    state = getattr(obj, "__dict__", None)
    if state:
        new.__dict__.update(state)
    return new


def get_at(root: Any, path: tuple[Any, ...]) -> Any:
    """The object reached from ``root`` through the raw keys ``path``."""
    obj = root
    for k in path:
        obj = vars(obj)[k] if isinstance(obj, argparse.Namespace) else obj[k]
    return obj


def replace_at(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``root`` with the object at ``path`` replaced; containers on the way are copied."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    items = children(root) or []
    return rebuild(root, [(k, replace_at(v, rest, value) if k == head else v) for k, v in items])


# the functions the exported recipe carries, in dependency order
RECIPE_FUNCTIONS = (safe_repr, key_name, children, rebuild, get_at, replace_at)
