"""The run view: the checkpoints of one training run, per-layer figures across them, and findings.

File ▸ Open Run… lists a run's checkpoints (``core.run.find_run``, in the main window's runner) and
opens a :class:`RunWindow` — a top-level window, like the comparison — which shows the list at once
and analyses the run (``core.run.analyse_run``) in its own TaskRunner, with progress and Cancel in its
status bar. It then draws core's RunReport: the checkpoints table (format, size, step, epoch, learning
rate, stored metrics), a layers × checkpoints heatmap of one series (gui/run_heatmap.py), the findings
(activating one selects its cell) and line plots of the selected layers. Clicking a cell of checkpoint
t > 0 opens the comparison window of checkpoints t−1 and t with that layer selected. Failures reach
the main window's one error path through :attr:`RunWindow.error_reported`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QSortFilterProxyModel,
    QStringListModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QStyle,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ..core.run import RunCheckpoint, RunFinding, RunReport
from ..core.translatable import QT_TRANSLATE_NOOP
from ..formatting import human_bytes, number
from . import engine
from .findings_text import run_finding_message, run_finding_why
from .i18n import join_list, translate
from .progress import ProgressIndicator
from .run_heatmap import METRICS, RunHeatmap, checkpoint_label, metric_text, metric_title, series
from .tensor_panel import NAN_COLOR
from .text import ElidedLabel, elide, esc, plain_label, printable, tooltip, window_title
from .workers import TaskRunner

DASH = "—"
FIXED_COLUMNS = (  # the checkpoints table's first columns (English; translated where shown)
    QT_TRANSLATE_NOOP("RunView", "Checkpoint"),
    QT_TRANSLATE_NOOP("RunView", "Format"),
    QT_TRANSLATE_NOOP("RunView", "Size"),
    QT_TRANSLATE_NOOP("RunView", "Step"),
    QT_TRANSLATE_NOOP("RunView", "Epoch"),
    QT_TRANSLATE_NOOP("RunView", "LR"),
)
MAX_LINES = 8  # lines drawn at once; more selected layers are listed as not drawn
SEVERITY_ICONS = {
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "info": QStyle.StandardPixmap.SP_MessageBoxInformation,
}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def metric_names(checkpoints: list[RunCheckpoint]) -> list[str]:
    """Every stored metric's name across the run, in the order first seen."""
    names: dict[str, None] = {}
    for c in checkpoints:
        names.update(dict.fromkeys(c.metrics))
    return list(names)


def order_name(order_from: str) -> str:
    """What a checkpoint's place in the run came from ("metadata", "name", "mtime"), in the current language."""
    names = {
        "metadata": translate("RunView", "stored step/epoch"),
        "name": translate("RunView", "file name"),
        "mtime": translate("RunView", "modification time"),
    }
    return names.get(order_from, order_from)


def checkpoint_row(c: RunCheckpoint, metrics: list[str]) -> list[str]:
    """One checkpoints-table row as text (file text made printable; "—" where nothing is stored)."""

    def opt(v: object) -> str:
        return DASH if v is None else str(v)

    lr = DASH if c.lr is None else number(c.lr, 4)
    values = [DASH if c.metrics.get(m) is None else number(c.metrics[m], 5) for m in metrics]
    return [printable(c.name), printable(c.format), human_bytes(c.size), opt(c.step), opt(c.epoch), lr, *values]


