"""The inspector on the right: a tensor's statistics and plots, or a module's summary.

Widgets here only draw what core computed (``TensorReport``, ``TreeNode``); they emit
requests (another page of values) for the main window to run in a worker.
"""

from __future__ import annotations

import cmath
from typing import TYPE_CHECKING

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.checkpoint import TensorEntry
from ..core.tree import TreeNode
from ..formatting import human_bytes, human_count, number, shape_str
from .core_errors import error_text
from .i18n import format_count, translate
from .text import ElidedLabel, elide, esc, plain_label, printable
from .theme import configure_plots
from .tree_model import role_name

if TYPE_CHECKING:  # the computing core (torch) loads in the background: the panels only draw its results
    from ..core.inspect import TensorReport
    from ..core.stats import TensorStats

configure_plots()  # pyqtgraph's options, before the first plot of this process is built

HIST_BRUSH = QColor(66, 133, 244, 150)
HIST_PEN = QColor(25, 103, 210)
NAN_COLOR = (255, 0, 200, 255)  # magenta: impossible to miss on a blue-white-red map


STAT_NAMES = ("elements", "min", "max", "mean", "std", "L2 norm", "NaN", "Inf", "zeros")


def _page() -> int:
    """Values per page (core.inspect's: imported by then, values exist only once it computed)."""
    from ..core.inspect import PAGE

    return PAGE


def stats_rows(s: TensorStats, magnitudes: bool = False) -> list[tuple[str, str]]:
    """Label/value rows of the statistics table; ``magnitudes``: a complex tensor's, which
    are statistics of |z| and say so."""
    finite = s.n_finite
    zero_pct = f" ({s.n_zero / finite:.1%})" if finite else ""
    z = " |z|" if magnitudes else ""
    return [
        (translate("StatsTable", "elements"), human_count(s.numel)),
        (translate("StatsTable", "min") + z, number(s.min, 6)),
        (translate("StatsTable", "max") + z, number(s.max, 6)),
        (translate("StatsTable", "mean") + z, number(s.mean, 6)),
        (translate("StatsTable", "std") + z, number(s.std, 6)),
        (translate("StatsTable", "L2 norm"), number(s.l2, 6)),
        ("NaN", human_count(s.n_nan)),
        ("Inf", human_count(s.n_inf)),
        (translate("StatsTable", "zeros"), human_count(s.n_zero) + zero_pct),
    ]


class _Retranslated:
    """A widget whose texts are set by ``retranslate()``: at construction and on LanguageChange."""

    def retranslate(self) -> None:
        raise NotImplementedError

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)  # type: ignore[misc]


def _title(text: str) -> ElidedLabel:
    # keys and module names: file text, never markup; a long key is cut in the middle
    # (whole in the tooltip) and cannot widen the window
    label = ElidedLabel(text)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.25)
    font.setWeight(QFont.Weight.DemiBold)
    label.setFont(font)
    return label


class IntegerAxis(pg.AxisItem):
    """An axis of whole numbers (counts, element indices): never a tick at 0.5 of a count or a row."""

    def tickSpacing(self, minVal, maxVal, size):
        whole = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size) if spacing >= 1]
        return whole or [(1.0, 0.0)]


def _plot(**integer_axes: str) -> pg.PlotWidget:
    """A plot that Tab passes over: it has no keyboard controls, and a focus frame on it would say otherwise.

    ``integer_axes`` names the axes (left=..., bottom=...) that count whole things.
    """
    plot = pg.PlotWidget(axisItems={side: IntegerAxis(side) for side in integer_axes})
    plot.setMenuEnabled(False)
    plot.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
    return plot


