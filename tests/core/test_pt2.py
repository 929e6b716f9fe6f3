"""torch.export ``.pt2`` archives written by ``torch.export.save``: listed without
torch.export.load, tensors equal to the exported module's, signature and operator counts
as metadata; damaged and hostile archives refused with one line."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from ckptviewer.core import CheckpointError, open_checkpoint
from ckptviewer.core.formats.pt2 import MAX_JSON, MAX_JSON_VALUES, is_pt2


class ConvBN(torch.nn.Module):
    """A small CNN: conv + batch norm (running statistics as buffers) + linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 8, 3)
        self.bn = torch.nn.BatchNorm2d(8)
        self.fc = torch.nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn(self.conv(x)))
        return self.fc(x.mean((2, 3)))


class Block(torch.nn.Module):
    """A transformer block with a non-persistent buffer (mask), a tensor constant (scale),
    a buffer that is a view into another one (storage offset), and tied weights."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = torch.nn.Embedding(10, 16)
        self.attn = torch.nn.MultiheadAttention(16, 2, batch_first=True)
        self.ln = torch.nn.LayerNorm(16)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(16, 32), torch.nn.GELU(), torch.nn.Linear(32, 16))
        self.head = torch.nn.Linear(16, 10, bias=False)
        self.head.weight = self.embed.weight  # tied
        self.register_buffer("mask", torch.triu(torch.ones(5, 5), 1).bool(), persistent=False)
        self.register_buffer("table", torch.arange(12.0))
        self.register_buffer("tail", self.table[4:10])  # a view: one record, an offset
        self.scale = torch.tensor([0.5, 2.0])  # a tensor constant (neither parameter nor buffer)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.embed(ids)
        a, _ = self.attn(x, x, x, attn_mask=self.mask)
        x = self.ln(x + a)
        x = x + self.mlp(x) * self.scale[0] + self.tail.sum() + self.table.mean()
        return self.head(x)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict[str, tuple[Path, torch.nn.Module, torch.export.ExportedProgram]]:
    """One .pt2 of each model, written once for the module (torch.export takes ~1 s)."""
    folder = tmp_path_factory.mktemp("pt2")
    torch.manual_seed(0)
    cnn = ConvBN().eval()
    with torch.no_grad():
        cnn.bn.running_mean.normal_()
        cnn.bn.running_var.uniform_(0.5, 2)
        cnn.bn.weight.normal_()
        cnn.bn.num_batches_tracked.fill_(7)
    block = Block().eval()
    out = {}
    for name, model, args in (
        ("cnn", cnn, (torch.randn(1, 3, 8, 8),)),
        ("block", block, (torch.randint(0, 10, (1, 5)),)),
    ):
        ep = torch.export.export(model, args)
        path = folder / f"{name}.pt2"
        torch.export.save(ep, path)
        out[name] = (path, model, ep)
    return out


def test_is_pt2_tells_export_archives_from_torch_save_zips(exported, tmp_path):
    assert is_pt2(exported["cnn"][0])
    plain = tmp_path / "sd.pth"
    torch.save(ConvBN().state_dict(), plain)
    assert not is_pt2(plain)
    (tmp_path / "junk.pt2").write_bytes(b"PK\x03\x04 not a zip")
    assert not is_pt2(tmp_path / "junk.pt2")


@pytest.mark.parametrize("name", ["cnn", "block"])
def test_tensors_are_the_modules_state_dict_and_constants(exported, name):
    path, model, ep = exported[name]
    expected = dict(model.state_dict())
    expected.update(ep.constants)  # the non-persistent buffer and the tensor constant
    with open_checkpoint(path, device="cpu") as ckpt:
        assert ckpt.format == "torch-export"
        assert set(ckpt.tensors) == set(expected), set(ckpt.tensors) ^ set(expected)
        for key, t in expected.items():
            entry = ckpt.tensors[key]
            assert entry.shape == tuple(t.shape) and entry.dtype == t.dtype, key
            got = ckpt.tensor(key)
            assert torch.equal(got, t), key
        assert ckpt.saved_on == ["cpu"]
        assert ckpt.state_dict_key == ""


def test_conv_bn_buffers_and_parameters(exported):
    path, model, _ = exported["cnn"]
    with open_checkpoint(path, device="cpu") as ckpt:
        assert ckpt.tensors["bn.running_var"].role == "buffer"
        assert ckpt.tensors["bn.num_batches_tracked"].role == "buffer"
        assert ckpt.tensors["conv.weight"].role == "parameter"
        assert ckpt.tensor("bn.num_batches_tracked").item() == 7
        assert ckpt.tensors["conv.weight"].source.is_parameter
        assert not ckpt.tensors["bn.running_mean"].source.is_parameter
        assert ckpt.n_parameters == sum(p.numel() for p in model.parameters())


def test_non_persistent_buffers_and_constants_are_not_counted_as_parameters(exported):
    path, model, _ = exported["block"]
    with open_checkpoint(path, device="cpu") as ckpt:
        roles = {k: e.role for k, e in ckpt.tensors.items()}
        assert roles["mask"] == roles["scale"] == roles["table"] == roles["tail"] == "buffer", roles
        assert roles["embed.weight"] == roles["ln.weight"] == "parameter"
        assert ckpt.n_parameters == sum(p.numel() for p in model.parameters())


def test_aliasing_is_kept_tied_weights_and_views_share_one_record(exported):
    path, model, _ = exported["block"]
    with open_checkpoint(path, device="cpu") as ckpt:
        tail, table = ckpt.tensors["tail"], ckpt.tensors["table"]
        assert tail.storage_key == table.storage_key and tail.source.offset == 4
        assert torch.equal(ckpt.tensor("tail"), model.tail)
        assert ckpt.tensors["head.weight"].storage_key == ckpt.tensors["embed.weight"].storage_key


def test_metadata_signature_operators_and_versions(exported):
    path, _, ep = exported["block"]
    with open_checkpoint(path, device="cpu") as ckpt:
        meta = ckpt.metadata["torch.export"]
    json.dumps(meta, allow_nan=False)  # JSON-safe
    assert meta["archive_version"] == "0"
    assert meta["schema_version"] == "{}.{}".format(*torch._export.serde.schema.SCHEMA_VERSION)
    assert meta["torch_version"] == torch.__version__
    sig = meta["signature"]
    inputs = sig["inputs"]
    params = {s.arg.name: s.target for s in ep.graph_signature.input_specs if s.kind.name == "PARAMETER"}
    assert inputs["parameter"] == params and "embed.weight" in params.values()
    assert inputs["buffer"] == {"b_mask": "mask", "b_table": "table", "b_tail": "tail"}
    assert inputs["constant"] == {"c_scale": "scale"}
    assert inputs["user input"] == ["ids"]
    assert sig["outputs"]["user output"] == [ep.graph_signature.user_outputs[0]]
    assert sig["non-persistent buffers"] == ["mask"]
    expected: dict[str, int] = {}
    for node in ep.graph.nodes:
        if node.op == "call_function":
            op = str(node.target).removeprefix("torch.ops.")
            expected[op] = expected.get(op, 0) + 1
    assert meta["operators"] == expected
    assert meta["nodes"] == sum(expected.values())
    assert list(meta["operators"].values()) == sorted(meta["operators"].values(), reverse=True)


def test_conv_operator_counted(exported):
    with open_checkpoint(exported["cnn"][0], device="cpu") as ckpt:
        ops = ckpt.metadata["torch.export"]["operators"]
    assert ops["aten.conv2d.default"] == 1 and ops["aten.batch_norm.default"] == 1


# -- damaged and hostile archives ------------------------------------------------------------


def _records(src: Path) -> tuple[str, dict[str, bytes]]:
    with zipfile.ZipFile(src) as zf:
        names = zf.namelist()
        prefix = names[0].split("/", 1)[0]
        return prefix, {n.split("/", 1)[1]: zf.read(n) for n in names}


def _rewrite(src: Path, dst: Path, change: Callable[[dict[str, bytes]], None], deflate: tuple[str, ...] = ()) -> Path:
    """``src`` rewritten with Python's zipfile after ``change`` edited its records (inner names)."""
    prefix, records = _records(src)
    change(records)
    with zipfile.ZipFile(dst, "w") as zf:
        for name, data in records.items():
            method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
            zf.writestr(f"{prefix}/{name}", data, compress_type=method)
    return dst


