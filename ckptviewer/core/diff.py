"""Diff two checkpoints: align keys, classify, and measure what changed and by how much.

Keys are aligned after removing each side's wrapper prefixes (and the location of the
model state_dict), so a DDP checkpoint aligns with a plain one; user prefix maps rewrite
A's keys. Each aligned key is ``only_a``, ``only_b``, ``mismatched`` (shape differs),
``identical`` (bit-equal, NaN payloads included) or ``changed``. Compared tensors get
max/mean |a-b|, cosine similarity, the fraction of elements that differ, and counts of
NaN/Inf that appeared. A NaN in the same place on both sides is not a change; sums of
squares are over the elements finite on both sides. Mismatched and one-sided keys were
not measured: their metrics are None, never 0.

Relative change, one definition everywhere (a tensor, a module, the whole checkpoint)::

    rel_change = ||B - A|| / max(||A||, ||B||)        (0 when both are zero)

It is defined where A is all zero (a zero-initialised bias that training moved reads 1,
and is flagged ``new_from_zero`` rather than reported as a huge ratio) and lies in
[0, 2]. A module's and the headline's (``total_rel_change``) use the same formula over
the sums of squares of the tensors below: sqrt(sum ||B-A||^2 / max(sum ||A||^2, sum ||B||^2)).
Only floating-point (and complex, and quantized) tensors take part. Integer and bool
tensors (BatchNorm's ``num_batches_tracked``, step counters, masks) are compared exactly,
whatever the tolerance, carry their values when scalar, stay out of every relative change
and are summarised apart as counters (:func:`counters`). ``rel_l2`` keeps its old
meaning, ||B-A|| / ||A|| (None where A is zero), for readers of the JSON.

The verdict (same / same within tolerance / different, and ``ckpt diff``'s exit status)
is :func:`verdict` of the rows and the tolerance: the CLI, its JSON and the window all
show that one result.

Tensors are streamed in chunks read from the files with plain reads into reusable
buffers, so memory stays bounded (a diff of two 1 GiB files does not map 2 GiB).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..formatting import number, plural
from . import gguf_names
from .checkpoint import Checkpoint, TensorEntry
from .dtypes import QUANTIZED, check_computable
from .edits.align import apply_maps
from .export import atomic_write, csv_cell
from .lazy import LazyTensor
from .limits import DENSE_BYTES, check_work
from .progress import CancelToken, ProgressFn, check, report
from .stats import CHUNK, _prepare, dense_values, iter_chunks, stored_elements
from .tree import Node, split_key

IDENTICAL, CHANGED, MISMATCHED, ONLY_A, ONLY_B = "identical", "changed", "mismatched", "only_a", "only_b"
# not a status of its own (the JSON's "changed" list keeps these rows): a changed pair
# whose every element is within atol + rtol*|b|, shown as such so rows agree with the verdict
WITHIN_TOL = "within_tol"
VERDICTS = (IDENTICAL, WITHIN_TOL, CHANGED, MISMATCHED, ONLY_A, ONLY_B)
COMPARED = (IDENTICAL, CHANGED)  # statuses with values compared (metrics defined)
# the verdict's kinds: every tensor bit-equal; equal within the tolerance; different
SAME, SAME_WITHIN_TOL, DIFFERENT = "same", "within_tolerance", "different"


def relative_change(a2: float, b2: float, d2: float) -> float:
    """||B-A|| / max(||A||, ||B||) from the squared norms; 0 when both are zero."""
    top = max(a2, b2)
    return math.sqrt(d2 / top) if top > 0 else 0.0


def is_floating(dtype: torch.dtype) -> bool:
    """Whether a dtype's values take part in relative change (float, complex, quantized)."""
    return dtype.is_floating_point or dtype.is_complex or dtype in QUANTIZED


