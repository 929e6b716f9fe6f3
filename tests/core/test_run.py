"""The run view's core on real training runs (tests/runs.py): order, figures, findings, cache, remote."""

from __future__ import annotations

import itertools
import json
import math
import os
import shutil

import pytest
import torch

from ckptviewer.core import CheckpointError
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope
from ckptviewer.core.run import analyse_run, find_run, list_run, run_to_json
from tests.runs import FROZEN_KEYS, LAYOUTS, LR, NAN_KEY, STEPS_PER_CHECKPOINT, make_run, model_key


def analyse(folder, cache):
    listing = list_run(folder, cache_dir=cache)
    return analyse_run(listing.checkpoints, cache_dir=cache, skipped=listing.skipped, root=listing.root)


def found(report, kind=None):
    return [(f.kind, f.checkpoint, f.key) for f in report.findings if kind is None or f.kind == kind]


@pytest.fixture
def cache(tmp_path):
    folder = tmp_path / "cache"
    folder.mkdir()
    return folder


@pytest.mark.parametrize("layout", LAYOUTS)
def test_frozen_layer_nan_and_duplicate_are_found_at_their_checkpoints(tmp_path, cache, layout):
    folder = make_run(tmp_path, layout, n=6, frozen=True, nan_at=4, duplicate_at=3)
    report = analyse(folder, cache)
    assert [c.step for c in report.checkpoints] == [STEPS_PER_CHECKPOINT * (i + 1) for i in range(6)]
    assert [c.epoch for c in report.checkpoints] == list(range(6))
    assert {c.order_from for c in report.checkpoints} == {"metadata"}
    nan_key = model_key(layout, NAN_KEY)
    frozen = [model_key(layout, k) for k in FROZEN_KEYS]
    # training went on from a NaN weight: every other trained layer is NaN one checkpoint later. One finding
    # where NaN first appears, one for its spread (not one per layer); the frozen Linear is one finding
    spread = [model_key(layout, k) for k in ("conv.weight", "conv.bias", "bn.weight", "bn.bias", "bn.running_mean",
                                             "bn.running_var", "head.bias")]  # fmt: skip
    assert found(report) == [("frozen", 1, frozen[0]), ("identical", 3, None), ("first_nonfinite", 4, nan_key),
                             ("first_nonfinite", 5, spread[0])]  # fmt: skip
    assert [f.keys for f in report.findings] == [tuple(frozen), (), (nan_key,), tuple(spread)]
    assert report.findings[3].message.startswith(f"NaN/Inf then in 7 more layers at {report.checkpoints[5].name} (")
    assert report.findings[2].message == f"1 NaN/Inf value at {report.checkpoints[4].name}: the run's first"
    assert report.findings[0].message.startswith(f"{model_key(layout, 'frozen')}.*: all 2 layers never change")
    assert {f["checkpoint"]: f["keys"] for f in run_to_json(report)["findings"]}[5] == spread
    assert {f.severity for f in report.findings if f.kind == "frozen"} == {"info"}  # frozen from the start
    assert not found(report, "dead") and not found(report, "exploding")
    assert all(f.why and f.message and "\n" not in f.message for f in report.findings)
    layer = {s.key: s for s in report.layers}
    assert layer[nan_key].nonfinite == [0, 0, 0, 0, 1, layer[nan_key].nonfinite[5]]
    assert layer[nan_key].nonfinite[5] == layer[nan_key].shape[0] * layer[nan_key].shape[1]
    assert all(v == 0.0 for v in layer[model_key(layout, "frozen.weight")].rel_update[1:])
    assert layer[model_key(layout, "conv.weight")].rel_update[3] == 0.0  # the duplicate
    assert layer[model_key(layout, "conv.weight")].norm[5] is None  # nothing finite left to measure


@pytest.mark.parametrize("layout", LAYOUTS)
def test_a_healthy_run_has_no_findings(tmp_path, cache, layout):
    folder = make_run(tmp_path, layout, n=7, frozen=False, nan_at=None, duplicate_at=None)
    report = analyse(folder, cache)
    assert report.findings == [], [(f.kind, f.checkpoint, f.key, f.message) for f in report.findings]
    assert len(report.checkpoints) == 7 and report.metric == "rel_update"


