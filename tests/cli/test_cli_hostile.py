"""`ckpt` against what a hostile file or a careless command line can do to the machine and
the terminal: overwriting an input (any file of a folder, through any spelling) and
writing escape sequences from names. Real CLI runs in subprocesses, started together."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core.export import export_stats_csv
from ckptviewer.core.stats import TensorStats

ROOT = Path(__file__).parents[2]
EVIL = "w\x1b]52;c;ZXZpbA==\x07\x1b[2K\rNOT EXECUTED: nothing\nforged line\u202e"


def ckpt(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ckptviewer", *map(str, args)], capture_output=True, text=True,
                          timeout=180, cwd=str(ROOT))  # fmt: skip


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    base = tmp_path_factory.mktemp("inputs")
    hf = base / "hf"
    hf.mkdir()
    save_file({"a": torch.ones(2)}, hf / "model-00001-of-00002.safetensors")
    save_file({"b": torch.zeros(2)}, hf / "model-00002-of-00002.safetensors")
    index = '{"weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors"}}'
    (hf / "model.safetensors.index.json").write_text(index)
    (hf / "config.json").write_text('{"hidden_size": 2}')
    (base / "link.safetensors").symlink_to(hf / "model-00002-of-00002.safetensors")
    os.link(hf / "model-00001-of-00002.safetensors", base / "hardlink.safetensors")
    import torch.distributed.checkpoint as dcp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save({"model": {"w": torch.arange(4.0)}}, checkpoint_id=base / "dcp")
    torch.save({EVIL: torch.tensor([1.0, math.nan, 3.0]), "b": torch.arange(2.0)}, base / "evil.pth")  # scan names EVIL
    torch.save({"w": torch.ones(2)}, base / f"name{EVIL.replace('/', '_')}.pth")
    return base


@pytest.mark.slow
def test_no_output_may_be_any_file_of_an_input(inputs):
    hf, dcp = inputs / "hf", inputs / "dcp"
    before_hf, before_dcp = digest(hf), digest(dcp)
    shard = next(dcp.glob("*.distcp"))
    runs = [
        ("convert", hf, "-o", hf / "model-00002-of-00002.safetensors", "--force"),
        ("convert", hf, "-o", hf / "model-00001-of-00002.safetensors", "--force"),
        ("convert", hf, "-o", hf / "model.safetensors.index.json", "--force"),
        ("convert", hf, "-o", hf / "config.json", "--force"),
        ("convert", hf, "-o", inputs / "link.safetensors", "--force"),  # a symlink to a shard
        ("convert", hf, "-o", inputs / "hardlink.safetensors", "--force"),  # a hard link to a shard
        ("convert", hf, "-o", f"{hf}/./../{hf.name}/model-00002-of-00002.safetensors", "--force"),
        ("cast", dcp, "--dtype", "float16", "-o", shard, "--force"),
        ("convert", dcp, "-o", dcp / ".metadata", "--force"),
        ("graft", inputs / "evil.pth", "--from", hf, "-o", hf / "model-00001-of-00002.safetensors", "--force"),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda a: ckpt(*a), runs))
    for argv, r in zip(runs, results):
        assert r.returncode == 1, (argv, r.stdout, r.stderr)
        assert "refusing to overwrite" in r.stderr and r.stderr.count("\n") == 1, (argv, r.stderr)
    assert digest(hf) == before_hf and digest(dcp) == before_dcp


@pytest.mark.slow
def test_names_never_reach_the_terminal_raw(inputs):
    evil = inputs / "evil.pth"
    named = next(p for p in inputs.iterdir() if p.name.startswith("name"))
    runs = [
        ("info", evil),
        ("tree", evil),
        ("stats", evil),
        ("scan", evil),
        ("info", named),
        ("diff", evil, named),
        ("rename", evil, "--pattern", "^w", "--repl", "v", "-o", inputs / "o.pth", "--force"),
        ("info", inputs / f"x{EVIL}"),
    ]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda a: ckpt(*a), runs))
    for argv, r in zip(runs, results):
        for text in (r.stdout, r.stderr):
            assert not any(c in text for c in "\x1b\x07\r\u202e"), (argv[0], text)
            assert "\nforged line" not in text and "\nNOT EXECUTED: nothing" not in text, (argv[0], text)
        assert "\\x1b]52" in r.stdout + r.stderr, (argv[0], r.stdout, r.stderr)  # shown, escaped
    info_json = ckpt("info", evil, "--json")  # JSON keeps the exact name, escaped by the encoder
    assert info_json.returncode == 0 and "\\u001b" in info_json.stdout and "\x1b" not in info_json.stdout
    assert EVIL in [t["key"] for t in json.loads(info_json.stdout)["tensors"]]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(tmp_path):
    keys = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain.weight"]
    stats = [TensorStats(k, 1, 0.0, -1.5, -0.5, None, 0.0, 0, 0, 1) for k in keys]
    export_stats_csv(stats, tmp_path / "s.csv")
    rows = list(csv.reader((tmp_path / "s.csv").open(newline="")))
    cells = [row[0] for row in rows[1:]]
    assert cells[:-1] == ["'" + k for k in keys[:-1]] and cells[-1] == "plain.weight"
    assert rows[1][3] == "-1.5" and rows[1][4] == "-0.5"  # numbers stay numbers


def test_cast_of_a_dcp_folder(inputs, tmp_path):
    r = ckpt("cast", inputs / "dcp", "--dtype", "bfloat16", "-o", tmp_path / "c.safetensors")
    assert r.returncode == 0, r.stderr
    assert "verified" in r.stdout


def test_compat_map_suggestion_stays_linear(tmp_path):
    """Two files of 3,000 keys, each with its own two-segment head: the suggestion tried every
    pair of heads over every key (O(n^3): hours)."""
    keys = [f"layer{i}.weight" for i in range(3000)]
    torch.save({f"encoder.{k}": torch.zeros(1) for k in keys}, tmp_path / "a.pth")
    torch.save({f"backbone.{k}": torch.zeros(1) for k in keys}, tmp_path / "b.pth")
    r = subprocess.run([sys.executable, "-m", "ckptviewer", "compat", tmp_path / "a.pth", tmp_path / "b.pth"],
                       capture_output=True, text=True, timeout=60, cwd=str(ROOT))  # fmt: skip
    assert r.returncode == 1 and "--map encoder.=backbone." in r.stdout, r.stdout + r.stderr
