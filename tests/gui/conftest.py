"""Fixtures for the desktop app: an offscreen window with its own settings file."""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QSettings

from ckptviewer.gui.collector import GuiThreadCollector
from ckptviewer.gui.main_window import MainWindow
from ckptviewer.gui.theme import configure_plots

OPEN_TIMEOUT = 60_000


@pytest.fixture(scope="package", autouse=True)  # the window tests only
def _collect_on_the_gui_thread(qapp):
    """As the app does (gui/collector.py): no automatic collection while window tests run, only
    collections on the GUI thread. Left automatic, a collection in a worker or the engine's import
    thread destroyed widgets off the GUI thread, and a later test segfaulted in
    QApplication.topLevelWidgets()."""
    was_enabled = gc.isenabled()
    collector = GuiThreadCollector(qapp)
    yield
    collector.timer.stop()
    gc.collect()
    if was_enabled:
        gc.enable()


@pytest.fixture
def window(qtbot, tmp_path):
    configure_plots()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = MainWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    yield w
    w.runner.shutdown(10_000)


def open_and_wait(qtbot, window: MainWindow, path, *, scan: bool = True) -> None:
    """Open ``path`` and wait for the first tensor's report (and the health scan)."""
    signals = [window.opened, window.report_shown] + ([window.scan_done] if scan else [])
    with qtbot.waitSignals(signals, timeout=OPEN_TIMEOUT, order="none"):
        window.open_file(path)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """Once a test has run (passed or failed), closing its windows asks nothing.

    pytest-qt closes the test's widgets before fixtures tear down; a failed test that
    left unsaved edits would otherwise wait forever on "Save changes?" that nobody answers.
    """
    try:
        return (yield)
    finally:
        from PySide6.QtWidgets import QApplication

        for widget in QApplication.topLevelWidgets():
            for page in [widget, *widget.findChildren(MainWindow)]:
                if isinstance(page, MainWindow):
                    page.editor.ask_before_discard = False
