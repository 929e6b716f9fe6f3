"""Core's English messages the window says in Chinese by their shape (gui/core_messages.py): every
warning the edits below really write and every finding of a real training run is recognised."""

from __future__ import annotations

import pytest
import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import OPERATIONS
from ckptviewer.gui import i18n
from ckptviewer.gui.core_messages import edit_warning, run_finding_text
from tests.runs import make_run


@pytest.fixture
def chinese(qapp):
    i18n.install("zh_CN")
    yield
    i18n.install(i18n.SOURCE_LANGUAGE)


def _warnings(tmp_path) -> list[str]:
    """Warnings of real edits: cast (an int tensor; nothing left to cast), strip (no prefix), average
    (tensors outside the model), add-prefix and rename."""
    sd = {"fc.weight": torch.randn(3, 2), "fc.bias": torch.zeros(3), "steps": torch.tensor(4)}
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({"model": sd, "optimizer": {"state": {0: {"exp_avg": torch.zeros(3)}}}}, a)
    torch.save({"model": sd, "optimizer": {"state": {0: {"exp_avg": torch.ones(3)}}}}, b)
    ckpt, other = open_checkpoint(a), open_checkpoint(b)
    out = []
    out += OPERATIONS["cast"].apply(ckpt, {"dtype": "bfloat16", "keys": ["*"]})[1].warnings
    out += OPERATIONS["cast"].apply(ckpt, {"dtype": "float32", "keys": ["model.fc.*"]})[1].warnings
    out += OPERATIONS["strip"].apply(ckpt)[1].warnings
    out += OPERATIONS["average"].apply(ckpt, {}, [other])[1].warnings
    out += OPERATIONS["rename"].apply(ckpt, {"pattern": "^fc", "repl": "fc"})[1].warnings
    out += OPERATIONS["extract"].apply(ckpt, {"keys": ["model.fc.*", "nothing.*"]})[1].warnings
    return out


def test_the_edits_warnings_are_said_in_chinese(tmp_path, chinese):
    warnings = _warnings(tmp_path)
    assert len(warnings) >= 5  # the edits above did warn: the check below is not vacuous
    for w in warnings:
        said = edit_warning(w)
        assert said != w and any("\u4e00" <= c <= "\u9fff" for c in said), w


def test_the_findings_of_a_real_run_are_said_in_chinese(tmp_path, chinese):
    from ckptviewer.core.run import analyse_run, find_run

    report = analyse_run(find_run(make_run(tmp_path, zero_at=2)))
    kinds = {f.kind for f in report.findings}
    assert {"frozen", "first_nonfinite", "identical"} <= kinds
    for f in report.findings:
        said = run_finding_text(f.message)
        assert said != f.message and any("\u4e00" <= c <= "\u9fff" for c in said), f.message


def test_in_english_core_words_are_kept(tmp_path, qapp):
    i18n.install("en")
    for w in _warnings(tmp_path):
        assert edit_warning(w) == w


def test_an_unknown_message_is_shown_as_core_wrote_it(chinese):
    assert edit_warning("something new happened") == "something new happened"
    assert run_finding_text("model weights bit-identical to b.pth") == "模型权重与 b.pth 逐位相同"
