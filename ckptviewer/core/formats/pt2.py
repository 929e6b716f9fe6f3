"""Reader for torch.export ``.pt2`` archives (``torch.export.save``), without running
torch.export.load (which unpickles with ``weights_only=False``).

The archive is a zip written by torch's own zip writer: ``archive_format`` ("pt2"),
``archive_version``, and per exported program ``models/NAME.json`` (the serialized graph:
signature, nodes, schema and torch versions), ``data/weights/NAME_weights_config.json``
and ``data/constants/NAME_constants_config.json`` (state_dict / constant name ->
record + tensor meta) and the records themselves (``data/weights/weight_N``: the raw bytes
of one storage, shared by the tensors that alias it). Records are listed with Python's
zipfile over ``path.open("rb")`` and must be stored uncompressed; tensor bytes are views of
the file's private map (``core.filemap``), served only once torch's own zip reader has been
checked to locate them where we did. Tensors torch pickled (subclasses, the legacy
``data/weights/NAME.pt``) go through the restricted unpickler of ``torch_zip``; custom
objects are never read. JSON is size- and count-limited before it is parsed.
"""

from __future__ import annotations

import json
import math
import struct
import threading
import zipfile
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..dtype_names import itemsize
from ..errors import CheckpointError
from ..filemap import file_size, is_remote, map_file, view
from ..lazy import LazyTensor, StorageRef
from . import Loaded

if TYPE_CHECKING:
    import torch

PT2 = "torch-export"

ARCHIVE_VERSIONS = ("0",)  # torch.export.pt2_archive.constants.ARCHIVE_VERSION_VALUE
SCHEMA_MAJORS = (8,)  # torch._export.serde.schema.SCHEMA_VERSION[0] of the layout read here

MAX_JSON = 128 << 20  # the serialized graph of a 70B LLM is tens of MB (stack traces included)
MAX_JSON_VALUES = 4_000_000  # ~100,000 graph nodes; bounds the objects json.loads would build
MAX_MODELS = 64
MAX_ENTRIES = 1_000_000  # weights + constants of one model
MAX_RECORDS = 2_000_000  # zip records
MAX_TEXT = 1000  # characters of one name or string kept for the metadata panel
MAX_LISTED = 10_000  # signature entries listed (the rest counted)
MAX_OPERATORS = 2000  # distinct operator names counted
MAX_DIMS = 64
MAX_EXTRA = 100  # extra files listed

# torch._export.serde.schema.ScalarType -> torch dtype name
SCALAR_TYPES = {
    1: "uint8", 2: "int8", 3: "int16", 4: "int32", 5: "int64", 6: "float16", 7: "float32", 8: "float64",
    9: "complex32", 10: "complex64", 11: "complex128", 12: "bool", 13: "bfloat16", 28: "uint16",
    29: "float8_e4m3fn", 30: "float8_e5m2", 31: "float8_e4m3fnuz", 32: "float8_e5m2fnuz", 33: "float8_e8m0fnu",
    34: "uint32", 35: "uint64",
}  # fmt: skip
STRIDED = 7  # schema.Layout.Strided

# graph-signature input kinds (schema.InputSpec) -> the field naming what they map to
INPUT_TARGETS = {
    "user_input": None,
    "parameter": "parameter_name",
    "buffer": "buffer_name",
    "tensor_constant": "tensor_constant_name",
    "custom_obj": "custom_obj_name",
    "token": None,
    "constant_input": None,
}
# how the metadata panel names each kind
KIND_LABELS = {
    "user_input": "user input", "parameter": "parameter", "buffer": "buffer", "tensor_constant": "constant",
    "custom_obj": "custom object", "token": "token", "constant_input": "constant input",
    "user_output": "user output", "loss_output": "loss output", "buffer_mutation": "buffer mutation",
    "gradient_to_parameter": "gradient to parameter", "gradient_to_user_input": "gradient to user input",
    "user_input_mutation": "user input mutation", "parameter_mutation": "parameter mutation",
}  # fmt: skip
OUTPUT_TARGETS = {
    "user_output": None,
    "loss_output": None,
    "buffer_mutation": "buffer_name",
    "gradient_to_parameter": "parameter_name",
    "gradient_to_user_input": "user_input_name",
    "user_input_mutation": "user_input_name",
    "token": None,
    "parameter_mutation": "parameter_name",
}


