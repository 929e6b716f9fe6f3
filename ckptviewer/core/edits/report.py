"""What an edit did: a report for people and JSON, and a typed record for its replay."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import CheckpointError

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint


@dataclass
class EditReport:
    """What an edit changes, for previews, the CLI report and the recipe.

    ``params`` are the user's parameters (JSON); ``record`` is what the edit resolved
    (exact keys renamed, grafted, dropped, cast), from which the recipe replays it.
    """

    op: str
    params: dict[str, Any]
    summary: str = ""
    renamed: list[tuple[str, str]] = field(default_factory=list)  # full keys, before -> after
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, str]] = field(default_factory=list)  # {"param", "pattern", "message"}: selected nothing
    warnings: list[str] = field(default_factory=list)
    # what the summary counts: {group: {"total": n, part: n, ...}}, the parts summing to the total
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    bytes_before: int = 0
    bytes_after: int = 0
    record: Any = None  # KeyRewrite | Extraction | Removal | Conversion | Graft | Average | LoraMerge | HeadResize

    def to_json(self) -> dict[str, Any]:
        doc = asdict(replace(self, record=None))
        del doc["record"]
        doc["renamed"] = [{"from": a, "to": b} for a, b in self.renamed]
        return doc

    def no_match(self, param: str, option: str, pattern: str, among: str = "key") -> None:
        """Record that the user's ``pattern`` (parameter ``param``, CLI ``option``) selected nothing.

        A pattern that selects nothing is usually a typo ("fc*" for "fc.*", "head." for
        "heads."): it is said, never guessed around. The warning speaks the CLI's words;
        the window shows the field's label instead (``gui.edit_dialogs.window_words``).
        """
        message = f"{option} {pattern!r} matched no {among}"
        self.unmatched.append({"param": param, "pattern": pattern, "message": message})
        self.warnings.append(message)

    def count(self, group: str, total: int, **parts: int) -> dict[str, int]:
        """Record a ``group`` of ``total`` things split into ``parts`` (which must add up)."""
        if sum(parts.values()) != total:  # a report that does not add up is a bug here, not a user error
            raise AssertionError(f"{self.op}: {group} parts {parts} do not add up to {total}")
        self.counts[group] = {"total": total, **parts}
        return self.counts[group]

    def refuse_if_unmatched(self, what: str) -> None:
        """Refuse an edit that would change nothing because a pattern matched nothing.

        The rule for every operation: a pattern that matches nothing is a warning and the
        edit goes on; but when the edit then changes nothing at all, the pattern was
        surely a typo and writing an identical copy would hide it, so the edit is refused
        (the CLI exits 1 and writes nothing; the dialog's Apply stays off). An edit that
        changes nothing for another reason (no wrapper prefix to strip, tensors already
        in the dtype) succeeds with a warning: the copy is what was asked for.
        """
        if self.unmatched:
            said = "; ".join(u["message"] for u in self.unmatched)
            raise EditError(f"{self.op.replace('_', '-')}: nothing to {what}: {said}", self)


class EditError(CheckpointError):
    """An edit was refused; ``report`` says why (e.g. the list of shape mismatches)."""

    def __init__(self, message: str, report: EditReport | None = None) -> None:
        super().__init__(message)
        self.report = report


# --- what each kind of edit resolved (the recipe replays exactly this) ---------------------


@dataclass(frozen=True)
class KeyRewrite:
    """strip / add_prefix / rename: model keys renamed inside the container at ``path``."""

    path: tuple[Any, ...]  # raw keys from the root to the state_dict
    mapping: tuple[tuple[Any, str], ...]  # (raw key, new key)
    meta_mapping: tuple[tuple[str, str], ...]  # torch's per-module _metadata keys
    weights_only: bool  # the state_dict alone becomes the root


@dataclass(frozen=True)
class Extraction:
    """extract: a flat state_dict of (dotted key -> new key)."""

    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Removal:
    """drop: the dotted paths removed."""

    paths: tuple[str, ...]


@dataclass(frozen=True)
class Conversion:
    """cast: the dotted keys converted to ``dtype``."""

    keys: tuple[str, ...]
    dtype: str


@dataclass(frozen=True)
class Graft:
    """graft: target state_dict keys taking the source's tensors."""

    source: Checkpoint
    target_path: tuple[Any, ...]
    source_path: tuple[Any, ...]
    pairs: tuple[tuple[Any, Any], ...]  # (target raw key, source raw key)


@dataclass(frozen=True)
class Average:
    """average: model tensors replaced by the average over this checkpoint and ``sources``."""

    sources: tuple[Checkpoint, ...]
    averaged: tuple[tuple[str, tuple[str, ...]], ...]  # (dotted key here, the dotted key in each source)
    from_last: tuple[tuple[str, str], ...]  # (dotted key here, dotted key in the last source): integer buffers
    weights: tuple[float, ...] | None  # normalised, one per input (this one first); None: uniform


@dataclass(frozen=True)
class LoraMerge:
    """merge_lora: base weights with an adapter's ``scale * B @ A`` folded in."""

    source: Checkpoint  # the adapter
    merged: tuple[tuple[str, str, str, float, bool], ...]  # (base key, A key, B key, scale, fan_in_fan_out)


@dataclass(frozen=True)
class HeadResize:
    """resize_head: tensors given another number of rows, new rows from seeded generators."""

    resized: tuple[tuple[str, int, str, int, int], ...]  # (dotted key, rows, init, fan_in, seed)
    reinit: bool
