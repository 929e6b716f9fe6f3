"""A calibration set for the health scan: small real models, trained for a few steps on CPU.

Every builder takes a directory and ``trained`` and returns the path it wrote (a file, or a
folder for the PEFT adapter and the sharded one). ``trained=True`` runs a few seeded
optimizer steps (seconds in all), so BatchNorm statistics, LayerNorm weights and LoRA B
matrices have moved the way a real run moves them; ``trained=False`` saves the freshly
initialised model, which a scan should call untrained and nothing else.

The files are what the training code of each ecosystem writes:

* :func:`cnn_bn` — a plain ``state_dict`` of a CNN with BatchNorm (``torch.save``);
* :func:`transformer` — a tiny language model with embeddings, zero-initialised
  ``pos_embed`` / ``cls_token``, LayerNorms and an output head tied to the embedding;
* :func:`lora_adapter` — a PEFT adapter folder (``adapter_model.safetensors`` +
  ``adapter_config.json``, keys ``base_model.model.<path>.lora_A.weight`` / ``lora_B.weight``);
* :func:`lightning` — the dict ``Trainer.save_checkpoint`` writes (callbacks whose
  ``kth_value`` is ``tensor(inf)``, loops with counters and tensor state, Adam state);
* :func:`training_checkpoint` — ``{"model", "model_ema", "optimizer", "epoch", ...}``.

The ``broken_*`` builders damage a trained file in one known way each.
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

STEPS = 5
SEED = 0


# --- models ---------------------------------------------------------------------------------


class ConvBN(nn.Module):
    """conv-bn-relu twice, pooled, a linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        return self.fc(x.mean((2, 3)))

    @staticmethod
    def batch(g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(8, 3, 8, 8, generator=g), torch.randint(0, 4, (8,), generator=g)


class TinyLM(nn.Module):
    """Token embedding (padding row 0), a class token and position embedding initialised to
    zero (as ViT does), four transformer layers with LayerNorm, a final norm, and an output
    head sharing the embedding's weight (as GPT-2 does)."""

    VOCAB, DIM, LEN, LAYERS = 64, 32, 8, 4

    def __init__(self) -> None:
        super().__init__()
        d = self.DIM
        self.embed = nn.Embedding(self.VOCAB, d, padding_idx=0)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.LEN + 1, d))
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(d, 4, 2 * d, dropout=0.0, batch_first=True) for _ in range(self.LAYERS)
        )
        self.norm = nn.LayerNorm(d)
        self.lm_head = nn.Linear(d, self.VOCAB, bias=False)
        self.lm_head.weight = self.embed.weight

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        x = self.embed(tokens)
        x = torch.cat([self.cls_token.expand(len(x), -1, -1), x], 1) + self.pos_embed
        for layer in self.layers:
            x = layer(x)
        return self.lm_head(self.norm(x))

    @classmethod
    def batch(cls, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        tokens = torch.randint(1, cls.VOCAB, (4, cls.LEN), generator=g)
        return tokens, torch.randint(0, cls.VOCAB, (4, cls.LEN + 1), generator=g)


def _loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    out = model(x)
    return nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))


def _train(model: nn.Module, trained: bool, ema: nn.Module | None = None) -> torch.optim.Adam:
    """``STEPS`` seeded Adam steps in train mode (or none); an EMA copy follows the weights."""
    g = torch.Generator().manual_seed(SEED)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(STEPS if trained else 0):
        loss = _loss(model, model.batch(g))  # type: ignore[operator]
        opt.zero_grad()
        loss.backward()
        opt.step()
        if ema is not None:
            with torch.no_grad():
                for e, p in zip(ema.state_dict().values(), model.state_dict().values()):
                    e.copy_(e * 0.9 + p * 0.1) if e.is_floating_point() else e.copy_(p)
    return opt


def cnn_model(trained: bool = True) -> nn.Module:
    """:class:`ConvBN`, trained ``STEPS`` steps or fresh (a new copy each call)."""
    return copy.deepcopy(_cached(ConvBN, trained))


