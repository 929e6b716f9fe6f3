"""GGUF files (llama.cpp): written by the gguf package's own GGUFWriter and quantizers, read
by ckptviewer's checked header parser; values compared with what was written and with
gguf's own dequantizer of the same bytes; hostile headers refused in one line, with
bounded memory (the worst in a child process under an address-space limit).
"""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest
import torch
from safetensors.torch import save_file

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.diff import diff
from ckptviewer.core.formats import gguf_file
from ckptviewer.core.stats import checkpoint_stats, tensor_stats

ROOT = Path(__file__).parents[2]
Q = gguf.GGMLQuantizationType
RNG_SEED = 15


def _weights() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(RNG_SEED)
    return {
        "token_embd.weight": rng.standard_normal((48, 256)).astype(np.float32),
        "blk.0.attn_norm.weight": rng.standard_normal(256).astype(np.float16),
        "blk.0.attn_q.weight": rng.standard_normal((64, 256)).astype(np.float32),  # Q8_0
        "blk.0.attn_k.weight": rng.standard_normal((64, 256)).astype(np.float32),  # Q4_0
        "blk.0.attn_v.weight": rng.standard_normal((32, 256)).astype(np.float32),  # Q5_1
        "blk.0.ffn_down.weight": rng.standard_normal((16, 512)).astype(np.float32),  # bf16
        "pos.ids": np.arange(24, dtype=np.int32).reshape(2, 3, 4),
    }


QUANTIZED = {"blk.0.attn_q.weight": Q.Q8_0, "blk.0.attn_k.weight": Q.Q4_0, "blk.0.attn_v.weight": Q.Q5_1,
             "blk.0.ffn_down.weight": Q.BF16}  # fmt: skip


