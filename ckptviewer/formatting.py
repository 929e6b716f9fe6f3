"""Human-readable numbers, sizes and shapes, shared by the CLI and the GUI."""

from __future__ import annotations

import math


def human_bytes(n: int | float) -> str:
    """1536 -> '1.5 KiB'."""
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def human_count(n: int) -> str:
    """1234567 -> '1,234,567'."""
    return f"{n:,}"


def short_count(n: int) -> str:
    """1234567 -> '1.2M'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def shape_str(shape: tuple[int, ...] | list[int]) -> str:
    """(16, 3, 3, 3) -> '16x3x3x3'; a scalar -> '()'."""
    return "x".join(str(d) for d in shape) if len(shape) else "()"


def number(v: object, digits: int = 5) -> str:
    """A statistic for a table: '-' for missing, compact floats."""
    if v is None:
        return "-"
    if isinstance(v, (bool, int)):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        return f"{v:.{digits}g}"
    return str(v)


def plural(n: int, word: str) -> str:
    """plural(1, 'error') -> '1 error'; plural(3, 'error') -> '3 errors'."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# C0 controls, DEL, C1 controls, and the bidirectional overrides that reorder what a
# terminal or widget shows: none of them may reach a screen from a file
_CONTROLS = {c: None for c in [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F),
                               *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C, 0xFEFF]}  # fmt: skip
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape (``\\n``, ``\\x1b``, ``\\u202e``).

    For any string that came from a file (keys, names, paths, metadata) before it is
    printed or drawn on one line: no escape sequence reaches the terminal, no newline or
    carriage return forges or erases a line, no bidi override reorders it.
    ``keep_newlines`` keeps ``\\n`` (for text that is ours and multi-line).
    """
    s = text if isinstance(text, str) else str(text)
    if not any(ord(ch) in _CONTROLS for ch in s):
        return s
    return "".join(ch if (ord(ch) not in _CONTROLS or (keep_newlines and ch == "\n")) else _escape(ch) for ch in s)
