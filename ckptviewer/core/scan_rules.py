"""The health scan's rules: every finding kind with its severity and why, and the checks.

Severities have one meaning each (docs/SCAN.md has the full table):

* ``error``: this model will produce NaN or garbage;
* ``warning``: likely a training (or conversion) problem: look before using the file;
* ``info``: worth knowing, nothing to fix by itself.

Per-tensor checks read only the statistics of the one pass (:func:`tensor_findings`);
the few that need more (which rows are zero, how many values sit at float16's limit) read
the tensor again only when the statistics say it can be so. Checks across tensors
(:func:`checkpoint_findings`) compare statistics: sibling layers' magnitudes, duplicate
signatures (bit-compared only on a match), layers at their initial values.
"""

from __future__ import annotations

import math
import re
import statistics
from collections import defaultdict
from dataclasses import dataclass, field

import torch

from .checkpoint import BUFFER, BUFFER_NAMES, PARAMETER, Checkpoint, TensorEntry
from .progress import CancelToken, check
from .roles import MODEL, OPTIMIZER
from .stats import CHUNK, TensorStats, dense_values, iter_chunks, stored_elements
from .translatable import QT_TRANSLATE_NOOP, Message

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}
SEVERITY_MEANING = {
    ERROR: QT_TRANSLATE_NOOP("ScanSeverity", "this model will produce NaN or garbage"),
    WARNING: QT_TRANSLATE_NOOP("ScanSeverity", "likely a training or conversion problem: look before using the file"),
    INFO: QT_TRANSLATE_NOOP("ScanSeverity", "worth knowing, nothing to fix by itself"),
}


@dataclass(frozen=True)
class Kind:
    """A finding kind: its severity, why it matters (one sentence) and what to do."""

    severity: str
    why: str
    todo: str


_DIVERGED = QT_TRANSLATE_NOOP(
    "ScanKind",
    "Go back to an earlier checkpoint and look at where the loss diverged "
    "(learning rate, gradient clipping, fp16 loss scaling).",
)

