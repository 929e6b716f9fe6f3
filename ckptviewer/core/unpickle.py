"""A restricted unpickler that never runs code from a checkpoint.

Every global a pickle names goes through :meth:`RestrictedUnpickler.find_class`, which
answers with

* for a callable the pickle may call, a checking version of it (:mod:`.rebuild`): lazy
  rebuilders for torch's dense tensor functions (no data is read), validating rebuilders
  for sparse, quantized and nested tensors, budgeted builtin constructors;
* the real object for torch's non-callable allowlist entries (dtypes, qschemes,
  ``torch.Tensor`` as an argument) and a few inert types (``argparse.Namespace``, pure
  paths, datetimes, enum classes of torch modules already imported), and validating
  stand-ins for numpy arrays, scalars and dtypes;
* and an inert :class:`Opaque` placeholder type for everything else. Calling,
  instantiating or setting state on a placeholder only records the arguments.

Handing out real classes is not enough on its own: pickle's BUILD, NEWOBJ, REDUCE and
SETITEMS opcodes act on whatever is on the stack (BUILD on a class rewrites the class
for the whole process). So this is a pure-Python unpickler whose opcode handlers only
call approved callables, only instantiate approved types, and only set state or items on
instances of approved container types. Anything else stops the load with a clear error.

Bounds (:mod:`.limits`): one memory budget per open charged by every constructor the
pickle calls and by BYTEARRAY8; tuples and frozensets are refused when they nest deeper
than :data:`~.limits.MAX_NESTING` *before* anything hashes them (hashing recurses in C);
after the load, the object graph's depth, its tree expansion (shared containers) and
plain reference cycles are checked once.

Globals outside torch's weights-only allowlist are collected in ``unsafe_globals``;
those that became placeholders (and so were not executed) also in ``blocked_globals``.

torch is not imported to list a checkpoint: the allowlist is held as names
(:data:`ALLOWED_NAMES`), storage classes as dtype names, and tensor records become
:class:`LazyTensor` descriptors. torch is imported only when a pickle names one of torch's
own values that have no name stand-in (:mod:`.torch_values`: dtypes, layouts, qschemes,
devices and ``torch.Size`` have one), such as ``torch.Tensor`` named as a value.
"""

from __future__ import annotations

import _compat_pickle
import argparse
import datetime
import enum
import io
import pickle
import struct
import sys
from collections.abc import Callable
from typing import Any, ClassVar

from . import torch_values
from .dtype_names import STORAGE_DTYPES
from .limits import MAX_NESTING, Budget, LimitError, budget_scope, check_graph
from .placeholders import Opaque, new_placeholder
from .rebuild import (
    CALLABLES,
    ENTRY,
    POINTER,
    TYPE_NAMES,
    KeyGuard,
    NumpyArray,
    NumpyDtype,
    NumpyNdarrayType,
    guard_scope,
)

