"""The Qt binding itself: a release that corrupts reference counts must not be installed.

PySide6 6.12.0 drops a reference to ``True`` on every ``Signal.emit``: after a few thousand
emits (progress updates, ``dataChanged`` for a scan with many findings) CPython aborts with
"bool_dealloc: deallocating True or False". The hostile corpus found it with a 40,000-tensor
file; pyproject.toml excludes that release.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QStringListModel, Signal


class _Emitter(QObject):
    text = Signal(str)
    nothing = Signal()


def test_signal_emission_keeps_reference_counts(qapp):
    emitter, model = _Emitter(), QStringListModel(["a", "b"])
    index = model.index(0, 0)
    before = sys.getrefcount(True)
    for _ in range(500):
        emitter.text.emit("x")
        emitter.nothing.emit()
        model.dataChanged.emit(index, index)
    assert sys.getrefcount(True) >= before - 10, "this Qt binding loses a reference on every emit (PySide6 6.12.0)"