def _edit_json(name: str, edit: Callable[[dict], None]) -> Callable[[dict[str, bytes]], None]:
    def change(records: dict[str, bytes]) -> None:
        doc = json.loads(records[name])
        edit(doc)
        records[name] = json.dumps(doc).encode()

    return change


def _set(records: dict[str, bytes], name: str, data: bytes) -> None:
    records[name] = data


WEIGHTS = "data/weights/model_weights_config.json"
MODEL = "models/model.json"


def _first(doc: dict) -> dict:
    return next(iter(doc["config"].values()))


HOSTILE: dict[str, tuple[Callable[[dict[str, bytes]], None], tuple[str, ...], tuple[str, ...]]] = {
    # name: (change, words of the one-line error, deflated records)
    "garbage model json": (
        lambda r: _set(r, MODEL, b"\xff\xfe{{{ not json"),
        ("models/model.json", "not valid JSON"),
        (),
    ),
    "model json nested deeply": (lambda r: _set(r, MODEL, b"[" * 200_000), ("not valid JSON",), ()),
    "million-node model json": (
        lambda r: _set(r, MODEL, b'{"nodes": [' + b"{}," * (MAX_JSON_VALUES // 2) + b"{}]}"),
        ("JSON values", "refusing"),
        (),
    ),
    "unknown schema version": (
        _edit_json(MODEL, lambda d: d.update(schema_version={"major": 99, "minor": 1})),
        ("schema version 99.1 is not supported", "this build reads schema version 8"),
        (),
    ),
    "model json not an object": (lambda r: _set(r, MODEL, b"[]"), ("not a JSON object",), ()),
    "unknown archive version": (
        lambda r: _set(r, "archive_version", b"7"),
        ("archive of version '7' is not supported", "reads archive version 0"),
        (),
    ),
    "not pt2 format": (lambda r: _set(r, "archive_format", b"xyz"), ("not a torch.export archive",), ()),
    "big-endian": (lambda r: _set(r, "byteorder", b"big"), ("byte order 'big'",), ()),
    "shape past the record": (
        _edit_json(
            WEIGHTS,
            lambda d: _first(d)["tensor_meta"].update(
                sizes=[{"as_int": 1000}, {"as_int": 1000}], strides=[{"as_int": 1000}, {"as_int": 1}]
            ),
        ),
        ("needs 1000000 elements", "record holds 216"),
        (),
    ),
    "offset past the record": (
        _edit_json(WEIGHTS, lambda d: _first(d)["tensor_meta"].update(storage_offset={"as_int": 1 << 40})),
        ("record holds 216",),
        (),
    ),
    "negative size": (
        _edit_json(WEIGHTS, lambda d: _first(d)["tensor_meta"].update(sizes=[{"as_int": -1}])),
        ("invalid sizes",),
        (),
    ),
    "symbolic size": (
        _edit_json(WEIGHTS, lambda d: _first(d)["tensor_meta"].update(sizes=[{"as_expr": {"expr_str": "s0"}}])),
        ("invalid sizes",),
        (),
    ),
    "unknown dtype": (_edit_json(WEIGHTS, lambda d: _first(d)["tensor_meta"].update(dtype=77)), ("unknown dtype",), ()),
    "sparse layout": (
        _edit_json(WEIGHTS, lambda d: _first(d)["tensor_meta"].update(layout=1)),
        ("layout '1'", "only strided"),
        (),
    ),
    "missing record": (
        _edit_json(WEIGHTS, lambda d: _first(d).update(path_name="weight_999")),
        ("weight_999", "missing"),
        (),
    ),
    "path traversal record": (
        _edit_json(WEIGHTS, lambda d: _first(d).update(path_name="../../models/model.json")),
        ("no valid record name",),
        (),
    ),
    "escape codes in a record name": (
        _edit_json(WEIGHTS, lambda d: _first(d).update(path_name="w\n\x1b[31mred\x07")),
        ("\\n\\x1b[31mred\\x07", "missing"),
        (),
    ),
    "weights config garbage": (lambda r: _set(r, WEIGHTS, b"\x00" * 100), ("not valid JSON",), ()),
    "weights config without config": (lambda r: _set(r, WEIGHTS, b'{"x": 1}'), ("no 'config' object",), ()),
    "weights config missing": (lambda r: r.pop(WEIGHTS), ("no 'data/weights/model_weights_config.json'",), ()),
    "compressed weight": (lambda r: None, ("compressed", "never compresses"), ("data/weights/weight_0",)),
    "compressed model json": (lambda r: None, ("compressed",), (MODEL,)),
    "no program": (lambda r: r.pop(MODEL), ("without a models/*.json",), ()),
}


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_archive_is_one_clear_line(exported, tmp_path, case):
    change, words, deflate = HOSTILE[case]
    path = _rewrite(exported["cnn"][0], tmp_path / "bad.pt2", change, deflate)
    with pytest.raises(CheckpointError) as err, open_checkpoint(path, device="cpu") as ckpt:
        for key in ckpt.tensors:  # data errors surface when the bytes are asked for
            ckpt.tensor(key)
    message = str(err.value)
    assert "\n" not in message and "\x1b" not in message, message
    for word in words:
        assert word in message, message


def test_huge_model_json_is_refused_by_its_size(exported, tmp_path):
    path = _rewrite(exported["cnn"][0], tmp_path / "huge.pt2", lambda r: _set(r, MODEL, b" " * (MAX_JSON + 1)))
    with pytest.raises(CheckpointError, match="larger than the 128 MiB limit"):
        open_checkpoint(path, device="cpu")


def test_truncated_archive(exported, tmp_path):
    data = exported["cnn"][0].read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        path = tmp_path / f"cut{cut}.pt2"
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match="truncated") as err:
            open_checkpoint(path, device="cpu")
        assert "\n" not in str(err.value)


def test_local_header_past_the_end_is_refused(exported, tmp_path):
    """A central directory that places a weight's record past the end of the file."""
    path = _rewrite(exported["cnn"][0], tmp_path / "far.pt2", lambda r: None)
    data = bytearray(path.read_bytes())
    name = b"/data/weights/weight_0"
    central = data.find(b"PK\x01\x02")  # the central directory entry naming that record
    while central >= 0 and name not in data[central + 46 : central + 46 + 80]:
        central = data.find(b"PK\x01\x02", central + 4)
    assert central > 0
    struct.pack_into("<I", data, central + 42, len(data) + 1000)
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"weight_0.*past the end") as err:
        open_checkpoint(path, device="cpu")
    assert "\n" not in str(err.value)


