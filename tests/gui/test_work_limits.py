"""Tensors whose logical size dwarfs their stored data, in the window: the inspector says
why it stops and offers "Compute anyway"; value pages reach past 2**31 elements."""

from __future__ import annotations

import torch

from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait
from tests.hostile.corpus import PROTO4, STOP, tensor_v2, torch_zip
from tests.hostile_pickles import EMPTY_DICT, MARK, SETITEMS, U


def _file(tmp_path):
    body = EMPTY_DICT + MARK + U("w") + tensor_v2("2", 4, (4,), (1,))
    body += U("overlap") + tensor_v2("0", 1 << 14, (1 << 13, 1 << 12), (1, 1))  # 2**25 over 12,287 stored
    body += U("big") + tensor_v2("1", 1, (3_000_000_000,), (0,))  # 3e9 elements over one float
    body += SETITEMS
    records = {"data/0": torch.arange(float(1 << 14)).numpy().tobytes(), "data/1": b"\0\0\x80?",
               "data/2": bytes(16)}  # fmt: skip
    return torch_zip(tmp_path / "amplified.pth", PROTO4 + body + STOP, records)


def test_refused_work_is_explained_and_can_be_forced(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, _file(tmp_path))
    window.select_key("overlap")
    panel = window.tensor_panel
    qtbot.waitUntil(lambda: panel.force_button.isVisible(), timeout=OPEN_TIMEOUT)
    assert "overlapping strides" in panel.notice.text() and panel.stats.rowCount() == 0
    with qtbot.waitSignal(window.report_shown, timeout=OPEN_TIMEOUT * 4):
        panel.force_button.click()  # what a user presses
    assert not panel.force_button.isVisible()
    assert panel.stats.rowCount() > 0  # the statistics of 2**25 elements were computed after all


def test_value_pages_of_a_tensor_past_2_31_elements(qtbot, window, tmp_path):
    open_and_wait(qtbot, window, _file(tmp_path))
    window.select_key("big")
    qtbot.waitUntil(lambda: window.tensor_panel.values.table.rowCount() > 0, timeout=OPEN_TIMEOUT)
    start = window.tensor_panel.values.start
    assert start.maximum() == 3_000_000_000 - 1
    start.setValue(2_999_999_900)  # past 2**31: a QSpinBox raised OverflowError here
    qtbot.waitUntil(lambda: window.tensor_panel.values.table.item(0, 0).text() == "2999999900", timeout=OPEN_TIMEOUT)
    assert window.tensor_panel.values.table.item(0, 1).text() == "1"
