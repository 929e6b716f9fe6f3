"""The real ``ckpt`` on hf:// repos, served by the local fake hub (``HF_ENDPOINT`` points at it).

The hub refuses any request without the token in ``$HF_TOKEN`` (as a private repo would): the
token must reach the hub from the environment and never appear in what ``ckpt`` prints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.cli.test_cli import ckpt
from tests.hf_hub_server import FakeHub

TOKEN = "hf_cliFakeToken_neverPrinted_5b7c"
ROOT = Path(__file__).parents[2]


def _repo(folder: Path, value: float | None = None) -> Path:
    """A two-shard transformers folder (index, shards, config.json); ``value`` fills every weight."""
    folder.mkdir()
    g = torch.Generator().manual_seed(5)
    sd = {f"model.layers.{i}.{n}": torch.randn(64, 32, generator=g) for i in range(2) for n in ("q", "k")}
    if value is not None:
        sd = {k: torch.full_like(v, value) for k, v in sd.items()}
    keys = list(sd)
    weight_map = {}
    for i, part in enumerate((keys[:2], keys[2:])):
        name = f"model-{i + 1:05d}-of-00002.safetensors"
        save_file({k: sd[k] for k in part}, str(folder / name))
        weight_map.update(dict.fromkeys(part, name))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "llama"}))
    return folder


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("hf-cli")
    return {"main": _repo(d / "main"), "v1": _repo(d / "v1", value=3.0)}


@pytest.fixture(scope="module")
def hub(folders):
    server = FakeHub(token=TOKEN).start()
    server.add("org/repo", folders["main"])
    server.add("org/repo", folders["v1"], revision="v1")
    yield server
    server.stop()


def _env(hub: FakeHub, tmp: Path, token: str = TOKEN) -> dict[str, str]:
    """What a user's shell would hold: the hub's address and a token; nothing read from their home."""
    return {
        "HF_ENDPOINT": hub.url,
        "HF_TOKEN": token,
        "HF_HOME": str(tmp / "hf-home"),  # no token file of the real user, no writes to their cache
        "HF_HUB_OFFLINE": "0",
        "TRANSFORMERS_OFFLINE": "0",
        "CKPT_CACHE_DIR": str(tmp / "ckpt-cache"),
    }


def test_info_revision_missing_repo_and_wrong_token(hub, tmp_path):
    env = _env(hub, tmp_path)
    commands = {
        "info": (("info", "hf://org/repo", "--json"), env),
        "v1": (("info", "hf://org/repo@v1"), env),  # a revision, in the human output
        "missing": (("info", "hf://org/no-such-repo"), env),
        "wrong_token": (("info", "hf://org/repo"), _env(hub, tmp_path / "w", token="hf_wrongToken_alsoSecret")),
    }
    with ThreadPoolExecutor(len(commands)) as pool:
        futures = {name: pool.submit(ckpt, *args, env=e) for name, (args, e) in commands.items()}
        runs = {name: f.result() for name, f in futures.items()}
    for name, r in runs.items():
        text = r.stdout + r.stderr
        assert TOKEN not in text and "hf_wrongToken_alsoSecret" not in text, name

    info = runs["info"]
    assert info.returncode == 0, info.stderr
    doc = json.loads(info.stdout)
    assert (doc["format"], doc["location"], doc["url"], doc["path"]) == (
        "hf-sharded", "remote", "hf://org/repo", "hf://org/repo")  # fmt: skip
    assert doc["n_tensors"] == 4 and doc["metadata"]["config"] == {"model_type": "llama"}
    assert runs["v1"].returncode == 0 and "hf://org/repo@v1" in runs["v1"].stdout, runs["v1"].stderr

    for name, named in (("missing", "org/no-such-repo"), ("wrong_token", "org/repo")):
        r = runs[name]
        assert r.returncode != 0, name
        assert len(r.stderr.strip().splitlines()) == 1 and named in r.stderr, (name, r.stderr)
    assert "no such" in runs["missing"].stderr

    # the token came from the environment with every request for the repo
    asked = [r for r in hub.log if "/agent-harnesses" not in r.path]
    assert {r.token for r in asked} == {TOKEN, "hf_wrongToken_alsoSecret"}
    assert any(r.is_resolve and r.range is not None for r in asked)
    assert not any(r.is_resolve and r.method == "GET" and r.range is None for r in asked), "a whole-file GET"


def test_listing_an_hf_repo_imports_no_torch(hub, tmp_path):
    code = textwrap.dedent("""
        import contextlib, io, json, sys
        from ckptviewer.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            status = main(["info", "--json", "hf://org/repo"])
        doc = json.loads(buf.getvalue())
        print(json.dumps({"status": status, "torch": "torch" in sys.modules, "format": doc["format"]}))
    """)
    env = dict(os.environ) | _env(hub, tmp_path)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out == {"status": 0, "torch": False, "format": "hf-sharded"}


@pytest.mark.slow  # huggingface_hub retries a failed download 5 times, 1+2+4+8+8 s apart: ~25 s
def test_a_hub_that_stops_sending_files_is_one_line(folders, tmp_path):
    hub = FakeHub(token=TOKEN, down="files").start()  # the API answers, downloads are cut
    try:
        hub.add("org/repo", folders["main"])
        r = ckpt("info", "hf://org/repo", env=_env(hub, tmp_path))
    finally:
        hub.stop()
    assert r.returncode != 0
    assert "hf://org/repo/model.safetensors.index.json: cannot read" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Retrying" not in r.stderr, r.stderr
