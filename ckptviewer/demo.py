"""Write a demo training checkpoint, the kind a DDP training run leaves behind.

``python -m ckptviewer.demo [OUT_DIR]`` writes ``demo_checkpoint.pth``: a small ConvNet
state_dict with DistributedDataParallel's ``module.`` prefix, Adam optimizer state after
a few steps, epoch and hyper-parameters (an ``argparse.Namespace``), and a layer that
has gone bad (NaNs), so every view of the viewer has something to show.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch import nn


class DemoNet(nn.Module):
    """conv-bn-relu x2, a residual-free stage, and a linear head."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.layer1 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                                    nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU())  # fmt: skip
        self.layer2 = nn.Sequential(nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.BatchNorm2d(64), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer2(self.layer1(x))
        return self.fc(self.pool(x).flatten(1))


def make_demo_checkpoint(path: str | Path, steps: int = 3, seed: int = 0) -> Path:
    """Train ``DemoNet`` for a few steps and save a DDP-style training checkpoint."""
    torch.manual_seed(seed)
    model = DemoNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        x, y = torch.randn(8, 3, 16, 16), torch.randint(0, 10, (8,))
        loss = nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    state = {f"module.{k}": v for k, v in model.state_dict().items()}  # what DDP saves
    state["module.layer2.0.weight"].view(-1)[::97] = float("nan")  # a layer that diverged
    checkpoint = {
        "epoch": 12,
        "global_step": 12 * 390,
        "model": state,
        "optimizer": opt.state_dict(),
        "args": argparse.Namespace(arch="DemoNet", lr=1e-3, batch_size=8, epochs=90, amp=True),
        "best_acc1": 0.4375,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(checkpoint, path)
    return path


def main(argv: list[str] | None = None) -> int:
    out = Path((argv if argv is not None else sys.argv[1:])[0] if (argv or sys.argv[1:]) else "demo")
    path = make_demo_checkpoint(out / "demo_checkpoint.pth")
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
