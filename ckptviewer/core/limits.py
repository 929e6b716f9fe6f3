"""Explicit budgets that bound what a file can make ckptviewer allocate or compute.

A checkpoint is untrusted input. Its real size bounds what honest parsing costs; these
limits bound what a small file could otherwise amplify:

* :class:`Budget` — bytes the unpickler may allocate beyond the file's own bytes (one per
  open, charged by every constructor the pickle calls: ``bytearray(n)``, copies through the
  memo, numpy arrays, container copies);
* nesting depth — tuples and frozensets are checked when they are built (hashing a tuple
  nested a million deep recurses in C and kills the process), every container after the
  load (:func:`check_graph`);
* expansion — shared containers (a DAG through the memo) make tree walks exponential;
  the number of nodes a tree walk would visit is computed once, on the DAG, and capped;
* work on one tensor — a tensor whose logical size dwarfs the data that really exists
  (self-overlapping strides, a sparse tensor declaring billions of elements) is refused
  by the operations that would touch every logical element, unless the caller says
  ``force=True`` (``--force-compute`` in the CLI, "Compute anyway" in the window).
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import math
import pickle
from collections.abc import Iterator
from typing import Any

from .errors import CheckpointError
from .lazy import LazyTensor
from .placeholders import Opaque
from .progress import check_current

MAX_NESTING = 200  # containers inside containers; real checkpoints nest a few dozen at most
BASE_BUDGET = 128 << 20  # bytes a pickle may allocate beyond twice its own size
EXPANSION_SLACK = 1_000_000  # tree-walk nodes allowed beyond 4x the objects in the file
AMPLIFICATION = 64  # logical elements per stored element before work is refused
SMALL_WORK = 1 << 24  # elements below which nothing is refused (a few ms of work)
DENSE_BYTES = 1 << 30  # the largest dense copy of a sparse or strided tensor made for a view


class LimitError(pickle.UnpicklingError):
    """The file asks for more memory, nesting or work than its size justifies."""


class WorkLimitError(CheckpointError):
    """An operation on one tensor would do far more work than its stored data justifies.

    ``str(err)`` says why and how to compute anyway.
    """


class Budget:
    """Bytes one open may allocate on the file's behalf; :meth:`charge` raises when spent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit
        self._charges = 0

    @classmethod
    def for_size(cls, size: int) -> Budget:
        """The budget for a file (or pickle) of ``size`` bytes."""
        return cls(BASE_BUDGET + 2 * max(size, 0))

    def check(self, n: int, what: str) -> None:
        """Raise unless ``n`` more bytes fit (without spending them)."""
        if not isinstance(n, int) or n < 0 or n > self.left:
            raise LimitError(
                f"{what} asks for {n:,} bytes; the file's memory budget of {self.limit:,} bytes "
                "is spent (a memory bomb?)"
            )

    def charge(self, n: int, what: str) -> None:
        """Spend ``n`` bytes, or raise :class:`LimitError`; a cancelled open stops here too."""
        self.check(n, what)
        self.left -= n
        self._charges += 1
        if not self._charges & 1023:  # every constructor charges: the unpickler's pulse
            check_current()


_CURRENT: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("ckptviewer_budget", default=None)


def current_budget() -> Budget:
    """The budget of the load in progress on this thread (a fresh default one outside a load)."""
    budget = _CURRENT.get()
    return budget if budget is not None else Budget(BASE_BUDGET)


@contextlib.contextmanager
def budget_scope(budget: Budget) -> Iterator[Budget]:
    """Make ``budget`` the one constructors charge while a pickle loads."""
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


# --- nesting and expansion of the unpickled object graph ---------------------------------


_LEAVES = (str, int, float, bool, type(None), bytes, LazyTensor)


def _parts(obj: Any) -> Any:
    """The objects a walk over ``obj`` descends into, or None for a leaf.

    Type-level methods (``dict.values(obj)``), never attributes of the instance: a pickle
    can shadow ``items`` on an OrderedDict through BUILD.
    """
    if isinstance(obj, _LEAVES):
        return None

    if isinstance(obj, dict):
        return dict.values(obj)
    if isinstance(obj, (list, tuple, set, frozenset)):
        return obj
    if isinstance(obj, argparse.Namespace):
        return vars(obj).values()
    if isinstance(obj, Opaque):
        record = obj._record()
        out = list(record.get("args") or ())
        for part in ("kwargs", "dictitems"):
            value = record.get(part)
            if isinstance(value, dict):
                out.extend(dict.values(value))
        out.extend(v for v in (record.get("state"), record.get("items")) if v is not None)
        return out
    return None


