"""Reader for GGUF files (llama.cpp): header, key-value metadata and tensor infos parsed
with limits; tensor data read (and dequantized) only when a statistic needs it.

(Stub: filled in by issue 15's GGUF work.)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from . import Loaded
from .sniff import GGUF  # noqa: F401 - the format name this reader returns


def load_gguf(path: Path, size: int) -> Loaded:
    """List a GGUF file from its header."""
    raise CheckpointError(f"{path}: GGUF files are not supported yet")