def test_a_warm_up_is_no_explosion_but_a_sudden_learning_rate_jump_is(tmp_path, cache):
    warm = analyse(make_run(tmp_path, "plain", n=8, frozen=False, nan_at=None, duplicate_at=None, warmup=True), cache)
    assert warm.findings == [], [(f.kind, f.checkpoint, f.key, f.message) for f in warm.findings]
    conv = next(s for s in warm.layers if s.key == "conv.weight")
    assert conv.rel_update[5] > 10 * conv.rel_update[1]  # the updates did grow, with the learning rate
    assert [round(c.lr / LR, 4) for c in warm.checkpoints][:3] == [0.025, 0.0625, 0.1562]


def test_figures_match_torch_on_the_files(tmp_path, cache):
    folder = make_run(tmp_path, "plain", n=4, frozen=True, nan_at=None, duplicate_at=None)
    report = analyse(folder, cache)
    states = [torch.load(folder / c.name, weights_only=True) for c in report.checkpoints]
    for series in report.layers:
        w = [s["model"][series.key].double() for s in states]
        assert series.shape == tuple(w[0].shape)
        for t in range(4):
            assert series.norm[t] == pytest.approx(w[t].norm().item(), rel=1e-5)
            first = (w[t] - w[0]).norm().item() / w[0].norm().item() if w[0].norm() > 0 else 0.0
            assert series.change_from_first[t] == pytest.approx(first, rel=1e-4, abs=1e-12)
            if t:
                expected = (w[t] - w[t - 1]).norm().item() / w[t - 1].norm().item()
                assert series.rel_update[t] == pytest.approx(expected, rel=1e-4, abs=1e-12)
        assert series.rel_update[0] is None
    # Adam's next update relative to the weight, bias-corrected as torch.optim.Adam does
    state = states[2]["optimizer"]
    params = [k for k in states[2]["model"] if not k.startswith("bn.running") and "num_batches" not in k]
    index = params.index("head.weight")
    moments = state["state"][index]
    step = float(moments["step"])
    b1, b2 = state["param_groups"][0]["betas"]
    m_hat = moments["exp_avg"].double() / (1 - b1**step)
    v_hat = moments["exp_avg_sq"].double() / (1 - b2**step)
    update = state["param_groups"][0]["lr"] * m_hat / (v_hat.sqrt() + state["param_groups"][0]["eps"])
    expected = update.norm().item() / states[2]["model"]["head.weight"].double().norm().item()
    head = next(s for s in report.layers if s.key == "head.weight")
    assert head.adam_ratio[2] == pytest.approx(expected, rel=1e-4)
    frozen = next(s for s in report.layers if s.key == "frozen.weight")
    assert frozen.adam_ratio == [None] * 4  # Adam keeps no state for a parameter without gradients
    running = next(s for s in report.layers if s.key == "bn.running_mean")
    assert running.adam_ratio == [None] * 4  # a buffer is not optimized


def test_learning_rate_and_metrics_are_read_from_each_layout(tmp_path, cache):
    plain = find_run(make_run(tmp_path, "plain", n=4, nan_at=None, duplicate_at=None), cache_dir=cache)
    assert [c.lr for c in plain] == [LR, LR / 2, LR / 2, LR / 4]  # StepLR(step_size=2, gamma=0.5)
    assert all(set(c.metrics) == {"loss"} and 0 < c.metrics["loss"] < 5 for c in plain)
    lightning = find_run(make_run(tmp_path, "lightning", n=4, nan_at=None, duplicate_at=None), cache_dir=cache)
    assert [c.lr for c in lightning] == [LR, LR / 2, LR / 2, LR / 4]
    assert all(set(c.metrics) == {"best_model_score"} for c in lightning)
    assert lightning[0].name == "epoch=00-step=5.ckpt" and lightning[0].format == "torch-zip"
    dcp = find_run(make_run(tmp_path, "dcp", n=3, nan_at=None, duplicate_at=None), cache_dir=cache)
    assert [c.name for c in dcp] == ["step_5", "step_10", "step_15"]  # by step, not by name
    assert [c.lr for c in dcp] == [LR, LR / 2, LR / 2] and {c.format for c in dcp} == {"dcp"}
    assert all(c.size == sum(f.stat().st_size for f in (tmp_path / "run_dcp" / c.name).iterdir()) for c in dcp)


