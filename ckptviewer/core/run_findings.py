"""Findings across a training run, from the per-layer series: frozen and dead layers, exploding updates,
the first NaN/Inf, checkpoints bit-identical to their predecessor.

Calibrated so that a healthy run gives no finding except layers that are genuinely frozen: only floating-
point tensors are judged (step counters are not weights), buffers are never "frozen" (running statistics
of a frozen BatchNorm, rotary tables and masks may rightly never change); an interval is judged for a
layer only where both ends are finite for it, the checkpoint is not a duplicate of the one before, and
some other layer measurably changed (so a pause of the whole training is not "frozen"). Updates are
compared per step, and an update that grew with a gradually rising learning rate (a warm-up) is not
an explosion.

Findings that would repeat one cause per layer are grouped (each finding lists the layers it covers):
NaN/Inf is one finding where it first appears (the origin) and one for its spread to the other layers;
layers frozen alike that make up a whole module (every judged layer under a prefix, say ``backbone.``)
are one finding naming the prefix.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from ..formatting import plural
from .dtype_names import COMPLEX, FLOATING, QUANTIZED
from .translatable import QT_TRANSLATE_NOOP

FROZEN_BELOW = 1e-12  # a relative update below this is no change (float32 rounding is ~1e-7)
DEAD_BELOW = 1e-6  # a norm below this fraction of the layer's own peak: the layer went to zero
EXPLODE_FACTOR = 10.0  # a relative update this many times the layer's earlier median ...
EXPLODE_LEVEL = 0.1  # ... and above this (10% of the weight's norm in one interval)
NORM_GROWTH = 100.0  # or a norm this many times its earlier median
WARMUP_STEP = 4.0  # a learning rate at most this many times the previous checkpoint's rises gradually
NAMED = 3  # layers a grouped finding's message names (all of them are in its keys)
# leaf names of buffers that are constants by design (rotary tables, masks, ids), whatever the file calls them
CONSTANT_BUFFERS = frozenset({"inv_freq", "freqs_cis", "cos_cached", "sin_cached", "masked_bias", "causal_mask",
                              "position_ids", "token_type_ids", "_float_tensor"})  # fmt: skip

WHY = {  # what each finding means: marked for the window's catalogue (the CLI prints the English)
    "frozen_start": QT_TRANSLATE_NOOP(
        "RunFinding",
        "Its weights are bit-identical in every checkpoint while other layers train: the layer is frozen "
        "(requires_grad=False, left out of the optimizer, or its learning rate is 0). Fine when intended "
        "(fine-tuning a head, a frozen backbone); otherwise check requires_grad and the optimizer's param groups."
    ),
    "frozen_later": QT_TRANSLATE_NOOP(
        "RunFinding",
        "The layer trained, then stopped changing while other layers went on: its gradients became exactly "
        "zero (dead ReLUs feeding it, a detached branch, an unused output) or it was frozen mid-run. Check "
        "whether that was intended; inspect its gradients and inputs around this step."
    ),
    "dead": QT_TRANSLATE_NOOP(
        "RunFinding",
        "Its weights went to (almost) zero after being larger: weight decay or a collapsed layer with no "
        "gradient left. Its outputs no longer carry information; look at this layer's learning rate, weight "
        "decay and gradient flow before this checkpoint."
    ),
    "exploding": QT_TRANSLATE_NOOP(
        "RunFinding",
        "Its update grew far beyond its usual size: the start of a divergence (too high a learning rate, a "
        "bad batch, loss scaling). Checkpoints from here on may be damaged; resume from an earlier one with "
        "a lower learning rate or gradient clipping."
    ),
    "first_nonfinite": QT_TRANSLATE_NOOP(
        "RunFinding",
        "NaN or Inf values appear here for the first time: everything computed from them is NaN too, and "
        "training usually spreads them to every layer within a step. Resume from the checkpoint before this "
        "one; look for a division by zero, a log of 0, an overflow in float16, or too high a learning rate."
    ),
    "nonfinite_spread": QT_TRANSLATE_NOOP(
        "RunFinding",
        "NaN/Inf values reached these layers after first appearing elsewhere: training on from a NaN weight "
        "(a NaN loss, NaN gradients) poisons every layer the optimizer updates. The cause is where they first "
        "appeared (the other NaN/Inf finding), not here."
    ),
    "identical": QT_TRANSLATE_NOOP(
        "RunFinding",
        "Every model tensor is bit-identical to the checkpoint before: no training happened between the two "
        "saves (a copy such as last.ckpt, a job that re-saved after a restart, or every step skipped, as "
        "mixed precision does on overflow). Harmless as a copy; if steps were meant to run, they changed nothing."
    ),
}  # fmt: skip


def weight_dtype(name: str) -> bool:
    """Whether a tensor of dtype ``name`` is a layer of a run: floating point (complex, quantized), not an
    integer or bool tensor (a counter such as ``num_batches_tracked``, a mask, ids)."""
    return name in FLOATING or name in COMPLEX or name in QUANTIZED


def _finite(v: float | None) -> bool:
    return v is not None and math.isfinite(v)


def _floating(layer: Any) -> bool:
    return bool(layer.dtype.startswith(("float", "bfloat")) or layer.dtype in ("half", "double"))


def _may_be_constant(layer: Any) -> bool:
    """A buffer (running statistics, a rotary table, a mask) may rightly never change: not "frozen"."""
    return bool(layer.role == "buffer" or layer.key.rsplit(".", 1)[-1] in CONSTANT_BUFFERS)


Finding = tuple[str, str, int, str | None, str, str, tuple[str, ...]]


def run_findings(
    names: Sequence[str],
    layers: Sequence[Any],
    identical: Sequence[bool],
    pace: Sequence[float],
    lrs: Sequence[float] | None = None,
) -> list[Finding]:
    """(kind, severity, checkpoint, key, message, why, keys) for each finding, in checkpoint order.

    ``keys``: the layers the finding covers, in model order (``key`` is the first of them; empty for a
    whole-checkpoint finding). A grouped finding's message names its layers itself.

    ``layers`` are LayerSeries; ``pace[t]``: the steps of interval t-1 -> t (1 where unknown): updates are
    compared per step. ``lrs``: each checkpoint's learning rate, where all are known: an update that grew
    with a gradually rising learning rate (a warm-up) is not exploding; one after a sudden jump is.
    """
    floating = [_floating(layer) for layer in layers]
    n = len(names)
    out: list[Finding] = []
    for t in range(1, n):
        if identical[t]:
            out.append(("identical", "info", t, None, f"model weights bit-identical to {names[t - 1]}",
                        WHY["identical"], ()))  # fmt: skip
    out += _nonfinite(names, layers)
    changing = [_changing(layers, floating, t) if t else set() for t in range(n)]
    frozen: list[Finding] = []
    for i, layer in enumerate(layers):
        if not floating[i]:
            continue
        finding = None if _may_be_constant(layer) else _frozen(layer, identical, changing, names)
        if finding:
            frozen.append(finding)
        else:
            finding = _dead(layer, names)
            if finding:
                out.append(finding)
        boom = _exploding(layer, identical, names, pace, lrs)
        if boom:
            out.append(boom)
    judged = [layer.key for layer, f in zip(layers, floating) if f and not _may_be_constant(layer)]
    out += _group_frozen(frozen, judged, names)
    out.sort(key=lambda f: (f[2], f[3] is not None))
    return out


def _named(keys: Sequence[str]) -> str:
    """The first few of ``keys``, for a message (the finding lists them all)."""
    return ", ".join(keys[:NAMED]) + (", …" if len(keys) > NAMED else "")


def _nonfinite(names: Sequence[str], layers: Sequence[Any]) -> list[Finding]:
    """The first NaN/Inf of the run (the layer(s) where it appears first) and, apart, its spread."""
    first: dict[int, int] = {}  # layer index -> its first checkpoint with NaN/Inf
    for i, layer in enumerate(layers):
        t = next((t for t, count in enumerate(layer.nonfinite) if count), None)
        if t is not None:
            first[i] = t
    if not first:
        return []
    t0 = min(first.values())
    origin = [layers[i].key for i in sorted(first) if first[i] == t0]
    count = sum(layers[i].nonfinite[t0] for i in first if first[i] == t0)
    if len(origin) == 1:
        message = f"{plural(count, 'NaN/Inf value')} at {names[t0]}: the run's first"
    else:
        message = (f"the run's first NaN/Inf: {plural(count, 'value')} in {plural(len(origin), 'layer')} at "
                   f"{names[t0]} ({_named(origin)})")  # fmt: skip
    out: list[Finding] = [("first_nonfinite", "error", t0, origin[0], message, WHY["first_nonfinite"], tuple(origin))]
    later = sorted((i for i in first if first[i] > t0), key=lambda i: (first[i], i))  # in the order they caught it
    if later:
        keys = [layers[i].key for i in later]
        t1, last = first[later[0]], first[later[-1]]
        message = f"NaN/Inf then in {plural(len(keys), 'more layer')} " + (
            f"from {names[t1]} to {names[last]}" if last > t1 else f"at {names[t1]}"
        )
        if len(keys) > 1:
            message += f" ({_named(keys)})"
        out.append(("first_nonfinite", "error", t1, keys[0], message, WHY["nonfinite_spread"], tuple(keys)))
    return out


def _group_frozen(frozen: list[Finding], judged: Sequence[str], names: Sequence[str]) -> list[Finding]:
    """Frozen findings, those of a whole module (alike: same checkpoint and severity) as one finding.

    A layer joins the widest module (dotted prefix, the whole model excepted) in which every layer that
    can be judged frozen is frozen alike; a module of one frozen layer keeps that layer's own finding."""
    below: dict[str, int] = defaultdict(int)  # prefix -> judged layers under it
    for key in judged:
        for p in _prefixes(key):
            below[p] += 1
    alike: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in frozen:
        alike[(f[1], f[2])].append(f)
    out: list[Finding] = []
    for (severity, t), found in alike.items():
        still: dict[str, int] = defaultdict(int)
        for f in found:
            for p in _prefixes(f[3]):  # type: ignore[arg-type]
                still[p] += 1
        modules: dict[str, list[Finding]] = defaultdict(list)
        for f in found:
            widest = next((p for p in _prefixes(f[3]) if still[p] == below[p]), f[3])  # type: ignore[arg-type]
            modules[widest].append(f)  # type: ignore[index]
        for prefix, members in modules.items():
            if len(members) == 1:
                out.append(members[0])
                continue
            keys = tuple(f[3] or "" for f in members)  # a frozen finding always names its layer
            if severity == "info":
                message = f"{prefix}.*: all {len(keys)} layers never change across the run (from {names[t - 1]} on)"
            else:
                message = f"{prefix}.*: all {len(keys)} layers stop changing at {names[t]} while other layers train"
            out.append(("frozen", severity, t, keys[0], message, members[0][5], keys))
    return out


