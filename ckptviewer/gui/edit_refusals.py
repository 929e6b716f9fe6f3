"""An edit's refusal (core/edits' EditError), its preview's problem rows and graft's skip reasons, said in
the window's language by their shape.

Core writes them as English f-strings (the CLI prints them, JSON carries them); each pattern here is that
f-string with its computed parts as named groups, said with a translated template (gui/core_messages.py).
A list inside a refusal ("key: problem; key: problem (+3 more)") is said line by line. CLI options stay
in the template (``--rows``): the dialog names them by their field labels (``edit_dialogs.window_words``).
tests/gui/test_core_messages.py makes core refuse for real and checks that every ``raise EditError`` of
core/edits has a pattern here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from .core_messages import COUNT, Rule, edit_warning, match, rules, say
from .i18n import translate

SHAPE = r"\[[\d, ]*\]"  # a shape as core writes it: [3, 2]


def _op(command: str) -> str:
    """An operation (``merge-lora``, ``add_prefix``) as the Edit menu names it, in the current language."""
    from ..core.edits import OPERATIONS  # the registry: loaded once an edit has run

    if command == "graft":  # its menu entry is "Graft from…": a refusal says the verb
        return _verb(command)
    for op in OPERATIONS.values():
        if command in (op.command, op.name):
            return translate("EditOperation", op.menu).rstrip("…").replace("&", "")
    return command


def _field(command: str, said: str) -> str:
    """The field a "give the ..." refusal names (``registry.Operation.apply``), by its label."""
    from ..core.edits import OPERATIONS

    for op in OPERATIONS.values():
        if command in (op.command, op.name):
            for p in op.params:
                if p.label.split(" (")[0].lower() == said:
                    return translate("EditOperation", p.label)
    return said


def _verb(what: str) -> str:
    """The verb of "nothing to {what}" (``EditReport.refuse_if_unmatched``)."""
    verbs = {
        "graft": translate("EditRefusal", "graft"),
        "resize": translate("EditRefusal", "resize"),
        "extract": translate("EditRefusal", "extract"),
        "drop": translate("EditRefusal", "drop"),
        "cast": translate("EditRefusal", "cast"),
        "strip": translate("EditRefusal", "strip"),
        "rename": translate("EditRefusal", "rename"),
    }
    return verbs.get(what, what)


def _source_name(name: str) -> str:
    """What an operation's other input is called in "merge-lora needs ADAPTER"."""
    names = {
        "ADAPTER": translate("EditRefusal", "a LoRA adapter"),
        "MORE": translate("EditRefusal", "more checkpoints"),
    }
    return names.get(name, name)


def _lines(text: str, make: Callable[[], Sequence[Rule]]) -> str:
    """A refusal's list (``compute.first_differences``: "key: problem; ... (+N more)"), line by line."""
    more = re.fullmatch(r"(?P<body>.*) \(\+(?P<n>\d+) more\)", text, re.DOTALL)
    body = more["body"] if more else text
    said = translate("EditRefusal", "; ").join(_line(line, make) for line in body.split("; "))
    return said + (translate("EditRefusal", " (+{n} more)").format(n=more["n"]) if more else "")


def _line(line: str, make: Callable[[], Sequence[Rule]]) -> str:
    """ "key: problem" with the problem said (a key may hold ": " itself: each place is tried)."""
    start = 0
    while (i := line.find(": ", start)) >= 0:
        problem = match(line[i + 2 :], rules(make))
        if problem is not None:
            return translate("EditRefusal", "{key}: {problem}").format(key=line[:i], problem=problem)
        start = i + 1
    return line


