"""Journey 2: transfer learning in the window (README's walk-through).

Open the fresh target (a new, smaller head), Edit ▸ Graft from… the pretrained source,
see the refusal inside the dialog, type ``fc.*`` in Exclude, Apply, check compatibility,
Save As; the result loads into the fresh model with ``strict=True``. Driven only through
menu actions, typed text and dialog buttons.
"""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QMessageBox
from torch import nn

from tests.gui.journeys.conftest import TIMEOUT, answer_file_dialog, menu_action, press_button, shoot, trigger
from tests.gui.journeys.test_edit_journey import expect, field, modal

CHECKBOX = "Keep the target's tensor where shapes differ"


class Backbone(nn.Module):
    """Enough layers that the preview is long: a stem, twelve blocks, a classifier."""

    def __init__(self, classes: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(*[nn.Linear(8, 8) for _ in range(12)])
        self.fc = nn.Linear(8, classes)


def texts(dialog: QDialog) -> str:
    return "\n".join(lab.text() for lab in dialog.findChildren(QLabel) if lab.isVisible())


def message_boxes() -> list:
    return [w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()]


def test_graft_pretrained_backbone_into_a_fresh_head(qtbot, shell, tmp_path):
    torch.manual_seed(0)
    pretrained, fresh = Backbone(100), Backbone(10)
    source, target, out = tmp_path / "imagenet.pth", tmp_path / "fresh10.pth", tmp_path / "start10.pth"
    torch.save(pretrained.state_dict(), source)
    torch.save(fresh.state_dict(), target)
    n = len(fresh.state_dict())

    answer_file_dialog(qtbot, target)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None, timeout=TIMEOUT)
    page = shell.current
    opened = page.ckpt
    expect(shell, undo=False, redo=False, save=False)

    answer_file_dialog(qtbot, source)
    trigger(shell, "Edit", "Graft from")
    dialog = modal(qtbot, QDialog)
    apply = next(b for b in dialog.buttons.buttons() if b.text() == "Apply")

    # the head's shapes differ: refused, inside the dialog, in the window's words
    qtbot.waitUntil(lambda: "Cannot apply" in dialog.summary.text(), timeout=TIMEOUT)
    said = dialog.summary.text()
    assert "fc.weight" in said and CHECKBOX in said.replace("&#x27;", "'").replace("&#39;", "'")
    assert "--" not in said, said  # no CLI flags
    assert not message_boxes() and QApplication.activeModalWidget() is dialog
    assert not apply.isEnabled()
    rows = dialog.rows()
    assert rows[0][0] == "fc.weight" and rows[0][1].startswith("mismatch")  # what matters first
    assert len(rows) == 2  # a refusal changes nothing: only its problems are listed
    shoot(dialog, "graft-refused")

    # the user leaves out the head under two names, one of them from another model ("head.*"):
    # the one that matches nothing is a warning, before Apply, and the graft can still go on
    exclude = field(dialog, "Exclude (globs)")
    exclude.setFocus()
    QTest.keyClicks(exclude, "fc.* head.*")
    qtbot.waitUntil(apply.isEnabled, timeout=TIMEOUT)
    said = dialog.summary.text()
    assert said.startswith(f"<b>{n} target tensors: {n - 2} taken from imagenet.pth, 2 kept (excluded); "
                           f"{n} source tensors: {n - 2} taken, 2 excluded</b>")  # fmt: skip
    assert dialog.summary.isVisible()
    assert "Warning:</b> “Exclude (globs)” &#x27;head.*&#x27; matched no source key" in said, said
    assert "fc.*" not in said.split("Warning")[1]  # the pattern that did match is not warned about
    rows = dialog.rows()
    assert rows[0] == ("head.*", "“Exclude (globs)” pattern matched nothing")  # what needs a look first
    assert [r[0] for r in rows[1:3]] == ["fc.weight", "fc.bias"] and "excluded" in rows[1][1]
    assert ("blocks.3.weight", "grafted from the source") in rows
    shoot(dialog, "graft")

    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.ckpt is not opened, timeout=TIMEOUT)
    expect(shell, undo=True, redo=False, save=True)
    # the report after Apply says the same as the preview did, warning included
    report = page.statusBar().currentMessage()
    assert report.startswith(f"graft: {n} target tensors: {n - 2} taken from imagenet.pth, 2 kept (excluded)"), report
    assert "warning: “Exclude (globs)” 'head.*' matched no source key" in report, report
    assert "Exclude (globs)” 'head.*'" in menu_action(shell, "Edit", "Undo graft").statusTip()

    # compatibility with the pretrained file: the working copy is named, the head differs,
    # and no key map is suggested (none would make more keys load)
    answer_file_dialog(qtbot, source)
    trigger(shell, "Edit", "Check compatibility with")
    compat = modal(qtbot, QDialog)
    said = texts(compat)
    assert "working copy of fresh10.pth (1 edit)" in said and "Not compatible" in said
    assert f"{n - 2} keys match" in said and "2 shape mismatches" in said
    assert "prefix map" not in said
    shoot(compat, "graft-compat")
    QTest.keyClick(compat, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not compat.isVisible(), timeout=TIMEOUT)

    # and with the fresh model's own file, as the README does: ready to fine-tune
    answer_file_dialog(qtbot, target)
    trigger(shell, "Edit", "Check compatibility with")
    compat = modal(qtbot, QDialog)
    assert "Compatible" in texts(compat) and "working copy of fresh10.pth (1 edit)" in texts(compat)
    assert "nothing to fix" in texts(compat)
    shoot(compat, "graft-compatible")
    press_button(compat, "Close")
    qtbot.waitUntil(lambda: not compat.isVisible(), timeout=TIMEOUT)

    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Save As")
    qtbot.waitUntil(lambda: page.doc.output == out and not page.runner.is_running("save"), timeout=TIMEOUT)
    expect(shell, undo=True, redo=False, save=False)
    assert not message_boxes()
    shoot(shell, "graft-saved")

    model = Backbone(10)
    model.load_state_dict(torch.load(out, weights_only=True), strict=True)
    for k, v in model.state_dict().items():
        want = fresh.state_dict()[k] if k.startswith("fc.") else pretrained.state_dict()[k]
        assert torch.equal(v, want), k
