"""Listing must not read tensor data: memory stays flat however big the file is."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import torch

MiB = 1 << 20


def test_listing_a_large_checkpoint_barely_grows_memory(tmp_path):
    path = tmp_path / "big.pth"
    torch.save({f"layer{i}.weight": torch.ones(16 * MiB // 4) for i in range(24)}, path)  # 384 MiB
    code = textwrap.dedent(f"""
        import sys
        import torch  # what importing it costs is not what listing or touching a tensor costs
        from ckptviewer.core import open_checkpoint
        from ckptviewer.core.tree import build_tree

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024

        before = rss()
        ckpt = open_checkpoint({str(path)!r})
        root = build_tree(ckpt)
        assert root.n_tensors == 24
        listed = rss() - before
        ckpt.tensor("layer0.weight").sum()  # touching one tensor maps only its pages
        print(listed, rss() - before)
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    listed, touched = map(int, r.stdout.split())
    assert listed < 30 * MiB, f"listing grew memory by {listed / MiB:.1f} MiB"
    assert touched < listed + 40 * MiB  # one 16 MiB tensor, not the 384 MiB file