class CheckpointTable(QTableWidget):
    """The run's checkpoints in step order, one row each."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(FIXED_COLUMNS), parent)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.setWordWrap(False)
        self.horizontalHeader().setHighlightSections(False)

    def set_checkpoints(self, checkpoints: list[RunCheckpoint]) -> None:
        """Fill the table: fixed columns, then one column per stored metric."""
        metrics = metric_names(checkpoints)
        headers = [*(translate("RunView", c) for c in FIXED_COLUMNS), *(printable(m) for m in metrics)]
        self.clear()
        self.setColumnCount(len(headers))
        self.setHorizontalHeaderLabels(headers)
        self.setRowCount(len(checkpoints))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for r, c in enumerate(checkpoints):
            for col, text in enumerate(checkpoint_row(c, metrics)):
                item = QTableWidgetItem(text)  # an item view shows its text literally
                if col >= 2:
                    item.setTextAlignment(right)
                if col == 0:
                    said = translate("RunView", "{path}\nordered by {order}")
                    item.setToolTip(tooltip(said.format(path=printable(c.path), order=order_name(c.order_from))))
                self.setItem(r, col, item)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.resizeColumnsToContents()
        header.resizeSection(0, min(max(header.sectionSize(0), 120), 320))  # a long name is elided, not the table
        for col in range(len(FIXED_COLUMNS), len(headers)):  # a metric's name comes from the file: never too wide
            header.resizeSection(col, min(header.sectionSize(col), 200))
        header.setStretchLastSection(False)


class FindingsList(QListWidget):
    """The run's findings, worst first: severity icon, message; the why on hover."""

    finding_chosen = Signal(object)  # RunFinding

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.findings: list[RunFinding] = []
        self.currentRowChanged.connect(self._chosen)
        self.itemActivated.connect(lambda item: self._chosen(self.row(item)))

    def set_findings(self, findings: list[RunFinding]) -> None:
        self.blockSignals(True)
        self.clear()
        self.findings = sorted(findings, key=lambda f: (SEVERITY_ORDER.get(f.severity, 3), f.checkpoint))
        for f in self.findings:
            icon = self.style().standardIcon(SEVERITY_ICONS.get(f.severity, SEVERITY_ICONS["info"]))
            # core's message leaves a lone layer out; a group's names its layers itself
            message = run_finding_message(f)
            text = f"{printable(f.key)}: {message}" if f.key and len(f.layers()) == 1 else message
            item = QListWidgetItem(icon, text)
            item.setToolTip(tooltip(f"{text}\n\n{run_finding_why(f)}"))
            self.addItem(item)
        if not self.findings:
            item = QListWidgetItem(
                translate("RunView", "Nothing found: no frozen, dead or exploding layers, no NaN/Inf, no duplicates.")
            )
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.addItem(item)
        self.blockSignals(False)

    def _chosen(self, row: int) -> None:
        if 0 <= row < len(self.findings):
            self.finding_chosen.emit(self.findings[row])


class LayerList(QWidget):
    """The layers in model order, filterable; the selected ones are drawn as lines."""

    selection_changed = Signal(list)  # layer indices, in model order

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(translate("RunView", "Filter layers (text)"))
        self.filter.setClearButtonEnabled(True)
        self.model = QStringListModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setUniformItemSizes(True)  # thousands of layers scroll without measuring rows
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.selectionModel().selectionChanged.connect(self._changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addWidget(self.filter)
        layout.addWidget(self.view)

    def set_keys(self, keys: list[str]) -> None:
        self.model.setStringList([printable(k) for k in keys])  # a view shows text literally; one line each

    def selected(self) -> list[int]:
        rows = {self.proxy.mapToSource(i).row() for i in self.view.selectionModel().selectedIndexes()}
        return sorted(rows)

    def select(self, rows: list[int], toggle: bool = False) -> None:
        """Select layers ``rows`` (``toggle``: add or remove them from the selection)."""
        indexes = [self.proxy.mapFromSource(self.model.index(r)) for r in rows]
        if any(not i.isValid() for i in indexes) and self.filter.text():
            self.filter.clear()  # a layer the filter hides is chosen elsewhere: show it
            indexes = [self.proxy.mapFromSource(self.model.index(r)) for r in rows]
        selection = QItemSelection()
        for index in indexes:
            if index.isValid():
                selection.select(index, index)
        flag = QItemSelectionModel.SelectionFlag
        self.view.selectionModel().select(selection, flag.Toggle if toggle else flag.ClearAndSelect)
        if indexes and indexes[-1].isValid():
            self.view.selectionModel().setCurrentIndex(indexes[-1], flag.NoUpdate)
            self.view.scrollTo(indexes[-1])

    def _changed(self, *_args: Any) -> None:
        self.selection_changed.emit(self.selected())


def log_ticks(lo: float, hi: float) -> list[float]:
    """Tick positions (log10 of values) for a log axis from 10**lo to 10**hi, at values that read well:
    whole decades over two decades or more, 1-2-5 steps over about one, round linear steps within one."""
    span = hi - lo
    if not (math.isfinite(lo) and math.isfinite(hi)) or span <= 0:
        return []
    if span >= 2:
        every = max(1, math.ceil(span / 6))
        first = math.ceil(lo / every) * every
        return [float(d) for d in range(first, math.floor(hi) + 1, every)]
    if span >= 0.7:
        marks = [math.log10(m) + d for d in range(math.floor(lo), math.ceil(hi) + 1) for m in (1, 2, 5)]
        return [m for m in marks if lo <= m <= hi]
    low, high = 10.0**lo, 10.0**hi
    raw = (high - low) / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step)
    values = [k * step for k in range(first, math.floor(high / step) + 1)]
    return [math.log10(v) for v in values if v > 0]