def _axis_title(axis: str) -> str:
    """A heatmap axis title: "dim 2" in the current language ("" stays "")."""
    if axis.startswith("dim ") and axis[4:].isdigit():
        return translate("HeatmapView", "dim {d}").format(d=axis[4:])
    known = {  # core.tensor_display.axis_titles, by layer kind
        "token": translate("HeatmapView", "token"),
        "feature": translate("HeatmapView", "feature"),
        "out channel": translate("HeatmapView", "out channel"),
        "out feature": translate("HeatmapView", "out feature"),
        "in feature": translate("HeatmapView", "in feature"),
        "other dims (flattened)": translate("HeatmapView", "other dims (flattened)"),
    }
    if axis.startswith("in · "):  # in · kh·kw: the kernel's dims are symbols
        return translate("HeatmapView", "in · {kernel}").format(kernel=axis[len("in · ") :])
    return known.get(axis, axis)


def _section(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet("color: #8a8a8a; font-weight: 600;")
    return label


class StatsTable(_Retranslated, QTableWidget):
    """Two columns: statistic and value."""

    def __init__(self, parent=None) -> None:
        super().__init__(0, 2, parent)
        self.retranslate()
        self.verticalHeader().hide()
        self.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 5)
        self.setTabKeyNavigation(False)  # Tab leaves the table for the next control (arrows move in it)
        # every statistic visible at once (NaN and Inf are near the bottom): the table asks for
        # the height of all its rows and the splitter gives the plots what remains
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._fit(len(STAT_NAMES))

    def retranslate(self) -> None:
        self.setHorizontalHeaderLabels([translate("StatsTable", "Statistic"), translate("StatsTable", "Value")])

    def _fit(self, rows: int) -> None:
        frame = 2 * self.frameWidth()
        self.setMinimumHeight(
            self.horizontalHeader().sizeHint().height() + rows * self.verticalHeader().defaultSectionSize() + frame
        )

    def set_rows(self, rows: list[tuple[str, str]]) -> None:
        self.setRowCount(len(rows))
        for i, (name, value) in enumerate(rows):
            self.setItem(i, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if name in ("NaN", "Inf") and value != "0":
                item.setForeground(QColor("#d32f2f"))
            self.setItem(i, 1, item)

    def rows(self) -> list[tuple[str, str]]:
        return [(self.item(i, 0).text(), self.item(i, 1).text()) for i in range(self.rowCount())]


class HistogramView(_Retranslated, QWidget):
    """Histogram of finite values, a log-y toggle and the NaN/Inf counts beside it."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = _plot(left="count")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.curve = pg.PlotDataItem(stepMode="center", fillLevel=0, brush=HIST_BRUSH, pen=pg.mkPen(HIST_PEN, width=1))
        self.plot.addItem(self.curve)
        self.log_y = QCheckBox()
        self.log_y.toggled.connect(self._redraw)
        self.nonfinite = QLabel()
        self.section = _section("")
        bar = QHBoxLayout()
        bar.addWidget(self.section)
        bar.addStretch(1)
        bar.addWidget(self.nonfinite)
        bar.addWidget(self.log_y)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.plot)
        self._edges = np.zeros(0)
        self._counts = np.zeros(0)
        self.retranslate()

    def retranslate(self) -> None:
        self.section.setText(translate("HistogramView", "Histogram"))
        self.log_y.setText(translate("HistogramView", "Log Y"))
        self.plot.setLabel("bottom", translate("HistogramView", "value"))
        self._set_left_label()

    def _set_left_label(self) -> None:
        log = self.log_y.isChecked()
        self.plot.setLabel(
            "left", translate("HistogramView", "count (log)") if log else translate("HistogramView", "count")
        )

    def set_histogram(self, edges: list[float], counts: list[int], n_nan: int, n_inf: int) -> None:
        self._edges, self._counts = np.asarray(edges, float), np.asarray(counts, float)
        style = "color: #d32f2f; font-weight: 600;" if (n_nan or n_inf) else "color: #8a8a8a;"
        self.nonfinite.setStyleSheet(style)
        self.nonfinite.setText(f"NaN {format_count(n_nan)} · Inf {format_count(n_inf)}")
        self._redraw()

    def clear(self) -> None:
        self.set_histogram([], [], 0, 0)
        self.nonfinite.setText("")

    def _redraw(self) -> None:
        if len(self._counts) == 0:
            self.curve.setData([], [])
            return
        log = self.log_y.isChecked()
        # zero counts sit on the axis in log mode (log10(1) = 0) instead of at -infinity
        y = np.log10(np.maximum(self._counts, 1)) if log else self._counts
        self.plot.getAxis("left").setLogMode(log)
        self._set_left_label()
        self.curve.setData(self._edges, y)
        self.plot.enableAutoRange()

    def drawn(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, y) of the drawn curve, for tests."""
        x, y = self.curve.getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (x, y)


class HeatmapView(_Retranslated, QWidget):
    """A 2-D view (diverging colours centred on zero, NaN/Inf in magenta), or a line for 1-D tensors.

    A tensor with more than two dims is shown as out × everything else by default; the
    rows/columns choosers pick any two dims (the others at a chosen index) and ask the
    window, by :attr:`slice_requested`, for that slice.
    """

    slice_requested = Signal(object)  # (rows_dim, cols_dim, {dim: index}); None: the default view

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.plot = _plot(left="row", bottom="column")
        item = self.plot.getPlotItem()
        item.invertY(True)  # row 0 (first output channel) on top, like a matrix
        self.image = pg.ImageItem(axisOrder="row-major")
        self.nan_overlay = pg.ImageItem(axisOrder="row-major")
        item.addItem(self.image)
        item.addItem(self.nan_overlay)
        self.cmap = pg.colormap.get("CET-D1")
        self.colorbar = pg.ColorBarItem(values=(-1, 1), colorMap=self.cmap, interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=item)
        self.line_plot = _plot(bottom="index")
        self.line_plot.showGrid(x=True, y=True, alpha=0.2)
        self.line = pg.PlotDataItem(pen=pg.mkPen(HIST_PEN, width=1.5), connect="finite")
        self.line_bad = pg.ScatterPlotItem(symbol="x", size=9, pen=pg.mkPen(NAN_COLOR[:3], width=2), brush=None)
        self.line_plot.addItem(self.line)
        self.line_plot.addItem(self.line_bad)
        self.note = ElidedLabel()
        self.note.setStyleSheet("color: #8a8a8a;")
        self.note.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.placeholder = QLabel()
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #8a8a8a;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.placeholder)
        self.stack.addWidget(self.plot)
        self.stack.addWidget(self.line_plot)
        self.title = _section("")
        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addWidget(self.note, 1)
        self.rows_combo = QComboBox()
        self.cols_combo = QComboBox()
        for combo in (self.rows_combo, self.cols_combo):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(9)
            combo.activated.connect(self._on_dims)
        self.fixed_box = QHBoxLayout()
        self.fixed_box.setContentsMargins(0, 0, 0, 0)
        self.fixed: dict[int, QSpinBox] = {}
        self.dims_bar = QWidget()
        db = QHBoxLayout()
        db.setContentsMargins(0, 0, 0, 0)
        self.rows_label = QLabel()
        self.cols_label = QLabel()
        db.addWidget(self.rows_label)
        db.addWidget(self.rows_combo)
        db.addWidget(self.cols_label)
        db.addWidget(self.cols_combo)
        db.addStretch(1)
        self.fixed_box.addStretch(1)
        two_rows = QVBoxLayout(self.dims_bar)  # the other dims' indices on a line of their own: room on a small screen
        two_rows.setContentsMargins(0, 0, 0, 0)
        two_rows.setSpacing(2)
        two_rows.addLayout(db)
        two_rows.addLayout(self.fixed_box)
        # the choosers never widen the window: on a narrow pane they are cut, not the tree
        self.dims_bar.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.dims_bar.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.dims_bar)
        layout.addWidget(self.stack)
        self._shape: tuple[int, ...] = ()
        self._default: tuple[object, tuple[str, str]] | None = None
        self._drawn: tuple = ()  # what set_heatmap / set_line drew last: redrawn in another language
        self.retranslate()

    def retranslate(self) -> None:
        self.placeholder.setText(
            translate("HeatmapView", "Heatmaps are drawn for 2-D and larger weights; 1-D tensors as a line.")
        )
        self.rows_combo.setToolTip(translate("HeatmapView", "Dim shown down the heatmap"))
        self.cols_combo.setToolTip(translate("HeatmapView", "Dim shown across"))
        self.rows_label.setText(translate("HeatmapView", "rows"))
        self.cols_label.setText(translate("HeatmapView", "cols"))
        self.line_plot.setLabel("bottom", translate("HeatmapView", "index"))
        self.line_plot.setLabel("left", translate("HeatmapView", "value"))
        if self._shape and self.dims_bar.isVisibleTo(self):
            rows, cols = self.rows_combo.currentIndex(), self.cols_combo.currentIndex()
            self._fill_choosers()
            self.rows_combo.setCurrentIndex(rows)
            self.cols_combo.setCurrentIndex(cols)
            for d, box in self.fixed.items():
                self._label_fixed(d, box)
        if self._drawn:
            kind, args = self._drawn[0], self._drawn[1:]
            (self.set_line if kind == "line" else self.set_heatmap)(*args)
        else:
            self.title.setText(translate("HeatmapView", "Heatmap"))
            item = self.plot.getPlotItem()
            item.setLabel("left", translate("HeatmapView", "output channel"))
            item.setLabel("bottom", translate("HeatmapView", "input × kernel"))

    # --- the tensor -------------------------------------------------------------------------

    def set_tensor(self, shape: tuple[int, ...]) -> None:
        """A new tensor: dim choosers for more than two dims (the default view selected)."""
        self._shape = tuple(shape)
        self._default = None
        many = len(shape) > 2
        self.dims_bar.setVisible(many)
        if not many:
            return
        self._fill_choosers()
        self.rows_combo.setCurrentIndex(0)
        self.cols_combo.setCurrentIndex(0)
        self._fill_fixed()

    def _fill_choosers(self) -> None:
        for combo in (self.rows_combo, self.cols_combo):
            combo.blockSignals(True)
            combo.clear()
        self.cols_combo.addItem(translate("HeatmapView", "the rest, flattened"), -1)
        for d, size in enumerate(self._shape):
            text = translate("HeatmapView", "dim {d} ({size})").format(d=d, size=format_count(size))
            self.rows_combo.addItem(text, d)
            self.cols_combo.addItem(text, d)
        for combo in (self.rows_combo, self.cols_combo):
            combo.blockSignals(False)

    def _label_fixed(self, d: int, box: QSpinBox) -> None:
        box.setPrefix(translate("HeatmapView", "dim {d} = ").format(d=d))
        box.setToolTip(
            translate("HeatmapView", "Index along dim {d} (0 to {last})").format(d=d, last=format_count(box.maximum()))
        )

    def _fill_fixed(self) -> None:
        """One index box for each dim that is neither rows nor columns (none while flattened)."""
        while self.fixed_box.count() > 1:  # the trailing stretch stays
            taken = self.fixed_box.takeAt(0)
            w = taken.widget() if taken is not None else None
            if w is not None:
                w.deleteLater()
        self.fixed = {}
        rows, cols = self.rows_combo.currentData(), self.cols_combo.currentData()
        self.rows_combo.setEnabled(cols != -1)  # flattened: rows are dim 0, as the default view
        if cols == -1:
            return
        for d, size in enumerate(self._shape):
            if d in (rows, cols):
                continue
            box = QSpinBox()
            box.setRange(0, max(size - 1, 0))
            self._label_fixed(d, box)
            box.setKeyboardTracking(False)
            box.valueChanged.connect(lambda _v: self._on_dims())
            self.fixed[d] = box
            self.fixed_box.insertWidget(self.fixed_box.count() - 1, box)

    def _on_dims(self, *_args) -> None:
        rows, cols = self.rows_combo.currentData(), self.cols_combo.currentData()
        if cols == rows:  # the same dim twice: columns move to the next dim
            cols = (rows + 1) % len(self._shape)
            self.cols_combo.blockSignals(True)
            self.cols_combo.setCurrentIndex(self.cols_combo.findData(cols))
            self.cols_combo.blockSignals(False)
        if set(self.fixed) != {d for d in range(len(self._shape)) if d not in (rows, cols)} or cols == -1:
            self._fill_fixed()
        if cols == -1:
            if self._default is not None:
                self.set_heatmap(*self._default)  # type: ignore[arg-type]
            self.slice_requested.emit(None)
            return
        self.slice_requested.emit(self.chosen())

    def chosen(self) -> tuple[int, int, dict[int, int]] | None:
        """(rows_dim, cols_dim, {other dim: index}) as chosen; None for the default view."""
        rows, cols = self.rows_combo.currentData(), self.cols_combo.currentData()
        if not self.dims_bar.isVisible() or cols is None or cols == -1:
            return None
        return rows, cols, {d: box.value() for d, box in self.fixed.items()}

    # --- drawing ----------------------------------------------------------------------------

    def show_default(self, hm, axes: tuple[str, str] = ("", "")) -> None:
        """The report's heatmap (out × rest), remembered for when the choosers go back to it."""
        self._default = (hm, axes)
        self.set_heatmap(hm, axes)

    def show_slice(self, hm, spec: tuple[int, int, dict[int, int]]) -> None:
        """A chosen slice, titled by its dims (dropped if the choice changed meanwhile)."""
        if spec != self.chosen():
            return
        rows, cols, fixed = spec
        self.set_heatmap(hm, (f"dim {rows}", f"dim {cols}"), fixed)

    def set_heatmap(self, hm, axes: tuple[str, str] = ("", ""), fixed: dict[int, int] | None = None) -> None:
        """Draw ``hm`` (None: the placeholder) with row and column titles ``axes``; ``fixed``:
        the index of each dim a slice holds still."""
        self._drawn = ("heatmap", hm, axes, fixed)
        self.title.setText(translate("HeatmapView", "Heatmap"))
        if hm is None:
            self.stack.setCurrentWidget(self.placeholder)
            self.note.setText("")
            self.image.clear()
            self.nan_overlay.clear()
            return
        item = self.plot.getPlotItem()
        item.setLabel("left", _axis_title(axes[0]) or translate("HeatmapView", "row"))
        item.setLabel("bottom", _axis_title(axes[1]) or translate("HeatmapView", "column"))
        img = hm.image
        bad = ~np.isfinite(img)
        finite = img[~bad]
        m = float(np.abs(finite).max()) if finite.size else 1.0
        m = m if m > 0 else 1.0
        self.image.setImage(np.where(bad, 0.0, img), levels=(-m, m))
        self.colorbar.setLevels((-m, m))
        overlay = np.zeros((*img.shape, 4), dtype=np.ubyte)
        overlay[bad] = NAN_COLOR
        self.nan_overlay.setImage(overlay, levels=None)
        # keep original coordinates: one image pixel covers row_step x col_step elements
        for image in (self.image, self.nan_overlay):
            image.setRect(0, 0, hm.cols, hm.rows)
        item.autoRange()
        note = f"{format_count(hm.rows)} × {format_count(hm.cols)}"
        if fixed:
            where = ", ".join(f"dim {d} = {i}" for d, i in sorted(fixed.items()))
            note = translate("HeatmapView", "{size} at {where}").format(size=note, where=where)
        if hm.downsampled:
            note = translate("HeatmapView", "{note}, shown as {rows} × {cols} block means").format(
                note=note, rows=img.shape[0], cols=img.shape[1]
            )
        if bad.any():
            n_bad = int(bad.sum())
            note = translate("HeatmapView", "{note}; %Ln block(s) with NaN/Inf in magenta", None, n_bad).format(
                note=note
            )
        self.note.setText(note)
        self.stack.setCurrentWidget(self.plot)

    def set_line(self, line) -> None:
        """A 1-D tensor's values as a line; NaN/Inf points marked in magenta on the axis."""
        self._drawn = ("line", line)
        self.title.setText(translate("HeatmapView", "Line"))
        bad = ~np.isfinite(line.y)
        self.line.setData(line.x, line.y)
        self.line_bad.setData(line.x[bad], np.zeros(int(bad.sum())))
        self.line_plot.getPlotItem().autoRange()
        n = line.n  # lupdate reads a count only as a plain name
        note = translate("HeatmapView", "%Ln value(s)", None, n)
        if line.step > 1:
            note = translate("HeatmapView", "{note}, shown as {n} block means").format(
                note=note, n=format_count(len(line.x))
            )
        if bad.any():
            note = translate("HeatmapView", "{note}; {n} with NaN/Inf (×)").format(note=note, n=int(bad.sum()))
        self.note.setText(note)
        self.stack.setCurrentWidget(self.line_plot)


