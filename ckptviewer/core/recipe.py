"""Export the edits made to a checkpoint as a plain Python script that uses torch alone.

The script replays each edit with the keys it resolved when it ran (the exact renames,
the exact tensors grafted, dropped or cast), so running it on the source file gives the
same tensors, bit for bit, as saving from ckptviewer.
"""

from __future__ import annotations

import ast
import inspect
import math
from pathlib import Path
from typing import Any

from . import structure
from .checkpoint import Checkpoint
from .edits import compute
from .edits.registry import OPERATIONS, recipe_step, source_var
from .errors import CheckpointError

# the recipe's own helpers; the structure rules come from core/structure.py (see _helpers())
_RECIPE_HELPERS = '''
def flatten(obj, prefix=""):
    """Dotted key -> tensor, named as ckptviewer names them."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    out = {}
    for k, v in children(obj) or []:
        out.update(flatten(v, f"{prefix}.{key_name(k)}" if prefix else key_name(k)))
    return out


def rename_keys(ckpt, path, mapping, meta_mapping, weights_only):
    sd = get_at(ckpt, path)
    mapping, meta_mapping = dict(mapping), dict(meta_mapping)
    new = rebuild(sd, [(mapping.get(k, k), v) for k, v in sd.items()])
    meta = getattr(sd, "_metadata", None)
    if isinstance(meta, dict):  # torch's per-module version info follows the renamed modules
        new._metadata = type(meta)((meta_mapping.get(k, k), v) for k, v in meta.items())
    return new if weights_only else replace_at(ckpt, path, new)


def drop_paths(obj, paths, prefix=""):
    items = children(obj)
    if items is None:
        return obj
    kept = []
    for k, v in items:
        dotted = f"{prefix}.{key_name(k)}" if prefix else key_name(k)
        if dotted in paths:
            continue
        kept.append((k, drop_paths(v, paths, dotted)))
    return rebuild(obj, kept)


def cast_keys(obj, keys, dtype, prefix="", done=None):
    done = {} if done is None else done  # one cast per source view keeps tied weights tied
    if isinstance(obj, torch.Tensor):
        if prefix not in keys:
            return obj
        view = (obj.untyped_storage().data_ptr(), obj.storage_offset(), tuple(obj.shape), obj.stride())
        if view not in done:
            done[view] = obj.detach().to(dtype)
        return done[view]
    items = children(obj)
    if items is None:
        return obj
    return rebuild(obj, [(k, cast_keys(v, keys, dtype, f"{prefix}.{key_name(k)}" if prefix else key_name(k), done))
                         for k, v in items])


def put_tensors(obj, new, prefix=""):
    """``obj`` with the tensor at each dotted key of ``new`` replaced by its value there."""
    if isinstance(obj, torch.Tensor):
        return new.get(prefix, obj)
    items = children(obj)
    if items is None:
        return obj
    return rebuild(obj, [(k, put_tensors(v, new, f"{prefix}.{key_name(k)}" if prefix else key_name(k)))
                         for k, v in items])
'''

_IMPORTS = """from __future__ import annotations

import argparse
import collections
import copyreg
import datetime
import math
import pathlib
import sys
from collections.abc import Mapping
from typing import Any

import torch
"""


def _helpers() -> str:
    """The script's helper functions: ckptviewer's own structure rules, then the replays."""
    functions = (*structure.RECIPE_FUNCTIONS, *compute.RECIPE_FUNCTIONS)  # the very code ckptviewer runs
    shared = "\n\n".join(_without_cancel_checks(inspect.getsource(f)) for f in functions)
    types = next(line for line in inspect.getsource(structure).splitlines() if line.startswith("SAFE_REPR_TYPES = "))
    return f"\n{types}\n\n\n{shared}\n\n{_RECIPE_HELPERS}"


def _without_cancel_checks(source: str) -> str:
    """``source`` less its ``check_current()`` lines: the script runs alone, nothing cancels it."""
    return "\n".join(line for line in source.splitlines() if not line.strip().startswith("check_current()"))


