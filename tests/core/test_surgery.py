"""Checkpoint surgery through the core API: edits (ckptviewer.core.edits) and saving
(ckptviewer.core.save), on files that torch itself wrote from real wrapped models.

Every output is checked the way a user would: ``torch.load`` (weights-only where the
file allows it), then ``load_state_dict(strict=True)`` into the plain model, with tensors
compared bit for bit. Source files are hashed before and after: surgery never writes them.
"""

from __future__ import annotations

import argparse
import fnmatch
import gc
import hashlib
import json
import os
import re
import zipfile
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.edits import (
    EditError,
    add_prefix,
    cast,
    compat,
    drop,
    extract,
    graft,
    parse_maps,
    rename,
    strip,
)
from ckptviewer.core.save import save
from tests.models import SmallNet, TiedLM, ddp_state_dict, training_checkpoint

# ---------------------------------------------------------------- helpers


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def as_bytes(t: torch.Tensor) -> torch.Tensor:
    return t.detach().contiguous().reshape(-1).view(torch.uint8)


def assert_bit_equal(a: torch.Tensor, b: torch.Tensor, what: str = "") -> None:
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} != {b.dtype}"
    assert a.shape == b.shape, f"{what}: shape {tuple(a.shape)} != {tuple(b.shape)}"
    assert torch.equal(as_bytes(a), as_bytes(b)), f"{what}: values differ"


def assert_same_state(got: dict, want: dict) -> None:
    """Same keys in the same order, every tensor bit-equal."""
    assert list(got) == list(want)
    for k in want:
        assert_bit_equal(got[k], want[k], k)


def assert_same_tree(got, want, where: str = "") -> None:
    """Nested dicts/lists/Namespaces equal, tensors bit for bit."""
    if isinstance(want, torch.Tensor):
        assert isinstance(got, torch.Tensor), where
        assert_bit_equal(got, want, where)
    elif isinstance(want, dict):
        assert isinstance(got, dict) and list(got) == list(want), where
        for k in want:
            assert_same_tree(got[k], want[k], f"{where}.{k}")
    elif isinstance(want, (list, tuple)):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want)):
            assert_same_tree(g, w, f"{where}.{i}")
    else:
        assert got == want, where


def trained_smallnet() -> SmallNet:
    """A SmallNet whose BatchNorm buffers are not the defaults (num_batches_tracked = 1)."""
    model = SmallNet()
    model.bn1(torch.randn(4, 8, 5, 5))  # train mode: updates running stats
    return model


def plain_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def no_part_files(folder: Path) -> bool:
    return not list(Path(folder).glob(".*.part"))


def open_cpu(path: Path):
    return open_checkpoint(path, device="cpu")


# ---------------------------------------------------------------- 1. strip of wrapped models


def _wrapped(kind: str, model: nn.Module, tmp_path: Path) -> tuple[dict, list[str]]:
    """The state_dict a wrapper writes, and the prefix chain expected in its keys."""
    if kind == "ddp":
        return ddp_state_dict(model, tmp_path), ["module."]
    if kind == "dataparallel":
        return nn.DataParallel(model).state_dict(), ["module."]
    if kind == "compile":
        return torch.compile(model).state_dict(), ["_orig_mod."]
    if kind == "ddp_compile":
        return ddp_state_dict(torch.compile(model), tmp_path), ["module.", "_orig_mod."]
    if kind == "legacy":
        return nn.DataParallel(model).state_dict(), ["module."]
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["ddp", "dataparallel", "compile", "ddp_compile", "legacy"])
def test_strip_wrapped_state_dict_loads_strictly_into_the_plain_model(tmp_path, kind):
    model = trained_smallnet()
    want = plain_state(model)
    sd, prefixes = _wrapped(kind, model, tmp_path)
    assert all(k.startswith("".join(prefixes)) for k in sd)
    src = tmp_path / "wrapped.pth"
    torch.save(sd, src, _use_new_zipfile_serialization=(kind != "legacy"))
    before = sha256(src)

    with open_cpu(src) as ckpt:
        assert ckpt.format == ("torch-legacy" if kind == "legacy" else "torch-zip")
        assert ckpt.prefixes == prefixes
        new, report = strip(ckpt)
        assert len(report.renamed) == len(want)
        assert report.renamed[0] == ("".join(prefixes) + "conv1.weight", "conv1.weight")
        rep = save(new, tmp_path / "out.pth")
    assert rep.verified and rep.format == "torch-zip" and rep.n_tensors == len(want)

    loaded = torch.load(tmp_path / "out.pth", weights_only=True)
    fresh = SmallNet()
    fresh.load_state_dict(loaded, strict=True)
    assert_same_state(loaded, want)
    assert dict(loaded._metadata) == dict(model.state_dict()._metadata)  # module versions (BatchNorm: 2) kept
    assert_same_state(fresh.state_dict(), want)
    assert sha256(src) == before, "the source file changed"
    assert no_part_files(tmp_path)


def test_strip_training_checkpoint_rewrites_only_the_model_keys(tmp_path):
    model = nn.DataParallel(trained_smallnet())  # keys module.*; no GPU needed without forward
    ck = training_checkpoint(model)
    src = tmp_path / "train.pth"
    torch.save(ck, src)
    before = sha256(src)
    want_model = {k.removeprefix("module."): v for k, v in ck["model"].items()}

    with open_cpu(src) as ckpt:
        assert ckpt.state_dict_key == "model" and ckpt.prefixes == ["module."]
        new, report = strip(ckpt)
        assert report.renamed[0] == ("model.module.conv1.weight", "model.conv1.weight")
        assert all(a.startswith("model.module.") and b.startswith("model.") for a, b in report.renamed)
        assert save(new, tmp_path / "out.pth").verified
        bare, wo_report = strip(ckpt, weights_only=True)
        assert any("optimizer" in w for w in wo_report.warnings)
        assert save(bare, tmp_path / "weights.pth").verified
    assert sha256(src) == before

    out = torch.load(tmp_path / "out.pth", weights_only=False)  # the Namespace needs the full unpickler
    assert list(out) == list(ck)
    assert_same_state(out["model"], want_model)
    assert_same_tree(out["optimizer"], ck["optimizer"], "optimizer")
    assert out["epoch"] == 3 and out["best_acc"] == 0.5
    assert isinstance(out["args"], argparse.Namespace) and out["args"] == ck["args"]
    SmallNet().load_state_dict(out["model"], strict=True)

    bare_sd = torch.load(tmp_path / "weights.pth", weights_only=True)  # a bare state_dict: weights-only loads it
    assert_same_state(bare_sd, want_model)
    SmallNet().load_state_dict(bare_sd, strict=True)


# ---------------------------------------------------------------- 2. safetensors


