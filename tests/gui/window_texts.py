"""Run as a script (``python tests/gui/window_texts.py OUT.json [SHOTS_DIR]``): the window in the
language LANG names, every text it shows collected into OUT.json, screenshots at 1024x640.

A child process, so that the locale is the process's own from the start (QLocale.system()
reads LANG once) and the translators it installs never reach the test process. It opens a
training checkpoint with health findings, selects a tensor, shows every side tab, opens a
comparison window and the keyboard-shortcuts dialog, and reads each visible widget's text,
tooltip, header, item and plot-axis label, and every menu entry of every window.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZE = (1024, 640)


def make_checkpoints(folder: Path) -> tuple[Path, Path]:
    """A DDP training checkpoint with findings (NaN, a dead row, a duplicate) and a changed copy."""
    import torch

    g = torch.Generator().manual_seed(0)
    model = {
        "module.conv1.weight": torch.randn(8, 3, 3, 3, generator=g),
        "module.bn1.weight": torch.rand(8, generator=g) + 0.5,
        "module.bn1.bias": torch.randn(8, generator=g) * 0.1,
        "module.bn1.running_mean": torch.randn(8, generator=g) * 0.1,
        "module.bn1.running_var": torch.rand(8, generator=g) + 0.5,
        "module.bn1.num_batches_tracked": torch.tensor(120),
        "module.fc1.weight": torch.randn(32, 72, generator=g) * 0.1,
        "module.fc1.bias": torch.randn(32, generator=g) * 0.1,
        "module.fc2.weight": torch.randn(10, 32, generator=g) * 0.1,
        "module.fc2.bias": torch.randn(10, generator=g) * 0.1,
    }
    model["module.fc1.weight"][3] = 0.0  # a dead output channel
    model["module.fc1.weight"][5, 7] = float("nan")
    model["module.fc3.weight"] = model["module.fc2.weight"].clone()  # bit-identical: a duplicate
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1, momentum=0.9)
    ckpt = {"epoch": 3, "global_step": 120, "model": model, "optimizer": opt.state_dict()}
    a = folder / "train_epoch3.pth"
    torch.save(ckpt, a)
    changed = {k: (v * 1.01 if v.is_floating_point() else v) for k, v in model.items()}
    b = folder / "train_epoch4.pth"
    torch.save({**ckpt, "epoch": 4, "model": changed}, b)
    return a, b


def _strip_html(text: str) -> str:
    text = re.sub(r"<[^>]+>", "", text).replace("&nbsp;", " ")
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _count(method) -> int:
    """A model's row or column count, however its binding wants it called (a list model's column
    count is private: one column)."""
    from PySide6.QtCore import QModelIndex

    for args in ((), (QModelIndex(),)):
        try:
            return method(*args)
        except TypeError:
            continue
    return 1


def widget_texts(widget, where: str) -> list[dict]:
    """What ``widget`` says: its text, tooltip, headers, items, combo entries, prefix, axis labels."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QAbstractSpinBox,
        QComboBox,
        QLabel,
        QTabBar,
        QTableWidget,
        QTreeWidget,
        QTreeWidgetItemIterator,
    )

    out: list[tuple[str, str]] = []
    if isinstance(widget, QLabel):
        out.append(("text", _strip_html(widget.text())))
    if isinstance(widget, QAbstractButton):
        out.append(("text", widget.text()))
    if isinstance(widget, QTabBar):
        out += [("tab", widget.tabText(i)) for i in range(widget.count())]
        out += [("tooltip", widget.tabToolTip(i)) for i in range(widget.count())]
    if isinstance(widget, QComboBox):
        out += [("item", widget.itemText(i)) for i in range(widget.count())]
    if isinstance(widget, QAbstractSpinBox):
        out.append(("prefix", getattr(widget, "prefix", lambda: "")()))
    if isinstance(widget, QAbstractItemView) and widget.model() is not None:
        model = widget.model()
        n_cols, n_rows = _count(model.columnCount), _count(model.rowCount)
        for col in range(n_cols):
            out.append(("header", str(model.headerData(col, Qt.Orientation.Horizontal) or "")))
            out.append(
                (
                    "header tooltip",
                    str(model.headerData(col, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole) or ""),
                )
            )
        if isinstance(widget, (QTreeWidget, QTableWidget)) or n_rows < 60:
            for row in range(min(n_rows, 60)):
                for col in range(n_cols):
                    index = model.index(row, col)
                    out.append(("cell", str(model.data(index) or "")))
                    out.append(("cell tooltip", str(model.data(index, Qt.ItemDataRole.ToolTipRole) or "")))
    if isinstance(widget, QTreeWidget):  # every row, children included (the Metadata tab's summary)
        it = QTreeWidgetItemIterator(widget)
        while it.value() is not None:
            item = it.value()
            out += [("cell", item.text(c)) for c in range(widget.columnCount())]
            it += 1
    out.append(("tooltip", widget.toolTip()))
    if widget.isWindow():
        out.append(("title", widget.windowTitle()))
    cls = type(widget)
    return [
        {"text": t, "kind": kind, "widget": cls.__name__, "module": cls.__module__, "where": where}
        for kind, t in out
        if t and t.strip()
    ]


