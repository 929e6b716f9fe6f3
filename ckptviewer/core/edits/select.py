"""Edits that select or change tensors: extract, drop, cast."""

from __future__ import annotations

import bisect
import fnmatch
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ...formatting import plural
from ..assemble import derive
from ..checkpoint import Checkpoint
from ..index import is_tensor
from ..lazy import CastTensor
from ..structure import children, key_name, rebuild
from .keys import tensor_bytes
from .report import Conversion, EditError, EditReport, Extraction, Removal

if TYPE_CHECKING:
    import torch

# names, so that the edit registry (menus, CLI) imports no torch; cast looks the dtype up
FLOAT_DTYPES = ("float32", "float16", "bfloat16", "float64")


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
    unmatched_globs(report, "keys", globs, ckpt.tensors, "tensor key")
    if not out:
        report.refuse_if_unmatched("extract")
        raise EditError(f"extract: no tensor key matches {' '.join(globs)}", report)
    if reroot and outside == len(out):
        report.no_match("reroot", "--reroot", reroot, "kept key")
    elif outside:
        report.warnings.append(
            f"{plural(outside, 'kept key')} {'does' if outside == 1 else 'do'} not start with {reroot!r} "
            "and keep their full name"
        )
    report.removed = [k for k in ckpt.tensors if not matches(k, globs)]
    report.bytes_before = tensor_bytes(e.source for e in ckpt.tensors.values())
    report.bytes_after = tensor_bytes(out.values())
    n = report.count("tensors", ckpt.n_tensors, kept=len(out), removed=len(report.removed))
    report.summary = f"{n['kept']:,} of {plural(n['total'], 'tensor')} kept, {n['removed']:,} removed"
    report.record = Extraction(tuple(pairs))
    return derive(ckpt, out, report), report


def unmatched_globs(report: EditReport, param: str, globs: list[str], keys: Iterable[str], among: str) -> None:
    """Say which of ``globs`` (the ``--param`` option) match none of ``keys``."""
    left = list(dict.fromkeys(globs))  # each glob said once, in the order typed
    for key in keys:
        left = [g for g in left if not fnmatch.fnmatchcase(key, g)]
        if not left:
            return
    for glob in left:
        report.no_match(param, "--" + param, glob, among)


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
    # a glob also counts as matched when it names what a broader glob already dropped
    # ("optimizer" and "optimizer.state.*"): the walk does not go inside a dropped entry
    unmatched_globs(report, "keys", globs, [*paths, *ckpt.tensors], "key")
    if not report.removed and not report.changed:
        report.refuse_if_unmatched("drop")
        raise EditError(f"drop: nothing matches {' '.join(globs)}", report)
    report.bytes_before = tensor_bytes(e.source for e in ckpt.tensors.values())
    report.record = Removal(tuple(paths))
    new = derive(ckpt, root, report)
    report.bytes_after = tensor_bytes(e.source for e in new.tensors.values())
    n = report.count("tensors", ckpt.n_tensors, dropped=len(report.removed), kept=ckpt.n_tensors - len(report.removed))
    report.summary = f"{n['dropped']:,} of {plural(n['total'], 'tensor')} dropped, {n['kept']:,} kept" + (
        f"; {plural(len(report.changed), 'other value')} dropped" if report.changed else ""
    )
    return new, report


def cast(ckpt: Checkpoint, dtype: str | torch.dtype, globs: list[str] | None = None) -> tuple[Checkpoint, EditReport]:
    """Convert floating tensors (model weights unless ``globs``) to ``dtype``; others untouched."""
    import torch

    target = (getattr(torch, dtype) if dtype in FLOAT_DTYPES else None) if isinstance(dtype, str) else dtype
    if not isinstance(target, torch.dtype) or not target.is_floating_point:
        raise EditError(f"cast: unsupported dtype {dtype!r}; use one of {', '.join(FLOAT_DTYPES)}")
    selected = set(k for k in ckpt.tensors if matches(k, globs)) if globs else set(ckpt.model_keys() or ckpt.tensors)
    report = EditReport("cast", {"dtype": str(target).removeprefix("torch."), "keys": list(globs or [])})
    unmatched_globs(report, "keys", globs or [], ckpt.tensors, "tensor key")
    # what happens to each selected tensor, decided by its key (in the checkpoint's order)
    not_float = [k for k, e in ckpt.tensors.items() if k in selected and not e.dtype.is_floating_point]
    already = [k for k, e in ckpt.tensors.items() if k in selected and e.dtype == target]
    report.changed = [
        k for k, e in ckpt.tensors.items() if k in selected and e.dtype.is_floating_point and e.dtype != target
    ]
    by_id = {id(ckpt.tensors[k].source) for k in report.changed}

    def convert(v: Any) -> Any:
        if id(v) not in by_id:
            return v
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

    name = report.params["dtype"]
    total = sum(k in selected for k in ckpt.tensors)
    n = report.count(
        "selected_tensors", total, cast=len(report.changed), already=len(already), not_float=len(not_float)
    )
    if not report.changed:
        report.refuse_if_unmatched("cast")
    root = walk(ckpt.root)
    if not_float:
        types = sorted({ckpt.tensors[k].dtype_name for k in not_float})
        report.warnings.append(f"left as they are (not floating point): {', '.join(types)}")
    if not report.changed:
        report.warnings.append(f"nothing to cast: every selected floating-point tensor is already {name}")
    report.record = Conversion(tuple(report.changed), name)
    new = derive(ckpt, root, report)
    report.bytes_before = sum(ckpt.tensors[k].nbytes for k in selected)
    report.bytes_after = sum(new.tensors[k].nbytes for k in selected if k in new.tensors)
    what = "model tensor" if not globs and ckpt.model_keys() else "selected tensor"
    parts = [f"{n['already']:,} already {name}" if n["already"] else "",
             f"{n['not_float']:,} not floating point" if n["not_float"] else ""]  # fmt: skip
    report.summary = f"{n['cast']:,} of {plural(n['total'], what)} cast to {name}" + "".join(
        f", {p}" for p in parts if p
    )
    return new, report
