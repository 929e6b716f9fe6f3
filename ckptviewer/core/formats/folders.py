"""Checkpoints that are folders: Hugging Face sharded weights and PEFT adapters.

* A folder (or its ``*.index.json``) with ``model.safetensors.index.json`` or
  ``pytorch_model.bin.index.json``: one merged tree over every shard, each shard opened
  lazily by its own reader (safetensors headers, torch zip indexes).
* A folder with a single ``model.safetensors`` / ``pytorch_model.bin``: that file.
* A PEFT adapter folder (``adapter_model.safetensors`` or ``.bin`` + ``adapter_config.json``).

``config.json`` (and ``adapter_config.json``) next to the weights go to metadata.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...formatting import plural
from ..errors import CheckpointError, NotACheckpointError
from ..filemap import is_remote
from ..progress import check_current, report_step
from . import Loaded
from .sniff import SAFETENSORS, TORCH_LEGACY, TORCH_ZIP, sniff

HF_SHARDED, PEFT = "hf-sharded", "peft"
INDEX_NAMES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
SINGLE_NAMES = ("model.safetensors", "pytorch_model.bin")
ADAPTER_NAMES = ("adapter_model.safetensors", "adapter_model.bin")
MAX_JSON = 64 << 20  # an index or config larger than this is not one


def folder_kind(path: Path) -> tuple[str, Path] | None:
    """(kind, file) for a checkpoint folder or an index file; None if ``path`` is neither."""
    if path.is_file() and path.name.endswith(".index.json"):
        return HF_SHARDED, path
    if not path.is_dir():
        return None
    for name in INDEX_NAMES:
        if (path / name).is_file():
            return HF_SHARDED, path / name
    for name in ADAPTER_NAMES:
        if (path / name).is_file():
            return PEFT, path / name
    for name in SINGLE_NAMES:
        if (path / name).is_file():
            return "single", path / name
    if (path / ".metadata").is_file():
        return "dcp", path
    names = ", ".join(sorted(p.name for p in path.iterdir())[:6]) or "nothing"
    raise NotACheckpointError(
        f"{path}: is a directory without a checkpoint (looked for {', '.join(INDEX_NAMES + SINGLE_NAMES)}, "
        f"adapter_model.*; it holds {names})"
    )


def inside(folder: Path, path: Path) -> Path:
    """``path`` if it really lies in ``folder`` (links resolved); a CheckpointError otherwise.

    A folder format names its files; a symlink among them must not make ckptviewer read
    (and show) a file elsewhere, such as a credentials file.
    """
    if is_remote(path):  # object stores have no links; names with "/" or ".." are refused by their readers
        return path
    real_folder = os.path.realpath(folder)
    real = os.path.realpath(path)
    if os.path.commonpath([real_folder, real]) != real_folder:
        raise CheckpointError(f"{path}: is a link to a file outside the checkpoint folder; refusing to read it")
    return path


def _is_file(path: Path) -> bool:
    """``path.is_file()``, with any OS error (a name too long, a loop of links) as False."""
    try:
        return path.is_file()
    except OSError:
        return False


def read_json(path: Path) -> Any:
    """A small JSON file, or a CheckpointError saying why not (never quoting its content)."""
    try:
        if path.stat().st_size > MAX_JSON:
            raise CheckpointError(f"{path}: larger than {MAX_JSON >> 20} MiB; not an index or config")
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno})") from None
    except UnicodeDecodeError:
        raise CheckpointError(f"{path}: not valid JSON (not UTF-8 text)") from None
    except (RecursionError, ValueError):
        raise CheckpointError(f"{path}: not valid JSON (nested too deeply or an oversized number)") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or type(exc).__name__})") from None


def _sidecar_metadata(folder: Path, names: tuple[str, ...]) -> tuple[dict[str, Any], list[Path]]:
    out: dict[str, Any] = {}
    files: list[Path] = []
    for name in names:
        f = folder / name
        if _is_file(f):
            files.append(f)
            try:
                out[name.removesuffix(".json")] = read_json(inside(folder, f))
            except CheckpointError as exc:
                out[name.removesuffix(".json")] = {"__error__": str(exc)}
    return out, files


def load_file(path: Path, readers: dict[str, Callable], folder: Path | None = None) -> Loaded:
    """Open one weight file with the reader its content calls for (it must lie in ``folder``)."""
    inside(folder if folder is not None else path.parent, path)
    fmt = sniff(path)
    if fmt not in (TORCH_ZIP, TORCH_LEGACY, SAFETENSORS):
        raise CheckpointError(f"{path}: a {fmt} file cannot be a shard")
    return readers[fmt](path, path.stat().st_size)


def load_single(path: Path, readers: dict[str, Callable]) -> Loaded:
    """A folder holding one weight file (and maybe config.json)."""
    loaded = load_file(path, readers)
    meta, files = _sidecar_metadata(path.parent, ("config.json",))
    loaded.extra_metadata.update(meta)
    loaded.files += files
    return loaded


def load_peft(path: Path, readers: dict[str, Callable]) -> Loaded:
    """A PEFT adapter folder: the adapter weights, adapter_config.json and config.json."""
    loaded = load_file(path, readers)
    loaded.format = PEFT
    meta, files = _sidecar_metadata(path.parent, ("adapter_config.json", "config.json"))
    loaded.extra_metadata.update(meta)
    loaded.files += files
    return loaded


def load_hf_sharded(index_path: Path, readers: dict[str, Callable]) -> Loaded:
    """One tree over every shard an index names; missing shards become warnings."""
    index, weight_map = _read_index(index_path)
    folder = index_path.parent
    shards: dict[str, list[str]] = {}
    for key, shard in weight_map.items():
        if "/" in shard or "\\" in shard or shard in ("", ".", ".."):
            raise CheckpointError(f"{index_path}: shard name {shard!r} points outside the folder; refusing it")
        shards.setdefault(shard, []).append(key)
    merged: dict[str, Any] = {}
    result = Loaded(format=HF_SHARDED, root=merged, files=[index_path, *(folder / shard for shard in shards)])
    closers: list[Callable[[], None]] = []
    found: dict[str, Any] = {}
    if is_remote(folder):  # hundreds of shards: their headers by parallel requests, not one after another
        from ..remote import prefetch_heads

        prefetch_heads([folder / shard for shard in shards])
    try:
        for i, (shard, keys) in enumerate(shards.items()):
            check_current()
            report_step(i, len(shards), f"Reading shard {i + 1} of {len(shards)}")
            _merge_shard(folder, shard, keys, readers, result, found, closers)
    except BaseException:
        for c in closers:
            c()
        raise
    if not found:
        raise CheckpointError(f"{index_path}: none of the {len(shards)} shards the index names could be read")
    for key in weight_map:  # the index's order, then anything the shards hold beyond it
        if key in found:
            merged[key] = found.pop(key)
    merged.update(found)
    if isinstance(index.get("metadata"), dict):
        result.extra_metadata["index_metadata"] = index["metadata"]
    meta, files = _sidecar_metadata(folder, ("config.json",))
    result.extra_metadata.update(meta)
    result.files += files

    def close() -> None:
        for c in closers:
            c()

    result.close = close
    return result


def _read_index(index_path: Path) -> tuple[dict, dict[str, str]]:
    """The index JSON and its weight_map (key -> shard file name), checked."""
    index = read_json(inside(index_path.parent, index_path))
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in weight_map.items()
    ):
        raise CheckpointError(f"{index_path}: no valid weight_map (key -> shard file) in the index")
    return index, weight_map


def _merge_shard(
    folder: Path, shard: str, keys: list[str], readers: dict[str, Callable], result: Loaded,
    found: dict[str, Any], closers: list[Callable[[], None]],
) -> None:  # fmt: skip
    """Read one shard into ``found``; what is missing or odd becomes a warning on ``result``."""
    path = folder / shard
    if not _is_file(path):
        shown = ", ".join(keys[:3]) + (" ..." if len(keys) > 3 else "")
        result.warnings.append(f"shard {shard} is missing: {plural(len(keys), 'tensor')} not shown ({shown})")
        return
    loaded = load_file(path, readers, folder)
    if loaded.close:
        closers.append(loaded.close)
    root = loaded.root if isinstance(loaded.root, dict) else {}
    if not isinstance(loaded.root, dict):
        result.warnings.append(f"shard {shard} holds no state_dict")
    missing = [k for k in keys if k not in root]
    if missing:
        result.warnings.append(f"shard {shard} lacks {plural(len(missing), 'key')} its index names, e.g. {missing[0]}")
    found.update(root)
    result.locations |= loaded.locations
    result.unsafe_globals |= loaded.unsafe_globals
    result.blocked_globals |= loaded.blocked_globals
    if "__metadata__" in loaded.extra_metadata and "__metadata__" not in result.extra_metadata:
        result.extra_metadata["__metadata__"] = loaded.extra_metadata["__metadata__"]
