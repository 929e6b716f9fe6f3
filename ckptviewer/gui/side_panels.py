"""The Metadata and Health tabs: non-tensor content, and health-scan findings."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ..core.checkpoint import Checkpoint
from ..core.filemap import is_remote
from ..core.summary import lightning_view, training_summary
from ..formatting import human_bytes, shape_str
from .findings_text import checkpoint_place, finding_message, finding_why, kind_name, severity_name
from .i18n import format_count, join_list, translate
from .text import plain_label, printable, tooltip
from .tree_model import severity_icon

if TYPE_CHECKING:  # the scan computes (torch): reports exist once it is imported
    from ..core.scan import ScanReport


# metadata a format reader puts under one key, shown as its own group
FORMAT_GROUPS = ("torch.export", "gguf", "gguf_file")


def _format_group(key: str) -> str:
    titles = {
        "torch.export": translate("MetadataPanel", "torch.export program"),
        "gguf": translate("MetadataPanel", "GGUF metadata"),
        "gguf_file": translate("MetadataPanel", "GGUF file"),
    }
    return titles[key]


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
        self.tree = _CappedTree([])
        self.tree.setAlternatingRowColors(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree)
        self._ckpt: Checkpoint | None = None
        self.retranslate()

    def retranslate(self) -> None:
        """Headers and the labels of the shown checkpoint, in the current language."""
        self.tree.setHeaderLabels([translate("MetadataPanel", "Key"), translate("MetadataPanel", "Value")])
        if self._ckpt is not None and self.tree.topLevelItemCount():
            self.show_checkpoint(self._ckpt)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        self._ckpt = ckpt
        self.tree.clear()
        s = training_summary(ckpt)
        summary = self._group(translate("MetadataPanel", "Summary"))
        unknown = translate("MetadataPanel", "unknown")
        rows: list[tuple[str, Any]] = [
            (translate("MetadataPanel", "format"), ckpt.format),
            (translate("MetadataPanel", "saved on"), ", ".join(ckpt.saved_on) or unknown),
        ]
        if is_remote(ckpt.path):
            rows.insert(
                1,
                (
                    translate("MetadataPanel", "location"),
                    translate("MetadataPanel", "remote: read by range requests, cached locally"),
                ),
            )
        if s.epoch is not None:
            rows.append((translate("MetadataPanel", "epoch"), s.epoch))
        if s.step is not None:
            rows.append((translate("MetadataPanel", "step"), s.step))
        if ckpt.state_dict_key is not None:
            rows.append(
                (
                    translate("MetadataPanel", "model weights at"),
                    ckpt.state_dict_key or translate("MetadataPanel", "(root)"),
                )
            )
        if ckpt.prefixes:
            rows.append((translate("MetadataPanel", "wrapper prefixes"), " + ".join(ckpt.prefixes)))
        rows.append((translate("MetadataPanel", "weights"), human_bytes(s.weight_bytes)))
        if s.optimizer_key:
            size = human_bytes(s.optimizer_bytes)
            if s.optimizer_ratio:
                size = translate("MetadataPanel", "{size} ({ratio}× the weights)").format(
                    size=size, ratio=f"{s.optimizer_ratio:.2f}"
                )
            rows.append((translate("MetadataPanel", "optimizer state ({key})").format(key=s.optimizer_key), size))
            n_mapped = len(s.param_names)
            mapped = (
                translate("MetadataPanel", "%Ln state entries mapped to parameter names", None, n_mapped)
                if s.param_names
                else (s.param_names_text.render(translate) if s.param_names_text is not None else s.param_names_note)
            )
            rows.append((translate("MetadataPanel", "optimizer → parameters"), mapped))
            for i, group in enumerate(s.param_groups):
                rows.append(
                    (
                        translate("MetadataPanel", "param group {i}").format(i=i),
                        ", ".join(f"{k}={_text(v)}" for k, v in group.items()),
                    )
                )
        for key, value in rows:
            _item(summary, [printable(key), _text(value)])
        if s.hparams:
            hp = self._group(translate("MetadataPanel", "Hyper-parameters ({key})").format(key=s.hparams_key))
            for key, value in s.hparams.items():
                self._add(hp, key, value)
        lightning = lightning_view(ckpt)
        if lightning:
            group = self._group("PyTorch Lightning")
            for key, value in lightning.items():
                self._add(group, key, value)
        if ckpt.unsafe_globals:
            g = self._group(translate("MetadataPanel", "Globals outside torch's weights-only allowlist"))
            for name in ckpt.unsafe_globals:
                state = (
                    translate("MetadataPanel", "not executed (placeholder)")
                    if name in ckpt.blocked_globals
                    else translate("MetadataPanel", "loaded as plain data")
                )
                _item(g, [printable(name), state])
        # what a format's reader found (a program's signature, a GGUF's key-values): its own open group
        shown_apart = [k for k in FORMAT_GROUPS if isinstance(ckpt.metadata.get(k), dict)]
        for key in shown_apart:
            section = self._group(_format_group(key))
            for k, v in ckpt.metadata[key].items():
                self._add(section, k, v)
        rest = {k: v for k, v in ckpt.metadata.items() if k not in shown_apart}
        if rest:
            allm = self._group(translate("MetadataPanel", "All metadata"))
            for key, value in rest.items():
                self._add(allm, key, value)
            allm.setExpanded(False)
        for w in ckpt.warnings:
            _item(
                self._group(translate("MetadataPanel", "Warnings")),
                [translate("MetadataPanel", "warning"), printable(w)],
            )
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
            n = len(value)
            node = _item(parent, [printable(key), translate("MetadataPanel", "[%Ln item(s)]", None, n)])
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

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.summary = plain_label()
        self.list = _CappedTree([])
        self.list.setRootIsDecorated(False)
        self.list.itemActivated.connect(
            lambda item, _col: self.tensor_activated.emit(item.data(0, Qt.ItemDataRole.UserRole))
        )
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(4, 4, 4, 4)
        self.box.addWidget(self.summary)
        self.box.addWidget(self.list)

    def retranslate(self) -> None:
        """Headers and texts in the current language (each list says its own)."""

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


CHECKPOINT = "(checkpoint)"  # how a finding about the whole file names its place (English; see checkpoint_place)


class HealthPanel(_TensorList):
    """Findings of the health scan, worst first; activating a row selects that tensor (or module).

    Every row's tooltip holds the finding and why it matters; the lines under the list give
    the current row's whole message and why.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.why = plain_label("")
        self.why.setWordWrap(True)
        self.why.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.box.addWidget(self.why)
        self.list.currentItemChanged.connect(lambda item, _old: self._show_why(item))
        self._state: str = "idle"  # idle, scanning, report: what retranslate redraws
        self._report: ScanReport | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.list.setHeaderLabels(
            [
                translate("HealthPanel", "Tensor"),
                translate("HealthPanel", "Problem"),
                translate("HealthPanel", "Details"),
            ]
        )
        if self._state == "idle":
            self.summary.setText(translate("HealthPanel", "Scanning starts when a file is opened."))
        elif self._state == "scanning":
            self.show_scanning()
        elif self._report is not None:
            current = self.list.currentIndex().row()
            self.show_report(self._report)
            item = self.list.topLevelItem(current) if current >= 0 else None
            if item is not None:
                self.list.setCurrentItem(item)

    def show_scanning(self) -> None:
        self._state, self._report = "scanning", None
        self.list.clear()
        self.why.clear()
        self.summary.setText(
            translate(
                "HealthPanel", "Scanning every tensor for NaN/Inf, overflow, corrupted, dead and duplicated weights…"
            )
        )

    def show_report(self, report: ScanReport) -> None:
        self._state, self._report = "report", report
        self.list.clear()
        icons = {}
        for f in report.findings:
            if f.severity not in icons:
                icons[f.severity] = severity_icon(f.severity)
            where = printable(f.key) if f.key else checkpoint_place()
            message, why = finding_message(f), finding_why(f)
            item = _item(self.list, [where, kind_name(f.kind), message])
            detail = translate("HealthPanel", "{severity}: {message}\n\nWhy it matters: {why}").format(
                severity=severity_name(f.severity), message=message, why=why
            )
            for col in range(3):
                item.setToolTip(col, tooltip(f"{where}\n{detail}"))
            item.setIcon(0, icons[f.severity])
            item.setData(0, Qt.ItemDataRole.UserRole, f.key)
            item.setData(
                1,
                Qt.ItemDataRole.UserRole,
                translate("HealthPanel", "{message}\nWhy it matters: {why}").format(message=message, why=why),
            )
        self.list.fit_columns()
        c = report.counts()
        n = len(report.stats)
        if report.findings:
            errors, warnings, notes = c["error"], c["warning"], c["info"]
            counts = join_list(
                [
                    translate("HealthPanel", "%Ln error(s)", None, errors),
                    translate("HealthPanel", "%Ln warning(s)", None, warnings),
                    translate("HealthPanel", "%Ln note(s)", None, notes),
                ]
            )
            self.summary.setText(
                translate("HealthPanel", "%Ln tensor(s) scanned: {counts}.", None, n).format(counts=counts)
            )
            first = self.list.topLevelItem(0)
            if first is not None:
                self.list.setCurrentItem(first)
        else:
            self.summary.setText(translate("HealthPanel", "%Ln tensor(s) scanned: no problems found.", None, n))
            self.why.clear()

    def _show_why(self, item: QTreeWidgetItem | None) -> None:
        """The current row's whole message (the Details cell may be cut) and why it matters."""
        self.why.setText(item.data(1, Qt.ItemDataRole.UserRole) if item is not None else "")


