"""`ckpt info` / `ckpt stats` on torch.export ``.pt2`` archives, in a subprocess (#15).

The listing runs start together in a module fixture and each test checks its own; `ckpt stats`
(which imports torch in the child) is a slow test.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from tests.core.test_pt2 import MODEL, ConvBN, _rewrite

CKPT = [sys.executable, "-m", "ckptviewer"]
EVIL = "evil\n\x1b]52;c;aGk=\x07name"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("pt2cli")
    torch.manual_seed(1)
    cnn = ConvBN().eval()
    with torch.no_grad():
        cnn.bn.running_mean.normal_()
        cnn.bn.running_var.uniform_(0.5, 2)
    cnn_path = folder / "cnn.pt2"
    torch.export.save(torch.export.export(cnn, (torch.randn(1, 3, 8, 8),)), cnn_path)

    def evil_names(records: dict[str, bytes]) -> None:
        doc = json.loads(records[MODEL])
        doc["graph_module"]["signature"]["input_specs"][0]["parameter"]["parameter_name"] = EVIL
        doc["torch_version"] = EVIL
        records[MODEL] = json.dumps(doc).encode()

    evil = _rewrite(cnn_path, folder / "evil.pt2", evil_names)
    bad = _rewrite(cnn_path, folder / "bad.pt2", lambda r: r.__setitem__(MODEL, b"\x00garbage"))
    commands = {
        "info_json": ("info", cnn_path, "--json"),
        "info_human": ("info", cnn_path),
        "evil": ("info", evil),
        "bad": ("info", bad),
    }
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {
            name: pool.submit(
                subprocess.run,
                [*CKPT, *map(str, args)],
                capture_output=True,
                text=True,
                timeout=120,
                stdin=subprocess.DEVNULL,
            )
            for name, args in commands.items()
        }
        results = {name: f.result() for name, f in futures.items()}
    return {"results": results, "cnn": cnn, "path": cnn_path}


def test_info_json_format_tensors_and_metadata(runs):
    r = runs["results"]["info_json"]
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["format"] == "torch-export"
    sd = runs["cnn"].state_dict()
    assert {t["key"]: (t["shape"], t["dtype"]) for t in doc["tensors"]} == {
        k: (list(v.shape), str(v.dtype).removeprefix("torch.")) for k, v in sd.items()
    }
    meta = doc["metadata"]["torch.export"]
    assert meta["signature"]["inputs"]["parameter"]["p_conv_weight"] == "conv.weight"
    assert meta["signature"]["inputs"]["buffer"]["b_bn_running_mean"] == "bn.running_mean"
    assert meta["operators"]["aten.conv2d.default"] == 1
    assert meta["torch_version"] == torch.__version__


def test_info_human_shows_the_signature_one_line_per_entry(runs):
    human = runs["results"]["info_human"]
    assert human.returncode == 0 and "[torch-export]" in human.stdout
    assert "torch.export.signature.inputs.parameter.p_conv_weight: conv.weight" in human.stdout
    assert "torch.export.operators.aten.conv2d.default: 1" in human.stdout


@pytest.mark.slow  # imports torch in the child (~3 s on two cores, after the export): CI runs it
def test_stats_equal_the_modules_state_dict(runs):
    r = subprocess.run(
        [*CKPT, "stats", str(runs["path"]), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode == 0, r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)["tensors"]}
    sd = runs["cnn"].state_dict()
    assert set(rows) == set(sd)
    for key, t in sd.items():
        row, v = rows[key], t.double().flatten()
        assert row["numel"] == v.numel()
        assert row["min"] == pytest.approx(v.min().item()) and row["max"] == pytest.approx(v.max().item()), key
        assert row["mean"] == pytest.approx(v.mean().item(), abs=1e-7), key
        assert row["l2"] == pytest.approx(v.norm().item(), rel=1e-6), key
        assert row["n_zero"] == int((v == 0).sum())
        if v.numel() > 1:
            assert row["std"] == pytest.approx(v.std().item(), rel=1e-5), key
    assert not math.isnan(rows["bn.running_mean"]["std"])


def test_names_with_escape_codes_are_escaped_in_human_output(runs):
    r = runs["results"]["evil"]
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout
    lines = [line for line in r.stdout.splitlines() if "p_conv_weight" in line]
    assert len(lines) == 1 and "evil" in lines[0] and "name" in lines[0]  # one line: the newline escaped


def test_damaged_archive_is_one_line_and_exit_1(runs):
    r = runs["results"]["bad"]
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ckpt: error:") and "models/model.json" in lines[0], r.stderr
    assert "Traceback" not in r.stderr
