"""Journey: a whole training run in the window, as a person looks at it.

File ▸ Open Run… answered through the folder dialog lists a real run's checkpoints (tests/runs.py: a tiny
net trained with Adam, one layer frozen, NaN poisoned in at a known checkpoint, one checkpoint saved twice)
and opens the run window; the findings name the frozen layer, the first NaN and the duplicate; clicking a
heatmap cell opens the comparison of that checkpoint with the one before, at that layer; Cancel during the
analysis leaves both windows usable and F5 analyses again; a folder without checkpoints says so. Driven
through menus, dialog buttons, keys and mouse clicks; the windows' state is read only to assert.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from ckptviewer.core import run as core_run
from ckptviewer.core.progress import Progress, check_current
from ckptviewer.gui.run_heatmap import NONFINITE, ZERO
from ckptviewer.gui.run_view import RunWindow
from tests.gui.journeys.conftest import (
    TIMEOUT,
    answer_file_dialog,
    press_button,
    press_keys,
    shoot,
    trigger,
    when_modal,
)
from tests.runs import FROZEN_KEYS, NAN_KEY, make_run

OPEN_RUN = "Open Run… (a folder of checkpoints)"
NAN_AT, DUPLICATE_AT = 4, 3


def open_run(qtbot, shell, folder) -> RunWindow:
    """File ▸ Open Run… with ``folder`` typed into the dialog; the run window that opens."""
    page = shell.current
    opened: list[RunWindow] = []
    page.run_opened.connect(opened.append)
    answer_file_dialog(qtbot, folder)
    trigger(shell, "File", OPEN_RUN)
    qtbot.waitUntil(lambda: bool(opened), timeout=TIMEOUT)
    window = opened[0]
    qtbot.addWidget(window)
    return window


def click_cell(window: RunWindow, row: int, col: int) -> None:
    """A left click on a heatmap cell, where it is drawn."""
    hm = window.heatmap
    hm.reveal(row)
    QApplication.processEvents()
    pos = hm.plot.mapFromScene(hm.scene_pos_of(row, col))
    QTest.mouseMove(hm.plot.viewport(), pos)
    QTest.mouseClick(hm.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


@pytest.mark.slow
def test_a_run_shows_its_findings_and_a_cell_opens_the_pair(qtbot, shell, tmp_path):
    folder = make_run(tmp_path, layout="plain", n=6, nan_at=NAN_AT, duplicate_at=DUPLICATE_AT)
    window = open_run(qtbot, shell, folder)
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    report = window.report
    assert window.table.rowCount() == 6
    assert [window.table.item(r, 0).text() for r in range(6)] == [f"model_ep{i}.pth" for i in range(6)]
    assert window.table.item(1, 3).text() == "10"  # the step stored in it

    # the findings: the frozen layer, the first NaN, the duplicate
    found = {(f.kind, f.key, f.checkpoint) for f in report.findings}
    assert any(kind in ("frozen", "dead") and key in FROZEN_KEYS for kind, key, _t in found), found
    assert ("first_nonfinite", NAN_KEY, NAN_AT) in found, found
    assert any(kind == "identical" and t == DUPLICATE_AT for kind, _key, t in found), found
    listed = [window.findings.item(i).text() for i in range(window.findings.count())]
    assert len(listed) == len(report.findings)
    nan_row = next(
        i for i, f in enumerate(window.findings.findings) if f.kind == "first_nonfinite" and f.key == NAN_KEY
    )
    assert window.findings.item(nan_row).toolTip()  # what it means, on hover

    # the heatmap: the frozen layer's updates are exactly 0, the NaN is shown as NaN
    keys = [layer.key for layer in report.layers]
    frozen_row, nan_layer = keys.index(FROZEN_KEYS[0]), keys.index(NAN_KEY)
    assert window.heatmap.kinds[frozen_row, 1] == ZERO
    assert window.heatmap.kinds[nan_layer, NAN_AT] == NONFINITE

    # choosing the NaN finding selects its cell and draws its layer
    window.findings.setCurrentRow(nan_row)
    assert window.selected_cell() == (nan_layer, NAN_AT)
    assert len(window.lines.lines) == 1

    # a click on a cell: the comparison of that checkpoint with the one before, at that layer
    click_cell(window, nan_layer, NAN_AT)
    qtbot.waitUntil(lambda: len(window.comparisons) == 1, timeout=TIMEOUT)
    diff = window.comparisons[0]
    qtbot.addWidget(diff)
    qtbot.waitUntil(lambda: diff.report is not None and diff.current_path() == NAN_KEY, timeout=TIMEOUT)
    assert (diff.a_path.name, diff.b_path.name) == (f"model_ep{NAN_AT - 1}.pth", f"model_ep{NAN_AT}.pth")
    diff.close()

    window.metric_combo.setCurrentIndex(window.metric_combo.findData("norm"))
    window.findings.setCurrentRow(nan_row)
    shoot(window, "run-view")
    press_keys(window, "Ctrl+W")
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=TIMEOUT)


@pytest.fixture
def gated_analysis(monkeypatch):
    """Core's analysis reports a first step, then waits (cancellably) until the returned gate is set."""
    gate = threading.Event()
    real = core_run.analyse_run

    def gated(checkpoints, *, progress=None, **kwargs):
        if progress is not None:
            progress(Progress(1, len(checkpoints) + 1, "Reading the first checkpoint"))
        while not gate.wait(0.02):
            check_current()  # Cancel reaches it here, as it reaches core's own loops
        return real(checkpoints, progress=progress, **kwargs)

    monkeypatch.setattr(core_run, "analyse_run", gated)
    return gate


