"""The run view's one streamed pass over a checkpoint: per model tensor its norm and NaN/Inf count, the
difference from the previous and the first checkpoint, and the Adam update-to-weight ratio.

Tensors are memory-mapped (or read on demand) and walked in chunks at the same offsets in the current,
previous and first checkpoint, so memory stays a few chunks whatever the tensors' size (a DCP tensor or a
non-contiguous one is assembled whole: at most one tensor per checkpoint). Sums of squares are of the finite
values (NaN/Inf counted apart); a difference is over the elements finite on both sides. Pure torch; no Qt.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from .checkpoint import BUFFER, PARAMETER, Checkpoint, TensorEntry
from .diff import aligned_keys
from .errors import CheckpointError
from .limits import check_work
from .progress import check_current
from .run_findings import weight_dtype
from .stats import dense_values, stored_elements
from .summary import OPTIMIZER_KEYS

CHUNK = 1 << 18  # elements per chunk: 1 MiB of float32, in cache while several passes run over it
_BITS = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}


@dataclass(frozen=True)
class AdamState:
    """A parameter's Adam moments and the settings of its param group."""

    exp_avg: TensorEntry
    exp_avg_sq: TensorEntry
    step: float | None  # the optimizer's step count for it (bias correction), when stored
    lr: float
    betas: tuple[float, float] | None
    eps: float


class Opened:
    """An open checkpoint of the run: its model weights by layer key, and Adam state by layer key."""

    def __init__(self, ckpt: Checkpoint) -> None:
        self.ckpt = ckpt
        aligned, _ = aligned_keys(ckpt)
        model = {k: ckpt.tensors[real] for k, real in aligned.items() if ckpt.tensors[real].role in (PARAMETER, BUFFER)}
        # integer and bool tensors (counters, masks) are not measured: not weights (Adam's parameter order
        # is read from all of them)
        self.layers: dict[str, TensorEntry] = {k: e for k, e in model.items() if weight_dtype(e.dtype_name)}
        self.adam = {k: a for k, a in adam_states(ckpt, model).items() if k in self.layers}

    def close(self) -> None:
        self.ckpt.close()


