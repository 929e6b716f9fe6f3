"""File ▸ Compare with ▸ …: the other open tabs, the original on disk, or a file; and the
comparison windows opened from one main window."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QMenu

from ..app.document import CLOSED, OPENED
from ..core.filemap import is_remote
from ..core.remote import as_path
from .i18n import on_language_change, translate
from .text import elide, mnemonic_safe, tooltip

FILE_FILTER = "PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)"  # English


def file_filter() -> str:
    """The Compare with file dialog's filter, in the current language."""
    return translate("Comparisons", "PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)")


class Comparisons:
    """The Compare with submenu of one main window, and the comparison windows it opened
    (closed with it)."""

    def __init__(self, parent: Any, report_error: Any) -> None:
        self.parent = parent  # the MainWindow: its document, device and tab shell are read when needed
        self.report_error = report_error
        self.windows: list = []  # DiffWindow; the module is imported when first used (start-up time)
        self.menu: QMenu | None = None
        self._watching = False

    # --- the submenu ----------------------------------------------------------------------

    def build_menu(self, parent_menu: QMenu) -> QMenu:
        """File ▸ Compare with ▸ [other tabs] / Original on disk / File…, filled when it opens.

        The fixed entries are made once so that File…'s shortcut (Ctrl+D) works while the
        menu is closed; the tab entries are rebuilt each time the menu opens.
        """
        menu = parent_menu.addMenu("")
        self.menu = menu
        self.tabs_end = menu.addSeparator()
        self.original_action = QAction(menu)
        self.original_action.triggered.connect(self.compare_working_copy)
        menu.addAction(self.original_action)
        menu.addSeparator()
        self.file_action = QAction(menu)
        self.file_action.setShortcut(QKeySequence("Ctrl+D"))
        self.file_action.triggered.connect(self.choose_file)
        menu.addAction(self.file_action)
        self.tab_actions: list[QAction] = []
        self.retranslate()
        on_language_change(menu, self.retranslate)
        menu.aboutToShow.connect(self.refresh_menu)
        self.parent.doc.changed.connect(lambda _what: self.refresh_menu())  # enabled exactly when it can act
        self.refresh_menu()
        return menu

    def retranslate(self) -> None:
        """The submenu's fixed entries in the current language."""
        assert self.menu is not None
        self.menu.setTitle(translate("Comparisons", "Compare &with"))
        self.original_action.setText(translate("Comparisons", "&Original on disk"))
        self.file_action.setText(translate("Comparisons", "&File…"))
        if self.tab_actions:
            self.refresh_menu()

    def refresh_menu(self) -> None:
        """The other open tabs as entries; Original on disk enabled only when there are edits."""
        assert self.menu is not None
        for action in self.tab_actions:
            self.menu.removeAction(action)
            action.deleteLater()
        self.tab_actions = []
        shell = getattr(self.parent, "shell", None)
        others = [p for p in (shell.other_paths(self.parent) if shell is not None else [])]
        for other in others:
            # a file name as a menu entry: "&" shown as itself; the full path on hover
            action = QAction(mnemonic_safe(elide(as_path(other).name, 60)), self.menu)
            action.setToolTip(tooltip(other))
            action.setStatusTip(str(other))
            action.triggered.connect(lambda _=False, o=other: self.compare_with(o))
            self.tab_actions.append(action)
        if not others:
            placeholder = QAction(translate("Comparisons", "No other open tabs"), self.menu)
            placeholder.setEnabled(False)  # says why no tab is offered; it cannot act
            self.tab_actions.append(placeholder)
        self.menu.insertActions(self.tabs_end, self.tab_actions)
        self.menu.setToolTipsVisible(True)
        doc = self.parent.doc
        self.original_action.setEnabled(doc.is_open and doc.n_edits > 0)
        self.original_action.setToolTip(
            translate("Comparisons", "The working copy (with its edits) against the file as opened")
            if doc.n_edits
            else translate("Comparisons", "Available after an edit: compares the working copy with the file as opened")
        )
        self.file_action.setEnabled(doc.is_open)

    # --- what each entry does -------------------------------------------------------------

    def compare_with(self, other: str | os.PathLike):
        """The open file (A) against ``other`` (B), both read from disk."""
        path = self.parent.path
        return self.open(path, other, self.parent.device) if path is not None else None

    def choose_file(self) -> None:
        """Ask for a file, then compare the open file with it."""
        path = self.parent.path
        if path is None:
            return
        start = str(Path.home()) if is_remote(path) else str(path.parent)
        other, _ = QFileDialog.getOpenFileName(
            self.parent, translate("Comparisons", "Compare with"), start, file_filter()
        )
        if other:
            self.compare_with(other)

    def compare_working_copy(self):
        """The file as opened (A) against the working copy with its edits (B): B − A is what the edits did."""
        doc = self.parent.doc
        if doc.ckpt is None or doc.path is None:
            return None
        if not self._watching:
            # the comparison borrows the document's checkpoints: when the document lets
            # them go (another file, closed), a window reading them must go too
            doc.changed.connect(self._document_changed)
            self._watching = True
        working = doc.ckpt
        window = self.open(
            working.opened, working, self.parent.device,
            a_name=translate("Comparisons", "{name} (on disk)").format(name=doc.path.name), b_name=doc.describe(),
        )  # fmt: skip
        window.borrowed = True
        return window

    def _document_changed(self, what: str) -> None:
        if what in (OPENED, CLOSED):
            for window in self.windows:
                if getattr(window, "borrowed", False):
                    window.close()

    def open(self, a: Any, b: Any, device: str, a_name: str | None = None, b_name: str | None = None):
        """A comparison window of ``a`` against ``b`` (paths or open checkpoints), brought to
        the front; its errors reach the main window's error path."""
        from .diff_view import DiffWindow

        window = DiffWindow(a, b, device=device, a_name=a_name, b_name=b_name)
        window.error_reported.connect(self.report_error)
        # closed comparison windows are dropped here (not deleted on close: no dangling pointers)
        self.windows = [w for w in self.windows if w.isVisible()] + [window]
        window.show()
        return window

    def close_all(self) -> None:
        """Close every comparison window (the main window is closing)."""
        for window in self.windows:
            window.close()
