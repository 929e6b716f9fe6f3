"""One ckptviewer per user and display: a second launch hands its files to the running window.

The first instance listens on a local socket (QLocalServer) named after the user and the
display (gui/display.py), so a launch on display :94 never hands its file to a window on :93
that its user cannot see. A later launch (double-clicking another checkpoint) connects, sends
the absolute paths as one JSON line, waits for "ok" and exits; the running window opens them
and comes to the front. That path imports QtCore and QtNetwork only (no torch, no pyqtgraph,
no QApplication) so it takes a fraction of a second. A socket left by an instance that was
killed (SIGTERM, SIGKILL, a crash) is detected (nobody answers) and replaced.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from ..core.remote import is_url
from .display import display_tag

TIMEOUT_MS = 1500
# once connected, a live instance is there (a killed one's socket refuses at once): give it time
# to answer even while busy (opening a file, importing torch) rather than open a second window
ANSWER_TIMEOUT_MS = 15_000


def server_name(env: dict[str, str] | None = None) -> str:
    """Per user and display (and overridable, for tests and side-by-side installs); ``env``: os.environ."""
    env = dict(os.environ) if env is None else env
    override = env.get("CKPTVIEWER_INSTANCE")
    if override:
        return override
    user = os.getuid() if hasattr(os, "getuid") else env.get("USERNAME", "user")
    tag = display_tag(env)
    name = f"ckptviewer-{user}-{tag}" if tag else f"ckptviewer-{user}"
    runtime = env.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        # the user's own 0700 folder: in the shared temp folder another user could take the name
        # first and swallow our hand-offs
        return os.path.join(runtime, name)
    return name


def answers(name: str) -> bool:
    """True if a live instance listens on ``name`` (a killed one's socket refuses the connection)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    alive = sock.waitForConnected(TIMEOUT_MS)
    sock.abort()
    return alive


def hand_off(paths: list[str], name: str | None = None) -> bool:
    """Give ``paths`` to a running instance; True if one took them."""
    sock = QLocalSocket()
    sock.connectToServer(name or server_name())
    if not sock.waitForConnected(TIMEOUT_MS):
        return False
    message = json.dumps({"open": [p if is_url(p) else str(Path(p).resolve()) for p in paths]}) + "\n"
    sock.write(message.encode())
    sock.flush()
    if sock.bytesToWrite() and not sock.waitForBytesWritten(ANSWER_TIMEOUT_MS):
        return False
    if not sock.bytesAvailable() and not sock.waitForReadyRead(ANSWER_TIMEOUT_MS):
        return False
    answer = bytes(sock.readAll().data()).strip()
    sock.disconnectFromServer()
    return answer == b"ok"


class InstanceServer(QObject):
    """Listens for later launches; emits the paths they hand over."""

    open_requested = Signal(list)

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or server_name()
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        # a live instance keeps its name (two launches at once: the other one won the race). Asked
        # first because with UserAccessOption listen() renames its socket over any file there, a
        # live one's too. A killed instance's socket (nobody answers) is replaced.
        if not answers(self.name) and not self.server.listen(self.name):
            QLocalServer.removeServer(self.name)
            self.server.listen(self.name)
        self.server.newConnection.connect(self._connection)

    @property
    def listening(self) -> bool:
        return self.server.isListening()

    def _connection(self) -> None:
        sock = self.server.nextPendingConnection()
        if sock is None:
            return
        sock.readyRead.connect(lambda s=sock: self._read(s))
        sock.disconnected.connect(sock.deleteLater)  # a liveness probe (answers()) leaves at once

    def _read(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        try:
            message = json.loads(bytes(sock.readLine().data()).decode("utf-8"))
            paths = [str(p) for p in message.get("open", [])] if isinstance(message, dict) else []
        except (UnicodeDecodeError, json.JSONDecodeError):
            paths = []
        sock.write(b"ok\n")
        sock.flush()
        sock.disconnectFromServer()
        self.open_requested.emit(paths)

    def close(self) -> None:
        self.server.close()
