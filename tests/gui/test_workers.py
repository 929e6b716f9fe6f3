"""TaskRunner: results, failures and progress reach the UI thread; a newer request in a slot
cancels the older one and drops what it still delivers; cancellation reaches code deep in a
task through ``check_current``; slots run independently.

Tasks block on ``threading.Event`` gates that the test opens; nothing sleeps for a fixed time.
"""

from __future__ import annotations

import os
import sys
import threading

import pytest
import torch
from PySide6.QtCore import QCoreApplication

from ckptviewer.core.checkpoint import TensorEntry
from ckptviewer.core.errors import CheckpointError, NotACheckpointError
from ckptviewer.core.progress import Cancelled, CancelToken, Progress, check_current
from ckptviewer.core.tree import build_tree_from_entries
from ckptviewer.gui import workers
from ckptviewer.gui.workers import TaskRunner

WAIT = 5  # seconds a worker thread waits for a gate (a test that hangs fails instead)
WAIT_MS = WAIT * 1000


class Gates:
    """Events the tasks wait on; all opened at teardown so no pool thread outlives a test."""

    def __init__(self) -> None:
        self._events: list[threading.Event] = []

    def __call__(self) -> threading.Event:
        event = threading.Event()
        self._events.append(event)
        return event

    def open_all(self) -> None:
        for event in self._events:
            event.set()


@pytest.fixture
def gates():
    g = Gates()
    yield g
    g.open_all()


@pytest.fixture
def runner(gates):
    r = TaskRunner()
    yield r
    gates.open_all()
    assert r.shutdown(WAIT_MS)


def _wait(event: threading.Event) -> None:
    """Block the test until a worker reached ``event`` (the UI thread is not needed for that)."""
    assert event.wait(WAIT), "the task never got there"


def _settle(runner: TaskRunner) -> None:
    """Wait for every task to end, then deliver what they emitted (queued to this thread)."""
    assert runner.pool.waitForDone(WAIT_MS)
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()


def _never(*args):
    raise AssertionError(f"must not be called: {args!r}")


# --- results, failures, progress ----------------------------------------------------------------


def test_on_done_receives_the_result_on_the_ui_thread(qtbot, runner):
    ui = threading.get_ident()
    got: list[tuple[object, int]] = []

    def task(progress, cancel):
        return {"answer": 42, "thread": threading.get_ident()}

    rid = runner.start("open", task, "Opening", on_done=lambda r: got.append((r, threading.get_ident())),
                       on_error=_never)  # fmt: skip
    assert isinstance(rid, int)
    assert runner.is_running("open") and runner.busy and runner.label() == "Opening"
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT_MS)
    [(result, thread)] = got
    assert result["answer"] == 42
    assert result["thread"] != ui  # computed on a pool thread
    assert thread == ui  # delivered on the UI thread
    assert not runner.is_running("open") and not runner.busy and runner.label() == ""


def test_request_ids_increase(qtbot, runner):
    done: list[int] = []
    first = runner.start("a", lambda progress, cancel: 1, on_done=done.append)
    second = runner.start("b", lambda progress, cancel: 2, on_done=done.append)
    assert second > first
    qtbot.waitUntil(lambda: sorted(done) == [1, 2], timeout=WAIT_MS)


def test_a_checkpoint_error_reaches_on_error_without_details(qtbot, runner):
    errors: list[tuple[str, str]] = []

    def task(progress, cancel):
        raise NotACheckpointError("not a PyTorch checkpoint: a PNG image.")

    runner.start("open", task, on_done=_never, on_error=lambda m, d: errors.append((m, d)))
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert errors == [("not a PyTorch checkpoint: a PNG image.", "")]
    assert not runner.busy


def test_an_unexpected_exception_reaches_on_error_with_its_traceback(qtbot, runner):
    errors: list[tuple[str, str, int]] = []

    def broken_reader(progress, cancel):
        return {}["missing key"]

    runner.start("tensor", broken_reader, on_done=_never,
                 on_error=lambda m, d: errors.append((m, d, threading.get_ident())))  # fmt: skip
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    [(message, details, thread)] = errors
    assert message == "KeyError: 'missing key'"
    assert details.startswith("Traceback (most recent call last):")
    assert "in broken_reader" in details and details.rstrip().endswith("KeyError: 'missing key'")
    assert thread == threading.get_ident()


