"""Several checkpoints in tabs: own edits and undo each, compare offers the other tabs,
closing a tab with unsaved edits asks first."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ckptviewer.gui.tabs import TabbedWindow
from tests.gui.conftest import OPEN_TIMEOUT
from tests.models import SmallNet


def answer(button: QMessageBox.StandardButton) -> None:
    """Click ``button`` in the question box that is about to open."""

    def click():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(50, click)

    QTimer.singleShot(50, click)


@pytest.mark.slow
def test_tabs_open_compare_and_close_with_unsaved_edits(qtbot, tmp_path):
    shell = TabbedWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(shell)
    shell.show()
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({f"module.{k}": v for k, v in SmallNet().state_dict().items()}, a)
    torch.save(SmallNet().state_dict(), b)
    first = shell.current
    with qtbot.waitSignal(first.scan_done, timeout=OPEN_TIMEOUT):
        first.open_file(a)
    second = shell.open_in_tab(b)  # the first tab has a file: a new tab
    qtbot.waitUntil(lambda: second.scan_report is not None and second.path == b, timeout=OPEN_TIMEOUT)
    assert shell.tabs.count() == 2 and shell.current is second
    assert shell.open_in_tab(a) is first and shell.tabs.count() == 2  # already open: switch to it
    assert [str(p) for p in shell.other_paths(first)] == [str(b)]  # what Compare with… offers

    dialog = first.editor.edit("strip")  # an edit in the first tab only
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=OPEN_TIMEOUT)
    with qtbot.waitSignal(first.scan_done, timeout=OPEN_TIMEOUT):
        dialog.accept()
    assert first.editor.modified and not second.editor.modified
    assert first.doc.undo_stack and not second.doc.undo_stack
    assert shell.tabs.tabText(shell.tabs.indexOf(first)).endswith("•")

    answer(QMessageBox.StandardButton.Cancel)
    assert not shell.close_tab(shell.tabs.indexOf(first))  # kept: the user cancelled
    assert shell.tabs.count() == 2
    answer(QMessageBox.StandardButton.Discard)
    assert shell.close_tab(shell.tabs.indexOf(first))
    assert shell.tabs.count() == 1 and shell.current is second
    assert shell.close_tab(0) and shell.tabs.count() == 1 and shell.current.path is None  # always one tab
