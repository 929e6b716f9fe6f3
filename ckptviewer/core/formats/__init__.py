"""Readers, one per checkpoint format, and the content sniffer that picks one.

Each reader returns a :class:`Loaded`: the unpickled root object with lazy tensors in
it, plus what the reader learnt on the way (storage locations, globals, warnings).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Loaded:
    """What a format reader found in a file, before indexing."""

    format: str
    root: Any
    locations: set[str] = field(default_factory=set)
    unsafe_globals: set[str] = field(default_factory=set)
    blocked_globals: set[str] = field(default_factory=set)
    warnings: list[str] = field(default_factory=list)
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    close: Any = None  # callable releasing file handles, or None
    files: list[Path] = field(default_factory=list)  # every file read (an output may never replace one)
