"""A restricted unpickler that never runs code from a checkpoint.

Every global a pickle names goes through :meth:`RestrictedUnpickler.find_class`, which
answers with

* a lazy rebuilder for torch's tensor-rebuild functions (no data is read),
* the real object for torch's own weights-only allowlist,
* the real object for a few inert types (``argparse.Namespace``, pure paths, datetimes,
  builtin containers, enum classes of torch modules already imported), and validating
  stand-ins for numpy arrays, scalars and dtypes,
* and an inert :class:`Opaque` placeholder type for everything else. Calling,
  instantiating or setting state on a placeholder only records the arguments.

Handing out real classes is not enough on its own: pickle's BUILD, NEWOBJ, REDUCE and
SETITEMS opcodes act on whatever is on the stack (BUILD on a class rewrites the class
for the whole process). So this is a pure-Python unpickler whose opcode handlers only
call approved callables, only instantiate approved types, and only set state or items on
instances of approved container types. Anything else stops the load with a clear error.

Globals outside torch's weights-only allowlist are collected in ``unsafe_globals``;
those that became placeholders (and so were not executed) also in ``blocked_globals``.
"""

from __future__ import annotations

import _compat_pickle
import argparse
import builtins
import codecs
import collections
import datetime
import enum
import io
import pathlib
import pickle
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import torch

from .lazy import LazyTensor, StorageRef, contiguous_stride

MAX_BYTEARRAY = 64 << 20  # bytearray(n) from a pickle: larger is a memory bomb, not data


class Opaque:
    """An object the checkpoint referenced but that was not executed or imported.

    Placeholder types are created per global name and per load (``posix.system``,
    ``mylib.models.ResNet``); the class attribute ``ckpt_global`` holds that name. An
    instance remembers what pickle tried to do with it: constructor ``args``, ``state``
    from BUILD, and ``items``/``dictitems`` from APPENDS/SETITEMS.
    """

    ckpt_global = "?"
    ckpt_call_type: type[Opaque] | None = None
    ckpt_script = False  # a TorchScript module (``__torch__.*``): its attributes are its state

    def __new__(cls, *args: Any, **kwargs: Any) -> Opaque:
        obj = object.__new__(cls)
        obj.__dict__["_ckpt"] = {"args": args, "kwargs": kwargs}
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # records only, in __new__
        pass

    # pickle protocol hooks: record, never act
    def __setstate__(self, state: Any) -> None:
        self.__dict__["_ckpt"]["state"] = state

    def __setitem__(self, key: Any, value: Any) -> None:
        self.__dict__["_ckpt"].setdefault("dictitems", {})[key] = value

    def append(self, item: Any) -> None:
        self.__dict__["_ckpt"].setdefault("items", []).append(item)

    def extend(self, items: Any) -> None:
        self.__dict__["_ckpt"].setdefault("items", []).extend(items)

    def __call__(self, *args: Any, **kwargs: Any) -> Opaque:
        cls = type(self)
        if cls.ckpt_call_type is None:  # one result type per placeholder, names never grow
            name = cls.ckpt_global if cls.ckpt_global.endswith("()") else f"{cls.ckpt_global}()"
            cls.ckpt_call_type = cls if name == cls.ckpt_global else _new_placeholder(name)
        return cls.ckpt_call_type(*args, **kwargs)

    def __reduce__(self):  # saving a placeholder back would write a lie
        raise TypeError(f"{self.ckpt_global} was not loaded (untrusted); it cannot be saved")

    def __repr__(self) -> str:
        return f"<{self.ckpt_global}: not executed>"

    def _record(self) -> dict:
        record = self.__dict__.get("_ckpt")
        return record if isinstance(record, dict) else {}

    @property
    def ckpt_args(self) -> tuple:
        return self._record().get("args", ())

    @property
    def ckpt_state(self) -> Any:
        return self._record().get("state")

    @property
    def ckpt_items(self) -> list:
        return self._record().get("items", [])

    @property
    def ckpt_dictitems(self) -> dict:
        return self._record().get("dictitems", {})


def _new_placeholder(name: str) -> type[Opaque]:
    short = name.rsplit(".", 1)[-1] or "Opaque"
    return type(short, (Opaque,), {"ckpt_global": name, "__module__": "ckptviewer.placeholder"})


