"""merge_lora: fold a PEFT LoRA adapter into its base weights, as peft's ``merge_and_unload`` does.

The adapter is a PEFT folder (``adapter_config.json`` + ``adapter_model.safetensors`` or
``.bin``, opened by :mod:`ckptviewer.core.formats.folders`). Each pair
``base_model.model.<module>.lora_A[.default].weight`` / ``lora_B`` becomes
``<module>.weight += scale · B @ A`` in the base's model state_dict, with
``scale = alpha / r`` (``alpha / √r`` with ``use_rslora``), ``r`` and ``alpha`` from
``rank_pattern`` / ``alpha_pattern`` where a pattern matches the module (peft's
``get_pattern_key``: the module path ends with the pattern, a regular expression, at a
dot), and the delta transposed with ``fan_in_fan_out``. Linear layers only: DoRA, LoRA
biases, embedding and convolution adapters, other adapter types and extra trained
modules are refused, naming what was found. So are adapter modules the base lacks and
shapes that do not fit, all of them listed.
"""

from __future__ import annotations

import math
import re
import re._parser as re_parser  # the pattern's syntax tree, to bound its matching work
import reprlib
from collections.abc import Iterator, Mapping
from typing import Any

from ...formatting import plural
from ..assemble import derive
from ..checkpoint import Checkpoint
from ..index import is_tensor
from ..structure import key_name
from .align import normalized_keys
from .compute import MergedLoraTensor, first_differences, replace_tensors
from .keys import full_key, model_state
from .report import EditError, EditReport, LoraMerge

ADAPTER_PREFIX = "base_model.model."
_LORA_KEY = re.compile(r"(?P<module>.+)\.lora_(?P<part>A|B)(?:\.[^.]+)?\.weight", re.DOTALL)


def adapter_config(adapter: Checkpoint) -> dict[str, Any]:
    """The adapter's ``adapter_config.json`` (read with the folder), or a refusal."""
    config = adapter.opened.metadata.get("adapter_config")
    if not isinstance(config, Mapping):
        raise EditError(
            f"merge-lora: {adapter.path.name} has no adapter_config.json beside it; "
            "give the adapter's folder (adapter_config.json + adapter_model.safetensors)"
        )
    return dict(config)


MAX_PATTERN = 256  # characters of a rank/alpha pattern
MAX_REPEATS = 2  # repeats (*, +, ?, {m,n}) in one pattern
MAX_MATCHED_NAME = 256  # characters of a module name matched against the patterns


def _repeats(parsed: Any, inside: bool = False) -> int:
    """The repeats in a parsed pattern; -1 where a repeat holds another repeat or an alternation (``(a+)+``,
    ``(?:a|aa)*``: the forms whose backtracking is exponential)."""
    count = 0
    for op, av in parsed:
        repeat = str(op).endswith("REPEAT")
        if inside and (repeat or str(op) == "BRANCH"):
            return -1
        for sub in _subpatterns(av):
            n = _repeats(sub, inside or repeat)
            if n < 0:
                return -1
            count += n
        count += repeat
    return count


def _subpatterns(av: Any) -> Iterator[Any]:
    if isinstance(av, re_parser.SubPattern):
        yield av
    elif isinstance(av, (tuple, list)):
        for part in av:
            yield from _subpatterns(part)


def _check_pattern(pattern: Any) -> None:
    """Refuse a pattern whose matching could run for hours: each match stays polynomial and small (a module
    name of at most 256 characters, at most two repeats, none nested) whatever the adapter's file says."""
    refused = not isinstance(pattern, str) or len(pattern) > MAX_PATTERN
    if not refused:
        try:
            n = _repeats(re_parser.parse(pattern))
        except (re.error, RecursionError, OverflowError):
            raise EditError(
                f"merge-lora: the adapter config's pattern {pattern[:80]!r} is not a regular expression"
            ) from None
        refused = not 0 <= n <= MAX_REPEATS
    if refused:
        raise EditError(f"merge-lora: the adapter config's pattern {str(pattern)[:80]!r} is refused (a repeated "
                        "group or alternation, more than two repeats, or over 256 characters)")  # fmt: skip


def pattern_value(patterns: Mapping[str, Any], module: str, default: Any) -> Any:
    """peft's ``get_pattern_key``: the first pattern ``module`` ends with (at a dot), else ``default``.

    The patterns come from the adapter's file: those whose backtracking can take hours on a short name
    are refused (:func:`_check_pattern`), and so are module names over 256 characters to match them on.
    """
    if not isinstance(patterns, Mapping):
        raise EditError(f"merge-lora: the adapter config's rank_pattern / alpha_pattern is a "
                        f"{type(patterns).__name__}, not a mapping of patterns to values")  # fmt: skip
    for pattern in patterns:
        _check_pattern(pattern)
        if len(module) > MAX_MATCHED_NAME:
            raise EditError(f"merge-lora: a module name over {MAX_MATCHED_NAME} characters ({module[:80]!r}...) "
                            "cannot be matched against the adapter config's patterns")  # fmt: skip
        if re.match(rf"(.*\.)?({pattern})$", module):
            return patterns[pattern]
    return default


_SAID = reprlib.Repr()
_SAID.maxlong = _SAID.maxstring = 40


def _said(value: Any) -> str:
    """A value from the adapter's config, quoted in a message at a bounded length (a 4,000-digit alpha)."""
    return _SAID.repr(value)


