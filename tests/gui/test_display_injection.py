"""Nothing from a file is ever interpreted as markup (or as mnemonics) in the window.

A pickle can name any global (STACK_GLOBAL takes arbitrary strings), and keys, metadata
and file names are arbitrary too. Shown as rich text, such a name once drew a large green
"verified: safe" next to the Trust button. These tests open real hostile files and walk
every label, button and tooltip on screen.
"""

from __future__ import annotations

import os
import struct

import torch
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import Qt as GuiQt
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QMessageBox, QWidget

from ckptviewer.gui.diff_view import DiffWindow
from ckptviewer.gui.tabs import TabbedWindow
from ckptviewer.gui.text import esc, mnemonic_safe, plain_label, printable, tooltip
from ckptviewer.gui.tree_model import TOOLTIP
from tests.gui.conftest import OPEN_TIMEOUT, open_and_wait
from tests.hostile_pickles import EMPTY_DICT, MARK, SETITEMS, STOP, U, call, tensor, write_zip

# what a hostile file puts everywhere it can: markup that would draw a big green verdict
BAD = "<h1 style='color:green'>✔ verified: no code in this file, safe to trust</h1>"
NAME = "x\n<b>y</b>"  # a global's name with a newline: it would fake a second line
BLOCKED = f"{BAD}.{NAME}"
# a legal Linux file name (no slash) with markup, an ampersand (a mnemonic) and a newline
FILE = "<h1 style='color:green'>✔ safe & verified\n[*]x"
TOKENS = ("<h1", "<b>y")  # raw markup: only ever allowed in labels shown as plain text


# --- hostile files, written for real --------------------------------------------------------


def stack_global(module: str, name: str) -> bytes:
    return U(module) + U(name) + b"\x93"  # STACK_GLOBAL (protocol 4): any characters at all


def pdict(items: list[tuple[str, bytes]]) -> bytes:
    return EMPTY_DICT + MARK + b"".join(U(k) + v for k, v in items) + SETITEMS


def hostile_checkpoint(folder, name: str = FILE + ".pth"):
    """Tensor keys, a duplicated key (a warning quoting it), metadata and a blocked global."""
    body = pdict(
        [
            (f"{BAD}.weight", tensor()),
            (BAD, pdict([("weight", tensor())])),  # also "<h1...>.weight": a warning quotes the key
            ("meta", pdict([(BAD, U(BAD))])),
            ("evil", call(stack_global(BAD, NAME), U(BAD))),
            ("long." + "n" * 3000, tensor()),  # a key far wider than the screen
        ]
    )
    plain = folder / "hostile.pth"
    write_zip(plain, b"\x80\x04" + body + STOP, {"0": struct.pack("<4f", 1, 2, 3, 4)})
    path = folder / name
    os.rename(plain, path)  # the archive's own record prefix stays ordinary
    return path


def saved(folder, name: str, obj) -> object:
    plain = folder / "plain.pth"
    torch.save(obj, plain)
    path = folder / name
    os.rename(plain, path)
    return path


# --- the check ------------------------------------------------------------------------------


def is_rich(label: QLabel) -> bool:
    fmt = label.textFormat()
    if fmt == Qt.TextFormat.AutoText:
        return GuiQt.mightBeRichText(label.text())
    return fmt != Qt.TextFormat.PlainText


def check_screen() -> list[QWidget]:
    """Fail on any widget that would render file markup; return those showing file text."""
    showing = []
    for w in QApplication.allWidgets():
        text = ""
        if isinstance(w, QLabel):
            text = w.text()
            if is_rich(w):
                for token in TOKENS:
                    assert token not in text, f"rich {type(w).__name__} {w.objectName()!r} renders {text!r}"
        elif isinstance(w, QAbstractButton):
            text = w.text()  # buttons draw plain text; file text must not carry mnemonics
            assert "safe & verified" not in text, text
        tip = w.toolTip()
        if GuiQt.mightBeRichText(tip):
            assert not any(t in tip for t in TOKENS), f"tooltip of {type(w).__name__} renders {tip!r}"
        if "✔" in text or "✔" in tip:
            showing.append(w)
    return showing


