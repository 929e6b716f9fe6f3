"""hf:// (Hugging Face hub repos through huggingface_hub's HfFileSystem), against a local fake hub.

Each repo is a local folder served by ``tests/hf_hub_server.FakeHub``; each test compares what
``hf://org/repo`` shows with the same folder opened locally, and counts what the hub was asked:
listing reads the index and one block of each shard's header, never a shard's tensors. The hub
demands the token from ``$HF_TOKEN`` (as a private repo would), so every test also shows that
credentials come from the environment.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core import remote
from ckptviewer.core.errors import CheckpointError
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.stats import checkpoint_stats, select
from tests.hf_hub_server import FakeHub

TOKEN = "hf_fakeToken_mustNotLeak_8d1e"
SHARDS = 3
WIDTH = 256  # each weight is WIDTH x 1024 float32 = 1 MiB: a shard is 4 blocks, so a whole-shard read shows


def _state(seed: int, n_layers: int = 6) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    sd: dict[str, torch.Tensor] = {}
    for i in range(n_layers):
        sd[f"model.layers.{i}.mlp.weight"] = torch.randn(WIDTH, 1024, generator=g)
        sd[f"model.layers.{i}.mlp.bias"] = torch.randn(1024, generator=g)
    sd["lm_head.weight"] = torch.randn(10, 1024, generator=g).half()
    return sd


def _sharded(folder: Path, sd: dict[str, torch.Tensor]) -> Path:
    """A transformers-style sharded folder: index + SHARDS shards + config.json."""
    folder.mkdir()
    keys = list(sd)
    per = -(-len(keys) // SHARDS)
    weight_map = {}
    for i in range(SHARDS):
        name = f"model-{i + 1:05d}-of-{SHARDS:05d}.safetensors"
        part = keys[i * per : (i + 1) * per]
        save_file({k: sd[k] for k in part}, str(folder / name), metadata={"format": "pt"})
        weight_map.update(dict.fromkeys(part, name))
    total = sum(t.numel() * t.element_size() for t in sd.values())
    (folder / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map})
    )
    (folder / "config.json").write_text(json.dumps({"model_type": "llama", "hidden_size": 1024}))
    return folder


@pytest.fixture(scope="module")
def repos(tmp_path_factory) -> dict[str, Path]:
    """Local folders, each a repo (or a revision of one) on the fake hub."""
    d = tmp_path_factory.mktemp("hf-repos")
    out = {"sharded": _sharded(d / "sharded", _state(1))}
    single = out["single"] = d / "single"
    single.mkdir()
    save_file(_state(2, n_layers=2), str(single / "model.safetensors"))
    (single / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    # a PEFT adapter as peft's save_pretrained writes one (importing peft takes seconds: see the slow test)
    peft = out["peft"] = d / "peft"
    peft.mkdir()
    base = "base_model.model.model.layers.0.self_attn.q_proj"
    g = torch.Generator().manual_seed(3)
    save_file({f"{base}.lora_A.weight": torch.randn(8, 1024, generator=g),
               f"{base}.lora_B.weight": torch.randn(1024, 8, generator=g)},
              str(peft / "adapter_model.safetensors"))  # fmt: skip
    (peft / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 8, "lora_alpha": 16, "target_modules": ["q_proj"]})
    )
    # a diffusers-style repo: the weights in a subfolder
    nested = out["nested"] = d / "nested"
    (nested / "unet").mkdir(parents=True)
    save_file(_state(5, n_layers=1), str(nested / "unet" / "diffusion_pytorch_model.safetensors"))
    (nested / "model_index.json").write_text(json.dumps({"unet": ["diffusers", "UNet2DConditionModel"]}))
    # one repo, two revisions: main and branch v1 hold the same names, other values
    out["rev-main"] = _sharded(d / "rev-main", _state(4, n_layers=3))
    out["rev-v1"] = _sharded(d / "rev-v1", {k: v * 0 + 7 for k, v in _state(4, n_layers=3).items()})
    return out


@pytest.fixture(scope="module")
def hub(repos):
    server = FakeHub(token=TOKEN).start()
    server.add("org/sharded", repos["sharded"])
    server.add("org/single", repos["single"])
    server.add("org/adapter", repos["peft"])
    server.add("org/revs", repos["rev-main"])
    server.add("org/revs", repos["rev-v1"], revision="v1")
    server.add("MixedCase/Model-Repo", repos["single"])
    server.add("org/nested", repos["nested"])
    yield server
    server.stop()


@pytest.fixture
def hf(hub, tmp_path, monkeypatch) -> FakeHub:
    """huggingface_hub pointed at the fake hub, with the token in the environment; a fresh block
    cache and fresh HfFileSystem instances (their listings are cached per instance), as a new process."""
    from huggingface_hub import HfFileSystem, constants

    # HF_ENDPOINT is read when huggingface_hub is imported: the module's values are what its calls use
    monkeypatch.setattr(constants, "ENDPOINT", hub.url)
    monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", hub.url + "/{repo_id}/resolve/{revision}/{filename}")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setenv("CKPT_CACHE_DIR", str(tmp_path / "cache"))
    HfFileSystem.clear_instance_cache()
    remote.BlockCache._open.clear()
    yield hub
    HfFileSystem.clear_instance_cache()
    remote.BlockCache._open.clear()


def _listing(ckpt) -> list[tuple]:
    return [(e.key, e.shape, e.dtype_name, e.nbytes) for e in ckpt.tensors.values()]


def _stats(ckpt) -> list[dict]:
    return [s.to_json() for s in checkpoint_stats(ckpt)]


def _repo_requests(hub: FakeHub, since: int) -> list:
    """What was asked of the repos (huggingface_hub's own telemetry look-ups left out)."""
    return [r for r in hub.log[since:] if "/agent-harnesses" not in r.path]


def test_sharded_repo_lists_as_local_reading_only_headers(repos, hf):
    local = open_checkpoint(repos["sharded"], device="cpu")
    start = len(hf.log)
    far = open_checkpoint("hf://org/sharded", device="cpu")
    asked = _repo_requests(hf, start)
    assert far.format == local.format == "hf-sharded"
    assert _listing(far) == _listing(local)
    assert far.metadata == local.metadata
    assert str(far.path) == "hf://org/sharded"
    # the token from the environment reached the hub with every request (it refuses any without)
    assert asked and all(r.token == TOKEN for r in asked)
    # repo info (asked again on every open: a reload sees new commits) + one tree listing; the index,
    # config.json and one block of each shard, by range
    api = [r for r in asked if not r.is_resolve]
    gets = hf.resolves(start)
    assert len(api) <= 3, api
    assert all(r.method == "GET" and r.range is not None for r in gets), gets
    assert len(gets) <= SHARDS + 2, gets
    shard_bytes = [r.sent for r in gets if r.path.endswith(".safetensors")]
    assert len(shard_bytes) == SHARDS and max(shard_bytes) <= remote.BLOCK, gets
    shard_size = (repos["sharded"] / "model-00001-of-00003.safetensors").stat().st_size
    assert shard_size > 3 * remote.BLOCK  # so reading a whole shard would have shown above
    assert hf.bytes_sent(start) <= SHARDS * remote.BLOCK + 64 * 1024


def test_sharded_repo_statistics_equal_local_and_fetch_each_byte_once(repos, hf):
    local = open_checkpoint(repos["sharded"], device="cpu")
    start = len(hf.log)
    far = open_checkpoint("hf://org/sharded", device="cpu")
    assert _listing(far) == _listing(local)
    assert _stats(far) == _stats(local)
    total = sum(p.stat().st_size for p in repos["sharded"].iterdir())
    sent = hf.bytes_sent(start)
    assert sent <= total  # no byte of any file twice (read-ahead included)
    spans: dict[str, list[tuple[int, int]]] = {}
    for r in hf.resolves(start):
        assert r.range is not None, r
        spans.setdefault(r.path, []).append(r.range)
    for path, got in spans.items():
        got.sort()
        assert all(b[0] >= a[1] for a, b in itertools.pairwise(got)), f"{path}: a range fetched twice: {got}"


def test_second_open_is_served_from_the_block_cache(repos, hf):
    from huggingface_hub import HfFileSystem

    far = open_checkpoint("hf://org/sharded", device="cpu")
    first = _stats(far)
    HfFileSystem.clear_instance_cache()
    remote.BlockCache.flush_all()  # as the process would at exit
    remote.BlockCache._open.clear()  # as a new process would: only the cache folder is left
    start = len(hf.log)
    again = open_checkpoint("hf://org/sharded", device="cpu")
    assert _stats(again) == first
    # the listing is asked again (it names each file's blob id: the cache key's version), no byte is
    assert hf.resolves(start) == [], hf.resolves(start)
    assert len(_repo_requests(hf, start)) <= 3


def test_single_file_repo_and_its_file(repos, hf):
    local = open_checkpoint(repos["single"], device="cpu")
    for url in ("hf://org/single", "hf://org/single/model.safetensors"):
        start = len(hf.log)
        far = open_checkpoint(url, device="cpu")
        assert far.format == local.format == "safetensors", url
        assert _listing(far) == _listing(local), url
        assert all(r.range is not None for r in hf.resolves(start)), url  # never a whole-file GET
        assert _stats(far) == _stats(local), url
        if url == "hf://org/single":  # the folder's config.json, read as locally
            assert far.metadata == local.metadata and local.metadata["config"] == {"model_type": "gpt2"}


def test_a_listing_in_pages_and_a_subfolder(repos, hf):
    """The hub pages a folder's listing (1000 entries a page): every page is followed."""
    local = open_checkpoint(repos["sharded"], device="cpu")
    hf.page_size = 2
    try:
        start = len(hf.log)
        far = open_checkpoint("hf://org/sharded", device="cpu")
    finally:
        hf.page_size = 1000
    assert _listing(far) == _listing(local)
    pages = [r for r in hf.log[start:] if "/tree/" in r.path]
    assert len(pages) == 3, pages  # 5 files, 2 a page
    # a file in a subfolder (folders.py does not take diffusers' file names for a folder's weights)
    name = "unet/diffusion_pytorch_model.safetensors"
    local = open_checkpoint(repos["nested"] / name, device="cpu")
    far = open_checkpoint(f"hf://org/nested/{name}", device="cpu")
    assert far.format == local.format == "safetensors" and _listing(far) == _listing(local)
    assert str(far.path) == f"hf://org/nested/{name}"


@pytest.mark.parametrize("url", ["hf://org/single", "hf://org/single/model.safetensors"])
def test_listing_a_one_file_repo_reads_one_block_of_it(url, hf):
    start = len(hf.log)
    open_checkpoint(url, device="cpu")
    weights = [r for r in hf.resolves(start) if r.path.endswith(".safetensors")]
    assert len(weights) == 1 and weights[0].range is not None, weights
    assert hf.bytes_sent(start) <= remote.BLOCK + 4096  # a block of the weights, and the json beside them


def test_peft_adapter_repo(repos, hf):
    local = open_checkpoint(repos["peft"], device="cpu")
    far = open_checkpoint("hf://org/adapter", device="cpu")
    assert far.format == local.format == "peft"
    assert far.metadata["adapter_config"] == local.metadata["adapter_config"]
    assert far.metadata["adapter_config"]["r"] == 8
    assert _listing(far) == _listing(local)
    assert _stats(far) == _stats(local)


def test_revisions_branch_and_commit(repos, hf):
    main = open_checkpoint("hf://org/revs", device="cpu")
    v1 = open_checkpoint("hf://org/revs@v1", device="cpu")
    pinned = open_checkpoint(f"hf://org/revs@{hf.commit('org/revs', 'v1')}", device="cpu")
    assert _listing(main) == _listing(v1) == _listing(pinned)  # same names and shapes ...
    key = ["model.layers.2.mlp.weight"]
    values = {name: checkpoint_stats(c, select(c, key))[0] for name, c in
              (("main", main), ("v1", v1), ("pinned", pinned))}  # fmt: skip
    assert values["v1"].max == values["v1"].min == 7 == values["pinned"].max  # ... each revision's own bytes
    assert values["main"].max != 7
    assert str(v1.path) == "hf://org/revs@v1"
    local = open_checkpoint(repos["rev-main"], device="cpu")
    assert values["main"].to_json() == checkpoint_stats(local, select(local, key))[0].to_json()


def test_missing_repo_revision_and_file_are_one_clear_line(hf):
    cases = {
        "hf://org/does-not-exist": "org/does-not-exist",
        "hf://org/sharded@no-such-branch": "no-such-branch",
        "hf://org/sharded/no-such-file.safetensors": "no-such-file.safetensors",
    }
    for url, named in cases.items():
        with pytest.raises(CheckpointError) as info:
            open_checkpoint(url, device="cpu")
        text = str(info.value)
        assert len(text.splitlines()) == 1 and named in text, text
        assert "no such" in text, text
        assert TOKEN not in text


def test_a_wrong_token_is_refused_without_showing_it(hf, monkeypatch):
    from huggingface_hub import HfFileSystem

    HfFileSystem.clear_instance_cache()
    monkeypatch.setenv("HF_TOKEN", "hf_wrongSecret_0000")
    with pytest.raises(CheckpointError) as info:
        open_checkpoint("hf://org/sharded", device="cpu")
    text = str(info.value)
    assert len(text.splitlines()) == 1 and "hf_wrongSecret_0000" not in text and TOKEN not in text
    assert "hf://org/sharded" in text


def test_a_wrong_token_says_access_denied(hf, monkeypatch):
    from huggingface_hub import HfFileSystem

    HfFileSystem.clear_instance_cache()
    monkeypatch.setenv("HF_TOKEN", "hf_wrongSecret_0000")
    with pytest.raises(CheckpointError, match=r"^hf://org/sharded: access denied \(check your credentials\)$"):
        open_checkpoint("hf://org/sharded", device="cpu")


def test_a_mixed_case_organisation_keeps_its_case(hf):
    far = open_checkpoint("hf://MixedCase/Model-Repo", device="cpu")
    assert far.format == "safetensors"
    assert str(far.path) == "hf://MixedCase/Model-Repo"
    assert not remote.has_credentials("hf://MixedCase/Model-Repo")


@pytest.mark.slow
def test_adapter_saved_by_peft_itself(hf, tmp_path):
    """The adapter repo written by peft's own save_pretrained (importing peft takes seconds)."""
    peft = pytest.importorskip("peft")

    class Block(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.q_proj = torch.nn.Linear(64, 64)
            self.v_proj = torch.nn.Linear(64, 64)

    model = peft.get_peft_model(Block(), peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"]))
    folder = tmp_path / "peft-saved"
    model.save_pretrained(str(folder))
    hf.add("org/peft-saved", folder)
    local = open_checkpoint(folder, device="cpu")
    far = open_checkpoint("hf://org/peft-saved", device="cpu")
    assert far.format == local.format == "peft"
    assert _listing(far) == _listing(local) and len(far.tensors) == 4
    assert far.metadata["adapter_config"]["r"] == 4
