"""Journey 3: compare two checkpoints, as a person does it.

File ▸ Compare with ▸ another tab, a file, or the working copy against the original on
disk; swap A and B; Esc and Ctrl+W close the comparison; export it as CSV and JSON; type a
tolerance in scientific notation; the verdict and every row agree; mismatched keys show
"—"; the layer chart's labels never overlap; ``ckptviewer A B`` shows the comparison in
front. Driven only through menu actions by their text, dialog buttons and typed keys; the
windows' state is read only to assert.
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import sys
import threading

import pytest
import torch
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QFontMetricsF, QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QPushButton, QToolTip
from torch import nn

from ckptviewer.gui.diff_view import DASH, DiffWindow, tick_step
from tests.gui.journeys.conftest import (
    TIMEOUT,
    answer_file_dialog,
    menu_action,
    open_file,
    press_button,
    press_keys,
    shoot,
    trigger,
)


class Net(nn.Module):
    """conv, batch norm, a hidden layer, a classifier and a small extra head."""

    def __init__(self, head: int = 4) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.hidden = nn.Linear(8, 16)
        self.fc = nn.Linear(16, 10)
        self.head = nn.Linear(16, head)


def pair(tmp_path):
    """base.pth and tuned.pth: fc trained (a real change), hidden nudged by 1e-5 (within
    1e-3), head resized (a shape mismatch), everything else identical."""
    torch.manual_seed(0)
    base = Net()
    tuned = copy.deepcopy(base)
    with torch.no_grad():
        tuned.fc.weight += 0.5
        tuned.hidden.weight += 1e-5
    tuned.head = nn.Linear(16, 5)
    a, b = tmp_path / "base.pth", tmp_path / "tuned.pth"
    torch.save(base.state_dict(), a)
    torch.save(tuned.state_dict(), b)
    return a, b


def comparison(qtbot, page, act) -> DiffWindow:
    """What ``act()`` opens from ``page``: the comparison window, once its report is drawn."""
    before = list(page.comparisons.windows)
    act()
    qtbot.waitUntil(lambda: len([w for w in page.comparisons.windows if w not in before]) == 1, timeout=TIMEOUT)
    window = next(w for w in page.comparisons.windows if w not in before)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.report is not None and not window.runner.is_running("diff"), timeout=TIMEOUT)
    return window


def recomputed(qtbot, window: DiffWindow, act) -> None:
    """Run ``act()`` and wait for the comparison it starts to be drawn."""
    with qtbot.waitSignal(window.ready, timeout=TIMEOUT):
        act()


def leaf_rows(window: DiffWindow) -> dict[str, list[str]]:
    """Every tensor row of the comparison tree as shown: key -> its cells' text."""
    model = window.model
    out = {}
    for node in window.tree_root.walk():
        if node.diff is not None:
            index = model.index_of(node)
            out[node.path] = [model.index(index.row(), c, index.parent()).data() for c in range(model.columnCount())]
    return out


def type_tolerance(qtbot, window: DiffWindow, field, text: str) -> None:
    """Click into a tolerance field, select what is there, type ``text``; wait for the result."""
    QTest.mouseClick(field, Qt.MouseButton.LeftButton)
    QTest.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    recomputed(qtbot, window, lambda: QTest.keyClicks(field, text))


# --- the journeys ----------------------------------------------------------------------------