def _inner(name: str) -> str:
    """A record's name without the archive's root folder (torch's reader drops it too)."""
    return name.split("/", 1)[1] if "/" in name else ""


def is_pt2(path: Path) -> bool:
    """Whether the zip at ``path`` is a torch.export archive (told from its record names)."""
    try:
        with path.open("rb") as f, zipfile.ZipFile(f) as zf:
            names = zf.namelist()
    except Exception:  # zipfile raises many kinds on a damaged directory: not ours to judge
        return False
    inner = {_inner(n) for n in names}
    return "archive_format" in inner or any(n.startswith("models/") and n.endswith(".json") for n in inner)


class Pt2Archive:
    """The archive's records (zipfile's reading), their bytes, and tensor bytes from a private map."""

    def __init__(self, path: Path, size: int) -> None:
        self.path, self.size = path, size
        self._lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None
        self._checked: dict[str, int] = {}  # record -> data offset torch's reader agreed on
        self._reader: Any = None
        self._reader_file: Any = None  # a remote object's file under torch's reader, closed with the archive
        self.entries = self._list()
        self._offsets: dict[str, int] = {}

    def _list(self) -> dict[str, zipfile.ZipInfo]:
        try:
            with self.path.open("rb") as f, zipfile.ZipFile(f) as zf:
                infos = zf.infolist()
        except Exception as exc:  # zipfile raises many kinds (BadZipFile, NotImplementedError, ...)
            raise CheckpointError(
                f"{self.path}: the torch.export archive's zip directory is damaged ({_line(exc)})"
            ) from None
        if len(infos) > MAX_RECORDS:
            raise CheckpointError(f"{self.path}: the archive holds {len(infos)} records (more than {MAX_RECORDS})")
        entries: dict[str, zipfile.ZipInfo] = {}
        starts: set[int] = set()
        for info in infos:
            name = _inner(info.filename)
            if not name:
                continue
            if name in entries:
                raise CheckpointError(f"{self.path}: the zip holds two records named {_show(name)}; refusing it")
            # torch.export.save writes each record once: directory entries sharing one record's bytes
            # (aliases) would make a small file list and parse the same JSON thousands of times
            if info.header_offset in starts:
                raise CheckpointError(
                    f"{self.path}: two zip records share the same bytes (a crafted archive); refusing it"
                )
            starts.add(info.header_offset)
            entries[name] = info
        return entries

    def info(self, name: str) -> zipfile.ZipInfo:
        """The record ``name``, which must be stored uncompressed."""
        info = self.entries.get(name)
        if info is None:
            raise CheckpointError(f"{self.path}: the torch.export archive has no record {_show(name)}")
        if info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size:
            raise CheckpointError(
                f"{self.path}: record {_show(name)} is compressed; torch.export.save never compresses records, "
                "refusing it"
            )
        return info

    def offset(self, name: str) -> int:
        """Where record ``name``'s bytes start in the file (after its local header), checked to fit."""
        known = self._offsets.get(name)
        if known is not None:
            return known
        info = self.info(name)
        bad = CheckpointError(f"{self.path}: damaged zip record {_show(name)} (its local header is missing)")
        if not 0 <= info.header_offset <= self.size - 30:
            raise bad
        with self.path.open("rb") as f:
            f.seek(info.header_offset)
            header = f.read(30)
        if len(header) != 30 or header[:4] != b"PK\x03\x04":
            raise bad
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        if start + info.file_size > self.size:
            raise CheckpointError(f"{self.path}: record {_show(name)} runs past the end of the file (truncated?)")
        self._offsets[name] = start
        return start

    def read(self, name: str, limit: int) -> bytes:
        """The bytes of a small record (JSON, a version), refused above ``limit`` bytes."""
        info = self.info(name)
        if info.file_size > limit:
            raise CheckpointError(
                f"{self.path}: record {_show(name)} of {info.file_size} bytes is larger than the "
                + (f"{limit >> 20} MiB limit" if limit >= 1 << 20 else f"{limit}-byte limit")
            )
        start = self.offset(name)
        with self.path.open("rb") as f:
            f.seek(start)
            data = f.read(info.file_size)
        if len(data) != info.file_size:
            raise CheckpointError(f"{self.path}: record {_show(name)} is cut short")
        return data

    # StorageSource

    def file_offset(self, ref: StorageRef) -> int:
        """Where the bytes of ``ref`` start in the file."""
        return self.offset(ref.key) + ref.byte_offset

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref``: a view of the file's private memory map."""
        stop = ref.nbytes if stop is None else stop
        first = self.file_offset(ref)
        if not 0 <= start <= stop <= ref.nbytes or first + ref.nbytes > self.size:
            raise CheckpointError(f"{self.path}: record {_show(ref.key)} runs past the end of the file (truncated?)")
        self._agree(ref.key, first - ref.byte_offset)
        with self._lock:
            if self._file_storage is None:
                self._file_storage = map_file(self.path, self.size)
        size = dtype.itemsize if dtype is not None else itemsize(ref.dtype_name)
        return view(self._file_storage, self.path, first + start, stop - start, size)

    def _agree(self, name: str, offset: int) -> None:
        """torch's own zip reader (what torch.export.load uses) finds the record where we do.

        A crafted zip read differently by two readers would show bytes torch never loads.
        """
        with self._lock:
            if self._checked.get(name) == offset:
                return
            try:
                if self._reader is None:
                    import torch

                    source: Any = str(self.path)
                    if is_remote(self.path):
                        source = self._reader_file = self.path.open("rb")
                    reader = torch._C.PyTorchFileReader(source)
                    if set(reader.get_all_records()) != set(self.entries):
                        raise CheckpointError(
                            f"{self.path}: the zip's records are read differently by different zip readers; refusing it"
                        )
                    self._reader = reader
                theirs = int(self._reader.get_record_offset(name))
            except (RuntimeError, UnicodeDecodeError, ValueError) as exc:
                raise CheckpointError(f"{self.path}: torch's zip reader refuses the archive ({_line(exc)})") from None
            if theirs != offset:
                raise CheckpointError(
                    f"{self.path}: zip record {_show(name)} is located differently by different zip readers "
                    "(a crafted archive); refusing it"
                )
            self._checked[name] = offset

    def close(self) -> None:
        """Drop torch's reader and the map (tensors already handed out keep theirs)."""
        with self._lock:
            self._reader = None
            self._file_storage = None
            if self._reader_file is not None:
                self._reader_file.close()
                self._reader_file = None


