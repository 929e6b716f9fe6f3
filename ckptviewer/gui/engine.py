"""The heavy imports, after the window is up: pyqtgraph (the plots), then torch (the compute engine).

``import torch`` takes 1-3.5 s and pyqtgraph about 1 s; the layer tree needs neither. So the
window paints the tree first, then :func:`start` imports pyqtgraph on the UI thread (Qt objects
belong there) and torch in a background thread: the UI thread is free again after about a second,
and the first click on a tensor rarely waits. The window builds its plot panels once pyqtgraph is in
(:func:`on_plots_ready`). Work that computes calls :func:`load` first, in its worker thread: it
waits for torch (or imports it, when nothing started the import).

:func:`process_seconds` measures from the start of the process (interpreter start-up included):
the figure ``ckptviewer FILE --quit-after-first-paint`` prints.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import time
from collections.abc import Callable

from ..core.progress import check_current

# imported on the UI thread: pyqtgraph's import touches Qt (application hooks, colours, icons), and Qt
# objects made on another thread while the UI thread styles windows crashed the process (a segfault in
# the test suite); after the first paint, so the tree is on screen while it runs (~1 s)
PLOT_MODULES = ("numpy", "pyqtgraph")
# what computing needs; importing these is what "the engine is ready" means
ENGINE_MODULES = ("torch", "ckptviewer.core.stats", "ckptviewer.core.inspect", "ckptviewer.core.scan")
# a worker that needs the engine before the window started it (a window never shown, say)
# waits this long for the window's start before importing it itself
START_GRACE_S = 1.0
# after pyqtgraph, torch waits this long for the window to build its plot panels: torch's start-up
# holds the interpreter for ~0.5 s at a time, which would stall the building UI thread twice as long
PANELS_GRACE_S = 1.0

_T0 = time.perf_counter()  # the fallback origin where /proc is not available
_lock = threading.Lock()
_started = threading.Event()
_plots = threading.Event()
_panels_built = threading.Event()
_ready = threading.Event()
_thread: threading.Thread | None = None
_plot_listeners: list[Callable[[], None]] = []
_listeners: list[Callable[[], None]] = []
ready_at: float | None = None  # process_seconds() when the engine finished importing


def process_seconds() -> float:
    """Seconds since this process started: on Linux from /proc/self/stat and the boot clock."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        # field 22 (starttime, in clock ticks after boot); the fields after the ")" of the name start at 3
        ticks = int(stat.rsplit(b")", 1)[1].split()[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return time.perf_counter() - _T0


def is_ready() -> bool:
    """True once torch and the computing core modules are imported."""
    return _ready.is_set()


def is_started() -> bool:
    return _started.is_set()


def plots_ready() -> bool:
    """True once pyqtgraph is imported (building a plot no longer waits for it)."""
    return _plots.is_set()


def _when(event: threading.Event, listeners: list[Callable[[], None]], callback: Callable[[], None]) -> None:
    with _lock:
        if not event.is_set():
            listeners.append(callback)
            return
    callback()


def on_plots_ready(callback: Callable[[], None]) -> None:
    """Call ``callback()`` once pyqtgraph is in: now if it is, else from the importing thread."""
    _when(_plots, _plot_listeners, callback)


def on_ready(callback: Callable[[], None]) -> None:
    """Call ``callback()`` once the engine is in: now if it is, else from the importing thread."""
    _when(_ready, _listeners, callback)


def _stage(modules: tuple[str, ...], event: threading.Event, listeners: list[Callable[[], None]]) -> None:
    """Import ``modules``, then set ``event`` and call ``listeners`` (also after a failed import:
    whoever waits goes on, and meets the ImportError itself when it imports the module)."""
    global ready_at
    try:
        for name in modules:
            importlib.import_module(name)
    finally:
        with _lock:
            if event is _ready and ready_at is None:
                ready_at = process_seconds()
            event.set()
            called = list(listeners)
            listeners.clear()
        for callback in called:
            try:
                callback()
            except RuntimeError:  # a window closed meanwhile (its signal's C++ object is gone)
                pass


def panels_built() -> None:
    """The window built what needed pyqtgraph (UI thread): torch's import may go on now."""
    _panels_built.set()


def _import_engine() -> None:
    if _plots.is_set():
        _panels_built.wait(PANELS_GRACE_S)
    _stage(ENGINE_MODULES, _ready, _listeners)


def start() -> None:
    """Import pyqtgraph now when called on the UI thread (its listeners build the plot panels), then
    torch in a background thread (once; nothing if it is already in). torch's import makes no Qt object."""
    global _thread
    if threading.current_thread() is threading.main_thread() and not _plots.is_set():
        _stage(PLOT_MODULES, _plots, _plot_listeners)
    with _lock:
        if _started.is_set():
            return
        _started.set()
        _thread = threading.Thread(target=_import_engine, name="ckptviewer-engine", daemon=True)
        _thread.start()


def load() -> None:
    """Block until the engine is imported (from a worker thread: the UI thread never waits here).

    The wait ends early with ``Cancelled`` when the task is cancelled (another selection, a close).
    """
    if not _ready.is_set():
        if "torch" not in sys.modules:  # else nothing is saved by waiting for the window
            deadline = time.monotonic() + START_GRACE_S  # the window starts it right after it paints the tree
            while not _started.wait(0.05) and time.monotonic() < deadline:
                check_current()
        start()
        while not _ready.wait(0.05):
            check_current()
    for name in ENGINE_MODULES:  # already imported: a dictionary look-up each; else the real ImportError
        importlib.import_module(name)


def join(timeout: float | None = None) -> None:
    """Wait for the background import to end: the interpreter must not finalize under it."""
    thread = _thread
    if thread is not None:
        thread.join(timeout)