def test_a_task_without_on_error_reports_to_report_error(qtbot, runner):
    reported: list[tuple[str, str]] = []
    runner.report_error = lambda m, d: reported.append((m, d))

    def task(progress, cancel):
        raise CheckpointError("the file ends early.")

    runner.start("open", task)
    qtbot.waitUntil(lambda: bool(reported), timeout=WAIT_MS)
    assert reported == [("the file ends early.", "")]


def test_on_progress_receives_progress_then_the_result(qtbot, runner, monkeypatch):
    monkeypatch.setattr(workers, "PROGRESS_INTERVAL", 0.0)  # every value gets through
    steps = [Progress(0, 3, "reading"), Progress(1, 3, "reading"), Progress(2, 3, "indexing"), Progress(3, 3, "")]
    events: list[tuple[str, object]] = []
    bar: list[tuple[str, Progress]] = []
    runner.progress.connect(lambda slot, p: bar.append((slot, p)))

    def task(progress, cancel):
        for p in steps:
            progress(p)
        return "listed"

    runner.start("open", task, on_progress=lambda p: events.append(("progress", p)),
                 on_done=lambda r: events.append(("done", r)), on_error=_never)  # fmt: skip
    qtbot.waitUntil(lambda: ("done", "listed") in events, timeout=WAIT_MS)
    assert events == [("progress", p) for p in steps] + [("done", "listed")]  # in order, result last
    assert bar == [("open", p) for p in steps]  # and the status bar heard every one, with the slot
    assert events[2][1].fraction == pytest.approx(2 / 3)


