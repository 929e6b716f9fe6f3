"""`ckpt diff A B`: what differs between two checkpoints. Exit status follows diff(1):
0 equal within tolerance, 1 different, 2 trouble (a bad input or bad usage)."""

from __future__ import annotations

from typing import Any

from ..formatting import human_count, number, plural, shape_str
from .output import FORCE_HELP, emit_json, progress_line
from .output import table as print_table


def add_command(sub: Any) -> None:
    p = sub.add_parser("diff", help="compare two checkpoints tensor by tensor (exit 0 equal, 1 different, 2 trouble)",
                       description="Align keys (wrapper prefixes removed), classify, measure changes.")  # fmt: skip
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
    from ..core.diff import CHANGED, MISMATCHED, ONLY_A, ONLY_B, WITHIN_TOL, diff
    from ..core.edits import parse_maps

    # any failure is trouble, exit 2 (cli.main): 1 means "different", as in diff(1)
    a = open_checkpoint(args.a, device=args.device, trust=args.trust)
    b = open_checkpoint(args.b, device=args.device, trust=args.trust)
    rep = diff(
        a, b, maps=parse_maps(args.map), atol=args.atol, rtol=args.rtol, progress=progress_line("diff"),
        force=args.force_compute,
    )  # fmt: skip
    if args.json:
        emit_json(rep.to_json())
        return 0 if rep.same else 1
    c = rep.counts
    verdict = "SAME" if rep.same else "DIFFERENT"
    tol = f" (atol {args.atol:g}, rtol {args.rtol:g})" if args.atol or args.rtol else " (exact)"
    total = rep.total_rel_change
    within = rep.verdict_counts[WITHIN_TOL]
    # the verdict and the counts agree: changed tensors within tolerance are said to be
    changed_text = f"{c['changed']} changed" + (f" ({within} within tolerance)" if within else "")
    print(f"{verdict}{tol}: {plural(c['identical'], 'identical tensor')}, {changed_text}, "
          f"{c['mismatched']} mismatched, {c['only_a']} only in A, {c['only_b']} only in B; "
          f"total relative change {number(total, 3)}")  # fmt: skip
    if rep.a_prefix or rep.b_prefix:
        print(f"aligned by removing {rep.a_prefix or '(nothing)'!r} from A and {rep.b_prefix or '(nothing)'!r} from B")
    changed = sorted(rep.by_status(CHANGED), key=lambda r: -(r.rel_l2 or 0))
    if changed:
        print()
        rows = [[r.key, shape_str(r.a_shape or []), number(r.rel_l2, 4), number(r.max_abs, 4), number(r.mean_abs, 4),
                 number(r.cosine, 6), f"{(r.frac_changed or 0):.1%}", _extra(r)] for r in changed]  # fmt: skip
        _table(rows, ["key", "shape", "rel_l2", "max_abs", "mean_abs", "cosine", "changed", "note"])
    for r in rep.by_status(MISMATCHED):
        print(f"mismatched: {r.key}  A {shape_str(r.a_shape or [])} {r.a_dtype}  B {shape_str(r.b_shape or [])} "
              f"{r.b_dtype}")  # fmt: skip
    for status, label in ((ONLY_A, "only in A"), (ONLY_B, "only in B")):
        keys = [r.key for r in rep.by_status(status)]
        if keys:
            print(f"{label} ({human_count(len(keys))}): {', '.join(keys[:10])}" + (" ..." if len(keys) > 10 else ""))
    return 0 if rep.same else 1


def _extra(r) -> str:
    notes = []
    if r.within_tol:
        notes.append("within tolerance")
    if r.a_dtype != r.b_dtype:
        notes.append(f"{r.a_dtype}->{r.b_dtype}")
    if r.new_nan:
        notes.append(f"+{r.new_nan} NaN")
    if r.new_inf:
        notes.append(f"+{r.new_inf} Inf")
    return ", ".join(notes)


def _table(rows: list[list[str]], header: list[str]) -> None:
    print_table(rows, header, right=set(range(2, 7)))