def q4k_blocks(n_blocks: int, seed: int = 3) -> np.ndarray:
    """Q4_K blocks (gguf has no Q4_K quantizer): random bits with small, finite f16 scales."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, (n_blocks, 144), dtype=np.uint8)
    scales = rng.uniform(0.001, 0.05, (n_blocks, 2)).astype(np.float16)
    blocks[:, :4] = scales.view(np.uint8).reshape(n_blocks, 4)
    return blocks


def write_model(path: Path, arch: str = "llama") -> dict[str, np.ndarray]:
    """A GGUF file of every kind of tensor and key-value the tests read back; returns the weights."""
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(1)
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4_000_000_000)
    w.add_int32("test.i32", -2_000_000_000)
    w.add_float32("test.f32", 0.25)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "a chat\ntemplate")
    w.add_uint64("test.u64", 2**64 - 1)
    w.add_int64("test.i64", -(2**62))
    w.add_float64("test.f64", float("inf"))
    w.add_array("tokenizer.ggml.tokens", [f"tok{i}" for i in range(5000)])
    w.add_array("tokenizer.ggml.scores", [float(i) / 2 for i in range(5000)])
    w.add_array("test.short", [3, 1, 2])
    w.add_array("test.nested", [[1, 2], [3, 4, 5]])
    weights = _weights()
    for name, value in weights.items():
        if name in QUANTIZED:
            q = gguf.quants.quantize(value, QUANTIZED[name])
            w.add_tensor(name, q, raw_shape=q.shape, raw_dtype=QUANTIZED[name])
        else:
            w.add_tensor(name, value)
    k = q4k_blocks(8)
    w.add_tensor("blk.0.ffn_up.weight", k, raw_shape=(8, 144), raw_dtype=Q.Q4_K)  # 8 blocks: 8 rows of 256
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return weights


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> tuple[Path, dict[str, np.ndarray]]:
    path = tmp_path_factory.mktemp("gguf") / "model.gguf"
    return path, write_model(path)


def test_gguf_type_table_agrees_with_the_gguf_package():
    ours = {k: (name, block, size) for k, (name, block, size) in gguf_file.GGML_TYPES.items()}
    theirs = {int(t): (t.name, *gguf.GGML_QUANT_SIZES[t]) for t in Q if t in gguf.GGML_QUANT_SIZES}
    assert ours == theirs


def test_listing_shapes_types_and_stored_bytes(model):
    path, weights = model
    with open_checkpoint(path, "cpu") as ckpt:
        assert ckpt.format == "gguf"
        t = ckpt.tensors
        assert list(t) == [*weights, "blk.0.ffn_up.weight"]
        # GGUF lists the fastest dimension first: shapes come back in PyTorch (numpy) order
        for name, value in weights.items():
            assert t[name].shape == value.shape, name
        assert t["blk.0.ffn_up.weight"].shape == (8, 256)
        assert t["token_embd.weight"].dtype_name == "float32" and t["token_embd.weight"].encoding is None
        assert t["blk.0.attn_norm.weight"].dtype_name == "float16"
        assert t["pos.ids"].dtype_name == "int32"
        assert t["blk.0.ffn_down.weight"].dtype_name == "bfloat16"
        q8 = t["blk.0.attn_q.weight"]
        assert q8.dtype_name == "float32"  # what statistics see
        assert q8.encoding == "Q8_0, 32-value blocks of 34 bytes"
        assert q8.nbytes == 64 * 256 // 32 * 34 == q8.storage_nbytes
        assert t["blk.0.ffn_up.weight"].encoding == "Q4_K, 256-value blocks of 144 bytes"
        assert t["blk.0.ffn_up.weight"].nbytes == 8 * 144
        assert t["blk.0.attn_v.weight"].encoding == "Q5_1, 32-value blocks of 24 bytes"
        assert q8.to_json()["encoding"] == q8.encoding and "encoding" not in t["pos.ids"].to_json()
        assert ckpt.total_bytes == sum(e.nbytes for e in t.values())
        assert ckpt.state_dict_key == ""
        # the layer tree (window and `ckpt tree`) says the stored type; its JSON says both
        from ckptviewer.core.tree import build_tree

        leaf = build_tree(ckpt).find("blk.0.attn_q.weight")
        assert leaf.dtype_text == "Q8_0" and build_tree(ckpt).find("pos.ids").dtype_text == "int32"
        assert leaf.to_json()["dtype"] == "float32" and leaf.to_json()["encoding"] == q8.encoding


def test_metadata_every_value_type(model):
    path, _ = model
    with open_checkpoint(path, "cpu") as ckpt:
        kv = ckpt.metadata["gguf"]
        json.dumps(ckpt.metadata, allow_nan=False)  # JSON-safe
    assert kv["general.architecture"] == "llama" and kv["llama.block_count"] == 1
    assert (kv["test.u8"], kv["test.i8"], kv["test.u16"], kv["test.i16"]) == (200, -100, 60000, -30000)
    assert (kv["test.u32"], kv["test.i32"], kv["test.u64"], kv["test.i64"]) == (4e9, -2e9, 2**64 - 1, -(2**62))
    assert kv["test.f32"] == 0.25 and kv["test.bool"] is True and kv["test.f64"] == "Infinity"
    assert kv["test.str"] == "a chat\ntemplate"
    assert kv["test.short"] == [3, 1, 2] and kv["test.nested"] == [[1, 2], [3, 4, 5]]
    tokens = kv["tokenizer.ggml.tokens"]
    assert tokens == {"__class__": "GGUF array", "type": "string", "length": 5000,
                      "first": [f"tok{i}" for i in range(8)]}  # fmt: skip
    assert kv["tokenizer.ggml.scores"]["length"] == 5000 and kv["tokenizer.ggml.scores"]["first"][:3] == [0, 0.5, 1]
    assert ckpt.metadata["gguf_file"]["version"] == 3 and ckpt.metadata["gguf_file"]["alignment"] == 32


def test_values_plain_equal_written_and_quantized_equal_ggufs_dequantize(model):
    path, weights = model
    reader = gguf.GGUFReader(str(path))
    theirs = {t.name: gguf.quants.dequantize(t.data, t.tensor_type) for t in reader.tensors
              if t.tensor_type not in (Q.F32, Q.F16, Q.I32)}  # fmt: skip
    with open_checkpoint(path, "cpu") as ckpt:
        for name, value in weights.items():
            got = ckpt.tensor(name)
            if name in QUANTIZED:
                assert got.dtype == (torch.bfloat16 if name == "blk.0.ffn_down.weight" else torch.float32)
                want = torch.from_numpy(np.asarray(theirs[name], np.float32).reshape(value.shape))
                assert torch.equal(got.float(), want), name
                # and close to the floats that were quantized
                err = (got.float() - torch.from_numpy(value)).abs().max().item()
                assert err < {Q.Q8_0: 0.05, Q.Q4_0: 0.6, Q.Q5_1: 0.3, Q.BF16: 0.05}[QUANTIZED[name]], (name, err)
                assert err > 0 or QUANTIZED[name] == Q.BF16
            else:
                assert torch.equal(got, torch.from_numpy(value)), name
        k = ckpt.tensor("blk.0.ffn_up.weight")
        want = torch.from_numpy(np.asarray(theirs["blk.0.ffn_up.weight"], np.float32).reshape(8, 256))
        assert k.shape == (8, 256) and torch.isfinite(k).all() and torch.equal(k, want)
        # statistics run over the dequantized values
        st = tensor_stats(ckpt.tensor("blk.0.attn_q.weight"), "q", torch.device("cpu"))
        ref = torch.from_numpy(np.asarray(theirs["blk.0.attn_q.weight"], np.float64))
        assert st.min == pytest.approx(ref.min().item()) and st.mean == pytest.approx(ref.mean().item())
        assert len(checkpoint_stats(ckpt)) == len(ckpt.tensors)


def test_dequantizes_in_chunks(model, monkeypatch):
    """Tensors larger than one chunk come out the same (chunk edges on block boundaries)."""
    path, _ = model
    monkeypatch.setattr(gguf_file, "CHUNK_VALUES", 96)  # three Q8_0 blocks; a Q4_K chunk is one block
    reader = gguf.GGUFReader(str(path))
    with open_checkpoint(path, "cpu") as ckpt:
        for t in reader.tensors:
            if t.name in ("blk.0.attn_q.weight", "blk.0.ffn_up.weight"):
                want = np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), np.float32)
                assert np.array_equal(ckpt.tensor(t.name).numpy(), want.reshape(ckpt.tensors[t.name].shape))


# --- diff against the checkpoint it was converted from ---------------------------


HF_NAMES = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.layers.0.self_attn.q_proj.weight": "blk.0.attn_q.weight",
    "model.layers.0.self_attn.k_proj.weight": "blk.0.attn_k.weight",
    "model.layers.1.mlp.down_proj.weight": "blk.1.ffn_down.weight",
    "model.layers.1.input_layernorm.weight": "blk.1.attn_norm.weight",
    "model.norm.weight": "output_norm.weight",
    "lm_head.weight": "output.weight",
    "extra.unmapped": "extra.unmapped",  # no table entry: keeps its name on both sides
}


def _permute(w: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf permutation of q/k rows (LlamaModel.permute)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _pair(folder: Path, arch: str, permute: bool) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    hf = {k: rng.standard_normal((64, 32) if "weight" in k and "norm" not in k else 32).astype(np.float32)
          for k in HF_NAMES}  # fmt: skip
    st = folder / f"{arch}-{permute}.safetensors"
    save_file({k: torch.from_numpy(v) for k, v in hf.items()}, str(st))
    path = folder / f"{arch}-{permute}.gguf"
    w = gguf.GGUFWriter(str(path), arch)
    w.add_block_count(2)
    for k, v in hf.items():
        if permute and k.endswith(("q_proj.weight", "k_proj.weight")):
            v = _permute(v, 4)
        w.add_tensor(HF_NAMES[k], v)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path, st


def test_diff_aligns_gguf_names_with_the_source(tmp_path):
    g, st = _pair(tmp_path, "llama", permute=False)
    with open_checkpoint(g, "cpu") as a, open_checkpoint(st, "cpu") as b:
        rep = diff(a, b)
        back = diff(b, a)
    assert rep.counts == {"identical": 8, "changed": 0, "mismatched": 0, "only_a": 0, "only_b": 0}
    assert {r.key for r in rep.rows} == set(HF_NAMES)  # aligned under the PyTorch names
    row = next(r for r in rep.rows if r.key == "model.layers.0.self_attn.q_proj.weight")
    assert row.a_key == "blk.0.attn_q.weight" and row.b_key == row.key
    assert back.counts["identical"] == 8 and back.same
    assert "7 of 8" in rep.notes[0] and "permutes" in rep.notes[1]
    assert rep.to_json()["notes"] == rep.notes


def test_diff_reports_llama_q_k_permutation(tmp_path):
    g, st = _pair(tmp_path, "llama", permute=True)
    with open_checkpoint(g, "cpu") as a, open_checkpoint(st, "cpu") as b:
        rep = diff(a, b)
    changed = {r.key for r in rep.by_status("changed")}
    assert changed == {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight"}
    assert rep.counts["identical"] == 6 and not rep.same


def test_diff_without_a_name_table_keeps_names(tmp_path):
    g, st = _pair(tmp_path, "no-such-arch", permute=False)
    with open_checkpoint(g, "cpu") as a, open_checkpoint(st, "cpu") as b:
        rep = diff(a, b)
    assert rep.counts["identical"] == 1 and rep.counts["only_a"] == 7  # only extra.unmapped lines up
    assert "not mapped" in rep.notes[0]


def test_diff_quantized_gguf_against_its_floats(tmp_path):
    g = tmp_path / "q.gguf"
    rng = np.random.default_rng(2)
    w32 = rng.standard_normal((64, 64)).astype(np.float32)
    save_file({"model.layers.0.self_attn.q_proj.weight": torch.from_numpy(w32)}, str(tmp_path / "q.safetensors"))
    w = gguf.GGUFWriter(str(g), "qwen2")
    q = gguf.quants.quantize(w32, Q.Q8_0)
    w.add_tensor("blk.0.attn_q.weight", q, raw_shape=q.shape, raw_dtype=Q.Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with open_checkpoint(g, "cpu") as a, open_checkpoint(tmp_path / "q.safetensors", "cpu") as b:
        rep = diff(a, b)
        within = diff(a, b, atol=0.05)
    (row,) = rep.rows
    assert row.status == "changed" and 0 < row.rel_change < 0.01
    assert within.verdict.kind == "within_tolerance"


# --- hostile and damaged files ---------------------------------------------------


def _s(text: str | bytes) -> bytes:
    raw = text.encode() if isinstance(text, str) else text
    return struct.pack("<Q", len(raw)) + raw


def raw_gguf(
    kvs: list[bytes] = (),
    tensors: list[tuple[str | bytes, list[int], int, int]] = (),
    data: bytes = b"",
    *,
    n_tensors: int | None = None,
    n_kv: int | None = None,
    version: int = 3,
    align: int = 32,
) -> bytes:
    """A GGUF file byte by byte (the writer refuses to write what these tests need)."""
    out = b"GGUF" + struct.pack("<IQQ", version, len(tensors) if n_tensors is None else n_tensors,
                                len(kvs) if n_kv is None else n_kv)  # fmt: skip
    out += b"".join(kvs)
    out += b"".join(_s(name) + struct.pack(f"<I{len(dims)}QIQ", len(dims), *dims, typ, off)
                    for name, dims, typ, off in tensors)  # fmt: skip
    out += b"\0" * (-len(out) % align)
    return out + data


def kv_u32(key: str, value: int) -> bytes:
    return _s(key) + struct.pack("<II", 4, value)


F32_TENSOR = ("w", [4, 2], 0, 0)  # 8 float32 values


def _hostile() -> dict[str, tuple[bytes, str]]:
    """name -> (file bytes, a word the one-line refusal must hold)."""
    ok_data = struct.pack("<8f", *range(8))
    big_string = _s("k") + struct.pack("<I", 8) + struct.pack("<Q", 2**40) + b"abc"
    huge_array = _s("k") + struct.pack("<IIQ", 9, 0, 10**9) + b"\0" * 64
    string_array = _s("k") + struct.pack("<IIQ", 9, 8, 10**9) + b"\0" * 64
    deep = _s("k") + struct.pack("<I", 9) + struct.pack("<IQ", 9, 1) * 20 + struct.pack("<IQ", 4, 0)
    return {
        "tensor_count_2_63": (raw_gguf(n_tensors=2**63), "tensors"),
        "kv_count_2_63": (raw_gguf(n_kv=2**63), "key-value"),
        "string_past_the_end": (raw_gguf([big_string]), "cut short"),
        "array_of_a_billion": (raw_gguf([huge_array]), "uint8 items"),
        "string_array_of_a_billion": (raw_gguf([string_array]), "string items"),
        "arrays_nested_deep": (raw_gguf([deep]), "nests"),
        "offset_past_the_end": (raw_gguf(tensors=[("w", [4, 2], 0, 2**40)], data=ok_data), "past the end"),
        "data_past_the_end": (raw_gguf(tensors=[("w", [4, 2], 0, 0)], data=ok_data[:20]), "needs bytes"),
        "hundred_dims": (raw_gguf(tensors=[("w", [1] * 100, 0, 0)], data=ok_data), "dimensions"),
        "numel_overflow": (raw_gguf(tensors=[("w", [2**40, 2**40], 0, 0)], data=ok_data), "too large"),
        "empty_but_huge": (raw_gguf(tensors=[("w", [0, 2**64 - 1], 8, 0)], data=ok_data), "too large"),
        "overlapping": (raw_gguf(tensors=[("a", [8], 0, 0), ("b", [8], 0, 0)], data=ok_data * 2), "overlap"),
        "misaligned": (raw_gguf(tensors=[("a", [2], 0, 4)], data=ok_data), "alignment"),
        "bad_alignment": (raw_gguf([kv_u32("general.alignment", 3)], [F32_TENSOR], ok_data), "alignment"),
        "partial_block": (raw_gguf(tensors=[("q", [16], 8, 0)], data=b"\0" * 64), "blocks"),
        "duplicate_tensor": (raw_gguf(tensors=[("a", [2], 0, 0), ("a", [2], 0, 32)], data=ok_data * 2), "twice"),
        "duplicate_key": (raw_gguf([kv_u32("k", 1), kv_u32("k", 2)], [F32_TENSOR], ok_data), "twice"),
        "unknown_value_type": (raw_gguf([_s("k") + struct.pack("<I", 77)]), "value type"),
        "long_name": (raw_gguf(tensors=[("x" * 70000, [2], 0, 0)], data=ok_data), "length"),
        "version_1": (raw_gguf(version=1), "version 1"),
        "version_99": (raw_gguf(version=99), "version 99"),
        "big_endian": (b"GGUF" + struct.pack(">IQQ", 3, 0, 0), "big-endian"),
    }


HOSTILE = _hostile()


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_header_refused_in_one_line(tmp_path, name):
    raw, word = HOSTILE[name]
    path = tmp_path / f"{name}.gguf"
    path.write_bytes(raw)
    with pytest.raises(CheckpointError) as err:
        open_checkpoint(path, "cpu").close()
    msg = str(err.value)
    assert "\n" not in msg and word.lower() in msg.lower(), msg
    assert len(msg) < 400


def test_every_truncation_is_refused_cleanly(model, tmp_path):
    path, _ = model
    raw = path.read_bytes()
    with open_checkpoint(path, "cpu") as ckpt:
        data_offset = ckpt.metadata["gguf_file"]["data_offset"]
    cuts = sorted({*range(0, 200, 7), *range(200, data_offset, 997), data_offset, len(raw) - 1})
    for cut in cuts:
        p = tmp_path / "cut.gguf"
        p.write_bytes(raw[:cut])
        if cut == 0:
            continue  # an empty file is refused by the sniffer
        with pytest.raises(CheckpointError):
            open_checkpoint(p, "cpu").close()


def test_names_with_control_characters_are_listed(tmp_path):
    ok_data = struct.pack("<8f", *range(8))
    names = ["a\nb.weight", "\x1b[2J\x1b]52;c;ZXZpbA==\x07.w", b"\xff\xfe.bad-utf8"]
    tensors = [(n, [2], 0, 32 * i) for i, n in enumerate(names)]
    path = tmp_path / "names.gguf"
    path.write_bytes(raw_gguf(tensors=tensors, data=ok_data * 4))
    with open_checkpoint(path, "cpu") as ckpt:
        assert list(ckpt.tensors)[:2] == ["a\nb.weight", "\x1b[2J\x1b]52;c;ZXZpbA==\x07.w"]
        assert "\ufffd" in list(ckpt.tensors)[2]
        assert ckpt.tensor("a\nb.weight").tolist() == [0.0, 1.0]


def test_unknown_ggml_type_is_listed_and_refuses_statistics(tmp_path):
    path = tmp_path / "unknown.gguf"
    path.write_bytes(raw_gguf(tensors=[("x", [64], 250, 0), F32_TENSOR[:3] + (64,)], data=b"\0" * 64 + b"\0" * 32))
    with open_checkpoint(path, "cpu") as ckpt:
        e = ckpt.tensors["x"]
        assert e.encoding == "GGML type 250 (unknown)" and e.nbytes == 64 and e.shape == (64,)
        assert any("cannot decode" in w for w in ckpt.warnings)
        with pytest.raises(CheckpointError, match="GGML type 250"):
            ckpt.tensor("x")
        assert ckpt.tensor("w").shape == (2, 4)


def test_long_strings_are_cut_for_display(tmp_path):
    text = "x" * 100_000
    path = tmp_path / "long.gguf"
    path.write_bytes(raw_gguf([_s("template") + struct.pack("<I", 8) + _s(text)]))
    with open_checkpoint(path, "cpu") as ckpt:
        shown = ckpt.metadata["gguf"]["template"]
    assert len(shown) < 10_000 and shown.endswith("(100,000 bytes)")


_CHILD = """
import sys
from ckptviewer.core import CheckpointError, open_checkpoint
for p in sys.argv[1:]:
    try:
        open_checkpoint(p, "cpu").close()
        print("listed", p)
    except CheckpointError as exc:
        print("refused", str(exc).splitlines()[0][:80])
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec
peak = [line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM")]
print("peak", peak[0])
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))  # as tests/hostile's children


