"""What the restricted unpickler calls for the callables a checkpoint may name.

Every function here checks its arguments before anything is allocated and never hands
out memory the file did not supply:

* torch's dense tensor rebuild functions become *lazy* rebuilders returning
  :class:`LazyTensor` records (no data is read);
* the rare tensor kinds (sparse, quantized, nested, meta) are rebuilt for real, after
  validating indices, offsets and sizes against the data that exists;
* builtin constructors (``list``, ``dict``, ``bytearray``, ``str`` ...) charge the open's
  memory budget and keep hashed tuples shallow;
* numpy arrays, scalars and dtypes are rebuilt by validating stand-ins.
"""

from __future__ import annotations

import builtins
import codecs
import collections
import contextlib
import contextvars
import math
import pathlib
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import torch_values
from .dtype_names import ITEMSIZE, QUANTIZED, name_of, torch_if_loaded
from .lazy import LazyTensor, StorageRef, contiguous_stride
from .limits import MAX_NESTING, LimitError, current_budget
from .torch_values import TorchValue

if TYPE_CHECKING:
    import torch

# bytes charged per element a constructor makes: what CPython really allocates for it
POINTER = 8  # a reference in a list or tuple
ENTRY = 64  # an entry of a dict or set (with its share of the table)
ORDERED_ENTRY = 160  # an OrderedDict entry (table + linked-list node)
CHARACTER = 80  # a character made into its own str object (list("...") of astral text)
_TEXT_CODECS = {"utf-8", "utf8", "latin1", "latin-1", "ascii"}  # built in: looking them up imports nothing
_ERROR_HANDLERS = {"strict", "replace", "ignore", "surrogateescape", "backslashreplace"}


# --- nesting of hashable containers --------------------------------------------------------


def depth(obj: Any, known: dict[int, tuple[Any, int]]) -> int:
    """Nesting depth of a tuple/frozenset (0 for anything else); refuses depths past the limit.

    Hashing and comparing tuples recurses in C without a depth check: this is asked for
    every key a pickle is about to hash. Each tuple is measured once (``known`` holds the
    result and the tuple itself), iteratively, stopping as soon as the limit is passed.
    """
    if not isinstance(obj, _HASHED):
        return 0
    entry = known.get(id(obj))
    if entry is not None and entry[0] is obj:
        return entry[1]
    stack: list[list[Any]] = [[obj, iter(obj), 0]]  # node, its items, deepest item so far
    while True:
        frame = stack[-1]
        child = next(frame[1], _END)
        if child is _END:
            stack.pop()
            d = frame[2] + 1
            known[id(frame[0])] = (frame[0], d)
            if not stack:
                return d
            stack[-1][2] = max(stack[-1][2], d)
            continue
        if not isinstance(child, _HASHED):
            continue
        entry = known.get(id(child))
        if entry is not None and entry[0] is child:
            frame[2] = max(frame[2], entry[1])
            continue
        if len(stack) >= MAX_NESTING:
            raise LimitError(f"tuples nested more than {MAX_NESTING} levels deep (a crash bomb?)")
        stack.append([child, iter(child), 0])


_HASHED = (tuple, frozenset)
_END = object()


# --- lazy versions of torch's dense tensor rebuild functions ---------------------------------


def _dims(values: Any, what: str) -> tuple[int, ...]:
    if not isinstance(values, (tuple, list)):  # torch.Size is a tuple
        raise pickle.UnpicklingError(f"tensor record with a malformed {what}")
    out = tuple(values)
    if len(out) > 64 or not all(type(v) is int and 0 <= v < 1 << 62 for v in out):
        raise pickle.UnpicklingError(f"tensor record with an impossible {what} {list(out)[:8]}")
    if math.prod(out) >= 1 << 62:
        raise pickle.UnpicklingError(f"tensor record with an impossible {what} {list(out)[:8]}")
    return out