class ValuesView(_Retranslated, QWidget):
    """A page of raw values with index navigation; asks for other pages by signal."""

    page_requested = Signal(object)  # flat start index (a Python int: it may pass 2**31)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.table = QTableWidget(0, 2)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setTabKeyNavigation(False)  # Tab reaches the paging controls instead of the next cell
        # a double spin box: a QSpinBox holds 32-bit ints and tensors pass 2**31 elements
        self.start = QDoubleSpinBox()
        self.start.setDecimals(0)
        self.start.setKeyboardTracking(False)
        self.start.valueChanged.connect(lambda v: self.page_requested.emit(int(v)))
        self.prev = QPushButton("◀")
        self.next = QPushButton("▶")
        self.first_bad = QPushButton()
        self.first_bad.clicked.connect(self._to_first_bad)
        self.first_bad.hide()
        self._first_bad: int | None = None
        for b in (self.prev, self.next):
            b.setFixedWidth(32)
        self.prev.clicked.connect(lambda: self.start.setValue(max(0, self.start.value() - _page())))
        self.next.clicked.connect(lambda: self.start.setValue(self.start.value() + _page()))
        bar = QHBoxLayout()
        self.section = _section("")
        bar.addWidget(self.section)
        bar.addStretch(1)
        bar.addWidget(self.first_bad)
        bar.addWidget(self.prev)
        bar.addWidget(self.start)
        bar.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.table)
        self.retranslate()

    def retranslate(self) -> None:
        self.table.setHorizontalHeaderLabels([translate("ValuesView", "Index"), translate("ValuesView", "Value")])
        self.start.setPrefix(translate("ValuesView", "from "))
        self.first_bad.setText(translate("ValuesView", "First NaN/Inf"))
        self.first_bad.setToolTip(translate("ValuesView", "Page to the first NaN or Inf of this tensor"))
        self.section.setText(translate("ValuesView", "Values"))

    def set_first_bad(self, index: int | None) -> None:
        """Offer "First NaN/Inf" when the tensor has one (at flat ``index``)."""
        self._first_bad = index
        self.first_bad.setVisible(index is not None)

    def _to_first_bad(self) -> None:
        if self._first_bad is not None:
            self.start.setValue(float(self._first_bad))  # requests the page that starts there
            self.table.setFocus()
            self.table.setCurrentCell(0, 1)

    def reset(self, numel: int) -> None:
        self.start.blockSignals(True)
        self.start.setRange(0, float(max(0, min(numel - 1, 1 << 53))))
        self.start.setValue(0)
        self.start.blockSignals(False)

    def set_values(self, indices: list[tuple[int, ...]], values: list[object]) -> None:
        self.table.setRowCount(len(values))
        for r, (idx, v) in enumerate(zip(indices, values)):
            self.table.setItem(r, 0, QTableWidgetItem(", ".join(map(str, idx)) or "()"))
            text = number(v, 8) if isinstance(v, (float, complex)) else str(v)
            item = QTableWidgetItem(text)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if isinstance(v, (float, complex)) and not cmath.isfinite(v):
                item.setForeground(QColor("#d32f2f"))
            self.table.setItem(r, 1, item)


