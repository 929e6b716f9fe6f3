"""What the window says about numbers reads right: complex statistics are magnitudes, and
the Parameters column counts model parameters only."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt

from tests.gui.journeys.kit_inspect import open_through_menu, save, select_by_keys


def test_complex_statistics_are_labelled_as_magnitudes(qtbot, shell, tmp_path):
    path = save({"real": torch.randn(4), "spectrum": torch.tensor([3 + 4j, 0j, -1 + 0j])}, tmp_path / "fft.pt")
    page = open_through_menu(qtbot, shell, path, scan=False)

    select_by_keys(qtbot, page, "spectrum")
    rows = dict(page.tensor_panel.stats.rows())
    assert rows["max |z|"] == "5" and rows["min |z|"] == "0", rows  # |3+4j| = 5
    assert "mean |z|" in rows and "mean" not in rows

    select_by_keys(qtbot, page, "real")
    labels = [name for name, _ in page.tensor_panel.stats.rows()]
    assert "min" in labels and not any("|z|" in name for name in labels)


def test_parameters_column_counts_the_model_not_the_optimizer(qtbot, shell, tmp_path):
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))  # 15 + 6 parameters, 3 buffers
    opt = torch.optim.Adam(model.parameters())
    model(torch.randn(8, 4)).sum().backward()
    opt.step()  # Adam state: exp_avg and exp_avg_sq per parameter, 42 elements that are not the model's
    path = save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1}, tmp_path / "train.pt")
    page = open_through_menu(qtbot, shell, path, scan=False)

    proxy = page.proxy
    headers = [proxy.headerData(c, Qt.Orientation.Horizontal) for c in range(proxy.columnCount())]
    column = headers.index("Parameters")
    shown = {proxy.index(r, 0).data(): proxy.index(r, column).data() for r in range(proxy.rowCount())}
    assert shown["model"] == "21", shown  # the same figure `ckpt info` gives
    assert shown["optimizer"] == "", shown  # optimizer state holds no model parameters
