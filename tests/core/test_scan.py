"""Health scan findings on a checkpoint with every kind of problem."""

from __future__ import annotations

import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.scan import scan


def test_every_problem_kind_is_found(tmp_path):
    healthy = torch.randn(64, 64)
    nan = torch.randn(10)
    nan[3] = float("nan")
    inf = torch.randn(10)
    inf[0] = float("inf")
    mostly = torch.zeros(1000)
    mostly[0] = 1.0
    sd = {
        "ok.weight": healthy,
        "a.weight": nan,
        "b.weight": inf,
        "dead.weight": torch.zeros(8, 8),
        "norm.weight": torch.ones(16),
        "big.weight": torch.tensor([3e5, 1.0, 2.0, 3.0]),
        "bn.running_var": torch.tensor([1.0, 0.0, -0.5]),
        "sparse.weight": mostly,
        "bn.num_batches_tracked": torch.tensor(10**6),  # an integer count: never "extreme"
    }
    path = tmp_path / "sick.pth"
    torch.save(sd, path)
    report = scan(open_checkpoint(path))
    kinds = {(f.key, f.kind) for f in report.findings}
    assert kinds == {
        ("a.weight", "nan"), ("b.weight", "inf"), ("dead.weight", "all_zero"), ("norm.weight", "constant"),
        ("big.weight", "extreme"), ("bn.running_var", "bn_running_var"), ("sparse.weight", "mostly_zero"),
    }  # fmt: skip
    assert [f.severity for f in report.findings][:3] == ["error", "error", "error"]
    assert report.n_errors == 3
    assert len(report.stats) == len(sd)
    assert report.to_json()["counts"] == {"error": 3, "warning": 2, "info": 2}


def test_clean_checkpoint_has_no_findings(tmp_path):
    path = tmp_path / "ok.pth"
    torch.save({"w": torch.randn(10, 10), "b": torch.randn(10)}, path)
    assert scan(open_checkpoint(path)).findings == []
