"""A run's checkpoints found and described: which entries of a folder (or a glob) are checkpoints, what
each one says about itself (format, size, step, epoch, learning rate, loss / metric values) and their order.

Step and epoch come from the checkpoint's metadata where it stores them (Lightning ``global_step`` /
``epoch``, a training dict's ``epoch`` / ``step`` / ``global_step`` / ``iteration``, a DCP folder's own
``step`` entry, Hugging Face ``trainer_state.json``), else from its name (``epoch=03-step=1200.ckpt``,
``model_ep10.pth``, ``checkpoint-500``, ``step_1000``), else the order is the files' modification times.
"""

from __future__ import annotations

import glob
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .checkpoint import Checkpoint
from .errors import CheckpointError
from .filemap import is_remote
from .formats.folders import folder_kind, inside, read_json
from .formats.sniff import sniff
from .remote import as_path
from .summary import training_summary

# the last part of a weight file's name that holds no step (".pt2" would read as the number 2)
SUFFIXES = (".pth", ".pt", ".bin", ".ckpt", ".safetensors", ".pt2", ".gguf", ".tar", ".pkl", ".distcp")
_STEP_NAME = re.compile(r"(?<![a-z])(?:global_step|steps?|iter|iteration|it|checkpoint|ckpt)[=_\-]?(\d+)", re.I)
_EPOCH_NAME = re.compile(r"(?<![a-z])(?:epoch|ep)[=_\-]?(\d+)", re.I)
_ANY_NUMBER = re.compile(r"(\d+)")
# a stored value whose name says it measures the training (loss, accuracy, a monitored score)
_METRIC_NAME = re.compile(r"(loss|acc|accuracy|score|metric|ppl|perplexity|f1|bleu|rouge|error|auc|iou|grad_norm)",
                          re.I)  # fmt: skip
_NOT_METRICS = frozenset({"epoch", "step", "global_step", "learning_rate", "lr", "total_flos"})
HF_TRAINER_STATE = "trainer_state.json"


@dataclass(frozen=True)
class Candidate:
    """A path of a run and what identifies its bytes: size, modification time (ns), version (remote ETag)."""

    path: Path
    name: str
    size: int
    mtime_ns: int
    version: str = ""

    def ident(self) -> list[Any]:
        """What the per-file cache key is made of (the path resolved, so two spellings share it)."""
        where = str(self.path) if is_remote(self.path) else os.path.realpath(self.path)
        return [where, self.size, self.mtime_ns, self.version]


def list_entries(target: str | os.PathLike) -> tuple[Path, list[Path]]:
    """(root, the entries a run may be made of) for a folder, a glob or one checkpoint; nothing is read."""
    text = str(target)
    path = as_path(target)
    if not is_remote(path) and glob.has_magic(text) and not path.is_dir():
        # a pattern is a pattern even where a file bears its name: a planted ``*.pt`` does not hide the
        # checkpoints ``run/*.pt`` matches (it is one of them); a folder named so is the folder
        entries = [Path(p) for p in sorted(glob.glob(text))]
        if entries:
            return Path(os.path.commonpath([str(p.parent) for p in entries])), entries
        if not path.exists():
            raise CheckpointError(f"{text}: no file matches this pattern")
    if path.is_dir():
        # one checkpoint folder (DCP, Hugging Face) given: a run of one
        if _is_checkpoint_folder(path):
            return path, [path]
        return path, [p for p in sorted(path.iterdir(), key=lambda p: p.name) if not p.name.startswith(".")]
    if path.exists():
        return path.parent, [path]
    raise CheckpointError(f"{text}: no such file or folder")


def candidate(entry: Path) -> tuple[Candidate | None, str]:
    """(the entry as a candidate, "") or (None, why it is skipped). A folder is told apart from its few
    known files before its contents are listed (a TensorBoard folder beside the checkpoints is not walked)."""
    try:
        if entry.is_dir():
            why = not_a_checkpoint(entry)
            if why:
                return None, why
        return _candidate(entry), ""
    except (CheckpointError, OSError) as exc:
        return None, _reason(exc, entry)


