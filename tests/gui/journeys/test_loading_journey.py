"""Journey 8: loading feedback and the empty window.

Opening a Hugging Face sharded folder (File ▸ Open Folder) shows at once, in the centre,
what is opening, a determinate progress bar and Cancel; Cancel stops it. The empty window
offers Open, Open Folder, the drop hint and the recent files, and a recent entry opens its
file. The disk is made slow (the open waits on a gate the test lifts) so that the loading
state can be seen and cancelled deterministically.
"""

from __future__ import annotations

import json
import threading

import pytest
import torch
from PySide6.QtWidgets import QMessageBox
from safetensors.torch import save_file

from ckptviewer.core.progress import Cancelled, Progress
from ckptviewer.gui import main_window
from tests.gui.journeys.conftest import TIMEOUT, answer_file_dialog, press_button, shoot, trigger, when_modal

OPEN_FOLDER = "Open Folder… (sharded, PEFT)"


def sharded_folder(root):
    """A Hugging Face folder: two safetensors shards and model.safetensors.index.json."""
    folder = root / "tiny-llm"
    folder.mkdir()
    torch.manual_seed(0)
    shards = {
        "model-00001-of-00002.safetensors": {f"model.layers.{i}.mlp.weight": torch.randn(8, 8) for i in range(3)},
        "model-00002-of-00002.safetensors": {"lm_head.weight": torch.randn(16, 8), "model.norm.weight": torch.ones(8)},
    }
    weight_map = {}
    for name, tensors in shards.items():
        save_file(tensors, str(folder / name))
        weight_map.update(dict.fromkeys(tensors, name))
    total = sum(t.numel() * t.element_size() for tensors in shards.values() for t in tensors.values())
    index = {"metadata": {"total_size": total}, "weight_map": weight_map}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index))
    return folder


@pytest.fixture
def slow_disk(monkeypatch):
    """Opens in the window report a first step, then wait until the returned gate is set."""
    gate = threading.Event()
    real = main_window.open_checkpoint

    def slow(path, *args, progress=None, cancel=None, **kwargs):
        if progress is not None:
            progress(Progress(1, 4, "Reading shards"))
        while not gate.wait(0.02):
            if cancel is not None and cancel.cancelled:
                raise Cancelled()
        return real(path, *args, progress=progress, cancel=cancel, **kwargs)

    monkeypatch.setattr(main_window, "open_checkpoint", slow)
    return gate


def test_sharded_folder_shows_name_progress_and_cancel(qtbot, shell, tmp_path, slow_disk):
    folder = sharded_folder(tmp_path)
    page = shell.current
    start = page.start_page
    assert start.isVisible() and not start.is_loading

    answer_file_dialog(qtbot, folder)
    trigger(shell, "File", OPEN_FOLDER)
    # at once, before any result: the name, a progress bar and Cancel in the centre
    assert start.isVisible() and start.is_loading
    assert start.loading_name.text() == "tiny-llm" and start.loading_name.isVisible()
    assert start.bar.isVisible() and start.cancel_button.isVisible()
    assert not start.open_button.isVisible()  # no "Open a checkpoint…" while opening
    qtbot.waitUntil(lambda: start.bar.fraction == 0.25, timeout=TIMEOUT)  # determinate: a step of four
    assert "Reading shards" in start.bar.text
    shoot(shell, "loading")

    press_button(start, "Cancel")
    qtbot.waitUntil(lambda: not start.is_loading, timeout=TIMEOUT)
    assert not page.runner.is_running("open") and page.path is None and shell.tabs.count() == 1
    assert start.open_button.isVisible()  # back to the empty window

    slow_disk.set()
    answer_file_dialog(qtbot, folder)
    trigger(shell, "File", OPEN_FOLDER)
    qtbot.waitUntil(lambda: page.ckpt is not None, timeout=TIMEOUT)
    assert page.ckpt.n_tensors == 5 and not start.isVisible() and page.tree.isVisible()
    assert shell.tabs.tabText(0) == "tiny-llm"


def test_cancelling_an_open_in_a_new_tab_leaves_no_tab(qtbot, shell, tmp_path, slow_disk):
    first = tmp_path / "first.pth"
    torch.save({"w": torch.ones(2)}, first)
    folder = sharded_folder(tmp_path)
    slow_disk.set()
    answer_file_dialog(qtbot, first)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    slow_disk.clear()
    answer_file_dialog(qtbot, folder)
    trigger(shell, "File", OPEN_FOLDER)
    assert shell.tabs.count() == 2 and shell.current.start_page.is_loading
    press_button(shell.current.start_page, "Cancel")
    qtbot.waitUntil(lambda: shell.tabs.count() == 1, timeout=TIMEOUT)
    assert shell.current.path == first
    slow_disk.set()


def test_empty_window_offers_open_folder_drop_and_recent(qtbot, shell, tmp_path):
    a, b = tmp_path / "alpha.pth", tmp_path / "beta.pth"
    torch.save({"w": torch.ones(2)}, a)
    torch.save({"w": torch.zeros(3)}, b)
    start = shell.current.start_page
    assert start.open_button.isVisible() and start.folder_button.isVisible()
    assert start.no_recent.isVisible()  # nothing opened yet: says where recent files will appear
    texts = " ".join(label.text() for label in start.welcome.findChildren(type(start.no_recent)) if label.isVisible())
    assert "drop" in texts

    # the Open button of the empty window opens a file
    answer_file_dialog(qtbot, a)
    press_button(start, "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    answer_file_dialog(qtbot, b)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.tabs.count() == 2 and shell.current.ckpt is not None, timeout=TIMEOUT)

    # close both tabs (File ▸ Close Tab): the empty window lists both files, newest first
    trigger(shell, "File", "Close Tab")
    trigger(shell, "File", "Close Tab")
    qtbot.waitUntil(lambda: shell.current.path is None and shell.tabs.count() == 1, timeout=TIMEOUT)
    start = shell.current.start_page
    qtbot.waitUntil(start.recent_box.isVisible, timeout=TIMEOUT)
    entries = [start.recent_grid.itemAtPosition(r, 0).widget().text() for r in range(start.recent_grid.rowCount())
               if start.recent_grid.itemAtPosition(r, 0) is not None]  # fmt: skip
    assert entries[:2] == ["beta.pth", "alpha.pth"]
    shoot(shell, "empty")

    press_button(start, "alpha.pth")  # a recent entry opens its file, here
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    assert shell.current.path == a and shell.tabs.count() == 1

    # a recent file that was deleted since: an error, and the window stays as it was
    trigger(shell, "File", "Close Tab")
    qtbot.waitUntil(lambda: shell.current.path is None, timeout=TIMEOUT)
    b.unlink()
    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    press_button(shell.current.start_page, "beta.pth")
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=TIMEOUT)
    assert shell.tabs.count() == 1 and shell.current.path is None and shell.current.start_page.open_button.isVisible()
    press_button(errors[0], "OK")