LARGEST = 200  # rows of the largest-tensors view: the ones that matter for size are at the top


class LargestPanel(_TensorList):
    """Every tensor in one flat list, largest first; activating a row selects that tensor."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent=parent)
        self.list.setAlternatingRowColors(True)
        self._ckpt: Checkpoint | None = None
        self.retranslate()

    def retranslate(self) -> None:
        self.list.setHeaderLabels(
            [
                translate("LargestPanel", "Tensor"),
                translate("LargestPanel", "Shape"),
                translate("LargestPanel", "Dtype"),
                translate("LargestPanel", "Size"),
            ]
        )
        if self._ckpt is not None:
            self.show_checkpoint(self._ckpt)

    def show_checkpoint(self, ckpt: Checkpoint) -> None:
        """List the largest tensors of ``ckpt`` (by bytes, then by key)."""
        self._ckpt = ckpt
        self.list.clear()
        entries = sorted(ckpt.tensors.values(), key=lambda e: (-e.nbytes, e.key))
        total = sum(e.nbytes for e in entries) or 1
        for e in entries[:LARGEST]:
            size = f"{human_bytes(e.nbytes)} ({e.nbytes / total:.1%})"
            item = _item(self.list, [printable(e.key), shape_str(e.shape), e.dtype_name, size])
            item.setData(0, Qt.ItemDataRole.UserRole, e.key)
            item.setTextAlignment(3, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.list.fit_columns()
        n = len(entries)  # lupdate reads a count only as a plain name
        if n > LARGEST:
            text = translate("LargestPanel", "%Ln tensor(s), largest first (the {shown} largest shown).", None, n)
            self.summary.setText(text.format(shown=format_count(LARGEST)))
        else:
            self.summary.setText(translate("LargestPanel", "%Ln tensor(s), largest first.", None, n))

    def keys(self) -> list[str]:
        """The listed keys in order, for tests."""
        items = [self.list.topLevelItem(i) for i in range(self.list.topLevelItemCount())]
        return [item.data(0, Qt.ItemDataRole.UserRole) for item in items if item is not None]
