"""A whole training run: the checkpoints of one folder (or glob) ordered by step, per-layer figures
across them (norm, relative update, change since the first, NaN/Inf, Adam update ratio) and findings.

- :func:`find_run` lists and orders the checkpoints (:mod:`.run_listing`);
- :func:`analyse_run` makes one streamed pass per checkpoint (:mod:`.run_measure`), reading the same chunk
  range of the current, previous and first checkpoint, and caches per file what depends on that file
  alone and per pair what depends on two (:mod:`.run_cache`): a reopened run reads no tensor data;
- the findings come from the series (:mod:`.run_findings`), grouped where one cause would repeat per layer.

Only floating-point (and complex) tensors are layers of the run: integer and bool tensors (counters such as
BatchNorm's ``num_batches_tracked``, masks, position ids) are not weights, and are left out of the series,
the heatmap and the findings.

The public names here are what the window and ``ckpt run`` use.
"""

from __future__ import annotations

import gc
import math
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import run_cache
from .errors import CheckpointError
from .progress import Progress, ProgressFn, check_current, report
from .remote import as_path
from .run_findings import run_findings, weight_dtype
from .run_listing import Candidate, candidate, describe, list_entries, not_a_checkpoint, order

__all__ = ["RunCheckpoint", "LayerSeries", "RunFinding", "RunReport", "RunListing", "find_run", "list_run",
           "analyse_run", "run_to_json", "Progress"]  # fmt: skip


@dataclass(frozen=True)
class RunCheckpoint:
    """One checkpoint of a run, as listed (and where it says, its step, epoch, lr and metrics)."""

    path: str  # as given / found (a local path or a URL)
    name: str  # file or folder name shown to the user
    format: str  # the same format words `ckpt info --json` uses
    size: int  # bytes on disk (a folder: the sum of its files)
    step: int | None  # global step, from metadata, else from the name
    epoch: int | None
    order_from: str  # "metadata" | "name" | "mtime": what the ordering came from
    lr: float | None  # learning rate stored in it
    metrics: dict[str, float] = field(default_factory=dict)  # loss / metric values stored in it
    # the per-file cache key (path, size, mtime): analyse_run uses it instead of asking the file again
    key: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class LayerSeries:
    """One model tensor's figures across the run (one value per checkpoint)."""

    key: str  # model state_dict key (wrapper prefixes stripped), model order
    shape: tuple[int, ...]
    norm: list[float | None]  # ||W_t|| (None where the key is absent)
    rel_update: list[float | None]  # ||W_t - W_{t-1}|| / ||W_{t-1}||; None at t=0 or absent
    change_from_first: list[float | None]  # ||W_t - W_0|| / ||W_0||
    nonfinite: list[int]  # NaN+Inf count per checkpoint (0 where absent)
    # lr * ||m_hat / (sqrt(v_hat)+eps)|| / ||W_t|| where Adam state is present (bias-corrected when the
    # step and betas are stored)
    adam_ratio: list[float | None]
    dtype: str = ""  # in the first checkpoint that holds it
    role: str = ""  # "parameter" or "buffer" (running statistics, constants)


@dataclass(frozen=True)
class RunFinding:
    """Something that happened across the run, with what it means."""

    kind: str  # "frozen" | "dead" | "exploding" | "first_nonfinite" | "identical"
    severity: str  # "warning" | "error" | "info"
    checkpoint: int  # index into RunReport.checkpoints where it starts / is seen
    key: str | None  # the layer (a group's first), or None for whole-checkpoint findings
    message: str  # one line (a group's names its layers: the first few, or the module they make up)
    why: str  # what it means and what to do
    # every layer it covers, in model order (a NaN/Inf spread: in the order they caught it); () where none.
    # One layer: (key,); a group (a frozen module, NaN/Inf spreading) lists them all
    keys: tuple[str, ...] = ()

    def layers(self) -> tuple[str, ...]:
        """The layers this finding is about (``keys``, or ``key`` alone where keys were not given)."""
        return self.keys or ((self.key,) if self.key is not None else ())


@dataclass(frozen=True)
class RunReport:
    """Everything the run view shows."""

    root: str
    checkpoints: list[RunCheckpoint]  # ordered by step/epoch
    layers: list[LayerSeries]  # model order
    findings: list[RunFinding]
    metric: str = "rel_update"  # the series a heatmap shows by default
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why) of files that are not checkpoints
    cached: list[bool] = field(default_factory=list)  # per checkpoint: its figures came from the cache