class LogValueAxis(pg.AxisItem):
    """A value axis for data drawn as log10(value): ticks at values that read well, named as values.

    The line plot draws log10 itself rather than through pyqtgraph's log mode, whose minor ticks
    label every 0.001, 0.002, … and crowd a short plot.
    """

    log = False

    def tickValues(self, minVal, maxVal, size):
        if self.log:
            return [(1.0, log_ticks(minVal, maxVal))]
        return super().tickValues(minVal, maxVal, size)

    def tickStrings(self, values, scale, spacing):
        if self.log:
            return [f"{10.0**v:.3g}" for v in values]
        return super().tickStrings(values, scale, spacing)


class LinePlot(QWidget):
    """The selected layers' series against the step (or the checkpoint's place when steps are unknown)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.axis = LogValueAxis("left")
        self.axis.enableAutoSIPrefix(False)  # the ticks name the values themselves
        self.plot = pg.PlotWidget(axisItems={"left": self.axis})
        self.plot.setMenuEnabled(False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.legend = self.plot.addLegend(offset=(-6, 6), labelTextColor="#8a8a8a")  # readable on light and dark
        self.log = QCheckBox(translate("RunView", "Log scale"))
        self.log.setChecked(True)
        self.log.toggled.connect(lambda _on: self.redraw())
        self.note = ElidedLabel()
        self.note.setStyleSheet("color: #8a8a8a;")
        self.title = QLabel(translate("RunView", "Selected layers"))
        self.title.setStyleSheet("color: #8a8a8a; font-weight: 600;")
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        bar.addWidget(self.title)
        bar.addWidget(self.note, 1)
        bar.addWidget(self.log)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.plot, 1)
        self.report: RunReport | None = None
        self.metric_name = "rel_update"
        self.rows: list[int] = []
        self.lines: list[pg.PlotDataItem] = []

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            # a theme change restyles the legend for new entries only (pyqtgraph keeps a drawn label's
            # colour): draw the lines again once the theme is applied
            QTimer.singleShot(0, self.redraw)

    def show_layers(self, report: RunReport | None, metric: str, rows: list[int]) -> None:
        """Draw ``rows``' ``metric`` (the first :data:`MAX_LINES` of them)."""
        self.report, self.metric_name, self.rows = report, metric, list(rows)
        self.redraw()

    def x_values(self) -> tuple[list[float], str]:
        """The x of each checkpoint: its step when every checkpoint has one, else its place in the run."""
        assert self.report is not None
        steps = [c.step for c in self.report.checkpoints]
        if steps and all(s is not None for s in steps):
            return [float(s) for s in steps if s is not None], translate("RunView", "step")
        return [float(i) for i in range(len(steps))], translate("RunView", "checkpoint")

    def redraw(self) -> None:
        self.plot.clear()
        self.legend.clear()
        self.lines = []
        log = self.log.isChecked() and self.metric_name != "nonfinite"
        self.log.setEnabled(self.metric_name != "nonfinite")
        self.axis.log = log
        if self.report is None or not self.rows:
            self.note.setText(translate("RunView", "click heatmap rows (Ctrl adds) or pick in Layers"))
            return
        xs, x_name = self.x_values()
        self.plot.setLabel("bottom", x_name)
        self.plot.setLabel("left", metric_title(self.metric_name))
        shown = self.rows[:MAX_LINES]
        for n, row in enumerate(shown):
            layer = self.report.layers[row]
            values = series(layer, self.metric_name)
            ys = [math.nan if v is None or not math.isfinite(v) or (log and v <= 0) else (math.log10(v) if log else v)
                  for v in values]  # fmt: skip
            name = elide(layer.key, 48)
            zero = log and all(v == 0 for v in values if v is not None) and any(v is not None for v in values)
            if zero:
                name = translate("RunView", "{layer} (0 throughout)").format(layer=name)
            pen = pg.mkPen(pg.intColor(n, hues=MAX_LINES), width=2)
            held = list(layer.nonfinite) + [0] * (len(xs) - len(layer.nonfinite))
            # where the layer holds NaN/Inf, its point is magenta (as in the heatmap): the value is over the rest
            brushes = [pg.mkBrush(NAN_COLOR) if held[i] and self.metric_name != "nonfinite" else pen.color()
                       for i in range(len(xs))]  # fmt: skip
            if not any(math.isfinite(y) for y in ys):
                name = name if zero else translate("RunView", "{layer} (no value to draw)").format(layer=name)
                xs_drawn, ys_drawn, brushes = [], [], []  # in the legend, nothing on the axes
            else:
                xs_drawn, ys_drawn = xs, ys
            line = self.plot.plot(xs_drawn, np.asarray(ys_drawn, dtype=float), pen=pen, symbol="o", symbolSize=5,
                                  symbolBrush=brushes, connect="finite", name=name)  # fmt: skip
            self.lines.append(line)
        self.plot.getPlotItem().enableAutoRange()
        self.axis.picture = None  # the tick texts changed with the scale: draw them again
        self.axis.update()
        more, drawn = len(self.rows) - len(shown), len(shown)
        said = translate("RunView", "%Ln layer(s)", None, drawn)
        if more:
            said = translate("RunView", "{layers} (%Ln more selected, not drawn)", None, more).format(layers=said)
        self.note.setText(said)

    def retranslate(self) -> None:
        """The bar's texts and the lines' legend in the current language."""
        self.log.setText(translate("RunView", "Log scale"))
        self.title.setText(translate("RunView", "Selected layers"))
        self.redraw()


