"""Every action in every menu is enabled exactly when it can act.

The journey: empty window, open, edit (Edit ▸ Strip prefix ▸ Apply), undo, redo, save
(File ▸ Save As), a second tab, a failed open, close. After each step, what the user did
says which facts hold (a checkpoint is open, there are unsaved edits, an undo stack...);
:data:`CAN_ACT` turns those facts into the expected state of every menu entry, and every
entry that :func:`all_actions` finds must be listed there: a new action without an
expectation fails this test.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch
from PySide6.QtWidgets import QMessageBox

from tests.gui.journeys.conftest import (
    TIMEOUT,
    all_actions,
    answer_file_dialog,
    menu_action,
    press_button,
    strip_prefix,
    trigger,
    when_modal,
)


@dataclass(frozen=True)
class Facts:
    """What holds after a step, from what the user did (not read from the window)."""

    open: bool = False  # a checkpoint is shown in the current tab
    model: bool = False  # its model state_dict was found (key edits, graft, compatibility)
    tensors: bool = False  # it has tensors (extract, drop, cast, statistics export)
    edits: bool = False  # the working copy differs from the file by edits (recipe, original on disk)
    unsaved: bool = False  # edits not written anywhere
    undo: bool = False
    redo: bool = False
    tabs: int = 1


ALWAYS: Callable[[Facts], bool] = lambda f: True  # noqa: E731
NEVER: Callable[[Facts], bool] = lambda f: False  # noqa: E731

# menu path (fnmatch pattern) -> can it act, given the facts; the first matching row wins
CAN_ACT: list[tuple[str, Callable[[Facts], bool]]] = [
    ("File > Open", ALWAYS),
    ("File > Open Folder… (sharded, PEFT)", ALWAYS),
    ("File > Open URL… (S3, HTTP, Hugging Face)", ALWAYS),
    ("File > Open Run… (a folder of checkpoints)", ALWAYS),  # lists the run, then opens its own window
    ("File > Open Recent > *", ALWAYS),  # each entry opens its file (here or in a new tab)
    ("File > Reload", lambda f: f.open),
    ("File > Compare with > No other open tabs", NEVER),  # a label saying why no tab is offered
    ("File > Compare with > Original on disk", lambda f: f.open and f.edits),
    ("File > Compare with > File", lambda f: f.open),
    ("File > Compare with > *", lambda f: f.open),  # another tab's file
    ("File > New Tab", ALWAYS),
    ("File > Export statistics to CSV", lambda f: f.tensors),
    ("File > Save", lambda f: f.unsaved),
    ("File > Save As", lambda f: f.open),
    ("File > Export recipe", lambda f: f.edits),
    ("File > Close Tab", lambda f: f.open or f.tabs > 1),
    ("File > Quit", ALWAYS),
    ("Edit > Undo*", lambda f: f.undo),
    ("Edit > Redo*", lambda f: f.redo),
    ("Edit > Strip prefix", lambda f: f.model),
    ("Edit > Add prefix", lambda f: f.model),
    ("Edit > Rename", lambda f: f.model),
    ("Edit > Graft from", lambda f: f.model),
    ("Edit > Extract subtree", lambda f: f.tensors),
    ("Edit > Drop", lambda f: f.tensors),
    ("Edit > Cast", lambda f: f.tensors),
    ("Edit > Average with", lambda f: f.model),
    ("Edit > Merge LoRA adapter", lambda f: f.model),
    ("Edit > Take EMA weights", lambda f: f.tensors),
    ("Edit > Resize head", lambda f: f.tensors),
    ("Edit > Check compatibility with", lambda f: f.model),
    ("View > Filter", lambda f: f.open),
    ("View > Expand all", lambda f: f.open),
    ("View > Collapse all", lambda f: f.open),
    ("View > Show only flagged", lambda f: f.open),
    ("View > Largest tensors", lambda f: f.tensors),
    ("View > Theme > *", ALWAYS),
    ("View > Language > *", ALWAYS),
    ("Help > *", ALWAYS),
]


def reachable(shell, path: str, action) -> bool:
    """Enabled, and so is every menu on the way to it (a disabled submenu's entries cannot be chosen)."""
    parts = path.split(" > ")
    return action.isEnabled() and all(menu_action(shell, *parts[:i]).isEnabled() for i in range(1, len(parts)))


def check(shell, facts: Facts, step: str) -> None:
    """Every menu entry's enabled state is what the facts say; every entry has a row."""
    wrong, unknown = [], []
    for path, action in all_actions(shell).items():
        rule = next((can for pattern, can in CAN_ACT if fnmatch.fnmatchcase(path, pattern)), None)
        if rule is None:
            unknown.append(path)
        elif reachable(shell, path, action) != rule(facts):
            wrong.append(f"{path}: {'enabled' if action.isEnabled() else 'disabled'}, expected the opposite")
    assert not unknown, f"after {step}: no expectation for {unknown}: add them to CAN_ACT"
    assert not wrong, f"after {step}:\n" + "\n".join(wrong)


def apply_strip(qtbot, shell) -> None:
    """Edit ▸ Strip prefix ▸ Apply, then wait for the new copy's health scan."""
    strip_prefix(qtbot, shell)
    qtbot.waitUntil(lambda: shell.current.scan_report is not None, timeout=TIMEOUT)


def test_every_action_enabled_exactly_when_it_can_act(qtbot, shell, tmp_path):
    src = tmp_path / "ddp.pth"
    torch.save({"module.fc.weight": torch.randn(4, 3), "module.fc.bias": torch.zeros(4)}, src)
    other = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.randn(4, 3)}, other)
    bad = tmp_path / "notes.pth"
    bad.write_text("not a checkpoint")

    check(shell, Facts(), "start (empty window)")

    answer_file_dialog(qtbot, src)
    trigger(shell, "File", "Open")
    page = shell.current
    qtbot.waitUntil(lambda: page.ckpt is not None and page.scan_report is not None, timeout=TIMEOUT)
    opened = Facts(open=True, model=True, tensors=True)
    check(shell, opened, "open")

    apply_strip(qtbot, shell)
    edited = replace(opened, edits=True, unsaved=True, undo=True)
    check(shell, edited, "edit")

    trigger(shell, "Edit", "Undo strip")
    qtbot.waitUntil(lambda: not page.doc.undo_stack, timeout=TIMEOUT)
    check(shell, replace(opened, redo=True), "undo")

    trigger(shell, "Edit", "Redo strip")
    check(shell, edited, "redo")

    out = tmp_path / "clean.pth"
    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Save As")
    qtbot.waitUntil(lambda: page.doc.output == out and not page.runner.is_running("save"), timeout=TIMEOUT)
    saved = replace(edited, unsaved=False)
    check(shell, saved, "save")

    # a second tab: Compare with offers the first one's file
    answer_file_dialog(qtbot, other)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.tabs.count() == 2 and shell.current.ckpt is not None, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: shell.current.scan_report is not None, timeout=TIMEOUT)
    check(shell, Facts(open=True, model=True, tensors=True, tabs=2), "open in a second tab")

    # a failed open (in a new tab that goes away again): nothing changes
    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    answer_file_dialog(qtbot, bad)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: len(errors) == 1 and shell.tabs.count() == 2, timeout=TIMEOUT)
    qtbot.waitUntil(
        lambda: shell.current.last_error is not None and shell.current.last_error.isVisible(), timeout=TIMEOUT
    )
    press_button(shell.current.last_error, "OK")
    check(shell, Facts(open=True, model=True, tensors=True, tabs=2), "failed open")

    trigger(shell, "File", "Close Tab")  # the second file's tab
    qtbot.waitUntil(lambda: shell.tabs.count() == 1, timeout=TIMEOUT)
    assert shell.current is page
    check(shell, saved, "close of the other tab")

    trigger(shell, "File", "New Tab")
    check(shell, Facts(tabs=2), "new empty tab")  # closing it can act: the other tab remains
    trigger(shell, "File", "Close Tab")
    trigger(shell, "File", "Close Tab")  # the saved tab: nothing unsaved, no question
    qtbot.waitUntil(lambda: shell.current.path is None, timeout=TIMEOUT)
    check(shell, Facts(), "close")

    errors = when_modal(qtbot, lambda box: None, QMessageBox)
    answer_file_dialog(qtbot, bad)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=TIMEOUT)
    press_button(errors[0], "OK")
    check(shell, Facts(), "failed open in the empty window")
