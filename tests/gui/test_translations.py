"""The window speaks the user's language: the catalogue matches the code, the zh_CN window
shows no English of ours, and switching language retranslates open windows.

The walk (tests/gui/window_texts.py) covers the main window, every side tab, the comparison
window, the keyboard-shortcuts dialog, every Edit dialog with its preview, the compatibility
dialog, the Edit menu after an edit and the run view of a real training run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QSettings, Qt

from ckptviewer.gui import i18n
from ckptviewer.gui.tabs import TabbedWindow

ROOT = Path(__file__).resolve().parents[2]
TS = ROOT / "ckptviewer" / "resources" / "translations" / "ckptviewer_zh_CN.ts"
# ASCII words a Chinese window shows as they are: formats, dtypes, units, keys, symbols, names
ALLOWED = {
    "NaN", "nan", "Inf", "inf", "float16", "float32", "bfloat16", "int64", "fp16", "B", "KiB", "MiB", "GiB",
    "TiB", "A", "Ctrl", "Shift", "URL", "CSV", "JSON", "NumPy", "PEFT", "Hugging", "Face", "GGUF", "LoRA",
    "BatchNorm", "BN", "L2", "atol", "rtol", "max", "ckptviewer", "torch", "PyTorch", "Lightning", "cpu",
    "cuda", "e", "x", "B−A", "cos", "running", "var", "lora", "SGD", "Adam", "AdamW", "weights", "only",
    "English",  # View ▸ Language names each language in itself
    "CPU", "EMA", "HTTP", "S3", "DDP", "rsLoRA", "float64", "zeros", "normal", "kaiming",  # names, init choices
    "scale", "peft", "shadow",  # the LoRA formula's and EMA conventions' own names
    "zip",  # a format an error names
}  # fmt: skip


def _catalogue() -> dict[tuple[str, str], str]:
    out = {}
    for context in ET.parse(TS).getroot().iter("context"):
        name = context.findtext("name") or ""
        for m in context.iter("message"):
            out[(name, m.findtext("source") or "")] = m.findtext("translation") or ""
    return out


def test_the_catalogue_has_every_string_of_the_code_translated_and_compiled():
    """What CI checks: lupdate over the code finds nothing new or stale, every zh_CN entry is
    finished with the source's placeholders, every marked call is one lupdate reads, and the
    shipped .qm is what lrelease makes of the .ts."""
    done = subprocess.run(
        [sys.executable, "tools/translations.py", "check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_check_fails_on_a_string_missing_from_the_catalogue(tmp_path):
    """The check is not vacuous: a new string in the code is reported until it is translated."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import translations
    finally:
        sys.path.remove(str(ROOT / "tools"))
    copy = tmp_path / TS.name
    copy.write_bytes(TS.read_bytes())
    tree = ET.parse(copy)
    first = next(tree.getroot().iter("context"))
    first.remove(next(first.iter("message")))  # as if the code had gained a string
    translations.write_ts(tree, copy)
    fresh = tmp_path / "fresh" / TS.name
    fresh.parent.mkdir()
    fresh.write_bytes(TS.read_bytes())
    translations.lupdate(fresh)
    assert any("not in the catalogue" in p for p in translations.problems(copy, fresh))
    tree = ET.parse(copy)
    tree.getroot().find("context/message/translation").set("type", "unfinished")  # type: ignore[union-attr]
    translations.write_ts(tree, copy)
    assert any("unfinished" in p for p in translations.problems(copy, fresh))


def test_the_system_locale_picks_the_language():
    assert i18n.match_language(QLocale("zh_CN")) == "zh_CN"
    assert i18n.match_language(QLocale("zh_SG")) == "zh_CN"  # Simplified Chinese too
    assert i18n.match_language(QLocale("zh_TW")) == "en"  # Traditional: not shipped, English
    assert i18n.match_language(QLocale("de_DE")) == "en"
    assert i18n.available_languages() == ["en", "zh_CN"]


# --- the zh_CN window, in a child process with LANG=zh_CN.UTF-8 --------------------------