def _problems() -> list[Rule]:
    """(pattern, template) for a preview row's problem: average's, merge-lora's and take-ema's mismatches."""
    return [
        (r"not in (?P<name>.+)", translate("EditRefusal", "not in {name}")),
        (r"only in (?P<name>.+)", translate("EditRefusal", "only in {name}")),
        (rf"(?P<a>{SHAPE}) (?P<adt>\S+) vs (?P<b>{SHAPE}) (?P<bdt>\S+) in (?P<name>.+)",
         translate("EditRefusal", "{a} {adt} vs {b} {bdt} in {name}")),
        (r"in the EMA, not in the model", translate("EditRefusal", "in the EMA, not in the model")),
        (rf"(?P<a>{SHAPE}) in the EMA, (?P<b>{SHAPE}) in the model",
         translate("EditRefusal", "{a} in the EMA, {b} in the model")),
        (r"lora_(?P<part>[AB]) is missing in the adapter",
         translate("EditRefusal", "lora_{part} is missing in the adapter")),
        (r"not in the base model", translate("EditRefusal", "not in the base model")),
        (rf"(?P<w>{SHAPE}) cannot take B (?P<b>{SHAPE}) @ A (?P<a>{SHAPE}) \(fan_in_fan_out\)",
         translate("EditRefusal", "{w} cannot take B {b} @ A {a} (fan_in_fan_out)")),
        (rf"(?P<w>{SHAPE}) cannot take B (?P<b>{SHAPE}) @ A (?P<a>{SHAPE})",
         translate("EditRefusal", "{w} cannot take B {b} @ A {a}")),
        (r"(?P<dtype>\S+) weights cannot take a LoRA delta",
         translate("EditRefusal", "{dtype} weights cannot take a LoRA delta")),
        (r"the adapter config gives r=(?P<r>.*), alpha=(?P<alpha>.*)",
         translate("EditRefusal", "the adapter config gives r={r}, alpha={alpha}")),
        # graft's refusal lists its mismatches as "key: [3, 2] float32 vs [4, 2] float32" (source, then target)
        (rf"(?P<a>{SHAPE}) (?P<adt>\S+) vs (?P<b>{SHAPE}) (?P<bdt>\S+)",
         translate("EditRefusal", "{a} {adt} in the source vs {b} {bdt} in the target")),
    ]  # fmt: skip


def _skip_reasons() -> list[Rule]:
    """(pattern, template) for why graft left a source tensor out (``align.graft``'s ``skipped``)."""
    return [
        (r"not a tensor", translate("EditRefusal", "not a tensor")),
        (r"not in --include", translate("EditRefusal", "not in --include")),
        (r"excluded", translate("EditRefusal", "excluded")),
        (r"(?P<key>.+) is not a tensor in the target", translate("EditRefusal", "{key} is not a tensor in the target")),
        (r"(?P<key>.+) is not in the target", translate("EditRefusal", "{key} is not in the target")),
        (r"another source key already goes to (?P<key>.+)",
         translate("EditRefusal", "another source key already goes to {key}")),
    ]  # fmt: skip


def _regex_errors() -> list[Rule]:
    """Python's ``re.error`` messages a rename pattern meets most (others stay as Python wrote them)."""
    at = r" at position (?P<pos>\d+)"
    return [
        (r"missing \), unterminated subpattern" + at,
         translate("EditRefusal", "missing ), unterminated subpattern at position {pos}")),
        (r"unbalanced parenthesis" + at, translate("EditRefusal", "unbalanced parenthesis at position {pos}")),
        (r"nothing to repeat" + at, translate("EditRefusal", "nothing to repeat at position {pos}")),
        (r"multiple repeat" + at, translate("EditRefusal", "multiple repeat at position {pos}")),
        (r"unterminated character set" + at,
         translate("EditRefusal", "unterminated character set at position {pos}")),
        (r"bad escape (?P<esc>.+)" + at, translate("EditRefusal", "bad escape {esc} at position {pos}")),
        (r"bad escape \(end of pattern\)" + at,
         translate("EditRefusal", "bad escape (end of pattern) at position {pos}")),
        (r"invalid group reference (?P<group>\d+)" + at,
         translate("EditRefusal", "invalid group reference {group} at position {pos}")),
        (r"unknown group name (?P<group>.+)" + at,
         translate("EditRefusal", "unknown group name {group} at position {pos}")),
    ]  # fmt: skip


