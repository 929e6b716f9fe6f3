"""Edit dialogs: parameters on top, a live preview of what the edit changes below.

The dialog never edits anything itself: each change of a parameter runs the core edit
(a pure function) in the window's TaskRunner, slot "preview", and shows its report.
OK keeps the previewed result; the window applies it to its working copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.edits import OPERATIONS, EditReport, Param
from ..formatting import human_bytes
from .core_errors import error_text
from .core_messages import edit_warning
from .edit_refusals import problem_text, skip_reason
from .i18n import current_language, join_list, translate
from .text import elide, esc, plain_label, printable, tooltip
from .workers import TaskRunner

MAX_ROWS = 2000  # preview rows shown; the counts above always cover everything


def op_title(op: str) -> str:
    """An operation as the window names it (its Edit menu entry without "…"), in the current language;
    ``op`` is its name (``merge_lora``) or its undo label (``merge lora``)."""
    for operation in OPERATIONS.values():
        if op in (operation.name, operation.name.replace("_", " ")):
            return translate("EditOperation", operation.menu).rstrip("…").replace("&", "")
    return op


def field_label(f: Param) -> str:
    """A parameter's label in the current language (the registry marks it under EditOperation)."""
    return translate("EditOperation", f.label)


def _group_name(group: str) -> str:
    names = {
        "model_keys": translate("EditReport", "model keys"),
        "tensors": translate("EditReport", "tensors"),
        "model_tensors": translate("EditReport", "model tensors"),
        "selected_tensors": translate("EditReport", "selected tensors"),
        "target_tensors": translate("EditReport", "target tensors"),
        "source_tensors": translate("EditReport", "source tensors"),
    }
    return names.get(group, group.replace("_", " "))


def _part_name(part: str) -> str:
    names = {
        "renamed": translate("EditReport", "renamed"),
        "unchanged": translate("EditReport", "unchanged"),
        "kept": translate("EditReport", "kept"),
        "left_out": translate("EditReport", "left out"),
        "removed": translate("EditReport", "removed"),
        "dropped": translate("EditReport", "dropped"),
        "cast": translate("EditReport", "cast"),
        "already": translate("EditReport", "already in that dtype"),
        "not_float": translate("EditReport", "not floating point"),
        "averaged": translate("EditReport", "averaged"),
        "from_last": translate("EditReport", "from the last checkpoint"),
        "merged": translate("EditReport", "merged"),
        "from_ema": translate("EditReport", "from the EMA"),
        "from_model": translate("EditReport", "from the model"),
        "resized": translate("EditReport", "resized"),
        "left": translate("EditReport", "left as they are"),
        "taken": translate("EditReport", "taken"),
        "kept_mismatched": translate("EditReport", "kept (shape/dtype differs in the source)"),
        "kept_excluded": translate("EditReport", "kept (excluded)"),
        "kept_not_included": translate("EditReport", "kept (not included)"),
        "kept_missing": translate("EditReport", "kept (not in the source)"),
        "mismatched": translate("EditReport", "not taken (shape/dtype differs)"),
        "excluded": translate("EditReport", "excluded"),
        "not_included": translate("EditReport", "not included"),
        "no_place": translate("EditReport", "with no place in the target"),
        "collides": translate("EditReport", "on a target key already taken"),
    }
    return names.get(part, part.replace("_", " "))


def translated_summary(report: EditReport) -> str:
    """The report's counts in the current language: "rename: model keys (12): renamed 10, unchanged 2"."""
    groups = []
    for group, parts in report.counts.items():
        total = parts["total"]
        shown = [
            translate("EditReport", "{part} {n}").format(part=_part_name(part), n=f"{n:,}")
            for i, (part, n) in enumerate((k, v) for k, v in parts.items() if k != "total")
            if n or i == 0
        ]
        said = translate("EditReport", "{group} (%Ln): {parts}", None, total)
        groups.append(said.format(group=_group_name(group), parts=join_list(shown)))
    counts = translate("EditReport", "; ").join(groups)
    return translate("EditReport", "{edit}: {counts}").format(edit=op_title(report.op), counts=counts)


