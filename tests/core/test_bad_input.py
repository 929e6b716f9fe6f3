"""open_checkpoint on bad, damaged and hostile files: a clear CheckpointError, never a hang,
never a huge allocation, and never a line of code from the file run unless trusted.

Every file is real: written by torch.save, safetensors-by-hand, zipfile or byte surgery
(see tests/badfiles.py).
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from ckptviewer.core import CheckpointError, DeviceError, open_checkpoint
from ckptviewer.core.summary import info_document
from tests import badfiles as bad

# --- controls: the factories' undamaged files open, so only the damage makes them fail ------


@pytest.mark.parametrize("factory", [bad.good_zip, bad.copied_zip, bad.good_legacy])
def test_control_undamaged_torch_files_open(tmp_path, factory):
    ckpt = open_checkpoint(factory(tmp_path), device="cpu")
    expected = bad.real_tensors()
    assert list(ckpt.tensors) == list(expected)
    for key, t in expected.items():
        assert torch.equal(ckpt.tensor(key), t), key
    assert ckpt.unsafe_globals == [] and ckpt.blocked_globals == []


def test_control_hand_crafted_data_pkl_with_an_honest_shape_opens(tmp_path):
    ckpt = open_checkpoint(bad.zip_lying_shape(tmp_path, claimed=(4, 4)), device="cpu")
    assert torch.equal(ckpt.tensor("w"), torch.arange(16, dtype=torch.float32).reshape(4, 4))


def test_control_hand_written_safetensors_opens(tmp_path):
    ckpt = open_checkpoint(bad.good_safetensors(tmp_path), device="cpu")
    assert torch.equal(ckpt.tensor("w"), torch.arange(16, dtype=torch.float32).reshape(4, 4))


# --- bad inputs: one CheckpointError, a message that says what is wrong -----------------------


def _missing_storage(tmp: Path) -> Path:
    path, dropped = bad.zip_missing_storage(tmp)
    assert dropped.endswith("/data/0")
    return path


# name -> (factory, words the message must contain, case-insensitive)
BAD_INPUTS: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "empty_file": (bad.empty_file, ("not a pytorch checkpoint", "empty", "0 bytes")),
    "random_bytes": (bad.random_bytes, ("not a pytorch checkpoint", "binary", "4096 bytes")),
    "text_file": (bad.text_file, ("not a pytorch checkpoint", "text file")),
    "plain_zip": (bad.plain_zip, ("zip", "without data.pkl", "1 other entries")),
    "truncated_zip": (bad.truncated_zip, ("zip", "truncated")),
    "zip_missing_storage": (_missing_storage, ("data/0", "missing")),
    "zip_short_storage": (bad.zip_short_storage, ("data/0", "2048 bytes", "8192")),
    "zip_lying_shape": (bad.zip_lying_shape, ("'w'", "[1000, 1000]", "storage holds 16", "damaged or forged")),
    "safetensors_shape_lie": (bad.safetensors_shape_lie, ("'w'", "shape [4, 4]", "64 bytes", "spans 16 bytes")),
    "safetensors_offsets_past_end": (bad.safetensors_offsets_past_end, ("'w'", "0..4000", "outside", "64 data bytes")),
    "safetensors_huge_header_len": (bad.safetensors_huge_header_len, ("header", str(bad.HUGE_HEADER_LEN), "only")),
    "directory": (bad.directory, ("is a directory",)),
    "missing_path": (bad.missing_path, ("no such file",)),
    "named_pipe": (bad.named_pipe, ("not a regular file", "named pipe")),
    "truncated_legacy": (bad.truncated_legacy, ("storage", "truncated")),
    "truncated_legacy_in_pickle": (lambda tmp: bad.truncated_legacy(tmp, keep=0.01), ("legacy", "truncated")),
}


def open_with_deadline(path: Path, seconds: float = 20) -> BaseException | None:
    """open_checkpoint(path) in a thread; fail the test if it has not returned in time.

    A reader blocked on a FIFO is released by opening the write end, so a hang fails
    this test instead of wedging the whole run.
    """
    outcome: list[BaseException | None] = []

    def target() -> None:
        try:
            open_checkpoint(path, device="cpu").close()
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        if path.is_fifo():
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail(f"open_checkpoint({path.name}) did not return within {seconds} s (hangs)")
    return outcome[0]


def assert_helpful(exc: BaseException | None, path: Path, words: tuple[str, ...]) -> None:
    assert exc is not None, f"{path.name} opened without error"
    assert isinstance(exc, CheckpointError), f"{type(exc).__name__} escaped instead of CheckpointError: {exc}"
    assert not isinstance(exc, DeviceError)
    message = str(exc)
    assert "\n" not in message, f"message is not one line: {message!r}"
    assert str(path) in message, f"message does not name the file: {message!r}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_raises_a_helpful_checkpoint_error(tmp_path, name):
    factory, words = BAD_INPUTS[name]
    path = factory(tmp_path)
    start = time.monotonic()
    exc = open_with_deadline(path)
    assert time.monotonic() - start < 10, "rejecting a small bad file should be fast"
    assert_helpful(exc, path, words)
    # the message never quotes what a file that is not a checkpoint holds (it may be /etc/shadow)
    content = path.read_bytes()[:200].decode("utf-8", "ignore") if path.is_file() else ""
    for line in content.splitlines():
        assert len(line.strip()) < 6 or line.strip() not in str(exc), f"quotes the file: {line!r}"


@pytest.mark.parametrize("claimed", [2**62, 2**64 - 1, 50 * 2**20], ids=["2**62", "2**64-1", "50MiB"])
def test_safetensors_header_length_larger_than_file_is_not_allocated(tmp_path, claimed):
    """The 8-byte header length is checked against the file size before reading it.

    50 MiB is under the 100 MB header cap, so only the size check stops a read of it.
    """
    good = bad.good_safetensors(tmp_path).read_bytes()
    path = tmp_path / "lying_length.safetensors"
    path.write_bytes(claimed.to_bytes(8, "little") + good[8:])
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    tracemalloc.start()
    start = time.monotonic()
    try:
        with pytest.raises(CheckpointError) as err:
            open_checkpoint(path, device="cpu")
        elapsed = time.monotonic() - start
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert elapsed < 1.0, f"took {elapsed:.2f} s"
    assert peak < 4 * 2**20, f"Python allocations peaked at {peak / 2**20:.1f} MiB"
    assert rss_growth_mib < 40, f"peak RSS grew by {rss_growth_mib:.0f} MiB"
    assert str(claimed) in str(err.value) and "header" in str(err.value)


_CORE_OPEN_SCRIPT = """
import json, sys
from ckptviewer.core import CheckpointError, open_checkpoint
try:
    open_checkpoint(sys.argv[1], device="cpu")
    print(json.dumps({"error": None}))
