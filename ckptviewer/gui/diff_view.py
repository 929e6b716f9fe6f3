"""The comparison window: aligned tree, per-layer change chart, and A/B views of a tensor.

Opening both files, diffing and per-tensor views all run in a TaskRunner; this module
only draws core's DiffReport, DiffNode tree and PairView.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core import open_checkpoint
from ..core.diff import CHANGED, IDENTICAL, MISMATCHED, ONLY_A, ONLY_B, DiffNode, diff, diff_tree, inspect_pair, layers
from ..formatting import number, shape_str
from .node_model import NodeModel, refilter
from .progress import ProgressIndicator
from .tensor_panel import HeatmapView
from .text import elide, esc, printable, tooltip, window_title
from .workers import TaskRunner

STATUS_COLORS = {
    IDENTICAL: QColor("#8a8a8a"), CHANGED: QColor("#1565c0"), MISMATCHED: QColor("#c62828"),
    ONLY_A: QColor("#e65100"), ONLY_B: QColor("#6a1b9a"),
}  # fmt: skip
STATUS_LABELS = {IDENTICAL: "identical", CHANGED: "changed", MISMATCHED: "mismatched", ONLY_A: "only in A",
                 ONLY_B: "only in B"}  # fmt: skip
HEADERS = ("Name", "Status", "Rel. change", "max |a−b|", "Cosine", "Changed")
FILTERS = ("All", "Changed only", "Mismatched only", "Hide identical")


class DiffModel(NodeModel):
    """Qt adapter over core's DiffNode tree."""

    headers = HEADERS

    def __init__(self, parent=None) -> None:
        super().__init__(DiffNode("", ""), parent)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: DiffNode = index.internalPointer()
        col, r = index.column(), node.diff
        status = r.status if r is not None else node.worst
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return printable(node.name)
            if col == 1:
                if r is not None:
                    return STATUS_LABELS[r.status]
                changed = node.counts.get(CHANGED, 0)
                return f"{changed} changed" if changed else STATUS_LABELS[node.worst]
            if col == 2:
                return number(node.rel_change, 3)
            if r is None:
                return ""
            if col == 3:
                return number(r.max_abs, 3)
            if col == 4:
                return number(r.cosine, 6)
            return f"{r.frac_changed:.1%}" if r.frac_changed is not None else ""
        if role == Qt.ItemDataRole.ForegroundRole and col in (0, 1):
            return QBrush(STATUS_COLORS[status])
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and r is not None:
            return tooltip(f"{printable(r.key)}\nA: {shape_str(r.a_shape or [])} {r.a_dtype or '-'}\n"
                           f"B: {shape_str(r.b_shape or [])} {r.b_dtype or '-'}")  # fmt: skip
        return None