def report_rows(report: EditReport, refused: bool = False) -> list[tuple[str, str, str]]:
    """(key, change, severity) rows of a preview table, what needs a look first.

    Mismatches, exclusions, patterns that matched nothing and source keys with no place
    in the target come before the (often hundreds of) keys that simply change. A refused
    edit changes nothing: only its problems are listed. Core words (``--exclude``) are
    given as the dialog's field labels.
    """
    fields = OPERATIONS[report.op].params if report.op in OPERATIONS else ()
    labels = {f.name: field_label(f) for f in fields}
    rows: list[tuple[str, str, str]] = []
    rows += [
        (m["key"], problem_text(m["problem"]), "error") for m in report.mismatches if "problem" in m
    ]  # average, lora, ema
    mismatch = translate(
        "EditDialog", "mismatch: {source_shape} {source_dtype} vs target {target_shape} {target_dtype}"
    )
    rows += [(m["key"], mismatch.format(source_shape=m["source_shape"], source_dtype=m["source_dtype"],
                                        target_shape=m["target_shape"], target_dtype=m["target_dtype"]), "error")
             for m in report.mismatches if "problem" not in m]  # fmt: skip
    unmatched = translate("EditDialog", "“{label}” pattern matched nothing")
    rows += [(u["pattern"], unmatched.format(label=labels.get(u["param"], u["param"])), "warning")
             for u in report.unmatched]  # fmt: skip
    excluded = [s for s in report.skipped if s["reason"] == "excluded"]
    rows += [(s["key"], translate("EditDialog", "excluded (the target's tensor is kept)"), "warning") for s in excluded]
    not_grafted = translate("EditDialog", "not grafted: {reason}")
    rows += [(s["key"], not_grafted.format(reason=window_words(skip_reason(s["reason"]), fields)), "muted")
             for s in report.skipped if s not in excluded]  # fmt: skip
    if refused:
        return rows
    rows += [(a, f"→ {b}", "") for a, b in report.renamed]
    verbs = {"cast": translate("EditDialog", "cast to {dtype}").format(dtype=report.params.get("dtype")),
             "graft": translate("EditDialog", "grafted from the source"),
             "average": translate("EditDialog", "averaged"), "merge_lora": translate("EditDialog", "LoRA merged"),
             "resize_head": translate("EditDialog", "resized")}  # fmt: skip
    verb = verbs.get(report.op, translate("EditDialog", "changed"))
    renamed = {a for a, _ in report.renamed}
    rows += [(k, verb, "") for k in report.changed if k not in renamed]
    rows += [(k, translate("EditDialog", "removed"), "warning") for k in report.removed]
    return rows


def headline(report: EditReport) -> str:
    """The preview's one-line summary: in English the core report's own, so that the dialog, the CLI
    and the status bar after Apply count the same things in the same words; in another language the
    same counts (``report.counts``), translated."""
    if current_language() == "en" or not report.counts:
        return report.summary
    return translated_summary(report)


def report_text(report: EditReport, fields: tuple[Param, ...] = ()) -> str:
    """The report in one plain line for the status bar after Apply: summary, then warnings."""
    fields = fields or (OPERATIONS[report.op].params if report.op in OPERATIONS else ())
    if current_language() == "en" or not report.counts:
        said = [f"{report.op.replace('_', ' ')}: {report.summary}"]
    else:
        said = [translated_summary(report)]
    said += [translate("EditDialog", "warning: {message}").format(message=edit_warning(w)) for w in report.warnings]
    return window_words(" · ".join(said), fields)


def window_words(message: str, fields: tuple[Param, ...]) -> str:
    """A core message in the window's words: CLI options become the quoted field labels.

    Core errors speak to the CLI (``--skip-mismatched``); in a dialog the user sees the
    checkbox "Keep the target's tensor where shapes differ", so that is what is named.
    """
    # longest options first: "--map" must not eat part of a longer option
    for f in sorted(fields, key=lambda f: -len(f.option)):
        quoted = f"“{field_label(f)}”".replace("\\", "\\\\")  # a replacement template: backslashes literal
        message = re.sub(rf"{re.escape(f.option)}(?![\w-])", quoted, message)
    for op in OPERATIONS.values():
        entry = translate("EditDialog", "Edit ▸ {entry}").format(entry=translate("EditOperation", op.menu))
        message = message.replace(f"ckpt {op.command} ", entry + " ")
    return message.replace("see ckpt compat", translate("EditDialog", "see Edit ▸ Check compatibility with…"))


@dataclass
class Refusal:
    """A preview the edit refused: its message, and the report of what it found (if any)."""

    message: str
    report: EditReport | None = None


