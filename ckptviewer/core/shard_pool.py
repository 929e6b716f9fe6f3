"""Statistics of a sharded folder, shard by shard in worker processes.

A Hugging Face folder of many shards is measured by a
:class:`~concurrent.futures.ProcessPoolExecutor` ("forkserver" where the platform has it,
else "spawn": the window is a Qt process and must never be forked). Each worker opens its
shard once, with the same validating reader the listing used (so a shard changed on disk
since is refused, not trusted), maps it, and computes the statistics of the tensors the
parent asked for, described by where they lie in the shard (storage record, offset, shape,
stride, dtype), not by key: a renamed key in a working copy is only a label. The numbers
are bit-identical to the serial path's (:func:`.stats._sum` does not depend on torch's
thread count) and come back in the caller's order.

Used only when it pays (:func:`worth_it`): at least two shards, enough bytes and a CPU
device; anything that is not a plain shard tensor (an unsaved cast, a DCP chunk, a remote
object) keeps the whole call on the serial path. Progress is shared per chunk through one
counter; Cancel sets a stop flag the workers check per chunk, cancels the queued shards
and terminates the workers.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dtype_names import itemsize
from .errors import CheckpointError
from .filemap import file_size, is_remote
from .lazy import LazyTensor
from .progress import Cancelled, CancelToken, ProgressFn, check, check_current, report

if TYPE_CHECKING:
    from .checkpoint import Checkpoint, TensorEntry
    from .stats import TensorStats

# below this much data the pool's first start (its server imports torch: ~2-3 s) costs more
# than the cores bring at ~1 GB/s per core (break-even ~5 GB on 2 cores, ~3 GB on 16);
# bench/bench_folders.py measures both sides
MIN_BYTES = 4 << 30
POLL_S = 0.05  # how often the parent reports progress and looks at the cancel token
STOP_GRACE_S = 2.0  # how long cancelled workers get to exit before they are killed

ERROR, WORK_LIMIT = "error", "work_limit"


@dataclass(frozen=True)
class Item:
    """One tensor a worker measures: where it lies in its shard, and the label it reports."""

    index: int  # position in the caller's list of entries
    key: str
    record: str  # the storage record in the shard (safetensors "begin:end", a zip's data/<name>)
    record_dtype: str
    record_numel: int
    byte_offset: int
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: str
    nbytes: int


@dataclass(frozen=True)
class ShardJob:
    """The tensors of one shard file (its path and size as listed)."""

    path: str
    size: int
    items: tuple[Item, ...]

    @property
    def nbytes(self) -> int:
        return sum(i.nbytes for i in self.items)


# one result per item: (index, stats, None, "") or (index, None, ERROR | WORK_LIMIT, message)
Result = tuple[int, "TensorStats | None", "str | None", str]


def shard_jobs(ckpt: Checkpoint, entries: list[TensorEntry]) -> list[ShardJob] | None:
    """``entries`` grouped by the local shard file each lies in, largest shard first; None
    when any entry is not a plain tensor of a safetensors or torch zip shard (an edit not yet
    saved, a DCP chunk, a remote object) or statistics are computed off the CPU."""
    from .formats.safetensors_file import SafetensorsFile
    from .formats.torch_zip import ZipArchive

    if ckpt.device_name != "cpu":
        return None
    by_file: dict[int, tuple[Any, list[Item]]] = {}
    for index, entry in enumerate(entries):
        src = entry.source
        if type(src) is not LazyTensor or src.subclass is not None:
            return None
        ref = src.storage
        file = ref.source
        if not (type(file) is SafetensorsFile or (type(file) is ZipArchive and file.base == 0)):
            return None
        if is_remote(file.path) or entry.dtype_name != src.dtype_name or tuple(entry.shape) != tuple(src.shape):
            return None
        item = Item(index, entry.key, ref.key, ref.dtype_name, ref.numel, ref.byte_offset, src.offset,
                    tuple(src.shape), tuple(src.stride), src.dtype_name, entry.nbytes)  # fmt: skip
        if id(file) not in by_file:
            if file.size != file_size(file.path):  # a zip inside a larger file: not a shard the worker can reopen
                return None
            by_file[id(file)] = (file, [])
        by_file[id(file)][1].append(item)
    jobs = [ShardJob(str(file.path), file.size, tuple(items)) for file, items in by_file.values()]
    return sorted(jobs, key=lambda j: -j.nbytes)  # the big ones first: the pool ends together


def worth_it(jobs: list[ShardJob] | None, min_bytes: int | None = None) -> bool:
    """Whether the pool pays: two shards or more, two CPUs or more, ``min_bytes`` of data
    (default :data:`MIN_BYTES`)."""
    need = MIN_BYTES if min_bytes is None else min_bytes
    if not jobs or len(jobs) < 2 or cpu_count() < 2:
        return False
    return sum(j.nbytes for j in jobs) >= need


def cpu_count() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def _context() -> Any:
    """forkserver (workers forked from a clean server that already imported torch) where the
    platform has it, else spawn. Never fork: the caller may be the Qt window, with threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["torch", __name__])
        return ctx
    return multiprocessing.get_context("spawn")


