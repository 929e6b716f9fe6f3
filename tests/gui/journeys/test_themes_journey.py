"""Journey 7: themes — dark reaches every tab's plots and the colour-bar labels; View ▸ Theme is a radio group."""

from __future__ import annotations

import pyqtgraph as pg
import torch

from tests.gui.journeys.conftest import menu_action, shoot, trigger
from tests.gui.journeys.kit_inspect import open_through_menu, save, settle

DARK_BG, DARK_FG = "#1e1e1e", "#d0d0d0"


def _axes(widget):
    """Every axis in every plot under ``widget`` (colour bars' included)."""
    return [item for view in widget.findChildren(pg.GraphicsView) for item in view.scene().items()
            if isinstance(item, pg.AxisItem)]  # fmt: skip


def test_dark_reaches_every_tab_and_colour_bar(qtbot, shell, tmp_path):
    first = open_through_menu(qtbot, shell, save({"fc.weight": torch.randn(12, 20)}, tmp_path / "a.pth"))
    second = open_through_menu(qtbot, shell, save({"conv.weight": torch.randn(8, 3, 3, 3)}, tmp_path / "b.pth"))
    assert shell.tabs.count() == 2 and first is not second
    assert second.tensor_panel.heatmap.stack.currentWidget() is second.tensor_panel.heatmap.plot

    trigger(shell, "View", "Theme", "Dark")  # from the second (current) tab's menu
    settle()
    for page in (first, second):
        views = page.findChildren(pg.GraphicsView)
        assert views and all(v.backgroundBrush().color().name() == DARK_BG for v in views)
        axes = _axes(page)
        assert axes and all(a.textPen().color().name() == DARK_FG for a in axes)
        bar_axis = page.tensor_panel.heatmap.colorbar.axis
        assert bar_axis.textPen().color().name() == DARK_FG  # colour-bar labels readable on dark
        assert bar_axis.labelStyle["color"] == DARK_FG
    # the same entry is checked in every tab's menu, and only that one
    for page in (first, second):
        checked = [name for name, action in page.theme_actions.items() if action.isChecked()]
        assert checked == ["dark"]
    shoot(shell, "themes-dark")

    trigger(shell, "View", "Theme", "Light")
    settle()
    for page in (first, second):
        assert all(a.textPen().color().name() == "#333333" for a in _axes(page))
        assert [n for n, a in page.theme_actions.items() if a.isChecked()] == ["light"]


def test_theme_menu_is_a_radio_group(qtbot, shell, tmp_path):
    open_through_menu(qtbot, shell, save({"w": torch.randn(3, 3)}, tmp_path / "a.pth"))
    entries = [menu_action(shell, "View", "Theme", name) for name in ("System", "Light", "Dark")]
    assert all(a.isCheckable() for a in entries)
    group = entries[0].actionGroup()
    assert group is not None and group.isExclusive() and all(a.actionGroup() is group for a in entries)
    entries[2].trigger()
    assert [a.isChecked() for a in entries] == [False, False, True]
    entries[1].trigger()
    assert [a.isChecked() for a in entries] == [False, True, False]
    assert shell.settings.value("theme") == "light"


def test_dark_disabled_entries_look_disabled(qtbot, shell):
    """In dark, a disabled toolbar or menu entry (Reload with nothing open) is drawn dimmed."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    trigger(shell, "View", "Theme", "Dark")
    assert not menu_action(shell, "File", "Reload").isEnabled()
    palette = QApplication.palette()
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        on = palette.color(QPalette.ColorGroup.Active, role).lightness()
        off = palette.color(QPalette.ColorGroup.Disabled, role).lightness()
        assert off < on - 60, role
    trigger(shell, "View", "Theme", "Light")