# Inert types the viewer may accept beyond torch's weights-only allowlist, and the fixed
# expression that names each in the script. Nothing from the file is ever written as code.
SAFE_GLOBALS: dict[str, str] = {
    "argparse.Namespace": "argparse.Namespace",
    "copyreg._reconstructor": "copyreg._reconstructor",
    "builtins.object": "object",
    **{f"builtins.{n}": n for n in ("dict", "list", "tuple", "int", "float", "str", "bool", "frozenset")},
    **{f"pathlib.{n}": f"pathlib.{n}" for n in ("PosixPath", "WindowsPath", "Path", "PurePosixPath",
                                                 "PureWindowsPath", "PurePath")},
    **{f"datetime.{n}": f"datetime.{n}" for n in ("datetime", "date", "time", "timedelta", "timezone")},
    "numpy.ndarray": "numpy.ndarray",
    "numpy.dtype": "numpy.dtype, *NUMPY_DTYPES",  # torch.load builds dtypes of these classes
    **{
        f"{core}.multiarray.{n}": f"(numpy.{core.removeprefix('numpy.')}.multiarray.{n}, {f'{core}.multiarray.{n}'!r})"
        for core in ("numpy.core", "numpy._core")
        for n in ("_reconstruct", "scalar")
    },
}  # fmt: skip
REPLAYABLE = ("torch-zip", "torch-legacy", "safetensors", "peft")  # peft: its adapter_model file


class RecipeError(CheckpointError):
    """The edits cannot be written as a script that loads its input with weights_only=True."""


def literal(value: Any) -> str:
    """``value`` as a Python literal, for the only way file-derived data enters the script.

    Strings, numbers, booleans and None, in lists and tuples; anything else (a key that is
    a placeholder object, a NaN) is refused rather than written as code.
    """

    def check(v: Any, depth: int) -> None:
        if depth > 16:
            raise RecipeError("a key nested too deeply to write as a literal")
        if isinstance(v, int) and not isinstance(v, bool) and abs(v) >= 1 << 63:
            raise RecipeError("a key is an integer too large to write into a script")
        if v is None or isinstance(v, (bool, int, str)):
            return
        if isinstance(v, float) and math.isfinite(v):
            return
        if isinstance(v, (list, tuple)):
            for item in v:
                check(item, depth + 1)
            return
        raise RecipeError(f"a key of type {type(v).__name__} cannot be written into a script")

    check(value, 0)
    try:
        text = repr(value)
        same = ast.literal_eval(text) == value  # belt and braces: what is written is what is read
    except (ValueError, SyntaxError, MemoryError, RecursionError):  # ints past 4,300 digits, ...
        same = False
    if not same:
        raise RecipeError("a key cannot be written as a literal")
    return text


def refusal(ckpt: Checkpoint, what: str = "source file") -> str | None:
    """Why a recipe cannot load ``ckpt`` with ``torch.load(weights_only=True)``, or None."""
    if ckpt.format not in REPLAYABLE:
        return (
            f"the {what} is a {ckpt.format} checkpoint; a recipe can only replay edits of a single "
            ".pth/.pt/.bin/.ckpt or .safetensors file"
        )
    if ckpt.trusted:
        return f"the {what} was opened as trusted; a recipe only loads with weights_only=True"
    if ckpt.blocked_globals:
        return (
            f"the {what} names {len(ckpt.blocked_globals)} classes or functions that were not executed; "
            "a script could load it only with weights_only=False, which runs them"
        )
    if _is_safetensors(ckpt):
        return None
    if "collections.defaultdict" in ckpt.unsafe_globals:  # its SETITEMs are refused by torch
        return f"the {what} holds a defaultdict, which torch.load(weights_only=True) cannot load"
    unknown = [g for g in ckpt.unsafe_globals if g not in SAFE_GLOBALS]
    if unknown:
        return f"the {what} uses {len(unknown)} types a script cannot allowlist safely"
    return None


def replayable(ckpt: Checkpoint) -> str | None:
    """Why the edits of ``ckpt`` cannot be exported as a recipe, or None (the light checks:
    the files it loads; keys are checked when the script is written)."""
    if not ckpt.history:
        return "there are no edits to replay"
    why = refusal(ckpt.opened)
    for rep in ckpt.history:
        for source in _sources(rep.record):
            if why is None:
                why = refusal(source.opened, _what(rep.op))
    return why


