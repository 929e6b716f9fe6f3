"""The comparison window: verdict, aligned tree, layer chart, A/B views, tolerance."""

from __future__ import annotations

import copy
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ckptviewer.gui.diff_view import DASH, DiffWindow
from tests.cli.test_cli_diff import ckpt
from tests.core.test_diff import ConvBNNet, floating, state, total_reference, train_convbn
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
    n = len(model.state_dict())
    assert w.report.same and f"same (exact): {n} tensors, {n} identical" in w.summary.text()
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
    assert w.report.same and "same within tolerance (atol 0, rtol 0.01)" in w.summary.text()
    statuses = {w.proxy.index(r, 1).data() for r in range(w.proxy.rowCount())}
    assert "changed" not in " ".join(statuses)  # no row says "changed" beside a "same" verdict


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


# --- one meaning for relative change, one verdict -------------------------------------------


def summary_lines(w: DiffWindow) -> list[str]:
    """The summary as a person reads it: plain text, one entry per line."""
    doc = QTextDocument()
    doc.setHtml(w.summary.text())
    return doc.toPlainText().replace("\u2028", "\n").splitlines()


def shown_rows(w: DiffWindow) -> dict[str, list[str]]:
    """Every tensor row of the tree as displayed: key -> its cells' text."""
    out = {}
    for node in w.tree_root.walk():
        if node.diff is not None:
            index = w.model.index_of(node)
            out[node.path] = [
                w.model.index(index.row(), c, index.parent()).data() for c in range(w.model.columnCount())
            ]
    return out


def convbn_pair(tmp_path):
    """A CNN with three BatchNorms, before and after a few SGD steps; B's classifier is resized."""
    torch.manual_seed(13)
    model = ConvBNNet()
    before, after = state(model), state(train_convbn(model))
    after["fc.weight"], after["fc.bias"] = torch.randn(7, 16), torch.zeros(7)
    a, b = tmp_path / "cb_init.pth", tmp_path / "cb_trained.pth"
    torch.save(before, a)
    torch.save(after, b)
    return a, b, before, after


def test_chart_and_headline_are_over_floating_point_tensors_and_mismatched_rows_are_blank(qtbot, tmp_path):
    a, b, before, after = convbn_pair(tmp_path)
    w = open_diff(qtbot, a, b)
    compared = [k for k in floating(before) if not k.startswith("fc.")]
    lines = summary_lines(w)
    want = total_reference(before, after, compared)
    headline = next(line for line in lines if line.startswith("total relative change"))
    assert headline.endswith(f" over {len(compared)} floating-point tensors")
    assert float(headline.split()[3]) == pytest.approx(want, rel=2e-3)
    assert "counters: num_batches_tracked 0 -> 4 in 3 layers" in lines

    # each bar against float64 over the layer's floating-point tensors (a BatchNorm's counter left out)
    values = dict(zip(w.chart.paths, w.chart.values))
    for layer in ("stem.0", "stem.1", "stage1.1", "stage2.0"):
        keys = [k for k in compared if k.startswith(layer + ".")]
        assert values[layer] == pytest.approx(total_reference(before, after, keys), rel=1e-5), layer
    # the resized classifier was not measured: no bar (a cross on the axis), never a 0 bar
    fc = w.chart.paths.index("fc")
    assert values["fc"] is None and w.chart.bars.opts["height"][fc] == 0.0
    xs, _ = w.chart.unmeasured.getData()
    assert list(xs) == [fc]

    # the verdict in the words `ckpt diff` prints for this pair (tests/cli/test_cli_diff.py)
    assert lines[1] == f"different (exact): {len(before)} tensors, {len(before) - 2} changed, 2 mismatched"

    rows = shown_rows(w)
    for key in ("fc.weight", "fc.bias"):
        assert rows[key][1] == "mismatched" and rows[key][2:] == [DASH] * 4, rows[key]
    assert rows["stem.1.num_batches_tracked"][2] == DASH  # an integer counter has no relative change
    assert rows["stem.1.bias"][1] == "new from zero" and rows["stem.1.bias"][2] == "1"
    w.select("stem.1.num_batches_tracked")
    metrics = {w.metrics.item(r, 0).text(): w.metrics.item(r, 1).text() for r in range(w.metrics.rowCount())}
    assert metrics["values"] == "0 → 4" and metrics["relative change"] == DASH
    w.select("fc.weight")
    metrics = {w.metrics.item(r, 0).text(): w.metrics.item(r, 1).text() for r in range(w.metrics.rowCount())}
    assert metrics["relative change"] == DASH and metrics["max |a−b|"] == DASH and metrics["cosine"] == DASH


@pytest.mark.slow  # six `ckpt diff` processes, each importing torch
def test_the_window_says_the_verdict_the_cli_prints(qtbot, tmp_path):
    """Three pairs (different, same, same within tolerance): the window's verdict, headline
    and counters lines are the CLI's first lines and its JSON's verdict_text, and the exit
    status is the verdict's."""
    a, b, _, _ = convbn_pair(tmp_path)
    model = SmallNet()
    plain, ddp, bf16 = tmp_path / "plain.pth", tmp_path / "ddp.pth", tmp_path / "bf16.pth"
    torch.save(model.state_dict(), plain)
    torch.save(ddp_state_dict(model, tmp_path), ddp)
    torch.save({k: v.bfloat16() if v.is_floating_point() else v for k, v in model.state_dict().items()}, bf16)
    pairs = [(a, b, 0.0, 1), (ddp, plain, 0.0, 0), (plain, bf16, 1e-2, 0)]
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        texts = [pool.submit(ckpt, "diff", x, y, "--rtol", f"{rtol:g}") for x, y, rtol, _ in pairs]
        docs = [pool.submit(ckpt, "diff", x, y, "--rtol", f"{rtol:g}", "--json") for x, y, rtol, _ in pairs]
        for (x, y, rtol, code), text_run, json_run in zip(pairs, texts, docs):
            w = DiffWindow(x, y)
            qtbot.addWidget(w)
            w.rtol.setValue(rtol)
            with qtbot.waitSignal(w.ready, timeout=OPEN_TIMEOUT):
                w.recompute()  # with this tolerance: replaces the comparison the window started with
                w.show()
            assert w.report.rtol == rtol
            text, doc = text_run.result(), json_run.result()
            assert (text.returncode, doc.returncode) == (code, code), text.stderr + doc.stderr
            cli = text.stdout.splitlines()
            shown = summary_lines(w)
            assert shown[1] == cli[0] == json.loads(doc.stdout)["verdict_text"]
            assert shown[2] == cli[1]  # the headline
            assert shown[3] == cli[2] and cli[2].startswith("counters:")
            assert w.report.verdict.exit_status == code
            w.close()
