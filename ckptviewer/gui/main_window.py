"""The main window: layer tree on the left, inspector/metadata/health tabs on the right.

All work (open, per-tensor statistics, health scan, exports) runs in a TaskRunner; this
class only wires signals and draws results. A failure from any worker reaches
:meth:`MainWindow.report_error`, the single error path.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ..app.actions import enabled
from ..app.document import CLOSED, EDITED, OPENED, SCANNED, Document
from ..core import Checkpoint, open_checkpoint
from ..core.checkpoint import TensorEntry
from ..core.filemap import is_remote
from ..core.keymatch import python_access
from ..core.remote import RemotePath, as_path, is_url
from ..core.summary import module_class, training_summary
from ..core.translatable import QT_TRANSLATE_NOOP
from ..core.tree import TreeNode, build_tree
from ..formatting import shape_str
from . import engine, i18n
from .banners import Banner, PrefixBanner, ReloadBanner
from .compare import Comparisons, file_filter
from .editing import Editor
from .exports import Exports
from .file_watch import FileWatch
from .i18n import translate
from .recent import RecentFiles
from .shortcuts import ShortcutsDialog, shortcut_rows
from .side_panels import HealthPanel, LargestPanel, MetadataPanel
from .start_page import StartPage
from .status_line import StatusLine, device_name
from .text import elide, message_box, plain_label, printable, window_title
from .theme import THEMES, theme_actions
from .theme import apply as apply_theme
from .tree_model import NAME, PARAMS, SIZE, LayerTreeView, TreeFilterProxy, TreeModel
from .workers import TaskRunner

if TYPE_CHECKING:  # the computing core (torch) and the plots (pyqtgraph) load after the tree is painted
    from ..core.inspect import Refused, TensorReport
    from ..core.scan import ScanReport
    from .tensor_panel import ModulePanel, TensorPanel

# the device choices before torch is in (it says which CUDA devices there are)
FIRST_DEVICES = ("auto", "cpu")
C = "MainWindow"  # the catalogue's context of this file's texts (translate() below names it literally)


class MainWindow(QMainWindow):
    """ckptviewer's window over one checkpoint."""

    opened = Signal(object)  # Checkpoint
    report_shown = Signal(str)  # key of the tensor whose statistics and plots are drawn
    scan_done = Signal(object)  # ScanReport
    error_reported = Signal(str)
    run_opened = Signal(object)  # RunWindow
    plots_ready = Signal()  # pyqtgraph is imported (in the background)
    engine_ready = Signal()  # torch and the computing core are imported

    def __init__(self, settings: QSettings | None = None, device: str = "auto", shell: Any = None) -> None:
        super().__init__()
        self.shell = shell  # the TabbedWindow holding this document as a tab, if any
        self.settings = settings or QSettings("ckptviewer", "ckptviewer")
        self.runner = TaskRunner(self)
        self.runner.report_error = self.report_error  # the one error path of this window
        self.doc = Document(device)  # what is open: file, working copy, undo, scan (no Qt)
        self.last_error: QMessageBox | None = None
        self.comparisons = Comparisons(self, self.report_error)
        self.run_windows: list = []  # RunWindow (gui/run_view.py, imported when first used); closed with this one
        self.exports = Exports(self, self.doc, self.runner, self.settings, self._notify)
        self._device = device
        # the inspector's plot panels (pyqtgraph) are built after the tree's first paint
        self._tensor_panel: TensorPanel | None = None
        self._module_panel: ModulePanel | None = None
        self._tree_painted = False  # the layer tree of a file has been painted once
        self._pending_show: Callable[[], None] | None = None  # what the inspector shows once it is built
        self._theme = "system"
        # (widget setter, English text marked with QT_TRANSLATE_NOOP): set again on LanguageChange
        self._texts: list[tuple[Callable[[str], None], str]] = []
        self.setWindowTitle("ckptviewer")
        self.setAcceptDrops(True)
        self.resize(1280, 800)
        self._build_views()
        self.editor = Editor(self)
        self._build_actions()
        self.status = StatusLine(self.statusBar(), self.runner)
        self.runner.busy_changed.connect(self._on_busy)
        self.plots_ready.connect(self._plots_ready)
        self.engine_ready.connect(self._engine_ready)
        self.doc.changed.connect(self._on_document)
        self.update_actions()
        self.central_stack.setCurrentWidget(self.start_page)
        self._restore_layout()
        self.set_theme(str(self.settings.value("theme", "system")))
        self.file_watch = FileWatch(self, self.reload_banner.show)  # a reload is offered, never forced
        # from the importing thread: queued to this one
        engine.on_plots_ready(self.plots_ready.emit)
        engine.on_ready(self.engine_ready.emit)

    # --- the document ---------------------------------------------------------------------

    @property
    def ckpt(self) -> Checkpoint | None:
        """The checkpoint shown (the working copy)."""
        return self.doc.ckpt

    @property
    def path(self) -> Path | None:
        """The file or folder that is open (the last one that opened successfully)."""
        return self.doc.path

    @property
    def trusted(self) -> bool:
        return self.doc.trusted

    @property
    def scan_report(self) -> ScanReport | None:
        return self.doc.scan_report

    def _on_document(self, what: str) -> None:
        """The document changed: redraw what depends on it, then every action's state."""
        if what in (OPENED, EDITED):
            ckpt, tree = self.doc.ckpt, self.doc.tree
            assert ckpt is not None and tree is not None
            key = self.doc.pending_key if what == OPENED else self.current_key()
            self.show_checkpoint(ckpt, tree, key)
        elif what == SCANNED and self.doc.scan_report is not None:
            report = self.doc.scan_report
            self.model.set_findings(report.findings)
            if self.flagged_action.isChecked():
                self.proxy.set_flagged_only(True)  # the new findings decide what is shown
            self.health_panel.show_report(report)
            self.scan_done.emit(report)
        elif what == CLOSED:
            self._show_nothing()
            self.start_page.show_welcome()
        self.central_stack.setCurrentWidget(self.start_page if self.doc.ckpt is None else self.checkpoint_view)
        self._update_title()
        self.update_actions()

    def update_actions(self) -> None:
        """Enable exactly the actions that can act now (app.actions decides, for every action)."""
        tabs = self.shell.tabs.count() if self.shell is not None else 1
        state = enabled(self.doc, busy_saving=self.runner.is_running("save"), tabs=tabs)
        for name, action in self.named_actions().items():
            action.setEnabled(state.get(name, True))
        self.editor.refresh()

    def named_actions(self) -> dict[str, QAction]:
        """This window's actions by their name in :func:`ckptviewer.app.actions.enabled`."""
        named = {"open": self.open_action, "reload": self.reload_action, "compare": self.compare_action,
                 "export_csv": self.export_csv_action, "close": self.close_action, "filter": self.filter_action,
                 "expand": self.expand_action, "collapse": self.collapse_action, "flagged": self.flagged_action,
                 "largest": self.largest_action}  # fmt: skip
        return {**named, **self.editor.named_actions()}

    def _update_title(self) -> None:
        name = window_title(self.doc.path.name) if self.doc.path is not None else None
        self.setWindowTitle(f"{name}[*] — ckptviewer" if name else "ckptviewer")
        self.setWindowModified(self.doc.modified)

    # --- construction -------------------------------------------------------------------

    def _build_views(self) -> None:
        self._build_tree()
        self._build_filter()
        self.banner = Banner()
        self.banner.trust_requested.connect(self.ask_trust)
        self.reload_banner = ReloadBanner()
        self.reload_banner.reload_requested.connect(self.reload)
        left = self._build_left()
        self._build_tabs()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.tabs)
        # a smaller window shrinks both sides (2:3), not the inspector alone
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([520, 760])
        central = QWidget()
        cl = QVBoxLayout(central)
        cl.setContentsMargins(6, 6, 6, 0)
        cl.addWidget(self.banner)
        self.prefix_banner = PrefixBanner()  # "Strip module." in one click: Edit > Strip prefix
        self.prefix_banner.strip_requested.connect(lambda: self.editor.op_actions["strip"].trigger())
        cl.addWidget(self.prefix_banner)
        cl.addWidget(self.reload_banner)
        cl.addWidget(self.splitter, 1)
        self.checkpoint_view = central
        # no checkpoint: the ways to open one (or the one opening) instead of empty panes
        self.start_page = StartPage(self.runner, lambda: self.recent.paths(), self.choose_file, self.choose_folder,
                                    self.open_somewhere, self.choose_url)  # fmt: skip
        self.central_stack = QStackedWidget()
        self.central_stack.addWidget(central)
        self.central_stack.addWidget(self.start_page)
        self.setCentralWidget(self.central_stack)

    def _build_tree(self) -> None:
        """The layer tree: model, filter proxy, view and its columns."""
        self.model = TreeModel()
        self.proxy = TreeFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.tree = LayerTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)  # lets a 20,000-row tree scroll without measuring rows
        self.tree.setSortingEnabled(True)
        self.tree.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # file order until a header is clicked
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._tree_menu)
        self.tree.painted.connect(self._on_tree_painted)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        for col, width in ((1, 84), (2, 76), (PARAMS, 84), (SIZE, 74)):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(col, width)
        self.tree.selectionModel().currentChanged.connect(self._on_current_changed)

    def _build_filter(self) -> None:
        """The filter line (Esc clears it while it has the focus) and its "no matches" line."""
        self.filter = QLineEdit()
        self._text(
            self.filter.setPlaceholderText,
            QT_TRANSLATE_NOOP(
                "MainWindow",
                "Filter: key, glob or regex, dtype, shape (Ctrl+F)   e.g.  *.bias  se.*bias  bfloat16  3x3",
            ),
        )
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._on_filter)
        # Esc belongs to the filter only while it has the focus (a dialog's Esc stays the dialog's)
        self.clear_filter_action = QAction(self.filter)
        self._text(
            self.clear_filter_action.setText, QT_TRANSLATE_NOOP("MainWindow", "Clear the filter (in the filter)")
        )
        self.clear_filter_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.clear_filter_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.clear_filter_action.triggered.connect(self.clear_filter)
        self.filter.addAction(self.clear_filter_action)
        self.no_matches = plain_label()
        self.no_matches.setStyleSheet("color: #b45309;")
        # a long filter text cannot widen the window
        self.no_matches.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.no_matches.hide()
        self._selected_path: str | None = None  # the row the user chose, kept across filtering
        self._filtering = False

    def _build_left(self) -> QWidget:
        """The left pane: the edits line, the filter and the tree."""
        self.edit_label = plain_label()
        self.edit_label.setStyleSheet("color: #b45309; font-weight: 600;")
        self.edit_label.hide()
        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(6, 6, 0, 6)
        ll.addWidget(self.edit_label)
        ll.addWidget(self.filter)
        ll.addWidget(self.no_matches)
        ll.addWidget(self.tree)
        return left

    def _build_tabs(self) -> None:
        """The right pane: Inspector (tensor or module), Metadata, Health and Largest tabs."""
        self.empty = QLabel()
        self._text(
            self.empty.setText, QT_TRANSLATE_NOOP("MainWindow", "Open a checkpoint: File ▸ Open, or drop a file here.")
        )
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #8a8a8a; font-size: 15px;")
        self.loading = plain_label()  # a selection made before the plot panels are built
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.loading.setStyleSheet("color: #8a8a8a; font-size: 15px;")
        # a long key cannot widen the window
        self.loading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.inspector = QStackedWidget()
        for w in (self.empty, self.loading):
            self.inspector.addWidget(w)
        self.metadata_panel = MetadataPanel()
        self.health_panel = HealthPanel()
        self.health_panel.tensor_activated.connect(self.select_key)
        self.largest_panel = LargestPanel()
        self.largest_panel.tensor_activated.connect(self.select_key)
        self.tabs = QTabWidget()
        titles = (
            QT_TRANSLATE_NOOP("MainWindow", "Inspector"),
            QT_TRANSLATE_NOOP("MainWindow", "Metadata"),
            QT_TRANSLATE_NOOP("MainWindow", "Health"),
            QT_TRANSLATE_NOOP("MainWindow", "Largest"),
        )
        for i, (panel, title) in enumerate(zip((self.inspector, self.metadata_panel, self.health_panel,
                                                self.largest_panel), titles)):  # fmt: skip
            self.tabs.addTab(panel, "")
            self._text(partial(self.tabs.setTabText, i), title)

    @property
    def tensor_panel(self) -> TensorPanel:
        """The inspector's tensor panel (built, with pyqtgraph, on first use)."""
        self._build_panels()
        assert self._tensor_panel is not None
        return self._tensor_panel

    @property
    def module_panel(self) -> ModulePanel:
        """The inspector's module panel (built, with pyqtgraph, on first use)."""
        self._build_panels()
        assert self._module_panel is not None
        return self._module_panel

    def _build_panels(self) -> None:
        """The plot panels: importing pyqtgraph takes ~1 s, so not before the tree is painted."""
        if self._tensor_panel is not None:
            return
        from .tensor_panel import ModulePanel, TensorPanel

        tensor_panel, module_panel = TensorPanel(), ModulePanel()
        tensor_panel.values.page_requested.connect(self._request_page)
        tensor_panel.force_requested.connect(self.compute_anyway)
        tensor_panel.heatmap.slice_requested.connect(self._request_slice)
        self._tensor_panel, self._module_panel = tensor_panel, module_panel
        self.inspector.addWidget(tensor_panel)
        self.inspector.addWidget(module_panel)
        state = self.settings.value("window/tensor_splitter")
        if state is not None:
            tensor_panel.splitter.restoreState(state)
        apply_theme(self._theme, self)  # the new plots in this window's colours

    def _defer_to_first_paint(self, show: Callable[[], None], what: str) -> bool:
        """Until pyqtgraph is in, keep ``show`` for then (True), saying ``what`` in its place.

        The first paint of the tree starts the import. A window that is not shown paints
        nothing: it builds the panels at once (False), and so does one once pyqtgraph is in.
        """
        if self._tensor_panel is not None or not self.isVisible() or engine.plots_ready():
            return False
        self._pending_show = show
        self.loading.setText(what)
        self.inspector.setCurrentWidget(self.loading)
        if not self._tree_painted:
            QTimer.singleShot(2000, self._after_first_paint)  # should no paint come (a minimised window)
        return True

    def _on_tree_painted(self) -> None:
        if self._tree_painted or self.doc.tree is None or self.model.root is not self.doc.tree:
            return  # the start page, or an empty tree: not yet the file's
        self._tree_painted = True
        QTimer.singleShot(0, self._after_first_paint)  # after this paint has reached the screen

    def _after_first_paint(self) -> None:
        """The tree is on screen: pyqtgraph, then torch, imported in the background."""
        self._tree_painted = True
        if not engine.is_ready():
            self.status.show_engine(False)
        engine.start()
        if engine.plots_ready():
            self._plots_ready()

    def _plots_ready(self) -> None:
        """pyqtgraph is in: build the plot panels (a tenth of a second) and show what waited for them."""
        if self._tree_painted or self._pending_show is not None:  # else built on first use
            self._build_panels()
            show, self._pending_show = self._pending_show, None
            if show is not None:
                show()
        engine.panels_built()  # torch's import goes on, with the UI thread idle again

    def _engine_ready(self) -> None:
        """torch is in (UI thread): computing is available, and the CUDA devices are known."""
        from ..core import available_devices

        self.status.show_engine(True)
        for name in available_devices():
            if self.device_combo.findData(name) < 0:
                self.device_combo.addItem(name, name)

    def _text(self, setter: Callable[[str], None], text: str) -> None:
        """Show ``text`` (marked with QT_TRANSLATE_NOOP under MainWindow) through ``setter``, now and
        again in the new language whenever it changes."""
        self._texts.append((setter, text))
        setter(translate("MainWindow", text))

    def _menu(self, parent: Any, text: str) -> QMenu:
        """A (sub)menu of ``parent`` titled ``text`` (marked for translation)."""
        menu = parent.addMenu("")
        self._text(menu.setTitle, text)
        return menu

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange and hasattr(self, "status"):
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Every text this window made itself, in the current language (on LanguageChange)."""
        for setter, text in self._texts:
            setter(translate("MainWindow", text))
        self.device_combo.setItemText(0, translate("MainWindow", "Auto"))
        self.device_combo.setItemText(1, translate("MainWindow", "CPU"))
        self._on_filter_message()
        self.editor.retranslate()

    def _action(self, text: str, slot, shortcut: Any = None, menu: QMenu | None = None) -> QAction:
        """An action titled ``text`` (marked with QT_TRANSLATE_NOOP under MainWindow)."""
        action = QAction(self)
        self._text(action.setText, text)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if menu is not None:
            menu.addAction(action)
        return action

    def _build_actions(self) -> None:
        file_menu = self._menu(self.menuBar(), QT_TRANSLATE_NOOP("MainWindow", "&File"))
        self.open_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Open…"), self.choose_file,
                                        QKeySequence.StandardKey.Open, file_menu)  # fmt: skip
        self._action(QT_TRANSLATE_NOOP("MainWindow", "Open &Folder… (sharded, PEFT)"), self.choose_folder,
                     "Ctrl+Shift+O", file_menu)  # fmt: skip
        self._action(QT_TRANSLATE_NOOP("MainWindow", "Open &URL… (S3, HTTP, Hugging Face)"), self.choose_url,
                     "Ctrl+Shift+U", file_menu)  # fmt: skip
        self._action(QT_TRANSLATE_NOOP("MainWindow", "Open Ru&n… (a folder of checkpoints)"), self.choose_run,
                     "Ctrl+Shift+R", file_menu)  # fmt: skip
        self.recent_menu = self._menu(file_menu, QT_TRANSLATE_NOOP("MainWindow", "Open &Recent"))
        self.reload_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Reload"), self.reload, "F5", file_menu)
        # a submenu: other tabs / Original on disk / File… (Ctrl+D); its entry follows "compare"
        self.compare_action = self.comparisons.build_menu(file_menu).menuAction()
        if self.shell is not None:
            self._action(QT_TRANSLATE_NOOP("MainWindow", "New &Tab"), lambda: self.shell.new_tab(), "Ctrl+T", file_menu)
        file_menu.addSeparator()
        export_csv = self.exports.choose_stats_csv
        self.export_csv_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "Export &statistics to CSV…"),
                                              export_csv, None, file_menu)  # fmt: skip
        file_menu.addSeparator()
        close_tab, close = QT_TRANSLATE_NOOP("MainWindow", "&Close Tab"), QT_TRANSLATE_NOOP("MainWindow", "&Close")
        self.close_action = self._action(close_tab if self.shell is not None else close, self.close_document,
                                         "Ctrl+W", file_menu)  # fmt: skip
        self.quit_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Quit"), self.quit_app, "Ctrl+Q", file_menu)
        self.editor.build_menus(file_menu, self._menu(self.menuBar(), QT_TRANSLATE_NOOP("MainWindow", "&Edit")))
        view_menu = self._menu(self.menuBar(), QT_TRANSLATE_NOOP("MainWindow", "&View"))
        self.filter_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Filter"), self.focus_filter, "Ctrl+F",
                                          view_menu)  # fmt: skip
        self.expand_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Expand all"), self.tree.expandAll,
                                          "Ctrl+E", view_menu)  # fmt: skip
        self.collapse_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Collapse all"), self.tree.collapseAll,
                                            "Ctrl+Shift+E", view_menu)  # fmt: skip
        self.flagged_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "Show only &flagged"),
                                           self.proxy.set_flagged_only, "Ctrl+Shift+F", view_menu)  # fmt: skip
        self.flagged_action.setCheckable(True)  # tensors the health scan found something in
        show_largest = lambda: self.tabs.setCurrentWidget(self.largest_panel)  # noqa: E731
        self.largest_action = self._action(QT_TRANSLATE_NOOP("MainWindow", "&Largest tensors"), show_largest,
                                           "Ctrl+L", view_menu)  # fmt: skip
        theme_menu = self._menu(view_menu, QT_TRANSLATE_NOOP("MainWindow", "&Theme"))
        self.theme_actions = theme_actions(theme_menu, self.set_theme)  # a radio group
        # the language of every window: switching installs translators, and each window retranslates itself
        self.language_menu = self._menu(view_menu, QT_TRANSLATE_NOOP("MainWindow", "&Language"))
        i18n.language_actions(self.language_menu, self.settings)
        help_menu = self._menu(self.menuBar(), QT_TRANSLATE_NOOP("MainWindow", "&Help"))
        self._action(QT_TRANSLATE_NOOP("MainWindow", "&Keyboard shortcuts"), self.show_shortcuts, "F1", help_menu)
        self._action(QT_TRANSLATE_NOOP("MainWindow", "&About ckptviewer"), self._about, None, help_menu)
        self.recent = RecentFiles(self.settings, self.recent_menu, self.open_somewhere)

        bar = QToolBar()
        self._text(bar.setWindowTitle, QT_TRANSLATE_NOOP("MainWindow", "Main toolbar"))
        bar.setMovable(False)
        bar.addAction(self.open_action)
        bar.addAction(self.reload_action)
        bar.addSeparator()
        device_label = QLabel()
        self._text(device_label.setText, QT_TRANSLATE_NOOP("MainWindow", " Device: "))
        bar.addWidget(device_label)
        self.device_combo = QComboBox()
        # CUDA devices join the list once torch is in; a device asked for on the command line is there at once
        # (the first two entries' names are set again on LanguageChange: retranslate)
        names = {"auto": translate("MainWindow", "Auto"), "cpu": translate("MainWindow", "CPU")}
        for name in (*FIRST_DEVICES, *([self._device] if self._device not in FIRST_DEVICES else [])):
            self.device_combo.addItem(names.get(name, name), name)
        index = self.device_combo.findData(self._device)
        self.device_combo.setCurrentIndex(max(index, 0))
        self.device_combo.currentIndexChanged.connect(self._on_device_changed)
        bar.addWidget(self.device_combo)
        bar.addSeparator()
        bar.addAction(self.expand_action)  # the View menu's: enabled alike, only with a checkpoint
        bar.addAction(self.collapse_action)
        self.addToolBar(bar)

    def _restore_layout(self) -> None:
        """Geometry and splitter sizes from the last session, when there was one."""
        geometry = self.settings.value("window/geometry")
        if geometry is not None and self.shell is None:  # a tab takes the shell's size
            self.restoreGeometry(geometry)
        state = self.settings.value("window/main_splitter")  # the tensor panel's: when it is built
        if state is not None:
            self.splitter.restoreState(state)

    def set_theme(self, name: str) -> None:
        """Light, dark, or whatever the system uses; remembered."""
        name = name if name in THEMES else "system"
        self._theme = name
        apply_theme(name, self)
        self.settings.setValue("theme", name)
        for n, action in self.theme_actions.items():
            action.setChecked(n == name)

    def _save_layout(self) -> None:
        if self.shell is None:
            self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/main_splitter", self.splitter.saveState())
        if self._tensor_panel is not None:
            self.settings.setValue("window/tensor_splitter", self._tensor_panel.splitter.saveState())

    # --- opening ------------------------------------------------------------------------

    @property
    def device(self) -> str:
        return self.device_combo.currentData() or "auto"

    def choose_file(self) -> None:
        start = self.settings.value("last_folder", str(Path.home()))
        title = translate("MainWindow", "Open checkpoint")
        path, _ = QFileDialog.getOpenFileName(self, title, start, file_filter())
        if path:
            self.open_somewhere(path)

    def choose_folder(self) -> None:
        start = self.settings.value("last_folder", str(Path.home()))
        path = QFileDialog.getExistingDirectory(self, translate("MainWindow", "Open checkpoint folder"), start)
        if path:
            self.open_somewhere(path)

    def choose_url(self) -> None:
        """File ▸ Open URL: a checkpoint on object storage or a web server, read by range requests."""
        dialog = QInputDialog(self)
        dialog.setWindowTitle(translate("MainWindow", "Open URL"))
        dialog.setLabelText(
            translate(
                "MainWindow",
                "A checkpoint file or folder on object storage or a web server, e.g.\n"
                "s3://bucket/run/model.safetensors   https://host/model.pth   hf://org/repo\n"
                "Only the parts shown are downloaded; credentials come from your usual configuration.",
            )
        )
        dialog.setComboBoxEditable(True)
        dialog.setComboBoxItems(self.recent.urls())  # remembered without credentials
        dialog.setTextValue("")
        dialog.resize(640, dialog.sizeHint().height())
        if not dialog.exec():
            return
        text = dialog.textValue().strip()
        if not text:
            return
        if not is_url(text):
            said = translate("MainWindow", "{text}: not a URL (scheme://…); use File ▸ Open for local files")
            self.report_error(said.format(text=printable(text)), "")
            return
        self.open_somewhere(text)

    def choose_run(self) -> None:
        """File ▸ Open Run: a folder holding the checkpoints of one training run."""
        start = self.settings.value("last_folder", str(Path.home()))
        title = translate("MainWindow", "Open run: a folder of checkpoints")
        path = QFileDialog.getExistingDirectory(self, title, str(start))
        if path:
            self.open_run(path)

    def open_run(self, target: str | os.PathLike) -> None:
        """List the run's checkpoints in a worker, then open its run window (which analyses them).

        A folder without checkpoints is reported through the one error path; this window is unchanged.
        """

        def work(progress, cancel):
            engine.load()  # reading steps and metrics from the checkpoints needs the engine
            from ..core.run import find_run

            return find_run(target)

        def done(checkpoints) -> None:
            from .run_view import RunWindow  # pyqtgraph: on the UI thread, when first needed

            if not is_url(str(target)):
                self.settings.setValue("last_folder", str(Path(target).parent))
            window = RunWindow(target, checkpoints, device=self.device)
            window.error_reported.connect(self.report_error)
            apply_theme(self._theme, window)
            # closed run windows are dropped here (not deleted on close: no dangling pointers)
            self.run_windows = [w for w in self.run_windows if w.isVisible()] + [window]
            window.show()
            self.run_opened.emit(window)

        label = translate("MainWindow", "Listing the run in {name}").format(name=printable(as_path(target).name))
        self.runner.start("run", work, label, on_done=done)

    def open_somewhere(self, path: str | os.PathLike) -> None:
        """Here if nothing is open yet, else in a new tab (this one keeps its file and edits)."""
        if self.shell is not None and self.path is not None:
            self.shell.open_in_tab(path)
        else:
            self.open_file(path)

    def open_file(self, path: str | os.PathLike, trust: bool = False, keep_key: str | None = None) -> None:
        """Open ``path`` in a worker; the window stays responsive and shows progress.

        The document changes only if it opens: a failure leaves the file shown before.
        """
        if not self.editor.confirm_discard():
            return
        # a URL is asked afresh each time (reload sees a changed object); its secrets stay in memory only
        path = as_path(path.url if isinstance(path, RemotePath) else path)
        self.runner.cancel()
        device = self.device
        self.status.file_label.setText(translate("MainWindow", "Opening {name}…").format(name=elide(path.name)))

        def work(progress, cancel):
            ckpt = open_checkpoint(path, device=device, trust=trust, progress=progress, cancel=cancel)
            return ckpt, build_tree(ckpt)

        def done(result: tuple[Checkpoint, TreeNode]) -> None:
            ckpt, tree = result
            self.recent.add(ckpt.path)
            if not is_remote(ckpt.path):
                self.settings.setValue("last_folder", str(ckpt.path.parent))
            self.reload_banner.hide()
            self.file_watch.watch(ckpt.path)
            self.doc.opened(path, trust, ckpt, tree, keep_key)
            self.opened.emit(ckpt)

        def failed(message: str, details: str) -> None:
            self.status.file_label.setText(translate("MainWindow", "Could not open the file"))
            self.start_page.show_welcome()
            self.report_error(message, details)
            if self.doc.ckpt is not None:  # the document is unchanged: say so in the status bar
                self.status.show_checkpoint(self.doc.ckpt)

        label = translate("MainWindow", "Opening {name}").format(name=printable(path.name))
        self.runner.start("open", work, label, on_done=done, on_error=failed)
        if self.doc.ckpt is None:  # nothing shown yet: the centre says what is opening, at once
            self.start_page.show_loading(path)

    def reload(self) -> None:
        if self.path is not None:
            self.open_file(self.path, trust=self.trusted, keep_key=self.current_key())

    def close_document(self) -> None:
        """File ▸ Close (Ctrl+W): this tab in the tabbed window, else the file; unsaved edits ask first."""
        if self.shell is not None:
            self.shell.close_tab(self.shell.tabs.indexOf(self))
        else:
            self.close_file()

    def quit_app(self) -> None:
        """File ▸ Quit (Ctrl+Q): the whole window (the tabbed one asks once about every unsaved tab)."""
        (self.shell if self.shell is not None else self).close()

    def close_file(self) -> None:
        if not self.editor.confirm_discard():
            return
        self.runner.cancel()
        self.file_watch.watch(None)
        self.doc.close()

    def _show_nothing(self) -> None:
        self.model.set_root(TreeNode("", ""))
        self.inspector.setCurrentWidget(self.empty)
        self.banner.hide()
        self.prefix_banner.hide()
        self.largest_panel.list.clear()
        self.metadata_panel.tree.clear()
        self.health_panel.list.clear()
        self.status.clear()
        self.reload_banner.hide()

    def ask_trust(self) -> None:
        """Reload with full unpickling, only after an explicit, warned confirmation."""
        if self.ckpt is None or self.path is None:
            return
        blocked = self.ckpt.blocked_globals
        # plain text, one line per name (a name cannot fake lines of this warning)
        names = "\n".join(f"  • {elide(g, 200)}" for g in blocked[:12])
        more = len(blocked) - 12
        if more > 0:
            names += "\n  " + translate("MainWindow", "… and %Ln more (listed in the Metadata tab)", None, more)
        details = translate(
            "MainWindow",
            "Loading {name} fully will call:\n{names}\n\n"
            "Only do this for a file you made yourself or got from a source you trust.",
        ).format(name=elide(self.path.name), names=names)
        box = message_box(
            self,
            QMessageBox.Icon.Warning,
            translate("MainWindow", "Trust this file?"),
            translate("MainWindow", "Trusting runs code from this file with your permissions."),
            details,
            QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
            QMessageBox.StandardButton.Cancel,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(translate("MainWindow", "Trust and reload"))
        self.trust_dialog = box
        box.finished.connect(lambda result: self._trust_answer(result == QMessageBox.StandardButton.Yes))
        box.open()

    def _trust_answer(self, yes: bool) -> None:
        if yes and self.path is not None:
            self.open_file(self.path, trust=True, keep_key=self.current_key())

    def _on_device_changed(self) -> None:
        if self.path is not None:
            self.open_file(self.path, trust=self.trusted, keep_key=self.current_key())

    def show_checkpoint(self, ckpt: Checkpoint, root: TreeNode, keep_key: str | None = None) -> None:
        """Show ``ckpt`` (as opened, or an edited working copy) in every view; rescan it."""
        self.runner.cancel("tensor")
        self.runner.cancel("scan")
        self.model.set_aliases(training_summary(ckpt).param_names)
        self.model.set_root(root)
        self.banner.show_for(ckpt)
        self.prefix_banner.show_for(ckpt)
        self.largest_panel.show_checkpoint(ckpt)
        self.metadata_panel.show_checkpoint(ckpt)
        self.status.show_checkpoint(ckpt)
        depth = 2 if root.n_tensors <= 2000 else 1
        self.tree.expandToDepth(depth - 1)
        key = keep_key if keep_key in ckpt.tensors else next(iter(ckpt.tensors), None)
        if key is not None:
            self.select_key(key)
        else:
            self._show_module(root)
        self.health_panel.show_scanning()

        def work(progress, cancel):
            engine.load()  # waits for the background import of torch
            from ..core.scan import scan

            return scan(ckpt, progress=progress, cancel=cancel)

        self.runner.start("scan", work, translate("MainWindow", "Scanning"),
                          on_done=lambda report: self.doc.scanned(ckpt, report))  # fmt: skip

    # --- selection ----------------------------------------------------------------------

    def current_key(self) -> str | None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        node = self.model.node(self.proxy.mapToSource(index))
        return node.path if node.entry is not None else None

    def select_key(self, key: str) -> None:
        """Select (and reveal) the tree row of ``key``."""
        source = self.model.index_for_path(key)
        index = self.proxy.mapFromSource(source)
        if not index.isValid() and self.filter.text():
            self.filter.clear()
            index = self.proxy.mapFromSource(source)
        if index.isValid():
            self.tree.scrollTo(index)
            self.tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self.tabs.setCurrentWidget(self.inspector)

    def _on_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.ckpt is None or not current.isValid():
            return
        node = self.model.node(self.proxy.mapToSource(current))
        if not self._filtering:  # a row the filter moved the cursor to was not chosen by the user
            self._selected_path = node.path
        if node.entry is None:
            self.runner.cancel("tensor")
            self._show_module(node, module_class(self.ckpt, node.path))
            return
        self._inspect(node.entry)

    def _show_module(self, node: TreeNode, cls: str | None = None) -> None:
        """The module panel for ``node`` (once the panels are built: after the tree's first paint)."""
        what = elide(node.path or translate("MainWindow", "Whole checkpoint"))
        if self._defer_to_first_paint(lambda: self._show_module(node, cls), what):
            return
        self._pending_show = None  # the user's latest choice wins over one kept for the first paint
        self.module_panel.show_node(node, cls)
        self.inspector.setCurrentWidget(self.module_panel)

    def _inspect(self, entry: TensorEntry, force: bool = False) -> None:
        """Statistics, plots and values of ``entry`` in a worker (``force``: past the work limits)."""
        if self.ckpt is None:
            return
        what = translate("MainWindow", "Statistics of {key}…").format(key=elide(entry.key))
        if self._defer_to_first_paint(lambda: self._inspect(entry, force), what):
            return
        self._pending_show = None  # the user's latest choice wins over one kept for the first paint
        ckpt, key = self.ckpt, entry.key
        self.tensor_panel.show_pending(entry, device_name(ckpt))
        self.inspector.setCurrentWidget(self.tensor_panel)
        known = self.scan_report.stats.get(key) if self.scan_report else None

        def work(progress, cancel):
            engine.load()  # the first selection waits here for the background import of torch
            from ..core.inspect import inspect_or_refuse

            return inspect_or_refuse(ckpt, key, stats=known, progress=progress, cancel=cancel, force=force)

        label = translate("MainWindow", "Statistics of {key}").format(key=printable(key))
        self.runner.start("tensor", work, label, on_done=self._tensor_ready)

    def _tensor_ready(self, result: TensorReport | Refused) -> None:
        from ..core.inspect import Refused  # in: the worker that made ``result`` imported it

        if self.tensor_panel.entry is not result.entry:
            return  # another tensor was selected since
        if isinstance(result, Refused):
            self.tensor_panel.show_refused(result.message)
        else:
            self.tensor_panel.show_report(result)
            self.report_shown.emit(result.entry.key)

    def compute_anyway(self) -> None:
        """The inspector's "Compute anyway": the refused tensor, past the work limits."""
        if self.tensor_panel.entry is not None:
            self._inspect(self.tensor_panel.entry, force=True)

    def _request_slice(self, spec: tuple[int, int, dict[int, int]] | None) -> None:
        """The heatmap's dim choosers picked a slice: compute it in a worker (None: the default view)."""
        entry = self.tensor_panel.entry
        if spec is None:
            self.runner.cancel("heatmap")
            return
        if self.ckpt is None or entry is None:
            return
        ckpt, key = self.ckpt, entry.key
        rows, cols, fixed = spec

        def done(hm) -> None:
            if self.tensor_panel.entry is entry:
                self.tensor_panel.heatmap.show_slice(hm, spec)

        def work(progress, cancel):
            engine.load()
            from ..core.inspect import slice_heatmap

            return slice_heatmap(ckpt, key, rows, cols, fixed, cancel=cancel)

        self.runner.start("heatmap", work, translate("MainWindow", "Heatmap"), on_done=done)

    def _request_page(self, start: int) -> None:
        entry = self.tensor_panel.entry
        if self.ckpt is None or entry is None:
            return
        ckpt, key = self.ckpt, entry.key

        def work(progress, cancel):
            engine.load()
            from ..core.inspect import PAGE
            from ..core.tensor_display import values_page

            return values_page(ckpt.tensor(key), start, PAGE, key)

        self.runner.start("values", work, translate("MainWindow", "Values"),
                          on_done=lambda page: self.tensor_panel.values.set_values(*page))  # fmt: skip

    def _on_filter(self, text: str) -> None:
        self._filtering = True
        try:
            self.proxy.set_text(text)
            if text:
                self.tree.expandAll() if self.model.root.n_tensors <= 5000 else self.tree.expandToDepth(2)
        finally:
            self._filtering = False
        self.no_matches.setVisible(self.proxy.matches_nothing())
        self._on_filter_message()
        if self._selected_path is not None:
            self._reveal(self._selected_path)  # the chosen row stays selected whenever it is shown

    def _on_filter_message(self) -> None:
        """The "no matches" line for the filter's text, in the current language."""
        said = translate("MainWindow", "No matches for {text} (text, glob like *.bias, or regex like se.*bias)")
        self.no_matches.setText(said.format(text=elide(self.filter.text().strip(), 60)))

    def _reveal(self, path: str) -> None:
        """Select ``path`` again and scroll to it, unless it is already the current row."""
        index = self.proxy.mapFromSource(self.model.index_for_path(path))
        if index.isValid():
            if index != self.tree.currentIndex():
                flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                self.tree.selectionModel().setCurrentIndex(index, flags)
            self.tree.scrollTo(index)

    def clear_filter(self) -> None:
        """Esc in the filter: show every row again, with the chosen row still selected."""
        self.filter.clear()

    def show_shortcuts(self) -> None:
        """Help ▸ Keyboard shortcuts: generated from the actions' shortcuts."""
        bars = [self.menuBar()]
        top = self.window()
        if isinstance(top, QMainWindow) and top is not self and top.menuBar() is not bars[0]:
            bars.append(top.menuBar())  # a shell that hosts the menus itself
        extra = [a for w in (self, top) for a in w.findChildren(QAction)]
        self.shortcuts_dialog = ShortcutsDialog(shortcut_rows(bars, extra), self)
        self.shortcuts_dialog.open()

    def focus_filter(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    # --- worker results -----------------------------------------------------------------

    def report_error(self, message: str, details: str = "") -> None:
        """The one place errors are shown: status bar and a (non-blocking) dialog."""
        self.statusBar().showMessage(elide(message, 300), 10_000)  # one line
        # messages quote paths and keys: the dialog shows them as plain text
        box = message_box(self, QMessageBox.Icon.Critical, "ckptviewer", message, details=details)
        self.last_error = box
        box.open()
        self.error_reported.emit(message)

    def _notify(self, message: str) -> None:
        self.statusBar().showMessage(message, 5000)

    def _on_busy(self, busy: bool) -> None:
        self.status.set_busy(busy)
        self.update_actions()  # Save and Save As wait while a save runs

    # --- context menu -------------------------------------------------------

    def _tree_menu(self, pos) -> None:
        index = self.tree.indexAt(pos)
        if not index.isValid():
            return
        node = self.model.node(self.proxy.mapToSource(index))
        menu = QMenu(self)
        clip = QGuiApplication.clipboard()
        menu.addAction(translate("MainWindow", "Copy key"), lambda: clip.setText(node.path))
        sd_key = self.ckpt.state_dict_key if self.ckpt is not None else None
        menu.addAction(
            translate("MainWindow", 'Copy as sd["…"]'), lambda: clip.setText(python_access(node.path, sd_key))
        )
        if node.entry is not None:
            entry = node.entry
            menu.addAction(translate("MainWindow", "Copy shape"), lambda: clip.setText(shape_str(entry.shape)))
            menu.addAction(
                translate("MainWindow", "Export tensor to .npy…"), lambda: self.exports.choose_npy(entry.key)
            )
        menu.addSeparator()
        self.editor.add_node_actions(menu, node)
        menu.addSeparator()
        menu.addAction(translate("MainWindow", "Expand all below"), lambda: self.tree.expandRecursively(index))
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    # --- drag and drop, comparing, closing ---------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            if shift and self.path is not None:
                self.compare_with(files[0])  # Shift+drop: compare with the open file
            else:
                for f in files:
                    self.open_somewhere(f)

    def compare_with(self, other: str | os.PathLike, first: str | os.PathLike | None = None):
        """Open a comparison window: the open file (or ``first``) as A, ``other`` as B."""
        a = as_path(first) if first is not None else self.path
        return self.comparisons.open(a, other, self.device) if a is not None else None

    def closeEvent(self, event) -> None:
        if not self.editor.confirm_discard():
            event.ignore()
            return
        self.comparisons.close_all()
        for window in self.run_windows:
            window.close()
        self.status.stop()
        self._save_layout()
        self.runner.shutdown(10_000)
        if self.ckpt is not None:
            self.ckpt.opened.close()
        super().closeEvent(event)

    def _about(self) -> None:
        from .. import __version__

        about = translate("MainWindow", "ckptviewer {version}\nA safe, lazy inspector for PyTorch checkpoints.")
        QMessageBox.about(self, translate("MainWindow", "About ckptviewer"), about.format(version=__version__))
