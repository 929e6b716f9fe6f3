"""Showing text that came from a file: never as markup, never as a mnemonic, one line where
one line is expected.

Keys, global names, metadata, warnings, error messages and file names are all chosen by
whoever wrote the file. Qt renders a QLabel, message box or tooltip as rich text whenever
its text merely looks like HTML (``Qt.AutoText``), and turns ``&`` into a mnemonic in
menus, tabs and buttons. Every file-derived string goes through one of these helpers:

- :func:`plain_label` / :func:`set_plain`: a QLabel that shows its text literally;
- :func:`esc`: for the few rich labels that mix our markup with file text;
- :func:`tooltip`: a tooltip that shows its text literally (newlines kept);
- :func:`message_box` / :func:`plain_message_box`: message boxes whose text and informative
  text are plain;
- :func:`mnemonic_safe`: ``&`` -> ``&&`` for action, menu, tab and button texts;
- :func:`printable`, :func:`elide`, :func:`window_title`: control characters (newlines,
  escape codes, bidi overrides) made visible, so a name cannot fake a second line or
  reorder what is shown around it.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QInputDialog, QLabel, QMessageBox, QSizePolicy, QWidget

from ..formatting import elide_middle, printable


def elide(s: object, limit: int = 120) -> str:
    """:func:`printable`, cut to ``limit`` characters with an ellipsis in the middle."""
    return elide_middle(printable(s), limit)


def esc(s: object) -> str:
    """HTML-escaped :func:`printable` text, for a file-derived part of a rich-text label."""
    return html.escape(printable(s), quote=True)


def mnemonic_safe(s: object) -> str:
    """Text for a QAction, QMenu, tab or button: ``&`` shown as itself, not as a shortcut."""
    return str(s).replace("&", "&&")


def window_title(s: object) -> str:
    """A file-derived part of a window title: one line, and ``[*]`` shown literally."""
    return printable(s).replace("[*]", "[*][*]")


def tooltip(s: object) -> str:
    """A tooltip that always shows ``s`` literally (newlines kept; empty stays empty)."""
    s = str(s)
    if not s:
        return ""
    return "<p style='white-space:pre-wrap'>" + html.escape(s, quote=False) + "</p>"


def set_plain(label: QLabel, text: str = "") -> QLabel:
    """Make ``label`` show its text literally, whatever it looks like."""
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setText(text)
    return label


def plain_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """A QLabel that never interprets its text as markup."""
    label = QLabel(parent)
    return set_plain(label, text)


class ElidedLabel(QLabel):
    """A one-line plain label that cuts its text in the middle to the width it is given.

    ``text()`` stays the whole text and the tooltip shows it: a 150-character key is read in
    full on hover, yet never widens the window (its width policy is Ignored, so layouts
    give it what is left rather than what it asks for).
    """

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def setText(self, text: str) -> None:  # type: ignore[override]
        """Show ``text`` (file text allowed: it is never markup), cut to fit, whole in the tooltip."""
        super().setText(text)
        self.setToolTip(tooltip(text))

    def shown_text(self) -> str:
        """What is drawn at the current width (the text, or its middle-elided form)."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self.contentsRect().width())

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        self.style().drawItemText(painter, self.contentsRect(), int(self.alignment()), self.palette(),
                                  self.isEnabled(), self.shown_text(), self.foregroundRole())  # fmt: skip


def plain_message_box(box: QMessageBox) -> QMessageBox:
    """Plain text for a message box's text and informative text (call after setting them).

    ``QMessageBox.setTextFormat`` covers only the main text; the informative text lives in
    a child label that keeps ``Qt.AutoText``. Detailed text is already plain (a text edit).
    """
    box.setTextFormat(Qt.TextFormat.PlainText)
    for label in box.findChildren(QLabel):
        if label.objectName() in ("qt_msgbox_label", "qt_msgbox_informativelabel"):
            label.setTextFormat(Qt.TextFormat.PlainText)
    return box


def message_box(
    parent: QWidget | None,
    icon: QMessageBox.Icon,
    title: str,
    text: str,
    informative: str = "",
    buttons: QMessageBox.StandardButton = QMessageBox.StandardButton.Ok,
    default: QMessageBox.StandardButton | None = None,
    details: str = "",
) -> QMessageBox:
    """A QMessageBox (not shown yet) whose every text is shown literally."""
    box = QMessageBox(parent)
    box.setIcon(icon)
    box.setWindowTitle(title)
    box.setText(text)
    if informative:
        box.setInformativeText(informative)
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(buttons)
    if default is not None:
        box.setDefaultButton(default)
    return plain_message_box(box)


def plain_input_dialog(dialog: QInputDialog) -> QInputDialog:
    """Plain text for a QInputDialog's question label (call after setLabelText)."""
    for label in dialog.findChildren(QLabel):
        label.setTextFormat(Qt.TextFormat.PlainText)
    return dialog
