"""The layer tree as a Qt item model: a thin adapter over core's TreeNode (no second tree).

Indexes point straight at ``TreeNode`` objects; rows are created by the view only when
shown, so a 20,000-tensor tree costs nothing until expanded. Filtering and sorting are
done by :class:`TreeFilterProxy`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QTreeView

from ..core.keymatch import key_matcher
from ..core.tree import TreeNode
from ..formatting import human_bytes, human_count, shape_str
from .findings_text import finding_message, finding_why, severity_name
from .i18n import on_app_language_change, translate
from .node_model import NodeModel, refilter
from .text import printable, tooltip

if TYPE_CHECKING:  # the scan computes (torch): it is imported once findings exist
    from ..core.scan import Finding

NAME, SHAPE, DTYPE, PARAMS, SIZE = range(5)
HEADERS = ("Name", "Shape", "Dtype", "Parameters", "Size")  # English; header_title() as shown


def header_title(col: int) -> str:
    """The layer tree's column ``col`` title in the current language."""
    titles = (
        translate("TreeModel", "Name"),
        translate("TreeModel", "Shape"),
        translate("TreeModel", "Dtype"),
        translate("TreeModel", "Parameters"),
        translate("TreeModel", "Size"),
    )
    return titles[col]


SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NODE_ROLE = Qt.ItemDataRole.UserRole + 2

SEVERITY_COLORS = {"error": QColor("#d32f2f"), "warning": QColor("#ef6c00"), "info": QColor("#1976d2")}

DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ROLES = frozenset({DISPLAY, DECORATION, FOREGROUND, ALIGN, TOOLTIP, int(SORT_ROLE), int(NODE_ROLE)})
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_ERROR_BRUSH = QBrush(SEVERITY_COLORS["error"])
_QUIET_BRUSH = QBrush(QColor("#757575"))  # module aggregates: quieter than tensor values


COLUMN_WIDTHS = {SHAPE: 84, DTYPE: 76, PARAMS: 84, SIZE: 74}  # at ease; narrower when the tree is
TYPICAL = {SIZE: "999.9 KiB", DTYPE: "float32 +2"}  # what these columns must show uncut however narrow
NAME_SHARE = 0.45  # the least share of the width the names keep, however narrow the tree


class LayerTreeView(QTreeView):
    """The layer tree's view: names keep a readable share of the width on a small screen.

    The number columns give up width (down to a minimum) before the Name column is
    squeezed to a few letters; names are cut in the middle, whole in the tooltip.
    """

    painted = Signal()  # after each paint of the rows (the window's first paint starts the heavy imports)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setIndentation(14)  # deep Lightning paths: each level costs less width
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.painted.emit()

    def fit_columns(self) -> None:
        """The number columns at their usual widths, or scaled down so Name keeps NAME_SHARE."""
        width = self.viewport().width()
        wanted = sum(COLUMN_WIDTHS.values())
        room = width * (1 - NAME_SHARE)
        scale = 1.0 if wanted <= room else max(room / wanted, 0.6)
        header = self.header()
        cells = self.fontMetrics()
        for col, w in COLUMN_WIDTHS.items():
            title = header.fontMetrics().horizontalAdvance(header_title(col)) + 14  # the header stays readable
            # a size or a dtype mix cut to "48...iB" / "fl...+2" says nothing: those keep their usual text whole
            floor = cells.horizontalAdvance(TYPICAL[col]) + 12 if col in TYPICAL else 0
            header.resizeSection(col, min(w, max(int(w * scale), min(title, w), floor)))


def role_name(role: str) -> str:
    """What a tensor is (parameter, buffer, tensor) in the current language."""
    names = {
        "parameter": translate("TreeModel", "parameter"),
        "buffer": translate("TreeModel", "buffer"),
        "tensor": translate("TreeModel", "tensor"),
    }
    return names.get(role, role)


