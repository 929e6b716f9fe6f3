"""The Edit menu and the working copy's dialogs: previews, apply, undo/redo, save, recipe.

The state (the working copy, undo and redo stacks, where it was saved) is the window's
:class:`~ckptviewer.app.document.Document`; this class only offers it through menus and
dialogs. Every edit produces a new Checkpoint (core edits are pure), so undo and redo
return the exact object shown before. Saving never touches any input file.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QSettings, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QFileDialog, QLabel, QMenu, QMessageBox, QStatusBar, QWidget

from ..app.document import Document
from ..core import Checkpoint, open_checkpoint
from ..core.edits import OPERATIONS, EditError, compat
from ..core.edits.registry import FROM, MORE, SECOND
from ..core.errors import CheckpointError
from ..core.recipe import recipe, replayable
from ..core.tree import TreeNode, build_tree
from . import engine
from .core_errors import error_text
from .edit_dialogs import CompatDialog, EditDialog, Refusal, op_title, report_text
from .i18n import current_language, translate
from .text import elide, message_box, printable
from .workers import TaskRunner


class EditorHost(Protocol):
    """What the Editor needs of its window (the window is not imported: no import cycle)."""

    doc: Document
    runner: TaskRunner
    settings: QSettings
    close_action: QAction
    edit_label: QLabel

    @property
    def ckpt(self) -> Checkpoint | None: ...

    @property
    def path(self) -> Path | None: ...

    def statusBar(self) -> QStatusBar: ...

    def report_error(self, message: str, details: str = "") -> None: ...

    def update_actions(self) -> None: ...


def save_filter() -> str:
    """The Save As dialog's file types, in the current language."""
    return translate("Editor", "PyTorch checkpoint (*.pth *.pt);;safetensors (*.safetensors);;All files (*)")


def open_filter() -> str:
    """The file types of the dialogs that open another checkpoint, in the current language."""
    return translate("Editor", "PyTorch checkpoints (*.pth *.pt *.bin *.ckpt *.safetensors *.tar);;All files (*)")


def _edit_task(fn):
    """Worker function: run the edit, and build the new tree off the UI thread as well."""

    def work(progress=None, cancel=None):
        try:
            new, report = fn()
        except EditError as exc:  # a refusal is the preview's answer, shown in the dialog with its report
            return Refusal(str(exc), exc.report)
        return new, report, build_tree(new)

    return work


