"""Cancellation reaches inside long operations: the unpickler, shard loops, indexing, edits, exports."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core.edits.registry import OPERATIONS
from ckptviewer.core.export import export_npy
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope, check_current
from ckptviewer.core.tree import build_tree


class CountingToken(CancelToken):
    """A token that counts how often it is asked, and cancels itself at the ``at``-th question."""

    def __init__(self, at: int | None = None) -> None:
        super().__init__()
        self.asked, self.at = 0, at

    def raise_if_cancelled(self) -> None:
        self.asked += 1
        if self.at is not None and self.asked >= self.at:
            self.cancel()
        super().raise_if_cancelled()


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    path = tmp_path_factory.mktemp("many") / "many.pth"
    torch.save({"model": {f"layer{i}.weight": torch.zeros(2) for i in range(3000)}, "epoch": 3}, path)
    return path


def test_check_current_without_a_scope_does_nothing():
    check_current()
    token = CancelToken()
    token.cancel()
    with cancel_scope(token), pytest.raises(Cancelled):
        check_current()
    check_current()  # the scope ended with the block


def test_cancelled_is_not_an_exception_so_error_wrappers_do_not_swallow_it():
    assert not issubclass(Cancelled, Exception)


def test_open_asks_the_token_inside_its_phases(many):
    token = CountingToken()
    ckpt = open_checkpoint(many, cancel=token)
    assert len(ckpt.tensors) == 3000
    # two questions come from between the phases; the rest from inside the unpickler and the index
    assert token.asked > 1000


@pytest.mark.parametrize("at", [3, 50, 500, 3000])
def test_a_cancel_inside_open_stops_it(many, at):
    token = CountingToken(at=at)
    with pytest.raises(Cancelled):
        open_checkpoint(many, cancel=token)
    assert token.asked == at  # stopped at the first question after the cancel


def sharded(folder: Path, per_shard: int) -> Path:
    """A Hugging Face folder of four safetensors shards and its index; returns the index."""
    weight_map = {}
    for s in range(4):
        name = f"model-0000{s + 1}-of-00004.safetensors"
        save_file({f"l{s}.{i}": torch.ones(3) for i in range(per_shard)}, folder / name)
        weight_map.update({f"l{s}.{i}": name for i in range(per_shard)})
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"weight_map": weight_map}))
    return index


def test_a_cancel_between_shards_stops_and_closes_what_was_mapped(tmp_path):
    index = sharded(tmp_path, 10)
    assert len(open_checkpoint(index).tensors) == 40
    token = CountingToken(at=4)
    with pytest.raises(Cancelled):
        open_checkpoint(index, cancel=token)
    gc.collect()
    assert str(tmp_path) not in Path("/proc/self/maps").read_text()


def test_a_cancel_stops_the_tree_build(many):
    ckpt = open_checkpoint(many)
    token = CountingToken(at=100)
    with cancel_scope(token), pytest.raises(Cancelled):
        build_tree(ckpt)
    assert token.asked == 100


def test_a_cancel_stops_an_edit(many):
    ckpt = open_checkpoint(many)
    token = CancelToken()
    token.cancel()
    with cancel_scope(token), pytest.raises(Cancelled):
        OPERATIONS["rename"].apply(ckpt, {"pattern": r"^layer1\.", "repl": "first."})
    new, _ = OPERATIONS["drop"].apply(ckpt, {"keys": ["model.layer1.*"]})  # outside the scope: runs
    assert len(new.tensors) < len(ckpt.tensors)


def test_a_cancelled_npy_export_leaves_no_file(tmp_path):
    src = tmp_path / "big.pt"
    torch.save({"w": torch.zeros(3 << 20)}, src)  # 12 MiB: one chunk
    ckpt = open_checkpoint(src)
    out = tmp_path / "w.npy"
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        export_npy(ckpt, "w", out, cancel=token)
    assert list(tmp_path.iterdir()) == [src]
    seen = []
    export_npy(ckpt, "w", out, progress=seen.append)
    assert seen[-1].done == seen[-1].total == 12 << 20


def test_a_sharded_folder_reports_each_shard_inside_the_reading_phase(tmp_path):
    sharded(tmp_path, 3)
    seen = []
    open_checkpoint(tmp_path, progress=seen.append)
    shards = [p for p in seen if p.message.startswith("Reading shard")]
    assert [p.message for p in shards] == [f"Reading shard {i} of 4" for i in range(1, 5)]
    fractions = [p.fraction for p in seen]
    assert fractions == sorted(fractions)  # the bar never goes back
    assert all(1 / 3 <= p.fraction < 2 / 3 for p in shards)  # inside the reading phase
    assert seen[-1].fraction == 1.0