class RunWindow(QMainWindow):
    """One training run: its checkpoints, the per-layer heatmap, findings and line plots."""

    ready = Signal(object)  # RunReport
    error_reported = Signal(str, str)  # message, details: the main window's report_error
    comparison_opened = Signal(object)  # DiffWindow

    def __init__(self, root: str | os.PathLike, checkpoints: list[RunCheckpoint], device: str = "auto",
                 parent: QWidget | None = None, report: RunReport | None = None) -> None:  # fmt: skip
        """The run at ``root``: ``checkpoints`` listed at once, then analysed (``report``: already analysed)."""
        super().__init__(parent)
        self.root = str(root)
        self.checkpoints = list(checkpoints)
        self.device = device
        self.report: RunReport | None = None
        self.metric_name = "rel_update"
        self.comparisons: list = []  # DiffWindow; closed with this window
        self.runner = TaskRunner(self)
        self.runner.report_error = self._failed
        self.resize(1280, 820)
        self._build()
        self._build_menus()
        self.retranslate()
        self.runner.progress.connect(self._progress)
        self.runner.busy_changed.connect(self._busy)
        self.runner.cancelled.connect(self._cancelled)
        self.table.set_checkpoints(self.checkpoints)
        self._fit_table()
        self._summarise()
        self._busy(False)
        if report is not None:
            self.show_report(report)
        else:
            self.analyse()

    # --- construction --------------------------------------------------------------------

    def _build(self) -> None:
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # our markup; file text through esc()
        self.summary.setWordWrap(True)
        self.metric_combo = QComboBox()
        for name in METRICS:
            self.metric_combo.addItem(metric_text(name), name)
        self.metric_combo.currentIndexChanged.connect(lambda _i: self.set_metric(self.metric_combo.currentData()))
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        self.caption = QLabel()
        self.caption.setBuddy(self.metric_combo)
        top.addWidget(self.caption)
        top.addWidget(self.metric_combo)
        self.table = CheckpointTable()
        self.table.itemSelectionChanged.connect(self._checkpoint_selected)
        self.heatmap = RunHeatmap()
        self.heatmap.cell_clicked.connect(self._cell_clicked)
        self.heatmap.name_clicked.connect(self._name_clicked)
        self.message = plain_label()  # what replaces the heatmap while there is none (file text possible)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #8a8a8a; font-size: 15px;")
        self.centre = QStackedWidget()
        self.centre.addWidget(self.message)
        self.centre.addWidget(self.heatmap)
        self.findings = FindingsList()
        self.findings.finding_chosen.connect(self.show_finding)
        self.layers = LayerList()
        self.layers.selection_changed.connect(self._layers_selected)
        self.side = QTabWidget()
        self.side.addTab(self.findings, "")
        self.side.addTab(self.layers, "")
        self.lines = LinePlot()
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.side)
        right.addWidget(self.lines)
        right.setSizes([300, 300])
        middle = QSplitter(Qt.Orientation.Horizontal)
        middle.addWidget(self.centre)
        middle.addWidget(right)
        middle.setStretchFactor(0, 3)
        middle.setStretchFactor(1, 2)
        middle.setSizes([760, 480])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(middle)
        self.splitter.setStretchFactor(0, 0)  # the table keeps the height of its rows; the heatmap takes the rest
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([150, 600])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)
        self.progress = ProgressIndicator()
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(lambda: self.runner.cancel())
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel_button)

    def _build_menus(self) -> None:
        """File: Analyse again (F5), Close (Ctrl+W, Esc); View: the series shown."""
        self.file_menu = file_menu = self.menuBar().addMenu("")
        self.analyse_action = QAction(self)
        self.analyse_action.setShortcut(QKeySequence("F5"))
        self.analyse_action.triggered.connect(self.analyse)
        file_menu.addAction(self.analyse_action)
        file_menu.addSeparator()
        self.close_action = QAction(self)
        self.close_action.setShortcuts([QKeySequence("Ctrl+W"), QKeySequence(Qt.Key.Key_Escape)])
        self.close_action.triggered.connect(self.close)
        file_menu.addAction(self.close_action)
        self.view_menu = view_menu = self.menuBar().addMenu("")
        group = QActionGroup(self)
        self.metric_actions: dict[str, QAction] = {}
        for n, name in enumerate(METRICS, start=1):
            action = QAction(metric_text(name), group)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, m=name: self.set_metric(m))
            view_menu.addAction(action)
            self.metric_actions[name] = action
        self.metric_actions[self.metric_name].setChecked(True)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Every text of the window in the current language (again on LanguageChange)."""
        run = window_title(elide(Path(self.root).name or self.root, 80))
        self.setWindowTitle(translate("RunView", "{run} — run — ckptviewer").format(run=run))
        self.file_menu.setTitle(translate("RunView", "&File"))
        self.analyse_action.setText(translate("RunView", "&Analyse again"))
        self.close_action.setText(translate("RunView", "&Close"))
        self.view_menu.setTitle(translate("RunView", "&View"))
        for i, name in enumerate(METRICS):
            self.metric_combo.setItemText(i, metric_text(name))
            self.metric_actions[name].setText(metric_text(name))
        self.metric_combo.setToolTip(
            translate("RunView", "The figure each heatmap cell and line shows (colours on a log scale)")
        )
        self.caption.setText(translate("RunView", "&Show"))
        self.cancel_button.setText(translate("RunView", "Cancel"))
        self.layers.filter.setPlaceholderText(translate("RunView", "Filter layers (text)"))
        self._title_findings()
        self.side.setTabText(1, translate("RunView", "Layers"))
        self.table.set_checkpoints(self.checkpoints)
        self._summarise()
        self.lines.retranslate()
        if self.report is not None:
            self.findings.set_findings(self.report.findings)
            self._show_message()
        elif self.runner.is_running("analyse"):
            self._show_message()

    def _title_findings(self) -> None:
        if self.report is None:
            self.side.setTabText(0, translate("RunView", "Findings"))
        else:
            n = len(self.report.findings)
            self.side.setTabText(0, translate("RunView", "Findings (%Ln)", None, n))

    def _show_message(self) -> None:
        """What the centre says while there is no heatmap: analysing, or no weights to draw."""
        if self.report is None:
            n = len(self.checkpoints)
            self.message.setText(translate("RunView", "Analysing %Ln checkpoint(s)…", None, n))
        elif not self.report.layers:
            self.message.setText(translate("RunView", "No model weights found in these checkpoints: nothing to draw."))

    # --- analysis ------------------------------------------------------------------------

    def analyse(self) -> None:
        """Analyse the run in a worker (figures already cached by core come back at once)."""
        checkpoints = self.checkpoints

        def work(progress, cancel):
            engine.load()  # waits for the background import of torch
            from ..core import run  # looked up at call time: core's analysis of the run

            return run.analyse_run(checkpoints, progress=progress)

        if self.report is None:
            self._show_message()
            self.centre.setCurrentWidget(self.message)
        self.runner.start("analyse", work, translate("RunView", "Analysing the run"), on_done=self.show_report)

    def _fit_table(self) -> None:
        """The checkpoints table as tall as its rows (up to eight; it scrolls beyond), the rest to the heatmap."""
        rows = min(max(self.table.rowCount(), 2), 8)
        table = self.table
        height = (table.horizontalHeader().sizeHint().height() + rows * table.verticalHeader().defaultSectionSize()
                  + 2 * table.frameWidth() + table.horizontalScrollBar().sizeHint().height())  # fmt: skip
        total = sum(self.splitter.sizes()) or 750
        self.splitter.setSizes([height, max(total - height, 300)])

    def _progress(self, _slot: str, p: Any) -> None:
        self.progress.set_progress(p.fraction, self.runner.label())

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel_button.setVisible(busy)
        self.analyse_action.setEnabled(not busy)

    def _cancelled(self, slot: str) -> None:
        if slot == "analyse" and self.report is None:
            self.message.setText(translate("RunView", "Analysis cancelled. File ▸ Analyse again (F5) starts it again."))
            self.statusBar().showMessage(translate("RunView", "Analysis cancelled"), 5000)

    def _failed(self, message: str, details: str) -> None:
        if self.report is None:
            self.message.setText(translate("RunView", "Cannot analyse the run: {why}").format(why=elide(message, 300)))
        self.statusBar().showMessage(elide(message, 300), 10_000)
        self.error_reported.emit(message, details)

    # --- drawing -------------------------------------------------------------------------

    def _summarise(self) -> None:
        name = esc(elide(Path(self.root).name or self.root, 80))
        n_checkpoints = len(self.checkpoints)
        parts = [translate("RunView", "%Ln checkpoint(s)", None, n_checkpoints)]
        orders = {c.order_from for c in self.checkpoints}
        if orders:
            by = " / ".join(order_name(o) for o in sorted(orders))
            parts.append(translate("RunView", "ordered by {order}").format(order=by))
        rep = self.report
        if rep is not None:
            n_layers = len(rep.layers)
            parts.append(translate("RunView", "%Ln layer(s)", None, n_layers))
            errors, warnings, notes = (sum(f.severity == s for f in rep.findings) for s in SEVERITY_ORDER)
            found = [translate("RunView", "%Ln error(s)", None, errors) if errors else "",
                     translate("RunView", "%Ln warning(s)", None, warnings) if warnings else "",
                     translate("RunView", "%Ln note(s)", None, notes) if notes else ""]  # fmt: skip
            parts.append(join_list([f for f in found if f]) or translate("RunView", "no findings"))
            if rep.skipped:
                n_skipped = len(rep.skipped)
                parts.append(translate("RunView", "%Ln file(s) skipped (not checkpoints)", None, n_skipped))
        run = translate("RunView", "<b>Run</b> {name}").format(name=name)
        self.summary.setText(f"{run} &nbsp;·&nbsp; " + esc(" · ".join(parts)))
        self.summary.setToolTip(tooltip(printable(self.root)))

    def show_report(self, report: RunReport) -> None:
        """Draw an analysed run."""
        self.report = report
        self.checkpoints = list(report.checkpoints)
        self.table.set_checkpoints(self.checkpoints)
        self._fit_table()
        self._summarise()
        metric = report.metric if report.metric in METRICS else "rel_update"
        self.heatmap.set_report(report, metric)
        self.layers.set_keys([layer.key for layer in report.layers])
        self.findings.set_findings(report.findings)
        self._title_findings()
        if report.layers:
            self.centre.setCurrentWidget(self.heatmap)
        else:
            self._show_message()
            self.centre.setCurrentWidget(self.message)
        self.set_metric(metric)
        self._select_first_layer()
        if report.skipped:
            skipped = "; ".join(f"{name}: {why}" for name, why in report.skipped[:5])
            self.statusBar().showMessage(
                elide(translate("RunView", "Skipped {files}").format(files=skipped), 300), 15_000
            )
        self.ready.emit(report)

    def _select_first_layer(self) -> None:
        """Draw a line at once: the layer of the worst finding that names one, else the first layer."""
        if self.report is None or not self.report.layers or self.layers.selected():
            return
        keys = {layer.key: i for i, layer in enumerate(self.report.layers)}
        named = [keys[f.key] for f in self.findings.findings if f.key in keys]
        self.layers.select(named[:1] or [0])

    def set_metric(self, metric: str) -> None:
        """Show ``metric`` in the heatmap and the line plot (the chooser and View menu agree)."""
        if metric not in METRICS:
            return
        self.metric_name = metric
        index = self.metric_combo.findData(metric)
        if self.metric_combo.currentIndex() != index:
            self.metric_combo.setCurrentIndex(index)  # comes back here once, with nothing left to change
        self.metric_actions[metric].setChecked(True)
        if self.report is not None:
            if self.heatmap.metric_name != metric:
                self.heatmap.set_metric(metric)
            self.lines.show_layers(self.report, metric, self.layers.selected())

    # --- selection -----------------------------------------------------------------------

    def _layers_selected(self, rows: list[int]) -> None:
        self.heatmap.select(rows, self.heatmap.selected_cell)
        self.lines.show_layers(self.report, self.metric_name, rows)

    def _checkpoint_selected(self) -> None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        self.heatmap.select_column(next(iter(rows)) if rows else None)

    def _name_clicked(self, row: int, modifiers: Any) -> None:
        """A click on a layer's name selects that layer (Ctrl adds it)."""
        self.layers.select([row], toggle=bool(modifiers & Qt.KeyboardModifier.ControlModifier))

    def _cell_clicked(self, row: int, col: int, modifiers: Any) -> None:
        """A click selects the layer (Ctrl adds it); on checkpoint t > 0 it also opens t−1 ↔ t at that layer."""
        add = bool(modifiers & Qt.KeyboardModifier.ControlModifier)
        self.heatmap.selected_cell = (row, col)
        self.layers.select([row], toggle=add)
        if col > 0 and not add:
            self.compare(col, row)

    def show_finding(self, finding: RunFinding) -> None:
        """Select a finding's cell (its layer at its checkpoint), or its checkpoint's column."""
        if self.report is None:
            return
        keys = [layer.key for layer in self.report.layers]
        if 0 <= finding.checkpoint < len(self.checkpoints):
            self.table.selectRow(finding.checkpoint)
        rows = [keys.index(k) for k in finding.layers()[:MAX_LINES] if k in keys]  # a group: its first few
        if rows:
            row = rows[0]
            self.heatmap.selected_cell = (row, finding.checkpoint)
            self.layers.select(rows)
            self.heatmap.reveal(row)
        else:  # a whole checkpoint: its column says it; no layer's cell
            self.heatmap.select(self.heatmap.selected_rows, None)

    def selected_cell(self) -> tuple[int, int] | None:
        """(layer, checkpoint) of the outlined cell, if any."""
        return self.heatmap.selected_cell

    # --- comparing -----------------------------------------------------------------------

    def compare(self, t: int, row: int | None = None):
        """The comparison window of checkpoint t−1 (A) with t (B), with layer ``row`` selected."""
        if not 0 < t < len(self.checkpoints):
            return None
        from .diff_view import DiffWindow

        a, b = self.checkpoints[t - 1], self.checkpoints[t]
        key = self.report.layers[row].key if self.report is not None and row is not None else None
        window = DiffWindow(a.path, b.path, device=self.device,
                            a_name=f"{a.name} ({checkpoint_label(a, t - 1)})",
                            b_name=f"{b.name} ({checkpoint_label(b, t)})")  # fmt: skip
        window.error_reported.connect(self.error_reported)
        if key is not None:
            window.ready.connect(lambda _rep, w=window, k=key: select_layer(w, k))
        self.comparisons = [w for w in self.comparisons if w.isVisible()] + [window]
        window.show()
        self.comparison_opened.emit(window)
        return window

    def closeEvent(self, event) -> None:
        for window in self.comparisons:
            window.close()
        self.runner.shutdown(10_000)
        super().closeEvent(event)


def select_layer(window: Any, key: str) -> None:
    """Select run layer ``key`` in a comparison window, the first time its report is drawn.

    A run's keys and the comparison's aligned keys both drop wrapper prefixes; should they still
    differ by a leading part (a state_dict key kept by one), the key that ends the same is taken.
    """
    if getattr(window, "_run_layer_selected", False) or window.tree_root is None:
        return
    window._run_layer_selected = True
    rows = [r.key for r in window.report.rows] if window.report is not None else []
    found = next((c for c in [key, *[r for r in rows if r.endswith("." + key) or key.endswith("." + r)]]
                  if window.tree_root.find(c) is not None), None)  # fmt: skip
    if found is not None:
        window.select(found)  # ready comes after the window's own first selection: this one stays
