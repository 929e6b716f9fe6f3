"""Placeholders: what an object a checkpoint names becomes when nothing of it may run."""

from __future__ import annotations

from typing import Any


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
            cls.ckpt_call_type = cls if name == cls.ckpt_global else new_placeholder(name)
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


def new_placeholder(name: str) -> type[Opaque]:
    short = name.rsplit(".", 1)[-1] or "Opaque"
    return type(short, (Opaque,), {"ckpt_global": name, "__module__": "ckptviewer.placeholder"})
