"""What every ``ckpt`` command shares: escaped human text, JSON, tables, progress, opening."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..formatting import printable

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


def progress_line(label: str) -> Callable | None:
    """A stderr progress line for interactive terminals; None when piped."""
    if not sys.stderr.isatty():
        return None

    def show(p: Any) -> None:
        end = "\n" if p.done >= p.total else ""
        print(f"\r{label}: {p.fraction:6.1%}", end=end, file=raw_stream(sys.stderr), flush=True)

    return show


WIDEST = 100


def table(rows: list[list[str]], header: list[str], right: set[int]) -> None:
    """Aligned columns; ``right`` holds the indices of right-aligned (numeric) columns."""
    # a column is as wide as its longest cell up to WIDEST: one long key must not pad every row
    widths = [min(WIDEST, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]

    def line(r: list[str]) -> str:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        return "  ".join(cells).rstrip()

    print(line(header))
    for r in rows:
        print(line(r))


def open_input(path: str, args: argparse.Namespace, device: str | None = None) -> Any:
    """Open a command's input checkpoint (on ``device``, or the command's --device)."""
    from ..core import open_checkpoint

    return open_checkpoint(path, device=device or getattr(args, "device", "cpu"), trust=args.trust)


def fail(message: str) -> None:
    """One escaped line on stderr: ``ckpt: error: ...``."""
    print(f"ckpt: error: {' '.join(message.split())}", file=sys.stderr)
