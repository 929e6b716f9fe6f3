"""What ckptviewer can compute with, by dtype."""

from __future__ import annotations

import torch

from . import dtype_names
from .dtype_names import NO_ARITHMETIC

QUANTIZED = frozenset(getattr(torch, name) for name in dtype_names.QUANTIZED)  # the named table, as objects

_NO_ARITHMETIC = NO_ARITHMETIC  # dtypes torch can store and load but not compute with (by name)


# sub-byte integers torch can load (a file may name them) but torch.save cannot write
_SUB_BYTE = (getattr(torch, f"{sign}int{bits}", None) for sign in ("u", "") for bits in range(1, 8))
UNSAVABLE = frozenset(d for d in _SUB_BYTE if d is not None)


dtype_name = dtype_names.name_of


def computable(dtype: torch.dtype) -> bool:
    """Whether statistics, comparisons and views can be computed on values of ``dtype``."""
    return dtype_name(dtype) not in _NO_ARITHMETIC


def check_computable(key: str, dtype: torch.dtype) -> None:
    """Raise a CheckpointError (one line) for a dtype torch cannot compute with."""
    if not computable(dtype):
        from .errors import CheckpointError

        raise CheckpointError(f"{key or 'tensor'}: torch cannot compute with dtype {dtype_name(dtype)}")
