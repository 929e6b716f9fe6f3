"""Lazy stand-ins for storages and tensors found while unpickling a checkpoint.

Listing a checkpoint must not read tensor data, so the restricted unpickler builds
:class:`LazyTensor` records (storage reference, offset, shape, stride, dtype) instead of
torch tensors. A record becomes a real tensor only when :meth:`LazyTensor.materialize`
is called, and even then zip and safetensors files are memory-mapped: pages are read
when a statistic touches them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .dtype_names import itemsize, name_of, torch_dtype, torch_if_loaded

if TYPE_CHECKING:
    import torch


class StorageSource(Protocol):
    """A file that can hand out the bytes of one stored storage."""

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` (default: all ``ref.nbytes``) of the storage, memory-mapped where
        possible; ``dtype`` is what they hold when it differs from ``ref.dtype`` (byte order)."""
        ...

    def file_offset(self, ref: StorageRef) -> int:
        """Where the bytes of ``ref`` start in the file."""
        ...


@dataclass(eq=False)
class StorageRef:
    """One storage record of a checkpoint: where its bytes are and what they hold."""

    key: str
    dtype_name: str  # a torch.dtype is accepted and stored by name
    numel: int
    location: str | None
    source: StorageSource
    byte_offset: int = 0  # legacy files: a storage view into a larger root storage

    def __post_init__(self) -> None:
        self.dtype_name = name_of(self.dtype_name)

    @property
    def dtype(self) -> torch.dtype:
        """The torch.dtype (imports torch)."""
        return torch_dtype(self.dtype_name)

    @property
    def nbytes(self) -> int:
        return self.numel * itemsize(self.dtype_name)

    def load(self) -> torch.UntypedStorage:
        """The whole storage."""
        return self.source.untyped_storage(self)


@dataclass(eq=False)
class LazyTensor:
    """A dense tensor described by its storage, offset, shape and stride, not yet read."""

    storage: StorageRef
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype_name: str  # a torch.dtype is accepted and stored by name
    requires_grad: bool = False
    is_parameter: bool = False
    is_buffer: bool = False  # the reader knows it is a buffer or constant (torch.export), whatever its name
    subclass: str | None = None

    def __post_init__(self) -> None:
        self.dtype_name = name_of(self.dtype_name)

    @property
    def dtype(self) -> torch.dtype:
        """The torch.dtype (imports torch)."""
        return torch_dtype(self.dtype_name)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.numel * itemsize(self.dtype_name)

    def extent(self) -> int:
        """Elements of the storage this tensor reaches, from the storage's start."""
        reach = self.offset + 1
        for n, s in zip(self.shape, self.stride):
            if n == 0:
                return self.offset
            reach += (n - 1) * s
        return reach

    def byte_span(self) -> tuple[int, int]:
        """The bytes of its storage this tensor reaches: ``start:stop``."""
        size = itemsize(self.dtype_name)
        return self.offset * size, self.extent() * size

    def materialize(self) -> torch.Tensor:
        """The tensor on the CPU, backed by the file's memory map where the format allows.

        Only the bytes the tensor reaches are asked for: a one-element view of a huge
        storage reads one element, whatever the format.
        """
        import torch

        from .errors import CheckpointError

        start, stop = self.byte_span()
        if stop > self.storage.nbytes:
            raise CheckpointError(
                f"a tensor of shape {list(self.shape)[:8]} reaches byte {stop} of a storage of {self.storage.nbytes}"
            )
        storage = self.storage.source.untyped_storage(self.storage, start, stop, self.dtype)
        tensor = torch.empty((0,), dtype=self.dtype)
        tensor.set_(storage, 0, self.shape, settable_stride(self.shape, self.stride))
        return tensor


def settable_stride(shape: tuple[int, ...], stride: tuple[int, ...]) -> tuple[int, ...]:
    """``stride``, or zeros for an empty tensor whose strides would not fit in int64.

    A zero-size tensor may claim any dims ([0, 2**61, 2**61]); its strides address
    nothing, so zeros describe it as well and torch can hold them.
    """
    from .errors import CheckpointError

    if all(-(2**63) <= s < 2**63 for s in stride):
        return stride
    if 0 in shape:
        return (0,) * len(shape)
    raise CheckpointError(f"torch cannot represent a tensor of shape {list(shape)[:8]} (strides overflow)")


def contiguous_stride(shape: tuple[int, ...]) -> tuple[int, ...]:
    """Row-major strides for ``shape``."""
    stride = []
    acc = 1
    for n in reversed(shape):
        stride.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(stride))


class DeferredTensor:
    """A tensor known by shape and dtype whose data is produced on demand (cast, DCP shards)."""

    dtype: torch.dtype

    @property
    def dtype_name(self) -> str:
        return name_of(self.dtype)

    @property
    def shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def materialize(self) -> torch.Tensor:
        raise NotImplementedError


@dataclass(eq=False)
class CastTensor(DeferredTensor):
    """A tensor to be converted to ``dtype`` when it is materialized (an edit, not yet saved)."""

    base: LazyTensor | DeferredTensor | torch.Tensor
    dtype: torch.dtype

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.base.shape)

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    def materialize(self) -> torch.Tensor:
        import torch

        base = self.base.detach() if isinstance(self.base, torch.Tensor) else self.base.materialize()
        return base.to(self.dtype)


def tensor_types() -> tuple[type, ...]:
    """The tensor kinds a checkpoint's tree may hold: torch.Tensor only once torch is loaded
    (no torch tensor can exist before that)."""
    torch = torch_if_loaded()
    return (LazyTensor, DeferredTensor) if torch is None else (LazyTensor, DeferredTensor, torch.Tensor)
