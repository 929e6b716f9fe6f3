"""Runs hostile inputs through every way ckptviewer reads a file, in one child process.

``python -m tests.hostile.child RESULTS CASE=PATH ...`` runs, for each case, the ``ckpt``
commands info, stats, scan, diff, strip (a surgery) and convert in-process, then opens the
file in the window (offscreen), and compares an accepted listing with ``torch.load``.
One JSON line per step goes to RESULTS as soon as the step ends, so a crash or a kill
still tells which step it was. Per step: exit status, first stderr line, seconds, and
the growth of peak resident memory (the peak is reset before each step through
/proc/self/clear_refs). A watchdog ends the process with status 124 when one step takes
longer than CKPTVIEWER_STEP_SECONDS.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

STEP_SECONDS = float(os.environ.get("CKPTVIEWER_STEP_SECONDS", "60"))
STEPS = ("info", "stats", "scan", "diff", "strip", "convert", "gui", "reference")
CHOSEN = tuple(os.environ.get("CKPTVIEWER_STEPS", ",".join(STEPS)).split(","))


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets VmHWM to the current RSS


class Watchdog:
    """Ends the process if the current step runs past its time limit."""

    def __init__(self, results: io.TextIOBase) -> None:
        self.results = results
        self.deadline: float | None = None
        self.step = ""
        threading.Thread(target=self._watch, daemon=True).start()

    def start(self, step: str) -> None:
        self.step, self.deadline = step, time.monotonic() + STEP_SECONDS

    def stop(self) -> None:
        self.deadline = None

    def _watch(self) -> None:
        while True:
            time.sleep(0.2)
            if self.deadline is not None and time.monotonic() > self.deadline:
                self.results.write(json.dumps({"step": self.step, "timeout": True}) + "\n")
                self.results.flush()
                os._exit(124)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    from ckptviewer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse
            rc = exc.code if isinstance(exc.code, int) else 2
    return rc, out.getvalue(), err.getvalue()


def cli_steps(path: Path, work: Path) -> dict[str, list[str]]:
    return {
        "info": ["info", str(path), "--json", "--device", "cpu"],
        "stats": ["stats", str(path), "--json", "--device", "cpu"],
        "scan": ["scan", str(path), "--json", "--device", "cpu"],
        "diff": ["diff", str(path), str(path), "--json", "--device", "cpu"],
        "strip": ["strip", str(path), "-o", str(work / "stripped.pth"), "--force"],
        "convert": ["convert", str(path), "-o", str(work / "converted.safetensors"), "--force"],
    }


def gui_open(path: Path) -> tuple[int, str]:
    """Open ``path`` in a window (offscreen) and wait for it to settle: (0 listed | 1 refused, message)."""
    from PySide6.QtWidgets import QApplication

    from ckptviewer.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow()
    window.resize(1024, 640)
    window.show()
    errors: list[str] = []
    window.error_reported.connect(errors.append)
    crashed: list[str] = []  # exceptions escaping a slot: Qt prints them and goes on; we don't
    previous_hook = sys.excepthook
    sys.excepthook = lambda kind, exc, tb: crashed.append(f"unexpected {kind.__name__} in a slot: {exc}")
    window.open_file(path)
    deadline = time.monotonic() + STEP_SECONDS
    while time.monotonic() < deadline:
        app.processEvents()
        opened = window.ckpt is not None
        if (opened or errors) and not window.runner.busy:
            break
        time.sleep(0.01)
    for _ in range(20):  # let queued results draw
        app.processEvents()
    window.grab()  # paint everything once
    sys.excepthook = previous_hook
    outcome = (0, "") if window.ckpt is not None and not errors else (1, errors[0] if errors else "no result")
    if crashed:
        outcome = (2, crashed[0])
    window.runner.shutdown(10_000)
    window.close()
    window.deleteLater()
    app.processEvents()
    return outcome


def reference_matches(path: Path) -> tuple[bool | None, str]:
    """Whether the listing equals what ``torch.load(weights_only=True)`` returns (None: torch refuses)."""
    import argparse

    import torch

    from ckptviewer.core import CheckpointError, open_checkpoint
    from ckptviewer.core.index import walk

    if path.is_dir() or path.suffix == ".safetensors":
        return None, "not a torch.load file"
    try:  # only what ckptviewer accepts is compared: torch's own unpickler crashes on some of the rest
        ckpt = open_checkpoint(path, device="cpu")
    except CheckpointError:
        return None, "refused by ckptviewer"
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            ref = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch refuses it: ours may list it (e.g. blocked globals as placeholders)
        return None, f"torch.load refuses it: {type(exc).__name__}"
    found = walk(ref)
    expected = dict(found.tensors)
    got = ckpt.tensors
    if len(got) != len(found.tensors) or not set(expected) <= set(got):
        return False, f"{len(got)} tensors listed, torch.load returns {len(found.tensors)}"
    for key, t in expected.items():  # repeated keys (key~2, ...) are counted above
        e = got[key]
        if tuple(t.shape) != e.shape or t.dtype != e.dtype:
            return False, f"{key}: {tuple(t.shape)} {t.dtype} vs {e.shape} {e.dtype}"
        compared = t.layout == torch.strided and t.numel() <= 1 << 20 and t.device.type != "meta"
        if compared and not _same_values(ckpt.tensor(key), t):
            return False, f"{key}: values differ"
    return True, ""


def _same_values(a, b) -> bool:
    import torch

    try:
        if torch.equal(a, b):
            return True
        return a.dtype.is_floating_point and torch.equal(a.nan_to_num(0.0), b.nan_to_num(0.0))
    except (NotImplementedError, RuntimeError):  # dtypes torch cannot compare (uint4, float4 ...): the bytes
        if a.dtype != b.dtype or a.shape != b.shape or a.dtype.itemsize != 1:
            return False
        return torch.equal(a.contiguous().view(torch.uint8), b.contiguous().view(torch.uint8))


def main() -> int:
    results_path, cases = Path(sys.argv[1]), sys.argv[2:]
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    results = open(results_path, "a", buffering=1)  # noqa: SIM115 - kept open for the watchdog
    watchdog = Watchdog(results)
    import torch  # noqa: F401 - imported before measuring, as in every real process

    if "gui" in CHOSEN:
        from PySide6.QtWidgets import QApplication

        import ckptviewer.gui.main_window  # noqa: F401

        QApplication.instance() or QApplication([])
    for spec in cases:
        name, _, raw = spec.partition("=")
        path = Path(raw)
        with tempfile.TemporaryDirectory() as tmp:
            commands = cli_steps(path, Path(tmp))
            for step in (s for s in STEPS if s in CHOSEN):
                argv = commands.get(step)
                watchdog.start(f"{name}:{step}")
                _reset_peak()
                base, start = _status("VmRSS:"), time.monotonic()
                if argv is not None:
                    rc, out, err = run_cli(argv)
                elif step == "gui":
                    rc, err = gui_open(path)
                    out = ""
                else:
                    ok, err = reference_matches(path)
                    rc, out = {True: 0, False: 1, None: 0}[ok], ""
                    if ok is None:
                        rc = -1
                elapsed = time.monotonic() - start
                watchdog.stop()
                row = {
                    "case": name, "step": step, "rc": rc, "seconds": round(elapsed, 3),
                    "peak_growth": max(0, _status("VmHWM:") - base), "stderr": err.strip()[:2000],
                    "stdout_bytes": len(out),
                }  # fmt: skip
                results.write(json.dumps(row) + "\n")
    results.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
