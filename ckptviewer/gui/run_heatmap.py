"""The run view's heatmap: layers (model order, top to bottom) × checkpoints (step order), one of
core's per-layer series as colour on a log scale.

Cells that have no value on a log scale are never a colour of the scale: a value of exactly 0
(a layer that did not move) is black, NaN/Inf is magenta (as in the tensor heatmap), and a cell with
no value (the layer is absent there, or the series is undefined: no previous checkpoint, no Adam
state) is grey. Long layer lists scroll and zoom (wheel, drag); the left axis names as many layers as
fit, every one once the view is zoomed in far enough.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFont, QFontMetricsF, QPen
from PySide6.QtWidgets import QGraphicsRectItem, QHBoxLayout, QLabel, QToolTip, QVBoxLayout, QWidget

from ..core.run import LayerSeries, RunCheckpoint, RunReport
from ..core.translatable import QT_TRANSLATE_NOOP
from ..formatting import number
from .i18n import on_language_change, translate
from .tensor_panel import NAN_COLOR
from .text import printable, tooltip

# the series a heatmap can show: attribute of LayerSeries -> (chooser text, colour bar title), in English
# (marked for the catalogue; metric_text / metric_title give them in the current language)
METRICS: dict[str, tuple[str, str]] = {
    "rel_update": (
        QT_TRANSLATE_NOOP("RunView", "Relative update ‖Wₜ−Wₜ₋₁‖ / ‖Wₜ₋₁‖"),
        QT_TRANSLATE_NOOP("RunView", "relative update"),
    ),
    "norm": (QT_TRANSLATE_NOOP("RunView", "Weight norm ‖Wₜ‖"), QT_TRANSLATE_NOOP("RunView", "weight norm")),
    "change_from_first": (
        QT_TRANSLATE_NOOP("RunView", "Change since first ‖Wₜ−W₀‖ / ‖W₀‖"),
        QT_TRANSLATE_NOOP("RunView", "change since first"),
    ),
    "adam_ratio": (
        QT_TRANSLATE_NOOP("RunView", "Adam update / weight ratio"),
        QT_TRANSLATE_NOOP("RunView", "Adam update ratio"),
    ),
    "nonfinite": (QT_TRANSLATE_NOOP("RunView", "NaN / Inf count"), QT_TRANSLATE_NOOP("RunView", "NaN + Inf elements")),
}
VALUE, ZERO, NONFINITE, NO_VALUE = 0, 1, 2, 3  # what a cell holds
ZERO_COLOR = (0, 0, 0, 255)
NO_VALUE_COLOR = (150, 150, 150, 255)
KIND_COLORS = {ZERO: ZERO_COLOR, NONFINITE: NAN_COLOR, NO_VALUE: NO_VALUE_COLOR}
LEGEND = (
    (ZERO_COLOR, QT_TRANSLATE_NOOP("RunView", "exactly 0")),
    (NAN_COLOR, QT_TRANSLATE_NOOP("RunView", "NaN / Inf")),
    (NO_VALUE_COLOR, QT_TRANSLATE_NOOP("RunView", "no value (absent, no checkpoint before, no Adam state)")),
)
SELECTED_PEN = "#ff9800"  # selected layers and the selected cell: orange, on any colour of viridis


def metric_text(metric: str) -> str:
    """A series as the chooser and View menu name it, in the current language."""
    return translate("RunView", METRICS[metric][0])


def metric_title(metric: str) -> str:
    """A series as an axis or colour bar names it, in the current language."""
    return translate("RunView", METRICS[metric][1])


def series(layer: LayerSeries, metric: str) -> list[float | None]:
    """``layer``'s values of ``metric``, one per checkpoint (None where there is none)."""
    values = getattr(layer, metric)
    return [None if v is None else float(v) for v in values]