@pytest.fixture(scope="module")
def zh_window(tmp_path_factory):
    """Every text of the window started with LANG=zh_CN.UTF-8 (start page, inspector, every side
    tab, a module, the comparison window, the shortcuts dialog, every menu)."""
    folder = tmp_path_factory.mktemp("zh")
    env = {**os.environ, "LANG": "zh_CN.UTF-8", "LC_ALL": "", "LANGUAGE": "", "QT_QPA_PLATFORM": "offscreen"}
    shots = os.environ.get("CKPT_SCREENSHOTS_ZH")  # e.g. /tmp/shots_zh: the screenshots looked at
    args = [sys.executable, str(ROOT / "tests" / "gui" / "window_texts.py"), str(folder / "texts.json")]
    done = subprocess.run([*args, *([shots] if shots else [])], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((folder / "texts.json").read_text())


WORD = r"[A-Za-z][A-Za-z0-9'−]*"


def _english_words(text: str, from_file: set[str]) -> list[str]:
    """ASCII words of ``text`` that should have been translated: markup, mnemonics, keys,
    paths, formulas and the file's own words taken out first."""
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\(&?[A-Z]\)", " ", text).replace("&", "")  # 文件(&F): a mnemonic, not a word
    text = re.sub(r"\S*[._/:=|\\]\S*", " ", text)  # keys, file names, URLs, code, |a−b|
    words = re.findall(WORD, text)
    return [
        w
        for w in words
        if w not in ALLOWED and w not in from_file and not re.fullmatch(r"[A-Z]|F\d+|\d*e|[a-z]?\d*|x[\dx]*", w)
    ]


def _untranslated(zh_window) -> list[str]:
    """Texts of the window still in English (words of ours, or a source text shown untranslated)."""
    from_file = {w for t in zh_window["from_file"] for w in re.findall(WORD, t)}
    catalogue = _catalogue()
    translated_sources = {s.replace("&", "") for (c, s), t in catalogue.items() if t and t != s}
    out = []
    for entry in zh_window["texts"]:
        text = entry["text"]
        plain = re.sub(r"<[^>]+>", "", text).replace("&", "")
        as_is = plain in ALLOWED or plain in from_file  # a word of the file's, a name: shown as it is
        if (plain in translated_sources and not as_is) or _english_words(text, from_file):
            out.append(f"{entry['where']}: {text!r} ({entry['kind']})")
    return sorted(set(out))


@pytest.mark.slow
def test_the_zh_CN_window_shows_no_english_of_ours(zh_window):
    texts = [t["text"] for t in zh_window["texts"]]
    assert "打开检查点" in texts  # the start page's heading, in Chinese
    assert any("个张量" in t for t in texts)  # counts in Chinese (the status line)
    assert any("为何重要" in t for t in texts)  # a health finding's why, in Chinese
    assert any("不同（精确）：11 个张量" in t for t in texts)  # the comparison's verdict
    shortcuts = [t["text"] for t in zh_window["texts"] if t["where"] == "keyboard shortcuts" and t["kind"] == "cell"]
    assert "文件 ▸ 对比 ▸ 文件" in shortcuts  # a CJK mnemonic "(&W)" is left out whole, as "&" is
    wheres = {t["where"] for t in zh_window["texts"]}
    for walked in ("edit dialog average", "edit dialog merge_lora", "edit dialog take_ema", "edit dialog resize_head",
                   "edit dialog graft", "compatibility", "run view", "after an edit"):  # fmt: skip
        assert walked in wheres  # the walk reached it: nothing there is left unchecked
    run_view = [t["text"] for t in zh_window["texts"] if t["where"] == "run view"]
    assert any("个检查点" in t for t in run_view)  # the run's summary counts, in Chinese
    assert _untranslated(zh_window) == []


def test_english_left_in_a_window_is_found():
    """The check is not vacuous: an English text of ours, or a source text shown as it is, is listed."""
    walk = {
        "from_file": ["fc1.weight"],
        "texts": [
            {"text": "已检查 3 个张量", "where": "w", "kind": "text"},
            {"text": "fc1.weight", "where": "w", "kind": "cell"},  # the file's own words
            {"text": "Analysing the run", "where": "run", "kind": "text"},
            {"text": "&Analyse again", "where": "run", "kind": "menu"},
        ],
    }
    assert _untranslated(walk) == ["run: '&Analyse again' (menu)", "run: 'Analysing the run' (text)"]


# --- switching at run time ------------------------------------------------------------------


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def restore_language():
    yield
    i18n.install(i18n.SOURCE_LANGUAGE)  # the rest of the session in English


def test_switching_language_retranslates_an_open_window(qtbot, settings, restore_language, tmp_path):
    import torch

    path = tmp_path / "m.pth"
    torch.save(
        {"fc.weight": torch.randn(4, 3), "fc.bias": torch.zeros(4), "bad.weight": torch.full((2, 2), float("nan"))},
        path,
    )
    shell = TabbedWindow(settings=settings)
    qtbot.addWidget(shell)
    shell.show()
    start = shell.current.start_page
    i18n.install("en")
    qtbot.waitUntil(lambda: start.open_button.text() == "Open…")
    page = shell.current
    with qtbot.waitSignal(page.scan_done, timeout=60_000):
        page.open_file(str(path))
    health = page.health_panel
    assert health.summary.text() == "3 tensors scanned: 1 error, 0 warnings, 0 notes."

    view = next(a.menu() for a in shell.menuBar().actions() if a.text() == "&View")
    language = next(a.menu() for a in view.actions() if a.text() == "&Language")
    chinese = next(a for a in language.actions() if a.data() == "zh_CN")
    assert chinese.text() == "简体中文" and not chinese.isChecked()
    chinese.trigger()  # View ▸ Language ▸ 简体中文
    qtbot.waitUntil(lambda: health.summary.text() == "已检查 3 个张量：1 个错误，0 个警告，0 条提示。")
    assert start.open_button.text() == "打开…"
    assert health.list.headerItem().text(0) == "张量"
    assert health.list.topLevelItem(0).text(2) == "4 个值中有 4 个 NaN"
    assert "为何重要" in health.why.text()
    assert page.status.totals_label.text().startswith("3 个张量 · 20 个模型参数")
    assert page.model.headerData(0, Qt.Orientation.Horizontal) == "名称"
    assert settings.value("language") == "zh_CN" and i18n.chosen_language(settings) == "zh_CN"  # remembered

    assert language.title() == "语言(&L)" and chinese.isChecked()
    english = next(a for a in language.actions() if a.data() == "en")
    english.trigger()
    qtbot.waitUntil(lambda: start.open_button.text() == "Open…")
    assert health.summary.text() == "3 tensors scanned: 1 error, 0 warnings, 0 notes."
    for p in shell.pages():
        p.runner.shutdown(10_000)


def test_a_count_past_2_31_is_said_whole(qapp, restore_language):
    """Qt's count is a C int; a tensor of 3e9 elements still reads 3,000,000,000."""
    i18n.install("en")
    assert i18n.translate("StatusLine", "%Ln tensor(s)", None, 3_000_000_000) == "3,000,000,000 tensors"
    assert i18n.translate("StatusLine", "%Ln tensor(s)", None, 1) == "1 tensor"
    i18n.install("zh_CN")
    assert i18n.translate("StatusLine", "%Ln tensor(s)", None, 3_000_000_000) == "3,000,000,000 个张量"


# --- errors and refusals in a zh_CN window, through its menus, file dialogs and buttons ------------------------


def _chinese_without_english(text: str, from_file: set[str]) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text) and _english_words(text, from_file) == []


