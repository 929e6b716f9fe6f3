"""Edits that rename the keys of the model state_dict: strip, add_prefix, rename."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ...formatting import plural
from ..assemble import derive
from ..checkpoint import Checkpoint
from ..dtype_names import torch_if_loaded
from ..errors import CheckpointError
from ..lazy import CastTensor, LazyTensor
from ..placeholders import Opaque
from ..structure import children, get_at, key_name, rebuild, replace_at
from .report import EditError, EditReport, KeyRewrite


def model_state(ckpt: Checkpoint) -> tuple[tuple[Any, ...], Mapping]:
    """(raw path, mapping) of the model state_dict inside ``ckpt``."""
    if ckpt.state_dict_key is None:
        raise CheckpointError(f"{ckpt.path}: no model state_dict found (no tensors?)")
    path = ckpt.state_dict_path  # the real keys, found by the index walk (no search by name)
    if path is None:
        raise CheckpointError(
            f"{ckpt.path}: the model weights are inside a pickled object, not a state_dict; "
            "extract them first (ckpt extract) or open the file with --trust"
        )
    sd = get_at(ckpt.root, path)
    if not isinstance(sd, Mapping):
        what = sd.ckpt_global if isinstance(sd, Opaque) else type(sd).__name__
        raise CheckpointError(
            f"{ckpt.path}: the model weights are inside a pickled {what}, not a state_dict; "
            "extract them first (ckpt extract) or open the file with --trust"
        )
    return path, sd


def full_key(ckpt: Checkpoint, key: str) -> str:
    """A model key as the checkpoint lists it (with the state_dict's location)."""
    return f"{ckpt.state_dict_key}.{key}" if ckpt.state_dict_key else key


def tensor_bytes(values: Any) -> int:
    """Bytes of the tensors among ``values`` (lazy, cast or real)."""
    total = 0
    torch = torch_if_loaded()  # a real tensor exists only once torch is imported: none imported here
    for v in values:
        if isinstance(v, (LazyTensor, CastTensor)):
            total += v.numel * v.dtype.itemsize
        elif torch is not None and isinstance(v, torch.Tensor):
            total += v.numel() * v.element_size()
    return total


def _rewrite_keys(
    ckpt: Checkpoint, op: str, params: dict, fn: Callable[[str], str], weights_only: bool = False
) -> tuple[Checkpoint, EditReport]:
    path, sd = model_state(ckpt)
    report = EditReport(op, params)
    mapping: list[tuple[Any, str]] = []
    items: list[tuple[Any, Any]] = []
    seen: dict[str, str] = {}
    for k, v in sd.items():
        new = fn(key_name(k)) if isinstance(k, str) else k
        if isinstance(new, str):
            if new in seen:
                raise EditError(f"{op}: {seen[new]!r} and {k!r} would both become {new!r}", report)
            seen[new] = k
            if new != k:
                report.renamed.append((full_key(ckpt, k), full_key(ckpt, new)))
                mapping.append((k, new))
        items.append((new, v))
    new_sd = rebuild(sd, items)
    meta = getattr(sd, "_metadata", None)
    meta_mapping: list[tuple[str, str]] = []
    if isinstance(meta, dict):  # per-module version info torch keeps under module prefixes
        renamed_meta = [(k, _module_key(fn, k)) for k in meta]
        new_sd._metadata = type(meta)((new, meta[old]) for old, new in renamed_meta)
        meta_mapping = [(a, b) for a, b in renamed_meta if a != b]
    if weights_only:
        root = new_sd
        inside = full_key(ckpt, "")
        report.removed = [k for k in ckpt.tensors if not k.startswith(inside)] if ckpt.state_dict_key else []
        dropped = [key_name(k) for k, _ in (children(ckpt.root) or []) if (k,) != path[:1]] if path else []
        if dropped:
            report.warnings.append(f"weights only: left out {', '.join(dropped)}")
    else:
        root = replace_at(ckpt.root, path, new_sd)
    report.record = KeyRewrite(tuple(path), tuple(mapping), tuple(meta_mapping), weights_only)
    report.bytes_before = report.bytes_after = tensor_bytes(new_sd.values())
    n = report.count("model_keys", len(sd), renamed=len(report.renamed), unchanged=len(sd) - len(report.renamed))
    report.summary = f"{n['renamed']:,} of {plural(n['total'], 'key')} renamed" + (
        f", {n['unchanged']:,} unchanged" if n["renamed"] and n["unchanged"] else ""
    )
    if weights_only:
        t = report.count("tensors", ckpt.n_tensors, kept=ckpt.n_tensors - len(report.removed),
                         left_out=len(report.removed))  # fmt: skip
        report.summary += ", weights only" + (
            f" ({plural(t['left_out'], 'tensor')} outside the model left out)" if t["left_out"] else ""
        )
    return derive(ckpt, root, report), report


def _module_key(fn: Callable[[str], str], key: str) -> str:
    # _metadata keys are module paths without the trailing dot ("module.conv1", "" = root)
    return fn(key + "." if key else "").removesuffix(".")


def strip(ckpt: Checkpoint, prefix: str | None = None, *, weights_only: bool = False) -> tuple[Checkpoint, EditReport]:
    """Remove wrapper prefixes: the detected chain (module., _orig_mod.) or ``prefix``."""
    prefixes = [prefix] if prefix else list(ckpt.prefixes)

    def fn(key: str) -> str:
        for p in prefixes:
            if key.startswith(p):
                key = key[len(p) :]
        return key

    params = {"prefixes": prefixes, "weights_only": weights_only}
    new, report = _rewrite_keys(ckpt, "strip", params, fn, weights_only)
    keys = report.counts["model_keys"]
    if not prefixes:
        report.warnings.append("no wrapper prefix (module., _orig_mod.) found: keys unchanged")
    elif prefix and not keys["renamed"]:
        report.no_match("prefix", "--prefix", prefix, "model key")
        if not report.removed:  # weights only still leaves the rest out: that is a change
            report.refuse_if_unmatched("strip")
    elif prefix and keys["unchanged"]:
        unchanged = keys["unchanged"]
        report.warnings.append(
            f"{plural(unchanged, 'key')} {'does' if unchanged == 1 else 'do'} not start with {prefix!r}"
        )
    return new, report


def add_prefix(ckpt: Checkpoint, prefix: str) -> tuple[Checkpoint, EditReport]:
    """Prepend ``prefix`` to every model key (e.g. ``module.`` for a DDP model)."""
    if not prefix:
        raise EditError("add-prefix needs a non-empty prefix")
    return _rewrite_keys(ckpt, "add_prefix", {"prefix": prefix}, lambda k: prefix + k)


def rename(ckpt: Checkpoint, pattern: str, repl: str) -> tuple[Checkpoint, EditReport]:
    """``re.sub(pattern, repl, key)`` on every model key."""
    try:
        rx = re.compile(pattern)
        rx.sub(repl, "probe.key")
    except (re.error, IndexError) as exc:
        raise EditError(f"invalid rename pattern or replacement: {exc}") from None
    _, sd = model_state(ckpt)
    hits = sum(1 for k in sd if isinstance(k, str) and rx.search(key_name(k)))
    new, report = _rewrite_keys(ckpt, "rename", {"pattern": pattern, "repl": repl}, lambda k: rx.sub(repl, k))
    if not hits:
        report.no_match("pattern", "--pattern", pattern, "model key")
        report.refuse_if_unmatched("rename")
    elif not report.renamed:  # it matched, and the replacement gives every key its own name back
        report.warnings.append(f"--pattern {pattern!r} matched {plural(hits, 'key')}, but no name changes")
    return new, report
