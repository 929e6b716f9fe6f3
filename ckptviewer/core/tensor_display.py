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


MAX_LINE = 2048  # points of a 1-D tensor's line plot (block means beyond)


@dataclass
class Line:
    """A 1-D tensor as a line: ``y`` at element indices ``x`` (block means when long)."""

    x: np.ndarray  # element index of each point (a block's centre when downsampled)
    y: np.ndarray  # NaN where the block holds a NaN/Inf
    n: int  # elements before downsampling
    step: float  # elements per point (1.0 = every element)


MAX_LINE_ELEMENTS = 1 << 27  # a longer 1-D tensor gets statistics and values, not a line (its pass would take seconds)


def can_line(shape: tuple[int, ...]) -> bool:
    """1-D tensors of more than one element (and at most MAX_LINE_ELEMENTS) are drawn as a line."""
    return len(shape) == 1 and 1 < shape[0] <= MAX_LINE_ELEMENTS


def line_profile(
    t: torch.Tensor,
    max_points: int = MAX_LINE,
    device: torch.device | str | None = None,
    *,
    cancel: CancelToken | None = None,
    key: str = "",
    force: bool = False,
) -> Line:
    """A 1-D ``t`` as at most ``max_points`` points: block means of finite values, NaN for a block with NaN/Inf."""
    t = dense_values(t, key, force)
    row = heatmap(t.reshape(1, -1), max_points, device, cancel=cancel, key=key, force=force)
    n = row.cols
    x = (np.arange(row.image.shape[1]) + 0.5) * row.col_step - 0.5
    return Line(x, row.image[0].astype(np.float64), n, row.col_step)


def first_nonfinite(
    t: torch.Tensor, key: str = "", force: bool = False, *, cancel: CancelToken | None = None
) -> int | None:
    """Flat (row-major) index of the first NaN or Inf of ``t``; None when every value is finite."""
    t = dense_values(t, key, force)
    if not (t.dtype.is_floating_point or t.dtype.is_complex):
        return None  # integers and booleans hold no NaN
    flat = t.reshape(-1)
    for start in range(0, flat.numel(), CHUNK):
        check(cancel)
        part = _prepare(flat[start : start + CHUNK], torch.device("cpu"))
        bad = (~torch.isfinite(part)).nonzero()
        if bad.numel():
            return start + int(bad[0, 0])
    return None


EMBEDDING_NAMES = ("embed", "wte", "wpe", "tok_emb", "word_emb", "position_emb", "token_emb", "shared.weight")


def axis_titles(key: str, shape: tuple[int, ...]) -> tuple[str, str]:
    """(rows, columns) titles of the default heatmap of ``key``, in the words of its layer kind.

    An embedding is tokens × features, a conv kernel out × in·kh·kw (its kernel dims
    flattened into the columns), a linear weight out × in.
    """
    low = key.lower()
    if len(shape) == 2 and any(n in low for n in EMBEDDING_NAMES):
        return "token", "feature"
    if 3 <= len(shape) <= 5:
        kernel = {3: "k", 4: "kh·kw", 5: "kd·kh·kw"}[len(shape)]
        return "out channel", f"in · {kernel}"
    if len(shape) == 2:
        return "out feature", "in feature"
    return "dim 0", "other dims (flattened)"


def plane(t: torch.Tensor, rows_dim: int, cols_dim: int, fixed: dict[int, int], key: str = "", force: bool = False):
    """The 2-D slice of ``t`` with ``rows_dim`` down and ``cols_dim`` across, every other dim at ``fixed[d]``.

    Raises ValueError for dims that are not two different dims of ``t`` or an index out of range.
    """
    t = dense_values(t, key, force)
    dims = t.dim()
    if not (0 <= rows_dim < dims and 0 <= cols_dim < dims) or rows_dim == cols_dim:
        raise ValueError(f"choose two different dims of {dims}")
    index: list[slice | int] = [slice(None)] * dims
    for d in range(dims):
        if d not in (rows_dim, cols_dim):
            i = fixed.get(d, 0)
            if not 0 <= i < t.shape[d]:
                raise ValueError(f"index {i} is outside dim {d} (size {t.shape[d]})")
            index[d] = i
    p = t[tuple(index)]  # remaining dims in their order: rows_dim and cols_dim
    return p if rows_dim < cols_dim else p.t()
