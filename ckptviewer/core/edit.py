"""Checkpoint surgery: pure functions from a Checkpoint to an edited copy and a report.

No tensor data is read or copied here: an edit rearranges the unpickled structure (dicts,
lists, lazy tensors) and re-indexes it with :func:`ckptviewer.core.open.derive`. Data
moves only when the result is saved (:mod:`ckptviewer.core.save`). Each operation can be
run first as a preview: its report lists what would change, and applying it is just
keeping the returned checkpoint. The source file is never touched.

Keys: globs and ``drop``/``extract``/``cast`` keys are the checkpoint's dotted keys as
``ckpt info`` lists them; ``strip``/``add_prefix``/``rename``/``graft``/``compat``
work on the keys of the model state_dict (inside a training checkpoint, relative to
``state_dict_key``).
"""

from __future__ import annotations

import argparse
import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import torch

from .checkpoint import WRAPPER_PREFIXES, Checkpoint
from .errors import CheckpointError
from .index import _key, is_tensor
from .lazy import CastTensor, LazyTensor
from .open import derive
from .unpickle import Opaque

FLOAT_DTYPES = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float64": torch.float64,
}


@dataclass
class EditReport:
    """What an edit changes, for previews, the CLI report and the recipe."""

    op: str
    params: dict[str, Any]
    summary: str = ""
    renamed: list[tuple[str, str]] = field(default_factory=list)  # full keys, before -> after
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0

    def to_json(self) -> dict[str, Any]:
        # private params hold resolved keys and, for graft, the source Checkpoint: not JSON
        public = {k: v for k, v in self.params.items() if not k.startswith("_")}
        doc = asdict(replace(self, params=public))
        doc["renamed"] = [{"from": a, "to": b} for a, b in self.renamed]
        return doc


class EditError(CheckpointError):
    """An edit was refused; ``report`` says why (e.g. the list of shape mismatches)."""

    def __init__(self, message: str, report: EditReport | None = None) -> None:
        super().__init__(message)
        self.report = report


# --- navigating and rebuilding the unpickled structure ----------------------------------


def _children(obj: Any) -> list[tuple[Any, Any]] | None:
    """(raw key, value) pairs of a container the index walks into, or None."""
    if isinstance(obj, dict):  # type-level items(): an instance attribute cannot hide them
        return list(dict.items(obj))
    if isinstance(obj, Mapping):
        return list(obj.items())
    if isinstance(obj, (list, tuple)):
        return list(enumerate(obj))
    if isinstance(obj, argparse.Namespace):
        return list(vars(obj).items())
    return None


def _rebuild(obj: Any, items: list[tuple[Any, Any]]) -> Any:
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


def raw_path(root: Any, dotted: str) -> tuple[Any, ...]:
    """The real keys leading to the container named ``dotted`` ('' is the root)."""
    if dotted == "":
        return ()
    parts = dotted.split(".")

    def find(obj: Any, i: int) -> tuple[Any, ...] | None:
        if i == len(parts):
            return ()
        items = _children(obj) or []
        for j in range(len(parts), i, -1):  # keys may hold dots: longest match first
            name = ".".join(parts[i:j])
            for k, v in items:
                if _key(k) == name:
                    rest = find(v, j)
                    if rest is not None:
                        return (k, *rest)
        return None

    found = find(root, 0)
    if found is None:
        raise CheckpointError(f"no container {dotted!r} in the checkpoint")
    return found


def get_at(root: Any, path: tuple[Any, ...]) -> Any:
    obj = root
    for k in path:
        obj = vars(obj)[k] if isinstance(obj, argparse.Namespace) else obj[k]
    return obj


