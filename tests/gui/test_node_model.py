"""NodeModel, the Qt item model over core Node trees, on layer trees of real checkpoints:
index/parent/rowCount consistency over the whole tree, the columns TreeModel shows,
filtering through ``refilter`` (parents of matches stay), an empty tree, and Qt's own
model checker."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QAbstractItemModelTester
from torch import nn

from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.tree import TreeNode, build_tree
from ckptviewer.gui.node_model import NodeModel, refilter
from ckptviewer.gui.tree_model import DTYPE, HEADERS, NAME, PARAMS, SHAPE, SIZE, TreeFilterProxy, TreeModel

DISPLAY = Qt.ItemDataRole.DisplayRole
HORIZONTAL = Qt.Orientation.Horizontal

# the layer tree of _Net's state_dict, depth first, in file order
ALL_PATHS = [
    "encoder", "encoder.0", "encoder.0.weight", "encoder.0.bias", "encoder.2", "encoder.2.weight",
    "encoder.2.bias", "bn", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
    "bn.num_batches_tracked", "head", "head.weight", "head.bias",
]  # fmt: skip
TENSOR_KEYS = [
    "encoder.0.weight", "encoder.0.bias", "encoder.2.weight", "encoder.2.bias", "bn.weight", "bn.bias",
    "bn.running_mean", "bn.running_var", "bn.num_batches_tracked", "head.weight", "head.bias",
]  # fmt: skip


class _Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 8))
        self.bn = nn.BatchNorm1d(8)  # num_batches_tracked: an int64 buffer among float32
        self.head = nn.Linear(8, 2).to(torch.bfloat16)


class _Names(NodeModel):
    """The smallest subclass: NodeModel's own structure, one column of names."""

    headers = ("Name",)

    def data(self, index, role=DISPLAY):
        if index.isValid() and role == DISPLAY:
            return index.internalPointer().name
        return None


def _tree(tmp_path: Path, state: dict | None = None) -> TreeNode:
    path = tmp_path / ("net.pth" if state is None else f"state{len(list(tmp_path.glob('state*')))}.pth")
    torch.save(_Net().state_dict() if state is None else state, path)
    return build_tree(open_checkpoint(path))


@pytest.fixture
def root(tmp_path) -> TreeNode:
    return _tree(tmp_path)


def _walk(model, parent: QModelIndex = QModelIndex()):
    """Every index of column 0 below ``parent``, depth first, as the model presents them."""
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        yield index
        yield from _walk(model, index)


def _visible_paths(proxy: QSortFilterProxyModel) -> list[str]:
    source = proxy.sourceModel()
    return [source.node(proxy.mapToSource(i)).path for i in _walk(proxy)]


# --- structure ----------------------------------------------------------------------------------


def test_tree_of_the_checkpoint_is_what_the_tests_expect(root):
    assert [n.path for n in root.walk()][1:] == ALL_PATHS
    assert sorted(n.path for n in root.walk() if n.entry is not None) == sorted(TENSOR_KEYS)
    assert len(TENSOR_KEYS) == 11


@pytest.mark.parametrize("model_class", [TreeModel, _Names])
def test_index_parent_and_row_count_agree_over_the_whole_tree(root, model_class):
    model = model_class(root)
    columns = len(model_class.headers)
    seen: list[str] = []

    def check(parent: QModelIndex, node: TreeNode) -> None:
        assert model.node(parent) is node
        assert model.rowCount(parent) == len(node.children)
        assert model.hasChildren(parent) == bool(node.children)
        assert model.columnCount(parent) == columns
        for row, child in enumerate(node.children):
            for col in range(columns):
                index = model.index(row, col, parent)
                assert index.isValid()
                assert (index.row(), index.column()) == (row, col)
                assert index.internalPointer() is child
                assert index.model() is model
                assert model.parent(index) == parent  # every child's parent is its parent index
                if col:  # only the first column has children
                    assert model.rowCount(index) == 0
                    assert not model.hasChildren(index)
            # no index past the last row or column, nor before the first
            assert not model.index(len(node.children), 0, parent).isValid()
            assert not model.index(-1, 0, parent).isValid()
            assert not model.index(row, columns, parent).isValid()
            assert not model.index(row, -1, parent).isValid()
            seen.append(child.path)
            check(model.index(row, 0, parent), child)

    check(QModelIndex(), root)
    assert seen == ALL_PATHS
    assert not model.parent(QModelIndex()).isValid()
    assert not model.parent().isValid()


def test_top_level_rows_have_the_invisible_root_as_parent(root):
    model = TreeModel(root)
    assert [model.index(r, 0).internalPointer().name for r in range(model.rowCount())] == ["encoder", "bn", "head"]
    for r in range(3):
        assert not model.parent(model.index(r, 0)).isValid()
    assert model.node(QModelIndex()) is root