def lm_model(trained: bool = True) -> nn.Module:
    """:class:`TinyLM`, trained ``STEPS`` steps or fresh (a new copy each call)."""
    return copy.deepcopy(_cached(TinyLM, trained))


@functools.cache
def _cached(cls: type, trained: bool) -> nn.Module:
    """Each model is trained once per process; callers damage copies."""
    torch.manual_seed(SEED)
    model = cls()
    _train(model, trained)
    return model


# --- the calibration files -----------------------------------------------------------------------


def cnn_bn(directory: Path, trained: bool = True) -> Path:
    """A CNN's plain state_dict (``torch.save``)."""
    path = Path(directory) / f"cnn_bn{'' if trained else '_fresh'}.pth"
    torch.save(cnn_model(trained).state_dict(), path)
    return path


def transformer(directory: Path, trained: bool = True) -> Path:
    """A tiny LM's state_dict, its output head tied to the embedding (shared storage)."""
    path = Path(directory) / f"transformer{'' if trained else '_fresh'}.pt"
    torch.save(lm_model(trained).state_dict(), path)
    return path


LORA_TARGETS = ("q_proj", "v_proj")
LORA_LAYERS, LORA_DIM, LORA_RANK = 3, 16, 4


def lora_adapter(directory: Path, trained: bool = True) -> Path:
    """A PEFT LoRA adapter folder; A random (kaiming), B zero, then B and A trained."""
    torch.manual_seed(SEED)
    names = [f"model.layers.{i}.self_attn.{t}" for i in range(LORA_LAYERS) for t in LORA_TARGETS]
    base = {n: nn.Linear(LORA_DIM, LORA_DIM).requires_grad_(False) for n in names}  # frozen, as in PEFT
    lora = nn.ModuleDict()
    for n in names:
        pair = nn.ModuleDict({"lora_A": nn.Linear(LORA_DIM, LORA_RANK, bias=False),
                              "lora_B": nn.Linear(LORA_RANK, LORA_DIM, bias=False)})  # fmt: skip
        nn.init.kaiming_uniform_(pair["lora_A"].weight, a=math.sqrt(5))
        nn.init.zeros_(pair["lora_B"].weight)  # PEFT's init: the adapter starts as a no-op
        lora[n.replace(".", "_")] = pair
    opt = torch.optim.Adam(lora.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(SEED)
    for _ in range(STEPS if trained else 0):
        x, target = torch.randn(8, LORA_DIM, generator=g), torch.randn(8, LORA_DIM, generator=g)
        h = x
        for n in names:  # the frozen base plus the low-rank update, layer after layer
            pair = lora[n.replace(".", "_")]
            h = base[n](h) + 2.0 * pair["lora_B"](pair["lora_A"](h))
        loss = (h - target).square().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    tensors = {}
    for n in names:
        pair = lora[n.replace(".", "_")]
        tensors[f"base_model.model.{n}.lora_A.weight"] = pair["lora_A"].weight.detach().clone()
        tensors[f"base_model.model.{n}.lora_B.weight"] = pair["lora_B"].weight.detach().clone()
    folder = Path(directory) / f"lora{'' if trained else '_fresh'}"
    folder.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(folder / "adapter_model.safetensors"), metadata={"format": "pt"})
    config = {
        "peft_type": "LORA",
        "task_type": "CAUSAL_LM",
        "r": LORA_RANK,
        "lora_alpha": 2 * LORA_RANK,
        "lora_dropout": 0.0,
        "target_modules": list(LORA_TARGETS),
        "base_model_name_or_path": "tiny-llama",
    }
    (folder / "adapter_config.json").write_text(json.dumps(config))
    return folder