def _is_checkpoint_folder(path: Path) -> bool:
    try:
        return folder_kind(path) is not None
    except CheckpointError:
        return False


def not_a_checkpoint(entry: Path) -> str:
    """Why ``entry`` is no checkpoint ("" if it may be one)."""
    try:
        if entry.is_dir():
            folder_kind(entry)
        else:
            sniff(entry)
    except (CheckpointError, OSError) as exc:
        return _reason(exc, entry)
    return ""


def _reason(exc: BaseException, entry: Path) -> str:
    """An error's message without the path it starts with (the table names the entry)."""
    text = str(exc) if isinstance(exc, CheckpointError) else (getattr(exc, "strerror", None) or type(exc).__name__)
    prefix = f"{entry}: "
    return text[len(prefix) :] if text.startswith(prefix) else text


def _candidate(path: Path) -> Candidate:
    if is_remote(path):
        files = list(path.iterdir()) if path.is_dir() else [path]
        size = mtime = 0
        versions = []
        for f in files:
            if f.is_file():
                st = f.stat()
                size += st.st_size
                mtime = max(mtime, int(st.st_mtime * 1e9))
                info = f.info()  # type: ignore[attr-defined]
                versions.append(str(next((info[k] for k in ("ETag", "etag", "blob_id") if info.get(k)), "")))
        return Candidate(path, path.name, size, mtime, "|".join(versions))
    if path.is_dir():
        size = mtime = 0
        for root, _dirs, names in os.walk(path):
            for n in names:
                st = os.stat(os.path.join(root, n))
                size += st.st_size
                mtime = max(mtime, st.st_mtime_ns)
        return Candidate(path, path.name, size, mtime)
    st = path.stat()
    return Candidate(path, path.name, st.st_size, st.st_mtime_ns)


def describe(ckpt: Checkpoint, cand: Candidate) -> dict[str, Any]:
    """What ``ckpt`` says about its place in the run: format, step, epoch, lr, metrics (JSON-safe)."""
    meta = ckpt.metadata if isinstance(ckpt.metadata, dict) else {}
    summary = training_summary(ckpt)
    step = _int(summary.step)
    epoch = _int(summary.epoch)
    lr = _lr(meta, summary.param_groups)
    metrics = _metrics(ckpt, meta)
    state = _trainer_state(cand.path)  # Hugging Face checkpoint-500/: the trainer's own record
    if state is not None:
        step = _int(state.get("global_step")) if step is None else step
        epoch = _int(state.get("epoch")) if epoch is None else epoch
        history = state.get("log_history")
        if isinstance(history, list):
            for entry in history:
                if isinstance(entry, dict):
                    lr = _float(entry.get("learning_rate"), lr)
                    metrics.update(_numbers(entry))
        best = _float(state.get("best_metric"), None)
        if best is not None:
            metrics["best_metric"] = best
    return {"format": ckpt.format, "step": step, "epoch": epoch, "lr": lr, "metrics": metrics}


def _trainer_state(path: Path) -> dict | None:
    try:
        if not path.is_dir() or not (path / HF_TRAINER_STATE).is_file():
            return None
        state = read_json(inside(path, path / HF_TRAINER_STATE))
    except (CheckpointError, OSError):
        return None
    return state if isinstance(state, dict) else None


def _finite(value: Any) -> float | None:
    """A number stored in a file as a finite float, else None (an int past a float's range included)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        number = float(value)
    except OverflowError:  # a 400-digit integer: no step, rate or loss of a real run
        return None
    return number if math.isfinite(number) else None


def _int(value: Any) -> int | None:
    number = _finite(value)
    return None if number is None else int(number)  # Hugging Face stores epoch 2.5 mid-epoch: the epoch it is in


def _float(value: Any, default: float | None) -> float | None:
    number = _finite(value)
    return default if number is None else number


def _lr(meta: dict, groups: list[dict[str, Any]]) -> float | None:
    """param_groups[0]['lr'] of the optimizer (DCP flattens it to 'param_groups.0.lr'), else a scheduler's."""
    if groups and _float(groups[0].get("lr"), None) is not None:
        return _float(groups[0]["lr"], None)
    for value in meta.values():
        if isinstance(value, dict) and _float(value.get("param_groups.0.lr"), None) is not None:
            return _float(value["param_groups.0.lr"], None)
    scheds = meta.get("lr_schedulers")
    if isinstance(scheds, list) and scheds and isinstance(scheds[0], dict):
        last = scheds[0].get("_last_lr")
        if isinstance(last, list) and last:
            return _float(last[0], None)
    return None


