"""`ckpt scan` as a subprocess: JSON with why, --fail-on exit codes, grouped human output, --help."""

from __future__ import annotations

import json

import pytest

from ckptviewer.cli import main
from ckptviewer.core import open_checkpoint
from ckptviewer.core.scan import KINDS, SEVERITY_MEANING
from tests import calibration as cal
from tests.cli.test_cli import ckpt

# make test-slow (run by CI): trained checkpoints through ckpt in subprocesses
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scan")
    nan, nan_key = cal.broken_nan(d)
    return {
        "lightning": cal.lightning(d),
        "lightning_fresh": cal.lightning(d, trained=False),
        "nan": nan,
        "nan_key": nan_key,
        "optimizer_nan": cal.broken_optimizer_nan(d)[0],
    }


def test_a_trained_lightning_checkpoint_passes_every_gate(files):
    r = ckpt("scan", files["lightning"], "--json", "--fail-on", "info")  # info: the strictest gate
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["counts"] == {"error": 0, "warning": 0, "info": 0} and doc["findings"] == []
    assert doc["n_scanned"] == len(open_checkpoint(files["lightning"]).tensors)


@pytest.mark.slow  # two more subprocesses; the same note is checked in-process in tests/core
def test_a_fresh_lightning_checkpoint_is_one_note(files):
    r = ckpt("scan", files["lightning_fresh"], "--json", "--fail-on", "info")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert doc["counts"] == {"error": 0, "warning": 0, "info": 1}
    (f,) = doc["findings"]
    assert f == {"key": "state_dict", "kind": "untrained", "severity": "info", "message": f["message"],
                 "why": KINDS["untrained"].why}  # fmt: skip
    out = ckpt("scan", files["lightning_fresh"], "--fail-on", "warning")
    assert out.returncode == 0
    lines = out.stdout.splitlines()
    assert lines[0] == f"notes (1): {SEVERITY_MEANING['info']}"
    assert lines[1] == f"  state_dict: untrained: {f['message']}"
    assert (
        lines[-1]
        == f"{len(open_checkpoint(files['lightning_fresh']).tensors)} tensors scanned: 0 errors, 0 warnings, 1 note"
    )


@pytest.mark.slow
def test_fail_on_error_stops_nan_weights_but_not_nan_optimizer_state(files):
    r = ckpt("scan", files["nan"], "--json", "--fail-on", "error")
    assert r.returncode == 3
    doc = json.loads(r.stdout)
    assert [(f["key"], f["kind"], f["severity"]) for f in doc["findings"]] == [(files["nan_key"], "nan", "error")]
    assert doc["findings"][0]["why"] == KINDS["nan"].why
    r = ckpt("scan", files["optimizer_nan"], "--fail-on", "error")
    assert r.returncode == 0  # resuming would fail, the weights are fine: a warning
    out = r.stdout.splitlines()
    assert out[0] == f"warnings (1): {SEVERITY_MEANING['warning']}"
    assert out[1].startswith("  optimizer.state.0.exp_avg_sq: optimizer_nonfinite: 1 NaN of ")
    assert out[2] == f"      why: {KINDS['optimizer_nonfinite'].why}"
    n = len(open_checkpoint(files["optimizer_nan"]).tensors)
    assert out[-1] == f"{n} tensors scanned: 0 errors, 1 warning, 0 notes"


def test_help_says_what_each_severity_means(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["scan", "--help"])  # in-process: argparse prints and exits 0
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    for severity, meaning in SEVERITY_MEANING.items():
        assert f"{severity:8} {meaning}" in text
    assert "docs/SCAN.md" in text