# torch's weights-only allowlist (what ``torch.load(weights_only=True)`` accepts), by name:
# tests/core/test_listing_without_torch.py checks it equals the installed torch's own
ALLOWED_NAMES = frozenset({
    "_codecs.encode", "builtins.bytearray", "builtins.complex", "builtins.set", "collections.Counter",
    "collections.OrderedDict", "torch.Size", "torch.Tensor", "torch.device", "torch.nn.parameter.Parameter",
    "torch._tensor._rebuild_from_type_v2", "torch.serialization._get_layout",
    "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
    *(f"torch._utils._rebuild_{n}" for n in (
        "device_tensor_from_cpu_tensor", "device_tensor_from_numpy", "meta_tensor_no_storage", "nested_tensor",
        "parameter", "parameter_with_state", "qtensor", "sparse_tensor", "tensor", "tensor_v2", "tensor_v3",
        "wrapper_subclass")),
    *(f"torch.{n}" for n in (
        "bfloat16", "bits16", "bits1x8", "bits2x4", "bits4x2", "bits8", "bool", "complex128", "complex32",
        "complex64", "float16", "float32", "float4_e2m1fn_x2", "float64", "float8_e4m3fn", "float8_e4m3fnuz",
        "float8_e5m2", "float8_e5m2fnuz", "float8_e8m0fnu", "int1", "int16", "int2", "int3", "int32", "int4", "int5",
        "int6", "int64", "int7", "int8", "qint32", "qint8", "quint2x4", "quint4x2", "quint8", "uint1", "uint16",
        "uint2", "uint3", "uint32", "uint4", "uint5", "uint6", "uint64", "uint7", "uint8",
        "per_channel_affine", "per_channel_affine_float_qparams", "per_channel_symmetric", "per_tensor_affine",
        "per_tensor_symmetric")),
    *(f"torch.{n}Storage" for n in (
        "BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double", "Float", "Half", "Int", "Long",
        "QInt32", "QInt8", "QUInt2x4", "QUInt4x2", "QUInt8", "Short")),
    *(f"torch.cuda.{n}Storage" for n in (
        "BFloat16", "Bool", "Byte", "Char", "ComplexDouble", "ComplexFloat", "Double", "Float", "Half", "Int", "Long",
        "Short")),
    *(f"{m}.{n}Tensor" for m in ("torch", "torch.cuda") for n in (
        "BFloat16", "Bool", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short")),
    *(f"{m}.{n}Tensor" for m in ("torch.sparse", "torch.cuda.sparse") for n in (
        "BFloat16", "Byte", "Char", "Double", "Float", "Half", "Int", "Long", "Short")),
})  # fmt: skip


def _torch_allowlist() -> dict[str, Any]:
    """torch's weights-only allowlist, name -> object (imports torch)."""
    from torch._weights_only_unpickler import _get_allowed_globals

    return dict(_get_allowed_globals())


_ALLOWED_VALUES: dict[str, Any] = {}


def _allowed_value(full: str) -> Any:
    """The object torch's allowlist holds for ``full`` (a dtype, torch.Size ...): torch is loaded now."""
    if not _ALLOWED_VALUES:
        _ALLOWED_VALUES.update(_torch_allowlist())
    try:
        return _ALLOWED_VALUES[full]
    except KeyError:  # a name this torch does not have (ALLOWED_NAMES is checked against it)
        raise pickle.UnpicklingError(f"{full[:80]} is not in this torch's allowlist") from None


def _inert_types() -> dict[str, Any]:
    """Types that are pure data: loading them runs no code from the file."""
    inert: dict[str, Any] = {
        "argparse.Namespace": argparse.Namespace,
        "numpy.ndarray": NumpyNdarrayType,
        "numpy.dtype": NumpyDtype,
        "builtins.object": object,  # copyreg._reconstructor's base argument
    }
    for name in ("datetime", "date", "time", "timedelta", "timezone"):
        inert[f"datetime.{name}"] = getattr(datetime, name)
    # no bytes/range/deque/slice: bytes(10**11) is a memory bomb, and deeply nested deques
    # or slices crash the interpreter when freed
    return inert


_READY = False
_INERT: dict[str, Any] = {}
_CALLABLE_OK: set[int] = set()  # ids of what REDUCE may call
_NEWABLE: dict[int, type] = {}  # ids of what NEWOBJ/copyreg may instantiate -> the real type
_TORCHSCRIPT_HELPERS = {n for n in CALLABLES if n.startswith("torch.jit._pickle.")}


def _tables() -> frozenset[str]:
    global _READY
    if not _READY:
        _INERT.update(_inert_types())
        _CALLABLE_OK.update(id(v) for v in CALLABLES.values())
        _CALLABLE_OK.update(id(v) for k, v in _INERT.items() if k != "numpy.ndarray")
        _CALLABLE_OK.add(id(_safe_reconstructor))
        for name, real in TYPE_NAMES.items():
            _NEWABLE[id(real)] = real
            if name in CALLABLES:
                _NEWABLE[id(CALLABLES[name])] = real
        _NEWABLE[id(argparse.Namespace)] = argparse.Namespace
        _READY = True
    return ALLOWED_NAMES


def _safe_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """copyreg._reconstructor for placeholder or approved classes only."""
    if isinstance(cls, type) and issubclass(cls, Opaque):
        return cls(state) if state is not None else cls()
    real, real_base = _NEWABLE.get(id(cls)), _NEWABLE.get(id(base))
    if real is not None and real is not object and real_base is not None:
        if real_base is object:
            return object.__new__(real)
        if issubclass(real, real_base):
            return real_base.__new__(real)
    raise pickle.UnpicklingError(f"copyreg._reconstructor of {getattr(cls, '__name__', '?')} refused")


class StorageType:
    """What ``torch.FloatStorage`` means inside a pickle: a dtype (by name) for persistent_load.

    One left in the unpickled tree (the class saved as a value) becomes the real torch
    class after the load: an output never pickles ckptviewer's own classes.
    """

    __slots__ = ("dtype_name", "name")

    def __init__(self, dtype_name: str, name: str) -> None:
        self.dtype_name, self.name = dtype_name, name


def _storage_type(module: str, name: str) -> Any:
    """The dtype carrier for ``torch.FloatStorage``-style names, or None."""
    if module not in ("torch", "torch.cuda", "torch.storage") or not name.endswith("Storage"):
        return None
    dtype = STORAGE_DTYPES.get(name)
    return StorageType(dtype, f"{module}.{name}") if dtype is not None else None


def _storage_class(name: str) -> type:
    """torch's own class for a storage name (torch.load gives a StorageType object, which
    torch.save then writes as a global torch.load refuses: the class itself round-trips)."""
    import torch

    module, _, attr = name.rpartition(".")
    owner = {"torch": torch, "torch.cuda": getattr(torch, "cuda", None), "torch.storage": torch.storage}.get(module)
    real = getattr(owner, attr, None)
    if not isinstance(real, type):
        raise pickle.UnpicklingError(f"a storage class {name[:60]!r} saved as a value")
    return real


def _torch_enum(module: str, name: str) -> Any:
    """An enum class from an already imported torch module (never triggers an import).

    ``vars()`` rather than ``getattr``: torch modules define ``__getattr__`` hooks that
    import whole subsystems on first access.
    """
    if not (module == "torch" or module.startswith("torch.")):
        return None
    if module in _NO_ENUMS or module.startswith("torch.nn.modules."):  # a whole pickled model's classes
        return None
    if "torch" not in sys.modules:
        # which torch modules are loaded, and what they hold, is what `import torch` leaves:
        # the answer must not depend on whether something loaded torch before
        import torch  # noqa: F401
    mod = sys.modules.get(module)
    obj = vars(mod).get(name) if mod is not None else None
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return obj
    return None


# torch modules that define no enum classes (checked against torch's sources): a pickled
# nn.Module names them, and listing it needs no torch
_NO_ENUMS = frozenset({"torch.nn", "torch.nn.modules", "torch.nn.parameter"})


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f"{what} refused: the pickle tries to act on an object it may not touch")


_HASHED = (tuple, frozenset)


class RestrictedUnpickler(pickle._Unpickler):
    """A pure-Python unpickler whose globals and object-acting opcodes are restricted.

    ``budget`` bounds what constructors the pickle calls may allocate; pass the same
    budget to every unpickler of one open (a legacy file holds several pickles).
    """

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)
    # what pickle._Unpickler sets up (untyped in the standard library's stubs)
    stack: list[Any]
    append: Callable[[Any], None]
    pop_mark: Callable[[], list[Any]]
    read: Callable[[int], bytes]

    def __init__(
        self,
        file: Any,
        persistent_load: Callable[[Any], Any] | None = None,
        script: bool = False,
        records: set[str] | frozenset[str] = frozenset(),
        budget: Budget | None = None,
        size: int | None = None,
    ) -> None:
        super().__init__(file, encoding="utf-8")
        _tables()
        self.script = script  # a TorchScript archive: __torch__.* names are compiled modules
        self.records = records  # names a known format uses for plain records (DCP metadata)
        self.budget = budget if budget is not None else Budget.for_size(size or 0)
        self.unsafe_globals: set[str] = set()
        self.blocked_globals: set[str] = set()
        self._placeholders: dict[str, type[Opaque]] = {}
        self._enums: dict[int, Callable] = {}
        self._stand_ins = False  # numpy records or storage classes to turn real after the load
        self._keys = KeyGuard()
        if persistent_load is not None:
            self.persistent_load = persistent_load  # type: ignore[method-assign]

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("a persistent reference where none may be")

    def find_class(self, module: str, name: str) -> Any:
        if not isinstance(module, str) or not isinstance(name, str) or len(module) + len(name) > 512:
            raise pickle.UnpicklingError("malformed global reference")
        # protocol 2 (torch.save's default) writes Python 2 names such as __builtin__.set;
        # pickle's own find_class maps them, and this override must too
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        elif module in _compat_pickle.IMPORT_MAPPING:
            module = _compat_pickle.IMPORT_MAPPING[module]
        if module == "torch.tensor":  # renamed in torch 1.9; torch maps it the same way
            module = "torch._tensor"
        full = f"{module}.{name}"
        storage = _storage_type(module, name)
        if storage is not None:
            self._stand_ins = True
            return storage
        allowed = _tables()
        script_class = self.script and module.startswith("__torch__")
        if full not in allowed and full not in _TORCHSCRIPT_HELPERS and full not in self.records and not script_class:
            self.unsafe_globals.add(full)
        if full == "copyreg._reconstructor":
            return _safe_reconstructor
        if full in CALLABLES:
            if full.startswith("numpy"):
                self._stand_ins = True
            return CALLABLES[full]
        if full in allowed:
            # dtypes, qschemes, torch.Tensor/Parameter as arguments; never called (see _callable).
            # Without torch, a dtype or qscheme is an inert stand-in by name (torch_values)
            if module == "torch" and "torch" not in sys.modules:
                stand_in = torch_values.named(name)
                if stand_in is not None:
                    return stand_in
            return _allowed_value(full)
        if full in self.records:  # read as an inert record, then validated by the format reader
            return self._placeholder(full)
        if full in _INERT:
            if full.startswith("numpy"):
                self._stand_ins = True
            return _INERT[full]
        enum_type = _torch_enum(module, name)
        if enum_type is not None:
            return self._enum_factory(enum_type)
        if self.script and module.startswith("__torch__"):
            # TorchScript's own class names, not Python imports: inert records, not "unsafe"
            placeholder = self._placeholder(full)
            placeholder.ckpt_script = True
            return placeholder
        self.blocked_globals.add(full)
        return self._placeholder(full)

    def _placeholder(self, full: str) -> type[Opaque]:
        if full not in self._placeholders:
            self._placeholders[full] = new_placeholder(full)
        return self._placeholders[full]

    def _enum_factory(self, enum_type: type) -> Callable:
        # enum members are pickled as EnumClass(value): hand out a lookup, not the class
        factory = self._enums.get(id(enum_type))
        if factory is None:

            def factory(value: Any) -> Any:
                if not isinstance(value, (int, str, float)):
                    raise pickle.UnpicklingError("enum member from an odd value")
                return enum_type(value)

            self._enums[id(enum_type)] = factory
        return factory

    def _callable(self, func: Any) -> bool:
        return (
            id(func) in _CALLABLE_OK
            or isinstance(func, Opaque)
            or (isinstance(func, type) and issubclass(func, Opaque))
            or any(func is f for f in self._enums.values())
        )

    def load(self) -> Any:
        with budget_scope(self.budget), guard_scope(self._keys):
            try:
                root = super().load()
            except RecursionError:
                raise LimitError("the pickle is nested too deeply to read safely") from None
            except MemoryError:
                raise LimitError("the pickle asks for more memory than this machine has") from None
            check_graph(root)
            return _real_objects(root) if self._stand_ins else root

    # --- opcodes that hash: only shallow keys (depth() measures each tuple once) ---------------

    def _shallow(self, items: Any, into: Any = None) -> None:
        """Keys about to be hashed into ``into``: shallow and not colliding (:class:`~.rebuild.KeyGuard`)."""
        self._keys.check(items, into)

    # --- opcodes that make objects from one byte: charged to the budget ---------------------

    def load_empty_dictionary(self) -> None:
        self.budget.charge(160, "an empty dict")  # the dict and what listing it costs
        self.append({})

    def load_empty_list(self) -> None:
        self.budget.charge(120, "an empty list")
        self.append([])

    def load_empty_set(self) -> None:
        self.budget.charge(300, "an empty set")
        self.append(set())

    def load_list(self) -> None:
        items = self.pop_mark()
        self.budget.charge(56 + 8 * len(items), "a list")
        self.append(items)

    def load_tuple(self) -> None:
        items = self.pop_mark()
        self.budget.charge(40 + 8 * len(items), "a tuple")
        self.append(tuple(items))

    def load_readonly_buffer(self) -> None:
        raise pickle.UnpicklingError("out-of-band buffers (pickle protocol 5) refused: torch.save never writes them")

    def load_next_buffer(self) -> None:
        raise pickle.UnpicklingError("out-of-band buffers (pickle protocol 5) refused: torch.save never writes them")

    def load_frozenset(self) -> None:
        items = self.pop_mark()
        self._shallow(items)
        self.append(frozenset(items))

    def load_dict(self) -> None:
        items = self.pop_mark()
        self.budget.charge(64 + ENTRY * (len(items) // 2), "a dict")
        made: dict = {}
        self._shallow(items[0::2], made)  # SETITEMS into it later count on
        made.update((items[i], items[i + 1]) for i in range(0, len(items) - 1, 2))
        self.append(made)

    def load_bytearray8(self) -> None:
        (n,) = struct.unpack("<Q", self.read(8))
        self.budget.charge(n, "BYTEARRAY8")  # pickle allocates n bytes before reading them
        data = self.read(n)
        if len(data) != n:
            raise pickle.UnpicklingError("BYTEARRAY8 runs past the end of the pickle")
        self.append(bytearray(data))

    # --- opcodes that act on objects: only on approved ones -------------------------------

    def load_reduce(self) -> None:
        stack = self.stack
        args = stack.pop()
        func = stack[-1]
        if not self._callable(func) or not isinstance(args, tuple):
            raise _refuse("REDUCE")
        stack[-1] = func(*args)

    def load_newobj(self) -> None:
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, {}))

    def load_newobj_ex(self) -> None:
        kwargs = self.stack.pop()
        args = self.stack.pop()
        cls = self.stack.pop()
        self.append(self._new(cls, args, kwargs))

    def _new(self, cls: Any, args: Any, kwargs: Any) -> Any:
        if not isinstance(args, tuple) or not isinstance(kwargs, dict):
            raise _refuse("NEWOBJ")
        if isinstance(cls, type) and issubclass(cls, Opaque):
            return cls(*args, **kwargs)
        real = _NEWABLE.get(id(cls))
        if real is not None and real is not object:
            return real.__new__(real)
        if cls in (NumpyDtype, NumpyArray):
            return cls(*args)
        raise _refuse(f"creating {getattr(cls, '__name__', type(cls).__name__)}")

    def _instantiate(self, klass: Any, args: Any) -> None:  # INST and OBJ (protocols 0 and 1)
        if isinstance(klass, type) and issubclass(klass, Opaque):
            self.append(klass(*args))
            return
        raise _refuse("INST/OBJ")

    def load_build(self) -> None:
        stack = self.stack
        state = stack.pop()
        inst = stack[-1]
        if isinstance(inst, type) or not isinstance(inst, _BUILD_OK):
            raise _refuse(f"setting the state of {type(inst).__name__}")
        if isinstance(inst, (Opaque, NumpyDtype, NumpyArray)):
            inst.__setstate__(state)
            return
        slotstate = None
        if isinstance(state, tuple) and len(state) == 2:
            state, slotstate = state
        for part in (state, slotstate):
            if not part:
                continue
            # attributes only, never ones the type defines: {"items": dict} on an
            # OrderedDict would hide its contents from anything that calls .items()
            if not isinstance(part, dict) or not all(
                type(k) is str and not k.startswith("__") and not hasattr(type(inst), k) for k in part
            ):
                raise _refuse("BUILD with unusual state")
            if not (isinstance(inst, argparse.Namespace) or hasattr(inst, "__dict__")):
                raise _refuse(f"setting attributes of {type(inst).__name__}")
            self.budget.charge(len(part) * 2 * POINTER, "BUILD")
            inst.__dict__.update(part)

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, _ITEMS_OK):
            raise _refuse("SETITEM")
        self._shallow((key,), target)
        target[key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, _ITEMS_OK):
            raise _refuse("SETITEMS")
        self.budget.charge(ENTRY * (len(items) // 2), "dict items")
        self._shallow(items[0::2], target)
        for i in range(0, len(items) - 1, 2):
            target[items[i]] = items[i + 1]

    def load_append(self) -> None:
        value = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, (list, Opaque)):
            raise _refuse("APPEND")
        target.append(value)

    def load_appends(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, (list, Opaque)):
            raise _refuse("APPENDS")
        target.extend(items)

    def load_additems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, set):
            raise _refuse("ADDITEMS")
        self.budget.charge(ENTRY * len(items), "set items")
        self._shallow(items, target)
        target.update(items)

    for _name, _op in (
        ("load_reduce", pickle.REDUCE), ("load_newobj", pickle.NEWOBJ), ("load_newobj_ex", pickle.NEWOBJ_EX),
        ("load_build", pickle.BUILD), ("load_setitem", pickle.SETITEM), ("load_setitems", pickle.SETITEMS),
        ("load_append", pickle.APPEND), ("load_appends", pickle.APPENDS), ("load_additems", pickle.ADDITEMS),
        ("load_frozenset", pickle.FROZENSET), ("load_dict", pickle.DICT),
        ("load_empty_dictionary", pickle.EMPTY_DICT), ("load_empty_list", pickle.EMPTY_LIST),
        ("load_empty_set", pickle.EMPTY_SET), ("load_list", pickle.LIST), ("load_tuple", pickle.TUPLE),
        ("load_readonly_buffer", pickle.READONLY_BUFFER), ("load_next_buffer", pickle.NEXT_BUFFER),
        ("load_bytearray8", pickle.BYTEARRAY8),
    ):  # fmt: skip
        dispatch[_op[0]] = locals()[_name]
    del _name, _op