KINDS: dict[str, Kind] = {
    "nan": Kind(
        ERROR,
        QT_TRANSLATE_NOOP(
            "ScanKind", "A NaN in a weight spreads through every layer after it: the model's outputs become NaN."
        ),
        _DIVERGED,
    ),
    "inf": Kind(
        ERROR,
        QT_TRANSLATE_NOOP("ScanKind", "An infinite weight turns the activations it touches into Inf or NaN."),
        _DIVERGED,
    ),
    "fp16_overflow": Kind(
        ERROR,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "float16 cannot hold magnitudes beyond 65504: these values became Inf or were clipped"
            " to ±65504 in the conversion, and the layer's outputs overflow.",
        ),
        QT_TRANSLATE_NOOP(
            "ScanKind", "Convert the float32 original to bfloat16 (float32's range), or keep this layer in float32."
        ),
    ),
    "bn_running_var": Kind(
        ERROR,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "BatchNorm divides by the square root of running_var: a value <= 0 gives NaN or Inf in eval mode.",
        ),
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Re-estimate the statistics (forward passes in train mode, no gradients) or take them"
            " from an earlier checkpoint.",
        ),
    ),
    "outlier": Kind(
        ERROR,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Magnitudes orders above every sibling layer's are what random bytes read as numbers "
            "look like (a corrupted shard or download) or a layer that blew up: the outputs will "
            "be garbage.",
        ),
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Re-download or re-copy the file and compare checksums; if the file is intact, use an earlier checkpoint.",
        ),
    ),
    "unreadable": Kind(
        ERROR,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "The tensor's data cannot be read, so loading the file fails or loads something else "
            "(an error for model weights, a warning for other tensors).",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Re-download or re-save the file; the message says what is wrong."),
    ),
    "all_zero": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "A weight matrix of zeros makes its layer output only its bias: it was never trained,"
            " was zeroed, or was lost in a conversion.",
        ),
        QT_TRANSLATE_NOOP(
            "ScanKind", "Check the layer was trained and loaded (frozen by mistake? missing from the key mapping?)."
        ),
    ),
    "dead_rows": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "An output channel whose weights are all zero always outputs the same value: those "
            "units are dead or were pruned.",
        ),
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Expected after structured pruning; otherwise look at the learning rate, weight decay or a masking bug.",
        ),
    ),
    "duplicate": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Two layers with bit-identical weights are almost always one layer loaded twice by a "
            "copy or conversion bug, not training.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Compare with the source checkpoint; check the key mapping of the conversion."),
    ),
    "extreme": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind", "Weights this large are a sign of exploding training, and they overflow in reduced precision."
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Look at the training curves near this checkpoint; consider gradient clipping."),
    ),
    "bn_stats_initial": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "This BatchNorm layer's weights were trained but its running statistics are still "
            "mean 0 / variance 1: in eval mode it normalises with the wrong statistics.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Re-estimate the statistics with forward passes in train mode (no gradients)."),
    ),
    "lora_b_zero": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "LoRA adds B·A to the base weight: with B all zero this adapter changes nothing, "
            "while other adapters in the file were trained.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Check that this module received gradients (target_modules, frozen parameters)."),
    ),
    "optimizer_nonfinite": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "Resuming training from this optimizer state produces NaN at the first step (the "
            "model weights may still be fine).",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Resume with a fresh optimizer (weights only), or from an earlier checkpoint."),
    ),
    "not_scanned": Kind(
        WARNING,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "The tensor's logical size dwarfs the data stored for it, so it was not checked and may hide anything.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Scan with --force-compute if you trust the file."),
    ),
    "untrained": Kind(
        INFO,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "A model at its initial values gives a random model's outputs: fine at the start of "
            "training, not in a file you ship.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Make sure this is the file you meant (not step 0)."),
    ),
    "optimizer_step_zero": Kind(
        INFO,
        QT_TRANSLATE_NOOP(
            "ScanKind",
            "A step counter at 0 means the optimizer's moment estimates were never updated: "
            "resuming behaves like a fresh optimizer.",
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Nothing, if training had not stepped yet."),
    ),
    "mostly_zero": Kind(
        INFO,
        QT_TRANSLATE_NOOP(
            "ScanKind", "A weight matrix that is almost all zeros is sparse: expected after pruning, unusual otherwise."
        ),
        QT_TRANSLATE_NOOP("ScanKind", "Nothing, if the model was pruned."),
    ),
}


@dataclass
class Finding:
    """One finding: where (a tensor key, a module path, or "" for the whole checkpoint),
    what kind, how bad, what was measured, and why it matters."""

    key: str
    kind: str
    severity: str
    message: str
    why: str = ""
    # the message as a template and its values, for the window to translate (None: an error's own text)
    text: Message | None = field(default=None, compare=False, repr=False)

    def to_json(self) -> dict:
        return {"key": self.key, "kind": self.kind, "severity": self.severity, "message": self.message, "why": self.why}


def finding(key: str, kind: str, message: str | Message, severity: str | None = None) -> Finding:
    """A finding of ``kind`` with the kind's severity (unless given) and why."""
    k = KINDS[kind]
    text = message if isinstance(message, Message) else None
    return Finding(key, kind, severity or k.severity, str(message), k.why, text)


def _msg(template: str, **params: object) -> Message:
    """A finding's message: ``template`` (marked with QT_TRANSLATE_NOOP("ScanFinding", ...)) and its values."""
    return Message("ScanFinding", template, params)


# --- names -------------------------------------------------------------------------------

FP16_MAX = 65504.0
OUTLIER_RATIO = 1e3  # a tensor this many times above its siblings' median magnitude
OUTLIER_FLOOR = 1.0  # ... and above this: tiny weights far above tinier ones are not garbage
OUTLIER_SIBLINGS = 3  # a median needs a group this large