def lazy(storage: Any, offset: Any, size: Any, stride: Any, dtype: Any = None) -> LazyTensor:
    """A LazyTensor over ``storage``, or an error if the layout cannot fit a real storage."""
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("tensor record without a storage")
    if dtype is not None:
        # a dtype argument is torch's own object, or its stand-in while torch is not loaded: kept by name
        if isinstance(dtype, TorchValue):
            if dtype.kind != "dtype" or dtype.name not in ITEMSIZE:
                raise pickle.UnpicklingError("tensor record with an invalid dtype")
            dtype = dtype.name
        else:
            torch = torch_if_loaded()
            if torch is None or not isinstance(dtype, torch.dtype) or name_of(dtype) not in ITEMSIZE:
                raise pickle.UnpicklingError("tensor record with an invalid dtype")
            dtype = name_of(dtype)
    shape = _dims(size, "shape")
    strides = _dims(stride, "stride") if stride is not None else contiguous_stride(shape)
    if len(strides) != len(shape) or type(offset) is not int or not 0 <= offset < 1 << 62:
        raise pickle.UnpicklingError(f"tensor record with an impossible layout {list(shape)[:8]}")
    return LazyTensor(storage, offset, shape, strides, dtype or storage.dtype_name)


def plain(t: LazyTensor) -> LazyTensor:
    """A dense tensor record; a quantized dtype needs its quantizer (_rebuild_qtensor)."""
    if t.dtype_name in QUANTIZED:
        raise pickle.UnpicklingError("a quantized tensor record without its quantizer")
    return t


def _rebuild_tensor(storage, storage_offset, size, stride):
    return plain(lazy(storage, storage_offset, size, stride))


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    t = plain(lazy(storage, storage_offset, size, stride))
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    t = plain(lazy(storage, storage_offset, size, stride, dtype=dtype))
    if ITEMSIZE[t.dtype_name] != ITEMSIZE[storage.dtype_name] and storage.dtype_name != "uint8":
        raise pickle.UnpicklingError("tensor record whose dtype does not match its storage")
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    if isinstance(data, LazyTensor):
        data.is_parameter = True
        data.requires_grad = bool(requires_grad)
        return data
    torch = torch_if_loaded()  # a real tensor exists only once torch is loaded
    if torch is not None and isinstance(data, torch.Tensor):
        return torch.nn.Parameter(data, requires_grad=bool(requires_grad))
    raise pickle.UnpicklingError("a parameter record without a tensor")


def _rebuild_from_type_v2(func, new_type, args, state):
    # func must be one of our rebuilders: torch.Tensor(n) here once handed out
    # uninitialised heap memory
    if id(func) not in REBUILDER_IDS or not isinstance(args, tuple):
        raise pickle.UnpicklingError("malformed tensor subclass record (its function is not a tensor rebuilder)")
    result = func(*args)
    if isinstance(result, LazyTensor):
        # torch.Tensor / Parameter as arguments are torch's own classes (find_class loaded torch)
        torch = torch_if_loaded()
        if torch is not None and new_type is torch.nn.Parameter:
            result.is_parameter = True
        elif torch is None or new_type is not torch.Tensor:
            result.subclass = getattr(new_type, "ckpt_global", None) or getattr(new_type, "__qualname__", "?")
    return result


# --- real tensors for the rare kinds, validated first -----------------------------------------


def _real(value: Any, what: str) -> torch.Tensor:
    """A LazyTensor argument as a real CPU tensor (memory-mapped where the format allows)."""
    import torch

    if isinstance(value, torch.Tensor) and value.layout == torch.strided and not value.is_quantized:
        return value
    if not isinstance(value, LazyTensor):
        raise pickle.UnpicklingError(f"{what} is not a tensor")
    check_fits(value)
    return value.materialize()


def check_fits(t: LazyTensor) -> None:
    """Refuse a tensor record whose elements reach past its storage."""
    if t.extent() > t.storage.numel:
        raise pickle.UnpicklingError(
            f"tensor record of shape {list(t.shape)[:8]} needs {t.extent()} elements but its storage holds "
            f"{t.storage.numel} (damaged or forged file)"
        )


def _index_tensor(value: Any, what: str, dims: int) -> torch.Tensor:
    import torch

    t = _real(value, what)
    if t.dtype not in (torch.int64, torch.int32) or t.dim() != dims:
        raise pickle.UnpicklingError(f"sparse tensor record with malformed {what}")
    return t