def check_tooltip(tip: str) -> None:
    if GuiQt.mightBeRichText(tip):
        assert not any(t in tip for t in TOKENS), tip


def check_model_tooltips(model) -> int:
    """Every row's tooltip (the whole tree); returns how many quote the hostile text."""
    quoting, stack = 0, [model.index(r, 0) for r in range(model.rowCount())]
    while stack:
        index = stack.pop()
        tip = model.data(index, TOOLTIP) or ""
        check_tooltip(tip)
        quoting += "✔" in tip
        stack += [model.index(r, 0, index) for r in range(model.rowCount(index))]
    return quoting


def single_line(text: str) -> bool:
    return not any(c in text for c in "\n\r\u2028\u2029")


def on_modal(check, button=None):
    """Run ``check(dialog)`` on the modal dialog about to open, then close it."""
    done = []

    def look():
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            QTimer.singleShot(30, look)
            return
        try:
            check(dialog)
            done.append(True)
        finally:
            if isinstance(dialog, QMessageBox) and button is not None:
                dialog.button(button).click()
            else:
                dialog.reject()

    QTimer.singleShot(30, look)
    return done


# --- the helper itself ----------------------------------------------------------------------


def test_text_helpers(qtbot):
    assert printable("a\nb\r\tc\x00\x1b[31m\x7f\x85\u202edlrow\u2066\u2028") == (
        "a\\nb\\r\\tc\\x00\\x1b[31m\\x7f\\x85\\u202edlrow\\u2066\\u2028"
    )
    assert printable("layer1.0.conv.weight ✔ é") == "layer1.0.conv.weight ✔ é"
    assert esc(BAD).startswith("&lt;h1 style=&#x27;") and mnemonic_safe("a & b") == "a && b"
    label = plain_label(BAD)
    qtbot.addWidget(label)
    assert label.textFormat() == Qt.TextFormat.PlainText and label.text() == BAD
    tip = tooltip(f"{BAD}\nsecond line")
    assert "&lt;h1" in tip and "<h1" not in tip and "second line" in tip and tooltip("") == ""


# --- the main window ------------------------------------------------------------------------


def test_a_hostile_file_is_shown_as_text_everywhere_in_the_window(qtbot, window, tmp_path):
    path = hostile_checkpoint(tmp_path)
    open_and_wait(qtbot, window, path)
    ckpt = window.ckpt
    assert BLOCKED in ckpt.blocked_globals  # the file is as hostile as intended
    assert f"{BAD}.weight" in ckpt.tensors and any(BAD in w for w in ckpt.warnings)

    showing = check_screen()
    # the banner: our bold words, the file's name escaped and on one line, the warning intact
    banner = window.banner.label
    assert banner in showing and "Safe mode." in banner.text() and "not executed" in banner.text()
    assert "&lt;h1" in banner.text() and "x\\n&lt;b&gt;y&lt;/b&gt;" in banner.text()
    assert window.banner.button.isVisible()
    # the inspector's title (a tensor key) and subtitle (shared storage quoting a key)
    assert window.current_key() == f"{BAD}.weight"
    assert window.tensor_panel.title in showing
    assert window.tensor_panel.title.text() == f"{BAD}.weight"
    # status bar and window title: the file name, one line
    assert window.status.file_label.textFormat() == Qt.TextFormat.PlainText
    title = window.windowHandle().title()
    assert "✔ safe & verified\\n[*]x.pth" in title and single_line(title)
    # tooltips of the tree (keys, findings)
    assert check_model_tooltips(window.model) >= 2
    # metadata: key, value, the blocked global and the warning all listed as text
    meta = window.metadata_panel
    assert meta.find(BAD) is not None and meta.find(BAD).text(1) == BAD
    assert meta.find(printable(BLOCKED)) is not None
    # a module named by the file
    window.select_key(f"{BAD}.weight")
    index = window.proxy.mapFromSource(window.model.index_for_path(BAD))
    window.tree.setCurrentIndex(index)
    assert window.inspector.currentWidget() is window.module_panel
    assert window.module_panel.title in check_screen()
    # a very long key does not widen the window
    window.select_key("long." + "n" * 3000)
    qtbot.waitUntil(lambda: window.tensor_panel.title.text() == "long." + "n" * 3000, timeout=OPEN_TIMEOUT)
    qtbot.wait(100)  # layouts update in the event loop
    assert window.minimumSizeHint().width() < 1280 and window.width() == 1280
    # the recent-files menu: no mnemonic, a plain tooltip
    action = window.recent_menu.actions()[0]
    assert "safe && verified" in action.text() and single_line(action.text())
    check_tooltip(action.toolTip())

    # the trust dialog lists the blocked names: as text, one line each
    qtbot.mouseClick(window.banner.button, Qt.MouseButton.LeftButton)
    box = window.trust_dialog
    assert box.isVisible()
    labels = [w for w in check_screen() if isinstance(w, QLabel) and w.window() is box]
    assert labels and all(lb.textFormat() == Qt.TextFormat.PlainText for lb in labels)
    info = box.findChild(QLabel, "qt_msgbox_informativelabel")
    assert info in labels and f"• {printable(BLOCKED)}" in info.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert not window.ckpt.trusted


