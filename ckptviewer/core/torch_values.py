"""torch's own values named by a pickle, held by name while torch is not loaded.

A checkpoint may hold a dtype, a layout, a qscheme, a ``torch.device`` or a ``torch.Size``
as a value (``hparams["dtype"] = torch.float16``), and ``_rebuild_tensor_v3`` passes a dtype.
Listing needs only their names; importing torch for them costs seconds. While torch is not
loaded the unpickler hands out these stand-ins instead:

* :class:`TorchValue` for dtypes, layouts, qschemes and devices: a frozen (kind, name)
  pair. It cannot be called, instantiated, given state or items, and it refuses to be
  pickled, so it never reaches an output file;
* :class:`SizeValue` for ``torch.Size``: a plain tuple of validated ints (what torch.Size
  is), which code treating a Size as a tuple reads unchanged.

Whatever needs the real object (a save, a rebuild that computes) calls :func:`real`, which
imports torch. Once torch is loaded the unpickler hands out torch's own objects, as before.
"""

from __future__ import annotations

import re
from typing import Any

from .dtype_names import ITEMSIZE

LAYOUTS = frozenset(
    {"strided", "sparse_coo", "sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc", "_mkldnn", "jagged"}
)
QSCHEMES = frozenset({"per_tensor_affine", "per_channel_affine", "per_channel_affine_float_qparams",
                      "per_tensor_symmetric", "per_channel_symmetric"})  # fmt: skip
# device types written without torch; any other name is left to torch.device (torch is loaded)
DEVICE_TYPES = frozenset({"cpu", "cuda", "meta", "mps", "xpu", "hip", "hpu", "mtia", "xla", "lazy"})
MAX_DEVICE_INDEX = 127  # torch's DeviceIndex is 8 bits; larger ones wrap oddly, so torch decides them
_DEVICE = re.compile(r"([a-z]+)(?::(0|[1-9][0-9]{0,2}))?")


class TorchValue:
    """A dtype, layout, qscheme or device named by a pickle, by name (see the module doc)."""

    __slots__ = ("kind", "name")
    ckpt_stand_in = True  # structure.safe_repr shows it as torch's own object (a class attribute, no call)
    kind: str  # "dtype", "layout", "qscheme" or "device"
    name: str  # "float16", "strided", "per_tensor_affine", "cuda:0"

    def __init__(self, kind: str, name: str) -> None:
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "name", name)

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("TorchValue is read-only")

    def __delattr__(self, key: str) -> None:
        raise AttributeError("TorchValue is read-only")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, TorchValue):
            return (self.kind, self.name) == (other.kind, other.name)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((TorchValue, self.kind, self.name))

    def __str__(self) -> str:
        """What str() of torch's object gives."""
        return self.name if self.kind == "device" else f"torch.{self.name}"

    def __repr__(self) -> str:
        """What repr() of torch's object gives."""
        if self.kind != "device":
            return f"torch.{self.name}"
        kind, _, index = self.name.partition(":")
        return f"device(type={kind!r}, index={index})" if index else f"device(type={kind!r})"

    def __reduce__(self) -> Any:
        # a stand-in must never be written into a file: outputs hold torch's own objects (real())
        raise TypeError("a TorchValue stand-in cannot be pickled; convert it with torch_values.real()")

    def __copy__(self) -> TorchValue:
        return self

    def __deepcopy__(self, memo: Any) -> TorchValue:
        return self

    def real(self) -> Any:
        """torch's own object (imports torch)."""
        import torch

        if self.kind == "device":
            return torch.device(self.name)
        value = vars(torch).get(self.name)
        want = {"dtype": torch.dtype, "layout": torch.layout, "qscheme": torch.qscheme}[self.kind]
        if not isinstance(value, want):  # only names from the tables above are ever made
            raise ValueError(f"torch has no {self.kind} {self.name!r}")
        return value


class SizeValue(tuple):
    """``torch.Size`` while torch is not loaded: a tuple of ints (already validated)."""

    __slots__ = ()

    def __reduce__(self) -> Any:
        raise TypeError("a SizeValue stand-in cannot be pickled; convert it with torch_values.real()")

    def __copy__(self) -> SizeValue:
        return self

    def __deepcopy__(self, memo: Any) -> SizeValue:
        return self

    def real(self) -> Any:
        """torch.Size (imports torch)."""
        import torch

        return torch.Size(tuple(self))


def dtype(name: str) -> TorchValue:
    """The stand-in for ``torch.<name>``, a dtype ckptviewer knows."""
    if name not in ITEMSIZE:
        raise ValueError(f"unknown dtype {name[:40]!r}")
    return TorchValue("dtype", name)


def named(name: str) -> TorchValue | None:
    """The stand-in for the allowlisted global ``torch.<name>`` (a dtype or qscheme), or None."""
    if name in ITEMSIZE:
        return TorchValue("dtype", name)
    if name in QSCHEMES:
        return TorchValue("qscheme", name)
    return None


def layout(name: str) -> TorchValue | None:
    """The stand-in for ``torch.serialization._get_layout(name)``, or None (torch decides)."""
    return TorchValue("layout", name) if name in LAYOUTS else None


def device(args: tuple) -> TorchValue | None:
    """The stand-in for ``torch.device(*args)`` where its text is certain without torch, else None.

    ``"cpu"``, ``"cuda:1"``, ``("cuda", 1)`` of a known device type and a small index; anything
    else (an odd name, a bare int) is left to torch.device itself.
    """
    if not 1 <= len(args) <= 2 or not isinstance(args[0], str) or len(args[0]) > 64:
        return None
    m = _DEVICE.fullmatch(args[0])
    if m is None or m.group(1) not in DEVICE_TYPES:
        return None
    index: Any = m.group(2)
    if len(args) == 2:
        if index is not None or type(args[1]) is not int:
            return None
        index = args[1]
    if index is not None and not 0 <= int(index) <= MAX_DEVICE_INDEX:
        return None
    return TorchValue("device", m.group(1) if index is None else f"{m.group(1)}:{int(index)}")


def is_stand_in(value: Any) -> bool:
    return isinstance(value, (TorchValue, SizeValue))


def real(value: Any) -> Any:
    """``value``, or torch's own object if it is a stand-in (imports torch then)."""
    if isinstance(value, (TorchValue, SizeValue)):
        return value.real()
    return value


def shown(value: TorchValue | SizeValue) -> Any:
    """The listing's JSON form: what index.py shows for torch's own object."""
    if isinstance(value, SizeValue):
        return list(value)
    if value.kind == "qscheme":  # torch.qscheme is not one of the types index shows by name
        return {"__class__": "torch.qscheme", "repr": "<torch.qscheme>"}  # as structure.safe_repr shows it
    return str(value).removeprefix("torch.")
