"""`ckpt scan`: the health scan of one checkpoint, for people and for CI (``--fail-on``)."""

from __future__ import annotations

import argparse
from typing import Any

from ..formatting import plural
from .output import FORCE_HELP, emit_json, open_input, progress_line

EXIT_OK, EXIT_FINDINGS = 0, 3


def add_command(command: Any) -> None:
    """Register scan (``command(name, help, run)`` makes a subparser)."""
    scan = command("scan", "health scan: NaN/Inf, all-zero, constant, extreme values, bad BatchNorm", _scan)
    scan.add_argument("--extreme", type=float, default=1e4, metavar="X", help="flag magnitudes above X (1e4)")
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
            for f in report.findings:
                print(f"{f.severity.upper():8s} {f.key}: {f.message}")
            counts = report.to_json()["counts"]
            found = ", ".join(
                plural(counts[k], w) for k, w in (("error", "error"), ("warning", "warning"), ("info", "note"))
            )
            print(f"{plural(len(report.stats), 'tensor')} scanned: {found}")
        if args.fail_on is not None:
            worst = SEVERITY_ORDER[args.fail_on]
            if any(SEVERITY_ORDER[f.severity] <= worst for f in report.findings):
                return EXIT_FINDINGS
    return EXIT_OK