_NORM_MODULE = re.compile(r"norm|rms|^ln(_?[a-z]*)?\d*$", re.IGNORECASE)
# parameters that start at zero by design (ViT, DeiT, BLIP-2, prompt tuning)
_ZERO_INIT = ("pos_embed", "pos_emb", "position_emb", "cls_token", "mask_token", "dist_token", "reg_token",
              "register_token", "query_token", "prompt_embed")  # fmt: skip
_VOCAB = ("emb", "wte", "tok", "word", "shared", "lm_head", "vocab")  # a padding row of zeros is normal
_TIE_EMBED = ("emb", "wte", "tok", "word", "shared")
_TIE_HEAD = _TIE_EMBED + ("lm_head", "head", "output", "decoder")
# buffers that are computed, not learned, and the same in every layer (rotary tables, ids, masks)
_NOT_LEARNED = frozenset({"inv_freq", "position_ids", "token_type_ids", "relative_position_index", "freqs_cis",
                          "cos_cached", "sin_cached", "masked_bias", "_float_tensor", "attn_mask", "causal_mask",
                          "mask"})  # fmt: skip


def leaf(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def module_of(key: str) -> str:
    return key.rsplit(".", 1)[0] if "." in key else ""


def _is_lora_b(key: str) -> bool:
    low = key.lower()
    return "lora_b" in low or "lora_embedding_b" in low


def _is_weight_matrix(entry: TensorEntry) -> bool:
    """A learned matrix (dim >= 2) where zeros mean something: not a bias, not LoRA's B, not
    a parameter that starts at zero by design."""
    low = entry.key.lower()
    return (
        len(entry.shape) >= 2
        and "bias" not in leaf(low)
        and not _is_lora_b(entry.key)
        and not any(z in low for z in _ZERO_INIT)
    )


def _finite(s: TensorStats | None) -> bool:
    return s is not None and s.numel > 0 and s.n_nan == 0 and s.n_inf == 0


def all_zero(s: TensorStats | None) -> bool:
    """Every value of the tensor is 0."""
    return _finite(s) and s is not None and s.n_zero == s.numel


def all_equal(s: TensorStats | None, value: float) -> bool:
    """Every value of the tensor is ``value``."""
    return _finite(s) and s is not None and s.min == value and s.max == value


def peak(s: TensorStats) -> float | None:
    """The largest finite magnitude, or None."""
    return None if s.min is None or s.max is None else max(abs(float(s.min)), abs(float(s.max)))


# --- extra passes, only where the statistics say they can find something -----------------


def zero_rows(t: torch.Tensor, cancel: CancelToken | None = None) -> list[int]:
    """Indexes along dim 0 whose every value is zero, a bounded block of rows at a time."""
    rows = t.shape[0]
    per_row = max(t.numel() // max(rows, 1), 1)
    step = max(CHUNK // per_row, 1)
    out: list[int] = []
    for start in range(0, rows, step):
        check(cancel)
        block = t[start : start + step].reshape(min(step, rows - start), -1)
        alive = block.ne(0).any(1)
        out += (torch.nonzero(~alive).flatten() + start).tolist()
    return out


def count_magnitude(t: torch.Tensor, value: float, cancel: CancelToken | None = None) -> int:
    """How many values of ``t`` have magnitude exactly ``value`` (chunked)."""
    n = 0
    for c in iter_chunks(t):
        check(cancel)
        n += int(c.abs().eq(value).sum())
    return n


def _readable_dense(entry: TensorEntry) -> torch.Tensor | None:
    """The tensor for an extra pass, or None when a pass would be unbounded (sparse, expanded)."""
    t = entry.load()
    if t.layout != torch.strided or t.is_quantized:
        return None
    t = dense_values(t, entry.key)
    return t if stored_elements(t) >= t.numel() else None


# --- per tensor --------------------------------------------------------------------------


def tensor_findings(
    entry: TensorEntry,
    role: str,
    s: TensorStats,
    *,
    extreme: float = 1e4,
    mostly_zero: float = 0.99,
    cancel: CancelToken | None = None,
) -> list[Finding]:
    """Findings for one tensor from its statistics and its role (model, optimizer, other)."""
    key = entry.key
    floating = entry.dtype.is_floating_point or entry.dtype.is_complex
    if role == OPTIMIZER:
        if s.n_nan or s.n_inf:
            what = ", ".join(f"{n:,} {w}" for n, w in ((s.n_nan, "NaN"), (s.n_inf, "Inf")) if n)
            message = _msg(
                QT_TRANSLATE_NOOP("ScanFinding", "{what} of {numel} values in optimizer state"),
                what=what, numel=f"{s.numel:,}",
            )  # fmt: skip
            return [finding(key, "optimizer_nonfinite", message)]
        return []
    if role != MODEL:
        return []  # callbacks, loops, metrics: inf and zeros are their normal values
    out: list[Finding] = []
    top = peak(s)
    if s.n_nan:
        message = _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "{n} NaN of {numel} values"), n=f"{s.n_nan:,}", numel=f"{s.numel:,}"
        )
        out.append(finding(key, "nan", message))
    at_limit = 0
    if entry.dtype == torch.float16 and top == FP16_MAX:
        t = _readable_dense(entry)
        at_limit = count_magnitude(t, FP16_MAX, cancel) if t is not None else 1
    overflow = entry.dtype == torch.float16 and bool(s.n_inf or at_limit)
    if overflow:
        if s.n_inf and at_limit:
            template = QT_TRANSLATE_NOOP(
                "ScanFinding", "{n_inf} ±Inf and {n_limit} at ±65504 of {numel} float16 values"
            )
        elif s.n_inf:
            template = QT_TRANSLATE_NOOP("ScanFinding", "{n_inf} ±Inf of {numel} float16 values")
        else:
            template = QT_TRANSLATE_NOOP("ScanFinding", "{n_limit} at ±65504 of {numel} float16 values")
        message = _msg(template, n_inf=f"{s.n_inf:,}", n_limit=f"{at_limit:,}", numel=f"{s.numel:,}")
        out.append(finding(key, "fp16_overflow", message))
    elif s.n_inf:
        message = _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "{n} Inf of {numel} values"), n=f"{s.n_inf:,}", numel=f"{s.numel:,}"
        )
        out.append(finding(key, "inf", message))
    if s.min is None or not floating:
        return out
    if leaf(key) == "running_var" and s.min <= 0:
        message = _msg(QT_TRANSLATE_NOOP("ScanFinding", "running_var has values <= 0 (min {min})"), min=f"{s.min:.4g}")
        out.append(finding(key, "bn_running_var", message))
    if _is_weight_matrix(entry):
        out += _zero_findings(entry, s, mostly_zero, cancel)
    judged = entry.role != BUFFER and leaf(key) not in BUFFER_NAMES and not overflow  # overflow says it already
    if judged and top is not None and top > extreme:
        message = _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "largest magnitude {top} exceeds {limit}"),
            top=f"{top:.4g}",
            limit=f"{extreme:g}",
        )
        out.append(finding(key, "extreme", message))
    return out