def test_worst_cases_in_a_memory_limited_child(tmp_path):
    """Counts of 2**63, a billion-element array and strings past the end, in a process that
    may map only 3 GiB: each is refused, and the peak stays small."""
    paths = []
    for name in ("tensor_count_2_63", "kv_count_2_63", "array_of_a_billion", "string_array_of_a_billion",
                 "string_past_the_end", "numel_overflow", "hundred_dims"):  # fmt: skip
        p = tmp_path / f"{name}.gguf"
        p.write_bytes(HOSTILE[name][0])
        paths.append(str(p))
    r = subprocess.run([sys.executable, "-c", _CHILD, *paths], capture_output=True, text=True, timeout=120,
                       cwd=str(ROOT), preexec_fn=_limit_memory)  # fmt: skip
    assert r.returncode == 0, (r.stdout, r.stderr[-2000:])
    lines = r.stdout.splitlines()
    assert sum(line.startswith("refused") for line in lines) == len(paths), r.stdout
    assert int(lines[-1].split()[1]) < 150 << 10, r.stdout  # KiB (listing alone: ~25 MiB)


@pytest.mark.parametrize(
    "itype, item, cap", [(8, _s(""), "MAX_STRINGS"), (9, struct.pack("<IQ", 0, 0), "MAX_INNER_ARRAYS")]
)
def test_items_walked_one_by_one_are_capped_over_the_whole_header(tmp_path, monkeypatch, itype, item, cap):
    """Strings and inner arrays cost a step each: their total over every key is capped (time)."""
    monkeypatch.setattr(gguf_file, cap, 100)
    kvs = [_s(f"k{i}") + struct.pack("<IIQ", 9, itype, 60) + item * 60 for i in range(2)]
    path = tmp_path / "many.gguf"
    path.write_bytes(raw_gguf(kvs[:1]))
    with open_checkpoint(path, "cpu") as ckpt:
        assert ckpt.metadata["gguf"]["k0"]["length"] == 60
    path.write_bytes(raw_gguf(kvs))
    with pytest.raises(CheckpointError, match="more than 100"):
        open_checkpoint(path, "cpu")


