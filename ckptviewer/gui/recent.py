"""File ▸ Open Recent: the last files opened, remembered in QSettings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMenu

from ..core.filemap import is_remote
from ..core.remote import has_credentials, is_url
from .text import elide, mnemonic_safe
from .text import tooltip as plain_tooltip

MAX_RECENT = 10
KEY = "recent_files"


class RecentFiles:
    """The recent-files list and the menu that shows it (most recent first)."""

    def __init__(self, settings: QSettings, menu: QMenu, open_path: Callable[[str], None]) -> None:
        self.settings = settings
        self.menu = menu
        self.open_path = open_path
        self.refresh()

    def urls(self) -> list[str]:
        """The remembered remote URLs (none of them with credentials), most recent first."""
        return [p for p in self.paths() if is_url(p)]

    def paths(self) -> list[str]:
        """The remembered files, most recent first."""
        value = self.settings.value(KEY, [])
        if isinstance(value, str):  # QSettings gives a list of one as a str
            return [value]
        return [str(p) for p in value] if isinstance(value, list) else []

    def add(self, path: Path) -> None:
        """Put ``path`` first (once), keep the last :data:`MAX_RECENT`."""
        if is_remote(path):
            if has_credentials(path.url):  # type: ignore[attr-defined]
                return  # a URL with a password or a signature is never written to the settings
            first = path.url  # type: ignore[attr-defined]
        else:
            first = str(path.resolve())
        self.settings.setValue(KEY, [first, *(p for p in self.paths() if p != first)][:MAX_RECENT])
        self.refresh()

    def refresh(self) -> None:
        """Rebuild the menu (names are the file's: no mnemonics, cut, full path as a plain tooltip)."""
        self.menu.clear()
        for p in self.paths():
            action = self.menu.addAction(mnemonic_safe(elide(Path(p).name, 80)))
            action.triggered.connect(self._opener(p))
            action.setToolTip(plain_tooltip(p))
        self.menu.setEnabled(bool(self.paths()))

    def _opener(self, path: str) -> Callable[[], None]:
        def open_it() -> None:
            self.open_path(path)

        return open_it