class Editor(QObject):
    """Edit menu, undo/redo stacks and saving for a MainWindow."""

    changed = Signal()
    saved = Signal(object)  # SaveReport
    dialog_ready = Signal(object)  # the graft or compatibility dialog, once its file is open

    def __init__(self, window: Any) -> None:  # an EditorHost (a QWidget: Qt parents it)
        super().__init__(window)
        self.w: EditorHost = window
        self.widget: QWidget = window  # the same window, as Qt's parent of dialogs and actions
        self.doc = window.doc
        self.ask_before_discard = True
        self.dialog: Any = None
        self.last_save = None

    # --- menus ---------------------------------------------------------------------------

    def _action(self, slot, shortcut: Any = None) -> QAction:
        """An action of the window (its text is set by :meth:`retranslate`)."""
        action = QAction(self.widget)
        action.triggered.connect(slot)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def build_menus(self, file_menu: QMenu, edit_menu: QMenu) -> None:
        self.save_action = self._action(self.save, QKeySequence.StandardKey.Save)
        self.save_as_action = self._action(self.save_as, QKeySequence.StandardKey.SaveAs)
        self.recipe_action = self._action(self.choose_recipe)
        file_menu.insertActions(self.w.close_action, [self.save_action, self.save_as_action, self.recipe_action])
        file_menu.insertSeparator(self.w.close_action)
        self.undo_action = self._action(self.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._action(self.redo, "Ctrl+Shift+Z")
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        self.op_actions = {  # the Edit menu is the operation registry
            name: self._action(self._opener(name)) for name in OPERATIONS
        }
        edit_menu.addActions(list(self.op_actions.values()))
        edit_menu.addSeparator()
        self.compat_action = self._action(self.choose_compat)
        edit_menu.addAction(self.compat_action)
        self.retranslate()

    def retranslate(self) -> None:
        """The menu entries in the current language (the window calls this on LanguageChange)."""
        self.save_action.setText(translate("Editor", "&Save"))
        self.save_as_action.setText(translate("Editor", "Save &As…"))
        self.recipe_action.setText(translate("Editor", "Export &recipe…"))
        for name, action in self.op_actions.items():  # the registry's entries, marked EditOperation there
            action.setText(translate("EditOperation", OPERATIONS[name].menu))
        self.compat_action.setText(translate("Editor", "Check compatibility with…"))
        self.refresh()

    def _opener(self, name: str) -> Any:
        """What the menu entry of operation ``name`` does: ask for its other input(s) first, if any."""
        sources = OPERATIONS[name].sources
        if sources == FROM:
            return self.choose_graft
        if sources == SECOND:
            return lambda _=False: self.choose_second(name)
        if sources == MORE:
            return lambda _=False: self.edit_with_more(name)
        return lambda _=False: self.edit(name)

    def add_node_actions(self, menu: QMenu, node: TreeNode) -> None:
        """Edits offered on a tree row, prefilled with that row."""
        path = node.path

        def entry(op: str) -> str:  # the Edit menu's own words
            return translate("EditOperation", OPERATIONS[op].menu)

        menu.addAction(entry("extract"), lambda: self.edit("extract", keys=[f"{path}.*" if node.children else path],
                                                           reroot=f"{path}." if node.children else ""))  # fmt: skip
        menu.addAction(entry("drop"), lambda: self.edit("drop", keys=[path]))
        menu.addAction(entry("cast"), lambda: self.edit("cast", keys=[f"{path}.*" if node.children else path]))
        menu.addAction(entry("rename"), lambda: self.edit("rename", pattern=f"^{_relative(self.w.ckpt, path)}"))
        menu.addAction(entry("strip"), lambda: self.edit("strip"))

    # --- state (the document's) -------------------------------------------------------------

    @property
    def modified(self) -> bool:
        return self.doc.modified

    @property
    def output(self) -> Path | None:
        return self.doc.output

    def named_actions(self) -> dict[str, QAction]:
        """The Edit and File actions this class made, by their name in app.actions."""
        return {"save": self.save_action, "save_as": self.save_as_action, "export_recipe": self.recipe_action,
                "undo": self.undo_action, "redo": self.redo_action, "compat": self.compat_action,
                **self.op_actions}  # fmt: skip

    def refresh(self) -> None:
        """Texts that follow the document (enabled states are set by the window)."""
        if not hasattr(self, "undo_action"):
            return
        doc = self.doc
        why = replayable(doc.ckpt) if doc.ckpt is not None else None
        self.recipe_action.setStatusTip(
            translate("Editor", "No recipe: {why}").format(why=why)
            if why
            else translate("Editor", "A torch-only script that replays the edits")
        )
        undo, redo = _edit_name(doc.undo_label), _edit_name(doc.redo_label)
        self.undo_action.setText(
            translate("Editor", "&Undo {edit}").format(edit=undo) if undo else translate("Editor", "&Undo")
        )
        self.redo_action.setText(
            translate("Editor", "&Redo {edit}").format(edit=redo) if redo else translate("Editor", "&Redo")
        )
        # what undo takes back and redo does again, in the report's words (status bar on hover)
        undone = doc.ckpt.history[-1] if doc.ckpt is not None and doc.undo_stack and doc.ckpt.history else None
        redone = doc.redo_stack[-1].ckpt.history[-1] if doc.redo_stack and doc.redo_stack[-1].ckpt.history else None
        undo_tip = translate("Editor", "Undo {what}").format(what=report_text(undone)) if undone else ""
        redo_tip = translate("Editor", "Redo {what}").format(what=report_text(redone)) if redone else ""
        self.undo_action.setStatusTip(elide(undo_tip, 400))
        self.redo_action.setStatusTip(elide(redo_tip, 400))
        n = doc.n_edits
        self.w.edit_label.setVisible(n > 0)
        self.w.edit_label.setText(
            translate("Editor", "Working copy: %Ln edit(s), not saved", None, n)
            if doc.modified
            else translate("Editor", "Working copy: %Ln edit(s), saved", None, n)
        )
        self.changed.emit()

    def undo(self) -> None:
        self.doc.undo()

    def redo(self) -> None:
        self.doc.redo()

    def confirm_discard(self) -> bool:
        """True if there are no unsaved edits, or the user agrees to lose them."""
        if not self.modified or not self.ask_before_discard:
            return True
        buttons = QMessageBox.StandardButton
        box = message_box(
            self.widget, QMessageBox.Icon.Question, translate("Editor", "Unsaved edits"),
            translate("Editor", "{name} has edits that are not saved.").format(name=elide(self.w.path.name))
            if self.w.path else translate("Editor", "The working copy has edits that are not saved."),
            buttons=buttons.Save | buttons.Discard | buttons.Cancel, default=buttons.Save,
        )  # fmt: skip
        box.exec()
        answer = box.standardButton(box.clickedButton()) if box.clickedButton() else buttons.Cancel
        if answer == buttons.Save:
            self.save()  # saving runs in the background: the tab stays open until it is done
            return False
        return answer == buttons.Discard

    # --- edits ---------------------------------------------------------------------------

    def edit(self, op: str, **prefill: Any) -> EditDialog | None:
        """Open the dialog of operation ``op`` (prefilled); Apply keeps the previewed result."""
        ckpt = self.w.ckpt
        if ckpt is None:
            return None
        return self._dialog(OPERATIONS[op], ckpt, None, translate("EditOperation", OPERATIONS[op].note), prefill)

    def _dialog(self, operation: Any, ckpt: Checkpoint, source: Any, note: str,
                prefill: dict[str, Any] | None = None) -> EditDialog:  # fmt: skip
        def build(values: dict[str, Any]):
            others = list(source) if isinstance(source, list) else source  # average's list, as it is now
            return _edit_task(lambda: operation.apply(ckpt, values, others))

        params = operation.params
        if operation.name == "strip":  # show what would be stripped
            detected = " + ".join(ckpt.prefixes) or translate("Editor", "none found")
            said = translate("Editor", "detected: {prefixes}").format(prefixes=detected)
            params = tuple(replace(p, placeholder=said) if p.name == "prefix" else p for p in params)
        dialog = EditDialog(self.widget, op_title(operation.name), params, build, self.w.runner, note)
        dialog.base = ckpt
        for name, value in (prefill or {}).items():
            dialog.set_value(name, value)
        dialog.accepted.connect(lambda: self._accept(dialog))
        self._show(dialog)
        return dialog

    def _accept(self, dialog: EditDialog) -> None:
        if dialog.outcome is None:
            return
        new, report, root = dialog.outcome
        if dialog.base is not self.doc.ckpt:
            return  # the working copy changed under the dialog (undo, another edit): its preview is stale
        self.doc.apply(new, root, report.op.replace("_", " "))  # the undo label (op_title names it)
        # the report after Apply: the preview's summary and warnings, in the same words
        self.w.statusBar().showMessage(elide(report_text(report, dialog.fields), 400), 15_000)

    def graft_from(self, source_path: str | os.PathLike) -> None:
        """Open ``source_path`` (safely, in a worker), then show the graft dialog (``dialog_ready``)."""
        self.edit_with("graft", source_path)

    def edit_with(self, op: str, source_path: str | os.PathLike) -> None:
        """Open ``source_path`` (safely, in a worker), then show the dialog of ``op`` reading it."""
        target = self.w.ckpt
        if target is None:
            return
        self.w.runner.start(
            "aux",
            lambda progress, cancel: open_checkpoint(source_path, device="cpu", cancel=cancel),
            translate("Editor", "Opening {name}").format(name=printable(Path(source_path).name)),
            on_done=lambda source: self._source_dialog(op, target, source, Path(source_path)),
        )

    def _source_dialog(self, op: str, target: Checkpoint, source: Checkpoint, source_path: Path) -> None:
        operation = OPERATIONS[op]
        note = translate("Editor", "From {name}: {note}").format(
            name=elide(source_path.name), note=translate("EditOperation", operation.note)
        )
        self._dialog(operation, target, source, note)

    def choose_graft(self) -> None:
        title = translate("Editor", "Graft tensors from")
        path, _ = QFileDialog.getOpenFileName(self.widget, title, self._folder(), open_filter())
        if path:
            self.graft_from(path)

    def choose_second(self, op: str) -> None:
        """merge-lora: the adapter is a folder (adapter_config.json + adapter_model.safetensors)."""
        title = translate("Editor", "Choose the LoRA adapter folder")
        path = QFileDialog.getExistingDirectory(self.widget, title, self._folder())
        if path:
            self.edit_with(op, path)

    def edit_with_more(self, op: str) -> EditDialog | None:
        """average: the dialog lists the other checkpoints (Add… opens each); this one comes first."""
        ckpt = self.w.ckpt
        if ckpt is None:
            return None
        operation = OPERATIONS[op]
        others: list[Checkpoint] = []
        dialog = self._dialog(operation, ckpt, others, translate("EditOperation", operation.note))
        label = translate("Editor", "Averaged with (in order, after this one)")
        dialog.use_sources(label, others, lambda: self._choose_more(dialog))
        return dialog

    def _choose_more(self, dialog: EditDialog) -> None:
        title = translate("Editor", "Add a checkpoint to average")
        path, _ = QFileDialog.getOpenFileName(dialog, title, self._folder(), open_filter())
        if not path:
            return
        self.w.runner.start(
            "aux",
            lambda progress, cancel: open_checkpoint(path, device="cpu", cancel=cancel),
            translate("Editor", "Opening {name}").format(name=printable(Path(path).name)),
            on_done=lambda source: dialog.add_source(source, Path(path).name),
        )

    def compat_with(self, target_path: str | os.PathLike) -> None:
        """Would the current checkpoint load into the model of ``target_path``? (in a worker)"""
        source = self.w.ckpt
        if source is None:
            return

        # what is checked is the working copy, not the file on disk: name it so
        name = self.doc.describe() if self.doc.n_edits else str(source.path)

        def work(progress, cancel):
            return replace(compat(source, open_checkpoint(target_path, device="cpu", cancel=cancel)), source=name)

        label = translate("Editor", "Opening {name}").format(name=printable(Path(target_path).name))
        self.w.runner.start("aux", work, label,
                            on_done=lambda report: self._show(CompatDialog(self.widget, report)))  # fmt: skip

    def _show(self, dialog) -> None:
        self.dialog = dialog
        dialog.open()
        self.dialog_ready.emit(dialog)

    def choose_compat(self) -> None:
        title = translate("Editor", "Check compatibility with")
        path, _ = QFileDialog.getOpenFileName(self.widget, title, self._folder(), open_filter())
        if path:
            self.compat_with(path)

    # --- saving --------------------------------------------------------------------------

    def _folder(self) -> str:
        return str(self.w.settings.value("last_folder", str(Path.home())))

    def save(self) -> None:
        if self.output is None:
            self.save_as()
        else:
            self.save_to(self.output)

    def save_as(self) -> None:
        ckpt = self.w.ckpt
        if ckpt is None:
            return
        suggestion = Path(self._folder()) / f"{ckpt.path.stem}.edited{ckpt.path.suffix or '.pth'}"
        title = translate("Editor", "Save checkpoint as")
        path, _ = QFileDialog.getSaveFileName(self.widget, title, str(suggestion), save_filter())
        if path:  # the dialog itself asked before replacing an existing file
            self.save_to(path)

    def save_to(self, path: str | os.PathLike) -> None:
        """Write the working copy to ``path`` in a worker (progress, Cancel, verify)."""
        ckpt = self.w.ckpt
        if ckpt is None:
            return
        target = Path(path)

        def work(progress, cancel):
            engine.load()  # saving writes tensors: torch, imported in the background after the first paint
            from ..core.save import save

            return save(ckpt, target, force=True, progress=progress, cancel=cancel)

        self.w.runner.start("save", work, translate("Editor", "Saving {name}").format(name=printable(target.name)),
                            on_done=lambda report: self._saved(ckpt, target, report))  # fmt: skip
        self.w.update_actions()

    def _saved(self, ckpt: Checkpoint, path: Path, report: Any) -> None:
        self.last_save = report
        if ckpt is self.doc.ckpt:  # what was saved is still what is shown
            self.doc.saved(path)
        n = report.n_tensors
        said = (
            translate("Editor", "Saved {name} (%Ln tensor(s), verified)", None, n)
            if report.verified
            else translate("Editor", "Saved {name} (%Ln tensor(s), NOT verified)", None, n)
        )
        self.w.statusBar().showMessage(said.format(name=elide(path.name)), 10_000)
        self.saved.emit(report)

    def choose_recipe(self) -> None:
        ckpt = self.w.ckpt
        if ckpt is None or not ckpt.history:
            return
        default = Path(self._folder()) / f"{ckpt.path.stem}_recipe.py"
        title = translate("Editor", "Export recipe")
        path, _ = QFileDialog.getSaveFileName(self.widget, title, str(default), translate("Editor", "Python (*.py)"))
        if path:
            self.export_recipe(path)

    def export_recipe(self, path: str | os.PathLike) -> Path | None:
        """Write the recipe to ``path``; a refusal (why it cannot be replayed) is reported."""
        ckpt = self.w.ckpt
        if ckpt is None:
            return None
        out = self.output or Path(self._folder()) / f"{ckpt.path.stem}.edited.pth"
        try:
            text = recipe(ckpt, out)
        except CheckpointError as exc:
            self.w.report_error(translate("Editor", "No recipe written: {why}").format(why=error_text(str(exc))))
            return None
        from ..core.export import atomic_write  # torch: in by now, or this waits for the background import

        with atomic_write(path, "w") as f:
            f.write(text)
        self.w.statusBar().showMessage(
            translate("Editor", "Recipe written to {path}").format(path=elide(path, 200)), 8000
        )
        return Path(path)


def _edit_name(label: str) -> str:
    """An undo label ("merge lora") as Undo/Redo name it: the label itself in English (the
    CLI's words), the operation's translated title in another language."""
    return label if not label or current_language() == "en" else op_title(label)


def _relative(ckpt: Checkpoint | None, key: str) -> str:
    """``key`` relative to the model state_dict (what rename patterns see)."""
    if ckpt is None or not ckpt.state_dict_key:
        return key
    return key.removeprefix(ckpt.state_dict_key + ".")
