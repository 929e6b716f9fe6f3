"""Tensor statistics and histograms, computed chunk by chunk on the chosen device.

A chunk is at most ``CHUNK`` elements, so a 2 GiB tensor never needs a 2 GiB temporary
(low-precision and integer chunks are upcast one at a time). Each chunk is small enough to
stay in cache while several reductions run over it, which is also what makes this faster
than five separate full passes. Definitions (DESIGN.md): NaN and Inf are counted and left
out of min/max/mean/std/l2; complex tensors use the magnitude; bool and integer tensors
use their values; ``std`` is the sample standard deviation (torch's default); an empty
tensor gives nulls.
"""

from __future__ import annotations

import fnmatch
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import torch

from ..formatting import human_bytes
from .checkpoint import Checkpoint, TensorEntry
from .dtypes import check_computable
from .errors import CheckpointError
from .filemap import is_remote
from .limits import check_dense, check_work
from .progress import CancelToken, ProgressFn, check, download_scope, report

CHUNK = 1 << 20  # elements per chunk: 4 MiB of float32, cache-friendly

_LOW_PRECISION = {torch.float16, torch.bfloat16}


@dataclass
class TensorStats:
    """Statistics of one tensor (``ckpt stats`` JSON row)."""

    key: str
    numel: int
    min: float | int | None
    max: float | int | None
    mean: float | None
    std: float | None
    l2: float | None
    n_nan: int
    n_inf: int
    n_zero: int

    @property
    def n_finite(self) -> int:
        return self.numel - self.n_nan - self.n_inf

    def to_json(self) -> dict:
        return {k: _json_number(v) for k, v in asdict(self).items()}


@dataclass
class Histogram:
    """Counts of the finite values in ``len(counts)`` equal bins between ``edges``."""

    edges: list[float]
    counts: list[int]
    n_nan: int
    n_inf: int

    def to_json(self) -> dict:
        return asdict(self)


class _Moments:
    """Count, mean and sum of squared deviations, merged chunk by chunk (Chan et al.)."""

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, n: int, mean: float, m2: float) -> None:
        if n == 0:
            return
        total = self.n + n
        delta = mean - self.mean
        self.mean += delta * n / total
        self.m2 += m2 + delta * delta * self.n * n / total
        self.n = total


def iter_chunks(t: torch.Tensor, size: int = CHUNK) -> Iterator[torch.Tensor]:
    """Yield 1-D pieces of ``t`` of at most ``size`` elements, copying only non-contiguous ones."""
    if t.dim() == 0:
        yield t.reshape(1)
    elif t.is_contiguous():
        flat = t.view(-1)
        for start in range(0, flat.numel(), size):
            yield flat[start : start + size]
    elif t.numel() <= size:
        yield t.reshape(-1)
    else:
        rows = t.shape[0]
        per_row = t.numel() // max(rows, 1)
        if per_row == 0:
            return
        if per_row <= size:
            step = size // per_row
            for start in range(0, rows, step):
                yield t[start : start + step].reshape(-1)
        else:
            for i in range(rows):
                yield from iter_chunks(t[i], size)


def stored_elements(t: torch.Tensor) -> int:
    """Elements the file really holds for ``t``: the storage span a strided tensor reaches
    (a stride-0 or self-overlapping view reaches few), or the values of a sparse one."""
    if t.layout != torch.strided:
        return sparse_values(t).numel()
    if t.numel() == 0:
        return 0
    return 1 + sum((n - 1) * abs(st) for n, st in zip(t.shape, t.stride()))


def sparse_values(t: torch.Tensor) -> torch.Tensor:
    """The explicitly stored values of a sparse tensor (a COO tensor is coalesced first)."""
    if t.layout == torch.sparse_coo:
        return t.coalesce().values()
    return t.values()


def check_values(key: str, t: torch.Tensor) -> None:
    """Refuse (one line) a tensor whose values cannot be computed with: no data, or a dtype
    torch cannot reduce."""
    if t.device.type == "meta":
        raise CheckpointError(f"{key or 'tensor'}: a meta tensor holds no data")
    check_computable(key, t.dtype)


