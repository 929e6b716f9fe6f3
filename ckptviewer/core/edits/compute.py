"""The tensor arithmetic of the weight-preparation edits (average, merge-lora, resize-head).

Each computation is one plain torch function, and the exported recipe carries the very
same functions (its source is generated from :data:`RECIPE_FUNCTIONS`), so a replay
computes every element with the same operations in the same order: the recipe's output
equals, bit for bit, what ckptviewer saved. The edits themselves compute nothing: they
put deferred tensors (:class:`~ckptviewer.core.lazy.DeferredTensor`) into the checkpoint,
and a tensor's value is computed when a save (or a statistic) asks for it, one tensor
at a time, so memory stays a few times the largest tensor.

The functions use only torch (imported inside them: this module imports no torch).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..dtype_names import torch_dtype
from ..index import is_tensor
from ..lazy import DeferredTensor
from ..progress import check_current
from ..structure import children, rebuild

if TYPE_CHECKING:
    import torch

# elements per step of a streamed average: its float64 accumulator (1 MiB) stays in the CPU's cache
# while the inputs stream through it; 4M-element steps were 5-7x slower (the accumulator went to RAM)
AVERAGE_CHUNK = 1 << 17


def average_of(tensors, weights, acc=None):
    """The average of same-shaped ``tensors``, accumulated in float64, rounded once to the first's dtype.

    ``weights`` is None (uniform: the sum divided by the count, as ``mean`` does) or one
    weight per tensor, already summing to 1 (the weighted sum). ``acc``: a float64 buffer of
    their size to accumulate in (a streamed average reuses one instead of allocating per step).
    """
    import torch

    tensors = [t.detach() for t in tensors]
    if acc is None:
        acc = torch.empty(tensors[0].shape, dtype=torch.float64)
    acc.copy_(tensors[0])
    if weights is not None:
        acc.mul_(weights[0])
    for i, t in enumerate(tensors[1:], 1):
        if weights is None:
            acc.add_(t)  # float32/bf16/fp16 values are exact in float64: the sum is promoted, not rounded
        else:
            acc.add_(t.to(torch.float64) * weights[i])  # a product, then a sum: never fused, whatever the chunk
    if weights is None:
        acc.div_(len(tensors))
    return acc.to(tensors[0].dtype)


def lora_merged(weight, lora_a, lora_b, scale, fan_in_fan_out):
    """``weight + scale * (B @ A)``, computed as peft's ``merge_and_unload`` does for a Linear.

    As peft: half-precision adapters are multiplied in float32 on the CPU and the delta
    rounded back to the adapter's dtype; ``fan_in_fan_out`` (GPT-2's Conv1D) transposes
    the delta; the sum is rounded once to the base weight's dtype.
    """
    import torch

    weight, lora_a, lora_b = weight.detach(), lora_a.detach(), lora_b.detach()
    half = lora_b.dtype in (torch.float16, torch.bfloat16)
    a = lora_a.float() if half else lora_a
    b = lora_b.float() if half else lora_b
    delta = b @ a
    if fan_in_fan_out:
        delta = delta.T
    delta = delta * scale
    if half:
        delta = delta.to(lora_b.dtype)
    out = weight.clone()
    out += delta
    return out


def resized_rows(tensor, rows, init, fan_in, seed, reinit):
    """``tensor`` with ``rows`` rows along its first dimension: the first ones kept (none with
    ``reinit``), new ones initialised by ``init`` from a generator seeded with ``seed``.

    ``zeros``: zeros. ``normal``: N(0, 0.01²) for weights, zeros for a 1-D bias.
    ``kaiming``: as ``nn.Linear.reset_parameters``: U(-1/√fan_in, 1/√fan_in), for weights
    (kaiming_uniform with a=√5 gives exactly that bound) and biases alike.
    """
    import torch

    tensor = tensor.detach()
    keep = 0 if reinit else min(rows, tensor.shape[0])
    shape = (rows - keep, *tensor.shape[1:])
    work = torch.float64 if tensor.dtype == torch.float64 else torch.float32
    new = torch.zeros(shape, dtype=work)
    generator = torch.Generator().manual_seed(seed)
    if init == "normal" and tensor.dim() > 1:
        new.normal_(0.0, 0.01, generator=generator)
    elif init == "kaiming":
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
        new.uniform_(-bound, bound, generator=generator)
    return torch.cat([tensor[:keep], new.to(tensor.dtype)])


RECIPE_FUNCTIONS = (average_of, lora_merged, resized_rows)
"""The functions the exported recipe carries, verbatim."""


# --- the deferred tensors the edits put in place ----------------------------------------------


def load_value(t: Any) -> torch.Tensor:
    """A leaf of a checkpoint (lazy, deferred or real) as a CPU tensor."""
    import torch

    return t.detach() if isinstance(t, torch.Tensor) else t.materialize()


@dataclass(eq=False)
class AveragedTensor(DeferredTensor):
    """The average of ``parts`` (same shape and dtype), computed chunk by chunk when asked for."""

    parts: tuple[Any, ...]
    weights: tuple[float, ...] | None

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]
        return _dtype_of(self.parts[0])

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.parts[0].shape)

    def materialize(self) -> torch.Tensor:
        import torch

        inputs = [load_value(p).reshape(-1) for p in self.parts]
        out = torch.empty(inputs[0].shape, dtype=inputs[0].dtype)
        weights = list(self.weights) if self.weights is not None else None
        acc = torch.empty(min(AVERAGE_CHUNK, out.numel()), dtype=torch.float64)  # one chunk, never the tensor
        for start in range(0, out.numel(), AVERAGE_CHUNK):
            check_current()
            stop = min(start + AVERAGE_CHUNK, out.numel())
            out[start:stop].copy_(average_of([t[start:stop] for t in inputs], weights, acc[: stop - start]))
        return out.reshape(self.shape)


@dataclass(eq=False)
class MergedLoraTensor(DeferredTensor):
    """A base weight with a LoRA delta folded in (:func:`lora_merged`)."""

    base: Any
    lora_a: Any
    lora_b: Any
    scale: float
    fan_in_fan_out: bool

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]
        return _dtype_of(self.base)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.base.shape)

    def materialize(self) -> torch.Tensor:
        return lora_merged(load_value(self.base), load_value(self.lora_a), load_value(self.lora_b), self.scale,
                           self.fan_in_fan_out)  # fmt: skip


@dataclass(eq=False)
class ResizedTensor(DeferredTensor):
    """A tensor with another number of rows (:func:`resized_rows`)."""

    base: Any
    rows: int
    init: str
    fan_in: int
    seed: int
    reinit: bool

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]
        return _dtype_of(self.base)

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.rows, *tuple(self.base.shape)[1:])

    def materialize(self) -> torch.Tensor:
        return resized_rows(load_value(self.base), self.rows, self.init, self.fan_in, self.seed, self.reinit)


def _dtype_of(t: Any) -> torch.dtype:
    """The dtype of a leaf (a lazy tensor knows it by name; torch is loaded to compute anyway)."""
    return torch_dtype(t.dtype_name) if hasattr(t, "dtype_name") else t.dtype


def replace_tensors(root: Any, new: dict[int, Any]) -> Any:
    """``root`` with every tensor whose ``id`` is in ``new`` replaced (containers on the way copied).

    By identity, as cast does: a module pickled whole keeps its tensors where the index
    found them, and the same tensor object reached twice is replaced at both places.
    """

    def walk(obj: Any) -> Any:
        if is_tensor(obj):
            return new.get(id(obj), obj)
        items = children(obj)
        if items is None:
            return obj
        new_items = [(k, walk(v)) for k, v in items]
        return rebuild(obj, new_items) if any(a[1] is not b[1] for a, b in zip(new_items, items)) else obj

    return walk(root)


def first_differences(lines: Sequence[str], limit: int = 20) -> str:
    """The first ``limit`` of ``lines`` joined, and how many more there are."""
    shown = "; ".join(lines[:limit])
    return shown + (f" (+{len(lines) - limit} more)" if len(lines) > limit else "")


def numbers(values: Sequence[str], what: str, cast: Callable[[str], Any] = float) -> list[Any]:
    """``values`` typed by the user, as numbers (a refusal naming ``what`` otherwise)."""
    from .report import EditError

    out = []
    for v in values:
        try:
            x = cast(v)
        except (TypeError, ValueError):
            raise EditError(f"{what}: {v!r} is not a number") from None
        if isinstance(x, float) and not math.isfinite(x):
            raise EditError(f"{what}: {v!r} is not a finite number")
        out.append(x)
    return out
