"""The opened checkpoint: its tensors by key, metadata, and where the model weights sit."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .dtype_names import itemsize, name_of, torch_dtype
from .lazy import DeferredTensor, LazyTensor

if TYPE_CHECKING:
    import torch

# Candidate keys for the model state_dict inside a training checkpoint, most likely first.
STATE_DICT_KEYS = (
    "state_dict", "model_state_dict", "model", "state_dict_ema", "model_ema", "ema",
    "net", "network", "module", "model_state", "weights", "params", "generator",
)  # fmt: skip

# Prefixes that wrappers add to every key: DataParallel/DDP and torch.compile.
WRAPPER_PREFIXES = ("module.", "_orig_mod.")

BUFFER_NAMES = frozenset({"running_mean", "running_var", "num_batches_tracked"})

PARAMETER, BUFFER, OTHER = "parameter", "buffer", "tensor"


@dataclass(eq=False)
class TensorEntry:
    """One tensor of the checkpoint, listed without reading its data."""

    key: str
    shape: tuple[int, ...]
    dtype_name: str  # a torch.dtype is accepted and stored by name
    storage_key: str  # tensors with the same storage_key share memory
    storage_nbytes: int
    location: str | None  # where it was saved (cuda:0, cpu), when the file says
    source: Any  # LazyTensor, or a torch.Tensor in trusted mode
    role: str = OTHER
    shared_with: str | None = None  # first key listed with the same storage
    # how the file stores it when not as plain dtype_name elements ("Q4_K, 256-value blocks
    # of 144 bytes" in a GGUF file); nbytes is then the stored bytes, storage_nbytes
    encoding: str | None = None
    numel: int = field(init=False)
    nbytes: int = field(init=False)

    def __post_init__(self) -> None:
        self.dtype_name = name_of(self.dtype_name)
        self.numel = math.prod(self.shape)
        self.nbytes = self.numel * itemsize(self.dtype_name) if self.encoding is None else self.storage_nbytes

    @property
    def dtype(self) -> torch.dtype:
        """The torch.dtype (imports torch: for code that computes; listing uses dtype_name)."""
        return torch_dtype(self.dtype_name)

    @property
    def name(self) -> str:
        return self.key.rsplit(".", 1)[-1]

    def load(self) -> torch.Tensor:
        """The tensor on the CPU (memory-mapped where possible); reads nothing up front."""
        if isinstance(self.source, (LazyTensor, DeferredTensor)):
            return self.source.materialize()
        return self.source.detach()

    def to_json(self) -> dict[str, Any]:
        doc = {"key": self.key, "shape": list(self.shape), "dtype": self.dtype_name,
               "numel": self.numel, "nbytes": self.nbytes}  # fmt: skip
        return doc if self.encoding is None else {**doc, "encoding": self.encoding}


def dtype_name(dtype: torch.dtype | str) -> str:
    return name_of(dtype)


@dataclass(eq=False)
class Checkpoint:
    """An opened checkpoint. Create it with :func:`ckptviewer.core.open_checkpoint`."""

    path: Path
    format: str
    tensors: dict[str, TensorEntry]
    metadata: dict[str, Any]
    saved_on: list[str]
    state_dict_key: str | None
    prefixes: list[str]
    unsafe_globals: list[str]
    blocked_globals: list[str]
    warnings: list[str]
    device_name: str  # where statistics are computed: "cpu", "cuda", "cuda:1" (str of the torch.device)
    trusted: bool
    root: Any
    _close: Any = None
    history: tuple = ()  # edit reports applied since the file was opened, oldest first
    origin: Checkpoint | None = None  # the checkpoint as opened, for an edited copy
    companions: tuple = ()  # other open checkpoints whose tensors this one uses (graft)
    flavor: str | None = None  # lightning | whole-model | training-checkpoint | ddp, where known
    files: list[Path] = field(default_factory=list)  # every file the checkpoint was read from
    state_dict_path: tuple | None = None  # the real keys from the root to the model state_dict

    def input_files(self) -> list[Path]:
        """Every file this checkpoint (and what it borrows tensors from) was read from."""
        out = list(self.opened.files or [self.opened.path])
        for c in self.companions:
            out += c.input_files()
        return out

    @property
    def device(self) -> torch.device:
        """The torch.device statistics are computed on (imports torch)."""
        import torch

        return torch.device(self.device_name)

    @property
    def modified(self) -> bool:
        return bool(self.history)

    @property
    def opened(self) -> Checkpoint:
        """The checkpoint as read from the file (itself, unless this is an edited copy)."""
        return self.origin if self.origin is not None else self

    @property
    def inert_globals(self) -> list[str]:
        """Globals outside torch's allowlist that were loaded as plain data (not placeholders)."""
        blocked = set(self.blocked_globals)
        return [g for g in self.unsafe_globals if g not in blocked]

    @property
    def n_tensors(self) -> int:
        return len(self.tensors)

    @property
    def n_elements(self) -> int:
        return sum(e.numel for e in self.tensors.values())

    @property
    def total_bytes(self) -> int:
        """Bytes of tensor data in the file; shared storages counted once."""
        seen: dict[str, int] = {}
        for e in self.tensors.values():
            seen[e.storage_key] = max(seen.get(e.storage_key, 0), e.storage_nbytes)
        return sum(seen.values())

    @property
    def n_parameters(self) -> int:
        """Model parameters, tied ones (the same bytes under two keys) once, as ``model.parameters()`` counts."""
        seen: set[tuple] = set()
        total = 0
        for e in self.tensors.values():
            if e.role != PARAMETER:
                continue
            src = e.source
            where = (e.storage_key, src.offset, src.shape, src.stride) if isinstance(src, LazyTensor) else (e.key,)
            if where not in seen:
                seen.add(where)
                total += e.numel
        return total

    def model_keys(self) -> list[str]:
        """Keys of the model state_dict, in file order."""
        return [k for k, e in self.tensors.items() if e.role in (PARAMETER, BUFFER)]

    def tensor(self, key: str) -> torch.Tensor:
        """The tensor ``key`` on the CPU (memory-mapped); raises KeyError if absent."""
        return self.tensors[key].load()

    def close(self) -> None:
        """Release file handles. Tensors already materialized stay valid."""
        if self.origin is not None:  # an edited copy shares the original's files
            return
        if self._close is not None:
            self._close()
            self._close = None

    def __enter__(self) -> Checkpoint:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def locate_state_dict(containers: dict[str, Any], keys: list[str]) -> str | None:
    """Where the model weights sit: "" for the root, a dotted path, or None if unclear."""
    if not keys:
        return None
    root = containers.get("")
    if root is not None and (root.is_module or root.direct_tensors == len(keys)):
        return ""
    for name in STATE_DICT_KEYS:
        c = containers.get(name)
        if c is not None and (c.is_module or c.direct_tensors >= max(1, c.children // 2)):
            return name
    # otherwise the container holding the most tensors directly (a module wins ties)
    best = max(containers.values(), key=lambda c: (c.direct_tensors, c.is_module), default=None)
    return best.path if best is not None and best.direct_tensors > 0 else None


LIGHTNING_KEYS = ("pytorch-lightning_version", "optimizer_states", "lr_schedulers", "loops", "hyper_parameters")


def guess_flavor(
    metadata: dict, sd_key: str | None, prefixes: list[str], is_module: bool, has_more: bool
) -> str | None:
    """What kind of content the file holds, where it can be told: the most specific one."""
    if isinstance(metadata, dict) and sd_key == "state_dict" and any(k in metadata for k in LIGHTNING_KEYS):
        return "lightning"
    if is_module:
        return "whole-model"
    if sd_key and has_more:
        return "training-checkpoint"
    if "module." in prefixes:
        return "ddp"
    return None


def wrapper_prefixes(model_keys: list[str]) -> list[str]:
    """Wrapper prefixes shared by every model key, outermost first (e.g. module., _orig_mod.)."""
    found: list[str] = []
    keys = model_keys
    while keys and len(found) < 8:
        for prefix in WRAPPER_PREFIXES:
            if all(k.startswith(prefix) for k in keys):
                found.append(prefix)
                keys = [k[len(prefix) :] for k in keys]
                break
        else:
            break
    return found