def test_names_with_newlines_and_escape_codes_are_kept_as_data(exported, tmp_path):
    evil = "evil\n\x1b]52;c;aGk=\x07.weight"

    def change(records: dict[str, bytes]) -> None:
        doc = json.loads(records[WEIGHTS])
        doc["config"][evil] = doc["config"].pop("conv.weight")
        records[WEIGHTS] = json.dumps(doc).encode()
        model = json.loads(records[MODEL])
        model["graph_module"]["signature"]["input_specs"][0]["parameter"]["parameter_name"] = evil
        model["graph_module"]["graph"]["nodes"][0]["target"] = "torch.ops.\x1b[2J" + "x" * 5000
        records[MODEL] = json.dumps(model).encode()

    path = _rewrite(exported["cnn"][0], tmp_path / "names.pt2", change)
    with open_checkpoint(path, device="cpu") as ckpt:
        assert evil in ckpt.tensors
        assert ckpt.tensor(evil).shape == (8, 3, 3, 3)
        meta = ckpt.metadata["torch.export"]
    assert meta["signature"]["inputs"]["parameter"]["p_conv_weight"] == evil
    ops = [op for op in meta["operators"] if op.startswith("\x1b[2J")]
    assert len(ops) == 1 and len(ops[0]) <= 200  # kept as data, cut to a displayable length