def test_strip_pth_into_safetensors(tmp_path):
    model = trained_smallnet()
    want = plain_state(model)
    src = tmp_path / "ddp.pth"
    torch.save(ddp_state_dict(model, tmp_path), src)
    with open_cpu(src) as ckpt:
        new, _ = strip(ckpt)
        rep = save(new, tmp_path / "out.safetensors")
    assert rep.format == "safetensors" and rep.verified and rep.shared_copies == []
    got = load_file(tmp_path / "out.safetensors")
    assert set(got) == set(want)
    for k in want:
        assert_bit_equal(got[k], want[k], k)
    SmallNet().load_state_dict(got, strict=True)


def test_training_checkpoint_to_safetensors_writes_the_model_only(tmp_path):
    ck = training_checkpoint(trained_smallnet())
    src = tmp_path / "train.pth"
    torch.save(ck, src)
    with open_cpu(src) as ckpt:
        rep = save(ckpt, tmp_path / "model.safetensors")
    assert rep.verified
    assert rep.left_out and all(k.startswith("optimizer.") for k in rep.left_out)
    got = load_file(tmp_path / "model.safetensors")
    SmallNet().load_state_dict(got, strict=True)
    for k, v in ck["model"].items():
        assert_bit_equal(got[k], v, k)


def test_safetensors_metadata_is_kept(tmp_path):
    model = trained_smallnet()
    want = plain_state(model)
    src = tmp_path / "ddp.safetensors"
    meta = {"format": "pt", "note": "trained 3 epochs", "step": "1200"}
    save_file({f"module.{k}": v.contiguous() for k, v in want.items()}, src, metadata=meta)
    before = sha256(src)
    with open_cpu(src) as ckpt:
        assert ckpt.prefixes == ["module."]
        new, _ = strip(ckpt)
        assert save(new, tmp_path / "stripped.safetensors").verified
        assert save(ckpt, tmp_path / "converted.safetensors").verified  # convert: no edit
    assert sha256(src) == before
    for name in ("stripped", "converted"):
        with safe_open(tmp_path / f"{name}.safetensors", framework="pt") as f:
            assert f.metadata() == meta, name
    got = load_file(tmp_path / "stripped.safetensors")
    SmallNet().load_state_dict(got, strict=True)
    for k in want:
        assert_bit_equal(got[k], want[k], k)


def test_tied_weights_copied_in_safetensors_and_shared_in_pth(tmp_path):
    model = TiedLM()
    sd = model.state_dict()
    assert sd["embed.weight"].data_ptr() == sd["head.weight"].data_ptr()
    src = tmp_path / "tied.pth"
    torch.save(sd, src)
    untied = tmp_path / "untied.pth"  # the size two separate copies take
    torch.save({k: v.clone() for k, v in sd.items()}, untied)

    with open_cpu(src) as ckpt:
        assert ckpt.tensors["head.weight"].shared_with == "embed.weight"
        st = save(ckpt, tmp_path / "tied.safetensors")
        pth = save(ckpt, tmp_path / "out.pth")
    assert st.verified and pth.verified
    assert st.shared_copies == ["head.weight"]
    assert any("copies" in w for w in st.warnings)
    got = load_file(tmp_path / "tied.safetensors")
    assert_bit_equal(got["embed.weight"], sd["embed.weight"])
    assert_bit_equal(got["head.weight"], sd["head.weight"])

    loaded = torch.load(tmp_path / "out.pth", weights_only=True)
    a, b = loaded["embed.weight"], loaded["head.weight"]
    assert a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()
    assert_bit_equal(a, sd["embed.weight"])
    with zipfile.ZipFile(tmp_path / "out.pth") as z:
        records = [n for n in z.namelist() if "/data/" in n and not n.endswith("serialization_id")]
    assert len(records) == 1, records  # one storage written, not two
    one_copy = sd["embed.weight"].nbytes
    assert (tmp_path / "out.pth").stat().st_size <= untied.stat().st_size - one_copy + 512
    fresh = TiedLM()
    fresh.load_state_dict(loaded, strict=True)
    assert fresh.head.weight is fresh.embed.weight


# ---------------------------------------------------------------- 3. extract, drop, rename, add-prefix, cast


@pytest.fixture
def train_file(tmp_path) -> tuple[Path, dict]:
    """A plain (unwrapped) training checkpoint of a SmallNet: model/optimizer/epoch/args."""
    ck = training_checkpoint(trained_smallnet())
    path = tmp_path / "train.pth"
    torch.save(ck, path)
    return path, ck


@pytest.fixture
def plain_file(tmp_path) -> tuple[Path, dict]:
    """A bare SmallNet state_dict."""
    sd = plain_state(trained_smallnet())
    path = tmp_path / "plain.pth"
    torch.save(sd, path)
    return path, sd


def test_extract_with_globs_and_reroot(tmp_path, train_file):
    src, ck = train_file
    with open_cpu(src) as ckpt:
        new, report = extract(ckpt, ["model.blocks.1*", "model.fc.*"], reroot="model.")
        assert ("model.fc.weight", "fc.weight") in report.renamed
        assert "model.conv1.weight" in report.removed and "optimizer.state.0.exp_avg" in report.removed
        assert report.bytes_after < report.bytes_before
        assert save(new, tmp_path / "out.pth").verified
        with pytest.raises(EditError, match=r"nothing to extract: --keys 'nothing\.\*' matched no tensor key"):
            extract(ckpt, ["nothing.*"])
        _, outside = extract(ckpt, ["model.fc.*", "epoch*", "optimizer.state.0.*"], reroot="model.")
        assert any("do not start with 'model.'" in w for w in outside.warnings)
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    want = ["blocks.1.weight", "blocks.1.bias", "blocks.10.weight", "blocks.10.bias", "blocks.11.weight",
            "blocks.11.bias", "fc.weight", "fc.bias"]  # fmt: skip
    assert list(got) == want
    for k in want:
        assert_bit_equal(got[k], ck["model"][k], k)
    res = SmallNet().load_state_dict(got, strict=False)
    assert res.unexpected_keys == [] and "conv1.weight" in res.missing_keys


def test_drop_classifier_head(tmp_path, plain_file):
    src, sd = plain_file
    with open_cpu(src) as ckpt:
        new, report = drop(ckpt, ["fc.*"])
        assert report.removed == ["fc.weight", "fc.bias"]
        assert report.bytes_before - report.bytes_after == sd["fc.weight"].nbytes + sd["fc.bias"].nbytes
        assert "fc.weight" in ckpt.tensors, "the edit changed the opened checkpoint"
        assert save(new, tmp_path / "out.pth").verified
        with pytest.raises(EditError, match=r"nothing to drop: --keys 'head\.\*' matched no key"):
            drop(ckpt, ["head.*"])
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    res = SmallNet().load_state_dict(got, strict=False)
    assert res.missing_keys == ["fc.weight", "fc.bias"] and res.unexpected_keys == []
    assert_same_state(got, {k: v for k, v in sd.items() if not k.startswith("fc.")})