except CheckpointError as exc:
    print(json.dumps({"error": type(exc).__name__, "message": str(exc)}))
"""


def test_unreadable_file_raises_permission_denied():
    """A mode-000 file. Root reads anything, so the open runs in a Python that cannot:
    in-process as a normal user, else a subprocess as uid 65534 or as root without
    CAP_DAC_OVERRIDE (see badfiles.read_denied_runner).
    """
    parent = bad.world_traversable_dir()
    try:
        path = bad.unreadable_file(parent)
        if os.geteuid() != 0 and not os.access(path, os.R_OK):
            assert_helpful(open_with_deadline(path), path, ("permission denied",))
            return
        runner = bad.read_denied_runner(sys.executable, path)
        if isinstance(runner, str):
            pytest.skip(runner)
        prefix, kwargs = runner
        r = subprocess.run(
            [*prefix, sys.executable, "-c", _CORE_OPEN_SCRIPT, str(path)],
            capture_output=True, text=True, timeout=60, **kwargs,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        outcome = json.loads(r.stdout)
        assert outcome["error"] is not None, "the unreadable file opened"
        message = outcome["message"]
        assert "\n" not in message and str(path) in message
        assert "permission denied" in message.lower(), message
    finally:
        shutil.rmtree(parent, ignore_errors=True)


# --- hostile pickles: nothing runs, the real tensors are listed, the globals are reported -----

SYSTEM = f"{os.system.__module__}.system"  # posix.system on Linux and macOS

BLOCKED = {
    "system": {SYSTEM},
    "eval": {"builtins.eval"},
    "popen": {"subprocess.Popen"},
    "getattr_chain": {"builtins.getattr", "importlib.import_module"},
}


def assert_not_run(marker: Path, kind: str) -> None:
    """Nothing ran: no marker, and no process was started (a Popen payload would leave a child)."""
    assert not marker.exists(), f"the {kind} payload RAN: {marker} was created"
    assert not _children(), f"the {kind} payload started a process: {_children()}"


def _children() -> list[str]:
    """Processes this one started (Linux: /proc/self/task/*/children)."""
    found: list[str] = []
    for task in Path("/proc/self/task").glob("*"):
        try:
            found += (task / "children").read_text().split()
        except OSError:
            pass
    return found


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("kind", list(bad.PAYLOADS))
def test_hostile_pickle_is_listed_without_running_code(tmp_path, kind, legacy):
    marker = tmp_path / f"MARKER_{kind}"
    path = bad.hostile_checkpoint(tmp_path, kind, marker, legacy=legacy)
    assert_not_run(marker, kind)  # torch.save did not run it either

    with open_checkpoint(path, device="cpu") as ckpt:
        assert_not_run(marker, kind)
        assert ckpt.format == ("torch-legacy" if legacy else "torch-zip")
        expected = {f"model.{k}": t for k, t in bad.real_tensors().items()}
        assert list(ckpt.tensors) == list(expected)
        for key, t in expected.items():  # listing and reading the real tensors still works
            assert ckpt.tensors[key].shape == tuple(t.shape)
            assert torch.equal(ckpt.tensor(key), t), key
        assert BLOCKED[kind] <= set(ckpt.blocked_globals), ckpt.blocked_globals
        assert set(ckpt.blocked_globals) <= set(ckpt.unsafe_globals)
        assert not ckpt.trusted
        assert ckpt.metadata["epoch"] == 3
        hook = ckpt.metadata["hook"]
        assert hook.get("__not_executed__") is True, hook
        json.dumps(info_document(ckpt))  # the report with the placeholder is still plain JSON
    assert_not_run(marker, kind)


@pytest.mark.parametrize("legacy", [False, True], ids=["zip", "legacy"])
@pytest.mark.parametrize("kind", list(bad.PAYLOADS))
def test_trusted_open_does_run_the_payload(tmp_path, kind, legacy):
    """The payloads are live: with trust=True torch.load runs them, so the tests above
    would catch a reader that executed them."""
    marker = tmp_path / f"MARKER_{kind}"
    path = bad.hostile_checkpoint(tmp_path, kind, marker, legacy=legacy)
    with open_checkpoint(path, device="cpu", trust=True) as ckpt:
        assert ckpt.trusted
        assert list(ckpt.tensors) == [f"model.{k}" for k in bad.real_tensors()]
        if kind == "popen":
            ckpt.root["hook"].wait(timeout=30)
    assert marker.exists(), f"trusted open of the {kind} payload did not create the marker"
