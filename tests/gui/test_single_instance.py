"""A second launch hands its file to the running window (two real processes)."""

from __future__ import annotations

import os
import subprocess
import sys

import torch
from PySide6.QtCore import QDir

from ckptviewer.gui.app import _open_handed
from ckptviewer.gui.single_instance import InstanceServer
from tests.gui.conftest import OPEN_TIMEOUT


def launch(path, name: str) -> subprocess.Popen:
    env = {**os.environ, "CKPTVIEWER_INSTANCE": name, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.Popen([sys.executable, "-m", "ckptviewer.gui.app", str(path)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip


def test_second_launch_hands_the_file_to_the_running_window(qtbot, tmp_path):
    from PySide6.QtCore import QSettings

    from ckptviewer.gui.tabs import TabbedWindow

    shell = TabbedWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(shell)
    shell.show()
    name = f"ckptviewer-test-{os.getpid()}"
    server = InstanceServer(name, parent=shell)
    server.open_requested.connect(lambda paths: _open_handed(shell, paths))
    assert server.listening
    path = tmp_path / "second.pth"
    torch.save({"w": torch.ones(2)}, path)
    with qtbot.waitSignal(shell.current.opened, timeout=OPEN_TIMEOUT):
        second = launch(path, name)
        qtbot.waitUntil(lambda: second.poll() is not None, timeout=OPEN_TIMEOUT)
    assert second.returncode == 0  # it handed over and quit instead of opening a window
    assert shell.current.ckpt.path == path.resolve()
    server.close()
    for page in shell.pages():
        page.editor.ask_before_discard = False


def test_a_stale_socket_from_a_crashed_instance_is_recovered(qtbot, tmp_path):
    name = f"ckptviewer-stale-{os.getpid()}"
    stale = os.path.join(QDir.tempPath(), name)
    with open(stale, "w") as f:  # what a crash leaves: the socket path, nobody listening
        f.write("")
    try:
        server = InstanceServer(name)
        assert server.listening
        server.close()
    finally:
        if os.path.exists(stale):
            os.unlink(stale)