def test_index_of_and_index_for_path_round_trip(root):
    model = TreeModel(root)
    for node in list(root.walk())[1:]:
        index = model.index_for_path(node.path)
        assert index.isValid() and index.internalPointer() is node and index.column() == 0
        # the same index reached from its parent, as a view would
        assert model.index(index.row(), 0, model.parent(index)) == index
        assert model.index_of(node, SIZE) == model.index(index.row(), SIZE, model.parent(index))
    assert model.index_of(root) == QModelIndex()
    assert not model.index_for_path("").isValid()  # the root is not a row
    assert not model.index_for_path("encoder.7").isValid()
    assert not model.index_for_path("nothing.here").isValid()


def test_header_data(root):
    model = TreeModel(root)
    assert [model.headerData(c, HORIZONTAL) for c in range(model.columnCount())] == list(HEADERS)
    assert HEADERS == ("Name", "Shape", "Dtype", "Parameters", "Size")
    align = Qt.ItemDataRole.TextAlignmentRole
    right = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    assert [model.headerData(c, HORIZONTAL, align) for c in range(5)] == [None, None, None, right, right]
    assert model.headerData(0, Qt.Orientation.Vertical) is None
    assert _Names(root).headerData(0, HORIZONTAL, align) is None  # no numeric columns: nothing aligned


def test_set_root_resets_the_model(qtbot, root, tmp_path):
    model = TreeModel(root)
    assert model.rowCount() == 3
    model.index_for_path("encoder.0.weight").data()  # cache the row texts of the old tree
    other = _tree(tmp_path, {"encoder.0.weight": torch.zeros(5, 6, dtype=torch.float16)})
    with qtbot.waitSignals([model.modelAboutToBeReset, model.modelReset], order="strict"):
        model.set_root(other)
    assert model.root is other
    assert model.rowCount() == 1
    weight = model.index_for_path("encoder.0.weight")
    assert weight.internalPointer() is other.find("encoder.0.weight")
    assert model.index(0, SHAPE, weight.parent()).data() == "5x6"
    assert model.index(0, DTYPE, weight.parent()).data() == "float16"


# --- what the columns show ----------------------------------------------------------------------


def _row(model: TreeModel, path: str) -> list[str]:
    index = model.index_for_path(path)
    return [model.index(index.row(), c, index.parent()).data(DISPLAY) for c in range(model.columnCount())]


def test_display_of_a_known_tensor(root):
    model = TreeModel(root)
    # nn.Linear(4, 8).weight: 8x4 float32 = 32 elements, 128 bytes
    assert _row(model, "encoder.0.weight") == ["weight", "8x4", "float32", "32", "128 B"]
    assert _row(model, "head.weight") == ["weight", "2x8", "bfloat16", "16", "32 B"]
    assert _row(model, "bn.num_batches_tracked")[NAME:PARAMS] == ["num_batches_tracked", "()", "int64"]


def test_display_of_modules(root):
    model = TreeModel(root)
    # a module has no shape; its dtype is the mix of the tensors below it
    assert _row(model, "encoder")[NAME:PARAMS] == ["encoder", "", "float32"]
    assert _row(model, "bn")[NAME:PARAMS] == ["bn", "", "float32 +1"]  # and one int64 counter
    assert _row(model, "head")[NAME:PARAMS] == ["head", "", "bfloat16"]
    # encoder: 4*8 + 8 + 8*8 + 8 = 112 float32 parameters, 448 bytes
    assert _row(model, "encoder")[PARAMS:] == ["112", "448 B"]


def test_data_of_an_invalid_index_is_none(root):
    model = TreeModel(root)
    assert model.data(QModelIndex(), DISPLAY) is None
    assert model.index(99, 0).data() is None


# --- filtering ----------------------------------------------------------------------------------


@pytest.fixture
def proxy(root) -> TreeFilterProxy:
    proxy = TreeFilterProxy()
    proxy.setSourceModel(TreeModel(root, parent=proxy))
    return proxy


@pytest.mark.parametrize(
    ("text", "visible"),
    [
        ("running", ["bn", "bn.running_mean", "bn.running_var"]),  # the ancestor of matches stays
        ("bfloat16", ["head", "head.weight", "head.bias"]),  # by dtype
        ("8x4", ["encoder", "encoder.0", "encoder.0.weight"]),  # by shape, two levels of ancestors
        ("  ENCODER.2  ", ["encoder", "encoder.2", "encoder.2.weight", "encoder.2.bias"]),  # a module keeps its subtree
        ("bias", ["encoder", "encoder.0", "encoder.0.bias", "encoder.2", "encoder.2.bias", "bn", "bn.bias", "head",
                  "head.bias"]),
        ("no such layer", []),
        ("", ALL_PATHS),
    ],
)  # fmt: skip
def test_filter_hides_non_matching_rows_and_keeps_ancestors(proxy, text, visible):
    assert _visible_paths(proxy) == ALL_PATHS
    proxy.set_text(text)
    assert _visible_paths(proxy) == visible


