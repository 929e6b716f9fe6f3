"""The comparison window: aligned tree, per-layer change chart, and A/B views of a tensor.

Opening both files, diffing and per-tensor views all run in a TaskRunner; this module
only draws core's DiffReport, DiffNode tree and PairView. The verdict, the headline and
the counters line are core's sentences (the ones ``ckpt diff`` prints), and every relative
change is core's ||B−A|| / max(||A||, ||B||) over floating-point tensors.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QLocale, QModelIndex, QPointF, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QBrush,
    QColor,
    QCursor,
    QDoubleValidator,
    QFont,
    QFontMetricsF,
    QKeySequence,
    QValidator,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QToolTip,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ..core import open_checkpoint
from ..core.checkpoint import Checkpoint
from ..core.diff import (
    CHANGED,
    COMPARED,
    DIFFERENT,
    IDENTICAL,
    MISMATCHED,
    ONLY_A,
    ONLY_B,
    SAME,
    WITHIN_TOL,
    DiffNode,
    DiffReport,
    TensorDiff,
    diff,
    diff_tree,
    export_csv,
    export_json,
    inspect_pair,
    layers,
)
from ..core.remote import as_path, local_folder
from ..formatting import number, shape_str
from .i18n import format_count, join_list, on_app_language_change, translate
from .node_model import NodeModel, refilter
from .progress import ProgressIndicator
from .tensor_panel import HeatmapView
from .text import elide, esc, printable, tooltip, window_title
from .workers import TaskRunner

DASH = "—"  # a metric that was not measured (mismatched, one-sided or integer keys), never 0
NEW_FROM_ZERO = "new from zero"
REL_AXIS = "‖B−A‖ / max(‖A‖, ‖B‖)"
STATUS_COLORS = {
    IDENTICAL: QColor("#8a8a8a"), WITHIN_TOL: QColor("#2e7d32"), CHANGED: QColor("#1565c0"),
    MISMATCHED: QColor("#c62828"), ONLY_A: QColor("#e65100"), ONLY_B: QColor("#6a1b9a"),
}  # fmt: skip
HEADERS = ("Name", "Status", "Rel. change", "max |a−b|", "Cosine", "Changed")  # English; header_title() as shown
FILTERS = ("All", "Changed only", "Mismatched only", "Hide identical")  # the Show modes (English names)


def header_title(col: int) -> str:
    """The aligned tree's column ``col`` title in the current language."""
    titles = (
        translate("DiffView", "Name"),
        translate("DiffView", "Status"),
        translate("DiffView", "Rel. change"),
        "max |a−b|",
        translate("DiffView", "Cosine"),
        translate("DiffView", "Changed"),
    )
    return titles[col]


def filter_title(mode: str) -> str:
    """A Show mode as the combo box shows it."""
    titles = {
        "All": translate("DiffView", "All"),
        "Changed only": translate("DiffView", "Changed only"),
        "Mismatched only": translate("DiffView", "Mismatched only"),
        "Hide identical": translate("DiffView", "Hide identical"),
    }
    return titles[mode]


def within_text(exact: bool) -> str:
    """core.diff.within_label in the current language."""
    return translate("DiffView", "equal in value") if exact else translate("DiffView", "within tolerance")


def status_word(verdict: str) -> str:
    """A verdict's word (identical, changed, ...) in the current language."""
    words = {
        IDENTICAL: translate("DiffView", "identical"),
        WITHIN_TOL: translate("DiffView", "within tolerance"),
        CHANGED: translate("DiffView", "changed"),
        MISMATCHED: translate("DiffView", "mismatched"),
        ONLY_A: translate("DiffView", "only in A"),
        ONLY_B: translate("DiffView", "only in B"),
    }
    return words[verdict]


def counted(verdict: str, n: int, exact: bool) -> str:
    """``n`` rows of ``verdict``: "3 changed", "1 only in A" (one template each: word order is the language's)."""
    if verdict == WITHIN_TOL:
        return (
            translate("DiffView", "%Ln equal in value", None, n)
            if exact
            else translate("DiffView", "%Ln within tolerance", None, n)
        )
    templates = {
        IDENTICAL: translate("DiffView", "%Ln identical", None, n),
        CHANGED: translate("DiffView", "%Ln changed", None, n),
        MISMATCHED: translate("DiffView", "%Ln mismatched", None, n),
        ONLY_A: translate("DiffView", "%Ln only in A", None, n),
        ONLY_B: translate("DiffView", "%Ln only in B", None, n),
    }
    return templates[verdict]


def status_label(verdict: str, exact: bool) -> str:
    """How a row's verdict reads: a changed tensor equal in value under exact comparison
    (another dtype, -0.0 vs 0.0) is "equal in value", not "within tolerance"."""
    return within_text(exact) if verdict == WITHIN_TOL else status_word(verdict)


