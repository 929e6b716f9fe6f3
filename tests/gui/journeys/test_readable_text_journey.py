"""What the window says about numbers reads right: complex statistics are magnitudes, and
the Parameters column counts model parameters only."""

from __future__ import annotations

import torch

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
