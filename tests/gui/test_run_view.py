"""The run view's widgets over a RunReport: the checkpoints table, the heatmap's cells and axes, the
findings list, the layer selection and the line plots. The journey (tests/gui/journeys/test_run_journey.py)
drives the same window over real training runs."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ckptviewer.core.run import LayerSeries, RunCheckpoint, RunFinding, RunReport
from ckptviewer.gui.run_heatmap import NO_VALUE, NONFINITE, VALUE, ZERO, cell_grid, thin
from ckptviewer.gui.run_view import RunWindow, checkpoint_row, log_ticks, metric_names
from ckptviewer.gui.tensor_panel import NAN_COLOR
from ckptviewer.gui.theme import configure_plots

N_CKPT = 4


def ckpt(i: int, **kw) -> RunCheckpoint:
    base = dict(
        path=f"/runs/a/model_ep{i}.pth",
        name=f"model_ep{i}.pth",
        format="torch-zip",
        size=2048 * (i + 1),
        step=100 * (i + 1),
        epoch=i,
        order_from="metadata",
        lr=1e-3 / (i + 1),
        metrics={"loss": 2.0 - i / 4},
    )
    base.update(kw)
    return RunCheckpoint(**base)  # type: ignore[arg-type]


def layer(key: str, rel: list, nonfinite: list | None = None, norm: list | None = None) -> LayerSeries:
    return LayerSeries(key=key, shape=(4, 4), norm=norm or [1.0] * N_CKPT, rel_update=rel,
                       change_from_first=[None if r is None else r * 2 for r in rel],
                       nonfinite=nonfinite or [0] * N_CKPT, adam_ratio=[None] * N_CKPT)  # fmt: skip


def report(n_layers: int = 0) -> RunReport:
    layers = [
        layer("conv.weight", [None, 1e-2, 1e-3, 1e-4]),
        layer("frozen.weight", [None, 0.0, 0.0, 0.0]),
        layer(
            "head.weight", [None, 1e-2, 1e-2, float("nan")], nonfinite=[0, 0, 0, 1], norm=[1.0, 1.0, 1.0, float("nan")]
        ),
        layer("late.weight <b>x</b>", [None, None, 0.5, 0.1], norm=[None, None, 1.0, 1.0]),
    ]
    layers += [layer(f"extra.{i}.weight", [None, 1e-3, 1e-3, 1e-3]) for i in range(n_layers)]
    findings = [
        RunFinding(
            "frozen",
            "warning",
            1,
            "frozen.weight",
            "never changes across the run (from model_ep0.pth on)",
            "Its weights never moved: requires_grad=False or a learning rate of 0?",
        ),
        RunFinding(
            "first_nonfinite",
            "error",
            3,
            "head.weight",
            "1 NaN/Inf value, first at model_ep3.pth",
            "Training diverged; look at the learning rate.",
        ),
        RunFinding(
            "identical",
            "warning",
            2,
            None,
            "model weights bit-identical to model_ep1.pth",
            "Saved twice without training in between.",
        ),
    ]
    ckpts = [ckpt(0, metrics={}), ckpt(1), ckpt(2, metrics={"loss": 1.5, "val_acc": 0.75}), ckpt(3, lr=None)]
    return RunReport(root="/runs/a", checkpoints=ckpts, layers=layers, findings=findings, metric="rel_update")


def shown(qtbot, rep: RunReport, size: tuple[int, int] = (1280, 800)) -> RunWindow:
    configure_plots()
    w = RunWindow("/runs/a", rep.checkpoints, report=rep)
    qtbot.addWidget(w)
    w.resize(*size)
    w.show()
    qtbot.waitExposed(w)
    QApplication.processEvents()
    return w


@pytest.fixture
def run_window(qtbot):
    """A RunWindow showing :func:`report`."""
    w = shown(qtbot, report())
    yield w
    for window in w.comparisons:
        window.runner.shutdown(10_000)
    w.runner.shutdown(10_000)


def test_cell_grid_kinds_and_log_values():
    logs, kinds = cell_grid(report(), "rel_update")
    assert kinds[0].tolist() == [NO_VALUE, VALUE, VALUE, VALUE]  # no previous checkpoint at t=0
    assert logs[0, 1:].tolist() == pytest.approx([-2, -3, -4])
    assert kinds[1].tolist() == [NO_VALUE, ZERO, ZERO, ZERO]  # frozen: exactly 0, not a colour of the scale
    assert kinds[2, 3] == NONFINITE and math.isnan(logs[2, 3])
    assert kinds[3, :2].tolist() == [NO_VALUE, NO_VALUE]  # absent
    logs, kinds = cell_grid(report(), "nonfinite")
    assert kinds[2, 3] == VALUE and logs[2, 3] == 0.0  # one NaN: log10(1)
    assert kinds[0].tolist() == [ZERO] * N_CKPT
    _, kinds = cell_grid(report(), "norm")
    assert kinds[2, 3] == NONFINITE  # a norm of a tensor holding NaN is shown as NaN


def test_thin_labels_never_overlap():
    assert thin([10.0], 20.0, 2.0) == 1
    assert thin([10.0], 4.0, 2.0) == 3
    assert thin([], 1.0, 2.0) == 1


def test_checkpoint_table_rows_and_metric_columns(run_window):
    rep = run_window.report
    assert metric_names(rep.checkpoints) == ["loss", "val_acc"]
    table = run_window.table
    headers = [table.horizontalHeaderItem(c).text() for c in range(table.columnCount())]
    assert headers == ["Checkpoint", "Format", "Size", "Step", "Epoch", "LR", "loss", "val_acc"]
    assert table.rowCount() == N_CKPT
    row = [table.item(1, c).text() for c in range(table.columnCount())]
    assert row[:5] == ["model_ep1.pth", "torch-zip", "4.0 KiB", "200", "1"]
    assert row[6] == "1.75" and row[7] == "—"  # a metric not stored there: a dash, never 0
    assert table.item(3, 5).text() == "—"  # no learning rate stored
    assert checkpoint_row(rep.checkpoints[2], ["val_acc"])[-1] == "0.75"


def test_findings_listed_worst_first_with_why_as_tooltip(run_window):
    findings = run_window.findings
    texts = [findings.item(i).text() for i in range(findings.count())]
    assert texts[0] == "head.weight: 1 NaN/Inf value, first at model_ep3.pth"  # the error first, its layer named
    assert len(texts) == 3 and texts[2] == "model weights bit-identical to model_ep1.pth"  # a whole checkpoint
    assert "Training diverged" in findings.item(0).toolTip()
    assert run_window.side.tabText(0) == "Findings (3)"


def test_activating_a_finding_selects_its_cell(run_window):
    findings = run_window.findings
    findings.setCurrentRow(0)  # the NaN finding: head.weight at checkpoint 3
    assert run_window.selected_cell() == (2, 3)
    assert run_window.layers.selected() == [2]
    assert len(run_window.lines.lines) == 1
    findings.setCurrentRow(2)  # identical: a whole checkpoint, its column
    assert run_window.heatmap.selected_column == 2 and run_window.selected_cell() is None


def test_heatmap_axes_name_layers_and_steps(run_window):
    hm = run_window.heatmap
    left = hm.plot.getAxis("left")._tickLevels[0]
    assert [label for _pos, label in left] == ["conv.weight", "frozen.weight", "head.weight", "late.weight <b>x</b>"]
    bottom = [label for _pos, label in hm.plot.getAxis("bottom")._tickLevels[0]]
    assert bottom[0] == "step 100"


def test_many_layers_thin_the_axis_then_zoom_names_every_row(qtbot):
    w = shown(qtbot, report(n_layers=3000), (1024, 640))
    ticks = w.heatmap.plot.getAxis("left")._tickLevels[0]
    assert 0 < len(ticks) < 200  # an overview: thinned, never 3004 overlapping names
    w.layers.select([2000])
    w.heatmap.reveal(2000)
    QApplication.processEvents()
    ticks = w.heatmap.plot.getAxis("left")._tickLevels[0]
    positions = [p for p, _ in ticks]
    assert 2000.5 in positions and positions[1] - positions[0] == 1  # zoomed in: every row named
    w.runner.shutdown(10_000)


def test_metric_chooser_and_view_menu_agree(run_window):
    run_window.metric_actions["norm"].trigger()
    assert run_window.metric_combo.currentData() == "norm"
    assert run_window.heatmap.metric_name == "norm"
    run_window.metric_combo.setCurrentIndex(run_window.metric_combo.findData("nonfinite"))
    assert run_window.metric_actions["nonfinite"].isChecked()
    assert not run_window.lines.log.isEnabled()  # counts: a linear axis


def test_selected_layers_draw_lines(run_window):
    run_window.layers.select([0, 1])
    lines = run_window.lines.lines
    assert len(lines) == 2
    xs, ys = lines[0].getData()
    assert list(xs) == [100, 200, 300, 400]
    assert np.isnan(ys[0]) and ys[1] == pytest.approx(math.log10(1e-2))  # drawn as log10 on a log scale
    assert run_window.heatmap.selected_rows == [0, 1]
    run_window.layers.filter.setText("head")
    assert run_window.layers.proxy.rowCount() == 1


def test_click_on_a_cell_selects_the_layer_and_compares_the_pair(run_window, qtbot):
    hm = run_window.heatmap
    assert hm.cell_at(hm.scene_pos_of(1, 2)) == (1, 2)
    hm.cell_clicked.emit(1, 0, Qt.KeyboardModifier.NoModifier)
    assert run_window.layers.selected() == [1] and run_window.comparisons == []  # t=0 has no predecessor
    errors = []
    run_window.error_reported.connect(lambda message, _details: errors.append(message))
    hm.cell_clicked.emit(2, 3, Qt.KeyboardModifier.NoModifier)
    (window,) = run_window.comparisons
    assert (window.a_path.name, window.b_path.name) == ("model_ep2.pth", "model_ep3.pth")
    qtbot.waitUntil(lambda: bool(errors), timeout=30_000)  # these files do not exist: the one error path
    assert "model_ep2.pth" in errors[0]
    hm.cell_clicked.emit(0, 3, Qt.KeyboardModifier.ControlModifier)  # Ctrl: adds the layer, compares nothing
    assert run_window.layers.selected() == [0, 2] and len(run_window.comparisons) == 1
    assert "Click: compare" in hm.describe(2, 3) and "NaN / Inf" in hm.describe(2, 3)


def test_log_ticks_read_well():
    assert log_ticks(-4.2, -0.9) == [-4, -3, -2, -1]  # decades
    assert [round(10**t, 6) for t in log_ticks(-2.05, -0.95)] == [0.01, 0.02, 0.05, 0.1]  # 1-2-5 over a decade
    assert [round(10**t, 6) for t in log_ticks(math.log10(0.1), math.log10(0.2))] == [0.1, 0.15, 0.2]  # round steps
    assert log_ticks(1.0, 1.0) == []


def test_points_where_the_layer_holds_nan_are_magenta(run_window):
    run_window.layers.select([2])  # head.weight holds NaN at the last checkpoint
    (line,) = run_window.lines.lines
    brushes = line.opts["symbolBrush"]
    assert [QColor(b.color() if hasattr(b, "color") else b).getRgb() for b in brushes][-1] == NAN_COLOR
    assert QColor(brushes[0].color() if hasattr(brushes[0], "color") else brushes[0]).getRgb() != NAN_COLOR


def test_a_click_on_a_layer_name_selects_it(run_window, qtbot):
    hm = run_window.heatmap
    axis = hm.plot.getAxis("left").sceneBoundingRect()
    y = hm.scene_pos_of(3, 0).y()
    on_name = QPointF(axis.center().x(), y)
    assert hm.name_at(on_name) == 3 and hm.cell_at(on_name) is None
    pos = hm.plot.mapFromScene(on_name)
    QTest.mouseClick(hm.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)
    qtbot.waitUntil(lambda: run_window.layers.selected() == [3])
    assert run_window.comparisons == []  # a name is a layer, not a pair of checkpoints


def test_a_grouped_finding_is_listed_by_its_message_and_selects_its_layers(qtbot):
    rep = report(n_layers=3)
    group = RunFinding("frozen", "info", 1, "extra.0.weight", "extra.*: all 3 layers never change across the run",
                       "Frozen.", ("extra.0.weight", "extra.1.weight", "extra.2.weight"))  # fmt: skip
    rep = RunReport(root=rep.root, checkpoints=rep.checkpoints, layers=rep.layers, findings=[group], metric=rep.metric)
    w = shown(qtbot, rep)
    assert w.findings.item(0).text() == "extra.*: all 3 layers never change across the run"  # no key in front
    w.findings.setCurrentRow(0)
    assert w.layers.selected() == [4, 5, 6] and w.selected_cell() == (4, 1)
    assert len(w.lines.lines) == 3
    w.runner.shutdown(10_000)
