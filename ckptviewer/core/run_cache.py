"""The run view's per-file cache: what a checkpoint of a run says and measures, so a reopened run is instant.

One JSON file per checkpoint in ``<private cache dir>/runs/``, named by the sha256 of (resolved path, size,
modification time in ns, remote version, :data:`VERSION`): a checkpoint rewritten in place gets a new
name. It holds what depends on that file alone (its description, per layer the sum of squares, NaN/Inf
count, Adam update ratio) and, per other file's key, what depends on the pair (per layer the sum of
squares of the difference and whether the two are bit-identical).

The cache is never trusted blindly: a file that is not valid JSON of exactly the expected shape and types
is ignored (and rewritten by the next analysis). Files are written atomically in the private (0700)
folder, never through a link.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from .remote import private_cache_dir

VERSION = 2  # 2: a layer row ends with the tensor's role (parameter, buffer)
MAX_BYTES = 256 << 20  # a cache file larger than this is not one of ours
MAX_PAIRS = 8  # pair entries kept per file (a run reopened with other neighbours adds some)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def default_dir() -> Path:
    """``runs/`` in the private cache folder (made 0700 if needed)."""
    folder = private_cache_dir() / "runs"
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)
    return folder


def file_key(ident: list[Any]) -> str:
    """The cache key of a file from what identifies its bytes (see the module docstring)."""
    return hashlib.sha256(json.dumps([*ident, VERSION]).encode()).hexdigest()[:40]


def _number(v: Any) -> bool:
    if not isinstance(v, (int, float)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:  # a JSON integer past a float's range
        return False


def _opt_number(v: Any) -> bool:
    return v is None or _number(v)


def _opt_square(v: Any) -> bool:
    # a sum of squares: a negative one would reach math.sqrt
    return v is None or (_number(v) and v >= 0)


def _valid_info(info: Any) -> bool:
    if not isinstance(info, dict) or not isinstance(info.get("format"), str):
        return False
    if not all(info.get(k) is None or (isinstance(info[k], int) and not isinstance(info[k], bool))
               for k in ("step", "epoch")):  # fmt: skip
        return False
    metrics = info.get("metrics")
    return (
        _opt_number(info.get("lr"))
        and isinstance(metrics, dict)
        and all(isinstance(k, str) and _number(v) for k, v in metrics.items())
    )


def _valid_layer(row: Any) -> bool:
    # [key, shape, dtype, norm_sq | None, nonfinite, adam | None, role]
    return (
        isinstance(row, list)
        and len(row) == 7
        and isinstance(row[6], str)
        and isinstance(row[0], str)
        and isinstance(row[1], list)
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in row[1])
        and isinstance(row[2], str)
        and _opt_square(row[3])
        and isinstance(row[4], int)
        and not isinstance(row[4], bool)
        and row[4] >= 0
        and _opt_number(row[5])
    )


def _valid_pair(pair: Any) -> bool:
    # {"d2": {key: float | None}, "equal": [key, ...], "keys_equal": bool}
    if not isinstance(pair, dict) or not isinstance(pair.get("d2"), dict) or not isinstance(pair.get("equal"), list):
        return False
    return (
        isinstance(pair.get("keys_equal"), bool)
        and all(isinstance(k, str) and _opt_square(v) for k, v in pair["d2"].items())
        and all(isinstance(k, str) for k in pair["equal"])
    )


def _is_real_folder(folder: Path) -> bool:
    """``folder`` is a folder itself, not a link to one: a ``runs`` planted as a link to elsewhere is not
    read or written through."""
    try:
        return stat.S_ISDIR(os.lstat(folder).st_mode)
    except OSError:
        return False


def load(folder: Path, key: str) -> dict[str, Any]:
    """The cached entry of ``key`` (``info``, ``layers``, ``pairs``; the parts that are valid), or {}."""
    if not _is_real_folder(folder):
        return {}
    try:
        # O_NONBLOCK: a FIFO planted under the name is not waited on (its fstat refuses it below)
        fd = os.open(folder / f"{key}.json", os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return {}
    try:
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_BYTES:
                return {}
            doc = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    if not isinstance(doc, dict) or doc.get("version") != VERSION or doc.get("key") != key:
        return {}
    out: dict[str, Any] = {}
    if _valid_info(doc.get("info")):
        out["info"] = doc["info"]
    layers = doc.get("layers")
    if isinstance(layers, list) and all(_valid_layer(r) for r in layers):
        out["layers"] = layers
    pairs = doc.get("pairs")
    if isinstance(pairs, dict):
        out["pairs"] = {k: v for k, v in pairs.items() if isinstance(k, str) and _valid_pair(v)}
    return out


def save(folder: Path, key: str, entry: dict[str, Any]) -> None:
    """Write ``entry`` as ``key``'s cache file, atomically; a cache that cannot be written is no error."""
    pairs = entry.get("pairs") or {}
    if len(pairs) > MAX_PAIRS:
        pairs = dict(list(pairs.items())[-MAX_PAIRS:])
    doc = {"version": VERSION, "key": key, **entry, "pairs": pairs}
    try:
        data = json.dumps(doc, allow_nan=False, separators=(",", ":")).encode()
    except ValueError:
        return  # a non-finite number slipped in: better no cache than a wrong one
    if not _is_real_folder(folder):
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".part", dir=folder)
    except OSError:
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, folder / f"{key}.json")  # replaces a planted link itself, never its target
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
