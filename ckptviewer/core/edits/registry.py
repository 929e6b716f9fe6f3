"""The edit operations, described once: parameters, how to apply, how to replay.

The ``ckpt`` surgery subcommands, the window's Edit menu and dialogs, and the exported
recipe are all generated from :data:`OPERATIONS`. Adding an operation is one entry here
(its function, its parameters, its recipe lines).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..checkpoint import Checkpoint
from ..translatable import QT_TRANSLATE_NOOP
from .align import graft, parse_maps
from .average import average
from .ema import take_ema
from .head import INITS, resize_head
from .keys import add_prefix, rename, strip
from .lora import merge_lora
from .report import (
    Average,
    Conversion,
    EditError,
    EditReport,
    Extraction,
    Graft,
    HeadResize,
    KeyRewrite,
    LoraMerge,
    Removal,
)
from .select import FLOAT_DTYPES, cast, drop, extract

TEXT, LIST, CHECK, CHOICE = "text", "list", "check", "choice"
FROM, SECOND, MORE = "from", "second", "more"


@dataclass(frozen=True)
class Param:
    """One parameter of an operation, as a CLI option and a dialog field."""

    name: str  # the keyword the operation takes; also the dialog field's name
    label: str  # the dialog's label
    kind: str = TEXT  # text | list (of words) | check | choice
    default: Any = ""
    help: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False  # must be given (the CLI) and, unless may_be_empty, not empty
    may_be_empty: bool = False  # rename's replacement: "" deletes what matched
    placeholder: str = ""
    flag: str = ""  # the CLI option (default: --name with dashes)
    repeat: bool = False  # list given as --flag A --flag B (else --flag A B)
    metavar: str = ""

    @property
    def option(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


@dataclass(frozen=True)
class Operation:
    """An edit: its names, its parameters, what it does and how the recipe replays it."""

    name: str  # EditReport.op
    command: str  # the ckpt subcommand
    menu: str  # the Edit menu entry
    help: str  # the CLI help, one line
    note: str  # the dialog's explanation
    params: tuple[Param, ...]
    run: Callable[[Checkpoint, dict[str, Any], Any], tuple[Checkpoint, EditReport]]
    # the other checkpoints it reads: "" none; FROM one, as --from SOURCE (graft); SECOND one, a
    # second input (merge-lora's ADAPTER); MORE one or more further inputs (average), a list
    sources: str = ""
    source_name: str = ""  # how the CLI's usage and the window name the other input(s)

    @property
    def needs_source(self) -> bool:
        """Whether it reads another checkpoint besides the one it edits."""
        return bool(self.sources)

    def defaults(self) -> dict[str, Any]:
        """Every parameter at its default (what an untouched dialog or CLI gives)."""
        return {p.name: ([] if p.kind == LIST and not p.default else p.default) for p in self.params}

    def apply(
        self, ckpt: Checkpoint, values: dict[str, Any] | None = None, source: Any = None
    ) -> tuple[Checkpoint, EditReport]:
        """Run the operation on ``ckpt`` with ``values`` (defaults for the ones missing).

        ``source`` is the other checkpoint (graft, merge-lora) or the list of them (average).
        """
        merged = {**self.defaults(), **(values or {})}
        if self.needs_source and source is None:
            raise EditError(
                f"{self.command} needs {'a source checkpoint' if self.sources == FROM else self.source_name}"
            )
        for p in self.params:
            if p.required and not p.may_be_empty and merged[p.name] in ("", [], None):
                raise EditError(f"{self.command}: give the {p.label.split(' (')[0].lower()}")
        return self.run(ckpt, merged, source)


GLOBS = QT_TRANSLATE_NOOP("EditOperation", "glob of whole dotted keys, e.g. 'backbone.*'")

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation(
            "strip",
            "strip",
            QT_TRANSLATE_NOOP("EditOperation", "Strip prefix…"),
            "remove the module./_orig_mod. prefixes DDP and torch.compile add",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Removes the wrapper prefixes DDP/DataParallel (module.) and torch.compile (_orig_mod.) add. Only the "
                "model weights are renamed; optimizer, epoch, args are kept.",
            ),
            (
                Param(
                    "prefix",
                    QT_TRANSLATE_NOOP("EditOperation", "Prefix"),
                    help=QT_TRANSLATE_NOOP("EditOperation", "strip this prefix instead of the detected ones"),
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "the detected ones"),
                ),
                Param(
                    "weights_only",
                    QT_TRANSLATE_NOOP("EditOperation", "Weights only (write the bare state_dict)"),
                    CHECK,
                    False,
                    help=QT_TRANSLATE_NOOP("EditOperation", "write the bare model state_dict"),
                ),
            ),
            lambda c, v, _s: strip(c, v["prefix"] or None, weights_only=v["weights_only"]),
        ),
        Operation(
            "add_prefix",
            "add-prefix",
            QT_TRANSLATE_NOOP("EditOperation", "Add prefix…"),
            "prepend a prefix to every model key",
            QT_TRANSLATE_NOOP(
                "EditOperation", "Prepends the prefix to every key of the model state_dict (module. for a DDP model)."
            ),
            (
                Param(
                    "prefix",
                    QT_TRANSLATE_NOOP("EditOperation", "Prefix"),
                    default="module.",
                    required=True,
                    help=QT_TRANSLATE_NOOP("EditOperation", "e.g. module."),
                ),
            ),
            lambda c, v, _s: add_prefix(c, v["prefix"]),
        ),
        Operation(
            "extract",
            "extract",
            QT_TRANSLATE_NOOP("EditOperation", "Extract subtree…"),
            "keep the tensors matching globs (e.g. 'backbone.*')",
            QT_TRANSLATE_NOOP("EditOperation", "Keeps only the matching tensors, as a flat state_dict."),
            (
                Param(
                    "keys",
                    QT_TRANSLATE_NOOP("EditOperation", "Keys (globs)"),
                    LIST,
                    required=True,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "backbone.*"),
                    metavar="GLOB",
                    help=GLOBS,
                ),
                Param(
                    "reroot",
                    QT_TRANSLATE_NOOP("EditOperation", "Re-root (remove prefix)"),
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "backbone."),
                    metavar="PREFIX",
                    help=QT_TRANSLATE_NOOP("EditOperation", "remove PREFIX from the kept keys"),
                ),
            ),
            lambda c, v, _s: extract(c, v["keys"], v["reroot"] or None),
        ),
        Operation(
            "graft",
            "graft",
            QT_TRANSLATE_NOOP("EditOperation", "Graft from…"),
            "copy tensors from --from SOURCE into the target IN",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Copies model tensors from the source into this checkpoint. Keys are aligned without wrapper "
                "prefixes; every shape and dtype must agree.",
            ),
            (
                Param(
                    "maps",
                    QT_TRANSLATE_NOOP("EditOperation", "Prefix maps (SRC=DST …)"),
                    LIST,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "e.g. encoder.=backbone."),
                    flag="--map",
                    repeat=True,
                    metavar="SRC=DST",
                    help=QT_TRANSLATE_NOOP("EditOperation", "rename source key prefixes"),
                ),
                Param(
                    "include",
                    QT_TRANSLATE_NOOP("EditOperation", "Include (globs)"),
                    LIST,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "all"),
                    repeat=True,
                    metavar="GLOB",
                    help=QT_TRANSLATE_NOOP("EditOperation", "graft only source keys matching"),
                ),
                Param(
                    "exclude",
                    QT_TRANSLATE_NOOP("EditOperation", "Exclude (globs)"),
                    LIST,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "e.g. fc.*"),
                    repeat=True,
                    metavar="GLOB",
                    help=QT_TRANSLATE_NOOP("EditOperation", "leave out source keys matching"),
                ),
                Param(
                    "skip_mismatched",
                    QT_TRANSLATE_NOOP("EditOperation", "Keep the target's tensor where shapes differ"),
                    CHECK,
                    False,
                    help=QT_TRANSLATE_NOOP("EditOperation", "keep the target's tensor where shapes differ"),
                ),
            ),
            lambda c, v, s: graft(
                c,
                s,
                maps=parse_maps(v["maps"]),
                include=v["include"],
                exclude=v["exclude"],
                skip_mismatched=v["skip_mismatched"],
            ),
            sources=FROM,
            source_name="SOURCE",
        ),
        Operation(
            "rename",
            "rename",
            QT_TRANSLATE_NOOP("EditOperation", "Rename…"),
            "rename model keys with a regular expression",
            QT_TRANSLATE_NOOP("EditOperation", "re.sub on every key of the model state_dict."),
            (
                Param("pattern", QT_TRANSLATE_NOOP("EditOperation", "Pattern (regex)"), required=True, metavar="REGEX"),
                Param(
                    "repl",
                    QT_TRANSLATE_NOOP("EditOperation", "Replace with"),
                    required=True,
                    may_be_empty=True,
                    metavar="TEXT",
                ),
            ),
            lambda c, v, _s: rename(c, v["pattern"], v["repl"]),
        ),
        Operation(
            "drop",
            "drop",
            QT_TRANSLATE_NOOP("EditOperation", "Drop…"),
            "remove tensors or whole entries (e.g. 'optimizer', 'fc.*')",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Removes matching tensors or whole entries (a glob naming a container drops all of it).",
            ),
            (
                Param(
                    "keys",
                    QT_TRANSLATE_NOOP("EditOperation", "Keys (globs)"),
                    LIST,
                    required=True,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "fc.*  optimizer"),
                    metavar="GLOB",
                    help=GLOBS,
                ),
            ),
            lambda c, v, _s: drop(c, v["keys"]),
        ),
        Operation(
            "cast",
            "cast",
            QT_TRANSLATE_NOOP("EditOperation", "Cast…"),
            "convert floating tensors to another float dtype",
            QT_TRANSLATE_NOOP(
                "EditOperation", "Floating-point tensors only; integer and bool tensors are left as they are."
            ),
            (
                Param(
                    "dtype",
                    QT_TRANSLATE_NOOP("EditOperation", "To dtype"),
                    CHOICE,
                    "bfloat16",
                    choices=tuple(FLOAT_DTYPES),
                    required=True,
                ),
                Param(
                    "keys",
                    QT_TRANSLATE_NOOP("EditOperation", "Keys (globs; empty: model weights)"),
                    LIST,
                    metavar="GLOB",
                    help=QT_TRANSLATE_NOOP("EditOperation", "which tensors (default: the model weights)"),
                ),
            ),
            lambda c, v, _s: cast(c, v["dtype"], v["keys"] or None),
        ),
        Operation(
            "average",
            "average",
            QT_TRANSLATE_NOOP("EditOperation", "Average with…"),
            "average the model weights of IN and more checkpoints (model soup)",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "The average of every floating-point model tensor over this checkpoint and the ones listed, in "
                "float64, rounded once. Integer tensors (num_batches_tracked) come from the last one; everything "
                "outside the model (optimizer, epoch) stays this one's. Keys, shapes and dtypes must agree.",
            ),
            (
                Param(
                    "weights",
                    QT_TRANSLATE_NOOP("EditOperation", "Weights (one per checkpoint; empty: uniform)"),
                    LIST,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "e.g. 1 1 2"),
                    metavar="W",
                    help=QT_TRANSLATE_NOOP(
                        "EditOperation", "relative weights, one per input in order; divided by their sum"
                    ),
                ),
            ),
            lambda c, v, s: average(c, s, v["weights"]),
            sources=MORE,
            source_name="MORE",
        ),
        Operation(
            "merge_lora",
            "merge-lora",
            QT_TRANSLATE_NOOP("EditOperation", "Merge LoRA adapter…"),
            "fold a PEFT LoRA adapter into the base weights of IN",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Folds the adapter into the base weights: W + scale · B @ A (scale = lora_alpha / r, or / √r with "
                "rsLoRA; rank_pattern, alpha_pattern and fan_in_fan_out as in adapter_config.json), as peft's "
                "merge_and_unload.",
            ),
            (),
            lambda c, _v, s: merge_lora(c, s),
            sources=SECOND,
            source_name="ADAPTER",
        ),
        Operation(
            "take_ema",
            "take-ema",
            QT_TRANSLATE_NOOP("EditOperation", "Take EMA weights…"),
            "write the EMA weights of a training checkpoint as the model",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Finds the EMA weights (state_dict_ema, model_ema, ema_state_dict, an ema entry's shadow, a "
                "Lightning EMA callback) and keeps them alone, under the model's keys: a state_dict that loads "
                "into the model.",
            ),
            (
                Param(
                    "ema_key",
                    QT_TRANSLATE_NOOP("EditOperation", "Where the EMA is (empty: found)"),
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "found automatically"),
                    metavar="KEY",
                    help=QT_TRANSLATE_NOOP("EditOperation", "the dotted key of the EMA weights, e.g. model_ema"),
                ),
            ),
            lambda c, v, _s: take_ema(c, v["ema_key"]),
        ),
        Operation(
            "resize_head",
            "resize-head",
            QT_TRANSLATE_NOOP("EditOperation", "Resize head…"),
            "give a classifier another number of classes (rows)",
            QT_TRANSLATE_NOOP(
                "EditOperation",
                "Resizes the matching weights and biases to the number of rows: the first rows are kept, new ones "
                "initialised from a seeded generator (the recipe draws the same values).",
            ),
            (
                Param(
                    "keys",
                    QT_TRANSLATE_NOOP("EditOperation", "Keys (globs)"),
                    LIST,
                    required=True,
                    placeholder=QT_TRANSLATE_NOOP("EditOperation", "fc.*"),
                    metavar="GLOB",
                    help=GLOBS,
                ),
                Param(
                    "rows",
                    QT_TRANSLATE_NOOP("EditOperation", "Rows (classes)"),
                    required=True,
                    metavar="N",
                    help=QT_TRANSLATE_NOOP("EditOperation", "the new number of rows"),
                ),
                Param(
                    "init",
                    QT_TRANSLATE_NOOP("EditOperation", "New rows"),
                    CHOICE,
                    "kaiming",
                    choices=INITS,
                    help=QT_TRANSLATE_NOOP("EditOperation", "zeros, normal (std 0.01) or kaiming (as nn.Linear)"),
                ),
                Param(
                    "seed",
                    QT_TRANSLATE_NOOP("EditOperation", "Seed"),
                    default="0",
                    metavar="S",
                    help=QT_TRANSLATE_NOOP("EditOperation", "the generator's seed (default 0)"),
                ),
                Param(
                    "reinit",
                    QT_TRANSLATE_NOOP("EditOperation", "Re-initialise every row"),
                    CHECK,
                    False,
                    help=QT_TRANSLATE_NOOP("EditOperation", "keep no row: initialise them all"),
                ),
            ),
            lambda c, v, _s: resize_head(c, v["keys"], v["rows"], v["init"], v["seed"] or 0, v["reinit"]),
        ),
    )
}
"""Every edit operation by name (``EditReport.op``), in menu order."""


# --- replay: the lines of the recipe for each kind of record --------------------------------

Literal = Callable[[Any], str]


@dataclass
class RecipeStep:
    """What the recipe needs to replay one edit."""

    lines: list[str] = field(default_factory=list)
    sources: list[Checkpoint] = field(default_factory=list)  # files it loads besides the source


def source_var(step: int, j: int = 0) -> str:
    """The recipe's variable for the ``j``-th other checkpoint that edit ``step`` loads."""
    return f"source_{step}" if j == 0 else f"source_{step}_{j + 1}"


