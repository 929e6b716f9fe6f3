"""The exported recipe is code: nothing from a checkpoint may become code in it.

File names, keys, global names and graft source paths with quotes, triple quotes,
newlines and carriage returns enter the script only as literals; the script never loads
with ``weights_only=False``; every call in it is one of a fixed set.
"""

from __future__ import annotations

import ast
import collections
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import drop, graft, rename, strip
from ckptviewer.core.recipe import RecipeError, recipe
from ckptviewer.core.save import _bit_equal, save
from tests.hostile.corpus import PROTO4, STOP, payload, tensor_v2, torch_zip
from tests.hostile_pickles import EMPTY_DICT, MARK, SETITEMS, U

# every function or method the generated script may call
ALLOWED_CALLS = {
    "argparse.Namespace", "cast_keys", "children", "dict", "drop_paths", "enumerate", "flatten",
    "flatten(ckpt).items", "get_at", "getattr", "isinstance", "kept.append", "len", "list", "load_file",
    "mapping.get", "meta.items", "meta_mapping.get", "name", "new.__dict__.update", "obj.detach",
    "obj.detach().to", "obj.items", "obj.storage_offset", "obj.stride", "obj.untyped_storage",
    "obj.untyped_storage().data_ptr", "out.update", "print", "rebuild", "rename_keys", "replace_at", "save_file",
    "sd.items", "set", "str", "t.contiguous", "target_sd.items", "torch.load", "torch.save",
    "torch.serialization.safe_globals", "tuple", "type", "type(meta)", "type(obj)", "vars", "vars(obj).items",
    "OUTPUT.endswith", "numpy.dtype", "dict.items", "key_name", "safe_repr", "repr", "value.bit_length", "hasattr",
    "', '.join", "abs", "k.decode",
    # the weight-preparation arithmetic (core/edits/compute.py, carried verbatim) and its replays
    "average_of", "lora_merged", "resized_rows", "put_tensors", "new.get", "new.update", "zip", "min", "math.sqrt",
    "t.detach", "t.to", "tensors[0].to", "acc.add_", "acc.div_", "acc.mul_", "acc.to", "weight.detach",
    "weight.clone", "lora_a.detach", "lora_a.float", "lora_b.detach", "lora_b.float", "delta.to", "tensor.detach",
    "tensor.dim", "torch.zeros", "torch.Generator", "torch.Generator().manual_seed", "new.normal_", "new.uniform_",
    "new.to", "torch.cat", "torch.empty", "acc.copy_",
}  # fmt: skip

HOSTILE = [
    '"""\nimport os; os.system("touch {m}")\n"""',
    "x\r__import__('os').system('touch {m}')#",
    "'; __import__('os').system('touch {m}'); '",
    "\\\nimport os\nos.system('touch {m}')\n#",
]


def calls(text: str) -> set[str]:
    try:
        return {ast.unparse(n.func) for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call)}
    except SystemError:
        # CPython 3.11's "AST constructor recursion depth mismatch": after an earlier test's RecursionError the
        # process's AST state can be off; the same question asked in a fresh interpreter
        code = ("import ast, json, sys; t = sys.stdin.read(); print(json.dumps(sorted({ast.unparse(n.func) "
                "for n in ast.walk(ast.parse(t)) if isinstance(n, ast.Call)})))")  # fmt: skip
        out = subprocess.run([sys.executable, "-c", code], input=text, capture_output=True, text=True, check=True)
        return set(json.loads(out.stdout))


def check_script(text: str) -> None:
    assert "weights_only=False" not in text
    extra = calls(text) - ALLOWED_CALLS
    assert not extra, f"calls outside the allowlist: {extra}"


def run(script, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(script), *map(str, args)], capture_output=True, text=True, timeout=120,
        cwd=str(script.parent),
    )  # fmt: skip


def _hostile_replay(tmp_path: Path, i: int):
    """Write the recipe for hostile name ``i``, check it, and replay it in a child process."""
    marker = tmp_path / "PWNED"
    evil = HOSTILE[i].format(m=marker)
    src = tmp_path / f"model{evil.replace('/', '_')}.pth"
    torch.save({f"module.w{evil}": torch.arange(4.0), "module.b": torch.ones(2)}, src)
    ckpt, _ = strip(open_checkpoint(src))
    ckpt, _ = rename(ckpt, "^b$", evil.replace("\\", "\\\\"))
    text = recipe(ckpt, tmp_path / "out.pth")
    check_script(text)
    script = tmp_path / "recipe.py"
    script.write_text(text)
    out = tmp_path / "replayed.pth"
    return marker, ckpt, out, run(script, out)


