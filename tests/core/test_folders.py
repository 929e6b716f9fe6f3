"""Folders: Hugging Face sharded weights, single-file folders, PEFT adapters; flavors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.summary import info_document
from ckptviewer.core.tree import build_tree
from tests.models import SmallNet, lightning_checkpoint, training_checkpoint


def shard(sd: dict, folder: Path, n: int = 3, safetensors: bool = True) -> list[str]:
    """Write ``sd`` as ``n`` shards plus the index, the way transformers' save_pretrained lays them out."""
    keys = list(sd)
    ext, index_name = (
        ("safetensors", "model.safetensors.index.json") if safetensors else ("bin", "pytorch_model.bin.index.json")
    )
    stem = "model" if safetensors else "pytorch_model"
    weight_map = {}
    for i in range(n):
        name = f"{stem}-{i + 1:05d}-of-{n:05d}.{ext}"
        part = {k: sd[k].contiguous() for k in keys[i::n]}
        if safetensors:
            save_file(part, folder / name, metadata={"format": "pt"})
        else:
            torch.save(part, folder / name)
        weight_map.update({k: name for k in part})
    (folder / index_name).write_text(json.dumps({"metadata": {"total_size": 1}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "smallnet", "hidden_size": 8}))
    return keys


@pytest.mark.parametrize("safetensors", [True, False], ids=["safetensors", "bin"])
def test_sharded_folder_is_one_tree_in_index_order(tmp_path, safetensors):
    sd = SmallNet().state_dict()
    shard(sd, tmp_path, safetensors=safetensors)
    ckpt = open_checkpoint(tmp_path)
    assert ckpt.format == "hf-sharded" and ckpt.warnings == []
    assert set(ckpt.tensors) == set(sd) and ckpt.state_dict_key == ""
    assert all(torch.equal(ckpt.tensor(k), v) for k, v in sd.items())
    assert ckpt.metadata["config"]["model_type"] == "smallnet"
    assert ckpt.metadata["index_metadata"] == {"total_size": 1}
    assert [c.name for c in build_tree(ckpt).find("blocks").children] == [str(i) for i in range(12)]
    index = next(tmp_path.glob("*.index.json"))
    assert open_checkpoint(index).n_tensors == len(sd)  # the index file itself opens too


def test_missing_shard_shows_what_is_there_and_says_what_is_not(tmp_path):
    sd = SmallNet().state_dict()
    shard(sd, tmp_path)
    missing = sorted(tmp_path.glob("model-00002-*.safetensors"))[0]
    missing.unlink()
    ckpt = open_checkpoint(tmp_path)
    assert 0 < ckpt.n_tensors < len(sd)
    assert any(missing.name in w and "missing" in w for w in ckpt.warnings)
    for f in tmp_path.glob("model-*.safetensors"):
        f.unlink()
    with pytest.raises(CheckpointError, match="none of the 3 shards"):
        open_checkpoint(tmp_path)


def test_index_naming_a_file_outside_the_folder_is_refused(tmp_path):
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": {"w": "../../etc/passwd"}}))
    with pytest.raises(CheckpointError, match="outside the folder"):
        open_checkpoint(tmp_path)
    (tmp_path / "model.safetensors.index.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        open_checkpoint(tmp_path)


def test_single_file_folder_and_peft_adapter(tmp_path):
    sd = SmallNet().state_dict()
    single = tmp_path / "single"
    single.mkdir()
    save_file({k: v.contiguous() for k, v in sd.items()}, single / "model.safetensors")
    (single / "config.json").write_text(json.dumps({"model_type": "x"}))
    ckpt = open_checkpoint(single)
    assert ckpt.format == "safetensors" and ckpt.metadata["config"] == {"model_type": "x"}
    peft = tmp_path / "adapter"
    peft.mkdir()
    base = "base_model.model.layers.0.self_attn.q_proj"
    save_file({f"{base}.lora_A.weight": torch.randn(4, 16), f"{base}.lora_B.weight": torch.zeros(16, 4)},
              peft / "adapter_model.safetensors")  # fmt: skip
    (peft / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8}))
    ckpt = open_checkpoint(peft)
    assert ckpt.format == "peft" and ckpt.metadata["adapter_config"]["r"] == 4
    layer = build_tree(ckpt).find(base)
    assert [c.name for c in layer.children] == ["lora_A", "lora_B"]  # grouped under their base layer


def test_folders_that_are_not_checkpoints(tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(CheckpointError, match=r"without a checkpoint.*notes\.txt"):
        open_checkpoint(tmp_path)
    (tmp_path / ".metadata").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="DCP"):
        open_checkpoint(tmp_path)


def test_flavors(tmp_path):
    model = SmallNet()
    cases = {
        "lightning": lightning_checkpoint(model),
        "training-checkpoint": training_checkpoint(SmallNet()),
        "whole-model": model,
        "ddp": {f"module.{k}": v for k, v in model.state_dict().items()},
        None: model.state_dict(),
    }
    for flavor, obj in cases.items():
        path = tmp_path / f"{flavor}.pth"
        torch.save(obj, path)
        ckpt = open_checkpoint(path)
        assert ckpt.flavor == flavor and info_document(ckpt)["flavor"] == flavor
    lightning = lightning_checkpoint(model)
    del lightning["state_dict"]
    torch.save(lightning, tmp_path / "no_sd.ckpt")
    ckpt = open_checkpoint(tmp_path / "no_sd.ckpt")
    assert any("without a 'state_dict'" in w for w in ckpt.warnings)
    assert "optimizer_states.0.state.0.momentum_buffer" in ckpt.tensors  # the rest is still shown


def test_convert_shards_into_one_file(tmp_path):
    sd = SmallNet().state_dict()
    folder = tmp_path / "shards"
    folder.mkdir()
    shard(sd, folder)
    exe = [sys.executable, "-m", "ckptviewer", "convert"]
    outs = (tmp_path / "one.safetensors", tmp_path / "one.pth")
    # both conversions at once: each process spends most of its time importing torch on one core
    procs = [subprocess.Popen([*exe, str(folder), "-o", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for out in outs]  # fmt: skip
    for out, proc in zip(outs, procs):
        _, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        got = load_file(out) if out.suffix == ".safetensors" else torch.load(out, weights_only=True)
        assert set(got) == set(sd) and all(torch.equal(got[k], v) for k, v in sd.items())
