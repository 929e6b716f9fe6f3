"""The status bar: what is open, the totals, progress with Cancel, and this process's memory."""

from __future__ import annotations

import os

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QPushButton, QStatusBar

from ..core import Checkpoint
from ..formatting import human_bytes, plural
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
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(lambda: runner.cancel())
        bar.addWidget(self.file_label)
        bar.addWidget(self.totals_label)
        for widget in (self.engine_label, self.progress, self.cancel_button, self.memory_label):
            bar.addPermanentWidget(widget)
        self.set_busy(False)
        runner.progress.connect(lambda _slot, p: self.progress.set_progress(p.fraction, runner.label()))
        self.memory_timer = QTimer(bar)
        self.memory_timer.timeout.connect(self.update_memory)
        self.memory_timer.start(2000)
        self.update_memory()

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        """Format, where it was saved, the device computing on it, and its totals."""
        saved = elide(", ".join(ckpt.saved_on) or "unknown", 80)  # storage locations are the file's text
        self.file_label.setText(f"{printable(ckpt.format)} · saved on {saved} · computing on {device_name(ckpt)}")
        self.totals_label.setText(
            f"{plural(ckpt.n_tensors, 'tensor')} · {plural(ckpt.n_parameters, 'model parameter')} · "
            f"{human_bytes(ckpt.total_bytes)}"
        )

    def show_engine(self, ready: bool) -> None:
        """Whether computing (statistics, scan, edits) is available yet: torch loads after the tree is shown."""
        if not ready:
            self.engine_label.setText("Loading the compute engine…")
            self.engine_label.show()
        elif self.engine_label.isVisibleTo(self.bar):  # said it was loading: now say it is in, briefly
            self.engine_label.setText("Ready")
            timer = QTimer(self.engine_label)  # dies with the label: a closed window is never called
            timer.setSingleShot(True)
            timer.timeout.connect(self.engine_label.hide)
            timer.start(self.ready_ms)

    def clear(self) -> None:
        """Nothing is open."""
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
        self.memory_label.setText(f"Memory {human_bytes(rss)}" if rss is not None else "")

    def stop(self) -> None:
        """The window is closing."""
        self.memory_timer.stop()