def test_drop_whole_optimizer_entry(tmp_path, train_file):
    src, ck = train_file
    with open_cpu(src) as ckpt:
        new, report = drop(ckpt, ["optimizer"])
        assert report.removed and all(k.startswith("optimizer.") for k in report.removed)
        assert len(report.removed) == sum(k.startswith("optimizer.") for k in ckpt.tensors)
        assert save(new, tmp_path / "out.pth").verified
    out = torch.load(tmp_path / "out.pth", weights_only=False)
    assert list(out) == [k for k in ck if k != "optimizer"]
    assert_same_state(out["model"], ck["model"])
    assert out["epoch"] == 3 and out["args"] == ck["args"]
    assert (tmp_path / "out.pth").stat().st_size < src.stat().st_size


def test_rename_with_regex_previews_and_applies(tmp_path, train_file):
    src, ck = train_file
    with open_cpu(src) as ckpt:
        new, report = rename(ckpt, r"^blocks\.(\d+)\.", r"layers.\1.")
        assert len(report.renamed) == 24
        assert report.renamed[0] == ("model.blocks.0.weight", "model.layers.0.weight")
        assert ("model.blocks.11.bias", "model.layers.11.bias") in report.renamed
        assert "model.blocks.0.weight" in ckpt.tensors  # the preview left the opened file's view alone
        assert "model.layers.0.weight" in new.tensors and "model.blocks.0.weight" not in new.tensors
        assert save(new, tmp_path / "out.pth").verified

        with pytest.raises(EditError, match="would both become") as err:
            rename(ckpt, r"^blocks\.\d+\.", "blocks.0.")
        assert "blocks.0.weight" in str(err.value)
        with pytest.raises(EditError, match="invalid rename"):
            rename(ckpt, r"(unclosed", "x")
    out = torch.load(tmp_path / "out.pth", weights_only=False)
    want = {(f"layers.{k[len('blocks.') :]}" if k.startswith("blocks.") else k): v for k, v in ck["model"].items()}
    assert_same_state(out["model"], want)
    assert_same_tree(out["optimizer"], ck["optimizer"], "optimizer")


def test_add_prefix_loads_into_the_wrapped_model(tmp_path, plain_file):
    src, sd = plain_file
    with open_cpu(src) as ckpt:
        new, report = add_prefix(ckpt, "module.")
        assert report.renamed[0] == ("conv1.weight", "module.conv1.weight")
        assert new.prefixes == ["module."]
        assert save(new, tmp_path / "out.pth").verified
        with pytest.raises(EditError):
            add_prefix(ckpt, "")
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    assert_same_state(got, {f"module.{k}": v for k, v in sd.items()})
    nn.DataParallel(SmallNet()).load_state_dict(got, strict=True)


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=["bfloat16", "float16"])
def test_cast_floating_tensors_only_and_back(tmp_path, train_file, dtype):
    src, ck = train_file
    name = str(dtype).removeprefix("torch.")
    with open_cpu(src) as ckpt:
        new, report = cast(ckpt, name)
        assert "model.bn1.num_batches_tracked" not in report.changed
        assert any("int64" in w for w in report.warnings)
        assert report.bytes_after * 2 == report.bytes_before + 8  # halves, except the int64 counter
        assert not any(k.startswith("optimizer.") for k in report.changed)  # default: the model weights
        assert save(new, tmp_path / "half.pth").verified
        with pytest.raises(EditError, match="unsupported dtype"):
            cast(ckpt, "int8")
    half = torch.load(tmp_path / "half.pth", weights_only=False)
    for k, v in ck["model"].items():
        if v.is_floating_point():
            assert_bit_equal(half["model"][k], v.to(dtype), k)
        else:
            assert_bit_equal(half["model"][k], v, k)  # num_batches_tracked: untouched int64
    assert half["model"]["bn1.num_batches_tracked"].item() == 1
    assert_same_tree(half["optimizer"], ck["optimizer"], "optimizer")

    with open_cpu(tmp_path / "half.pth") as ckpt:
        back, _ = cast(ckpt, "float32")
        assert save(back, tmp_path / "back.pth").verified
    full = torch.load(tmp_path / "back.pth", weights_only=False)
    for k, v in ck["model"].items():
        want = v.to(dtype).to(torch.float32) if v.is_floating_point() else v
        assert_bit_equal(full["model"][k], want, k)
    SmallNet().load_state_dict(full["model"], strict=True)


def test_cast_keeps_tied_weights_shared(tmp_path):
    sd = TiedLM().state_dict()
    torch.save(sd, tmp_path / "tied.pth")
    with open_cpu(tmp_path / "tied.pth") as ckpt:
        new, _ = cast(ckpt, torch.bfloat16)
        assert save(new, tmp_path / "out.pth").verified
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    assert got["embed.weight"].dtype == torch.bfloat16
    assert got["embed.weight"].untyped_storage().data_ptr() == got["head.weight"].untyped_storage().data_ptr()


# ---------------------------------------------------------------- 4. graft


def _wide_fc_state(classes: int = 10) -> dict[str, torch.Tensor]:
    model = trained_smallnet()
    model.fc = nn.Linear(8, classes)
    return plain_state(model)


def test_graft_refuses_shape_mismatches_with_the_list(tmp_path, plain_file):
    target_path, _ = plain_file
    source = tmp_path / "source.pth"
    torch.save({f"module.{k}": v for k, v in _wide_fc_state().items()}, source)  # DDP keys, 10-way fc
    with open_cpu(target_path) as target, open_cpu(source) as src:
        with pytest.raises(EditError, match="graft refused: 2 shape/dtype mismatches") as err:
            graft(target, src)
        assert "fc.weight: [10, 8] float32 vs [4, 8] float32" in str(err.value)
        mism = err.value.report.mismatches
        assert [m["key"] for m in mism] == ["fc.weight", "fc.bias"]
        assert mism[0]["source_shape"] == [10, 8] and mism[0]["target_shape"] == [4, 8]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.pth", "source.pth"]


def test_graft_skip_mismatched_keeps_the_target_tensors(tmp_path, plain_file):
    target_path, target_sd = plain_file
    source_sd = _wide_fc_state()
    source = tmp_path / "source.pth"
    torch.save({f"module.{k}": v for k, v in source_sd.items()}, source)
    with open_cpu(target_path) as target, open_cpu(source) as src:
        new, report = graft(target, src, skip_mismatched=True)
        assert [m["key"] for m in report.mismatches] == ["fc.weight", "fc.bias"]
        assert len(report.changed) == len(target_sd) - 2
        n = len(target_sd)
        assert report.summary.startswith(
            f"{n} target tensors: {n - 2} taken from source.pth, 2 kept (shape/dtype differs in the source); "
        )
        assert save(new, tmp_path / "out.pth").verified
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    SmallNet().load_state_dict(got, strict=True)
    for k in target_sd:
        assert_bit_equal(got[k], target_sd[k] if k.startswith("fc.") else source_sd[k], k)


