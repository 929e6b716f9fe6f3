"""Stand-ins for torch's values named by a pickle while torch is not loaded (torch_values).

They must show exactly as torch's own objects do, become torch's own objects on demand, and
be inert: a pickle cannot call, instantiate, set state or items on them, and they refuse to
be pickled into an output. The hostile cases run in a child that has not imported torch,
since only there does the unpickler hand them out.
"""

from __future__ import annotations

import copy
import json
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from ckptviewer.core import torch_values
from ckptviewer.core.index import _NOT_SCALAR, _describe, _scalar
from ckptviewer.core.structure import safe_repr
from ckptviewer.core.torch_values import SizeValue, TorchValue

ROOT = Path(__file__).parents[2]


def test_tables_are_torchs_names():
    assert {n for n, v in vars(torch).items() if isinstance(v, torch.layout)} == torch_values.LAYOUTS
    assert {n for n, v in vars(torch).items() if isinstance(v, torch.qscheme)} == torch_values.QSCHEMES
    for name in torch_values.DEVICE_TYPES:
        assert torch.device(name).type == name


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float8_e4m3fn", "uint16", "qint8", "strided", "jagged",
                                  "per_tensor_affine", "per_channel_affine_float_qparams"])  # fmt: skip
def test_named_values_show_and_become_torchs_own(name):
    value = torch_values.named(name) or torch_values.layout(name)
    want = getattr(torch, name)
    assert value.real() is want and torch_values.real(value) is want
    assert str(value) == str(want) and repr(value) == repr(want)
    shown = _scalar(want) if _scalar(want) is not _NOT_SCALAR else _describe(want)  # a qscheme is described
    assert _scalar(value) == shown and safe_repr(value) == safe_repr(want)


@pytest.mark.parametrize("args", [("cpu",), ("cuda",), ("cuda:0",), ("cuda", 3), ("cpu", 0), ("meta",), ("mps", 127)])
def test_devices_show_as_torch_shows_them(args):
    value, want = torch_values.device(args), torch.device(*args)
    assert value is not None and value.real() == want
    assert str(value) == str(want) and repr(value) == repr(want) and safe_repr(value) == safe_repr(want)
    assert _scalar(value) == _scalar(want)


@pytest.mark.parametrize("args", [("CPU",), ("cuda:03",), ("cuda", 128), ("cuda", -1), ("cuda:1", 1), ("cpu", True),
                                  (0,), ("privateuseone",), ("cuda", 1, 2), ("c" * 100,)])  # fmt: skip
def test_devices_not_certain_without_torch_are_left_to_torch(args):
    assert torch_values.device(args) is None


def test_unknown_names_get_no_stand_in():
    assert torch_values.named("Tensor") is None and torch_values.named("__class__") is None
    assert torch_values.layout("torch.strided") is None  # the caller strips torch's prefix
    with pytest.raises(ValueError):
        TorchValue("dtype", "os").real()


def test_size_is_a_tuple_shown_as_a_list():
    value = SizeValue((2, 3))
    assert value == (2, 3) == torch.Size([2, 3]) and _scalar(value) == _scalar(torch.Size([2, 3])) == [2, 3]
    assert value.real() == torch.Size([2, 3]) and type(value.real()) is torch.Size


def test_stand_ins_are_read_only_and_never_pickled():
    value = TorchValue("dtype", "float16")
    with pytest.raises(AttributeError):
        value.name = "float32"
    with pytest.raises(AttributeError):
        value.other = 1
    assert not callable(value) and value == TorchValue("dtype", "float16") and len({value, copy.deepcopy(value)}) == 1
    for stand_in in (value, SizeValue((1,)), {"nested": [value]}):
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            with pytest.raises(TypeError, match="cannot be pickled"):
                pickle.dumps(stand_in, protocol=protocol)
        with pytest.raises(TypeError, match="cannot be pickled"):
            torch.save(stand_in, __import__("io").BytesIO())