def load_pt2(path: Path, size: int) -> Loaded:
    """List a .pt2 archive: weights, buffers and constants under their state_dict names.

    ``extra_metadata["torch.export"]`` holds the versions, the graph signature and the
    operator counts of each exported program.
    """
    archive = Pt2Archive(path, size)
    closers: list[Any] = [archive.close]

    fmt = archive.read("archive_format", 64) if "archive_format" in archive.entries else b""
    if fmt != b"pt2":
        raise CheckpointError(f"{path}: not a torch.export archive (archive_format is {_show(fmt[:20])})")
    version = (
        archive.read("archive_version", 64).decode("ascii", "replace") if "archive_version" in archive.entries else "0"
    )
    if version not in ARCHIVE_VERSIONS:
        raise CheckpointError(
            f"{path}: torch.export archive of version {_show(version[:20])} is not supported "
            f"(this build reads archive version {', '.join(ARCHIVE_VERSIONS)})"
        )
    if "byteorder" in archive.entries:
        order = archive.read("byteorder", 64)
        if order != b"little":
            raise CheckpointError(f"{path}: torch.export archive of byte order {_show(order[:20])} is not supported")

    models = sorted(n[len("models/") : -len(".json")] for n in archive.entries if _is_model(n))
    if not models:
        if any(n.startswith("data/aotinductor/") for n in archive.entries):
            raise CheckpointError(
                f"{path}: an AOTInductor package (compiled model code) without an exported program; "
                "ckptviewer reads torch.export.save archives"
            )
        raise CheckpointError(f"{path}: a torch.export archive without a models/*.json program")
    if len(models) > MAX_MODELS:
        raise CheckpointError(f"{path}: the archive holds {len(models)} programs (more than {MAX_MODELS})")

    root: dict[str, Any] = {}
    locations: set[str] = set()
    warnings: list[str] = []
    described: dict[str, Any] = {}
    for model in models:
        prefix = "" if len(models) == 1 else f"{model}."
        info = _program(archive, model)
        tensors, custom = _payloads(archive, model, locations, warnings, closers)
        if custom:
            info["custom objects (not read)"] = custom
        for name, tensor in tensors.items():
            root[prefix + name] = tensor
        described[model] = info
    meta: dict[str, Any] = {"archive_version": version}
    if len(models) == 1:
        meta.update(described[models[0]])
        if models[0] != "model":
            meta["program"] = models[0]
    else:
        meta["programs"] = described
    extra = _extra_files(archive)
    if extra:
        meta["extra files"] = extra

    def close() -> None:
        for fn in closers:
            fn()

    return Loaded(
        format=PT2,
        root=root,
        locations=locations,
        warnings=warnings,
        extra_metadata={"torch.export": meta},
        close=close,
        files=[path],
    )