def _number(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None


def _groups(opt: dict) -> list[dict[str, Any]]:
    """param_groups as dicts, from an optimizer state_dict or DCP's flattened ``param_groups.<g>.<name>``."""
    groups = opt.get("param_groups")
    if isinstance(groups, list):
        return [g for g in groups if isinstance(g, dict)]
    out: list[dict[str, Any]] = []
    while any(k.startswith(f"param_groups.{len(out)}.") for k in opt if isinstance(k, str)):
        head = f"param_groups.{len(out)}."
        out.append({k[len(head) :]: v for k, v in opt.items() if isinstance(k, str) and k.startswith(head)})
    return out


def adam_states(ckpt: Checkpoint, layers: dict[str, TensorEntry]) -> dict[str, AdamState]:
    """Layer key -> its Adam state, where the optimizer's ``state.<i>`` can be tied to the parameters.

    ``optimizer.state_dict()`` numbers parameters in param_groups order, which for an optimizer built on
    ``model.parameters()`` is the model's parameter order (as :func:`.summary.optimizer_param_names`);
    DCP's ``get_state_dict`` names them by parameter instead. Each moment must have its parameter's shape.
    """
    root = ckpt.root if isinstance(ckpt.root, dict) else {}
    for key in OPTIMIZER_KEYS:
        opt, prefix = root.get(key), key
        if isinstance(opt, list) and opt:  # Lightning: optimizer_states is a list
            opt, prefix = opt[0], f"{key}.0"
        if isinstance(opt, dict):
            break
    else:
        return {}
    groups = _groups(opt)
    params = [k for k, e in layers.items() if e.role == PARAMETER]
    ids: list[tuple[Any, dict]] = [(i, g) for g in groups for i in (g.get("params") or [])]
    by_name = {str(i): p for (i, _), p in zip(ids, params)} if len(ids) == len(params) else {}
    group_of = {str(i): g for i, g in ids}
    out: dict[str, AdamState] = {}
    state = f"{prefix}.state."
    for k, e in ckpt.tensors.items():
        if not (k.startswith(state) and k.endswith(".exp_avg")):
            continue
        ident = k[len(state) : -len(".exp_avg")]
        name = by_name.get(ident) or (ident if ident in layers else None)
        sq = ckpt.tensors.get(f"{state}{ident}.exp_avg_sq")
        group = group_of.get(ident) or (groups[0] if len(groups) == 1 else None)
        if name is None or sq is None or group is None:
            continue
        if e.shape != layers[name].shape or sq.shape != e.shape:
            continue
        lr, eps = _number(group.get("lr")), _number(group.get("eps"))
        betas = group.get("betas")
        pair = (_number(betas[0]), _number(betas[1])) if isinstance(betas, (list, tuple)) and len(betas) == 2 else None
        if lr is None:
            continue
        out[name] = AdamState(e, sq, _step(ckpt, f"{state}{ident}.step"), lr,
                              pair if pair and None not in pair else None, eps if eps is not None else 1e-8)  # type: ignore[arg-type]  # fmt: skip
    return out


def _step(ckpt: Checkpoint, key: str) -> float | None:
    entry = ckpt.tensors.get(key)
    if entry is None or entry.numel != 1:  # torch >= 1.12 stores the step as a one-value tensor
        return None
    try:
        return _number(float(entry.load().reshape(-1)[0].double()))
    except (CheckpointError, RuntimeError, TypeError, ValueError):
        return None


def _flat(entry: TensorEntry | None) -> torch.Tensor | None:
    """``entry``'s values as one flat tensor (a view of the mapped file where it is contiguous), or None
    where they cannot be measured (complex, unreadable, or far more logical than stored elements)."""
    if entry is None:
        return None
    try:
        t = dense_values(entry.load(), entry.key)
        if t.dtype.is_complex:
            return None
        check_work(entry.key, t.numel(), stored_elements(t))
        return t.reshape(-1)
    except (CheckpointError, RuntimeError):
        return None


def _arith(c: torch.Tensor) -> torch.Tensor:
    """A chunk in a dtype dot products are exact enough in: float32 (float64 kept), integers as float64."""
    if c.dtype in (torch.float32, torch.float64):
        return c
    return c.float() if c.dtype.is_floating_point else c.double()


def _same_bits(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.dtype != b.dtype:
        return False
    bits = _BITS.get(a.dtype.itemsize)
    if bits is None or a.dtype == torch.bool:
        return torch.equal(a, b)
    return torch.equal(a.view(bits), b.view(bits))  # NaN payloads compared as bits


def _sumsq(x: torch.Tensor) -> tuple[float, int]:
    """(sum of squares of the finite values, NaN+Inf count)."""
    s = torch.dot(x, x).item()
    if math.isfinite(s):
        return s, 0
    x = x.double()  # a NaN/Inf, or a float32 overflow: exact in float64, over the finite values
    finite = torch.isfinite(x)
    kept = x[finite]
    return torch.dot(kept, kept).item(), int(x.numel() - int(finite.sum()))


def _diffsq(x: torch.Tensor, y: torch.Tensor, buf: torch.Tensor | None = None) -> float:
    """Sum of squares of x - y over the elements finite on both sides (``buf``: room for x - y)."""
    if x.dtype != y.dtype:
        x, y = x.double(), y.double()
    if buf is not None and buf.dtype == x.dtype and buf.numel() >= x.numel():
        d = torch.sub(x, y, out=buf[: x.numel()])
    else:
        d = x - y
    s = torch.dot(d, d).item()
    if math.isfinite(s):
        return s
    x, y = x.double(), y.double()
    both = torch.isfinite(x) & torch.isfinite(y)
    d = x[both] - y[both]
    return torch.dot(d, d).item()


class _Pair:
    """Running figures of one tensor against the same tensor of another checkpoint."""

    __slots__ = ("d2", "equal", "other")

    def __init__(self, other: torch.Tensor) -> None:
        self.other = other
        self.d2 = 0.0
        self.equal = True


def measure(
    cur: Opened,
    others: list[Opened | None],
    need_self: bool,
    on_bytes: Callable[[int], None],
) -> tuple[list[list[Any]] | None, list[dict[str, Any] | None]]:
    """One pass over ``cur``: its layer rows (if ``need_self``) and a pair entry per other checkpoint
    (None where that other is None).

    Rows: [key, shape, dtype, sum of squares | None, NaN+Inf count, Adam ratio | None, role]. Pairs: per key the
    sum of squares of the difference (None where not comparable), the keys bit-identical, and whether both
    hold the same layer keys."""
    rows: list[list[Any]] | None = [] if need_self else None
    pairs: list[dict[str, Any] | None] = [
        None if o is None else {"d2": {}, "equal": [], "keys_equal": set(o.layers) == set(cur.layers)} for o in others
    ]
    scratch: torch.Tensor | None = None  # x - y of a chunk, reused
    for key, entry in cur.layers.items():
        check_current()
        x = _flat(entry)
        live: list[tuple[int, _Pair]] = []
        for i, o in enumerate(others):
            if o is None:
                continue
            oe = o.layers.get(key)
            if oe is None:
                continue
            y = _flat(oe) if oe.shape == entry.shape else None
            if x is None or y is None or y.numel() != x.numel():
                pairs[i]["d2"][key] = None  # type: ignore[index]
                continue
            live.append((i, _Pair(y)))
        norm_sq: float | None = 0.0
        nonfinite = 0
        if x is None:
            norm_sq = None
        else:
            for start in range(0, x.numel(), CHUNK):
                check_current()
                raw = x[start : start + CHUNK]
                a = _arith(raw)
                if need_self:
                    s, bad = _sumsq(a)
                    norm_sq += s  # type: ignore[operator]
                    nonfinite += bad
                for _, p in live:
                    other = p.other[start : start + CHUNK]
                    if p.equal and _same_bits(raw, other):
                        continue
                    p.equal = False
                    if scratch is None or scratch.dtype != a.dtype:
                        scratch = torch.empty(CHUNK, dtype=a.dtype)
                    p.d2 += _diffsq(a, _arith(other), scratch)
                on_bytes(raw.numel() * raw.element_size())
        for i, p in live:
            pair = pairs[i]
            assert pair is not None
            pair["d2"][key] = p.d2
            if p.equal:
                pair["equal"].append(key)
        if rows is not None:
            adam = cur.adam.get(key)
            ratio = _adam_ratio(adam, norm_sq, on_bytes) if adam is not None and norm_sq and not nonfinite else None
            rows.append([key, list(entry.shape), entry.dtype_name, norm_sq, nonfinite, ratio, entry.role])
    return rows, pairs


def _adam_ratio(adam: AdamState, norm_sq: float, on_bytes: Callable[[int], None]) -> float | None:
    """lr * ||m_hat / (sqrt(v_hat) + eps)|| / ||W||: the size of Adam's next update relative to the weight.

    With the step and betas stored, the moments are bias-corrected as Adam does (early in training
    the raw moments understate the update several times over)."""
    m, v = _flat(adam.exp_avg), _flat(adam.exp_avg_sq)
    if m is None or v is None or m.numel() != v.numel() or norm_sq <= 0:
        return None
    c1 = c2 = 1.0
    if adam.step and adam.betas:
        c1 = 1.0 - adam.betas[0] ** adam.step
        c2 = 1.0 - adam.betas[1] ** adam.step
        if c1 <= 0 or c2 <= 0:
            c1 = c2 = 1.0
    # m_hat / (sqrt(v_hat) + eps) = (sqrt(c2) / c1) * m / (sqrt(v) + eps * sqrt(c2)): one buffer, four
    # passes over a chunk in cache (sqrt, add, divide, dot) instead of six temporaries
    eps = adam.eps * math.sqrt(c2)
    total = 0.0
    buf: torch.Tensor | None = None
    for start in range(0, m.numel(), CHUNK):
        check_current()
        mc, vc = _arith(m[start : start + CHUNK]), _arith(v[start : start + CHUNK])
        if buf is None or buf.numel() != mc.numel() or buf.dtype != mc.dtype:
            buf = torch.empty_like(mc)
        torch.sqrt(vc, out=buf)
        buf.add_(eps)
        torch.div(mc, buf, out=buf)
        s, bad = _sumsq(buf)
        if bad:
            return None
        total += s
        on_bytes(mc.numel() * m.element_size() + vc.numel() * v.element_size())
    total *= c2 / (c1 * c1)
    ratio = adam.lr * math.sqrt(total) / math.sqrt(norm_sq)
    return ratio if math.isfinite(ratio) else None


def measured_bytes(cur: Opened) -> int:
    """Bytes :func:`measure` walks in ``cur`` (for progress)."""
    total = sum(e.nbytes for e in cur.layers.values())
    return total + sum(a.exp_avg.nbytes + a.exp_avg_sq.nbytes for a in cur.adam.values())
