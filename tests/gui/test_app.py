"""The `ckptviewer` program itself: --screenshot, and a 20,000-tensor tree."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PySide6.QtGui import QImage

from tests.gui.conftest import open_and_wait


@pytest.mark.slow
def test_screenshot_option_writes_the_whole_window(demo_checkpoint, tmp_path):
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    exe = Path(sys.executable).parent / "ckptviewer"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "ckptviewer.gui.app"]
    r = subprocess.run([*cmd, str(demo_checkpoint), "--screenshot", str(out)], env=env, capture_output=True,
                       text=True, timeout=180)  # fmt: skip
    assert r.returncode == 0, r.stderr
    image = QImage(str(out))
    assert image.width() >= 1200 and image.height() >= 750
    assert len({image.pixel(x, y) for x in range(0, image.width(), 40) for y in range(0, image.height(), 40)}) > 10


def test_screenshot_of_a_broken_file_fails_cleanly(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_text("not a checkpoint")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    r = subprocess.run([sys.executable, "-m", "ckptviewer.gui.app", str(bad), "--screenshot", str(tmp_path / "x.png")],
                       env=env, capture_output=True, text=True, timeout=180)  # fmt: skip
    assert r.returncode == 1 and "not a PyTorch checkpoint" in r.stderr and "Traceback" not in r.stderr


def test_twenty_thousand_tensors_stay_lazy_and_filterable(qtbot, window, tmp_path):
    sd = {f"model.layers.{i // 10}.mlp.w{i % 10}": torch.zeros(2) for i in range(20_000)}
    path = tmp_path / "llm.pth"
    torch.save(sd, path)
    open_and_wait(qtbot, window, path, scan=False)
    assert window.model.root.n_tensors == 20_000
    assert window.proxy.rowCount() == 1
    start = time.perf_counter()
    window.filter.setText("layers.1999.")
    qtbot.waitUntil(lambda: window.proxy.rowCount() == 1, timeout=5000)
    layers = window.proxy.index(0, 0, window.proxy.index(0, 0))
    assert window.proxy.rowCount(layers) == 1  # only layer 1999 is left
    assert time.perf_counter() - start < 30  # generous: a guard against a hang, not a benchmark
