"""The restricted unpickler (ckptviewer.core.unpickle.RestrictedUnpickler), on its own.

Plain pickles from ``pickle.dumps`` round-trip; allowed globals resolve to the real
objects; every other global becomes an inert placeholder, is recorded, and is never
called; memory, nesting and cancellation stop a load cleanly. Hostile opcodes are
written by hand with tests/hostile_pickles.py.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import io
import pickle
import sys

import pytest
import torch

from ckptviewer.core.limits import BASE_BUDGET, MAX_NESTING, Budget, LimitError
from ckptviewer.core.placeholders import Opaque
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope
from ckptviewer.core.unpickle import RestrictedUnpickler, restricted_loads
from tests.hostile_pickles import (
    APPENDS,
    BUILD,
    EMPTY_DICT,
    EMPTY_LIST,
    EMPTY_TUPLE,
    HDR,
    MARK,
    NONE,
    SETITEM,
    STOP,
    G,
    I,
    U,
    call,
    dct,
    tup,
)  # fmt: skip


def unpickler(data: bytes, **kwargs) -> RestrictedUnpickler:
    return RestrictedUnpickler(io.BytesIO(data), size=len(data), **kwargs)


def load(data: bytes, **kwargs):
    """(the unpickler, what it loaded)."""
    u = unpickler(data, **kwargs)
    return u, u.load()


def cancelled() -> CancelToken:
    tok = CancelToken()
    tok.cancel()
    return tok


PLAIN = {
    "ints": [0, 1, -1, 255, 256, 1 << 40, -(1 << 70)],
    "floats": (0.5, -2.25, 1e300),
    "text": ["", "ascii", "ünïcode ✓", "x" * 300],
    "bytes": [b"\x00\xff", b"ab" * 100, bytearray(b"ba")],
    "nested": {"a": {"b": [1, (2, (3, None))]}, 7: True, (1, "k"): False},
    "sets": [{1, 2, 3}, frozenset({"q"}), set()],
    "empty": [[], (), {}],
}


# ---------------------------------------------------------------- plain data


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_plain_containers_round_trip_equal(protocol):
    u, got = load(pickle.dumps(PLAIN, protocol=protocol))
    assert got == PLAIN
    assert type(got["floats"]) is tuple and type(got["bytes"][2]) is bytearray
    assert type(got["sets"][1]) is frozenset
    assert u.blocked_globals == set()


def test_empty_bytes_of_protocol_2_is_blocked_as_torch_does():
    """Protocols 0-2 write b"" as builtins.bytes(): outside torch's weights-only allowlist too
    (bytes(n) would be a memory bomb), so it stays a placeholder and the file is flagged."""
    u, got = load(pickle.dumps({"e": b"", "f": b"ab"}, protocol=2))
    assert u.blocked_globals == {"builtins.bytes"}
    assert isinstance(got["e"], Opaque) and got["f"] == b"ab"
    u, got = load(pickle.dumps({"e": b""}, protocol=3))  # protocol 3 has a bytes opcode
    assert got == {"e": b""} and u.blocked_globals == set()


def test_shared_references_stay_shared():
    inner = [1, 2]
    _, got = load(pickle.dumps({"a": inner, "b": inner}))
    assert got["a"] is got["b"]


def test_plain_data_names_no_unsafe_global_with_the_default_protocol():
    u, _ = load(pickle.dumps(PLAIN))
    assert u.unsafe_globals == set() and u.blocked_globals == set()


def test_restricted_loads_is_the_same_load():
    assert restricted_loads(pickle.dumps(PLAIN)) == PLAIN


# ---------------------------------------------------------------- allowed globals


def test_allowed_globals_resolve_to_real_objects():
    value = {
        "od": collections.OrderedDict([("b", 1), ("a", 2)]),
        "size": torch.Size([2, 3]),
        "dtype": torch.bfloat16,
        "device": torch.device("cpu"),
        "ns": argparse.Namespace(lr=0.1, name="run"),
        "when": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "delta": datetime.timedelta(seconds=90),
    }
    u, got = load(pickle.dumps(value, protocol=2))
    assert got == value
    assert type(got["od"]) is collections.OrderedDict and list(got["od"]) == ["b", "a"]
    assert type(got["size"]) is torch.Size
    assert got["dtype"] is torch.bfloat16
    assert type(got["ns"]) is argparse.Namespace and vars(got["ns"]) == {"lr": 0.1, "name": "run"}
    assert type(got["when"]) is datetime.datetime
    assert u.blocked_globals == set()
    # outside torch's weights-only allowlist, but inert: recorded as unsafe, not blocked
    assert "argparse.Namespace" in u.unsafe_globals
    assert "collections.OrderedDict" not in u.unsafe_globals


def test_python2_names_of_protocol_2_are_mapped():
    """torch.save writes protocol 2: builtins appear as __builtin__.*, and must resolve."""
    u, got = load(HDR + call(G("__builtin__", "set"), EMPTY_LIST + MARK + I(1) + I(2) + APPENDS) + STOP)
    assert got == {1, 2} and type(got) is set
    assert u.blocked_globals == set()


def test_a_global_by_itself_is_handed_out_not_called():
    _, got = load(HDR + G("collections", "OrderedDict") + STOP)
    assert callable(got) and not isinstance(got, collections.OrderedDict)
    _, got = load(HDR + G("torch", "float16") + STOP)
    assert got is torch.float16


# ---------------------------------------------------------------- blocked globals


@pytest.mark.parametrize(
    "module, name", [("os", "system"), ("posix", "system"), ("builtins", "eval"), ("subprocess", "Popen")]
)
def test_a_blocked_global_becomes_a_recorded_inert_placeholder(module, name):
    u, got = load(HDR + G(module, name) + STOP)
    full = f"{module}.{name}"
    assert u.blocked_globals == {full}
    assert full in u.unsafe_globals
    assert isinstance(got, type) and issubclass(got, Opaque)
    assert got.ckpt_global == full
    assert got.__module__ == "ckptviewer.placeholder"


def test_a_reduce_on_a_blocked_global_records_the_call_and_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    written = tmp_path / "written.txt"
    data = HDR + dct(
        sh=call(G("os", "system"), U(f"touch {marker}")),
        ev=call(G("builtins", "eval"), U(f"open({str(marker)!r}, 'w')")),
        op=call(G("builtins", "open"), U(str(written)), U("w")),
    ) + STOP  # fmt: skip
    u, got = load(data)
    assert not marker.exists() and not written.exists()
    assert u.blocked_globals == {"os.system", "builtins.eval", "builtins.open"}
    sh = got["sh"]
    assert isinstance(sh, Opaque) and type(sh).ckpt_global == "os.system"
    assert sh.ckpt_args == (f"touch {marker}",)
    assert repr(sh) == "<os.system: not executed>"
    assert got["op"].ckpt_args == (str(written), "w")
    with pytest.raises(TypeError, match="cannot be saved"):
        pickle.dumps(sh)  # a placeholder never pickles back as the real call


def test_a_placeholder_takes_build_and_items_as_records_only():
    data = HDR + G("mylib.models", "Net") + EMPTY_TUPLE + b"\x81"  # NEWOBJ
    data += dct(hidden=I(8)) + BUILD + STOP
    u, got = load(data)
    assert u.blocked_globals == {"mylib.models.Net"}
    assert isinstance(got, Opaque) and got.ckpt_state == {"hidden": 8}
    assert "mylib" not in sys.modules  # named, never imported
    assert "mylib.models" not in sys.modules


def test_a_blocked_global_from_a_module_not_yet_imported_imports_nothing():
    if "this" in sys.modules:  # importing `this` prints the Zen of Python
        pytest.skip("`this` was imported by something else")
    u, _ = load(HDR + call(G("this", "d"), I(1)) + STOP)
    assert u.blocked_globals == {"this.d"}
    assert "this" not in sys.modules


def test_calling_a_real_non_callable_global_is_refused():
    with pytest.raises(pickle.UnpicklingError, match="REDUCE refused"):
        load(HDR + call(G("torch", "float16")) + STOP)


def test_build_on_an_allowed_real_class_is_refused_and_changes_nothing():
    data = HDR + G("argparse", "Namespace") + tup(NONE, dct(trust=b"\x88")) + BUILD + STOP
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        load(data)
    assert not hasattr(argparse.Namespace, "trust")


def test_setitem_on_a_non_container_is_refused():
    with pytest.raises(pickle.UnpicklingError, match="SETITEM refused"):
        load(HDR + G("torch", "Size") + U("k") + I(1) + SETITEM + STOP)


# ---------------------------------------------------------------- memory budget


def test_a_long_string_made_into_a_list_is_refused_before_it_is_built():
    """list("x" * 2M): 2 MB of pickle, 176 MB of str objects and pointers."""
    data = HDR + call(G("builtins", "list"), U("x" * 2_000_000)) + STOP
    with pytest.raises(LimitError, match=r"list asks for 176,000,000 bytes; .* \(a memory bomb\?\)"):
        load(data)


def test_copies_of_one_big_list_through_the_memo_are_refused():
    """One 100,000-item list (200 KB of pickle), copied 250 times by list(memo[0]): 200 MB."""
    n = 100_000
    big = EMPTY_LIST + b"q\x00" + MARK + b"K\x01" * n + APPENDS + b"0"  # BINPUT 0, then POP
    copies = EMPTY_LIST + MARK + b"".join(call(G("builtins", "list"), b"h\x00") for _ in range(250)) + APPENDS
    data = HDR + big + copies + STOP
    with pytest.raises(LimitError, match="list asks for 800,000 bytes"):
        load(data)
    _, got = load(HDR + big + EMPTY_LIST + MARK + call(G("builtins", "list"), b"h\x00") * 10 + APPENDS + STOP)
    assert len(got) == 10 and all(len(x) == n for x in got)  # a few copies fit the budget


def test_bytearray_of_a_huge_size_is_refused():
    with pytest.raises(LimitError, match=r"bytearray\(n\) asks for 1,000,000,000,000 bytes"):
        load(HDR + call(G("builtins", "bytearray"), I(10**12)) + STOP)


def test_the_budget_is_the_one_given_and_spent_by_constructors():
    budget = Budget(10_000)
    data = pickle.dumps([[] for _ in range(50)])
    u, got = load(data, budget=budget)
    assert len(got) == 50 and u.budget is budget
    assert budget.left == 10_000 - 51 * 120  # 51 empty lists at 120 bytes each
    with pytest.raises(LimitError, match="budget of 10,000 bytes is spent"):
        load(pickle.dumps([[] for _ in range(100)]), budget=Budget(10_000))


def test_the_default_budget_grows_with_the_pickle_size():
    assert unpickler(b"x" * 1000).budget.limit == BASE_BUDGET + 2000


# ---------------------------------------------------------------- nesting


def test_lists_nested_past_the_limit_are_refused_cleanly():
    depth = 100_000  # built iteratively by pickle: only the checks could recurse
    data = HDR + EMPTY_LIST * depth + b"a" * (depth - 1) + STOP  # APPEND each into the one before
    with pytest.raises(LimitError, match=f"objects nested more than {MAX_NESTING} levels deep"):
        load(data)


def test_nesting_within_the_limit_loads():
    depth = MAX_NESTING - 1
    _, got = load(HDR + EMPTY_LIST * depth + b"a" * (depth - 1) + STOP)
    levels = 1
    while got:
        got, levels = got[0], levels + 1
    assert levels == depth


def test_tuples_nested_past_the_limit_are_refused_before_they_are_hashed():
    depth = 100_000
    deep_tuple = EMPTY_TUPLE + b"\x85" * depth  # TUPLE1, over and over
    with pytest.raises(LimitError, match="tuples nested more than"):
        load(HDR + EMPTY_DICT + deep_tuple + I(1) + SETITEM + STOP)  # as a dict key: hashed
    with pytest.raises(LimitError, match="nested more than"):
        load(HDR + deep_tuple + STOP)


def test_a_list_inside_itself_is_refused():
    data = HDR + EMPTY_LIST + b"q\x00" + b"h\x00" + b"a" + STOP  # l = []; l.append(l)
    with pytest.raises(LimitError, match="a container inside itself"):
        load(data)


# ---------------------------------------------------------------- cancel


def test_a_cancelled_scope_stops_a_load_of_many_small_objects():
    data = pickle.dumps([{} for _ in range(5000)])
    with cancel_scope(cancelled()), pytest.raises(Cancelled):
        load(data)


def test_the_same_load_runs_without_a_cancel():
    data = pickle.dumps([{} for _ in range(5000)])
    with cancel_scope(CancelToken()):
        _, got = load(data)
    assert got == [{} for _ in range(5000)]
    _, got = load(data)  # and with no scope at all
    assert len(got) == 5000


def test_cancelled_is_not_turned_into_an_unpickling_error():
    """Cancelled is a BaseException: the load's own error handling must let it through."""
    data = pickle.dumps([[] for _ in range(3000)])
    with cancel_scope(cancelled()):
        try:
            load(data)
        except Cancelled:
            pass
        except Exception as exc:  # pragma: no cover - what this test guards against
            pytest.fail(f"a cancel became {type(exc).__name__}: {exc}")
        else:
            pytest.fail("the load ran to the end under a cancelled token")