def _refuse_unsupported(config: dict[str, Any]) -> None:
    """Adapters this merge would get wrong: said, never approximated."""
    kind = str(config.get("peft_type", "LORA")).upper()
    if kind != "LORA":
        raise EditError(f"merge-lora: a {kind} adapter, not LoRA; only LoRA adapters can be merged")
    refused = [
        (config.get("use_dora"), "DoRA (use_dora)"),
        (config.get("lora_bias"), "LoRA biases (lora_bias)"),
        (config.get("target_parameters"), "LoRA on parameters (target_parameters)"),
        (config.get("modules_to_save"), "extra trained modules (modules_to_save)"),
        (config.get("trainable_token_indices"), "trainable tokens (trainable_token_indices)"),
    ]
    said = [what for on, what in refused if on]
    if said:
        raise EditError(f"merge-lora: the adapter uses {', '.join(said)}, which this merge does not do")


def merge_lora(base: Checkpoint, adapter: Checkpoint) -> tuple[Checkpoint, EditReport]:
    """``base`` with the LoRA ``adapter`` folded into its weights (see the module's docstring)."""
    report = EditReport("merge_lora", {"adapter": str(adapter.path)})
    config = adapter_config(adapter)
    _refuse_unsupported(config)
    r0, alpha0 = config.get("r", 8), config.get("lora_alpha", 8)  # peft's defaults; checked per module below
    rslora, fan_in_fan_out = bool(config.get("use_rslora")), bool(config.get("fan_in_fan_out"))
    rank_pattern = config.get("rank_pattern") or {}
    alpha_pattern = config.get("alpha_pattern") or {}
    pairs: dict[str, dict[str, str]] = {}  # module -> {"A": adapter key, "B": adapter key}
    others: list[str] = []
    for key in adapter.tensors:
        m = _LORA_KEY.fullmatch(key.removeprefix(ADAPTER_PREFIX))
        if m is None or not key.startswith(ADAPTER_PREFIX):
            others.append(key)
            continue
        pairs.setdefault(m["module"], {})[m["part"]] = key
    if others:
        what = "that are not LoRA A/B weights of a Linear layer (embedding, DoRA, extra modules)"
        raise EditError(
            f"merge-lora: {plural(len(others), 'adapter tensor')} {what}: {first_differences(others)}", report
        )
    if not pairs:
        raise EditError(f"merge-lora: {adapter.path.name} holds no LoRA weights", report)
    base_keys = normalized_keys(base)
    _, sd = model_state(base)
    problems: list[str] = []
    new: dict[int, Any] = {}
    merged: list[tuple[str, str, str, float, bool]] = []
    for module, parts in pairs.items():
        target = f"{module}.weight"
        if set(parts) != {"A", "B"}:
            problems.append(f"{module}: lora_{'A' if 'A' not in parts else 'B'} is missing in the adapter")
            continue
        a, b = adapter.tensors[parts["A"]], adapter.tensors[parts["B"]]
        raw = base_keys.get(target)
        if raw is None or not is_tensor(sd[raw]):
            problems.append(f"{target}: not in the base model")
            continue
        w = base.tensors[full_key(base, key_name(raw))]
        out_in = (w.shape[1], w.shape[0]) if fan_in_fan_out else tuple(w.shape)
        fits = len(a.shape) == 2 and len(b.shape) == 2 and a.shape[0] == b.shape[1]
        if not fits or len(w.shape) != 2 or (b.shape[0], a.shape[1]) != out_in:
            problems.append(f"{target}: {list(w.shape)} cannot take B {list(b.shape)} @ A {list(a.shape)}"
                            + (" (fan_in_fan_out)" if fan_in_fan_out else ""))  # fmt: skip
            continue
        if not w.dtype_name.startswith(("float", "bfloat")):
            problems.append(f"{target}: {w.dtype_name} weights cannot take a LoRA delta")
            continue
        r, alpha = pattern_value(rank_pattern, module, r0), pattern_value(alpha_pattern, module, alpha0)
        if not isinstance(r, int) or isinstance(r, bool) or r < 1 or not isinstance(alpha, (int, float)):
            problems.append(f"{module}: the adapter config gives r={_said(r)}, alpha={_said(alpha)}")
            continue
        if not -1e308 <= alpha <= 1e308 or r > 1 << 20:  # NaN, Inf and ints past a float's range too
            problems.append(f"{module}: the adapter config gives r={_said(r)}, alpha={_said(alpha)}")
            continue
        if r != a.shape[0]:
            report.warnings.append(f"{module}: the config says r={r}, the adapter's A has {a.shape[0]} rows")
        scale = float(alpha) / (math.sqrt(r) if rslora else r)
        new[id(w.source)] = MergedLoraTensor(w.source, a.source, b.source, scale, fan_in_fan_out)
        merged.append((w.key, a.key, b.key, scale, fan_in_fan_out))
    if problems:
        for p in problems:
            report.mismatches.append({"key": p.split(":", 1)[0], "problem": p.split(": ", 1)[1]})
        raise EditError(f"merge-lora refused: {plural(len(problems), 'adapter module')} cannot be merged: "
                        f"{first_differences(problems)}", report)  # fmt: skip
    report.changed = [m[0] for m in merged]
    model = [k for k, raw in base_keys.items() if is_tensor(sd[raw])]
    n = report.count("model_tensors", len(model), merged=len(merged), unchanged=len(model) - len(merged))
    scales = sorted({round(m[3], 6) for m in merged})
    report.summary = (f"{n['merged']:,} of {plural(n['total'], 'model tensor')} merged with the LoRA adapter "
                      f"(scale {', '.join(f'{s:g}' for s in scales)}{', rsLoRA' if rslora else ''})")  # fmt: skip
    report.bytes_before = report.bytes_after = sum(base.tensors[m[0]].nbytes for m in merged)
    report.record = LoraMerge(adapter, tuple(merged))
    result = derive(base, replace_tensors(base.root, new), report)
    result.companions = (*base.companions, adapter)
    return result, report
