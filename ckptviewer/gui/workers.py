"""Run core functions off the UI thread, with progress, cancellation and stale-result dropping.

A :class:`TaskRunner` owns a private thread pool. Work is started in a named *slot*
("open", "tensor", "scan"): starting new work in a slot cancels the previous request
and any result it still delivers is dropped (request ids), so a user clicking through
tensors only ever sees the latest one. Workers get plain inputs (a function closed over
paths, keys, options) and never touch widgets.

Each task carries its own result path: ``start(slot, fn, on_done=..., on_error=...)``.
Its callbacks run on the UI thread (queued signals), and only for the latest request of
the slot; a task without ``on_error`` reports to the runner's ``report_error`` (the
window's one error reporter). Nobody listens to every result and branches on slot names.
A CheckpointError's message reaches either in the window's language (gui/core_errors.py).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from ..core.errors import CheckpointError
from ..core.progress import Cancelled, CancelToken, Progress, cancel_scope
from .core_errors import error_text

# fn(progress=..., cancel=...) -> result
TaskFn = Callable[..., Any]

PROGRESS_INTERVAL = 0.05  # seconds between progress signals: the UI needs no more


class _Signals(QObject):
    """Emitted from a pool thread; received by the TaskRunner (UI thread) through queues."""

    progress = Signal(str, int, object)  # slot, request id, Progress
    done = Signal(str, int, str, object)  # slot, request id, kind, payload


class _Task(QRunnable):
    def __init__(self, slot: str, rid: int, fn: TaskFn, token: CancelToken, signals: _Signals) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self.slot, self.rid, self.fn, self.token, self.signals = slot, rid, fn, token, signals
        self._last = 0.0

    def _progress(self, p: Progress) -> None:
        now = time.monotonic()
        if now - self._last >= PROGRESS_INTERVAL or p.done >= p.total:
            self._last = now
            self.signals.progress.emit(self.slot, self.rid, p)

    def run(self) -> None:
        _lower_thread_priority()
        emit = self.signals.done.emit
        try:
            with cancel_scope(self.token):
                result = self.fn(progress=self._progress, cancel=self.token)
        except Cancelled:
            emit(self.slot, self.rid, "cancelled", None)
        except CheckpointError as exc:  # core's one line for the user: said in the window's language on the UI thread
            emit(self.slot, self.rid, "refused", (str(exc), ""))
        except BaseException as exc:  # any bug (even SystemExit) surfaces in the one error reporter, not a crash
            emit(self.slot, self.rid, "failed", (f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            emit(self.slot, self.rid, "finished", result)


WORKER_NICENESS = 10


def _lower_thread_priority() -> None:
    """Make this pool thread (and the compute threads torch starts from it) yield to the UI.

    On a 2-core laptop two workers crunching a 1 GiB tensor would otherwise take the cores
    from the UI thread. Linux keeps a nice value per thread; elsewhere this does nothing.
    """
    if getattr(_tls, "niced", False) or not hasattr(os, "setpriority"):
        return
    _tls.niced = True
    with contextlib.suppress(OSError, AttributeError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, max(os.getpriority(os.PRIO_PROCESS, tid), WORKER_NICENESS))


_tls = threading.local()


@dataclass
class _Running:
    rid: int
    token: CancelToken
    label: str
    on_done: Callable[[Any], None] | None
    on_error: Callable[[str, str], None] | None
    on_progress: Callable[[Progress], None] | None


class TaskRunner(QObject):
    """Starts core work in slots on a private thread pool; see the module docstring."""

    progress = Signal(str, object)  # slot, Progress: for a status bar (any task)
    cancelled = Signal(str)  # slot
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, threads: int = 2) -> None:
        super().__init__(parent)
        # where failures of tasks without their own on_error go (message, details)
        self.report_error: Callable[[str, str], None] = lambda message, details: None
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._next = 0
        self._running: dict[str, _Running] = {}
        self._signals = _Signals(self)
        # the runner lives in the UI thread, so these cross threads as queued calls
        self._signals.progress.connect(self._on_progress)
        self._signals.done.connect(self._on_done)

    def start(
        self,
        slot: str,
        fn: TaskFn,
        label: str = "",
        *,
        on_done: Callable[[Any], None] | None = None,
        on_error: Callable[[str, str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> int:
        """Run ``fn(progress=, cancel=)`` in ``slot``; cancels what ran there before.

        ``on_done(result)`` or ``on_error(message, details)`` is called on the UI thread
        when this request (still the latest of its slot) ends.
        """
        was_busy = self.busy
        self._stop(slot)  # replacing work is no pause: busy_changed stays quiet
        self._next += 1
        rid = self._next
        token = CancelToken()
        self._running[slot] = _Running(rid, token, label, on_done, on_error, on_progress)
        self.pool.start(_Task(slot, rid, fn, token, self._signals))
        if not was_busy:
            self.busy_changed.emit(True)
        return rid

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def is_running(self, slot: str) -> bool:
        return slot in self._running

    def label(self) -> str:
        """What the most recent running task is doing, for the status bar."""
        return next(reversed(self._running.values())).label if self._running else ""

    def cancel(self, slot: str | None = None) -> None:
        """Cancel the work in ``slot`` (all slots if None); its results will be dropped."""
        slots = list(self._running) if slot is None else [slot]
        stopped = [self._stop(s) for s in slots]
        if any(stopped) and not self._running:
            self.busy_changed.emit(False)

    def _stop(self, slot: str) -> bool:
        """Cancel the work in ``slot``; True if there was some."""
        running = self._running.pop(slot, None)
        if running is None:
            return False
        running.token.cancel()
        self.cancelled.emit(slot)
        return True

    def shutdown(self, timeout_ms: int = 10_000) -> bool:
        """Cancel everything and wait for the threads; True if they all stopped."""
        self.cancel()
        return self.pool.waitForDone(timeout_ms)

    def _current(self, slot: str, rid: int) -> bool:
        running = self._running.get(slot)
        return running is not None and running.rid == rid

    def _on_progress(self, slot: str, rid: int, p: Progress) -> None:
        if self._current(slot, rid):
            running = self._running[slot]
            if running.on_progress is not None:
                running.on_progress(p)
            self.progress.emit(slot, p)

    def _on_done(self, slot: str, rid: int, kind: str, payload: Any) -> None:
        if not self._current(slot, rid):
            return  # stale: the user asked for something else since
        running = self._running.pop(slot)
        if not self._running:
            self.busy_changed.emit(False)
        if kind == "finished":
            if running.on_done is not None:
                running.on_done(payload)
        elif kind in ("failed", "refused"):
            message, details = payload
            if kind == "refused":
                message = error_text(message)
            (running.on_error or self.report_error)(message, details)
        else:
            self.cancelled.emit(slot)