def _pickled_entry(payload: bytes, meta: bool = True) -> Callable[[dict[str, bytes]], None]:
    """conv.weight stored the way torch.export.save stores a tensor subclass: a torch.save record."""

    def change(records: dict[str, bytes]) -> None:
        doc = json.loads(records[WEIGHTS])
        entry = doc["config"]["conv.weight"]
        entry.update(use_pickle=True, path_name="weight_99")
        if not meta:
            entry["tensor_meta"] = None
        records[WEIGHTS] = json.dumps(doc).encode()
        records["data/weights/weight_99"] = payload

    return change


def test_pickled_tensor_goes_through_the_restricted_unpickler(exported, tmp_path):
    model = exported["cnn"][1]
    buf = io.BytesIO()
    torch.save(model.conv.weight.detach(), buf)
    path = _rewrite(exported["cnn"][0], tmp_path / "pickled.pt2", _pickled_entry(buf.getvalue()))
    with open_checkpoint(path, device="cpu") as ckpt:
        assert torch.equal(ckpt.tensor("conv.weight"), model.conv.weight)


class Payload:
    """What a hostile pickle would run: writes a marker file."""

    marker: Path

    def __reduce__(self):
        return (Path.write_text, (Payload.marker, "ran"))


def test_hostile_pickled_record_runs_nothing(exported, tmp_path):
    Payload.marker = tmp_path / "marker"
    buf = io.BytesIO()
    torch.save({"x": Payload()}, buf)
    for meta in (True, False):
        path = _rewrite(exported["cnn"][0], tmp_path / f"evil{meta}.pt2", _pickled_entry(buf.getvalue(), meta))
        with open_checkpoint(path, device="cpu") as ckpt:
            assert "conv.weight" not in ckpt.tensors and "bn.weight" in ckpt.tensors
            if meta:
                assert any("pickled tensor subclass" in w for w in ckpt.warnings)
            else:
                assert ckpt.metadata["torch.export"]["custom objects (not read)"] == ["conv.weight"]
    assert not Payload.marker.exists()