_PLAIN = (dict, list, tuple, argparse.Namespace)  # what edits and saves walk into


def check_graph(root: Any) -> int:
    """Refuse object graphs that nest too deeply, expand too much, or hold a plain cycle.

    Returns the number of nodes a tree walk over ``root`` visits. One iterative pass over
    the DAG (each object once, by id) computes, for each container, its height and the
    size of its tree expansion; the expansion may be at most 4x the references the file
    really holds (plus :data:`EXPANSION_SLACK`). A container that holds itself through
    plain containers only (a list inside itself) is refused, since edits and saves walk
    those; a cycle through a placeholder object (a pickled module pointing at its parent)
    is allowed.
    """
    root_parts = _parts(root)
    if root_parts is None:
        return 1
    done: dict[int, tuple[int, int]] = {}  # id -> (height, expansion)
    keep: list[Any] = []  # ids stay valid while we look at them
    on_stack: dict[int, int] = {}  # id -> position in `stack`
    stack: list[list[Any]] = []  # [object, iterator over its parts, height, expansion]
    edges = 0

    def push(obj: Any, parts: Any) -> None:
        if len(stack) >= MAX_NESTING:
            raise LimitError(f"objects nested more than {MAX_NESTING} levels deep")
        on_stack[id(obj)] = len(stack)
        stack.append([obj, iter(parts), 0, 1])
        keep.append(obj)

    push(root, root_parts)
    while stack:
        frame = stack[-1]
        child = next(frame[1], _END)
        if child is _END:
            stack.pop()
            obj, _, height, size = frame
            del on_stack[id(obj)]
            done[id(obj)] = (height, size)
            if stack:
                stack[-1][2] = max(stack[-1][2], height + 1)
                stack[-1][3] += size
            continue
        edges += 1
        known = done.get(id(child))
        if known is not None:  # shared: its expansion counts again, its walk does not
            frame[2] = max(frame[2], known[0] + 1)
            frame[3] += known[1]
            continue
        if id(child) in on_stack:
            if all(isinstance(f[0], _PLAIN) for f in stack[on_stack[id(child)] :]):
                raise LimitError("the pickle holds a container inside itself (a reference cycle)")
            frame[3] += 1
            continue
        parts = _parts(child)
        if parts is None:
            frame[3] += 1
            frame[2] = max(frame[2], 1)
            continue
        push(child, parts)
    expansion = done[id(root)][1]
    limit = 4 * edges + EXPANSION_SLACK
    if expansion > limit:
        raise LimitError(
            f"the pickle shares containers so that listing it would visit {expansion:,} entries "
            f"for {edges:,} references in the file (a DAG bomb?)"
        )
    return expansion


_END = object()


# --- work on one tensor ---------------------------------------------------------------------


def check_work(key: str, logical: int, stored: int, force: bool = False, what: str = "statistics") -> None:
    """Refuse ``what`` over ``logical`` elements backed by only ``stored`` real ones.

    ``stored`` is what the file really holds for this tensor (the span of its storage, or
    the values of a sparse tensor). Work up to :data:`AMPLIFICATION` times that, or below
    :data:`SMALL_WORK` elements, is always allowed.
    """
    if force or logical <= SMALL_WORK or logical <= AMPLIFICATION * max(stored, 1):
        return
    raise WorkLimitError(
        f"{key or 'tensor'}: {what} would visit {logical:,} elements, but the file stores only {stored:,} "
        f"for it (overlapping strides or a huge sparse shape); refused to keep the work bounded. "
        "Compute anyway with --force-compute (CLI) or the inspector's Compute anyway button"
    )


def check_dense(key: str, numel: int, itemsize: int, force: bool = False, what: str = "a dense copy") -> None:
    """Refuse making ``what`` of more than :data:`DENSE_BYTES` for a view."""
    nbytes = numel * itemsize
    if force or nbytes <= DENSE_BYTES:
        return
    raise WorkLimitError(
        f"{key or 'tensor'}: {what} would need {_gib(nbytes)} of memory (limit {_gib(DENSE_BYTES)}); "
        "Compute anyway with --force-compute (CLI) or the inspector's Compute anyway button"
    )


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= 1 << 30 else f"{math.ceil(n / (1 << 20))} MiB"