def _ema_places(said: str) -> str:
    """Where take-ema looked (``ema.find_ema``): entry names, and two phrases of core's."""
    entries = translate("EditRefusal", "their shadow/state_dict/module entries")
    callbacks = translate("EditRefusal", "Lightning callbacks named EMA…")
    return said.replace("their shadow/state_dict/module entries", entries).replace(
        "Lightning callbacks named EMA…", callbacks
    )


def _lora_features(said: str) -> str:
    """What an adapter uses that merge-lora refuses (``lora._refuse_unsupported``)."""
    names = {
        "DoRA (use_dora)": translate("EditRefusal", "DoRA (use_dora)"),
        "LoRA biases (lora_bias)": translate("EditRefusal", "LoRA biases (lora_bias)"),
        "LoRA on parameters (target_parameters)": translate("EditRefusal", "LoRA on parameters (target_parameters)"),
        "extra trained modules (modules_to_save)": translate("EditRefusal", "extra trained modules (modules_to_save)"),
        "trainable tokens (trainable_token_indices)":
            translate("EditRefusal", "trainable tokens (trainable_token_indices)"),
    }  # fmt: skip
    return translate("List", ", ").join(names.get(part, part) for part in said.split(", "))


def _warnings(said: str) -> str:
    """The unmatched patterns of "nothing to ...: " (each an edit warning), joined by "; "."""
    return translate("EditRefusal", "; ").join(edit_warning(w) for w in said.split("; "))


