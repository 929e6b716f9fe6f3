"""The window paints the layer tree before the heavy imports (issue #14).

Whole processes, as a user starts them: ``ckptviewer FILE --quit-after-first-paint`` prints
when the tree was first painted and which heavy modules were loaded by then. No timing is
asserted here (bench/ measures it); what is asserted is the order of things.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from torch import nn

from ckptviewer.gui import engine


def _ckptviewer(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run the installed ``ckptviewer`` script offscreen, with settings of its own (not the user's)."""
    script = Path(sys.executable).with_name("ckptviewer")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "ckptviewer.gui.app"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    return subprocess.run([*command, *args], env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def model_file(tmp_path) -> Path:
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.Flatten(), nn.Linear(8, 4))
    path = tmp_path / "small.pth"
    torch.save(model.state_dict(), path)
    return path


def _figures(stdout: str) -> dict[str, str]:
    return dict(re.findall(r"^([a-z-]+)[=:] ?(.*)$", stdout, re.MULTILINE))


def test_first_paint_comes_before_pyqtgraph_and_torch(tmp_path, model_file):
    proc = _ckptviewer(tmp_path, str(model_file), "--quit-after-first-paint")
    assert proc.returncode == 0, proc.stderr
    figures = _figures(proc.stdout)
    assert float(figures["first-paint-s"]) > 0
    loaded = dict(part.split("=") for part in figures["loaded-at-first-paint"].split())
    assert loaded["pyqtgraph"] == "no"  # the plots are built after the tree is on screen
    assert loaded["torch"] == "no"  # the open and the tree use core's torch-free listing path


def test_selected_tensor_statistics_wait_for_the_background_import(tmp_path, model_file):
    proc = _ckptviewer(tmp_path, str(model_file), "--quit-after-first-paint", "--select", "4.weight")
    assert proc.returncode == 0, proc.stderr
    figures = _figures(proc.stdout)
    first, ready, stats = (float(figures[k]) for k in ("first-paint-s", "torch-ready-s", "stats-s"))
    assert first <= ready <= stats  # torch loads after the paint; the statistics wait for it


def test_first_paint_flag_needs_a_file(tmp_path):
    proc = _ckptviewer(tmp_path, "--quit-after-first-paint")
    assert proc.returncode == 2
    assert "needs a FILE" in proc.stderr


def test_process_seconds_counts_from_the_process_start():
    # the process started before ckptviewer.gui.engine was imported (interpreter and pytest start-up)
    since_import = time.perf_counter() - engine._T0
    assert since_import < engine.process_seconds() < since_import + 3600


def test_load_imports_the_engine_and_says_ready():
    engine.load()  # torch is imported in this process already: no wait for a window
    assert engine.is_ready()
    assert engine.ready_at is not None and engine.ready_at > 0
    called = []
    engine.on_ready(lambda: called.append(True))  # once ready, a new listener is called at once
    assert called == [True]


def test_status_bar_says_when_computing_becomes_available(qtbot, window):
    label = window.status.engine_label
    window.status.ready_ms = 50
    assert not label.isVisible()
    window.status.show_engine(False)
    assert label.isVisible() and label.text() == "Loading the compute engine…"
    window.status.show_engine(True)
    assert label.text() == "Ready"
    qtbot.waitUntil(lambda: not label.isVisible(), timeout=10_000)  # "Ready" goes away by itself
    window.status.show_engine(True)  # in already when a window opens: nothing to announce
    assert not label.isVisible()