def _extra_files(archive: Pt2Archive) -> dict[str, Any]:
    """``extra_files`` given to torch.export.save (``extra/NAME``): short UTF-8 text shown, else its size."""
    out: dict[str, Any] = {}
    names = [n for n in archive.entries if n.startswith("extra/")]
    for name in names[:MAX_EXTRA]:
        info = archive.entries[name]
        shown: Any = f"<{info.file_size} bytes>"
        if info.file_size <= MAX_TEXT and info.compress_type == zipfile.ZIP_STORED:
            try:
                shown = archive.read(name, MAX_TEXT).decode("utf-8")
            except (CheckpointError, UnicodeDecodeError):
                pass  # damaged or binary: its size says enough
        out[_text(name[len("extra/") :])] = shown
    if len(names) > MAX_EXTRA:
        out["…"] = f"{len(names) - MAX_EXTRA} more"
    return out


def _is_model(name: str) -> bool:
    stem = name[len("models/") : -len(".json")] if name.startswith("models/") and name.endswith(".json") else ""
    return bool(stem) and "/" not in stem


def _json(archive: Pt2Archive, name: str) -> Any:
    """A JSON record, refused by size and by a count of its values before it is parsed."""
    raw = archive.read(name, MAX_JSON)
    # every value but the first of a container follows a comma: this bounds the objects
    # json.loads would build (a million tiny nodes cost gigabytes of dicts)
    values = raw.count(b",") + raw.count(b"[") + raw.count(b"{")
    if values > MAX_JSON_VALUES:
        raise CheckpointError(
            f"{archive.path}: record {_show(name)} holds about {values} JSON values (more than {MAX_JSON_VALUES}); "
            "refusing it"
        )
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = "nested too deeply" if isinstance(exc, RecursionError) else _line(exc)[:100]
        raise CheckpointError(f"{archive.path}: record {_show(name)} is not valid JSON ({why})") from None


