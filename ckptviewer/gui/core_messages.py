"""Core messages with computed parts, said in the window's language by their shape.

The edits' warnings (core/edits/*.py) and the run view's finding messages (core/run_findings.py) are
English f-strings that the CLI prints, JSON carries and the run cache stores. The window recognises
each by a pattern (the same words, the computed parts as named groups) and says it with a translated
template; a message no pattern knows, and every message in English, is shown as core wrote it.
tests/gui/test_core_messages.py checks the patterns against the messages core really writes.
Refusals and errors (EditError, CheckpointError) are said the same way: gui/edit_refusals.py and
gui/core_errors.py, through :func:`say` and :func:`match` here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .i18n import SOURCE_LANGUAGE, current_language, translate

COUNT = r"(?P<n>[\d,]+)"  # a count as core writes it: 1,234

# (pattern, template) or (pattern, template, {group: how to say that group}): a group that is itself core's
# English (a list of problems, a file's description) is said by its own function before the template is filled;
# the group "*" gets all the values and returns those it changes (a field named by the operation's registry entry)
Rule = tuple[str, str] | tuple[str, str, dict[str, Callable[[Any], Any]]]

_rule_cache: dict[tuple[str, str], Sequence[Rule]] = {}


def rules(make: Callable[[], Sequence[Rule]]) -> Sequence[Rule]:
    """``make()``'s rules in the current language, built once per language (they are translated templates)."""
    key = (f"{make.__module__}.{make.__qualname__}", current_language())
    if key not in _rule_cache:
        _rule_cache[key] = make()
    return _rule_cache[key]


def match(message: str, found_in: Sequence[Rule]) -> str | None:
    """``message`` said by the first rule whose pattern it matches whole; None when none does."""
    for rule in found_in:
        found = re.fullmatch(rule[0], message, re.DOTALL)
        if found is None:
            continue
        values = found.groupdict(default="")
        subs = rule[2] if len(rule) > 2 else {}  # type: ignore[misc]
        for name, say in subs.items():
            if name == "*":  # a group said by what another group holds: the whole match's values
                values = {**values, **say(values)}
            elif values.get(name):
                values[name] = say(values[name])
        return rule[1].format(**values)
    return None


def _among(what: str) -> str:
    """What a pattern matched none of (``EditReport.no_match``'s ``among``)."""
    names = {
        "key": translate("CoreMessage", "key"),
        "tensor key": translate("CoreMessage", "tensor key"),
        "model key": translate("CoreMessage", "model key"),
        "source key": translate("CoreMessage", "source key"),
        "kept key": translate("CoreMessage", "kept key"),
    }
    return names.get(what, what)


def _edit_warnings() -> list[Rule]:
    """(pattern, template) for the edits' warnings."""
    return [
        (COUNT + r" source tensors? not taken: a prefix map puts another source key on the same target key",
         translate("CoreMessage", "{n} source tensor(s) not taken: a prefix map puts another source key on the same "
                   "target key")),
        (r"only (?P<matched>[\d,]+) of (?P<total>[\d,]+) target tensors? \((?P<pct>[^)]*)\) (?:has|have) a match in "
         r"the source; (?P<homeless>[\d,]+) source tensors? (?:has|have) no place in the target — are these the "
         r"same architecture\?",
         translate("CoreMessage", "only {matched} of {total} target tensor(s) ({pct}) have a match in the source; "
                   "{homeless} source tensor(s) have no place in the target — are these the same architecture?")),
        (COUNT + r" tensors? outside the model state_dict \(optimizer state, \.\.\.\) kept from (?P<name>.+) as they "
         r"are, not averaged",
         translate("CoreMessage", "{n} tensor(s) outside the model state_dict (optimizer state, ...) kept from {name} "
                   "as they are, not averaged")),
        (COUNT + r" model tensors? the EMA does not hold taken from the model: (?P<keys>.*)",
         translate("CoreMessage", "{n} model tensor(s) the EMA does not hold taken from the model: {keys}")),
        (r"left as they are \(not floating point, or scalars\): (?P<keys>.*)",
         translate("CoreMessage", "left as they are (not floating point, or scalars): {keys}")),
        (r"left as they are \(not floating point\): (?P<types>.*)",
         translate("CoreMessage", "left as they are (not floating point): {types}")),
        (r"nothing to cast: every selected floating-point tensor is already (?P<dtype>.+)",
         translate("CoreMessage", "nothing to cast: every selected floating-point tensor is already {dtype}")),
        (r"weights only: left out (?P<keys>.*)", translate("CoreMessage", "weights only: left out {keys}")),
        (r"no wrapper prefix \(module\., _orig_mod\.\) found: keys unchanged",
         translate("CoreMessage", "no wrapper prefix (module., _orig_mod.) found: keys unchanged")),
        (COUNT + r" kept keys? (?:does|do) not start with (?P<prefix>.+) and keep their full name",
         translate("CoreMessage", "{n} kept key(s) do not start with {prefix} and keep their full name")),
        (COUNT + r" keys? (?:does|do) not start with (?P<prefix>.+)",
         translate("CoreMessage", "{n} key(s) do not start with {prefix}")),
        (r"(?P<option>--[\w-]+) (?P<pattern>.+) matched " + COUNT + r" keys?, but no name changes",
         translate("CoreMessage", "{option} {pattern} matched {n} key(s), but no name changes")),
        (r"(?P<module>.+): the config says r=(?P<r>\d+), the adapter's A has (?P<rows>\d+) rows",
         translate("CoreMessage", "{module}: the config says r={r}, the adapter's A has {rows} rows")),
        (r"(?P<option>--[\w-]+) (?P<pattern>.+) matched no (?P<among>.+)",
         translate("CoreMessage", "{option} {pattern} matched no {among}"), {"among": _among}),
    ]  # fmt: skip


