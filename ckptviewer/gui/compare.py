"""File ▸ Compare with…: choose the other checkpoint and open a comparison window."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from .text import elide, plain_input_dialog

FILE_FILTER = "PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)"
BROWSE = "Another file…"


class Comparisons:
    """The comparison windows opened from one main window (closed with it)."""

    def __init__(self, parent: QWidget, report_error: Callable[[str, str], None]) -> None:
        self.parent = parent
        self.report_error = report_error
        self.windows: list = []  # DiffWindow; the module is imported when first used (start-up time)

    def choose(self, path: Path, others: list[str], device: str) -> None:
        """Compare ``path`` with one of ``others`` (the other open tabs) or a file chosen in a dialog."""
        if others:
            dialog = QInputDialog(self.parent)
            dialog.setWindowTitle("Compare with")
            dialog.setLabelText(f"Compare {elide(path.name)} with:")
            dialog.setComboBoxItems([*others, BROWSE])  # combo box items are plain text
            dialog.setComboBoxEditable(False)
            plain_input_dialog(dialog)
            if not dialog.exec():
                return
            if dialog.textValue() != BROWSE:
                self.open(path, dialog.textValue(), device)
                return
        other, _ = QFileDialog.getOpenFileName(self.parent, "Compare with", str(path.parent), FILE_FILTER)
        if other:
            self.open(path, other, device)

    def open(self, a: str | os.PathLike, b: str | os.PathLike, device: str):
        """A comparison window of ``a`` against ``b``; its errors reach the main window's error path."""
        from .diff_view import DiffWindow

        window = DiffWindow(a, b, device=device)
        window.error_reported.connect(self.report_error)
        # closed comparison windows are dropped here (not deleted on close: no dangling pointers)
        self.windows = [w for w in self.windows if w.isVisible()] + [window]
        window.show()
        return window

    def close_all(self) -> None:
        """Close every comparison window (the main window is closing)."""
        for window in self.windows:
            window.close()