def test_an_edited_gguf_keeps_its_metadata_and_still_maps_names(tmp_path):
    from ckptviewer.core.edits.select import drop

    g, st = _pair(tmp_path, "llama", permute=False)
    with open_checkpoint(g, "cpu") as a, open_checkpoint(st, "cpu") as b:
        edited, _ = drop(a, ["extra.*"])
        assert edited.metadata["gguf"]["general.architecture"] == "llama" and edited.format == "gguf"
        rep = diff(edited, b)
    assert rep.counts["identical"] == 7 and rep.counts["only_b"] == 1


def test_infinite_scales_give_inf_and_nan_values_without_numpy_warnings(tmp_path):
    import warnings

    block = np.float16("inf").tobytes() + bytes(range(32))  # a Q8_0 block: f16 scale, 32 int8 (inf * 0: NaN)
    path = tmp_path / "nan.gguf"
    path.write_bytes(raw_gguf(tensors=[("q", [32], 8, 0)], data=block))
    with open_checkpoint(path, "cpu") as ckpt, warnings.catch_warnings():
        warnings.simplefilter("error")
        t = ckpt.tensor("q")
    assert t.shape == (32,) and torch.isnan(t[0]) and torch.isinf(t[1:]).all()


def test_gguf_over_http_lists_and_computes_as_local(model, http_server, tmp_path, monkeypatch):
    """The same reader on a remote object (range requests through core.remote): listing, a
    plain tensor (file map through the block cache) and a block-type one (plain reads)."""
    from ckptviewer.core import remote

    monkeypatch.setenv("CKPT_CACHE_DIR", str(tmp_path / "cache"))
    remote.BlockCache._open.clear()
    path, _ = model
    (http_server.root / "model.gguf").write_bytes(path.read_bytes())
    url = f"{http_server.url}/model.gguf"
    with open_checkpoint(path, "cpu") as near, open_checkpoint(url, "cpu") as far:
        assert far.format == "gguf" and far.metadata == near.metadata
        assert [(e.key, e.shape, e.dtype_name, e.nbytes, e.encoding) for e in far.tensors.values()] == [
            (e.key, e.shape, e.dtype_name, e.nbytes, e.encoding) for e in near.tensors.values()
        ]
        for key in ("token_embd.weight", "blk.0.attn_q.weight", "blk.0.ffn_up.weight"):
            assert torch.equal(far.tensor(key), near.tensor(key)), key