def _rebuild_sparse_tensor(layout: Any, data: Any) -> torch.Tensor:
    """A sparse tensor whose indices were checked against its size before it is built."""
    import torch

    layout, data = torch_values.real(layout), _reals(data)

    sparse_layouts = (torch.sparse_coo, torch.sparse_csr, torch.sparse_csc, torch.sparse_bsr, torch.sparse_bsc)
    if layout not in sparse_layouts or not isinstance(data, tuple):
        raise pickle.UnpicklingError("sparse tensor record with an unknown layout")
    if layout == torch.sparse_coo:
        if len(data) not in (3, 4):
            raise pickle.UnpicklingError("malformed sparse COO tensor record")
        indices = _index_tensor(data[0], "indices", 2)
        values = _real(data[1], "values")
        size = _dims(data[2], "sparse size")
        if indices.dtype != torch.int64 or indices.shape[0] > len(size):
            raise pickle.UnpicklingError("sparse COO tensor record with malformed indices")
        try:  # indices within size, shapes consistent (torch skips this unless asked)
            torch._validate_sparse_coo_tensor_args(indices, values, size, None, check_pinning=False)
        except RuntimeError as exc:
            raise pickle.UnpicklingError(f"sparse tensor record refused: {_first_line(exc)}") from None
        return torch.sparse_coo_tensor(indices, values, size, check_invariants=False)
    if len(data) != 4:
        raise pickle.UnpicklingError("malformed sparse compressed tensor record")
    compressed = _index_tensor(data[0], "compressed indices", _dim_of(data[0]))
    plain = _index_tensor(data[1], "plain indices", _dim_of(data[1]))
    values = _real(data[2], "values")
    size = _dims(data[3], "sparse size")
    try:
        torch._validate_sparse_compressed_tensor_args(compressed, plain, values, size, layout, check_pinning=False)
    except RuntimeError as exc:
        raise pickle.UnpicklingError(f"sparse tensor record refused: {_first_line(exc)}") from None
    return torch.sparse_compressed_tensor(compressed, plain, values, size, layout=layout, check_invariants=False)


def _reals(data: Any) -> Any:
    """A record's tuple of arguments with stand-ins (:mod:`.torch_values`) made torch's own."""
    return tuple(torch_values.real(v) for v in data) if isinstance(data, tuple) else data


def _dim_of(value: Any) -> int:
    import torch

    return len(value.shape) if isinstance(value, (LazyTensor, torch.Tensor)) else -1


def _rebuild_qtensor(storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks):
    """A quantized tensor; its layout is checked against the storage before torch allocates."""
    import torch

    t = lazy(storage, storage_offset, size, stride)
    check_fits(t)
    if t.dtype_name not in QUANTIZED:
        raise pickle.UnpicklingError("quantized tensor record over a storage that is not quantized")
    if not isinstance(quantizer_params, tuple) or not quantizer_params:
        raise pickle.UnpicklingError("quantized tensor record without quantizer parameters")
    params = tuple(
        _real(p, "quantizer parameter") if isinstance(p, LazyTensor) else torch_values.real(p) for p in quantizer_params
    )
    _check_quantizer(params, t.dtype_name)
    typed = torch.storage.TypedStorage(wrap_storage=storage.load(), dtype=t.dtype, _internal=True)
    from torch._utils import _rebuild_qtensor as rebuild

    try:
        return rebuild(typed, t.offset, t.shape, t.stride, params, bool(requires_grad), collections.OrderedDict())
    except (RuntimeError, ValueError, TypeError) as exc:
        raise pickle.UnpicklingError(f"quantized tensor record refused: {_first_line(exc)}") from None


_QRANGE = {"qint8": (-128, 127), "quint8": (0, 255), "qint32": (-(1 << 31), (1 << 31) - 1),
           "quint4x2": (0, 15), "quint2x4": (0, 3)}  # fmt: skip


