"""The window driven as a user would: open, select, filter, cancel, trust, drop, export."""

from __future__ import annotations

import csv
import threading

import numpy as np
import pytest
import torch
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QGuiApplication
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from safetensors.torch import save_file

from ckptviewer.core import open_checkpoint
from ckptviewer.core.stats import tensor_stats
from ckptviewer.formatting import number
from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait
from tests.models import SmallNet, TiedLM


def visible_keys(window) -> set[str]:
    """Tensor keys the filtered tree shows."""
    keys, stack = set(), [window.proxy.index(r, 0) for r in range(window.proxy.rowCount())]
    while stack:
        index = stack.pop()
        node = window.model.node(window.proxy.mapToSource(index))
        if node.entry is not None:
            keys.add(node.path)
        stack.extend(window.proxy.index(r, 0, index) for r in range(window.proxy.rowCount(index)))
    return keys


def stat_value(window, name: str) -> str:
    return dict(window.tensor_panel.stats.rows())[name]


@pytest.mark.parametrize("fixture", ["ddp_state_dict.pth", "train_checkpoint.pth"])
def test_gpu_saved_fixtures_open_with_stats_and_plots(qtbot, window, data_dir, fixture):
    open_and_wait(qtbot, window, data_dir / fixture)
    ckpt = window.ckpt
    assert window.windowTitle().startswith(fixture)
    assert "cuda:0" in window.status.file_label.text()
    assert window.model.root.n_tensors == ckpt.n_tensors
    key = window.current_key()
    assert key == next(iter(ckpt.tensors))  # the first tensor is selected
    expected = tensor_stats(ckpt.tensor(key))
    assert stat_value(window, "mean") == number(expected.mean, 6)
    assert stat_value(window, "NaN") == "0"
    x, y = window.tensor_panel.histogram.drawn()
    assert len(x) == len(y) + 1 and y.sum() == expected.numel
    assert window.tensor_panel.heatmap.stack.currentWidget() is window.tensor_panel.heatmap.plot  # a conv kernel
    assert window.tensor_panel.values.table.rowCount() == min(200, expected.numel)


def test_every_format_opens(qtbot, window, tmp_path):
    sd = SmallNet().state_dict()
    legacy = tmp_path / "legacy.pth"
    torch.save(sd, legacy, _use_new_zipfile_serialization=False)
    st = tmp_path / "model.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, st, metadata={"note": "hi"})
    for path in (legacy, st):
        open_and_wait(qtbot, window, path)
        assert window.ckpt.format in ("torch-legacy", "safetensors")
        assert window.model.root.n_tensors == len(sd)
    assert window.metadata_panel.find("note") is not None


def test_selecting_tensors_and_modules(qtbot, window, demo_checkpoint):
    open_and_wait(qtbot, window, demo_checkpoint)
    key = "model.module.layer2.0.weight"  # the demo's NaN layer
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):
        window.select_key(key)
    assert window.current_key() == key
    n_nan = int(torch.isnan(window.ckpt.tensor(key)).sum())
    assert stat_value(window, "NaN") == f"{n_nan:,}"
    assert f"NaN {n_nan:,}" in window.tensor_panel.histogram.nonfinite.text()
    assert "magenta" in window.tensor_panel.heatmap.note.text()
    # a 1-D tensor: a line instead of a heatmap
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):
        window.select_key("model.module.layer2.0.bias")
    assert window.tensor_panel.heatmap.stack.currentWidget() is window.tensor_panel.heatmap.line_plot
    # a module: aggregate counts and a bar per child
    window.tree.setCurrentIndex(window.proxy.mapFromSource(window.model.index_for_path("model.module")))
    assert window.inspector.currentWidget() is window.module_panel
    node = window.model.root.find("model.module")
    assert window.module_panel.bar_values() == [c.n_params for c in node.children]
    assert f"{node.n_params:,} parameters" in window.module_panel.summary.text()


def test_log_toggle_and_value_pages(qtbot, window, demo_checkpoint):
    open_and_wait(qtbot, window, demo_checkpoint)
    hist = window.tensor_panel.histogram
    _, linear = hist.drawn()
    hist.log_y.setChecked(True)
    _, logged = hist.drawn()
    assert np.allclose(logged, np.log10(np.maximum(linear, 1)))
    values = window.tensor_panel.values
    first = values.table.item(0, 0).text()
    values.start.setValue(5)
    qtbot.waitUntil(lambda: values.table.item(0, 0).text() != first, timeout=OPEN_TIMEOUT)
    t = window.ckpt.tensor(window.current_key()).reshape(-1)
    assert float(values.table.item(0, 1).text()) == pytest.approx(t[5].item(), rel=1e-6)


