"""Progress reporting and cooperative cancellation for long core operations.

A long operation takes two optional keyword arguments: ``progress``, a callable that
receives :class:`Progress` values, and ``cancel``, a :class:`CancelToken` that it checks
between chunks of work. The GUI wraps such a function in a worker thread; the CLI passes
nothing or a printer.

Work deep inside an operation (the unpickler, a shard loop, a tree walk) does not take
the token as an argument: the worker runs the operation inside :func:`cancel_scope`,
and such loops call :func:`check_current`, which costs one context-variable read when
nothing can cancel.
"""

from __future__ import annotations

import contextlib
import contextvars
import gc
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """How far a task is: ``done`` of ``total`` units (bytes, tensors), and what it does."""

    done: int
    total: int
    message: str = ""

    @property
    def fraction(self) -> float:
        return 1.0 if self.total <= 0 else min(1.0, self.done / self.total)


ProgressFn = Callable[[Progress], None]


class Cancelled(BaseException):
    """Raised inside a task when its cancel token was set.

    A BaseException, like KeyboardInterrupt: the handlers that turn any failure of a
    hostile file into one clear CheckpointError must not swallow a cancel.
    """


class CancelToken:
    """A thread-safe flag a caller sets to ask a running task to stop."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


def report(progress: ProgressFn | None, done: int, total: int, message: str = "") -> None:
    """Call ``progress`` if there is one."""
    if progress is not None:
        progress(Progress(done, total, message))


def check(cancel: CancelToken | None) -> None:
    """Raise :class:`Cancelled` if ``cancel`` was set."""
    if cancel is not None:
        cancel.raise_if_cancelled()


_CURRENT: contextvars.ContextVar[CancelToken | None] = contextvars.ContextVar("ckptviewer_cancel", default=None)


@contextlib.contextmanager
def cancel_scope(cancel: CancelToken | None) -> Iterator[None]:
    """Make ``cancel`` the token :func:`check_current` consults on this thread."""
    token = _CURRENT.set(cancel)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def check_current() -> None:
    """Raise :class:`Cancelled` if the task running on this thread was cancelled."""
    cancel = _CURRENT.get()
    if cancel is not None:
        cancel.raise_if_cancelled()


_STEP: contextvars.ContextVar[Callable[[int, int, str], None] | None] = contextvars.ContextVar(
    "ckptviewer_step", default=None
)
STEP_UNITS = 1000  # a phase's share of the bar, in units, so sub-steps stay determinate


@contextlib.contextmanager
def step_scope(progress: ProgressFn | None, phase: int, phases: int) -> Iterator[None]:
    """Let deep code report its own steps as the ``phase``-th of ``phases`` parts of ``progress``.

    A reader that loops over shards calls :func:`report_step` without holding the
    callback; its i-of-n lands inside this phase's share of the bar.
    """

    def step(done: int, total: int, message: str) -> None:
        if progress is not None and total > 0:
            inside = min(done, total) * STEP_UNITS // total
            progress(Progress(phase * STEP_UNITS + inside, phases * STEP_UNITS, message))

    token = _STEP.set(step)
    try:
        yield
    finally:
        _STEP.reset(token)


def report_step(done: int, total: int, message: str = "") -> None:
    """Report ``done`` of ``total`` sub-steps to the enclosing :func:`step_scope`, if any."""
    step = _STEP.get()
    if step is not None:
        step(done, total, message)


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small objects.

    Indexing a 20,000-tensor checkpoint allocates ~100,000 objects; without this the
    collector rescans them over and over and listing takes twice as long.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


_DOWNLOAD: contextvars.ContextVar[Callable[[int, int], None] | None] = contextvars.ContextVar(
    "ckpt_download", default=None
)


@contextlib.contextmanager
def download_scope(on_bytes: Callable[[int, int], None] | None) -> Iterator[None]:
    """Let a remote fetch deep inside (a tensor's bytes) tell ``on_bytes(done, total)`` as they arrive."""
    token = _DOWNLOAD.set(on_bytes)
    try:
        yield
    finally:
        _DOWNLOAD.reset(token)


def report_download(done: int, total: int) -> None:
    """Bytes of a fetch done so far, to the enclosing :func:`download_scope`, if any."""
    on_bytes = _DOWNLOAD.get()
    if on_bytes is not None:
        on_bytes(done, total)