def recipe_step(record: Any, step: int, literal: Literal) -> RecipeStep:
    """The script lines replaying ``record`` (file-derived values only through ``literal``)."""
    if isinstance(record, KeyRewrite):
        args = ", ".join(literal(v) for v in (record.path, record.mapping, record.meta_mapping, record.weights_only))
        return RecipeStep([f"ckpt = rename_keys(ckpt, {args})"])
    if isinstance(record, Extraction):
        pairs = literal(record.pairs)
        return RecipeStep(["flat = flatten(ckpt)", f"ckpt = {{new: flat[old] for old, new in {pairs}}}"])
    if isinstance(record, Removal):
        return RecipeStep([f"ckpt = drop_paths(ckpt, set({literal(record.paths)}))"])
    if isinstance(record, Conversion):
        if record.dtype not in FLOAT_DTYPES:
            raise EditError("a cast to an unknown dtype cannot be replayed")
        return RecipeStep([f"ckpt = cast_keys(ckpt, set({literal(record.keys)}), torch.{record.dtype})"])
    if isinstance(record, Average):
        flats = ", ".join(["flatten(ckpt)", *(f"flatten({source_var(step, j)})" for j in range(len(record.sources)))])
        return RecipeStep(
            [
                f"flats = [{flats}]",
                "new = {key: average_of([flats[0][key]] + [f[k] for f, k in zip(flats[1:], others)], "
                f"{literal(record.weights)})",
                f"       for key, others in {literal(record.averaged)}}}",
                f"new.update({{key: flats[-1][k] for key, k in {literal(record.from_last)}}})",
                "ckpt = put_tensors(ckpt, new)",
            ],
            list(record.sources),
        )
    if isinstance(record, LoraMerge):
        return RecipeStep(
            [
                f"flat, adapter = flatten(ckpt), flatten({source_var(step)})",
                "ckpt = put_tensors(ckpt, {key: lora_merged(flat[key], adapter[a], adapter[b], scale, fan_in_fan_out)",
                f"                         for key, a, b, scale, fan_in_fan_out in {literal(record.merged)}}})",
            ],
            [record.source],
        )
    if isinstance(record, HeadResize):
        return RecipeStep(
            [
                "flat = flatten(ckpt)",
                f"ckpt = put_tensors(ckpt, {{key: resized_rows(flat[key], rows, init, fan_in, seed, "
                f"{literal(record.reinit)})",
                f"                         for key, rows, init, fan_in, seed in {literal(record.resized)}}})",
            ]
        )
    if isinstance(record, Graft):
        source = source_var(step)
        return RecipeStep(
            [
                f"target_sd, source_sd = get_at(ckpt, {literal(record.target_path)}), "
                f"get_at({source}, {literal(record.source_path)})",
                f"pairs = dict({literal(record.pairs)})",
                "new_sd = rebuild(target_sd, [(k, source_sd[pairs[k]] if k in pairs else v)",
                "                             for k, v in target_sd.items()])",
                f"ckpt = replace_at(ckpt, {literal(record.target_path)}, new_sd)",
            ],
            [record.source],
        )
    return RecipeStep(["# (no change to replay)"])