def test_compare_with_another_tab_swap_and_keys_that_close(qtbot, shell, tmp_path):
    a, b = pair(tmp_path)
    first = open_file(qtbot, shell, a)
    second = open_file(qtbot, shell, b)
    assert second is not first
    entries = [act.text() for act in menu_action(shell, "File", "Compare with").menu().actions() if act.text()]
    assert "base.pth" in entries and "Original on disk" in [e.replace("&", "") for e in entries]
    assert not menu_action(shell, "File", "Compare with", "Original on disk").isEnabled()  # no edits yet
    window = comparison(qtbot, second, lambda: trigger(shell, "File", "Compare with", "base.pth"))
    assert (window.a_path, window.b_path) == (b, a)  # this tab is A, the tab chosen is B
    assert "tuned.pth" in window.windowTitle().split("↔")[0]

    recomputed(qtbot, window, lambda: trigger(window, "View", "Swap A and B"))
    assert (window.a_path, window.b_path) == (a, b) and window.report.a == str(a)
    assert window.windowTitle().index("base.pth") < window.windowTitle().index("tuned.pth")
    recomputed(qtbot, window, lambda: press_button(window, "Swap A and B"))  # the toolbar button does the same
    assert (window.a_path, window.b_path) == (b, a) and window.report.b == str(a)

    window.activateWindow()
    window.tree.setFocus()
    press_keys(window.tree, "Esc")
    assert not window.isVisible()

    again = comparison(qtbot, second, lambda: trigger(shell, "File", "Compare with", "base.pth"))
    again.activateWindow()
    press_keys(again.tree, "Ctrl+W")
    assert not again.isVisible()
    assert shell.current is second and second.ckpt is not None  # Ctrl+W closed the comparison, not the tab


