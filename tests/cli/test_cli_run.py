"""`ckpt run` as a subprocess: the human tables, --json, --metric/--keys, escaping, exit status."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from tests.cli.test_cli import ckpt
from tests.runs import make_run

# make test-slow (run by CI): ckpt in subprocesses over a trained run (12 s to set up)
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Every command of this module, run together (each process spends seconds importing torch)."""
    d = tmp_path_factory.mktemp("runs")
    folder = make_run(d, "lightning", n=6, frozen=True, nan_at=4, duplicate_at=3)
    (folder / "notes.txt").write_text("lr sweep 3\n")
    hostile = d / "hostile"
    hostile.mkdir()
    for i in range(3):  # names that try to drive the terminal: clear the screen, set the clipboard
        torch.save({"w": torch.full((4,), float(i) + 1)}, hostile / f"\x1b[2J\x1b]52;c;ZXZpbA==\x07ep{i}.pth")
    (d / "empty").mkdir()
    env = {"CKPT_CACHE_DIR": str(d / "cache")}
    commands = {
        "human": ("run", folder),
        "json": ("run", folder, "--json"),
        "norm": ("run", folder, "--metric", "norm", "--keys", "*.weight", "--top", "2"),
        "hostile": ("run", hostile),
        "empty": ("run", d / "empty"),
        "nomatch": ("run", folder, "--keys", "nothing*"),
    }
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        return dict(zip(commands, pool.map(lambda args: ckpt(*args, env=env), commands.values())))


def test_human_output_lists_checkpoints_findings_and_layers(runs):
    r = runs["human"]
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "6 checkpoints, ordered by metadata" in out
    assert "epoch=00-step=5.ckpt" in out and "best_model_score=" in out
    assert "skipped notes.txt: not a PyTorch checkpoint: a text file" in out
    assert "error: #4 epoch=04-step=25.ckpt: model.head.weight: first_nonfinite" in out
    assert "info: #3 epoch=03-step=20.ckpt: (checkpoint): identical" in out
    # grouped: the frozen Linear (weight and bias) is one finding, NaN's spread to the other layers another
    assert "info: #1 epoch=01-step=10.ckpt: (2 layers): frozen: model.frozen.*: all 2 layers never change" in out
    assert "error: #5 epoch=05-step=30.ckpt: (7 layers): first_nonfinite: NaN/Inf then in 7 more layers" in out
    assert out.count(": first_nonfinite: ") == 2 and "num_batches_tracked" not in out
    assert "rel_update per layer:" in out
    table = out.split("rel_update per layer:\n", 1)[1].splitlines()
    assert table[0].split() == ["layer", "#0", "#1", "#2", "#3", "#4", "#5"]
    frozen = next(line for line in table if line.startswith("model.frozen.weight"))
    assert frozen.split()[1:] == ["-", "0", "0", "0", "0", "0"]
    head = next(line for line in table if line.startswith("model.head.weight"))
    assert head.split()[5].endswith("!")  # NaN/Inf in that checkpoint, marked


def test_json_is_the_core_document(runs):
    r = runs["json"]
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [c["step"] for c in doc["checkpoints"]] == [5, 10, 15, 20, 25, 30]
    assert doc["skipped"] == [{"name": "notes.txt", "why": "not a PyTorch checkpoint: a text file (11 bytes)"}]
    kinds = {(f["kind"], f["checkpoint"], f["key"]) for f in doc["findings"]}
    assert {
        ("identical", 3, None),
        ("first_nonfinite", 4, "model.head.weight"),
        ("frozen", 1, "model.frozen.weight"),
    } <= kinds
    frozen = next(f for f in doc["findings"] if f["kind"] == "frozen")
    assert frozen["keys"] == ["model.frozen.weight", "model.frozen.bias"]
    head = next(row for row in doc["layers"] if row["key"] == "model.head.weight")
    assert head["nonfinite"][4] == 1 and head["norm"][5] is None


def test_metric_keys_and_top(runs):
    r = runs["norm"]
    assert r.returncode == 0, r.stderr
    table = r.stdout.split("norm per layer: ", 1)[1].splitlines()
    assert table[0].startswith("the 2 layers with the largest values of 4")  # conv, bn, frozen, head
    rows = [line.split()[0] for line in table[2:] if line.strip() and not line.startswith("!")]
    assert len(rows) == 2 and all(k.endswith(".weight") for k in rows)
    assert runs["nomatch"].returncode == 1 and "no layer matches nothing*" in runs["nomatch"].stderr


def test_file_names_cannot_drive_the_terminal(runs):
    r = runs["hostile"]
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    assert "\\x1b[2J" in r.stdout


def test_a_folder_without_checkpoints_is_one_line(runs):
    r = runs["empty"]
    assert r.returncode == 1
    assert r.stderr.strip().count("\n") == 0 and "no checkpoints found" in r.stderr
    assert "Traceback" not in r.stderr