def _program(archive: Pt2Archive, model: str) -> dict[str, Any]:
    """Versions, graph signature and operator counts of ``models/MODEL.json``."""
    name = f"models/{model}.json"
    doc = _json(archive, name)
    bad = _bad(archive, name)
    if not isinstance(doc, dict):
        raise bad("is not a JSON object")
    schema = doc.get("schema_version")
    major = schema.get("major") if isinstance(schema, dict) else None
    minor = schema.get("minor") if isinstance(schema, dict) else None
    if type(major) is not int or type(minor) is not int:
        raise bad("has no schema version")
    if major not in SCHEMA_MAJORS:
        raise CheckpointError(
            f"{archive.path}: torch.export archive of schema version {major}.{minor} is not supported "
            f"(this build reads schema version {', '.join(map(str, SCHEMA_MAJORS))}.x, as torch 2.13 writes)"
        )
    gm = doc.get("graph_module")
    graph = gm.get("graph") if isinstance(gm, dict) else None
    signature = gm.get("signature") if isinstance(gm, dict) else None
    if not isinstance(graph, dict) or not isinstance(signature, dict):
        raise bad("has no graph or signature")
    nodes = graph.get("nodes")
    if not isinstance(nodes, list):
        raise bad("has no list of graph nodes")
    info: dict[str, Any] = {"schema_version": f"{major}.{minor}"}
    torch_version = doc.get("torch_version")
    if isinstance(torch_version, str):
        info["torch_version"] = _text(torch_version)
    opsets = doc.get("opset_version")
    if isinstance(opsets, dict):
        info["opset_version"] = {_text(k): v for k, v in list(opsets.items())[:100] if type(v) is int}
    inputs = signature.get("input_specs")
    info["signature"] = {
        "inputs": _specs(inputs, INPUT_TARGETS, bad),
        "outputs": _specs(signature.get("output_specs"), OUTPUT_TARGETS, bad),
    }
    transient = [
        _text(spec["buffer"]["buffer_name"])
        for spec in (inputs if isinstance(inputs, list) else [])[:MAX_LISTED]  # entries checked by _specs
        if isinstance(spec.get("buffer"), dict)
        and spec["buffer"].get("persistent") is False
        and isinstance(spec["buffer"].get("buffer_name"), str)
    ]
    if transient:  # torch.export keeps them with the constants; state_dict() leaves them out
        info["signature"]["non-persistent buffers"] = transient
    info["nodes"] = len(nodes)
    info["operators"] = _operators(nodes)
    return info


def _specs(specs: Any, kinds: dict[str, str | None], bad: Any) -> dict[str, Any]:
    """The signature's inputs or outputs by kind: ``{kind: {graph name: state_dict/constant name}}``
    for kinds that map to one (parameter, buffer, constant, mutations), ``{kind: [graph names]}`` else."""
    if not isinstance(specs, list):
        raise bad("has no graph signature")
    out: dict[str, Any] = {}
    for spec in specs[:MAX_LISTED]:
        if not isinstance(spec, dict) or len(spec) != 1:
            raise bad("has a malformed signature entry")
        ((kind, body),) = spec.items()
        if not isinstance(body, dict):
            raise bad("has a malformed signature entry")
        name = _arg_name(body.get("arg")) if "arg" in body else body.get("name")
        name = _text(name) if isinstance(name, str) else "<unnamed>"
        field = kinds.get(kind)
        label = KIND_LABELS.get(kind, _text(str(kind))[:80])
        if field is None:
            out.setdefault(label, []).append(name)
            continue
        target = body.get(field)
        group = out.setdefault(label, {})
        if isinstance(group, dict):
            group[name] = _text(target) if isinstance(target, str) else None
    if len(specs) > MAX_LISTED:
        out["not listed"] = len(specs) - MAX_LISTED
    return out


def _arg_name(arg: Any) -> str | None:
    """The name of a signature argument: ``{"name": n}`` or a union such as ``{"as_tensor": {"name": n}}``."""
    if not isinstance(arg, dict):
        return None
    if isinstance(arg.get("name"), str):
        return arg["name"]
    if len(arg) == 1:
        ((kind, value),) = arg.items()
        if isinstance(value, dict) and isinstance(value.get("name"), str):
            return value["name"]
        return f"<{_text(str(kind))[:40]}>"  # a constant (as_int, as_none, ...)
    return None


def _operators(nodes: list[Any]) -> dict[str, int]:
    """How many nodes call each operator (``aten.convolution.default``), most used first."""
    counts: Counter[str] = Counter()
    for node in nodes:
        target = node.get("target") if isinstance(node, dict) else None
        if not isinstance(target, str):
            target = "<no target>"
        op = _text(target.removeprefix("torch.ops."))[:200]
        if op in counts or len(counts) < MAX_OPERATORS:
            counts[op] += 1
        else:
            counts["<other operators>"] += 1
    return dict(counts.most_common())