def _run_findings() -> list[tuple[str, str]]:
    """(pattern, template) for the run view's finding messages."""
    return [
        (COUNT + r" NaN/Inf values? at (?P<ckpt>.+): the run's first",
         translate("CoreMessage", "{n} NaN/Inf value(s) at {ckpt}: the run's first")),
        (r"the run's first NaN/Inf: " + COUNT + r" values? in (?P<layers>[\d,]+) layers? at (?P<ckpt>.+) "
         r"\((?P<keys>.*)\)",
         translate("CoreMessage", "the run's first NaN/Inf: {n} value(s) in {layers} layer(s) at {ckpt} ({keys})")),
        (r"NaN/Inf then in " + COUNT + r" more layers? from (?P<a>.+) to (?P<b>.+) \((?P<keys>.*)\)",
         translate("CoreMessage", "NaN/Inf then in {n} more layer(s) from {a} to {b} ({keys})")),
        (r"NaN/Inf then in " + COUNT + r" more layers? from (?P<a>.+) to (?P<b>.+)",
         translate("CoreMessage", "NaN/Inf then in {n} more layer(s) from {a} to {b}")),
        (r"NaN/Inf then in " + COUNT + r" more layers? at (?P<ckpt>.+) \((?P<keys>.*)\)",
         translate("CoreMessage", "NaN/Inf then in {n} more layer(s) at {ckpt} ({keys})")),
        (r"NaN/Inf then in " + COUNT + r" more layers? at (?P<ckpt>.+)",
         translate("CoreMessage", "NaN/Inf then in {n} more layer(s) at {ckpt}")),
        (r"(?P<prefix>.+)\.\*: all " + COUNT + r" layers never change across the run \(from (?P<ckpt>.+) on\)",
         translate("CoreMessage", "{prefix}.*: all {n} layers never change across the run (from {ckpt} on)")),
        (r"(?P<prefix>.+)\.\*: all " + COUNT + r" layers stop changing at (?P<ckpt>.+) while other layers train",
         translate("CoreMessage", "{prefix}.*: all {n} layers stop changing at {ckpt} while other layers train")),
        (r"never changes across the run \(from (?P<ckpt>.+) on\)",
         translate("CoreMessage", "never changes across the run (from {ckpt} on)")),
        (r"stops changing at (?P<ckpt>.+) while other layers train",
         translate("CoreMessage", "stops changing at {ckpt} while other layers train")),
        (r"norm fell to (?P<norm>\S+) at (?P<ckpt>.+) \(was (?P<peak>\S+)\)",
         translate("CoreMessage", "norm fell to {norm} at {ckpt} (was {peak})")),
        (r"relative update (?P<r>\S+) at (?P<ckpt>.+), (?P<x>\d+)x its earlier median per step",
         translate("CoreMessage", "relative update {r} at {ckpt}, {x}x its earlier median per step")),
        (r"norm (?P<norm>\S+) at (?P<ckpt>.+), (?P<x>\d+)x its earlier median",
         translate("CoreMessage", "norm {norm} at {ckpt}, {x}x its earlier median")),
        (r"model weights bit-identical to (?P<ckpt>.+)",
         translate("CoreMessage", "model weights bit-identical to {ckpt}")),
    ]  # fmt: skip


def say(message: str, make: Callable[[], Sequence[Rule]]) -> str:
    """``message`` in the current language by the rules ``make`` gives; as core wrote it in English (its
    plurals exact, the CLI's words) or when no rule knows it."""
    if current_language() == SOURCE_LANGUAGE:
        return message
    said = match(message, rules(make))
    return message if said is None else said


def edit_warning(message: str) -> str:
    """An edit's warning in the current language (as core wrote it if no pattern knows it)."""
    return say(message, _edit_warnings)


def run_finding_text(message: str) -> str:
    """A run finding's message in the current language (as core wrote it if no pattern knows it)."""
    return say(message, _run_findings)
