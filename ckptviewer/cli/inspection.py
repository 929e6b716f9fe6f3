"""`ckpt info`, `tree` and `stats`: looking into one checkpoint."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..core.summary import flavor_text, info_document
from ..formatting import elide_middle, human_bytes, human_count, number, plural, printable, shape_str
from .output import FORCE_HELP, emit_json, open_input, progress_line, table

EXIT_OK = 0


def add_commands(command: Any) -> None:
    """Register info, tree and stats (``command(name, help, run)`` makes a subparser)."""
    info = command("info", "format, totals, metadata and every tensor of a checkpoint", _info)
    info.add_argument(
        "--all",
        action="store_true",
        help="show every metadata line (Lightning's loops.* counters are one line otherwise)",
    )
    tree = command("tree", "the module hierarchy with parameter counts and sizes", _tree)
    tree.add_argument("--depth", type=int, default=None, metavar="N", help="show N levels below the root")
    stats = command("stats", "min/max/mean/std/l2 and NaN/Inf/zero counts per tensor", _stats)
    stats.add_argument("--keys", nargs="+", metavar="GLOB", help="only tensors whose key matches a glob")
    stats.add_argument("--force-compute", action="store_true", help=FORCE_HELP)


def _open(args: argparse.Namespace) -> Any:
    return open_input(args.path, args)


# --- info ------------------------------------------------------------------------------


def _info(args: argparse.Namespace) -> int:
    with _open(args) as ckpt:
        info = info_document(ckpt)
        if args.json:
            emit_json(info)
            return EXIT_OK
        saved = ", ".join(info["saved_on"]) or "unknown"
        kind = flavor_text(ckpt)
        print(
            f"{ckpt.path}  [{info['format']}]{f' {kind},' if kind else ''} saved on {saved}, opened on {info['device']}"
        )
        print(
            f"{plural(info['n_tensors'], 'tensor')}, {plural(info['n_elements'], 'element')}, "
            f"{human_bytes(info['total_bytes'])}; {plural(info['n_parameters'], 'model parameter')}"
        )
        if info["state_dict_key"] is not None:
            where = repr(info["state_dict_key"]) if info["state_dict_key"] else "the root"
            prefixes = " + ".join(info["prefixes"]) or "none"
            print(f"model weights at {where}; wrapper prefixes: {prefixes}")
        _print_safety(ckpt)
        for w in info["warnings"]:
            print(f"warning: {w}")
        if info["metadata"]:
            print()
            print("metadata:")
            for line in _metadata_lines(info["metadata"], collapse=() if args.all else COLLAPSED):
                print(f"  {line}")
        print()
        tensors = info["tensors"]
        hidden = [] if args.all else [t for t in tensors if t["key"].split(".", 1)[0] in COLLAPSED]
        rows = [[t["key"], shape_str(t["shape"]), t["dtype"], human_count(t["numel"]), human_bytes(t["nbytes"])]
                for t in tensors if t not in hidden]  # fmt: skip
        headers = ["key", "shape", "dtype", "numel", "size"]
        if any("encoding" in t for t in tensors):  # GGUF block types: size is the stored bytes
            rows = [[*r, t.get("encoding", "")] for r, t in zip(rows, (t for t in tensors if t not in hidden))]
            headers.append("stored as")
        table(rows, headers, right={3, 4})
        if hidden:
            print(f"(and {plural(len(hidden), 'loop-state tensor')} under loops.*; --all to list them)")
    return EXIT_OK


def _print_safety(ckpt: Any) -> None:
    blocked, inert = ckpt.blocked_globals, ckpt.inert_globals
    if ckpt.trusted:
        print("TRUSTED: fully unpickled with torch.load(weights_only=False)")
    if inert:
        print(f"loaded as plain data (outside torch's weights-only allowlist): {', '.join(inert)}")
    if blocked:
        print(f"NOT EXECUTED (shown as placeholders; use --trust only if you trust the file): {', '.join(blocked)}")


# top-level metadata entries shown as one line unless --all: Lightning's loop progress
# counters (`loops.fit_loop.epoch_loop.batch_progress.total.ready`, ...) run to ~80 lines
COLLAPSED = ("loops",)
PATH_WIDTH = 100  # metadata paths (Lightning callback names hold whole reprs) cut in the middle


def _metadata_lines(meta: Any, prefix: str = "", limit: int = 200, collapse: tuple[str, ...] = ()) -> list[str]:
    lines: list[str] = []

    def visit(value: Any, path: str) -> None:
        if len(lines) >= limit:
            return
        if path in collapse:
            lines.append(f"{path}: {_collapsed(value)} (--all to show)")
        elif isinstance(value, dict) and value and not _is_leafish(value):
            for k, v in value.items():
                visit(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
            for i, v in enumerate(value):
                visit(v, f"{path}.{i}")
        else:
            text = _leaf_text(value)
            where = elide_middle(printable(path or "(root)"), PATH_WIDTH)
            lines.append(f"{where}: {text if len(text) <= 100 else text[:97] + '...'}")

    visit(meta, prefix)
    if len(lines) >= limit:
        lines.append("... (more in --json)")
    return lines


def _collapsed(value: Any) -> str:
    """'78 counters in fit_loop, validate_loop, test_loop, predict_loop' for a loops dict."""
    n = 0
    stack = [value]
    while stack:  # iterative: metadata nesting is bounded, but a walk needs no recursion
        v = stack.pop()
        if isinstance(v, dict):
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
        else:
            n += 1
    names = ", ".join(printable(k) for k in list(value)[:6]) if isinstance(value, dict) else ""
    return plural(n, "counter") + (f" in {names}" if names else "")


def _leaf_text(value: Any) -> str:
    """`Namespace(lr=0.01, ...)` for objects, JSON for the rest."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "__class__" in value:
        fields = ", ".join(f"{k}={json.dumps(v)}" for k, v in value.items() if not k.startswith("__"))
        return f"{value['__class__'].rsplit('.', 1)[-1]}({fields})"
    return json.dumps(value, allow_nan=False)


