"""Shared steps of the inspector journeys: checkpoints written with torch, opened through File ▸ Open."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtWidgets import QApplication, QWidget

from tests.gui.journeys.conftest import TIMEOUT, answer_file_dialog, trigger


def open_through_menu(qtbot, shell, path: Path, *, scan: bool = True):
    """File ▸ Open, the path typed into the dialog; returns the tab once its first tensor (and scan) are shown.

    The file opens in the current tab when it is empty, else in a new tab: the tab is
    found by the file it shows.
    """
    answer_file_dialog(qtbot, path)
    trigger(shell, "File", "Open")
    target = Path(path).resolve()

    def page_of():
        return next((p for p in shell.pages() if p.path is not None and Path(p.path).resolve() == target), None)

    qtbot.waitUntil(lambda: page_of() is not None, timeout=TIMEOUT)
    page = page_of()
    if scan:
        qtbot.waitUntil(lambda: page.scan_report is not None, timeout=TIMEOUT)
    shell.activateWindow()  # keys and focus go to the active window, as on a desktop
    qtbot.waitUntil(shell.isActiveWindow)
    panel = page.tensor_panel
    qtbot.waitUntil(
        lambda: panel.stats.rowCount() > 0 or page.inspector.currentWidget() is page.module_panel, timeout=TIMEOUT
    )
    return page


def focus_chain(start: QWidget, limit: int = 80) -> list[QWidget]:
    """Widgets that get the focus as Tab is typed from ``start`` until it comes back (or ``limit`` presses)."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    start.window().activateWindow()
    start.setFocus()
    QApplication.processEvents()
    first = QApplication.focusWidget()
    assert first is not None, "no widget has the focus (is the window active?)"
    seen: list[QWidget] = [first]
    for _ in range(limit):
        QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        QApplication.processEvents()
        w = QApplication.focusWidget()
        if w is first:
            return seen
        seen.append(w)
    return seen


def save(obj, path: Path) -> Path:
    """``torch.save`` and return the path."""
    torch.save(obj, path)
    return path


def visible_keys(page) -> set[str]:
    """Tensor keys the filtered tree of ``page`` shows."""
    proxy, model = page.proxy, page.model
    keys, stack = set(), [proxy.index(r, 0) for r in range(proxy.rowCount())]
    while stack:
        index = stack.pop()
        node = model.node(proxy.mapToSource(index))
        if node.entry is not None:
            keys.add(node.path)
        stack.extend(proxy.index(r, 0, index) for r in range(proxy.rowCount(index)))
    return keys


def settle(rounds: int = 5) -> None:
    """Let layouts and repaints run (they happen in the event loop)."""
    for _ in range(rounds):
        QApplication.processEvents()


def select_by_keys(qtbot, page, key: str, limit: int = 400) -> None:
    """Arrow keys through the tree (expanding on the way) until ``key`` is current; then wait for its report."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    page.tree.setFocus()
    QTest.keyClick(page.tree, Qt.Key.Key_Home)
    for _ in range(limit):
        index = page.tree.currentIndex()
        node = page.model.node(page.proxy.mapToSource(index)) if index.isValid() else None
        if node is not None and node.path == key:
            break
        if node is not None and key.startswith(node.path + ".") and not page.tree.isExpanded(index):
            QTest.keyClick(page.tree, Qt.Key.Key_Right)
        QTest.keyClick(page.tree, Qt.Key.Key_Down)
    assert page.current_key() == key, f"could not reach {key!r} with the arrow keys"
    qtbot.waitUntil(lambda: page.tensor_panel.entry is not None and page.tensor_panel.entry.key == key
                    and page.tensor_panel.stats.rowCount() > 0, timeout=TIMEOUT)  # fmt: skip
