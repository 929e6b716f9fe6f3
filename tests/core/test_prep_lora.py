"""merge-lora against peft's own ``merge_and_unload`` on small models, bit for bit.

Adapters are trained-looking (``init_lora_weights=False``: B is not zero) and saved by
peft itself (``save_pretrained``); the base by ``torch.save``. The merged state_dict
written by ckptviewer must load strictly into the model and equal peft's merge exactly.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import EditError, merge_lora
from ckptviewer.core.edits.compute import MergedLoraTensor
from ckptviewer.core.edits.lora import pattern_value
from ckptviewer.core.save import save

peft = pytest.importorskip("peft")


class Mlp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList([nn.ModuleDict({"q": nn.Linear(12, 12), "v": nn.Linear(12, 12)})
                                     for _ in range(2)])  # fmt: skip
        self.out = nn.Linear(12, 5)


def merged_by_us(tmp_path: Path, base_sd: dict, adapter: Path) -> dict:
    torch.save(base_sd, tmp_path / "base.pth")
    base = open_checkpoint(tmp_path / "base.pth", device="cpu")
    new, _ = merge_lora(base, open_checkpoint(adapter, device="cpu"))
    save(new, tmp_path / "merged.pth", force=True)
    return torch.load(tmp_path / "merged.pth", weights_only=True)


def peft_case(tmp_path: Path, model: nn.Module, **config) -> tuple[dict, dict, Path]:
    """(base state_dict, peft's merged state_dict, the adapter folder peft saved)."""
    base_sd = copy.deepcopy(model.state_dict())
    lora = peft.get_peft_model(copy.deepcopy(model), peft.LoraConfig(init_lora_weights=False, **config))
    folder = tmp_path / "adapter"
    lora.save_pretrained(folder)
    return base_sd, lora.merge_and_unload().state_dict(), folder


def assert_equal_states(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for k in want:
        assert got[k].dtype == want[k].dtype and torch.equal(got[k], want[k]), k


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_merge_equals_peft_merge_and_unload(tmp_path, dtype):
    torch.manual_seed(0)
    model = Mlp().to(dtype)
    base_sd, want, folder = peft_case(tmp_path, model, r=4, lora_alpha=16, target_modules=["q", "v"])
    got = merged_by_us(tmp_path, base_sd, folder)
    assert_equal_states(got, want)
    assert not torch.equal(got["blocks.0.q.weight"], base_sd["blocks.0.q.weight"])  # it did merge something
    Mlp().to(dtype).load_state_dict(got, strict=True)


def test_rank_and_alpha_patterns_per_module(tmp_path):
    torch.manual_seed(1)
    config = dict(r=4, lora_alpha=8, target_modules=["q", "v", "out"],
                  rank_pattern={"blocks.1.q": 2, "out": 3}, alpha_pattern={"v": 32, r"blocks\.0\.q": 1})  # fmt: skip
    base_sd, want, folder = peft_case(tmp_path, Mlp(), **config)
    assert_equal_states(merged_by_us(tmp_path, base_sd, folder), want)
    base = open_checkpoint(tmp_path / "base.pth", device="cpu")
    _, report = merge_lora(base, open_checkpoint(folder, device="cpu"))
    scales = {key: scale for key, _, _, scale, _ in report.record.merged}
    assert scales["blocks.0.q.weight"] == 1 / 4 and scales["blocks.1.q.weight"] == 8 / 2
    assert scales["blocks.0.v.weight"] == 32 / 4 and scales["out.weight"] == 8 / 3


def test_rslora_scales_by_the_square_root_of_r(tmp_path):
    torch.manual_seed(2)
    base_sd, want, folder = peft_case(tmp_path, Mlp(), r=9, lora_alpha=6, use_rslora=True, target_modules=["out"])
    assert_equal_states(merged_by_us(tmp_path, base_sd, folder), want)
    base = open_checkpoint(tmp_path / "base.pth", device="cpu")
    _, report = merge_lora(base, open_checkpoint(folder, device="cpu"))
    assert report.record.merged[0][3] == 6 / 3
    assert report.summary == "1 of 10 model tensors merged with the LoRA adapter (scale 2, rsLoRA)"


def test_fan_in_fan_out_transposes_the_delta_as_peft_does_for_conv1d(tmp_path):
    pytorch_utils = pytest.importorskip("transformers.pytorch_utils")

    class Gpt2Block(nn.Module):  # GPT-2 keeps Linear weights as [in, out] in Conv1D
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = pytorch_utils.Conv1D(18, 6)  # nf=18 outputs, nx=6 inputs
            self.c_proj = pytorch_utils.Conv1D(6, 18)

    torch.manual_seed(3)
    model = Gpt2Block()
    for p in model.parameters():  # Conv1D starts from zero biases and N(0, 0.02): make them all count
        nn.init.normal_(p)
    base_sd, want, folder = peft_case(tmp_path, model, r=2, lora_alpha=4, fan_in_fan_out=True,
                                      target_modules=["c_attn", "c_proj"])  # fmt: skip
    assert json.loads((folder / "adapter_config.json").read_text())["fan_in_fan_out"] is True
    assert_equal_states(merged_by_us(tmp_path, base_sd, folder), want)


def test_a_hand_built_adapter_against_the_formula(tmp_path):
    """Adapter keys with the adapter name (.default), and the formula written out independently."""
    torch.manual_seed(4)
    base_sd = {"fc.weight": torch.randn(6, 4, dtype=torch.float64), "fc.bias": torch.randn(6, dtype=torch.float64)}
    a, b = torch.randn(3, 4, dtype=torch.float64), torch.randn(6, 3, dtype=torch.float64)
    folder = tmp_path / "adapter"
    folder.mkdir()
    save_file({"base_model.model.fc.lora_A.default.weight": a, "base_model.model.fc.lora_B.default.weight": b},
              folder / "adapter_model.safetensors")  # fmt: skip
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 3, "lora_alpha": 5}))
    got = merged_by_us(tmp_path, base_sd, folder)
    assert torch.allclose(got["fc.weight"], base_sd["fc.weight"] + 5 / 3 * (b @ a), rtol=0, atol=1e-12)
    assert torch.equal(got["fc.bias"], base_sd["fc.bias"])


