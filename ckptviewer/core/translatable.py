"""Marks text the window translates, without importing Qt (core imports no Qt).

``QT_TRANSLATE_NOOP("Context", "text")`` returns ``text`` unchanged: the CLI prints it as it
is, while pyside6-lupdate finds the call by its name and puts the text in the window's
catalogue under ``Context``; the window shows ``QCoreApplication.translate(context, text)``.
Text with computed parts is a template with named placeholders (``{n}``, ``{key}``),
translated whole and filled in afterwards: see :class:`Message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # the name lupdate looks for
    """``text``, marked for translation under ``context`` (nothing else happens)."""
    return text


@dataclass(frozen=True)
class Message:
    """A template marked with :func:`QT_TRANSLATE_NOOP` and the values of its placeholders.

    ``str(message)`` is the English text (the CLI's); the window translates ``template``
    under ``context`` and then fills in ``params``.
    """

    context: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**{k: str(v) for k, v in self.params.items()})

    def render(self, translate) -> str:
        """The message in the language ``translate(context, template)`` gives (a value that is
        itself a Message is rendered the same way)."""
        params = {k: v.render(translate) if isinstance(v, Message) else v for k, v in self.params.items()}
        return translate(self.context, self.template).format(**params)
