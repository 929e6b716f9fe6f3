"""The layer tree built from dotted keys."""

from __future__ import annotations

import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.tree import build_tree
from tests.models import SmallNet, TiedLM


def test_hierarchy_aggregates_and_numeric_order(tmp_path):
    model = SmallNet()
    path = tmp_path / "m.pth"
    torch.save(model.state_dict(), path)
    root = build_tree(open_checkpoint(path))
    assert [c.name for c in root.children] == ["conv1", "bn1", "blocks", "fc"]
    blocks = root.find("blocks")
    assert [c.name for c in blocks.children] == [str(i) for i in range(12)]
    assert blocks.n_params == sum(p.numel() for p in model.blocks.parameters())
    assert blocks.n_tensors == 24
    bn = root.find("bn1")
    assert bn.n_params == 16 and bn.n_buffers == 8 * 2 + 1
    assert root.n_params == sum(p.numel() for p in model.parameters())
    assert root.find("blocks.3.weight").entry.shape == (8, 8)
    assert root.find("blocks.3.weight").parent is root.find("blocks.3")
    assert root.dtypes == {"float32": root.n_elements - 1, "int64": 1}
    assert [n.row for n in blocks.children] == list(range(12))


def test_text_sorted_numeric_keys_come_out_numeric(tmp_path):
    from safetensors.torch import save_file

    path = tmp_path / "m.safetensors"  # safetensors stores keys sorted as text: 0, 1, 10, 11, 2, ...
    save_file({f"layers.{i}.w": torch.ones(1) for i in range(12)}, path)
    root = build_tree(open_checkpoint(path))
    assert [c.name for c in root.find("layers").children] == [str(i) for i in range(12)]


def test_shared_storage_bytes_counted_once_per_subtree(tmp_path):
    path = tmp_path / "tied.pth"
    torch.save(TiedLM().state_dict(), path)
    root = build_tree(open_checkpoint(path))
    one = 50 * 16 * 4
    assert root.find("embed").nbytes == one and root.find("head").nbytes == one
    assert root.nbytes == one
    assert root.n_params == 2 * 50 * 16


def test_to_json_depth(tmp_path):
    path = tmp_path / "m.pth"
    torch.save(SmallNet().state_dict(), path)
    doc = build_tree(open_checkpoint(path)).to_json(depth=1)
    assert [c["name"] for c in doc["children"]] == ["conv1", "bn1", "blocks", "fc"]
    assert all("children" not in c for c in doc["children"])
    leaf = build_tree(open_checkpoint(path)).find("fc.weight").to_json()
    assert leaf["shape"] == [4, 8] and leaf["dtype"] == "float32" and leaf["role"] == "parameter"