def placeholder_type(name: str) -> type[Opaque]:
    """A new placeholder type standing for the global ``name``."""
    return _new_placeholder(name)


# --- lazy versions of torch's tensor rebuild functions ---------------------------------


def _dims(values: Any, what: str) -> tuple[int, ...]:
    if not isinstance(values, (tuple, list, torch.Size)):
        raise pickle.UnpicklingError(f"tensor record with a malformed {what}")
    out = tuple(values)
    if not all(type(v) is int and 0 <= v < 1 << 62 for v in out):
        raise pickle.UnpicklingError(f"tensor record with an impossible {what} {list(out)[:8]}")
    return out


def _lazy(storage: Any, offset: int, size: Any, stride: Any, dtype: Any = None) -> Any:
    if not isinstance(storage, StorageRef):
        raise pickle.UnpicklingError("tensor record without a storage")
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise pickle.UnpicklingError("tensor record with an invalid dtype")
    shape = _dims(size, "shape")
    strides = _dims(stride, "stride") if stride is not None else contiguous_stride(shape)
    if len(strides) != len(shape) or type(offset) is not int or not 0 <= offset < 1 << 62:
        raise pickle.UnpicklingError(f"tensor record with an impossible layout {list(shape)[:8]}")
    return LazyTensor(storage, offset, shape, strides, dtype or storage.dtype)


def _rebuild_tensor(storage, storage_offset, size, stride):
    return _lazy(storage, storage_offset, size, stride)


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False, backward_hooks=None, metadata=None):
    t = _lazy(storage, storage_offset, size, stride)
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_tensor_v3(storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None):
    t = _lazy(storage, storage_offset, size, stride, dtype=dtype)
    if t.dtype.itemsize != storage.dtype.itemsize and storage.dtype != torch.uint8:
        raise pickle.UnpicklingError("tensor record whose dtype does not match its storage")
    t.requires_grad = bool(requires_grad)
    return t


def _rebuild_parameter(data, requires_grad=True, backward_hooks=None, state=None):
    if isinstance(data, LazyTensor):
        data.is_parameter = True
        data.requires_grad = bool(requires_grad)
        return data
    if isinstance(data, torch.Tensor):
        return torch.nn.Parameter(data, requires_grad=bool(requires_grad))
    return data


def _rebuild_from_type_v2(func, new_type, args, state):
    if not callable(func) or not isinstance(args, tuple):
        raise pickle.UnpicklingError("malformed tensor subclass record")
    result = func(*args)
    if isinstance(result, LazyTensor):
        if new_type is torch.nn.Parameter:
            result.is_parameter = True
        elif new_type is not torch.Tensor:
            result.subclass = getattr(new_type, "ckpt_global", None) or getattr(new_type, "__qualname__", "?")
    return result


def _materialized(value: Any) -> Any:
    """Turn lazy records into real (memory-mapped) torch objects, for rare rebuilders."""
    if isinstance(value, StorageRef):
        return torch.storage.TypedStorage(wrap_storage=value.load(), dtype=value.dtype, _internal=True)
    if isinstance(value, LazyTensor):
        return value.materialize()
    if isinstance(value, tuple):
        return tuple(_materialized(v) for v in value)
    if isinstance(value, list):
        return [_materialized(v) for v in value]
    return value


def _eager(name: str, func: Callable) -> Callable:
    """Wrap a rarely used torch rebuilder: real storages in, an Opaque out if it fails."""

    def rebuild(*args: Any) -> Any:
        try:
            result = func(*_materialized(args))
            if isinstance(result, torch.Tensor) and result.layout != torch.strided:
                torch._utils._validate_loaded_sparse_tensors()  # indices in bounds, or raise
            return result
        except Exception as exc:  # a damaged record must not fail the whole file
            torch._utils._sparse_tensors_to_validate.clear()
            return placeholder_type(f"{name} (failed: {str(exc)[:80]})")(*args)

    return rebuild


def _cpu_from_device_tensor(data, dtype, device, requires_grad):
    # torch would move the tensor to `device` (maybe cuda): keep it on the CPU
    if not isinstance(dtype, torch.dtype):
        raise pickle.UnpicklingError("tensor record with an invalid dtype")
    return _materialized(data).to(dtype).requires_grad_(bool(requires_grad))