def test_the_merge_is_deferred_until_saved(tmp_path):
    torch.manual_seed(0)
    base_sd, _, folder = peft_case(tmp_path, Mlp(), r=2, lora_alpha=2, target_modules=["out"])
    torch.save(base_sd, tmp_path / "base.pth")
    new, report = merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))
    assert isinstance(new.tensors["out.weight"].source, MergedLoraTensor)
    assert report.changed == ["out.weight"]
    assert folder / "adapter_model.safetensors" in new.input_files()


def _hand_adapter(folder: Path, tensors: dict, config: dict) -> Path:
    folder.mkdir()
    save_file(tensors, folder / "adapter_model.safetensors")
    (folder / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 2, **config}))
    return folder


def test_targets_missing_in_the_base_and_shapes_that_do_not_fit_are_refused_with_the_list(tmp_path):
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {"base_model.model.decoder.lora_A.weight": torch.zeros(2, 12),
            "base_model.model.decoder.lora_B.weight": torch.zeros(12, 2),
            "base_model.model.out.lora_A.weight": torch.zeros(2, 7),
            "base_model.model.out.lora_B.weight": torch.zeros(5, 2),
            "base_model.model.blocks.0.q.lora_A.weight": torch.zeros(2, 12)}  # fmt: skip
    folder = _hand_adapter(tmp_path / "adapter", lora, {})
    with pytest.raises(EditError) as info:
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))
    message = str(info.value)
    assert message.startswith("merge-lora refused: 3 adapter modules cannot be merged: ")
    assert "decoder.weight: not in the base model" in message
    assert "out.weight: [5, 12] cannot take B [5, 2] @ A [2, 7]" in message
    assert "blocks.0.q: lora_B is missing in the adapter" in message


