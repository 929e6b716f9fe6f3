"""Pickles that attack the reader itself: it must stay inert, bounded and alive.

Each case comes from a red-team review: poisoning real classes through BUILD (which led
to code execution through pathlib), forged numpy dtypes (a raw pointer from file bytes),
unvalidated sparse indices, crashes on free, memory bombs, imports triggered by names.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.scan import scan
from ckptviewer.core.summary import info_document
from tests.hostile_pickles import (
    BUILD,
    EMPTY_TUPLE,
    NONE,
    REDUCE,
    SETITEM,
    TRUE,
    B,
    G,
    I,
    U,
    call,
    checkpoint,
    dct,
    tensor,
    tup,
)  # fmt: skip


def refused(path) -> str:
    with pytest.raises(CheckpointError) as info:
        open_checkpoint(path)
    return str(info.value)


def test_build_on_a_real_class_is_refused_and_changes_nothing(tmp_path):
    body = dct(x=G("pathlib", "PurePath") + tup(NONE, dct(_str=U("/tmp/evil.pt"))) + BUILD)
    assert "refused" in refused(checkpoint(tmp_path / "p.pt", body))
    assert str(pathlib.Path("/etc/passwd")) == "/etc/passwd"
    body = dct(x=G("argparse", "Namespace") + tup(NONE, dct(trust=TRUE)) + BUILD)
    assert "refused" in refused(checkpoint(tmp_path / "n.pt", body))
    assert not hasattr(argparse.Namespace, "trust")
    body = dct(x=G("torch.serialization", "_get_layout") + dct(cache=U("evil")) + BUILD)
    assert "refused" in refused(checkpoint(tmp_path / "f.pt", body))


def test_state_dunders_and_calls_of_non_callables_are_refused(tmp_path):
    ns = G("argparse", "Namespace") + EMPTY_TUPLE + b"\x81"  # NEWOBJ
    body = dct(x=ns + dct(__class__=U("x")) + BUILD)
    assert "refused" in refused(checkpoint(tmp_path / "d.pt", body))
    body = dct(x=call(G("torch", "Tensor"), I(10)))  # legacy constructors allocate raw memory
    assert "refused" in refused(checkpoint(tmp_path / "t.pt", body))


def test_codecs_other_than_latin1_and_huge_bytearrays_are_refused(tmp_path):
    body = dct(x=call(G("_codecs", "encode"), B(b"x"), U("bz2_codec")))
    assert "latin1" in refused(checkpoint(tmp_path / "c.pt", body))
    start = time.perf_counter()
    body = dct(x=call(G("builtins", "bytearray"), I(3 * 10**9)))
    assert "memory bomb" in refused(checkpoint(tmp_path / "b.pt", body))
    assert time.perf_counter() - start < 5


def test_repeated_calls_of_a_placeholder_stay_small(tmp_path):
    body = dct(x=G("mylib", "f") + (EMPTY_TUPLE + REDUCE) * 40_000)
    start = time.perf_counter()
    ckpt = open_checkpoint(checkpoint(tmp_path / "q.pt", body))
    assert time.perf_counter() - start < 10
    assert ckpt.metadata["x"]["__class__"] == "mylib.f()" and ckpt.blocked_globals == ["mylib.f"]


def test_huge_integers_and_deep_nesting_give_json_safe_output(tmp_path):
    body = dct(big=I(7**6000), key=b"}" + I(7**6000) + U("v") + SETITEM)
    info = info_document(open_checkpoint(checkpoint(tmp_path / "i.pt", body)))
    assert "bits>" in json.dumps(info, allow_nan=False)


def test_expanded_tensor_claiming_2_to_the_40_elements_scans_instantly(tmp_path):
    path = checkpoint(tmp_path / "s.pt", dct(w=tensor(size=(2**40,), stride=(0,))), with_storage=True)
    ckpt = open_checkpoint(path)
    start = time.perf_counter()
    report = scan(ckpt)
    assert time.perf_counter() - start < 5
    assert report.stats["w"].numel == 2**40 and report.stats["w"].mean == 1.0


CRASHERS = {
    # a forged numpy dtype (object field without the list-pickle flag) turned 8 file bytes into a pointer
    "numpy_scalar": "dct(x=call(G('numpy._core.multiarray', 'scalar'), DT, B(b'AAAAAAAA')))",
    "numpy_array": "dct(x=call(G('numpy._core.multiarray', '_reconstruct'), G('numpy', 'ndarray'), tup(I(0)), "
    "B(b'b')) + tup(I(1), tup(I(1)), DT, FALSE, B(b'AAAAAAAA')) + BUILD)",
    # sparse indices far out of bounds wrote past the heap in to_dense()
    "sparse": "dct(x=call(G('torch._utils', '_rebuild_sparse_tensor'), call(G('torch.serialization', '_get_layout'), "
    "U('torch.sparse_coo')), tup(call(G('torch', 'LongTensor'), plist(plist(I(10**9)))), "
    "call(G('torch', 'FloatTensor'), plist(I(1))), tup(I(10)))))",
    # 100,000 nested containers without a trashcan crashed the interpreter when freed
    "deep": "dct(x=b''.join([G('collections', 'deque')] * 1) + tup(plist()) + REDUCE)",
    # a name that made torch import its compiler stack (~800 modules)
    "lazy_import": "dct(a=G('torch', '_dynamo'), b=G('torch.ops', 'attacker_ns'))",
}


def _crasher_child(tmp_path: pathlib.Path, case: str) -> subprocess.CompletedProcess:
    """Open and scan the crasher ``case`` in a child process, which must end cleanly and print 'alive'."""
    code = textwrap.dedent(f"""
        import sys
        from tests.hostile_pickles import *
        from ckptviewer.core import CheckpointError, open_checkpoint
        from ckptviewer.core.scan import scan
        npO = call(G('numpy', 'dtype'), U('O8'), FALSE, TRUE)
        fields = b'}}' + U('a') + tup(npO, I(0)) + SETITEM
        DT = call(G('numpy', 'dtype'), U('V8'), FALSE, TRUE) + tup(I(3), U('|'), NONE, tup(U('a')), fields, I(8),
                                                                    I(1), I(1)) + BUILD
        before = set(sys.modules)
        path = checkpoint(__import__('pathlib').Path({str(tmp_path)!r}) / 'x.pt', {CRASHERS[case]})
        try:
            ckpt = open_checkpoint(path)
            scan(ckpt)
            del ckpt
            print('opened')
        except CheckpointError as exc:
            print('refused:', exc)
        import torch
        assert 'torch._dynamo' not in set(sys.modules) - before, 'a name in the file imported torch._dynamo'
        assert 'attacker_ns' not in vars(torch.ops)
        print('alive')
    """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=str(pathlib.Path(__file__).parents[2]))  # fmt: skip


@pytest.fixture(scope="module")
def crasher_children(tmp_path_factory):
    """Every crasher's child, started together (one per core): each spends seconds importing torch."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {case: pool.submit(_crasher_child, tmp_path_factory.mktemp(case), case) for case in CRASHERS}
        yield futures


@pytest.mark.parametrize("case", list(CRASHERS))
def test_crashers_run_in_a_child_and_end_cleanly(crasher_children, case):
    r = crasher_children[case].result()
    assert r.returncode == 0 and "alive" in r.stdout, r.stdout + r.stderr
