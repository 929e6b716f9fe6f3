"""Diff two checkpoints: align keys, classify, and measure what changed and by how much.

Keys are aligned after removing each side's wrapper prefixes (and the location of the
model state_dict), so a DDP checkpoint aligns with a plain one; user prefix maps rewrite
A's keys. Each aligned key is ``only_a``, ``only_b``, ``mismatched`` (shape differs),
``identical`` (bit-equal, NaN payloads included) or ``changed``. Changed tensors get
max/mean |a-b|, relative L2 ||a-b||/||a||, cosine similarity, the fraction of elements
that differ, and counts of NaN/Inf that appeared. A NaN in the same place on both sides
is not a change.

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

from .checkpoint import Checkpoint, TensorEntry
from .dtypes import check_computable
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


@dataclass
class TensorDiff:
    """One aligned key and how the two tensors compare."""

    key: str
    a_key: str | None
    b_key: str | None
    status: str
    a_shape: list[int] | None = None
    b_shape: list[int] | None = None
    a_dtype: str | None = None
    b_dtype: str | None = None
    numel: int = 0
    max_abs: float | None = None
    mean_abs: float | None = None
    rel_l2: float | None = None
    cosine: float | None = None
    frac_changed: float | None = None
    new_nan: int = 0
    new_inf: int = 0
    outside_tol: int = 0  # elements with |a-b| > atol + rtol*|b|
    a_l2sq: float = 0.0  # for module aggregates
    d_l2sq: float = 0.0

    @property
    def within_tol(self) -> bool:
        """Changed, yet every element within ``atol + rtol*|b|`` and no NaN/Inf appeared."""
        return self.status == CHANGED and self.outside_tol == 0 and self.new_nan == 0 and self.new_inf == 0

    @property
    def verdict(self) -> str:
        """The status as the verdict sees it: :data:`WITHIN_TOL` for a changed row within tolerance."""
        return WITHIN_TOL if self.within_tol else self.status

    def to_json(self) -> dict[str, Any]:
        doc = {k: v for k, v in asdict(self).items() if k not in ("a_l2sq", "d_l2sq")}
        doc["within_tol"] = self.within_tol
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in doc.items()}


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

    def by_status(self, status: str) -> list[TensorDiff]:
        return [r for r in self.rows if r.status == status]

    @property
    def counts(self) -> dict[str, int]:
        return {s: len(self.by_status(s)) for s in (IDENTICAL, CHANGED, MISMATCHED, ONLY_A, ONLY_B)}

    @property
    def verdict_counts(self) -> dict[str, int]:
        """Rows per :attr:`TensorDiff.verdict` (changed rows within tolerance counted apart)."""
        counts = dict.fromkeys(VERDICTS, 0)
        for r in self.rows:
            counts[r.verdict] += 1
        return counts

    @property
    def total_rel_change(self) -> float | None:
        """||A-B|| / ||A|| over every compared tensor (None where undefined)."""
        a = sum(r.a_l2sq for r in self.rows if r.status in (IDENTICAL, CHANGED))
        d = sum(r.d_l2sq for r in self.rows if r.status in (IDENTICAL, CHANGED))
        value = math.sqrt(d / a) if a > 0 else (0.0 if d == 0 else None)
        return value if value is None or math.isfinite(value) else None

    @property
    def same(self) -> bool:
        """Same keys and shapes, and every element within atol + rtol*|b|."""
        return all(r.status == IDENTICAL or r.within_tol for r in self.rows)

    def modules(self) -> dict[str, float | None]:
        """Relative change of every module prefix (``layer1``, ``layer1.0`` ...), in model order."""
        sums: dict[str, list[float]] = {}
        for r in self.rows:
            if r.status not in (IDENTICAL, CHANGED):
                continue
            parts = split_key(r.key)
            for i in range(1, len(parts)):
                acc = sums.setdefault(".".join(parts[:i]), [0.0, 0.0])
                acc[0] += r.a_l2sq
                acc[1] += r.d_l2sq
        return {k: (math.sqrt(d / a) if a > 0 else (0.0 if d == 0 else None)) for k, (a, d) in sums.items()}

    def to_json(self) -> dict[str, Any]:
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
            "tolerance": {"atol": self.atol, "rtol": self.rtol},
            "same": self.same,
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
    rep = DiffReport(str(a.path), str(b.path), a_prefix, b_prefix, atol, rtol)
    pairs: list[tuple[TensorDiff, TensorEntry, TensorEntry]] = []
    for key, ak in a_keys.items():
        ea = a.tensors[ak]
        bk = b_keys.get(key)
        if bk is None:
            rep.rows.append(TensorDiff(key, ak, None, ONLY_A, list(ea.shape), None, ea.dtype_name, None, ea.numel))
            continue
        eb = b.tensors[bk]
        row = TensorDiff(key, ak, bk, CHANGED, list(ea.shape), list(eb.shape), ea.dtype_name, eb.dtype_name, ea.numel)
        rep.rows.append(row)
        if ea.shape != eb.shape:
            row.status = MISMATCHED
        else:
            pairs.append((row, ea, eb))
    for key, bk in b_keys.items():
        if key not in a_keys:
            eb = b.tensors[bk]
            rep.rows.append(TensorDiff(key, None, bk, ONLY_B, None, list(eb.shape), None, eb.dtype_name, eb.numel))
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
    with open(path, "rb") as f:
        f.seek(start)
        while remaining > 0:
            n = min(size, remaining)
            view = memoryview(buffer)[: n * itemsize]
            if f.readinto(view) != n * itemsize:
                raise OSError(f"{path}: tensor data cut short")
            yield torch.frombuffer(view, dtype=src.dtype)
            remaining -= n


class _Acc:
    """Running sums for one tensor pair (float64 Python floats)."""

    __slots__ = ("a2", "ab", "b2", "changed", "d2", "max_abs", "pairs", "sum_abs")

    def __init__(self) -> None:
        self.changed = self.pairs = 0
        self.max_abs = self.sum_abs = self.d2 = self.a2 = self.b2 = self.ab = 0.0


def _compare(row, ea, eb, device, atol, rtol, cancel, advance, force=False) -> None:
    for entry in (ea, eb):
        check_computable(entry.key, entry.dtype)
    acc = _Acc()
    bit_equal = ea.dtype == eb.dtype
    floats = ea.dtype.is_floating_point and eb.dtype.is_floating_point
    # integers compare exactly in float64 (below 2**53); floats in float32 unless one is float64
    common = torch.float64 if torch.float64 in (ea.dtype, eb.dtype) or not floats else torch.float32
    for ca, cb in zip(_chunks(ea, CHUNK, force), _chunks(eb, CHUNK, force)):
        check(cancel)
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
        if not _finite_pass(acc, row, x, y, atol, rtol):
            _masked_pass(acc, row, x, y, atol, rtol)
        advance(nbytes)
    row.a_l2sq, row.d_l2sq = acc.a2, acc.d2
    if bit_equal:
        row.status = IDENTICAL
        return
    row.status = CHANGED
    row.max_abs = acc.max_abs
    row.mean_abs = acc.sum_abs / acc.pairs if acc.pairs else None
    row.rel_l2 = math.sqrt(acc.d2 / acc.a2) if acc.a2 > 0 else (0.0 if acc.d2 == 0 else math.inf)
    row.cosine = acc.ab / math.sqrt(acc.a2 * acc.b2) if acc.a2 > 0 and acc.b2 > 0 else None
    row.frac_changed = acc.changed / max(row.numel, 1)


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


def _finite_pass(acc: _Acc, row: TensorDiff, x, y, atol: float, rtol: float) -> bool:
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
    row.outside_tol += int((ad > atol + rtol * y.abs()).sum()) if (atol or rtol) else changed
    return True


def _masked_pass(acc: _Acc, row: TensorDiff, x, y, atol: float, rtol: float) -> None:
    """A chunk with NaN or Inf: NaN = NaN is no change; non-finite pairs are left out of the sums."""
    x64, y64 = x.double(), y.double()
    both = torch.isfinite(x64) & torch.isfinite(y64)
    same = (x64 == y64) | (torch.isnan(x64) & torch.isnan(y64))
    acc.changed += int((~same).sum())
    row.new_nan += int((torch.isnan(y64) & ~torch.isnan(x64)).sum())
    row.new_inf += int((torch.isinf(y64) & ~torch.isinf(x64)).sum())
    row.outside_tol += int((~same & ~both).sum())  # a non-finite value that differs never matches
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
        row.outside_tol += int((ad > atol + rtol * ys.abs()).sum()) if (atol or rtol) else int(torch.count_nonzero(ad))


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
    rel_change: float | None = None  # ||A-B|| / ||A|| over the subtree's compared tensors; None: none compared
    counts: dict[str, int] = field(default_factory=dict)  # rows below per TensorDiff.verdict
    worst: str = IDENTICAL  # the most notable verdict below: mismatched > only_* > changed > within_tol > identical


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
    sums: dict[int, list[float]] = {}  # per node: ||A||^2, ||B-A||^2, compared tensors
    for node in reversed(list(root.walk())):
        node.number_children()
        acc = [0.0, 0.0, 0]
        counts: dict[str, int] = {}
        worst = IDENTICAL
        if node.diff is not None:
            worst = node.diff.verdict
            counts[worst] = 1
            if node.diff.status in COMPARED:
                acc = [node.diff.a_l2sq, node.diff.d_l2sq, 1]
        for c in node.children:
            a, d, n = sums.pop(id(c))
            acc[0] += a
            acc[1] += d
            acc[2] += n
            for k, v in c.counts.items():
                counts[k] = counts.get(k, 0) + v
            worst = c.worst if _RANK[c.worst] > _RANK[worst] else worst
        sums[id(node)] = acc
        node.counts, node.worst = counts, worst
        if not acc[2]:
            node.rel_change = None  # only mismatched or one-sided tensors: nothing was measured
        else:
            node.rel_change = math.sqrt(acc[1] / acc[0]) if acc[0] > 0 else (0.0 if acc[1] == 0 else None)
    return root


def layers(root: DiffNode) -> list[DiffNode]:
    """Modules that hold tensors directly (``layer1.0``, ``fc``), in model order."""
    return [n for n in root.walk() if n.children and any(c.diff is not None and not c.children for c in n.children)]


CSV_COLUMNS = ("key", "status", "within_tol", "a_key", "b_key", "a_shape", "b_shape", "a_dtype", "b_dtype",
               "numel", "rel_l2", "max_abs", "mean_abs", "cosine", "frac_changed", "outside_tol", "new_nan",
               "new_inf")  # fmt: skip


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
            if r.status not in COMPARED:
                doc["new_nan"] = doc["new_inf"] = doc["outside_tol"] = None  # not measured, not zero
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
