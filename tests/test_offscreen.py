"""tests/conftest.py forces the offscreen platform whatever the shell inherited."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

# make test-slow (run by CI): fresh interpreters under each QT_QPA_PLATFORM
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
TINY = """
def test_a_window_shows(qtbot):
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QLabel

    label = QLabel("x")
    qtbot.addWidget(label)
    label.show()
    assert label.isVisible() and QGuiApplication.platformName() == "offscreen"
"""


@pytest.mark.parametrize("platform", ["", "xcb"])
def test_qt_tests_run_offscreen_whatever_the_shell_says(tmp_path, platform):
    """A child pytest with the repo's conftest and no display: an empty or xcb platform would abort Qt."""
    (tmp_path / "test_tiny.py").write_text(TINY)
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(QT_QPA_PLATFORM=platform, PYTHONPATH=str(ROOT))
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "tests.conftest",
                        "--rootdir", str(tmp_path), str(tmp_path / "test_tiny.py")], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=300)  # fmt: skip
    assert r.returncode == 0 and "1 passed" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]
