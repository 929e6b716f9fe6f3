"""Full unpickling with torch.load, for a file the user has explicitly trusted.

This runs whatever code the file names. It is reached only through ``trust=True``
(``--trust`` on the command line, a confirmed dialog in the GUI).
"""

from __future__ import annotations

from pathlib import Path

import torch

from ..errors import CheckpointError
from . import Loaded
from .safetensors_file import load_safetensors
from .sniff import SAFETENSORS, TORCH_ZIP


def load_trusted(path: Path, size: int, fmt: str) -> Loaded:
    """torch.load(weights_only=False) onto the CPU, memory-mapped where the format allows."""
    if fmt == SAFETENSORS:  # holds no code: the safe reader is already complete
        return load_safetensors(path, size)
    locations: set[str] = set()

    def to_cpu(storage, location):
        locations.add(str(location))
        return storage  # already on the CPU: the file is read (or mapped) there

    try:
        root = torch.load(path, map_location=to_cpu, weights_only=False, mmap=fmt == TORCH_ZIP)
    except Exception as exc:
        raise CheckpointError(f"{path}: torch.load failed on the trusted file ({type(exc).__name__}: {exc})") from None
    return Loaded(format=fmt, root=root, locations=locations)