def test_filter_by_key_dtype_and_shape(qtbot, window, tmp_path):
    sd = {"enc.layer1.w": torch.ones(3, 3), "enc.layer2.w": torch.ones(2).bfloat16(), "head.w": torch.ones(8, 3, 3)}
    path = tmp_path / "f.pth"
    torch.save(sd, path)
    open_and_wait(qtbot, window, path)
    qtbot.keyClicks(window.filter, "layer1")
    assert visible_keys(window) == {"enc.layer1.w"}
    window.filter.setText("bfloat16")
    assert visible_keys(window) == {"enc.layer2.w"}
    window.filter.setText("3x3")
    assert visible_keys(window) == {"enc.layer1.w", "head.w"}
    window.filter.clear()
    assert visible_keys(window) == set(sd)


def test_cancel_a_long_statistics_run(qtbot, window, tmp_path):
    path = tmp_path / "big.pth"
    torch.save({"small": torch.ones(4), "big": torch.randn(6000, 6000)}, path)
    open_and_wait(qtbot, window, path, scan=False)
    window.runner.cancel("scan")
    with qtbot.waitSignal(window.runner.progress, timeout=OPEN_TIMEOUT):
        window.select_key("big")
    assert window.status.cancel_button.isVisible()
    with qtbot.assertNotEmitted(window.report_shown, wait=300):
        qtbot.mouseClick(window.status.cancel_button, Qt.MouseButton.LeftButton)
    assert not window.runner.busy and not window.status.cancel_button.isVisible()
    window.runner.pool.waitForDone(10_000)
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):  # still usable afterwards
        window.select_key("small")


def test_stale_results_are_dropped(qtbot, window, tmp_path):
    path = tmp_path / "two.pth"
    torch.save({"big": torch.randn(4000, 4000), "small": torch.zeros(3)}, path)
    open_and_wait(qtbot, window, path)
    shown = []
    window.report_shown.connect(shown.append)
    window.select_key("small")
    window.select_key("big")
    window.select_key("small")
    qtbot.waitUntil(lambda: "small" in shown, timeout=OPEN_TIMEOUT)
    assert window.runner.pool.waitForDone(10_000)
    QApplication.processEvents()  # deliver the stale results' queued signals: they must be dropped
    assert shown == ["small"]


def test_health_scan_marks_tree_and_selects_on_activation(qtbot, window, demo_checkpoint):
    open_and_wait(qtbot, window, demo_checkpoint)
    items = window.health_panel.list
    assert items.topLevelItemCount() == 1
    key = items.topLevelItem(0).text(0)
    assert key == "model.module.layer2.0.weight"
    index = window.model.index_for_path(key)
    assert window.model.data(index, Qt.ItemDataRole.DecorationRole) is not None
    assert window.model.data(window.model.index_for_path("model.module"), Qt.ItemDataRole.DecorationRole) is not None
    assert window.model.data(window.model.index_for_path("optimizer"), Qt.ItemDataRole.DecorationRole) is None
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):
        items.itemActivated.emit(items.topLevelItem(0), 0)
    assert window.current_key() == key


def test_metadata_panel(qtbot, window, data_dir):
    open_and_wait(qtbot, window, data_dir / "train_checkpoint.pth")
    assert window.metadata_panel.find("arch").text(1) == "SmallNet"
    assert window.metadata_panel.find("epoch").text(1) == "5"
    assert "× the weights" in window.metadata_panel.find("optimizer state (optimizer)").text(1)
    assert window.metadata_panel.find("argparse.Namespace").text(1) == "loaded as plain data"
    assert window.banner.isVisible() and not window.banner.button.isVisible()