def severity_icon(severity: str, size: int = 12) -> QIcon:
    """A filled dot in the severity's colour."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(SEVERITY_COLORS[severity])
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(1, 1, size - 2, size - 2)
    painter.end()
    return QIcon(pix)


class TreeModel(NodeModel):
    """Columns: name, shape, dtype, parameters (elements outside the model), size."""

    headers = HEADERS
    right_aligned_from = PARAMS

    def __init__(self, root: TreeNode | None = None, parent=None) -> None:
        super().__init__(root or TreeNode("", ""), parent)
        on_app_language_change(self, self._retranslate)
        self._marks: dict[str, str] = {}  # path -> worst severity (tensors and their modules)
        self._findings: dict[str, list[Finding]] = {}
        self._icons: dict[str, QIcon] = {}
        self._texts: dict[TreeNode, tuple[str, ...]] = {}
        self._aliases: dict[str, str] = {}

    def header_text(self, section: int) -> str:
        return header_title(section)

    def _retranslate(self) -> None:
        """Headers (tooltips are made when asked) in the new language."""
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(HEADERS) - 1)

    # --- content ------------------------------------------------------------------------

    def set_aliases(self, aliases: dict[str, str]) -> None:
        """Extra names shown beside nodes (optimizer state.3 -> the parameter it belongs to)."""
        self._aliases = aliases
        self._texts = {}

    def reset_caches(self) -> None:
        self._marks, self._findings, self._texts = {}, {}, {}

    def set_findings(self, findings: list[Finding]) -> None:
        """Mark tensors with findings, and their modules with the worst below them."""
        from ..core.scan import worst_by_path

        marks = worst_by_path(findings)
        by_key: dict[str, list[Finding]] = {}
        for f in findings:
            by_key.setdefault(f.key, []).append(f)
        changed = set(self._marks) | set(marks)
        self._marks, self._findings = marks, by_key
        for path in changed:
            node = self._root.find(path)
            if node is not None and node is not self._root:
                self.dataChanged.emit(self.index_of(node, 0), self.index_of(node, len(HEADERS) - 1))

    def flagged(self, path: str) -> bool:
        """Whether the health scan found something in the tensor at ``path``."""
        return path in self._findings

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = DISPLAY) -> Any:
        # called thousands of times per paint: plain-int roles and cached row texts keep
        # a repaint of the visible rows in the low milliseconds
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        node: TreeNode = index.internalPointer()
        col = index.column()
        if role == DISPLAY:
            texts = self._texts.get(node)
            if texts is None:
                texts = self._texts[node] = tuple(self._display(node, c) for c in range(len(HEADERS)))
            return texts[col]
        if role == ALIGN:
            return _RIGHT if col >= PARAMS else None
        if role == SORT_ROLE:
            return self._sort_key(node, col)
        if role == NODE_ROLE:
            return node
        mark = self._marks.get(node.path) if self._marks else None
        if role == DECORATION:
            if col != NAME or not mark:
                return None
            if mark not in self._icons:
                self._icons[mark] = severity_icon(mark)
            return self._icons[mark]
        if role == FOREGROUND:
            if mark == "error" and node.entry is not None:
                return _ERROR_BRUSH
            return _QUIET_BRUSH if col != NAME and node.entry is None else None
        return self._tooltip(node)  # TOOLTIP

    def _display(self, node: TreeNode, col: int) -> str:
        e = node.entry
        if col == NAME:
            alias = self._aliases.get(node.path)
            name = printable(node.name)  # one line per row, whatever the file named it
            return f"{name}  → {printable(alias)}" if alias else name
        if col == SHAPE:
            return shape_str(e.shape) if e is not None else ""
        if col == DTYPE:
            return node.dtype_text
        if col == PARAMS:  # model parameters only, as `ckpt info` counts: optimizer state is not the model
            return human_count(node.n_params) if node.n_params else ""
        return human_bytes(node.nbytes)

    def _sort_key(self, node: TreeNode, col: int) -> Any:
        if col == NAME:  # natural order: blocks.2 before blocks.10
            return f"{int(node.name):012d}" if node.name.isdigit() else node.name.lower()
        if col == SHAPE:
            return node.entry.numel if node.entry is not None else -1
        if col == DTYPE:
            return node.dtype_text
        if col == PARAMS:
            return node.n_params
        return node.nbytes

    def _tooltip(self, node: TreeNode) -> str:
        lines = [printable(node.path) or translate("TreeModel", "(root)")]
        e = node.entry
        if e is not None:
            lines.append(f"{shape_str(e.shape)} {e.dtype_name}, {role_name(e.role)}, {human_bytes(e.nbytes)}")
            if e.encoding:
                lines.append(
                    translate("TreeModel", "stored as {encoding}; read as {dtype}").format(
                        encoding=printable(e.encoding), dtype=e.dtype_name
                    )
                )
            if e.shared_with:
                lines.append(translate("TreeModel", "shares storage with {key}").format(key=printable(e.shared_with)))
        else:
            n_tensors, n_params = node.n_tensors, node.n_params  # lupdate reads a count only as a plain name
            tensors = translate("TreeModel", "%Ln tensor(s)", None, n_tensors)
            params = translate("TreeModel", "%Ln parameter(s)", None, n_params)
            lines.append(translate("TreeModel", "{tensors}, {parameters}").format(tensors=tensors, parameters=params))
        for f in self._findings.get(node.path, []):
            lines.append(f"{severity_name(f.severity)}: {finding_message(f)}")
            if f.why:
                lines.append("    " + translate("TreeModel", "why: {why}").format(why=finding_why(f)))
        return tooltip("\n".join(lines))  # keys are file text: never rendered as markup


class TreeFilterProxy(QSortFilterProxyModel):
    """Filter by key (text, glob or regex), dtype (``bfloat16``) or shape (``3x3``); parents of matches stay."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._key_matches = key_matcher("")
        self._flagged_only = False
        self.setRecursiveFilteringEnabled(True)  # parents of matches stay visible
        self.setSortRole(SORT_ROLE)

    def set_text(self, text: str) -> None:
        """Show only rows whose key, dtype or shape matches ``text`` (all rows when it is empty)."""

        def change() -> None:
            self._needle = text.strip().lower()
            self._key_matches = key_matcher(text)

        refilter(self, change)

    def set_flagged_only(self, on: bool) -> None:
        """Show only tensors with health findings (and their modules), on top of the text filter."""
        refilter(self, lambda: setattr(self, "_flagged_only", on))

    def matches_nothing(self) -> bool:
        """A filter is set and no row passes it (the window says "no matches")."""
        return (bool(self._needle) or self._flagged_only) and self.rowCount() == 0

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        if not self._needle and not self._flagged_only:
            return True
        model: TreeModel = self.sourceModel()  # type: ignore[assignment]
        node = model.node(source_parent).children[source_row]
        if self._flagged_only and not (node.entry is not None and model.flagged(node.path)):
            return False  # a module stays only as the parent of a flagged tensor (recursive filtering)
        # a node's path holds its ancestors' names: matching "layer1" keeps layer1's subtree
        return not self._needle or self._matches(node)

    def _matches(self, node: TreeNode) -> bool:
        needle = self._needle
        if self._key_matches is not None and self._key_matches(node.path):
            return True
        e = node.entry
        return e is not None and (e.dtype_name.startswith(needle) or needle in shape_str(e.shape))
