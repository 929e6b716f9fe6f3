"""The Metadata and Health tabs: non-tensor content, and health-scan findings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..core.checkpoint import Checkpoint
from ..core.filemap import is_remote
from ..core.summary import lightning_view, training_summary
from ..formatting import human_bytes, plural, shape_str
from .text import plain_label, printable, tooltip
from .tree_model import severity_icon

if TYPE_CHECKING:  # the scan computes (torch): reports exist once it is imported
    from ..core.scan import ScanReport


# metadata a format reader puts under one key, shown as its own group
FORMAT_GROUPS = {"torch.export": "torch.export program", "gguf": "GGUF metadata", "gguf_file": "GGUF file"}


def _text(value: Any) -> str:
    """A metadata value on one line (item views show text as text; newlines made visible)."""
    if isinstance(value, str):
        return printable(value)
    return printable(json.dumps(value, allow_nan=False))


KEY_SHARE = 0.45  # the key column's most of the width: the values stay on screen


class _CappedTree(QTreeWidget):
    """A tree whose first column fits its contents up to a share of the width, never beyond.

    Long keys and values are cut in the middle (whole in each row's tooltip) instead of
    pushing the other columns off screen.
    """

    def __init__(self, headers: list[str], parent=None) -> None:
        super().__init__(parent)
        self.setHeaderLabels(headers)
        self.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.header().setStretchLastSection(True)

    def fit_columns(self) -> None:
        """First column (and the middle ones) to their contents, the first capped at KEY_SHARE."""
        width = max(self.viewport().width(), 200)
        for col in range(self.columnCount() - 1):
            self.resizeColumnToContents(col)
        self.setColumnWidth(0, min(self.columnWidth(0), max(120, int(width * KEY_SHARE))))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit_columns()


def _item(parent, texts: list[str]) -> QTreeWidgetItem:
    """A row whose every cell's whole text is in its tooltip (a cell may be cut to fit)."""
    item = QTreeWidgetItem(parent, texts)
    for col, text in enumerate(texts):
        if text:
            item.setToolTip(col, tooltip(text))
    return item


class MetadataPanel(QWidget):
    """Training summary on top, then every non-tensor value as a tree."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.tree = _CappedTree(["Key", "Value"])
        self.tree.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        self.tree.clear()
        s = training_summary(ckpt)
        summary = self._group("Summary")
        rows: list[tuple[str, Any]] = [("format", ckpt.format), ("saved on", ", ".join(ckpt.saved_on) or "unknown")]
        if is_remote(ckpt.path):
            rows.insert(1, ("location", "remote: read by range requests, cached locally"))
        if s.epoch is not None:
            rows.append(("epoch", s.epoch))
        if s.step is not None:
            rows.append(("step", s.step))
        if ckpt.state_dict_key is not None:
            rows.append(("model weights at", ckpt.state_dict_key or "(root)"))
        if ckpt.prefixes:
            rows.append(("wrapper prefixes", " + ".join(ckpt.prefixes)))
        rows.append(("weights", human_bytes(s.weight_bytes)))
        if s.optimizer_key:
            ratio = f" ({s.optimizer_ratio:.2f}× the weights)" if s.optimizer_ratio else ""
            rows.append((f"optimizer state ({s.optimizer_key})", human_bytes(s.optimizer_bytes) + ratio))
            mapped = (
                f"{len(s.param_names)} state entries mapped to parameter names" if s.param_names else s.param_names_note
            )
            rows.append(("optimizer → parameters", mapped))
            for i, group in enumerate(s.param_groups):
                rows.append((f"param group {i}", ", ".join(f"{k}={_text(v)}" for k, v in group.items())))
        for key, value in rows:
            _item(summary, [printable(key), _text(value)])
        if s.hparams:
            hp = self._group(f"Hyper-parameters ({s.hparams_key})")
            for key, value in s.hparams.items():
                self._add(hp, key, value)
        lightning = lightning_view(ckpt)
        if lightning:
            group = self._group("PyTorch Lightning")
            for key, value in lightning.items():
                self._add(group, key, value)
        if ckpt.unsafe_globals:
            g = self._group("Globals outside torch's weights-only allowlist")
            for name in ckpt.unsafe_globals:
                state = "not executed (placeholder)" if name in ckpt.blocked_globals else "loaded as plain data"
                _item(g, [printable(name), state])
        # what a format's reader found (a program's signature, a GGUF's key-values): its own open group
        shown_apart = [k for k in FORMAT_GROUPS if isinstance(ckpt.metadata.get(k), dict)]
        for key in shown_apart:
            section = self._group(FORMAT_GROUPS[key])
            for k, v in ckpt.metadata[key].items():
                self._add(section, k, v)
        rest = {k: v for k, v in ckpt.metadata.items() if k not in shown_apart}
        if rest:
            allm = self._group("All metadata")
            for key, value in rest.items():
                self._add(allm, key, value)
            allm.setExpanded(False)
        for w in ckpt.warnings:
            _item(self._group("Warnings"), ["warning", printable(w)])
        self.tree.fit_columns()

    def _group(self, title: str) -> QTreeWidgetItem:
        title = printable(title)  # "Hyper-parameters (KEY)": the key is the file's
        for i in range(self.tree.topLevelItemCount()):
            if self.tree.topLevelItem(i).text(0) == title:
                return self.tree.topLevelItem(i)
        item = QTreeWidgetItem(self.tree, [title])
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        item.setExpanded(True)
        return item

    def _add(self, parent: QTreeWidgetItem, key: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            node = _item(parent, [printable(key), printable(value.get("__class__", ""))])
            for k, v in value.items():
                if k != "__class__":
                    self._add(node, k, v)
        elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
            node = _item(parent, [printable(key), f"[{len(value)} items]"])
            for i, v in enumerate(value):
                self._add(node, str(i), v)
        else:
            _item(parent, [printable(key), _text(value)])

    def find(self, key: str) -> QTreeWidgetItem | None:
        """First item whose key column is ``key`` (for tests and search)."""
        items = self.tree.findItems(key, Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive, 0)
        return items[0] if items else None


class _TensorList(QWidget):
    """A one-line summary over a flat list of tensors; activating a row (its key in
    UserRole of column 0) emits :attr:`tensor_activated`."""

    tensor_activated = Signal(str)

    def __init__(self, headers: list[str], summary: str = "", parent=None) -> None:
        super().__init__(parent)
        self.summary = plain_label(summary)
        self.list = _CappedTree(headers)
        self.list.setRootIsDecorated(False)
        self.list.itemActivated.connect(
            lambda item, _col: self.tensor_activated.emit(item.data(0, Qt.ItemDataRole.UserRole))
        )
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(4, 4, 4, 4)
        self.box.addWidget(self.summary)
        self.box.addWidget(self.list)


CHECKPOINT = "(checkpoint)"  # how a finding about the whole file names its place


class HealthPanel(_TensorList):
    """Findings of the health scan, worst first; activating a row selects that tensor (or module).

    Every row's tooltip holds the finding and why it matters; the lines under the list give
    the current row's whole message and why.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(["Tensor", "Problem", "Details"], "Scanning starts when a file is opened.", parent)
        self.why = plain_label("")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box.addWidget(self.why)
        self.list.currentItemChanged.connect(lambda item, _old: self._show_why(item))

    def show_scanning(self) -> None:
        self.list.clear()
        self.why.clear()
        self.summary.setText("Scanning every tensor for NaN/Inf, overflow, corrupted, dead and duplicated weights…")

    def show_report(self, report: ScanReport) -> None:
        self.list.clear()
        icons = {}
        for f in report.findings:
            if f.severity not in icons:
                icons[f.severity] = severity_icon(f.severity)
            where = printable(f.key) if f.key else CHECKPOINT
            item = _item(self.list, [where, f.kind.replace("_", " "), printable(f.message)])
            detail = f"{f.severity}: {printable(f.message)}\n\nWhy it matters: {f.why}"
            for col in range(3):
                item.setToolTip(col, tooltip(f"{where}\n{detail}"))
            item.setIcon(0, icons[f.severity])
            item.setData(0, Qt.ItemDataRole.UserRole, f.key)
            item.setData(1, Qt.ItemDataRole.UserRole, f"{printable(f.message)}\nWhy it matters: {f.why}")
        self.list.fit_columns()
        c = report.counts()
        scanned = plural(len(report.stats), "tensor")
        if report.findings:
            counts = ", ".join(
                plural(c[k], w) for k, w in (("error", "error"), ("warning", "warning"), ("info", "note"))
            )
            self.summary.setText(f"{scanned} scanned: {counts}.")
            first = self.list.topLevelItem(0)
            if first is not None:
                self.list.setCurrentItem(first)
        else:
            self.summary.setText(f"{scanned} scanned: no problems found.")
            self.why.clear()

    def _show_why(self, item: QTreeWidgetItem | None) -> None:
        """The current row's whole message (the Details cell may be cut) and why it matters."""
        self.why.setText(item.data(1, Qt.ItemDataRole.UserRole) if item is not None else "")


LARGEST = 200  # rows of the largest-tensors view: the ones that matter for size are at the top


class LargestPanel(_TensorList):
    """Every tensor in one flat list, largest first; activating a row selects that tensor."""

    def __init__(self, parent=None) -> None:
        super().__init__(["Tensor", "Shape", "Dtype", "Size"], parent=parent)
        self.list.setAlternatingRowColors(True)

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        """List the largest tensors of ``ckpt`` (by bytes, then by key)."""
        self.list.clear()
        entries = sorted(ckpt.tensors.values(), key=lambda e: (-e.nbytes, e.key))
        total = sum(e.nbytes for e in entries) or 1
        for e in entries[:LARGEST]:
            size = f"{human_bytes(e.nbytes)} ({e.nbytes / total:.1%})"
            item = _item(self.list, [printable(e.key), shape_str(e.shape), e.dtype_name, size])
            item.setData(0, Qt.ItemDataRole.UserRole, e.key)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.list.fit_columns()
        more = f" (the {LARGEST:,} largest shown)" if len(entries) > LARGEST else ""
        self.summary.setText(f"{plural(len(entries), 'tensor')}, largest first{more}.")

    def keys(self) -> list[str]:
        """The listed keys in order, for tests."""
        items = [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())]
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in items if item is not None]
