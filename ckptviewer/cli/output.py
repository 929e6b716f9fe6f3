"""What every ``ckpt`` command shares: escaped human text, JSON, tables, progress, opening."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from ..formatting import elide_middle, printable

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


WIDEST = 100  # the widest a column gets
KEY_WIDTH = 80  # the key column's width when the terminal's is unknown (output piped to a file)


def _screen_width() -> int | None:
    """Columns of the terminal stdout writes to (or ``$COLUMNS``); None when piped."""
    import os
    import shutil

    if os.environ.get("COLUMNS", "").isdigit():
        return int(os.environ["COLUMNS"])
    if not raw_stream(sys.stdout).isatty():
        return None
    return shutil.get_terminal_size().columns


def table(rows: list[list[str]], header: list[str], right: set[int], elide: int | None = 0) -> None:
    """Aligned columns; ``right`` holds the indices of right-aligned (numeric) columns.

    Cells are shown :func:`printable` (escaped before measuring, so a key holding control
    characters cannot misalign its row). The ``elide`` column (the key, by default) is cut
    in the middle to what the terminal leaves it, or to :data:`KEY_WIDTH` when piped: one long
    key must not push every other column off the screen.
    """
    header = [printable(c) for c in header]
    rows = [[printable(c) for c in r] for r in rows]
    widths = [min(WIDEST, max(len(r[i]) for r in [header, *rows])) for i in range(len(header))]
    if elide is not None:
        screen = _screen_width()
        others = sum(w + 2 for i, w in enumerate(widths) if i != elide)
        room = max(24, screen - others) if screen else KEY_WIDTH
        widths[elide] = min(widths[elide], room)
        rows = [[elide_middle(c, widths[elide]) if i == elide else c for i, c in enumerate(r)] for r in rows]

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