def test_compare_with_a_file_export_tolerance_and_mismatch(qtbot, shell, tmp_path):
    a, b = pair(tmp_path)
    page = open_file(qtbot, shell, a)
    assert menu_action(shell, "File", "Compare with", "No other open tabs").isEnabled() is False

    def choose_file():
        answer_file_dialog(qtbot, b)
        trigger(shell, "File", "Compare with", "File")

    window = comparison(qtbot, page, choose_file)
    window.resize(1280, 820)
    assert (window.a_path, window.b_path) == (a, b)
    rows = leaf_rows(window)
    # a mismatched pair was not measured: a dash in every metric column, never 0
    for key in ("head.weight", "head.bias"):
        assert rows[key][1] == "mismatched" and rows[key][2:] == [DASH] * 4, rows[key]
    assert rows["fc.weight"][1] == "changed" and rows["conv1.weight"][1] == "identical"
    chart = dict(zip(window.chart.paths, window.chart.values))
    assert chart["head"] is None and chart["conv1"] == 0.0 and chart["fc"] > 0  # the resized head: no bar, not 0
    assert rows["hidden.weight"][1] == "changed"  # exact: 1e-5 is a change
    assert "different" in window.summary.text()

    # 1e-3 typed as a person types it: kept as typed, compared with 0.001
    type_tolerance(qtbot, window, window.atol, "1e-3")
    assert window.atol.text() == "1e-3" and window.report.atol == pytest.approx(1e-3)
    rows = leaf_rows(window)
    assert rows["hidden.weight"][1] == "within tolerance" and rows["hidden.bias"][1] == "identical"
    assert rows["fc.weight"][1] == "changed" and rows["hidden.weight"][5] == "0.0%"  # outside tolerance
    for key, cells in rows.items():  # every row agrees with what the report measured
        r = window.tree_root.find(key).diff
        assert (cells[1] == "within tolerance") == r.within_tol, key
        assert (cells[1] == "changed") == (r.status == "changed" and not r.within_tol), key
    counts = window.report.verdict_counts
    n = len(window.report.rows)
    # the verdict counts the rows as they read: within tolerance apart from changed
    assert (
        f"different (atol 0.001, rtol 0): {n} tensors, {counts['identical']} identical, {counts['changed']} changed, "
        f"{counts['within_tol']} within tolerance, 2 mismatched" in window.summary.text()
    )
    assert window.model.headerData(5, Qt.Orientation.Horizontal) == "Outside tol."

    # exports: CSV and the `ckpt diff --json` document, each through its menu entry
    out_csv, out_json = tmp_path / "cmp.csv", tmp_path / "cmp.json"
    answer_file_dialog(qtbot, out_csv)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        trigger(window, "File", "Export as CSV")
    with out_csv.open(newline="") as f:
        table = list(csv.DictReader(f))
    by_key = {row["key"]: row for row in table}
    assert len(table) == len(window.report.rows) and set(by_key) == set(rows)
    assert by_key["head.weight"]["status"] == "mismatched" and by_key["head.weight"]["rel_l2"] == ""
    assert by_key["head.weight"]["a_shape"] == "4x16" and by_key["head.weight"]["b_shape"] == "5x16"
    assert by_key["hidden.weight"]["within_tol"] == "True" and float(by_key["fc.weight"]["max_abs"]) > 0.49

    answer_file_dialog(qtbot, out_json)
    with qtbot.waitSignal(window.exported, timeout=TIMEOUT):
        trigger(window, "File", "Export as JSON")
    doc = json.loads(out_json.read_text())
    assert set(doc) >= {"a", "b", "aligned_by", "only_a", "only_b", "mismatched", "identical", "changed", "counts",
                        "total_rel_change", "tolerance", "same"}  # fmt: skip
    assert doc["a"] == str(a) and doc["b"] == str(b) and doc["same"] is False
    assert doc["tolerance"] == {"atol": pytest.approx(1e-3), "rtol": 0.0}
    assert sorted(m["key"] for m in doc["mismatched"]) == ["head.bias", "head.weight"]
    changed = {c["key"]: c for c in doc["changed"]}
    assert changed["hidden.weight"]["within_tol"] is True and changed["fc.weight"]["within_tol"] is False
    assert not list(tmp_path.glob(".*.part"))  # written atomically: nothing left beside them

    # a tolerance that covers every change but the shapes: still different, and says why
    type_tolerance(qtbot, window, window.atol, "1")
    assert "different" in window.summary.text() and "2 mismatched" in window.summary.text()
    window.select("head.weight")
    metrics = {window.metrics.item(r, 0).text(): window.metrics.item(r, 1).text()
               for r in range(window.metrics.rowCount())}  # fmt: skip
    assert metrics["max |a−b|"] == DASH and metrics["status"] == "mismatched"
    type_tolerance(qtbot, window, window.atol, "1e-3")  # the end state: a change, one within tolerance
    window.select("fc.weight")
    qtbot.waitUntil(lambda: not window.runner.is_running("pair"), timeout=TIMEOUT)

    # hovering a bar names its layer (labels are thinned; the name is always one hover away)
    chart = window.chart
    centre = chart.getPlotItem().vb.mapViewToScene(QPointF(chart.paths.index("fc"), 0.1))
    where = QPointF(chart.mapFromScene(centre))
    viewport = chart.viewport()
    # the pointer moving over the bar (QTest.mouseMove does not reach a graphics view offscreen)
    move = QMouseEvent(QEvent.Type.MouseMove, where, QPointF(viewport.mapToGlobal(where.toPoint())),
                       Qt.MouseButton.NoButton, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(viewport, move)
    qtbot.waitUntil(lambda: "fc" in QToolTip.text() and "relative change" in QToolTip.text(), timeout=5_000)
    shoot(window, "compare")
    press_keys(window.tree, "Ctrl+W")


def test_working_copy_against_the_original_on_disk(qtbot, shell, tmp_path):
    torch.manual_seed(1)
    model = Net()
    sd = model.state_dict()
    wrapped = type(sd)((f"module.{k}", v) for k, v in sd.items())  # as DistributedDataParallel saves it
    path = tmp_path / "ddp.pth"
    torch.save(wrapped, path)
    page = open_file(qtbot, shell, path)
    assert not menu_action(shell, "File", "Compare with", "Original on disk").isEnabled()

    trigger(shell, "Edit", "Strip prefix")
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog), timeout=TIMEOUT)
    dialog = QApplication.activeModalWidget()
    apply = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Apply")
    qtbot.waitUntil(apply.isEnabled, timeout=TIMEOUT)  # the preview is ready
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.doc.n_edits == 1, timeout=TIMEOUT)
    assert next(iter(page.ckpt.tensors)).startswith("conv1.")  # the working copy lost its prefix

    action = menu_action(shell, "File", "Compare with", "Original on disk")
    assert action.isEnabled()
    window = comparison(qtbot, page, lambda: trigger(shell, "File", "Compare with", "Original on disk"))
    assert window.b is page.ckpt and window.a is page.ckpt.opened  # the edited copy against the file as opened
    assert "working copy of ddp.pth (1 edit)" in window.summary.text() and "ddp.pth (on disk)" in window.summary.text()
    assert "working copy" in window.windowTitle()
    n = len(sd)
    assert window.report.same and f"same (exact): {n} tensors, {n} identical" in window.summary.text()
    assert "module." in window.summary.text()
    assert window.report.counts["identical"] == len(sd)

    recomputed(qtbot, window, lambda: trigger(window, "View", "Swap A and B"))
    assert window.a is page.ckpt and "working copy" in window.windowTitle().split("↔")[0]

    undo = next(a for a in menu_action(shell, "Edit").menu().actions() if a.text().startswith("&Undo") or
                a.text().startswith("Undo"))  # fmt: skip
    undo.trigger()  # "Undo strip": named after the edit it undoes
    qtbot.waitUntil(lambda: page.doc.n_edits == 0, timeout=TIMEOUT)
    assert window.isVisible()  # an undo keeps the files open: the comparison stays
    window.tree.setFocus()
    press_keys(window.tree, "Esc")
    assert not window.isVisible()


