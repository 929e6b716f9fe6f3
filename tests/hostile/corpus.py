"""A corpus of hostile checkpoints, generated (never stored as blobs): several variants of
every class of attack a red team used against ckptviewer.

Each case is a function ``build(folder) -> Path`` (a file or a checkpoint folder) and what
must happen: the file is ``REFUSED`` (every command ends with one clear line and exit 1,
or 2 for diff) or ``LISTED`` (``ckpt info`` succeeds and shows what ``torch.load`` returns;
commands that would do unbounded work refuse cleanly). Whatever the outcome, nothing in the
file runs, the process survives, finishes in time and stays within its memory budget.

``python -m tests.hostile.corpus DIR`` writes every case into DIR, for a look or a fuzzer.
"""

from __future__ import annotations

import json
import os
import pickle
import struct
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from tests.hostile_pickles import EMPTY_DICT, EMPTY_LIST, EMPTY_TUPLE, MARK, REDUCE, SETITEMS, B, G, I, U, tup

REFUSED, LISTED = "refused", "listed"
MARKER = "CKPTVIEWER_HOSTILE_MARKER"  # payloads try to create this file (env var: its path)

# --- building blocks ------------------------------------------------------------------------

PROTO4 = b"\x80\x04"
STOP = b"."
BUILD = b"b"
APPENDS = b"e"
TUPLE1 = b"\x85"
TUPLE2 = b"\x86"
MEMOIZE = b"\x94"
BINPERSID = b"Q"
BINGET = b"h"
LONG_BINGET = b"j"
ADDITEMS = b"\x90"
EMPTY_SET = b"\x8f"
FROZENSET = b"\x91"
SETITEM = b"s"


def SG(module: str, name: str) -> bytes:
    """STACK_GLOBAL: any characters in the names (newlines, quotes, markup, escapes)."""
    return U(module) + U(name) + b"\x93"


def get(index: int) -> bytes:
    return LONG_BINGET + struct.pack("<I", index)


def torch_zip(path: Path, data_pkl: bytes, records: dict[str, bytes] | None = None) -> Path:
    """A torch zip archive written by torch's own writer around a hand-made data.pkl."""
    w = torch._C.PyTorchFileWriter(str(path))
    w.write_record("data.pkl", data_pkl, len(data_pkl))
    w.write_record("byteorder", b"little", 6)
    for key, data in (records or {}).items():
        w.write_record(key, data, len(data))
    w.write_record("version", b"3\n", 2)
    w.write_end_of_file()
    del w
    return path


def storage_pid(key: str, numel: int, kind: str = "FloatStorage") -> bytes:
    return tup(U("storage"), G("torch", kind), U(key), U("cpu"), I(numel)) + BINPERSID


