"""Journey 1: open a DDP checkpoint, strip its prefix, undo, redo, save as, reopen the result.

Driven only through menu actions found by their text, typed keys and dialog buttons; the
window's state is read only to assert. The saved file must load into the real model with
``load_state_dict(strict=True)``.
"""

from __future__ import annotations

import torch
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from torch import nn

from tests.gui.journeys.conftest import (
    TIMEOUT,
    all_actions,
    answer_file_dialog,
    menu_action,
    press_button,
    press_keys,
    shoot,
    trigger,
)

EDITS = ("Strip prefix", "Add prefix", "Extract subtree", "Graft from", "Rename", "Drop", "Cast",
         "Check compatibility with")  # fmt: skip


class Net(nn.Module):
    """A small CNN: conv, batch norm (with its int64 counter), a hidden layer and a head."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.hidden = nn.Linear(8, 16)
        self.fc = nn.Linear(16, classes)


def ddp_style(model: nn.Module) -> dict:
    """What DistributedDataParallel(model).state_dict() holds: every key under ``module.``."""
    sd = model.state_dict()
    out = type(sd)((f"module.{k}", v) for k, v in sd.items())
    out._metadata = type(sd._metadata)(  # type: ignore[attr-defined]
        ("module" + (f".{k}" if k else ""), v)
        for k, v in sd._metadata.items()  # type: ignore[attr-defined]
    )
    return out


def states(shell, *names: str) -> dict[str, bool]:
    """Enabled state of menu entries by their path ("Edit > Undo"), prefix-matched for Undo/Redo labels."""
    actions = all_actions(shell)
    out = {}
    for name in names:
        found = [a for path, a in actions.items() if path == name or path.startswith(name + " ")]
        assert found, f"no {name!r}; have {sorted(actions)}"
        out[name] = found[0].isEnabled()
    return out


def expect(shell, undo: bool, redo: bool, save: bool) -> None:
    """The File and Edit entries can act exactly when they should."""
    got = states(shell, "Edit > Undo", "Edit > Redo", "File > Save", "File > Save As",
                 *(f"Edit > {e}" for e in EDITS))  # fmt: skip
    want = {"Edit > Undo": undo, "Edit > Redo": redo, "File > Save": save, "File > Save As": True}
    want.update({f"Edit > {e}": True for e in EDITS})
    assert got == want


def no_message_box() -> None:
    assert not [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def modal(qtbot, kind=QDialog):
    """The dialog that is now in front (window-modal or application-modal)."""
    found: list = []

    def shown() -> bool:
        w = QApplication.activeModalWidget()
        if isinstance(w, kind) and w.isVisible():
            found[:] = [w]
            return True
        return False

    qtbot.waitUntil(shown, timeout=TIMEOUT)
    return found[0]


def apply_button(dialog):
    return next(b for b in dialog.buttons.buttons() if b.text() == "Apply")


def test_strip_undo_redo_save_as_and_reopen(qtbot, shell, tmp_path):
    model = Net()
    src = tmp_path / "ddp.pth"
    torch.save(ddp_style(model), src)
    out = tmp_path / "stripped.pth"

    # no file yet: nothing to edit or save
    assert not menu_action(shell, "File", "Save As").isEnabled()
    assert not any(states(shell, *(f"Edit > {e}" for e in EDITS)).values())

    answer_file_dialog(qtbot, src)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    page = shell.current
    original = page.ckpt
    assert original.prefixes == ["module."]
    expect(shell, undo=False, redo=False, save=False)

    trigger(shell, "Edit", "Strip prefix")
    dialog = modal(qtbot)
    qtbot.waitUntil(lambda: apply_button(dialog).isEnabled(), timeout=TIMEOUT)
    assert "11 of 11 keys renamed" in dialog.summary.text()
    assert ("module.conv1.weight", "→ conv1.weight") in dialog.rows()
    shoot(dialog, "edit-strip-preview")
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.ckpt is not original, timeout=TIMEOUT)
    stripped = page.ckpt
    assert stripped.prefixes == [] and "conv1.weight" in stripped.tensors
    expect(shell, undo=True, redo=False, save=True)
    assert menu_action(shell, "Edit", "Undo strip").isEnabled()

    shell.activateWindow()  # keys go to the active window, as on a desktop
    qtbot.waitUntil(shell.isActiveWindow, timeout=TIMEOUT)
    page.tree.setFocus()
    press_keys(page.tree, "Ctrl+Z")
    qtbot.waitUntil(lambda: page.ckpt is original, timeout=TIMEOUT)
    expect(shell, undo=False, redo=True, save=False)  # back to the file as opened: nothing to save

    trigger(shell, "Edit", "Redo strip")
    assert page.ckpt is stripped
    expect(shell, undo=True, redo=False, save=True)

    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Save As")
    qtbot.waitUntil(lambda: page.doc.output == out and not page.runner.is_running("save"), timeout=TIMEOUT)
    expect(shell, undo=True, redo=False, save=False)
    no_message_box()
    shoot(shell, "edit")

    # the tab now names what it shows: the file just written (the tabs engineer's part)
    index = shell.tabs.indexOf(page)
    tab_text = shell.tabs.tabText(index)
    assert out.name in tab_text, f"tab still titled {tab_text!r} after Save As"

    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: any(p.path == out and p.ckpt is not None for p in shell.pages()), timeout=TIMEOUT)
    reopened = next(p for p in shell.pages() if p.path == out)
    assert reopened.ckpt.prefixes == [] and set(reopened.ckpt.tensors) == set(stripped.tensors)

    fresh = Net()
    fresh.load_state_dict(torch.load(out, weights_only=True), strict=True)
    for k, v in model.state_dict().items():
        assert torch.equal(fresh.state_dict()[k], v), k
