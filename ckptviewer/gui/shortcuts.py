"""Help ▸ Keyboard shortcuts: every shortcut the window's actions carry, read from the actions.

The list is generated, never written by hand: a shortcut added to an action appears here,
a removed one disappears, so the help cannot drift from what the keys do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QMenu,
    QMenuBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from .i18n import translate


def _plain(text: str) -> str:
    # a CJK menu text carries its mnemonic in brackets, "文件(&F)": the whole "(&F)" goes
    text = re.sub(r"\(&[^&)]\)", "", text)
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _keys(action: QAction) -> str:
    return ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts() if not s.isEmpty())


def shortcut_rows(bars: Iterable[QMenuBar], extra: Iterable[QAction] = ()) -> list[tuple[str, str]]:
    """(where ▸ what, keys) for every action with a shortcut in the menu ``bars``, then ``extra``.

    Menus are walked in the order the user sees them; an action reached twice (a menu and
    a toolbar) is listed once.
    """
    rows: list[tuple[str, str]] = []
    seen: set[int] = set()

    def visit(actions: list[QAction], prefix: str) -> None:
        for action in actions:
            if action.isSeparator() or id(action) in seen:
                continue
            seen.add(id(action))
            name = prefix + _plain(action.text())
            menu = action.menu()
            if isinstance(menu, QMenu):
                visit(menu.actions(), name + " ▸ ")
            elif _keys(action):
                rows.append((name, _keys(action)))

    for bar in bars:
        visit(bar.actions(), "")
    for action in extra:
        if id(action) not in seen and _keys(action):
            seen.add(id(action))
            rows.append((_plain(action.text()), _keys(action)))
    return rows


class ShortcutsDialog(QDialog):
    """A two-column table of what each key does; Esc or Close dismisses it."""

    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("ShortcutsDialog", "Keyboard shortcuts"))
        self.table = QTableWidget(len(rows), 2)
        self.table.setHorizontalHeaderLabels(
            [translate("ShortcutsDialog", "Action"), translate("ShortcutsDialog", "Shortcut")]
        )
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        for r, (name, keys) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(name))  # item text is never markup
            self.table.setItem(r, 1, QTableWidgetItem(keys))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(520, 560)

    def rows(self) -> list[tuple[str, str]]:
        """What the table shows, for tests."""
        cells = [(self.table.item(r, 0), self.table.item(r, 1)) for r in range(self.table.rowCount())]
        return [(a.text(), b.text()) for a, b in cells if a is not None and b is not None]
