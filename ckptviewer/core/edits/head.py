"""resize_head: give a classifier another number of classes, for fine-tuning without code.

Every floating-point tensor whose dotted key matches the globs (``fc.*``: a Linear's
``weight [out, in]`` and ``bias [out]``; conv heads ``[out, in, kh, kw]`` too) gets
``rows`` rows along its first dimension: the first ``min(old, rows)`` are kept (none with
``reinit``), the new ones initialised by ``init`` (:func:`~.compute.resized_rows`:
``zeros``, ``normal`` N(0, 0.01²) weights with zero biases, ``kaiming`` as
``nn.Linear.reset_parameters``). Each resized tensor draws from its own generator seeded
with ``seed + i`` (``i``: its place among the resized tensors, in the checkpoint's
order), so the values do not depend on the order a save computes them in, and the recipe
draws exactly the same ones.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ...formatting import human_bytes, plural
from ..assemble import derive
from ..dtype_names import itemsize
from .compute import ResizedTensor, numbers, replace_tensors
from .report import EditError, EditReport, HeadResize
from .select import matches, unmatched_globs

INITS = ("zeros", "normal", "kaiming")


def resize_head(
    ckpt: Any, globs: list[str], rows: int | str, init: str = "kaiming", seed: int | str = 0, reinit: bool = False
) -> tuple[Any, EditReport]:
    """Resize the matching tensors to ``rows`` rows (see the module's docstring)."""
    report = EditReport("resize_head", {"keys": list(globs), "rows": str(rows), "init": init, "seed": str(seed),
                                        "reinit": reinit})  # fmt: skip
    (n_rows,) = numbers([str(rows)], "--rows", int)
    (n_seed,) = numbers([str(seed)], "--seed", int)
    if not 1 <= n_rows < 2**62:
        raise EditError("resize-head: --rows must be at least 1 (and below 2**62)", report)
    if not 0 <= n_seed < 2**63 - 2**20:
        raise EditError("resize-head: --seed must be a non-negative 63-bit integer", report)
    if init not in INITS:
        raise EditError(f"resize-head: --init is one of {', '.join(INITS)} (got {init!r})", report)
    unmatched_globs(report, "keys", globs, ckpt.tensors, "tensor key")
    selected = [e for k, e in ckpt.tensors.items() if matches(k, globs)]
    if not selected:
        report.refuse_if_unmatched("resize")
        raise EditError(f"resize-head: no tensor key matches {' '.join(globs)}", report)
    skipped = [e.key for e in selected if not e.dtype_name.startswith(("float", "bfloat")) or not e.shape]
    if skipped:
        report.warnings.append(f"left as they are (not floating point, or scalars): {', '.join(skipped[:8])}")
    chosen = [e for e in selected if e.key not in set(skipped)]
    if not chosen:
        raise EditError("resize-head: no floating-point tensor with rows among the matching keys", report)
    too_big = [e for e in chosen if math.prod(e.shape[1:]) * itemsize(e.dtype_name) * n_rows > _memory()]
    if too_big:  # each resized tensor is made whole in memory when the result is saved
        e = too_big[0]
        raise EditError(f"resize-head: {e.key} with {n_rows:,} rows would need "
                        f"{human_bytes(math.prod(e.shape[1:]) * itemsize(e.dtype_name) * n_rows)}, more than this "
                        f"machine's memory ({human_bytes(_memory())})", report)  # fmt: skip
    weights = {e.key.rsplit(".", 1)[0]: e for e in chosen if len(e.shape) > 1}
    new: dict[int, Any] = {}
    resized: list[tuple[str, int, str, int, int]] = []
    for i, e in enumerate(chosen):
        # a bias draws from its layer's fan-in, as nn.Linear does
        partner = e if len(e.shape) > 1 else weights.get(e.key.rsplit(".", 1)[0])
        fan_in = math.prod(partner.shape[1:]) if partner is not None else 0
        if init == "kaiming" and fan_in == 0:
            raise EditError(f"resize-head: kaiming init of {e.key} needs its layer's weight among the keys", report)
        new[id(e.source)] = ResizedTensor(e.source, n_rows, init, fan_in, n_seed + i, reinit)
        resized.append((e.key, n_rows, init, fan_in, n_seed + i))
        report.changed.append(e.key)
    old = sorted({e.shape[0] for e in chosen})
    report.count("selected_tensors", len(selected), resized=len(chosen), left=len(skipped))
    kept = "none kept" if reinit else f"first {min(min(old), n_rows):,} kept"
    report.summary = (f"{plural(len(chosen), 'tensor')} resized from {'/'.join(f'{n:,}' for n in old)} to "
                      f"{n_rows:,} rows ({kept}, new rows {init}, seed {n_seed})")  # fmt: skip
    report.bytes_before = sum(e.nbytes for e in chosen)
    report.bytes_after = sum(e.nbytes // e.shape[0] * n_rows for e in chosen if e.shape[0])
    report.record = HeadResize(tuple(resized), reinit)
    return derive(ckpt, replace_tensors(ckpt.root, new), report), report


def _memory() -> int:
    """This machine's physical memory in bytes (2**62 where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return 2**62
