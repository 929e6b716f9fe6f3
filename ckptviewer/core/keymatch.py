"""Matching keys the way a person types a filter: text, a glob (as the CLI's ``--keys``), or a regex.

The window's filter and the CLI agree: ``*.bias`` and ``layer?.weight`` are globs, as
``ckpt stats --keys`` takes them (fnmatch); ``se.*bias`` or ``^head`` are regular
expressions. A filter box cannot ask which one was meant, so a key matches when any
reading of the text finds it. Matching ignores case and is not anchored (a filter narrows
while one types), so a glob that matches a whole key as the CLI's does matches here too.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable

_GLOB = frozenset("*?[")
_REGEX = frozenset("*?[]^$+(){}|\\")


def key_matcher(text: str) -> Callable[[str], bool] | None:
    """A predicate over keys for the filter ``text``; None when the text is empty (everything matches).

    Plain text matches as a substring; text with glob or regex characters also matches as
    an unanchored glob and, when it compiles, as a regular expression (``re.search``).
    """
    needle = text.strip().lower()
    if not needle:
        return None
    tests: list[Callable[[str], bool]] = [lambda key: needle in key]
    if _GLOB & set(needle):
        glob = re.compile(fnmatch.translate(f"*{needle}*"), re.DOTALL)
        tests.append(lambda key: glob.match(key) is not None)
    if _REGEX & set(needle):
        try:
            rx = re.compile(needle)
        except re.error:
            pass  # not a regex (an unbalanced "[" while typing): text and glob readings still apply
        else:
            tests.append(lambda key: rx.search(key) is not None)

    def matches(key: str) -> bool:
        low = key.lower()
        return any(t(low) for t in tests)

    return matches


def python_access(key: str, state_dict_key: str | None = None, name: str = "sd") -> str:
    """The Python expression that reads ``key`` from the loaded checkpoint ``name``: ``sd["fc.weight"]``.

    A key under the model state_dict (``state_dict.model.fc.weight`` in a Lightning file)
    indexes the container first: ``sd["state_dict"]["model.fc.weight"]``. Keys are written
    as JSON strings, which Python reads back as the same text whatever characters they hold.
    """
    if state_dict_key and key.startswith(state_dict_key + "."):
        outer = "".join(f"[{json.dumps(part)}]" for part in state_dict_key.split("."))
        return f"{name}{outer}[{json.dumps(key[len(state_dict_key) + 1 :])}]"
    return f"{name}[{json.dumps(key)}]"