def _zero_findings(entry: TensorEntry, s: TensorStats, mostly_zero: float, cancel) -> list[Finding]:
    """all_zero, dead_rows or mostly_zero for a weight matrix."""
    finite = s.n_finite
    if finite > 1 and s.n_zero == s.numel:
        message = _msg(QT_TRANSLATE_NOOP("ScanFinding", "all {numel} values are zero"), numel=f"{s.numel:,}")
        return [finding(entry.key, "all_zero", message)]
    rows = entry.shape[0]
    row_len = entry.numel // max(rows, 1)
    if rows > 1 and row_len and s.n_zero >= row_len:  # enough zeros for a whole row: look
        t = _readable_dense(entry)
        dead = zero_rows(t, cancel) if t is not None else []
        vocab_padding = len(dead) == 1 and any(v in entry.key.lower() for v in _VOCAB)
        if dead and not vocab_padding:
            shown = ", ".join(map(str, dead[:8])) + (", …" if len(dead) > 8 else "")
            message = _msg(
                QT_TRANSLATE_NOOP("ScanFinding", "{n} of {rows} output channels are all zero ({shown})"),
                n=f"{len(dead):,}", rows=f"{rows:,}", shown=shown,
            )  # fmt: skip
            return [finding(entry.key, "dead_rows", message)]
    if finite > 1 and s.n_zero >= mostly_zero * finite:
        message = _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "{share} of the values are zero"), share=f"{s.n_zero / finite:.1%}"
        )
        return [finding(entry.key, "mostly_zero", message)]
    return []


