"""Every hostile case through every command and the window, each batch in a child process
with a memory limit (RLIMIT_AS 3 GiB) and a time limit per step.

For every case and step: nothing ran (no marker file), the child was not killed by a
signal and did not time out, no "unexpected" error, a refusal is one clear line, peak
resident memory grew by at most ``8 x the input's size + 400 MiB`` (the fixed part is
torch's and Qt's own working memory on first use), and an accepted file lists what
``torch.load(weights_only=True)`` returns.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.hostile.corpus import CASES, LISTED, MARKER, REFUSED, build_all

ROOT = Path(__file__).parents[2]
MEMORY_LIMIT = 3 << 30
STEP_SECONDS = 60
FIXED_MEMORY = 400 << 20
SIZE_MULTIPLE = 8
CLASSES = sorted({c.cls for c in CASES})

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[dict[str, Path], Path]:
    folder = tmp_path_factory.mktemp("hostile")
    marker = folder / "MARKER-payload-ran"
    os.environ[MARKER] = str(marker)  # the payloads name this file
    try:
        return build_all(folder / "cases"), marker
    finally:
        os.environ.pop(MARKER, None)


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return path.stat().st_size


def _expected(case, step: str) -> str:
    return case.commands.get(step, case.expect)


@pytest.mark.parametrize("cls", CLASSES)
def test_hostile_class(corpus, cls, tmp_path):
    paths, marker = corpus
    cases = [c for c in CASES if c.cls == cls]
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "CKPTVIEWER_STEP_SECONDS": str(STEP_SECONDS),
           "PYTHONPATH": str(ROOT), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    argv = [sys.executable, "-m", "tests.hostile.child", str(results), *(f"{c.name}={paths[c.name]}" for c in cases)]
    r = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True, preexec_fn=_limit_memory,
                       timeout=STEP_SECONDS * 8 * len(cases) + 120)  # fmt: skip
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    last = rows[-1] if rows else {}
    assert r.returncode == 0, f"child died ({r.returncode}) after {last}: {r.stderr[-3000:]}"
    assert not any(row.get("timeout") for row in rows), f"time limit hit: {[row for row in rows if row.get('timeout')]}"
    assert not marker.exists(), "a payload ran"
    by_case: dict[str, dict[str, dict]] = {}
    for row in rows:
        by_case.setdefault(row["case"], {})[row["step"]] = row
    problems = []
    for case in cases:
        steps = by_case.get(case.name, {})
        size = _size(paths[case.name])
        for step in ("info", "stats", "scan", "diff", "strip", "convert", "gui", "reference"):
            row = steps.get(step)
            if row is None:
                problems.append(f"{case.name}:{step} did not run")
                continue
            err, rc = row["stderr"], row["rc"]
            where = f"{case.name}:{step} (rc {rc}, {row['seconds']} s)"
            if "unexpected" in err.lower() or "traceback" in err.lower():
                problems.append(f"{where}: {err[:300]}")
            if rc not in (0, -1) and step not in ("gui", "reference") and err.count("\n") > 0:
                problems.append(f"{where}: a refusal of more than one line: {err[:300]}")
            if row["peak_growth"] > SIZE_MULTIPLE * size + FIXED_MEMORY:
                problems.append(f"{where}: peak memory grew by {row['peak_growth'] >> 20} MiB for {size:,} bytes")
            want = _expected(case, step)
            if step == "reference":
                if case.expect == LISTED and rc == 1:
                    problems.append(f"{where}: the listing differs from torch.load: {err}")
                continue
            refused_rc = 2 if step == "diff" else 1
            if want == REFUSED and rc != refused_rc:
                problems.append(f"{where}: should be refused (exit {refused_rc}): {err[:200]}")
            if want == LISTED:
                ok = {"info": {0}, "stats": {0}, "scan": {0}, "diff": {0, 1}, "gui": {0}}.get(step, {0, 1})
                if rc not in ok:
                    problems.append(f"{where}: should succeed: {err[:300]}")
    assert not problems, "\n".join(problems)
