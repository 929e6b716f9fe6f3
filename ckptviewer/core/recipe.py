"""Export the edits made to a checkpoint as a plain Python script that uses torch alone.

The script replays each edit with the keys it resolved when it ran (the exact renames,
the exact tensors grafted, dropped or cast), so running it on the source file gives the
same tensors, bit for bit, as saving from ckptviewer.
"""

from __future__ import annotations

from pathlib import Path

from .checkpoint import Checkpoint

_HELPERS = '''
import argparse
import collections
import sys

import torch


def children(obj):
    if isinstance(obj, dict):
        return list(obj.items())
    if isinstance(obj, (list, tuple)):
        return list(enumerate(obj))
    if isinstance(obj, argparse.Namespace):
        return list(vars(obj).items())
    return None


def rebuild(obj, items):
    if isinstance(obj, argparse.Namespace):
        return argparse.Namespace(**dict(items))
    if isinstance(obj, tuple):
        return tuple(v for _, v in items)
    if isinstance(obj, list):
        return [v for _, v in items]
    new = type(obj)()
    if isinstance(obj, collections.defaultdict):
        new.default_factory = obj.default_factory
    for k, v in items:
        new[k] = v
    if getattr(obj, "__dict__", None):
        new.__dict__.update(obj.__dict__)
    return new


def get_at(obj, path):
    for k in path:
        obj = vars(obj)[k] if isinstance(obj, argparse.Namespace) else obj[k]
    return obj


def replace_at(obj, path, value):
    if not path:
        return value
    return rebuild(obj, [(k, replace_at(v, path[1:], value) if k == path[0] else v) for k, v in children(obj)])


def name(key):
    return key if isinstance(key, str) else str(key)


def flatten(obj, prefix=""):
    """Dotted key -> tensor, named as ckptviewer names them."""
    if isinstance(obj, torch.Tensor):
        return {prefix: obj}
    out = {}
    for k, v in children(obj) or []:
        out.update(flatten(v, f"{prefix}.{name(k)}" if prefix else name(k)))
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
        dotted = f"{prefix}.{name(k)}" if prefix else name(k)
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
    return rebuild(obj, [(k, cast_keys(v, keys, dtype, f"{prefix}.{name(k)}" if prefix else name(k), done))
                         for k, v in items])
'''


def _load_line(var: str, path: str, ckpt: Checkpoint) -> list[str]:
    """Lines loading the file at the Python expression ``path`` into ``var``."""
    safe = [g for g in ckpt.opened.unsafe_globals if g not in ckpt.opened.blocked_globals]
    if ckpt.format == "safetensors":
        return ["from safetensors.torch import load_file", f"{var} = load_file({path})"]
    lines = []
    if "argparse.Namespace" in safe:
        lines.append("torch.serialization.add_safe_globals([argparse.Namespace])")
    others = [g for g in safe if g != "argparse.Namespace"]
    if others or ckpt.opened.blocked_globals:
        lines.append(f"# the file also names {', '.join(others + ckpt.opened.blocked_globals)}: weights_only=False")
        lines.append(f"{var} = torch.load({path}, map_location='cpu', weights_only=False)  # only for a trusted file")
    else:
        lines.append(f"{var} = torch.load({path}, map_location='cpu', weights_only=True)")
    return lines


def recipe(ckpt: Checkpoint, output: str | Path = "edited.pth") -> str:
    """Python source that re-applies ``ckpt.history`` to its source file and saves it."""
    opened = ckpt.opened
    out = [
        "#!/usr/bin/env python3",
        f'"""Written by ckptviewer: {len(ckpt.history)} edit(s) of {opened.path.name}, replayed with torch alone.',
        "",
        "Usage: python this_script.py [OUTPUT]",
        '"""',
        _HELPERS,
        f"SOURCE = {str(opened.path.resolve())!r}",
        f"OUTPUT = sys.argv[1] if len(sys.argv) > 1 else {str(output)!r}",
        "",
        *_load_line("ckpt", "SOURCE", opened),
    ]
    for i, rep in enumerate(ckpt.history, 1):
        p = rep.params
        out += ["", f"# {i}. {rep.op}: {rep.summary}"]
        if rep.op in ("strip", "add_prefix", "rename"):
            args = f"{p['_path']!r}, {p['_mapping']!r}, {p.get('_meta_mapping', [])!r}, {p['_weights_only']!r}"
            out.append(f"ckpt = rename_keys(ckpt, {args})")
        elif rep.op == "extract":
            out.append("flat = flatten(ckpt)")
            out.append(f"ckpt = {{new: flat[old] for old, new in {p.get('_pairs', [])!r}}}")
        elif rep.op == "drop":
            out.append(f"ckpt = drop_paths(ckpt, set({p.get('_paths', [])!r}))")
        elif rep.op == "cast":
            out.append(f"ckpt = cast_keys(ckpt, set({rep.changed!r}), torch.{p['dtype']})")
        elif rep.op == "graft":
            out += [f"# tensors from {p['source']}", *_load_line("source", repr(p["source"]), p["_source"])]
            out += [
                f"target_sd, source_sd = get_at(ckpt, {p['_t_path']!r}), get_at(source, {p['_s_path']!r})",
                f"pairs = dict({p.get('_pairs', [])!r})",
                "new_sd = rebuild(target_sd, [(k, source_sd[pairs[k]] if k in pairs else v)",
                "                             for k, v in target_sd.items()])",
                f"ckpt = replace_at(ckpt, {p['_t_path']!r}, new_sd)",
            ]
        else:
            out.append(f"# ({rep.op}: no change to replay)")
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