# --- across tensors ----------------------------------------------------------------------


def checkpoint_findings(
    ckpt: Checkpoint,
    roles: dict[str, str],
    stats: dict[str, TensorStats],
    findings: list[Finding],
    cancel: CancelToken | None = None,
) -> list[Finding]:
    """Findings across tensors; ``findings`` (the per-tensor ones) is edited in place where a
    finding across tensors explains a per-tensor one better (an outlier, an untrained model)."""
    model = [k for k, r in roles.items() if r == MODEL and k in stats]
    out = _outliers(ckpt, model, stats, findings)
    out += _duplicates(ckpt, model, stats, cancel)
    out += _initial_values(ckpt, model, stats, findings)
    out += _optimizer_steps(roles, stats)
    return out


def sibling_pattern(key: str) -> str:
    """The key with its numeric parts as ``*``: ``layers.3.mlp.fc1.weight`` -> ``layers.*.mlp.fc1.weight``."""
    return ".".join("*" if p.isdigit() else p for p in key.split("."))


def _outliers(ckpt: Checkpoint, model: list[str], stats: dict[str, TensorStats], findings: list[Finding]) -> list:
    groups: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for k in model:
        e = ckpt.tensors[k]
        top = peak(stats[k])
        if e.dtype.is_floating_point and e.role != BUFFER and leaf(k) not in BUFFER_NAMES and top is not None:
            groups[sibling_pattern(k)].append((k, top))
    out = []
    for pattern, members in groups.items():
        if len(members) < OUTLIER_SIBLINGS:
            continue
        median = statistics.median(top for _, top in members)
        if median <= 0:
            continue
        for k, top in members:
            if top > OUTLIER_RATIO * median and top > OUTLIER_FLOOR:
                msg = _msg(
                    QT_TRANSLATE_NOOP(
                        "ScanFinding",
                        "largest magnitude {top} is {ratio}× the median ({median}) of the {n} tensors {pattern}",
                    ),
                    top=f"{top:.3g}", ratio=f"{top / median:.2g}", median=f"{median:.3g}", n=len(members),
                    pattern=pattern,
                )  # fmt: skip
                out.append(finding(k, "outlier", msg))
    flagged = {f.key for f in out}
    findings[:] = [f for f in findings if not (f.kind == "extreme" and f.key in flagged)]  # said better
    return out


def _signature(e: TensorEntry, s: TensorStats) -> tuple:
    return (e.dtype, e.shape, s.min, s.max, s.mean, s.l2, s.n_zero, s.n_nan)


def _is_mask(s: TensorStats) -> bool:
    """Only 0s and 1s (a causal mask saved as floats): the sum of squares equals the count of ones."""
    if s.min != 0 or s.max != 1 or s.l2 is None:
        return False
    return math.isclose(s.l2 * s.l2, s.numel - s.n_zero, rel_tol=1e-6)


def _legitimately_equal(a: TensorEntry, b: TensorEntry) -> bool:
    """Tied weights (an embedding and the output head), an EMA copy beside the model, one storage."""
    if a.storage_key == b.storage_key:
        return True
    la, lb = a.key.lower(), b.key.lower()
    both_vocab = any(w in la for w in _TIE_HEAD) and any(w in lb for w in _TIE_HEAD)
    if both_vocab and (any(w in la for w in _TIE_EMBED) or any(w in lb for w in _TIE_EMBED)):
        return True
    top_a, _, rest_a = a.key.partition(".")
    top_b, _, rest_b = b.key.partition(".")
    return top_a != top_b and rest_a == rest_b  # model.x and model_ema.x


