"""The hostile corpus opened once (``ckpt info``), in one limited child process: fast enough
for every ``make test``. ``test_corpus.py`` (slow) runs every command and the window over it.

A case that kills or hangs the child does not hide the rest: the child is started again on
the cases after it. Peak memory is checked as in ``test_corpus.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.hostile.corpus import CASES, LISTED, MARKER, REFUSED, build_all
from tests.hostile.test_corpus import FIXED_MEMORY, ROOT, SIZE_MULTIPLE, _limit_memory, _size

# 20,000 DCP entries take half a minute to write, 1000 MiB to deflate a few seconds
SLOW_TO_BUILD = {"dcp_20k_bytes_entries", "deflated_data_pkl_of_a_gigabyte"}
STEP_SECONDS = 30


def _run(paths: dict, results, env) -> tuple[list[dict], subprocess.CompletedProcess]:
    results.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "tests.hostile.child", str(results), *(f"{n}={p}" for n, p in paths.items())]
    r = subprocess.run(argv, cwd=str(ROOT), env=env, capture_output=True, text=True, preexec_fn=_limit_memory,
                       timeout=600)  # fmt: skip
    rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    return rows, r


def test_every_case_is_refused_or_listed_as_expected(tmp_path):
    marker = tmp_path / "MARKER-payload-ran"
    os.environ[MARKER] = str(marker)
    try:
        paths = build_all(tmp_path / "cases", [c.name for c in CASES if c.name not in SLOW_TO_BUILD])
    finally:
        os.environ.pop(MARKER, None)
    results = tmp_path / "results.jsonl"
    env = {**os.environ, "CKPTVIEWER_STEPS": "info", "CKPTVIEWER_STEP_SECONDS": str(STEP_SECONDS),
           "PYTHONPATH": str(ROOT)}  # fmt: skip
    outcome: dict[str, dict] = {}
    problems = []
    remaining = dict(paths)
    while remaining:
        rows, r = _run(remaining, results, env)
        done = [row for row in rows if "case" in row]
        outcome.update({row["case"]: row for row in done})
        names = list(remaining)
        remaining = {n: remaining[n] for n in names[len(done) :]}
        if r.returncode != 0:  # the next case killed or hung the child: note it, go on after it
            culprit = names[len(done)] if len(done) < len(names) else "?"
            why = "timed out" if any(row.get("timeout") for row in rows) else f"died ({r.returncode})"
            problems.append(f"{culprit}: the child {why}: {r.stderr.strip()[-300:]}")
            remaining.pop(culprit, None)
    assert not marker.exists(), "a payload ran"
    for case in CASES:
        if case.name in SLOW_TO_BUILD or case.name not in outcome:
            continue
        row = outcome[case.name]
        want = {REFUSED: 1, LISTED: 0}[case.expect]
        if row["rc"] != want or "unexpected" in row["stderr"]:
            problems.append(f"{case.name}: exit {row['rc']} (want {want}): {row['stderr'][:200]}")
        if "SECRET-DO-NOT-SHOW" in row["stderr"]:
            problems.append(f"{case.name}: an error message quotes a file outside the checkpoint")
        size = _size(paths[case.name])
        if row["peak_growth"] > SIZE_MULTIPLE * size + FIXED_MEMORY:
            problems.append(f"{case.name}: peak memory grew by {row['peak_growth'] >> 20} MiB for {size:,} bytes")
    assert not problems, "\n".join(problems)