def test_clearing_the_filter_shows_every_row_again(proxy):
    proxy.set_text("running")
    assert proxy.rowCount() == 1
    proxy.set_text("")
    assert _visible_paths(proxy) == ALL_PATHS


class _OnlyUnder(QSortFilterProxyModel):
    """A proxy whose filter is one attribute that ``refilter`` changes."""

    def __init__(self) -> None:
        super().__init__()
        self.prefix = ""
        self.setRecursiveFilteringEnabled(True)

    def filterAcceptsRow(self, row, parent):
        return self.sourceModel().node(parent).children[row].path.startswith(self.prefix)


def test_refilter_applies_the_change_once_and_filters_again(root):
    proxy = _OnlyUnder()
    proxy.setSourceModel(_Names(root, parent=proxy))
    assert proxy.rowCount() == 3
    calls: list[str] = []

    def change() -> None:
        calls.append(proxy.prefix)
        proxy.prefix = "head"

    refilter(proxy, change)
    assert calls == [""]
    assert _visible_paths(proxy) == ["head", "head.weight", "head.bias"]
    refilter(proxy, lambda: setattr(proxy, "prefix", "bn.running"))
    assert _visible_paths(proxy) == ["bn", "bn.running_mean", "bn.running_var"]


# --- an empty tree ------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["empty checkpoint", "default"])
def test_empty_tree(qtmodeltester, tmp_path, how):
    model = TreeModel(_tree(tmp_path, {})) if how == "empty checkpoint" else TreeModel()
    assert model.root.children == []
    assert model.rowCount() == 0
    assert not model.hasChildren()
    assert model.columnCount() == len(HEADERS)
    assert not model.index(0, 0).isValid()
    assert not model.index_for_path("anything").isValid()
    qtmodeltester.check(model)
    proxy = TreeFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_text("weight")
    assert proxy.rowCount() == 0
    proxy.set_text("")
    assert proxy.rowCount() == 0


# --- Qt's own checker ---------------------------------------------------------------------------
# qtmodeltester runs QAbstractItemModelTester in Warning mode; failing on any Qt warning makes
# its findings fail the test (Fatal mode would abort the whole test process).


@pytest.mark.qt_log_level_fail("WARNING")
@pytest.mark.parametrize("model_class", [TreeModel, _Names])
def test_qt_model_tester(qtmodeltester, root, tmp_path, model_class):
    model = model_class(root)
    qtmodeltester.check(model)
    model.set_root(_tree(tmp_path, {"a.b.c": torch.ones(2), "a.d": torch.ones(3), "e": torch.ones(1)}))
    model.set_root(TreeNode("", ""))  # the tester stays connected and checks each reset
    model.set_root(root)


@pytest.mark.qt_log_level_fail("WARNING")
def test_qt_model_tester_python(qtmodeltester, root):
    qtmodeltester.check(TreeModel(root), force_py=True)


@pytest.mark.qt_log_level_fail("WARNING")
def test_qt_model_tester_on_the_filtered_tree(qtmodeltester, proxy):
    qtmodeltester.check(proxy)
    for text in ("running", "8x4", "no such layer", "bias", ""):
        proxy.set_text(text)
    proxy.sort(NAME, Qt.SortOrder.DescendingOrder)
    assert _visible_paths(proxy)[0] == "head"


class _LyingParent(_Names):
    def parent(self, index=QModelIndex()):
        return QModelIndex()  # wrong for every row below the top level


def _tester_messages(model) -> list[str]:
    """What QAbstractItemModelTester reports on ``model`` (kept from pytest-qt, which would fail the test)."""
    messages: list[str] = []

    def handler(mode, context, message) -> None:
        if context.category == "qt.modeltest" and mode == QtMsgType.QtWarningMsg:
            messages.append(message)

    previous = qInstallMessageHandler(handler)
    try:
        QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    finally:
        qInstallMessageHandler(previous)
    return messages


def test_the_checker_can_fail(root):
    """What the checks above rely on: a model whose parent() lies is reported, the real one is not."""
    failures = _tester_messages(_LyingParent(root))
    assert any("model->parent(childIndex)" in m for m in failures), failures
    assert _tester_messages(_Names(root)) == []
    assert _tester_messages(TreeModel(root)) == []


def test_no_index_below_a_cell_that_has_no_rows(root):
    model = TreeModel(root)
    cell = model.index(0, SHAPE)  # the "encoder" row, Shape column
    assert model.rowCount(cell) == 0
    assert not model.index(0, 0, cell).isValid()


def test_header_data_out_of_range_is_none(root):
    model = TreeModel(root)
    assert model.headerData(len(HEADERS), HORIZONTAL) is None
    assert model.headerData(-1, HORIZONTAL) is None
