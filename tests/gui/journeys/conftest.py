"""Journeys: the real window driven only as a person drives it.

Actions are found by their visible menu text (:func:`menu_action`), dialogs are answered
by typing into them and pressing their buttons (:func:`answer_file_dialog`,
:func:`press_button`), shortcuts are typed. Never call the window's methods to act; read
its state only to assert. :func:`shoot` saves each journey's end state at 1024x640 and
1920x1080, light and dark, when ``CKPT_SCREENSHOTS`` names a folder (``make screenshots``).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QFileDialog,
    QLineEdit,
    QMainWindow,
    QMenu,
    QWidget,
)

from ckptviewer.gui import theme
from ckptviewer.gui.tabs import TabbedWindow
from ckptviewer.gui.theme import configure_plots

TIMEOUT = 60_000
SIZES = {"small": (1024, 640), "large": (1920, 1080)}


@pytest.fixture
def shell(qtbot, tmp_path):
    """The application window as `ckptviewer` shows it, with its own settings file."""
    configure_plots()
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    w = TabbedWindow(settings=settings)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    for page in w.pages():
        page.runner.shutdown(10_000)


def _plain(text: str) -> str:
    """A menu text as the user reads it: no mnemonic ampersands, no trailing ellipsis."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").rstrip(".").strip()


def _bar(window: QWidget):
    """The menu bar the user sees on ``window``: its own, or the current tab's while it has none."""
    bar = window.menuBar() if isinstance(window, QMainWindow) else None
    if (bar is None or not bar.actions()) and isinstance(window, TabbedWindow):
        bar = window.current.menuBar()
    assert bar is not None and bar.actions(), "no menu bar"
    return bar


def menu_action(window: QWidget, *path: str) -> QAction:
    """The action reached through the menu bar of ``window`` by visible texts: ("File", "Save As")."""
    actions = _bar(window).actions()
    for depth, name in enumerate(path):
        found = [a for a in actions if not a.isSeparator() and _plain(a.text()) == _plain(name)]
        assert found, f"no menu entry {name!r} under {path[:depth]}; have {[_plain(a.text()) for a in actions]}"
        action = found[0]
        if depth == len(path) - 1:
            return action
        menu = action.menu()
        assert isinstance(menu, QMenu), f"{name!r} is not a menu"
        menu.aboutToShow.emit()  # menus that fill themselves when opened (Open Recent, Compare with)
        actions = menu.actions()
    raise AssertionError("empty path")


def all_actions(window: QWidget) -> dict[str, QAction]:
    """Every action of the menu bar (submenus included) by its path, "File > Save As"."""
    bar = _bar(window)
    out: dict[str, QAction] = {}

    def visit(actions: list[QAction], prefix: str) -> None:
        for a in actions:
            if a.isSeparator():
                continue
            name = f"{prefix}{_plain(a.text())}"
            menu = a.menu()
            if isinstance(menu, QMenu):
                menu.aboutToShow.emit()
                visit(menu.actions(), name + " > ")
            else:
                out[name] = a

    visit(bar.actions(), "")
    return out


def trigger(window: QWidget, *path: str) -> None:
    """Choose a menu entry, as a click on it does (it must be enabled)."""
    action = menu_action(window, *path)
    assert action.isEnabled(), f"{' > '.join(path)} is disabled"
    action.trigger()


def when_modal(qtbot, act: Callable[[QWidget], None], kind: type = QDialog, timeout: int = 10_000) -> list:
    """Run ``act(dialog)`` as soon as a modal dialog of ``kind`` shows (call before what opens it).

    Static dialogs (QFileDialog.getOpenFileName, QMessageBox.exec) block in their own
    event loop; a timer that polls from inside that loop is how a test answers them.
    Returns a list that holds the dialog once answered.
    """
    done: list = []
    timer = QTimer()
    timer.setInterval(20)

    def poll() -> None:
        w = QApplication.activeModalWidget()
        if isinstance(w, kind) and w.isVisible():
            timer.stop()
            done.append(w)
            act(w)

    timer.timeout.connect(poll)
    timer.start()
    qtbot._journey_timers = getattr(qtbot, "_journey_timers", []) + [timer]  # kept alive until the test ends
    return done


def answer_file_dialog(qtbot, path: str | os.PathLike) -> list:
    """Type ``path`` into the next file dialog and press Enter, as a person does."""

    def act(dialog: QWidget) -> None:
        edit = dialog.findChild(QLineEdit, "fileNameEdit")
        assert edit is not None, "not a Qt file dialog"
        edit.setFocus()
        edit.setText(str(path))
        QTest.keyClick(edit, Qt.Key.Key_Return)

    return when_modal(qtbot, act, QFileDialog)


def press_button(dialog: QWidget, text: str) -> None:
    """Click the button of ``dialog`` whose visible text is ``text`` (mnemonics ignored)."""
    buttons = [b for b in dialog.findChildren(QAbstractButton) if b.isVisible() and _plain(b.text()) == _plain(text)]
    assert buttons, f"no button {text!r}; have {[_plain(b.text()) for b in dialog.findChildren(QAbstractButton)]}"
    QTest.mouseClick(buttons[0], Qt.MouseButton.LeftButton)


def press_keys(widget: QWidget, sequence: str) -> None:
    """Type a shortcut ("Ctrl+W") into ``widget`` as a key press.

    Its window is activated first: after a modal dialog closes, the offscreen platform
    leaves no active window, and window shortcuts only fire in the active one.
    """
    window = widget.window()
    if QApplication.activeWindow() is not window:
        window.activateWindow()
        QTest.qWaitForWindowActive(window, 1000)
    seq = QKeySequence(sequence)
    combo = seq[0]
    QTest.keyClick(widget, combo.key(), combo.keyboardModifiers())


def open_file(qtbot, shell: TabbedWindow, path: str | os.PathLike):
    """File ▸ Open with the path typed into the dialog; returns the tab once it shows the file."""
    answer_file_dialog(qtbot, path)
    trigger(shell, "File", "Open")
    qtbot.waitUntil(lambda: shell.current.path == path and shell.current.ckpt is not None, timeout=TIMEOUT)
    return shell.current


def strip_prefix(qtbot, shell: TabbedWindow) -> None:
    """Edit ▸ Strip prefix, then Apply once the preview is ready; waits for the new working copy."""
    page = shell.current
    before = page.ckpt
    trigger(shell, "Edit", "Strip prefix")
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QDialog), timeout=TIMEOUT)
    dialog = QApplication.activeModalWidget()
    qtbot.waitUntil(
        lambda: any(b.text() == "Apply" and b.isEnabled() for b in dialog.buttons.buttons()), timeout=TIMEOUT
    )
    press_button(dialog, "Apply")
    qtbot.waitUntil(lambda: page.ckpt is not before, timeout=TIMEOUT)


def shoot(window: QWidget, name: str) -> list[Path]:
    """Save ``window`` at both sizes in both themes under $CKPT_SCREENSHOTS (nothing when unset)."""
    folder = os.environ.get("CKPT_SCREENSHOTS")
    if not folder:
        return []
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    size = window.size()
    for mode in ("light", "dark"):
        theme.apply(mode, window)
        for label, (w, h) in SIZES.items():
            window.resize(w, h)
            for _ in range(3):
                QApplication.processEvents()
            path = out / f"{name}-{label}-{mode}.png"
            window.grab().save(str(path))
            saved.append(path)
    theme.apply("light", window)
    window.resize(size)
    return saved
