"""`ckpt` surgery: one subcommand per edit operation of the core registry
(:data:`~ckptviewer.core.edits.OPERATIONS`: strip, add-prefix, extract, graft, rename,
drop, cast, and the weight preparations average, merge-lora, take-ema, resize-head), plus
convert and compat. An operation reading other checkpoints takes them as ``--from SOURCE``
(graft), as a second input (``merge-lora BASE ADAPTER``) or as more inputs (``average A B
C``). Each opens its input(s) safely, applies the edit, writes the output atomically
(never over any input) and prints a report (``--json`` for machines). The edit's warnings
(a pattern that matched nothing, a graft between checkpoints that barely overlap) are
``ckpt: warning: ...`` lines on stderr; an edit that would change nothing because its
pattern matched nothing is refused by the core (exit 1, nothing written)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..core.edits import OPERATIONS, Operation
from ..core.edits.registry import CHECK, CHOICE, FROM, LIST, MORE, SECOND
from ..formatting import human_bytes, plural
from .output import FORCE_HELP, emit_json, open_input, progress_line

EXIT_OK, EXIT_DIFFERENT, EXIT_TROUBLE = 0, 1, 2


def add_commands(sub: Any) -> None:
    """Register the surgery subcommands on ``sub`` (an argparse subparsers object)."""

    def command(name: str, help: str, run: Any) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("path", metavar="IN", help="checkpoint to read (never modified)")
        p.add_argument("-o", "--output", required=True, metavar="OUT", help="where to write (.pth or .safetensors)")
        p.add_argument("--force", action="store_true", help="replace OUT if it exists")
        p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
        p.add_argument("--force-compute", action="store_true", help=FORCE_HELP)
        p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the file")
        p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
        p.set_defaults(run=run)
        return p

    for op in OPERATIONS.values():
        p = command(op.command, op.help, lambda args, op=op: _run_operation(args, op))
        if op.sources == FROM:
            p.add_argument("--from", dest="source", required=True, metavar="SOURCE", help="the checkpoint to copy from")
        elif op.sources == SECOND:
            p.add_argument("source", metavar=op.source_name, help="the second input (never modified)")
        elif op.sources == MORE:
            p.add_argument(
                "source", nargs="+", metavar=op.source_name, help="the other inputs, in order (never modified)"
            )
        for param in op.params:
            _add_option(p, param)
    command("convert", "re-save in the format of OUT's extension (.pth or .safetensors)", _convert)
    p = sub.add_parser("compat", help="would SOURCE load into TARGET's model with strict=True?")
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("target", metavar="TARGET")
    p.add_argument("--map", action="append", default=[], metavar="SRC=DST", help="rename SOURCE's key prefixes")
    p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the files")
    p.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    p.set_defaults(run=_compat, trouble=EXIT_TROUBLE)


def _add_option(p: argparse.ArgumentParser, param: Any) -> None:
    kwargs: dict[str, Any] = {"dest": param.name, "help": param.help or None}
    if param.metavar:
        kwargs["metavar"] = param.metavar
    if param.kind == CHECK:
        p.add_argument(param.option, action="store_true", **kwargs)
        return
    if param.kind == LIST:
        if param.repeat:
            kwargs.update(action="append", default=[])
        else:
            kwargs.update(nargs="+", default=[])
    elif param.kind == CHOICE:
        kwargs["choices"] = param.choices
    else:
        kwargs["default"] = None if not param.required else param.default
    p.add_argument(param.option, required=param.required, **kwargs)


def _run_operation(args: argparse.Namespace, op: Operation) -> int:
    values = {param.name: getattr(args, param.name) for param in op.params}
    source: Any = None
    if op.sources == MORE:
        source = [open_input(path, args, "cpu") for path in args.source]
    elif op.needs_source:
        source = open_input(args.source, args, "cpu")
    return _run(args, lambda ckpt: op.apply(ckpt, {k: v for k, v in values.items() if v is not None}, source))


def _run(args: argparse.Namespace, edit: Any) -> int:
    """Open IN, apply ``edit(ckpt) -> (new, report)``, save, print the reports."""

    from ..core.remote import as_path
    from ..core.save import check_output, save

    ckpt = open_input(args.path, args, "cpu")
    new, report = edit(ckpt)
    saved = None
    if not args.dry_run:
        check_output(ckpt, as_path(args.output), args.force)
        saved = save(new, args.output, force=args.force, progress=progress_line("save"),
                     force_compute=args.force_compute)  # fmt: skip
    # warnings go to stderr, one escaped line each (SafeStream), also with --json on stdout;
    # only once the command has succeeded, so that a refusal stays one line
    warn([*report.warnings, *(saved.warnings if saved else [])])
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
        if "problem" in m:  # a refused edit's list is in its error; a report lists only what it kept
            continue
        print(f"  kept from target (mismatch): {m['key']} {m['source_shape']} vs {m['target_shape']}")
    if report.skipped:
        print(f"  {plural(len(report.skipped), 'source key')} not grafted (--json lists them with the reason)")
    if report.bytes_before != report.bytes_after:
        print(f"  tensor bytes: {human_bytes(report.bytes_before)} -> {human_bytes(report.bytes_after)}")
    if saved is None:
        print("dry run: nothing written")
        return
    check = "verified bit for bit" if saved.verified else "NOT verified"
    size = human_bytes(saved.file_bytes)
    print(f"wrote {output} ({saved.format}, {plural(saved.n_tensors, 'tensor')}, {size}), {check}")


def warn(warnings: list[str]) -> None:
    """Each warning as one ``ckpt: warning: ...`` line on stderr (escaped by SafeStream)."""
    for w in warnings:
        print(f"ckpt: warning: {w}", file=sys.stderr)


def _convert(args: argparse.Namespace) -> int:
    from ..core.edits import EditReport

    def same(c: Any) -> Any:
        return c, EditReport("convert", {}, summary=f"{plural(c.n_tensors, 'tensor')}, unchanged")

    return _run(args, same)


def _compat(args) -> int:
    from ..core.edits import compat, parse_maps

    # any failure is trouble, exit 2 (cli.main): 1 means "not compatible", as in diff(1)
    rep = compat(open_input(args.source, args, "cpu"), open_input(args.target, args, "cpu"), parse_maps(args.map))
    if args.json:
        emit_json(rep.to_json())
    else:
        verdict = "compatible" if rep.compatible else "NOT compatible"
        match = "matches" if rep.matched == 1 else "match"
        shapes = f"{len(rep.mismatched)} shape mismatch" + ("" if len(rep.mismatched) == 1 else "es")
        print(f"{verdict}: {plural(rep.matched, 'key')} {match}; {len(rep.missing)} missing, "
              f"{len(rep.unexpected)} unexpected, {shapes}")  # fmt: skip
        for label, keys in (("missing in source", rep.missing), ("unexpected (not in target)", rep.unexpected)):
            if keys:
                print(f"  {label}: {', '.join(keys[:10])}" + (" ..." if len(keys) > 10 else ""))
        for m in rep.mismatched[:10]:
            print(f"  shape mismatch: {m['key']} source {m['source_shape']} vs target {m['target_shape']}")
        for m in rep.suggested_maps:
            print(f"  suggestion: keys differ by a prefix; try --map {m}")
    return EXIT_OK if rep.compatible else EXIT_DIFFERENT
