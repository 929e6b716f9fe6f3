"""Light and dark themes: follow the system unless the user picked one (View ▸ Theme).

A theme is the application's, not one window's: applying it restyles the plots of every
tab and every comparison window (axes, tick labels, colour bars, legends) and checks the
same entry in every tab's View ▸ Theme menu.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from .i18n import on_language_change, translate

if TYPE_CHECKING:  # pyqtgraph (~1 s to import) loads with the first plot: configure_plots()
    import pyqtgraph as pg

THEMES = ("system", "light", "dark")
THEME_PROPERTY = "ckptviewer_theme"  # marks the View ▸ Theme actions of every window


def system_is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme and scheme() == Qt.ColorScheme.Dark)


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 30), QColor(45, 45, 45), QColor(225, 225, 225)
    for role, color in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text), (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(38, 38, 38)), (QPalette.ColorRole.Text, text),
        (QPalette.ColorRole.Button, window), (QPalette.ColorRole.ButtonText, text),
        (QPalette.ColorRole.Highlight, QColor(42, 130, 218)),
        (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
        (QPalette.ColorRole.Mid, QColor(80, 80, 80)), (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
    ):  # fmt: skip
        p.setColor(role, color)
    # setColor(role) sets every group: disabled text must be set again, or it looks enabled
    dimmed = QColor(120, 120, 120)
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, dimmed)
    return p


def theme_actions(menu: QMenu, pick: Callable[[str], None]) -> dict[str, QAction]:
    """View ▸ Theme as a radio group (exactly one checked) calling ``pick(name)``."""
    group = QActionGroup(menu)
    group.setExclusive(True)
    actions = {}
    for name in THEMES:
        action = QAction(group)
        action.setCheckable(True)
        action.setProperty(THEME_PROPERTY, name)
        action.triggered.connect(lambda _=False, n=name: pick(n))
        menu.addAction(action)
        actions[name] = action

    def retranslate() -> None:
        titles = {
            "system": translate("Theme", "System"),
            "light": translate("Theme", "Light"),
            "dark": translate("Theme", "Dark"),
        }
        for name, action in actions.items():
            action.setText(titles[name])

    retranslate()
    on_language_change(menu, retranslate)
    return actions


def colors(dark: bool) -> tuple[str, str]:
    """(background, foreground) of the plots."""
    return ("#1e1e1e", "#d0d0d0") if dark else ("#ffffff", "#333333")


_plot_colors = colors(False)  # the last theme's, for plots built after it was applied


def configure_plots() -> None:
    """Import pyqtgraph with ckptviewer's options and the current theme's colours (before the first plot)."""
    import pyqtgraph as pg

    background, foreground = _plot_colors
    pg.setConfigOptions(antialias=False, background=background, foreground=foreground, imageAxisOrder="row-major")


def style_plot(view: pg.GraphicsView, background: str, foreground: str) -> None:
    """Restyle one plot widget: background, and every axis (colour bars' included) and legend in it."""
    import pyqtgraph as pg  # there is a plot: it is imported

    view.setBackground(background)
    scene = view.scene()
    if scene is None:
        return
    for item in scene.items():
        if isinstance(item, pg.AxisItem):
            item.setPen(foreground)
            item.setTextPen(foreground)  # tick labels and the axis title
        elif isinstance(item, pg.LegendItem):
            item.setLabelTextColor(foreground)


def apply(theme: str, root: QWidget | None = None) -> bool:
    """Apply ``theme`` (system, light, dark) to the application and every plot in it; True if dark.

    ``root`` is restyled even when it is not shown (a window being built).
    """
    app = QApplication.instance()
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    if isinstance(app, QApplication):
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if dark else app.style().standardPalette())
    global _plot_colors
    background, foreground = _plot_colors = colors(dark)
    pg = sys.modules.get("pyqtgraph")  # no plot exists before pyqtgraph is imported: nothing to restyle
    if pg is not None:
        pg.setConfigOptions(background=background, foreground=foreground)
    roots = ([root] if root is not None else []) + (app.topLevelWidgets() if isinstance(app, QApplication) else [])
    seen: set[int] = set()
    for top in roots:
        views = (top.findChildren(pg.GraphicsView) + ([top] if isinstance(top, pg.GraphicsView) else [])) if pg else []
        for view in views:
            if id(view) not in seen:
                seen.add(id(view))
                style_plot(view, background, foreground)
        for action in top.findChildren(QAction):
            name = action.property(THEME_PROPERTY)
            if name:
                action.setChecked(name == theme)
    return dark
