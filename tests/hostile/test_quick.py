"""The hostile corpus opened once (``ckpt info``), in one child process with a memory
limit: fast enough for every ``make test``. ``test_corpus.py`` (slow) runs every command
and the window over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.hostile.corpus import CASES, LISTED, MARKER, REFUSED, build_all
from tests.hostile.test_corpus import ROOT, _limit_memory

# 20,000 DCP entries take half a minute to write, 1000 MiB to deflate a few seconds
SLOW_TO_BUILD = {"dcp_20k_bytes_entries", "deflated_data_pkl_of_a_gigabyte"}


def test_every_case_is_refused_or_listed_as_expected(tmp_path):
    marker = tmp_path / "MARKER-payload-ran"
    os.environ[MARKER] = str(marker)
    try:
        paths = build_all(tmp_path / "cases", [c.name for c in CASES if c.name not in SLOW_TO_BUILD])
    finally:
        os.environ.pop(MARKER, None)
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "CKPTVIEWER_STEPS": "info", "CKPTVIEWER_STEP_SECONDS": "30", "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "tests.hostile.child", str(results), *(f"{n}={p}" for n, p in paths.items())]
    r = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True, preexec_fn=_limit_memory,
                       timeout=600)  # fmt: skip
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    assert r.returncode == 0, f"child died ({r.returncode}) after {rows[-1] if rows else None}: {r.stderr[-2000:]}"
    assert not marker.exists(), "a payload ran"
    outcome = {row["case"]: row for row in rows}
    problems = []
    for case in CASES:
        if case.name in SLOW_TO_BUILD:
            continue
        row = outcome[case.name]
        want = {REFUSED: 1, LISTED: 0}[case.expect]
        if row["rc"] != want or "unexpected" in row["stderr"]:
            problems.append(f"{case.name}: exit {row['rc']} (want {want}): {row['stderr'][:200]}")
        if "SECRET-DO-NOT-SHOW" in row["stderr"]:
            problems.append(f"{case.name}: an error message quotes a file outside the checkpoint")
    assert not problems, "\n".join(problems)
