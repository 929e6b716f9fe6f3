"""File ▸ Open URL…: a checkpoint on an HTTP server (Range requests), through the window's own controls."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QComboBox, QInputDialog, QLineEdit

from tests.gui.journeys.conftest import TIMEOUT, menu_action, trigger, when_modal
from tests.gui.journeys.kit_inspect import select_by_keys, settle, visible_keys


def _type_url(qtbot, url: str) -> list:
    def act(dialog) -> None:
        edit = dialog.findChild(QComboBox).lineEdit() if dialog.findChild(QComboBox) else dialog.findChild(QLineEdit)
        edit.setFocus()
        edit.setText(url)
        QTest.keyClick(edit, Qt.Key.Key_Return)

    return when_modal(qtbot, act, QInputDialog)


def test_open_url_lists_reads_stats_and_remembers_without_secrets(qtbot, shell, http_server):
    sd = {"module.fc.weight": torch.randn(32, 16), "module.fc.bias": torch.randn(32)}
    torch.save({"state_dict": sd}, http_server.root / "model.pth")
    url = f"{http_server.url}/model.pth"

    answered = _type_url(qtbot, url)
    trigger(shell, "File", "Open URL… (S3, HTTP, Hugging Face)")
    qtbot.waitUntil(lambda: bool(answered), timeout=TIMEOUT)
    page = shell.current
    qtbot.waitUntil(lambda: page.ckpt is not None, timeout=TIMEOUT)
    assert str(page.ckpt.path) == url
    assert visible_keys(page) == {"state_dict.module.fc.weight", "state_dict.module.fc.bias"}
    assert url in shell.windowTitle() or "model.pth" in shell.windowTitle()
    # statistics come from range requests, equal to the local values
    select_by_keys(qtbot, page, "state_dict.module.fc.weight")
    qtbot.waitUntil(lambda: page.tensor_panel.stats.rowCount() > 0, timeout=TIMEOUT)
    settle()
    shown = {page.tensor_panel.stats.item(r, 0).text(): page.tensor_panel.stats.item(r, 1).text()
             for r in range(page.tensor_panel.stats.rowCount())}  # fmt: skip
    assert any(v.startswith(f"{sd['module.fc.weight'].max().item():.3g}"[:4]) for v in shown.values()), shown
    assert all(r.range is not None for r in http_server.log if r.method == "GET")

    # remembered in File ▸ Open Recent by its URL; reload asks the server again
    recent = menu_action(shell, "File", "Open Recent", "model.pth")
    assert url in recent.toolTip()
    before = len(http_server.log)
    trigger(shell, "File", "Reload")
    qtbot.waitUntil(lambda: len(http_server.log) > before and page.ckpt is not None, timeout=TIMEOUT)

    # a URL with a signature opens but is never written to the settings
    signed = url + "?X-Amz-Signature=s3cr3t"
    answered = _type_url(qtbot, signed)
    trigger(shell, "File", "Open URL… (S3, HTTP, Hugging Face)")
    qtbot.waitUntil(lambda: len(shell.pages()) == 2 and shell.current.ckpt is not None, timeout=TIMEOUT)
    assert "s3cr3t" not in shell.windowTitle() and "s3cr3t" not in str(shell.current.ckpt.path)
    shell.current.settings.sync()
    assert "s3cr3t" not in Path(shell.current.settings.fileName()).read_text()


def test_open_url_refuses_a_local_path_and_a_missing_object(qtbot, shell, http_server):
    answered = _type_url(qtbot, "/tmp/not-a-url.pth")
    trigger(shell, "File", "Open URL… (S3, HTTP, Hugging Face)")
    qtbot.waitUntil(lambda: bool(answered) and shell.current.last_error is not None, timeout=TIMEOUT)
    assert "not a URL" in shell.current.last_error.text()
    shell.current.last_error.close()

    answered = _type_url(qtbot, f"{http_server.url}/missing.pth")
    trigger(shell, "File", "Open URL… (S3, HTTP, Hugging Face)")
    qtbot.waitUntil(lambda: "missing.pth" in (shell.current.last_error.text() if shell.current.last_error else ""),
                    timeout=TIMEOUT)  # fmt: skip
    assert shell.current.ckpt is None
    assert menu_action(shell, "File", "Reload").isEnabled() is False