def _codecs_encode(obj: Any, encoding: str = "utf-8", errors: str = "strict") -> bytes:
    # protocol-2 bytes are pickled as _codecs.encode(text, "latin1"); any other codec is
    # a way to import encodings modules, so refuse it (torch does the same)
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is only allowed for latin1 bytes")
    return codecs.encode(obj, "latin1")


def _bytearray(*args: Any) -> bytearray:
    if args and isinstance(args[0], int) and args[0] > MAX_BYTEARRAY:
        raise pickle.UnpicklingError(f"bytearray of {args[0]} bytes refused (memory bomb)")
    if args and not isinstance(args[0], (bytes, bytearray, int, str)):
        raise pickle.UnpicklingError("bytearray from an unexpected object refused")
    return bytearray(*args)


# --- numpy: rebuilt from validated parts, never through numpy's own __setstate__ ---------


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
        dt = np.dtype(self.spec)
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
        count = 1
        for n in shape:
            count *= n
        if count * dt.itemsize != len(raw):
            raise pickle.UnpicklingError("numpy array record whose data does not match its shape")
        self.value = np.frombuffer(bytes(raw), dtype=dt).reshape(shape, order="F" if fortran else "C").copy()


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


class _NumpyNdarrayType:
    """What ``numpy.ndarray`` means inside a pickle: an argument of _reconstruct, no more."""


def _safe_reconstructor(cls, base, state):
    """copyreg._reconstructor for placeholder or approved classes only."""
    if isinstance(cls, type) and issubclass(cls, Opaque):
        return cls(state) if state is not None else cls()
    if cls in _NEW_OK and (base is object or base in _NEW_OK):
        return object.__new__(cls) if base is object else base.__new__(cls, state)
    raise pickle.UnpicklingError(f"copyreg._reconstructor of {getattr(cls, '__name__', '?')} refused")


def _identity(data: Any, *_: Any) -> Any:
    """TorchScript's pickle helpers (build_intlist, restore_type_tag, ...) only wrap a value."""
    if not isinstance(data, (list, tuple, dict, int, float, bool, str)) and data is not None:
        raise pickle.UnpicklingError("TorchScript list helper on an unexpected value")
    return data


_LAZY = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
    "torch._tensor._rebuild_from_type_v2": _rebuild_from_type_v2,
    "torch._utils._rebuild_device_tensor_from_cpu_tensor": _cpu_from_device_tensor,
    "copyreg._reconstructor": _safe_reconstructor,
    "_codecs.encode": _codecs_encode,
    "builtins.bytearray": _bytearray,
    **{
        f"torch.jit._pickle.{n}": _identity
        for n in ("build_intlist", "build_doublelist", "build_boollist", "build_tensorlist", "restore_type_tag")
    },
}

# types that NEWOBJ/copyreg may instantiate, and whose instances BUILD/SETITEMS may fill
_NEW_OK: set[type] = {
    argparse.Namespace, collections.OrderedDict, collections.Counter, collections.defaultdict, dict, list, set,
}  # fmt: skip
_BUILD_OK = (argparse.Namespace, dict, list, set, Opaque, NumpyDtype, NumpyArray)
_ITEMS_OK = (dict, Opaque)


def _torch_allowlist() -> dict[str, Any]:
    from torch._weights_only_unpickler import _get_allowed_globals

    allowed = dict(_get_allowed_globals())
    # legacy constructors (torch.FloatTensor(n), torch.sparse.FloatTensor(i, v, size))
    # hand out uninitialised or unvalidated memory: a real checkpoint never calls them
    return {k: v for k, v in allowed.items() if not (k.endswith("Tensor") and k != "torch.Tensor")}