def test_graft_refuses_dtype_mismatches(tmp_path, plain_file):
    target_path, _ = plain_file
    source_sd = plain_state(trained_smallnet())
    source_sd["blocks.3.weight"] = source_sd["blocks.3.weight"].double()
    torch.save(source_sd, tmp_path / "source.pth")
    mismatch = r"blocks\.3\.weight: \[8, 8\] float64 vs \[8, 8\] float32"
    with (
        open_cpu(target_path) as target,
        open_cpu(tmp_path / "source.pth") as src,
        pytest.raises(EditError, match=mismatch),
    ):
        graft(target, src)


def test_graft_with_prefix_map_include_and_exclude(tmp_path):
    sd_src = plain_state(trained_smallnet())
    sd_tgt = plain_state(trained_smallnet())
    source = {f"encoder.{k}": v for k, v in sd_src.items()}
    target = {f"backbone.{k}": v for k, v in sd_tgt.items() if not k.startswith("fc.")}
    target |= {"head.weight": sd_tgt["fc.weight"], "head.bias": sd_tgt["fc.bias"]}
    torch.save(source, tmp_path / "source.pth")
    torch.save(target, tmp_path / "target.pth")
    maps = parse_maps(["encoder.=backbone."])
    assert maps == [("encoder.", "backbone.")]
    with pytest.raises(EditError, match="SRC=DST"):
        parse_maps(["encoder."])

    with open_cpu(tmp_path / "target.pth") as tgt, open_cpu(tmp_path / "source.pth") as src:
        with pytest.raises(EditError, match="no source tensor matches"):
            graft(tgt, src)  # without the map nothing lines up
        new, report = graft(tgt, src, maps=maps)
        assert len(report.changed) == len(target) - 2  # everything but the head
        assert {s["key"] for s in report.skipped} == {"encoder.fc.weight", "encoder.fc.bias"}
        assert save(new, tmp_path / "all.pth").verified

        sel, sel_report = graft(tgt, src, maps=maps, include=["encoder.blocks.*"], exclude=["encoder.blocks.1*"])
        assert save(sel, tmp_path / "sel.pth").verified
    grafted_blocks = {f"backbone.blocks.{i}.{p}" for i in (0, *range(2, 10)) for p in ("weight", "bias")}
    assert set(sel_report.changed) == grafted_blocks
    assert {s["key"] for s in sel_report.skipped if s["reason"] == "excluded"} == {
        f"encoder.blocks.{i}.{p}" for i in (1, 10, 11) for p in ("weight", "bias")
    }
    got_all = torch.load(tmp_path / "all.pth", weights_only=True)
    got_sel = torch.load(tmp_path / "sel.pth", weights_only=True)
    assert list(got_all) == list(target) == list(got_sel)
    for k in target:
        src_key = "encoder." + k.removeprefix("backbone.")
        assert_bit_equal(got_all[k], source[src_key] if k.startswith("backbone.") else target[k], k)
        assert_bit_equal(got_sel[k], source[src_key] if k in grafted_blocks else target[k], k)


def test_graft_result_saved_as_safetensors_reports_no_false_sharing(tmp_path, plain_file):
    """Target and source are two files whose storages are both named data/0, data/1 ...;
    tensors from different files must not be taken for one shared storage. The source has
    one more tensor up front (a stem layer), so its blocks.* sit in storages whose names the
    target uses for other tensors."""
    target_path, target_sd = plain_file
    source_sd = {"stem.weight": torch.randn(8, 3), **plain_state(trained_smallnet())}
    torch.save(source_sd, tmp_path / "source.pth")
    with open_cpu(target_path) as target, open_cpu(tmp_path / "source.pth") as src:
        new, _ = graft(target, src, include=["blocks.*"])
        rep = save(new, tmp_path / "out.safetensors")
        falsely_shared = {k: e.shared_with for k, e in new.tensors.items() if e.shared_with}
        total = new.total_bytes
    assert rep.verified
    assert rep.shared_copies == [], f"safetensors report claims shared storage: {rep.shared_copies}"
    assert falsely_shared == {}, f"tensors from two files listed as sharing one storage: {falsely_shared}"
    assert total == sum(v.nbytes for v in target_sd.values())
    got = load_file(tmp_path / "out.safetensors")
    for k in target_sd:
        assert_bit_equal(got[k], source_sd[k] if k.startswith("blocks.") else target_sd[k], k)


# ---------------------------------------------------------------- reports


@pytest.mark.parametrize("op", ["strip", "add_prefix", "rename", "extract", "drop", "cast", "graft"])
def test_every_edit_report_is_plain_json(tmp_path, plain_file, op):
    """The report is what `ckpt ... --json` prints: plain JSON, private params left out."""
    src, _ = plain_file
    torch.save({f"module.{k}": v for k, v in plain_state(trained_smallnet()).items()}, tmp_path / "other.pth")
    edits = {
        "strip": lambda c, o: strip(c, prefix="blocks."),
        "add_prefix": lambda c, o: add_prefix(c, "module."),
        "rename": lambda c, o: rename(c, "^fc", "head"),
        "extract": lambda c, o: extract(c, ["fc.*"]),
        "drop": lambda c, o: drop(c, ["fc.*"]),
        "cast": lambda c, o: cast(c, "float16"),
        "graft": lambda c, o: graft(c, o, include=["blocks.*"]),
    }
    with open_cpu(src) as ckpt, open_cpu(tmp_path / "other.pth") as other:
        _, report = edits[op](ckpt, other)
        doc = json.loads(json.dumps(report.to_json(), allow_nan=False))
    assert doc["op"] == op and doc["summary"]
    assert not any(k.startswith("_") for k in doc["params"])


# ---------------------------------------------------------------- 5. compat


def test_compat_ignores_wrapper_prefixes(tmp_path, plain_file):
    target_path, sd = plain_file
    torch.save({f"module._orig_mod.{k}": v for k, v in sd.items()}, tmp_path / "wrapped.pth")
    with open_cpu(tmp_path / "wrapped.pth") as src, open_cpu(target_path) as tgt:
        rep = compat(src, tgt)
    assert rep.compatible and rep.matched == len(sd)
    assert rep.missing == rep.unexpected == rep.mismatched == []


