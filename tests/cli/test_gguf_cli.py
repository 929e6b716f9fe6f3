"""The real `ckpt` on GGUF files, in subprocesses: info (--json: format gguf, encodings,
metadata), tree, stats (values equal to gguf's own dequantize), diff against the
safetensors it was converted from (names aligned; the JSON and the unpermuted case are
in tests/core/test_gguf.py), and one-line refusals of hostile files.

The runs start together on a thread pool in a module fixture; each test waits for its own.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import gguf
import numpy as np
import pytest

from tests.core.test_gguf import HOSTILE, _pair, raw_gguf, write_model

CKPT = Path(sys.executable).parent / "ckpt"
TIMEOUT = 120

# the CLI's share of the hostile headers (tests/core/test_gguf.py opens every one)
CLI_HOSTILE = ("tensor_count_2_63", "array_of_a_billion", "offset_past_the_end", "hundred_dims", "big_endian")
RUNS: dict[str, list[str]] = {
    "info_json": ["info", "model.gguf", "--json"],
    "info": ["info", "model.gguf"],
    "tree": ["tree", "model.gguf"],
    "stats_json": ["stats", "model.gguf", "--json"],
    "diff": ["diff", "llama-True.gguf", "llama-True.safetensors"],
    "names": ["info", "names.gguf"],
    "unknown_stats": ["stats", "unknown.gguf"],
    **{f"hostile_{name}": ["info", f"{name}.gguf"] for name in CLI_HOSTILE},
}


def _ckpt(folder: Path, args: list[str]) -> subprocess.CompletedProcess:
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    return subprocess.run([*exe, *args], capture_output=True, text=True, timeout=TIMEOUT, cwd=folder,
                          stdin=subprocess.DEVNULL)  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Future]:
    folder = tmp_path_factory.mktemp("gguf_cli")
    write_model(folder / "model.gguf")
    _pair(folder, "llama", permute=False)
    _pair(folder, "llama", permute=True)
    data = np.arange(8, dtype=np.float32).tobytes()
    (folder / "names.gguf").write_bytes(raw_gguf(tensors=[("evil\x1b[2J\n.weight", [2], 0, 0)], data=data))
    (folder / "unknown.gguf").write_bytes(raw_gguf(tensors=[("x", [8], 250, 0)], data=data))
    for name, (raw, _) in HOSTILE.items():
        (folder / f"{name}.gguf").write_bytes(raw)
    pool = ThreadPoolExecutor(4)
    futures = {name: pool.submit(_ckpt, folder, args) for name, args in RUNS.items()}
    futures["folder"] = pool.submit(lambda: folder)
    yield futures
    pool.shutdown(wait=True)


def _ok(runs, name: str) -> subprocess.CompletedProcess:
    r = runs[name].result()
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def test_info_json_says_gguf_with_encodings_and_metadata(runs):
    doc = json.loads(_ok(runs, "info_json").stdout)
    assert doc["format"] == "gguf" and doc["n_tensors"] == 8
    t = {x["key"]: x for x in doc["tensors"]}
    assert t["blk.0.attn_q.weight"]["shape"] == [64, 256] and t["blk.0.attn_q.weight"]["dtype"] == "float32"
    assert t["blk.0.attn_q.weight"]["encoding"] == "Q8_0, 32-value blocks of 34 bytes"
    assert t["blk.0.ffn_up.weight"]["nbytes"] == 8 * 144 and "encoding" not in t["token_embd.weight"]
    assert doc["metadata"]["gguf"]["tokenizer.ggml.tokens"]["length"] == 5000
    assert doc["total_bytes"] == sum(x["nbytes"] for x in doc["tensors"])


def test_info_and_tree_print_block_types(runs):
    out = _ok(runs, "info").stdout
    assert "stored as" in out and "Q4_K, 256-value blocks of 144 bytes" in out
    assert "gguf.general.architecture: llama" in out
    assert "tokenizer.ggml.tokens.length: 5000" in out and "tok4999" not in out  # summarised, not dumped
    tree = _ok(runs, "tree").stdout
    assert "attn_q" in tree and "token_embd" in tree and "8 tensors" in tree


@pytest.mark.slow
def test_stats_equal_ggufs_own_dequantize(runs):
    doc = json.loads(_ok(runs, "stats_json").stdout)
    stats = {x["key"]: x for x in doc["tensors"]}
    reader = gguf.GGUFReader(str(runs["folder"].result() / "model.gguf"))
    for t in reader.tensors:
        if t.tensor_type in (gguf.GGMLQuantizationType.F32, gguf.GGMLQuantizationType.F16,
                             gguf.GGMLQuantizationType.I32):  # fmt: skip
            values = np.asarray(t.data, np.float64)
        else:
            values = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), np.float64)
        s = stats[t.name]
        assert s["numel"] == values.size, t.name
        assert s["min"] == pytest.approx(values.min()) and s["max"] == pytest.approx(values.max()), t.name
        assert math.isclose(s["mean"], values.mean(), rel_tol=1e-6, abs_tol=1e-9), t.name


def test_diff_against_the_source_safetensors(runs):
    r = runs["diff"].result()
    assert r.returncode == 1, r.stderr  # q and k differ: permuted by llama.cpp's converter
    lines = r.stdout.splitlines()
    assert lines[0].startswith("different (exact): 8 tensors, 6 identical, 2 changed"), r.stdout
    assert "model.layers.0." in r.stdout and "blk.0" not in r.stdout  # keys cut in the middle to fit
    assert "only in" not in r.stdout


def test_names_with_escape_codes_are_printed_escaped(runs):
    out = _ok(runs, "names").stdout
    assert "\x1b" not in out and "evil" in out


def test_unknown_type_statistics_refused_in_one_line(runs):
    r = runs["unknown_stats"].result()
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "GGML type 250" in r.stderr, r.stderr


@pytest.mark.parametrize("name", CLI_HOSTILE)
def test_hostile_file_one_line_exit_1(runs, name):
    r = runs[f"hostile_{name}"].result()
    assert r.returncode == 1, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckpt: error:") and "Traceback" not in r.stderr
    assert HOSTILE[name][1].lower() in lines[0].lower()