def _numbers(values: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in values.items():
        number = _finite(v)
        if number is not None and k not in _NOT_METRICS and _METRIC_NAME.search(str(k)):
            out[str(k)] = number
    return out


def _metrics(ckpt: Checkpoint, meta: dict) -> dict[str, float]:
    """Loss / metric values stored in the checkpoint: top-level numbers and a 'metrics' dict named like
    metrics, and one-value tensors of Lightning's callbacks (ModelCheckpoint's best_model_score)."""
    out = _numbers(meta)
    for key in ("metrics", "metric"):
        if isinstance(meta.get(key), dict):
            out.update(_numbers(meta[key]))
    for key, entry in ckpt.tensors.items():
        if entry.numel == 1 and key.startswith("callbacks.") and _METRIC_NAME.search(entry.name):
            try:
                value = float(entry.load().reshape(-1)[0].double())
            except (CheckpointError, RuntimeError, TypeError, ValueError):
                continue
            if math.isfinite(value):
                out[entry.name] = value
    return out


def name_numbers(name: str) -> tuple[int | None, int | None, int | None]:
    """(step, epoch, any number) read from a checkpoint's name (``epoch=03-step=1200.ckpt`` -> 1200, 3, 1200)."""
    stem = name
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    step = _STEP_NAME.findall(stem)
    epoch = _EPOCH_NAME.findall(stem)
    numbers = _ANY_NUMBER.findall(stem)
    return (_name_int(step), _name_int(epoch), _name_int(numbers))


def _name_int(found: list[str]) -> int | None:
    # the last number found; one of over 18 digits (past int64, a URL's name may hold thousands) is no step
    return int(found[-1]) if found and len(found[-1]) <= 18 else None


def order(items: list[tuple[Candidate, dict[str, Any]]]) -> list[tuple[Candidate, dict[str, Any], str]]:
    """The run's order: by step (then epoch) where every checkpoint has one, from metadata or the name;
    else by epoch; else by any number in the names; else by modification time. Returns (candidate,
    description with step/epoch filled from the name where metadata had none, order_from)."""
    rows: list[list[Any]] = []  # [candidate, description, order_from, any number in the name]
    for cand, desc in items:
        by_name = name_numbers(cand.name)
        desc = dict(desc)
        source = "metadata" if desc.get("step") is not None or desc.get("epoch") is not None else ""
        if desc.get("step") is None and by_name[0] is not None:
            desc["step"] = by_name[0]
            source = source or "name"
        if desc.get("epoch") is None and by_name[1] is not None:
            desc["epoch"] = by_name[1]
            source = source or "name"
        rows.append([cand, desc, source, by_name[2]])

    def tie(r: list) -> tuple:
        return (r[0].mtime_ns, r[0].name)

    if all(r[1].get("step") is not None for r in rows):
        rows.sort(key=lambda r: (r[1]["step"], r[1].get("epoch") if r[1].get("epoch") is not None else -1, *tie(r)))
    elif all(r[1].get("epoch") is not None for r in rows):
        rows.sort(key=lambda r: (r[1]["epoch"], *tie(r)))
    elif all(r[3] is not None for r in rows):
        for r in rows:
            r[2] = r[2] or "name"
        rows.sort(key=lambda r: (r[3], *tie(r)))
    else:
        for r in rows:
            r[2] = "mtime"  # the numbers some names hold cannot order the others
        rows.sort(key=tie)
    return [(r[0], r[1], r[2] or "mtime") for r in rows]
