"""Listing imports no torch (issue #14): `ckpt info`, `ckpt tree` and the window's open.

DCP folders and pickles naming torch's values (dtypes, torch.Size, devices) included: those
are held by name (torch_values). Each check runs in a child process, which starts without
torch: listing every format must leave ``torch`` out of ``sys.modules``, and give exactly
what the same commands give in a process where torch was imported first. The tables that let ckptviewer name dtypes,
storage classes and torch's allowlist without torch are checked against the installed torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from ckptviewer.core import NotACheckpointError, dtype_names, open_checkpoint
from ckptviewer.core.open import resolve_device, resolve_device_name
from ckptviewer.core.unpickle import ALLOWED_NAMES
from tests.models import SmallNet, lightning_checkpoint, training_checkpoint

# make test-slow (run by CI): each case a fresh interpreter that must not import torch
pytestmark = pytest.mark.slow

ROOT = Path(__file__).parents[2]
DATA = ROOT / "tests" / "data"


def _write_fixtures(folder: Path) -> dict[str, Path]:
    """One checkpoint of each format ckptviewer lists without torch."""
    from safetensors.torch import save_file

    model = SmallNet()
    sd = model.state_dict()
    out: dict[str, Path] = {}
    out["zip"] = folder / "state_dict.pth"
    torch.save(sd, out["zip"])
    out["legacy"] = folder / "legacy.pth"
    torch.save(sd, out["legacy"], _use_new_zipfile_serialization=False)
    out["training"] = folder / "training.pth"
    torch.save(training_checkpoint(model), out["training"])
    out["lightning"] = folder / "lightning.ckpt"
    torch.save(lightning_checkpoint(model), out["lightning"])
    out["mixed dtypes"] = folder / "mixed.pth"
    torch.save({"h": torch.ones(3, dtype=torch.float16), "b": torch.ones(2, dtype=torch.bfloat16),
                "i": torch.arange(4), "flag": torch.tensor([True]), "c": torch.ones(2, dtype=torch.complex64),
                "view": torch.arange(10.0)[2:5], "shared": sd["fc.weight"], "again": sd["fc.weight"]},
               out["mixed dtypes"])  # fmt: skip
    out["torch values"] = folder / "values.pth"
    torch.save({"w": sd["fc.weight"], "f8": torch.ones(3, dtype=torch.float8_e4m3fn),
                "u16": torch.tensor([1, 2, 60000], dtype=torch.uint16),
                "hparams": {"dtype": torch.bfloat16, "device": torch.device("cpu"), "cuda": torch.device("cuda", 1),
                            "shape": torch.Size([2, 3]), "layout": torch.strided, "qscheme": torch.per_tensor_affine,
                            "by_dtype": {torch.float16: "half"}}},
               out["torch values"])  # fmt: skip
    out["safetensors"] = folder / "model.safetensors"
    save_file({k: v.contiguous() for k, v in sd.items()}, str(out["safetensors"]), metadata={"format": "pt"})
    hf = out["hf sharded"] = folder / "hf"
    hf.mkdir()
    keys = list(sd)
    weight_map = {}
    for i, part in enumerate((keys[: len(keys) // 2], keys[len(keys) // 2 :])):
        name = f"model-0000{i + 1}-of-00002.safetensors"
        save_file({k: sd[k].contiguous() for k in part}, str(hf / name))
        weight_map.update(dict.fromkeys(part, name))
    (hf / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    bin_folder = out["hf bin shards"] = folder / "hf-bin"
    bin_folder.mkdir()
    torch.save({k: sd[k] for k in keys[:2]}, bin_folder / "pytorch_model-00001-of-00002.bin")
    torch.save({k: sd[k] for k in keys[2:]}, bin_folder / "pytorch_model-00002-of-00002.bin")
    bin_map = {k: f"pytorch_model-0000{1 if i < 2 else 2}-of-00002.bin" for i, k in enumerate(keys)}
    (bin_folder / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": bin_map}))
    peft = out["peft"] = folder / "adapter"
    peft.mkdir()
    lora = {
        "base_model.model.fc.lora_A.weight": torch.zeros(4, 8),
        "base_model.model.fc.lora_B.weight": torch.zeros(8, 4),
    }
    save_file(lora, str(peft / "adapter_model.safetensors"))
    (peft / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 8}))
    import warnings

    import torch.distributed.checkpoint as dcp

    trained = training_checkpoint(SmallNet())
    state = {"model": trained["model"], "optim": trained["optimizer"], "step": 3,
             "hparams": {"dtype": torch.float16, "shape": torch.Size([2])}}  # fmt: skip
    out["dcp"] = folder / "dcp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save(state, checkpoint_id=str(out["dcp"]))
    for data in sorted(DATA.glob("*.pth")):
        out[f"data/{data.name}"] = data
    return out


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> dict[str, Path]:
    return _write_fixtures(tmp_path_factory.mktemp("listing"))


# what a child prints: every listing command's output, per file; then whether torch was loaded
_CHILD = textwrap.dedent("""
    import contextlib, io, json, sys
    if sys.argv[1] == "preload":
        import torch  # noqa: F401
    from ckptviewer.cli import main
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.tree import build_tree

    out = {}
    for path in sys.argv[2:]:
        runs = {}
        for args in (["info", "--json"], ["tree", "--json"], ["info", "--all"], ["tree"]):
            buf = io.StringIO()
            with contextlib.redirect_stdout(buf):
                status = main([*args, path])
            runs[" ".join(args)] = [status, buf.getvalue()]
        with open_checkpoint(path) as ckpt:
            root = build_tree(ckpt)
            runs["open"] = [ckpt.format, ckpt.device_name, ckpt.n_tensors, root.n_tensors, ckpt.unsafe_globals,
                            [(e.key, e.shape, e.dtype_name, e.storage_key.split("/")[-1].split(":")[0], e.shared_with)
                             for e in ckpt.tensors.values()]]
        out[path] = runs
    print(json.dumps({"torch": "torch" in sys.modules, "runs": out}))
