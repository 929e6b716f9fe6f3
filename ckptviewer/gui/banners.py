"""The two strips above the tree: the safety banner (with Trust) and "changed on disk"."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from ..core import Checkpoint
from .i18n import translate
from .text import elide, esc, mnemonic_safe

BANNER_NAMES = 6  # globals named in the banner (all of them are in the Metadata tab)
BANNER_NAME_CHARS = 80  # a longer name is cut in the middle: the banner keeps its size
_STYLE = "Banner {{ background: {0}; border: 1px solid {1}; border-radius: 4px; }} QLabel {{ color: #202124; }}"


class Banner(QFrame):
    """The safety banner: code that was not executed (with Trust), plain data, or trusted."""

    trust_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.button = QPushButton()
        self.button.clicked.connect(self.trust_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._ckpt: Checkpoint | None = None
        self.retranslate()
        self.hide()

    def retranslate(self) -> None:
        """The banner's text in the current language."""
        self.button.setText(translate("Banner", "Trust this file and reload…"))
        if self._ckpt is not None and not self.isHidden():  # hidden by the window (closed): stays hidden
            self.show_for(self._ckpt)

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def show_for(self, ckpt: Checkpoint) -> None:
        """Say what opening ``ckpt`` did about the code it names (hidden when it names none)."""
        self._ckpt = ckpt
        blocked, inert = ckpt.blocked_globals, ckpt.inert_globals
        if blocked:
            self.setStyleSheet(_STYLE.format("#fdecea", "#f5c2c0"))
            self.label.setText(
                translate(
                    "Banner",
                    "<b>Safe mode.</b> This file names code that was <b>not executed</b>: {names}. "
                    "Those objects are shown as placeholders; every tensor is still listed.",
                ).format(names=_code_list(blocked))
            )
        elif inert:
            self.setStyleSheet(_STYLE.format("#eef4fc", "#c6dafc"))
            self.label.setText(
                translate(
                    "Banner", "Loaded as plain data (outside torch's weights-only allowlist, nothing executed): {names}"
                ).format(names=_code_list(inert))
            )
        elif ckpt.trusted:
            self.setStyleSheet(_STYLE.format("#fff4e5", "#ffd8a8"))
            self.label.setText(
                translate("Banner", "<b>Trusted:</b> fully unpickled with torch.load(weights_only=False).")
            )
        else:
            self.hide()
            return
        self.button.setVisible(bool(blocked))
        self.show()


def _code_list(names: list[str]) -> str:
    """File-derived global names for the banner's rich text: escaped, one line each, cut."""
    shown = ", ".join(f"<code>{esc(elide(g, BANNER_NAME_CHARS))}</code>" for g in names[:BANNER_NAMES])
    return shown + (" …" if len(names) > BANNER_NAMES else "")


class ReloadBanner(QFrame):
    """ "The file changed on disk": Reload or Dismiss (a reload is offered, never forced)."""

    reload_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet("QFrame { background: #fff8e1; border: 1px solid #ffe082; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        self.label = QLabel()
        layout.addWidget(self.label, 1)
        self.reload_button = QPushButton()
        self.reload_button.clicked.connect(self.reload_requested.emit)
        self.dismiss_button = QPushButton()
        self.dismiss_button.clicked.connect(self.hide)
        layout.addWidget(self.reload_button)
        layout.addWidget(self.dismiss_button)
        self.retranslate()
        self.hide()

    def retranslate(self) -> None:
        """The strip's text in the current language."""
        self.label.setText(translate("ReloadBanner", "The file changed on disk (a new checkpoint was written?)."))
        self.reload_button.setText(translate("ReloadBanner", "Reload"))
        self.dismiss_button.setText(translate("ReloadBanner", "Dismiss"))

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class PrefixBanner(QFrame):
    """The model keys carry a wrapper prefix (``module.`` from DDP, ``_orig_mod.`` from compile):
    one click opens Edit ▸ Strip prefix with it detected."""

    strip_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("PrefixBanner")
        self.setStyleSheet(
            "#PrefixBanner { background: #eef4fc; border: 1px solid #c6dafc; border-radius: 4px; } "
            "#PrefixBanner QLabel { color: #202124; }"
        )
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # the prefix is the file's text
        self.label.setWordWrap(True)
        self.button = QPushButton()
        self.button.clicked.connect(self.strip_requested.emit)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._ckpt: Checkpoint | None = None
        self.hide()

    def changeEvent(self, event) -> None:
        if event.type() == QEvent.Type.LanguageChange and self._ckpt is not None and not self.isHidden():
            self.show_for(self._ckpt)
        super().changeEvent(event)

    def show_for(self, ckpt: Checkpoint | None) -> None:
        """Offer to strip the wrapper prefixes of ``ckpt``'s model keys (hidden when there are none)."""
        self._ckpt = ckpt
        prefixes = ckpt.prefixes if ckpt is not None else []
        if not prefixes:
            self.hide()
            return
        shown = elide(" + ".join(prefixes), BANNER_NAME_CHARS)
        self.label.setText(
            translate(
                "PrefixBanner",
                "Every model key starts with {prefix} (a training wrapper): a plain model's load_state_dict "
                "expects the keys without it.",
            ).format(prefix=shown)
        )
        self.button.setText(mnemonic_safe(translate("PrefixBanner", "Strip {prefix}").format(prefix=shown)))
        self.show()