class TensorPanel(_Retranslated, QWidget):
    """Statistics, histogram, heatmap and values of the selected tensor."""

    force_requested = Signal()  # "Compute anyway" after a work-limit refusal

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.notice = plain_label()
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #b45309;")
        self.force_button = QPushButton()
        self.force_button.clicked.connect(self.force_requested.emit)
        notice_row = QHBoxLayout()
        notice_row.addWidget(self.notice, 1)
        notice_row.addWidget(self.force_button)
        self.title = _title("")
        self.subtitle = ElidedLabel()
        self._subtitle = ""
        self.subtitle.setStyleSheet("color: #8a8a8a;")
        self.stats = StatsTable()
        self.histogram = HistogramView()
        self.heatmap = HeatmapView()
        self.values = ValuesView()
        stats_box = QWidget()
        sl = QVBoxLayout(stats_box)
        sl.setContentsMargins(0, 0, 0, 0)
        self.stats_section = _section("")
        sl.addWidget(self.stats_section)
        sl.addWidget(self.stats)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(stats_box)
        top.addWidget(self.histogram)
        top.setSizes([260, 560])
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.heatmap)
        bottom.addWidget(self.values)
        bottom.setSizes([560, 260])
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.addWidget(top)
        self.splitter.addWidget(bottom)
        self.splitter.setSizes([330, 380])
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addLayout(notice_row)
        layout.addWidget(self.splitter, 1)
        self.entry: TensorEntry | None = None
        self._report: TensorReport | None = None
        self._set_notice("")
        self.retranslate()

    def retranslate(self) -> None:
        self.force_button.setText(translate("TensorPanel", "Compute anyway"))
        self.force_button.setToolTip(
            translate("TensorPanel", "Compute past the work limit (it may take long and use much memory)")
        )
        self.stats_section.setText(translate("TensorPanel", "Statistics"))
        if self.entry is not None:
            computing = self.subtitle.text() != self._subtitle
            self._subtitle = self._describe(self.entry)
            if not computing:
                self.subtitle.setText(self._subtitle)
        if self._report is not None:
            self.stats.set_rows(stats_rows(self._report.stats, magnitudes=self._report.entry.dtype.is_complex))

    def _describe(self, entry: TensorEntry) -> str:
        dtype = (
            translate("TensorPanel", "{dtype} (stored as {encoding})").format(
                dtype=entry.dtype_name, encoding=entry.encoding
            )
            if entry.encoding
            else entry.dtype_name
        )
        parts = [shape_str(entry.shape), dtype, human_bytes(entry.nbytes), role_name(entry.role)]
        if entry.location:
            parts.append(translate("TensorPanel", "saved on {location}").format(location=elide(entry.location, 40)))
        if entry.shared_with:
            parts.append(translate("TensorPanel", "shares storage with {key}").format(key=elide(entry.shared_with)))
        return " · ".join(parts)

    def show_pending(self, entry: TensorEntry, where: str) -> None:
        """Header at once; numbers and plots follow when the worker is done."""
        self.entry = entry
        self._report = None
        self.title.setText(printable(entry.key))
        self._subtitle = self._describe(entry)
        self.subtitle.setText(
            translate("TensorPanel", "{tensor} — computing on {device}…").format(tensor=self._subtitle, device=where)
        )
        self.stats.set_rows([])
        self.histogram.clear()
        self.heatmap.set_heatmap(None)
        self.heatmap.set_tensor(entry.shape)
        self.values.set_first_bad(None)
        self.values.reset(entry.numel)
        self.values.set_values([], [])
        self._set_notice("")

    def show_refused(self, message: str) -> None:
        """A work limit refused this tensor: say why, and offer to compute anyway."""
        self.subtitle.setText(self._subtitle)
        self._set_notice(error_text(message.split(": ", 1)[-1]), offer_force=True)  # core's words, translated

    def _set_notice(self, text: str, offer_force: bool = False) -> None:
        self.notice.setText(elide(text, 400))
        self.notice.setVisible(bool(text))
        self.force_button.setVisible(offer_force)

    def show_report(self, report: TensorReport) -> None:
        self._report = report
        self.subtitle.setText(self._subtitle)
        self._set_notice(" ".join(n.split(": ", 1)[-1] for n in report.notes))
        self.stats.set_rows(stats_rows(report.stats, magnitudes=report.entry.dtype.is_complex))
        h = report.histogram
        self.histogram.set_histogram(h.edges, h.counts, h.n_nan, h.n_inf)
        if report.line is not None:
            self.heatmap.set_line(report.line)
        else:
            self.heatmap.show_default(report.heatmap, report.axes)
        self.values.set_values(report.indices, report.values)
        self.values.set_first_bad(report.first_bad)


