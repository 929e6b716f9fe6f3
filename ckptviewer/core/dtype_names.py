"""torch's dtypes and storage classes by name, without importing torch.

Listing a checkpoint needs only what a dtype is called and how many bytes an element
takes; torch itself (3 s to import) is loaded when tensor data is needed. The tables are
checked against the installed torch by tests/core/test_listing_without_torch.py.
"""

from __future__ import annotations

import sys
from typing import Any

# name -> bytes per element (sub-byte and packed dtypes take a whole byte, as in torch)
ITEMSIZE: dict[str, int] = {
    "bool": 1, "uint8": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4, "int64": 8, "uint64": 8,
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8,
    "complex32": 4, "complex64": 8, "complex128": 16,
    "float8_e4m3fn": 1, "float8_e4m3fnuz": 1, "float8_e5m2": 1, "float8_e5m2fnuz": 1, "float8_e8m0fnu": 1,
    "float4_e2m1fn_x2": 1,
    "qint8": 1, "quint8": 1, "qint32": 4, "quint4x2": 1, "quint2x4": 1,
    "bits1x8": 1, "bits2x4": 1, "bits4x2": 1, "bits8": 1, "bits16": 2,
    **{f"{sign}int{bits}": 1 for sign in ("u", "") for bits in range(1, 8)},
}  # fmt: skip

FLOATING = frozenset({"float16", "bfloat16", "float32", "float64", "float8_e4m3fn", "float8_e4m3fnuz",
                      "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2"})  # fmt: skip
COMPLEX = frozenset({"complex32", "complex64", "complex128"})
QUANTIZED = frozenset({"qint8", "quint8", "qint32", "quint4x2", "quint2x4"})
# dtypes torch can store and load but not reduce, compare or copy element-wise
NO_ARITHMETIC = frozenset({"uint1", "uint2", "uint3", "uint4", "uint5", "uint6", "uint7", "int1", "int2", "int3",
                           "int4", "int5", "int6", "int7", "bits1x8", "bits2x4", "bits4x2", "bits8", "bits16",
                           "float4_e2m1fn_x2", "float8_e8m0fnu", "complex32"})  # fmt: skip

# torch.save's legacy typed-storage classes (torch.FloatStorage, torch.cuda.HalfStorage ...)
STORAGE_DTYPES: dict[str, str] = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16", "LongStorage": "int64",
    "IntStorage": "int32", "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8",
    "BoolStorage": "bool", "BFloat16Storage": "bfloat16", "ComplexDoubleStorage": "complex128",
    "ComplexFloatStorage": "complex64", "QInt8Storage": "qint8", "QInt32Storage": "qint32",
    "QUInt8Storage": "quint8", "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
    "UntypedStorage": "uint8",
}  # fmt: skip


def name_of(dtype: Any) -> str:
    """The name of a torch.dtype (``torch.float32`` -> ``"float32"``); a name is returned as is."""
    return dtype if isinstance(dtype, str) else str(dtype).removeprefix("torch.")


def itemsize(name: str) -> int:
    """Bytes per element of dtype ``name``."""
    return ITEMSIZE[name]


def torch_dtype(name: str) -> Any:
    """The torch.dtype called ``name`` (imports torch: only for code that computes)."""
    dtype = _RESOLVED.get(name)
    if dtype is None:
        import torch

        dtype = _RESOLVED[name] = getattr(torch, name)
    return dtype


_RESOLVED: dict[str, Any] = {}


def torch_if_loaded() -> Any:
    """The torch module if something already imported it, else None (never imports it).

    A value can only be a torch object (a tensor, a dtype) once torch is loaded: checks
    against torch's types are needed only then. While another thread is still importing it
    (the window loads torch in the background) it counts as not loaded: the half-built
    module has no ``torch.Tensor`` yet, and touching it from a second thread can break
    torch's own import (operator registration).
    """
    torch = sys.modules.get("torch")
    if torch is None or getattr(getattr(torch, "__spec__", None), "_initializing", False):
        return None
    return torch
