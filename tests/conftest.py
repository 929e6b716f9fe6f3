"""Shared fixtures. Qt runs headless in every test (set before any Qt import)."""

from __future__ import annotations

import os

# forced, not defaulted: a shell's empty QT_QPA_PLATFORM, or xcb over SSH without a display,
# would make Qt abort the whole run ("Fatal Python error: Aborted")
os.environ["QT_QPA_PLATFORM"] = "offscreen"

from pathlib import Path

import pytest
import torch

DATA = Path(__file__).parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """tests/data: checkpoints saved on a real GPU (every storage tagged cuda:0)."""
    return DATA


@pytest.fixture
def demo_checkpoint(tmp_path: Path) -> Path:
    """The `make run` demo: DDP keys, Adam state, a Namespace, NaNs in layer2.0.weight."""
    from ckptviewer.demo import make_demo_checkpoint

    return make_demo_checkpoint(tmp_path / "demo.pth", steps=1)


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