def _check_quantizer(params: tuple, dtype: str) -> None:
    """Scales finite and positive, integer zero points within the dtype's range (torch's
    kernels refuse or misbehave otherwise, long after the file was listed)."""
    import torch

    lo, hi = _QRANGE[dtype]
    scheme = params[0]
    if scheme == torch.per_tensor_affine and len(params) == 3:
        scales, zeros, float_zeros = [params[1]], [params[2]], False
    elif scheme in (torch.per_channel_affine, torch.per_channel_affine_float_qparams) and len(params) == 4:
        scales, zeros = _numbers(params[1]), _numbers(params[2])
        float_zeros = scheme == torch.per_channel_affine_float_qparams
    else:
        raise pickle.UnpicklingError("quantized tensor record with an unknown quantization scheme")
    if not all(isinstance(s, (int, float)) and math.isfinite(s) and s > 0 for s in scales):
        raise pickle.UnpicklingError("quantized tensor record with a scale that is not a positive number")
    for z in zeros:
        if float_zeros:
            if not (isinstance(z, (int, float)) and math.isfinite(z)):
                raise pickle.UnpicklingError("quantized tensor record with an invalid zero point")
        elif not (isinstance(z, int) and not isinstance(z, bool) and lo <= z <= hi):
            raise pickle.UnpicklingError("quantized tensor record with a zero point outside its dtype's range")


def _numbers(value: Any) -> list:
    import torch

    if isinstance(value, torch.Tensor):
        if value.layout != torch.strided or value.dim() != 1 or value.numel() > 1 << 24:
            raise pickle.UnpicklingError("quantized tensor record with malformed parameters")
        return value.tolist()
    if isinstance(value, list) and len(value) <= 1 << 24:
        return value
    raise pickle.UnpicklingError("quantized tensor record with malformed parameters")


def _rebuild_nested_tensor(buffer, sizes, strides, storage_offsets):
    """A nested tensor whose components were checked to lie inside its buffer."""
    import torch

    buf = _real(buffer, "nested buffer")
    sz, st, off = (_index_tensor(v, "nested layout", d) for v, d in ((sizes, 2), (strides, 2), (storage_offsets, 1)))
    if buf.dim() != 1 or sz.shape != st.shape or off.shape[0] != sz.shape[0]:
        raise pickle.UnpicklingError("nested tensor record with a malformed layout")
    if bool((sz < 0).any()) or bool((st < 0).any()) or bool((off < 0).any()):
        raise pickle.UnpicklingError("nested tensor record with negative sizes, strides or offsets")
    empty = (sz == 0).any(dim=1) if sz.numel() else torch.zeros(sz.shape[0], dtype=torch.bool)
    reach = off + ((sz - 1).clamp(min=0) * st).sum(dim=1) if sz.numel() else off
    if bool(((reach >= buf.numel()) & ~empty).any()):
        raise pickle.UnpicklingError("nested tensor record whose components reach outside its buffer")
    return torch._nested_view_from_buffer(buf, sz.long(), st.long(), off.long())


def _rebuild_meta_tensor_no_storage(dtype, size, stride, requires_grad):
    import torch

    dtype = torch_values.real(dtype)

    if not isinstance(dtype, torch.dtype):
        raise pickle.UnpicklingError("meta tensor record with an invalid dtype")
    shape, strides = _dims(size, "shape"), _dims(stride, "stride")
    if len(shape) != len(strides):
        raise pickle.UnpicklingError("meta tensor record with an impossible layout")
    return torch.empty_strided(shape, strides, dtype=dtype, device="meta", requires_grad=bool(requires_grad))


def _rebuild_device_tensor_from_cpu_tensor(data, dtype, device, requires_grad):
    # torch would move the tensor to `device` (maybe cuda): keep it on the CPU
    import torch

    dtype = torch_values.real(dtype)

    if not isinstance(dtype, torch.dtype):
        raise pickle.UnpicklingError("tensor record with an invalid dtype")
    t = _real(data, "device tensor")
    current_budget().charge(t.numel() * dtype.itemsize, "a device tensor copy")
    return t.to(dtype).requires_grad_(bool(requires_grad) and dtype.is_floating_point)


