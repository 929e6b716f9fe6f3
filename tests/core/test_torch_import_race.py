"""Opening checkpoints while another thread imports torch (the window's background engine load).

A half-imported torch sits in ``sys.modules`` without ``torch.Tensor``: code that took it
for loaded failed to index the file ("partially initialized module 'torch'"), and touching
it from a second thread made torch's own import fail ("operator prims::le does not exist").
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

CHILD = r"""
import sys, threading
errors = []
def load():
    try:
        import torch  # noqa: F401
    except Exception as exc:
        errors.append(f"import: {exc!r}")
t = threading.Thread(target=load)
t.start()
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.tree import build_tree
n = 0
while t.is_alive() or n == 0:
    try:
        build_tree(open_checkpoint(sys.argv[1], device="cpu"))
    except Exception as exc:
        errors.append(f"open: {exc}")
        break
    n += 1
t.join()
import torch
assert hasattr(torch, "Tensor") and torch.ones(2).sum().item() == 2
print("opened", n, "times;", errors or "no errors")
sys.exit(1 if errors else 0)
"""


@pytest.mark.parametrize("tries", [pytest.param(1), pytest.param(4, marks=pytest.mark.slow)])
def test_opening_while_torch_imports_in_another_thread(tmp_path, tries):
    path = tmp_path / "m.pth"
    torch.save({"model": {"fc.weight": torch.ones(3, 2), "fc.bias": torch.zeros(3)}, "epoch": 1}, path)
    for _ in range(tries):  # before the fix it failed on the first try every time; make test-slow tries more
        r = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr[-2000:]
        assert "opened" in r.stdout
