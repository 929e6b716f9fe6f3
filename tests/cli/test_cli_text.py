"""Readable human output of the real `ckpt` command: what kind of file it is, Lightning's
loop counters on one line, long keys elided, complex statistics labelled, no torch noise."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import torch

from tests.cli.test_cli import ckpt, ckpt_all
from tests.models import SmallNet, lightning_checkpoint, lightning_loops, training_checkpoint

LONG = "model." + ".".join(f"a_rather_long_module_name_{i}" for i in range(8)) + ".weight"  # ~230 characters


def _lightning_file(tmp_path):
    ck = lightning_checkpoint(SmallNet())
    ck["loops"] = lightning_loops()
    ck["state_dict"][LONG] = torch.randn(3, 3)
    ck["state_dict"]["model.spectrum"] = torch.randn(4, dtype=torch.complex64)
    path = tmp_path / "epoch=06-step=700.ckpt"
    torch.save(ck, path)
    return path


def test_info_names_the_flavor_and_folds_lightning_loop_counters_into_one_line(tmp_path):
    path = _lightning_file(tmp_path)
    r, every = ckpt_all(("info", path), ("info", path, "--all"))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    first = r.stdout.splitlines()[0]
    assert "[torch-zip] PyTorch Lightning checkpoint (2.4.0)," in first
    loop_lines = [line for line in r.stdout.splitlines() if line.strip().startswith("loops")]
    n_counters = sum(1 for _ in _leaves(lightning_loops()))
    assert loop_lines == [
        f"  loops: {n_counters} counters in fit_loop, validate_loop, test_loop, predict_loop (--all to show)"
    ]

    assert "loops.fit_loop.epoch_loop.batch_progress.total.ready: 700" in every.stdout
    assert sum(line.strip().startswith("loops.") for line in every.stdout.splitlines()) == n_counters


def _leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from _leaves(v)
    else:
        yield value


def test_long_keys_are_elided_in_the_middle_so_columns_stay_narrow(tmp_path):
    path = _lightning_file(tmp_path)
    with ThreadPoolExecutor(max_workers=3) as pool:  # three processes at once: each mostly imports torch
        default, narrow, as_json = (
            pool.submit(ckpt, "info", path),
            pool.submit(ckpt, "info", path, env={"COLUMNS": "100"}),
            pool.submit(ckpt, "info", path, "--json"),
        )
    for env, run in (({}, default), ({"COLUMNS": "100"}, narrow)):
        r = run.result()
        table = r.stdout[r.stdout.index("\nkey ") + 1 :].splitlines()
        widest = 100 if env else 80 + 60  # the key column, then shape/dtype/numel/size
        assert max(len(line) for line in table) <= widest, max(table, key=len)
        row = next(line for line in table if "name_7.weight" in line)
        assert row.startswith("state_dict.model.a_rather_long") and "…" in row
        assert row.split()[1:] == ["3x3", "float32", "9", "36", "B"]  # the columns line up after the cut
    assert LONG in as_json.result().stdout  # JSON keeps every key whole


def test_stats_label_complex_tensors_as_magnitudes(tmp_path):
    r = ckpt("stats", _lightning_file(tmp_path))
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "spectrum" in line)
    assert row.startswith("state_dict.model.spectrum |z|")
    assert "|z|: 1 complex tensor, statistics of the magnitudes |z| of the values" in r.stdout


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support")
@pytest.mark.slow
def test_torch_warnings_never_reach_stderr(tmp_path):
    path = tmp_path / "sparse.pt"
    torch.save({"csr": torch.eye(3).to_sparse_csr(), "w": torch.ones(2)}, path)  # torch warns "in beta state"
    commands = (("info", path), ("stats", path), ("scan", path), ("diff", path, path))
    with ThreadPoolExecutor(max_workers=2) as pool:  # the debug run overlaps the four below
        debug = pool.submit(ckpt, "stats", path, env={"CKPT_DEBUG": "1"})  # the notice is hidden unless debugging
        for command, r in zip(commands, ckpt_all(*commands)):
            assert r.returncode == 0 and r.stderr == "", (command, r.stderr)
    assert "UserWarning" in debug.result().stderr


def test_counts_of_one_are_singular(tmp_path):
    path = tmp_path / "one.pt"
    torch.save({"w": torch.ones(1)}, path)
    info, tree = ckpt_all(("info", path), ("tree", path))
    assert "1 tensor, 1 element, 4 B; 1 model parameter" in info.stdout
    assert "1 tensor, 1 parameter," in tree.stdout


def test_info_says_training_checkpoint(tmp_path):
    path = tmp_path / "train.pth"
    torch.save(training_checkpoint(SmallNet()), path)
    first = ckpt("info", path).stdout.splitlines()[0]
    assert "] training checkpoint, saved on cpu" in first