""")


def _child(mode: str, paths: list[Path]) -> dict:
    r = subprocess.run([sys.executable, "-c", _CHILD, mode, *map(str, paths)],
                       capture_output=True, text=True, timeout=600, cwd=ROOT)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_info_tree_and_open_of_every_format_import_no_torch_and_match_the_torch_path(fixtures):
    paths = list(fixtures.values())
    bare = _child("bare", paths)
    assert bare["torch"] is False, "listing imported torch"
    preloaded = _child("preload", paths)
    assert preloaded["torch"] is True
    for name, path in fixtures.items():
        got, want = bare["runs"][str(path)], preloaded["runs"][str(path)]
        assert got.keys() == want.keys()
        for command in got:
            assert got[command] == want[command], f"{name}: `{command}` differs with torch loaded"
        assert got["info --json"][0] == 0 and json.loads(got["info --json"][1])["tensors"], name


def test_dcp_folder_lists_without_torch(fixtures):
    """DCP's .metadata names dtypes and torch.Size as objects: listed by name (torch_values)."""
    bare = _child("bare", [fixtures["dcp"]])
    assert bare["torch"] is False
    out = json.loads(bare["runs"][str(fixtures["dcp"])]["info --json"][1])
    assert out["format"] == "dcp" and out["metadata"]["step"] == 3
    assert out["metadata"]["hparams"] == {"dtype": "float16", "shape": [2]}
    dtypes = {t["key"]: t["dtype"] for t in out["tensors"]}
    assert dtypes["model.fc.weight"] == "float32" and dtypes["optim.state.0.exp_avg"] == "float32"


def test_a_pickle_naming_torch_values_lists_them_without_torch(fixtures):
    """torch.Size, dtypes, devices as values: listed by name (torch_values), as torch shows them."""
    bare = _child("bare", [fixtures["torch values"]])
    assert bare["torch"] is False
    out = json.loads(bare["runs"][str(fixtures["torch values"])]["info --json"][1])
    assert out["metadata"]["hparams"] == {
        "dtype": "bfloat16", "device": "cpu", "cuda": "cuda:1", "shape": [2, 3], "layout": "strided",
        "qscheme": {"__class__": "torch.qscheme", "repr": "<torch.qscheme>"}, "by_dtype": {"torch.float16": "half"},
    }  # fmt: skip
    assert {t["key"]: t["dtype"] for t in out["tensors"]} == {"w": "float32", "f8": "float8_e4m3fn", "u16": "uint16"}