def _rebuild_device_tensor_from_numpy(data, dtype, device, requires_grad):
    import torch

    dtype = torch_values.real(dtype)

    array = data.value if isinstance(data, NumpyArray) else None
    if array is None or not isinstance(dtype, torch.dtype):
        raise pickle.UnpicklingError("malformed tensor-from-numpy record")
    current_budget().charge(array.nbytes + array.size * dtype.itemsize, "a tensor from a numpy array")
    return torch.from_numpy(array.copy()).to(dtype).requires_grad_(bool(requires_grad) and dtype.is_floating_point)


def _refused_wrapper_subclass(*args: Any) -> Any:
    raise pickle.UnpicklingError("tensor subclasses without storage (wrapper subclasses) are not supported")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


# --- builtin constructors: budgeted, shallow --------------------------------------------------

_COPYABLE = (tuple, list, dict, set, frozenset, str, bytes, bytearray)


def _copy_arg(args: tuple, kwargs: dict, what: str, per_element: int) -> None:
    if kwargs:
        raise pickle.UnpicklingError(f"{what} with keyword arguments refused")
    if len(args) > 1:
        raise pickle.UnpicklingError(f"{what} with more than one argument refused")
    if args and not isinstance(args[0], _COPYABLE):
        raise pickle.UnpicklingError(f"{what} of a {type(args[0]).__name__} refused")
    if args:
        source = args[0]
        per = per_element + CHARACTER if isinstance(source, str) else per_element  # each char a new str
        current_budget().charge(len(source) * per, what)


def _container(ctor: Callable, name: str, per_element: int, hashes: bool = False, pairs: bool = False) -> Callable:
    def build(*args: Any, **kwargs: Any) -> Any:
        _copy_arg(args, kwargs, name, per_element)
        if args and (hashes or pairs):
            items = args[0]
            keys = (i[0] if isinstance(i, (tuple, list)) and i else i for i in items) if pairs else items
            key_guard().check(keys)  # hashed keys: shallow and not colliding, or refused
        return ctor(*args)

    build.__qualname__ = f"safe_{name}"
    return build


def _bytearray(*args: Any) -> bytearray:
    if not args:
        return bytearray()
    source = args[0]
    if isinstance(source, bool) or not isinstance(source, (bytes, bytearray, int, str)):
        raise pickle.UnpicklingError("bytearray of a non-number, non-text object refused")
    if isinstance(source, int):
        current_budget().charge(source, "bytearray(n)")
        return bytearray(source)
    if isinstance(source, str):
        _check_codec(args[1:], "bytearray")
    elif len(args) > 1:
        raise pickle.UnpicklingError("bytearray of bytes with an encoding refused")
    current_budget().charge(len(source), "bytearray copy")
    return bytearray(*args)


def _str(*args: Any) -> str:
    """``str`` as a pickle may call it: text stays text, bytes decode with a built-in codec."""
    if not args:
        return ""
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    if isinstance(args[0], (bytes, bytearray)) and len(args) >= 2:
        _check_codec(args[1:], "str")
        current_budget().charge(len(args[0]) * 4, "str from bytes")
        return str(*args)
    raise pickle.UnpicklingError("str() of a non-text object refused")


def _check_codec(rest: tuple, what: str) -> None:
    # any other codec name makes Python import an encodings module
    if not rest or not isinstance(rest[0], str) or rest[0].lower() not in _TEXT_CODECS:
        raise pickle.UnpicklingError(f"{what} with a codec other than utf-8/latin1/ascii refused")
    if len(rest) > 1 and (not isinstance(rest[1], str) or rest[1] not in _ERROR_HANDLERS):
        raise pickle.UnpicklingError(f"{what} with an unusual error handler refused")


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # protocol-2 bytes are pickled as _codecs.encode(text, "latin1"); any other codec is
    # a way to import encodings modules, so refuse it (torch does the same)
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1") or errors != "strict":
        raise pickle.UnpicklingError("_codecs.encode is only allowed for latin1 bytes")
    current_budget().charge(len(obj), "_codecs.encode")
    return codecs.encode(obj, "latin1")


_FACTORIES = (None, list, dict, set, int, float, str, tuple, collections.OrderedDict)