@dataclass
class TensorDiff:
    """One aligned key and how the two tensors compare.

    Metrics are None where they were not measured (mismatched and one-sided keys) or are
    undefined; never 0 in their place.
    """

    key: str
    a_key: str | None
    b_key: str | None
    status: str
    a_shape: list[int] | None = None
    b_shape: list[int] | None = None
    a_dtype: str | None = None
    b_dtype: str | None = None
    numel: int | None = 0  # elements compared (one side's count when one-sided; None when mismatched)
    max_abs: float | None = None
    mean_abs: float | None = None
    rel_l2: float | None = None  # ||B-A|| / ||A||: the JSON's old measure, None where A is zero
    rel_change: float | None = None  # ||B-A|| / max(||A||, ||B||); floating-point pairs only
    cosine: float | None = None
    frac_changed: float | None = None
    new_nan: int | None = None
    new_inf: int | None = None
    outside_tol: int | None = None  # elements with |a-b| > atol + rtol*|b| (exact for integers)
    new_from_zero: bool = False  # A all zero, B not: rel_change is 1, not a ratio over nothing
    integer: bool = False  # integer or bool values: compared exactly, outside every relative change
    a_value: int | float | bool | None = None  # an integer scalar's values
    b_value: int | float | bool | None = None
    a_l2sq: float = 0.0  # for module aggregates (finite pairs only)
    b_l2sq: float = 0.0
    d_l2sq: float = 0.0

    @property
    def measured(self) -> bool:
        """Takes part in module and total relative change: a compared floating-point pair."""
        return self.status in COMPARED and not self.integer

    @property
    def within_tol(self) -> bool:
        """Changed, yet every element within ``atol + rtol*|b|`` and no NaN/Inf appeared."""
        return self.status == CHANGED and not self.outside_tol and not self.new_nan and not self.new_inf

    @property
    def verdict(self) -> str:
        """The status as the verdict sees it: :data:`WITHIN_TOL` for a changed row within tolerance."""
        return WITHIN_TOL if self.within_tol else self.status

    def to_json(self) -> dict[str, Any]:
        """The row as ``ckpt diff --json`` lists it (sums of squares left out; Inf and NaN as null)."""
        doc = {k: v for k, v in asdict(self).items() if k not in ("a_l2sq", "b_l2sq", "d_l2sq")}
        doc["within_tol"] = self.within_tol
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in doc.items()}


@dataclass(frozen=True)
class Verdict:
    """What a comparison concludes: :data:`SAME`, :data:`SAME_WITHIN_TOL` or :data:`DIFFERENT`,
    and the one line that says it (the CLI's first line, the JSON's ``verdict_text``, the
    window's verdict)."""

    kind: str
    text: str

    @property
    def same(self) -> bool:
        """Same keys and shapes, and every element within the tolerance."""
        return self.kind != DIFFERENT

    @property
    def exit_status(self) -> int:
        """``ckpt diff``'s exit status, as diff(1): 0 same (within tolerance), 1 different."""
        return 0 if self.same else 1


def tolerance_text(atol: float, rtol: float) -> str:
    """``exact`` or ``atol 0.001, rtol 0``."""
    return f"atol {atol:g}, rtol {rtol:g}" if atol or rtol else "exact"


def within_label(exact: bool) -> str:
    """How a changed row within tolerance reads: with no tolerance it differs in bits or
    dtype only (-0.0 vs 0.0, float32 -> float64), so its values are equal."""
    return "equal in value" if exact else "within tolerance"


