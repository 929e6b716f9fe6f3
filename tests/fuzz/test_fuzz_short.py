"""A short fuzz run of every target (about 30 s in all): no new crasher may appear.

Skipped where atheris is not installed. A crasher already saved in ``tests/fuzz/crashers``
(same signature) is not new; anything else fails this test and prints the file to look at.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris is not installed")


@pytest.mark.slow
def test_short_fuzz_run_finds_no_new_crasher(tmp_path):
    cmd = [
        sys.executable, "-m", "tests.fuzz.run", "--target", "all", "--seconds", "1", "--jobs", "2",
        "--random-seed", "1", "--max-restarts", "2", "--corpus", str(tmp_path / "corpus"),
        "--crashes", str(tmp_path / "crashes"),
    ]  # fmt: skip
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    summary = proc.stdout[proc.stdout.find("=== fuzz summary ===") :]
    assert proc.returncode != 2, proc.stdout + proc.stderr
    assert "=== fuzz summary ===" in proc.stdout, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert proc.returncode == 0, (
        f"the fuzzer found new crasher(s); replay with python -m tests.fuzz.run --replay FILE\n{summary}"
    )