def row_label(r: TensorDiff, exact: bool) -> str:
    """A tensor row's status: its verdict, or "new from zero" for a changed floating-point
    tensor that was all zero in A (its relative change is 1 by definition)."""
    if r.verdict == CHANGED and r.new_from_zero and not r.integer:
        return translate("DiffView", "new from zero")
    return status_label(r.verdict, exact)


def module_status(counts: dict[str, int], worst: str, exact: bool) -> str:
    """A module's status: what is notable below it, counted ("2 changed, 1 mismatched")."""
    parts = [counted(v, counts[v], exact) for v in (MISMATCHED, ONLY_A, ONLY_B, CHANGED) if counts.get(v)]
    return join_list(parts) if parts else status_label(worst, exact)


def tolerance_words(atol: float, rtol: float) -> str:
    """core.diff.tolerance_text in the current language."""
    if atol or rtol:
        return translate("DiffView", "atol {atol}, rtol {rtol}").format(atol=f"{atol:g}", rtol=f"{rtol:g}")
    return translate("DiffView", "exact")


def verdict_line(rep: DiffReport) -> str:
    """The verdict as ``ckpt diff`` words it (core.diff.verdict), in the current language."""
    exact = not (rep.atol or rep.rtol)
    kind = rep.verdict.kind
    if kind == DIFFERENT:
        word = translate("DiffView", "different")
    elif kind == SAME:
        word = translate("DiffView", "same")
    else:
        word = translate("DiffView", "same values") if exact else translate("DiffView", "same within tolerance")
    counts = rep.verdict_counts
    order = (IDENTICAL, CHANGED, WITHIN_TOL, MISMATCHED, ONLY_A, ONLY_B)
    n = len(rep.rows)  # lupdate reads a count only as a plain name
    parts = [translate("DiffView", "%Ln tensor(s)", None, n)]
    parts += [counted(v, counts[v], exact) for v in order if counts[v]]
    return translate("DiffView", "{verdict} ({tolerance}): {counts}").format(
        verdict=word, tolerance=tolerance_words(rep.atol, rep.rtol), counts=join_list(parts)
    )


def counter_text(g) -> str:
    """core.diff.CounterGroup.text in the current language: ``num_batches_tracked 0 -> 25 in 5 layers``."""
    n, changed = len(g.rows), g.n_changed
    label = g.name if n > 1 else g.rows[0].key
    if g.scalar:
        pairs = {(r.a_value, r.b_value) for r in g.rows}
        if len(pairs) == 1:
            ((a, b),) = pairs
            if changed:
                text = translate("DiffView", "{label} {a} -> {b}").format(label=label, a=a, b=b)
            else:
                text = translate("DiffView", "{label} {a} (unchanged)").format(label=label, a=a)
        else:
            a_span, b_span = _span([r.a_value for r in g.rows]), _span([r.b_value for r in g.rows])
            # layers that disagree (so n > 1): one template, the count of layers inside it
            return translate(
                "DiffView", "{label} {a} -> {b} in %Ln layer(s) ({changed} of {n} changed)", None, n
            ).format(label=label, a=a_span, b=b_span, changed=format_count(changed), n=format_count(n))
        if n > 1:
            text = translate("DiffView", "{counter} in %Ln layer(s)", None, n).format(counter=text)
        return text
    if n == 1:
        word = translate("DiffView", "changed") if changed else translate("DiffView", "identical")
        return f"{label} {word}"
    return translate("DiffView", "{label}: {changed} of {n} changed").format(
        label=label, changed=format_count(changed), n=format_count(n)
    )


def _span(values: list) -> str:
    lo, hi = min(values), max(values)
    return f"{lo}" if lo == hi else f"{lo}..{hi}"


def headline_line(rep: DiffReport) -> str:
    """core.diff.DiffReport.headline in the current language."""
    n = rep.n_measured
    if not n:
        return translate("DiffView", "total relative change: none (no floating-point tensors compared)")
    return translate("DiffView", "total relative change {value} over %Ln floating-point tensor(s)", None, n).format(
        value=number(rep.total_rel_change, 3)
    )


