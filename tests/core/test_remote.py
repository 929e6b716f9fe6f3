"""Remote checkpoints (s3:// through moto's server, http:// through a Range server), read by range.

Each test compares what a remote open shows with the same file opened locally, and counts
what the servers were asked for: listing must read the header / central directory and
data.pkl, not the tensors.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core import remote
from ckptviewer.core.errors import CheckpointError
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope
from ckptviewer.core.stats import checkpoint_stats, select
from tests.remote_servers import range_bytes

MiB = 1 << 20


def _state(n_layers: int = 6, width: int = 1024) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    sd: dict[str, torch.Tensor] = {}
    for i in range(n_layers):
        sd[f"layers.{i}.weight"] = torch.randn(width, width, generator=g)
        sd[f"layers.{i}.bias"] = torch.randn(width, generator=g)
    sd["head.weight"] = torch.randn(10, width, generator=g).half()
    sd["steps"] = torch.tensor([3, 4, 5])
    return sd


def _listing(ckpt) -> list[tuple]:
    return [(e.key, e.shape, e.dtype_name, e.nbytes) for e in ckpt.tensors.values()]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("remote-src")
    sd = _state()
    torch.save({"model": sd, "epoch": 7}, d / "model.pth")
    save_file(sd, str(d / "model.safetensors"))
    return {"zip": d / "model.pth", "safetensors": d / "model.safetensors"}


@pytest.fixture
def fresh_cache(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("CKPT_CACHE_DIR", str(folder))
    remote.BlockCache._open.clear()
    return folder


@pytest.mark.parametrize("kind", ["zip", "safetensors"])
def test_http_listing_reads_only_headers_and_matches_local(kind, files, http_server, fresh_cache):
    src = files[kind]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    url = f"{http_server.url}/{src.name}"
    local = open_checkpoint(src, device="cpu")
    far = open_checkpoint(url, device="cpu")
    assert far.format == local.format
    assert _listing(far) == _listing(local)
    assert str(far.path) == url
    gets = [r for r in http_server.log if r.method == "GET"]
    assert all(r.range is not None for r in gets), "a GET without Range would download the whole file"
    assert len(http_server.log) <= 5, http_server.log
    assert http_server.bytes_sent() <= 2 * remote.BLOCK + 4096
    # statistics read tensor bytes by range, and equal the local ones
    key = "model.layers.3.weight" if kind == "zip" else "layers.3.weight"
    a = checkpoint_stats(local, select(local, [key]))[0].to_json()
    b = checkpoint_stats(far, select(far, [key]))[0].to_json()
    assert a == b
    assert http_server.bytes_sent() < src.stat().st_size  # still not the whole file


def test_second_open_is_served_from_the_block_cache(files, http_server, fresh_cache):
    src = files["safetensors"]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    url = f"{http_server.url}/{src.name}"
    ckpt = open_checkpoint(url, device="cpu")
    checkpoint_stats(ckpt)
    remote.BlockCache.flush_all()  # as the process would at exit
    remote.BlockCache._open.clear()  # as a new process would: the cache folder only
    before = len(http_server.log)
    ckpt = open_checkpoint(url, device="cpu")
    checkpoint_stats(ckpt)
    again = http_server.log[before:]
    assert [r.method for r in again] == ["HEAD"], again  # size and ETag, then every byte from the cache
    assert any(fresh_cache.glob("*.data"))


def test_changed_object_is_not_served_stale(files, http_server, fresh_cache, tmp_path):
    target = http_server.root / "m.safetensors"
    save_file({"w": torch.zeros(1000)}, str(target))
    assert checkpoint_stats(open_checkpoint(f"{http_server.url}/m.safetensors", device="cpu"))[0].max == 0
    remote.BlockCache._open.clear()
    save_file({"w": torch.ones(1000)}, str(target))
    os.utime(target, ns=(1, 10**18))  # a new ETag
    assert checkpoint_stats(open_checkpoint(f"{http_server.url}/m.safetensors", device="cpu"))[0].max == 1


def test_server_ignoring_range_is_refused_clearly(files, tmp_path, fresh_cache):
    from tests.remote_servers import RangeHTTPServer

    root = tmp_path / "plain"
    root.mkdir()
    (root / "model.pth").write_bytes(files["zip"].read_bytes())
    server = RangeHTTPServer(root, honour_range=False).start()
    try:
        with pytest.raises(CheckpointError, match="Range"):
            open_checkpoint(f"{server.url}/model.pth", device="cpu")
    finally:
        server.stop()


def test_missing_object_and_secrets_never_shown(http_server, fresh_cache):
    url = f"http://user:hunter2@127.0.0.1:{http_server.httpd.server_address[1]}/nope.pth?X-Amz-Signature=abc123"
    with pytest.raises(CheckpointError) as info:
        open_checkpoint(url, device="cpu")
    text = str(info.value)
    assert "hunter2" not in text and "abc123" not in text and "user" not in text
    assert "nope.pth" in text
    assert remote.redact(url) == f"http://127.0.0.1:{http_server.httpd.server_address[1]}/nope.pth?…"
    assert remote.has_credentials(url) and not remote.has_credentials("s3://b/k.pth")


def test_s3_zip_and_safetensors_listing_counts(files, s3_server, fresh_cache):
    for kind, src in files.items():
        url = s3_server.upload(src, f"counts/{src.name}")
        s3_server.start_recording()
        ckpt = open_checkpoint(url, device="cpu")
        rec = s3_server.recorded()
        assert _listing(ckpt) == _listing(open_checkpoint(src, device="cpu")), kind
        assert len(rec) <= 5, (kind, rec)
        assert range_bytes(rec) <= 2 * remote.BLOCK, kind
        assert all(r["method"] in ("HEAD", "GET") for r in rec)


def test_s3_hf_folder_and_dcp_folder(tmp_path, s3_server, fresh_cache):
    from safetensors.torch import save_file as save_st

    folder = tmp_path / "hf"
    folder.mkdir()
    sd = _state(n_layers=4, width=64)
    keys = list(sd)
    shards = {"model-00001-of-00002.safetensors": keys[:5], "model-00002-of-00002.safetensors": keys[5:]}
    weight_map = {}
    for shard, ks in shards.items():
        save_st({k: sd[k] for k in ks}, str(folder / shard))
        weight_map.update(dict.fromkeys(ks, shard))
    import json

    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "toy"}))
    url = s3_server.upload(folder, "hf-run")
    local = open_checkpoint(folder, device="cpu")
    far = open_checkpoint(url, device="cpu")
    assert far.format == local.format == "hf-sharded"
    assert _listing(far) == _listing(local)
    assert checkpoint_stats(far)[0].to_json() == checkpoint_stats(local)[0].to_json()

    import torch.distributed.checkpoint as dcp

    dcp_dir = tmp_path / "dcp"
    dcp.save({"model": {k: v.clone() for k, v in sd.items()}, "step": 5}, checkpoint_id=str(dcp_dir))
    url = s3_server.upload(dcp_dir, "dcp-run/step_5")
    far, local = open_checkpoint(url, device="cpu"), open_checkpoint(dcp_dir, device="cpu")
    assert far.format == local.format
    assert _listing(far) == _listing(local)
    assert [s.to_json() for s in checkpoint_stats(far)] == [s.to_json() for s in checkpoint_stats(local)]


def test_fetch_is_cancellable(files, http_server, fresh_cache, monkeypatch):
    monkeypatch.setattr(remote, "PART", 64 * 1024)
    monkeypatch.setattr(remote, "BLOCK", 64 * 1024)
    monkeypatch.setattr(remote, "PARALLEL", 1)
    src = files["safetensors"]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    ckpt = open_checkpoint(f"{http_server.url}/{src.name}", device="cpu")
    token = CancelToken()
    seen = threading.Event()
    real = remote.BlockCache._get

    def slow_get(self, span):
        seen.set()
        token.cancel()
        return real(self, span)

    monkeypatch.setattr(remote.BlockCache, "_get", slow_get)
    with pytest.raises(Cancelled), cancel_scope(token):
        checkpoint_stats(ckpt, cancel=token)
    assert seen.is_set()
    done = len([r for r in http_server.log if r.method == "GET"])
    assert done * 64 * 1024 < src.stat().st_size / 4  # stopped early, not after fetching everything


def test_cache_is_capped(files, http_server, fresh_cache, monkeypatch):
    for i in range(3):
        (http_server.root / f"m{i}.safetensors").write_bytes(files["safetensors"].read_bytes())
    size = files["safetensors"].stat().st_size
    monkeypatch.setenv("CKPT_CACHE_MAX", str(int(size * 1.5)))
    for i in range(3):
        ckpt = open_checkpoint(f"{http_server.url}/m{i}.safetensors", device="cpu")
        checkpoint_stats(ckpt)
        for cache in list(remote.BlockCache._open.values()):
            cache.close()
    used = sum(p.stat().st_blocks * 512 for p in fresh_cache.glob("*.data"))
    assert used <= size * 1.5 + remote.BLOCK
    assert len(list(fresh_cache.glob("*.data"))) < 3


def test_trust_is_refused_for_remote(files, http_server, fresh_cache):
    (http_server.root / "model.pth").write_bytes(files["zip"].read_bytes())
    with pytest.raises(CheckpointError, match="download"):
        open_checkpoint(f"{http_server.url}/model.pth", device="cpu", trust=True)


def test_a_full_scan_reads_ahead_and_fetches_each_byte_once(files, http_server, fresh_cache):
    src = files["zip"]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    ckpt = open_checkpoint(f"{http_server.url}/{src.name}", device="cpu")
    local = open_checkpoint(src, device="cpu")
    assert [s.to_json() for s in checkpoint_stats(ckpt)] == [s.to_json() for s in checkpoint_stats(local)]
    spans = sorted(r.range for r in http_server.log if r.method == "GET")
    for (_, end), (begin, _) in itertools.pairwise(spans):
        assert begin >= end, f"a byte range was fetched twice: {spans}"
    assert sum(b - a for a, b in spans) <= src.stat().st_size


def test_a_large_remote_tensor_reports_its_download(http_server, fresh_cache, monkeypatch):
    monkeypatch.setattr(remote, "PART", 256 * 1024)
    save_file({"big": torch.randn(2_000_000)}, str(http_server.root / "big.safetensors"))
    ckpt = open_checkpoint(f"{http_server.url}/big.safetensors", device="cpu")
    seen = []
    checkpoint_stats(ckpt, progress=lambda p: seen.append(p.message))
    downloading = [m for m in seen if m.startswith("Downloading big:")]
    assert len(downloading) >= 5, seen[:10]
    got, of = downloading[-1].removeprefix("Downloading big: ").split(" of ")
    assert got == of and of.endswith("MiB"), downloading[-1]  # the tensor's bytes not fetched while listing


def test_diff_of_a_remote_and_a_local_copy_reads_by_range_and_finds_them_equal(files, http_server, fresh_cache):
    from ckptviewer.core.diff import diff

    for src in files.values():
        (http_server.root / src.name).write_bytes(src.read_bytes())
        rep = diff(open_checkpoint(f"{http_server.url}/{src.name}", device="cpu"), open_checkpoint(src, device="cpu"))
        assert rep.verdict.kind != "different", rep.headline()
        assert all(r.verdict == "identical" for r in rep.rows if r.verdict != "only_a"), rep.headline()


def test_a_shared_cache_folder_gets_a_private_subfolder(files, http_server, tmp_path, monkeypatch):
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # like /tmp
    monkeypatch.setenv("CKPT_CACHE_DIR", str(shared))
    remote.BlockCache._open.clear()
    (http_server.root / "m.safetensors").write_bytes(files["safetensors"].read_bytes())
    open_checkpoint(f"{http_server.url}/m.safetensors", device="cpu")
    private = shared / f"ckptviewer-{os.getuid()}"
    assert any(private.glob("*.data")) and not any(shared.glob("*.data"))
    assert private.stat().st_mode & 0o777 == 0o700


def test_reopening_a_remote_folder_sees_what_changed_meanwhile(tmp_path, s3_server, fresh_cache):
    import json

    folder = tmp_path / "single"
    folder.mkdir()
    save_file({"w": torch.zeros(4)}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"step": 1}))
    url = s3_server.upload(folder, "changing")
    assert open_checkpoint(url, device="cpu").metadata["config"] == {"step": 1}
    (folder / "config.json").write_text(json.dumps({"step": 2}))
    save_file({"w": torch.ones(4), "b": torch.ones(2)}, str(folder / "model.safetensors"))
    s3_server.upload(folder, "changing")  # a training job wrote its next checkpoint
    again = open_checkpoint(url, device="cpu")  # File > Reload opens the URL anew
    assert again.metadata["config"] == {"step": 2}
    assert sorted(again.tensors) == ["b", "w"]
    assert checkpoint_stats(again, select(again, ["w"]))[0].max == 1


def test_a_scan_uses_its_read_ahead_from_memory_and_writes_it_behind(files, http_server, fresh_cache):
    """Read-ahead is used from memory (not first written and read back) and reaches the cache file
    behind the scan: a second process finds every byte there."""
    src = files["safetensors"]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    url = f"{http_server.url}/{src.name}"
    ckpt = open_checkpoint(url, device="cpu")
    local = open_checkpoint(src, device="cpu")
    assert [s.to_json() for s in checkpoint_stats(ckpt)] == [s.to_json() for s in checkpoint_stats(local)]
    cache = remote.BlockCache._open[next(iter(remote.BlockCache._open))]
    assert cache.stats["held"] >= 1 and cache.stats["dropped"] == 0, cache.stats
    remote.BlockCache.flush_all()
    assert not cache._held
    remote.BlockCache._open.clear()
    before = len(http_server.log)
    again = open_checkpoint(url, device="cpu")
    assert [s.to_json() for s in checkpoint_stats(again)] == [s.to_json() for s in checkpoint_stats(local)]
    assert [r.method for r in http_server.log[before:]] == ["HEAD"]


def test_a_disk_slower_than_the_network_drops_passed_read_ahead_instead_of_slowing_the_scan(
    files, http_server, fresh_cache, monkeypatch
):
    """While the cache file's writer is stuck, the scan goes on from memory: held bytes stay within
    HOLD_MAX plus what is in flight, what the scan passed is dropped (missing again, fetched anew when
    read again), and every statistic is right."""
    monkeypatch.setattr(remote, "HOLD_MAX", 2 * MiB)
    monkeypatch.setattr(remote, "PART", 1 * MiB)
    src = files["safetensors"]
    (http_server.root / src.name).write_bytes(src.read_bytes())
    url = f"{http_server.url}/{src.name}"
    disk = threading.Event()
    write_behind = remote.BlockCache._write_behind
    held_peak = []

    def stuck_disk(self, lo):
        disk.wait(30)
        held_peak.append(self._held_bytes)
        return write_behind(self, lo)

    monkeypatch.setattr(remote.BlockCache, "_write_behind", stuck_disk)
    ckpt = open_checkpoint(url, device="cpu")
    local = open_checkpoint(src, device="cpu")
    expected = [s.to_json() for s in checkpoint_stats(local)]
    assert [s.to_json() for s in checkpoint_stats(ckpt)] == expected
    cache = remote.BlockCache._open[next(iter(remote.BlockCache._open))]
    assert cache.stats["dropped"] >= 1, cache.stats
    assert cache._held_bytes <= remote.HOLD_MAX + remote.PARALLEL * remote.PART, cache.stats
    dropped_blocks = cache.present.count(remote.MISSING)
    assert dropped_blocks > 0
    disk.set()
    # read-ahead still in flight when the scan ended may drop more when it lands: let it land first
    deadline = time.monotonic() + 30
    while (cache._busy or cache._ahead) and time.monotonic() < deadline:
        time.sleep(0.01)
    remote.BlockCache.flush_all()
    assert max(held_peak) <= remote.HOLD_MAX + remote.PARALLEL * remote.PART
    missing = cache.present.count(remote.MISSING)
    # read again in this process: the dropped blocks are fetched anew, the rest come from cache or memory
    before = len(http_server.log)
    assert [s.to_json() for s in checkpoint_stats(ckpt)] == expected
    refetched = sum(r.range[1] - r.range[0] for r in http_server.log[before:] if r.method == "GET")
    assert 0 < refetched <= missing * remote.BLOCK  # each dropped block once: a rescan drops nothing before reading it
