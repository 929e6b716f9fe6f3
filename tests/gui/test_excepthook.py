"""Uncaught exceptions, in the UI thread or another thread, reach the window's one reporter."""

from __future__ import annotations

import sys
import threading

import pytest
from PySide6.QtCore import QTimer

from ckptviewer.gui.excepthook import install
from ckptviewer.gui.main_window import MainWindow

pytestmark = pytest.mark.qt_no_exception_capture  # the hook under test replaces pytest-qt's


def _reports(qtbot):
    got: list[tuple[str, str, bool]] = []
    uninstall = install(lambda m, d: got.append((m, d, threading.current_thread() is threading.main_thread())))
    return got, uninstall


def test_a_slot_that_raises_is_reported(qtbot):
    got, uninstall = _reports(qtbot)
    try:

        def bad_slot() -> None:
            raise ValueError("a bug in a slot")

        QTimer.singleShot(0, bad_slot)
        qtbot.waitUntil(lambda: bool(got), timeout=3000)
    finally:
        uninstall()
    message, details, on_main = got[0]
    assert message == "Unexpected error: ValueError: a bug in a slot"
    assert "bad_slot" in details and "Traceback" in details
    assert on_main


def test_a_thread_that_dies_is_reported_on_the_ui_thread(qtbot):
    got, uninstall = _reports(qtbot)
    try:

        def die() -> None:
            raise RuntimeError("a thread died")

        t = threading.Thread(target=die)
        t.start()
        t.join()
        qtbot.waitUntil(lambda: bool(got), timeout=3000)
    finally:
        uninstall()
    message, details, on_main = got[0]
    assert message == "Unexpected error: RuntimeError: a thread died"
    assert "die" in details
    assert on_main  # delivered through a queued signal, not in the dying thread


def test_uninstall_restores_the_previous_hooks(qtbot):
    before = sys.excepthook, threading.excepthook
    uninstall = install(lambda m, d: None)
    assert sys.excepthook is not before[0] and threading.excepthook is not before[1]
    uninstall()
    assert (sys.excepthook, threading.excepthook) == before


def test_the_window_shows_it_in_its_error_dialog(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    uninstall = install(window.report_error)
    try:
        t = threading.Thread(target=lambda: 1 / 0)
        t.start()
        t.join()
        qtbot.waitUntil(lambda: window.last_error is not None, timeout=3000)
    finally:
        uninstall()
    assert "ZeroDivisionError" in window.last_error.text()
    assert "ZeroDivisionError" in window.last_error.detailedText()