def tensor_v2(key: str, numel: int, size: tuple, stride: tuple, offset: int = 0, kind: str = "FloatStorage") -> bytes:
    return (
        G("torch._utils", "_rebuild_tensor_v2")
        + tup(storage_pid(key, numel, kind), I(offset), tup(*map(I, size)), tup(*map(I, stride)), b"\x89",
              G("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE)
        + REDUCE
    )  # fmt: skip


def rewrite_zip(src: Path, dst: Path, changes: dict[str, bytes | None], compress: set[str] = frozenset()) -> Path:
    """Copy a torch zip with some records replaced (None: removed) or deflated."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            name = info.filename.split("/", 1)[1]
            data = changes.get(name, zin.read(info)) if name in changes else zin.read(info)
            if data is None:
                continue
            method = zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED
            zout.writestr(zipfile.ZipInfo(info.filename), data, compress_type=method)
    return dst


def payload(module: str = "posix", name: str = "system") -> bytes:
    """A call that would create the marker file if anything ran it."""
    marker = os.environ.get(MARKER, "/tmp/ckptviewer-hostile-marker")
    return SG(module, name) + tup(U(f"touch {marker}")) + REDUCE


# --- the cases ------------------------------------------------------------------------------


@dataclass
class Case:
    """One hostile input and what must happen to it."""

    name: str
    cls: str  # the attack class (issue #10's numbering)
    build: Callable[[Path], Path]
    expect: str
    commands: dict[str, str] = field(default_factory=dict)  # command -> REFUSED/LISTED where it differs
    note: str = ""


CASES: list[Case] = []


def case(cls: str, expect: str, note: str = "", **commands: str) -> Callable:
    def register(fn: Callable[[Path], Path]) -> Callable[[Path], Path]:
        CASES.append(Case(fn.__name__, cls, fn, expect, commands, note or (fn.__doc__ or "").strip()))
        return fn

    return register


# 2. memory corruption through sparse tensors ------------------------------------------------


def _sparse_file(folder: Path, name: str, t: torch.Tensor, patch: Callable[[dict[str, bytes]], None]) -> Path:
    good = folder / f"{name}.good"
    torch.save({"s": t}, good)
    with zipfile.ZipFile(good) as z:
        records = {i.filename.split("/", 1)[1]: z.read(i) for i in z.infolist()}
    patch(records)
    out = rewrite_zip(good, folder / f"{name}.pth", records)
    good.unlink()
    return out


def _int64_record(records: dict[str, bytes], values: list[int]) -> str:
    """The storage record holding the first int64 index values; overwrite its start."""
    for key in sorted(k for k in records if k.startswith("data/")):
        data = records[key]
        if len(data) >= 8 * len(values):
            records[key] = struct.pack(f"<{len(values)}q", *values) + data[8 * len(values) :]
            return key
    raise AssertionError("no index storage")


@case("2-sparse", REFUSED)
def sparse_coo_index_past_size(folder: Path) -> Path:
    """COO indices far outside the size: to_dense() would write at a file-chosen heap offset."""
    t = torch.sparse_coo_tensor(torch.tensor([[0, 1]]), torch.tensor([1.0, 2.0]), (4,))
    return _sparse_file(folder, "coo_past", t, lambda r: _int64_record(r, [1 << 40, 1]))


@case("2-sparse", REFUSED)
def sparse_coo_negative_index(folder: Path) -> Path:
    """A negative COO index."""
    t = torch.sparse_coo_tensor(torch.tensor([[0, 1], [1, 0]]), torch.tensor([1.0, 2.0]), (4, 4))
    return _sparse_file(folder, "coo_neg", t, lambda r: _int64_record(r, [-(1 << 30), 1]))


def _sparse_pickle(folder: Path, name: str, layout: str, parts: list[tuple[str, list]], size: tuple) -> Path:
    """A sparse tensor record over ordinary storages: ``parts`` are (kind, values) in order."""
    records, args = {}, []
    for i, (kind, values) in enumerate(parts):
        fmt = {"LongStorage": "q", "IntStorage": "i", "FloatStorage": "f"}[kind]
        records[f"data/{i}"] = struct.pack(f"<{len(values)}{fmt}", *values)
        args.append(tensor_v2(str(i), len(values), (len(values),), (1,), kind=kind))
    if layout == "torch.sparse_coo":  # indices are 2-D: (ndim, nnz)
        n = len(parts[0][1])
        args[0] = tensor_v2("0", n, (len(size), n // len(size)), (n // len(size), 1), kind="LongStorage")
    layout_obj = G("torch.serialization", "_get_layout") + tup(U(layout)) + REDUCE
    call = G("torch._utils", "_rebuild_sparse_tensor") + tup(layout_obj, tup(*args, tup(*map(I, size)))) + REDUCE
    return torch_zip(folder / f"{name}.pth", PROTO4 + EMPTY_DICT + U("s") + call + SETITEM + STOP, records)


@case("2-sparse", REFUSED)
def sparse_csr_column_past_size(folder: Path) -> Path:
    """CSR column indices outside the matrix (valid row pointers)."""
    parts = [("LongStorage", [0, 1, 2]), ("LongStorage", [1 << 33, 1]), ("FloatStorage", [1.0, 2.0])]
    return _sparse_pickle(folder, "csr", "torch.sparse_csr", parts, (2, 2))


@case("2-sparse", REFUSED)
def sparse_csr_row_pointers_lie(folder: Path) -> Path:
    """CSR row pointers that claim more values than there are."""
    parts = [("LongStorage", [0, 1000, 2000]), ("LongStorage", [0, 1]), ("FloatStorage", [1.0, 2.0])]
    return _sparse_pickle(folder, "crow", "torch.sparse_csr", parts, (2, 2))


@case("2-sparse", REFUSED)
def sparse_csc_row_past_size(folder: Path) -> Path:
    """CSC row indices outside the matrix, int32 indices."""
    parts = [("IntStorage", [0, 1, 2]), ("IntStorage", [5, 1 << 30]), ("FloatStorage", [1.0, 2.0])]
    return _sparse_pickle(folder, "csc", "torch.sparse_csc", parts, (2, 2))


@case("2-sparse", REFUSED)
def sparse_bsr_block_column_past_size(folder: Path) -> Path:
    """BSR block column indices outside the matrix (2x2 blocks of a 4x4 matrix)."""
    parts = [("LongStorage", [0, 1, 2]), ("LongStorage", [9, 1 << 20]), ("FloatStorage", [1.0] * 8)]
    path = _sparse_pickle(folder, "bsr", "torch.sparse_bsr", parts, (4, 4))
    return _reshape_values(path, (2, 2, 2))


@case("2-sparse", REFUSED)
def sparse_bsc_block_row_past_size(folder: Path) -> Path:
    """BSC block row indices outside the matrix."""
    parts = [("LongStorage", [0, 1, 2]), ("LongStorage", [1 << 22, 3]), ("FloatStorage", [1.0] * 8)]
    path = _sparse_pickle(folder, "bsc", "torch.sparse_bsc", parts, (4, 4))
    return _reshape_values(path, (2, 2, 2))


def _reshape_values(path: Path, shape: tuple) -> Path:
    """Rewrite the values record of a _sparse_pickle file as a 3-D block tensor."""
    with zipfile.ZipFile(path) as z:
        pkl = z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))
        records = {n.split("/", 1)[1]: z.read(n) for n in z.namelist() if "/data/" in n}
    flat = tensor_v2("2", 8, (8,), (1,))
    blocks = tensor_v2("2", 8, shape, (shape[1] * shape[2], shape[2], 1))
    return torch_zip(path, pkl.replace(flat, blocks), records)


@case("2-sparse", LISTED, diff=REFUSED, note="stats from stored values; dense copies (diff) are refused")
def sparse_declaring_600m_elements(folder: Path) -> Path:
    """A valid sparse tensor declaring 600M elements over 2 stored values (2.4 GB if densified)."""
    t = torch.sparse_coo_tensor(torch.tensor([[0, 599_999_999]]), torch.tensor([1.0, 2.0]), (600_000_000,))
    path = folder / "sparse_600m.pth"
    torch.save({"s": t, "w": torch.ones(3)}, path)
    return path


# 3. C stack overflow ------------------------------------------------------------------------


def _deep(opcode_open: bytes, opcode_close: bytes, depth: int) -> bytes:
    return opcode_open * depth + opcode_close * depth


@case("3-nesting", REFUSED)
def tuple_million_deep_as_dict_key(folder: Path) -> Path:
    """A tuple nested 10**6 deep used as a dict key: hashing it recurses in C."""
    deep = EMPTY_TUPLE + TUPLE1 * 1_000_000
    return torch_zip(folder / "deep_key.pth", PROTO4 + EMPTY_DICT + deep + I(1) + SETITEM + STOP)


@case("3-nesting", REFUSED)
def tuple_million_deep_in_a_set(folder: Path) -> Path:
    """The same tuple as a set element (ADDITEMS hashes it)."""
    deep = EMPTY_TUPLE + TUPLE1 * 1_000_000
    return torch_zip(folder / "deep_set.pth", PROTO4 + EMPTY_SET + MARK + deep + ADDITEMS + STOP)


@case("3-nesting", REFUSED)
def frozenset_nested_deep(folder: Path) -> Path:
    """frozensets nested 200,000 deep (FROZENSET hashes each level)."""
    return torch_zip(folder / "deep_frozen.pth", PROTO4 + (MARK) * 200_000 + FROZENSET * 200_000 + STOP)


@case("3-nesting", REFUSED)
def tuple_deep_through_the_memo(folder: Path) -> Path:
    """A deep tuple built through the memo, then used as a key of a dict built by DICT."""
    body = EMPTY_TUPLE + MEMOIZE + b"".join(get(i) + TUPLE1 + MEMOIZE for i in range(200_000))
    return torch_zip(folder / "deep_memo.pth", PROTO4 + body + MARK + get(200_000) + I(1) + b"d" + STOP)


@case("3-nesting", REFUSED)
def list_nested_million_deep(folder: Path) -> Path:
    """Lists nested 10**6 deep (no hashing: walks and frees recurse)."""
    return torch_zip(folder / "deep_list.pth", PROTO4 + (EMPTY_LIST + MARK) * 1_000_000 + APPENDS * 1_000_000 + STOP)


@case("3-nesting", REFUSED)
def placeholder_args_nested_deep(folder: Path) -> Path:
    """Placeholder objects nested through their constructor arguments."""
    g = SG("evil.module", "Thing")
    depth = 50_000
    body = (get(0) + MARK) * depth + g + MEMOIZE + EMPTY_TUPLE + REDUCE + (b"t" + REDUCE) * depth
    return torch_zip(folder / "deep_opaque.pth", PROTO4 + g + MEMOIZE + b"0" + body + STOP)


# 4. memory and time bombs from tiny files ----------------------------------------------------


@case("4-bombs", REFUSED)
def bytearrays_of_64_mib_eighty_times(folder: Path) -> Path:
    """80 x bytearray(64 MiB): 5 GB from a few hundred bytes."""
    items = b"".join(G("builtins", "bytearray") + tup(I(64 << 20)) + REDUCE for _ in range(80))
    return torch_zip(folder / "bytearrays.pth", PROTO4 + EMPTY_LIST + MARK + items + APPENDS + STOP)


@case("4-bombs", REFUSED)
def bytearray_copied_through_the_memo(folder: Path) -> Path:
    """One 1 MiB bytes object copied into a bytearray 10,000 times (10 GB)."""
    body = B(b"x" * (1 << 20)) + MEMOIZE + G("builtins", "bytearray") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(10_000)) + APPENDS
    return torch_zip(folder / "bytearray_memo.pth", PROTO4 + body + STOP)


@case("4-bombs", REFUSED)
def list_of_a_string_through_the_memo(folder: Path) -> Path:
    """list(a 256 KiB string) 5,000 times: a billion one-character objects."""
    body = U("y" * (256 << 10)) + MEMOIZE + G("builtins", "list") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(5_000)) + APPENDS
    return torch_zip(folder / "list_memo.pth", PROTO4 + body + STOP)


@case("4-bombs", REFUSED)
def bytearray8_claiming_a_terabyte(folder: Path) -> Path:
    """BYTEARRAY8 with a length of 1 TiB: pickle allocates before reading."""
    return torch_zip(folder / "bytearray8.pth", PROTO4 + b"\x96" + struct.pack("<Q", 1 << 40) + b"x" * 16 + STOP)


@case("4-bombs", REFUSED)
def shared_list_dag(folder: Path) -> Path:
    """L0 = [L1, L1], L1 = [L2, L2], ... 60 levels: 2**60 paths through the memo."""
    body = EMPTY_LIST + MEMOIZE  # memo 0: the innermost list
    for i in range(60):
        body += EMPTY_LIST + MARK + get(i) + get(i) + APPENDS + MEMOIZE
    return torch_zip(folder / "dag_lists.pth", PROTO4 + body + STOP)


@case("4-bombs", REFUSED)
def shared_tensor_dag(folder: Path) -> Path:
    """A tuple DAG over one tensor: 2**40 tensor keys for a walk that follows every path."""
    body = tensor_v2("0", 4, (4,), (1,)) + MEMOIZE
    for i in range(40):
        body += get(i) + get(i) + TUPLE2 + MEMOIZE
    return torch_zip(folder / "dag_tensors.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})


@case("4-bombs", REFUSED)
def deflated_data_pkl_of_a_gigabyte(folder: Path) -> Path:
    """data.pkl deflated from 1000 MiB into about 1 MB."""
    path = folder / "zipbomb.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/byteorder", b"little")
        info = zipfile.ZipInfo("archive/data.pkl")
        info.compress_type = zipfile.ZIP_DEFLATED
        with z.open(info, "w", force_zip64=True) as f:
            f.write(PROTO4 + b"\x8e" + struct.pack("<Q", 1000 << 20))  # BINBYTES8 of 1000 MiB
            chunk = b"\0" * (1 << 20)
            for _ in range(1000):
                f.write(chunk)
            f.write(STOP)
        z.writestr("archive/version", b"3\n")
    return path


@case("4-bombs", LISTED, note="listed fast: repeated keys are renamed in linear time")
def set_of_40k_tensors(folder: Path) -> Path:
    """A set of 40,000 tensors: every one gets the same key."""
    items = b"".join(tensor_v2("0", 4, (4,), (1,)) for _ in range(40_000))
    body = EMPTY_DICT + U("s") + EMPTY_SET + MARK + items + ADDITEMS + SETITEM
    return torch_zip(folder / "set40k.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})


@case("4-bombs", LISTED, stats=REFUSED, diff=REFUSED, convert=REFUSED, note="work on 2**40 elements refused")
def overlapping_strides_2_40_elements(folder: Path) -> Path:
    """Self-overlapping strides: 2**40 logical elements over 2**21 stored ones."""
    body = EMPTY_DICT + U("w") + tensor_v2("0", 1 << 21, (1 << 20, 1 << 20), (1, 1)) + SETITEM
    return torch_zip(folder / "overlap.pth", PROTO4 + body + STOP, {"data/0": b"\0" * (4 << 21)})


@case("4-bombs", LISTED, diff=REFUSED, convert=REFUSED, note="stats of the stored elements; copies refused")
def expanded_stride_zero_tensors(folder: Path) -> Path:
    """Stride-0 (expanded) tensors of 2**30 elements over 1 stored float: a dense copy is 4 GiB."""
    body = EMPTY_DICT + MARK
    body += U("a") + tensor_v2("0", 1, (1 << 15, 1 << 15), (0, 0))
    body += U("b") + tensor_v2("0", 1, (1 << 30,), (0,))
    body += SETITEMS
    return torch_zip(folder / "expanded.pth", PROTO4 + body + STOP, {"data/0": struct.pack("<f", 1.5)})


@case("4-bombs", REFUSED)
def numpy_arrays_from_one_bytes_object(folder: Path) -> Path:
    """One 1 MiB bytes object rebuilt into 5,000 numpy arrays."""
    nd = G("numpy._core.multiarray", "_reconstruct") + MEMOIZE
    dt = G("numpy", "dtype") + tup(U("u1"), b"\x89", b"\x88") + REDUCE + MEMOIZE
    raw = B(b"\1" * (1 << 20)) + MEMOIZE
    head = nd + dt + raw  # memo 0, 1, 2
    one = get(0) + tup(G("numpy", "ndarray"), tup(I(0)), B(b"b")) + REDUCE
    one += tup(I(1), tup(I(1 << 20)), get(1), b"\x89", get(2)) + BUILD
    body = head + EMPTY_LIST + MARK + one * 5_000 + APPENDS
    return torch_zip(folder / "numpy_memo.pth", PROTO4 + body + STOP)


# 5. uninitialised memory ------------------------------------------------------------------------


@case("5-uninit", REFUSED)
def rebuild_from_type_with_torch_tensor(folder: Path) -> Path:
    """_rebuild_from_type_v2(func=torch.Tensor, ...): torch.Tensor(n) is uninitialised heap."""
    call = G("torch._tensor", "_rebuild_from_type_v2") + tup(
        G("torch", "Tensor"), G("torch", "Tensor"), tup(I(1 << 20)), EMPTY_DICT
    ) + REDUCE  # fmt: skip
    return torch_zip(folder / "from_type.pth", PROTO4 + EMPTY_DICT + U("w") + call + SETITEM + STOP)


@case("5-uninit", REFUSED)
def legacy_tensor_constructor(folder: Path) -> Path:
    """torch.FloatTensor(n): uninitialised memory from a legacy constructor."""
    call = G("torch", "FloatTensor") + tup(I(1 << 20)) + REDUCE
    return torch_zip(folder / "legacy_ctor.pth", PROTO4 + EMPTY_DICT + U("w") + call + SETITEM + STOP)


@case("5-uninit", REFUSED)
def untyped_storage_called(folder: Path) -> Path:
    """torch.UntypedStorage(n) / TypedStorage(n) called from the pickle."""
    a = G("torch.storage", "UntypedStorage") + tup(I(1 << 20)) + REDUCE
    return torch_zip(folder / "storage_call.pth", PROTO4 + EMPTY_DICT + U("s") + a + SETITEM + STOP)


@case("5-uninit", REFUSED)
def typed_storage_called(folder: Path) -> Path:
    """torch.storage.TypedStorage(n)."""
    a = G("torch.storage", "TypedStorage") + tup(I(1 << 20)) + REDUCE
    return torch_zip(folder / "typed_storage.pth", PROTO4 + EMPTY_DICT + U("s") + a + SETITEM + STOP)


def _dcp(folder: Path, name: str, edit: Callable[[Path], None]) -> Path:
    import warnings

    import torch.distributed.checkpoint as dcp

    path = folder / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save({"model": {"w": torch.arange(16.0).reshape(4, 4), "b": torch.ones(4)}, "step": 3}, checkpoint_id=path)
    edit(path)
    return path


def _dcp_metadata_edit(path: Path, change: Callable[[dict], None]) -> None:
    """Rewrite .metadata as DCP's own classes with ``change`` applied to its fields."""
    with open(path / ".metadata", "rb") as f:
        meta = pickle.load(f)
    change(meta.__dict__)
    (path / ".metadata").write_bytes(pickle.dumps(meta))


@case("5-uninit", REFUSED)
def dcp_tensor_without_chunks_8_gib(folder: Path) -> Path:
    """A DCP tensor of 8 GiB with no chunks: torch.empty would be shown as its data."""
    from torch.distributed.checkpoint.metadata import TensorProperties, TensorStorageMetadata

    def change(m: dict) -> None:
        m["state_dict_metadata"]["model.w"] = TensorStorageMetadata(
            TensorProperties(dtype=torch.float32), torch.Size([1 << 31]), []
        )

    return _dcp(folder, "dcp_nochunks", lambda p: _dcp_metadata_edit(p, change))


@case("5-uninit", REFUSED)
def dcp_chunk_outside_its_tensor(folder: Path) -> Path:
    """A DCP chunk that lies outside its tensor's shape."""

    def change(m: dict) -> None:
        t = m["state_dict_metadata"]["model.w"]
        t.chunks[0].offsets = torch.Size([1 << 20, 0])

    return _dcp(folder, "dcp_outside", lambda p: _dcp_metadata_edit(p, change))


# 4 (DCP). --------------------------------------------------------------------------------------------


@case("4-bombs", REFUSED)
def dcp_zstd_transform(folder: Path) -> Path:
    """Entries stored with a (zstd) transform: inflating them is a memory bomb."""

    def change(m: dict) -> None:
        for info in m["storage_data"].values():
            info.transform_descriptors = ["zstd"]

    return _dcp(folder, "dcp_zstd", lambda p: _dcp_metadata_edit(p, change))


@case("4-bombs", LISTED, note="only the first 1000 non-tensor entries are read")
def dcp_20k_bytes_entries(folder: Path) -> Path:
    """20,000 non-tensor entries, each a torch.save archive to open."""
    import warnings

    import torch.distributed.checkpoint as dcp

    path = folder / "dcp_bytes"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save({"model": {"w": torch.ones(2)}, "extra": {f"k{i}": i for i in range(20_000)}}, checkpoint_id=path)
    return path


@case("4-bombs", REFUSED)
def dcp_metadata_as_a_pickle_bomb(folder: Path) -> Path:
    """.metadata that is itself a DAG bomb."""

    def edit(path: Path) -> None:
        body = EMPTY_LIST + MEMOIZE
        for i in range(60):
            body += EMPTY_LIST + MARK + get(i) + get(i) + APPENDS + MEMOIZE
        (path / ".metadata").write_bytes(PROTO4 + body + STOP)

    return _dcp(folder, "dcp_dag", edit)


# 6. the listing differs from what torch.load returns -----------------------------------------------


@case("6-differs", REFUSED)
def ordered_dict_items_shadowed(folder: Path) -> Path:
    """BUILD {'items': dict} on an OrderedDict hides its tensor from a walker calling .items()."""
    body = G("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
    body += MARK + U("w") + tensor_v2("0", 4, (4,), (1,)) + SETITEMS
    body += EMPTY_DICT + U("items") + G("builtins", "dict") + SETITEM + BUILD
    return torch_zip(folder / "shadow.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})


@case("6-differs", REFUSED)
def deflated_storage_record(folder: Path) -> Path:
    """A deflated storage: a memory map would show the compressed bytes, torch inflates them."""
    good = folder / "deflate.good"
    torch.save({"w": torch.arange(1000.0)}, good)
    out = rewrite_zip(good, folder / "deflated_storage.pth", {}, compress={"data/0"})
    good.unlink()
    return out


@case("6-differs", REFUSED)
def duplicate_storage_records(folder: Path) -> Path:
    """Two records named data/0: readers may pick different ones."""
    good = folder / "dup.good"
    torch.save({"w": torch.arange(4.0)}, good)
    out = folder / "duplicate_records.pth"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            zout.writestr(zipfile.ZipInfo(info.filename), zin.read(info))
            if info.filename.endswith("data/0"):
                import warnings

                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # "Duplicate name"
                    zout.writestr(zipfile.ZipInfo(info.filename), struct.pack("<4f", 9, 9, 9, 9))
    good.unlink()
    return out


@case("6-differs", REFUSED)
def legacy_count_disagrees_with_the_pickle(folder: Path) -> Path:
    """A legacy file whose stored element count differs from the pickle's."""
    path = folder / "legacy_count.pt"
    torch.save({"w": torch.arange(4.0), "v": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    data = bytearray(path.read_bytes())
    count = struct.pack("<q", 4)
    at = data.index(count + struct.pack("<f", 0.0))
    data[at : at + 8] = struct.pack("<q", 3)
    path.write_bytes(bytes(data))
    return path


@case("6-differs", REFUSED)
def safetensors_overlapping_tensors(folder: Path) -> Path:
    """Two safetensors entries over the same bytes (the library refuses this)."""
    header = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}  # fmt: skip
    return _safetensors(folder / "overlap.safetensors", header, b"\0" * 8)


@case("6-differs", REFUSED)
def safetensors_hidden_trailing_data(folder: Path) -> Path:
    """Data bytes no tensor covers (the library refuses this)."""
    header = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}
    return _safetensors(folder / "gap.safetensors", header, b"\0" * 16)


def _safetensors(path: Path, header: dict, data: bytes) -> Path:
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


# 7. reading outside the folder ------------------------------------------------------------------------


def _secret(folder: Path) -> Path:
    secret = folder / "outside" / "credentials.json"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text('{"aws_secret_access_key": "SECRET-DO-NOT-SHOW"}\n')
    return secret


def _hf_folder(folder: Path, name: str) -> Path:
    from safetensors.torch import save_file

    path = folder / name
    path.mkdir()
    save_file({"a": torch.ones(2)}, path / "model-00001-of-00002.safetensors")
    save_file({"b": torch.zeros(2)}, path / "model-00002-of-00002.safetensors")
    index = {"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                            "b": "model-00002-of-00002.safetensors"}}  # fmt: skip
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    return path


@case("7-outside", LISTED, note="the linked config is not read; the weights are listed")
def hf_config_linked_outside(folder: Path) -> Path:
    """config.json is a symlink to a credentials file outside the folder."""
    path = _hf_folder(folder, "hf_config_link")
    (path / "config.json").symlink_to(_secret(folder))
    return path


@case("7-outside", REFUSED)
def hf_shard_linked_outside(folder: Path) -> Path:
    """A shard is a symlink to a file outside the folder."""
    path = _hf_folder(folder, "hf_shard_link")
    outside = folder / "outside" / "other.safetensors"
    outside.parent.mkdir(exist_ok=True)
    (path / "model-00002-of-00002.safetensors").rename(outside)
    (path / "model-00002-of-00002.safetensors").symlink_to(outside)
    return path


@case("7-outside", REFUSED)
def hf_shard_linked_to_a_text_file(folder: Path) -> Path:
    """A shard links to a text file outside (its first line must never appear in a message)."""
    path = _hf_folder(folder, "hf_text_link")
    (path / "model-00002-of-00002.safetensors").unlink()
    (path / "model-00002-of-00002.safetensors").symlink_to(_secret(folder))
    return path


@case("7-outside", REFUSED)
def hf_index_linked_outside(folder: Path) -> Path:
    """The index itself links outside."""
    path = _hf_folder(folder, "hf_index_link")
    outside = folder / "outside" / "index.json"
    outside.parent.mkdir(exist_ok=True)
    (path / "model.safetensors.index.json").rename(outside)
    (path / "model.safetensors.index.json").symlink_to(outside)
    return path


@case("7-outside", REFUSED)
def dcp_shard_linked_outside(folder: Path) -> Path:
    """A .distcp file links outside the DCP folder."""

    def edit(path: Path) -> None:
        shard = next(path.glob("*.distcp"))
        outside = folder / "outside" / "shard.distcp"
        outside.parent.mkdir(exist_ok=True)
        shard.rename(outside)
        shard.symlink_to(outside)

    return _dcp(folder, "dcp_link", edit)


@case("7-outside", LISTED, note="the linked adapter config is not read")
def peft_config_linked_outside(folder: Path) -> Path:
    """A PEFT adapter folder whose adapter_config.json links to a secret."""
    from safetensors.torch import save_file

    path = folder / "peft_link"
    path.mkdir()
    save_file({"base.lora_A.weight": torch.ones(2, 2)}, path / "adapter_model.safetensors")
    (path / "adapter_config.json").symlink_to(_secret(folder))
    return path


# 1/9/10. names, codecs, code --------------------------------------------------------------------------


@case("1-code", LISTED, note="blocked: shown as a placeholder, never run")
def os_system_payload(folder: Path) -> Path:
    """A plain posix.system payload next to a tensor."""
    body = EMPTY_DICT + MARK + U("w") + tensor_v2("0", 4, (4,), (1,)) + U("x") + payload() + SETITEMS
    return torch_zip(folder / "system.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})


@case("9-display", LISTED, note="printed with escapes, shown as plain text")
def names_with_escape_codes_and_markup(folder: Path) -> Path:
    """Keys and global names with ESC sequences, OSC 52, carriage returns and markup."""
    evil = "\x1b]52;c;cm0gLXJmIH4=\x07\x1b[2K\r<h1 style='color:green'>verified: safe</h1>\n"
    body = EMPTY_DICT + MARK + U(f"w{evil}") + tensor_v2("0", 4, (4,), (1,))
    body += U("g") + SG(f"evil{evil}", f"name{evil}") + EMPTY_TUPLE + REDUCE + SETITEMS
    return torch_zip(folder / "names.pth", PROTO4 + body + STOP, {"data/0": b"\0" * 16})


@case("10-smaller", REFUSED)
def str_with_an_importing_codec(folder: Path) -> Path:
    """str(bytes, 'cp1252') and bytearray(str, 'rot13'): codec lookups import modules."""
    call = G("builtins", "str") + tup(B(b"abc"), U("cp1252")) + REDUCE
    return torch_zip(folder / "codec.pth", PROTO4 + EMPTY_DICT + U("s") + call + SETITEM + STOP)


@case("10-smaller", REFUSED)
def bytearray_with_an_importing_codec(folder: Path) -> Path:
    """bytearray(str, 'rot13')."""
    call = G("builtins", "bytearray") + tup(U("abc"), U("rot13")) + REDUCE
    return torch_zip(folder / "codec_ba.pth", PROTO4 + EMPTY_DICT + U("s") + call + SETITEM + STOP)


@case("10-smaller", LISTED, diff=REFUSED, note="a value page of a tensor past 2**31 elements; diff refused (3e9 x 1)")
def tensor_of_3_billion_elements(folder: Path) -> Path:
    """An expanded bool tensor of 3e9 elements (value pages once overflowed a Qt int)."""
    body = EMPTY_DICT + U("big") + tensor_v2("0", 1, (3_000_000_000,), (0,), kind="BoolStorage") + SETITEM
    return torch_zip(folder / "huge_bool.pth", PROTO4 + body + STOP, {"data/0": b"\1"})


# second attack (red team, round 2) -----------------------------------------------------------------
#
# Cases a second red team built against the hardened product. ``expect`` is what SHOULD happen;
# where the product still breaks, the note says how (and tests/hostile/test_redteam.py holds the
# attacks that are not "open a file").

PROTO5 = b"\x80\x05"
READONLY_BUFFER = b"\x98"
BYTEARRAY8 = b"\x96"
FRAME = b"\x95"


def _zip_with_byteorder(path: Path, data_pkl: bytes, records: dict[str, bytes], byteorder: bytes) -> Path:
    w = torch._C.PyTorchFileWriter(str(path))
    w.write_record("data.pkl", data_pkl, len(data_pkl))
    w.write_record("byteorder", byteorder, len(byteorder))
    for key, data in records.items():
        w.write_record(key, data, len(data))
    w.write_record("version", b"3\n", 2)
    w.write_end_of_file()
    del w
    return path


def _tensor_v3(key: str, nbytes: int, size: tuple, stride: tuple, dtype: str, kind: str = "ByteStorage") -> bytes:
    """_rebuild_tensor_v3 over a byte storage, with the tensor's dtype given separately."""
    return (
        G("torch._utils", "_rebuild_tensor_v3")
        + tup(storage_pid(key, nbytes, kind), I(0), tup(*map(I, size)), tup(*map(I, stride)), b"\x89",
              G("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE, G("torch", dtype))
        + REDUCE
    )  # fmt: skip


def _w(extra: bytes = b"", proto: bytes = PROTO4) -> bytes:
    """{"w": tensor, "x": <extra>} as a data.pkl."""
    body = EMPTY_DICT + MARK + U("w") + tensor_v2("0", 4, (4,), (1,)) + (U("x") + extra if extra else b"") + SETITEMS
    return proto + body + STOP


_W_DATA = {"data/0": struct.pack("<4f", 1, 2, 3, 4)}


# r2-bombs: memory from a small file ---------------------------------------------------------------


@case(
    "r2-bombs", REFUSED, note="round 2 finding: index.py _Walker joins the whole path into every key: 291 KB -> 1.6 GB"
)
def walk_keys_amplified_through_a_shared_prefix(folder: Path) -> Path:
    """150 nested dicts under one memo'd 500-character key, 20,000 tensors at the bottom: every
    tensor key is the 75 KB path (1.5 GB of keys from a 300 KB file)."""
    pkl = PROTO4 + U("x" * 500) + MEMOIZE + tensor_v2("0", 4, (4,), (1,)) + MEMOIZE
    cur = EMPTY_DICT + MARK + b"".join(U(f"{i}") + get(1) for i in range(20_000)) + SETITEMS
    for _ in range(150):
        cur = EMPTY_DICT + get(0) + cur + SETITEM
    return torch_zip(folder / "walk_keys.pth", pkl + cur + STOP, _W_DATA)


@case(
    "r2-bombs",
    REFUSED,
    note="broke at 8ebc0d7: tree.py stored each node's full path, O(parts^2) (listed within memory is fine too)",
)
def key_of_75k_dotted_parts(folder: Path) -> Path:
    """One tensor whose key (built from 150 levels of one memo'd 'a.a.a…' key) has 75,000 parts:
    the layer tree makes 75,000 nodes whose paths total 2.8 GB; a 2.7 KB file."""
    pkl = PROTO4 + U("a." * 249 + "a") + MEMOIZE
    cur = EMPTY_DICT + U("w") + tensor_v2("0", 4, (4,), (1,)) + SETITEM
    for _ in range(150):
        cur = EMPTY_DICT + get(0) + cur + SETITEM
    return torch_zip(folder / "dotted_key.pth", pkl + cur + STOP, _W_DATA)


@case(
    "r2-bombs",
    REFUSED,
    note="round 2 finding: rebuild.py _container charges 8 bytes per element; each astral character is an 80-byte str",
)
def list_of_an_astral_string_twenty_times(folder: Path) -> Path:
    """list() of one memo'd string of 2**20 emoji, 20 times: 160 MB charged, 1.8 GB allocated (4 MB file)."""
    body = U("\U0001f600" * (1 << 20)) + MEMOIZE + G("builtins", "list") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(20)) + APPENDS
    return torch_zip(folder / "list_astral.pth", PROTO4 + body + STOP)


@case(
    "r2-bombs", REFUSED, note="round 2 finding: set() charged 8 bytes per element, a set of new str objects costs ~100"
)
def set_of_a_cjk_string_600_times(folder: Path) -> Path:
    """set() of one memo'd 20,000-character CJK string, 600 times: 96 MB charged, ~1.5 GB allocated (80 KB file)."""
    text = "".join(chr(0x4E00 + i) for i in range(20_000))
    body = U(text) + MEMOIZE + G("builtins", "set") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(600)) + APPENDS
    return torch_zip(folder / "set_cjk.pth", PROTO4 + body + STOP)


@case("r2-bombs", REFUSED, note="round 2 finding: OrderedDict(pairs) charged 8 bytes per pair, ~150 allocated")
def ordered_dict_of_100k_pairs_150_times(folder: Path) -> Path:
    """OrderedDict(list of 100,000 pairs) 150 times through the memo: 120 MB charged, ~1.2 GB allocated (1.3 MB
    file)."""
    pairs = EMPTY_LIST + MARK + b"".join(I(i) + b"N" + TUPLE2 for i in range(100_000)) + APPENDS + MEMOIZE
    body = pairs + G("collections", "OrderedDict") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(150)) + APPENDS
    return torch_zip(folder / "odict_pairs.pth", PROTO4 + body + STOP)


@case(
    "r2-bombs",
    REFUSED,
    note="round 2 finding: pathlib constructors are not charged: 8 bytes per part per call, ~0.4 s per call",
)
def pure_paths_of_a_million_parts_80_times(folder: Path) -> Path:
    """PurePosixPath('ab/ab/…') of one memo'd 3 MB string (1M parts), 80 times: 650 MB and ~30 s."""
    body = U("ab/" * (1 << 20)) + MEMOIZE + G("pathlib", "PurePosixPath") + MEMOIZE + b"0"
    body += EMPTY_LIST + MARK + b"".join(get(1) + tup(get(0)) + REDUCE for _ in range(80)) + APPENDS
    return torch_zip(folder / "pure_paths.pth", PROTO4 + body + STOP)


@case(
    "r2-bombs",
    REFUSED,
    note="round 2 finding: EMPTY_DICT (1 byte) is never charged: ~90 bytes of objects per byte, and slow",
)
def two_and_a_half_million_empty_dicts(folder: Path) -> Path:
    """A list of 2.5M empty dicts, one opcode byte each (2.5 MB file, ~700 MB and ~25 s to list)."""
    body = EMPTY_LIST + MARK + EMPTY_DICT * 2_500_000 + APPENDS
    return torch_zip(folder / "empty_dicts.pth", PROTO4 + body + STOP)


@case(
    "r2-bombs",
    LISTED,
    note="round 2 finding: dcp.py _read_bytes gives every entry its own 256 MiB budget and keeps the value",
)
def dcp_bytes_entries_with_a_budget_each(folder: Path) -> Path:
    """8 DCP non-tensor entries point at one 1 KB archive whose data.pkl is bytearray(200 MiB):
    each is read with a fresh budget and kept (1.6 GB from 14 KB; 1,000 entries would be 200 GB)."""
    import warnings

    import torch.distributed.checkpoint as dcp

    path = folder / "dcp_budgets"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save({"model": {"w": torch.ones(4)}, "extra": {f"k{i}": i for i in range(8)}}, checkpoint_id=path)
    blob_file = torch_zip(folder / "blob.pth", PROTO4 + G("builtins", "bytearray") + tup(I(200 << 20)) + REDUCE + STOP)
    blob = blob_file.read_bytes()
    blob_file.unlink()
    shard = next(path.glob("*.distcp"))
    at = shard.stat().st_size
    with open(shard, "ab") as f:
        f.write(blob)

    def change(m: dict) -> None:
        for index, info in m["storage_data"].items():
            if index.fqn.startswith("extra."):
                info.offset, info.length = at, len(blob)

    _dcp_metadata_edit(path, change)
    return path


@case("r2-bombs", REFUSED, note="round 2 finding (memory): json.loads of the header, ~24 bytes of objects per byte")
def safetensors_header_of_20m_empty_objects(folder: Path) -> Path:
    """A 60 MB safetensors header whose one tensor carries an unknown field of 20M '{}'."""
    junk = "[" + ",".join(["{}"] * 20_000_000) + "]"
    raw = ('{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4], "junk": ' + junk + "}}").encode()
    path = folder / "junk_header.safetensors"
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + b"\0\0\0\0")
    return path


@case("r2-bombs", REFUSED, note="held: FRAME length is read from a real file (legacy), the allocation fails cleanly")
def legacy_frame_of_a_petabyte(folder: Path) -> Path:
    """A legacy file whose object pickle opens a FRAME of 2**50 bytes (BufferedReader allocates first)."""
    path = folder / "legacy_frame.pt"
    torch.save({"w": torch.ones(2)}, path, _use_new_zipfile_serialization=False)
    data = path.read_bytes()
    heads = [pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001)]
    start = len(heads[0]) + len(heads[1])
    start = data.index(b"\x80\x02", start + 1)  # the system-info pickle, then the object pickle
    obj = data.index(b"\x80\x02", start + 1)
    bomb = b"\x80\x04" + FRAME + struct.pack("<Q", 1 << 50) + b"}."
    path.write_bytes(data[:obj] + bomb + data[obj:])
    return path


@case("r2-bombs", REFUSED, note="held: BINUNICODE8 longer than the pickle")
def binunicode8_past_the_end(folder: Path) -> Path:
    """BINUNICODE8 of 2**40 bytes in a 30-byte data.pkl."""
    return torch_zip(folder / "binunicode8.pth", PROTO4 + b"\x8d" + struct.pack("<Q", 1 << 40) + b"abc" + STOP)


# r2-time: hangs from a small file -----------------------------------------------------------------


@case(
    "r2-time",
    LISTED,
    note="broke at 8ebc0d7 with 23k parts (raw_path O(levels x parts^2), minutes); keys over 16K are now refused",
)
def state_dict_path_of_8k_dotted_parts(folder: Path) -> Path:
    """The model state_dict under 188 levels of one memo'd 'a.a…' key (21 dots): an 8,271-part
    state_dict key just under the 16,384-character key limit. strip, rename, graft and compat must
    find it fast (the old raw_path joined O(parts) strings of O(parts) length per level)."""
    pkl = PROTO4 + U("a." * 21 + "a") + MEMOIZE
    cur = EMPTY_DICT + MARK + U("module.w") + tensor_v2("0", 4, (4,), (1,))
    cur += U("module.b") + tensor_v2("0", 4, (4,), (1,)) + SETITEMS
    for _ in range(188):
        cur = EMPTY_DICT + get(0) + cur + SETITEM
    return torch_zip(folder / "dotted_path.pth", pkl + cur + STOP, _W_DATA)


_MERSENNE = (1 << 61) - 1  # hash(int) is int mod 2**61-1: not randomised


@case("r2-time", REFUSED, note="round 2 finding: 120,000 int keys with one hash: quadratic dict insertion (minutes)")
def int_keys_with_one_hash(folder: Path) -> Path:
    """A dict of 120,000 int keys that are all multiples of 2**61-1 (hash 0): ~2 MB, minutes to build."""
    items = b"".join(I(i * _MERSENNE) + b"N" for i in range(1, 120_001))
    return torch_zip(folder / "int_collide.pth", PROTO4 + EMPTY_DICT + MARK + items + SETITEMS + STOP)


@case("r2-time", REFUSED, note="round 2 finding: the same collision through ADDITEMS into a set")
def set_of_ints_with_one_hash(folder: Path) -> Path:
    """A set of 120,000 ints with hash 0."""
    items = b"".join(I(i * _MERSENNE) for i in range(1, 120_001))
    return torch_zip(folder / "set_collide.pth", PROTO4 + EMPTY_SET + MARK + items + ADDITEMS + STOP)


@case("r2-time", LISTED, note="false refusal of the collision guard: one key value in many dicts is not a collision")
def seventy_optimizer_state_dicts(folder: Path) -> Path:
    """A plain training checkpoint with 70 Adam state_dicts (each has state {0: ..., 1: ...}) and a
    list of 100 dicts keyed 0 and 1: the same int keys in many dicts, no two colliding in one dict."""
    model = torch.nn.Linear(2, 2)
    optimizers = [torch.optim.Adam(model.parameters()) for _ in range(70)]
    for opt in optimizers:
        model(torch.ones(2)).sum().backward()
        opt.step()
    path = folder / "many_optimizers.pth"
    torch.save({"model": model.state_dict(), "optimizers": [o.state_dict() for o in optimizers],
                "per_layer": [{0: i, 1: i} for i in range(100)]}, path)  # fmt: skip
    return path


# r2-differs: what is shown is not what torch.load returns --------------------------------------------


@case(
    "r2-differs",
    LISTED,
    note="round 2 finding: torch_zip.py swaps by the tensor's dtype, torch by the storage's (no swap)",
)
def big_endian_v3_tensor_over_a_byte_storage(folder: Path) -> Path:
    """byteorder 'big', a float32 tensor (_rebuild_tensor_v3) over a ByteStorage: torch.load does not
    swap a byte storage; ckptviewer swaps the float32 values (shows 1.5 where torch returns 6.9e-41)."""
    body = EMPTY_DICT + U("w") + _tensor_v3("0", 8, (2,), (1,), "float32") + SETITEM
    return _zip_with_byteorder(folder / "be_v3.pth", PROTO4 + body + STOP, {"data/0": struct.pack(">2f", 1.5, -2.0)},
                               b"big")  # fmt: skip


@case(
    "r2-differs",
    REFUSED,
    note="round 2 finding: torch_legacy.py checks a view's offset in its own units against the root's element count",
)
def legacy_view_in_other_units_than_its_root(folder: Path) -> Path:
    """A legacy ByteStorage root of 16 bytes and a DoubleStorage view (offset 15, size 1) of it:
    offset + size <= 16 passes, the view reads bytes 120..128 (past the storage, from trailing data);
    torch.load refuses the file."""

    def pid(kind: str, numel: int, view: tuple | None) -> bytes:
        v = b"N" if view is None else tup(U(view[0]), I(view[1]), I(view[2]))
        return tup(U("storage"), G("torch", kind), U("0"), U("cpu"), I(numel), v) + BINPERSID

    def t2(p: bytes, size: tuple) -> bytes:
        hooks = G("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE
        args = tup(p, I(0), tup(*map(I, size)), tup(I(1)), b"\x89", hooks)
        return G("torch._utils", "_rebuild_tensor_v2") + args + REDUCE

    body = EMPTY_DICT + MARK + U("a") + t2(pid("ByteStorage", 16, None), (16,))
    body += U("b") + t2(pid("DoubleStorage", 16, ("v", 15, 1)), (1,)) + SETITEMS
    path = folder / "legacy_view.pt"
    with open(path, "wb") as f:
        pickle.dump(0x1950A86A20F9469CFC6C, f, protocol=2)
        pickle.dump(1001, f, protocol=2)
        pickle.dump({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}},
                    f, protocol=2)  # fmt: skip
        f.write(b"\x80\x02" + body + STOP)
        pickle.dump(["0"], f, protocol=2)
        f.write(struct.pack("<q", 16) + bytes(range(16)))
        f.write(struct.pack("<d", 12345.5) * 20)  # what the view shows
    return path


@case(
    "r2-differs",
    REFUSED,
    note="round 2 finding: dcp.py counts covered elements; overlapping chunks hide a gap (shown as zeros)",
)
def dcp_chunks_overlap_and_leave_a_gap(folder: Path) -> Path:
    """model.w declared 8x4 with two 4x4 chunks at rows 0 and 2: 32 elements 'covered', rows 2-3
    twice, rows 6-7 never."""
    from torch.distributed.checkpoint.metadata import ChunkStorageMetadata, MetadataIndex

    def change(m: dict) -> None:
        t = m["state_dict_metadata"]["model.w"]
        t.size = torch.Size([8, 4])
        t.chunks.append(ChunkStorageMetadata(offsets=torch.Size([2, 0]), sizes=t.chunks[0].sizes))
        for index in list(m["storage_data"]):
            if index.fqn == "model.w":
                m["storage_data"][MetadataIndex("model.w", torch.Size([2, 0]), index.index)] = m["storage_data"][index]

    return _dcp(folder, "dcp_overlap", lambda p: _dcp_metadata_edit(p, change))


@case(
    "r2-differs",
    LISTED,
    note="round 2 finding (see test_redteam): dcp.py puts entry 'model' over the group 'model': 0 tensors listed",
)
def dcp_entry_named_like_a_group(folder: Path) -> Path:
    """A DCP non-tensor entry named 'model' after 'model.w' and 'model.b': the listing drops both tensors."""
    from torch.distributed.checkpoint.metadata import MetadataIndex

    def change(m: dict) -> None:
        sd = m["state_dict_metadata"]
        sd["model"] = sd.pop("step")
        for index in list(m["storage_data"]):
            if index.fqn == "step":
                m["storage_data"][MetadataIndex("model", None, index.index)] = m["storage_data"].pop(index)

    return _dcp(folder, "dcp_shadow", lambda p: _dcp_metadata_edit(p, change))


@case("r2-differs", REFUSED, note="round 2 finding: an unknown byteorder is a warning; torch.load refuses the file")
def byteorder_neither_little_nor_big(folder: Path) -> Path:
    """byteorder 'middle': torch.load raises; ckptviewer lists the data as little-endian."""
    return _zip_with_byteorder(folder / "middle.pth", _w(), _W_DATA, b"middle")


@case(
    "r2-differs",
    REFUSED,
    note="round 2 finding: safetensors_file.py takes a falsy __metadata__ ([] or '') as none; the library refuses it",
)
def safetensors_metadata_that_is_a_list(folder: Path) -> Path:
    """ "__metadata__": [] next to a valid tensor."""
    header = {"__metadata__": [], "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    return _safetensors(folder / "meta_list.safetensors", header, b"\0" * 4)


@case("r2-differs", REFUSED, note="held: the records under another prefix are not torch's records")
def zip_records_under_two_prefixes(folder: Path) -> Path:
    """data.pkl under 'a/', its storage under 'b/data/0'."""
    path = folder / "two_prefixes.pth"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/data.pkl", _w())
        z.writestr("a/byteorder", b"little")
        z.writestr("b/data/0", _W_DATA["data/0"])
        z.writestr("a/version", b"3\n")
    return path


@case("r2-differs", REFUSED, note="held: a storage record named with '..'")
def zip_storage_key_with_dot_dot(folder: Path) -> Path:
    """A storage key '../data.pkl' (the record data/../data.pkl does not exist)."""
    body = EMPTY_DICT + U("w") + tensor_v2("../data.pkl", 4, (4,), (1,)) + SETITEM
    return torch_zip(folder / "dotdot.pth", PROTO4 + body + STOP)


# r2-smaller: objects the rest of the product does not expect ------------------------------------------


@case(
    "r2-smaller",
    REFUSED,
    note="broke at 8ebc0d7: a memoryview in the tree made strip fail with 'unexpected TypeError'; torch refuses it",
)
def memoryview_from_readonly_buffer(folder: Path) -> Path:
    """PROTO 5: BYTEARRAY8 then READONLY_BUFFER: a memoryview next to a tensor."""
    extra = BYTEARRAY8 + struct.pack("<Q", 4) + b"abcd" + READONLY_BUFFER
    return torch_zip(folder / "memoryview.pth", _w(extra, PROTO5), _W_DATA)


@case(
    "r2-smaller", LISTED, note="round 2 finding (see test_redteam): saved back as ckptviewer.core.unpickle.StorageType"
)
def storage_class_as_a_value(folder: Path) -> Path:
    """torch.FloatStorage (the class) as a value: torch.load(weights_only=True) accepts it; a strip
    writes ckptviewer's own StorageType, which torch.load then refuses."""
    return torch_zip(folder / "storage_class.pth", _w(G("torch", "FloatStorage")), _W_DATA)


@case("r2-smaller", LISTED, note="round 2 finding (see test_redteam): the stand-in NumpyDtype is saved into outputs")
def numpy_dtype_object_as_a_value(folder: Path) -> Path:
    """numpy.dtype('f4') on its own (not inside an array): the validating stand-in stays in the tree."""
    return torch_zip(folder / "np_dtype.pth", _w(G("numpy", "dtype") + tup(U("f4")) + REDUCE), _W_DATA)


@case(
    "r2-smaller",
    LISTED,
    note="round 2 finding: refused; _defaultdict compares the factory with list, find_class hands out safe_list",
)
def defaultdict_of_list_from_torch_save(folder: Path) -> Path:
    """collections.defaultdict(list) saved by torch.save next to a tensor (a false refusal)."""
    import collections

    path = folder / "defaultdict.pth"
    torch.save({"w": torch.ones(2), "x": collections.defaultdict(list, a=[1])}, path)
    return path


def _odd_dtype(folder: Path, dtype: str, nbytes: int) -> Path:
    n = nbytes // getattr(torch, dtype).itemsize
    body = EMPTY_DICT + MARK + U("w") + _tensor_v3("0", nbytes, (n,), (1,), dtype)
    body += U("ok") + tensor_v2("1", 4, (4,), (1,)) + SETITEMS
    return torch_zip(folder / f"dtype_{dtype}.pth", PROTO4 + body + STOP,
                     {"data/0": bytes(range(nbytes)), "data/1": _W_DATA["data/0"]})  # fmt: skip


@case("r2-smaller", LISTED, stats=REFUSED, diff=REFUSED, gui=REFUSED,
      note="round 2 finding: stats 'unexpected' (aminmax on uint4); strip: torch.save fails")  # fmt: skip
def dtype_uint4_tensor(folder: Path) -> Path:
    """A torch.uint4 tensor (torch.load returns it; torch cannot reduce it)."""
    return _odd_dtype(folder, "uint4", 8)


@case("r2-smaller", LISTED, stats=REFUSED, diff=REFUSED, gui=REFUSED,
      note="round 2 finding: stats 'unexpected' (copy_kernel, Float4_e2m1fn_x2)")  # fmt: skip
def dtype_float4_tensor(folder: Path) -> Path:
    """A torch.float4_e2m1fn_x2 tensor."""
    return _odd_dtype(folder, "float4_e2m1fn_x2", 8)


@case("r2-smaller", LISTED, stats=REFUSED, diff=REFUSED, gui=REFUSED,
      note="round 2 finding: 'aminmax_cpu not implemented for Bits8'; strip: torch.save cannot write it")  # fmt: skip
def dtype_bits8_tensor(folder: Path) -> Path:
    """A torch.bits8 tensor."""
    return _odd_dtype(folder, "bits8", 8)


@case("r2-smaller", REFUSED, note="round 2 finding: a qint8 tensor without a quantizer: INTERNAL ASSERT in stats")
def dtype_qint8_plain_record(folder: Path) -> Path:
    """_rebuild_tensor_v3 with dtype torch.qint8 (not _rebuild_qtensor): a quantized dtype, no quantizer."""
    return _odd_dtype(folder, "qint8", 8)


@case("r2-smaller", REFUSED, note="round 2 finding: dcp.py read: torch.zeros(dtype=quint8), unexpected error")
def dcp_tensor_of_a_quantized_dtype(folder: Path) -> Path:
    """A DCP tensor whose metadata says torch.quint8."""

    def change(m: dict) -> None:
        m["state_dict_metadata"]["model.w"].properties.dtype = torch.quint8

    return _dcp(folder, "dcp_quint8", lambda p: _dcp_metadata_edit(p, change))


@case("r2-smaller", LISTED, stats=REFUSED, diff=REFUSED, convert=REFUSED, gui=REFUSED,
      note="round 2 finding: stats/scan/diff/convert 'unexpected' errors (no data); the window reports it")  # fmt: skip
def meta_tensor_saved_by_torch(folder: Path) -> Path:
    """torch.save of a meta tensor (deferred-init models write these) next to a real one."""
    path = folder / "meta.pth"
    torch.save({"m": torch.empty(4, 4, device="meta"), "w": torch.ones(2)}, path)
    return path


@case(
    "r2-smaller",
    LISTED,
    note="round 2 finding: ckpt tree --json recurses once per key part (RecursionError), see test_redteam",
)
def key_of_1200_dotted_parts(folder: Path) -> Path:
    """A torch.save'd state_dict whose one key has 1,200 dots (2.4 KB)."""
    path = folder / "dots1200.pth"
    torch.save({"a." * 1200 + "w": torch.ones(2)}, path)
    return path


@case("r2-smaller", LISTED, note="listed; the recipe of an edit breaks (see test_redteam)")
def huge_int_key_above_the_state_dict(folder: Path) -> Path:
    """The model state_dict under an int key of 5,000 digits (repr refuses ints past 4,300 digits)."""
    body = EMPTY_DICT + I(10**5000) + EMPTY_DICT + MARK + U("module.w") + tensor_v2("0", 4, (4,), (1,))
    body += U("module.b") + tensor_v2("0", 4, (4,), (1,)) + SETITEMS + SETITEM
    return torch_zip(folder / "huge_int_key.pth", PROTO4 + body + STOP, _W_DATA)


@case("r2-smaller", LISTED, note="listed; graft of it breaks (see test_redteam)")
def state_dict_with_int_keys(folder: Path) -> Path:
    """{'model': {0: tensor, 1: tensor}} as torch.save writes it."""
    path = folder / "int_keys.pth"
    torch.save({"model": {0: torch.ones(2), 1: torch.zeros(3)}}, path)
    return path


@case(
    "r2-smaller",
    LISTED,
    note="round 2: contiguous strides of [0, 2**61, 2**61] overflow int64; held: empty tensors get zero strides",
)
def safetensors_zero_size_tensors_of_huge_dims(folder: Path) -> Path:
    """Tensors of shape [2**61, 0] and [0, 2**61, 2**61] (no bytes) next to a real one."""
    header = {"a": {"dtype": "F32", "shape": [1 << 61, 0], "data_offsets": [0, 0]},
              "b": {"dtype": "BF16", "shape": [0, 1 << 61, 1 << 61], "data_offsets": [0, 0]},
              "w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}  # fmt: skip
    return _safetensors(folder / "zero_huge.safetensors", header, b"\0" * 8)


@case("r2-smaller", REFUSED, note="held: torch's own overflow check")
def nested_tensor_offset_overflow(folder: Path) -> Path:
    """A nested tensor component at offset 2**62 whose reach wraps int64 in the validation."""
    recs = {"data/0": struct.pack("<4f", 1, 2, 3, 4), "data/1": struct.pack("<2q", (1 << 61) + 1, 1),
            "data/2": struct.pack("<2q", 2, 1), "data/3": struct.pack("<q", 1 << 62)}  # fmt: skip
    call = G("torch._utils", "_rebuild_nested_tensor") + tup(
        tensor_v2("0", 4, (4,), (1,)), tensor_v2("1", 2, (1, 2), (2, 1), kind="LongStorage"),
        tensor_v2("2", 2, (1, 2), (2, 1), kind="LongStorage"), tensor_v2("3", 1, (1,), (1,), kind="LongStorage"),
    ) + REDUCE  # fmt: skip
    return torch_zip(folder / "nested_overflow.pth", PROTO4 + EMPTY_DICT + U("n") + call + SETITEM + STOP, recs)


@case("r2-smaller", REFUSED, note="held: the quantized tensor is allocated by torch before set_ (1 TB fails)")
def quantized_stride_zero_of_a_terabyte(folder: Path) -> Path:
    """_rebuild_qtensor of 2**40 elements with stride 0 over 1 stored byte."""
    q = G("torch._utils", "_rebuild_qtensor") + tup(
        storage_pid("0", 1, "QInt8Storage"), I(0), tup(I(1 << 40)), tup(I(0)),
        tup(G("torch", "per_tensor_affine"), b"G" + struct.pack(">d", 0.1), I(0)), b"\x89",
        G("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE,
    ) + REDUCE  # fmt: skip
    return torch_zip(folder / "qtensor_huge.pth", PROTO4 + EMPTY_DICT + U("q") + q + SETITEM + STOP, {"data/0": b"\1"})


# r2-code: opcodes the pure-Python unpickler supports ----------------------------------------------------


@case("r2-code", REFUSED, note="held: no extension codes registered")
def ext1_extension_code(folder: Path) -> Path:
    """EXT1 0x01 (copyreg's extension registry) as the object."""
    return torch_zip(folder / "ext1.pth", PROTO4 + b"\x82\x01" + STOP)


@case("r2-code", REFUSED, note="held: a text persistent id is not a storage tuple")
def persid_text_opcode(folder: Path) -> Path:
    """PERSID with a text id."""
    return torch_zip(folder / "persid.pth", PROTO4 + b"Pstorage\n" + STOP)


@case("r2-code", REFUSED, note="held: INST/OBJ instantiate placeholders only")
def inst_of_builtins_eval(folder: Path) -> Path:
    """INST builtins.eval with a payload string; OBJ of builtins.list."""
    marker = os.environ.get(MARKER, "/tmp/ckptviewer-hostile-marker")
    inst = MARK + U(f"__import__('os').system('touch {marker}')") + b"ibuiltins\neval\n"
    obj = MARK + G("builtins", "list") + U("abc") + b"o"
    return torch_zip(folder / "inst.pth", PROTO4 + EMPTY_LIST + MARK + obj + inst + APPENDS + STOP)


@case("r2-code", LISTED, note="held: NEWOBJ_EX makes a bare Namespace, its kwargs are not applied")
def newobj_ex_namespace_with_kwargs(folder: Path) -> Path:
    """NEWOBJ_EX argparse.Namespace with kwargs {'__class__': ..., '__dict__': ...}."""
    kwargs = EMPTY_DICT + MARK + U("__class__") + G("posix", "system") + U("__dict__") + EMPTY_DICT + SETITEMS
    extra = G("argparse", "Namespace") + EMPTY_TUPLE + kwargs + b"\x92"
    return torch_zip(folder / "newobj_ex.pth", _w(extra), _W_DATA)


@case("r2-code", REFUSED, note="held: BUILD refuses dunder keys in state and slotstate")
def build_slotstate_with_dunder_keys(folder: Path) -> Path:
    """BUILD (None, {'__class__': posix.system}) on a Namespace."""
    state = tup(b"N", EMPTY_DICT + U("__class__") + G("posix", "system") + SETITEM)
    extra = G("argparse", "Namespace") + EMPTY_TUPLE + REDUCE + state + BUILD
    return torch_zip(folder / "slotstate.pth", _w(extra), _W_DATA)


@case("r2-code", REFUSED, note="held: copyreg._reconstructor only for related approved types")
def reconstructor_list_on_dict_base(folder: Path) -> Path:
    """copyreg._reconstructor(builtins.list, builtins.dict, None) and (OrderedDict, list, None)."""
    a = G("copyreg", "_reconstructor") + tup(G("builtins", "list"), G("builtins", "dict"), b"N") + REDUCE
    b = G("copyreg", "_reconstructor") + tup(G("collections", "OrderedDict"), G("builtins", "list"), b"N") + REDUCE
    return torch_zip(folder / "reconstructor.pth", PROTO4 + EMPTY_LIST + MARK + a + b + APPENDS + STOP)


@case("r2-code", REFUSED, note="held: GLOBAL names that are not UTF-8 end the load")
def global_with_a_non_utf8_name(folder: Path) -> Path:
    """GLOBAL 'posix\\xff' 'system'."""
    return torch_zip(folder / "global_bytes.pth", PROTO4 + b"cposix\xff\nsystem\n" + EMPTY_TUPLE + REDUCE + STOP)


@case("r2-code", REFUSED, note="held: no out-of-band buffers")
def proto5_next_buffer(folder: Path) -> Path:
    """PROTO 5 NEXT_BUFFER."""
    return torch_zip(folder / "next_buffer.pth", PROTO5 + b"\x97" + STOP)


@case("r2-code", REFUSED, note="held: the enum lookup refuses the value")
def torch_enum_of_a_huge_value(folder: Path) -> Path:
    """torch.utils.dlpack.DLDeviceType(10**5000)."""
    extra = G("torch.utils.dlpack", "DLDeviceType") + tup(I(10**5000)) + REDUCE
    return torch_zip(folder / "enum_huge.pth", _w(extra), _W_DATA)


# r2-outside: folders -------------------------------------------------------------------------------------


@case("r2-outside", LISTED, note="held: a NUL in a shard name reads as a missing shard")
def hf_shard_name_with_a_nul(folder: Path) -> Path:
    """weight_map names shards 'model\\x00..' and 'model.safetensors\\x00.txt' (a NUL, no separator)."""
    path = _hf_folder(folder, "hf_nul")
    index = json.loads((path / "model.safetensors.index.json").read_text())
    index["weight_map"]["c"] = "model\x00.."
    index["weight_map"]["d"] = "model-00001-of-00002.safetensors\x00.txt"
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    return path


@case("r2-outside", REFUSED, note="held: the index is not a weight file")
def hf_index_names_itself_as_a_shard(folder: Path) -> Path:
    """weight_map 'a' -> model.safetensors.index.json."""
    path = _hf_folder(folder, "hf_self")
    index = json.loads((path / "model.safetensors.index.json").read_text())
    index["weight_map"]["a"] = "model.safetensors.index.json"
    (path / "model.safetensors.index.json").write_text(json.dumps(index))
    return path


@case("r2-outside", LISTED, note="held: FIFOs are neither shards nor configs (never opened)")
def hf_shard_and_config_are_fifos(folder: Path) -> Path:
    """The second shard and config.json are named pipes inside the folder (opening one would block)."""
    path = _hf_folder(folder, "hf_fifo")
    (path / "model-00002-of-00002.safetensors").unlink()
    os.mkfifo(path / "model-00002-of-00002.safetensors")
    os.mkfifo(path / "config.json")
    return path


@case("r2-outside", LISTED, note="held: the entry's own archive is refused, the entry shown as unreadable")
def dcp_entry_whose_archive_is_a_dag_bomb(folder: Path) -> Path:
    """A DCP non-tensor entry whose torch.save archive holds a DAG bomb."""
    import warnings

    import torch.distributed.checkpoint as dcp

    path = folder / "dcp_entry_bomb"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dcp.save({"model": {"w": torch.ones(4)}, "step": 3}, checkpoint_id=path)
    body = EMPTY_LIST + MEMOIZE
    for i in range(60):
        body += EMPTY_LIST + MARK + get(i) + get(i) + APPENDS + MEMOIZE
    blob_file = torch_zip(folder / "dag_blob.pth", PROTO4 + body + STOP)
    blob = blob_file.read_bytes()
    blob_file.unlink()
    shard = next(path.glob("*.distcp"))
    at = shard.stat().st_size
    with open(shard, "ab") as f:
        f.write(blob)

    def change(m: dict) -> None:
        for index, info in m["storage_data"].items():
            if index.fqn == "step":
                info.offset, info.length = at, len(blob)

    _dcp_metadata_edit(path, change)
    return path


# r2-display: text the terminal cannot even encode -------------------------------------------------------


@case(
    "r2-display",
    LISTED,
    note="in-process runs pass (StringIO); a real terminal gets 'unexpected UnicodeEncodeError' (test_redteam)",
)
def lone_surrogates_in_keys(folder: Path) -> Path:
    """BINUNICODE decodes with surrogatepass: a key 'w\\ud800x' and metadata '\\udc80'."""

    def raw(data: bytes) -> bytes:
        return b"X" + struct.pack("<I", len(data)) + data

    body = EMPTY_DICT + MARK + raw(b"w\xed\xa0\x80x") + tensor_v2("0", 4, (4,), (1,))
    body += U("meta") + raw(b"m\xed\xb2\x80") + SETITEMS
    return torch_zip(folder / "surrogates.pth", PROTO4 + body + STOP, _W_DATA)


# --- writing the corpus ---------------------------------------------------------------------------------


def build_all(folder: Path, names: list[str] | None = None) -> dict[str, Path]:
    """Write every case (or ``names``) into ``folder``; name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for c in CASES:
        if names is None or c.name in names:
            sub = folder / c.name
            sub.mkdir(exist_ok=True)
            out[c.name] = c.build(sub)
    return out


def by_name() -> dict[str, Case]:
    return {c.name: c for c in CASES}


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "hostile-corpus")
    for name, path in build_all(target).items():
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
        print(f"{name:45s} {size:>12,} B  {path}")