@pytest.mark.slow
def test_a_pickle_naming_an_unusual_torch_value_still_gets_torchs_own(tmp_path):
    """Values whose text ckptviewer cannot be sure of without torch (a device it does not know,
    a bare device index) are left to torch: torch is imported, the listing is the same."""
    path = tmp_path / "odd_device.pth"
    torch.save({"w": torch.ones(2), "dev": torch.device("privateuseone", 0), "t": torch.Tensor}, path)
    bare, preloaded = _child("bare", [path]), _child("preload", [path])
    assert bare["torch"] is True
    assert bare["runs"] == preloaded["runs"]


def test_saving_after_a_torch_free_listing_writes_torchs_own_values(tmp_path):
    """The stand-ins never reach a file: a save writes the real torch.float16, torch.Size ..."""
    src, out = tmp_path / "hp.pth", tmp_path / "saved.pth"
    hp = {"dtype": torch.float16, "device": torch.device("cuda", 0), "shape": torch.Size([4, 5]),
          "layout": torch.sparse_coo, "qscheme": torch.per_channel_affine}  # fmt: skip
    torch.save({"w": torch.arange(4.0), "hp": hp, "f8": torch.ones(2, dtype=torch.float8_e5m2)}, src)
    code = textwrap.dedent(f"""
        import sys
        from ckptviewer.core import open_checkpoint
        from ckptviewer.core.torch_values import SizeValue, TorchValue
        ckpt = open_checkpoint({str(src)!r})
        assert "torch" not in sys.modules
        assert type(ckpt.root["hp"]["dtype"]) is TorchValue and type(ckpt.root["hp"]["shape"]) is SizeValue
        from ckptviewer.core.save import save
        save(ckpt, {str(out)!r})
        print("saved")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "saved", r.stderr[-2000:]
    got = torch.load(out, weights_only=True)
    assert got["hp"]["dtype"] is torch.float16 and got["hp"]["layout"] is torch.sparse_coo
    assert got["hp"]["qscheme"] is torch.per_channel_affine and got["hp"]["device"] == torch.device("cuda", 0)
    # a Size is saved as the tuple it is, as a save of a torch-loaded tree writes it (structure.rebuild)
    assert tuple(got["hp"]["shape"]) == (4, 5)
    assert torch.equal(got["w"], torch.arange(4.0)) and got["f8"].dtype is torch.float8_e5m2


def test_reading_tensor_data_after_a_torch_free_listing_checks_the_zip_with_torch(fixtures):
    code = textwrap.dedent(f"""
        import sys
        from ckptviewer.core import open_checkpoint
        ckpt = open_checkpoint({str(fixtures["zip"])!r})
        assert "torch" not in sys.modules
        archive = ckpt.tensors["fc.weight"].source.storage.source
        assert archive._reader is None  # torch's reader is opened with the first data read
        t = ckpt.tensor("fc.weight")
        assert archive._reader is not None
        print(float(t.double().sum()))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    want = torch.load(fixtures["zip"], weights_only=True)["fc.weight"].double().sum()
    assert float(r.stdout) == pytest.approx(float(want))


def test_the_allowlist_names_are_torchs_own():
    from torch._weights_only_unpickler import _get_allowed_globals

    assert set(_get_allowed_globals()) == ALLOWED_NAMES


def test_dtype_tables_match_torch():
    dtypes = {str(v).removeprefix("torch."): v for v in vars(torch).values() if isinstance(v, torch.dtype)}
    assert set(dtypes) == set(dtype_names.ITEMSIZE)
    for name, dtype in dtypes.items():
        assert dtype_names.itemsize(name) == dtype.itemsize, name
        assert (name in dtype_names.FLOATING) == dtype.is_floating_point, name
        assert (name in dtype_names.COMPLEX) == dtype.is_complex, name
        assert dtype_names.torch_dtype(name) is dtype
    from torch.storage import _get_dtype_from_pickle_storage_type

    for storage, name in dtype_names.STORAGE_DTYPES.items():
        want = torch.uint8 if storage == "UntypedStorage" else _get_dtype_from_pickle_storage_type(storage)
        assert dtypes[name] is want, storage
    assert {n for n in ALLOWED_NAMES if n.startswith("torch.") and n.endswith("Storage")} - {
        f"{m}.{s}" for m in ("torch", "torch.cuda") for s in dtype_names.STORAGE_DTYPES
    } == {"torch.storage.TypedStorage", "torch.storage.UntypedStorage"}
    from ckptviewer.core.dtypes import QUANTIZED

    assert {str(d).removeprefix("torch.") for d in QUANTIZED} == dtype_names.QUANTIZED


@pytest.mark.parametrize("device", ["auto", "cpu", "CPU "])
def test_device_names_without_torch_are_what_torch_says(device):
    assert resolve_device_name(device) == str(resolve_device(device))


def test_a_zip_torch_cannot_read_lists_but_no_data_is_served(tmp_path):
    """Junk before the archive: Python's zipfile reads past it, torch's reader does not. Listing
    (zipfile only) shows the keys; the first data read asks torch's reader and refuses, with the
    message opening used to give when torch's reader came first."""
    good = tmp_path / "good.pth"
    torch.save({"w": torch.arange(4.0)}, good)
    path = tmp_path / "junk_before.pth"
    path.write_bytes(b"PK\x03\x04" + b"x" * 96 + good.read_bytes())
    with open_checkpoint(path) as ckpt:
        assert list(ckpt.tensors) == ["w"] and ckpt.tensors["w"].shape == (4,)
        with pytest.raises(NotACheckpointError, match="not a readable checkpoint: a zip archive that torch's reader"):
            ckpt.tensor("w")
        with pytest.raises(NotACheckpointError):  # and on every later read
            ckpt.tensor("w")


def test_saving_a_dcp_folder_listed_without_torch(fixtures, tmp_path):
    out = tmp_path / "from_dcp.pth"
    code = textwrap.dedent(f"""
        import sys
        from ckptviewer.core import open_checkpoint
        ckpt = open_checkpoint({str(fixtures["dcp"])!r})
        assert "torch" not in sys.modules
        from ckptviewer.core.save import save
        save(ckpt, {str(out)!r})
        print("saved")
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "saved", r.stderr[-2000:]
    import warnings

    import torch.distributed.checkpoint as dcp

    want = {"model": {k: torch.zeros_like(v) for k, v in SmallNet().state_dict().items()}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # single process
        dcp.load(want, checkpoint_id=str(fixtures["dcp"]))
    got = torch.load(out, weights_only=True)
    assert got["hparams"]["dtype"] is torch.float16 and tuple(got["hparams"]["shape"]) == (2,) and got["step"] == 3
    assert got["model"].keys() == want["model"].keys()
    for k, v in want["model"].items():
        assert torch.equal(got["model"][k], v), k


def test_torch_export_archive_lists_without_torch(tmp_path):
    """A .pt2 from torch.export.save (#15): its JSON configs and records are read without torch."""
    from tests.core.test_pt2 import ConvBN

    path = tmp_path / "exported.pt2"
    torch.export.save(torch.export.export(ConvBN().eval(), (torch.randn(1, 3, 8, 8),)), path)
    bare = _child("bare", [path])
    assert bare["torch"] is False, "listing a .pt2 imported torch"
    out = json.loads(bare["runs"][str(path)]["info --json"][1])
    with open_checkpoint(path) as ckpt:  # the same listing where torch is loaded (this process)
        assert [[t["key"], t["shape"], t["dtype"]] for t in out["tensors"]] == [
            [e.key, list(e.shape), e.dtype_name] for e in ckpt.tensors.values()
        ]
        assert out["metadata"] == json.loads(json.dumps(ckpt.metadata))
    assert out["format"] == "torch-export" and len(out["tensors"]) == 9
    assert out["metadata"]["torch.export"]["operators"]["aten.conv2d.default"] == 1


def test_gguf_lists_without_torch_or_the_gguf_package(tmp_path):
    """GGUF (issue 15): info, tree and open import neither torch nor gguf/numpy, and list
    exactly what a torch-loaded process lists."""
    from tests.core.test_gguf import write_model

    path = tmp_path / "model.gguf"
    write_model(path)
    bare, preloaded = _child("bare", [path]), _child("preload", [path])
    assert bare["torch"] is False
    assert bare["runs"] == preloaded["runs"]
    out = json.loads(bare["runs"][str(path)]["info --json"][1])
    assert out["format"] == "gguf" and out["metadata"]["gguf"]["general.architecture"] == "llama"
    code = f"import sys; from ckptviewer.core import open_checkpoint; open_checkpoint({str(path)!r}).close(); " \
           "print(sorted(m for m in ('torch', 'gguf', 'numpy') if m in sys.modules))"  # fmt: skip
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr[-2000:]