_BUILD_OK = (argparse.Namespace, dict, list, set, Opaque, NumpyDtype, NumpyArray)
_ITEMS_OK = (dict, Opaque)


def _real_objects(obj: Any, level: int = 0) -> Any:
    """Replace the stand-ins made while loading by what they stand for: numpy records by
    arrays and dtypes, storage-class carriers by torch's classes (containers rebuilt where
    needed)."""
    if isinstance(obj, NumpyArray):
        return obj.value
    if isinstance(obj, NumpyDtype):
        return obj.real()
    if isinstance(obj, StorageType):
        return _storage_class(obj.name)
    if level > MAX_NESTING:
        return obj
    if isinstance(obj, dict):
        for k, v in list(dict.items(obj)):
            new = _real_objects(v, level + 1)
            if new is not v:
                obj[k] = new
        return obj
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            new = _real_objects(v, level + 1)
            if new is not v:
                obj[i] = new
        return obj
    if isinstance(obj, tuple):
        items = [_real_objects(v, level + 1) for v in obj]
        return tuple(items) if any(a is not b for a, b in zip(items, obj)) else obj
    if isinstance(obj, argparse.Namespace):
        for k, v in list(vars(obj).items()):
            setattr(obj, k, _real_objects(v, level + 1))
        return obj
    if isinstance(obj, Opaque):
        record = obj._record()
        for part in ("args", "state", "items", "dictitems"):
            if part in record:
                record[part] = _real_objects(record[part], level + 1)
        return obj
    return obj


def restricted_loads(data: bytes) -> Any:
    """Unpickle a small header pickle (no storages) with the restricted unpickler."""
    return RestrictedUnpickler(io.BytesIO(data), size=len(data)).load()