def cell_grid(report: RunReport, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(log10 values, kinds): two layers × checkpoints arrays for ``metric``.

    A kind is VALUE (a positive finite value: its log10 is in the first array), ZERO, NONFINITE
    (the value is NaN/Inf, or the layer holds NaN/Inf there) or NO_VALUE; the first array holds
    NaN wherever the kind is not VALUE. Computed with whole-array operations: 20,000 layers of a
    long run are millions of cells, redrawn on every change of the series shown.
    """
    n = len(report.checkpoints)

    def fit(row: Sequence[object], fill: object) -> list:
        return list(row[:n]) + [fill] * (n - len(row))  # a series as long as the run, whatever it holds

    cells = np.empty((len(report.layers), n), dtype=object)  # one copy of the references, in C loops after it
    cells[:] = [fit(getattr(layer, metric), None) for layer in report.layers] or np.empty((0, n))
    absent = cells == None  # noqa: E711 - elementwise, in numpy's loop
    values = np.where(absent, math.nan, cells).astype(float)
    held = np.array([fit(layer.nonfinite, 0) for layer in report.layers], dtype=float).reshape(absent.shape) > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.where(values > 0, np.log10(np.where(values > 0, values, 1.0)), np.nan)
    finite = np.isfinite(values)
    kinds = np.full(values.shape, NO_VALUE, dtype=np.uint8)
    kinds[finite & (values == 0)] = ZERO
    kinds[finite & (values > 0)] = VALUE
    nonfinite = ~absent & ~finite  # the value itself is NaN/Inf
    if metric != "nonfinite":
        nonfinite |= held  # a norm of a tensor holding NaN says nothing: the NaN is the news
    kinds[nonfinite] = NONFINITE
    logs[kinds != VALUE] = np.nan
    return logs, kinds


def checkpoint_label(ckpt: RunCheckpoint, index: int) -> str:
    """How a checkpoint is named on an axis: its step, else its epoch, else its place in the run."""
    if ckpt.step is not None:
        return translate("RunView", "step {n}").format(n=ckpt.step)
    if ckpt.epoch is not None:
        return translate("RunView", "epoch {n}").format(n=ckpt.epoch)
    return f"#{index}"


def thin(widths: Sequence[float], px_per_item: float, gap: float) -> int:
    """Label every ``step``-th item so that labels ``widths`` wide (along the axis) never overlap."""
    if not widths:
        return 1
    if px_per_item <= 0:
        return len(widths)
    return max(1, math.ceil((max(widths) + gap) / px_per_item))


class RunHeatmap(QWidget):
    """Layers × checkpoints; clicking a cell emits :attr:`cell_clicked` (layer, checkpoint, modifiers)."""

    cell_clicked = Signal(int, int, object)  # layer index, checkpoint index, Qt.KeyboardModifiers
    name_clicked = Signal(int, object)  # a layer's name on the left axis: layer index, Qt.KeyboardModifiers
    LABEL_WIDTH = 230.0  # pixels: a layer name is elided in the middle beyond this
    GAP = 2.0

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget()
        self.plot.setMenuEnabled(False)
        self.plot.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        item = self.plot.getPlotItem()
        item.invertY(True)  # the first layer on top, as the model lists it
        item.hideButtons()
        self.vb = item.vb
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")  # zero, NaN/Inf and no-value cells, opaque
        item.addItem(self.image)
        item.addItem(self.overlay)
        self.cmap = pg.colormap.get("viridis")
        self.colorbar = pg.ColorBarItem(values=(-3, 0), colorMap=self.cmap, interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.tick_font = QFont(self.font())
        for side in ("left", "bottom"):
            self.plot.getAxis(side).setStyle(tickFont=self.tick_font)
        self.highlights: list[QGraphicsRectItem] = []
        legend_row = QHBoxLayout()
        legend_row.setContentsMargins(4, 0, 4, 0)
        legend_row.setSpacing(4)
        self.legend_words: list[QLabel] = []
        for color, _text in LEGEND:
            swatch = QLabel()
            swatch.setFixedSize(11, 11)  # bordered: black shows on a dark theme too
            swatch.setStyleSheet(f"background: rgb{color[:3]}; border: 1px solid #8a8a8a;")
            words = QLabel()
            words.setStyleSheet("color: #8a8a8a;")
            self.legend_words.append(words)
            legend_row.addWidget(swatch)
            legend_row.addWidget(words)
            legend_row.addSpacing(8)
        legend_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.plot, 1)
        layout.addLayout(legend_row)
        self.report: RunReport | None = None
        self._grids: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # per series, for the report shown
        self.metric_name = "rel_update"
        self.logs = np.zeros((0, 0))
        self.kinds = np.zeros((0, 0), dtype=np.uint8)
        self.keys: list[str] = []
        self.label_width = self.LABEL_WIDTH
        self.labels: list[str] = []  # per checkpoint
        self.selected_rows: list[int] = []
        self.selected_cell: tuple[int, int] | None = None
        self.selected_column: int | None = None
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.vb.sigResized.connect(self.fit_labels)
        self.vb.sigRangeChanged.connect(self.fit_labels)
        self.retranslate()
        on_language_change(self, self.retranslate)

    def retranslate(self) -> None:
        """The legend, axis labels and colour bar title in the current language (again on LanguageChange)."""
        for words, (_color, text) in zip(self.legend_words, LEGEND):
            words.setText(translate("RunView", text))
        if self.report is not None:
            self.labels = [checkpoint_label(c, i) for i, c in enumerate(self.report.checkpoints)]
            self.set_metric(self.metric_name)

    # --- drawing --------------------------------------------------------------------------

    def set_report(self, report: RunReport, metric: str) -> None:
        """Draw ``report``'s ``metric`` and show every layer."""
        self.report = report
        self._grids = {}
        self.keys = [layer.key for layer in report.layers]
        self.labels = [checkpoint_label(c, i) for i, c in enumerate(report.checkpoints)]
        metrics = QFontMetricsF(self.tick_font)
        widest = max((metrics.horizontalAdvance(printable(k)) for k in self.keys), default=40.0)
        self.label_width = min(self.LABEL_WIDTH, widest)  # as wide as the names need, up to a limit
        self.plot.getAxis("left").setWidth(int(self.label_width) + 14)
        self.selected_rows, self.selected_cell, self.selected_column = [], None, None
        n_layers, n_ckpts = len(self.keys), len(self.labels)
        self.vb.setLimits(xMin=0, xMax=max(n_ckpts, 1), yMin=0, yMax=max(n_layers, 1),
                          minXRange=min(1, n_ckpts) or 1, minYRange=min(3, n_layers) or 1)  # fmt: skip
        self.set_metric(metric)
        self.vb.setRange(QRectF(0, 0, max(n_ckpts, 1), max(n_layers, 1)), padding=0)

    def set_metric(self, metric: str) -> None:
        """Colour the cells by ``metric`` (one of :data:`METRICS`)."""
        self.metric_name = metric
        if self.report is None:
            return
        if metric not in self._grids:  # a long run's grid takes a moment: computed once per series
            self._grids[metric] = cell_grid(self.report, metric)
        self.logs, self.kinds = self._grids[metric]
        finite = self.logs[np.isfinite(self.logs)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 0.0)
        if hi - lo < 1e-9:
            lo, hi = lo - 0.5, hi + 0.5
        shown = np.where(np.isfinite(self.logs), self.logs, lo).astype(np.float32)
        overlay = np.zeros((*self.kinds.shape, 4), dtype=np.uint8)
        for kind, color in KIND_COLORS.items():
            overlay[self.kinds == kind] = color
        if shown.size:
            self.image.setImage(shown, levels=(lo, hi))
            self.overlay.setImage(overlay, levels=None)
        else:
            self.image.clear()
            self.overlay.clear()
        self.colorbar.setLevels((lo, hi))
        decades = range(math.ceil(lo), math.floor(hi) + 1)
        step = max(1, math.ceil(len(decades) / 8))
        ticks = [(float(d), f"1e{d}") for d in decades[::step]] or [(v, f"{10.0**v:.2g}") for v in (lo, hi)]
        self.colorbar.axis.setTicks([ticks])
        self.colorbar.axis.setLabel(metric_title(metric))
        self._draw_selection()

    def fit_labels(self, *_args: object) -> None:
        """Name as many layers (left) and checkpoints (bottom) as fit without overlapping."""
        metrics = QFontMetricsF(self.tick_font)
        left, bottom = self.plot.getAxis("left"), self.plot.getAxis("bottom")
        if not self.keys:
            left.setTicks([[]])
            bottom.setTicks([[]])
            return
        (x0, x1), (y0, y1) = self.vb.viewRange()
        px_x = self.vb.width() / max(x1 - x0, 1e-9)
        px_y = self.vb.height() / max(y1 - y0, 1e-9)
        row_step = thin([metrics.height()], px_y, self.GAP)
        first, last = max(0, int(y0)), min(len(self.keys), math.ceil(y1) + 1)
        first -= first % row_step  # the same rows stay labelled while scrolling
        if row_step > 1:  # rows thinner than a name: half a step down, so the first name is not cut by the top
            first += row_step // 2
        elide = Qt.TextElideMode.ElideMiddle
        names = [(i + 0.5, metrics.elidedText(printable(self.keys[i]), elide, self.label_width))
                 for i in range(first, last, row_step)]  # fmt: skip
        left.setTicks([names])
        col_step = thin([metrics.horizontalAdvance(t) for t in self.labels], px_x, 12.0)
        bottom.setTicks([[(t + 0.5, self.labels[t]) for t in range(0, len(self.labels), col_step)]])

    # --- selection -----------------------------------------------------------------------

    def select(self, rows: Sequence[int], cell: tuple[int, int] | None = None) -> None:
        """Outline the selected layers' rows and the selected cell."""
        self.selected_rows = list(rows)
        self.selected_cell = cell
        self._draw_selection()

    def select_column(self, col: int | None) -> None:
        """Outline checkpoint ``col``'s column (dashed), or none."""
        self.selected_column = col
        self._draw_selection()

    def _draw_selection(self) -> None:
        for drawn in self.highlights:
            self.vb.removeItem(drawn)
        self.highlights = []
        n_ckpts, n_layers = len(self.labels), len(self.keys)
        shapes = [(QRectF(0, r, n_ckpts, 1), 1.5, Qt.PenStyle.SolidLine) for r in self.selected_rows[:200]]
        if self.selected_column is not None:
            shapes.append((QRectF(self.selected_column, 0, 1, n_layers), 1.5, Qt.PenStyle.DashLine))
        if self.selected_cell is not None:
            r, t = self.selected_cell
            shapes.append((QRectF(t, r, 1, 1), 3.0, Qt.PenStyle.SolidLine))
        for rect, width, style in shapes:
            item = QGraphicsRectItem(rect)
            pen = QPen(QColor(SELECTED_PEN))
            pen.setWidthF(width)
            pen.setStyle(style)
            pen.setCosmetic(True)  # pixels, whatever the zoom
            item.setPen(pen)
            item.setZValue(10)
            self.vb.addItem(item)
            self.highlights.append(item)

    def reveal(self, row: int, col: int | None = None) -> None:
        """Scroll (and zoom in, if names do not fit) so that ``row`` is shown with its name."""
        if not self.keys:
            return
        _x_range, (y0, y1) = self.vb.viewRange()
        rows_fit = max(3, int(self.vb.height() / (QFontMetricsF(self.tick_font).height() + self.GAP)))
        span = y1 - y0
        if span > rows_fit:  # names are thinned out: zoom in until every row has its name
            span = float(min(rows_fit, len(self.keys)))
        if row < y0 or row + 1 > y0 + span or span != y1 - y0:
            top = min(max(0.0, row + 0.5 - span / 2), max(0.0, len(self.keys) - span))
            self.vb.setYRange(top, top + span, padding=0)

    # --- the mouse -----------------------------------------------------------------------

    def cell_at(self, scene_pos: QPointF) -> tuple[int, int] | None:
        """(layer, checkpoint) under a scene position, or None outside the cells."""
        if not self.vb.sceneBoundingRect().contains(scene_pos):
            return None
        p = self.vb.mapSceneToView(scene_pos)
        r, t = math.floor(p.y()), math.floor(p.x())
        return (r, t) if 0 <= r < len(self.keys) and 0 <= t < len(self.labels) else None

    def scene_pos_of(self, row: int, col: int) -> QPointF:
        """The scene position of the centre of a cell (what a click there reports)."""
        return self.vb.mapViewToScene(QPointF(col + 0.5, row + 0.5))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        cell = self.cell_at(event.scenePos())
        if cell is not None:
            self.cell_clicked.emit(cell[0], cell[1], event.modifiers())
            return
        row = self.name_at(event.scenePos())
        if row is not None:
            self.name_clicked.emit(row, event.modifiers())

    def name_at(self, scene_pos: QPointF) -> int | None:
        """The layer whose row a scene position on the left axis (the names) is level with."""
        if not self.plot.getAxis("left").sceneBoundingRect().contains(scene_pos):
            return None
        r = math.floor(self.vb.mapSceneToView(scene_pos).y())
        return r if 0 <= r < len(self.keys) else None

    def describe(self, row: int, col: int) -> str:
        """One cell as text: layer, checkpoint and the value shown (for the hover tooltip)."""
        assert self.report is not None
        layer = self.report.layers[row]
        ckpt = self.report.checkpoints[col]
        values = series(layer, self.metric_name)
        v = values[col] if col < len(values) else None
        kind = int(self.kinds[row, col])
        if v is not None and math.isfinite(v):
            text = "0" if v == 0 else number(v, 4)  # core's figure, even where the layer also holds NaN
        else:
            text = "NaN / Inf" if kind == NONFINITE else translate("RunView", "no value")
        bad = layer.nonfinite[col] if col < len(layer.nonfinite) else 0
        said = translate("RunView", "{series}: {value}").format(series=metric_title(self.metric_name), value=text)
        lines = [printable(layer.key), f"{printable(ckpt.name)} ({self.labels[col]})", said]
        if bad and self.metric_name != "nonfinite":
            lines.append(translate("RunView", "%Ln NaN / Inf element(s)", None, bad))
        if col > 0:
            lines.append(translate("RunView", "Click: compare with the checkpoint before"))
        return "\n".join(lines)

    def _hovered(self, scene_pos: QPointF) -> None:
        cell = self.cell_at(scene_pos)
        if cell is None:
            QToolTip.hideText()
            return
        QToolTip.showText(QCursor.pos(), tooltip(self.describe(*cell)), self.plot)