def _defaultdict(*args: Any) -> collections.defaultdict:
    # the factory runs whenever a missing key is read: only inert builtin types (as a pickle
    # names them: find_class hands out our checking constructors for list, dict ...)
    if not args:
        return collections.defaultdict()
    factory = _FACTORY_OF.get(id(args[0]))
    if len(args) > 1 or factory is None:
        raise pickle.UnpicklingError("defaultdict with an unusual default factory refused")
    return collections.defaultdict(factory)


def _scalar(ctor: Callable, name: str) -> Callable:
    def build(*args: Any) -> Any:
        if len(args) > 2 or not all(isinstance(a, (int, float, str, bytes, complex)) for a in args):
            raise pickle.UnpicklingError(f"{name}() of a non-number, non-text object refused")
        if args and isinstance(args[0], (str, bytes)):
            current_budget().charge(len(args[0]), f"{name}() of text")
        return ctor(*args)

    build.__qualname__ = f"safe_{name}"
    return build


_PATHS = {"PosixPath": "PurePosixPath", "WindowsPath": "PureWindowsPath", "Path": "PurePath",
          "PurePosixPath": "PurePosixPath", "PureWindowsPath": "PureWindowsPath", "PurePath": "PurePath"}  # fmt: skip
MAX_PATH_TEXT = 4096  # a path in a real checkpoint (a data or output folder) is far shorter


def _path(cls: type, name: str) -> Callable:
    """A pure path from text parts (what a pickled Path holds), short and charged."""

    def build(*parts: Any) -> Any:
        if not all(isinstance(p, str) for p in parts) or sum(len(p) for p in parts) > MAX_PATH_TEXT:
            raise pickle.UnpicklingError(f"pathlib.{name} of non-text or overlong parts refused")
        current_budget().charge(sum(len(p) for p in parts) * CHARACTER, f"pathlib.{name}")
        return cls(*parts)

    build.__qualname__ = f"safe_{name}"
    return build


def _torch_size(*args: Any) -> Any:
    """torch.Size, or its stand-in (a tuple) while torch is not loaded."""
    if len(args) != 1:
        raise pickle.UnpicklingError("torch.Size record with odd arguments")
    dims = _dims(args[0], "torch.Size")
    torch = torch_if_loaded()
    return torch_values.SizeValue(dims) if torch is None else torch.Size(dims)


def _torch_device(*args: Any) -> Any:
    """torch.device, or its stand-in while torch is not loaded where its text is certain."""
    if not 1 <= len(args) <= 2 or not all(isinstance(a, (str, int)) and not isinstance(a, bool) for a in args):
        raise pickle.UnpicklingError("torch.device record with odd arguments")
    if isinstance(args[0], str) and len(args[0]) > 64:
        raise pickle.UnpicklingError("torch.device record with an overlong name")
    if torch_if_loaded() is None:
        stand_in = torch_values.device(args)
        if stand_in is not None:
            return stand_in
    import torch

    try:
        return torch.device(*args)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise pickle.UnpicklingError(f"torch.device record refused: {_first_line(exc)}") from None


def _get_layout(name: Any) -> Any:
    if not isinstance(name, str) or len(name) > 64:
        raise pickle.UnpicklingError("layout record with an odd name")
    if torch_if_loaded() is None:
        # torch's names are "torch.strided" ...: anything else is left to torch (which refuses it)
        stand_in = torch_values.layout(name[6:]) if name.startswith("torch.") else None
        if stand_in is not None:
            return stand_in
    from torch.serialization import _get_layout as get

    try:
        return get(name)
    except (AttributeError, KeyError, RuntimeError) as exc:
        raise pickle.UnpicklingError(f"layout record refused: {_first_line(exc)}") from None