def run_pool(
    jobs: list[ShardJob],
    *,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
    stop_on_error: bool = True,
    workers: int | None = None,
) -> list[Result]:
    """Every item of ``jobs`` measured in worker processes; results sorted by item index.

    With ``stop_on_error`` a tensor that cannot be read raises its CheckpointError (the
    serial path's line) as soon as it is known; otherwise it comes back as a result.
    A worker that dies is a CheckpointError naming its shard.
    """
    ctx = _context()
    n_workers = max(1, min(workers or cpu_count(), len(jobs)))
    threads = max(1, cpu_count() // n_workers)
    stop, done = ctx.Event(), ctx.Value("q", 0)
    total = sum(j.nbytes for j in jobs)
    results: list[Result] = []
    pool = ProcessPoolExecutor(n_workers, mp_context=ctx, initializer=_init, initargs=(stop, done, threads))
    futures: dict[Future, ShardJob] = {}
    try:
        futures = {pool.submit(_measure_shard, job, force, stop_on_error): job for job in jobs}
        pending = set(futures)
        finished_shards = 0
        while pending:
            finished, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
            check(cancel)
            check_current()
            for future in finished:
                job = futures[future]
                try:
                    got = future.result()
                except BrokenProcessPool:
                    raise CheckpointError(
                        f"{job.path}: the statistics worker for this shard stopped unexpectedly"
                    ) from None
                finished_shards += 1
                if stop_on_error:
                    for _, _, kind, message in got:
                        if kind is not None:
                            raise CheckpointError(message)
                results += got
            message = f"shard {finished_shards} of {len(jobs)} done" if finished_shards else "Reading shards"
            report(progress, min(done.value, total), total, message)
    except BaseException:
        _stop(pool, stop)
        raise
    pool.shutdown(wait=True)
    results.sort(key=lambda r: r[0])
    return results


def _stop(pool: ProcessPoolExecutor, stop: Any) -> None:
    """Cancel what is queued, ask the running workers to stop, and end them if they do not."""
    stop.set()
    processes = list(getattr(pool, "_processes", {}).values())  # Python < 3.14 has no terminate_workers()
    pool.shutdown(wait=False, cancel_futures=True)
    deadline = time.monotonic() + STOP_GRACE_S
    for p in processes:
        p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(1.0)
        if p.is_alive():
            p.kill()


# ------------------------------------------------------------------ the worker's side

_STOP: Any = None
_DONE: Any = None


def _init(stop: Any, done: Any, threads: int) -> None:
    """Worker start: the shared stop flag and progress counter, and its share of the CPUs."""
    global _STOP, _DONE
    _STOP, _DONE = stop, done
    import torch

    torch.set_num_threads(threads)


def _measure_shard(job: ShardJob, force: bool, stop_on_error: bool) -> list[Result]:
    """Open the shard once (validated again), measure its items, close it."""
    from .formats.folders import load_file
    from .open import _READERS

    path = Path(job.path)
    try:
        size = file_size(path)
        if size != job.size:
            raise CheckpointError(f"{path}: changed on disk since it was opened ({job.size} bytes then, {size} now)")
        loaded = load_file(path, _READERS)
    except CheckpointError as exc:
        message = str(exc)
    except OSError as exc:
        message = f"{path}: cannot read ({exc.strerror or type(exc).__name__})"
    else:
        try:
            return _measure_items(path, job.items, _records(loaded.root), force, stop_on_error)
        finally:
            if loaded.close is not None:
                loaded.close()
    # the shard as a whole cannot be read: every tensor of it says so (the scan lists them)
    return [(item.index, None, ERROR, message) for item in job.items[: 1 if stop_on_error else None]]


def _records(root: Any) -> dict[str, Any]:
    """The storage records of a shard's tensors (a shard is a flat state_dict), by record key."""
    out: dict[str, Any] = {}
    if isinstance(root, dict):
        for value in root.values():
            if isinstance(value, LazyTensor):
                out[value.storage.key] = value.storage
    return out


def _measure_items(path: Path, items: tuple[Item, ...], records: dict[str, Any], force: bool, stop_on_error: bool):
    from .limits import WorkLimitError
    from .stats import tensor_stats

    out: list[Result] = []
    for item in items:
        if _STOP is not None and _STOP.is_set():
            raise Cancelled()
        try:
            ref = records.get(item.record)
            if ref is None or ref.dtype_name != item.record_dtype or ref.numel != item.record_numel:
                raise CheckpointError(f"{path}: changed on disk since it was opened ({item.key} is not where it was)")
            if ref.byte_offset != item.byte_offset:
                raise CheckpointError(f"{path}: changed on disk since it was opened ({item.key} moved)")
            lazy = LazyTensor(ref, item.offset, item.shape, item.stride, item.dtype)
            s = tensor_stats(lazy.materialize(), item.key, "cpu", on_chunk=_chunk_counter(item.dtype), force=force)
            out.append((item.index, s, None, ""))
        except WorkLimitError as exc:
            out.append((item.index, None, WORK_LIMIT, str(exc)))
        except CheckpointError as exc:
            out.append((item.index, None, ERROR, str(exc)))
        if stop_on_error and out[-1][2] is not None:
            break
    return out


def _chunk_counter(dtype: str) -> Callable[[int], None]:
    """``on_chunk`` of a worker: bytes done into the shared counter; stop when asked."""
    size = itemsize(dtype)

    def on_chunk(n: int) -> None:
        if _DONE is not None:
            with _DONE.get_lock():
                _DONE.value += n * size
        if _STOP is not None and _STOP.is_set():
            raise Cancelled()

    return on_chunk


def expected_workers(jobs: list[ShardJob]) -> int:
    """How many worker processes :func:`run_pool` starts for ``jobs``."""
    return max(1, min(cpu_count(), len(jobs)))