def verdict_counts(rows: list[TensorDiff]) -> dict[str, int]:
    """Rows per :attr:`TensorDiff.verdict` (changed rows within tolerance counted apart)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for r in rows:
        counts[r.verdict] += 1
    return counts


def verdict(rows: list[TensorDiff], atol: float, rtol: float) -> Verdict:
    """The verdict of a comparison: a function of its rows and the tolerance only.

    Different if any tensor changed beyond the tolerance (integers: at all), or any key is
    mismatched or on one side only; else same within tolerance if a tensor changed; else
    same. The text names the tolerance and counts the rows by verdict, e.g.
    ``different (exact): 28 tensors, 3 identical, 22 changed, 2 mismatched, 1 only in A``.
    """
    counts = verdict_counts(rows)
    exact = not (atol or rtol)
    if counts[CHANGED] or counts[MISMATCHED] or counts[ONLY_A] or counts[ONLY_B]:
        kind, word = DIFFERENT, "different"
    elif counts[WITHIN_TOL]:
        kind, word = SAME_WITHIN_TOL, "same values" if exact else "same within tolerance"
    else:
        kind, word = SAME, "same"
    labels = {IDENTICAL: "identical", CHANGED: "changed", WITHIN_TOL: within_label(exact), MISMATCHED: "mismatched",
              ONLY_A: "only in A", ONLY_B: "only in B"}  # fmt: skip
    order = (IDENTICAL, CHANGED, WITHIN_TOL, MISMATCHED, ONLY_A, ONLY_B)
    parts = [plural(len(rows), "tensor")] + [f"{counts[v]:,} {labels[v]}" for v in order if counts[v]]
    return Verdict(kind, f"{word} ({tolerance_text(atol, rtol)}): {', '.join(parts)}")


@dataclass
class CounterGroup:
    """Compared integer/bool tensors that share a leaf name (``num_batches_tracked``)."""

    name: str
    rows: list[TensorDiff]

    @property
    def n_changed(self) -> int:
        return sum(r.status == CHANGED for r in self.rows)

    @property
    def scalar(self) -> bool:
        return all(r.a_value is not None and r.b_value is not None for r in self.rows)

    def text(self) -> str:
        """``num_batches_tracked 0 -> 25 in 5 layers``; ranges where the layers disagree."""
        n, changed = len(self.rows), self.n_changed
        label = self.name if n > 1 else self.rows[0].key
        where = f" in {n:,} layers" if n > 1 else ""
        if self.scalar:
            pairs = {(r.a_value, r.b_value) for r in self.rows}
            if len(pairs) == 1:
                ((a, b),) = pairs
                return f"{label} {a} -> {b}{where}" if changed else f"{label} {a} (unchanged){where}"
            a_span = _span([r.a_value for r in self.rows])
            b_span = _span([r.b_value for r in self.rows])
            return f"{label} {a_span} -> {b_span}{where} ({changed:,} of {n:,} changed)"
        if n == 1:
            return f"{label} {'changed' if changed else 'identical'}"
        return f"{label}: {changed:,} of {n:,} changed"

    def to_json(self) -> dict[str, Any]:
        scalar = self.scalar
        return {
            "name": self.name, "keys": [r.key for r in self.rows], "changed": self.n_changed,
            "a_values": [r.a_value for r in self.rows] if scalar else None,
            "b_values": [r.b_value for r in self.rows] if scalar else None,
            "text": self.text(),
        }  # fmt: skip


def _span(values: list) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}..{hi}"


def counters(rows: list[TensorDiff]) -> list[CounterGroup]:
    """Compared integer and bool tensors grouped by leaf name, in the order first seen."""
    groups: dict[str, CounterGroup] = {}
    for r in rows:
        if r.integer and r.status in COMPARED:
            name = split_key(r.key)[-1]
            groups.setdefault(name, CounterGroup(name, [])).rows.append(r)
    return list(groups.values())


@dataclass
class DiffReport:
    """Everything ``ckpt diff`` prints."""

    a: str
    b: str
    a_prefix: str
    b_prefix: str
    atol: float
    rtol: float
    rows: list[TensorDiff] = field(default_factory=list)  # aligned order: A's order, then B-only
    notes: list[str] = field(default_factory=list)  # how keys were aligned beyond prefixes (GGUF names)

    def by_status(self, status: str) -> list[TensorDiff]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.by_status(s)) for s in (IDENTICAL, CHANGED, MISMATCHED, ONLY_A, ONLY_B)}

    @property
    def verdict_counts(self) -> dict[str, int]:
        """Rows per :attr:`TensorDiff.verdict` (changed rows within tolerance counted apart)."""
        return verdict_counts(self.rows)

    @property
    def verdict(self) -> Verdict:
        """:func:`verdict` of the rows and this report's tolerance."""
        return verdict(self.rows, self.atol, self.rtol)

    @property
    def same(self) -> bool:
        """Same keys and shapes, and every element within atol + rtol*|b| (integers: equal)."""
        return self.verdict.same

    @property
    def n_measured(self) -> int:
        """Floating-point tensors compared: the scope of :attr:`total_rel_change`."""
        return sum(r.measured for r in self.rows)

    @property
    def total_rel_change(self) -> float | None:
        """Relative change over every compared floating-point tensor (None if there is none)."""
        measured = [r for r in self.rows if r.measured]
        if not measured:
            return None
        a2, b2, d2 = (math.fsum(getattr(r, f) for r in measured) for f in ("a_l2sq", "b_l2sq", "d_l2sq"))
        return relative_change(a2, b2, d2)

    def headline(self) -> str:
        """``total relative change 0.757 over 22 floating-point tensors`` (the CLI's and the window's words)."""
        n = self.n_measured
        if not n:
            return "total relative change: none (no floating-point tensors compared)"
        return f"total relative change {number(self.total_rel_change, 3)} over {plural(n, 'floating-point tensor')}"

    def counters(self) -> list[CounterGroup]:
        """:func:`counters` of the rows: integer and bool tensors, reported apart."""
        return counters(self.rows)

    def modules(self) -> dict[str, float]:
        """Relative change of every module prefix (``layer1``, ``layer1.0`` ...) holding a
        compared floating-point tensor, in model order."""
        sums: dict[str, list[float]] = {}
        for r in self.rows:
            if not r.measured:
                continue
            parts = split_key(r.key)
            for i in range(1, len(parts)):
                acc = sums.setdefault(".".join(parts[:i]), [0.0, 0.0, 0.0])
                acc[0] += r.a_l2sq
                acc[1] += r.b_l2sq
                acc[2] += r.d_l2sq
        return {k: relative_change(a, b, d) for k, (a, b, d) in sums.items()}

    def to_json(self) -> dict[str, Any]:
        """The ``ckpt diff --json`` document (docs/ARCHITECTURE.md)."""
        v = self.verdict
        return {
            "a": self.a, "b": self.b,
            "aligned_by": {"a_prefix": self.a_prefix, "b_prefix": self.b_prefix},
            "only_a": [r.key for r in self.by_status(ONLY_A)],
            "only_b": [r.key for r in self.by_status(ONLY_B)],
            "mismatched": [{"key": r.key, "a_shape": r.a_shape, "b_shape": r.b_shape, "a_dtype": r.a_dtype,
                            "b_dtype": r.b_dtype} for r in self.by_status(MISMATCHED)],
            "identical": [r.key for r in self.by_status(IDENTICAL)],
            "changed": [r.to_json() for r in self.by_status(CHANGED)],
            "counts": self.counts,
            "total_rel_change": self.total_rel_change,
            "n_measured": self.n_measured,
            "counters": [g.to_json() for g in self.counters()],
            "tolerance": {"atol": self.atol, "rtol": self.rtol},
            "same": v.same,
            "verdict": v.kind,
            "verdict_text": v.text,
            "notes": self.notes,
        }  # fmt: skip


