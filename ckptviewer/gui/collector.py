"""Python's cyclic garbage collection, on the GUI thread only.

Left automatic, a collection runs in whichever thread happens to allocate when a threshold is
crossed: a worker, or the background import of torch. A Qt widget freed there is destroyed off
the GUI thread, which corrupts Qt (a later, unrelated call crashes). pyqtgraph's
``GarbageCollector`` does the same for the same reason: automatic collection is switched off
and a timer on the GUI thread collects whenever the thresholds would have triggered it.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


class GuiThreadCollector(QObject):
    """Disables automatic collection; collects on the GUI thread every ``interval_ms``."""

    def __init__(self, parent: QObject, interval_ms: int = 1000) -> None:
        super().__init__(parent)
        self.threshold = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        """Collect the generations whose thresholds were crossed, as automatic collection would."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self.threshold[generation]:
                gc.collect(generation)
                return