def dense_values(t: torch.Tensor, key: str = "", force: bool = False) -> torch.Tensor:
    """``t`` as a dense tensor of real values (quantized dequantized, sparse densified).

    A sparse tensor may declare a shape far larger than what it stores: densifying it is
    refused beyond :data:`~.limits.DENSE_BYTES` unless ``force``.
    """
    check_values(key, t)
    if t.is_quantized:
        check_work(key, t.numel(), stored_elements(t), force)
        try:
            return t.dequantize()
        except RuntimeError as exc:  # quantizer parameters torch's kernels reject
            raise CheckpointError(f"{key}: cannot dequantize ({str(exc).splitlines()[0][:120]})") from None
    if t.layout != torch.strided:
        check_dense(key, t.numel(), t.dtype.itemsize, force, "densifying this sparse tensor")
        return t.to_dense()
    return t


_as_values = dense_values  # the name the rest of core used


def compact(t: torch.Tensor) -> tuple[torch.Tensor, int]:
    """(t without its stride-0 dimensions, how many times each element repeats).

    An expanded tensor (stride 0) can claim 2**40 elements over 4 stored ones: statistics
    of the stored elements, scaled, are the statistics of the whole.
    """
    factor = 1
    if t.layout != torch.strided or t.dim() == 0:
        return t, 1
    for d, (n, st) in enumerate(zip(t.shape, t.stride())):
        if st == 0 and n > 1:
            factor *= n
            t = t.narrow(d, 0, 1)
    return t, factor


