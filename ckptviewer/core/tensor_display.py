"""Data for the views of one tensor: a downsampled heatmap and pages of values.

These are what the GUI plots and tabulates; computing them here keeps gui/ thin and
lets them be tested without a window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from .limits import check_work
from .progress import CancelToken, check
from .stats import CHUNK, _prepare, dense_values, stored_elements

MAX_HEATMAP = 512  # pixels per side: more is invisible on screen and slow to draw


@dataclass
class Heatmap:
    """A 2-D view of a weight: rows are output channels, columns everything else."""

    image: np.ndarray  # float32, shape (rows, cols) after downsampling; NaN/Inf shown as NaN
    rows: int  # before downsampling
    cols: int
    row_step: float  # original rows per image row (1.0 = not downsampled)
    col_step: float

    @property
    def downsampled(self) -> bool:
        return self.row_step > 1 or self.col_step > 1


MAX_HEATMAP_ELEMENTS = 1 << 34  # beyond this a weight is not a matrix anyone looks at pixel by pixel


def can_heatmap(shape: tuple[int, ...]) -> bool:
    """2-D weights and conv kernels (>= 2 dims with more than one row and column)."""
    return len(shape) >= 2 and shape[0] > 0 and math.prod(shape[1:]) > 0 and math.prod(shape) <= MAX_HEATMAP_ELEMENTS


def heatmap(
    t: torch.Tensor,
    max_side: int = MAX_HEATMAP,
    device: torch.device | str | None = None,
    *,
    cancel: CancelToken | None = None,
    key: str = "",
    force: bool = False,
) -> Heatmap:
    """``t`` as (out_channels x rest), block-averaged down to at most ``max_side`` a side.

    Blocks are averaged over their finite values; a block holding any NaN/Inf shows as
    NaN, so a single bad value stays visible after downsampling. Rows are processed in
    bands, so memory stays bounded for large matrices.
    """
    device = torch.device(device) if device is not None else t.device
    t = dense_values(t, key, force)
    check_work(key, t.numel(), stored_elements(t), force, "a heatmap")
    rows = t.shape[0]
    cols = t.numel() // rows
    if not t.is_contiguous() and 0 in t.stride():
        t = t.contiguous() if t.numel() <= 1 << 24 else t  # expanded: materialize only if small
    m = t.reshape(rows, cols) if t.is_contiguous() else t.flatten(1)
    out_rows, out_cols = min(rows, max_side), min(cols, max_side)
    row_edges = np.linspace(0, rows, out_rows + 1).round().astype(int)
    col_edges = torch.linspace(0, cols, out_cols + 1).round().long()
    image = np.empty((out_rows, out_cols), dtype=np.float32)
    col_index = torch.repeat_interleave(torch.arange(out_cols), col_edges.diff())
    counts = col_edges.diff().to(torch.float64)
    for r in range(out_rows):
        band = m[row_edges[r] : row_edges[r + 1]]
        summed = torch.zeros(out_cols, dtype=torch.float64)
        bad = torch.zeros(out_cols, dtype=torch.float64)
        width = max(1, CHUNK // max(1, band.shape[0]))  # bounded memory for very wide rows
        for c0 in range(0, cols, width):
            check(cancel)
            part = _prepare(band[:, c0 : c0 + width], device).float()
            finite = torch.isfinite(part)
            ci = col_index[c0 : c0 + width]
            summed.index_add_(0, ci, torch.where(finite, part, 0.0).sum(0, dtype=torch.float64).cpu())
            bad.index_add_(0, ci, (~finite).sum(0).to(torch.float64).cpu())
        mean = summed / (counts * band.shape[0])
        mean[bad > 0] = math.nan
        image[r] = mean.numpy()
    return Heatmap(image, rows, cols, rows / out_rows, cols / out_cols)


def values_page(
    t: torch.Tensor, start: int, count: int, key: str = "", force: bool = False
) -> tuple[list[tuple[int, ...]], list[object]]:
    """Elements ``start .. start+count`` of ``t`` in row-major order: (indices, values).

    Reads only those elements, whatever the tensor's strides (a sparse tensor is densified
    first, within the dense-copy limit).
    """
    t = dense_values(t, key, force)
    numel = t.numel()
    start = max(0, min(start, numel))
    stop = min(numel, start + max(count, 0))
    if stop <= start:
        return [], []
    flat = np.arange(start, stop)
    if t.dim() == 0:
        return [()], [t.item()]
    index = np.unravel_index(flat, tuple(t.shape))
    picked = t[tuple(torch.from_numpy(i) for i in index)]
    if picked.dtype in (torch.bfloat16, torch.float16) or (
        picked.dtype.is_floating_point and picked.dtype.itemsize == 1
    ):
        picked = picked.float()
    values = picked.tolist()
    return list(zip(*(i.tolist() for i in index))), values
