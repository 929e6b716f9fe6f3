"""The window's language: Qt translators for our catalogue and Qt's own, switched at run time.

Every user-visible string in the window goes through :func:`translate` (Qt's
``QCoreApplication.translate``: pyside6-lupdate finds the calls by name) with an explicit
string-literal context, so that a subclass never changes where a string is looked up
(``self.tr`` would use the class name). Counts use ``%Ln`` (the locale's digit grouping)
with the count as the fourth argument, written as a plain name: lupdate skips the call
when it is an expression (``len(x)``, ``a.n``). In English "(s)" is resolved here
("1 tensor", "3 tensors"). A file-derived or computed part is a named placeholder filled
in after translation (``translate(C, "Saved {path}").format(path=...)``), never a fragment
glued to a translated one. Text from core (health-scan findings) is marked there with
``core.translatable.QT_TRANSLATE_NOOP`` and looked up here by its context.

The catalogues are ``resources/translations/ckptviewer_<code>.ts`` (sources, in git) and
the ``.qm`` files compiled from them (shipped in the wheel); ``make translations`` updates
both and lists what is left to translate; tests/gui/test_translations.py fails on the same.

The language is QSettings' ``language`` when the user chose one (View ▸ Language), else the
system locale (``LANG=zh_CN.UTF-8``). Installing a translator makes Qt post ``LanguageChange``
to every widget: widgets that build their text in code re-run it from ``changeEvent``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QObject, QSettings, QTranslator
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

SETTING = "language"
SOURCE_LANGUAGE = "en"  # the language of the strings in the code
CATALOGUE = "ckptviewer"  # ckptviewer_<code>.qm
# each language's name in itself: the menu entry a reader of that language recognises
NATIVE_NAMES = {"en": "English", "zh_CN": "简体中文"}

_translators: list[QTranslator] = []  # installed now (kept referenced: Qt does not own them)
_current: str | None = None

if QLocale().language() == QLocale.Language.C:  # LANG=C: counts still read 1,234 (Qt's C locale omits grouping)
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))


def translate(context: str, text: str, disambiguation: str | None = None, n: int = -1) -> str:
    """``text`` in the current language (``context`` names the catalogue's group; ``%n`` is ``n``).

    A plural the catalogues do not cover (none installed yet, as in a widget made without the
    application's window) reads as English: "1 tensor", "3 tensors", never "3 tensor(s)".
    """
    if n < 2**31:
        result = QCoreApplication.translate(context, text, disambiguation, n)
    else:  # Qt's count is a C int: a count past 2**31 (elements of a huge tensor) is filled in here
        result = QCoreApplication.translate(context, text, disambiguation, -1)
        result = result.replace("%Ln", format_count(n)).replace("%n", str(n))
    if n >= 0 and "(s)" in result:
        result = result.replace("(s)", "" if n == 1 else "s")
    if n >= 0 and "(es)" in result:  # "2 shape mismatches"
        result = result.replace("(es)", "" if n == 1 else "es")
    return result


class _LanguageWatcher(QObject):
    """Calls back when its widget receives LanguageChange (for helpers that are not widgets)."""

    def __init__(self, watched: QObject, callback: Callable[[], None], owner: QObject) -> None:
        super().__init__(owner)  # dies with its owner: never calls into a closed window
        self.callback = callback
        watched.installEventFilter(self)

    def eventFilter(self, _obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LanguageChange:
            self.callback()
        return False


def on_language_change(widget: QObject, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever ``widget`` is told the language changed."""
    _LanguageWatcher(widget, callback, widget)


def on_app_language_change(owner: QObject, callback: Callable[[], None]) -> None:
    """Call ``callback`` whenever the application's language changes, while ``owner`` lives
    (for objects that are not widgets, such as item models)."""
    app = QCoreApplication.instance()
    if app is not None:
        _LanguageWatcher(app, callback, owner)


def format_count(n: int) -> str:
    """``n`` with the current language's digit grouping (1,234,567)."""
    return QLocale().toString(n)


def join_list(parts: list[str]) -> str:
    """Items of a list in a sentence: "a, b, c" (in Chinese "a，b，c")."""
    return translate("List", ", ").join(parts)


def translations_dir() -> Path:
    """Where the compiled catalogues (``.qm``) are shipped."""
    return Path(str(resources.files("ckptviewer.resources") / "translations"))


def available_languages() -> list[str]:
    """The language codes the window can speak: the source language and every shipped catalogue."""
    codes = {SOURCE_LANGUAGE}
    for qm in translations_dir().glob(f"{CATALOGUE}_*.qm"):
        codes.add(qm.stem[len(CATALOGUE) + 1 :])
    return sorted(codes, key=lambda c: (c != SOURCE_LANGUAGE, c))


def match_language(locale: QLocale) -> str:
    """The available language closest to ``locale`` (zh_CN for zh_CN and zh_SG; English otherwise)."""
    available = available_languages()
    name = locale.name()  # "zh_CN"
    if name in available:
        return name
    if locale.language() == QLocale.Language.Chinese:  # Simplified for zh_SG too; Traditional is not shipped
        simplified = locale.script() != QLocale.Script.TraditionalChineseScript
        return "zh_CN" if simplified and "zh_CN" in available else SOURCE_LANGUAGE
    lang = name.split("_")[0]
    return next((c for c in available if c.split("_")[0] == lang), SOURCE_LANGUAGE)


def chosen_language(settings: QSettings) -> str:
    """The language the user chose (View ▸ Language), else the system locale's."""
    value = settings.value(SETTING, "")
    if isinstance(value, str) and value in available_languages():
        return value
    return match_language(QLocale.system())


def current_language() -> str:
    """The language installed now (the source language before :func:`install`)."""
    return _current or SOURCE_LANGUAGE


def install(code: str) -> None:
    """Make ``code`` the window's language: our catalogue and Qt's own (standard buttons).

    Removing and installing translators posts ``LanguageChange`` to every widget, so open
    windows retranslate; numbers formatted with QLocale follow the language too.
    """
    global _current
    app = QCoreApplication.instance()
    if app is None:
        raise RuntimeError("install() needs a QApplication")
    for old in _translators:
        app.removeTranslator(old)
    _translators.clear()
    if code != SOURCE_LANGUAGE:
        locale = QLocale(code)
    elif QLocale.system().language() not in (QLocale.Language.C, QLocale.Language.English):
        locale = QLocale.system()  # English words, the user's own digits and grouping
    else:
        locale = QLocale(QLocale.Language.English, QLocale.Country.UnitedStates)
    QLocale.setDefault(locale)
    ours = QTranslator(app)
    if ours.load(f"{CATALOGUE}_{code}", str(translations_dir())):
        _translators.append(ours)
    if code != SOURCE_LANGUAGE:
        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        qt = QTranslator(app)
        if qt.load(locale, "qtbase", "_", qt_dir):
            _translators.append(qt)
    for t in _translators:
        app.installTranslator(t)
    _current = code
    if not _translators:  # nothing installed: still tell the widgets (back to the source language)
        QCoreApplication.postEvent(app, QEvent(QEvent.Type.LanguageChange))


def ensure_installed(settings: QSettings) -> None:
    """Install the chosen (or the system's) language once per process."""
    if _current is None:
        install(chosen_language(settings))


def set_language(code: str, settings: QSettings) -> None:
    """Switch to ``code`` now (open windows retranslate) and remember it."""
    settings.setValue(SETTING, code)
    install(code)


def language_actions(menu: QMenu, settings: QSettings, on_change: Callable[[str], None] | None = None) -> QActionGroup:
    """View ▸ Language: one checkable entry per available language, named in that language."""
    group = QActionGroup(menu)
    group.setExclusive(True)
    for code in available_languages():
        action = QAction(NATIVE_NAMES.get(code, code), menu)  # never translated: each in its own language
        action.setCheckable(True)
        action.setChecked(code == current_language())
        action.setData(code)
        action.triggered.connect(lambda _=False, c=code: _choose(c, settings, on_change))
        group.addAction(action)
        menu.addAction(action)

    def show_current() -> None:  # another window's menu may have switched: show the language in use
        for action in group.actions():
            action.setChecked(action.data() == current_language())

    menu.aboutToShow.connect(show_current)
    return group


def _choose(code: str, settings: QSettings, on_change: Callable[[str], None] | None) -> None:
    set_language(code, settings)
    if on_change is not None:
        on_change(code)
