"""A whole training run: the checkpoints of one folder (or glob) ordered by step, per-layer figures
across them (norm, relative update, change since the first, NaN/Inf, Adam update ratio) and findings.

Stub: the public names are fixed (the window codes against them); the bodies follow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CheckpointError
from .progress import Progress, ProgressFn

__all__ = ["RunCheckpoint", "LayerSeries", "RunFinding", "RunReport", "find_run", "analyse_run", "run_to_json",
           "Progress"]  # fmt: skip


@dataclass(frozen=True)
class RunCheckpoint:
    """One checkpoint of a run, as listed (and where it says, its step, epoch, lr and metrics)."""

    path: str  # as given / found (a local path or a URL)
    name: str  # file or folder name shown to the user
    format: str  # the same format words `ckpt info --json` uses
    size: int  # bytes on disk (a folder: the sum of its files)
    step: int | None  # global step, from metadata, else from the name
    epoch: int | None
    order_from: str  # "metadata" | "name" | "mtime": what the ordering came from
    lr: float | None  # learning rate stored in it
    metrics: dict[str, float] = field(default_factory=dict)  # loss / metric values stored in it


@dataclass(frozen=True)
class LayerSeries:
    """One model tensor's figures across the run (one value per checkpoint)."""

    key: str  # model state_dict key (wrapper prefixes stripped), model order
    shape: tuple[int, ...]
    norm: list[float | None]  # ||W_t|| (None where the key is absent)
    rel_update: list[float | None]  # ||W_t - W_{t-1}|| / ||W_{t-1}||; None at t=0 or absent
    change_from_first: list[float | None]  # ||W_t - W_0|| / ||W_0||
    nonfinite: list[int]  # NaN+Inf count per checkpoint (0 where absent)
    adam_ratio: list[float | None]  # lr * ||exp_avg / (sqrt(exp_avg_sq)+eps)|| / ||W_t|| where Adam state is present


@dataclass(frozen=True)
class RunFinding:
    """Something that happened across the run, with what it means."""

    kind: str  # "frozen" | "dead" | "exploding" | "first_nonfinite" | "identical"
    severity: str  # "warning" | "error" | "info"
    checkpoint: int  # index into RunReport.checkpoints where it starts / is seen
    key: str | None  # the layer, or None for whole-checkpoint findings
    message: str  # one line
    why: str  # what it means and what to do


@dataclass(frozen=True)
class RunReport:
    """Everything the run view shows."""

    root: str
    checkpoints: list[RunCheckpoint]  # ordered by step/epoch
    layers: list[LayerSeries]  # model order
    findings: list[RunFinding]
    metric: str = "rel_update"  # the series a heatmap shows by default
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why) of files that are not checkpoints
    cached: list[bool] = field(default_factory=list)  # per checkpoint: its figures came from the cache


def find_run(target: str | Path) -> list[RunCheckpoint]:
    """The checkpoints of a run: a folder (files and checkpoint sub-folders) or a glob, ordered by step/epoch.

    Raises CheckpointError (clear message) when nothing is found.
    """
    raise CheckpointError(f"No checkpoints found in {target} (run view not implemented yet).")


def analyse_run(
    checkpoints: list[RunCheckpoint], *, progress: ProgressFn | None = None, cache_dir: Path | None = None
) -> RunReport:
    """One streamed pass per checkpoint; figures cached per file so a reopened run is instant."""
    raise CheckpointError("The run view is not implemented yet.")


def run_to_json(report: RunReport) -> dict[str, Any]:
    """The JSON document `ckpt run --json` prints (finite floats or null)."""
    raise CheckpointError("The run view is not implemented yet.")