def _payloads(
    archive: Pt2Archive, model: str, locations: set[str], warnings: list[str], closers: list[Any]
) -> tuple[dict[str, Any], list[str]]:
    """Weights then constants of ``model`` by name; the names of custom objects (never read)."""
    tensors: dict[str, Any] = {}
    custom: list[str] = []
    for folder, config_name in (
        ("data/weights/", f"data/weights/{model}_weights_config.json"),
        ("data/constants/", f"data/constants/{model}_constants_config.json"),
    ):
        legacy = f"{folder}{model}.pt"
        if legacy in archive.entries:  # archives of older torch: one torch.save of the whole dict
            found = _pickled(archive, legacy, closers)
            if not isinstance(found, dict):
                raise _bad(archive, legacy)("does not hold a dict of tensors")
            for name, value in found.items():
                if isinstance(value, LazyTensor):
                    tensors[_text(str(name))] = value
                else:
                    custom.append(_text(str(name)))
            continue
        if config_name not in archive.entries:
            if folder == "data/weights/":
                raise CheckpointError(f"{archive.path}: the archive has no {_show(config_name)}")
            continue
        config = _json(archive, config_name)
        entries = config.get("config") if isinstance(config, dict) else None
        if not isinstance(entries, dict):
            raise _bad(archive, config_name)("has no 'config' object")
        if len(entries) > MAX_ENTRIES:
            raise _bad(archive, config_name)(f"lists {len(entries)} tensors (more than {MAX_ENTRIES})")
        storages: dict[str, StorageRef] = {}
        for name, payload in entries.items():
            where = f"{_show(config_name)} entry {_show(name)}"
            tensor = _payload(archive, folder, where, payload, storages, locations, warnings, closers)
            if tensor is None:
                custom.append(_text(name))
            elif tensor is not _SKIPPED:
                tensors[name] = tensor
    return tensors, custom


_SKIPPED = object()


