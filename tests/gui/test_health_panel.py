"""The Health tab and the tree's severity dots on calibration files: why on every finding,
one quiet note for a fresh model, dots only where something is wrong."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt

from ckptviewer.core.scan import KINDS
from ckptviewer.gui.side_panels import CHECKPOINT
from tests import calibration as cal
from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait

DECORATION, TOOLTIP = Qt.ItemDataRole.DecorationRole, Qt.ItemDataRole.ToolTipRole


def _rows(panel) -> list[tuple[str, str, str]]:
    items = [panel.list.topLevelItem(i) for i in range(panel.list.topLevelItemCount())]
    return [(it.text(0), it.text(1), it.toolTip(2)) for it in items]


def _dotted(window) -> set[str]:
    """Paths of every tree node drawn with a severity dot."""
    model, out = window.model, set()
    stack = list(model._root.children)
    while stack:
        node = stack.pop()
        stack += node.children
        if model.data(model.index_of(node, 0), DECORATION) is not None:
            out.add(node.path)
    return out


def _shoot(window, name: str) -> None:
    """What the tab looks like at 1024x640 (CKPT_SHOTS=dir keeps the picture)."""
    folder = os.environ.get("CKPT_SHOTS")
    if folder:
        window.resize(1024, 640)
        window.tabs.setCurrentWidget(window.health_panel)
        window.grab().save(os.path.join(folder, name))


def test_a_fresh_lightning_model_is_one_note_on_the_model_root(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, cal.lightning(tmp_path, trained=False))
    panel = window.health_panel
    ((where, kind, tip),) = _rows(panel)
    assert (where, kind) == ("state_dict", "untrained")
    assert f"Why it matters: {KINDS['untrained'].why}" in tip
    message = window.scan_report.findings[0].message
    assert panel.why.text() == f"{message}\nWhy it matters: {KINDS['untrained'].why}"
    assert panel.summary.text().endswith("scanned: 0 errors, 0 warnings, 1 note.")
    assert _dotted(window) == {"state_dict"}  # one quiet dot, no trail up or down the tree
    assert "why: " + KINDS["untrained"].why in window.model.data(window.model.index_for_path("state_dict"), TOOLTIP)
    _shoot(window, "health_fresh.png")


def test_a_fresh_plain_state_dict_notes_the_checkpoint_and_dots_nothing(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, cal.cnn_bn(tmp_path, trained=False))
    ((where, kind, _tip),) = _rows(window.health_panel)
    assert (where, kind) == (CHECKPOINT, "untrained")
    assert _dotted(window) == set()


def test_dead_filters_are_marked_up_the_tree_and_explained(qtbot, window, tmp_path):
    path, key = cal.broken_dead_filters(tmp_path)
    open_and_wait(qtbot, window, path)
    panel = window.health_panel
    ((where, kind, tip),) = _rows(panel)
    assert (where, kind) == (key, "dead rows")
    assert KINDS["dead_rows"].why in tip and KINDS["dead_rows"].why in panel.why.text()
    assert _dotted(window) == {"conv2", key}
    tree_tip = window.model.data(window.model.index_for_path(key), TOOLTIP)
    assert "warning: 3 of 16 output channels are all zero" in tree_tip and KINDS["dead_rows"].why in tree_tip
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):
        panel.list.itemActivated.emit(panel.list.topLevelItem(0), 0)
    assert window.current_key() == key
    _shoot(window, "health_dead.png")
