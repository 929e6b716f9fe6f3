"""Journey 5: keyboard only — Tab through every control and out again, the filter by keys, the shortcut list."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from tests.gui.journeys.conftest import menu_action, press_keys, shoot, trigger, when_modal
from tests.gui.journeys.kit_inspect import focus_chain, open_through_menu, save, visible_keys


def _model(tmp_path):
    sd = {
        "stem.conv.weight": torch.randn(8, 3, 3, 3),
        "blocks.0.se.fc1.weight": torch.randn(4, 8),
        "blocks.0.se.fc1.bias": torch.randn(4),
        "blocks.0.proj.weight": torch.randn(8, 8),
        "blocks.0.proj.bias": torch.randn(8),
        "head.weight": torch.randn(10, 8),
        "head.bias": torch.randn(10),
    }
    return save(sd, tmp_path / "net.pth")


def test_tab_reaches_every_control_and_comes_back(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    panel = page.tensor_panel
    chain = focus_chain(page.filter)
    assert QApplication.focusWidget() is page.filter, "Tab never came back to the filter"
    for control in (page.tree, panel.stats, panel.histogram.log_y, panel.values.prev, panel.values.start,
                    panel.values.next, panel.values.table, page.device_combo):  # fmt: skip
        assert any(w is control or control.isAncestorOf(w) for w in chain), f"Tab never reaches {control}"
    assert chain.count(panel.stats) == 1  # Tab leaves the statistics table at once

    # Log Y and paging work from the keyboard once reached
    panel.histogram.log_y.setFocus()
    QTest.keyClick(panel.histogram.log_y, Qt.Key.Key_Space)
    assert panel.histogram.log_y.isChecked()
    shoot(shell, "keyboard-tab-order")


def test_filter_globs_regexes_no_matches_and_esc(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    trigger(shell, "View", "Filter")  # Ctrl+F's action
    qtbot.waitUntil(lambda: QApplication.focusWidget() is page.filter)
    # choose head.weight first, by keys in the tree
    page.tree.setFocus()
    target = "head.weight"
    for _ in range(40):
        if page.current_key() == target:
            break
        QTest.keyClick(page.tree, Qt.Key.Key_Down)
    assert page.current_key() == target

    page.filter.setFocus()
    QTest.keyClicks(page.filter, "se.*bias")  # a regex, as the CLI's patterns
    assert visible_keys(page) == {"blocks.0.se.fc1.bias"}
    assert not page.no_matches.isVisible()
    page.filter.selectAll()
    QTest.keyClicks(page.filter, "*.bias")  # a glob
    assert visible_keys(page) == {"blocks.0.se.fc1.bias", "blocks.0.proj.bias", "head.bias"}
    page.filter.selectAll()
    QTest.keyClicks(page.filter, "nothing*here")
    assert visible_keys(page) == set()
    assert page.no_matches.isVisible() and "No matches" in page.no_matches.text()
    shoot(shell, "keyboard-filter-no-matches")

    QTest.keyClick(page.filter, Qt.Key.Key_Escape)
    assert page.filter.text() == ""
    assert not page.no_matches.isVisible()
    assert page.current_key() == target  # the selection survived the filter
    assert len(visible_keys(page)) == 7


def test_help_lists_every_shortcut_of_every_action(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    shown = []
    when_modal(qtbot, lambda d: shown.append(d))
    assert menu_action(shell, "Help", "Keyboard shortcuts").isEnabled()
    page.activateWindow()
    press_keys(page.tree, "F1")
    qtbot.waitUntil(lambda: getattr(page, "shortcuts_dialog", None) is not None and page.shortcuts_dialog.isVisible())
    dialog = page.shortcuts_dialog
    rows = dict(dialog.rows())
    keys = set(rows.values())
    for seq in ("Ctrl+O", "Ctrl+W", "Ctrl+Q", "Ctrl+F", "F5", "Ctrl+Z", "F1", "Esc"):
        assert seq in keys, f"{seq} missing from {rows}"
    assert rows["File ▸ Open"] == "Ctrl+O"
    shoot(dialog, "keyboard-shortcuts")
    QTest.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())