def test_without_the_gguf_package_listing_works_and_the_rest_says_what_to_install(model, tmp_path, monkeypatch):
    path, weights = model
    g, st = _pair(tmp_path, "llama", permute=False)
    monkeypatch.setitem(sys.modules, "gguf", None)  # `import gguf` raises ImportError
    monkeypatch.setitem(sys.modules, "gguf.quants", None)
    with open_checkpoint(path, "cpu") as ckpt:
        assert torch.equal(ckpt.tensor("token_embd.weight"), torch.from_numpy(weights["token_embd.weight"]))
        with pytest.raises(CheckpointError, match=r"Q8_0: its values need the gguf package \(pip install"):
            ckpt.tensor("blk.0.attn_q.weight")
    with open_checkpoint(g, "cpu") as a, open_checkpoint(st, "cpu") as b:
        rep = diff(a, b)
    assert "not installed" in rep.notes[0] and rep.counts["identical"] == 1


def test_a_type_gguf_cannot_dequantize_is_listed_and_refused_in_one_line(tmp_path):
    path = tmp_path / "q8k.gguf"
    path.write_bytes(raw_gguf(tensors=[("k", [256], int(Q.Q8_K), 0)], data=b"\0" * 292))
    with open_checkpoint(path, "cpu") as ckpt:
        assert ckpt.tensors["k"].encoding == "Q8_K, 256-value blocks of 292 bytes"
        with pytest.raises(CheckpointError, match="Q8_K, which the installed gguf package cannot dequantize"):
            ckpt.tensor("k")