def _prepare(chunk: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A chunk on ``device`` in a dtype its reductions support."""
    if chunk.device != device:
        chunk = chunk.to(device, non_blocking=True)
    dtype = chunk.dtype
    if dtype.is_complex:
        return chunk.abs()
    if dtype in _LOW_PRECISION or (dtype.is_floating_point and dtype.itemsize == 1):
        return chunk.float()
    if dtype == torch.bool:
        return chunk.to(torch.uint8)
    if dtype in (torch.uint16, torch.uint32):
        return chunk.to(torch.int64)
    if dtype == torch.uint64:
        return chunk.to(torch.float64)
    return chunk


def tensor_stats(
    t: torch.Tensor,
    key: str = "",
    device: torch.device | str | None = None,
    *,
    chunk: int = CHUNK,
    cancel: CancelToken | None = None,
    on_chunk: Callable[[int], None] | None = None,
    force: bool = False,
) -> TensorStats:
    """Statistics of ``t``, chunked; ``on_chunk(n)`` is told of every ``n`` elements done.

    A tensor whose logical size dwarfs the data stored for it (self-overlapping strides)
    is refused with a :class:`~.limits.WorkLimitError` unless ``force``; a sparse tensor
    is measured from its stored values and its implicit zeros, never densified.
    """
    device = torch.device(device) if device is not None else t.device
    check_values(key, t)
    if t.layout != torch.strided:
        return _sparse_stats(t, key, device, cancel, on_chunk)
    if t.is_quantized:
        check_work(key, t.numel(), stored_elements(t), force)
    t, repeat = compact(dense_values(t, key, force))
    check_work(key, t.numel(), stored_elements(t), force)
    numel = t.numel() * repeat
    lo: float | int | None = None
    hi: float | int | None = None
    moments = _Moments()
    n_nan = n_inf = n_zero = 0
    for raw in iter_chunks(t, chunk):
        check(cancel)
        c = _prepare(raw, device)
        if not c.dtype.is_floating_point:  # bool and integers: exact min/max, float64 moments
            mn, mx = (v.item() for v in torch.aminmax(c))
            n, zeros, s, m2 = _reduce(c.double())
        else:
            mn, mx = (v.item() for v in torch.aminmax(c))
            if math.isfinite(mn) and math.isfinite(mx):  # NaN and Inf both show up here
                n, zeros, s, m2 = _reduce(c)
            else:
                n, zeros, s, m2, mn, mx, nans, infs = _reduce_nonfinite(c)
                n_nan += nans
                n_inf += infs
        if n:
            moments.add(n, s / n, m2)
            n_zero += zeros
            lo = mn if lo is None else min(lo, mn)
            hi = mx if hi is None else max(hi, mx)
        if on_chunk is not None:
            on_chunk(raw.numel() * repeat)
    moments.n, moments.m2 = moments.n * repeat, moments.m2 * repeat
    n_nan, n_inf, n_zero = n_nan * repeat, n_inf * repeat, n_zero * repeat
    n = moments.n
    if n == 0:
        return TensorStats(key, numel, None, None, None, None, None, n_nan, n_inf, n_zero)
    std = math.sqrt(moments.m2 / (n - 1)) if n > 1 else None
    l2 = math.sqrt(max(moments.m2 + n * moments.mean * moments.mean, 0.0))
    return TensorStats(key, numel, lo, hi, moments.mean, std, l2, n_nan, n_inf, n_zero)


def _sparse_stats(t: torch.Tensor, key: str, device: torch.device, cancel, on_chunk) -> TensorStats:
    """Statistics of a sparse tensor: its stored values plus the zeros it does not store."""
    values = sparse_values(t)
    s = tensor_stats(values.reshape(-1), key, device, cancel=cancel, on_chunk=on_chunk)
    zeros = t.numel() - values.numel()
    if zeros <= 0:
        return TensorStats(key, t.numel(), s.min, s.max, s.mean, s.std, s.l2, s.n_nan, s.n_inf, s.n_zero)
    moments = _Moments()
    if s.mean is not None:
        moments.add(s.n_finite, s.mean, (s.std or 0.0) ** 2 * (s.n_finite - 1))
    moments.add(zeros, 0.0, 0.0)
    lo = 0 if s.min is None else min(s.min, 0)
    hi = 0 if s.max is None else max(s.max, 0)
    n = moments.n
    std = math.sqrt(moments.m2 / (n - 1)) if n > 1 else None
    l2 = math.sqrt(max(moments.m2 + n * moments.mean * moments.mean, 0.0))
    return TensorStats(key, t.numel(), lo, hi, moments.mean, std, l2, s.n_nan, s.n_inf, s.n_zero + zeros)


_ROW = 1 << 14  # elements per partial sum: half torch's GRAIN_SIZE, so one row is never split


def _sum(c: torch.Tensor) -> float:
    """The sum of the 1-D chunk ``c``, the same to the last bit whatever torch's thread count.

    torch splits a full reduction among its threads, so ``c.sum()`` moves in the last bits
    with ``torch.set_num_threads``: a process pool (:mod:`.shard_pool`) with fewer threads
    per worker would not give the serial path's numbers. A reduction over rows hands each
    row whole to one thread, and the rows' partial sums are added in one thread, in float64.
    """
    n = c.numel()
    if n < 2 * _ROW:  # below torch's grain: one thread sums it
        return c.sum().item()
    if not c.is_contiguous():
        c = c.contiguous()
    full = n - n % _ROW
    total = c[:full].view(-1, _ROW).sum(1).double().sum().item()
    if full < n:
        total += c[full:].sum().item()
    return total


def _reduce(c: torch.Tensor) -> tuple[int, int, float, float]:
    """Count, zeros, sum and sum of squared deviations of a finite chunk.

    Deviations are taken from the chunk's own mean so the squared sum does not
    lose the variance of values far from zero (running_var near 1, say).
    """
    n = c.numel()
    s = _sum(c)
    d = c - (s / n)
    # torch's pairwise sum, not a BLAS dot: a float32 dot drifts ~1e-6 low per 1M elements
    m2 = _sum(d.mul_(d))
    zeros = n - int(torch.count_nonzero(c))
    return n, zeros, s, m2


def _reduce_nonfinite(c: torch.Tensor) -> tuple:
    """As :func:`_reduce` for a chunk holding NaN or Inf, which are counted and left out."""
    finite = c.abs() < math.inf  # False for NaN and for +-Inf
    n = int(finite.sum())
    nans = int(torch.isnan(c).sum())
    infs = c.numel() - n - nans
    if n == 0:
        return 0, 0, 0.0, 0.0, None, None, nans, infs
    clean = torch.where(finite, c, 0.0)
    s = _sum(clean)
    d = torch.where(finite, c - (s / n), 0.0)
    m2 = _sum(d.mul_(d))
    zeros = n - (int(torch.count_nonzero(clean)))
    mn = torch.where(finite, c, math.inf).min().item()
    mx = torch.where(finite, c, -math.inf).max().item()
    return n, zeros, s, m2, mn, mx, nans, infs


def entry_stats(
    ckpt: Checkpoint, entry: TensorEntry, *, cancel: CancelToken | None = None, on_chunk=None, force: bool = False
) -> TensorStats:
    """Statistics of one tensor of ``ckpt`` on the checkpoint's device."""
    return tensor_stats(entry.load(), entry.key, ckpt.device, cancel=cancel, on_chunk=on_chunk, force=force)


def select(ckpt: Checkpoint, patterns: list[str] | None = None) -> list[TensorEntry]:
    """Entries whose key matches any glob in ``patterns`` (all entries if none)."""
    entries = list(ckpt.tensors.values())
    if not patterns:
        return entries
    return [e for e in entries if any(fnmatch.fnmatchcase(e.key, p) for p in patterns)]


def checkpoint_stats(
    ckpt: Checkpoint,
    entries: list[TensorEntry] | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
    parallel: bool | None = None,
) -> list[TensorStats]:
    """Statistics of every tensor in ``entries`` (default: all), with progress in bytes.

    A folder of several shards is measured shard by shard in worker processes when that
    pays (:mod:`.shard_pool`; ``parallel``: None decides, True whenever possible, False
    never), with the same numbers in the same order.
    """
    results: list[TensorStats] = []
    for s in each_entry_stats(ckpt, entries, progress=progress, cancel=cancel, force=force, parallel=parallel):
        if isinstance(s, CheckpointError):
            raise s
        results.append(s)
    return results


def each_entry_stats(
    ckpt: Checkpoint,
    entries: list[TensorEntry] | None = None,
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
    parallel: bool | None = None,
    keep_going: bool = False,
) -> Iterator[TensorStats | CheckpointError]:
    """The statistics of each entry, in order, one at a time (nothing is kept between tensors).

    With ``keep_going`` a tensor that cannot be measured yields its CheckpointError (a
    :class:`~.limits.WorkLimitError` when refused as too much work) and the next one
    follows; otherwise the error is raised. A multi-shard folder may be measured in worker
    processes first (see :func:`checkpoint_stats`); the results are the same.
    """
    entries = list(ckpt.tensors.values()) if entries is None else entries
    if parallel is not False:
        from . import shard_pool

        jobs = shard_pool.shard_jobs(ckpt, entries)
        if jobs is not None and len(jobs) >= 2 and (parallel or shard_pool.worth_it(jobs)):
            yield from _pooled(jobs, len(entries), progress, cancel, force, keep_going)
            return
    total = sum(e.nbytes for e in entries)
    done = 0
    remote = is_remote(ckpt.path)
    for entry in entries:
        itemsize = entry.dtype.itemsize

        def advance(n: int, _key: str = entry.key, _size: int = itemsize) -> None:
            nonlocal done
            done += n * _size
            report(progress, done, total, _key)

        def fetched(got: int, of: int, _key: str = entry.key) -> None:  # a remote tensor's bytes arriving
            report(progress, done, total, f"Downloading {_key}: {human_bytes(got)} of {human_bytes(of)}")

        try:
            # both scopes are left before the yield: they are this tensor's only
            with download_scope(fetched), _core_left_for_downloads(remote and entry.nbytes >= _FEWER_FROM):
                result: TensorStats | CheckpointError = entry_stats(
                    ckpt, entry, cancel=cancel, on_chunk=advance, force=force
                )
        except CheckpointError as exc:
            if not keep_going:
                raise
            result = exc
        yield result
    report(progress, total, total, "Done")


_FEWER_FROM = 1 << 20  # smaller tensors are summed by one thread anyway: their thread count is left alone


@contextmanager
def _core_left_for_downloads(remote: bool) -> Iterator[None]:
    """For a remote checkpoint, torch's threads on all cores but one while the block runs.

    Its bytes arrive through threads of ours (range requests, the cache writer) that torch's
    intra-op threads, spinning on every core, starve: a 1 GiB remote scan on 2 cores ran at
    270-330 MiB/s with 2 threads, 410-470 with 1 (bench_remote). The sums do not depend on the
    thread count (see :func:`_sum`), so neither do the results.
    """
    threads = torch.get_num_threads()
    fewer = max(1, min(threads, (os.cpu_count() or 1) - 1))
    if not remote or fewer == threads:
        yield
        return
    torch.set_num_threads(fewer)
    _set_default_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _set_default_threads(threads: int) -> None:
    """Put back the thread count that threads starting to use torch from now on begin with.

    With OpenMP, ``torch.set_num_threads`` sets the calling thread's count and also that default: a
    thread whose first torch call came while a remote tensor was measured (the window's next task,
    a diff) kept one thread fewer for good. Set from a thread of its own, the default changes and
    the measuring thread's count does not.
    """
    helper = threading.Thread(target=torch.set_num_threads, args=(threads,), name="ckpt-threads", daemon=True)
    helper.start()
    helper.join()


def _pooled(jobs, n: int, progress, cancel, force: bool, keep_going: bool) -> Iterator[TensorStats | CheckpointError]:
    """:func:`each_entry_stats` through :func:`.shard_pool.run_pool`."""
    from .limits import WorkLimitError
    from .shard_pool import WORK_LIMIT, run_pool

    results = run_pool(jobs, progress=progress, cancel=cancel, force=force, stop_on_error=not keep_going)
    if len(results) != n:  # every entry lies in a job, so this is a defect, not a file's fault
        raise RuntimeError(f"shard pool returned {len(results)} results for {n} tensors")
    total = sum(j.nbytes for j in jobs)
    report(progress, total, total, "Done")
    for _, s, kind, message in results:
        if s is not None:
            yield s
        else:
            yield WorkLimitError(message) if kind == WORK_LIMIT else CheckpointError(message)


def histogram(
    t: torch.Tensor,
    bins: int = 64,
    value_range: tuple[float, float] | None = None,
    device: torch.device | str | None = None,
    *,
    cancel: CancelToken | None = None,
    key: str = "",
    force: bool = False,
) -> Histogram:
    """Histogram of the finite values of ``t`` (range from its min/max unless given).

    A sparse tensor counts its stored values and adds its implicit zeros to the bin of 0.
    """
    device = torch.device(device) if device is not None else t.device
    zeros = 0
    if t.layout != torch.strided:
        values = sparse_values(t)
        zeros = t.numel() - values.numel()
        t = values.reshape(-1)
    t, repeat = compact(dense_values(t, key, force))
    check_work(key, t.numel(), stored_elements(t), force, "a histogram")
    n_nan = n_inf = 0
    if value_range is None:
        s = tensor_stats(t, device=device, cancel=cancel, force=force)
        if zeros and s.min is not None:
            s.min, s.max = min(s.min, 0), max(s.max, 0)
        elif zeros:
            s.min = s.max = 0
        if s.min is None:
            return Histogram([], [], s.n_nan, s.n_inf)
        value_range = (float(s.min), float(s.max))
    lo, hi = value_range
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.zeros(bins, dtype=torch.int64)
    for raw in iter_chunks(t):
        check(cancel)
        c = _prepare(raw, device)
        if not c.dtype.is_floating_point:
            c = c.double()
        elif c.dtype != torch.float64:
            c = c.float()
        finite = torch.isfinite(c)
        n_fin = int(finite.sum())
        if n_fin != c.numel():
            nans = int(torch.isnan(c).sum())
            n_nan += nans
            n_inf += c.numel() - n_fin - nans
            c = c[finite]
        counts += torch.histc(c, bins=bins, min=lo, max=hi).to("cpu", torch.int64)
    counts *= repeat
    if zeros and lo <= 0 <= hi:
        counts[min(bins - 1, int((0 - lo) / (hi - lo) * bins))] += zeros
    step = (hi - lo) / bins
    edges = [lo + i * step for i in range(bins)] + [hi]
    return Histogram(edges, counts.tolist(), n_nan * repeat, n_inf * repeat)


def _json_number(v: object) -> object:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v
