"""average: checkpoint averaging ("model soups", fairseq's average_checkpoints).

The result is the first checkpoint with every floating-point tensor of its model
state_dict replaced by the (weighted) average over all the inputs; integer and bool
tensors of the model (``num_batches_tracked``) are taken from the last input; anything
outside the model state_dict (optimizer state, epoch) stays the first one's. The model
keys (wrapper prefixes aside), shapes and dtypes of every input must agree, or nothing is
averaged and the differences are listed.

Nothing is computed here: each averaged tensor is an :class:`~.compute.AveragedTensor`,
computed when a save asks for it, chunk by chunk in float64 and rounded once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from ...formatting import plural
from ..assemble import derive
from ..checkpoint import Checkpoint, TensorEntry
from ..index import is_tensor
from ..structure import key_name
from .align import normalized_keys
from .compute import AveragedTensor, first_differences, numbers, replace_tensors
from .keys import full_key, model_state
from .report import Average, EditError, EditReport


def normalised_weights(weights: Sequence[float], n_inputs: int) -> tuple[float, ...] | None:
    """The weights as used: each divided by their sum (so ``1 1 2`` is 0.25 0.25 0.5); None for uniform.

    Weights are relative: giving them summing to 1 uses them as they are (a division by
    1.0 is exact). They must be one per input, none negative, not all zero.
    """
    if not weights:
        return None
    if len(weights) != n_inputs:
        raise EditError(f"average: {plural(len(weights), 'weight')} for {plural(n_inputs, 'input')}; give one each")
    if any(w < 0 for w in weights):
        raise EditError("average: weights must not be negative")
    try:
        total = math.fsum(weights)
    except OverflowError:  # 1e308 1e308: the same proportions, scaled into a float's range
        top = max(weights)
        weights = [w / top for w in weights]
        total = math.fsum(weights)
    if total <= 0:
        raise EditError("average: the weights sum to zero")
    return tuple(w / total for w in weights)


def average(
    first: Checkpoint, others: Sequence[Checkpoint], weights: Sequence[float | str] | None = None
) -> tuple[Checkpoint, EditReport]:
    """Average the model tensors of ``first`` and ``others`` (see the module's docstring)."""
    inputs = [first, *others]
    names = [str(c.path) for c in inputs]
    report = EditReport("average", {"inputs": names, "weights": [str(w) for w in weights or []]})
    if not others:
        raise EditError("average: give at least one more checkpoint to average with", report)
    used = normalised_weights(numbers([str(w) for w in weights or []], "--weights"), len(inputs))
    keys = [normalized_keys(c) for c in inputs]  # prefix-free model key -> raw key, per input
    sds = [model_state(c)[1] for c in inputs]
    entries: list[dict[str, TensorEntry]] = [
        {n: c.tensors[full_key(c, key_name(raw))] for n, raw in k.items() if is_tensor(sd[raw])}
        for c, k, sd in zip(inputs, keys, sds)
    ]
    _refuse_differences(report, inputs, entries)
    last = entries[-1]
    averaged: list[tuple[str, tuple[str, ...]]] = []
    from_last: list[tuple[str, str]] = []
    new: dict[int, Any] = {}
    for name, entry in entries[0].items():
        if entry.dtype_name.startswith(("float", "bfloat")):
            parts = tuple(e[name].source for e in entries)
            new[id(entry.source)] = AveragedTensor(parts, used)
            averaged.append((entry.key, tuple(e[name].key for e in entries[1:])))
        else:
            new[id(entry.source)] = last[name].source
            from_last.append((entry.key, last[name].key))
    if not averaged:
        raise EditError("average: the model has no floating-point tensor to average", report)
    report.changed = [k for k, _ in averaged]
    outside = [k for k in first.tensors if k not in set(e.key for e in entries[0].values())]
    if outside:
        report.warnings.append(
            f"{plural(len(outside), 'tensor')} outside the model state_dict (optimizer state, ...) kept "
            f"from {first.path.name} as they are, not averaged"
        )
    n = report.count("model_tensors", len(entries[0]), averaged=len(averaged), from_last=len(from_last))
    how = "weighted " if used is not None else ""
    report.summary = f"{n['averaged']:,} of {plural(n['total'], 'model tensor')} {how}averaged over " + (
        f"{len(inputs)} checkpoints"
        + (f", {plural(n['from_last'], 'integer tensor')} taken from {inputs[-1].path.name}" if from_last else "")
    )
    report.bytes_before = report.bytes_after = sum(e.nbytes for e in entries[0].values())
    report.record = Average(tuple(others), tuple(averaged), tuple(from_last), used)
    result = derive(first, replace_tensors(first.root, new), report)
    result.companions = (*first.companions, *others)  # the averages read every input's file
    return result, report


def _refuse_differences(report: EditReport, inputs: list[Checkpoint], entries: list[dict[str, TensorEntry]]) -> None:
    """Refuse, listing them, any key, shape or dtype on which an input differs from the first."""
    ref = entries[0]
    lines: list[str] = []
    for c, other in zip(inputs[1:], entries[1:]):
        name = c.path.name
        for k in ref:
            if k not in other:
                lines.append(f"{k}: not in {name}")
                report.mismatches.append({"key": k, "problem": f"not in {name}"})
            elif ref[k].shape != other[k].shape or ref[k].dtype_name != other[k].dtype_name:
                a, b = ref[k], other[k]
                said = f"{list(a.shape)} {a.dtype_name} vs {list(b.shape)} {b.dtype_name} in {name}"
                lines.append(f"{k}: {said}")
                report.mismatches.append({"key": k, "problem": said})
        for k in other:
            if k not in ref:
                lines.append(f"{k}: only in {name}")
                report.mismatches.append({"key": k, "problem": f"only in {name}"})
    if lines:
        raise EditError(f"average refused: the inputs differ in {plural(len(lines), 'place')}: "
                        f"{first_differences(lines)}", report)  # fmt: skip