def _prefixes(key: str) -> list[str]:
    """The modules ``key`` is in, widest first: ``a.b.c`` -> ``a``, ``a.b``."""
    parts = key.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _clean(layer: Any, t: int) -> bool:
    """Whether interval t-1 -> t can be judged for ``layer``: present and finite at both ends."""
    return (
        _finite(layer.norm[t])
        and _finite(layer.norm[t - 1])
        and not layer.nonfinite[t]
        and not layer.nonfinite[t - 1]
        and layer.rel_update[t] is not None
    )


def _changing(layers: Sequence[Any], floating: Sequence[bool], t: int) -> set[str]:
    return {
        layer.key
        for layer, f in zip(layers, floating)
        if f and _clean(layer, t) and layer.rel_update[t] >= FROZEN_BELOW  # type: ignore[operator]
    }


def _frozen(layer: Any, identical: Sequence[bool], changing: list[set[str]], names: Sequence[str]) -> Finding | None:
    judged = [t for t in range(1, len(names)) if not identical[t] and _clean(layer, t) and changing[t] - {layer.key}]
    still = [layer.rel_update[t] < FROZEN_BELOW for t in judged]
    if not judged or not still[-1]:
        return None
    start = len(still)
    while start > 0 and still[start - 1]:
        start -= 1
    t = judged[start]
    if start == 0:
        return ("frozen", "info", t, layer.key, f"never changes across the run (from {names[t - 1]} on)",
                WHY["frozen_start"], (layer.key,))  # fmt: skip
    return ("frozen", "warning", t, layer.key, f"stops changing at {names[t]} while other layers train",
            WHY["frozen_later"], (layer.key,))  # fmt: skip