def test_exploding_updates_and_a_dead_layer(tmp_path, cache):
    boom = analyse(make_run(tmp_path, "plain", n=6, frozen=False, nan_at=None, duplicate_at=None, explode_at=4), cache)
    exploding = found(boom, "exploding")
    assert exploding and {t for _, t, _ in exploding} == {4}, exploding
    assert ("exploding", 4, "conv.weight") in exploding
    dead = analyse(
        make_run(tmp_path, "plain", n=5, frozen=False, nan_at=None, duplicate_at=None, zero_at=3, name="dead"), cache
    )
    assert found(dead) == [("dead", 3, "conv.weight")], [(f.kind, f.checkpoint, f.key) for f in dead.findings]


def test_order_from_names_then_mtime_and_skipped_entries(tmp_path, cache):
    folder = tmp_path / "names"
    folder.mkdir()
    for epoch in (10, 2, 1):  # plain state_dicts: no step or epoch inside
        torch.save({"w": torch.full((4,), float(epoch))}, folder / f"model_ep{epoch}.pth")
    (folder / "notes.txt").write_text("lr=0.1\n")
    (folder / "logs").mkdir()
    listing = list_run(folder, cache_dir=cache)
    assert [c.name for c in listing.checkpoints] == ["model_ep1.pth", "model_ep2.pth", "model_ep10.pth"]
    assert [c.epoch for c in listing.checkpoints] == [1, 2, 10] and [c.step for c in listing.checkpoints] == [None] * 3
    assert {c.order_from for c in listing.checkpoints} == {"name"}
    skipped = dict(listing.skipped)
    assert set(skipped) == {"notes.txt", "logs"} and "text file" in skipped["notes.txt"]
    assert str(folder) not in skipped["notes.txt"]  # the reason, not the path again

    loose = tmp_path / "loose"
    loose.mkdir()
    for i, name in enumerate(["b.pth", "a.pth", "c.pth"]):
        torch.save({"w": torch.full((4,), float(i))}, loose / name)
        os.utime(loose / name, ns=(10**18 + i * 10**9, 10**18 + i * 10**9))
    listed = find_run(loose, cache_dir=cache)
    assert [c.name for c in listed] == ["b.pth", "a.pth", "c.pth"] and {c.order_from for c in listed} == {"mtime"}

    by_glob = find_run(str(folder / "model_ep*.pth"), cache_dir=cache)
    assert [c.name for c in by_glob] == ["model_ep1.pth", "model_ep2.pth", "model_ep10.pth"]


def test_nothing_found_is_one_clear_error(tmp_path, cache):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CheckpointError, match="no checkpoints found"):
        find_run(tmp_path / "empty", cache_dir=cache)
    (tmp_path / "text").mkdir()
    (tmp_path / "text" / "a.pth").write_text("not a checkpoint")
    with pytest.raises(CheckpointError, match=r"no checkpoints found \(a\.pth: not a PyTorch checkpoint"):
        find_run(tmp_path / "text", cache_dir=cache)
    with pytest.raises(CheckpointError, match="no such file or folder"):
        find_run(tmp_path / "missing", cache_dir=cache)