def test_trust_flow_runs_nothing_before_the_click(qtbot, window, tmp_path):
    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {marker}",))

    path = tmp_path / "hostile.pth"
    torch.save({"w": torch.ones(3), "evil": Payload()}, path)
    open_and_wait(qtbot, window, path)
    assert not marker.exists()
    assert window.banner.isVisible() and window.banner.button.isVisible()
    assert "posix.system" in window.banner.label.text()
    assert window.current_key() == "w"
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    box = window.trust_dialog
    assert box.isVisible() and "runs code" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()  # declining changes nothing
    assert not window.runner.is_running("open")  # no trusted open was started, so nothing can run later
    assert not marker.exists() and not window.ckpt.trusted
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT):
        window.trust_dialog.button(QMessageBox.StandardButton.Yes).click()
    assert marker.exists() and window.ckpt.trusted


def test_drag_and_drop_opens_the_file(qtbot, window, demo_checkpoint):
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(demo_checkpoint))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)  # fmt: skip
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT):
        QApplication.sendEvent(window, drop)
    assert window.ckpt.path == demo_checkpoint


def test_recent_files(qtbot, window, tmp_path):
    paths = []
    for i in range(12):
        p = tmp_path / f"c{i}.pth"
        torch.save({"w": torch.ones(1)}, p)
        paths.append(p)
    for p in paths:
        open_and_wait(qtbot, window, p, scan=False)
    recent = window.recent.paths()
    assert len(recent) == 10 and recent[0] == str(paths[-1].resolve())
    actions = window.recent_menu.actions()
    assert [a.text() for a in actions][:2] == ["c11.pth", "c10.pth"]
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT):
        actions[5].trigger()
    assert window.ckpt.path.name == "c6.pth"
    assert window.settings.value("recent_files")[0].endswith("c6.pth")  # persisted, most recent first


def test_device_selector_without_gpu(qtbot, window, demo_checkpoint):
    devices = [window.device_combo.itemData(i) for i in range(window.device_combo.count())]
    if torch.cuda.is_available():
        assert devices[:2] == ["auto", "cpu"] and "cuda:0" in devices
        return
    assert devices == ["auto", "cpu"]
    open_and_wait(qtbot, window, demo_checkpoint)
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT):
        window.device_combo.setCurrentIndex(1)
    assert window.ckpt.device.type == "cpu" and "computing on cpu" in window.status.file_label.text()


def test_context_menu_actions_and_exports(qtbot, window, tmp_path):
    path = tmp_path / "tied.pth"
    torch.save(TiedLM().state_dict(), path)
    open_and_wait(qtbot, window, path)
    out = tmp_path / "embed.npy"
    window.exports.export_npy("embed.weight", out)
    qtbot.waitUntil(out.exists, timeout=OPEN_TIMEOUT)
    assert np.array_equal(np.load(out), open_checkpoint(path).tensor("embed.weight").numpy())
    csv_path = tmp_path / "stats.csv"
    window.exports.export_stats_csv(csv_path)
    qtbot.waitUntil(csv_path.exists, timeout=OPEN_TIMEOUT)
    rows = list(csv.DictReader(csv_path.open()))
    assert [r["key"] for r in rows] == ["embed.weight", "head.weight"]
    index = window.proxy.mapFromSource(window.model.index_for_path("head.weight"))
    window.tree.setCurrentIndex(index)
    window._tree_menu(window.tree.visualRect(index).center())
    menu = window.findChildren(type(window.recent_menu))[-1]
    copy = next(a for a in menu.actions() if a.text() == "Copy shape")
    copy.trigger()
    assert QGuiApplication.clipboard().text() == "50x16"
    menu.close()


