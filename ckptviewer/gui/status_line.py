"""The status bar: what is open, the totals, progress with Cancel, and this process's memory."""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton, QStatusBar

from ..core import Checkpoint
from ..formatting import human_bytes
from .i18n import on_language_change, translate
from .progress import ProgressIndicator
from .text import elide, plain_label, printable
from .workers import TaskRunner


def rss_bytes() -> int | None:
    """Resident memory of this process (Linux), or None where unknown."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def device_name(ckpt: Checkpoint) -> str:
    """The device statistics are computed on, as text (``ckpt.device`` would import torch)."""
    return ckpt.device_name


class StatusLine:
    """Fills a window's status bar and follows its runner (progress and Cancel while busy)."""

    ready_ms = 3000  # how long "Ready" stays once the compute engine is in

    def __init__(self, bar: QStatusBar, runner: TaskRunner) -> None:
        self.bar = bar
        self.runner = runner
        self.file_label = plain_label()  # names the file and where it was saved: file text
        self.totals_label = plain_label()
        self.memory_label = plain_label()
        self.engine_label = plain_label()  # while torch loads after the first paint: computing waits
        self.engine_label.hide()
        self.progress = ProgressIndicator()
        self.cancel_button = QPushButton(translate("StatusLine", "Cancel"))
        self.cancel_button.clicked.connect(lambda: runner.cancel())
        bar.addWidget(self.file_label)
        bar.addWidget(self.totals_label)
        for widget in (self.engine_label, self.progress, self.cancel_button, self.memory_label):
            bar.addPermanentWidget(widget)
        self.set_busy(False)
        runner.progress.connect(lambda _slot, p: self.progress.set_progress(p.fraction, runner.label()))
        self._ckpt: Checkpoint | None = None
        self._engine_ready: bool | None = None
        on_language_change(bar, self.retranslate)
        self.memory_timer = QTimer(bar)
        self.memory_timer.timeout.connect(self.update_memory)
        self.memory_timer.start(2000)
        self.update_memory()

    def retranslate(self) -> None:
        """Every text the status bar shows, in the current language."""
        self.cancel_button.setText(translate("StatusLine", "Cancel"))
        if self._ckpt is not None and self.file_label.text():
            self.show_checkpoint(self._ckpt)
        if self.engine_label.isVisibleTo(self.bar) and self._engine_ready is False:
            self.engine_label.setText(translate("StatusLine", "Loading the compute engine…"))
        self.update_memory()

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        """Format, where it was saved, the device computing on it, and its totals."""
        self._ckpt = ckpt
        # storage locations are the file's text
        saved = elide(", ".join(ckpt.saved_on) or translate("StatusLine", "unknown"), 80)
        self.file_label.setText(
            translate("StatusLine", "{format} · saved on {saved} · computing on {device}").format(
                format=printable(ckpt.format), saved=saved, device=device_name(ckpt)
            )
        )
        n_tensors, n_parameters = ckpt.n_tensors, ckpt.n_parameters  # lupdate reads a count only as a plain name
        tensors = translate("StatusLine", "%Ln tensor(s)", None, n_tensors)
        params = translate("StatusLine", "%Ln model parameter(s)", None, n_parameters)
        self.totals_label.setText(f"{tensors} · {params} · {human_bytes(ckpt.total_bytes)}")

    def show_engine(self, ready: bool) -> None:
        """Whether computing (statistics, scan, edits) is available yet: torch loads after the tree is shown."""
        self._engine_ready = ready
        if not ready:
            self.engine_label.setText(translate("StatusLine", "Loading the compute engine…"))
            self.engine_label.show()
        elif self.engine_label.isVisibleTo(self.bar):  # said it was loading: now say it is in, briefly
            self.engine_label.setText(translate("StatusLine", "Ready"))
            timer = QTimer(self.engine_label)  # dies with the label: a closed window is never called
            timer.setSingleShot(True)
            timer.timeout.connect(self.engine_label.hide)
            timer.start(self.ready_ms)

    def clear(self) -> None:
        """Nothing is open."""
        self._ckpt = None
        self.file_label.setText("")
        self.totals_label.setText("")

    def set_busy(self, busy: bool) -> None:
        """Progress and Cancel are shown exactly while a task runs."""
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.progress.set_progress(0.0, self.runner.label())

    def update_memory(self) -> None:
        """This process's resident memory (every two seconds)."""
        rss = rss_bytes()
        self.memory_label.setText(
            translate("StatusLine", "Memory {size}").format(size=human_bytes(rss)) if rss is not None else ""
        )

    def stop(self) -> None:
        """The window is closing."""
        self.memory_timer.stop()
