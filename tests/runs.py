"""Training runs made by a real training loop, saved in the layouts real trainers write (run view tests).

``make_run(tmp_path, layout=...)`` trains a tiny conv net (Conv2d + BatchNorm + two Linear layers, Adam,
StepLR) and saves ``n`` checkpoints into a fresh folder, one per "epoch" of ``STEPS_PER_CHECKPOINT``
optimizer steps:

- ``plain``: ``model_ep{epoch}.pth``, torch.save of {'model', 'optimizer', 'epoch', 'step', 'loss'};
- ``lightning``: ``epoch={epoch:02d}-step={step}.ckpt``, the dict Lightning's Trainer writes ('state_dict'
  with the LightningModule's ``model.`` prefix, 'epoch', 'global_step', 'optimizer_states',
  'lr_schedulers', 'callbacks' with a ModelCheckpoint's best_model_score, 'loops', 'hyper_parameters');
- ``dcp``: ``step_{step}/`` folders written by torch.distributed.checkpoint (single process) holding
  {'model', 'optim', 'step', 'epoch'}.

What can go wrong, at a known checkpoint index (0-based, in step order):

- ``frozen``: the ``frozen`` Linear layer has requires_grad=False (its weight and bias never change);
- ``nan_at``: ``head.weight[0, 0]`` is set to NaN in the live model just before checkpoint ``nan_at`` is
  saved; training goes on, so every trained weight is NaN from checkpoint ``nan_at + 1`` on (the frozen
  layer stays finite);
- ``duplicate_at``: checkpoint ``duplicate_at`` is saved again without training since the one before it
  (a job that re-saved after a restart): its tensors are bit-identical to its predecessor's, its
  step/epoch counters moved on;
- ``explode_at`` (keyword): the learning rate is multiplied by 1000 for the steps before checkpoint
  ``explode_at`` (a divergence: every trained layer's update explodes there);
- ``zero_at`` (keyword): ``conv.weight`` is zeroed just before checkpoint ``zero_at`` is saved (a dead layer);
- ``warmup`` (keyword): a linear-in-log warm-up (x2.5 per checkpoint from LR / 100) instead of StepLR's decay.

Pass ``frozen=False, nan_at=None, duplicate_at=None`` for a healthy run.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

STEPS_PER_CHECKPOINT = 5
LR = 0.01
LAYOUTS = ("plain", "lightning", "dcp")
NAN_KEY = "head.weight"  # the layer nan_at poisons (model key, without the Lightning prefix)
FROZEN_KEYS = ("frozen.weight", "frozen.bias")


class RunNet(nn.Module):
    """A tiny conv net: conv -> batch norm -> pool -> frozen-able Linear -> head."""

    def __init__(self, width: int = 8) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.bn = nn.BatchNorm2d(width)
        self.frozen = nn.Linear(width, width)
        self.head = nn.Linear(width, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x))).mean(dim=(2, 3))
        return self.head(torch.relu(self.frozen(x)))


def model_key(layout: str, key: str) -> str:
    """The key a run's layer series carries for model key ``key`` in ``layout`` (Lightning adds ``model.``)."""
    return f"model.{key}" if layout == "lightning" else key


def make_run(
    tmp_path: Path,
    layout: str = "plain",
    n: int = 6,
    frozen: bool = True,
    nan_at: int | None = 4,
    duplicate_at: int | None = 3,
    *,
    width: int = 8,
    name: str | None = None,
    explode_at: int | None = None,
    zero_at: int | None = None,
    warmup: bool = False,
) -> Path:
    """Train and save ``n`` checkpoints of one run in ``layout``; returns the run's folder (see module doc)."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS}")
    torch.manual_seed(0)
    folder = tmp_path / (name or f"run_{layout}")
    folder.mkdir(parents=True)
    model = RunNet(width)
    if frozen:
        model.frozen.requires_grad_(False)
    # every parameter goes to Adam, as model.parameters() does: a frozen one simply never gets state
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    if warmup:  # the learning rate rises 2.5x per checkpoint from LR / 100 to LR, then stays
        sched: torch.optim.lr_scheduler.LRScheduler = torch.optim.lr_scheduler.LambdaLR(
            opt, lambda epoch: min(1.0, 0.01 * 2.5**epoch)
        )
    else:
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    gen = torch.Generator().manual_seed(1)
    inputs = torch.randn(32, 3, 6, 6, generator=gen)
    targets = torch.randint(0, 4, (32,), generator=gen)
    step = 0
    loss = torch.tensor(float("nan"))
    for index in range(n):
        if index == explode_at:
            for group in opt.param_groups:
                group["lr"] *= 1000
        if index != duplicate_at:
            model.train()
            for _ in range(STEPS_PER_CHECKPOINT):
                loss = nn.functional.cross_entropy(model(inputs), targets)
                opt.zero_grad()
                loss.backward()
                opt.step()
            sched.step()
        step += STEPS_PER_CHECKPOINT
        if index == nan_at:
            with torch.no_grad():
                model.head.weight[0, 0] = float("nan")
        if index == zero_at:
            with torch.no_grad():
                model.conv.weight.zero_()
        _save(folder, layout, model, opt, sched, epoch=index, step=step, loss=float(loss.detach()))
    return folder


def _save(folder: Path, layout: str, model: nn.Module, opt, sched, *, epoch: int, step: int, loss: float) -> None:
    # clones: the saved tensors must not alias the live ones (the DCP writer and torch.save read them now,
    # but a dict kept around would change with training)
    model_sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if layout == "plain":
        state = {"model": model_sd, "optimizer": opt.state_dict(), "epoch": epoch, "step": step, "loss": loss}
        torch.save(state, folder / f"model_ep{epoch}.pth")
    elif layout == "lightning":
        state = {
            "epoch": epoch,
            "global_step": step,
            "pytorch-lightning_version": "2.4.0",
            "state_dict": {f"model.{k}": v for k, v in model_sd.items()},
            "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": epoch + 1}}}},
            "callbacks": {
                "ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}": {
                    "monitor": "val_loss",
                    "best_model_score": torch.tensor(loss),
                    "best_model_path": str(folder / "best.ckpt"),
                }
            },
            "optimizer_states": [opt.state_dict()],
            "lr_schedulers": [sched.state_dict()],
            "hyper_parameters": {"lr": LR, "width": 8},
        }
        torch.save(state, folder / f"epoch={epoch:02d}-step={step}.ckpt")
    else:
        import torch.distributed.checkpoint as dcp

        state = {"model": model_sd, "optim": opt.state_dict(), "step": step, "epoch": epoch}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no process group: assuming a single process"
            dcp.save(state, checkpoint_id=str(folder / f"step_{step}"))