def _duplicates(ckpt: Checkpoint, model: list[str], stats: dict[str, TensorStats], cancel) -> list[Finding]:
    by_signature: dict[tuple, list[str]] = defaultdict(list)
    for k in model:
        e, s = ckpt.tensors[k], stats[k]
        if not e.dtype.is_floating_point or e.numel < 2 or s.min is None or s.min == s.max:
            continue  # constants (a fresh norm's ones) are equal by design
        if leaf(k) in _NOT_LEARNED or leaf(k) in BUFFER_NAMES or _is_mask(s):
            continue
        by_signature[_signature(e, s)].append(k)
    out = []
    for keys in by_signature.values():
        originals: list[tuple[str, torch.Tensor]] = []
        for k in keys:
            e = ckpt.tensors[k]
            t = e.load()
            check(cancel)
            same = next((o for o, ot in originals if torch.equal(ot, t)), None)
            if same is None:
                originals.append((k, t))
            elif not _legitimately_equal(ckpt.tensors[same], e):
                out.append(
                    finding(k, "duplicate", _msg(QT_TRANSLATE_NOOP("ScanFinding", "bit-identical to {key}"), key=same))
                )
    return out


def _optimizer_steps(roles: dict[str, str], stats: dict[str, TensorStats]) -> list[Finding]:
    zero_by_root: dict[str, int] = defaultdict(int)
    for k, r in roles.items():
        if r == OPTIMIZER and leaf(k) == "step" and all_zero(stats.get(k)):
            root = k.split(".state.", 1)[0] if ".state." in k else k.split(".", 1)[0]
            zero_by_root[root] += 1
    return [
        finding(root, "optimizer_step_zero", _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "step counter is 0 for {n} parameters") if n != 1
            else QT_TRANSLATE_NOOP("ScanFinding", "step counter is 0 for 1 parameter"),
            n=f"{n:,}",
        ))
        for root, n in zero_by_root.items()
    ]  # fmt: skip