def _payload(
    archive: Pt2Archive,
    folder: str,
    where: str,
    payload: Any,
    storages: dict[str, StorageRef],
    locations: set[str],
    warnings: list[str],
    closers: list[Any],
) -> Any:
    """One config entry as a LazyTensor; None for a custom object; _SKIPPED for a tensor not listed."""

    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{archive.path}: {where} {why}")

    if not isinstance(payload, dict):
        raise bad("is not an object")
    record = payload.get("path_name")
    if not isinstance(record, str) or not record or "/" in record or len(record) > 256:
        raise bad("has no valid record name")
    key = folder + record
    if key not in archive.entries:
        raise bad(f"names record {_show(key)}, which is missing")
    meta = payload.get("tensor_meta")
    if payload.get("use_pickle") is True:
        if meta is None:  # a ScriptObject or pickled opaque object: running its pickle is out of the question
            return None
        found = _pickled(archive, key, closers)
        if not isinstance(found, LazyTensor):
            warnings.append(f"{where[:200]} is a pickled tensor subclass; it is not listed")
            return _SKIPPED
        return found
    dtype, shape, stride, offset, requires_grad, location = _tensor_meta(meta, bad)
    ref = storages.get(key)
    if ref is None:
        info = archive.info(key)
        nbytes = info.file_size
        # from the central directory alone (no read per record: remote archives list by range requests)
        if not 0 <= info.header_offset <= archive.size - 30 - len(info.filename.encode()) - nbytes:
            raise bad(f"names record {_show(key)}, which runs past the end of the file (truncated?)")
        if nbytes % itemsize(dtype):
            raise bad(f"names record {_show(key)} of {nbytes} bytes, not a multiple of {dtype}'s element size")
        ref = StorageRef(key, dtype, nbytes // itemsize(dtype), location, archive)
        storages[key] = ref
        locations.add(location)
    elif ref.dtype_name != dtype:
        raise bad(f"reads record {_show(key)} as {dtype}, another entry as {ref.dtype_name}")
    tensor = LazyTensor(ref, offset, shape, stride, dtype, requires_grad=requires_grad)
    tensor.is_parameter = payload.get("is_param") is True
    tensor.is_buffer = not tensor.is_parameter
    if math.prod(shape) and tensor.extent() > ref.numel:
        if ref.numel == 0:  # torch stores fake (data-less) tensors as empty records
            warnings.append(f"{where[:200]} was saved without its data; it is not listed")
            return _SKIPPED
        raise bad(f"of shape {list(shape)} needs {tensor.extent()} elements but its record holds {ref.numel}")
    return tensor


def _tensor_meta(meta: Any, bad: Any) -> tuple[str, tuple[int, ...], tuple[int, ...], int, bool, str]:
    """dtype, shape, stride, storage offset, requires_grad and device of a serialized TensorMeta."""
    if not isinstance(meta, dict):
        raise bad("has no tensor meta")
    code = meta.get("dtype")
    dtype = SCALAR_TYPES.get(code) if type(code) is int else None  # JSON may hold a list or an object here
    if dtype is None:
        raise bad(f"has an unknown dtype {_show(str(meta.get('dtype'))[:20])}")
    if meta.get("layout", STRIDED) != STRIDED:
        raise bad(f"has layout {_show(str(meta.get('layout'))[:20])}; only strided tensors are read")
    shape = _ints(meta.get("sizes"), "sizes", bad)
    stride = _ints(meta.get("strides"), "strides", bad)
    if len(stride) != len(shape):
        raise bad(f"has {len(shape)} sizes but {len(stride)} strides")
    (offset,) = _ints([meta.get("storage_offset", {"as_int": 0})], "storage offset", bad)
    device = meta.get("device")
    location = "cpu"
    if isinstance(device, dict) and isinstance(device.get("type"), str):
        location = _text(device["type"])[:40]
        if type(device.get("index")) is int:
            location += f":{device['index']}"
    return dtype, shape, stride, offset, meta.get("requires_grad") is True, location


def _ints(values: Any, what: str, bad: Any) -> tuple[int, ...]:
    """``[{"as_int": n}, ...]`` (schema.SymInt); symbolic sizes are refused."""
    if not isinstance(values, list) or len(values) > MAX_DIMS:
        raise bad(f"has invalid {what}")
    out = []
    for v in values:
        n = v.get("as_int") if isinstance(v, dict) else None
        if type(n) is not int or not 0 <= n < 1 << 62:
            raise bad(f"has invalid {what} {_show(str(values)[:60])}")
        out.append(n)
    return tuple(out)


def _pickled(archive: Pt2Archive, name: str, closers: list[Any]) -> Any:
    """A torch.save archive stored as a record: listed by torch_zip's reader through a window
    of the file (restricted unpickling, nothing from it runs)."""
    from .torch_zip import load_zip

    if is_remote(archive.path):
        raise CheckpointError(f"{archive.path}: pickled tensors in a remote torch.export archive are not read yet")
    info = archive.info(name)
    start = archive.offset(name)
    if start + info.file_size > file_size(archive.path):
        raise CheckpointError(f"{archive.path}: record {_show(name)} runs past the end of the file (truncated?)")
    try:
        loaded = load_zip(archive.path, info.file_size, base=start)
    except CheckpointError as exc:
        raise CheckpointError(f"{archive.path}: pickled record {_show(name)}: {_line(exc)}") from None
    if loaded.close:
        closers.append(loaded.close)
    return loaded.root


def _bad(archive: Pt2Archive, name: str) -> Any:
    def bad(why: str) -> CheckpointError:
        return CheckpointError(f"{archive.path}: {_show(name)} {why}")

    return bad


def _text(value: str) -> str:
    """A name or string from the archive, kept as data and cut to a displayable length."""
    return value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"


def _show(value: Any) -> str:
    """A name from the archive inside an error message: quoted, escapes visible, cut short."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
    return ascii(text[:120])


def _line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
