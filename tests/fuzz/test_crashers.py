"""Replay every saved crasher (``tests/fuzz/crashers/<target>/<file>``) through its target.

Each runs in a child process under RLIMIT_AS 3 GiB and a 60 s timeout, and must exit
normally (no signal), in time, with no exception but ``CheckpointError``. The ``.txt``
beside a crasher says how it was found and what it did then.

Crashers that still fail are marked ``xfail(strict=False)`` in :data:`XFAIL` with the bug
class; remove the entry once the core is fixed (the test then guards the fix).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

# make test-slow (run by CI): each saved crasher in a limited child process (2-5 s each)
pytestmark = pytest.mark.slow

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


def _replay(target: str, path: Path) -> subprocess.CompletedProcess | subprocess.TimeoutExpired:
    """One crasher in its own child (a crash or hang ends only that child)."""
    cmd = [sys.executable, "-m", "tests.fuzz.run", "--replay", str(path), "--target", target,
           "--hang-dump", str(TIMEOUT - 5)]  # fmt: skip
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT, preexec_fn=_limit_memory)
    except subprocess.TimeoutExpired as exc:
        return exc


@pytest.fixture(scope="module")
def replays(request):
    """The selected crashers' children, started together as many at a time as there are cores:
    each child spends most of its seconds importing torch, so they overlap instead of queueing."""
    here = Path(__file__).resolve()
    wanted = [(item.callspec.params["target"], item.callspec.params["path"]) for item in request.session.items
              if Path(item.path).resolve() == here and hasattr(item, "callspec")]  # fmt: skip
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    try:
        yield {case: pool.submit(_replay, *case) for case in wanted}
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize(("target", "path"), _cases())
def test_crasher_is_handled(target: str, path: Path, replays: dict[tuple[str, Path], Future]) -> None:
    proc = replays[target, path].result()
    if isinstance(proc, subprocess.TimeoutExpired):
        pytest.fail(f"{path.name}: still running after {TIMEOUT} s (hang)\n{(proc.stderr or b'')[-3000:]!r}")
    out = (proc.stdout + proc.stderr)[-5000:]
    if proc.returncode < 0:
        pytest.fail(f"{path.name}: killed by {signal.Signals(-proc.returncode).name}\n{out}")
    assert "Timeout (" not in out, f"{path.name}: hang (stack dumped after {TIMEOUT - 5} s)\n{out}"
    assert proc.returncode == 0, f"{path.name}: an exception other than CheckpointError\n{out}"
