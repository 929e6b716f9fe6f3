"""`ckpt run DIR_OR_GLOB`: the checkpoints of one training run, what happened to each layer across them,
and what looks wrong (frozen or dead layers, exploding updates, the first NaN/Inf, duplicate checkpoints)."""

from __future__ import annotations

import argparse
import fnmatch
from typing import Any

from ..formatting import human_bytes, number, plural
from .output import emit_json, progress_line
from .output import table as print_table

METRICS = ("rel_update", "norm", "change_from_first", "adam_ratio")
TOP = 20

EPILOG = """\
series per layer (one value per checkpoint; '-' where the layer is absent or the value undefined):
  norm               ||W_t||, over the finite values
  rel_update         ||W_t - W_t-1|| / ||W_t-1||        (the default)
  change_from_first  ||W_t - W_0|| / ||W_0||
  adam_ratio         lr * ||m_hat / (sqrt(v_hat) + eps)|| / ||W_t||: Adam's next update relative to the
                     weight, from the exp_avg / exp_avg_sq stored with it (bias-corrected)

The checkpoints are ordered by the step (then epoch) they store, else by the numbers in their
names (epoch=03-step=1200.ckpt, model_ep10.pth, checkpoint-500, step_1000), else by
modification time. Figures are cached per file (path, size, modification time): a second run
over the same checkpoints reads no tensor data.

exit status: 0, or 1 when the folder holds no checkpoint or one cannot be read."""


def add_command(sub: Any) -> None:
    """Register ``ckpt run``."""
    p = sub.add_parser("run", help="a training run: checkpoints in step order, per-layer changes, findings",
                       description="Analyse the checkpoints of one training run (a folder or a glob).",
                       epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("path", metavar="DIR_OR_GLOB", help="a folder of checkpoints (or a URL of one), or a quoted glob")
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--metric", choices=METRICS, default="rel_update", help="the series the layer table shows")
    p.add_argument("--keys", nargs="+", metavar="GLOB", help="only layers whose key matches a glob")
    p.add_argument("--top", type=int, default=TOP, metavar="N",
                   help=f"layers in the table: the N with the largest values ({TOP}; 0: all)")  # fmt: skip
    p.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    from ..core.errors import CheckpointError
    from ..core.run import analyse_run, list_run, run_to_json

    listing = list_run(args.path, progress=progress_line("listing"))
    report = analyse_run(listing.checkpoints, progress=progress_line("run"), skipped=listing.skipped,
                         root=listing.root)  # fmt: skip
    layers = report.layers
    if args.keys:
        layers = [s for s in layers if any(fnmatch.fnmatchcase(s.key, p) for p in args.keys)]
        if not layers:
            raise CheckpointError(f"no layer matches {' '.join(args.keys)}")
    if args.json:
        doc = run_to_json(report)
        if args.keys:
            keep = {s.key for s in layers}
            doc["layers"] = [row for row in doc["layers"] if row["key"] in keep]
        emit_json(doc)
        return 0
    _print_checkpoints(report)
    print()
    _print_findings(report)
    print()
    _print_layers(report, layers, args.metric, args.top)
    return 0


def _print_checkpoints(report: Any) -> None:
    cps = report.checkpoints
    sources = sorted({c.order_from for c in cps})
    print(f"run: {report.root}: {plural(len(cps), 'checkpoint')}, ordered by {' / '.join(sources)}")
    rows = []
    for i, c in enumerate(cps):
        metrics = ", ".join(f"{k}={number(v, 4)}" for k, v in c.metrics.items())
        rows.append([str(i), c.name, c.format, human_bytes(c.size), number(c.step), number(c.epoch),
                     number(c.lr, 3), metrics])  # fmt: skip
    print_table(rows, ["#", "checkpoint", "format", "size", "step", "epoch", "lr", "metrics"], {0, 3, 4, 5, 6}, elide=1)
    for name, why in report.skipped:
        print(f"skipped {name}: {why}")


def _print_findings(report: Any) -> None:
    if not report.findings:
        print("findings: none")
        return
    print(f"findings ({len(report.findings):,}):")
    for f in report.findings:
        where = report.checkpoints[f.checkpoint].name
        covers = len(f.layers())  # a group's message names its layers itself
        who = f"({plural(covers, 'layer')})" if covers > 1 else f.key or "(checkpoint)"
        print(f"  {f.severity}: #{f.checkpoint} {where}: {who}: {f.kind}: {f.message}")
    print("why:")
    seen: set[str] = set()
    for f in report.findings:
        if f.why not in seen:
            seen.add(f.why)
            print(f"  {f.kind}: {f.why}")


def _print_layers(report: Any, layers: list, metric: str, top: int) -> None:
    def peak(series: Any) -> float:
        values = [v for v in getattr(series, metric) if v is not None]
        return max(values) if values else float("-inf")

    shown = layers
    if top > 0 and len(layers) > top:
        ranked = sorted(range(len(layers)), key=lambda i: peak(layers[i]), reverse=True)[:top]
        shown = [layers[i] for i in sorted(ranked)]  # model order
        print(f"{metric} per layer: the {top} layers with the largest values of {len(layers):,} (--top 0: all)")
    else:
        print(f"{metric} per layer:")
    header = ["layer", *(f"#{i}" for i in range(len(report.checkpoints)))]
    rows = []
    for s in shown:
        cells = [number(v, 3) for v in getattr(s, metric)]
        cells = [c + "!" if s.nonfinite[i] else c for i, c in enumerate(cells)]
        rows.append([s.key, *cells])
    print_table(rows, header, set(range(1, len(header))))
    if any(any(s.nonfinite) for s in shown):
        print("!: the layer holds NaN/Inf values in that checkpoint (figures are over its finite values)")
