"""Shared fixtures. Qt runs headless in every test (set before any Qt import)."""

from __future__ import annotations

import os

# forced, not defaulted: a shell's empty QT_QPA_PLATFORM, or xcb over SSH without a display,
# would make Qt abort the whole run ("Fatal Python error: Aborted")
os.environ["QT_QPA_PLATFORM"] = "offscreen"
# remote objects' block cache: never the user's own cache folder
if "CKPT_CACHE_DIR" not in os.environ:
    import tempfile

    os.environ["CKPT_CACHE_DIR"] = tempfile.mkdtemp(prefix="ckpt-test-cache-")

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


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server for the session (started on first use); its env points s3fs at it."""
    from tests.remote_servers import S3Server

    server = S3Server()
    yield server
    server.stop()


@pytest.fixture
def http_server(tmp_path: Path):
    """An HTTP server over a fresh folder (``server.root``), honouring Range; logs requests."""
    from tests.remote_servers import RangeHTTPServer

    root = tmp_path / "www"
    root.mkdir()
    server = RangeHTTPServer(root).start()
    yield server
    server.stop()
