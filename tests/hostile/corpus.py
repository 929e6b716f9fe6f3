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
