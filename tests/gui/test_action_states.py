"""Every action's enabled state, found by its menu text as a user sees it, after open, edit,
undo, save, close and a failed open: enabled exactly when it can act."""

from __future__ import annotations

import torch
from PySide6.QtWidgets import QMenu

from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait

EDITS = ("Strip prefix…", "Add prefix…", "Extract subtree…", "Graft from…", "Rename…", "Drop…", "Cast…")


def actions(window) -> dict[str, object]:
    """Menu text (mnemonics removed, the variable part of Undo/Redo dropped) -> QAction."""
    found = {}
    for menu in window.menuBar().findChildren(QMenu):
        for action in menu.actions():
            text = action.text().replace("&", "")
            if text.startswith(("Undo", "Redo")):
                text = text.split()[0]
            if text:
                found[text] = action
    return found


def state(window) -> dict[str, bool]:
    return {text: a.isEnabled() for text, a in actions(window).items()}


def test_actions_are_enabled_exactly_when_they_can_act(qtbot, window, tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"module.w": torch.ones(2, 2), "module.b": torch.zeros(2)}, good)
    s = state(window)  # nothing open
    assert s["Open…"] and not s["Save As…"] and not s["Reload"] and not s["Close"]
    assert not any(s[e] for e in EDITS) and not s["Undo"] and not s["Save"]

    open_and_wait(qtbot, window, good)
    s = state(window)
    assert all(s[e] for e in EDITS), {e: s[e] for e in EDITS}  # the bug: all disabled after opening
    assert s["Save As…"] and s["Reload"] and s["Close"] and s["Check compatibility with…"]
    assert not s["Save"] and not s["Undo"] and not s["Redo"] and not s["Export recipe…"]

    dialog = window.editor.edit("strip")
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=OPEN_TIMEOUT)
    with qtbot.waitSignal(window.scan_done, timeout=OPEN_TIMEOUT):
        dialog.accept()
    s = state(window)
    assert s["Save"] and s["Undo"] and not s["Redo"] and s["Export recipe…"]
    assert actions(window)["Undo"].text() == "&Undo strip"

    actions(window)["Undo"].trigger()
    s = state(window)
    assert not s["Undo"] and s["Redo"] and not s["Save"] and not s["Export recipe…"]
    actions(window)["Redo"].trigger()

    out = tmp_path / "out.pth"
    with qtbot.waitSignal(window.editor.saved, timeout=OPEN_TIMEOUT):
        window.editor.save_to(out)
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=OPEN_TIMEOUT)
    s = state(window)
    assert not s["Save"] and s["Save As…"] and s["Undo"] and s["Export recipe…"]

    bad = tmp_path / "notes.pth"
    bad.write_text("not a checkpoint")
    with qtbot.waitSignal(window.error_reported, timeout=OPEN_TIMEOUT):
        window.open_file(bad)
    assert window.path == good and window.ckpt is not None  # a failed open changes nothing
    assert state(window) == s
    window.last_error.close()

    window.editor.ask_before_discard = False
    actions(window)["Close"].trigger()
    s = state(window)
    assert not any(s[e] for e in EDITS) and not s["Save As…"] and not s["Undo"] and not s["Close"]
    assert s["Open…"] and window.path is None
