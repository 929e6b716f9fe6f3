"""Unexpected exceptions anywhere in the app reach the window's one error reporter.

A slot that raises in the UI thread, or a plain Python thread that dies, would otherwise
print a traceback to a terminal the user of a double-clicked app never sees (or, with
some PySide6 versions, abort). :func:`install` routes both to ``report(message,
details)`` on the UI thread; worker tasks already report through their TaskRunner.
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from types import TracebackType

from PySide6.QtCore import QObject, Qt, Signal

from .i18n import translate


class _Relay(QObject):
    """Carries a report from any thread to the UI thread (a queued signal)."""

    raised = Signal(str, str)


def describe(exc: BaseException, tb: TracebackType | None) -> tuple[str, str]:
    """(one-line message, full traceback) of an exception the app did not expect."""
    return (
        translate("Errors", "Unexpected error: {error}").format(error=f"{type(exc).__name__}: {exc}"),
        "".join(traceback.format_exception(type(exc), exc, tb)),
    )


def install(report: Callable[[str, str], None]) -> Callable[[], None]:
    """Route uncaught exceptions (UI thread and other threads) to ``report``; returns an uninstaller."""
    relay = _Relay()
    relay.raised.connect(report, Qt.ConnectionType.QueuedConnection)
    previous_sys, previous_thread = sys.excepthook, threading.excepthook

    def on_main(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            previous_sys(kind, exc, tb)
            return
        relay.raised.emit(*describe(exc, tb))

    def on_thread(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or isinstance(args.exc_value, SystemExit):
            return
        relay.raised.emit(*describe(args.exc_value, args.exc_traceback))

    sys.excepthook, threading.excepthook = on_main, on_thread

    def uninstall() -> None:
        sys.excepthook, threading.excepthook = previous_sys, previous_thread
        relay.deleteLater()

    return uninstall