def test_chart_labels_never_overlap(qtbot, shell, tmp_path):
    """200 layers at 1024 px: the labels drawn are thinned so that no two overlap."""
    a_sd = {f"blocks.{i}.linear.weight": torch.randn(2, 2) for i in range(200)}
    b_sd = {k: v + (0.1 if i % 7 == 0 else 0.0) for i, (k, v) in enumerate(a_sd.items())}
    a, b = tmp_path / "deep_a.pth", tmp_path / "deep_b.pth"
    torch.save(a_sd, a)
    torch.save(b_sd, b)
    page = open_file(qtbot, shell, a)

    def choose_file():
        answer_file_dialog(qtbot, b)
        trigger(shell, "File", "Compare with", "File")

    window = comparison(qtbot, page, choose_file)
    for width, height in ((1024, 640), (1920, 1080)):
        window.resize(width, height)
        qtbot.waitUntil(lambda w=width: abs(window.width() - w) < 2)
        for _ in range(3):
            QApplication.processEvents()
        chart = window.chart
        axis = chart.getAxis("bottom")
        (ticks,) = axis._tickLevels
        assert 2 <= len(ticks) < 200  # thinned, yet some are shown
        metrics = QFontMetricsF(chart.tick_font)
        vb = chart.getPlotItem().vb
        rects = []
        for x, label in ticks:
            centre = vb.mapViewToScene(QPointF(x, 0)).x()
            half = metrics.boundingRect(label).width() / 2
            rects.append((centre - half, centre + half))
        rects.sort()
        for (_, right), (left, _) in itertools.pairwise(rects):
            assert right < left, f"labels overlap at {width} px: {rects}"
    shoot(window, "compare-deep")
    window.close()


def test_tick_step_spaces_labels_by_the_widest():
    assert tick_step([], 10, 4) == 1
    assert tick_step([30, 30], 50, 4) == 1  # room for every label
    assert tick_step([30, 96], 10, 4) == 10  # (96 + 4) / 10
    assert tick_step([30], 0, 4) == 1


def test_command_line_a_b_shows_the_comparison_in_front(qtbot, tmp_path, monkeypatch):
    """`ckptviewer A B`: the main window opens A, and the comparison comes to the front."""
    from ckptviewer.gui import app as gui_app
    from ckptviewer.gui import single_instance, tabs

    a, b = pair(tmp_path)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    monkeypatch.setattr(tabs, "QSettings", lambda *_args: settings)  # not the user's settings
    monkeypatch.setattr(single_instance, "server_name", lambda: f"ckptviewer-test-{id(tmp_path)}")
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    monkeypatch.setattr(QApplication, "exec", staticmethod(lambda: 0))  # return instead of running the loop
    before = set(QApplication.topLevelWidgets())
    assert gui_app.main([str(a), str(b)]) == 0
    new = [w for w in QApplication.topLevelWidgets() if w not in before]
    shell = next(w for w in new if isinstance(w, tabs.TabbedWindow))
    window = next(w for w in new if isinstance(w, DiffWindow))
    qtbot.addWidget(shell)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    for _ in range(5):
        QApplication.processEvents()
    assert window.isVisible() and QApplication.activeWindow() is window
    assert (window.a_path, window.b_path) == (a, b)
    window.close()
    for page in shell.pages():
        page.runner.shutdown(10_000)
    shell.close()
