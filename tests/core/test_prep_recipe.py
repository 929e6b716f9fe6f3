"""The weight-preparation recipes are code: hostile key names and file names stay literals.

Hostile names (a newline then ``import os``, quotes that close a string) in every input of
an average, a resize, an EMA and an adapter: the script calls only allowlisted functions
(tests/core/test_recipe_safety.py), runs without creating the payload's marker file, and
writes what ckptviewer's own save writes, bit for bit.
"""

from __future__ import annotations

import json

import torch
from safetensors.torch import save_file

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import OPERATIONS
from ckptviewer.core.recipe import recipe
from ckptviewer.core.save import save
from tests.core.test_recipe_safety import HOSTILE, check_script, run


def test_hostile_names_through_every_preparation_stay_literals(tmp_path):
    marker = tmp_path / "PWNED"
    evil = HOSTILE[0].format(m=marker)  # a docstring closed, os.system, a docstring opened
    quote = HOSTILE[2].format(m=marker)  # a string closed
    paths = []
    for i in range(3):
        torch.manual_seed(i)
        sd = {f"fc{evil}.weight": torch.randn(4, 3), f"fc{evil}.bias": torch.randn(4), "n": torch.tensor(i)}
        sd = {"state_dict": sd, "state_dict_ema": {k: v + 1 for k, v in sd.items()}}
        path = tmp_path / f"m{i}{quote.replace('/', '_')}.pth"
        torch.save(sd, path)
        paths.append(path)
    adapter = tmp_path / f"adapter{quote.replace('/', '_')}"
    adapter.mkdir()
    save_file({f"base_model.model.fc{evil}.lora_A.weight": torch.randn(2, 3),
               f"base_model.model.fc{evil}.lora_B.weight": torch.randn(4, 2)},
              adapter / "adapter_model.safetensors")  # fmt: skip
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 2}))

    first, *others = [open_checkpoint(p, device="cpu") for p in paths]
    ckpt, _ = OPERATIONS["average"].apply(first, {"weights": ["1", "2", "3"]}, others)
    ckpt, _ = OPERATIONS["merge_lora"].apply(ckpt, {}, open_checkpoint(adapter, device="cpu"))
    ckpt, _ = OPERATIONS["resize_head"].apply(ckpt, {"keys": ["*fc*"], "rows": "6", "init": "normal"})
    ckpt, _ = OPERATIONS["take_ema"].apply(ckpt, {})
    text = recipe(ckpt, tmp_path / "out.pth")
    check_script(text)
    script = tmp_path / "recipe.py"
    script.write_text(text)
    r = run(script, tmp_path / "replayed.pth")
    assert r.returncode == 0, r.stderr
    assert not marker.exists(), "the recipe ran code from the file"
    save(ckpt, tmp_path / "saved.pth")
    saved, replayed = (torch.load(tmp_path / n, weights_only=True) for n in ("saved.pth", "replayed.pth"))
    assert list(saved) == list(replayed) == [f"fc{evil}.weight", f"fc{evil}.bias", "n"]
    assert all(torch.equal(saved[k], replayed[k]) for k in saved)