# pickles that act on a stand-in: each must be refused without importing torch
_HOSTILE = {
    "call a dtype": b"\x80\x02ctorch\nfloat16\n)R.",
    "set state on a dtype": b"\x80\x02ctorch\nfloat16\n}X\x01\x00\x00\x00aK\x01sb.",
    "instantiate a dtype": b"\x80\x02ctorch\nfloat16\n)\x81.",
    "copyreg a dtype": b"\x80\x02ccopyreg\n_reconstructor\nctorch\nfloat16\ncbuiltins\nobject\nN\x87R.",
    "set an item on a device": b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85RK\x01K\x02s.",
    "set state on a device": b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85R}X\x01\x00\x00\x00aK\x01sb.",
    "call a device": b"\x80\x02ctorch\ndevice\nX\x03\x00\x00\x00cpu\x85R)R.",
    "append to a Size": b"\x80\x02ctorch\nSize\n(K\x02K\x03t\x85RK\x01a.",
    "set state on a Size": b"\x80\x02ctorch\nSize\n(K\x02K\x03t\x85R}X\x01\x00\x00\x00aK\x01sb.",
    "call a layout": b"\x80\x02ctorch.serialization\n_get_layout\nX\r\x00\x00\x00torch.strided\x85R)R.",
    "a Size of junk": b"\x80\x02ctorch\nSize\n(X\x01\x00\x00\x00at\x85R.",
}


def test_pickles_acting_on_stand_ins_are_refused_without_torch():
    code = textwrap.dedent("""
        import json, sys
        from ckptviewer.core.unpickle import restricted_loads
        from ckptviewer.core.torch_values import SizeValue, TorchValue
        out = {}
        for name, data in json.loads(sys.stdin.read()).items():
            try:
                out[name] = repr(restricted_loads(data.encode("latin-1")))
            except Exception as exc:
                out[name] = "refused: " + type(exc).__name__
        good = restricted_loads(b"\\x80\\x02]q\\x00(ctorch\\nbfloat16\\nctorch\\nSize\\n(K\\x02K\\x03t\\x85Re.")
        assert type(good[0]) is TorchValue and type(good[1]) is SizeValue, good
        print(json.dumps({"torch": "torch" in sys.modules, "results": out}))
    """)
    data = json.dumps({k: v.decode("latin-1") for k, v in _HOSTILE.items()})
    r = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    got = json.loads(r.stdout.strip().splitlines()[-1])
    for name, result in got["results"].items():
        assert result.startswith("refused:"), f"{name}: {result}"
    assert got["torch"] is False


def test_mutated_pickles_of_torch_values_never_import_torch_or_crash():
    """Every one-byte change of a pickle holding torch's values, read where torch cannot be
    imported (a mutated name outside the stand-in tables would load torch to judge it, which
    fails here and refuses that case): the child survives and whatever loads can be listed."""
    seed = pickle.dumps({"dtype": torch.bfloat16, "device": torch.device("cuda", 1), "shape": torch.Size([2, 3]),
                         "layout": torch.strided, "q": torch.per_tensor_affine, "k": {torch.int8: [torch.float16]}},
                        protocol=2)  # fmt: skip
    code = textwrap.dedent("""
        import sys

        class NoTorch:  # every stand-in path, never torch's
            def find_spec(self, name, path, target=None):
                if name.partition(".")[0] == "torch":
                    raise ImportError("torch is blocked here")

        sys.meta_path.insert(0, NoTorch())
        from ckptviewer.core.index import walk
        from ckptviewer.core.unpickle import restricted_loads
        seed = bytes.fromhex(sys.stdin.read())
        loaded = refused = 0
        for i in range(len(seed)):
            for b in (0x00, 0xFF, seed[i] ^ 1, ord("R"), ord("b"), ord("s"), 0x81, ord("a"), ord("u")):
                data = seed[:i] + bytes([b]) + seed[i + 1 :]
                try:
                    root = restricted_loads(data)
                except Exception:
                    refused += 1
                    continue
                walk(root)
                loaded += 1
        assert restricted_loads(seed)["shape"] == (2, 3)
        print(loaded, refused)
    """)
    r = subprocess.run([sys.executable, "-c", code], input=seed.hex(), capture_output=True, text=True, timeout=300,
                       cwd=ROOT)  # fmt: skip
    assert r.returncode == 0, r.stderr[-2000:]
    loaded, refused = map(int, r.stdout.split())
    assert loaded > 100 and refused > 100, (loaded, refused)
