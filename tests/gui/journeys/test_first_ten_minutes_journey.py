"""Journey 9: what engineers reach for in the first ten minutes, each through the window."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from tests.gui.journeys.conftest import TIMEOUT, all_actions, press_button, shoot, trigger
from tests.gui.journeys.kit_inspect import open_through_menu, save, select_by_keys, settle, visible_keys


def _model(tmp_path):
    torch.manual_seed(0)
    bad = torch.randn(600)
    bad[450] = float("nan")
    sd = {
        "embed_tokens.weight": torch.randn(50, 16),
        "conv.weight": torch.randn(8, 3, 5, 7),
        "conv.bias": torch.randn(8),
        "fc.weight": torch.randn(10, 16),
        "fc.bias": bad,
        "small.weight": torch.randn(3, 4),
    }
    return save(sd, tmp_path / "net.pth")


def test_largest_tensors_view_and_show_only_flagged(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    trigger(shell, "View", "Largest tensors")
    assert page.tabs.currentWidget() is page.largest_panel
    keys = page.largest_panel.keys()
    assert keys[:2] == ["conv.weight", "embed_tokens.weight"] and len(keys) == 6
    shoot(shell, "ten-minutes-largest")
    # Enter on a row selects that tensor in the tree
    lst = page.largest_panel.list
    lst.setFocus()
    lst.setCurrentItem(lst.topLevelItem(0))
    QTest.keyClick(lst, Qt.Key.Key_Down)
    QTest.keyClick(lst.viewport(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.current_key() == "embed_tokens.weight")

    trigger(shell, "View", "Show only flagged")
    assert visible_keys(page) == {"fc.bias"}  # the one tensor with a NaN
    trigger(shell, "View", "Show only flagged")
    assert len(visible_keys(page)) == 6


def test_copy_key_and_copy_as_python(qtbot, shell, tmp_path):
    ckpt = {"state_dict": {"model.fc.weight": torch.randn(2, 2)}, "epoch": 1}
    page = open_through_menu(qtbot, shell, save(ckpt, tmp_path / "lit.ckpt"))
    select_by_keys(qtbot, page, "state_dict.model.fc.weight")
    index = page.tree.currentIndex()
    rect = page.tree.visualRect(index)

    def choose(text):
        # a right click as the platform delivers it: a context-menu event at the row
        viewport = page.tree.viewport()
        pos = rect.center()
        QApplication.sendEvent(
            viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, viewport.mapToGlobal(pos))
        )
        qtbot.waitUntil(
            lambda: any(m.isVisible() for m in page.findChildren(QMenu) if m.parent() is not page.menuBar())
        )
        menu = next(m for m in reversed(page.findChildren(QMenu)) if m.isVisible())
        action = next(a for a in menu.actions() if a.text() == text)
        QTest.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
        qtbot.waitUntil(lambda: not menu.isVisible())
        return QGuiApplication.clipboard().text()

    assert choose("Copy key") == "state_dict.model.fc.weight"
    assert choose('Copy as sd["…"]') == 'sd["state_dict"]["model.fc.weight"]'


def test_line_plot_dims_axis_titles_and_integer_ticks(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    hm = page.tensor_panel.heatmap
    select_by_keys(qtbot, page, "conv.bias")  # 1-D: a line
    assert hm.stack.currentWidget() is hm.line_plot and hm.title.text() == "Line"
    x, y = hm.line.getData()
    assert len(x) == 8 and np.allclose(y, page.ckpt.tensor("conv.bias").numpy())

    select_by_keys(qtbot, page, "embed_tokens.weight")
    item = hm.plot.getPlotItem()
    assert item.getAxis("left").labelText == "token" and item.getAxis("bottom").labelText == "feature"
    assert not hm.dims_bar.isVisible()
    select_by_keys(qtbot, page, "fc.weight")
    assert item.getAxis("left").labelText == "out feature" and item.getAxis("bottom").labelText == "in feature"

    select_by_keys(qtbot, page, "conv.weight")  # 8x3x5x7: out x in·kh·kw by default
    assert item.getAxis("left").labelText == "out channel" and item.getAxis("bottom").labelText == "in · kh·kw"
    assert hm.dims_bar.isVisible() and hm.image.image.shape == (8, 3 * 5 * 7)
    # columns: dim 3, by keys; rows: dim 2; the other dims at an index
    hm.cols_combo.setFocus()
    for _ in range(4):  # "flattened", dim 0, 1, 2, 3
        QTest.keyClick(hm.cols_combo, Qt.Key.Key_Down)
    assert hm.cols_combo.currentData() == 3
    hm.rows_combo.setFocus()
    QTest.keyClick(hm.rows_combo, Qt.Key.Key_Down)
    QTest.keyClick(hm.rows_combo, Qt.Key.Key_Down)
    assert hm.rows_combo.currentData() == 2
    assert sorted(hm.fixed) == [0, 1]
    box = hm.fixed[0]
    box.setFocus()
    QTest.keyClick(box, Qt.Key.Key_Up)  # dim 0 = 1
    qtbot.waitUntil(lambda: "dim 0 = 1" in hm.note.text(), timeout=TIMEOUT)
    assert hm.image.image.shape == (5, 7)
    expected = page.ckpt.tensor("conv.weight")[1, 0].numpy()
    assert np.allclose(hm.image.image, expected, atol=1e-6)
    assert item.getAxis("left").labelText == "dim 2" and item.getAxis("bottom").labelText == "dim 3"
    shoot(shell, "ten-minutes-heatmap-dims")

    # integer ticks: a 3x4 heatmap and the histogram's counts
    select_by_keys(qtbot, page, "small.weight")
    for axis in (item.getAxis("left"), item.getAxis("bottom"), page.tensor_panel.histogram.plot.getAxis("left")):
        lo, hi = axis.range
        ticks = [v for _spacing, values in axis.tickValues(lo, hi, 300) for v in values]
        assert ticks and all(float(v).is_integer() for v in ticks), ticks


def test_jump_to_the_first_nan(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _model(tmp_path))
    select_by_keys(qtbot, page, "fc.bias")
    values = page.tensor_panel.values
    assert values.first_bad.isVisible()
    assert values.table.item(0, 0).text() == "0"
    QTest.mouseClick(values.first_bad, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: values.table.item(0, 0).text() == "450", timeout=TIMEOUT)
    assert values.table.item(0, 1).text() == "nan"
    shoot(shell, "ten-minutes-first-nan")


def test_wrapper_prefix_banner_strips_in_one_click(qtbot, shell, tmp_path):
    sd = {"module.fc.weight": torch.randn(2, 2), "module.fc.bias": torch.randn(2)}
    page = open_through_menu(qtbot, shell, save(sd, tmp_path / "ddp.pth"))
    banner = page.prefix_banner
    assert banner.isVisible() and banner.button.text() == "Strip module."
    shoot(shell, "ten-minutes-strip-banner")
    QTest.mouseClick(banner.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.editor.dialog is not None and page.editor.dialog.isVisible())
    dialog = page.editor.dialog
    qtbot.waitUntil(lambda: dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled(), timeout=TIMEOUT)
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: set(page.ckpt.tensors) == {"fc.weight", "fc.bias"}, timeout=TIMEOUT)
    settle()
    assert not banner.isVisible()  # nothing left to strip
    undo = next(a for name, a in all_actions(shell).items() if name.startswith("Edit > Undo"))
    assert undo.isEnabled()
    undo.trigger()  # Edit > Undo Strip…: the prefix, and the offer, come back (and closing asks nothing)
    qtbot.waitUntil(lambda: "module.fc.weight" in page.ckpt.tensors and banner.isVisible(), timeout=TIMEOUT)
    assert not page.doc.modified