def plot_texts(window, where: str) -> list[dict]:
    """Axis labels of every pyqtgraph plot under ``window``."""
    import pyqtgraph as pg

    out = []
    for plot in window.findChildren(pg.PlotWidget):
        if not plot.isVisible():
            continue
        for side in ("left", "bottom"):
            text = _strip_html(plot.getPlotItem().getAxis(side).labelText or "")
            if text.strip():
                out.append(
                    {
                        "text": text,
                        "kind": "axis",
                        "widget": type(plot).__name__,
                        "module": type(plot).__module__,
                        "where": where,
                    }
                )
    return out


def menu_texts(bar, where: str) -> list[dict]:
    """Every entry of every menu of ``bar`` (submenus filled as when they open)."""
    out = []

    def visit(menu, path):
        menu.aboutToShow.emit()  # menus filled when opened (Compare with, Open Recent)
        for action in menu.actions():
            if action.isSeparator():
                continue
            text = action.text()
            owner = type(action.parent()).__module__ if action.parent() is not None else ""
            out.append(
                {"text": text, "kind": "menu", "widget": "QAction", "module": owner, "where": f"{path} ▸ {text}"}
            )
            if action.toolTip() and action.toolTip() != text.replace("&", ""):
                out.append(
                    {
                        "text": action.toolTip(),
                        "kind": "menu tooltip",
                        "widget": "QAction",
                        "module": owner,
                        "where": f"{path} ▸ {text}",
                    }
                )
            if action.menu() is not None:
                visit(action.menu(), f"{path} ▸ {text}")

    for action in bar.actions():
        if action.menu() is not None:
            out.append({"text": action.text(), "kind": "menu", "widget": "QMenu", "module": "", "where": where})
            visit(action.menu(), action.text())
    return out


def window_texts(window, where: str) -> list[dict]:
    from PySide6.QtWidgets import QMainWindow, QWidget

    out = widget_texts(window, where)
    for w in window.findChildren(QWidget):
        if w.isVisible():
            out += widget_texts(w, where)
    out += plot_texts(window, where)
    if isinstance(window, QMainWindow):
        out += menu_texts(window.menuBar(), where)
    return out


def make_prep_files(folder: Path) -> tuple[Path, Path, Path]:
    """A timm-style checkpoint with EMA weights (state_dict, state_dict_ema), a copy of it to average
    with, and a PEFT LoRA adapter folder for its classifier."""
    import torch
    from safetensors.torch import save_file

    g = torch.Generator().manual_seed(1)
    sd = {"hidden.weight": torch.randn(8, 6, generator=g), "hidden.bias": torch.zeros(8),
          "fc.weight": torch.randn(10, 8, generator=g), "fc.bias": torch.zeros(10)}  # fmt: skip
    ema = {k: v * 0.5 for k, v in sd.items()}
    prep = folder / "prep.pth"
    torch.save({"state_dict": sd, "state_dict_ema": ema, "epoch": 9}, prep)
    other = folder / "prep_other.pth"
    torch.save({"state_dict": {k: v + 1 for k, v in sd.items()}, "state_dict_ema": ema, "epoch": 10}, other)
    adapter = folder / "adapter"
    adapter.mkdir(exist_ok=True)
    save_file({"base_model.model.fc.lora_A.weight": torch.randn(2, 8, generator=g),
               "base_model.model.fc.lora_B.weight": torch.randn(10, 2, generator=g)},
              adapter / "adapter_model.safetensors")  # fmt: skip
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 8}))
    return prep, other, adapter


