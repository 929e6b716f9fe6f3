"""Journey 4: tabs the usual way.

One window with one menu bar and toolbar, the document tab strip below them; File ▸ Open
fills the empty tab and opens later files in new tabs; Ctrl+W closes the current tab;
Ctrl+Q quits, asking once about every unsaved tab; a failed open shows its error and
leaves no dead tab; Save As retitles the tab. Driven only through menu actions found by
their text, typed shortcuts, tab clicks and dialog buttons.
"""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QLineEdit, QMessageBox, QToolBar

from tests.gui.journeys.conftest import (
    TIMEOUT,
    answer_file_dialog,
    menu_action,
    open_file,
    press_button,
    press_keys,
    shoot,
    strip_prefix,
    trigger,
    when_modal,
)


def ddp_checkpoint(path, seed: int) -> None:
    torch.manual_seed(seed)
    torch.save({"module.fc.weight": torch.randn(4, 3), "module.fc.bias": torch.randn(4)}, path)


def click_tab(shell, index: int) -> None:
    bar = shell.tabs.tabBar()
    QTest.mouseClick(bar, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, bar.tabRect(index).center())


class Answerer:
    """Answers every question box that shows with one button, and keeps their texts."""

    def __init__(self, qtbot, button: str) -> None:
        self.button = button
        self.asked: list[str] = []
        self._seen: list[QMessageBox] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._poll)
        self.timer.start()
        qtbot._journey_timers = getattr(qtbot, "_journey_timers", []) + [self]  # alive until the test ends

    def _poll(self) -> None:
        w = QApplication.activeModalWidget()
        if isinstance(w, QMessageBox) and w.isVisible() and w not in self._seen:
            self._seen.append(w)
            self.asked.append(w.text() + "\n" + w.informativeText())
            press_button(w, self.button)


def keys(qtbot, shell, sequence: str) -> None:
    """Type ``sequence`` into the current tab, its window in front as a person's window is.

    The offscreen platform leaves no window active after a modal dialog closes (a window
    manager gives the activation back); window shortcuts need an active window.
    """
    shell.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is shell, timeout=TIMEOUT)
    press_keys(shell.current.tree, sequence)


def y_in(shell, widget) -> int:
    return widget.mapTo(shell, QPoint(0, 0)).y()


@pytest.mark.slow
def test_one_menu_bar_tabs_close_and_quit_asking_once(qtbot, shell, tmp_path):
    a, b, c = tmp_path / "alpha.pth", tmp_path / "beta.pth", tmp_path / "gamma.pth"
    for i, p in enumerate((a, b, c)):
        ddp_checkpoint(p, i)

    open_file(qtbot, shell, a)
    assert shell.tabs.count() == 1  # the empty tab was reused
    first = shell.current
    open_file(qtbot, shell, b)
    assert shell.tabs.count() == 2 and shell.current is not first
    second = shell.current
    assert [shell.tabs.tabText(i) for i in range(2)] == ["alpha.pth", "beta.pth"]

    # one menu bar and one toolbar, at the top: the pages' own are hidden
    assert shell.menuBar().isVisible()
    assert all(not p.menuBar().isVisible() for p in shell.pages())
    toolbars = [t for t in shell.findChildren(QToolBar) if t.isVisible()]
    assert len(toolbars) == 1 and toolbars[0].parent() is shell
    assert y_in(shell, shell.menuBar()) < y_in(shell, toolbars[0]) < y_in(shell, shell.tabs.tabBar())
    assert y_in(shell, shell.tabs.tabBar()) < y_in(shell, second.tree)
    # the menus are the current tab's: its actions act on it, the other tab's are not reachable
    assert menu_action(shell, "File", "Open") is second.open_action
    click_tab(shell, 0)
    assert shell.current is first and menu_action(shell, "File", "Open") is first.open_action

    # an edit in each tab; Ctrl+W on a third, unedited tab closes it without a question
    strip_prefix(qtbot, shell)
    assert shell.tabs.tabText(0) == "alpha.pth •"
    click_tab(shell, 1)
    strip_prefix(qtbot, shell)
    assert first.doc.modified and second.doc.modified
    open_file(qtbot, shell, c)
    assert shell.tabs.count() == 3
    cancel = Answerer(qtbot, "Cancel")
    asked = cancel.asked
    keys(qtbot, shell, "Ctrl+W")
    qtbot.waitUntil(lambda: shell.tabs.count() == 2, timeout=TIMEOUT)
    assert asked == [] and shell.current in (first, second)
    shoot(shell, "tabs")

    # Ctrl+Q with two unsaved tabs: ONE question naming both; Cancel keeps everything
    keys(qtbot, shell, "Ctrl+Q")
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=TIMEOUT)
    assert "2 tabs" in asked[0] and "alpha.pth" in asked[0] and "beta.pth" in asked[0]
    assert shell.isVisible() and shell.tabs.count() == 2 and first.doc.modified

    # Ctrl+W on an unsaved tab asks about that tab; Cancel keeps it
    keys(qtbot, shell, "Ctrl+W")
    qtbot.waitUntil(lambda: len(asked) == 2, timeout=TIMEOUT)
    assert shell.tabs.count() == 2

    cancel.timer.stop()
    discard = Answerer(qtbot, "Discard and Quit")
    asked_quit = discard.asked
    keys(qtbot, shell, "Ctrl+Q")
    qtbot.waitUntil(lambda: not shell.isVisible(), timeout=TIMEOUT)
    QTest.qWait(100)  # a second question would show now
    discard.timer.stop()
    assert len(asked_quit) == 1 and len(asked) == 2