def lightning(directory: Path, trained: bool = True) -> Path:
    """What ``Trainer.save_checkpoint`` writes for a LightningModule holding ``self.model``."""
    torch.manual_seed(SEED)
    model = TinyLM()
    opt = _train(model, trained)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=30)
    steps = STEPS if trained else 0
    score = torch.tensor(3.9) if trained else None
    monitor = "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min', 'every_n_train_steps': 0, 'every_n_epochs': 1}"
    ckpt = {
        "epoch": 1 if trained else 0,
        "global_step": steps,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "loops": {
            "fit_loop": {
                "state_dict": {},
                "epoch_loop.state_dict": {"_batches_that_stepped": steps},
                "epoch_loop.batch_progress": {
                    "total": {"ready": steps, "completed": steps, "started": steps, "processed": steps},
                    "current": {"ready": steps, "completed": steps, "started": steps, "processed": steps},
                    "is_last_batch": trained,
                },
                # _ResultCollection: logged values and batch sizes as tensors, zero before any step
                "epoch_loop.val_loop._results": {
                    "training": False,
                    "val_loss": {
                        "value": torch.tensor(3.9 if trained else 0.0),
                        "cumulated_batch_size": torch.tensor(8 * steps),
                    },
                },
                "epoch_progress": {"total": {"ready": 1, "completed": int(trained)}},
            },
        },
        "callbacks": {
            monitor: {
                "monitor": "val_loss",
                "best_model_score": score,
                "best_model_path": "/runs/epoch=0.ckpt" if trained else "",
                "current_score": score,
                "dirpath": "/runs",
                "best_k_models": {"/runs/epoch=0.ckpt": torch.tensor(3.9)} if trained else {},
                "kth_best_model_path": "",
                "kth_value": torch.tensor(math.inf),  # Lightning's starting value for mode='min'
                "last_model_path": "",
            },
            "EarlyStopping{'monitor': 'val_loss', 'mode': 'min'}": {
                "wait_count": 0,
                "stopped_epoch": 0,
                "patience": 3,
                "best_score": torch.tensor(3.9 if trained else math.inf),
            },
        },
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [sched.state_dict()],
        "hyper_parameters": {"lr": 1e-2, "dim": TinyLM.DIM, "layers": TinyLM.LAYERS},
    }
    path = Path(directory) / f"lightning{'' if trained else '_fresh'}.ckpt"
    torch.save(ckpt, path)
    return path


def _training_dict(trained: bool) -> dict:
    torch.manual_seed(SEED)
    model = ConvBN()
    ema = copy.deepcopy(model)
    opt = _train(model, trained, ema=ema)
    return {
        "epoch": 3 if trained else 0,
        "model": model.state_dict(),
        "model_ema": ema.state_dict(),
        "optimizer": opt.state_dict(),
        "best_loss": torch.tensor(1.2 if trained else math.inf),  # the usual "nothing yet" start
    }


def training_checkpoint(directory: Path, trained: bool = True) -> Path:
    """A hand-rolled training checkpoint: model, its EMA copy, Adam state, epoch, best loss."""
    path = Path(directory) / f"training{'' if trained else '_fresh'}.pth"
    torch.save(_training_dict(trained), path)
    return path


CALIBRATION: dict[str, Callable[..., Path]] = {
    "cnn_bn": cnn_bn,
    "transformer": transformer,
    "lora": lora_adapter,
    "lightning": lightning,
    "training": training_checkpoint,
}


def calibration_set(directory: Path, trained: bool = True) -> dict[str, Path]:
    """Every calibration file, by name."""
    return {name: build(directory, trained) for name, build in CALIBRATION.items()}


# --- broken files: one known damage each -------------------------------------------------------


def broken_nan(directory: Path) -> tuple[Path, str]:
    """A trained CNN with NaN in one convolution; returns the path and the damaged key."""
    sd = cnn_model().state_dict()
    sd["conv2.weight"].view(-1)[::7] = math.nan
    path = Path(directory) / "nan.pth"
    torch.save(sd, path)
    return path, "conv2.weight"


def broken_fp16(directory: Path) -> tuple[Path, str]:
    """A trained LM cast to float16 after one weight grew beyond 65504 (it becomes Inf)."""
    sd = lm_model().state_dict()
    sd["layers.1.linear1.weight"][3, 5] = 1e5
    half = {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}
    path = Path(directory) / "fp16.pt"
    torch.save(half, path)
    return path, "layers.1.linear1.weight"


