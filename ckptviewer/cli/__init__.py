"""`ckpt`: the headless command line over ckptviewer.core.

Exit status: 0 success, 1 bad or unreadable input (one line on stderr, never a
traceback), 2 bad usage; ``scan --fail-on`` exits 3 when it finds problems; ``diff`` and
``compat`` follow diff(1) (0 same/compatible, 1 different, 2 trouble).

- :mod:`.inspection`: info, tree, stats;
- :mod:`.scan`: scan;
- :mod:`.surgery`: the edit operations (generated from the core registry), convert, compat;
- :mod:`.diff`: diff;
- :mod:`.run`: run (a training run's checkpoints);
- :mod:`.output`: what they share (escaped text, JSON, tables, progress).
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable

from .. import __version__
from . import diff, inspection, run, scan, surgery
from .output import SafeStream, fail

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Run ``ckpt`` with ``argv``; returns the exit status.

    The command runs with stdout and stderr behind :class:`~.output.SafeStream` (its lines
    quote names from files); argparse's help and usage come first, as they are.
    """
    args = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = SafeStream(out), SafeStream(err)
    try:
        return _run(args)
    finally:
        sys.stdout, sys.stderr = out, err


def _run(args: argparse.Namespace) -> int:
    from ..core.errors import CheckpointError
    from ..core.progress import Cancelled

    trouble = getattr(args, "trouble", EXIT_BAD_INPUT)  # diff and compat: 2, as diff(1)
    try:
        with warnings.catch_warnings():
            if not os.environ.get("CKPT_DEBUG"):
                # torch's own notices (sparse CSR "in beta", TypedStorage deprecation, ...) are
                # about our calls, not the user's file: they would only bury the output
                warnings.simplefilter("ignore")
            return args.run(args)
    except CheckpointError as exc:
        fail(str(exc))
    except (Cancelled, KeyboardInterrupt):
        print("ckpt: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `ckpt info x | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug of ours: still one line, details on request
        if os.environ.get("CKPT_DEBUG"):
            raise
        fail(f"unexpected {type(exc).__name__}: {exc} (set CKPT_DEBUG=1 for details)")
    return trouble


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ckpt",
        description="Inspect PyTorch checkpoints safely (nothing in the file is executed unless --trust).",
    )
    parser.add_argument("--version", action="version", version=f"ckpt {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help: str, run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("path", metavar="PATH", help="checkpoint file (.pth .pt .bin .ckpt .safetensors ...)")
        p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
        p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the file")
        p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
        p.set_defaults(run=run)
        return p

    inspection.add_commands(command)
    scan.add_command(command)
    diff.add_command(sub)
    run.add_command(sub)
    surgery.add_commands(sub)
    return parser


def main_exit() -> None:
    """Console-script entry point."""
    status = main()
    if status == 130:
        # Ctrl-C: leave now. Interpreter shutdown joins executor threads and runs finalizers
        # (an fsspec session's close), any of which a stuck server can hold for minutes
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    main_exit()