class DiffFilter(QSortFilterProxyModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.mode = FILTERS[0]
        self.setRecursiveFilteringEnabled(True)

    def set_mode(self, mode: str) -> None:
        refilter(self, lambda: setattr(self, "mode", mode))

    def filterAcceptsRow(self, row: int, parent: QModelIndex) -> bool:
        node = self.sourceModel().node(parent).children[row]
        if node.diff is None:
            return self.mode == FILTERS[0]
        status = node.diff.status
        if self.mode == "Changed only":
            return status == CHANGED
        if self.mode == "Mismatched only":
            return status in (MISMATCHED, ONLY_A, ONLY_B)
        if self.mode == "Hide identical":
            return status != IDENTICAL
        return True


class LayerChart(pg.PlotWidget):
    """Relative change per layer, in model order; clicking a bar selects the layer."""

    layer_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setLabel("left", "relative change ‖B−A‖/‖A‖")
        self.showGrid(y=True, alpha=0.2)
        self.bars: pg.BarGraphItem | None = None
        self.paths: list[str] = []
        self.values: list[float] = []
        self.log = False
        self.scene().sigMouseClicked.connect(self._clicked)

    def set_layers(self, nodes: list[DiffNode], log: bool) -> None:
        self.paths = [n.path for n in nodes]
        self.values = [n.rel_change or 0.0 for n in nodes]
        self.log = log
        if self.bars is not None:
            self.removeItem(self.bars)
        floor = min([v for v in self.values if v > 0] or [1e-12]) / 10
        heights = [math.log10(max(v, floor)) - math.log10(floor) for v in self.values] if log else self.values
        brushes = [pg.mkBrush("#1565c0" if v > 0 else "#bdbdbd") for v in self.values]
        self.bars = pg.BarGraphItem(x=list(range(len(nodes))), height=heights, width=0.8, brushes=brushes)
        self.addItem(self.bars)
        step = max(1, math.ceil(len(nodes) / 8))  # about 8 readable labels; hover a bar for the rest
        ticks = [(i, elide(n.path, 40)) for i, n in enumerate(nodes) if i % step == 0]  # drawn as plain text
        self.getAxis("bottom").setTicks([ticks])
        self.setLabel("left", "relative change (log)" if log else "relative change ‖B−A‖/‖A‖")
        self.getPlotItem().autoRange()

    def _clicked(self, event) -> None:
        if not self.paths:
            return
        x = self.getPlotItem().vb.mapSceneToView(event.scenePos()).x()
        i = round(x)
        if 0 <= i < len(self.paths):
            self.layer_clicked.emit(self.paths[i])


class DiffWindow(QMainWindow):
    """Compare checkpoint A with checkpoint B."""

    ready = Signal(object)  # DiffReport
    pair_shown = Signal(str)
    error_reported = Signal(str, str)  # message, details

    def __init__(self, a: str | os.PathLike, b: str | os.PathLike, device: str = "auto", parent=None) -> None:
        super().__init__(parent)
        self.a_path, self.b_path, self.device = Path(a), Path(b), device
        self.a = self.b = self.report = self.tree_root = None
        self.runner = TaskRunner(self)
        self.setWindowTitle(f"{window_title(self.a_path.name)} ↔ {window_title(self.b_path.name)} — ckptviewer")
        self.resize(1280, 820)
        self._build()
        self.runner.report_error = self._failed
        self.runner.progress.connect(lambda _s, p: self.progress.set_progress(p.fraction, self.runner.label()))
        self.runner.busy_changed.connect(self._busy)
        self.recompute()

    def _build(self) -> None:
        top = self._build_toolbar()
        self._build_tree()
        chart_box = self._build_chart()
        self._build_ab_views()
        self._build_metrics()
        pair = QSplitter(Qt.Orientation.Horizontal)
        pair.addWidget(self.hist)
        pair.addWidget(self.delta)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(chart_box)
        right.addWidget(pair)
        right.setSizes([330, 430])
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.tree)
        left.addWidget(self.metrics)
        left.setSizes([520, 240])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setSizes([560, 720])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(top)
        layout.addWidget(main, 1)
        self.setCentralWidget(central)
        self.progress = ProgressIndicator()
        self.cancel = QPushButton("Cancel")
        self.cancel.clicked.connect(lambda: self.runner.cancel())
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel)

    def _build_toolbar(self) -> QHBoxLayout:
        """The verdict, the tolerances (recomputed after typing stops) and the row filter."""
        self.summary = QLabel("Comparing…")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.atol = QDoubleSpinBox()
        self.rtol = QDoubleSpinBox()
        for box in (self.atol, self.rtol):
            box.setDecimals(8)
            box.setRange(0, 1e6)
            box.setSingleStep(1e-4)
        self.rtol.setValue(0.0)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(400)
        self._debounce.timeout.connect(self.recompute)
        self.atol.valueChanged.connect(self._debounce.start)
        self.rtol.valueChanged.connect(self._debounce.start)
        self.filter = QComboBox()
        self.filter.addItems(FILTERS)
        self.log = QCheckBox("Log scale")
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        for label, w in (("atol", self.atol), ("rtol", self.rtol), ("Show", self.filter)):
            top.addWidget(QLabel(label))
            top.addWidget(w)
        return top

    def _build_tree(self) -> None:
        """The aligned tree of both checkpoints, filtered by the toolbar's Show."""
        self.model = DiffModel(self)
        self.proxy = DiffFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter.currentTextChanged.connect(self._filter)
        self.tree = QTreeView()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for col, width in zip(range(1, len(HEADERS)), (92, 70, 70, 74, 62)):
            self.tree.header().resizeSection(col, width)
        self.tree.selectionModel().currentChanged.connect(self._selected)

    def _build_chart(self) -> QWidget:
        """The per-layer relative change chart with its log-scale switch."""
        self.chart = LayerChart()
        self.chart.layer_clicked.connect(self.select)
        self.log.toggled.connect(self._draw_chart)
        chart_box = QWidget()
        cl = QVBoxLayout(chart_box)
        cl.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("<b>Relative change per layer</b> (click a bar)"))
        bar.addStretch(1)
        bar.addWidget(self.log)
        cl.addLayout(bar)
        cl.addWidget(self.chart)
        return chart_box

    def _build_ab_views(self) -> None:
        """The selected tensor's overlaid A/B histograms and its B − A heatmap."""
        self.hist = pg.PlotWidget()
        self.hist.setMenuEnabled(False)
        self.hist.addLegend(offset=(-10, 10))
        self.hist.setLabel("bottom", "value")
        self.hist_a = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=(230, 81, 0, 70), pen=pg.mkPen("#e65100"),
                                      name="A")  # fmt: skip
        self.hist_b = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=(21, 101, 192, 70), pen=pg.mkPen("#1565c0"),
                                      name="B")  # fmt: skip
        self.hist.addItem(self.hist_a)
        self.hist.addItem(self.hist_b)
        self.delta = HeatmapView()
        self.delta.plot.getPlotItem().setTitle("B − A")

    def _build_metrics(self) -> None:
        """The selected tensor's metrics table."""
        self.metrics = QTableWidget(0, 2)
        self.metrics.setHorizontalHeaderLabels(["Metric", "Value"])
        self.metrics.verticalHeader().hide()
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)

    # --- work ----------------------------------------------------------------------------

    def recompute(self) -> None:
        a_path, b_path, device = self.a_path, self.b_path, self.device
        atol, rtol = self.atol.value(), self.rtol.value()
        a, b = self.a, self.b

        def work(progress, cancel):
            ca = a or open_checkpoint(a_path, device=device, cancel=cancel)
            cb = b or open_checkpoint(b_path, device=device, cancel=cancel)
            rep = diff(ca, cb, atol=atol, rtol=rtol, progress=progress, cancel=cancel)
            return ca, cb, rep, diff_tree(rep)

        self.runner.start("diff", work, "Comparing", on_done=self._compared)

    def _compared(self, result: Any) -> None:
        self.a, self.b, self.report, self.tree_root = result
        self._show()

    def _failed(self, message: str, details: str) -> None:
        self.summary.setText(f"<span style='color:#c62828'><b>Cannot compare:</b> {esc(message)}</span>")
        self.statusBar().showMessage(elide(message, 300), 10_000)
        self.error_reported.emit(message, details)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    # --- drawing -------------------------------------------------------------------------

    def _show(self) -> None:
        rep = self.report
        c = rep.counts
        verdict = ("<b style='color:#2e7d32'>same model</b>" if rep.same
                   else "<b style='color:#c62828'>different</b>")  # fmt: skip
        tol = f"within atol {self.atol.value():g}, rtol {self.rtol.value():g}"
        chips = " · ".join(
            f"<span style='color:{STATUS_COLORS[s].name()}'>{c[s]} {STATUS_LABELS[s]}</span>"
            for s in (IDENTICAL, CHANGED, MISMATCHED, ONLY_A, ONLY_B)
        )
        aligned = ""
        if rep.a_prefix or rep.b_prefix:
            a_p, b_p = rep.a_prefix or "—", rep.b_prefix or "—"
            aligned = f"<br>aligned by removing <code>{esc(a_p)}</code> from A, <code>{esc(b_p)}</code> from B"
        a_name, b_name = esc(elide(self.a_path.name)), esc(elide(self.b_path.name))
        self.summary.setText(
            f"<b>A</b> {a_name} ↔ <b>B</b> {b_name}: {verdict} ({tol}) · {chips} · "
            f"total relative change {number(rep.total_rel_change, 3)}{aligned}"
        )
        assert self.tree_root is not None
        self.model.set_root(self.tree_root)
        self.tree.expandToDepth(0)
        self._draw_chart()
        first = next((r for r in rep.rows if r.status == CHANGED), rep.rows[0] if rep.rows else None)
        if first is not None:
            self.select(first.key)
        self.ready.emit(rep)

    def _draw_chart(self) -> None:
        if self.tree_root is not None:
            self.chart.set_layers(layers(self.tree_root), self.log.isChecked())

    def _filter(self, mode: str) -> None:
        self.proxy.set_mode(mode)
        self.tree.expandAll()

    def select(self, path: str) -> None:
        """Select the tree row of an aligned key or module."""
        if self.tree_root is None:
            return
        node = self.tree_root.find(path)
        if node is None:
            return
        index = self.proxy.mapFromSource(self.model.index_of(node))
        if index.isValid():
            self.tree.scrollTo(index)
            self.tree.setCurrentIndex(index)

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        node = self.model.node(self.proxy.mapToSource(current))
        r = node.diff
        rows = [("key", printable(node.path)), ("relative change", number(node.rel_change, 4))]
        if r is None:
            rows += [(STATUS_LABELS[s], str(n)) for s, n in node.counts.items()]
            self._fill(rows)
            return
        rows += [("status", STATUS_LABELS[r.status]), ("A", f"{shape_str(r.a_shape or [])} {r.a_dtype or '—'}"),
                 ("B", f"{shape_str(r.b_shape or [])} {r.b_dtype or '—'}"), ("max |a−b|", number(r.max_abs, 6)),
                 ("mean |a−b|", number(r.mean_abs, 6)), ("cosine", number(r.cosine, 8)),
                 ("changed elements", f"{r.frac_changed:.2%}" if r.frac_changed is not None else "—"),
                 ("new NaN / Inf", f"{r.new_nan} / {r.new_inf}")]  # fmt: skip
        self._fill(rows)
        if r.status in (CHANGED, IDENTICAL, ONLY_A, ONLY_B):
            a, b = self.a, self.b
            self.runner.start(
                "pair",
                lambda progress, cancel: inspect_pair(a, b, r, cancel=cancel),
                f"Drawing {printable(r.key)}",
                on_done=self._show_pair,
            )

    def _fill(self, rows: list[tuple[str, str]]) -> None:
        self.metrics.setRowCount(len(rows))
        for i, (k, v) in enumerate(rows):
            self.metrics.setItem(i, 0, QTableWidgetItem(k))
            self.metrics.setItem(i, 1, QTableWidgetItem(v))

    def _show_pair(self, view) -> None:
        if len(view.edges) > 1:
            self.hist_a.setData(np.asarray(view.edges), np.asarray(view.counts_a, float))
            self.hist_b.setData(np.asarray(view.edges), np.asarray(view.counts_b, float))
        else:
            self.hist_a.setData([], [])
            self.hist_b.setData([], [])
        self.hist.enableAutoRange()
        self.delta.set_heatmap(view.delta)
        self.pair_shown.emit(view.row.key)

    def closeEvent(self, event) -> None:
        self.runner.shutdown(10_000)
        super().closeEvent(event)
