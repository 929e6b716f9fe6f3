"""`ckpt info` in a subprocess on bad, damaged and hostile files.

Contract: a bad file exits 1 with exactly one line on stderr, ``ckpt: error: ...``, no
traceback, within 60 s (a hang fails the test); a hostile pickle is listed (exit 0) with
its globals reported and nothing run. Each run pays for importing torch (~2 s), so the
runs start together in a module fixture and each test waits for its own.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from tests import badfiles as bad

TIMEOUT = 60
CKPT = [sys.executable, "-m", "ckptviewer"]

Result = subprocess.CompletedProcess | subprocess.TimeoutExpired


def run_ckpt(*args: str, prefix: list[str] | None = None, **kwargs) -> Result:
    """Run ``ckpt ARGS``; a run past TIMEOUT is killed and returned as TimeoutExpired."""
    cmd = [*(prefix or []), *CKPT, *args]
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL, **kwargs)
    except subprocess.TimeoutExpired as exc:
        return exc


def _missing_storage(tmp: Path) -> Path:
    return bad.zip_missing_storage(tmp)[0]


# name -> (factory, words the one-line error must contain, case-insensitive)
BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "empty_file": (bad.empty_file, ("empty",)),
    "random_bytes": (bad.random_bytes, ("not a pytorch checkpoint",)),
    "text_file": (bad.text_file, ("text file",)),
    "plain_zip": (bad.plain_zip, ("without data.pkl",)),
    "truncated_zip": (bad.truncated_zip, ("truncated",)),
    "zip_missing_storage": (_missing_storage, ("data/0", "missing")),
    "zip_lying_shape": (bad.zip_lying_shape, ("[1000, 1000]", "storage holds 16")),
    "safetensors_shape_lie": (bad.safetensors_shape_lie, ("spans 16 bytes",)),
    "safetensors_offsets_past_end": (bad.safetensors_offsets_past_end, ("outside",)),
    "safetensors_huge_header_len": (bad.safetensors_huge_header_len, (str(bad.HUGE_HEADER_LEN),)),
    "directory": (bad.directory, ("is a directory",)),
    "missing_path": (bad.missing_path, ("no such file",)),
    "named_pipe": (bad.named_pipe, ("named pipe",)),
    "truncated_legacy": (bad.truncated_legacy, ("truncated",)),
}

SYSTEM = f"{os.system.__module__}.system"  # posix.system on Linux and macOS
BLOCKED = {
    "system": {SYSTEM},
    "eval": {"builtins.eval"},
    "popen": {"subprocess.Popen"},
    "getattr_chain": {"builtins.getattr", "importlib.import_module"},
}
HOSTILE = [(kind, False) for kind in bad.PAYLOADS] + [("system", True)]


def _hostile_id(kind: str, legacy: bool) -> str:
    return f"{kind}-{'legacy' if legacy else 'zip'}"


class Runs:
    """Files made up front and their `ckpt` runs, started together on a thread pool."""

    def __init__(self, root: Path, pool: ThreadPoolExecutor) -> None:
        self.bad: dict[str, tuple[Path, Future[Result]]] = {}
        self.hostile: dict[str, tuple[Path, Path, Future[Result]]] = {}
        for name, (factory, _) in BAD_INPUTS.items():
            (root / name).mkdir()
            path = factory(root / name)
            self.bad[name] = (path, pool.submit(run_ckpt, "info", str(path)))
        for kind, legacy in HOSTILE:
            name = _hostile_id(kind, legacy)
            (root / name).mkdir()
            marker = root / name / "MARKER"
            path = bad.hostile_checkpoint(root / name, kind, marker, legacy=legacy)
            self.hostile[name] = (path, marker, pool.submit(run_ckpt, "info", "--json", str(path)))


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    try:
        yield Runs(tmp_path_factory.mktemp("cli_bad"), pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def finished(result: Result, what: str) -> subprocess.CompletedProcess:
    if isinstance(result, subprocess.TimeoutExpired):
        pytest.fail(f"ckpt did not finish within {TIMEOUT} s on {what} (hangs); stderr: {result.stderr!r}")
    return result


def assert_one_line_error(r: subprocess.CompletedProcess, path: Path, words: tuple[str, ...]) -> None:
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 1, f"exit {r.returncode}, stderr: {r.stderr!r}"
    assert r.stderr.endswith("\n") and r.stderr.count("\n") == 1, f"not exactly one stderr line: {r.stderr!r}"
    line = r.stderr.rstrip("\n")
    assert line.startswith("ckpt: error:"), line
    assert str(path) in line, f"the error does not name the file: {line}"
    for word in words:
        assert word.lower() in line.lower(), f"{word!r} not in {line!r}"
    assert "unexpected" not in line, f"an internal error leaked instead of a CheckpointError: {line}"
    assert r.stdout == "", r.stdout


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_exits_1_with_one_error_line(runs, name):
    path, future = runs.bad[name]
    r = finished(future.result(), name)
    assert_one_line_error(r, path, BAD_INPUTS[name][1])


def test_unreadable_file_exits_1_with_permission_denied():
    """Root reads mode-000 files, so ckpt runs as uid 65534 or as root without the
    capabilities that bypass permissions (badfiles.read_denied_runner); skipped with the
    reason if neither can run this Python."""
    parent = bad.world_traversable_dir()
    try:
        path = bad.unreadable_file(parent)
        runner = bad.read_denied_runner(sys.executable, path)
        if isinstance(runner, str):
            pytest.skip(runner)
        prefix, kwargs = runner
        r = finished(run_ckpt("info", str(path), prefix=prefix, **kwargs), "an unreadable file")
        assert_one_line_error(r, path, ("permission denied",))
    finally:
        shutil.rmtree(parent, ignore_errors=True)


@pytest.mark.parametrize("name", [_hostile_id(*h) for h in HOSTILE])
def test_hostile_pickle_is_listed_with_its_globals_and_nothing_runs(runs, name):
    path, marker, future = runs.hostile[name]
    r = finished(future.result(), name)
    # the payload's call is a recorded placeholder, so nothing ran (a marker would be late for Popen)
    assert json.loads(r.stdout)["metadata"]["hook"]["__not_executed__"] is True, r.stdout[-500:]
    assert not marker.exists(), f"ckpt info RAN the payload: {marker} exists"
    assert "Traceback" not in r.stderr, r.stderr
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["path"] == str(path)
    assert [t["key"] for t in doc["tensors"]] == [f"model.{k}" for k in bad.real_tensors()]
    assert [t["shape"] for t in doc["tensors"]] == [list(t.shape) for t in bad.real_tensors().values()]
    expected = BLOCKED[name.split("-")[0]]
    assert expected <= set(doc["unsafe_globals"]), doc["unsafe_globals"]
    assert expected <= set(doc["blocked_globals"]), doc["blocked_globals"]
    assert doc["trusted"] is False
    assert doc["metadata"]["hook"]["__not_executed__"] is True