@dataclass(frozen=True)
class RunListing:
    """What :func:`list_run` found: the checkpoints in run order and the entries that are not checkpoints."""

    root: str
    checkpoints: list[RunCheckpoint]
    skipped: list[tuple[str, str]]


def list_run(target: str | Path, *, progress: ProgressFn | None = None, cache_dir: Path | None = None) -> RunListing:
    """:func:`find_run`, with the run's root and the entries skipped (name, why)."""
    folder = cache_dir if cache_dir is not None else run_cache.default_dir()
    _release_listed()
    root, paths = list_entries(target)
    described: list[tuple[Candidate, dict[str, Any]]] = []
    keys: dict[str, str] = {}
    skipped: list[tuple[str, str]] = []
    for i, path in enumerate(paths):
        check_current()
        report(progress, i, len(paths), f"Reading {path.name}")
        cand, why = candidate(path)
        if cand is None:
            skipped.append((path.name, why))
            continue
        key = run_cache.file_key(cand.ident())
        entry = run_cache.load(folder, key)
        info = entry.get("info")  # known: the file is not even sniffed again
        if info is None:
            why = not_a_checkpoint(path)
            if why:
                skipped.append((path.name, why))
                continue
            try:
                info = _describe(cand, key)
            except CheckpointError as exc:
                skipped.append((cand.name, str(exc).removeprefix(f"{cand.path}: ")))
                continue
            run_cache.save(folder, key, {**entry, "info": info})
        keys[str(cand.path)] = key
        described.append((cand, info))
    report(progress, len(paths), len(paths), "Listed")
    if not described:
        why = "; ".join(f"{name}: {reason}" for name, reason in skipped[:3])
        raise CheckpointError(f"{target}: no checkpoints found" + (f" ({why})" if why else ""))
    checkpoints = [
        RunCheckpoint(
            path=str(cand.path), name=cand.name, format=info["format"], size=cand.size, step=info.get("step"),
            epoch=info.get("epoch"), order_from=source, lr=info.get("lr"), metrics=dict(info.get("metrics") or {}),
            key=keys[str(cand.path)],
        )
        for cand, info, source in order(described)
    ]  # fmt: skip
    return RunListing(str(root), checkpoints, skipped)


BIG_CHECKPOINT = 64 << 20  # bytes measured above which a checkpoint's map is released at once

# Checkpoints list_run opened to describe, kept open for the analyse_run that usually follows (by cache
# key): unpickling is the listing's main cost, and the analysis would pay it again. A new listing closes
# what the last one left unused; analyse_run takes (and closes) what it uses.
_LISTED: dict[str, Any] = {}
_LISTED_LOCK = threading.Lock()


def _release_listed() -> None:
    with _LISTED_LOCK:
        left = list(_LISTED.values())
        _LISTED.clear()
    for ckpt in left:
        ckpt.close()


def _take_listed(key: str) -> Any:
    with _LISTED_LOCK:
        return _LISTED.pop(key, None)


def _describe(cand: Candidate, key: str) -> dict[str, Any]:
    from .open import open_checkpoint

    ckpt = open_checkpoint(cand.path, device="cpu")
    try:
        info = describe(ckpt, cand)
    except BaseException:
        ckpt.close()
        raise
    with _LISTED_LOCK:
        old = _LISTED.pop(key, None)
        _LISTED[key] = ckpt
    if old is not None:
        old.close()
    return info


def find_run(target: str | Path, *, cache_dir: Path | None = None) -> list[RunCheckpoint]:
    """The checkpoints of a run: a folder (files and checkpoint sub-folders: HF checkpoint-500/, DCP step_1000/),
    or a glob; ordered by step/epoch (metadata, else numbers in names, else mtime). Raises CheckpointError
    (clear message) when nothing is found."""
    return list_run(target, cache_dir=cache_dir).checkpoints


def _key_of(c: RunCheckpoint) -> str:
    if c.key:
        return c.key
    cand, why = candidate(as_path(c.path))
    if cand is None:
        raise CheckpointError(f"{c.path}: {why}")
    return run_cache.file_key(cand.ident())