@pytest.mark.slow
def test_failed_open_leaves_no_dead_tab_and_new_tab_is_reused(qtbot, shell, tmp_path):
    good = tmp_path / "model.pth"
    ddp_checkpoint(good, 0)
    bad = tmp_path / "notes.pth"
    bad.write_text("these are notes, not a checkpoint")

    # from the empty window: the error is shown, the window stays the empty window
    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    answer_file_dialog(qtbot, bad)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=TIMEOUT)
    assert "notes.pth" in errors[0].text() and shell.tabs.count() == 1 and shell.current.path is None
    press_button(errors[0], "OK")

    open_file(qtbot, shell, good)
    page = shell.current
    # with a file shown, a failed open in a new tab: the error shows, the tab goes away
    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    answer_file_dialog(qtbot, bad)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: len(errors) == 1 and shell.tabs.count() == 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: any(isinstance(w, QMessageBox) and w.isVisible() for w in QApplication.topLevelWidgets())
                    or (page.last_error is not None and page.last_error.isVisible()), timeout=TIMEOUT)  # fmt: skip
    assert shell.current is page and page.path == good
    assert page.last_error is not None and "notes.pth" in page.last_error.text() and page.last_error.isVisible()
    press_button(page.last_error, "OK")

    # File ▸ New Tab, then File ▸ Open: the new, empty tab is used (no third tab)
    trigger(shell, "File", "New Tab")
    assert shell.tabs.count() == 2 and shell.current.path is None
    empty = shell.current
    other = tmp_path / "other.pth"
    ddp_checkpoint(other, 1)
    open_file(qtbot, shell, other)
    assert shell.tabs.count() == 2 and shell.current is empty


def test_save_as_retitles_the_tab(qtbot, shell, tmp_path):
    src, out = tmp_path / "ddp.pth", tmp_path / "clean.pth"
    ddp_checkpoint(src, 0)
    open_file(qtbot, shell, src)
    page = shell.current
    strip_prefix(qtbot, shell)
    assert shell.tabs.tabText(0) == "ddp.pth •"
    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Save As")
    qtbot.waitUntil(lambda: page.doc.output == out and not page.runner.is_running("save"), timeout=TIMEOUT)
    assert shell.tabs.tabText(0) == "clean.pth"
    assert shell.windowTitle().startswith("clean.pth")
    assert "ddp.pth" in shell.tabs.tabToolTip(0)  # where the working copy came from


@pytest.mark.slow
def test_quit_save_all_saves_every_tab_then_quits(qtbot, shell, tmp_path):
    a, b = tmp_path / "alpha.pth", tmp_path / "beta.pth"
    ddp_checkpoint(a, 0)
    ddp_checkpoint(b, 1)
    open_file(qtbot, shell, a)
    strip_prefix(qtbot, shell)
    open_file(qtbot, shell, b)
    strip_prefix(qtbot, shell)
    pages = shell.pages()
    out_a, out_b = tmp_path / "alpha.clean.pth", tmp_path / "beta.clean.pth"

    save_all = Answerer(qtbot, "Save All")
    # each unsaved tab without a file of its own asks where to save, over its own tab
    typed: list[str] = []

    def type_next(dialog) -> None:  # one file dialog after the other: alpha's, then beta's
        path = str((out_a, out_b)[len(typed)])
        typed.append(path)
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        edit.setText(path)
        QTest.keyClick(edit, Qt.Key.Key_Return)
        if len(typed) < 2:
            when_modal(qtbot, type_next, QFileDialog)

    when_modal(qtbot, type_next, QFileDialog)
    keys(qtbot, shell, "Ctrl+Q")
    qtbot.waitUntil(lambda: not shell.isVisible(), timeout=TIMEOUT)
    save_all.timer.stop()
    assert len(save_all.asked) == 1
    assert typed == [str(out_a), str(out_b)]
    assert out_a.exists() and out_b.exists() and not any(p.doc.modified for p in pages)