@pytest.mark.parametrize(
    "config, said",
    [
        ({"use_dora": True}, "DoRA (use_dora)"),
        ({"peft_type": "IA3"}, "a IA3 adapter, not LoRA"),
        ({"modules_to_save": ["out"]}, "extra trained modules (modules_to_save)"),
        ({"lora_bias": True}, "LoRA biases (lora_bias)"),
    ],
)
def test_adapters_this_merge_would_get_wrong_are_refused(tmp_path, config, said):
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {
        "base_model.model.out.lora_A.weight": torch.zeros(2, 12),
        "base_model.model.out.lora_B.weight": torch.zeros(5, 2),
    }
    folder = _hand_adapter(tmp_path / "adapter", lora, config)
    with pytest.raises(EditError, match=re.escape(said)):
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))


def test_embedding_lora_is_refused_naming_the_tensors(tmp_path):
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {"base_model.model.emb.lora_embedding_A": torch.zeros(2, 12)}
    folder = _hand_adapter(tmp_path / "adapter", lora, {})
    with pytest.raises(EditError, match=r"1 adapter tensor that are not LoRA A/B .*emb\.lora_embedding_A"):
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))


def test_an_adapter_file_without_its_config_is_refused(tmp_path):
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {
        "base_model.model.out.lora_A.weight": torch.zeros(2, 12),
        "base_model.model.out.lora_B.weight": torch.zeros(5, 2),
    }
    save_file(lora, tmp_path / "lora.safetensors")
    with pytest.raises(EditError, match=r"no adapter_config\.json beside it; give the adapter's folder"):
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(tmp_path / "lora.safetensors"))


def test_pattern_matching_is_peft_s():
    patterns = {"q": 1, r"blocks\.1\.v": 2}
    assert pattern_value(patterns, "blocks.0.q", 9) == 1
    assert pattern_value(patterns, "q", 9) == 1
    assert pattern_value(patterns, "blocks.0.qq", 9) == 9  # ends at a dot boundary only
    assert pattern_value(patterns, "blocks.1.v", 9) == 2
    assert pattern_value(patterns, "blocks.0.v", 9) == 9
    for key in ("blocks.0.q", "q", "blocks.0.qq", "blocks.1.v"):  # as peft itself decides
        hit = peft.utils.other.get_pattern_key(list(patterns), key)
        assert pattern_value(patterns, key, 9) == patterns.get(hit, 9)


def test_a_pattern_that_could_backtrack_for_hours_is_refused(tmp_path):
    """Patterns come from the adapter's file: a repeated group such as (a+)+ is refused, not run."""
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {
        "base_model.model.out.lora_A.weight": torch.zeros(2, 12),
        "base_model.model.out.lora_B.weight": torch.zeros(5, 2),
    }
    folder = _hand_adapter(tmp_path / "adapter", lora, {"rank_pattern": {"(o+)+x": 4}})
    with pytest.raises(EditError, match=r"pattern '\(o\+\)\+x' is refused \(a repeated group"):
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))


@pytest.mark.parametrize("config", [{"r": 0}, {"lora_alpha": "big"}, {"rank_pattern": {"out": -1}}])
def test_ranks_and_alphas_that_are_no_numbers_are_refused(tmp_path, config):
    torch.save(Mlp().state_dict(), tmp_path / "base.pth")
    lora = {
        "base_model.model.out.lora_A.weight": torch.zeros(2, 12),
        "base_model.model.out.lora_B.weight": torch.zeros(5, 2),
    }
    folder = _hand_adapter(tmp_path / "adapter", lora, config)
    with pytest.raises(EditError, match=r"cannot be merged: out: the adapter config gives r="):
        merge_lora(open_checkpoint(tmp_path / "base.pth", device="cpu"), open_checkpoint(folder))