def analyse_run(
    checkpoints: list[RunCheckpoint],
    *,
    progress: ProgressFn | None = None,
    cache_dir: Path | None = None,
    skipped: list[tuple[str, str]] | None = None,
    root: str | None = None,
) -> RunReport:
    """One streamed pass per checkpoint (previous + current tensor in memory at once), figures cached per
    file (path + size + mtime) so a reopened run is instant. Cancel through the current cancel scope."""
    from . import run_measure

    if not checkpoints:
        raise CheckpointError("a run needs at least one checkpoint")
    folder = cache_dir if cache_dir is not None else run_cache.default_dir()
    keys = [_key_of(c) for c in checkpoints]
    entries = [run_cache.load(folder, k) for k in keys]
    n = len(checkpoints)
    opened: dict[int, Any] = {}
    cached: list[bool] = []

    def get(i: int) -> Any:
        if i not in opened:
            from .open import open_checkpoint

            ckpt = _take_listed(keys[i]) or open_checkpoint(as_path(checkpoints[i].path), device="cpu")
            opened[i] = run_measure.Opened(ckpt)
        return opened[i]

    try:
        for t in range(n):
            check_current()
            entry = entries[t]
            pairs = entry.setdefault("pairs", {})
            wanted = [i for i in ({t - 1, 0} if t > 0 else set()) if keys[i] not in pairs]
            need_self = "layers" not in entry
            cached.append(not need_self and not wanted)
            if cached[-1]:
                report(progress, (t + 1) * 1000, n * 1000, f"{checkpoints[t].name} (cached)")
                continue
            cur = get(t)
            others = [get(i) for i in sorted(wanted)]
            total = max(1, run_measure.measured_bytes(cur))
            done = 0

            def on_bytes(nbytes: int, _t: int = t, _total: int = total) -> None:
                nonlocal done
                done += nbytes
                report(progress, _t * 1000 + min(999, done * 1000 // _total), n * 1000, checkpoints[_t].name)

            rows, results = run_measure.measure(cur, others, need_self, on_bytes)
            if rows is not None:
                entry["layers"] = rows
            for i, result in zip(sorted(wanted), results):
                if result is not None:
                    pairs[keys[i]] = result
            if "info" not in entry:
                entry["info"] = _info_of(checkpoints[t])
            run_cache.save(folder, keys[t], entry)
            # only the first and the current checkpoint are needed from here on
            for i in [i for i in opened if i not in (0, t)]:
                done_with = opened.pop(i)
                done_with.close()
                if run_measure.measured_bytes(done_with) > BIG_CHECKPOINT:
                    # its map is released with the object graph (reference cycles): now, not at the next
                    # collection, or every checkpoint of the run stays mapped (resident file pages)
                    del done_with
                    gc.collect()
        report(progress, n * 1000, n * 1000, "Done")
    finally:
        for o in opened.values():
            o.close()
        for key in keys:  # listed for this analysis, not needed after all
            left = _take_listed(key)
            if left is not None:
                left.close()
    layers, identical = _series(checkpoints, keys, entries)
    names = [c.name for c in checkpoints]
    findings = [RunFinding(*f) for f in run_findings(names, layers, identical, *_pace(checkpoints))]
    if root is None:
        parents = {str(as_path(c.path).parent) for c in checkpoints}
        root = parents.pop() if len(parents) == 1 else os.path.commonpath(sorted(parents))
    return RunReport(root, list(checkpoints), layers, findings, "rel_update", list(skipped or []), cached)


def _info_of(c: RunCheckpoint) -> dict[str, Any]:
    return {"format": c.format, "step": c.step, "epoch": c.epoch, "lr": c.lr, "metrics": dict(c.metrics)}


def _series(
    checkpoints: list[RunCheckpoint], keys: list[str], entries: list[dict[str, Any]]
) -> tuple[list[LayerSeries], list[bool]]:
    """The layer series and which checkpoints are identical to their predecessor."""
    n = len(checkpoints)
    rows: list[dict[str, list]] = [{r[0]: r for r in e.get("layers", [])} for e in entries]
    order_keys: dict[str, None] = {}
    for r in rows:
        order_keys.update(dict.fromkeys(r))
    identical = [False] * n
    for t in range(1, n):
        pair = entries[t].get("pairs", {}).get(keys[t - 1])
        weights = {k for k, r in rows[t].items() if weight_dtype(r[2])}
        identical[t] = bool(pair is not None and pair["keys_equal"] and weights and weights <= set(pair["equal"]))
    layers: list[LayerSeries] = []
    for key in order_keys:
        if any(key in r and not weight_dtype(r[key][2]) for r in rows):
            continue  # a counter, a mask: not a weight (cache files from before kept them)
        norm: list[float | None] = []
        rel: list[float | None] = []
        change: list[float | None] = []
        nonfinite: list[int] = []
        adam: list[float | None] = []
        shape: tuple[int, ...] = ()
        dtype = role = ""
        for t in range(n):
            row = rows[t].get(key)
            if row is None:
                norm.append(None)
                nonfinite.append(0)
                adam.append(None)
                rel.append(None)
                change.append(None)
                continue
            if not dtype:
                shape, dtype, role = tuple(row[1]), row[2], row[6]
            # a tensor with no finite value has no norm (and no update to measure), not a norm of 0
            blank = row[3] is None or (row[4] and row[4] >= math.prod(row[1]))
            norm.append(None if blank else math.sqrt(row[3]))
            nonfinite.append(row[4])
            adam.append(row[5])
            pairs = entries[t].get("pairs", {})
            if t == 0:
                rel.append(None)
                change.append(None if blank else 0.0)
            else:
                rel.append(None if blank else _relative(pairs.get(keys[t - 1]), key, norm[t - 1]))
                change.append(None if blank else _relative(pairs.get(keys[0]), key, norm[0]))
        layers.append(LayerSeries(key, shape, norm, rel, change, nonfinite, adam, dtype, role))
    return layers, identical


def _pace(checkpoints: list[RunCheckpoint]) -> tuple[list[float], list[float] | None]:
    """Per interval t-1 -> t, the steps between the two saves (1 where not every checkpoint says its step),
    and every checkpoint's learning rate (None unless every one says it): what an update's size is
    expected to scale with, so that a longer interval or a warm-up is not taken for an explosion."""
    n = len(checkpoints)
    steps = [c.step for c in checkpoints]
    known = all(s is not None for s in steps) and all(steps[t] > steps[t - 1] for t in range(1, n))  # type: ignore[operator]
    pace = [float(steps[t] - steps[t - 1]) if known and t else 1.0 for t in range(n)]  # type: ignore[operator]
    lrs = [c.lr for c in checkpoints if c.lr is not None and c.lr > 0]
    return pace, (lrs if len(lrs) == n else None)


def _relative(pair: dict[str, Any] | None, key: str, base: float | None) -> float | None:
    """||W_t - W_ref|| / ||W_ref|| from a pair entry (None where unknown; 0/0 is no change)."""
    if pair is None or base is None:
        return None
    d2 = pair["d2"].get(key)
    if d2 is None:
        return None
    if base == 0:
        return 0.0 if d2 == 0 else None
    return math.sqrt(d2) / base


def _json_float(v: float | None) -> float | None:
    return v if v is not None and math.isfinite(v) else None


def run_to_json(report: RunReport) -> dict[str, Any]:
    """The JSON document `ckpt run --json` prints (finite floats or null)."""
    return {
        "root": report.root,
        "metric": report.metric,
        "checkpoints": [
            {"path": c.path, "name": c.name, "format": c.format, "size": c.size, "step": c.step, "epoch": c.epoch,
             "order_from": c.order_from, "lr": _json_float(c.lr),
             "metrics": {k: _json_float(v) for k, v in c.metrics.items()}, "cached": cached}
            for c, cached in zip(report.checkpoints, report.cached or [False] * len(report.checkpoints))
        ],
        "layers": [
            {"key": s.key, "shape": list(s.shape), "dtype": s.dtype,
             "norm": [_json_float(v) for v in s.norm],
             "rel_update": [_json_float(v) for v in s.rel_update],
             "change_from_first": [_json_float(v) for v in s.change_from_first],
             "nonfinite": list(s.nonfinite),
             "adam_ratio": [_json_float(v) for v in s.adam_ratio]}
            for s in report.layers
        ],
        "findings": [
            {"kind": f.kind, "severity": f.severity, "checkpoint": f.checkpoint, "key": f.key, "message": f.message,
             "why": f.why, "keys": list(f.layers())}
            for f in report.findings
        ],
        "skipped": [{"name": name, "why": why} for name, why in report.skipped],
    }  # fmt: skip
