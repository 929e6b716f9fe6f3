"""`ckpt scan`: the health scan of one checkpoint, for people and for CI (``--fail-on``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..formatting import plural
from .output import FORCE_HELP, emit_json, open_input, progress_line

EXIT_OK, EXIT_FINDINGS = 0, 3

# what a severity means, in the words of core.scan_rules.SEVERITY_MEANING (kept importable
# without torch: --help must not wait for it)
MEANINGS = (
    ("error", "errors", "this model will produce NaN or garbage"),
    ("warning", "warnings", "likely a training or conversion problem: look before using the file"),
    ("info", "notes", "worth knowing, nothing to fix by itself"),
)

EPILOG = (
    "severities:\n"
    + "".join(f"  {severity:8} {meaning}\n" for severity, _, meaning in MEANINGS)
    + "\nOnly model weights are judged as weights; optimizer state has its own rules; callbacks,\n"
    "loops and metrics are not judged. Initial values (BatchNorm 1/0/0/1, LayerNorm 1/0, zero\n"
    "biases, LoRA B at zero) are not problems: a model at its initial values gets one\n"
    "'untrained' note. Every finding kind, its severity and why: docs/SCAN.md.\n"
    "\n"
    "exit status: 0, or 3 with --fail-on when a finding of that severity or worse is found."
)


def add_command(command: Any) -> None:
    """Register scan (``command(name, help, run)`` makes a subparser)."""
    scan = command("scan", "health scan: NaN/Inf, overflow, corrupted, dead, duplicated or untrained weights", _scan)
    scan.formatter_class = argparse.RawDescriptionHelpFormatter
    scan.epilog = EPILOG
    scan.add_argument("--extreme", type=float, default=1e4, metavar="X", help="flag weights above X in magnitude (1e4)")
    scan.add_argument("--force-compute", action="store_true", help=FORCE_HELP)
    scan.add_argument(
        "--fail-on", choices=("error", "warning", "info"), default=None,
        help="exit 3 if a finding of this severity or worse is found (for CI)",
    )  # fmt: skip


def _scan(args: argparse.Namespace) -> int:
    from ..core.scan import SEVERITY_ORDER, scan

    with open_input(args.path, args) as ckpt:
        report = scan(ckpt, extreme=args.extreme, progress=progress_line("scan"), force=args.force_compute)
        if args.json:
            emit_json({"path": str(ckpt.path), **report.to_json()})
        else:
            print_report(report)
        if args.fail_on is not None:
            worst = SEVERITY_ORDER[args.fail_on]
            if any(SEVERITY_ORDER[f.severity] <= worst for f in report.findings):
                return EXIT_FINDINGS
    return EXIT_OK


def print_report(report: Any) -> None:
    """Findings grouped by severity, worst first, each with its why on an indented line; then
    the one-line summary ("12 tensors scanned: 0 errors, 1 warning, 1 note")."""
    for severity, title, meaning in MEANINGS:
        group = [f for f in report.findings if f.severity == severity]
        if not group:
            continue
        print(f"{title} ({len(group):,}): {meaning}")
        for f in group:
            print(f"  {f.key or '(checkpoint)'}: {f.kind}: {f.message}")
            if f.why:
                print(f"      why: {f.why}")
        print()
    counts = report.counts()
    words = (("error", "error"), ("warning", "warning"), ("info", "note"))
    found = ", ".join(plural(counts[severity], word) for severity, word in words)
    print(f"{plural(len(report.stats), 'tensor')} scanned: {found}")