def _refusals() -> list[Rule]:
    """(pattern, template[, subs]) for every ``raise EditError`` of core/edits."""
    op: dict[str, Callable[[Any], Any]] = {"op": _op}
    problems: dict[str, Callable[[Any], Any]] = {"lines": lambda text: _lines(text, _problems)}
    return [
        # align.py
        (r"a prefix map looks like SRC=DST \(got (?P<spec>.+)\)",
         translate("EditRefusal", "a prefix map looks like SRC=DST (got {spec})")),
        (r"graft refused: " + COUNT + r" shape/dtype mismatches: (?P<lines>.+); --skip-mismatched keeps the target's "
         r"tensors for those keys, or leave them out with --exclude",
         translate("EditRefusal", "graft refused: {n} shape/dtype mismatches: {lines}; --skip-mismatched keeps the "
                   "target's tensors for those keys, or leave them out with --exclude"), problems),
        (r"graft: no source tensor matches a target key \(try a prefix map, see ckpt compat\)",
         translate("EditRefusal", "graft: no source tensor matches a target key (try a prefix map, see Edit ▸ Check "
                   "compatibility with…)")),
        # average.py, compute.py
        (r"average: (?P<w>[\d,]+) weights? for (?P<i>[\d,]+) inputs?; give one each",
         translate("EditRefusal", "average: {w} weight(s) for {i} input(s); give one each")),
        (r"average: weights must not be negative", translate("EditRefusal", "average: weights must not be negative")),
        (r"average: the weights sum to zero", translate("EditRefusal", "average: the weights sum to zero")),
        (r"average: give at least one more checkpoint to average with",
         translate("EditRefusal", "average: give at least one more checkpoint to average with")),
        (r"average: the model has no floating-point tensor to average",
         translate("EditRefusal", "average: the model has no floating-point tensor to average")),
        (r"average refused: the inputs differ in " + COUNT + r" places?: (?P<lines>.+)",
         translate("EditRefusal", "average refused: the inputs differ in {n} place(s): {lines}"), problems),
        (r"(?P<what>--[\w-]+): (?P<value>.+) is not a number",
         translate("EditRefusal", "{what}: {value} is not a number")),
        (r"(?P<what>--[\w-]+): (?P<value>.+) is not a finite number",
         translate("EditRefusal", "{what}: {value} is not a finite number")),
        # ema.py
        (r"take-ema: no EMA weights found \(looked for (?P<said>.+)\)",
         translate("EditRefusal", "take-ema: no EMA weights found (looked for {said})"), {"said": _ema_places}),
        (r"take-ema refused: the EMA at (?P<how>.+) does not fit the model \(" + COUNT + r" differences?: "
         r"(?P<lines>.+)\)",
         translate("EditRefusal", "take-ema refused: the EMA at {how} does not fit the model ({n} difference(s): "
                   "{lines})"), problems),
        # head.py
        (r"resize-head: --rows must be at least 1 \(and below 2\*\*62\)",
         translate("EditRefusal", "resize-head: --rows must be at least 1 (and below 2**62)")),
        (r"resize-head: --seed must be a non-negative 63-bit integer",
         translate("EditRefusal", "resize-head: --seed must be a non-negative 63-bit integer")),
        (r"resize-head: --init is one of (?P<choices>.+) \(got (?P<got>.+)\)",
         translate("EditRefusal", "resize-head: --init is one of {choices} (got {got})")),
        (r"resize-head: no tensor key matches (?P<globs>.+)",
         translate("EditRefusal", "resize-head: no tensor key matches {globs}")),
        (r"resize-head: no floating-point tensor with rows among the matching keys",
         translate("EditRefusal", "resize-head: no floating-point tensor with rows among the matching keys")),
        (r"resize-head: (?P<key>.+) with (?P<rows>[\d,]+) rows would need (?P<need>.+), more than this machine's "
         r"memory \((?P<memory>.+)\)",
         translate("EditRefusal", "resize-head: {key} with {rows} rows would need {need}, more than this machine's "
                   "memory ({memory})")),
        (r"resize-head: kaiming init of (?P<key>.+) needs its layer's weight among the keys",
         translate("EditRefusal", "resize-head: kaiming init of {key} needs its layer's weight among the keys")),
        # keys.py
        (r"(?P<op>[\w-]+): (?P<a>.+) and (?P<b>.+) would both become (?P<new>.+)",
         translate("EditRefusal", "{op}: {a} and {b} would both become {new}"), op),
        (r"add-prefix needs a non-empty prefix", translate("EditRefusal", "add-prefix needs a non-empty prefix")),
        (r"invalid rename pattern or replacement: (?P<why>.+)",
         translate("EditRefusal", "invalid rename pattern or replacement: {why}"),
         {"why": lambda why: say(why, _regex_errors)}),
        # lora.py
        (r"merge-lora: (?P<name>.+) has no adapter_config\.json beside it; give the adapter's folder "
         r"\(adapter_config\.json \+ adapter_model\.safetensors\)",
         translate("EditRefusal", "merge-lora: {name} has no adapter_config.json beside it; give the adapter's "
                   "folder (adapter_config.json + adapter_model.safetensors)")),
        (r"merge-lora: the adapter config's pattern (?P<pattern>.+) is not a regular expression",
         translate("EditRefusal", "merge-lora: the adapter config's pattern {pattern} is not a regular expression")),
        (r"merge-lora: the adapter config's pattern (?P<pattern>.+) is refused \(a repeated group or alternation, "
         r"more than two repeats, or over 256 characters\)",
         translate("EditRefusal", "merge-lora: the adapter config's pattern {pattern} is refused (a repeated group "
                   "or alternation, more than two repeats, or over 256 characters)")),
        (r"merge-lora: the adapter config's rank_pattern / alpha_pattern is a (?P<type>\S+), not a mapping of "
         r"patterns to values",
         translate("EditRefusal", "merge-lora: the adapter config's rank_pattern / alpha_pattern is a {type}, not a "
                   "mapping of patterns to values")),
        (r"merge-lora: a module name over (?P<n>\d+) characters \((?P<name>.+)\.\.\.\) cannot be matched against "
         r"the adapter config's patterns",
         translate("EditRefusal", "merge-lora: a module name over {n} characters ({name}...) cannot be matched "
                   "against the adapter config's patterns")),
        (r"merge-lora: a (?P<kind>.+) adapter, not LoRA; only LoRA adapters can be merged",
         translate("EditRefusal", "merge-lora: a {kind} adapter, not LoRA; only LoRA adapters can be merged")),
        (r"merge-lora: the adapter uses (?P<what>.+), which this merge does not do",
         translate("EditRefusal", "merge-lora: the adapter uses {what}, which this merge does not do"),
         {"what": _lora_features}),
        (r"merge-lora: " + COUNT + r" adapter tensors? that are not LoRA A/B weights of a Linear layer \(embedding, "
         r"DoRA, extra modules\): (?P<keys>.+)",
         translate("EditRefusal", "merge-lora: {n} adapter tensor(s) that are not LoRA A/B weights of a Linear layer "
                   "(embedding, DoRA, extra modules): {keys}"),
         {"keys": lambda keys: _lines(keys, _problems)}),
        (r"merge-lora: (?P<name>.+) holds no LoRA weights",
         translate("EditRefusal", "merge-lora: {name} holds no LoRA weights")),
        (r"merge-lora refused: " + COUNT + r" adapter modules? cannot be merged: (?P<lines>.+)",
         translate("EditRefusal", "merge-lora refused: {n} adapter module(s) cannot be merged: {lines}"), problems),
        # registry.py
        (r"(?P<op>[\w-]+) needs a source checkpoint", translate("EditRefusal", "{op} needs a source checkpoint"), op),
        (r"(?P<op>[\w-]+) needs (?P<what>[A-Z]+)", translate("EditRefusal", "{op} needs {what}"),
         {**op, "what": _source_name}),
        (r"(?P<op>[\w-]+): give the (?P<what>.+)", translate("EditRefusal", "{op}: give the {what}"),
         {"*": lambda v: {"what": _field(v["op"], v["what"]), "op": _op(v["op"])}}),
        (r"a cast to an unknown dtype cannot be replayed",
         translate("EditRefusal", "a cast to an unknown dtype cannot be replayed")),
        # report.py (refuse_if_unmatched)
        (r"(?P<op>[\w-]+): nothing to (?P<what>\w+): (?P<said>.+)",
         translate("EditRefusal", "{op}: nothing to {what}: {said}"), {**op, "what": _verb, "said": _warnings}),
        # select.py
        (r"extract: two tensors would both be named (?P<new>.+)",
         translate("EditRefusal", "extract: two tensors would both be named {new}")),
        (r"extract: no tensor key matches (?P<globs>.+)",
         translate("EditRefusal", "extract: no tensor key matches {globs}")),
        (r"drop: nothing matches (?P<globs>.+)", translate("EditRefusal", "drop: nothing matches {globs}")),
        (r"cast: unsupported dtype (?P<dtype>.+); use one of (?P<choices>.+)",
         translate("EditRefusal", "cast: unsupported dtype {dtype}; use one of {choices}")),
    ]  # fmt: skip


def refusal_rule(message: str) -> Rule | None:
    """The rule that says ``message`` (None if none does): for the test that every refusal has one."""
    return next((r for r in _refusals() if re.fullmatch(r[0], message, re.DOTALL)), None)


def edit_refusal(message: str) -> str | None:
    """An edit's refusal in the current language; None when no pattern knows it (or in English)."""
    said = say(message, _refusals)
    return None if said == message else said


def problem_text(problem: str) -> str:
    """A preview row's problem (a mismatch of average, merge-lora, take-ema) in the current language."""
    return say(problem, _problems)


def skip_reason(reason: str) -> str:
    """Why graft left a source tensor out, in the current language."""
    return say(reason, _skip_reasons)