def broken_shard(directory: Path) -> tuple[Path, str]:
    """A Hugging Face two-shard folder whose second shard has one tensor's bytes replaced by
    random bytes (the header still valid); returns the folder and the damaged key."""
    sd = {k: v.detach().clone().contiguous() for k, v in lm_model().state_dict().items()}  # tie saved as copies
    keys = list(sd)
    half = len(keys) // 2
    shards = {"model-00001-of-00002.safetensors": keys[:half], "model-00002-of-00002.safetensors": keys[half:]}
    folder = Path(directory) / "sharded"
    folder.mkdir(parents=True, exist_ok=True)
    weight_map = {}
    for name, names in shards.items():
        save_file({k: sd[k] for k in names}, str(folder / name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(names, name))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    victim = "layers.3.linear1.weight"
    assert victim in shards["model-00002-of-00002.safetensors"]
    shard = folder / "model-00002-of-00002.safetensors"
    raw = bytearray(shard.read_bytes())
    header_len = int.from_bytes(raw[:8], "little")
    start, end = json.loads(raw[8 : 8 + header_len])[victim]["data_offsets"]
    g = torch.Generator().manual_seed(SEED)
    garbage = torch.randint(0, 256, (end - start,), dtype=torch.uint8, generator=g).numpy().tobytes()
    base = 8 + header_len
    raw[base + start : base + end] = garbage
    shard.write_bytes(bytes(raw))
    return folder, victim


def _damaged_cnn(directory: Path, name: str, damage: Callable[[dict], None]) -> Path:
    sd = cnn_model().state_dict()
    damage(sd)
    path = Path(directory) / name
    torch.save(sd, path)
    return path


def broken_zero_matrix(directory: Path) -> tuple[Path, str]:
    """A trained CNN whose classifier weight matrix is all zero."""
    return _damaged_cnn(directory, "zero.pth", lambda sd: sd["fc.weight"].zero_()), "fc.weight"


def broken_running_var(directory: Path) -> tuple[Path, str]:
    """A trained CNN with a negative BatchNorm running_var."""
    return _damaged_cnn(
        directory, "bnvar.pth", lambda sd: sd["bn1.running_var"].__setitem__(2, -0.5)
    ), "bn1.running_var"


DEAD_FILTERS = (1, 5, 9)


def broken_dead_filters(directory: Path) -> tuple[Path, str]:
    """A trained CNN whose second convolution has three output filters at zero."""

    def kill(sd: dict) -> None:
        sd["conv2.weight"][list(DEAD_FILTERS)] = 0.0

    return _damaged_cnn(directory, "dead.pth", kill), "conv2.weight"


def broken_duplicate(directory: Path) -> tuple[Path, str]:
    """A trained LM whose layer 2 got layer 1's feed-forward weights (a conversion bug)."""
    sd = lm_model().state_dict()
    sd["layers.2.linear1.weight"] = sd["layers.1.linear1.weight"].clone()
    path = Path(directory) / "duplicate.pt"
    torch.save(sd, path)
    return path, "layers.2.linear1.weight"


def broken_optimizer_nan(directory: Path) -> tuple[Path, str]:
    """A training checkpoint whose Adam second moment holds a NaN."""
    ckpt = _training_dict(True)
    ckpt["optimizer"]["state"][0]["exp_avg_sq"].view(-1)[0] = math.nan
    path = Path(directory) / "optnan.pth"
    torch.save(ckpt, path)
    return path, "optimizer.state.0.exp_avg_sq"


BROKEN: dict[str, Callable[[Path], tuple[Path, str]]] = {
    "nan": broken_nan,
    "fp16": broken_fp16,
    "shard": broken_shard,
    "zero_matrix": broken_zero_matrix,
    "running_var": broken_running_var,
    "optimizer_nan": broken_optimizer_nan,
    "dead_filters": broken_dead_filters,
    "duplicate": broken_duplicate,
}
