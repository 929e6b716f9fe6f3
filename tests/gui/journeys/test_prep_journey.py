"""Journeys: preparing weights from the Edit menu — merge a LoRA adapter, resize a head,
average checkpoints — each previewed, applied, undone and redone, saved, and the file
loaded into the real model with ``load_state_dict(strict=True)``.

Driven only through menu entries, typed text, dialog buttons and file dialogs answered
by typing; the window's state is read only to assert.
"""

from __future__ import annotations

import json

import torch
from PySide6.QtTest import QTest
from safetensors.torch import save_file
from torch import nn

from tests.gui.journeys.conftest import TIMEOUT, answer_file_dialog, menu_action, press_button, shoot, trigger
from tests.gui.journeys.test_edit_journey import apply_button, field, modal, no_message_box


class Net(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.hidden = nn.Linear(6, 8)
        self.bn = nn.BatchNorm1d(8)
        self.fc = nn.Linear(8, classes)


def open_in_window(qtbot, shell, path):
    answer_file_dialog(qtbot, path)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.ckpt is not None and shell.current.path == path, timeout=TIMEOUT)
    return shell.current


def save_as(qtbot, shell, page, out) -> dict:
    answer_file_dialog(qtbot, out)
    trigger(shell, "File", "Save As")
    qtbot.waitUntil(lambda: page.doc.output == out and not page.runner.is_running("save"), timeout=TIMEOUT)
    no_message_box()
    return torch.load(out, weights_only=True)


def undo_and_redo(qtbot, shell, page, label: str) -> None:
    """Edit ▸ Undo <label> gives back the checkpoint as opened; Redo the edited one."""
    edited = page.ckpt
    trigger(shell, "Edit", f"Undo {label}")
    qtbot.waitUntil(lambda: page.ckpt is not edited, timeout=TIMEOUT)
    assert not page.ckpt.history
    trigger(shell, "Edit", f"Redo {label}")
    qtbot.waitUntil(lambda: page.ckpt is edited, timeout=TIMEOUT)


def test_merge_a_lora_adapter_preview_undo_save(qtbot, shell, tmp_path):
    torch.manual_seed(0)
    model = Net()
    base = tmp_path / "base.pth"
    torch.save(model.state_dict(), base)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    a, b = torch.randn(2, 8), torch.randn(10, 2)
    save_file({"base_model.model.fc.lora_A.weight": a, "base_model.model.fc.lora_B.weight": b},
              adapter / "adapter_model.safetensors")  # fmt: skip
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 8}))

    page = open_in_window(qtbot, shell, base)
    answer_file_dialog(qtbot, adapter)  # the adapter is a folder
    trigger(shell, "Edit", "Merge LoRA adapter")
    dialog = modal(qtbot)
    qtbot.waitUntil(lambda: apply_button(dialog).isEnabled(), timeout=TIMEOUT)
    assert "1 of 9 model tensors merged with the LoRA adapter (scale 4)" in dialog.summary.text()
    assert ("fc.weight", "LoRA merged") in dialog.rows()
    shoot(dialog, "prep-merge-lora-preview")
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: bool(page.ckpt.history), timeout=TIMEOUT)
    undo_and_redo(qtbot, shell, page, "merge lora")

    sd = save_as(qtbot, shell, page, tmp_path / "merged.pth")
    fresh = Net()
    fresh.load_state_dict(sd, strict=True)
    assert torch.allclose(fresh.fc.weight, model.fc.weight + 4 * (b @ a), rtol=0, atol=1e-5)
    assert torch.equal(fresh.hidden.weight, model.hidden.weight)
    shoot(shell, "prep-merge-lora")


def test_resize_a_head_for_four_classes(qtbot, shell, tmp_path):
    torch.manual_seed(1)
    model = Net(10)
    src = tmp_path / "pretrained.pth"
    torch.save(model.state_dict(), src)

    page = open_in_window(qtbot, shell, src)
    opened = page.ckpt
    trigger(shell, "Edit", "Resize head")
    dialog = modal(qtbot)
    apply = apply_button(dialog)
    for label, text in (("Keys (globs)", "fc.*"), ("Rows (classes)", "4")):
        box = field(dialog, label)
        box.setFocus()
        QTest.keyClicks(box, text)
    qtbot.waitUntil(apply.isEnabled, timeout=TIMEOUT)
    assert "2 tensors resized from 10 to 4 rows (first 4 kept, new rows kaiming, seed 0)" in dialog.summary.text()
    assert ("fc.weight", "resized") in dialog.rows()
    QTest.keyClicks(field(dialog, "Rows (classes)"), "0")  # 40: grows, new rows drawn
    qtbot.waitUntil(lambda: apply.isEnabled() and "to 40 rows" in dialog.summary.text(), timeout=TIMEOUT)
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.ckpt is not opened, timeout=TIMEOUT)
    assert page.ckpt.tensors["fc.weight"].shape == (40, 8)
    undo_and_redo(qtbot, shell, page, "resize head")

    sd = save_as(qtbot, shell, page, tmp_path / "forty.pth")
    fresh = Net(40)
    fresh.load_state_dict(sd, strict=True)
    assert torch.equal(fresh.fc.weight[:10], model.fc.weight)
    assert 0 < fresh.fc.weight[10:].abs().max() <= 8**-0.5
    assert menu_action(shell, "File", "Export recipe").isEnabled()


def test_average_with_checkpoints_added_in_the_dialog(qtbot, shell, tmp_path):
    paths, states = [], []
    for i in range(3):
        torch.manual_seed(i)
        paths.append(tmp_path / f"epoch{i}.pth")
        states.append(Net().state_dict())
        torch.save(states[-1], paths[-1])

    page = open_in_window(qtbot, shell, paths[0])
    trigger(shell, "Edit", "Average with")
    dialog = modal(qtbot)
    qtbot.waitUntil(lambda: "Cannot apply" in dialog.summary.text(), timeout=TIMEOUT)
    assert "give at least one more checkpoint" in dialog.summary.text()
    for path in paths[1:]:
        answer_file_dialog(qtbot, path)
        press_button(dialog, "Add…")
        n = paths.index(path) + 1
        qtbot.waitUntil(lambda n=n: f"over {n} checkpoints" in dialog.summary.text(), timeout=TIMEOUT)
    assert apply_button(dialog).isEnabled()
    shoot(dialog, "prep-average-preview")
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: bool(page.ckpt.history), timeout=TIMEOUT)

    sd = save_as(qtbot, shell, page, tmp_path / "soup.pth")
    Net().load_state_dict(sd, strict=True)
    for k in ("hidden.weight", "fc.bias", "bn.running_var"):
        want = torch.stack([s[k] for s in states]).double().mean(0).float()
        assert torch.equal(sd[k], want), k
