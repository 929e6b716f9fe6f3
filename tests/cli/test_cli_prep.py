"""The real `ckpt average | merge-lora | take-ema | resize-head` in subprocesses, and the
recipe of each edit run as a script: both outputs equal, bit for bit, and load strictly.

Every run pays for importing torch, so the files are written once and every command
starts together on a thread pool in a module fixture; each test waits for its own. The
recipe replays (as many scripts again) are the slow part: ``make test-slow`` runs them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import OPERATIONS
from ckptviewer.core.recipe import recipe

# make test-slow (run by CI): ckpt in subprocesses over trained checkpoints (10 s to set up)
pytestmark = pytest.mark.slow

CKPT = Path(sys.executable).parent / "ckpt"
TIMEOUT = 180


class Net(nn.Module):
    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.bn = nn.BatchNorm2d(8)
        self.fc = nn.Linear(8, classes)


def ckpt(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    return subprocess.run([*exe, *map(str, args)], capture_output=True, text=True, timeout=TIMEOUT,
                          stdin=subprocess.DEVNULL, cwd=cwd)  # fmt: skip


def script(path: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path), str(out)], capture_output=True, text=True, timeout=TIMEOUT)


def write_inputs(d: Path) -> dict:
    """Three trained Nets (bf16), a training checkpoint with an EMA, a LoRA adapter folder."""
    states = []
    for i in range(3):
        torch.manual_seed(i)
        net = Net()
        net.bn.num_batches_tracked.fill_(i + 1)
        sd = {k: v.to(torch.bfloat16) if v.is_floating_point() else v for k, v in net.state_dict().items()}
        torch.save(sd, d / f"m{i}.pth")
        states.append(sd)
    bad = dict(states[1])
    bad["fc.weight"] = torch.zeros(4, 8, dtype=torch.bfloat16)
    torch.save(bad, d / "other.pth")
    ema = {k: v + 1 if v.is_floating_point() else v for k, v in Net().state_dict().items()}
    torch.save({"epoch": 9, "state_dict": Net().state_dict(), "state_dict_ema": ema}, d / "train.pth")
    adapter = d / "adapter"
    adapter.mkdir()
    torch.manual_seed(5)
    lora = {
        "base_model.model.fc.lora_A.weight": torch.randn(2, 8),
        "base_model.model.fc.lora_B.weight": torch.randn(10, 2),
    }
    save_file(lora, adapter / "adapter_model.safetensors")
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 3}))
    torch.save(Net().state_dict(), d / "base.pth")
    return {"states": states, "ema": ema, "lora": lora}


# name -> (command line, the same edit through the core for the recipe: (op, input, values, others))
RUNS = {
    "average": (["average", "m0.pth", "m1.pth", "m2.pth", "-o", "avg.safetensors", "--weights", "1", "1", "2"],
                ("average", "m0.pth", {"weights": ["1", "1", "2"]}, ["m1.pth", "m2.pth"])),
    "merge": (["merge-lora", "base.pth", "adapter", "-o", "merged.pth"], ("merge_lora", "base.pth", {}, "adapter")),
    "ema": (["take-ema", "train.pth", "-o", "ema.pth", "--json"], ("take_ema", "train.pth", {}, None)),
    "resize": (["resize-head", "m0.pth", "-o", "resized.pth", "--keys", "fc.*", "--rows", "12", "--init", "normal",
                "--seed", "3"],
               ("resize_head", "m0.pth", {"keys": ["fc.*"], "rows": "12", "init": "normal", "seed": "3"}, None)),
    "mismatch": (["average", "m0.pth", "other.pth", "-o", "refused.pth"], None),
    "dry": (["resize-head", "m0.pth", "-o", "dry.pth", "--keys", "fc.*", "--rows", "3", "--dry-run"], None),
}  # fmt: skip


def _recipe_for(d: Path, spec: tuple) -> Path:
    op, src, values, others = spec
    ckpt_in = open_checkpoint(d / src, device="cpu")
    if isinstance(others, list):
        other = [open_checkpoint(d / o, device="cpu") for o in others]
    else:
        other = open_checkpoint(d / others, device="cpu") if others else None
    new, _ = OPERATIONS[op].apply(ckpt_in, values, other)
    path = d / f"recipe_{op}.py"
    path.write_text(recipe(new))
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp("prep")
    inputs = write_inputs(d)
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures: dict[str, Future] = {name: pool.submit(ckpt, *argv, cwd=d) for name, (argv, _) in RUNS.items()}
        done = {name: f.result() for name, f in futures.items()}
    return d, inputs, done


@pytest.fixture(scope="module")
def replays(runs):
    """Each edit's recipe, written by the core and run as a script beside the CLI's output."""
    d, _, _ = runs
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = {
            name: pool.submit(
                script, _recipe_for(d, spec), d / f"replayed_{name}{Path(argv[argv.index('-o') + 1]).suffix}"
            )
            for name, (argv, spec) in RUNS.items()
            if spec is not None
        }
        return {f"recipe_{name}": f.result() for name, f in futures.items()}


def _ok(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 0, r.stderr
    assert r.stderr == "", r.stderr


def _load(path: Path) -> dict:
    return load_file(path) if path.suffix == ".safetensors" else torch.load(path, weights_only=True)


def assert_replayed_bit_for_bit(d: Path, done: dict, name: str) -> dict:
    argv = RUNS[name][0]
    out = d / argv[argv.index("-o") + 1]
    _ok(done[f"recipe_{name}"])
    wrote, replayed = _load(out), _load(d / f"replayed_{name}{out.suffix}")
    assert sorted(wrote) == sorted(replayed)
    for k in wrote:
        assert wrote[k].dtype == replayed[k].dtype and torch.equal(wrote[k], replayed[k]), k
    return wrote


def test_average_writes_the_weighted_float64_average_and_the_recipe_replays_it(runs):
    d, inputs, done = runs
    _ok(done["average"])
    assert done["average"].stdout.startswith("average: 8 of 9 model tensors weighted averaged over 3 checkpoints")
    out = _load(d / "avg.safetensors")
    states = inputs["states"]
    w = torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64)
    for k in ("conv.weight", "fc.bias"):
        want = (torch.stack([s[k] for s in states]).double() * w.reshape(-1, *[1] * states[0][k].dim())).sum(0)
        assert torch.equal(out[k], want.to(torch.bfloat16)), k
    assert out["bn.num_batches_tracked"].item() == 3
    Net().to(torch.bfloat16).load_state_dict(out, strict=True)


def test_average_of_different_models_is_refused_in_one_line_and_writes_nothing(runs):
    d, _, done = runs
    r = done["mismatch"]
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("\n") == 1
    assert "average refused: the inputs differ in 1 place: fc.weight: [10, 8] bfloat16 vs [4, 8] bfloat16" in r.stderr
    assert not (d / "refused.pth").exists()


def test_merge_lora_folds_the_adapter_and_the_recipe_replays_it(runs):
    d, inputs, done = runs
    _ok(done["merge"])
    assert "merge_lora: 1 of 9 model tensors merged with the LoRA adapter (scale 1.5)" in done["merge"].stdout
    out = _load(d / "merged.pth")
    base = torch.load(d / "base.pth", weights_only=True)
    lora = inputs["lora"]
    delta = 1.5 * (lora["base_model.model.fc.lora_B.weight"] @ lora["base_model.model.fc.lora_A.weight"])
    assert torch.allclose(out["fc.weight"], base["fc.weight"] + delta, rtol=0, atol=1e-6)
    assert torch.equal(out["conv.weight"], base["conv.weight"])
    Net().load_state_dict(out, strict=True)


def test_take_ema_writes_the_ema_as_the_model_and_the_recipe_replays_it(runs):
    d, inputs, done = runs
    _ok(done["ema"])
    report = json.loads(done["ema"].stdout)
    assert report["edit"]["op"] == "take_ema" and report["saved"]["verified"] is True
    out = _load(d / "ema.pth")
    net = Net()
    net.load_state_dict(out, strict=True)
    assert all(torch.equal(v, inputs["ema"][k]) for k, v in net.state_dict().items())


def test_resize_head_loads_into_the_new_model_and_the_recipe_draws_the_same_rows(runs):
    d, inputs, done = runs
    _ok(done["resize"])
    out = _load(d / "resized.pth")
    Net(12).to(torch.bfloat16).load_state_dict(out, strict=True)
    assert torch.equal(out["fc.weight"][:10], inputs["states"][0]["fc.weight"])
    assert out["fc.weight"][10:].std() > 0.005  # new rows drawn (normal, std 0.01)


def test_dry_run_writes_nothing(runs):
    d, _, done = runs
    _ok(done["dry"])
    assert done["dry"].stdout.rstrip().endswith("dry run: nothing written")
    assert not (d / "dry.pth").exists()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["average", "merge", "ema", "resize"])
def test_the_recipe_replays_what_the_cli_wrote_bit_for_bit(runs, replays, name):
    d, _, done = runs
    _ok(done[name])
    assert_replayed_bit_for_bit(d, replays, name)