def edit_dialog_texts(app, shell, page, folder: Path, b: Path, wait, shoot, from_file: list[str]) -> list[dict]:
    """Every Edit dialog with a preview that applies (what it would change), the compatibility dialog,
    and the Edit menu after an edit (Undo names it)."""
    from PySide6.QtWidgets import QDialogButtonBox

    from ckptviewer.core import open_checkpoint

    texts: list[dict] = []
    dialogs: list = []
    page.editor.dialog_ready.connect(dialogs.append)

    def previewed(dialog, name: str) -> None:
        ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
        try:
            wait(lambda: not dialog._timer.isActive() and not dialog.runner.is_running("preview")
                 and (ok.isEnabled() or "<b>" in dialog.summary.text()), 60_000)  # fmt: skip
        except SystemExit:
            raise SystemExit(f"{name}: no preview: {dialog.summary.text()!r} {dialog.runner._running}") from None
        if not ok.isEnabled():
            raise SystemExit(f"{name}: the preview refused: {dialog.summary.text()}")
        dialog.resize(*SIZE)
        texts.extend(window_texts(dialog, f"edit dialog {name}"))
        shoot(dialog, f"edit_{name}")

    prefill = {"extract": {"keys": ["model.module.fc1.*"]}, "drop": {"keys": ["model.module.fc3.*"]},
               "rename": {"pattern": "^module\\.", "repl": "m."}, "resize_head": {}}  # fmt: skip
    for op in ("strip", "add_prefix", "extract", "rename", "drop", "cast"):
        dialog = page.editor.edit(op, **prefill.get(op, {}))
        previewed(dialog, op)
        dialog.reject()
    page.editor.graft_from(b)
    wait(lambda: len(dialogs) >= 7 and dialogs[-1] is not None)
    previewed(dialogs[-1], "graft")
    dialogs[-1].reject()
    page.editor.compat_with(b)
    wait(lambda: type(dialogs[-1]).__name__ == "CompatDialog")
    compat = dialogs[-1]
    compat.resize(*SIZE)
    texts.extend(window_texts(compat, "compatibility"))
    shoot(compat, "compatibility")
    compat.reject()

    # the weight-preparation edits on a checkpoint that has EMA weights, in a tab of its own
    prep, other, adapter = make_prep_files(folder)
    prep_page = shell.new_tab(prep)
    wait(lambda: prep_page.doc.ckpt is not None)
    from_file += [*prep_page.doc.ckpt.tensors, prep.name, other.name, adapter.name]
    prep_dialogs: list = []
    prep_page.editor.dialog_ready.connect(prep_dialogs.append)
    dialog = prep_page.editor.edit("take_ema")
    previewed(dialog, "take_ema")
    dialog.reject()
    dialog = prep_page.editor.edit("resize_head", keys=["state_dict.fc.*"], rows="4")
    previewed(dialog, "resize_head")
    dialog.reject()
    dialog = prep_page.editor.edit_with_more("average")
    assert dialog is not None
    dialog.add_source(open_checkpoint(other, device="cpu"), other.name)
    previewed(dialog, "average")
    dialog.reject()
    prep_page.editor.edit_with("merge_lora", adapter)
    wait(lambda: any(type(d).__name__ == "EditDialog" and d.isVisible() for d in prep_dialogs))
    dialog = prep_dialogs[-1]
    previewed(dialog, "merge_lora")
    # Apply: the Edit menu's Undo now names the edit, the status bar says what it did
    dialog.accept()
    wait(lambda: bool(prep_page.doc.ckpt.history))
    prep_page.editor.ask_before_discard = False  # closing at the end: no "unsaved edits" question
    texts.extend(window_texts(shell, "after an edit"))
    shoot(shell, "after_edit")
    return texts