def test_compat_lists_missing_unexpected_and_mismatched(tmp_path, plain_file):
    target_path, _ = plain_file
    sd = _wide_fc_state()
    del sd["blocks.11.bias"]
    sd["extra.weight"] = torch.ones(3)
    torch.save(sd, tmp_path / "source.pth")
    with open_cpu(tmp_path / "source.pth") as src, open_cpu(target_path) as tgt:
        rep = compat(src, tgt)
    assert not rep.compatible
    assert rep.missing == ["blocks.11.bias"]
    assert rep.unexpected == ["extra.weight"]
    assert rep.mismatched == [
        {"key": "fc.weight", "source_shape": [10, 8], "target_shape": [4, 8]},
        {"key": "fc.bias", "source_shape": [10], "target_shape": [4]},
    ]
    assert rep.to_json()["compatible"] is False


def test_compat_suggests_a_prefix_map(tmp_path):
    sd = plain_state(trained_smallnet())
    torch.save({f"encoder.{k}": v for k, v in sd.items()}, tmp_path / "source.pth")
    torch.save({f"backbone.{k}": v for k, v in sd.items()}, tmp_path / "target.pth")
    with open_cpu(tmp_path / "source.pth") as src, open_cpu(tmp_path / "target.pth") as tgt:
        rep = compat(src, tgt)
        assert not rep.compatible and rep.matched == 0
        assert len(rep.missing) == len(rep.unexpected) == len(sd)
        assert rep.suggested_maps == ["encoder.=backbone."]
        mapped = compat(src, tgt, parse_maps(rep.suggested_maps))
    assert mapped.compatible and mapped.matched == len(sd) and mapped.maps == ["encoder.=backbone."]


def test_compat_suggests_no_map_that_loads_no_more_keys(tmp_path):
    # encoder.w would land on backbone.w, but with another shape: a map that makes nothing load
    torch.save({"encoder.w": torch.zeros(2, 3), "head.b": torch.zeros(3)}, tmp_path / "source.pth")
    torch.save({"backbone.w": torch.zeros(4, 3), "head.b": torch.zeros(3)}, tmp_path / "target.pth")
    with open_cpu(tmp_path / "source.pth") as src, open_cpu(tmp_path / "target.pth") as tgt:
        rep = compat(src, tgt)
        assert rep.missing == ["backbone.w"] and rep.unexpected == ["encoder.w"] and rep.matched == 1
        assert rep.suggested_maps == []
        assert compat(src, tgt, parse_maps(["encoder.=backbone."])).matched == 1  # indeed no better


def test_graft_names_patterns_that_match_nothing(tmp_path):
    torch.save({"a.w": torch.ones(2), "fc.w": torch.ones(2)}, tmp_path / "source.pth")
    torch.save({"a.w": torch.zeros(2), "fc.w": torch.zeros(2)}, tmp_path / "target.pth")
    with open_cpu(tmp_path / "source.pth") as src, open_cpu(tmp_path / "target.pth") as tgt:
        _, report = graft(tgt, src, exclude=["fx.*", "fc.*"])
    assert report.unmatched == [
        {"param": "exclude", "pattern": "fx.*", "message": "--exclude 'fx.*' matched no source key"}
    ]
    assert report.warnings == ["--exclude 'fx.*' matched no source key"]
    assert [s["key"] for s in report.skipped] == ["fc.w"] and report.changed == ["a.w"]


# ---------------------------------------------------------------- warnings and counts that add up


def tensor_keys(obj, prefix: str = "") -> list[str]:
    """Dotted keys of every tensor in a torch.save'd structure, found by walking it here."""
    if isinstance(obj, torch.Tensor):
        return [prefix]
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, (list, tuple)) else ()
    return [k for key, v in items for k in tensor_keys(v, f"{prefix}.{key}" if prefix else str(key))]


def assert_counts_add_up(report) -> None:
    for group, parts in report.counts.items():
        assert parts["total"] == sum(n for k, n in parts.items() if k != "total"), (report.op, group, parts)


def test_every_report_counts_what_its_summary_says_on_a_training_checkpoint(tmp_path, train_file):
    src, ck = train_file
    every = tensor_keys(ck)  # the figures below are counted from the saved dict, not by ckptviewer
    model = list(ck["model"])
    optimizer = [k for k in every if k.startswith("optimizer.")]
    floats = [k for k in model if ck["model"][k].is_floating_point()]
    blocks = [k for k in model if re.match(r"blocks\.\d+\.", k)]
    kept = [k for k in every if fnmatch.fnmatchcase(k, "model.fc.*") or fnmatch.fnmatchcase(k, "model.blocks.1*")]
    with open_cpu(src) as ckpt:
        reports = {
            "rename": rename(ckpt, r"^blocks\.(\d+)\.", r"layers.\1.")[1],
            "extract": extract(ckpt, ["model.fc.*", "model.blocks.1*"])[1],
            "drop": drop(ckpt, ["optimizer"])[1],
            "cast": cast(ckpt, "bfloat16")[1],
        }
    for report in reports.values():
        assert_counts_add_up(report)
        assert report.unmatched == []
    n, b = len(model), len(blocks)
    assert reports["rename"].counts == {"model_keys": {"total": n, "renamed": b, "unchanged": n - b}}
    assert reports["rename"].summary == f"{b} of {n} keys renamed, {n - b} unchanged"
    e, k = len(every), len(kept)
    assert reports["extract"].counts == {"tensors": {"total": e, "kept": k, "removed": e - k}}
    assert reports["extract"].summary == f"{k} of {e} tensors kept, {e - k} removed"
    o = len(optimizer)
    assert reports["drop"].counts == {"tensors": {"total": e, "dropped": o, "kept": e - o}}
    assert reports["drop"].summary == f"{o} of {e} tensors dropped, {e - o} kept"
    f = len(floats)
    assert reports["cast"].counts == {"selected_tensors": {"total": n, "cast": f, "already": 0, "not_float": n - f}}
    assert reports["cast"].summary == f"{f} of {n} model tensors cast to bfloat16, {n - f} not floating point"


def test_strip_prefix_that_matches_nothing_warns_or_is_refused(tmp_path, train_file):
    src, ck = train_file
    n = len(ck["model"])
    with open_cpu(src) as ckpt:
        with pytest.raises(EditError, match=r"^strip: nothing to strip: --prefix 'encoder\.' matched no model key$"):
            strip(ckpt, "encoder.")
        new, report = strip(ckpt, "encoder.", weights_only=True)  # the optimizer is still left out: a change
        assert "--prefix 'encoder.' matched no model key" in report.warnings
        e = len(tensor_keys(ck))
        assert report.counts == {"model_keys": {"total": n, "renamed": 0, "unchanged": n},
                                 "tensors": {"total": e, "kept": n, "left_out": e - n}}  # fmt: skip
        assert report.summary == f"0 of {n} keys renamed, weights only ({e - n} tensors outside the model left out)"
        assert save(new, tmp_path / "weights.pth").verified
    assert list(torch.load(tmp_path / "weights.pth", weights_only=True)) == list(ck["model"])