@pytest.fixture(scope="module")
def hostile_replays(tmp_path_factory):
    """Every hostile name's replay, started together (one per core): each child spends seconds importing
    torch. A failure inside one (a script outside the allowlist) is raised in that case's test."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        yield [pool.submit(_hostile_replay, tmp_path_factory.mktemp(f"hostile{i}"), i) for i in range(len(HOSTILE))]


@pytest.mark.parametrize("i", range(len(HOSTILE)))
def test_hostile_file_names_keys_and_renames_stay_literals(hostile_replays, i):
    marker, ckpt, out, r = hostile_replays[i].result()
    tmp_path = marker.parent
    assert r.returncode == 0, r.stderr
    assert not marker.exists(), "the recipe ran code from the file"
    save(ckpt, tmp_path / "gui.pth")
    a, b = open_checkpoint(tmp_path / "gui.pth"), open_checkpoint(out)
    assert list(a.tensors) == list(b.tensors)
    assert all(_bit_equal(a.tensor(k), b.tensor(k)) for k in a.tensors)


def test_graft_source_path_with_a_newline_stays_a_literal(tmp_path):
    marker = tmp_path / "PWNED"
    target = tmp_path / "target.pth"
    source = tmp_path / f"src\nimport os; os.system('touch {marker.name}')\n.pth"
    torch.save({"w": torch.zeros(3), "b": torch.zeros(1)}, target)
    torch.save({"module.w": torch.ones(3), "module.b": torch.ones(1)}, source)
    ckpt, _ = graft(open_checkpoint(target), open_checkpoint(source))
    text = recipe(ckpt)
    check_script(text)
    assert "import os" not in "".join(line for line in text.splitlines() if not line.lstrip().startswith(("SOURCE",)))
    script = tmp_path / "recipe.py"
    script.write_text(text)
    r = run(script, tmp_path / "out.pth")
    assert r.returncode == 0, r.stderr
    assert not marker.exists()
    assert torch.equal(torch.load(tmp_path / "out.pth")["w"], torch.ones(3))


def test_a_file_with_blocked_globals_gets_no_recipe(tmp_path):
    marker = tmp_path / "PWNED"
    body = EMPTY_DICT + MARK + U("w") + tensor_v2("0", 4, (4,), (1,)) + U("x") + payload() + SETITEMS
    path = torch_zip(tmp_path / "system.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})
    ckpt = open_checkpoint(path)
    assert ckpt.blocked_globals == ["posix.system"]
    edited, _ = rename(ckpt, "^w$", "v")
    with pytest.raises(RecipeError, match="not executed"):
        recipe(edited)
    dropped, _ = drop(edited, ["x"])  # without the placeholder the edits still cannot be replayed
    with pytest.raises(RecipeError, match="weights_only=False"):
        recipe(dropped)
    assert not marker.exists()


def test_a_global_name_with_newlines_never_reaches_the_script(tmp_path):
    from tests.hostile.corpus import SG

    name = "evil\nimport os\nos.system('touch x')\n"
    body = EMPTY_DICT + MARK + U("w") + tensor_v2("0", 4, (4,), (1,)) + U("g") + SG(name, name) + SETITEMS
    path = torch_zip(tmp_path / "g.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})
    ckpt, _ = rename(open_checkpoint(path), "^w$", "v")
    with pytest.raises(RecipeError) as info:
        recipe(ckpt)
    assert "import os" not in str(info.value)


def test_inert_types_are_allowlisted_exactly(tmp_path):
    import argparse
    import datetime
    import pathlib

    import numpy as np

    path = tmp_path / "train.pth"
    args = argparse.Namespace(lr=0.1, out=pathlib.PurePosixPath("/x"))
    torch.save({"model": {"module.w": torch.ones(2)}, "args": args, "when": datetime.date(2026, 1, 2),
                "rng": np.arange(3)}, path)  # fmt: skip
    ckpt, _ = strip(open_checkpoint(path))
    text = recipe(ckpt)
    check_script(text)
    load = next(line for line in text.splitlines() if "safe_globals" in line)
    for name in ("argparse.Namespace", "datetime.date", "numpy.ndarray", "numpy.dtype"):
        assert name in load
    script = tmp_path / "recipe.py"
    script.write_text(text)
    r = run(script, tmp_path / "out.pth")
    assert r.returncode == 0, r.stderr


def test_a_defaultdict_opens_but_cannot_be_replayed_with_weights_only(tmp_path):
    """torch.load(weights_only=True) refuses SETITEM on a defaultdict: no recipe, a clear reason."""
    path = tmp_path / "dd.pth"
    torch.save({"module.w": torch.ones(2), "counts": collections.defaultdict(list, {"a": [1]})}, path)
    ckpt = open_checkpoint(path)
    assert ckpt.metadata["counts"] == {"a": [1]}  # listed: a defaultdict(list) is inert data
    with pytest.raises(RecipeError, match="defaultdict"):
        recipe(strip(ckpt)[0])
