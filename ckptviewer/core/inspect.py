"""Everything the inspector shows for one tensor, computed in one cancellable call."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..formatting import human_bytes
from .checkpoint import Checkpoint, TensorEntry
from .limits import WorkLimitError
from .progress import CancelToken, ProgressFn, check, download_scope, report
from .stats import Histogram, TensorStats, histogram, tensor_stats
from .tensor_display import (
    Heatmap,
    Line,
    axis_titles,
    can_heatmap,
    can_line,
    first_nonfinite,
    heatmap,
    line_profile,
    plane,
    values_page,
)

PAGE = 200  # values per page of the value table


@dataclass
class Refused:
    """The inspector's work on a tensor was refused by a work limit; ``message`` says why."""

    entry: TensorEntry
    message: str


@dataclass
class TensorReport:
    """Statistics, histogram, heatmap (2-D and up) and the first page of values."""

    entry: TensorEntry
    stats: TensorStats
    histogram: Histogram
    heatmap: Heatmap | None
    indices: list[tuple[int, ...]]
    values: list[object]
    notes: list[str] = field(default_factory=list)  # views left out (too large to densify), and why
    line: Line | None = None  # 1-D tensors: the values as a line
    first_bad: int | None = None  # flat index of the first NaN/Inf, when there is one
    axes: tuple[str, str] = ("", "")  # the heatmap's row and column titles, by layer kind


def inspect_tensor(
    ckpt: Checkpoint,
    key: str,
    *,
    bins: int = 80,
    stats: TensorStats | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> TensorReport:
    """Compute the inspector's data for ``key`` on the checkpoint's device.

    ``stats`` from an earlier pass (the health scan) are reused rather than recomputed.
    A tensor whose logical size dwarfs its stored data raises
    :class:`~.limits.WorkLimitError` unless ``force`` (see :func:`inspect_or_refuse`).
    """
    entry = ckpt.tensors[key]

    def fetched(got: int, of: int) -> None:  # a remote tensor's bytes arriving
        report(progress, 0, 1, f"Downloading {key}: {human_bytes(got)} of {human_bytes(of)}")

    with download_scope(fetched):
        t = entry.load()
    total = 3 * max(entry.numel, 1)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        report(progress, done, total, key)

    if stats is None:
        stats = tensor_stats(t, key, ckpt.device, cancel=cancel, on_chunk=advance, force=force)
    done = entry.numel
    value_range = (float(stats.min), float(stats.max)) if stats.min is not None else None
    hist = (
        histogram(t, bins, value_range, ckpt.device, cancel=cancel, key=key, force=force)
        if value_range
        else Histogram([], [], stats.n_nan, stats.n_inf)
    )
    advance(entry.numel)
    check(cancel)
    notes: list[str] = []
    hm = None
    indices: list[tuple[int, ...]] = []
    values: list[object] = []
    try:  # views need dense data: a huge sparse tensor gets its statistics without them
        hm = heatmap(t, device=ckpt.device, cancel=cancel, key=key, force=force) if can_heatmap(entry.shape) else None
        line = (
            line_profile(t, device=ckpt.device, cancel=cancel, key=key, force=force) if can_line(entry.shape) else None
        )
        indices, values = values_page(t, 0, PAGE, key, force)
        # only a tensor the statistics found NaN/Inf in is searched (a second pass, up to the first one)
        bad = first_nonfinite(t, key, force, cancel=cancel) if (stats.n_nan or stats.n_inf) else None
    except WorkLimitError as exc:
        notes.append(str(exc))
        line, bad = None, None
    report(progress, total, total, key)
    axes = axis_titles(key, entry.shape)
    return TensorReport(entry, stats, hist, hm, indices, values, notes, line, bad, axes)


def slice_heatmap(
    ckpt: Checkpoint,
    key: str,
    rows_dim: int,
    cols_dim: int,
    fixed: dict[int, int],
    *,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> Heatmap:
    """The heatmap of one 2-D slice of a tensor with more than two dims (see :func:`~.tensor_display.plane`)."""
    t = plane(ckpt.tensors[key].load(), rows_dim, cols_dim, fixed, key, force)
    return heatmap(t, device=ckpt.device, cancel=cancel, key=key, force=force)


def inspect_or_refuse(
    ckpt: Checkpoint,
    key: str,
    *,
    stats: TensorStats | None = None,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> TensorReport | Refused:
    """:func:`inspect_tensor`, with a work-limit refusal as a result (the window offers to
    compute anyway) rather than an error."""
    try:
        return inspect_tensor(ckpt, key, stats=stats, progress=progress, cancel=cancel, force=force)
    except WorkLimitError as exc:
        return Refused(ckpt.tensors[key], str(exc))