def test_cast_counts_tensors_already_in_the_dtype_and_a_no_op_cast_succeeds(tmp_path):
    sd = {"a": torch.randn(3), "b": torch.randn(3).bfloat16(), "c": torch.arange(3), "d": torch.randn(2, 2)}
    torch.save(sd, tmp_path / "mixed.pth")
    with open_cpu(tmp_path / "mixed.pth") as ckpt:
        _, report = cast(ckpt, "bfloat16", ["*"])
        assert report.counts == {"selected_tensors": {"total": 4, "cast": 2, "already": 1, "not_float": 1}}
        assert report.summary == "2 of 4 selected tensors cast to bfloat16, 1 already bfloat16, 1 not floating point"
        assert report.changed == ["a", "d"]
        _, warned = cast(ckpt, "bfloat16", ["a", "head.*"])
        assert warned.warnings == ["--keys 'head.*' matched no tensor key"] and warned.changed == ["a"]
        with pytest.raises(EditError, match=r"^cast: nothing to cast: --keys 'head\.\*' matched no tensor key$"):
            cast(ckpt, "bfloat16", ["head.*"])
        new, same = cast(ckpt, "bfloat16", ["b"])  # already bfloat16: a faithful copy, said so
        assert same.changed == [] and same.warnings == ["nothing to cast: every selected floating-point tensor is "
                                                        "already bfloat16"]  # fmt: skip
        assert save(new, tmp_path / "same.pth").verified
    assert_same_state(torch.load(tmp_path / "same.pth", weights_only=True), sd)


def test_drop_and_extract_name_each_glob_that_matches_nothing(train_file):
    src, _ = train_file
    with open_cpu(src) as ckpt:
        _, report = drop(ckpt, ["model.fc.*", "model.head.*"])
        assert report.unmatched == [{"param": "keys", "pattern": "model.head.*",
                                     "message": "--keys 'model.head.*' matched no key"}]  # fmt: skip
        assert report.removed == ["model.fc.weight", "model.fc.bias"]
        # a glob inside what a broader one drops did match something: no warning
        _, nested = drop(ckpt, ["optimizer", "optimizer.state.*"])
        assert nested.warnings == [] and nested.unmatched == []
        _, rerooted = extract(ckpt, ["model.fc.*"], reroot="backbone.")
        assert rerooted.warnings == ["--reroot 'backbone.' matched no kept key"]
        assert [new for _, new in rerooted.record.pairs] == ["model.fc.weight", "model.fc.bias"]


def test_rename_pattern_that_matches_nothing_is_refused(train_file):
    src, _ = train_file
    with open_cpu(src) as ckpt:
        with pytest.raises(
            EditError, match=r"^rename: nothing to rename: --pattern '\^head\\\\\.' matched no model key"
        ):
            rename(ckpt, r"^head\.", "classifier.")
        _, same = rename(ckpt, r"^(fc)\.", r"\1.")  # it matches; the names come back unchanged
        assert same.renamed == [] and same.warnings == ["--pattern '^(fc)\\\\.' matched 2 keys, but no name changes"]


class TinyResNet(nn.Module):
    """A resnet-like CNN: stem, two stages of basic blocks (one with a downsample), classifier."""

    def __init__(self, classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)

        def block(cin: int, cout: int, down: bool) -> nn.Module:
            b = nn.Module()
            b.conv1, b.bn1 = nn.Conv2d(cin, cout, 3, bias=False), nn.BatchNorm2d(cout)
            b.conv2, b.bn2 = nn.Conv2d(cout, cout, 3, bias=False), nn.BatchNorm2d(cout)
            if down:
                b.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))
            return b

        self.layer1 = nn.Sequential(block(8, 8, False), block(8, 8, False))
        self.layer2 = nn.Sequential(block(8, 16, True), block(16, 16, False))
        self.fc = nn.Linear(16, classes)


class SpeechNet(nn.Module):
    """Another architecture that happens to name one BatchNorm like a ResNet stem (bn1)."""

    def __init__(self) -> None:
        super().__init__()
        self.frontend = nn.Conv1d(1, 8, 5)
        self.bn1 = nn.BatchNorm2d(8)
        self.rnn = nn.GRU(8, 8, num_layers=2)
        self.proj = nn.Linear(8, 32)
        self.ctc = nn.Linear(32, 29)


def test_graft_from_an_unrelated_model_warns_with_the_overlap_figures(tmp_path):
    target_sd, source_sd = plain_state(TinyResNet()), plain_state(SpeechNet())
    torch.save(target_sd, tmp_path / "resnet.pth")
    torch.save(source_sd, tmp_path / "speech.pth")
    shared = [k for k in target_sd if k in source_sd]
    assert shared == ["bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var", "bn1.num_batches_tracked"]
    n_t, n_s, m = len(target_sd), len(source_sd), len(shared)
    pct = 100 * m / n_t
    assert abs(pct - round(pct)) > 0.01  # no tie to round: the figure below is unambiguous
    with open_cpu(tmp_path / "resnet.pth") as tgt, open_cpu(tmp_path / "speech.pth") as src:
        new, report = graft(tgt, src)
        assert save(new, tmp_path / "out.pth").verified
    assert report.warnings == [
        f"only {m} of {n_t} target tensors ({round(pct)}%) have a match in the source; "
        f"{n_s - m} source tensors have no place in the target — are these the same architecture?"
    ]
    assert report.counts == {
        "target_tensors": {"total": n_t, "taken": m, "kept_mismatched": 0, "kept_excluded": 0,
                           "kept_not_included": 0, "kept_missing": n_t - m},
        "source_tensors": {"total": n_s, "taken": m, "mismatched": 0, "excluded": 0, "not_included": 0,
                           "no_place": n_s - m, "collides": 0},
    }  # fmt: skip
    assert report.summary == (f"{n_t} target tensors: {m} taken from speech.pth, {n_t - m} kept (not in the source); "
                              f"{n_s} source tensors: {m} taken, {n_s - m} with no place in the target")  # fmt: skip
    got = torch.load(tmp_path / "out.pth", weights_only=True)
    for k in target_sd:
        assert_bit_equal(got[k], source_sd[k] if k in shared else target_sd[k], k)