class EditDialog(QDialog):
    """A parameter form and a preview table for one edit."""

    def __init__(
        self,
        parent: QWidget,
        title: str,
        fields: tuple[Param, ...],
        build: Callable[[dict[str, Any]], Callable],
        runner: TaskRunner,
        note: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 560)
        self.runner, self.build = runner, build
        self.outcome: tuple | None = None  # (new checkpoint, report, tree) of the preview
        self.base: Any = None  # the checkpoint the preview edits (set by the Editor)
        self.inputs: dict[str, Any] = {}
        self.fields = fields
        form = QFormLayout()
        for f in fields:
            w = self._input(f)
            form.addRow(field_label(f), w)
            if f.help:
                w.setToolTip(translate("EditOperation", f.help))
        self.summary = QLabel(translate("EditDialog", "Computing preview…"))
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)  # our markup; report text goes through esc()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([translate("EditDialog", "Key"), translate("EditDialog", "Change")])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(translate("EditDialog", "Apply"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if note:
            n = plain_label(note)  # may name a file
            n.setWordWrap(True)
            n.setStyleSheet("color: #8a8a8a;")
            layout.addWidget(n)
        layout.addLayout(form)
        self.sources_box = QVBoxLayout()  # average: the other checkpoints (use_sources)
        layout.addLayout(self.sources_box)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        self.finished.connect(self._closed)
        self._set_ok(False)
        QTimer.singleShot(0, self.refresh)

    def _closed(self, _result: int) -> None:
        """A closed dialog previews no more: a change still waiting would take the next dialog's slot."""
        self._timer.stop()
        self.runner.cancel("preview")

    def use_sources(self, label: str, sources: list, choose: Callable[[], None]) -> None:
        """A list of other checkpoints the edit reads (``sources``, shared with the editor) with
        Add… (``choose`` opens one and hands it to :meth:`add_source`) and Remove."""
        self.sources = sources
        self.source_list = QListWidget()
        self.source_list.setMaximumHeight(self.fontMetrics().height() * 6)
        add, remove = QPushButton(translate("EditDialog", "Add…")), QPushButton(translate("EditDialog", "Remove"))
        add.setAutoDefault(False)
        remove.setAutoDefault(False)
        add.clicked.connect(choose)
        remove.clicked.connect(self._remove_source)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        self.sources_box.addWidget(QLabel(label))
        self.sources_box.addWidget(self.source_list)
        self.sources_box.addLayout(buttons)

    def add_source(self, ckpt: Any, name: str) -> None:
        """Append an opened checkpoint to the list (its file name shown as plain text) and preview again."""
        self.sources.append(ckpt)
        self.source_list.addItem(printable(name))
        self._changed()

    def _remove_source(self) -> None:
        row = self.source_list.currentRow()
        if 0 <= row < len(self.sources):
            del self.sources[row]
            self.source_list.takeItem(row)
            self._changed()

    def _input(self, f: Param) -> QWidget:
        if f.kind == "check":
            w = QCheckBox()
            w.setChecked(bool(f.default))
            w.toggled.connect(self._changed)
        elif f.kind == "choice":
            w = QComboBox()
            w.addItems(f.choices)
            w.setCurrentText(str(f.default))
            w.currentTextChanged.connect(self._changed)
        else:
            w = QLineEdit(" ".join(f.default) if isinstance(f.default, list) else str(f.default or ""))
            w.setPlaceholderText(translate("EditOperation", f.placeholder) if f.placeholder else "")
            w.textChanged.connect(self._changed)
        self.inputs[f.name] = (f, w)
        return w

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, (f, w) in self.inputs.items():
            if f.kind == "check":
                out[name] = w.isChecked()
            elif f.kind == "choice":
                out[name] = w.currentText()
            elif f.kind == "list":
                out[name] = w.text().split()
            else:
                out[name] = w.text().strip()
        return out

    def set_value(self, name: str, value: Any) -> None:
        """Set a parameter as a user would (tests, and prefilling from the selection)."""
        f, w = self.inputs[name]
        if f.kind == "check":
            w.setChecked(bool(value))
        elif f.kind == "choice":
            w.setCurrentText(str(value))
        else:
            w.setText(" ".join(value) if isinstance(value, list) else str(value))

    def _changed(self, *_: Any) -> None:
        self._set_ok(False)
        self.summary.setText(translate("EditDialog", "Computing preview…"))
        self._timer.start()

    def refresh(self) -> None:
        self.outcome = None
        # a refused preview (a bad regex, a mismatch) is shown here, never as a box over the dialog
        self.runner.start("preview", self.build(self.values()), translate("EditDialog", "Preview"),
                          on_done=self._on_finished,
                          on_error=self._on_failed)  # fmt: skip

    def _on_finished(self, result: Any) -> None:
        if isinstance(result, Refusal):
            self._refused(result.message, result.report)
            return
        self.outcome = result
        report = result[1]
        text = f"<b>{esc(elide(window_words(headline(report), self.fields), 300))}</b>"
        if report.bytes_before != report.bytes_after:
            said = translate("EditDialog", "tensor bytes {before} → {after}")
            text += " · " + esc(
                said.format(before=human_bytes(report.bytes_before), after=human_bytes(report.bytes_after))
            )
        for w in report.warnings:  # before Apply, in the dialog: the same warnings the CLI prints
            said = translate("EditDialog", "<b>Warning:</b> {message}")
            words = esc(elide(window_words(edit_warning(w), self.fields), 300))
            text += "<br><span style='color:#ef6c00'>" + said.format(message=words) + "</span>"
        self.summary.setText(text)
        self._fill(report_rows(report))
        self._set_ok(True)

    def _on_failed(self, message: str, _details: str) -> None:
        self._refused(message)

    def _refused(self, message: str, report: EditReport | None = None) -> None:
        """Say why inside the dialog (never a box over it), with what the edit found listed."""
        self.outcome = None
        words = esc(elide(window_words(error_text(message), self.fields), 600))  # already said: unchanged
        said = translate("EditDialog", "<b>Cannot apply:</b> {message}").format(message=words)
        self.summary.setText(f"<span style='color:#d32f2f'>{said}</span>")
        self._fill(report_rows(report, refused=True) if report is not None else [])
        self._set_ok(False)

    def _fill(self, rows: list[tuple[str, str, str]]) -> None:
        colors = {"error": QColor("#d32f2f"), "warning": QColor("#ef6c00"), "muted": QColor("#888888")}
        shown = rows[:MAX_ROWS]
        self.table.setRowCount(len(shown) + (1 if len(rows) > MAX_ROWS else 0))
        for r, (key, change, severity) in enumerate(shown):
            a, b = QTableWidgetItem(printable(key)), QTableWidgetItem(printable(change))
            if severity in colors:
                b.setForeground(colors[severity])
            self.table.setItem(r, 0, a)
            self.table.setItem(r, 1, b)
        if len(rows) > MAX_ROWS:
            more = len(rows) - MAX_ROWS
            self.table.setItem(len(shown), 0, QTableWidgetItem(translate("EditDialog", "… %Ln more", None, more)))

    def rows(self) -> list[tuple[str, str]]:
        return [(self.table.item(r, 0).text(), self.table.item(r, 1).text() if self.table.item(r, 1) else "")
                for r in range(self.table.rowCount())]  # fmt: skip

    def _set_ok(self, enabled: bool) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(enabled)


