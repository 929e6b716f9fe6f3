"""`ckpt diff A B`: what differs between two checkpoints. Exit status follows diff(1):
0 equal within tolerance, 1 different, 2 trouble (a bad input or bad usage)."""

from __future__ import annotations

import argparse
from typing import Any

from ..formatting import human_count, number, shape_str
from .output import FORCE_HELP, emit_json, progress_line
from .output import table as print_table

EPILOG = """\
relative change (the headline, the modules, the rel_change column):
  ||B - A|| / max(||A||, ||B||), 0 when both are zero; in [0, 2]. Defined where A
  is all zero: such a tensor that changed reads 1 and is said to be "new from zero".
  Modules and the total use the same formula over their tensors' sums of squares, and
  take floating-point (and complex) tensors only. Integer and bool tensors
  (num_batches_tracked, step counters, masks) are compared exactly, whatever the
  tolerance, and summarised on the "counters:" line.

verdict (the first line, the JSON's "verdict"/"verdict_text", the exit status):
  different if a tensor changed beyond atol + rtol*|b| (an integer one at all), appeared
  NaN/Inf, or a key is mismatched or on one side only; else "same within tolerance"
  ("same values" with no tolerance) if a tensor changed; else "same".

Mismatched and one-sided keys are not measured: their cells are blank (null in JSON)."""


def add_command(sub: Any) -> None:
    p = sub.add_parser("diff", help="compare two checkpoints tensor by tensor (exit 0 equal, 1 different, 2 trouble)",
                       description="Align keys (wrapper prefixes removed), classify, measure changes.",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("a", metavar="A")
    p.add_argument("b", metavar="B")
    p.add_argument("--map", action="append", default=[], metavar="SRC=DST", help="rename A's key prefixes")
    p.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (0: exact)")
    p.add_argument("--rtol", type=float, default=0.0, help="relative tolerance, as in torch.allclose")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the files")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--force-compute", action="store_true", help=FORCE_HELP)
    p.set_defaults(run=_diff, trouble=2)


def _diff(args) -> int:
    from ..core import open_checkpoint
    from ..core.diff import diff
    from ..core.edits import parse_maps

    # any failure is trouble, exit 2 (cli.main): 1 means "different", as in diff(1)
    a = open_checkpoint(args.a, device=args.device, trust=args.trust)
    b = open_checkpoint(args.b, device=args.device, trust=args.trust)
    rep = diff(
        a, b, maps=parse_maps(args.map), atol=args.atol, rtol=args.rtol, progress=progress_line("diff"),
        force=args.force_compute,
    )  # fmt: skip
    verdict = rep.verdict
    if args.json:
        emit_json(rep.to_json())
        return verdict.exit_status
    print(verdict.text)
    print(rep.headline())
    groups = rep.counters()
    if groups:
        print("counters: " + "; ".join(g.text() for g in groups))
    if rep.a_prefix or rep.b_prefix:
        print(f"aligned by removing {rep.a_prefix or '(nothing)'!r} from A and {rep.b_prefix or '(nothing)'!r} from B")
    for note in rep.notes:
        print(f"note: {note}")
    _print_rows(rep)
    for status, label in (("only_a", "only in A"), ("only_b", "only in B")):
        keys = [r.key for r in rep.by_status(status)]
        if keys:
            print(f"{label} ({human_count(len(keys))}): {', '.join(keys[:10])}" + (" ..." if len(keys) > 10 else ""))
    return verdict.exit_status


def _print_rows(rep) -> None:
    """Changed floating-point tensors (largest relative change first), then mismatched keys
    with blank metric cells: they were not measured."""
    from ..core.diff import CHANGED, MISMATCHED

    changed = sorted((r for r in rep.by_status(CHANGED) if not r.integer), key=lambda r: -(r.rel_change or 0))
    mismatched = rep.by_status(MISMATCHED)
    if not changed and not mismatched:
        return
    rows = [[r.key, shape_str(r.a_shape or []), number(r.rel_change, 4), number(r.max_abs, 4), number(r.mean_abs, 4),
             number(r.cosine, 6), f"{(r.frac_changed or 0):.1%}", _note(r)] for r in changed]  # fmt: skip
    for r in mismatched:
        shapes = f"{shape_str(r.a_shape or [])} -> {shape_str(r.b_shape or [])}"
        dtypes = f" ({r.a_dtype} -> {r.b_dtype})" if r.a_dtype != r.b_dtype else ""
        rows.append([r.key, shapes, "", "", "", "", "", f"mismatched{dtypes}"])
    print()
    print_table(rows, ["key", "shape", "rel_change", "max_abs", "mean_abs", "cosine", "changed", "note"],
                right=set(range(2, 7)))  # fmt: skip


def _note(r) -> str:
    notes = []
    if r.new_from_zero:
        notes.append("new from zero")
    if r.within_tol:
        notes.append("within tolerance")
    if r.a_dtype != r.b_dtype:
        notes.append(f"{r.a_dtype}->{r.b_dtype}")
    if r.new_nan:
        notes.append(f"+{r.new_nan} NaN")
    if r.new_inf:
        notes.append(f"+{r.new_inf} Inf")
    return ", ".join(notes)
