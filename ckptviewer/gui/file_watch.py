"""Noticing that the open file was rewritten (training saved a new checkpoint over it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from ..core.filemap import is_remote

SETTLE_MS = 1500  # training writes a file in bursts: wait until it settles


class FileWatch:
    """Calls ``changed`` once the watched file was rewritten and has been quiet for a moment."""

    def __init__(self, parent: QObject, changed: Callable[[], None]) -> None:
        self.path: Path | None = None
        self.changed = changed
        self.timer = QTimer(parent)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SETTLE_MS)
        self.timer.timeout.connect(self._settled)
        self.watcher = QFileSystemWatcher(parent)
        self.watcher.fileChanged.connect(lambda _path: self.timer.start())

    def watch(self, path: Path | None) -> None:
        """Watch ``path`` (a file; folders are not watched), or nothing."""
        if self.watcher.files():
            self.watcher.removePaths(self.watcher.files())
        self.path = path
        if path is not None and not is_remote(path) and path.is_file():  # a remote object cannot be watched
            self.watcher.addPath(str(path))

    def _settled(self) -> None:
        if self.path is not None:
            self.watch(self.path)  # an atomic rename replaces the inode: watch the new file
            self.changed()
