"""Reader for torch.export ``.pt2`` archives (``torch.export.save``), without running
torch.export.load: records read with zipfile, pickled parts through the restricted unpickler.

(Stub: filled in by issue 15's .pt2 work.)
"""

from __future__ import annotations

from pathlib import Path

from ..errors import CheckpointError
from . import Loaded

PT2 = "torch-export"


def is_pt2(path: Path) -> bool:
    """Whether the zip at ``path`` is a torch.export archive (told from its record names)."""
    return False


def load_pt2(path: Path, size: int) -> Loaded:
    """List a .pt2 archive: weights, buffers and constants under their state_dict names."""
    raise CheckpointError(f"{path}: torch.export archives are not supported yet")
