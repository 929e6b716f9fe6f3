"""Health scan: find tensors a user should look at before training on or shipping them.

One statistics pass over the checkpoint; each tensor can raise findings:

* ``nan`` / ``inf`` (error): non-finite values, counted;
* ``bn_running_var`` (error): a BatchNorm ``running_var`` with a value <= 0;
* ``all_zero`` (warning): every value is zero (dead layer, or never trained);
* ``extreme`` (warning): a floating value whose magnitude exceeds ``extreme``;
* ``constant`` (info): every value equal and non-zero (fresh init of a norm layer, or stuck);
* ``mostly_zero`` (info): at least ``mostly_zero`` of the values are zero.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .checkpoint import Checkpoint, TensorEntry
from .errors import CheckpointError
from .limits import WorkLimitError
from .progress import CancelToken, ProgressFn
from .progress import report as report_progress
from .stats import TensorStats, entry_stats
from .tree import split_key

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass
class Finding:
    """One problem with one tensor."""

    key: str
    kind: str
    severity: str
    message: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ScanReport:
    """Findings of a health scan, worst first, and the statistics they came from."""

    findings: list[Finding] = field(default_factory=list)
    stats: dict[str, TensorStats] = field(default_factory=dict)

    @property
    def n_errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    def by_key(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.key, []).append(f)
        return out

    def to_json(self) -> dict:
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITY_ORDER}
        return {"n_scanned": len(self.stats), "counts": counts, "findings": [f.to_json() for f in self.findings]}


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
    report = ScanReport()
    entries = list(ckpt.tensors.values())
    total = sum(e.nbytes for e in entries)
    done = 0
    for entry in entries:
        itemsize = entry.dtype.itemsize

        def advance(n: int, _key: str = entry.key, _size: int = itemsize) -> None:
            nonlocal done
            done += n * _size
            report_progress(progress, done, total, _key)

        try:
            s = entry_stats(ckpt, entry, cancel=cancel, on_chunk=advance, force=force)
        except WorkLimitError as exc:
            report.findings.append(Finding(entry.key, "not_scanned", WARNING, str(exc).split(": ", 1)[-1]))
            continue
        except CheckpointError as exc:
            report.findings.append(Finding(entry.key, "unreadable", ERROR, str(exc)))
            continue
        report.stats[entry.key] = s
        report.findings.extend(findings_for(entry, s, extreme=extreme, mostly_zero=mostly_zero))
    report_progress(progress, total, total, "Done")
    report.findings.sort(key=lambda f: SEVERITY_ORDER[f.severity])
    return report


def findings_for(
    entry: TensorEntry, s: TensorStats, *, extreme: float = 1e4, mostly_zero: float = 0.99
) -> list[Finding]:
    """Findings for one tensor from its statistics."""
    out: list[Finding] = []
    key = entry.key

    def add(kind: str, severity: str, message: str) -> None:
        out.append(Finding(key, kind, severity, message))

    if s.n_nan:
        add("nan", ERROR, f"{s.n_nan:,} NaN of {s.numel:,} values")
    if s.n_inf:
        add("inf", ERROR, f"{s.n_inf:,} Inf of {s.numel:,} values")
    finite = s.n_finite
    if finite == 0 or s.min is None:
        return out
    if entry.name == "running_var" and s.min <= 0:
        add("bn_running_var", ERROR, f"BatchNorm running_var has values <= 0 (min {s.min:.4g})")
    if s.n_zero == finite and finite > 1:
        add("all_zero", WARNING, "all values are zero")
    elif s.n_zero >= mostly_zero * finite and finite > 1:
        add("mostly_zero", INFO, f"{s.n_zero / finite:.1%} of the values are zero")
    elif s.min == s.max and finite > 1:
        add("constant", INFO, f"all values equal {s.min:.6g}")
    if entry.dtype.is_floating_point or entry.dtype.is_complex:
        peak = max(abs(s.min), abs(s.max))
        if peak > extreme:
            add("extreme", WARNING, f"largest magnitude {peak:.4g} exceeds {extreme:g}")
    return out


def worst_by_path(findings: list[Finding]) -> dict[str, str]:
    """Tensor key or module path -> the worst severity of the findings at or below it."""
    marks: dict[str, str] = {}
    for f in findings:
        parts = split_key(f.key)
        for i in range(len(parts), 0, -1):
            path = ".".join(parts[:i])
            old = marks.get(path)
            if old is None or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[old]:
                marks[path] = f.severity
    return marks
