"""What each tensor of a checkpoint is for: model weights, optimizer state, or something else.

The health scan judges only model weights and buffers as weights: a Lightning
``ModelCheckpoint``'s ``kth_value = inf`` or a metric's running sum are not weights, and
optimizer state has its own rules. The classification, first rule that applies:

1. ``model``: the model state_dict the checkpoint located (every tensor of a plain
   state_dict, safetensors file or Hugging Face folder);
2. ``optimizer``: under an optimizer key (``optimizer``, Lightning's ``optimizer_states``,
   anything starting with ``optim``) or shaped like ``torch.optim`` state
   (``....state.<i>.<name>``);
3. ``model``: an EMA copy of the model (``model_ema``, ``state_dict_ema``, ``ema``, ...);
4. ``other``: callbacks, ``loops``, learning-rate schedulers, grad scalers, metrics, RNG
   state, hyper-parameters;
5. what is left: ``model`` if it is a tensor of several values inside a container (the
   weights of a second network, say a GAN's discriminator), ``other`` if it is a lone or
   single-valued tensor (``best_loss = tensor(inf)``).
"""

from __future__ import annotations

import re

from .checkpoint import BUFFER, PARAMETER, Checkpoint, TensorEntry
from .summary import OPTIMIZER_KEYS

MODEL, OPTIMIZER, OTHER = "model", "optimizer", "other"

EMA_KEYS = frozenset({
    "model_ema", "state_dict_ema", "ema", "ema_state_dict", "ema_model", "model_ema_state_dict", "ema_state",
    "ema_params", "ema_weights", "shadow", "averaged_model", "swa_model",
})  # fmt: skip

OTHER_KEYS = frozenset({
    "callbacks", "loops", "lr_schedulers", "lr_scheduler", "scheduler", "schedulers", "scaler", "grad_scaler",
    "amp", "amp_scaler", "metrics", "metric", "rng_state", "rng_states", "torch_rng_state", "cuda_rng_state",
    "random_state", "sampler", "dataloader", "hyper_parameters", "hparams", "args", "config", "stats", "history",
})  # fmt: skip

# torch.optim's layout: state.<parameter index>.<state name>
_OPTIMIZER_STATE = re.compile(r"(?:^|\.)state\.\d+\.[^.]+$")


def tensor_roles(ckpt: Checkpoint) -> dict[str, str]:
    """Every tensor key of ``ckpt`` -> ``model``, ``optimizer`` or ``other`` (see the module docstring)."""
    return {key: tensor_role(entry) for key, entry in ckpt.tensors.items()}


def tensor_role(entry: TensorEntry) -> str:
    """The role of one tensor (see the module docstring)."""
    if entry.role in (PARAMETER, BUFFER):
        return MODEL
    key = entry.key
    top = key.split(".", 1)[0]
    lowered = top.lower()
    if top in OPTIMIZER_KEYS or lowered.startswith("optim") or _OPTIMIZER_STATE.search(key):
        return OPTIMIZER
    if lowered in EMA_KEYS:
        return MODEL
    if lowered in OTHER_KEYS:
        return OTHER
    return MODEL if "." in key and entry.numel > 1 else OTHER
