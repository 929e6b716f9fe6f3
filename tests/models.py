"""Small real models and the checkpoints real training code writes from them."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import torch
from torch import nn


class SmallNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.blocks = nn.Sequential(*[nn.Linear(8, 8) for _ in range(12)])
        self.fc = nn.Linear(8, 4)


class TiedLM(nn.Module):
    """Embedding and output head share one weight, as in GPT-2."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.embed.weight


def ddp_state_dict(model: nn.Module, tmp_path: Path) -> dict:
    """DistributedDataParallel(model).state_dict() from a one-process gloo group."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'pg'}", rank=0, world_size=1)
    try:
        ddp = DistributedDataParallel(model)
        state = ddp.state_dict()
        # the wrapper (its reducer holds the group) goes now, in this thread: left to a later
        # garbage collection, the group's destructor can run on any thread at any time
        del ddp
        gc.collect()
        return state
    finally:
        dist.destroy_process_group()


def training_checkpoint(model: nn.Module, steps: int = 2) -> dict:
    """A hand-rolled training checkpoint: model, Adam state, epoch, args Namespace."""
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss = sum(p.square().sum() for p in model.parameters())
        opt.zero_grad()
        loss.backward()
        opt.step()
    return {
        "epoch": 3,
        "model": model.state_dict(),
        "optimizer": opt.state_dict(),
        "args": argparse.Namespace(lr=0.01, arch="SmallNet", batch_size=8),
        "best_acc": 0.5,
    }


def lightning_checkpoint(model: nn.Module) -> dict:
    """The dict layout PyTorch Lightning's Trainer.save_checkpoint writes."""
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sum(p.sum() for p in model.parameters()).backward()
    opt.step()
    return {
        "epoch": 7,
        "global_step": 700,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
        "loops": {"fit_loop": {"state_dict": {}, "epoch_progress": {"total": {"ready": 8}}}},
        "callbacks": {"ModelCheckpoint{'monitor': 'val_loss'}": {"best_model_score": torch.tensor(0.25)}},
        "optimizer_states": [opt.state_dict()],
        "lr_schedulers": [{"step_size": 30, "gamma": 0.1, "last_epoch": 7}],
        "hyper_parameters": {"lr": 0.1, "hidden": 8},
    }


def lightning_loops(batches: int = 700, epochs: int = 7) -> dict:
    """The ``loops`` entry Lightning 2.x writes: ~70 progress counters over four loops."""

    def progress(total: int, current: int, *, started: bool = True) -> dict:
        fields = ("ready", "completed", "started", "processed") if started else ("ready", "completed")
        return {"total": dict.fromkeys(fields, total), "current": dict.fromkeys(fields, current)}

    per_epoch = batches // max(epochs, 1)
    batch = {**progress(batches, per_epoch), "is_last_batch": True}
    optim = {
        "optimizer": {"step": progress(batches, per_epoch, started=False), "zero_grad": progress(batches, per_epoch)}
    }
    return {
        "fit_loop": {
            "state_dict": {},
            "epoch_loop.state_dict": {"_batches_that_stepped": batches},
            "epoch_loop.batch_progress": batch,
            "epoch_loop.scheduler_progress": progress(epochs, 1, started=False),
            "epoch_loop.automatic_optimization.state_dict": {},
            "epoch_loop.automatic_optimization.optim_progress": optim,
            "epoch_loop.manual_optimization.state_dict": {},
            "epoch_loop.manual_optimization.optim_step_progress": progress(0, 0, started=False),
            "epoch_loop.val_loop.state_dict": {},
            "epoch_loop.val_loop.batch_progress": dict(batch),
            "epoch_progress": progress(epochs, 1),
        },
        "validate_loop": {"state_dict": {}, "batch_progress": {**progress(0, 0), "is_last_batch": False}},
        "test_loop": {"state_dict": {}, "batch_progress": {**progress(0, 0), "is_last_batch": False}},
        "predict_loop": {"state_dict": {}, "batch_progress": progress(0, 0)},
    }