def replace_at(root: Any, path: tuple[Any, ...], value: Any) -> Any:
    """``root`` with the object at ``path`` replaced; containers on the way are copied."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    items = _children(root) or []
    return _rebuild(root, [(k, replace_at(v, rest, value) if k == head else v) for k, v in items])


def model_state(ckpt: Checkpoint) -> tuple[tuple[Any, ...], Mapping]:
    """(path, mapping) of the model state_dict inside ``ckpt``."""
    if ckpt.state_dict_key is None:
        raise CheckpointError(f"{ckpt.path}: no model state_dict found (no tensors?)")
    path = raw_path(ckpt.root, ckpt.state_dict_key)
    sd = get_at(ckpt.root, path)
    if not isinstance(sd, Mapping):
        what = sd.ckpt_global if isinstance(sd, Opaque) else type(sd).__name__
        raise CheckpointError(
            f"{ckpt.path}: the model weights are inside a pickled {what}, not a state_dict; "
            "extract them first (ckpt extract) or open the file with --trust"
        )
    return path, sd


def _full(ckpt: Checkpoint, key: str) -> str:
    return f"{ckpt.state_dict_key}.{key}" if ckpt.state_dict_key else key


def _tensor_bytes(values: Any) -> int:
    total = 0
    for v in values:
        if isinstance(v, (LazyTensor, CastTensor)):
            total += v.numel * v.dtype.itemsize
        elif isinstance(v, torch.Tensor):
            total += v.numel() * v.element_size()
    return total


def _matches(key: str, globs: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(key, g) for g in globs)


# --- key rewrites on the model state_dict ------------------------------------------------


def _rewrite_keys(
    ckpt: Checkpoint, op: str, params: dict, fn: Callable[[str], str], weights_only: bool = False
) -> tuple[Checkpoint, EditReport]:
    path, sd = model_state(ckpt)
    report = EditReport(op, params)
    params["_path"], params["_mapping"], params["_weights_only"] = path, [], weights_only
    items: list[tuple[Any, Any]] = []
    seen: dict[str, str] = {}
    for k, v in sd.items():
        new = fn(_key(k)) if isinstance(k, str) else k
        if isinstance(new, str):
            if new in seen:
                raise EditError(f"{op}: {seen[new]!r} and {k!r} would both become {new!r}", report)
            seen[new] = k
            if new != k:
                report.renamed.append((_full(ckpt, k), _full(ckpt, new)))
                params["_mapping"].append((k, new))
        items.append((new, v))
    new_sd = _rebuild(sd, items)
    meta = getattr(sd, "_metadata", None)
    if isinstance(meta, dict):  # per-module version info torch keeps under module prefixes
        renamed_meta = [(k, _module_key(fn, k)) for k in meta]
        new_sd._metadata = type(meta)((new, meta[old]) for old, new in renamed_meta)
        params["_meta_mapping"] = [(a, b) for a, b in renamed_meta if a != b]
    if weights_only:
        root = new_sd
        report.removed = [k for k in ckpt.tensors if not k.startswith(_full(ckpt, ""))] if ckpt.state_dict_key else []
        dropped = [_key(k) for k, _ in (_children(ckpt.root) or []) if (k,) != path[:1]] if path else []
        if dropped:
            report.warnings.append(f"weights only: left out {', '.join(dropped)}")
    else:
        root = replace_at(ckpt.root, path, new_sd)
    report.bytes_before = report.bytes_after = _tensor_bytes(new_sd.values())
    report.summary = f"{len(report.renamed)} of {len(sd)} keys renamed" + (", weights only" if weights_only else "")
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
    if not prefixes:
        report.warnings.append("no wrapper prefix (module., _orig_mod.) found: keys unchanged")
    elif prefix and len(report.renamed) < len(model_state(ckpt)[1]):
        report.warnings.append(f"{len(model_state(ckpt)[1]) - len(report.renamed)} keys do not start with {prefix!r}")
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
    return _rewrite_keys(ckpt, "rename", {"pattern": pattern, "repl": repl}, lambda k: rx.sub(repl, k))


# --- selecting and removing ----------------------------------------------------------------


def extract(ckpt: Checkpoint, globs: list[str], reroot: str | None = None) -> tuple[Checkpoint, EditReport]:
    """Keep only the tensors whose key matches ``globs``, as a flat state_dict."""
    report = EditReport("extract", {"keys": list(globs), "reroot": reroot})
    out: dict[str, Any] = {}
    outside = 0
    for key, entry in ckpt.tensors.items():
        if not _matches(key, globs):
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
        report.params.setdefault("_pairs", []).append((key, new))
        if new != key:
            report.renamed.append((key, new))
    if not out:
        raise EditError(f"extract: no tensor key matches {' '.join(globs)}", report)
    if outside:
        report.warnings.append(f"{outside} matching keys do not start with {reroot!r} and keep their full name")
    report.removed = [k for k in ckpt.tensors if not _matches(k, globs)]
    report.bytes_before = _tensor_bytes(e.source for e in ckpt.tensors.values())
    report.bytes_after = _tensor_bytes(out.values())
    report.summary = f"{len(out)} of {ckpt.n_tensors} tensors kept"
    return derive(ckpt, out, report), report


def drop(ckpt: Checkpoint, globs: list[str]) -> tuple[Checkpoint, EditReport]:
    """Remove every tensor or container whose dotted key matches ``globs``."""
    report = EditReport("drop", {"keys": list(globs)})

    def walk(obj: Any, path: str) -> Any:
        items = _children(obj)
        if items is None:
            return obj
        kept = []
        for k, v in items:
            name = f"{path}.{_key(k)}" if path else _key(k)
            if _matches(name, globs):
                report.params.setdefault("_paths", []).append(name)
                report.removed.extend(t for t in ckpt.tensors if t == name or t.startswith(name + "."))
                if not is_tensor(v) and not (_children(v) or []):
                    report.changed.append(name)  # a non-tensor value (metadata) dropped
                continue
            kept.append((k, walk(v, name)))
        return (
            _rebuild(obj, kept)
            if len(kept) != len(items) or any(a[1] is not b[1] for a, b in zip(kept, items))
            else obj
        )

    root = walk(ckpt.root, "")
    if not report.removed and not report.changed:
        raise EditError(f"drop: nothing matches {' '.join(globs)}", report)
    report.bytes_before = _tensor_bytes(e.source for e in ckpt.tensors.values())
    new = derive(ckpt, root, report)
    report.bytes_after = _tensor_bytes(e.source for e in new.tensors.values())
    report.summary = f"{len(report.removed)} tensors dropped" + (
        f" and {len(report.changed)} other values" if report.changed else ""
    )
    return new, report


# --- dtype ---------------------------------------------------------------------------------


def cast(ckpt: Checkpoint, dtype: str | torch.dtype, globs: list[str] | None = None) -> tuple[Checkpoint, EditReport]:
    """Convert floating tensors (model weights unless ``globs``) to ``dtype``; others untouched."""
    target = FLOAT_DTYPES.get(dtype) if isinstance(dtype, str) else dtype
    if not isinstance(target, torch.dtype) or not target.is_floating_point:
        raise EditError(f"cast: unsupported dtype {dtype!r}; use one of {', '.join(FLOAT_DTYPES)}")
    selected = set(k for k in ckpt.tensors if _matches(k, globs)) if globs else set(ckpt.model_keys() or ckpt.tensors)
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
        items = _children(obj)
        if items is None:
            return obj
        new_items = [(k, walk(v)) for k, v in items]
        return _rebuild(obj, new_items) if any(a[1] is not b[1] for a, b in zip(new_items, items)) else obj

    root = walk(ckpt.root)
    if skipped_types:
        report.warnings.append(f"left as they are (not floating point): {', '.join(sorted(skipped_types))}")
    new = derive(ckpt, root, report)
    report.bytes_before = sum(ckpt.tensors[k].nbytes for k in selected)
    report.bytes_after = sum(new.tensors[k].nbytes for k in selected if k in new.tensors)
    report.summary = f"{len(report.changed)} tensors cast to {report.params['dtype']}"
    return new, report


# --- between two checkpoints ----------------------------------------------------------------


def normalized_keys(ckpt: Checkpoint) -> dict[str, str]:
    """Model keys without wrapper prefixes -> raw model key."""
    _, sd = model_state(ckpt)
    out = {}
    for k in sd:
        key = _key(k)
        n = key
        for p in ckpt.prefixes:
            n = n.removeprefix(p)
        out[n] = key
    return out


def _apply_maps(key: str, maps: list[tuple[str, str]]) -> str:
    for src, dst in maps:
        if key.startswith(src):
            return dst + key[len(src) :]
    return key


def parse_maps(specs: list[str] | None) -> list[tuple[str, str]]:
    """``["encoder.=backbone."]`` -> ``[("encoder.", "backbone.")]``."""
    maps = []
    for spec in specs or []:
        if "=" not in spec:
            raise EditError(f"a prefix map looks like SRC=DST (got {spec!r})")
        src, dst = spec.split("=", 1)
        maps.append((src, dst))
    return maps


def graft(
    target: Checkpoint,
    source: Checkpoint,
    *,
    maps: list[tuple[str, str]] | None = None,
    include: list[str] | None = None,
    exclude: list[str] | None = None,
    skip_mismatched: bool = False,
) -> tuple[Checkpoint, EditReport]:
    """Copy model tensors from ``source`` into ``target``; shapes and dtypes must agree.

    Keys are aligned without each side's wrapper prefixes; ``maps`` rewrite source key
    prefixes, ``include``/``exclude`` globs select source keys (prefix-free form).
    """
    maps = maps or []
    report = EditReport(
        "graft",
        {"source": str(source.path), "maps": [f"{a}={b}" for a, b in maps], "include": list(include or []),
         "exclude": list(exclude or []), "skip_mismatched": skip_mismatched, "_source": source},
    )  # fmt: skip
    t_path, t_sd = model_state(target)
    _, s_sd = model_state(source)
    t_keys, s_keys = normalized_keys(target), normalized_keys(source)
    replace: dict[str, Any] = {}
    for s_norm, s_raw in s_keys.items():
        if include and not _matches(s_norm, include):
            continue
        if exclude and _matches(s_norm, exclude):
            report.skipped.append({"key": s_norm, "reason": "excluded"})
            continue
        t_norm = _apply_maps(s_norm, maps)
        if t_norm not in t_keys:
            report.skipped.append({"key": s_norm, "reason": f"no {t_norm!r} in the target"})
            continue
        s_val, t_val = s_sd[s_raw], t_sd[t_keys[t_norm]]
        if not (is_tensor(s_val) and is_tensor(t_val)):
            report.skipped.append({"key": s_norm, "reason": "not a tensor"})
            continue
        s_entry = source.tensors[_full(source, s_raw)]
        t_entry = target.tensors[_full(target, t_keys[t_norm])]
        if s_entry.shape != t_entry.shape or s_entry.dtype != t_entry.dtype:
            report.mismatches.append({
                "key": t_norm, "source_key": s_norm, "source_shape": list(s_entry.shape),
                "target_shape": list(t_entry.shape), "source_dtype": s_entry.dtype_name,
                "target_dtype": t_entry.dtype_name,
            })  # fmt: skip
            continue
        replace[t_keys[t_norm]] = s_val
        report.changed.append(_full(target, t_keys[t_norm]))
        report.params.setdefault("_pairs", []).append((t_keys[t_norm], s_raw))
    if report.mismatches and not skip_mismatched:
        shown = "; ".join(
            f"{m['key']}: {m['source_shape']} {m['source_dtype']} vs {m['target_shape']} {m['target_dtype']}"
            for m in report.mismatches[:5]
        )
        more = f" (+{len(report.mismatches) - 5} more)" if len(report.mismatches) > 5 else ""
        raise EditError(
            f"graft refused: {len(report.mismatches)} shape/dtype mismatches: {shown}{more}; "
            "use --skip-mismatched to keep the target's tensors for those keys",
            report,
        )
    if not replace:
        raise EditError("graft: no source tensor matches a target key (try a prefix map, see ckpt compat)", report)
    new_sd = _rebuild(t_sd, [(k, replace.get(_key(k), v)) for k, v in t_sd.items()])
    report.params["_t_path"], report.params["_s_path"] = t_path, model_state(source)[0]
    new = derive(target, replace_at(target.root, t_path, new_sd), report)
    new.companions = (*target.companions, source)  # the grafted tensors live in the source's file
    report.bytes_before = report.bytes_after = _tensor_bytes(new_sd.values())
    kept = len(t_keys) - len(replace)
    report.summary = f"{len(replace)} tensors grafted from {source.path.name}, {kept} target tensors kept" + (
        f", {len(report.mismatches)} mismatched kept from the target" if report.mismatches else ""
    )
    return new, report


@dataclass
class CompatReport:
    """What ``target_model.load_state_dict(source_state_dict, strict=True)`` would say."""

    source: str
    target: str
    maps: list[str]
    missing: list[str] = field(default_factory=list)  # target keys the source does not provide
    unexpected: list[str] = field(default_factory=list)  # source keys the target has no place for
    mismatched: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0
    suggested_maps: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not (self.missing or self.unexpected or self.mismatched)

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "compatible": self.compatible}


def compat(source: Checkpoint, target: Checkpoint, maps: list[tuple[str, str]] | None = None) -> CompatReport:
    """Compare model keys (wrapper prefixes aside, ``maps`` applied to the source)."""
    maps = maps or []
    rep = CompatReport(str(source.path), str(target.path), [f"{a}={b}" for a, b in maps])
    s_keys, t_keys = normalized_keys(source), normalized_keys(target)
    mapped = {_apply_maps(k, maps): k for k in s_keys}
    for t_norm, t_raw in t_keys.items():
        if t_norm not in mapped:
            rep.missing.append(t_norm)
            continue
        s_entry = source.tensors.get(_full(source, s_keys[mapped[t_norm]]))
        t_entry = target.tensors.get(_full(target, t_raw))
        if s_entry is not None and t_entry is not None and s_entry.shape != t_entry.shape:
            rep.mismatched.append(
                {"key": t_norm, "source_shape": list(s_entry.shape), "target_shape": list(t_entry.shape)}
            )
        else:
            rep.matched += 1
    rep.unexpected = [k for k in mapped if k not in t_keys]
    if rep.missing and rep.unexpected:
        rep.suggested_maps = [f"{a}={b}" for a, b in suggest_maps(list(mapped), list(t_keys))]
    return rep


MAX_HEADS_PER_REST = 64  # a key ending ("weight") under more target heads than this says nothing about a map


def suggest_maps(source_keys: list[str], target_keys: list[str]) -> list[tuple[str, str]]:
    """Prefix maps (one or two leading segments) that make more source keys land in the target.

    Each key has at most three heads (``""``, one and two segments). Every (source head,
    target head) pair that moves a key onto a target key is counted once per key, through
    an index of target keys by what follows their head; endings shared by more than
    :data:`MAX_HEADS_PER_REST` target heads are skipped. So the work is linear in the
    number of keys, where trying every pair of heads over every key was cubic.
    """
    targets = set(target_keys)
    base = sum(k in targets for k in source_keys)

    def heads(key: str) -> list[str]:
        parts = key.split(".")
        return [""] + [".".join(parts[:n]) + "." for n in (1, 2) if len(parts) > n]

    by_rest: dict[str, set[str]] = {}  # the rest of a target key -> the heads it can follow
    for t in target_keys:
        for head in heads(t):
            by_rest.setdefault(t[len(head) :], set()).add(head)
    gained: dict[tuple[str, str], int] = {}
    lost: dict[str, int] = {}  # source keys under a head that already match as they are
    for k in source_keys:
        matched = k in targets
        for src in heads(k):
            if matched:
                lost[src] = lost.get(src, 0) + 1
            dsts = by_rest.get(k[len(src) :], ())
            if len(dsts) > MAX_HEADS_PER_REST:
                continue
            for dst in dsts:
                if dst != src:
                    gained[(src, dst)] = gained.get((src, dst), 0) + 1
    best: tuple[int, tuple[str, str]] | None = None
    for (src, dst), n in sorted(gained.items()):
        score = base - lost.get(src, 0) + n
        if score > base and (best is None or score > best[0]):
            best = (score, (src, dst))
    return [best[1]] if best else []


__all__ = [
    "FLOAT_DTYPES", "WRAPPER_PREFIXES", "CompatReport", "EditError", "EditReport", "add_prefix", "cast", "compat",
    "drop", "extract", "graft", "model_state", "normalized_keys", "parse_maps", "rename", "strip", "suggest_maps",
]  # fmt: skip