def _is_leafish(d: dict) -> bool:
    return "__class__" in d and all(not isinstance(v, (dict, list)) for v in d.values())


# --- tree ------------------------------------------------------------------------------


def _tree(args: argparse.Namespace) -> int:
    from ..core.tree import build_tree

    with _open(args) as ckpt:
        root = build_tree(ckpt)
        if args.json:
            emit_json(root.to_json(args.depth))
            return EXIT_OK
        rows = []
        stack = [(c, 0) for c in reversed(root.children)]
        while stack:
            node, depth = stack.pop()
            e = node.entry
            rows.append([
                "  " * depth + node.name,
                shape_str(e.shape) if e is not None else "",
                node.dtype_text,
                human_count(node.n_params) if node.n_params else "",
                human_count(node.n_elements),
                human_bytes(node.nbytes),
            ])  # fmt: skip
            if args.depth is None or depth + 1 < args.depth:
                stack.extend((c, depth + 1) for c in reversed(node.children))
        table(rows, ["name", "shape", "dtype", "params", "elements", "size"], right={3, 4, 5})
        print()
        print(f"{plural(root.n_tensors, 'tensor')}, {plural(root.n_params, 'parameter')}, "
              f"{human_bytes(ckpt.total_bytes)}")  # fmt: skip
    return EXIT_OK


# --- stats ----------------------------------------------------------------------


def _stats(args: argparse.Namespace) -> int:
    from ..core.stats import checkpoint_stats, select

    with _open(args) as ckpt:
        entries = select(ckpt, args.keys)
        if args.keys and not entries:
            raise _no_match(args.keys)
        results = checkpoint_stats(ckpt, entries, progress=progress_line("stats"), force=args.force_compute)
        if args.json:
            emit_json({"path": str(ckpt.path), "device": str(ckpt.device), "tensors": [s.to_json() for s in results]})
            return EXIT_OK
        complex_keys = {e.key for e in entries if e.dtype.is_complex}
        rows = [[s.key + (" |z|" if s.key in complex_keys else ""), human_count(s.numel), number(s.min),
                 number(s.max), number(s.mean), number(s.std), number(s.l2), str(s.n_nan), str(s.n_inf),
                 str(s.n_zero)] for s in results]  # fmt: skip
        table(rows, ["key", "numel", "min", "max", "mean", "std", "l2", "nan", "inf", "zero"], right=set(range(1, 10)))
        if complex_keys:
            print(f"|z|: {plural(len(complex_keys), 'complex tensor')}, statistics of the magnitudes |z| of the values")
    return EXIT_OK


def _no_match(patterns: list[str]):
    from ..core.errors import CheckpointError

    return CheckpointError(f"no tensor key matches {' '.join(patterns)}")