def aligned_keys(ckpt: Checkpoint) -> tuple[dict[str, str], str]:
    """Aligned key -> raw key, and the prefix that was removed from model keys."""
    prefix = f"{ckpt.state_dict_key}." if ckpt.state_dict_key else ""
    wrappers = "".join(ckpt.prefixes)
    out: dict[str, str] = {}
    model = set(ckpt.model_keys())
    for key in ckpt.tensors:
        if key in model:
            rel = key[len(prefix) :]
            out[rel[len(wrappers) :] if rel.startswith(wrappers) else rel] = key
        else:
            out.setdefault(key, key)
    return out, prefix + wrappers


def diff(
    a: Checkpoint,
    b: Checkpoint,
    *,
    maps: list[tuple[str, str]] | None = None,
    atol: float = 0.0,
    rtol: float = 0.0,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> DiffReport:
    """Compare ``a`` and ``b`` tensor by tensor (see the module docstring).

    ``force`` compares tensors whose logical size dwarfs their stored data (refused
    otherwise, :mod:`.limits`).
    """
    a_keys, a_prefix = aligned_keys(a)
    b_keys, b_prefix = aligned_keys(b)
    if maps:
        mapped: dict[str, str] = {}
        for k, v in a_keys.items():
            new = apply_maps(k, maps)
            mapped[new if new not in mapped else k] = v  # two keys mapped onto one: keep both rows
        a_keys = mapped
    a_keys, b_keys, notes = gguf_names.align(a, a_keys, b, b_keys)  # GGUF's names -> its source's
    rep = DiffReport(str(a.path), str(b.path), a_prefix, b_prefix, atol, rtol, notes=notes)
    pairs: list[tuple[TensorDiff, TensorEntry, TensorEntry]] = []
    for key, ak in a_keys.items():
        ea = a.tensors[ak]
        bk = b_keys.get(key)
        if bk is None:
            rep.rows.append(TensorDiff(key, ak, None, ONLY_A, list(ea.shape), None, ea.dtype_name, None, ea.numel,
                                       integer=not is_floating(ea.dtype)))  # fmt: skip
            continue
        eb = b.tensors[bk]
        row = TensorDiff(key, ak, bk, CHANGED, list(ea.shape), list(eb.shape), ea.dtype_name, eb.dtype_name, ea.numel,
                         integer=not (is_floating(ea.dtype) and is_floating(eb.dtype)))  # fmt: skip
        rep.rows.append(row)
        if ea.shape != eb.shape:
            row.status = MISMATCHED
            row.numel = None  # two sizes; the shapes say them
        else:
            pairs.append((row, ea, eb))
    for key, bk in b_keys.items():
        if key not in a_keys:
            eb = b.tensors[bk]
            rep.rows.append(TensorDiff(key, None, bk, ONLY_B, None, list(eb.shape), None, eb.dtype_name, eb.numel,
                                       integer=not is_floating(eb.dtype)))  # fmt: skip
    total = sum(ea.nbytes + eb.nbytes for _, ea, eb in pairs)
    done = 0
    device = a.device
    for row, ea, eb in pairs:
        check(cancel)

        def advance(n: int, _row=row) -> None:
            nonlocal done
            done += n
            report(progress, done, total, _row.key)

        _compare(row, ea, eb, device, atol, rtol, cancel, advance, force)
    report(progress, total, total, "Done")
    return rep


def _chunks(entry: TensorEntry, size: int, force: bool = False) -> Iterator[torch.Tensor]:
    """1-D pieces of ``entry``'s values; read from the file into a reusable buffer when possible."""
    src = entry.source
    if (
        isinstance(src, LazyTensor)
        and hasattr(src.storage.source, "file_offset")
        and src.stride == _contiguous(src.shape)
        and not src.dtype.is_complex
        and getattr(src.storage.source, "byteorder", "little") == "little"
    ):
        path = getattr(src.storage.source, "path", None)
        if path is not None:
            yield from _read_chunks(path, src, size)
            return
    t = dense_values(entry.load(), entry.key, force)
    check_work(entry.key, t.numel(), stored_elements(t), force, "a comparison")
    yield from _exact(iter_chunks(t, size), size)


def _exact(pieces: Iterator[torch.Tensor], size: int) -> Iterator[torch.Tensor]:
    """The same values in pieces of exactly ``size`` elements (the last may be shorter).

    Both sides of a comparison must be cut at the same places, whatever their strides;
    copying the whole tensor contiguous would cost its full logical size in memory.
    """
    held: list[torch.Tensor] = []
    count = 0
    for piece in pieces:
        while piece.numel():
            take = min(size - count, piece.numel())
            held.append(piece[:take])
            count += take
            piece = piece[take:]
            if count == size:
                yield held[0] if len(held) == 1 else torch.cat(held)
                held, count = [], 0
    if held:
        yield held[0] if len(held) == 1 else torch.cat(held)


def _contiguous(shape: tuple[int, ...]) -> tuple[int, ...]:
    from .lazy import contiguous_stride

    return contiguous_stride(shape)


def _read_chunks(path: Any, src: LazyTensor, size: int) -> Iterator[torch.Tensor]:
    itemsize = src.dtype.itemsize
    start = src.storage.source.file_offset(src.storage) + src.offset * itemsize
    buffer = bytearray(size * itemsize)
    remaining = src.numel
    with path.open("rb") as f:  # a RemotePath's file reads by range
        f.seek(start)
        while remaining > 0:
            n = min(size, remaining)
            view = memoryview(buffer)[: n * itemsize]
            if f.readinto(view) != n * itemsize:
                raise OSError(f"{path}: tensor data cut short")
            yield torch.frombuffer(view, dtype=src.dtype)
            remaining -= n


class _Acc:
    """Running sums and counts for one tensor pair (float64 Python floats)."""

    __slots__ = ("a2", "ab", "b2", "changed", "d2", "max_abs", "new_inf", "new_nan", "outside", "pairs", "sum_abs")

    def __init__(self) -> None:
        self.changed = self.pairs = self.new_nan = self.new_inf = self.outside = 0
        self.max_abs = self.sum_abs = self.d2 = self.a2 = self.b2 = self.ab = 0.0


def _compare(row, ea, eb, device, atol, rtol, cancel, advance, force=False) -> None:
    for entry in (ea, eb):
        check_computable(entry.key, entry.dtype)
    if row.integer:
        atol = rtol = 0.0  # counters, indices and masks are equal or not: no tolerance applies
    acc = _Acc()
    bit_equal = ea.dtype == eb.dtype
    floats = ea.dtype.is_floating_point and eb.dtype.is_floating_point
    # integers compare exactly in float64 (below 2**53); floats in float32 unless one is float64
    common = torch.float64 if torch.float64 in (ea.dtype, eb.dtype) or not floats else torch.float32
    for ca, cb in zip(_chunks(ea, CHUNK, force), _chunks(eb, CHUNK, force)):
        check(cancel)
        if row.integer and row.numel == 1:
            row.a_value, row.b_value = ca.reshape(-1)[0].item(), cb.reshape(-1)[0].item()
        nbytes = ca.numel() * ea.dtype.itemsize + cb.numel() * eb.dtype.itemsize
        if bit_equal and _same_bits(ca, cb):
            x = _prepare(ca, device).to(common)
            if not _all_finite(x):
                x = x[torch.isfinite(x)]
            sq = _dot(x, x)
            acc.a2 += sq
            acc.b2 += sq
            acc.ab += sq
            acc.pairs += x.numel()
            advance(nbytes)
            continue
        bit_equal = False
        x, y = _prepare(ca, device).to(common), _prepare(cb, device).to(common)
        # NaN/Inf anywhere makes a dot product non-finite: no separate finiteness pass; a
        # float32 overflow looks the same and takes the exact float64 path as well
        if not _finite_pass(acc, x, y, atol, rtol):
            _masked_pass(acc, x, y, atol, rtol)
        advance(nbytes)
    row.a_l2sq, row.b_l2sq, row.d_l2sq = acc.a2, acc.b2, acc.d2
    row.new_nan, row.new_inf, row.outside_tol = acc.new_nan, acc.new_inf, acc.outside
    if not row.integer:
        row.rel_change = relative_change(acc.a2, acc.b2, acc.d2)
    if bit_equal:
        row.status = IDENTICAL
        return
    row.status = CHANGED
    row.max_abs = acc.max_abs
    row.mean_abs = acc.sum_abs / acc.pairs if acc.pairs else None
    row.rel_l2 = math.sqrt(acc.d2 / acc.a2) if acc.a2 > 0 else (0.0 if acc.d2 == 0 else None)
    row.cosine = acc.ab / math.sqrt(acc.a2 * acc.b2) if acc.a2 > 0 and acc.b2 > 0 else None
    row.frac_changed = acc.changed / max(row.numel, 1)
    row.new_from_zero = acc.a2 == 0 and acc.b2 > 0


def _all_finite(x: torch.Tensor) -> bool:
    if not x.is_floating_point() or x.numel() == 0:
        return True
    lo, hi = torch.aminmax(x)
    return math.isfinite(lo.item()) and math.isfinite(hi.item())  # NaN and Inf both show here


def _dot(x: torch.Tensor, y: torch.Tensor) -> float:
    value = float(torch.dot(x, y))
    if not math.isfinite(value) and x.dtype != torch.float64:
        value = float(torch.dot(x.double(), y.double()))  # beyond float32's range
    return value


def _finite_pass(acc: _Acc, x, y, atol: float, rtol: float) -> bool:
    """Seven in-cache passes; False (nothing counted) if a value is NaN/Inf or squares overflow."""
    d = y - x
    d2, a2, b2 = float(torch.dot(d, d)), float(torch.dot(x, x)), float(torch.dot(y, y))
    if not (math.isfinite(d2) and math.isfinite(a2) and math.isfinite(b2)):
        return False
    ad = d.abs_()
    # sign(|d|) is 0 or 1: its float sum counts the changed elements (exact below 2**24,
    # and a chunk is 2**20), twice as fast as count_nonzero on CPU
    changed = int(torch.sign(ad).sum()) if ad.dtype == torch.float32 else int(torch.count_nonzero(ad))
    acc.changed += changed
    if ad.numel():
        acc.max_abs = max(acc.max_abs, float(ad.max()))
        acc.sum_abs += float(ad.sum())  # float32 per chunk, float64 across chunks
    acc.d2 += d2
    acc.a2 += a2
    acc.b2 += b2
    acc.ab += (a2 + b2 - d2) / 2  # a.b without another pass
    acc.pairs += ad.numel()
    acc.outside += int((ad > atol + rtol * y.abs()).sum()) if (atol or rtol) else changed
    return True


def _masked_pass(acc: _Acc, x, y, atol: float, rtol: float) -> None:
    """A chunk with NaN or Inf: NaN = NaN is no change; non-finite pairs are left out of the sums."""
    x64, y64 = x.double(), y.double()
    both = torch.isfinite(x64) & torch.isfinite(y64)
    same = (x64 == y64) | (torch.isnan(x64) & torch.isnan(y64))
    acc.changed += int((~same).sum())
    acc.new_nan += int((torch.isnan(y64) & ~torch.isnan(x64)).sum())
    acc.new_inf += int((torch.isinf(y64) & ~torch.isinf(x64)).sum())
    acc.outside += int((~same & ~both).sum())  # a non-finite value that differs never matches
    xs, ys = x64[both], y64[both]
    if xs.numel():
        d = ys - xs
        ad = d.abs()
        acc.max_abs = max(acc.max_abs, float(ad.max()))
        acc.sum_abs += float(ad.sum())
        acc.d2 += float(torch.dot(d, d))
        acc.a2 += float(torch.dot(xs, xs))
        acc.b2 += float(torch.dot(ys, ys))
        acc.ab += float(torch.dot(xs, ys))
        acc.pairs += xs.numel()
        acc.outside += int((ad > atol + rtol * ys.abs()).sum()) if (atol or rtol) else int(torch.count_nonzero(ad))


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.numel() != b.numel():
        return False
    av, bv = a.view(torch.uint8), b.view(torch.uint8)
    if av.numel() % 8 == 0 and av.data_ptr() % 8 == 0 and bv.data_ptr() % 8 == 0:
        av, bv = av.view(torch.int64), bv.view(torch.int64)
    return bool(torch.equal(av, bv))


@dataclass(eq=False, slots=True)
class DiffNode(Node):
    """A module (inner) or tensor (leaf, ``diff`` set) of the aligned diff tree."""

    diff: TensorDiff | None = None
    # relative_change over the subtree's compared floating-point tensors; None: none compared
    rel_change: float | None = None
    counts: dict[str, int] = field(default_factory=dict)  # rows below per TensorDiff.verdict
    worst: str = IDENTICAL  # the most notable verdict below: mismatched > only_* > changed > within_tol > identical
    measured_worst: str = IDENTICAL  # the same over the compared floating-point tensors only (the chart's colour)


_RANK = {MISMATCHED: 5, ONLY_A: 4, ONLY_B: 4, CHANGED: 3, WITHIN_TOL: 2, IDENTICAL: 1}


def diff_tree(report: DiffReport) -> DiffNode:
    """The aligned keys as a module tree, with per-module relative change and status counts."""
    root = DiffNode("", "")
    for r in report.rows:
        node = root
        for part in split_key(r.key):
            child = node.child(part)
            if child is None:
                child = node.add(DiffNode(part, f"{node.path}.{part}" if node.path else part, node))
            node = child
        node.diff = r
    sums: dict[int, list[float]] = {}  # per node: ||A||^2, ||B||^2, ||B-A||^2, measured tensors
    for node in reversed(list(root.walk())):
        node.number_children()
        acc = [0.0, 0.0, 0.0, 0]
        counts: dict[str, int] = {}
        worst = measured_worst = IDENTICAL
        if node.diff is not None:
            worst = node.diff.verdict
            counts[worst] = 1
            if node.diff.measured:
                acc = [node.diff.a_l2sq, node.diff.b_l2sq, node.diff.d_l2sq, 1]
                measured_worst = worst
        for c in node.children:
            for i, v in enumerate(sums.pop(id(c))):
                acc[i] += v
            for k, v in c.counts.items():
                counts[k] = counts.get(k, 0) + v
            worst = c.worst if _RANK[c.worst] > _RANK[worst] else worst
            if _RANK[c.measured_worst] > _RANK[measured_worst]:
                measured_worst = c.measured_worst
        sums[id(node)] = acc
        node.counts, node.worst, node.measured_worst = counts, worst, measured_worst
        # None: only mismatched, one-sided or integer tensors below; nothing was measured
        node.rel_change = relative_change(acc[0], acc[1], acc[2]) if acc[3] else None
    return root


def layers(root: DiffNode) -> list[DiffNode]:
    """Modules that hold tensors directly (``layer1.0``, ``fc``), in model order."""
    return [n for n in root.walk() if n.children and any(c.diff is not None and not c.children for c in n.children)]


CSV_COLUMNS = ("key", "status", "within_tol", "a_key", "b_key", "a_shape", "b_shape", "a_dtype", "b_dtype",
               "numel", "rel_l2", "max_abs", "mean_abs", "cosine", "frac_changed", "outside_tol", "new_nan",
               "new_inf", "rel_change", "new_from_zero", "integer", "a_value", "b_value")  # fmt: skip
# (columns added later go last: a reader indexing the old columns by position keeps working)


def export_csv(report: DiffReport, path: str | os.PathLike) -> Path:
    """One row per aligned key, in report order; empty cells where a metric is undefined
    (mismatched and one-sided keys). Written atomically."""
    with atomic_write(path, "w") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in report.rows:
            doc = r.to_json()
            for side in ("a_shape", "b_shape"):
                doc[side] = "x".join(map(str, doc[side])) if doc[side] is not None else None
            writer.writerow([csv_cell(doc[c]) for c in CSV_COLUMNS])
    return Path(path)


def export_json(report: DiffReport, path: str | os.PathLike) -> Path:
    """The ``ckpt diff --json`` document (:meth:`DiffReport.to_json`), written atomically."""
    text = json.dumps(report.to_json(), indent=2, allow_nan=False)
    with atomic_write(path, "w") as f:
        f.write(text + "\n")
    return Path(path)


@dataclass
class PairView:
    """What the diff view draws for one aligned tensor."""

    row: TensorDiff
    edges: list[float]
    counts_a: list[int]
    counts_b: list[int]
    delta: Any  # Heatmap of b - a, or None


def inspect_pair(
    a: Checkpoint,
    b: Checkpoint,
    row: TensorDiff,
    *,
    bins: int = 80,
    cancel: CancelToken | None = None,
    progress: ProgressFn | None = None,
) -> PairView:
    """Histograms of A and B over one common range, and a heatmap of B - A for 2-D weights."""
    from .stats import histogram, tensor_stats
    from .tensor_display import can_heatmap, heatmap

    ta = a.tensor(row.a_key) if row.a_key else None
    tb = b.tensor(row.b_key) if row.b_key else None
    present = [t for t in (ta, tb) if t is not None]
    stats = [tensor_stats(t, device=a.device, cancel=cancel) for t in present]
    lows = [s.min for s in stats if s.min is not None]
    highs = [s.max for s in stats if s.max is not None]
    if not lows:
        return PairView(row, [], [], [], None)
    value_range = (float(min(lows)), float(max(highs)))
    ha = histogram(ta, bins, value_range, a.device, cancel=cancel) if ta is not None else None
    hb = histogram(tb, bins, value_range, a.device, cancel=cancel) if tb is not None else None
    edges = (ha or hb).edges  # type: ignore[union-attr]
    delta = None
    # the difference is computed whole: only for weights whose two float copies fit
    fits = ta is not None and ta.numel() * 8 <= DENSE_BYTES
    if row.status == CHANGED and ta is not None and tb is not None and fits and can_heatmap(tuple(ta.shape)):
        d = dense_values(tb, row.key).float() - dense_values(ta, row.key).float()
        delta = heatmap(d, device=a.device, cancel=cancel, key=row.key)
    return PairView(row, edges, ha.counts if ha else [0] * bins, hb.counts if hb else [0] * bins, delta)