class KeyGuard:
    """Checks every key a pickle is about to hash: shallow (see :func:`depth`), and not one of
    many keys sharing a hash value.

    Hashes of ints, floats and tuples of them are deterministic, so a file can hold 100,000
    keys with one hash: inserting them into one dict or set is quadratic (minutes). Past
    :data:`MAX_SAME_HASH` keys with one hash in one container the file is refused. Counts
    are per container: seventy optimizer states keyed 0, 1, … are ordinary.
    """

    def __init__(self) -> None:
        self.depths: dict[int, tuple[Any, int]] = {}
        # the containers keys were added to, held so that their ids stay theirs while loading
        self._into: dict[int, tuple[Any, collections.Counter[int]]] = {}

    def check(self, keys: Iterable[Any], into: Any = None) -> None:
        """Keys about to be added to ``into`` (None: to a container made from them alone)."""
        counts: collections.Counter[int] | None = None
        for key in keys:
            if isinstance(key, str):
                continue  # str hashes are salted per process: no crafted collisions
            if isinstance(key, _HASHED):
                depth(key, self.depths)
            try:
                h = hash(key)
            except TypeError:
                continue  # unhashable: the insertion itself raises, a clean refusal
            if counts is None:
                counts = self._counts(into)
            counts[h] += 1
            if counts[h] > MAX_SAME_HASH:
                raise LimitError("more than 64 keys of one container share one hash value (a hash-collision bomb?)")

    def _counts(self, into: Any) -> collections.Counter[int]:
        if into is None:
            return collections.Counter()
        entry = self._into.get(id(into))
        if entry is None:
            entry = self._into[id(into)] = (into, collections.Counter())
        return entry[1]


MAX_SAME_HASH = 64
_GUARD: contextvars.ContextVar[KeyGuard | None] = contextvars.ContextVar("ckptviewer_keys", default=None)


def key_guard() -> KeyGuard:
    """The key guard of the load in progress on this thread (a fresh one outside a load)."""
    guard = _GUARD.get()
    return guard if guard is not None else KeyGuard()


@contextlib.contextmanager
def guard_scope(guard: KeyGuard) -> Iterator[None]:
    """Make ``guard`` the one builtin constructors consult while a pickle loads."""
    token = _GUARD.set(guard)
    try:
        yield
    finally:
        _GUARD.reset(token)


# --- numpy: rebuilt from validated parts, never through numpy's own __setstate__ ---------------


class NumpyDtype:
    """A numpy dtype as pickled (``numpy.dtype('f8', False, True)`` + state), validated."""

    def __init__(self, spec: Any = None, align: Any = False, copy: Any = False) -> None:
        self.spec, self.byteorder = spec, "="

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">", "=", "|"):
            self.byteorder = state[1]

    def real(self) -> Any:
        import numpy as np

        if not isinstance(self.spec, str) or len(self.spec) > 8:
            raise pickle.UnpicklingError("numpy dtype of an unsupported kind")
        try:
            dt = np.dtype(self.spec)
        except TypeError:
            raise pickle.UnpicklingError(f"numpy dtype {self.spec!r} refused") from None
        if dt.hasobject or dt.fields is not None or dt.kind not in "biufc?":
            raise pickle.UnpicklingError(f"numpy dtype {self.spec!r} refused (only plain numbers)")
        return dt.newbyteorder(self.byteorder) if self.byteorder in "<>" else dt


class NumpyArray:
    """A numpy array as pickled (``_reconstruct`` + state); ``value`` is the real array."""

    def __init__(self, *args: Any) -> None:
        self.value: Any = None

    def __setstate__(self, state: Any) -> None:
        import numpy as np

        if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[2], NumpyDtype)):
            raise pickle.UnpicklingError("malformed numpy array record")
        _, shape, dtype, fortran, raw = state
        shape = _dims(shape, "numpy shape")
        if not isinstance(raw, (bytes, bytearray)):
            raise pickle.UnpicklingError("numpy array record without raw data")
        dt = dtype.real()
        if math.prod(shape) * dt.itemsize != len(raw):
            raise pickle.UnpicklingError("numpy array record whose data does not match its shape")
        current_budget().charge(len(raw), "a numpy array")
        self.value = np.frombuffer(raw, dtype=dt).reshape(shape, order="F" if fortran else "C").copy()


def _numpy_reconstruct(subtype: Any, shape: Any, code: Any) -> NumpyArray:
    return NumpyArray()


