"""Human-readable numbers, sizes and shapes, shared by the CLI and the GUI."""

from __future__ import annotations

import math
import re


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
    if isinstance(v, complex):  # 3.25-1j, not Python's (3.25-1j); -0.0 parts read as 0
        re_part = f"{v.real + 0.0:.{digits}g}"
        im_part = f"{v.imag + 0.0:+.{digits}g}"
        return f"{re_part}{im_part}j"
    return str(v)


def elide_middle(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis in the middle (a key's start
    and its last parts both say something: ``model.encoder.lay…3.attn.q_proj.weight``)."""
    if len(text) <= limit:
        return text
    head = (limit - 1) * 2 // 3
    return text[:head] + "…" + text[len(text) - (limit - 1 - head) :]


def plural(n: int, word: str) -> str:
    """plural(1, 'error') -> '1 error'; plural(3, 'error') -> '3 errors'."""
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# C0 controls (with \n \r \t), DEL, C1 controls, line and paragraph separators, and the
# bidi marks, embeddings, overrides and isolates that reorder what a terminal or widget
# shows: none of them may reach a screen from a file
_CONTROL = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)  # and lone surrogates (a pickle can hold them; no terminal or file encoding takes them)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(m: re.Match[str]) -> str:
    c = m.group()
    named = _NAMED.get(c)
    if named is not None:
        return named
    n = ord(c)
    return f"\\x{n:02x}" if n < 0x100 else f"\\u{n:04x}"


def printable(text: object) -> str:
    """``text`` with every control character shown as an escape (``\\n``, ``\\x1b``, ``\\u202e``).

    For any string that came from a file (keys, names, paths, metadata) before it is
    printed or drawn on one line: no escape sequence reaches the terminal, no newline or
    carriage return forges or erases a line, no bidi override reorders it.
    """
    s = text if isinstance(text, str) else str(text)
    return _CONTROL.sub(_escape, s) if _CONTROL.search(s) else s
