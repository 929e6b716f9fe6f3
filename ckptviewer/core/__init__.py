"""The checkpoint core: opening, indexing, statistics. Pure Python and torch; no Qt.

Importing it imports no torch: listing a checkpoint needs none (see :mod:`.dtype_names`);
the modules that compute import torch themselves.
"""

from .checkpoint import Checkpoint, TensorEntry
from .errors import CheckpointError, DeviceError, NotACheckpointError
from .open import available_devices, open_checkpoint, resolve_device
from .progress import Cancelled, CancelToken, Progress

__all__ = [
    "Cancelled", "CancelToken", "Checkpoint", "CheckpointError", "DeviceError", "NotACheckpointError",
    "Progress", "TensorEntry", "available_devices", "open_checkpoint", "resolve_device",
]  # fmt: skip