def _sources(record: Any) -> list[Checkpoint]:
    """The other checkpoints an edit's replay loads (graft's and merge-lora's source, average's list)."""
    one = getattr(record, "source", None)
    return [one] if one is not None else list(getattr(record, "sources", ()))


def _what(op: str) -> str:
    return {"graft": "graft source", "merge_lora": "adapter", "average": "averaged checkpoint"}.get(op, "other input")


def _weights_file(ckpt: Checkpoint) -> Path:
    """The file a script loads: a PEFT folder's adapter_model file, else the checkpoint's own."""
    return Path(ckpt.files[0]) if ckpt.format == "peft" and ckpt.files else ckpt.path


def _is_safetensors(ckpt: Checkpoint) -> bool:
    return ckpt.format == "safetensors" or (ckpt.format == "peft" and _weights_file(ckpt).suffix == ".safetensors")


def _load_lines(var: str, path_expr: str, ckpt: Checkpoint, what: str) -> list[str]:
    """Lines loading the file at the Python expression ``path_expr`` into ``var``, safely."""
    why = refusal(ckpt, what)
    if why is not None:
        raise RecipeError(why)
    if _is_safetensors(ckpt):
        return ["from safetensors.torch import load_file", f"{var} = load_file({path_expr})"]
    names = sorted({SAFE_GLOBALS[g] for g in ckpt.unsafe_globals})
    if not names:
        return [f"{var} = torch.load({path_expr}, map_location='cpu', weights_only=True)"]
    return [
        f"with torch.serialization.safe_globals([{', '.join(names)}]):  # inert data types only",
        f"    {var} = torch.load({path_expr}, map_location='cpu', weights_only=True)",
    ]


def recipe(ckpt: Checkpoint, output: str | Path = "edited.pth") -> str:
    """Python source that re-applies ``ckpt.history`` to its source file and saves it.

    The script loads with ``torch.load(weights_only=True)`` (plus exactly the inert types
    the viewer accepted), or this raises :class:`RecipeError` saying why it cannot. Every
    string from the file (names, keys, paths) enters the script as a literal; comments
    and the docstring hold only ckptviewer's own words. Each edit's lines come from the
    operation registry (:func:`~.edits.registry.recipe_step`).
    """
    opened = ckpt.opened
    steps = [recipe_step(rep.record, i, literal) for i, rep in enumerate(ckpt.history, 1)]
    sources = [opened] + [s.opened for step in steps for s in step.sources]
    head = ["import numpy", "", 'NUMPY_DTYPES = [type(numpy.dtype(c)) for c in "?bBhHiIlLqQefdFD"]', ""]
    out = [
        "#!/usr/bin/env python3",
        f'"""Written by ckptviewer: {len(ckpt.history)} edit(s) of SOURCE, replayed with torch alone.',
        "",
        "Usage: python this_script.py [OUTPUT]",
        '"""',
        "",
        _IMPORTS,
        *(head if any(_needs_numpy(c) for c in sources) else []),
        _helpers(),
        f"SOURCE = {literal(str(_weights_file(opened).resolve()))}",
        f"OUTPUT = sys.argv[1] if len(sys.argv) > 1 else {literal(str(output))}",
        "",
        *_load_lines("ckpt", "SOURCE", opened, "source file"),
    ]
    for i, (rep, step) in enumerate(zip(ckpt.history, steps), 1):
        out += ["", f"# {i}. {rep.op if rep.op in OPERATIONS else 'edit'}"]
        for j, source in enumerate(step.sources):
            var = source_var(i, j)
            out += [f"{var.upper()} = {literal(str(_weights_file(source.opened).resolve()))}"]
            out += _load_lines(var, var.upper(), source.opened, _what(rep.op))
        out += step.lines
    out += [
        "",
        "if OUTPUT.endswith('.safetensors'):",
        "    from safetensors.torch import save_file",
        "",
        "    save_file({k: t.contiguous() for k, t in flatten(ckpt).items()}, OUTPUT)",
        "else:",
        "    torch.save(ckpt, OUTPUT)",
        "print(OUTPUT)",
        "",
    ]
    return "\n".join(out)


def _needs_numpy(ckpt: Checkpoint) -> bool:
    return any(g.startswith("numpy") for g in ckpt.unsafe_globals)