@pytest.mark.slow
def test_cancel_during_analysis_leaves_the_windows_usable(qtbot, shell, tmp_path, gated_analysis):
    folder = make_run(tmp_path, layout="plain", n=3, nan_at=None, duplicate_at=None)
    window = open_run(qtbot, shell, folder)
    assert window.table.rowCount() == 3  # the checkpoints are listed before the analysis ends
    qtbot.waitUntil(lambda: window.cancel_button.isVisible() and window.progress.fraction > 0, timeout=TIMEOUT)
    press_button(window, "Cancel")
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=TIMEOUT)
    assert window.report is None and "cancelled" in window.message.text()
    assert not window.cancel_button.isVisible()

    # the main window still opens files, and F5 in the run window analyses again
    answer_file_dialog(qtbot, folder / "model_ep0.pth")
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    gated_analysis.set()
    press_keys(window, "F5")
    qtbot.waitUntil(lambda: window.report is not None, timeout=TIMEOUT)
    assert window.centre.currentWidget() is window.heatmap


def test_a_folder_without_checkpoints_says_so(qtbot, shell, tmp_path):
    empty = tmp_path / "notes"
    empty.mkdir()
    (empty / "README.txt").write_text("no checkpoints here")
    page = shell.current
    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    answer_file_dialog(qtbot, empty)
    trigger(shell, "File", OPEN_RUN)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=TIMEOUT)
    assert "checkpoint" in errors[0].text().lower() and "notes" in errors[0].text()
    press_button(errors[0], "OK")
    assert page.run_windows == []
    assert page.path is None and page.start_page.isVisible()  # nothing else changed


@pytest.mark.slow
def test_ckptviewer_run_screenshot(tmp_path):
    """`ckptviewer --run DIR --screenshot OUT.png`: the run window, analysed and drawn, saved; a folder
    without checkpoints ends on one line and status 1."""
    folder = make_run(tmp_path, layout="plain", n=3, nan_at=None, duplicate_at=None)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    cmd = [sys.executable, "-m", "ckptviewer.gui.app", "--run"]
    out = tmp_path / "run.png"
    r = subprocess.run([*cmd, str(folder), "--screenshot", str(out)], env=env, capture_output=True, text=True,
                       timeout=300)  # fmt: skip
    assert r.returncode == 0, r.stderr
    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 750
    empty = tmp_path / "empty"
    empty.mkdir()
    r = subprocess.run([*cmd, str(empty), "--screenshot", str(tmp_path / "x.png")], env=env, capture_output=True,
                       text=True, timeout=300)  # fmt: skip
    assert r.returncode == 1 and "checkpoint" in r.stderr and "Traceback" not in r.stderr