def test_graft_between_related_models_does_not_warn(tmp_path):
    torch.manual_seed(0)
    a, b = plain_state(TinyResNet()), plain_state(TinyResNet())
    stage = {k: v for k, v in b.items() if k.startswith("layer1.")}  # one stage: a small part of the target
    torch.save(a, tmp_path / "a.pth")
    torch.save(b, tmp_path / "b.pth")
    torch.save(stage, tmp_path / "stage.pth")
    with (
        open_cpu(tmp_path / "a.pth") as tgt,
        open_cpu(tmp_path / "b.pth") as same,
        open_cpu(tmp_path / "stage.pth") as part,
    ):
        _, whole = graft(tgt, same)
        _, partial = graft(tgt, part)  # every source tensor has its place: no warning
        _, selected = graft(tgt, same, include=["layer2.*"])  # a few layers chosen: no warning
    assert whole.warnings == partial.warnings == selected.warnings == []
    assert whole.counts["target_tensors"]["taken"] == len(a)
    assert partial.counts["target_tensors"] == {"total": len(a), "taken": len(stage), "kept_mismatched": 0,
                                                "kept_excluded": 0, "kept_not_included": 0,
                                                "kept_missing": len(a) - len(stage)}  # fmt: skip
    picked = sum(k.startswith("layer2.") for k in b)
    assert selected.counts["source_tensors"]["not_included"] == len(b) - picked
    assert selected.summary.startswith(f"{len(a)} target tensors: {picked} taken from b.pth, "
                                       f"{len(a) - picked} kept (not in --include); ")  # fmt: skip


def test_graft_counts_add_up_with_maps_include_exclude_and_mismatches(tmp_path):
    sd_src, sd_tgt = plain_state(trained_smallnet()), plain_state(trained_smallnet())
    source = {f"encoder.{k}": v for k, v in sd_src.items()}
    source["encoder.fc.weight"] = torch.zeros(10, 8)  # another head: a shape mismatch
    target = {f"backbone.{k}": v for k, v in sd_tgt.items()}
    torch.save(source, tmp_path / "source.pth")
    torch.save(target, tmp_path / "target.pth")
    with open_cpu(tmp_path / "target.pth") as tgt, open_cpu(tmp_path / "source.pth") as src:
        _, report = graft(tgt, src, maps=[("encoder.", "backbone.")], include=["encoder.blocks.*", "encoder.fc.*"],
                          exclude=["encoder.blocks.1*"], skip_mismatched=True)  # fmt: skip
    blocks = [k for k in source if k.startswith("encoder.blocks.")]
    excluded = [k for k in blocks if fnmatch.fnmatchcase(k, "encoder.blocks.1*")]
    outside = [k for k in source if not k.startswith(("encoder.blocks.", "encoder.fc."))]
    taken = len(blocks) - len(excluded) + 1  # fc.bias still fits
    assert report.counts["source_tensors"] == {"total": len(source), "taken": taken, "mismatched": 1,
                                               "excluded": len(excluded), "not_included": len(outside),
                                               "no_place": 0, "collides": 0}  # fmt: skip
    assert report.counts["target_tensors"] == {"total": len(target), "taken": taken, "kept_mismatched": 1,
                                               "kept_excluded": len(excluded), "kept_not_included": len(outside),
                                               "kept_missing": 0}  # fmt: skip
    assert_counts_add_up(report)
    assert report.warnings == []


def test_graft_names_a_map_that_matches_nothing(tmp_path, plain_file):
    src, sd = plain_file
    with open_cpu(src) as tgt, open_cpu(src) as same:
        _, report = graft(tgt, same, maps=[("encoder.", "backbone.")])
    assert report.warnings == ["--map 'encoder.=backbone.' matched no source key"]
    assert report.counts["target_tensors"]["taken"] == len(sd)


# ---------------------------------------------------------------- 6. transfer learning end to end


