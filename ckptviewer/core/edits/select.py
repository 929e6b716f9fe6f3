"""Edits that select or change tensors: extract, drop, cast."""

from __future__ import annotations

import bisect
import fnmatch
from typing import Any

import torch

from ..assemble import derive
from ..checkpoint import Checkpoint
from ..index import is_tensor
from ..lazy import CastTensor
from ..structure import children, key_name, rebuild
from .keys import tensor_bytes
from .report import Conversion, EditError, EditReport, Extraction, Removal

FLOAT_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}


def matches(key: str, globs: list[str]) -> bool:
    """Whether ``key`` matches any of the fnmatch ``globs`` (whole dotted keys)."""
    return any(fnmatch.fnmatchcase(key, g) for g in globs)


def extract(ckpt: Checkpoint, globs: list[str], reroot: str | None = None) -> tuple[Checkpoint, EditReport]:
    """Keep only the tensors whose key matches ``globs``, as a flat state_dict."""
    report = EditReport("extract", {"keys": list(globs), "reroot": reroot})
    out: dict[str, Any] = {}
    pairs: list[tuple[str, str]] = []
    outside = 0
    for key, entry in ckpt.tensors.items():
        if not matches(key, globs):
            continue
        new = key
        if reroot:
            if key.startswith(reroot):
                new = key[len(reroot) :]
            else:
                outside += 1
        if new in out:
            raise EditError(f"extract: two tensors would both be named {new!r}", report)
        out[new] = entry.source
        pairs.append((key, new))
        if new != key:
            report.renamed.append((key, new))
    if not out:
        raise EditError(f"extract: no tensor key matches {' '.join(globs)}", report)
    if outside:
        report.warnings.append(f"{outside} matching keys do not start with {reroot!r} and keep their full name")
    report.removed = [k for k in ckpt.tensors if not matches(k, globs)]
    report.bytes_before = tensor_bytes(e.source for e in ckpt.tensors.values())
    report.bytes_after = tensor_bytes(out.values())
    report.summary = f"{len(out)} of {ckpt.n_tensors} tensors kept"
    report.record = Extraction(tuple(pairs))
    return derive(ckpt, out, report), report


def drop(ckpt: Checkpoint, globs: list[str]) -> tuple[Checkpoint, EditReport]:
    """Remove every tensor or container whose dotted key matches ``globs``."""
    report = EditReport("drop", {"keys": list(globs)})
    paths: list[str] = []
    keys = sorted(ckpt.tensors)  # the tensors under a dropped path, found by bisection

    def under(name: str) -> list[str]:
        lo = bisect.bisect_left(keys, name)
        hi = bisect.bisect_left(keys, name + "/")  # "/" sorts right after "."
        return [k for k in keys[lo:hi] if k == name or k.startswith(name + ".")]

    def walk(obj: Any, path: str) -> Any:
        items = children(obj)
        if items is None:
            return obj
        kept = []
        for k, v in items:
            name = f"{path}.{key_name(k)}" if path else key_name(k)
            if matches(name, globs):
                paths.append(name)
                report.removed.extend(under(name))
                if not is_tensor(v) and not (children(v) or []):
                    report.changed.append(name)  # a non-tensor value (metadata) dropped
                continue
            kept.append((k, walk(v, name)))
        return (
            rebuild(obj, kept) if len(kept) != len(items) or any(a[1] is not b[1] for a, b in zip(kept, items)) else obj
        )

    root = walk(ckpt.root, "")
    if not report.removed and not report.changed:
        raise EditError(f"drop: nothing matches {' '.join(globs)}", report)
    report.bytes_before = tensor_bytes(e.source for e in ckpt.tensors.values())
    report.record = Removal(tuple(paths))
    new = derive(ckpt, root, report)
    report.bytes_after = tensor_bytes(e.source for e in new.tensors.values())
    report.summary = f"{len(report.removed)} tensors dropped" + (
        f" and {len(report.changed)} other values" if report.changed else ""
    )
    return new, report


def cast(ckpt: Checkpoint, dtype: str | torch.dtype, globs: list[str] | None = None) -> tuple[Checkpoint, EditReport]:
    """Convert floating tensors (model weights unless ``globs``) to ``dtype``; others untouched."""
    target = FLOAT_DTYPES.get(dtype) if isinstance(dtype, str) else dtype
    if not isinstance(target, torch.dtype) or not target.is_floating_point:
        raise EditError(f"cast: unsupported dtype {dtype!r}; use one of {', '.join(FLOAT_DTYPES)}")
    selected = set(k for k in ckpt.tensors if matches(k, globs)) if globs else set(ckpt.model_keys() or ckpt.tensors)
    report = EditReport("cast", {"dtype": str(target).removeprefix("torch."), "keys": list(globs or [])})
    by_id = {id(e.source): e for k, e in ckpt.tensors.items() if k in selected}
    skipped_types: set[str] = set()

    def convert(v: Any) -> Any:
        entry = by_id.get(id(v))
        if entry is None:
            return v
        if not entry.dtype.is_floating_point:
            skipped_types.add(entry.dtype_name)
            return v
        if entry.dtype == target:
            return v
        report.changed.append(entry.key)
        base = v.base if isinstance(v, CastTensor) else v
        return base if base.dtype == target else CastTensor(base, target)

    def walk(obj: Any) -> Any:
        if is_tensor(obj):
            return convert(obj)
        items = children(obj)
        if items is None:
            return obj
        new_items = [(k, walk(v)) for k, v in items]
        return rebuild(obj, new_items) if any(a[1] is not b[1] for a, b in zip(new_items, items)) else obj

    root = walk(ckpt.root)
    if skipped_types:
        report.warnings.append(f"left as they are (not floating point): {', '.join(sorted(skipped_types))}")
    report.record = Conversion(tuple(report.changed), report.params["dtype"])
    new = derive(ckpt, root, report)
    report.bytes_before = sum(ckpt.tensors[k].nbytes for k in selected)
    report.bytes_after = sum(new.tensors[k].nbytes for k in selected if k in new.tensors)
    report.summary = f"{len(report.changed)} tensors cast to {report.params['dtype']}"
    return new, report
