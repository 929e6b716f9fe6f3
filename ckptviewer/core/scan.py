"""Health scan: what a user should know about a checkpoint before training on or shipping it.

Severities mean one thing each:

* **error** — this model will produce NaN or garbage (NaN/Inf weights, float16 overflow,
  BatchNorm ``running_var`` <= 0, a tensor orders of magnitude above its siblings: random
  bytes in a corrupted shard, unreadable model data);
* **warning** — likely a training or conversion problem: look before using the file
  (an all-zero weight matrix, dead output channels, two layers bit-identical, huge
  weights, BatchNorm statistics never updated, a LoRA B left at zero, NaN in the
  optimizer state, a tensor not scanned);
* **info** — worth knowing, nothing to fix by itself (the model looks untrained, an
  optimizer step counter at 0, a mostly-zero matrix).

Only model weights and buffers are judged as weights (:mod:`.roles`): optimizer state
has its own rules, and callbacks, loops, schedulers and metrics (Lightning's
``kth_value = inf``) are not judged. Initial values (BatchNorm 1/0/0/1, LayerNorm 1/0,
zero biases, LoRA B at zero, zero ``pos_embed``/``cls_token``) raise no per-tensor finding;
a model at its initial values gets one ``untrained`` info on its root (``ckpt.state_dict_key``,
``""`` for the whole file). Every finding carries ``why``: one sentence on why it matters.
docs/SCAN.md lists every kind.

One statistics pass per tensor (:func:`.stats.each_entry_stats`, the same as ``ckpt stats``);
the rules in :mod:`.scan_rules` read a tensor again only where its statistics say a
second look can find something.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .checkpoint import Checkpoint
from .errors import CheckpointError
from .limits import WorkLimitError
from .progress import CancelToken, ProgressFn
from .progress import report as report_progress
from .roles import MODEL, tensor_roles
from .scan_rules import (
    ERROR,
    INFO,
    KINDS,
    SEVERITY_MEANING,
    SEVERITY_ORDER,
    WARNING,
    Finding,
    checkpoint_findings,
    finding,
    tensor_findings,
)
from .stats import TensorStats, each_entry_stats
from .tree import split_key

__all__ = [
    "ERROR", "INFO", "KINDS", "SEVERITY_MEANING", "SEVERITY_ORDER", "WARNING", "Finding", "ScanReport", "scan",
    "worst_by_path",
]  # fmt: skip


@dataclass
class ScanReport:
    """Findings of a health scan, worst first, and the statistics they came from."""

    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, TensorStats] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # key -> model | optimizer | other

    @property
    def n_errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Findings per severity."""
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITY_ORDER}

    def by_key(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.key, []).append(f)
        return out

    def to_json(self) -> dict:
        return {"n_scanned": len(self.stats), "counts": self.counts(), "findings": [f.to_json() for f in self.findings]}


def scan(
    ckpt: Checkpoint,
    *,
    extreme: float = 1e4,
    mostly_zero: float = 0.99,
    progress: ProgressFn | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
) -> ScanReport:
    """Scan every tensor of ``ckpt``; see the module docstring for what is reported.

    A tensor that cannot be read, or whose logical size dwarfs its stored data (refused
    unless ``force``), is reported as a finding and the scan goes on.
    """
    report = ScanReport(roles=tensor_roles(ckpt))
    entries = list(ckpt.tensors.values())
    per_tensor: list[Finding] = []
    # one tensor at a time (a folder's shards maybe in worker processes): nothing but the
    # statistics is kept, so a scan of hundreds of GB holds one chunk of data at a time
    measured = each_entry_stats(ckpt, entries, progress=progress, cancel=cancel, force=force, keep_going=True)
    for entry, s in zip(entries, measured):
        role = report.roles[entry.key]
        try:
            if isinstance(s, CheckpointError):
                raise s
            report.stats[entry.key] = s
            per_tensor += tensor_findings(entry, role, s, extreme=extreme, mostly_zero=mostly_zero, cancel=cancel)
        except WorkLimitError as exc:
            per_tensor.append(finding(entry.key, "not_scanned", str(exc).split(": ", 1)[-1]))
        except CheckpointError as exc:
            per_tensor.append(finding(entry.key, "unreadable", str(exc), ERROR if role == MODEL else WARNING))
    across = checkpoint_findings(ckpt, report.roles, report.stats, per_tensor, cancel)
    total = sum(e.nbytes for e in entries)
    report_progress(progress, total, total, "Done")
    # checkpoint-level findings first within a severity, then tensors in file order
    report.findings = sorted(across + per_tensor, key=lambda f: SEVERITY_ORDER[f.severity])
    return report


def worst_by_path(findings: list[Finding]) -> dict[str, str]:
    """Tensor key or module path -> the worst severity of the findings at or below it.

    Errors and warnings mark every module above them; an info marks only its own path,
    so a note (a fresh model's "untrained") never paints a trail of dots up the tree.
    """
    marks: dict[str, str] = {}
    for f in findings:
        parts = split_key(f.key)
        lowest = len(parts) if f.severity == INFO else 1
        for i in range(len(parts), lowest - 1, -1):
            if i == 0:
                break
            path = ".".join(parts[:i])
            old = marks.get(path)
            if old is None or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[old]:
                marks[path] = f.severity
    return marks
