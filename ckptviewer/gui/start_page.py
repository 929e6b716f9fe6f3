"""What a tab shows while it holds no checkpoint: the ways to open one, or the one opening.

Welcome: Open, Open Folder, the drop hint and the recent files as clickable entries.
Loading: the name of what is opening, a determinate progress bar and Cancel, shown the
moment an open starts (a sharded or DCP folder can take seconds before its tree exists).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath, PurePosixPath

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..core.progress import Progress
from ..core.remote import is_url
from .i18n import translate
from .progress import ProgressIndicator
from .text import elide, mnemonic_safe, plain_label, tooltip
from .workers import TaskRunner

MAX_SHOWN = 8  # recent entries on the page; File ▸ Open Recent has them all
SLOT = "open"  # the runner slot whose work this page follows


def _heading(text: str, size: int) -> QLabel:
    label = plain_label(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * size / 10)
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    return label


def _muted(label: QLabel) -> QLabel:
    # the palette's placeholder colour reads as secondary text in light and dark themes alike
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    return label


class StartPage(QStackedWidget):
    """Welcome or loading; see the module docstring."""

    def __init__(
        self,
        runner: TaskRunner,
        recent_paths: Callable[[], list[str]],
        open_file: Callable[[], None],
        open_folder: Callable[[], None],
        open_path: Callable[[str], None],
        open_url: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self.runner = runner
        self.recent_paths = recent_paths
        self.open_path = open_path
        self.welcome = self._build_welcome(open_file, open_folder, open_url)
        self.loading = self._build_loading()
        self.addWidget(self.welcome)
        self.addWidget(self.loading)
        runner.progress.connect(self._on_progress)
        # the status bar's Cancel or a replaced request: this page stops saying "Opening"
        runner.cancelled.connect(lambda slot: self.show_welcome() if slot == SLOT else None)
        self.setCurrentWidget(self.welcome)  # its recent entries are filled when first shown
        self.retranslate()

    def retranslate(self) -> None:
        """Every text this page writes, in the current language (again on LanguageChange)."""
        self.title.setText(translate("StartPage", "Open a checkpoint"))
        self.open_button.setText(translate("StartPage", "Open…"))
        self.open_button.setToolTip(translate("StartPage", "A .pth, .pt, .bin, .ckpt or .safetensors file (Ctrl+O)"))
        self.folder_button.setText(translate("StartPage", "Open Folder…"))
        self.folder_button.setToolTip(
            translate("StartPage", "A sharded Hugging Face, PEFT or torch.distributed folder (Ctrl+Shift+O)")
        )
        self.url_button.setText(translate("StartPage", "Open URL…"))
        self.url_button.setToolTip(
            translate("StartPage", "s3://, gs://, https:// or hf:// — read by range requests (Ctrl+Shift+U)")
        )
        self.drop_hint.setText(translate("StartPage", "…or drop a file or folder anywhere on this window."))
        self.recent_title.setText(translate("StartPage", "Recent"))
        self.no_recent.setText(translate("StartPage", "Files you open appear here."))
        self.opening_label.setText(translate("StartPage", "Opening"))
        self.cancel_button.setText(translate("StartPage", "Cancel"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- construction -----------------------------------------------------------------

    def _column(self) -> tuple[QWidget, QVBoxLayout]:
        """A centred column of readable width inside a page that scrolls when the window is small."""
        column = QWidget()
        column.setMaximumWidth(620)
        layout = QVBoxLayout(column)
        layout.setSpacing(10)
        page = QWidget()
        outer = QHBoxLayout(page)
        outer.addStretch(1)
        outer.addWidget(column, 6)
        outer.addStretch(1)
        return page, layout

    def _build_welcome(
        self, open_file: Callable[[], None], open_folder: Callable[[], None], open_url: Callable[[], None] | None
    ) -> QWidget:
        page, col = self._column()
        col.addStretch(1)
        self.title = _heading("", 16)
        col.addWidget(self.title)
        buttons = QHBoxLayout()
        self.open_button = QPushButton()
        self.open_button.clicked.connect(open_file)
        self.folder_button = QPushButton()
        self.folder_button.clicked.connect(open_folder)
        self.url_button = QPushButton()
        self.url_button.setVisible(open_url is not None)
        if open_url is not None:
            self.url_button.clicked.connect(open_url)
        for b in (self.open_button, self.folder_button, self.url_button):
            b.setMinimumHeight(32)
            buttons.addWidget(b)
        buttons.addStretch(1)
        col.addLayout(buttons)
        self.drop_hint = _muted(plain_label())
        self.drop_hint.setWordWrap(True)  # a translation may be longer
        col.addWidget(self.drop_hint)
        col.addSpacing(14)
        self.recent_title = _heading("", 11)
        col.addWidget(self.recent_title)
        self.recent_box = QWidget()
        self.recent_grid = QGridLayout(self.recent_box)
        self.recent_grid.setContentsMargins(0, 0, 0, 0)
        self.recent_grid.setHorizontalSpacing(12)
        self.recent_grid.setVerticalSpacing(2)
        self.recent_grid.setColumnStretch(1, 1)
        col.addWidget(self.recent_box)
        self.no_recent = _muted(plain_label())
        col.addWidget(self.no_recent)
        col.addStretch(2)
        scroll = QScrollArea()  # at 1024x640 a long recent list scrolls instead of being clipped
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(page)
        return scroll

    def _build_loading(self) -> QWidget:
        page, col = self._column()
        col.addStretch(1)
        self.opening_label = _muted(plain_label())
        col.addWidget(self.opening_label)
        self.loading_name = _heading("", 16)
        self.loading_name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        col.addWidget(self.loading_name)
        self.loading_folder = _muted(plain_label())
        col.addWidget(self.loading_folder)
        col.addSpacing(8)
        self.bar = ProgressIndicator()
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.bar.setMinimumHeight(26)
        col.addWidget(self.bar)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel_button = QPushButton()
        self.cancel_button.setMinimumHeight(30)
        self.cancel_button.clicked.connect(lambda: self.runner.cancel(SLOT))
        row.addWidget(self.cancel_button)
        col.addLayout(row)
        col.addStretch(2)
        return page

    # --- states -----------------------------------------------------------------------

    def show_loading(self, path: Path) -> None:
        """``path`` is opening: its name, progress at 0% and Cancel, at once."""
        self.loading_name.setText(elide(path.name, 80))
        self.loading_name.setToolTip(tooltip(path))
        self.loading_folder.setText(elide(path.parent, 100))
        self.bar.set_progress(0.0, translate("StartPage", "Starting"))
        self.setCurrentWidget(self.loading)

    def show_welcome(self) -> None:
        """The ways to open a checkpoint, with the recent files as they are now."""
        self._fill_recent()
        self.setCurrentWidget(self.welcome)

    @property
    def is_loading(self) -> bool:
        return self.currentWidget() is self.loading

    def _on_progress(self, slot: str, p: Progress) -> None:
        if slot == SLOT and self.is_loading:
            self.bar.set_progress(p.fraction, p.message)

    def _fill_recent(self) -> None:
        while self.recent_grid.count():
            item = self.recent_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        paths = self.recent_paths()[:MAX_SHOWN]
        for row, p in enumerate(paths):
            # a URL is shown by its last part and the rest, scheme included (no filesystem is set up here)
            path: PurePath
            if is_url(p):
                scheme, _, rest = p.partition("://")
                path = PurePosixPath(rest)
                where = f"{scheme}://{path.parent}"
            else:
                path = Path(p)
                where = str(path.parent)
            # the name is the file's text: no mnemonic, one line, cut; the full path in a tooltip
            button = QToolButton()
            button.setText(mnemonic_safe(elide(path.name, 60)))
            button.setAutoRaise(True)  # flat until hovered, in the theme's own text colour (light and dark)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            font = button.font()
            font.setUnderline(True)  # reads as a link
            button.setFont(font)
            button.setToolTip(tooltip(p))
            button.clicked.connect(lambda _=False, p=p: self.open_path(p))
            folder = _muted(plain_label(elide(where, 70)))
            folder.setToolTip(tooltip(p))
            self.recent_grid.addWidget(button, row, 0, Qt.AlignmentFlag.AlignLeft)
            self.recent_grid.addWidget(folder, row, 1)
            button.show()  # now, not on the layout's queued show: the entries are clickable at once
            folder.show()
        self.recent_title.setVisible(bool(paths))
        self.recent_box.setVisible(bool(paths))
        self.no_recent.setVisible(not paths)

    def showEvent(self, event) -> None:
        if not self.is_loading:
            self._fill_recent()  # another tab may have opened files since
        super().showEvent(event)
