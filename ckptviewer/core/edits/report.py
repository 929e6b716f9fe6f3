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
    unmatched: list[dict[str, str]] = field(default_factory=list)  # {"param", "pattern"} that matched nothing
    warnings: list[str] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0
    record: Any = None  # KeyRewrite | Extraction | Removal | Conversion | Graft | None

    def to_json(self) -> dict[str, Any]:
        doc = asdict(replace(self, record=None))
        del doc["record"]
        doc["renamed"] = [{"from": a, "to": b} for a, b in self.renamed]
        return doc


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
