"""take_ema: the exponential-moving-average weights of a training checkpoint, as the model state_dict.

Where trainers keep them (:data:`EMA_ENTRIES`, looked for in this order): timm's
``state_dict_ema`` and ``model_ema`` (a ``ModelEmaV2/V3`` state_dict: ``module.`` inside),
``ema_state_dict``, ``ema_model``, ``model_ema_state_dict``, an ``ema`` entry (a
state_dict, or an EMA object's ``shadow`` / ``state_dict`` / ``module``), and Lightning EMA
callbacks (``callbacks['EMA…']`` holding ``ema_weights``, ``ema_state_dict``, ``shadow``,
...). ``torch.optim.swa_utils.AveragedModel``'s ``n_averaged`` counter is left out.

The output is a bare state_dict with the model's keys (wrapper prefixes removed): each
model tensor the EMA holds is taken from it; buffers an EMA does not track
(``num_batches_tracked``, or every buffer of a parameters-only shadow) are taken from the
model, and said. An EMA key the model does not have, or a shape that differs, is refused.
The replay is an extraction (:class:`~.report.Extraction`): dotted key -> new key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ...formatting import plural
from ..assemble import derive
from ..checkpoint import WRAPPER_PREFIXES, Checkpoint
from ..structure import children, key_name
from .compute import first_differences
from .report import EditError, EditReport, Extraction

EMA_ENTRIES = ("state_dict_ema", "model_ema", "ema_state_dict", "ema_model", "model_ema_state_dict", "ema")
INSIDE = ("ema_weights", "ema_state_dict", "shadow", "shadow_params", "state_dict", "module", "ema_model", "model")
LEFT_OUT = ("n_averaged",)  # AveragedModel's counter: not a model tensor


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(key_name(k) for k in path)


def _candidates(root: Any) -> Iterator[tuple[str, str]]:
    """(dotted path, how it was found) of the places EMA weights may be, most likely first."""
    items = dict(children(root) or [])
    for name in EMA_ENTRIES:
        if name in items:
            inner = dict(children(items[name]) or [])
            for sub in INSIDE:  # an EMA object's state: its weights one level down
                if sub in inner:
                    yield _dotted((name, sub)), f"{name}['{sub}']"
            yield _dotted((name,)), name
    callbacks = items.get("callbacks")
    for cb_name, cb in children(callbacks) or []:
        if isinstance(cb_name, str) and "ema" in cb_name.lower():
            inner = dict(children(cb) or [])
            for sub in INSIDE:
                if sub in inner:
                    yield _dotted(("callbacks", cb_name, sub)), f"callbacks[{cb_name!r}][{sub!r}]"


def _strip_wrappers(keys: list[str]) -> tuple[list[str], str]:
    """Keys less the wrapper prefixes all of them share (timm's ModelEmaV2 adds ``module.``)."""
    stripped = ""
    while keys and len(stripped) < 64:
        prefix = next((p for p in WRAPPER_PREFIXES if all(k.startswith(p) for k in keys)), None)
        if prefix is None:
            break
        keys = [k[len(prefix) :] for k in keys]
        stripped += prefix
    return keys, stripped


def find_ema(ckpt: Checkpoint, where: str = "") -> tuple[str, str, dict[str, str]]:
    """(dotted path, description, {EMA key without wrappers: dotted key}) of the EMA weights."""
    looked: list[str] = []
    options = [(where, where)] if where else list(_candidates(ckpt.root))
    for path, how in options:
        inside = path + "."
        found = [k for k in ckpt.tensors if k.startswith(inside) and k[len(inside) :] not in LEFT_OUT]
        if found:
            short, _ = _strip_wrappers([k[len(inside) :] for k in found])
            return path, how, dict(zip(short, found))
        looked.append(how)
    said = (
        ", ".join(looked)
        if where
        else ", ".join([*EMA_ENTRIES, "their shadow/state_dict/module entries", "Lightning callbacks named EMA…"])
    )
    raise EditError(f"take-ema: no EMA weights found (looked for {said})")


def take_ema(ckpt: Checkpoint, where: str = "") -> tuple[Checkpoint, EditReport]:
    """The EMA weights of ``ckpt`` as a bare model state_dict (see the module's docstring)."""
    report = EditReport("take_ema", {"ema_key": where})
    path, how, ema = find_ema(ckpt, where)
    model_prefix = f"{ckpt.state_dict_key}." if ckpt.state_dict_key else ""
    inside_ema = ckpt.state_dict_key is not None and (
        ckpt.state_dict_key == path or ckpt.state_dict_key.startswith(path + ".") or path.startswith(model_prefix)
    )
    model: dict[str, str] = {}
    if ckpt.state_dict_key is not None and not inside_ema:
        keys = ckpt.model_keys()
        short, _ = _strip_wrappers([k[len(model_prefix) :] for k in keys])
        model = dict(zip(short, keys))
    pairs: list[tuple[str, str]] = []
    if model:
        problems = [f"{k}: in the EMA, not in the model" for k in ema if k not in model]
        problems += [
            f"{k}: {list(ckpt.tensors[ema[k]].shape)} in the EMA, {list(ckpt.tensors[m].shape)} in the model"
            for k, m in model.items()
            if k in ema and ckpt.tensors[ema[k]].shape != ckpt.tensors[m].shape
        ]
        if problems:
            for p in problems:
                report.mismatches.append({"key": p.split(":", 1)[0], "problem": p.split(": ", 1)[1]})
            said = f"{plural(len(problems), 'difference')}: {first_differences(problems)}"
            raise EditError(f"take-ema refused: the EMA at {how} does not fit the model ({said})", report)
        from_model = [k for k in model if k not in ema]
        pairs = [(ema[k], k) if k in ema else (model[k], k) for k in model]
        if from_model:
            report.warnings.append(
                f"{plural(len(from_model), 'model tensor')} the EMA does not hold taken from the model: "
                + first_differences(from_model, 8)
            )
        n = report.count("model_tensors", len(model), from_ema=len(model) - len(from_model),
                         from_model=len(from_model))  # fmt: skip
        report.summary = f"{n['from_ema']:,} of {plural(n['total'], 'model tensor')} taken from the EMA at {how}" + (
            f", {n['from_model']:,} from the model" if from_model else ""
        )
    else:
        pairs = [(dotted, k) for k, dotted in ema.items()]
        report.count("model_tensors", len(pairs), from_ema=len(pairs))
        report.summary = f"{plural(len(pairs), 'tensor')} taken from the EMA at {how}, as the model state_dict"
    out = {new: ckpt.tensors[old].source for old, new in pairs}
    kept = {old for old, _ in pairs}
    report.removed = [k for k in ckpt.tensors if k not in kept]
    report.renamed = [(old, new) for old, new in pairs if old != new]
    report.bytes_before = sum(e.nbytes for e in ckpt.tensors.values())
    report.bytes_after = sum(ckpt.tensors[old].nbytes for old, _ in pairs)
    report.record = Extraction(tuple(pairs))
    return derive(ckpt, out, report), report
