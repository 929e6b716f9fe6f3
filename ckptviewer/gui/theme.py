"""Light and dark themes: follow the system unless the user picked one (View ▸ Theme)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

THEMES = ("system", "light", "dark")


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
    return p


def apply(theme: str, root: QWidget | None = None) -> bool:
    """Apply ``theme`` (system, light, dark) to the application and its plots; True if dark."""
    app = QApplication.instance()
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    if isinstance(app, QApplication):
        app.setStyle("Fusion")
        app.setPalette(dark_palette() if dark else app.style().standardPalette())
    background, foreground = ("#1e1e1e", "#d0d0d0") if dark else ("w", "#333")
    pg.setConfigOptions(background=background, foreground=foreground)
    if root is not None:
        for plot in root.findChildren(pg.PlotWidget):
            plot.setBackground(background)
            for name in ("left", "bottom", "right", "top"):
                axis = plot.getPlotItem().getAxis(name)
                axis.setPen(foreground)
                axis.setTextPen(foreground)
    return dark
