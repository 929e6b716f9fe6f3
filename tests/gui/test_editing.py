"""Editing in the window: previews, apply, undo/redo, save, graft, compat, recipe."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.save import _bit_equal
from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait
from tests.models import SmallNet, ddp_state_dict


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def preview(qtbot, window, dialog):
    qtbot.waitUntil(lambda: dialog.outcome is not None or "Cannot apply" in dialog.summary.text(), timeout=OPEN_TIMEOUT)
    return dialog


def apply(qtbot, window, dialog):
    preview(qtbot, window, dialog)
    with qtbot.waitSignal(window.scan_done, timeout=OPEN_TIMEOUT):
        dialog.accept()


def save(qtbot, window, path):
    with qtbot.waitSignal(window.editor.saved, timeout=OPEN_TIMEOUT) as blocker:
        window.editor.save_to(path)
    return blocker.args[0]


def test_strip_preview_apply_undo_redo_and_save(qtbot, window, data_dir, tmp_path):
    src = data_dir / "train_checkpoint.pth"
    before = sha(src)
    open_and_wait(qtbot, window, src)
    original = window.ckpt
    dialog = preview(qtbot, window, window.editor.edit("strip"))
    rows = dialog.rows()
    assert ("model.module.conv1.weight", "→ model.conv1.weight") in rows and len(rows) == 29
    assert "29 of 29 keys renamed" in dialog.summary.text()
    apply(qtbot, window, dialog)
    assert window.ckpt.prefixes == [] and "model.conv1.weight" in window.ckpt.tensors
    assert window.isWindowModified() and window.edit_label.isVisible()
    assert window.editor.undo_action.text() == "&Undo strip"
    stripped = window.ckpt
    window.editor.undo_action.trigger()
    assert window.ckpt is original and not window.isWindowModified()  # the exact original back
    window.editor.redo_action.trigger()
    assert window.ckpt is stripped
    report = save(qtbot, window, tmp_path / "out.pth")
    assert report.verified and not window.isWindowModified()
    assert sha(src) == before  # the source is never touched
    out = open_checkpoint(tmp_path / "out.pth")
    assert out.prefixes == [] and out.metadata["args"]["arch"] == "SmallNet"
    assert all(_bit_equal(out.tensor(k), stripped.tensor(k)) for k in stripped.tensors)


def test_saving_over_the_source_is_refused(qtbot, window, demo_checkpoint):
    open_and_wait(qtbot, window, demo_checkpoint)
    before = sha(demo_checkpoint)
    with qtbot.waitSignal(window.error_reported, timeout=OPEN_TIMEOUT) as blocker:
        window.editor.save_to(demo_checkpoint)
    assert "refusing to overwrite the source" in blocker.args[0]
    assert sha(demo_checkpoint) == before


def test_graft_all_but_the_classifier_then_compat(qtbot, window, tmp_path):
    trained = SmallNet()
    source = tmp_path / "ddp.pth"
    torch.save(ddp_state_dict(trained, tmp_path), source)
    fresh = SmallNet()
    fresh.fc = torch.nn.Linear(8, 3)  # a new head with another number of classes
    target = tmp_path / "fresh.pth"
    torch.save(fresh.state_dict(), target)
    open_and_wait(qtbot, window, target)
    with qtbot.waitSignal(window.editor.dialog_ready, timeout=OPEN_TIMEOUT) as ready:
        window.editor.graft_from(source)  # the source is opened in a worker
    dialog = preview(qtbot, window, ready.args[0])
    assert "Cannot apply" in dialog.summary.text() and "fc.weight" in dialog.summary.text()  # shapes differ
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.set_value("exclude", ["fc.*"])
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=OPEN_TIMEOUT)
    assert ("blocks.3.weight", "grafted from the source") in dialog.rows()
    apply(qtbot, window, dialog)
    save(qtbot, window, tmp_path / "grafted.pth")
    fresh.load_state_dict(torch.load(tmp_path / "grafted.pth", weights_only=True), strict=True)
    assert torch.equal(fresh.blocks[3].weight, trained.blocks[3].weight)
    with qtbot.waitSignal(window.editor.dialog_ready, timeout=OPEN_TIMEOUT) as ready:
        window.editor.compat_with(target)
    compat = ready.args[0]
    assert "Compatible" in compat.findChildren(type(window.empty))[0].text()
    compat.close()


def test_cast_drop_extract_and_the_recipe_reproduces_the_output(qtbot, window, demo_checkpoint, tmp_path):
    open_and_wait(qtbot, window, demo_checkpoint)
    dialog = window.editor.edit("cast")
    dialog.set_value("dtype", "bfloat16")
    apply(qtbot, window, dialog)
    assert window.ckpt.tensors["model.module.conv1.weight"].dtype == torch.bfloat16
    assert window.ckpt.tensors["model.module.bn1.num_batches_tracked"].dtype == torch.int64
    apply(qtbot, window, window.editor.edit("drop", keys=["optimizer"]))
    assert not any(k.startswith("optimizer") for k in window.ckpt.tensors)
    apply(qtbot, window, window.editor.edit("strip"))
    gui_out = tmp_path / "gui.pth"
    save(qtbot, window, gui_out)
    script = window.editor.export_recipe(tmp_path / "recipe.py")
    text = script.read_text()
    assert "import torch" in text and "import ckptviewer" not in text and "from ckptviewer" not in text
    replayed = tmp_path / "replayed.pth"
    r = subprocess.run([sys.executable, str(script), str(replayed)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    a, b = open_checkpoint(gui_out), open_checkpoint(replayed)
    assert list(a.tensors) == list(b.tensors)
    assert all(_bit_equal(a.tensor(k), b.tensor(k)) for k in a.tensors)
    assert a.metadata == b.metadata


def test_rename_collision_is_refused_in_the_preview(qtbot, window, tmp_path):
    path = tmp_path / "m.pth"
    torch.save({"a.w": torch.ones(1), "b.w": torch.ones(1)}, path)
    open_and_wait(qtbot, window, path)
    dialog = window.editor.edit("rename", pattern="^(a|b)", repl="c")
    preview(qtbot, window, dialog)
    assert "Cannot apply" in dialog.summary.text() and "would both become" in dialog.summary.text()
    dialog.set_value("repl", r"x_\1")
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=OPEN_TIMEOUT)
    assert dialog.rows() == [("a.w", "→ x_a.w"), ("b.w", "→ x_b.w")]
    dialog.reject()


def test_refusals_speak_the_windows_words():
    from ckptviewer.core.edits import OPERATIONS
    from ckptviewer.gui.edit_dialogs import window_words

    fields = OPERATIONS["graft"].params
    said = window_words("2 mismatches; --skip-mismatched keeps the target's tensors, or use --exclude", fields)
    assert said == ("2 mismatches; “Keep the target's tensor where shapes differ” keeps the target's tensors, "
                    "or use “Exclude (globs)”")  # fmt: skip
    assert window_words("no match (try a prefix map, see ckpt compat)", fields).endswith(
        "see Edit ▸ Check compatibility with…)"
    )
    assert "--map" not in window_words("--map 'x' is not SRC=DST", fields)


def test_graft_preview_warns_when_the_models_barely_overlap(qtbot, window, tmp_path):
    from tests.core.test_surgery import SpeechNet, TinyResNet

    target_sd, source_sd = TinyResNet().state_dict(), SpeechNet().state_dict()
    torch.save(target_sd, tmp_path / "resnet.pth")
    torch.save(source_sd, tmp_path / "speech.pth")
    shared = [k for k in target_sd if k in source_sd]
    m, n_t, n_s = len(shared), len(target_sd), len(source_sd)
    open_and_wait(qtbot, window, tmp_path / "resnet.pth")
    with qtbot.waitSignal(window.editor.dialog_ready, timeout=OPEN_TIMEOUT) as ready:
        window.editor.graft_from(tmp_path / "speech.pth")
    dialog = preview(qtbot, window, ready.args[0])
    said = dialog.summary.text()
    assert dialog.outcome is not None and dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    assert (
        f"Warning:</b> only {m} of {n_t} target tensors ({round(100 * m / n_t)}%) have a match in the source; "
        f"{n_s - m} source tensors have no place in the target — are these the same architecture?"
    ) in said, said
    assert said.startswith(f"<b>{n_t} target tensors: {m} taken from speech.pth, {n_t - m} kept (not in the source);")
    assert dialog.summary.isVisible()
    dialog.resize(1024, 640)
    dialog.grab().save(str(tmp_path / "overlap.png"))
    dialog.reject()