class TinyImageNet(nn.Module):
    """A few conv layers and a linear classifier: an ImageNet-style classifier in miniature."""

    def __init__(self, num_classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.conv3 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc = nn.Linear(32, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        x = torch.relu(self.bn2(self.conv2(x)))
        x = torch.relu(self.conv3(x))
        return self.fc(x.mean((2, 3)))


def imagenet_training_checkpoint(folder: Path) -> tuple[Path, dict]:
    """Two SGD steps of a DDP-wrapped 1000-class TinyImageNet (one-process gloo group),
    saved as a training checkpoint; returns the file and the plain (unwrapped) weights."""
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    model = TinyImageNet(1000)
    dist.init_process_group("gloo", init_method=f"file://{folder / 'pg_imagenet'}", rank=0, world_size=1)
    try:
        ddp = DistributedDataParallel(model)
        opt = torch.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            loss = nn.functional.cross_entropy(ddp(torch.randn(4, 3, 16, 16)), torch.randint(0, 1000, (4,)))
            opt.zero_grad()
            loss.backward()
            opt.step()
        ck = {
            "epoch": 90,
            "arch": "tinyimagenet",
            "model": ddp.state_dict(),
            "optimizer": opt.state_dict(),
            "args": argparse.Namespace(lr=0.1, epochs=90, batch_size=4),
            "best_acc1": 0.761,
        }
        del ddp, opt, loss  # the wrapper holds the group: gone here, not in some later collection
        gc.collect()
    finally:
        dist.destroy_process_group()
    path = folder / "imagenet_train.pth"
    torch.save(ck, path)
    return path, plain_state(model)


def fresh_10_class(folder: Path) -> tuple[Path, dict]:
    path = folder / "fresh10.pth"
    sd = plain_state(TinyImageNet(10))
    torch.save(sd, path)
    return path, sd


def assert_transferred(result: Path, imagenet: dict, fresh: dict) -> None:
    got = torch.load(result, weights_only=True)
    model = TinyImageNet(10)
    model.load_state_dict(got, strict=True)
    assert list(got) == list(fresh)
    for k in fresh:
        assert_bit_equal(got[k], fresh[k] if k.startswith("fc.") else imagenet[k], k)
    assert model(torch.randn(2, 3, 16, 16)).shape == (2, 10)


def test_transfer_learning_through_the_core_api(tmp_path):
    src_path, imagenet = imagenet_training_checkpoint(tmp_path)
    assert any(v.numel() > 0 and not torch.equal(v, torch.zeros_like(v)) for v in imagenet.values())
    fresh_path, fresh = fresh_10_class(tmp_path)
    before = sha256(src_path), sha256(fresh_path)

    with open_cpu(src_path) as src, open_cpu(fresh_path) as tgt:
        assert src.state_dict_key == "model" and src.prefixes == ["module."]
        stripped, _ = strip(src)
        rep = compat(stripped, tgt)
        assert not rep.compatible and [m["key"] for m in rep.mismatched] == ["fc.weight", "fc.bias"]
        with pytest.raises(EditError, match="mismatches"):
            graft(tgt, stripped)
        grafted, report = graft(tgt, stripped, exclude=["fc.*"])
        assert {s["key"] for s in report.skipped} == {"fc.weight", "fc.bias"}
        assert len(report.changed) == len(fresh) - 2
        check = compat(grafted, tgt)
        assert check.compatible and check.matched == len(fresh)
        saved = save(grafted, tmp_path / "finetune_init.pth")
        with pytest.raises(CheckpointError, match="refusing to overwrite the source"):
            save(grafted, src_path, force=True)  # the graft's source file is a source too
    assert saved.verified
    assert_transferred(tmp_path / "finetune_init.pth", imagenet, fresh)
    assert (sha256(src_path), sha256(fresh_path)) == before


# ---------------------------------------------------------------- 7. safety of saving


class Untrusted:  # a class the safe reader will not import: it opens as a placeholder
    def __init__(self) -> None:
        self.note = "made by a training script"


def test_saving_over_the_source_is_refused_even_with_force(tmp_path, plain_file):
    src, _ = plain_file
    before = sha256(src)
    link = tmp_path / "link.pth"
    link.symlink_to(src)
    with open_cpu(src) as ckpt:
        new, _ = strip(ckpt, prefix="blocks.")
        for target in (src, link):
            for c in (ckpt, new):
                with pytest.raises(CheckpointError, match="refusing to overwrite the source"):
                    save(c, target, force=True)
    assert sha256(src) == before
    assert no_part_files(tmp_path)


def test_existing_output_needs_force(tmp_path, plain_file):
    src, sd = plain_file
    out = tmp_path / "out.pth"
    out.write_bytes(b"previous contents")
    with open_cpu(src) as ckpt:
        with pytest.raises(CheckpointError, match="already exists; use --force"):
            save(ckpt, out)
        assert out.read_bytes() == b"previous contents"
        assert save(ckpt, out, force=True).verified
    assert_same_state(torch.load(out, weights_only=True), sd)
    assert no_part_files(tmp_path)


def test_placeholder_object_cannot_be_saved_and_leaves_no_output(tmp_path, plain_file):
    _, sd = plain_file
    src = tmp_path / "with_object.pth"
    torch.save({"model": sd, "extra": Untrusted(), "epoch": 1}, src)
    with open_cpu(src) as ckpt:
        assert ckpt.blocked_globals == [f"{__name__}.Untrusted"]
        for out in ("out.pth", "strip.pth"):
            c = ckpt if out == "out.pth" else strip(ckpt, prefix="blocks.")[0]
            with pytest.raises(CheckpointError, match=r"not loaded .*: extra;"):
                save(c, tmp_path / out)
            assert not (tmp_path / out).exists()
        dropped, _ = drop(ckpt, ["extra"])  # the way out the message suggests
        assert save(dropped, tmp_path / "dropped.pth").verified
    assert no_part_files(tmp_path)
    out = torch.load(tmp_path / "dropped.pth", weights_only=True)
    assert list(out) == ["model", "epoch"]
    assert_same_state(out["model"], sd)


def test_cancelled_save_leaves_nothing(tmp_path, plain_file):
    from ckptviewer.core import Cancelled, CancelToken

    src, _ = plain_file
    token = CancelToken()
    token.cancel()
    with open_cpu(src) as ckpt:
        for name in ("out.pth", "out.safetensors"):
            with pytest.raises(Cancelled):
                save(ckpt, tmp_path / name, cancel=token)
            assert not (tmp_path / name).exists()
    assert no_part_files(tmp_path)


def test_saved_file_gets_the_permissions_torch_save_gives(tmp_path, plain_file):
    """A saved checkpoint must be readable by whoever could read torch.save's file (the
    umask decides, e.g. 0o644), not private to its owner (0o600)."""
    src, sd = plain_file
    torch.save(sd, tmp_path / "by_torch.pth")
    expected = (tmp_path / "by_torch.pth").stat().st_mode & 0o777
    with open_cpu(src) as ckpt:
        save(ckpt, tmp_path / "ours.pth")
        save(ckpt, tmp_path / "ours.safetensors")
    for name in ("ours.pth", "ours.safetensors"):
        mode = os.stat(tmp_path / name).st_mode & 0o777
        assert mode == expected, f"{name}: mode {mode:o}, torch.save gives {expected:o}"


# ---------------------------------------------------------------- saving computed (deferred) tensors


@pytest.fixture
def three_epochs(tmp_path):
    """Three state_dicts of one model (different values), saved by torch, and their float64 average."""
    paths, states = [], []
    for i in range(3):
        torch.manual_seed(i)
        sd = SmallNet().state_dict()
        paths.append(tmp_path / f"epoch{i}.pth")
        torch.save(sd, paths[-1])
        states.append(sd)
    want = {k: (sum(s[k].double() for s in states) / 3).to(states[0][k].dtype) for k in states[0]}
    return paths, want


@pytest.fixture
def count_averages(monkeypatch):
    """How many times each averaged tensor is computed (the real computation, counted)."""
    from ckptviewer.core.edits.compute import AveragedTensor

    calls: list[int] = []
    real = AveragedTensor.materialize

    def counted(self):
        calls.append(id(self))
        return real(self)

    monkeypatch.setattr(AveragedTensor, "materialize", counted)
    return calls


@pytest.mark.parametrize("name", ["avg.safetensors", "avg.pth"])
def test_an_average_is_computed_once_for_the_save_and_its_verification(tmp_path, three_epochs, count_averages, name):
    from ckptviewer.core.edits import average

    paths, want = three_epochs
    inputs = [open_cpu(p) for p in paths]
    try:
        new, _ = average(inputs[0], inputs[1:])
        averaged = sum(type(e.source).__name__ == "AveragedTensor" for e in new.tensors.values())
        rep = save(new, tmp_path / name)
    finally:
        for c in inputs:
            c.close()
    assert rep.verified
    # every tensor computed once: the verifying re-read does not compute the average a second time (nor
    # does a .pth's verification compute another copy of what torch.save wrote)
    assert averaged > 20 and len(count_averages) == len(set(count_averages)) == averaged
    got = (
        load_file(tmp_path / name) if name.endswith(".safetensors") else torch.load(tmp_path / name, weights_only=True)
    )
    assert_same_state(got, want)


def test_a_computed_tensor_written_wrong_fails_the_verification_and_leaves_nothing(tmp_path, three_epochs, monkeypatch):
    from ckptviewer.core import save as save_module
    from ckptviewer.core.edits import average

    real = save_module._verify

    def flip_last_byte_then_verify(tmp, intended, rep, cancel):  # a bad write: the last tensor's last byte
        with open(tmp, "r+b") as f:
            f.seek(-1, os.SEEK_END)
            last = f.read(1)[0]
            f.seek(-1, os.SEEK_END)
            f.write(bytes([last ^ 0x01]))
        real(tmp, intended, rep, cancel)

    monkeypatch.setattr(save_module, "_verify", flip_last_byte_then_verify)
    paths, want = three_epochs
    inputs = [open_cpu(p) for p in paths]
    try:
        new, _ = average(inputs[0], inputs[1:])
        last = list(want)[-1]
        with pytest.raises(CheckpointError, match=rf"verification failed: {re.escape(last)} differs"):
            save(new, tmp_path / "avg.safetensors")
    finally:
        for c in inputs:
            c.close()
    assert not (tmp_path / "avg.safetensors").exists() and no_part_files(tmp_path)