class DiffModel(NodeModel):
    """Qt adapter over core's DiffNode tree; rows speak the verdict's words."""

    headers = HEADERS

    def __init__(self, parent=None) -> None:
        super().__init__(DiffNode("", ""), parent)
        self.exact = True  # the tolerance of the report shown: 0 and 0
        on_app_language_change(self, self.retranslate)

    def header_text(self, section: int) -> str:
        return header_title(section)

    def retranslate(self) -> None:
        """Headers and rows in the new language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(HEADERS) - 1)
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, len(HEADERS) - 1))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if section == len(HEADERS) - 1 and orientation == Qt.Orientation.Horizontal:
            # with a tolerance the fraction that matters is what falls outside it
            if role == Qt.ItemDataRole.DisplayRole and not self.exact:
                return translate("DiffView", "Outside tol.")
            if role == Qt.ItemDataRole.ToolTipRole:
                return (
                    translate("DiffView", "Elements that differ")
                    if self.exact
                    else translate("DiffView", "Elements outside atol + rtol·|b|")
                )
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        node: DiffNode = index.internalPointer()
        col, r = index.column(), node.diff
        verdict = r.verdict if r is not None else node.worst
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(node, col)
        if role == Qt.ItemDataRole.ForegroundRole and col in (0, 1):
            return QBrush(STATUS_COLORS[verdict])
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if r is not None:
                return tooltip(f"{printable(r.key)}: {row_label(r, self.exact)}\n"
                               f"A: {shape_str(r.a_shape or [])} {r.a_dtype or DASH}\n"
                               f"B: {shape_str(r.b_shape or [])} {r.b_dtype or DASH}")  # fmt: skip
            lines = [counted(v, n, self.exact) for v, n in node.counts.items()]
            return tooltip(f"{printable(node.path)}\n" + "\n".join(lines))
        return None

    def _text(self, node: DiffNode, col: int) -> str:
        r = node.diff
        if col == 0:
            return printable(node.name)
        if col == 1:
            return row_label(r, self.exact) if r is not None else module_status(node.counts, node.worst, self.exact)
        if col == 2:
            return DASH if node.rel_change is None else number(node.rel_change, 3)
        if r is None:
            return ""
        if r.status not in COMPARED:
            return DASH
        identical = r.status == IDENTICAL
        if col == 3:
            return "0" if identical else number(r.max_abs, 3)
        if col == 4:
            if identical:
                return "1" if r.a_l2sq > 0 else DASH
            return DASH if r.cosine is None else number(r.cosine, 6)
        if self.exact:
            return f"{(r.frac_changed or 0.0):.1%}"
        return f"{(r.outside_tol or 0) / max(r.numel or 0, 1):.1%}"  # compared rows: both are set


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
            return node.diff.verdict == CHANGED  # within tolerance is not what a user looks for here
        if self.mode == "Mismatched only":
            return status in (MISMATCHED, ONLY_A, ONLY_B)
        if self.mode == "Hide identical":
            return status != IDENTICAL
        return True


def tick_step(widths: Sequence[float], px_per_item: float, gap: float) -> int:
    """Label every ``step``-th item so that no two labels overlap.

    Labels are centred on their items; two labels ``step`` items apart are
    ``step * px_per_item`` pixels apart, and neither reaches further than half the widest
    label towards the other, so ``step * px_per_item >= widest + gap`` keeps them apart.
    """
    if not widths:
        return 1
    if px_per_item <= 0:
        return len(widths)
    return max(1, math.ceil((max(widths) + gap) / px_per_item))


class LayerChart(pg.PlotWidget):
    """Relative change per layer (floating-point tensors), in model order; clicking a bar
    selects the layer, hovering names it. A layer with nothing measured (only mismatched,
    one-sided or integer tensors) gets no bar but a cross on the axis: never a 0 bar.
    Labels are thinned to what fits (recomputed on resize and zoom)."""

    layer_clicked = Signal(str)
    GAP = 12.0  # pixels between two labels
    LONGEST = 180.0  # a label is elided in the middle beyond this many pixels

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setLabel("left", translate("DiffView", "relative change"))
        self.showGrid(y=True, alpha=0.2)
        self.bars: pg.BarGraphItem | None = None
        self.unmeasured = pg.ScatterPlotItem(symbol="x", size=9)  # layers with no relative change
        self.addItem(self.unmeasured)
        self.paths: list[str] = []
        self.values: list[float | None] = []
        self.notes: list[str] = []  # per layer: what is below it, for the hover text
        self.log = False
        self.tick_font = QFont(self.font())
        self.getAxis("bottom").setStyle(tickFont=self.tick_font)  # the font the labels are measured in
        self.scene().sigMouseClicked.connect(self._clicked)
        self.scene().sigMouseMoved.connect(self._hovered)
        vb = self.getPlotItem().vb
        vb.sigResized.connect(self.fit_labels)
        vb.sigXRangeChanged.connect(self.fit_labels)

    def set_layers(self, nodes: list[DiffNode], log: bool) -> None:
        """Draw one bar per layer (coloured by its verdict) and label what fits."""
        self.paths = [n.path for n in nodes]
        self.values = [n.rel_change for n in nodes]
        self.notes = [module_status(n.counts, n.worst, exact=False) for n in nodes]
        self.log = log
        if self.bars is not None:
            self.removeItem(self.bars)
        positive = [v for v in self.values if v is not None and v > 0]
        floor = min(positive or [1e-12]) / 10
        heights = [
            0.0 if v is None else (math.log10(max(v, floor)) - math.log10(floor) if log else v) for v in self.values
        ]
        # coloured by what the measured (floating-point) tensors did: a counter alone does not paint a bar
        brushes = [pg.mkBrush(STATUS_COLORS[n.measured_worst if n.measured_worst in (CHANGED, WITHIN_TOL) else
                                            IDENTICAL]) for n in nodes]  # fmt: skip
        self.bars = pg.BarGraphItem(x=list(range(len(nodes))), height=heights, width=0.8, brushes=brushes)
        self.addItem(self.bars)
        missing = [i for i, v in enumerate(self.values) if v is None]
        self.unmeasured.setData(x=missing, y=[0.0] * len(missing),
                                pen=[pg.mkPen(STATUS_COLORS[nodes[i].worst], width=2) for i in missing],
                                brush=None)  # fmt: skip
        # short: fits a short chart
        self.setLabel(
            "left", translate("DiffView", "relative change (log)") if log else translate("DiffView", "relative change")
        )
        self.getPlotItem().autoRange()
        self.fit_labels()

    def fit_labels(self, *_args: object) -> None:
        """Label as many layers as fit without overlapping; hovering a bar names any layer."""
        axis = self.getAxis("bottom")
        if not self.paths:
            axis.setTicks([[]])
            return
        vb = self.getPlotItem().vb
        px = abs(vb.mapViewToScene(QPointF(1, 0)).x() - vb.mapViewToScene(QPointF(0, 0)).x())
        metrics = QFontMetricsF(self.tick_font)
        longest = max(48.0, min(self.LONGEST, vb.width() / 3))
        # drawn as plain text by the axis; control characters made visible first
        labels = [metrics.elidedText(printable(p), Qt.TextElideMode.ElideMiddle, longest) for p in self.paths]
        step = tick_step([metrics.horizontalAdvance(t) for t in labels], px, self.GAP)
        axis.setTicks([[(i, labels[i]) for i in range(0, len(labels), step)]])

    def _index_at(self, scene_pos) -> int | None:
        x = self.getPlotItem().vb.mapSceneToView(scene_pos).x()
        i = round(x)
        return i if self.paths and 0 <= i < len(self.paths) and abs(x - i) <= 0.45 else None

    def _clicked(self, event) -> None:
        i = self._index_at(event.scenePos())
        if i is not None:
            self.layer_clicked.emit(self.paths[i])

    def _hovered(self, scene_pos) -> None:
        i = self._index_at(scene_pos) if self.getPlotItem().vb.sceneBoundingRect().contains(scene_pos) else None
        if i is None:
            QToolTip.hideText()
            return
        value = self.values[i]
        if value is None:
            said = translate("DiffView", "relative change {dash}: nothing measured ({what})").format(
                dash=DASH, what=self.notes[i]
            )
        else:
            said = translate("DiffView", "relative change {value} ({formula})").format(
                value=number(value, 4), formula=REL_AXIS
            )
        text = f"{printable(self.paths[i])}\n{said}"
        QToolTip.showText(QCursor.pos(), tooltip(text), self)


class DiffTree(QTreeView):
    """The aligned tree: the name column takes the room the metric columns leave, but never
    less than :attr:`MIN_NAME` pixels (the tree scrolls sideways instead of hiding names)."""

    MIN_NAME = 170

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_name_column()

    def fit_name_column(self) -> None:
        """Give the name column what the viewport has left after the other columns."""
        header = self.header()
        others = sum(header.sectionSize(c) for c in range(1, header.count()))
        header.resizeSection(0, max(self.MIN_NAME, self.viewport().width() - others))


class ToleranceEdit(QLineEdit):
    """A tolerance as typed: plain or scientific notation (``1e-3``), never negative; shown
    exactly as typed (a spin box would turn ``1e-3`` into 13)."""

    def __init__(self, parent=None) -> None:
        super().__init__("0", parent)
        validator = QDoubleValidator(0.0, 1e300, -1, self)
        validator.setNotation(QDoubleValidator.Notation.ScientificNotation)
        validator.setLocale(QLocale.c())  # "1e-3" and "0.001" whatever the system's decimal comma
        self.setValidator(validator)
        self.setPlaceholderText("0")
        self.setFixedWidth(self.fontMetrics().horizontalAdvance("0.00000000") + 16)

    def value(self) -> float | None:
        """The tolerance, or None while what is typed is not a number yet (``1e``)."""
        text = self.text().strip()
        if not text:
            return 0.0
        state = self.validator().validate(text, 0)
        if (state[0] if isinstance(state, tuple) else state) != QValidator.State.Acceptable:
            return None
        try:
            value = float(text)
        except ValueError:
            return None
        return value if math.isfinite(value) and value >= 0 else None

    def setValue(self, value: float) -> None:
        self.setText(f"{value:g}")


class DiffWindow(QMainWindow):
    """Compare checkpoint A with checkpoint B (files, or checkpoints already open)."""

    ready = Signal(object)  # DiffReport
    pair_shown = Signal(str)
    error_reported = Signal(str, str)  # message, details
    exported = Signal(object)  # Path

    def __init__(
        self,
        a: str | os.PathLike | Checkpoint,
        b: str | os.PathLike | Checkpoint,
        device: str = "auto",
        parent=None,
        a_name: str | None = None,
        b_name: str | None = None,
    ) -> None:
        super().__init__(parent)
        # a side is a file to open, or a checkpoint already open (a working copy)
        self.a = a if isinstance(a, Checkpoint) else None
        self.b = b if isinstance(b, Checkpoint) else None
        self.a_path = a.path if isinstance(a, Checkpoint) else as_path(a)
        self.b_path = b.path if isinstance(b, Checkpoint) else as_path(b)
        self.a_name, self.b_name = a_name or self.a_path.name, b_name or self.b_path.name
        self.device = device
        self.report: DiffReport | None = None
        self.tree_root: DiffNode | None = None
        self.borrowed = False  # holds a document's checkpoints (closed when the document lets them go)
        self._fronted = False
        self.runner = TaskRunner(self)
        self.resize(1280, 820)
        self._build()
        self._build_menus()
        self._retitle()
        self.runner.report_error = self._failed
        self.runner.progress.connect(lambda _s, p: self.progress.set_progress(p.fraction, self.runner.label()))
        self.runner.busy_changed.connect(self._busy)
        self.recompute()

    def _retitle(self) -> None:
        self.setWindowTitle(f"{window_title(elide(self.a_name, 80))} ↔ {window_title(elide(self.b_name, 80))} "
                            "— ckptviewer")  # fmt: skip

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
        self.cancel = QPushButton()
        self.cancel.clicked.connect(lambda: self.runner.cancel())
        self.statusBar().addPermanentWidget(self.progress)
        self.statusBar().addPermanentWidget(self.cancel)

    def _build_menus(self) -> None:
        """File: export as CSV / JSON, Close (Ctrl+W, Esc); View: Swap A and B."""
        self.file_menu = file_menu = self.menuBar().addMenu("")
        file_menu.addAction(self.export_csv_action)
        file_menu.addAction(self.export_json_action)
        file_menu.addSeparator()
        self.close_action = QAction(self)
        self.close_action.setShortcuts([QKeySequence("Ctrl+W"), QKeySequence(Qt.Key.Key_Escape)])
        self.close_action.triggered.connect(self.close)
        file_menu.addAction(self.close_action)
        self.view_menu = view_menu = self.menuBar().addMenu("")
        view_menu.addAction(self.swap_action)
        view_menu.addAction(self.log_action)
        self.retranslate()

    def retranslate(self) -> None:
        """Every text of the window in the current language (again on LanguageChange)."""
        self.cancel.setText(translate("DiffView", "Cancel"))
        self.file_menu.setTitle(translate("DiffView", "&File"))
        self.close_action.setText(translate("DiffView", "&Close"))
        self.view_menu.setTitle(translate("DiffView", "&View"))
        self.swap_action.setText(translate("DiffView", "&Swap A and B"))
        self.swap_action.setToolTip(translate("DiffView", "Swap A and B and compare again (B − A becomes A − B)"))
        self.export_csv_action.setText(translate("DiffView", "Export as &CSV…"))
        self.export_json_action.setText(translate("DiffView", "Export as &JSON…"))
        self.atol.setToolTip(
            translate("DiffView", "Absolute tolerance: |a−b| ≤ atol + rtol·|b| counts as equal (1e-3 or 0.001)")
        )
        self.rtol.setToolTip(translate("DiffView", "Relative tolerance, as in torch.allclose (1e-3 or 0.001)"))
        for i, mode in enumerate(FILTERS):
            self.filter.setItemText(i, filter_title(mode))
        self.log.setText(translate("DiffView", "Log scale"))
        self.log_action.setText(translate("DiffView", "&Log scale"))
        self.show_caption.setText(translate("DiffView", "Show"))
        self.chart_title.setText(
            translate("DiffView", "<b>Relative change per layer</b> {formula}, floating-point tensors").format(
                formula=REL_AXIS
            )
        )
        self.chart_title.setToolTip(
            translate(
                "DiffView",
                "Integer and bool tensors (num_batches_tracked, counters) are compared exactly and listed as counters "
                "above, not drawn here. Click a bar to select its layer; hover to name it.",
            )
        )
        self.chart.setLabel("left", translate("DiffView", "relative change"))
        self.hist.setLabel("bottom", translate("DiffView", "value"))
        self.metrics.setHorizontalHeaderLabels([translate("DiffView", "Metric"), translate("DiffView", "Value")])
        if self.report is not None and self.tree_root is not None:
            self._summarize()
            self._draw_chart()
            index = self.tree.currentIndex()
            if index.isValid():
                self._fill(self._metric_rows(self.model.node(self.proxy.mapToSource(index))))
        elif not self.runner.is_running("diff"):
            pass  # an error is said in the words it was said in
        else:
            self.summary.setText(translate("DiffView", "Comparing…"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def _build_toolbar(self) -> QVBoxLayout:
        """The verdict on its own line; below it Swap, the tolerances (recomputed after typing
        stops or on Enter), the row filter and the exports."""
        self.summary = QLabel(translate("DiffView", "Comparing…"))
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.swap_action = QAction(self)
        self.swap_action.setShortcut(QKeySequence("Ctrl+Shift+X"))
        self.swap_action.triggered.connect(self.swap)
        self.export_csv_action = QAction(self)
        self.export_csv_action.triggered.connect(lambda: self.choose_export("csv"))
        self.export_json_action = QAction(self)
        self.export_json_action.triggered.connect(lambda: self.choose_export("json"))
        for action in (self.export_csv_action, self.export_json_action):
            action.setEnabled(False)  # until there is a comparison to export
        self.atol = ToleranceEdit()
        self.rtol = ToleranceEdit()
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(400)
        self._debounce.timeout.connect(self._tolerance_changed)
        for box in (self.atol, self.rtol):
            box.textEdited.connect(self._debounce.start)
            box.returnPressed.connect(self._tolerance_changed)
        self.filter = QComboBox()
        for mode in FILTERS:
            self.filter.addItem(filter_title(mode), mode)
        self.log = QCheckBox()
        self.log_action = QAction(self)
        self.log_action.setCheckable(True)
        self.log_action.toggled.connect(self.log.setChecked)  # one state, two ways to reach it
        self.log.toggled.connect(self.log_action.setChecked)
        row = QHBoxLayout()
        row.addWidget(self._tool_button(self.swap_action))
        row.addSpacing(12)
        for label, w in (("atol", self.atol), ("rtol", self.rtol), ("", self.filter)):
            caption = QLabel(label)
            caption.setBuddy(w)
            row.addWidget(caption)
            row.addWidget(w)
        self.show_caption = caption  # "Show", set by retranslate
        row.addStretch(1)
        row.addWidget(self._tool_button(self.export_csv_action))
        row.addWidget(self._tool_button(self.export_json_action))
        top = QVBoxLayout()
        top.addWidget(self.summary)
        top.addLayout(row)
        return top

    @staticmethod
    def _tool_button(action: QAction) -> QToolButton:
        button = QToolButton()
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return button

    def _build_tree(self) -> None:
        """The aligned tree of both checkpoints, filtered by the toolbar's Show."""
        self.model = DiffModel(self)
        self.proxy = DiffFilter(self)
        self.proxy.setSourceModel(self.model)
        self.filter.currentIndexChanged.connect(lambda i: self._filter(FILTERS[i]))
        self.tree = DiffTree()
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        metrics = self.fontMetrics()
        # wide enough for what the columns hold ("within tolerance", "0.000123", "99.9%")
        for col, sample in zip(range(1, len(HEADERS)), ("within tolerance", "0.000123", "0.00123", "0.999999",
                                                          "Outside tol.")):  # fmt: skip
            header.resizeSection(col, metrics.horizontalAdvance(sample) + 16)
        self.tree.fit_name_column()
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
        self.chart_title = QLabel()
        bar.addWidget(self.chart_title)
        bar.addStretch(1)
        bar.addWidget(self.log)
        cl.addLayout(bar)
        cl.addWidget(self.chart)
        return chart_box

    def _build_ab_views(self) -> None:
        """The selected tensor's overlaid A/B histograms and its B − A heatmap."""
        self.hist = pg.PlotWidget()
        self.hist.setMenuEnabled(False)
        self.hist.addLegend(offset=(-10, 10), labelTextColor="#8a8a8a")  # readable on light and dark
        self.hist_a = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=(230, 81, 0, 70), pen=pg.mkPen("#e65100"),
                                      name="A")  # fmt: skip
        self.hist_b = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=(21, 101, 192, 70), pen=pg.mkPen("#1565c0"),
                                      name="B")  # fmt: skip
        self.hist.addItem(self.hist_a)
        self.hist.addItem(self.hist_b)
        self.delta = HeatmapView()
        self.delta.plot.getPlotItem().setTitle("B − A", color="#8a8a8a")

    def _build_metrics(self) -> None:
        """The selected tensor's metrics table."""
        self.metrics = QTableWidget(0, 2)
        self.metrics.verticalHeader().hide()
        self.metrics.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.metrics.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)

    # --- work ----------------------------------------------------------------------------

    def tolerances(self) -> tuple[float, float] | None:
        """(atol, rtol) as typed, or None while one of them is not a number yet."""
        atol, rtol = self.atol.value(), self.rtol.value()
        return None if atol is None or rtol is None else (atol, rtol)

    def _tolerance_changed(self) -> None:
        self._debounce.stop()
        tol = self.tolerances()
        if tol is not None and self.report is not None and tol == (self.report.atol, self.report.rtol):
            return  # Enter after the debounce already compared with these
        self.recompute()

    def recompute(self) -> None:
        """Compare again with the tolerances typed (both files are opened once)."""
        tol = self.tolerances()
        if tol is None:
            return  # "1e" while typing "1e-3": wait for a number
        atol, rtol = tol
        a_path, b_path, device = self.a_path, self.b_path, self.device
        a, b = self.a, self.b

        def work(progress, cancel):
            ca = a or open_checkpoint(a_path, device=device, cancel=cancel)
            cb = b or open_checkpoint(b_path, device=device, cancel=cancel)
            rep = diff(ca, cb, atol=atol, rtol=rtol, progress=progress, cancel=cancel)
            return ca, cb, rep, diff_tree(rep)

        self.runner.start("diff", work, translate("DiffView", "Comparing"), on_done=self._compared)

    def swap(self) -> None:
        """B becomes A and A becomes B; compared again (files already open are reused)."""
        self.a, self.b = self.b, self.a
        self.a_path, self.b_path = self.b_path, self.a_path
        self.a_name, self.b_name = self.b_name, self.a_name
        self._retitle()
        self.summary.setText(translate("DiffView", "Comparing…"))
        self.recompute()

    def _compared(self, result: Any) -> None:
        self.a, self.b, self.report, self.tree_root = result
        self._show()
        if not self._fronted:
            # `ckptviewer A B` and Compare with: the comparison is what was asked for, in front
            self._fronted = True
            self.to_front()

    def to_front(self) -> None:
        """Raise and activate this window (over the main window it was opened from)."""
        if self.isMinimized():
            self.showNormal()
        self.raise_()
        self.activateWindow()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self.to_front)  # after the window that opened it raised itself

    def _failed(self, message: str, details: str) -> None:
        said = translate("DiffView", "<b>Cannot compare:</b> {message}").format(message=esc(message))
        self.summary.setText(f"<span style='color:#c62828'>{said}</span>")
        self.statusBar().showMessage(elide(message, 300), 10_000)
        self.error_reported.emit(message, details)

    def _busy(self, busy: bool) -> None:
        self.progress.setVisible(busy)
        self.cancel.setVisible(busy)

    # --- export ----------------------------------------------------------------------------

    def choose_export(self, kind: str) -> None:
        """Ask where (next to A by default), then write the comparison as CSV or JSON."""
        if self.report is None:
            return
        name = f"{self.a_path.stem}-vs-{self.b_path.stem}.diff.{kind}"
        if kind == "csv":
            caption, pattern = translate("DiffView", "Export comparison as CSV"), translate("DiffView", "CSV (*.csv)")
        else:
            caption, pattern = (
                translate("DiffView", "Export comparison as JSON"),
                translate("DiffView", "JSON (*.json)"),
            )
        start = str(local_folder(self.a_path) / name)
        path, _ = QFileDialog.getSaveFileName(self, caption, start, pattern)
        if path:
            self.export(path, kind)

    def export(self, path: str | os.PathLike, kind: str) -> None:
        """Write the comparison shown to ``path`` (atomically); a failure reaches the error path."""
        if self.report is None:
            return
        try:
            written = (export_csv if kind == "csv" else export_json)(self.report, path)
        except OSError as e:
            message = translate("DiffView", "Cannot export the comparison: {error}").format(error=e.strerror or e)
            self.statusBar().showMessage(elide(message, 300), 10_000)
            self.error_reported.emit(message, str(e))
            return
        self.statusBar().showMessage(translate("DiffView", "Saved {path}").format(path=elide(written, 200)), 10_000)
        self.exported.emit(written)

    # --- drawing -------------------------------------------------------------------------

    def _summarize(self) -> None:
        """The verdict, the headline, counters, alignment and notes above the tree."""
        rep = self.report
        assert rep is not None
        # core's sentences (what `ckpt diff` prints in English) in the window's language; file names escaped
        colour = "#c62828" if rep.verdict.kind == DIFFERENT else "#2e7d32"
        lines = [f"<b style='color:{colour}'>{esc(verdict_line(rep))}</b>", esc(headline_line(rep))]
        groups = rep.counters()
        if groups:
            lines.append(
                esc(
                    translate("DiffView", "counters: {counters}").format(
                        counters=translate("List", "; ").join(counter_text(g) for g in groups)
                    )
                )
            )
        if rep.a_prefix or rep.b_prefix:
            a_p, b_p = rep.a_prefix or DASH, rep.b_prefix or DASH
            lines.append(
                translate("DiffView", "aligned by removing {a_prefix} from A, {b_prefix} from B").format(
                    a_prefix=f"<code>{esc(a_p)}</code>", b_prefix=f"<code>{esc(b_p)}</code>"
                )
            )
        # e.g. GGUF names mapped, llama.cpp's q/k permutation
        lines += [esc(translate("DiffView", "note: {note}").format(note=note)) for note in rep.notes]
        a_name, b_name = esc(elide(self.a_name, 80)), esc(elide(self.b_name, 80))
        self.summary.setText(f"<b>A</b> {a_name} ↔ <b>B</b> {b_name}<br>" + "<br>".join(lines))

    def _show(self) -> None:
        rep = self.report
        assert rep is not None and self.tree_root is not None
        exact = not (rep.atol or rep.rtol)
        self._summarize()
        for action in (self.export_csv_action, self.export_json_action):
            action.setEnabled(True)
        current = self.current_path()
        self.model.exact = exact
        self.model.set_root(self.tree_root)
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(HEADERS) - 1)
        self.tree.expandToDepth(0)
        self._draw_chart()
        first = next((r for r in rep.rows if r.verdict == CHANGED), rep.rows[0] if rep.rows else None)
        if current is not None and self.tree_root.find(current) is not None:
            self.select(current)  # a new tolerance or a swap keeps what the user was looking at
        elif first is not None:
            self.select(first.key)
        self.ready.emit(rep)

    def current_path(self) -> str | None:
        """The aligned key or module selected, if any."""
        index = self.tree.currentIndex()
        if not index.isValid():
            return None
        return self.model.node(self.proxy.mapToSource(index)).path

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
            if self.tree.currentIndex() == index:
                self._selected(index, index)  # already current (a recomputed report): draw it again
            else:
                self.tree.setCurrentIndex(index)

    def _selected(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            return
        node = self.model.node(self.proxy.mapToSource(current))
        r = node.diff
        self._fill(self._metric_rows(node))
        if r is None:
            return
        a, b = self.a, self.b
        if r.status in (CHANGED, IDENTICAL, ONLY_A, ONLY_B) and a is not None and b is not None:
            self.runner.start(
                "pair",
                lambda progress, cancel: inspect_pair(a, b, r, cancel=cancel),
                translate("DiffView", "Drawing {key}").format(key=printable(r.key)),
                on_done=self._show_pair,
            )
        else:
            self.hist_a.setData([], [])  # a mismatched pair: no common range to draw
            self.hist_b.setData([], [])
            self.delta.set_heatmap(None)

    def _metric_rows(self, node: DiffNode) -> list[tuple[str, str]]:
        """The metrics table of a selected row (a module: its counts)."""
        r = node.diff
        rel = DASH if node.rel_change is None else number(node.rel_change, 4)
        rows = [(translate("DiffView", "key"), printable(node.path)), (translate("DiffView", "relative change"), rel)]
        exact = self.model.exact
        if r is None:
            return rows + [(status_label(s, exact), format_count(n)) for s, n in node.counts.items()]
        a_side = f"{shape_str(r.a_shape)} {r.a_dtype}" if r.a_shape is not None else DASH
        b_side = f"{shape_str(r.b_shape)} {r.b_dtype}" if r.b_shape is not None else DASH
        rows += [(translate("DiffView", "status"), row_label(r, exact)), ("A", a_side), ("B", b_side)]
        if r.integer and r.status in COMPARED:
            rows.append(
                (
                    translate("DiffView", "kind"),
                    translate("DiffView", "integer: compared exactly, not in relative change"),
                )
            )
            if r.a_value is not None:
                rows.append((translate("DiffView", "values"), f"{r.a_value} → {r.b_value}"))
        names = (
            "max |a−b|",
            "mean |a−b|",
            translate("DiffView", "cosine"),
            translate("DiffView", "changed elements"),
            translate("DiffView", "outside tolerance"),
            translate("DiffView", "new NaN / Inf"),
        )
        if r.status in COMPARED:
            identical = r.status == IDENTICAL
            outside = f"{format_count(r.outside_tol or 0)} ({(r.outside_tol or 0) / max(r.numel or 0, 1):.2%})"
            values = (
                "0" if identical else number(r.max_abs, 6),
                "0" if identical else number(r.mean_abs, 6),
                number(r.cosine, 8) if r.cosine is not None else ("1" if identical else DASH),
                f"{(r.frac_changed or 0.0):.2%}",
                outside,
                f"{r.new_nan} / {r.new_inf}",
            )
            rows += list(zip(names, values))
            rows.append(
                (
                    translate("DiffView", "new from zero"),
                    translate("DiffView", "yes (A all zero)") if r.new_from_zero else translate("DiffView", "no"),
                )
            )
        else:
            rows += [(name, DASH) for name in names]
        return rows

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