def _inert_types() -> dict[str, Any]:
    """Types that are pure data: loading them runs no code from the file."""
    inert: dict[str, Any] = {
        "argparse.Namespace": argparse.Namespace,
        "pathlib.PosixPath": pathlib.PurePosixPath,
        "pathlib.WindowsPath": pathlib.PureWindowsPath,
        "pathlib.Path": pathlib.PurePath,
        "pathlib.PurePosixPath": pathlib.PurePosixPath,
        "pathlib.PureWindowsPath": pathlib.PureWindowsPath,
        "pathlib.PurePath": pathlib.PurePath,
        "collections.defaultdict": collections.defaultdict,
    }
    for name in ("datetime", "date", "time", "timedelta", "timezone"):
        inert[f"datetime.{name}"] = getattr(datetime, name)
    # no bytes/range/deque/slice: bytes(10**11) is a memory bomb, and deeply nested deques
    # or slices crash the interpreter when freed
    for name in ("dict", "list", "tuple", "int", "float", "str", "bool", "frozenset"):
        inert[f"builtins.{name}"] = getattr(builtins, name)
    for core in ("numpy.core", "numpy._core"):
        inert[f"{core}.multiarray._reconstruct"] = _numpy_reconstruct
        inert[f"{core}.multiarray.scalar"] = _numpy_scalar
    inert["numpy.ndarray"] = _NumpyNdarrayType
    inert["numpy.dtype"] = NumpyDtype
    return inert


_ALLOWED: dict[str, Any] | None = None
_INERT: dict[str, Any] | None = None
_CALLABLE_OK: set[int] = set()


def _tables() -> tuple[dict[str, Any], dict[str, Any]]:
    global _ALLOWED, _INERT
    if _ALLOWED is None:
        _INERT = _inert_types()
        _ALLOWED = _torch_allowlist()
        for table in (_LAZY, _INERT, _ALLOWED):
            _CALLABLE_OK.update(id(v) for v in table.values() if callable(v))
        for t in (torch.Tensor, torch.nn.Parameter, _NumpyNdarrayType):  # arguments, never called
            _CALLABLE_OK.discard(id(t))
    return _ALLOWED, _INERT  # type: ignore[return-value]


class StorageType:
    """What ``torch.FloatStorage`` means inside a pickle: a dtype for persistent_load."""

    __slots__ = ("dtype",)

    def __init__(self, dtype: torch.dtype) -> None:
        self.dtype = dtype


def _storage_type(module: str, name: str) -> Any:
    """The dtype carrier for ``torch.FloatStorage``-style names, or None."""
    if module not in ("torch", "torch.cuda", "torch.storage") or not name.endswith("Storage"):
        return None
    if name == "UntypedStorage":
        return StorageType(torch.uint8)
    try:
        return StorageType(torch.storage._get_dtype_from_pickle_storage_type(name))
    except KeyError:
        return None


def _torch_enum(module: str, name: str) -> Any:
    """An enum class from an already imported torch module (never triggers an import).

    ``vars()`` rather than ``getattr``: torch modules define ``__getattr__`` hooks that
    import whole subsystems on first access.
    """
    if not (module == "torch" or module.startswith("torch.")):
        return None
    mod = sys.modules.get(module)
    obj = vars(mod).get(name) if mod is not None else None
    if isinstance(obj, type) and issubclass(obj, enum.Enum):
        return obj
    return None


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f"{what} refused: the pickle tries to act on an object it may not touch")


