"""The Qt item model over a core tree of :class:`~ckptviewer.core.tree.Node`: the layer tree
and the diff tree share it; each subclass says what its columns show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from ..core.tree import Node

Index = QModelIndex | QPersistentModelIndex


class NodeModel(QAbstractItemModel):
    """Indexes point at core nodes (no second tree); rows exist only when a view asks."""

    headers: tuple[str, ...] = ()
    right_aligned_from: int | None = None  # columns from here on are numbers (header aligned right)

    def __init__(self, root: Node, parent: Any = None) -> None:
        super().__init__(parent)
        self._root = root

    @property
    def root(self) -> Any:
        return self._root

    def set_root(self, root: Node) -> None:
        self.beginResetModel()
        self._root = root
        self.reset_caches()
        self.endResetModel()

    def reset_caches(self) -> None:
        """Drop what a subclass remembers of the previous tree."""

    def node(self, index: Index) -> Any:
        return index.internalPointer() if index.isValid() else self._root

    def index_of(self, node: Node, column: int = 0) -> QModelIndex:
        if node is self._root or node.parent is None:
            return QModelIndex()
        return self.createIndex(node.row, column, node)

    def index_for_path(self, path: str) -> QModelIndex:
        node = self._root.find(path)
        return self.index_of(node) if node is not None else QModelIndex()

    # --- QAbstractItemModel -------------------------------------------------------------------

    def index(self, row: int, column: int, parent: Index = QModelIndex()) -> QModelIndex:
        if parent.isValid() and parent.column() != 0:
            return QModelIndex()  # only the first column has children
        node = self.node(parent)
        if 0 <= row < len(node.children) and 0 <= column < len(self.headers):
            return self.createIndex(row, column, node.children[row])
        return QModelIndex()

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]
        if not index.isValid():
            return QModelIndex()
        parent = index.internalPointer().parent
        return self.index_of(parent) if parent is not None else QModelIndex()

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self.node(parent).children)

    def hasChildren(self, parent: Index = QModelIndex()) -> bool:
        return bool(self.node(parent).children) if (not parent.isValid() or parent.column() == 0) else False

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return len(self.headers)

    def header_text(self, section: int) -> str:
        """Column ``section``'s title as shown (a subclass translates its headers)."""
        return self.headers[section]

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.headers):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.header_text(section)
        right = self.right_aligned_from
        if role == Qt.ItemDataRole.TextAlignmentRole and right is not None and section >= right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def refilter(proxy: QSortFilterProxyModel, change: Callable[[], None]) -> None:
    """Apply ``change`` to ``proxy``'s filter and re-filter (Qt 6.10 replaced invalidateFilter)."""
    if hasattr(proxy, "beginFilterChange"):
        proxy.beginFilterChange()
        change()
        proxy.endFilterChange()
    else:  # Qt < 6.10
        change()
        proxy.invalidateFilter()