def test_statistics_equal_those_of_the_modules_state_dict(exported):
    """What `ckpt stats` computes, over the archive's mapped bytes and over the module's tensors."""
    from ckptviewer.core.stats import tensor_stats

    path, model, ep = exported["block"]
    expected = {**model.state_dict(), **ep.constants}
    with open_checkpoint(path, device="cpu") as ckpt:
        for key, t in expected.items():
            got, want = tensor_stats(ckpt.tensor(key), key), tensor_stats(t, key)
            assert got == want, key


def test_remote_archive_lists_by_range_requests_and_reads_the_same_bytes(exported, http_server, tmp_path, monkeypatch):
    """Over http:// (a Range server): the same listing, metadata and tensors as the local file."""
    from ckptviewer.core import remote

    monkeypatch.setenv("CKPT_CACHE_DIR", str(tmp_path / "cache"))
    remote.BlockCache._open.clear()
    path, model, ep = exported["block"]
    (http_server.root / path.name).write_bytes(path.read_bytes())
    with open_checkpoint(path, device="cpu") as local, open_checkpoint(f"{http_server.url}/{path.name}") as far:
        assert far.format == "torch-export"
        assert [(e.key, e.shape, e.dtype_name) for e in far.tensors.values()] == [
            (e.key, e.shape, e.dtype_name) for e in local.tensors.values()
        ]
        assert far.metadata == local.metadata
        gets = [r for r in http_server.log if r.method == "GET"]
        assert gets and all(r.range is not None for r in gets)
        for key, t in {**model.state_dict(), **ep.constants}.items():
            assert torch.equal(far.tensor(key), t), key


def test_legacy_layout_one_torch_save_of_the_state_dict(exported, tmp_path):
    """Archives of older torch keep the weights as one torch.save record (data/weights/model.pt)."""
    model = exported["cnn"][1]
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)

    def legacy(records: dict[str, bytes]) -> None:
        for name in [n for n in records if n.startswith("data/weights/")]:
            del records[name]
        records["data/weights/model.pt"] = buf.getvalue()

    path = _rewrite(exported["cnn"][0], tmp_path / "legacy.pt2", legacy)
    with open_checkpoint(path, device="cpu") as ckpt:
        assert list(ckpt.tensors) == list(model.state_dict())
        for key, t in model.state_dict().items():
            assert torch.equal(ckpt.tensor(key), t), key


def test_a_program_exported_on_cuda_opens_on_the_cpu(exported, tmp_path):
    """The tensor meta says where each weight lived (device cuda:0): shown as saved on, mapped on the CPU."""

    def on_cuda(doc: dict) -> None:
        for entry in doc["config"].values():
            entry["tensor_meta"]["device"] = {"type": "cuda", "index": 0}

    path = _rewrite(exported["cnn"][0], tmp_path / "cuda.pt2", _edit_json(WEIGHTS, on_cuda))
    model = exported["cnn"][1]
    with open_checkpoint(path, device="cpu") as ckpt:
        assert ckpt.saved_on == ["cuda:0"]
        assert ckpt.tensors["conv.weight"].location == "cuda:0"
        assert torch.equal(ckpt.tensor("conv.weight"), model.conv.weight)


def test_extra_files_are_listed_as_data(tmp_path):
    ep = torch.export.export(torch.nn.Linear(2, 2), (torch.randn(1, 2),))
    path = tmp_path / "extra.pt2"
    extra = {"notes.txt": "trained on\x1b[31m red", "big.bin": "x" * 5000}
    torch.export.save(ep, path, extra_files=extra)
    with open_checkpoint(path, device="cpu") as ckpt:
        meta = ckpt.metadata["torch.export"]
        assert set(ckpt.tensors) == {"weight", "bias"}
    assert meta["extra files"] == {"notes.txt": "trained on\x1b[31m red", "big.bin": "<5000 bytes>"}


def test_a_small_record_over_its_limit_says_bytes(exported, tmp_path):
    path = _rewrite(exported["cnn"][0], tmp_path / "v.pt2", lambda r: _set(r, "archive_version", b"0" * 100))
    with pytest.raises(CheckpointError, match="of 100 bytes is larger than the 64-byte limit"):
        open_checkpoint(path, device="cpu")
