"""Journey 1: open a DDP checkpoint, strip its prefix, undo, redo, save as, reopen the result.

Driven only through menu actions found by their text, typed keys and dialog buttons; the
window's state is read only to assert. The saved file must load into the real model with
``load_state_dict(strict=True)``.
"""

from __future__ import annotations

import torch
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QLineEdit, QMessageBox
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


def field(dialog: QDialog, label: str) -> QLineEdit:
    """The input a form labels ``label``, as a person finds it."""
    for lab in dialog.findChildren(QLabel):
        if lab.text().rstrip(":") == label and lab.buddy() is not None:
            return lab.buddy()  # type: ignore[return-value]
    raise AssertionError(f"no field {label!r}")


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


def test_extract_pattern_that_matches_nothing_is_said_before_and_after_apply(qtbot, shell, tmp_path):
    """Edit ▸ Extract subtree with typed globs: one that matches nothing alone is refused in
    the dialog; next to one that matches it is a visible warning, and the report after
    Apply (status bar, Undo's tip) says the same."""
    torch.manual_seed(0)
    model = Net()
    src = tmp_path / "net.pth"
    torch.save(model.state_dict(), src)
    keys = list(model.state_dict())
    head = [k for k in keys if k.startswith("fc.")]

    answer_file_dialog(qtbot, src)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    page = shell.current
    opened = page.ckpt

    trigger(shell, "Edit", "Extract subtree")
    dialog = modal(qtbot)
    apply = apply_button(dialog)
    globs = field(dialog, "Keys (globs)")
    globs.setFocus()
    QTest.keyClicks(globs, "classifier.*")  # the head of another model: nothing here
    qtbot.waitUntil(lambda: "Cannot apply" in dialog.summary.text(), timeout=TIMEOUT)
    said = dialog.summary.text()
    assert "nothing to extract: “Keys (globs)” &#x27;classifier.*&#x27; matched no tensor key" in said, said
    assert not apply.isEnabled() and dialog.summary.isVisible()
    assert dialog.rows() == [("classifier.*", "“Keys (globs)” pattern matched nothing")]

    QTest.keyClicks(globs, " fc.*")
    qtbot.waitUntil(apply.isEnabled, timeout=TIMEOUT)
    said = dialog.summary.text()
    assert said.startswith(f"<b>{len(head)} of {len(keys)} tensors kept, {len(keys) - len(head)} removed</b>"), said
    warning = "Warning:</b> “Keys (globs)” &#x27;classifier.*&#x27; matched no tensor key"
    assert warning in said and dialog.summary.isVisible()
    dialog.resize(1024, 640)
    QApplication.processEvents()
    dialog.grab().save(str(tmp_path / "extract-warning.png"))
    shoot(dialog, "extract-warning")

    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.ckpt is not opened, timeout=TIMEOUT)
    assert list(page.ckpt.tensors) == head
    report = page.statusBar().currentMessage()
    assert report == (f"extract: {len(head)} of {len(keys)} tensors kept, {len(keys) - len(head)} removed · "
                      "warning: “Keys (globs)” 'classifier.*' matched no tensor key")  # fmt: skip
    assert menu_action(shell, "Edit", "Undo extract").statusTip() == f"Undo {report}"