def _shots(widget, name: str) -> None:
    """``widget`` saved under $CKPT_SCREENSHOTS_ZH3 (e.g. /tmp/shots_zh3) to be looked at; nothing when unset."""
    folder = os.environ.get("CKPT_SCREENSHOTS_ZH3")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(folder) / f"{name}.png"))


def test_failed_opens_and_a_refused_edit_are_said_in_chinese(qtbot, settings, restore_language, tmp_path):
    """File ▸ Open of a truncated checkpoint and of a text file, then Edit ▸ Average with… a checkpoint whose
    shapes differ: the error dialog, the status bar and the refused preview (summary and rows) in Chinese."""
    import torch
    from PySide6.QtWidgets import QApplication, QMessageBox

    from tests.gui.journeys.conftest import answer_file_dialog, menu_action, press_button

    good, other = tmp_path / "model.pth", tmp_path / "other.pth"
    torch.save({"model": {"fc.weight": torch.randn(4, 3), "fc.bias": torch.zeros(4)}}, good)
    torch.save({"model": {"fc.weight": torch.randn(5, 3), "fc.bias": torch.zeros(4)}}, other)
    cut, notes = tmp_path / "cut.pth", tmp_path / "notes.txt"
    cut.write_bytes(good.read_bytes()[:700])  # a download cut short
    notes.write_text("training notes\n" * 20)
    shell = TabbedWindow(settings=settings)
    qtbot.addWidget(shell)
    shell.resize(1024, 640)
    shell.show()
    i18n.install("en")
    open_action, average = menu_action(shell, "File", "Open"), menu_action(shell, "Edit", "Average with")
    i18n.install("zh_CN")
    from_file = {"fc", "weight", "bias"}
    page = shell.current
    for bad, name in ((cut, "error-truncated"), (notes, "error-not-a-checkpoint")):
        answer_file_dialog(qtbot, bad)
        open_action.trigger()
        qtbot.waitUntil(lambda: page.last_error is not None and page.last_error.isVisible(), timeout=60_000)
        box = page.last_error
        assert isinstance(box, QMessageBox) and str(bad) in box.text()
        assert _chinese_without_english(box.text(), from_file), box.text()
        assert _chinese_without_english(page.statusBar().currentMessage(), from_file)
        _shots(box, name)
        _shots(shell, name + "-window")
        box.close()
        page.last_error = None
    answer_file_dialog(qtbot, good)
    open_action.trigger()
    qtbot.waitUntil(lambda: page.ckpt is not None, timeout=60_000)
    average.trigger()
    qtbot.waitUntil(lambda: page.editor.dialog is not None and page.editor.dialog.isVisible(), timeout=60_000)
    dialog = page.editor.dialog
    qtbot.waitUntil(lambda: dialog.source_list.isVisible())  # the list and its buttons show once laid out
    answer_file_dialog(qtbot, other)
    press_button(dialog, "添加")
    qtbot.waitUntil(lambda: "无法应用" in dialog.summary.text() and bool(dialog.rows()), timeout=60_000)
    summary = re.sub(r"<[^>]+>", "", dialog.summary.text())
    assert _chinese_without_english(summary, from_file | {"pth"}), summary
    rows = dialog.rows()
    assert rows and all(_chinese_without_english(change, from_file | {"pth"}) for _, change in rows), rows
    dialog.resize(1024, 640)
    QApplication.processEvents()
    _shots(dialog, "refused-average-preview")
    dialog.reject()
    for p in shell.pages():
        p.runner.shutdown(10_000)