def _numpy_scalar(dtype: Any, raw: Any = None) -> Any:
    import numpy as np

    if not isinstance(dtype, NumpyDtype) or not isinstance(raw, (bytes, bytearray)):
        raise pickle.UnpicklingError("malformed numpy scalar record")
    dt = dtype.real()
    if len(raw) != dt.itemsize:
        raise pickle.UnpicklingError("numpy scalar record of the wrong size")
    return np.frombuffer(bytes(raw), dtype=dt)[0]


class NumpyNdarrayType:
    """What ``numpy.ndarray`` means inside a pickle: an argument of _reconstruct, no more."""


def _identity(data: Any, *_: Any) -> Any:
    """TorchScript's pickle helpers (build_intlist, restore_type_tag, ...) only wrap a value."""
    if not isinstance(data, (list, tuple, dict, int, float, bool, str)) and data is not None:
        raise pickle.UnpicklingError("TorchScript list helper on an odd value")
    return data


# --- the tables the unpickler's find_class answers from ----------------------------------------

REBUILDERS: dict[str, Callable] = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._utils._rebuild_sparse_tensor": _rebuild_sparse_tensor,
    "torch._utils._rebuild_qtensor": _rebuild_qtensor,
    "torch._utils._rebuild_nested_tensor": _rebuild_nested_tensor,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor_no_storage,
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": _rebuild_device_tensor_from_cpu_tensor,
    "torch._utils._rebuild_device_tensor_from_numpy": _rebuild_device_tensor_from_numpy,
    "torch._utils._rebuild_wrapper_subclass": _refused_wrapper_subclass,
}
REBUILDER_IDS = {id(f) for f in REBUILDERS.values()}

CALLABLES: dict[str, Callable] = {
    **REBUILDERS,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch.Size": _torch_size,
    "torch.device": _torch_device,
    "torch.serialization._get_layout": _get_layout,
    "_codecs.encode": _codecs_encode,
    "builtins.bytearray": _bytearray,
    "builtins.str": _str,
    "builtins.list": _container(list, "list", POINTER),
    "builtins.tuple": _container(tuple, "tuple", POINTER),
    "builtins.dict": _container(dict, "dict", ENTRY, pairs=True),
    "builtins.set": _container(set, "set", ENTRY, hashes=True),
    "builtins.frozenset": _container(frozenset, "frozenset", ENTRY, hashes=True),
    "collections.OrderedDict": _container(collections.OrderedDict, "OrderedDict", ORDERED_ENTRY, pairs=True),
    "collections.Counter": _container(collections.Counter, "Counter", ENTRY, hashes=True),
    **{f"pathlib.{n}": _path(getattr(pathlib, real), n) for n, real in _PATHS.items()},
    "collections.defaultdict": _defaultdict,
    "builtins.int": _scalar(int, "int"),
    "builtins.float": _scalar(float, "float"),
    "builtins.complex": _scalar(complex, "complex"),
    "builtins.bool": _scalar(bool, "bool"),
    **{
        f"torch.jit._pickle.{n}": _identity
        for n in ("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "restore_type_tag")
    },
    **{f"{core}.multiarray._reconstruct": _numpy_reconstruct for core in ("numpy.core", "numpy._core")},
    **{f"{core}.multiarray.scalar": _numpy_scalar for core in ("numpy.core", "numpy._core")},
}
"""Global name -> what a pickle gets for it, for every callable it may call."""

# a defaultdict's factory, as the pickle hands it over -> the real type the dict gets
_FACTORY_OF: dict[int, Any] = {id(f): f for f in _FACTORIES if f is not None}
_FACTORY_OF.update({id(CALLABLES[f"builtins.{t.__name__}"]): t for t in (list, dict, set, int, float, str, tuple)})
_FACTORY_OF[id(CALLABLES["collections.OrderedDict"])] = collections.OrderedDict

# the real types behind names a pickle may use as arguments (or NEWOBJ classes), not call
TYPE_NAMES: dict[str, type] = {
    "builtins.list": list,
    "builtins.dict": dict,
    "builtins.set": set,
    "builtins.tuple": tuple,
    "builtins.frozenset": frozenset,
    "collections.OrderedDict": collections.OrderedDict,
    "collections.Counter": collections.Counter,
    "collections.defaultdict": collections.defaultdict,
    "builtins.object": builtins.object,
}
