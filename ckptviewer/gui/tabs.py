"""The application window: one document per tab, laid out the usual way.

Each tab is a :class:`MainWindow` (its own file, working copy, undo stack, workers and
status bar) embedded as a widget. The shell shows ONE menu bar and toolbar at the top,
then the document tab strip, then the page: every page still builds its own menus and
toolbar, but its menu bar stays hidden and the shell's bar shows the current page's menus
(its toolbar moves up into the shell). A hidden menu bar's actions take no shortcuts, so
Ctrl+S, Ctrl+Z, F5... act on the current tab only.

Closing a tab asks first if its edits are not saved; Quit asks once about every unsaved
tab. A tab made to open a file that then fails (or is cancelled) goes away again, its
error shown by the tab that stays. "Compare with…" offers the other open tabs.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer
from PySide6.QtWidgets import QMainWindow, QMessageBox, QTabWidget, QToolBar

from ..core.remote import as_path
from . import i18n
from .i18n import translate
from .main_window import MainWindow
from .text import elide, message_box, mnemonic_safe, tooltip, window_title


class TabbedWindow(QMainWindow):
    """Tabs of checkpoints, side by side."""

    def __init__(self, settings: QSettings | None = None, device: str = "auto") -> None:
        super().__init__()
        self.settings = settings or QSettings("ckptviewer", "ckptviewer")
        i18n.ensure_installed(self.settings)  # the chosen or the system's language, before any text is made
        self.device = device
        self._hosted: MainWindow | None = None  # the page whose menus and toolbar the shell shows
        self._toolbars: dict[MainWindow, list[QToolBar]] = {}
        self._opening: set[MainWindow] = set()  # tabs made to open a file: closed again if it never opens
        self._quit_after_saving = False  # Quit ▸ Save All: quit once every tab is saved
        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_current_changed)
        self.setCentralWidget(self.tabs)
        self.setWindowTitle("ckptviewer")
        self.resize(1280, 820)
        geometry = self.settings.value("shell/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.new_tab()

    def pages(self) -> list[MainWindow]:
        """Every tab's window, in tab order."""
        return [self.tabs.widget(i) for i in range(self.tabs.count())]  # type: ignore[misc]

    @property
    def current(self) -> MainWindow:
        """The window of the tab shown."""
        return self.tabs.currentWidget()  # type: ignore[return-value]

    def new_tab(self, path: str | os.PathLike | None = None) -> MainWindow:
        """A new, empty tab (opening ``path`` in it if given), made current."""
        page = MainWindow(settings=self.settings, device=self.device, shell=self)
        page.setWindowFlags(Qt.WindowType.Widget)
        page.menuBar().setVisible(False)  # its menus are shown in the shell's menu bar
        self._toolbars[page] = [
            tb for tb in page.findChildren(QToolBar, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if page.toolBarArea(tb) != Qt.ToolBarArea.NoToolBarArea
        ]  # fmt: skip
        page.windowTitleChanged.connect(lambda _t, p=page: self._retitle(p))
        page.editor.changed.connect(lambda p=page: self._retitle(p))
        page.opened.connect(lambda _c, p=page: self._opening.discard(p))
        page.error_reported.connect(lambda _m, p=page: self._open_ended(p, failed=True))
        page.runner.cancelled.connect(lambda slot, p=page: self._open_ended(p) if slot == "open" else None)
        page.editor.saved.connect(lambda _r: self._saved())
        self.tabs.setCurrentIndex(self.tabs.addTab(page, translate("TabbedWindow", "New tab")))
        self._update_actions()
        if path is not None:
            self._opening.add(page)
            page.open_file(path)
        return page

    def open_in_tab(self, path: str | os.PathLike) -> MainWindow:
        """Show ``path``: its tab if already open, the empty current tab, or a new one."""
        target = as_path(path).resolve()
        for page in self.pages():
            if page.path is not None and page.path.resolve() == target:
                self.tabs.setCurrentWidget(page)
                return page
        if self.current is not None and self.current.path is None:
            self.current.open_file(path)
            return self.current
        return self.new_tab(path)

    def other_paths(self, page: MainWindow) -> list[Path]:
        """Files open in the other tabs (what "Compare with…" offers first)."""
        return [p.path for p in self.pages() if p is not page and p.path is not None]

    def close_tab(self, index: int) -> bool:
        """Close one tab; False if its unsaved edits made the user keep it."""
        page = self.tabs.widget(index)
        if page is None or not page.close():
            return False
        self._remove(page)  # type: ignore[arg-type]
        return True

    # --- hosting the current page's menus and toolbar ------------------------------------

    def _on_current_changed(self, _index: int) -> None:
        self._host(self.current)
        self._retitle()

    def _host(self, page: MainWindow | None) -> None:
        """Show ``page``'s menus in the shell's menu bar and its toolbar above the tab strip."""
        previous = self._hosted
        if previous is not None and previous is not page:
            for tb in self._toolbars.get(previous, []):
                self.removeToolBar(tb)
                tb.setParent(previous)  # back to its page (hidden), deleted with it
        bar = self.menuBar()
        bar.clear()  # removes the previous page's menus from the bar; the page still owns them
        self._hosted = page
        if page is None:
            return
        bar.addActions(page.menuBar().actions())
        if previous is not page:
            for tb in self._toolbars.get(page, []):
                self.addToolBar(tb)
                tb.show()

    # --- closing ----------------------------------------------------------------------

    def _remove(self, page: MainWindow) -> None:
        """Take ``page``'s tab away (it has been closed); there is always one tab."""
        self._opening.discard(page)
        if page is self._hosted:
            self._host(None)
        self.tabs.removeTab(self.tabs.indexOf(page))
        self._toolbars.pop(page, None)
        page.deleteLater()
        if self.tabs.count() == 0:
            self.new_tab()
        self._update_actions()

    def _open_ended(self, page: MainWindow, failed: bool = False) -> None:
        """An open in ``page`` failed or was cancelled: a tab made for it goes away (next turn
        of the event loop: the runner is still delivering the outcome)."""
        if failed:
            self._quit_after_saving = False  # a failed save keeps the window: nothing to quit after
        QTimer.singleShot(0, lambda: self._drop_if_dead(page))

    def _drop_if_dead(self, page: MainWindow) -> None:
        if page not in self._opening or page.path is not None or page.runner.is_running("open"):
            return
        if self.tabs.count() == 1:  # the only tab stays, as the empty window
            self._opening.discard(page)
            return
        box = page.last_error
        error = (box.text(), box.detailedText()) if box is not None and box.isVisible() else None
        if box is not None:
            box.close()
        page.close()
        self._remove(page)
        if error is not None:  # shown again by the tab that stays (the failed one is gone)
            self.current.report_error(*error)

    def closeEvent(self, event) -> None:
        """Quit: one question about every tab with unsaved edits, then every tab closes."""
        unsaved = [p for p in self.pages() if p.editor.modified and p.editor.ask_before_discard]
        if unsaved and not self._confirm_quit(unsaved):
            event.ignore()
            return
        for page in self.pages():
            page.editor.ask_before_discard = False  # asked once, above
            page.close()
        self.settings.setValue("shell/geometry", self.saveGeometry())
        super().closeEvent(event)

    def _confirm_quit(self, unsaved: list[MainWindow]) -> bool:
        """True to quit now (edits discarded); Save All starts saving and quits once saved."""
        names = [
            elide(p.doc.shown_as.name if p.doc.shown_as else translate("TabbedWindow", "New tab"), 60) for p in unsaved
        ]
        listed = "\n".join(f"  • {n}" for n in names[:12])
        more = len(names) - 12  # lupdate reads a count only as a plain name
        if more > 0:
            listed += "\n  " + translate("TabbedWindow", "… and %Ln more", None, more)
        buttons = QMessageBox.StandardButton
        n_unsaved = len(unsaved)
        many = n_unsaved > 1
        text = (
            translate("TabbedWindow", "%Ln tabs have edits that are not saved.", None, n_unsaved)
            if many
            else translate("TabbedWindow", "{name} has unsaved edits.").format(name=names[0])
        )
        question = translate("TabbedWindow", "Save them before quitting?")
        box = message_box(
            self, QMessageBox.Icon.Question, translate("TabbedWindow", "Quit ckptviewer"), text,
            f"{listed}\n\n{question}" if many else question,
            buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save,
        )  # fmt: skip
        box.button(buttons.Save).setText(
            translate("TabbedWindow", "Save All") if many else translate("TabbedWindow", "Save")
        )
        box.button(buttons.Discard).setText(translate("TabbedWindow", "Discard and Quit"))
        self.quit_dialog = box
        box.exec()
        answer = box.standardButton(box.clickedButton()) if box.clickedButton() else buttons.Cancel
        if answer == buttons.Save:
            self._save_all(unsaved)
            return False
        return answer == buttons.Discard

    def _save_all(self, unsaved: list[MainWindow]) -> None:
        self._quit_after_saving = True
        for page in unsaved:
            self.tabs.setCurrentWidget(page)  # a Save As dialog then shows over its own tab
            page.editor.save()
            if not page.runner.is_running("save"):  # its Save As dialog was cancelled: stay
                self._quit_after_saving = False
                return

    def _saved(self) -> None:
        if self._quit_after_saving and not any(p.editor.modified or p.runner.is_running("save") for p in self.pages()):
            self._quit_after_saving = False
            QTimer.singleShot(0, self.close)

    # --- titles and states --------------------------------------------------------------

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retitle()  # "New tab" and the tooltips in the new language
        super().changeEvent(event)

    def _update_actions(self) -> None:
        """Closing a tab depends on how many there are: every page's actions follow."""
        for page in self.pages():
            page.update_actions()

    def _retitle(self, page: MainWindow | None = None) -> None:
        for p in [page] if page is not None else self.pages():
            i = self.tabs.indexOf(p)
            if i < 0:
                continue
            shown, opened = p.doc.shown_as, p.doc.path
            # a file name: one line, short, and "&" is not a mnemonic
            name = mnemonic_safe(elide(shown.name, 60)) if shown is not None else translate("TabbedWindow", "New tab")
            self.tabs.setTabText(i, name + (" •" if p.editor.modified else ""))
            tip = str(shown) if shown is not None else ""
            if shown is not None and opened is not None and shown != opened:
                # Save As: the tab is the new file now
                tip += "\n" + translate("TabbedWindow", "edited from {path}").format(path=opened)
            self.tabs.setTabToolTip(i, tooltip(tip))
        current = self.current
        shown = current.doc.shown_as if current is not None else None
        title = window_title(elide(shown.name)) if shown is not None else None
        self.setWindowTitle(f"{title} — ckptviewer" if title else "ckptviewer")