def run_view_texts(app, page, folder: Path, wait, shoot, from_file: list[str]) -> list[dict]:
    """File ▸ Open Run… on a real training run (tests/runs.py): the run window once analysed."""
    from tests.runs import make_run

    run_folder = make_run(folder / "run")
    windows: list = []
    page.run_opened.connect(windows.append)
    page.open_run(run_folder)
    wait(lambda: bool(windows) and windows[0].report is not None)
    window = windows[0]
    window.resize(*SIZE)
    report = window.report
    from_file += [run_folder.name, *(c.name for c in report.checkpoints), *(layer.key for layer in report.layers)]
    from_file += [m for c in report.checkpoints for m in c.metrics]
    window.show_finding(window.findings.findings[0])
    texts = window_texts(window, "run view")
    shoot(window, "run_view")
    window.close()
    return texts


def main(argv: list[str]) -> int:
    out_json = Path(argv[1])
    shots = Path(argv[2]) if len(argv) > 2 else None
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from ckptviewer.gui.tabs import TabbedWindow
    from ckptviewer.gui.theme import configure_plots

    folder = out_json.parent / "files"
    folder.mkdir(parents=True, exist_ok=True)
    a, b = make_checkpoints(folder)
    app = QApplication.instance() or QApplication([])
    configure_plots()
    settings = QSettings(str(out_json.parent / "settings.ini"), QSettings.Format.IniFormat)
    shell = TabbedWindow(settings=settings)
    shell.resize(*SIZE)
    shell.show()
    texts: list[dict] = []

    def wait(predicate, ms=120_000) -> None:
        timer = QTimer()
        timer.setSingleShot(True)
        timer.start(ms)
        while not predicate() and timer.isActive():
            app.processEvents()
        if not predicate():
            raise SystemExit(f"timed out: {predicate}")

    def shoot(widget, name: str) -> None:
        for _ in range(20):
            app.processEvents()
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            widget.grab().save(str(shots / f"{name}.png"))

    texts += window_texts(shell, "start page")
    shoot(shell, "start_page")
    page = shell.current
    done = {"scan": False, "report": False}
    page.scan_done.connect(lambda _r: done.__setitem__("scan", True))
    page.report_shown.connect(lambda _k: done.__setitem__("report", True))
    page.open_file(str(a))
    wait(lambda: done["scan"])
    page.select_key("model.module.fc1.weight")
    wait(lambda: done["report"])
    texts += window_texts(shell, "inspector")
    shoot(shell, "main_window")
    for i in range(page.tabs.count()):
        page.tabs.setCurrentIndex(i)
        texts += window_texts(shell, f"side tab {i}")
        shoot(shell, f"side_tab_{i}")
    page.select_key("model.module.fc1")  # a module: its summary and bar chart
    for _ in range(50):
        app.processEvents()
    page.tabs.setCurrentIndex(0)
    texts += window_texts(shell, "module")
    compare = page.comparisons.open(page.path, str(b), page.device)
    compare.resize(*SIZE)
    wait(lambda: compare.report is not None)
    wait(lambda: not compare.runner.is_running("pair"))
    texts += window_texts(compare, "comparison")
    shoot(compare, "comparison")
    from ckptviewer.gui.shortcuts import ShortcutsDialog, shortcut_rows

    dialog = ShortcutsDialog(shortcut_rows([shell.menuBar()]), shell)
    dialog.show()
    texts += window_texts(dialog, "keyboard shortcuts")
    shoot(dialog, "shortcuts")
    dialog.close()
    compare.close()
    ckpt = page.doc.ckpt
    assert ckpt is not None
    extra: list[str] = []  # what the other files say (the prep checkpoint, the run's files and metrics)
    texts += edit_dialog_texts(app, shell, page, folder, b, wait, shoot, extra)
    texts += run_view_texts(app, page, folder, wait, shoot, extra)
    # what the file itself says (keys, metadata, format): shown as it is, never translated
    from_file = [*ckpt.tensors, json.dumps(ckpt.metadata, default=str), ckpt.format, a.name, b.name, *ckpt.saved_on]
    from_file += extra
    out_json.write_text(json.dumps({"texts": texts, "from_file": from_file}, ensure_ascii=False))
    for p in shell.pages():
        p.runner.shutdown(10_000)
    shell.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
