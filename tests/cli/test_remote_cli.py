"""The real ``ckpt`` on remote inputs and outputs: s3:// (moto's server) and http:// (Range server)."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core.open import open_checkpoint
from tests.cli.test_cli import ckpt_all
from tests.remote_servers import BUCKET


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    d = tmp_path_factory.mktemp("remote-cli")
    sd = {"module.fc.weight": torch.randn(64, 32), "module.fc.bias": torch.randn(64), "module.n": torch.tensor(3)}
    torch.save({"state_dict": sd, "epoch": 2}, d / "model.pth")
    save_file({k.removeprefix("module."): v for k, v in sd.items()}, str(d / "model.safetensors"))
    return d


@pytest.mark.slow
def test_info_stats_and_surgery_on_s3_and_http(model, s3_server, http_server, tmp_path):
    url = s3_server.upload(model / "model.pth", "cli/model.pth")
    (http_server.root / "model.safetensors").write_bytes((model / "model.safetensors").read_bytes())
    http = f"{http_server.url}/model.safetensors"
    signed = http + "?X-Amz-Signature=s3cr3t&X-Amz-Credential=AKIAEXAMPLE"
    out_local = tmp_path / "stripped.pth"
    out_remote = f"s3://{BUCKET}/cli/stripped.safetensors"
    info_s3, info_http, stats, strip_local, strip_remote, over_input, to_web = ckpt_all(
        ("info", url, "--json"),
        ("info", signed, "--json"),
        ("stats", url, "--json"),
        ("strip", url, "-o", out_local),
        ("strip", url, "-o", out_remote),
        ("strip", url, "-o", url, "--force"),
        ("strip", url, "-o", f"{http_server.url}/out.pth"),
    )
    assert info_s3.returncode == 0, info_s3.stderr
    doc = json.loads(info_s3.stdout)
    assert (doc["format"], doc["location"], doc["url"], doc["path"]) == ("torch-zip", "remote", url, url)
    assert doc["n_tensors"] == 3

    assert info_http.returncode == 0, info_http.stderr
    doc = json.loads(info_http.stdout)
    assert (doc["format"], doc["location"]) == ("safetensors", "remote")
    assert "s3cr3t" not in info_http.stdout + info_http.stderr and "AKIAEXAMPLE" not in info_http.stdout
    assert doc["url"] == http + "?…"

    assert stats.returncode == 0, stats.stderr
    rows = {r["key"]: r for r in json.loads(stats.stdout)["tensors"]}
    local = torch.load(model / "model.pth", weights_only=True)["state_dict"]
    assert rows["state_dict.module.fc.weight"]["max"] == pytest.approx(local["module.fc.weight"].max().item())

    assert strip_local.returncode == 0, strip_local.stderr
    assert list(torch.load(out_local, weights_only=True)["state_dict"]) == ["fc.weight", "fc.bias", "n"]
    assert strip_remote.returncode == 0, strip_remote.stderr
    assert out_remote in strip_remote.stdout and "verified" in strip_remote.stdout
    written = open_checkpoint(out_remote, device="cpu")
    assert sorted(written.tensors) == ["fc.bias", "fc.weight", "n"]

    assert over_input.returncode != 0 and "refusing to overwrite the source" in over_input.stderr
    assert to_web.returncode != 0 and "web server" in to_web.stderr
    for r in (over_input, to_web):
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_missing_package_or_object_is_one_line(s3_server, tmp_path):
    (missing, unknown) = ckpt_all(("info", f"s3://{BUCKET}/nope/model.pth"), ("info", "zzz://host/model.pth"))
    assert missing.returncode != 0 and "no such" in missing.stderr, missing.stderr
    assert unknown.returncode != 0 and "zzz://" in unknown.stderr
    for r in (missing, unknown):
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr
