"""A status-bar progress indicator that never repaints synchronously.

QProgressBar.setValue() repaints at once, which flushes every pending paint of the
window (plots included) inside whatever slot called it: tens of milliseconds of frozen
UI at the worst moment. This widget only schedules an update().
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from .text import printable


class ProgressIndicator(QWidget):
    """A thin bar with a label: ``set_progress(0.42, "Scanning")``."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.fraction = 0.0
        self.text = ""
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def sizeHint(self) -> QSize:
        return QSize(230, self.fontMetrics().height() + 6)

    def set_progress(self, fraction: float, text: str = "") -> None:
        self.fraction = min(max(fraction, 0.0), 1.0)
        self.text = printable(text)  # labels quote keys and file names: one line
        self.update()

    def paintEvent(self, _event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 2.5, -0.5, -2.5)
        pal = self.palette()
        p.setPen(pal.color(QPalette.ColorRole.Mid))
        p.setBrush(pal.color(QPalette.ColorRole.Base))
        p.drawRoundedRect(r, 3, 3)
        filled = QRectF(r.left(), r.top(), r.width() * self.fraction, r.height())
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(66, 133, 244, 110))
        p.drawRoundedRect(filled, 3, 3)
        p.setPen(pal.color(QPalette.ColorRole.Text))
        label = f"{self.text}  {self.fraction:.0%}" if self.text else f"{self.fraction:.0%}"
        elided = self.fontMetrics().elidedText(label, Qt.TextElideMode.ElideMiddle, int(r.width()) - 8)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, elided)
        p.end()