def test_hugging_face_trainer_folders(tmp_path, cache):
    from safetensors.torch import save_file

    run = tmp_path / "hf"
    for step, lr, loss in ((1000, 4e-5, 0.9), (500, 5e-5, 1.2)):
        ckpt = run / f"checkpoint-{step}"
        ckpt.mkdir(parents=True)
        save_file({"w": torch.full((8,), step / 1000)}, str(ckpt / "model.safetensors"))
        state = {"global_step": step, "epoch": step / 1000 * 1.5, "best_metric": None,
                 "log_history": [{"loss": loss + 1, "learning_rate": 9e-5, "step": step // 2},
                                 {"loss": loss, "learning_rate": lr, "grad_norm": 2.0, "step": step}]}  # fmt: skip
        (ckpt / "trainer_state.json").write_text(json.dumps(state))
    (run / "runs").mkdir()  # TensorBoard logs beside the checkpoints
    cps = find_run(run, cache_dir=cache)
    assert [(c.name, c.step, c.epoch, c.lr) for c in cps] == [("checkpoint-500", 500, 0, 5e-5),
                                                             ("checkpoint-1000", 1000, 1, 4e-5)]  # fmt: skip
    assert cps[0].metrics == {"loss": 1.2, "grad_norm": 2.0} and cps[0].format == "safetensors"
    report = analyse_run(cps, cache_dir=cache)
    assert report.layers[0].rel_update[1] == pytest.approx(1.0)


def test_a_reopened_run_reads_no_tensor_data(tmp_path, cache):
    folder = make_run(tmp_path, "plain", n=5, nan_at=None, duplicate_at=3)
    first = analyse(folder, cache)
    assert first.cached == [False] * 5
    # every file's bytes replaced by zeros of the same size, with its modification time put back: a
    # reader would refuse them, so figures equal to the first ones came from the cache alone
    for f in folder.iterdir():
        st = f.stat()
        f.write_bytes(bytes(st.st_size))
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = analyse(folder, cache)
    assert again.cached == [True] * 5
    assert run_to_json(again)["layers"] == run_to_json(first)["layers"]
    assert run_to_json(again)["findings"] == run_to_json(first)["findings"]
    # a changed modification time is a changed file: read again (and now refused)
    os.utime(folder / "model_ep2.pth", ns=(0, 10**18))
    listing = list_run(folder, cache_dir=cache)
    assert "model_ep2.pth" in dict(listing.skipped) and len(listing.checkpoints) == 4


def test_a_damaged_cache_is_ignored_and_rewritten(tmp_path, cache):
    folder = make_run(tmp_path, "plain", n=3, nan_at=None, duplicate_at=None)
    first = analyse(folder, cache)
    files = sorted(cache.glob("*.json"))
    assert len(files) == 3
    files[0].write_text("{not json")
    doc = json.loads(files[1].read_text())
    doc["layers"][0][3] = "a lot"  # a norm that is not a number
    doc["info"]["step"] = [1]
    files[1].write_text(json.dumps(doc))
    doc = json.loads(files[2].read_text())
    doc["version"] = -1
    files[2].write_text(json.dumps(doc))
    again = analyse(folder, cache)
    assert again.cached == [False] * 3
    assert run_to_json(again)["layers"] == run_to_json(first)["layers"]
    assert [c.step for c in again.checkpoints] == [c.step for c in first.checkpoints]
    assert analyse(folder, cache).cached == [True] * 3  # rewritten whole


def test_progress_reaches_the_end_and_cancel_stops(tmp_path, cache):
    folder = make_run(tmp_path, "plain", n=3, nan_at=None, duplicate_at=None)
    cps = find_run(folder, cache_dir=cache)
    seen = []
    analyse_run(cps, cache_dir=cache, progress=seen.append)
    assert seen and seen[-1].fraction == 1.0
    assert all(a.fraction <= b.fraction for a, b in itertools.pairwise(seen))
    token = CancelToken()
    token.cancel()
    shutil.rmtree(cache)
    cache.mkdir()
    with cancel_scope(token), pytest.raises(Cancelled):
        analyse_run(cps, cache_dir=cache)


def test_json_document_is_strict_json(tmp_path, cache):
    report = analyse(make_run(tmp_path, "plain", n=6, nan_at=4, duplicate_at=3), cache)
    doc = run_to_json(report)
    text = json.dumps(doc, allow_nan=False)  # NaN-affected figures are null, never NaN
    assert json.loads(text) == doc
    assert set(doc) == {"root", "metric", "checkpoints", "layers", "findings", "skipped"}
    head = next(row for row in doc["layers"] if row["key"] == NAN_KEY)
    assert head["nonfinite"][4] == 1 and head["norm"][5] is None
    assert all(len(row["rel_update"]) == 6 for row in doc["layers"])
    assert not any(math.isnan(v) for row in doc["layers"] for v in row["norm"] if v is not None)


def test_a_run_in_an_s3_folder(tmp_path, cache, s3_server, monkeypatch):
    monkeypatch.setenv("CKPT_CACHE_DIR", str(tmp_path / "blocks"))
    folder = make_run(tmp_path, "plain", n=4, nan_at=None, duplicate_at=2)
    (folder / "notes.txt").write_text("hello")
    url = s3_server.upload(folder, "runs/plain")
    local = analyse(folder, tmp_path / "local-cache")
    far = analyse(url, cache)
    assert [c.name for c in far.checkpoints] == [c.name for c in local.checkpoints]
    assert next(c.path for c in far.checkpoints).startswith("s3://")
    assert dict(far.skipped).keys() == {"notes.txt"}
    assert run_to_json(far)["layers"] == run_to_json(local)["layers"]
    assert found(far) == found(local) == [("frozen", 1, FROZEN_KEYS[0]), ("identical", 2, None)]
    assert analyse(url, cache).cached == [True] * 4


def test_integer_counters_are_not_layers_of_the_run(tmp_path, cache):
    folder = make_run(tmp_path, "plain", n=3, nan_at=None, duplicate_at=None)
    state = torch.load(folder / "model_ep0.pth", weights_only=True)
    assert state["model"]["bn.num_batches_tracked"].dtype == torch.int64  # in the files ...
    report = analyse(folder, cache)
    keys = [s.key for s in report.layers]
    assert "bn.num_batches_tracked" not in keys and "bn.running_mean" in keys  # ... not in the run's layers
    assert all(s.dtype.startswith("float") for s in report.layers)
    assert "bn.num_batches_tracked" not in {row["key"] for row in run_to_json(report)["layers"]}
    # a cache file written before counters were left out still holds their rows: they are left out too
    for f in cache.glob("*.json"):
        doc = json.loads(f.read_text())
        doc["layers"].append(["bn.num_batches_tracked", [], "int64", 25.0, 0, None, "buffer"])
        f.write_text(json.dumps(doc))
    again = analyse(folder, cache)
    assert again.cached == [True] * 3 and [s.key for s in again.layers] == keys


class Backbone(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = torch.nn.Sequential(*[torch.nn.Linear(6, 6) for _ in range(4)])
        self.proj = torch.nn.Linear(6, 6)
        self.head = torch.nn.Linear(6, 2)

    def forward(self, x):
        return self.head(self.proj(self.backbone(x)))


def test_a_frozen_backbone_is_one_finding_naming_it(tmp_path, cache):
    torch.manual_seed(0)
    model = Backbone()
    model.backbone.requires_grad_(False)
    model.proj.weight.requires_grad_(False)  # half a module frozen: its own finding
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    x, y = torch.randn(16, 6), torch.randn(16, 2)
    folder = tmp_path / "backbone"
    folder.mkdir()
    for epoch in range(4):
        for _ in range(3):
            loss = torch.nn.functional.mse_loss(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        torch.save({"model": model.state_dict(), "epoch": epoch}, folder / f"ep{epoch}.pth")
    report = analyse(folder, cache)
    assert found(report) == [("frozen", 1, "backbone.0.weight"), ("frozen", 1, "proj.weight")]
    group, alone = report.findings
    assert group.keys == tuple(f"backbone.{i}.{p}" for i in range(4) for p in ("weight", "bias"))
    assert group.message == "backbone.*: all 8 layers never change across the run (from ep0.pth on)"
    assert alone.keys == ("proj.weight",) and alone.message == "never changes across the run (from ep0.pth on)"