def _dead(layer: Any, names: Sequence[str]) -> Finding | None:
    peak = 0.0
    for t, norm in enumerate(layer.norm):
        if not _finite(norm) or layer.nonfinite[t]:
            continue
        if peak > 0 and norm <= DEAD_BELOW * peak:
            return ("dead", "warning", t, layer.key, f"norm fell to {norm:.3g} at {names[t]} (was {peak:.3g})",
                    WHY["dead"], (layer.key,))  # fmt: skip
        peak = max(peak, norm)
    return None


def _exploding(
    layer: Any, identical: Sequence[bool], names: Sequence[str], pace: Sequence[float], lrs: Sequence[float] | None
) -> Finding | None:
    before: list[float] = []  # earlier relative updates per step
    before_lr: list[float] = []  # the learning rates they were made at
    norms = [v for t, v in enumerate(layer.norm[:1]) if _finite(v) and not layer.nonfinite[t]]  # earlier norms
    for t in range(1, len(names)):
        if identical[t] or not _clean(layer, t):
            continue
        r = layer.rel_update[t]
        paced = r / pace[t]
        if len(before) >= 2 and r > EXPLODE_LEVEL:
            growth = paced / statistics.median(before)
            lr_growth = lrs[t] / statistics.median(before_lr) if lrs else 1.0
            warm_up = lrs is not None and lrs[t] <= WARMUP_STEP * lrs[t - 1] and growth <= WARMUP_STEP * lr_growth
            if growth > EXPLODE_FACTOR and not warm_up:
                return ("exploding", "warning", t, layer.key,
                        f"relative update {r:.3g} at {names[t]}, {growth:.0f}x its earlier median per step",
                        WHY["exploding"], (layer.key,))  # fmt: skip
        # the norm against its typical earlier size (not its first: a zero-initialised bias grows from ~0)
        typical = statistics.median(norms) if len(norms) >= 2 else 0.0
        if typical > 0 and layer.norm[t] > NORM_GROWTH * typical:
            return ("exploding", "warning", t, layer.key,
                    f"norm {layer.norm[t]:.3g} at {names[t]}, {layer.norm[t] / typical:.0f}x its earlier median",
                    WHY["exploding"], (layer.key,))  # fmt: skip
        norms.append(layer.norm[t])
        if paced > 0:
            before.append(paced)
            before_lr.append(lrs[t] if lrs else 1.0)
    return None