class RestrictedUnpickler(pickle._Unpickler):
    """A pure-Python unpickler whose globals and object-acting opcodes are restricted."""

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)

    def __init__(
        self,
        file: Any,
        persistent_load: Callable[[Any], Any] | None = None,
        script: bool = False,
        records: set[str] | frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(file, encoding="utf-8")
        _tables()
        self.script = script  # a TorchScript archive: __torch__.* names are compiled modules
        self.records = records  # names a known format uses for plain records (DCP metadata)
        self.unsafe_globals: set[str] = set()
        self.blocked_globals: set[str] = set()
        self._placeholders: dict[str, type[Opaque]] = {}
        self._enums: dict[int, Callable] = {}
        self._numpy_arrays = False
        if persistent_load is not None:
            self.persistent_load = persistent_load

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("unexpected persistent reference")

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
            return storage
        if full in _LAZY:
            return _LAZY[full]
        allowed, inert = _ALLOWED, _INERT
        if full in allowed:  # type: ignore[operator]
            obj = allowed[full]  # type: ignore[index]
            if full.startswith(("torch._utils._rebuild", "torch._tensor._rebuild")):
                return _eager(full, obj)
            return obj
        if full in self.records:  # read as an inert record, then validated by the format reader
            if full not in self._placeholders:
                self._placeholders[full] = _new_placeholder(full)
            return self._placeholders[full]
        self.unsafe_globals.add(full)
        if full in inert:  # type: ignore[operator]
            if full.startswith("numpy"):
                self._numpy_arrays = True
            return inert[full]  # type: ignore[index]
        enum_type = _torch_enum(module, name)
        if enum_type is not None:
            return self._enum_factory(enum_type)
        if self.script and module.startswith("__torch__"):
            # TorchScript's own class names, not Python imports: inert records, not "unsafe"
            self.unsafe_globals.discard(full)
            if full not in self._placeholders:
                self._placeholders[full] = _new_placeholder(full)
                self._placeholders[full].ckpt_script = True
            return self._placeholders[full]
        self.blocked_globals.add(full)
        if full not in self._placeholders:
            self._placeholders[full] = _new_placeholder(full)
        return self._placeholders[full]

    def _enum_factory(self, enum_type: type) -> Callable:
        # enum members are pickled as EnumClass(value): hand out a lookup, not the class
        factory = self._enums.get(id(enum_type))
        if factory is None:

            def factory(value: Any) -> Any:
                return enum_type(value)

            self._enums[id(enum_type)] = factory
        return factory

    def _callable(self, func: Any) -> bool:
        return (
            id(func) in _CALLABLE_OK
            or isinstance(func, Opaque)
            or (isinstance(func, type) and issubclass(func, Opaque))
            or any(func is f for f in self._enums.values())
            or getattr(func, "__qualname__", "").startswith("_eager.")
        )

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
        if cls in _NEW_OK:
            return cls.__new__(cls)
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
            if not isinstance(part, dict) or not all(type(k) is str and not k.startswith("__") for k in part):
                raise _refuse("BUILD with unusual state")
            if isinstance(inst, argparse.Namespace) or hasattr(inst, "__dict__"):
                inst.__dict__.update(part)
            else:
                raise _refuse(f"setting attributes of {type(inst).__name__}")

    def load_setitem(self) -> None:
        value = self.stack.pop()
        key = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, _ITEMS_OK):
            raise _refuse("SETITEM")
        target[key] = value

    def load_setitems(self) -> None:
        items = self.pop_mark()
        target = self.stack[-1]
        if not isinstance(target, _ITEMS_OK):
            raise _refuse("SETITEMS")
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
        target.update(items)

    for _name, _op in (
        ("load_reduce", pickle.REDUCE), ("load_newobj", pickle.NEWOBJ), ("load_newobj_ex", pickle.NEWOBJ_EX),
        ("load_build", pickle.BUILD), ("load_setitem", pickle.SETITEM), ("load_setitems", pickle.SETITEMS),
        ("load_append", pickle.APPEND), ("load_appends", pickle.APPENDS), ("load_additems", pickle.ADDITEMS),
    ):  # fmt: skip
        dispatch[_op[0]] = locals()[_name]
    del _name, _op

    def load(self) -> Any:
        root = super().load()
        return _swap_numpy(root) if self._numpy_arrays else root


def _swap_numpy(obj: Any, depth: int = 0) -> Any:
    """Replace NumpyArray records by their arrays (containers are rebuilt where needed)."""
    if isinstance(obj, NumpyArray):
        return obj.value
    if depth > 200:
        return obj
    if isinstance(obj, dict):
        for k, v in list(obj.items()):
            new = _swap_numpy(v, depth + 1)
            if new is not v:
                obj[k] = new
        return obj
    if isinstance(obj, list):
        for i, v in enumerate(obj):
            new = _swap_numpy(v, depth + 1)
            if new is not v:
                obj[i] = new
        return obj
    if isinstance(obj, tuple):
        items = [_swap_numpy(v, depth + 1) for v in obj]
        return tuple(items) if any(a is not b for a, b in zip(items, obj)) else obj
    if isinstance(obj, argparse.Namespace):
        for k, v in list(vars(obj).items()):
            setattr(obj, k, _swap_numpy(v, depth + 1))
        return obj
    if isinstance(obj, Opaque):
        record = obj._record()
        for part in ("args", "state", "items", "dictitems"):
            if part in record:
                record[part] = _swap_numpy(record[part], depth + 1)
        return obj
    return obj


def restricted_loads(data: bytes) -> Any:
    """Unpickle a small header pickle (no storages) with the restricted unpickler."""
    return RestrictedUnpickler(io.BytesIO(data)).load()