class ModulePanel(_Retranslated, QWidget):
    """A module's totals and a bar chart of its children's parameter counts."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.title = _title("")
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # our markup; file parts go through esc()
        self.plot = _plot()
        self.plot.getPlotItem().invertY(True)
        self.plot.showGrid(x=True, alpha=0.2)
        self.bars: pg.BarGraphItem | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        self.section = _section("")
        layout.addWidget(self.section)
        layout.addWidget(self.plot, 1)
        self._shown: tuple[TreeNode, str | None] | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.plot.setLabel("bottom", translate("ModulePanel", "parameters (elements outside the model)"))
        self.section.setText(translate("ModulePanel", "Children by size"))
        if self._shown is not None:
            self._describe(*self._shown)

    def _describe(self, node: TreeNode, cls: str | None) -> None:
        title = printable(node.path) or translate("ModulePanel", "Whole checkpoint")
        self.title.setText(f"{title}  ({printable(cls)})" if cls else title)
        dtypes = esc(", ".join(f"{k} {format_count(v)}" for k, v in node.dtypes.most_common()))
        tensors, params, buffers, elements = node.n_tensors, node.n_params, node.n_buffers, node.n_elements
        counts = " · ".join(
            [
                translate("ModulePanel", "%Ln tensor(s)", None, tensors),
                translate("ModulePanel", "%Ln parameter(s)", None, params),
                translate("ModulePanel", "%Ln buffer element(s)", None, buffers),
                translate("ModulePanel", "%Ln element(s)", None, elements),
                human_bytes(node.nbytes),
            ]
        )
        dtypes_line = translate("ModulePanel", "dtypes: {dtypes}").format(dtypes=dtypes)
        self.summary.setText(f"{esc(counts)}<br><span style='color:#8a8a8a'>{dtypes_line}</span>")

    def show_node(self, node: TreeNode, cls: str | None = None) -> None:
        self._shown = (node, cls)
        self._describe(node, cls)
        kids = node.children[:60]
        values = [c.n_params or c.n_elements for c in kids]
        if self.bars is not None:
            self.plot.removeItem(self.bars)
        self.bars = pg.BarGraphItem(
            x0=0, y=list(range(len(kids))), height=0.7, width=values, brush=HIST_BRUSH, pen=pg.mkPen(HIST_PEN)
        )
        self.plot.addItem(self.bars)
        # tick labels are drawn as plain text; long or multi-line names are cut to one line
        self.plot.getAxis("left").setTicks([[(i, elide(c.name, 40)) for i, c in enumerate(kids)]])
        self.plot.getPlotItem().autoRange()

    def bar_values(self) -> list[float]:
        return [] if self.bars is None else list(self.bars.opts["width"])
