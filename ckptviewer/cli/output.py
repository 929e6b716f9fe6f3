"""Output helpers shared by the ``ckpt`` commands: escaped human text, JSON, progress."""

from __future__ import annotations

import json
import sys
from typing import Any

from .formatting import printable

FORCE_HELP = (
    "compute even tensors whose logical size dwarfs their stored data (overlapping strides, huge sparse shapes)"
)


class SafeStream:
    """A text stream that shows every control character as an escape.

    Human output is made of lines that quote keys, names and paths from the file: an
    escape sequence or a carriage return in them must not reach the terminal (erasing
    the "NOT EXECUTED" line, writing the clipboard through OSC 52), and a newline must
    not forge a line. Only a write that is nothing but newlines (the end of a print)
    passes as it is. JSON goes around it (:func:`emit_json`), escaped by the encoder.
    """

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        if text and text.strip("\n"):
            text = printable(text)
        return self.raw.write(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stream(stream: Any) -> Any:
    """The stream under a :class:`SafeStream` (for JSON and our own progress line)."""
    return stream.raw if isinstance(stream, SafeStream) else stream


def emit_json(doc: Any) -> None:
    """``doc`` as indented JSON on stdout; every control character escaped by the encoder."""
    text = json.dumps(doc, indent=2, allow_nan=False).replace("\x7f", "\\u007f")
    out = raw_stream(sys.stdout)
    out.write(text)
    out.write("\n")