def test_progress_is_throttled_but_the_last_value_always_arrives(qtbot, runner, monkeypatch):
    monkeypatch.setattr(workers, "PROGRESS_INTERVAL", 1e12)  # nothing before the end is due
    got: list[Progress] = []
    done: list[str] = []

    def task(progress, cancel):
        for i in range(100):
            progress(Progress(i, 100))
        progress(Progress(100, 100, "done"))
        return "ok"

    runner.start("scan", task, on_progress=got.append, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert got == [Progress(100, 100, "done")]


# --- one request per slot -----------------------------------------------------------------------


def _blocking(started: threading.Event, release: threading.Event, result: object, tokens: list[CancelToken]):
    """A task that ignores its cancel token on purpose and delivers a final progress and ``result``."""

    def run(progress, cancel):
        tokens.append(cancel)
        started.set()
        _wait(release)
        progress(Progress(10, 10, str(result)))  # a final value: never throttled
        return result

    return run


def _deliver_finished(qtbot, runner: TaskRunner, still_running: int) -> None:
    """Wait until only ``still_running`` tasks run, then deliver what the others emitted.

    A pool thread emits its task's result before it counts as idle, so once the count has
    dropped the result is queued to this thread.
    """
    qtbot.waitUntil(lambda: runner.pool.activeThreadCount() == still_running, timeout=WAIT_MS)
    QCoreApplication.sendPostedEvents()
    QCoreApplication.processEvents()


def test_new_work_in_a_slot_cancels_the_old_and_drops_its_result(qtbot, runner, gates):
    tokens: list[CancelToken] = []
    cancelled: list[str] = []
    runner.cancelled.connect(cancelled.append)
    old_started, old_release = gates(), gates()
    stale: list[object] = []
    runner.start("tensor", _blocking(old_started, old_release, "stale tensor", tokens),
                 on_done=stale.append, on_error=lambda *a: stale.append(a), on_progress=stale.append)  # fmt: skip
    _wait(old_started)
    new_started, new_release = gates(), gates()
    fresh: list[object] = []
    runner.start("tensor", _blocking(new_started, new_release, "fresh tensor", tokens),
                 on_done=fresh.append, on_error=_never, on_progress=fresh.append)  # fmt: skip
    assert tokens[0].cancelled  # the old request was asked to stop
    assert cancelled == ["tensor"]
    _wait(new_started)
    assert not tokens[1].cancelled
    # the old task ends while the new one still runs in the slot: what it delivers is dropped
    old_release.set()
    _deliver_finished(qtbot, runner, still_running=1)
    assert stale == [] and fresh == []  # neither its result nor its progress reached anyone
    assert runner.is_running("tensor")
    new_release.set()
    qtbot.waitUntil(lambda: "fresh tensor" in fresh, timeout=WAIT_MS)
    assert fresh == [Progress(10, 10, "fresh tensor"), "fresh tensor"]
    assert stale == []
    assert cancelled == ["tensor"]
    assert not runner.busy


def test_a_stale_failure_is_dropped_too(qtbot, runner, gates):
    started, release = gates(), gates()
    reported: list[object] = []
    runner.report_error = lambda m, d: reported.append(("report_error", m))

    def old(progress, cancel):
        started.set()
        _wait(release)
        raise ValueError("too late to matter")

    runner.start("open", old, on_error=lambda m, d: reported.append(("old", m)))
    _wait(started)
    new_started, new_release = gates(), gates()
    fresh: list[object] = []
    runner.start("open", _blocking(new_started, new_release, "new file", []), on_done=fresh.append,
                 on_error=lambda m, d: reported.append(("new", m)))  # fmt: skip
    _wait(new_started)
    release.set()
    _deliver_finished(qtbot, runner, still_running=1)
    assert reported == [] and runner.is_running("open")
    new_release.set()
    qtbot.waitUntil(lambda: bool(fresh), timeout=WAIT_MS)
    assert fresh == ["new file"] and reported == []


def test_cancel_sets_the_token_and_emits_cancelled(qtbot, runner, gates):
    started, release = gates(), gates()
    token_seen: list[bool] = []
    reported: list[object] = []
    runner.report_error = lambda m, d: reported.append(m)

    def task(progress, cancel):
        started.set()
        _wait(release)
        token_seen.append(cancel.cancelled)
        cancel.raise_if_cancelled()
        return "finished anyway"

    runner.start("scan", task, on_done=reported.append, on_error=lambda m, d: reported.append(m))
    _wait(started)
    with qtbot.waitSignal(runner.cancelled, timeout=WAIT_MS) as blocker:
        runner.cancel("scan")
    assert blocker.args == ["scan"]
    assert not runner.is_running("scan") and not runner.busy
    release.set()
    _settle(runner)
    assert token_seen == [True]
    assert reported == []  # the Cancelled it raised is no error, and there is no result


def test_cancelling_an_idle_slot_emits_no_cancelled(qtbot, runner):
    with qtbot.assertNotEmitted(runner.cancelled):
        runner.cancel("scan")
        runner.cancel()


def test_a_task_raising_cancelled_is_not_an_error(qtbot, runner):
    reported: list[object] = []
    runner.report_error = lambda m, d: reported.append(m)

    def task(progress, cancel):
        raise Cancelled()

    with qtbot.waitSignal(runner.cancelled, timeout=WAIT_MS) as blocker:
        runner.start("open", task, on_done=reported.append, on_error=lambda m, d: reported.append(m))
    assert blocker.args == ["open"]
    assert reported == []
    assert not runner.is_running("open") and not runner.busy


# --- cancellation deep inside a task ------------------------------------------------------------


def test_the_token_is_current_inside_the_task(qtbot, runner):
    seen: list[object] = []

    def task(progress, cancel):
        check_current()  # not cancelled: nothing happens
        cancel.cancel()  # as the runner would: code that never saw the token now stops
        try:
            check_current()
        except Cancelled:
            seen.append("stopped")
        return "after"

    runner.start("scan", task, on_done=seen.append, on_error=_never)
    qtbot.waitUntil(lambda: "after" in seen, timeout=WAIT_MS)
    assert seen == ["stopped", "after"]
    check_current()  # the UI thread has no current token


def test_deep_code_stops_when_its_slot_is_cancelled(qtbot, runner, gates):
    started, release = gates(), gates()
    reached: list[int] = []
    finished: list[object] = []

    def deep_loop() -> int:  # knows nothing of the runner or the token
        for i in range(1000):
            check_current()
            reached.append(i)
            if i == 0:
                started.set()
                _wait(release)
        return len(reached)

    runner.start("scan", lambda progress, cancel: deep_loop(), on_done=finished.append,
                 on_error=lambda m, d: finished.append(m))  # fmt: skip
    _wait(started)
    runner.cancel("scan")
    release.set()
    _settle(runner)
    assert reached == [0]  # stopped at the first check after the cancel
    assert finished == []


def test_an_uncancelled_deep_loop_runs_to_the_end(qtbot, runner):
    finished: list[int] = []

    def deep_loop() -> int:
        n = 0
        for _ in range(1000):
            check_current()
            n += 1
        return n

    runner.start("scan", lambda progress, cancel: deep_loop(), on_done=finished.append, on_error=_never)
    qtbot.waitUntil(lambda: bool(finished), timeout=WAIT_MS)
    assert finished == [1000]


def test_core_code_that_checks_the_current_token_stops(qtbot, runner):
    entries = [TensorEntry(f"layer{i}.weight", (2, 2), torch.float32, f"s{i}", 16, "cpu", None) for i in range(5)]
    assert len(build_tree_from_entries(entries).children) == 5  # the same call, outside a task, works
    results: list[object] = []

    def task(progress, cancel):
        cancel.cancel()
        return build_tree_from_entries(entries)  # its loop calls check_current()

    with qtbot.waitSignal(runner.cancelled, timeout=WAIT_MS):
        runner.start("tree", task, on_done=results.append, on_error=lambda m, d: results.append(m))
    assert results == []


# --- independent slots --------------------------------------------------------------------------


def test_slots_run_independently(qtbot, runner, gates):
    started, release = gates(), gates()
    opened: list[str] = []
    tokens: list[CancelToken] = []

    def slow_open(progress, cancel):
        tokens.append(cancel)
        started.set()
        _wait(release)
        return "checkpoint"

    runner.start("open", slow_open, "Opening", on_done=opened.append, on_error=_never)
    _wait(started)
    tensor: list[str] = []
    runner.start("tensor", lambda progress, cancel: "statistics", "Computing", on_done=tensor.append)
    assert runner.label() == "Computing"  # the most recent task
    qtbot.waitUntil(lambda: bool(tensor), timeout=WAIT_MS)
    # the other slot finished while "open" is still running, untouched
    assert tensor == ["statistics"] and opened == []
    assert runner.is_running("open") and not runner.is_running("tensor") and runner.busy
    assert not tokens[0].cancelled
    assert runner.label() == "Opening"
    with qtbot.assertNotEmitted(runner.cancelled):
        runner.cancel("tensor")  # cancelling a finished slot leaves the other alone
    assert not tokens[0].cancelled
    release.set()
    qtbot.waitUntil(lambda: bool(opened), timeout=WAIT_MS)
    assert opened == ["checkpoint"] and not runner.busy


def test_cancel_all_and_shutdown(qtbot, runner, gates):
    started = [gates(), gates()]
    release = gates()
    tokens: dict[str, CancelToken] = {}

    def task(slot: str, n: int):
        def run(progress, cancel):
            tokens[slot] = cancel
            started[n].set()
            _wait(release)
            cancel.raise_if_cancelled()

        return run

    runner.start("open", task("open", 0), on_done=_never, on_error=_never)
    runner.start("scan", task("scan", 1), on_done=_never, on_error=_never)
    for event in started:
        _wait(event)
    cancelled: list[str] = []
    runner.cancelled.connect(cancelled.append)
    runner.cancel()
    assert sorted(cancelled) == ["open", "scan"]
    assert all(t.cancelled for t in tokens.values()) and not runner.busy
    release.set()
    assert runner.shutdown(WAIT_MS)
    _settle(runner)
    assert sorted(cancelled) == ["open", "scan"]  # the tasks' own Cancelled came too late to count


def test_busy_changed_reports_start_and_end(qtbot, runner):
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)
    done: list[int] = []
    runner.start("open", lambda progress, cancel: 1, on_done=done.append)
    qtbot.waitUntil(lambda: bool(done), timeout=WAIT_MS)
    assert busy[-2:] == [True, False]
    assert not runner.busy


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice values are Linux's")
def test_pool_threads_run_at_lower_priority(qtbot, runner):
    nice: list[int] = []

    def task(progress, cancel):
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    runner.start("scan", task, on_done=nice.append)
    qtbot.waitUntil(lambda: bool(nice), timeout=WAIT_MS)
    assert nice[0] >= workers.WORKER_NICENESS
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < workers.WORKER_NICENESS  # not the UI


def test_busy_changed_only_when_busy_changes(qtbot, runner, gates):
    release = gates()
    busy: list[bool] = []
    runner.busy_changed.connect(busy.append)

    def blocking(progress, cancel):
        _wait(release)

    runner.start("open", blocking)  # from idle
    runner.start("open", blocking)  # replaces the running request: still busy
    runner.cancel("scan")  # nothing there
    release.set()
    _settle(runner)
    assert busy == [True, False]
