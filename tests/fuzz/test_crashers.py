"""Replay every saved crasher (``tests/fuzz/crashers/<target>/<file>``) through its target.

Each runs in a child process under RLIMIT_AS 3 GiB and a 60 s timeout, and must exit
normally (no signal), in time, with no exception but ``CheckpointError``. The ``.txt``
beside a crasher says how it was found and what it did then.

Crashers that still fail are marked ``xfail(strict=False)`` in :data:`XFAIL` with the bug
class; remove the entry once the core is fixed (the test then guards the fix).
"""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

resource = pytest.importorskip("resource")  # POSIX: the memory limit needs it

ROOT = Path(__file__).resolve().parents[2]
CRASHERS = Path(__file__).resolve().parent / "crashers"
TARGETS = ("unpickle", "zip_pkl", "zip_raw", "legacy", "safetensors", "dcp", "hf")
MEMORY = 3 << 30
TIMEOUT = 60

# "<target>/<file>": the bug class, while the core is being fixed
XFAIL: dict[str, str] = {}  # every saved crasher passes since a9e6bfa


def _cases() -> list:
    cases = []
    for target in TARGETS:
        folder = CRASHERS / target
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            if not path.is_file() or path.suffix in (".txt", ".md"):
                continue
            key = f"{target}/{path.name}"
            marks = [pytest.mark.xfail(reason=XFAIL[key], strict=False)] if key in XFAIL else []
            cases.append(pytest.param(target, path, id=key, marks=marks))
    return cases


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


@pytest.mark.parametrize(("target", "path"), _cases())
def test_crasher_is_handled(target: str, path: Path) -> None:
    cmd = [sys.executable, "-m", "tests.fuzz.run", "--replay", str(path), "--target", target,
           "--hang-dump", str(TIMEOUT - 5)]  # fmt: skip
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{path.name}: still running after {TIMEOUT} s (hang)\n{(exc.stderr or b'')[-3000:]!r}")
    out = (proc.stdout + proc.stderr)[-5000:]
    if proc.returncode < 0:
        pytest.fail(f"{path.name}: killed by {signal.Signals(-proc.returncode).name}\n{out}")
    assert "Timeout (" not in out, f"{path.name}: hang (stack dumped after {TIMEOUT - 5} s)\n{out}"
    assert proc.returncode == 0, f"{path.name}: an exception other than CheckpointError\n{out}"
