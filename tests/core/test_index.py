"""The index walk (ckptviewer.core.index), unit by unit, on objects built in the test.

``walk`` names every tensor by its dotted key, records the containers that hold tensors
directly, and turns everything else into JSON-safe metadata: tensor-only subtrees are
pruned, cycles and over-deep nesting are reported instead of followed, keys are bounded,
and a cancel stops it.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import enum
import json
import math
import pathlib
from collections.abc import Mapping

import numpy as np
import pytest
import torch
from torch import nn

from ckptviewer.core.errors import CheckpointError
from ckptviewer.core.index import (
    MAX_DEPTH,
    MAX_KEY,
    MAX_KEYS_TOTAL,
    MAX_LIST_METADATA,
    MAX_STRING,
    Walk,
    is_tensor,
    walk,
)
from ckptviewer.core.lazy import LazyTensor, StorageRef
from ckptviewer.core.placeholders import new_placeholder
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope


def keys(w: Walk) -> list[str]:
    return [k for k, _ in w.tensors]


def t(n: int = 2) -> torch.Tensor:
    return torch.zeros(n)


def lazy(n: int = 4) -> LazyTensor:
    """A tensor record as the restricted unpickler makes it (no data behind it here)."""
    return LazyTensor(StorageRef("0", torch.float32, n, "cpu", None), 0, (n,), (1,), torch.float32)


def cancelled() -> CancelToken:
    tok = CancelToken()
    tok.cancel()
    return tok


# ---------------------------------------------------------------- is_tensor


def test_is_tensor_accepts_tensors_and_parameters_only():
    assert is_tensor(torch.ones(1))
    assert is_tensor(nn.Parameter(torch.ones(1)))
    assert is_tensor(lazy())
    assert not is_tensor(np.ones(1))
    assert not is_tensor([torch.ones(1)])
    assert not is_tensor(torch.Size([1]))
    assert not is_tensor(torch.float32)
    assert not is_tensor(None)


# ---------------------------------------------------------------- tensors by dotted key


def test_tensors_found_by_dotted_key_through_every_container():
    a, b, c, d, e, f = (t(i + 1) for i in range(6))
    root = {
        "model": collections.OrderedDict([("w", a), ("b", b)]),
        "list": [c, {"in_list": d}],
        "tuple": (1, (e,)),
        "args": argparse.Namespace(lr=0.1, w=f),
    }
    w = walk(root)
    assert w.tensors == [
        ("model.w", a), ("model.b", b), ("list.0", c), ("list.1.in_list", d), ("tuple.1.0", e), ("args.w", f),
    ]  # fmt: skip
    assert all(v is want for (_, v), want in zip(w.tensors, (a, b, c, d, e, f)))
    assert w.warnings == []


def test_non_string_keys_are_named_and_raw_keys_kept():
    w = walk({"state": {0: {"exp_avg": t()}, 1: {"exp_avg": t()}}, ("a", 1): t(), None: t()})
    assert keys(w) == ["state.0.exp_avg", "state.1.exp_avg", "('a', 1)", "None"]
    assert w.containers["state.0"].raw == ("state", 0)  # the real key: an int, not "0"
    assert w.containers["state.1"].raw == ("state", 1)


def test_a_bare_tensor_root_is_one_tensor_with_an_empty_key():
    x = t()
    w = walk(x)
    assert w.tensors == [("", x)]
    assert w.metadata == {}
    assert w.containers == {}


def test_shared_subtrees_are_walked_under_each_name_and_are_not_recursion():
    shared = {"w": t()}
    w = walk({"a": shared, "b": shared, "c": [shared, shared]})
    assert keys(w) == ["a.w", "b.w", "c.0.w", "c.1.w"]
    assert "<recursive reference>" not in json.dumps(w.metadata)


def test_containers_holding_tensors_directly():
    root = {"model": {"w": t(), "b": t(), "cfg": 3}, "opt": {"state": {"lr": 0.1}}, "tensors": [t(), t()]}
    w = walk(root)
    assert set(w.containers) == {"model"}  # lists and tensor-free dicts are not containers
    c = w.containers["model"]
    assert (c.path, c.direct_tensors, c.children, c.is_module, c.raw) == ("model", 2, 3, False, ("model",))
    assert walk({"w": t()}).containers[""].raw == ()  # the root itself


def test_namespace_tensors_are_named_but_it_is_not_a_container():
    w = walk({"args": argparse.Namespace(w=t(), lr=0.5)})
    assert keys(w) == ["args.w"]
    assert w.containers == {}
    assert w.metadata == {"args": {"__class__": "argparse.Namespace", "lr": 0.5}}


def test_a_tensor_in_a_set_takes_the_set_s_name_and_no_raw_path():
    x = t()
    w = walk({"s": {x, 7}})  # tensors hash by identity: sets of them are rare but legal
    assert w.tensors == [("s", x)]


def test_lazy_tensors_are_named_like_real_ones():
    a, b = lazy(), lazy(8)
    w = walk({"model": {"w": a, "b": b}, "step": 10})
    assert w.tensors == [("model.w", a), ("model.b", b)]
    assert w.containers["model"].direct_tensors == 2
    assert w.metadata == {"step": 10}


# ---------------------------------------------------------------- metadata


def test_metadata_keeps_scalars_and_prunes_tensor_only_subtrees():
    root = {
        "epoch": 3,
        "model": {"w": t(), "b": t()},  # tensors only: gone from metadata
        "deep": {"only": [t(), {"x": t()}]},  # tensors only, nested: gone too
        "mixed": [t(), 5, {"y": t()}],  # tensors become None where a list keeps its shape
        "opt": {"state": {"w": t()}, "param_groups": [{"lr": 0.01, "betas": (0.9, 0.999)}]},
    }
    w = walk(root)
    assert w.metadata == {
        "epoch": 3,
        "mixed": [None, 5, None],
        "opt": {"param_groups": [{"lr": 0.01, "betas": [0.9, 0.999]}]},
    }
    json.dumps(w.metadata, allow_nan=False)  # plain JSON


def test_a_scalar_root_is_metadata_under_the_empty_key():
    assert walk(5).metadata == {"": 5}
    assert walk([1, "a"]).metadata == {"": [1, "a"]}
    assert walk({}).metadata == {}
    assert walk([t(), t()]).metadata == {}


class Color(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 2


class Thing:
    def __repr__(self) -> str:  # never called: an arbitrary repr may run for minutes
        raise AssertionError("repr called")


@pytest.mark.parametrize(
    "value, want",
    [
        (None, None),
        (True, True),
        (7, 7),
        (1 << 70, "<integer of 71 bits>"),
        (-(1 << 63), "<integer of 64 bits>"),
        (0.25, 0.25),
        (math.nan, "NaN"),
        (math.inf, "Infinity"),
        (-math.inf, "-Infinity"),
        ("text", "text"),
        (b"abc", {"__bytes__": 3}),
        (bytearray(5), {"__bytes__": 5}),
        (torch.float16, "float16"),
        (torch.device("cpu"), "cpu"),
        (torch.Size([2, 3]), [2, 3]),
        (complex(1, math.nan), {"real": 1.0, "imag": "NaN"}),
        (datetime.date(2026, 1, 2), "2026-01-02"),
        (datetime.timedelta(minutes=1), 60.0),
        (pathlib.PurePosixPath("/data/x"), "/data/x"),
        (Color.RED, "Color.RED"),
        pytest.param(Level.HIGH, "Level.HIGH", id="IntEnum"),  # str() would give "2" on Python 3.11+
        (np.float32(0.5), 0.5),
        (np.int64(3), 3),
    ],
    ids=lambda v: type(v).__name__,
)
def test_scalars_become_json_values(value, want):
    w = walk({"v": value})
    assert w.metadata == {"v": want}
    json.dumps(w.metadata, allow_nan=False)


def test_long_strings_and_long_lists_are_cut():
    w = walk({"s": "x" * (MAX_STRING + 10), "l": list(range(MAX_LIST_METADATA + 44))})
    assert w.metadata["s"] == "x" * MAX_STRING + f"... ({MAX_STRING + 10} characters)"
    assert w.metadata["l"] == list(range(MAX_LIST_METADATA)) + ["... 44 more"]


def test_other_objects_are_described_by_class_and_repr():
    w = walk({"arr": np.arange(3, dtype=np.int32), "big": np.zeros((5, 5)), "obj": Thing()})
    assert w.metadata["arr"] == {"__class__": "numpy.ndarray", "shape": [3], "dtype": "int32", "values": [0, 1, 2]}
    assert w.metadata["big"] == {"__class__": "numpy.ndarray", "shape": [5, 5], "dtype": "float64"}
    assert w.metadata["obj"] == {"__class__": f"{__name__}.Thing", "repr": f"<{__name__}.Thing>"}
    storage = StorageRef("0", torch.float32, 16, "cuda:0", None)
    assert walk({"s": storage}).metadata == {
        "s": {"__class__": "torch.UntypedStorage", "nbytes": 16 * 4, "location": "cuda:0"}
    }


# ---------------------------------------------------------------- recursion and depth


def test_a_dict_holding_itself_is_reported_not_followed():
    d: dict = {"w": t()}
    d["self"] = d
    w = walk(d)
    assert keys(w) == ["w"]
    assert w.metadata == {"self": "<recursive reference>"}


def test_a_list_holding_itself_is_reported_not_followed():
    loop: list = [1]
    loop.append(loop)
    assert walk({"loop": loop}).metadata == {"loop": [1, "<recursive reference>"]}


def test_a_cycle_through_a_namespace_is_reported():
    ns = argparse.Namespace(w=t())
    ns.parent = {"ns": ns}
    w = walk({"ns": ns})
    assert keys(w) == ["ns.w"]
    assert w.metadata == {"ns": {"__class__": "argparse.Namespace", "parent": {"ns": "<recursive reference>"}}}


def _nested(levels: int, leaf: dict) -> dict:
    root = leaf
    for _ in range(levels):
        root = {"n": root}
    return root


def test_nesting_up_to_max_depth_is_walked_whole():
    w = walk(_nested(MAX_DEPTH - 1, {"w": t(), "v": 1}))
    assert keys(w) == [".".join(["n"] * (MAX_DEPTH - 1) + ["w"])]
    assert w.warnings == []
    inner = w.metadata
    for _ in range(MAX_DEPTH - 1):
        inner = inner["n"]
    assert inner == {"v": 1}


def test_nesting_deeper_than_max_depth_is_warned_and_cut():
    w = walk({"keep": 1, "deep": _nested(MAX_DEPTH + 50, {"w": t(), "v": 1})})
    assert w.tensors == []
    assert w.warnings == [f"nesting deeper than {MAX_DEPTH} levels at deep.n.n.n.n...: not shown"]
    assert w.metadata == {"keep": 1}  # the cut subtree holds nothing shown: pruned


def test_very_deep_lists_do_not_exhaust_the_stack():
    deep: list = [t()]
    for _ in range(5000):
        deep = [deep]
    w = walk(deep)
    assert w.tensors == []
    assert len(w.warnings) == 1 and w.warnings[0].startswith(f"nesting deeper than {MAX_DEPTH} levels at 0.0.0.0.0")


# ---------------------------------------------------------------- modules


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(2, 3)
        self.bn = nn.BatchNorm1d(3)
        self.register_buffer("scratch", torch.zeros(1), persistent=False)


def test_a_real_module_is_named_as_its_state_dict():
    model = Net()
    w = walk({"model": model, "epoch": 1})
    assert keys(w) == [f"model.{k}" for k in model.state_dict()]
    assert "model.scratch" not in keys(w)  # non-persistent: not in the state_dict
    assert w.buffers == {"model.bn.running_mean", "model.bn.running_var", "model.bn.num_batches_tracked"}
    assert dict(w.tensors)["model.lin.weight"] is model.lin.weight
    assert w.metadata == {"model": {"__class__": f"{__name__}.Net"}, "epoch": 1}
    assert w.containers["model"].is_module


def test_a_real_module_as_the_root():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1))
    w = walk(model)
    assert keys(w) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert w.buffers == set()
    assert w.metadata == {"__class__": "torch.nn.modules.container.Sequential"}
    assert w.containers[""].is_module


def test_a_pickled_module_placeholder_is_named_as_its_state_dict_would_be():
    """What the restricted unpickler gives for a whole nn.Module saved by torch.save."""
    linear_cls, net_cls = new_placeholder("torch.nn.Linear"), new_placeholder("mylib.Net")
    sub = linear_cls()
    sub.__setstate__({"_parameters": {"weight": t(6), "bias": None}, "_buffers": {}, "_modules": {}})
    net = net_cls()
    net.__setstate__({
        "_parameters": {"scale": t(1)},
        "_buffers": {"mean": t(3), "tmp": t(3)},
        "_non_persistent_buffers_set": {"tmp"},
        "_modules": {"head": sub, "gone": None},
        "training": True,
    })  # fmt: skip
    w = walk({"model": net})
    assert keys(w) == ["model.scale", "model.mean", "model.head.weight"]
    assert w.buffers == {"model.mean"}
    assert w.metadata == {"model": {"__class__": "mylib.Net", "head": {"__class__": "torch.nn.Linear"}}}
    assert w.containers["model"].is_module and w.containers["model"].direct_tensors == 2
    assert w.containers["model.head"].direct_tensors == 1
    # the weights sit inside an object, not a state_dict: no real keys lead to them (edits refuse)
    assert w.containers["model"].raw is None and w.containers["model.head"].raw is None


def test_other_placeholders_keep_what_pickle_gave_them():
    cls = new_placeholder("posix.system")
    obj = cls("touch /tmp/x")
    w = walk({"x": obj, "y": new_placeholder("mylib.Box")(t())})
    assert w.metadata["x"] == {"__class__": "posix.system", "__not_executed__": True, "args": ["touch /tmp/x"]}
    assert keys(w) == ["y.0"]  # a tensor among a placeholder's arguments is still found
    assert w.metadata["y"] == {"__class__": "mylib.Box", "__not_executed__": True}


# ---------------------------------------------------------------- bounds


def test_a_key_at_the_limit_is_accepted_and_one_past_it_refused():
    assert keys(walk({"k" * MAX_KEY: t()})) == ["k" * MAX_KEY]
    with pytest.raises(CheckpointError, match="a key bomb"):
        walk({"k" * (MAX_KEY + 1): t()})


def test_a_long_key_made_of_short_parts_is_refused():
    part = "p" * 1000
    with pytest.raises(CheckpointError, match=f"longer than {MAX_KEY:,} characters"):
        walk(_nested_keys(part, MAX_KEY // 1000 + 1))


def _nested_keys(part: str, levels: int) -> dict:
    root: dict = {"w": t()}
    for _ in range(levels):
        root = {part: root}
    return root


def test_a_shared_long_key_cannot_multiply_past_the_total():
    """One 16,000-character key shared through the memo by 2,100 parents: 33.6M characters."""
    inner = {"y" * 16_000: t()}
    n = MAX_KEYS_TOTAL // 16_000 + 5
    with pytest.raises(CheckpointError, match="a key bomb"):
        walk({str(i): inner for i in range(n)})
    assert len(walk({str(i): inner for i in range(100)}).tensors) == 100


# ---------------------------------------------------------------- cancel


def test_walk_under_a_cancelled_scope_raises_cancelled():
    with cancel_scope(cancelled()), pytest.raises(Cancelled):
        walk({"w": t()})
    with cancel_scope(cancelled()), pytest.raises(Cancelled):
        walk(5)  # even a scalar root: the check comes first


def test_walk_under_a_live_scope_runs():
    tok = CancelToken()
    with cancel_scope(tok):
        assert keys(walk({"w": t(), "l": [t()]})) == ["w", "l.0"]
    assert not tok.cancelled


def test_a_cancel_during_the_walk_stops_it():
    """A token set while the walk runs (by another thread, in the app) stops it mid-way."""
    tok = CancelToken()
    seen: list[str] = []

    class Tripwire(Mapping):  # a mapping whose listing sets the token
        def __getitem__(self, k):
            return {"x": 1}[k]

        def __iter__(self):
            return iter(["x"])

        def __len__(self) -> int:
            return 1

        def items(self):
            tok.cancel()
            seen.append("items")
            return super().items()

    root = {"a": t(), "trip": Tripwire(), "c": [t() for _ in range(10)]}
    with cancel_scope(tok), pytest.raises(Cancelled):
        walk(root)
    assert seen == ["items"]
    assert keys(walk(root)) == ["a"] + [f"c.{i}" for i in range(10)]  # no scope: walked whole
