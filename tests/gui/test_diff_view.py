"""The comparison window: verdict, aligned tree, layer chart, A/B views, tolerance."""

from __future__ import annotations

import copy

import torch
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ckptviewer.gui.diff_view import DiffWindow
from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait
from tests.models import SmallNet, ddp_state_dict


def trained_pair(tmp_path):
    model = SmallNet()
    a = tmp_path / "init.pth"
    torch.save(model.state_dict(), a)
    tuned = copy.deepcopy(model)
    opt = torch.optim.SGD(tuned.fc.parameters(), lr=0.1)  # a frozen backbone under a trained head
    tuned.fc.weight.sum().backward()
    opt.step()
    b = tmp_path / "tuned.pth"
    torch.save(tuned.state_dict(), b)
    return a, b


def open_diff(qtbot, a, b) -> DiffWindow:
    w = DiffWindow(a, b)
    qtbot.addWidget(w)
    with qtbot.waitSignals([w.ready, w.pair_shown], timeout=OPEN_TIMEOUT, order="none"):
        w.show()
    return w


def test_ddp_against_plain_is_the_same_model(qtbot, tmp_path):
    model = SmallNet()
    plain, ddp = tmp_path / "plain.pth", tmp_path / "ddp.pth"
    torch.save(model.state_dict(), plain)
    torch.save(ddp_state_dict(model, tmp_path), ddp)
    w = open_diff(qtbot, ddp, plain)
    assert w.report.same and "same model" in w.summary.text()
    assert "module." in w.summary.text()  # says how the keys were aligned
    assert w.report.counts["identical"] == len(model.state_dict())


def test_frozen_backbone_and_trained_head(qtbot, tmp_path):
    a, b = trained_pair(tmp_path)
    w = open_diff(qtbot, a, b)
    assert not w.report.same and "different" in w.summary.text()
    values = dict(zip(w.chart.paths, w.chart.values))
    assert values["fc"] > 0.01 and values["conv1"] == 0 and values["blocks.3"] == 0
    assert w.tree.currentIndex().isValid()
    w.chart.layer_clicked.emit("fc")  # what a click on the fc bar does
    node = w.model.node(w.proxy.mapToSource(w.tree.currentIndex()))
    assert node.path == "fc" and "fc" in w.metrics.item(0, 1).text()
    with qtbot.waitSignal(w.pair_shown, timeout=OPEN_TIMEOUT):
        w.select("fc.weight")
    _, y = w.hist_b.getData()
    assert y.sum() == 4 * 8 and w.delta.stack.currentWidget() is w.delta.plot
    rows = {w.metrics.item(r, 0).text(): w.metrics.item(r, 1).text() for r in range(w.metrics.rowCount())}
    assert rows["status"] == "changed" and rows["changed elements"] == "100.00%"
    w.filter.setCurrentText("Changed only")
    top = [w.proxy.index(r, 0).data() for r in range(w.proxy.rowCount())]
    assert top == ["fc"]
    w.log.setChecked(True)
    assert w.chart.log


def test_tolerance_turns_a_bf16_copy_into_the_same_model(qtbot, tmp_path):
    model = SmallNet()
    a, b = tmp_path / "fp32.pth", tmp_path / "bf16.pth"
    torch.save(model.state_dict(), a)
    torch.save({k: v.bfloat16() if v.is_floating_point() else v for k, v in model.state_dict().items()}, b)
    w = open_diff(qtbot, a, b)
    assert not w.report.same
    w.rtol.selectAll()
    with qtbot.waitSignal(w.ready, timeout=OPEN_TIMEOUT):
        QTest.keyClicks(w.rtol, "1e-2")  # typed as scientific notation, compared after typing stops
    assert w.rtol.text() == "1e-2" and w.report.rtol == 0.01
    assert w.report.same and "same model" in w.summary.text() and "within tolerance" in w.summary.text()
    statuses = {w.proxy.index(r, 1).data() for r in range(w.proxy.rowCount())}
    assert "changed" not in " ".join(statuses)  # no row says "changed" beside a "same model" verdict


def test_compare_from_the_main_window_and_shift_drop(qtbot, window, tmp_path):
    a, b = trained_pair(tmp_path)
    open_and_wait(qtbot, window, a)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(b))])
    args = (
        QPoint(20, 20),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.ShiftModifier,
    )
    QApplication.sendEvent(window, QDragEnterEvent(*args))
    QApplication.sendEvent(window, QDropEvent(*args))
    diff_window = window.comparisons.windows[-1]
    qtbot.waitUntil(lambda: diff_window.report is not None, timeout=OPEN_TIMEOUT)
    assert diff_window.b_path == b and window.ckpt.path == a  # the open file was kept
    diff_window.close()
