"""The application window: one document per tab.

Each tab is a :class:`MainWindow` (its own file, working copy, undo stack, workers,
menus and status bar) embedded as a widget. The shell only manages tabs: opening a file
while one is already shown opens a new tab, closing a tab asks first if its edits are not
saved, and "Compare with…" offers the other open tabs.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMainWindow, QTabWidget

from .main_window import MainWindow
from .text import elide, mnemonic_safe, tooltip, window_title


class TabbedWindow(QMainWindow):
    """Tabs of checkpoints, side by side."""

    def __init__(self, settings: QSettings | None = None, device: str = "auto") -> None:
        super().__init__()
        self.settings = settings or QSettings("ckptviewer", "ckptviewer")
        self.device = device
        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(lambda _i: self._retitle())
        self.setCentralWidget(self.tabs)
        self.setWindowTitle("ckptviewer")
        self.resize(1280, 820)
        geometry = self.settings.value("shell/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.new_tab()

    def pages(self) -> list[MainWindow]:
        return [self.tabs.widget(i) for i in range(self.tabs.count())]  # type: ignore[misc]

    @property
    def current(self) -> MainWindow:
        return self.tabs.currentWidget()  # type: ignore[return-value]

    def new_tab(self, path: str | os.PathLike | None = None) -> MainWindow:
        """A new, empty tab (opening ``path`` in it if given), made current."""
        page = MainWindow(settings=self.settings, device=self.device, shell=self)
        page.setWindowFlags(Qt.WindowType.Widget)
        page.windowTitleChanged.connect(lambda _t, p=page: self._retitle(p))
        page.editor.changed.connect(lambda p=page: self._retitle(p))
        self.tabs.setCurrentIndex(self.tabs.addTab(page, "New tab"))
        if path is not None:
            page.open_file(path)
        return page

    def open_in_tab(self, path: str | os.PathLike) -> MainWindow:
        """Show ``path``: its tab if already open, the empty current tab, or a new one."""
        target = Path(path).resolve()
        for page in self.pages():
            if page.path is not None and page.path.resolve() == target:
                self.tabs.setCurrentWidget(page)
                return page
        if self.current is not None and self.current.path is None:
            self.current.open_file(path)
            return self.current
        return self.new_tab(path)

    def other_paths(self, page: MainWindow) -> list[Path]:
        """Files open in the other tabs (what "Compare with…" offers first)."""
        return [p.path for p in self.pages() if p is not page and p.path is not None]

    def close_tab(self, index: int) -> bool:
        """Close one tab; False if its unsaved edits made the user keep it."""
        page = self.tabs.widget(index)
        if page is None or not page.close():
            return False
        self.tabs.removeTab(index)
        page.deleteLater()
        if self.tabs.count() == 0:
            self.new_tab()
        return True

    def _retitle(self, page: MainWindow | None = None) -> None:
        for p in [page] if page is not None else self.pages():
            i = self.tabs.indexOf(p)
            if i >= 0:
                # a file name: one line, short, and "&" is not a mnemonic
                name = mnemonic_safe(elide(p.path.name, 60)) if p.path is not None else "New tab"
                self.tabs.setTabText(i, name + (" •" if p.editor.modified else ""))
                self.tabs.setTabToolTip(i, tooltip(p.path) if p.path is not None else "")
        current = self.current
        title = window_title(elide(current.path.name)) if current is not None and current.path is not None else None
        self.setWindowTitle(f"{title} — ckptviewer" if title else "ckptviewer")

    def closeEvent(self, event) -> None:
        for index in reversed(range(self.tabs.count())):
            page = self.tabs.widget(index)
            if page is not None and not page.close():
                event.ignore()  # the user kept a tab with unsaved edits
                return
        self.settings.setValue("shell/geometry", self.saveGeometry())
        super().closeEvent(event)
