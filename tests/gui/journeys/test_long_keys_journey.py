"""Journey 6: big and long — 150-character Lightning keys, long metadata, a small screen, unusual dtypes."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.journeys.conftest import shoot
from tests.gui.journeys.kit_inspect import open_through_menu, save, select_by_keys, settle

LONG = (
    "model.backbone.encoder.layers.0." + "attention_with_rotary_embeddings_and_grouped_query_" * 2 + "projection.weight"
)
HPARAM = "a_really_long_hyper_parameter_name_that_goes_on_" * 3


def _lightning(tmp_path):
    assert len(LONG) >= 150
    sd = {LONG: torch.randn(16, 8), "model.head.weight": torch.randn(4, 16)}
    sd["model.head.bias"] = torch.tensor([1.0, float("nan"), float("inf"), 0.0])
    ckpt = {
        "state_dict": sd,
        "epoch": 3,
        "global_step": 1200,
        "pytorch-lightning_version": "2.1.0",
        "hyper_parameters": {HPARAM: "/data/" + "very/deep/folder/" * 12 + "train.jsonl", "lr": 3e-4},
    }
    return save(ckpt, tmp_path / "lightning.ckpt")


def test_a_150_character_key_is_elided_and_never_widens_the_window(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _lightning(tmp_path))
    size, tree_width = shell.size(), page.tree.width()
    select_by_keys(qtbot, page, "state_dict." + LONG)
    settle()
    assert shell.size() == size and shell.minimumSizeHint().width() < 1024
    assert page.tree.width() >= tree_width - 4  # the tree keeps its width
    title = page.tensor_panel.title
    assert title.text() == "state_dict." + LONG and "…" in title.shown_text()  # cut in the middle...
    assert title.shown_text().startswith("state_dict.model") and title.shown_text().endswith("projection.weight")
    assert LONG in title.toolTip()  # ...and whole on hover
    assert page.tree.textElideMode() == Qt.TextElideMode.ElideMiddle
    shell.resize(1024, 640)
    settle()
    assert shell.width() == 1024 and page.tree.width() > 300
    shoot(shell, "long-keys-inspector")


def test_metadata_and_health_keep_values_on_screen(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _lightning(tmp_path))
    shell.resize(1024, 640)
    settle()
    page.tabs.setFocus()
    QTest.keyClick(page.tabs.tabBar(), Qt.Key.Key_Right)  # Metadata, by keys
    assert page.tabs.currentWidget() is page.metadata_panel
    settle()
    meta = page.metadata_panel.tree
    assert meta.columnWidth(0) <= meta.viewport().width() * 0.5  # the value column keeps half the width
    item = page.metadata_panel.find(HPARAM)
    assert item is not None and HPARAM in item.toolTip(0) and "train.jsonl" in item.toolTip(1)
    shoot(shell, "long-keys-metadata")
    QTest.keyClick(page.tabs.tabBar(), Qt.Key.Key_Right)  # Health
    assert page.tabs.currentWidget() is page.health_panel
    settle()
    health = page.health_panel.list
    assert health.topLevelItemCount() >= 1
    assert health.columnWidth(0) <= health.viewport().width() * 0.5
    shoot(shell, "long-keys-health")


def test_small_screen_shows_every_statistic_and_nan_rows(qtbot, shell, tmp_path):
    page = open_through_menu(qtbot, shell, _lightning(tmp_path))
    shell.resize(1024, 640)
    select_by_keys(qtbot, page, "state_dict.model.head.bias")
    settle()
    stats = page.tensor_panel.stats
    assert dict(stats.rows())["NaN"] == "1" and dict(stats.rows())["Inf"] == "1"
    for row in range(stats.rowCount()):  # every row inside the table's viewport
        rect = stats.visualRect(stats.model().index(row, 1))
        assert stats.viewport().rect().contains(rect), f"row {stats.item(row, 0).text()} is clipped"
    assert stats.columnWidth(0) >= stats.fontMetrics().horizontalAdvance("L2 norm")
    shoot(shell, "long-keys-small-screen")


def test_bfloat16_float8_and_complex_values_are_readable(qtbot, shell, tmp_path):
    sd = {
        "bf16.weight": torch.tensor([[1.5, -2.25], [3.0, 0.1]], dtype=torch.bfloat16),
        "f8.weight": torch.tensor([[0.5, -1.0], [2.0, 448.0]]).to(torch.float8_e4m3fn),
        "complex.weight": torch.tensor([[1 + 2j, -0.5j], [3.25 - 1j, 0j]], dtype=torch.complex64),
    }
    page = open_through_menu(qtbot, shell, save(sd, tmp_path / "dtypes.pth"))
    values = page.tensor_panel.values.table

    def shown(key):
        select_by_keys(qtbot, page, key)
        qtbot.waitUntil(lambda: values.rowCount() == 4, timeout=20_000)
        return [values.item(r, 1).text() for r in range(values.rowCount())], dict(page.tensor_panel.stats.rows())

    vals, stats = shown("bf16.weight")
    assert vals[:3] == ["1.5", "-2.25", "3"] and stats["max"] == "3"
    vals, stats = shown("f8.weight")
    assert vals == ["0.5", "-1", "2", "448"] and stats["max"] == "448"
    vals, stats = shown("complex.weight")
    assert vals == ["1+2j", "0-0.5j", "3.25-1j", "0+0j"], vals
    print(stats)
    assert page.tensor_panel.title.text() == "complex.weight"
    shoot(shell, "long-keys-dtypes")
