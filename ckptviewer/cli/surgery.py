"""`ckpt` surgery subcommands: strip, add-prefix, extract, graft, rename, drop, cast,
convert, compat. Each opens its input(s) safely, applies a core edit, writes the output
atomically (never over the input) and prints a report (``--json`` for machines)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from .cli_output import FORCE_HELP, emit_json
from .formatting import human_bytes, plural

EXIT_OK, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2


def add_commands(sub: Any) -> None:
    """Register the surgery subcommands on ``sub`` (an argparse subparsers object)."""

    def command(name: str, help: str, run: Callable, source: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        if source:
            p.add_argument("path", metavar="IN", help="checkpoint to read (never modified)")
            p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write (.pth or .safetensors)")
            p.add_argument("--force", action="store_true", help="replace OUT if it exists")
            p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
            p.add_argument("--force-compute", action="store_true", help=FORCE_HELP)
        p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the file")
        p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
        p.set_defaults(run=run)
        return p

    p = command("strip", "remove the module./_orig_mod. prefixes DDP and torch.compile add", _strip)
    p.add_argument("--prefix", help="strip this prefix instead of the detected ones")
    p.add_argument("--weights-only", action="store_true", help="write the bare model state_dict")
    p = command("add-prefix", "prepend a prefix to every model key", _add_prefix)
    p.add_argument("--prefix", required=True)
    p = command("extract", "keep the tensors matching globs (e.g. 'backbone.*')", _extract)
    p.add_argument("--keys", nargs="+", required=True, metavar="GLOB")
    p.add_argument("--reroot", metavar="PREFIX", help="remove PREFIX from the kept keys")
    p = command("graft", "copy tensors from --from SOURCE into the target IN", _graft)
    p.add_argument("--from", dest="source", required=True, metavar="SOURCE")
    p.add_argument("--map", action="append", default=[], metavar="SRC=DST", help="rename source key prefixes")
    p.add_argument("--include", action="append", default=[], metavar="GLOB")
    p.add_argument("--exclude", action="append", default=[], metavar="GLOB")
    p.add_argument("--skip-mismatched", action="store_true", help="keep the target's tensor where shapes differ")
    p = command("rename", "rename model keys with a regular expression", _rename)
    p.add_argument("--pattern", required=True, metavar="REGEX")
    p.add_argument("--repl", required=True, metavar="TEXT")
    p = command("drop", "remove tensors or whole entries (e.g. 'optimizer', 'fc.*')", _drop)
    p.add_argument("--keys", nargs="+", required=True, metavar="GLOB")
    p = command("cast", "convert floating tensors to another float dtype", _cast)
    p.add_argument("--dtype", required=True, choices=("float32", "float16", "bfloat16", "float64"))
    p.add_argument("--keys", nargs="+", metavar="GLOB", help="which tensors (default: the model weights)")
    command("convert", "re-save in the format of OUT's extension (.pth or .safetensors)", _convert)
    p = command("compat", "would SOURCE load into TARGET's model with strict=True?", _compat, source=False)
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--map", action="append", default=[], metavar="SRC=DST")


def _open(path: str, trust: bool):
    from .core import open_checkpoint

    return open_checkpoint(path, device="cpu", trust=trust)


def _run(args: argparse.Namespace, edit: Callable) -> int:
    """Open IN, apply ``edit(ckpt) -> (new, report)``, save, print the reports."""
    from .core.save import check_output, save

    ckpt = _open(args.path, args.trust)
    new, report = edit(ckpt)
    saved = None
    if not args.dry_run:
        from pathlib import Path

        check_output(ckpt, Path(args.output), args.force)
        saved = save(new, args.output, force=args.force, progress=_progress(), force_compute=args.force_compute)
    if args.json:
        doc = {"input": str(ckpt.path), "output": args.output, "edit": report.to_json(),
               "saved": saved.to_json() if saved else None}  # fmt: skip
        emit_json(doc)
    else:
        _print_report(report, saved, args.output)
    return EXIT_OK


def _print_report(report: Any, saved: Any, output: str) -> None:
    print(f"{report.op}: {report.summary}")
    for a, b in report.renamed[:12]:
        print(f"  {a}  ->  {b}")
    if len(report.renamed) > 12:
        print(f"  ... {len(report.renamed) - 12} more renamed")
    for label, items in (("removed", report.removed), ("changed", report.changed)):
        if items and report.op != "strip":
            shown = ", ".join(items[:8]) + (" ..." if len(items) > 8 else "")
            print(f"  {label} ({len(items)}): {shown}")
    for m in report.mismatches:
        print(f"  kept from target (mismatch): {m['key']} {m['source_shape']} vs {m['target_shape']}")
    if report.skipped:
        print(f"  {plural(len(report.skipped), 'source key')} not grafted (--json lists them)")
    for w in report.warnings:
        print(f"  warning: {w}")
    if report.bytes_before != report.bytes_after:
        print(f"  tensor bytes: {human_bytes(report.bytes_before)} -> {human_bytes(report.bytes_after)}")
    if saved is None:
        print("dry run: nothing written")
        return
    for w in saved.warnings:
        print(f"  warning: {w}")
    check = "verified bit for bit" if saved.verified else "NOT verified"
    size = human_bytes(saved.file_bytes)
    print(f"wrote {output} ({saved.format}, {plural(saved.n_tensors, 'tensor')}, {size}), {check}")


def _progress():
    from .cli import _progress as progress

    return progress("save")


def _strip(args):
    from .core.edit import strip

    return _run(args, lambda c: strip(c, args.prefix, weights_only=args.weights_only))


def _add_prefix(args):
    from .core.edit import add_prefix

    return _run(args, lambda c: add_prefix(c, args.prefix))


def _extract(args):
    from .core.edit import extract

    return _run(args, lambda c: extract(c, args.keys, args.reroot))


def _graft(args):
    from .core.edit import graft, parse_maps

    source = _open(args.source, args.trust)
    maps = parse_maps(args.map)
    return _run(args, lambda c: graft(c, source, maps=maps, include=args.include, exclude=args.exclude,
                                      skip_mismatched=args.skip_mismatched))  # fmt: skip


def _rename(args):
    from .core.edit import rename

    return _run(args, lambda c: rename(c, args.pattern, args.repl))


def _drop(args):
    from .core.edit import drop

    return _run(args, lambda c: drop(c, args.keys))


def _cast(args):
    from .core.edit import cast

    return _run(args, lambda c: cast(c, args.dtype, args.keys))


def _convert(args):
    from .core.edit import EditReport

    def same(c):
        return c, EditReport("convert", {}, summary=f"{plural(c.n_tensors, 'tensor')}, unchanged")

    return _run(args, same)


def _compat(args) -> int:
    from .core.edit import compat, parse_maps

    try:
        rep = compat(_open(args.source, args.trust), _open(args.target, args.trust), parse_maps(args.map))
    except Exception as exc:  # diff(1): trouble is 2, not 1 (1 means "not compatible")
        from .core.errors import CheckpointError

        if not isinstance(exc, CheckpointError):
            raise
        print(f"ckpt: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_TROUBLE
    if args.json:
        emit_json(rep.to_json())
    else:
        verdict = "compatible" if rep.compatible else "NOT compatible"
        print(f"{verdict}: {rep.matched} keys match; {len(rep.missing)} missing, {len(rep.unexpected)} unexpected, "
              f"{len(rep.mismatched)} shape mismatches")  # fmt: skip
        for label, keys in (("missing in source", rep.missing), ("unexpected (not in target)", rep.unexpected)):
            if keys:
                print(f"  {label}: {', '.join(keys[:10])}" + (" ..." if len(keys) > 10 else ""))
        for m in rep.mismatched[:10]:
            print(f"  shape mismatch: {m['key']} source {m['source_shape']} vs target {m['target_shape']}")
        for m in rep.suggested_maps:
            print(f"  suggestion: keys differ by a prefix; try --map {m}")
    return EXIT_OK if rep.compatible else EXIT_DIFFERENT
