"""A training checkpoint at a glance: epoch, step, optimizer, hyper-parameters."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..formatting import plural
from .checkpoint import BUFFER, PARAMETER, Checkpoint
from .filemap import is_remote
from .translatable import QT_TRANSLATE_NOOP, Message

EPOCH_KEYS = ("epoch", "epochs", "cur_epoch", "current_epoch")
STEP_KEYS = ("global_step", "step", "steps", "iteration", "iter", "global_iter", "num_updates")
OPTIMIZER_KEYS = ("optimizer", "optimizer_state_dict", "optimizer_states", "optim", "opt", "optimizer_state")
HPARAM_KEYS = ("args", "hparams", "hyper_parameters", "config", "cfg", "opt_args", "hyperparameters")
GROUP_SETTINGS = ("lr", "initial_lr", "momentum", "betas", "eps", "weight_decay", "nesterov", "amsgrad")


@dataclass
class TrainingSummary:
    """What a user looks for first in a training checkpoint (absent fields are None)."""

    epoch: Any = None
    step: Any = None
    optimizer_key: str | None = None
    optimizer_bytes: int = 0
    weight_bytes: int = 0
    param_groups: list[dict[str, Any]] = field(default_factory=list)
    hparams_key: str | None = None
    hparams: dict[str, Any] | None = None
    param_names: dict[str, str] = field(default_factory=dict)  # "optimizer.state.3" -> "layer1.0.weight"
    param_names_note: str = ""  # why the mapping could not be made, if it could not
    param_names_text: Message | None = None  # the same as a template, for the window to translate

    @property
    def optimizer_ratio(self) -> float | None:
        """Optimizer state bytes per weight byte (Adam: about 2)."""
        return self.optimizer_bytes / self.weight_bytes if self.weight_bytes and self.optimizer_bytes else None


def training_summary(ckpt: Checkpoint) -> TrainingSummary:
    """Epoch, step, optimizer state size vs weights, param-group settings, hyper-parameters."""
    meta = ckpt.metadata if isinstance(ckpt.metadata, dict) else {}
    s = TrainingSummary()
    s.epoch = _first(meta, EPOCH_KEYS)
    s.step = _first(meta, STEP_KEYS)
    s.weight_bytes = sum(e.nbytes for e in ckpt.tensors.values() if e.role in (PARAMETER, BUFFER))
    for key in OPTIMIZER_KEYS:
        tensors = [e for k, e in ckpt.tensors.items() if k.startswith(key + ".")]
        if tensors or key in meta:
            s.optimizer_key = key
            s.optimizer_bytes = sum(e.nbytes for e in tensors)
            s.param_groups = _param_groups(meta.get(key))
            s.param_names, note = optimizer_param_names(ckpt, key)
            s.param_names_note = str(note)
            s.param_names_text = note if isinstance(note, Message) else None
            break
    for key in HPARAM_KEYS:
        value = meta.get(key)
        if isinstance(value, dict) and value:
            s.hparams_key = key
            s.hparams = {k: v for k, v in value.items() if k != "__class__"}
            break
    return s


def optimizer_param_names(ckpt: Checkpoint, key: str) -> tuple[dict[str, str], Message | str]:
    """Map an optimizer's ``state.<i>`` to parameter names, where the order can be derived.

    ``optimizer.state_dict()`` numbers parameters in ``param_groups`` order, which for a
    ``torch.optim`` optimizer built on ``model.parameters()`` is the model's parameter order
    (the state_dict order without buffers). The mapping is kept only if every state tensor
    has the shape of the parameter it maps to.
    """
    # the unpickled object, not metadata: metadata shortens long lists (params of a big model)
    opt = ckpt.root.get(key) if isinstance(ckpt.root, dict) else None
    if isinstance(opt, list):  # Lightning: optimizer_states is a list; map the first
        opt, key = (opt[0] if opt else None), f"{key}.0"
    groups = opt.get("param_groups") if isinstance(opt, dict) else None
    if not isinstance(groups, list):
        return {}, Message("Summary", QT_TRANSLATE_NOOP("Summary", "no param_groups"))
    ids = [i for g in groups if isinstance(g, dict) for i in (g.get("params") or [])]
    prefix = (ckpt.state_dict_key + ".") if ckpt.state_dict_key else ""
    wrappers = "".join(ckpt.prefixes)
    params = [k for k, e in ckpt.tensors.items() if e.role == PARAMETER]
    if len(ids) != len(params):
        return {}, Message(
            "Summary",
            QT_TRANSLATE_NOOP(
                "Summary", "{n_optimizer} optimizer parameters vs {n_model} model parameters: order unknown"
            ),
            {"n_optimizer": len(ids), "n_model": len(params)},
        )
    # one pass over the state tensors, grouped by the state.<i> they belong to
    state_root = f"{key}.state."
    shapes_of: dict[str, list[tuple[str, tuple[int, ...]]]] = {}
    for k, e in ckpt.tensors.items():
        if k.startswith(state_root) and e.numel > 1:
            index, _, rest = k[len(state_root) :].partition(".")
            if rest:
                shapes_of.setdefault(index, []).append((k, e.shape))
    names: dict[str, str] = {}
    for index, param in zip(ids, params):
        short = param[len(prefix) :].removeprefix(wrappers)
        shape = ckpt.tensors[param].shape
        for k, state_shape in shapes_of.get(str(index), []):
            if state_shape != shape:
                return {}, Message(
                    "Summary",
                    QT_TRANSLATE_NOOP("Summary", "{key} has shape {shape}, not that of {param}: order unknown"),
                    {"key": k, "shape": list(state_shape), "param": short},
                )
        names[f"{state_root}{index}"] = short
    return names, ""


def _first(meta: dict, keys: tuple[str, ...]) -> Any:
    for k in keys:
        if isinstance(meta.get(k), (int, float)) and not isinstance(meta.get(k), bool):
            return meta[k]
    return None


def _param_groups(opt: Any) -> list[dict[str, Any]]:
    if isinstance(opt, list):  # Lightning: a list of optimizer state_dicts
        opt = opt[0] if opt else None
    groups = opt.get("param_groups") if isinstance(opt, dict) else None
    if not isinstance(groups, list):
        return []
    return [{k: g[k] for k in GROUP_SETTINGS if k in g} for g in groups if isinstance(g, dict)]


LIGHTNING_FIELDS = ("epoch", "global_step", "pytorch-lightning_version", "hyper_parameters", "optimizer_states",
                    "lr_schedulers", "callbacks", "loops")  # fmt: skip


FLAVOR_TEXT = {
    "lightning": "PyTorch Lightning checkpoint",
    "training-checkpoint": "training checkpoint",
    "whole-model": "whole pickled model",
    "ddp": "DDP state_dict",
}


def flavor_text(ckpt: Checkpoint) -> str | None:
    """What the file holds, in words ("PyTorch Lightning checkpoint (2.4.0)"), where known."""
    text = FLAVOR_TEXT.get(ckpt.flavor or "")
    meta = ckpt.metadata if isinstance(ckpt.metadata, dict) else {}
    version = meta.get("pytorch-lightning_version")
    if text and ckpt.flavor == "lightning" and isinstance(version, str):
        text += f" ({version[:20]})"
    return text


def lightning_view(ckpt: Checkpoint) -> dict[str, Any] | None:
    """The parts of a PyTorch Lightning checkpoint a user looks at, or None if it is not one."""
    meta = ckpt.metadata if isinstance(ckpt.metadata, dict) else {}
    if ckpt.flavor != "lightning" and "pytorch-lightning_version" not in meta:
        return None
    view: dict[str, Any] = {}
    for name in LIGHTNING_FIELDS:
        tensors = sum(1 for k in ckpt.tensors if k.startswith(name + "."))
        if name in meta:
            view[name] = meta[name]
        elif tensors:
            view[name] = plural(tensors, "tensor")
    return view


def module_class(ckpt: Checkpoint, path: str) -> str | None:
    """The class of the pickled module at ``path`` (whole-model and TorchScript files)."""
    node: Any = ckpt.metadata
    for part in path.split(".") if path else []:
        node = node.get(part) if isinstance(node, dict) else None
    return node.get("__class__") if isinstance(node, dict) and isinstance(node.get("__class__"), str) else None


def info_document(ckpt: Checkpoint) -> dict[str, Any]:
    """The ``ckpt info --json`` document of ``ckpt``."""
    s = training_summary(ckpt)
    optimizer = None
    if s.optimizer_key is not None:
        optimizer = {"key": s.optimizer_key, "state_bytes": s.optimizer_bytes, "weight_bytes": s.weight_bytes,
                     "param_names": s.param_names, "param_names_note": s.param_names_note}  # fmt: skip
    return {
        "path": str(ckpt.path),
        "format": ckpt.format,
        # a URL is shown without credentials (str of a RemotePath); "url" only for remote inputs
        "location": "remote" if is_remote(ckpt.path) else "local",
        **({"url": str(ckpt.path)} if is_remote(ckpt.path) else {}),
        "flavor": ckpt.flavor,
        "saved_on": ckpt.saved_on,
        "n_tensors": ckpt.n_tensors,
        "n_elements": ckpt.n_elements,
        "total_bytes": ckpt.total_bytes,
        "n_parameters": ckpt.n_parameters,
        "tensors": [e.to_json() for e in ckpt.tensors.values()],
        "prefixes": ckpt.prefixes,
        "state_dict_key": ckpt.state_dict_key,
        "unsafe_globals": ckpt.unsafe_globals,
        "blocked_globals": ckpt.blocked_globals,
        "trusted": ckpt.trusted,
        "device": ckpt.device_name,
        "metadata": ckpt.metadata,
        "optimizer": optimizer,
        "warnings": ckpt.warnings,
    }