class CompatDialog(QDialog):
    """The answer of 'would this source load into that model?'."""

    def __init__(self, parent: QWidget, report: Any) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("CompatDialog", "Compatibility"))
        self.resize(680, 480)
        ok = report.compatible
        target = Path(report.target)
        matched, missing, unexpected = report.matched, len(report.missing), len(report.unexpected)
        mismatched = len(report.mismatched)
        verdict = translate("CompatDialog", "Compatible") if ok else translate("CompatDialog", "Not compatible")
        counts = " · ".join([
            translate("CompatDialog", "%Ln key(s) match", None, matched),
            translate("CompatDialog", "%Ln missing", None, missing),
            translate("CompatDialog", "%Ln unexpected", None, unexpected),
            translate("CompatDialog", "%Ln shape mismatch(es)", None, mismatched),
        ])  # fmt: skip
        into = translate("CompatDialog", "load_state_dict(strict=True) of {source} into the model of {target}").format(
            source=esc(elide(report.source, 200)), target=esc(elide(target.name, 120))
        )
        head = QLabel(
            f"<b style='color:{'#2e7d32' if ok else '#d32f2f'}'>{verdict}</b> — {esc(counts)}<br>"
            f"<span style='color:#8a8a8a'>{into}</span>"
        )
        head.setToolTip(tooltip(report.target))  # the whole path, where the line has only the name
        head.setWordWrap(True)
        head.setTextFormat(Qt.TextFormat.RichText)  # our markup; names and paths go through esc()
        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels([translate("CompatDialog", "Key"), translate("CompatDialog", "Problem")])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        rows = [(k, translate("CompatDialog", "missing in the source")) for k in report.missing]
        rows += [(k, translate("CompatDialog", "unexpected (the target has no such key)")) for k in report.unexpected]
        shape = translate("CompatDialog", "shape {source} vs {target}")
        rows += [
            (m["key"], shape.format(source=m["source_shape"], target=m["target_shape"])) for m in report.mismatched
        ]
        self.table.setRowCount(len(rows))
        for r, (k, p) in enumerate(rows):
            self.table.setItem(r, 0, QTableWidgetItem(printable(k)))
            self.table.setItem(r, 1, QTableWidgetItem(printable(p)))
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        if report.suggested_maps:
            said = translate("CompatDialog", "Keys differ by a prefix: try the prefix map {map}.")
            tip = QLabel(said.format(map=f"<code>{esc(report.suggested_maps[0])}</code>"))
            tip.setTextFormat(Qt.TextFormat.RichText)
            tip.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(tip)
        layout.addWidget(self.table, 1)
        if not rows:  # an empty table says nothing: say that nothing needs fixing
            self.table.hide()
            fine = QLabel(
                translate("CompatDialog", "Every key of the model gets a tensor of its shape: nothing to fix.")
            )
            fine.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(fine, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