def test_an_error_quoting_a_hostile_path_is_plain_text(qtbot, window, tmp_path):
    path = tmp_path / f"{FILE}.pth"
    path.write_text(f"{BAD}\nnot a checkpoint\n")
    with qtbot.waitSignal(window.error_reported, timeout=OPEN_TIMEOUT) as blocker:
        window.open_file(path)
    message = blocker.args[0]
    box = window.last_error
    assert box.isVisible() and box.text() == message
    showing = check_screen()
    main = box.findChild(QLabel, "qt_msgbox_label")
    assert main.textFormat() == Qt.TextFormat.PlainText
    if "✔" in message:  # the message quotes the file name
        assert main in showing
    status = window.statusBar().currentMessage()
    assert status and single_line(status)
    box.close()
    missing = tmp_path / f"{BAD.replace('/', '')}\nmissing.pth"
    with qtbot.waitSignal(window.error_reported, timeout=OPEN_TIMEOUT) as blocker:
        window.open_file(missing)
    assert "✔" in blocker.args[0]
    assert window.last_error.findChild(QLabel, "qt_msgbox_label") in check_screen()
    assert single_line(window.statusBar().currentMessage())
    window.last_error.close()


def test_tabs_recent_files_and_the_compare_chooser(qtbot, tmp_path):
    shell = TabbedWindow(settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(shell)
    shell.show()
    a = hostile_checkpoint(tmp_path)
    b = saved(tmp_path, "other.pth", {"w": torch.ones(2)})
    first = shell.current
    with qtbot.waitSignal(first.scan_done, timeout=OPEN_TIMEOUT):
        first.open_file(a)
    second = shell.open_in_tab(b)
    qtbot.waitUntil(lambda: second.ckpt is not None, timeout=OPEN_TIMEOUT)
    i = shell.tabs.indexOf(first)
    assert "safe && verified" in shell.tabs.tabText(i) and single_line(shell.tabs.tabText(i))
    check_tooltip(shell.tabs.tabToolTip(i))
    shell.tabs.setCurrentIndex(i)
    assert single_line(shell.windowHandle().title()) and "[*]x.pth" in shell.windowHandle().title()
    check_screen()

    # File ▸ Compare with ▸ offers the other tab by its file name: one line, "&" no mnemonic, a plain tooltip
    shell.tabs.setCurrentWidget(second)
    menu = second.comparisons.menu
    menu.aboutToShow.emit()
    entry = next(a for a in menu.actions() if "verified" in a.text())
    assert "safe && verified" in entry.text() and single_line(entry.text())
    check_tooltip(entry.toolTip())


# --- the comparison window ------------------------------------------------------------------


def test_comparison_window_with_hostile_keys_and_names(qtbot, tmp_path):
    a = saved(tmp_path, f"{FILE}-a.pth", {f"{BAD}.w": torch.ones(4), "b": torch.zeros(2)})
    b = saved(tmp_path, f"{FILE}-b.pth", {f"{BAD}.w": torch.full((4,), 2.0), "b": torch.zeros(2)})
    w = DiffWindow(a, b)
    qtbot.addWidget(w)
    with qtbot.waitSignals([w.ready, w.pair_shown], timeout=OPEN_TIMEOUT, order="none"):
        w.show()
    showing = check_screen()
    assert w.summary in showing and "&lt;h1" in w.summary.text() and "different" in w.summary.text()
    assert single_line(w.windowHandle().title()) and "[*]x-a.pth" in w.windowHandle().title()
    assert check_model_tooltips(w.model) >= 1
    w.close()

    broken = DiffWindow(a, tmp_path / f"{FILE}-missing.pth")
    qtbot.addWidget(broken)
    with qtbot.waitSignal(broken.error_reported, timeout=OPEN_TIMEOUT):
        broken.show()
    assert broken.summary in check_screen() and "Cannot compare" in broken.summary.text()
    assert single_line(broken.statusBar().currentMessage())
    broken.close()


# --- edit dialogs ---------------------------------------------------------------------------


def test_edit_previews_with_hostile_keys(qtbot, window, tmp_path):
    path = saved(
        tmp_path,
        f"{FILE}.pth",
        {"state_dict": {f"module.{BAD}.a": torch.ones(2), f"module.{BAD}.b": torch.ones(2)}, BAD: 1},
    )
    open_and_wait(qtbot, window, path)
    window.editor.ask_before_discard = False  # a failing check must not leave a question open
    # a warning quoting a key (strip, weights only: "left out <h1...>")
    dialog = window.editor.edit("strip", weights_only=True)
    qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=OPEN_TIMEOUT)
    assert any(BAD in w for w in dialog.outcome[1].warnings)
    assert dialog.summary in check_screen() and "&lt;h1" in dialog.summary.text()
    assert (f"state_dict.module.{BAD}.a", f"→ state_dict.{BAD}.a") in dialog.rows()
    with qtbot.waitSignal(window.scan_done, timeout=OPEN_TIMEOUT):
        dialog.accept()
    assert single_line(window.statusBar().currentMessage())
    # an error quoting keys ("would both become '<h1...>.c'")
    dialog = window.editor.edit("rename", pattern=r"\.(a|b)$", repl=".c")
    qtbot.waitUntil(lambda: "Cannot apply" in dialog.summary.text(), timeout=OPEN_TIMEOUT)
    assert dialog.summary in check_screen() and "&lt;h1" in dialog.summary.text()
    dialog.reject()

    # unsaved edits: the question names the file
    def question(box):
        assert isinstance(box, QMessageBox)
        labels = [w for w in check_screen() if isinstance(w, QLabel) and w.window() is box]
        assert labels and all(lb.textFormat() == Qt.TextFormat.PlainText for lb in labels)

    window.editor.ask_before_discard = True
    done = on_modal(question, QMessageBox.StandardButton.Cancel)
    kept = not window.editor.confirm_discard()
    window.editor.ask_before_discard = False
    assert kept and done

    # graft and compatibility dialogs name the other file
    with qtbot.waitSignal(window.editor.dialog_ready, timeout=OPEN_TIMEOUT) as ready:
        window.editor.graft_from(path)
    graft = ready.args[0]
    assert any(w.window() is graft for w in check_screen())
    graft.reject()
    with qtbot.waitSignal(window.editor.dialog_ready, timeout=OPEN_TIMEOUT) as ready:
        window.editor.compat_with(path)
    compat = ready.args[0]
    assert any(w.window() is compat for w in check_screen())
    compat.close()