def _initial_values(
    ckpt: Checkpoint, model: list[str], stats: dict[str, TensorStats], findings: list[Finding]
) -> list[Finding]:
    """One ``untrained`` finding when the model sits at its initial values; BatchNorm layers
    whose statistics never moved while their weights did; LoRA B matrices left at zero."""
    primary = [k for k in model if ckpt.tensors[k].role in (PARAMETER, BUFFER)] or model
    modules: dict[str, dict[str, str]] = defaultdict(dict)
    for k in primary:
        modules[module_of(k)][leaf(k)] = k

    def get(m: str, name: str) -> TensorStats | None:
        key = modules[m].get(name)
        return stats.get(key) if key is not None else None

    def present(m: str, name: str) -> bool:
        return name in modules[m]

    out: list[Finding] = []
    reason: Message | None = None
    lora_b = [k for k in primary if _is_lora_b(k) and ckpt.tensors[k].dtype.is_floating_point]
    bn = [m for m, leaves in modules.items() if "running_mean" in leaves and "running_var" in leaves]
    norms = [
        m
        for m, leaves in modules.items()
        if m not in bn and "weight" in leaves and len(ckpt.tensors[leaves["weight"]].shape) == 1
        and _NORM_MODULE.search(leaf(m) if m else "")
    ]  # fmt: skip
    if lora_b:
        zero = [k for k in lora_b if all_zero(stats.get(k))]
        if len(zero) == len(lora_b):
            reason = _msg(
                QT_TRANSLATE_NOOP("ScanFinding", "all {n} lora_B matrices are zero: the adapter is untrained")
                if len(lora_b) != 1
                else QT_TRANSLATE_NOOP("ScanFinding", "all 1 lora_B matrix are zero: the adapter is untrained"),
                n=f"{len(lora_b):,}",
            )
        else:
            trained = len(lora_b) - len(zero)
            message = _msg(QT_TRANSLATE_NOOP("ScanFinding", "all zero, while {n} other lora_B are trained"), n=trained)
            out += [finding(k, "lora_b_zero", message) for k in zero]
    elif bn:
        stats_initial = [
            m for m in bn
            if all_zero(get(m, "running_mean")) and all_equal(get(m, "running_var"), 1)
            and (not present(m, "num_batches_tracked") or all_zero(get(m, "num_batches_tracked")))
        ]  # fmt: skip
        affine_initial = {
            m for m in stats_initial
            # weight 0 too: ResNet's zero_init_residual starts the last BatchNorm of each block at 0
            if (not present(m, "weight") or all_equal(get(m, "weight"), 1) or all_zero(get(m, "weight")))
            and (not present(m, "bias") or all_zero(get(m, "bias")))
        }  # fmt: skip
        if len(affine_initial) == len(bn):
            tracked = any(present(m, "num_batches_tracked") for m in bn)
            templates = {  # (one layer, num_batches_tracked present)
                (True, False): QT_TRANSLATE_NOOP(
                    "ScanFinding", "1 BatchNorm layer at their initial values (weight 1, bias 0, running mean 0, "
                    "running var 1)"),
                (False, False): QT_TRANSLATE_NOOP(
                    "ScanFinding", "{n} BatchNorm layers at their initial values (weight 1, bias 0, running mean 0, "
                    "running var 1)"),
                (True, True): QT_TRANSLATE_NOOP(
                    "ScanFinding", "1 BatchNorm layer at their initial values (weight 1, bias 0, running mean 0, "
                    "running var 1), num_batches_tracked = 0"),
                (False, True): QT_TRANSLATE_NOOP(
                    "ScanFinding", "{n} BatchNorm layers at their initial values (weight 1, bias 0, running mean 0, "
                    "running var 1), num_batches_tracked = 0"),
            }  # fmt: skip
            reason = _msg(templates[(len(bn) == 1, tracked)], n=f"{len(bn):,}")
        else:
            out += [
                finding(modules[m]["running_var"], "bn_stats_initial", _msg(QT_TRANSLATE_NOOP(
                    "ScanFinding", "running statistics at mean 0 / variance 1 while the layer's weights were trained")))
                for m in stats_initial if m not in affine_initial
            ]  # fmt: skip
    elif norms:
        initial = [
            m for m in norms
            if all_equal(get(m, "weight"), 1) and (not present(m, "bias") or all_zero(get(m, "bias")))
        ]  # fmt: skip
        if len(initial) == len(norms):
            reason = _msg(
                QT_TRANSLATE_NOOP(
                    "ScanFinding", "all {n} normalisation layers at their initial values (weight 1, bias 0)"
                )
                if len(norms) > 1
                else QT_TRANSLATE_NOOP(
                    "ScanFinding", "its normalisation layer at their initial values (weight 1, bias 0)"
                ),
                n=f"{len(norms):,}",
            )
    if reason is None:
        return out
    zeroed = [f for f in findings if f.kind == "all_zero"]
    if zeroed:  # zero-initialised layers of a fresh model: part of the one statement, not warnings
        findings[:] = [f for f in findings if f.kind != "all_zero"]
        message = _msg(
            QT_TRANSLATE_NOOP("ScanFinding", "looks untrained: {reason}; {n} weight matrices all zero")
            if len(zeroed) != 1
            else QT_TRANSLATE_NOOP("ScanFinding", "looks untrained: {reason}; 1 weight matrix all zero"),
            reason=reason, n=f"{len(zeroed):,}",
        )  # fmt: skip
    else:
        message = _msg(QT_TRANSLATE_NOOP("ScanFinding", "looks untrained: {reason}"), reason=reason)
    root = ckpt.state_dict_key or ""
    return [finding(root, "untrained", message), *out]
