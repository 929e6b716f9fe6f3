"""Exports from the open checkpoint: one tensor to .npy, every tensor's statistics to CSV."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QWidget

from ..app.document import Document
from . import engine
from .i18n import translate
from .text import elide, printable
from .workers import TaskRunner


class Exports:
    """Asks where (file dialogs), then writes in the window's worker; says where it saved."""

    def __init__(
        self, parent: QWidget, doc: Document, runner: TaskRunner, settings: QSettings, notify: Callable[[str], None]
    ) -> None:
        self.parent = parent
        self.doc = doc
        self.runner = runner
        self.settings = settings
        self.notify = notify  # a one-line status message

    def choose_npy(self, key: str) -> None:
        """Ask for a .npy file, then export tensor ``key`` to it."""
        default = str(Path(str(self.settings.value("last_folder", str(Path.home())))) / f"{key}.npy")
        path, _ = QFileDialog.getSaveFileName(
            self.parent, translate("Exports", "Export tensor"), default, translate("Exports", "NumPy array (*.npy)")
        )
        if path:
            self.export_npy(key, path)

    def export_npy(self, key: str, path: str | os.PathLike) -> None:
        """Tensor ``key`` of the working copy to ``path`` (.npy), in the worker."""
        ckpt = self.doc.ckpt
        if ckpt is None:
            return

        def work(progress, cancel):
            engine.load()  # torch, imported in the background after the tree was painted
            from ..core.export import export_npy

            return export_npy(ckpt, key, path, progress=progress, cancel=cancel)

        label = translate("Exports", "Exporting {key}").format(key=printable(key))
        self.runner.start("export", work, label, on_done=self._exported)

    def choose_stats_csv(self) -> None:
        """Ask for a CSV file (next to the checkpoint by default), then export the statistics."""
        if self.doc.ckpt is None:
            return
        default = str(self.doc.ckpt.path.with_suffix(".stats.csv"))
        path, _ = QFileDialog.getSaveFileName(
            self.parent, translate("Exports", "Export statistics"), default, translate("Exports", "CSV (*.csv)")
        )
        if path:
            self.export_stats_csv(path)

    def export_stats_csv(self, path: str | os.PathLike) -> None:
        """Statistics of every tensor to CSV (reuses the health scan's pass when done)."""
        ckpt, report = self.doc.ckpt, self.doc.scan_report
        if ckpt is None:
            return

        def work(progress, cancel):
            engine.load()
            from ..core.export import export_stats_csv
            from ..core.stats import checkpoint_stats

            stats = list(report.stats.values()) if report else checkpoint_stats(ckpt, progress=progress, cancel=cancel)
            return export_stats_csv(stats, path)

        self.runner.start("export", work, translate("Exports", "Exporting statistics"), on_done=self._exported)

    def _exported(self, path: Path) -> None:
        self.notify(translate("Exports", "Saved {path}").format(path=elide(path, 200)))