def test_closing_while_work_runs_leaves_no_threads(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from ckptviewer.gui.main_window import MainWindow

    path = tmp_path / "big.pth"
    torch.save({"big": torch.randn(6000, 6000)}, path)
    before = threading.active_count()
    w = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    w.show()
    with qtbot.waitSignal(w.runner.progress, timeout=OPEN_TIMEOUT):
        w.open_file(path)
    qtbot.waitUntil(lambda: w.runner.is_running("tensor") or w.runner.is_running("scan"), timeout=OPEN_TIMEOUT)
    w.close()
    assert w.runner.pool.activeThreadCount() == 0
    w.deleteLater()
    qtbot.wait(50)
    assert threading.active_count() <= before


def test_every_bad_file_reaches_the_error_dialog_and_the_app_survives(qtbot, window, tmp_path, demo_checkpoint):
    from tests.core.test_bad_input import BAD_INPUTS

    for name, (factory, words) in BAD_INPUTS.items():
        folder = tmp_path / name
        folder.mkdir()
        path = factory(folder)
        with qtbot.waitSignal(window.error_reported, timeout=OPEN_TIMEOUT) as blocker:
            window.open_file(path)
        message = blocker.args[0]
        assert all(w.lower() in message.lower() for w in words), (name, message)
        box = window.last_error
        assert box.isVisible() and box.text() == message
        assert message in window.statusBar().currentMessage()
        box.close()
    open_and_wait(qtbot, window, demo_checkpoint)  # still works after all of that
    assert window.ckpt.path == demo_checkpoint


def test_sorting_by_size_and_back_to_file_order(qtbot, window, tmp_path):
    sd = {"a": torch.ones(2), "b": torch.ones(50), "c": torch.ones(10)}
    path = tmp_path / "s.pth"
    torch.save(sd, path)
    open_and_wait(qtbot, window, path, scan=False)

    def names():
        return [window.proxy.index(r, 0).data() for r in range(window.proxy.rowCount())]

    assert names() == ["a", "b", "c"]
    window.tree.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    assert names() == ["b", "c", "a"]
    window.tree.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
    assert names() == ["a", "b", "c"]


def test_reload_keeps_the_selection_and_close_clears(qtbot, window, demo_checkpoint):
    open_and_wait(qtbot, window, demo_checkpoint)
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT):
        window.select_key("model.module.fc.weight")
    with qtbot.waitSignals([window.opened, window.report_shown], timeout=OPEN_TIMEOUT, order="none"):
        window.reload_action.trigger()
    assert window.current_key() == "model.module.fc.weight"
    window.close_action.trigger()
    assert window.ckpt is None and window.model.rowCount() == 0
    assert window.windowTitle() == "ckptviewer" and window.inspector.currentWidget() is window.empty


def test_lightning_view_and_module_classes(qtbot, window, tmp_path):
    from tests.models import SmallNet, lightning_checkpoint

    path = tmp_path / "epoch=7.ckpt"
    torch.save(lightning_checkpoint(SmallNet()), path)
    open_and_wait(qtbot, window, path)
    group = window.metadata_panel.find("PyTorch Lightning")
    names = [group.child(i).text(0) for i in range(group.childCount())]
    assert names[:3] == ["epoch", "global_step", "pytorch-lightning_version"] and "loops" in names
    model = tmp_path / "model.pt"
    torch.save(SmallNet(), model)
    open_and_wait(qtbot, window, model)
    window.tree.setCurrentIndex(window.proxy.mapFromSource(window.model.index_for_path("blocks")))
    assert "torch.nn.modules.container.Sequential" in window.module_panel.title.text()


def test_a_new_checkpoint_written_over_the_open_one_offers_a_reload(qtbot, window, tmp_path):
    path = tmp_path / "last.pth"
    torch.save({"w": torch.zeros(3)}, path)
    open_and_wait(qtbot, window, path)
    tmp = tmp_path / "last.pth.tmp"
    torch.save({"w": torch.ones(3), "epoch": 2}, tmp)
    tmp.replace(path)  # how training scripts write checkpoints: atomically
    qtbot.waitUntil(window.reload_banner.isVisible, timeout=10_000)
    with qtbot.waitSignal(window.opened, timeout=OPEN_TIMEOUT):
        reload_button = next(b for b in window.reload_banner.findChildren(QPushButton) if b.text() == "Reload")
        qtbot.mouseClick(reload_button, Qt.MouseButton.LeftButton)
    assert window.ckpt.metadata["epoch"] == 2 and not window.reload_banner.isVisible()


def test_window_layout_is_remembered(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from ckptviewer.gui.main_window import MainWindow

    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings)
    first.show()
    first.resize(760, 560)  # the offscreen screen is 800x600: stay inside it
    first.splitter.setSizes([200, 560])
    saved = first.splitter.sizes()
    first.close()
    second = MainWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(second)
    second.show()
    sizes = second.splitter.sizes()
    assert second.size().width() == 760
    assert abs(sizes[0] / sum(sizes) - saved[0] / sum(saved)) < 0.05  # the tree keeps its share


def test_theme_toggle_is_applied_and_remembered(qtbot, window):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    window.theme_actions["dark"].trigger()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 100
    plot = window.tensor_panel.histogram.plot
    assert plot.backgroundBrush().color().lightness() < 100
    assert window.settings.value("theme") == "dark" and window.theme_actions["dark"].isChecked()
    window.theme_actions["light"].trigger()
    assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 150
