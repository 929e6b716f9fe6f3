"""A minimal observer: an :class:`Event` holds callbacks and calls them when emitted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Event:
    """Callbacks called, in the order connected, with what :meth:`emit` is given.

    Qt-free on purpose: the document model emits these, the window connects to them and
    marshals nothing (the document lives on the UI thread).
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[..., Any]] = []

    def connect(self, callback: Callable[..., Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[..., Any]) -> None:
        self._callbacks = [c for c in self._callbacks if c is not callback]

    def emit(self, *args: Any) -> None:
        for callback in list(self._callbacks):
            callback(*args)
