"""Hand-written pickle opcodes for hostile checkpoints (what torch.save never writes)."""

from __future__ import annotations

import struct
from pathlib import Path

import torch


def write_zip(path: Path, data_pkl: bytes, storages: dict[str, bytes] | None = None) -> Path:
    """A torch zip archive (written by torch's own writer) around a hand-made data.pkl."""
    w = torch._C.PyTorchFileWriter(str(path))
    w.write_record("data.pkl", data_pkl, len(data_pkl))
    w.write_record("byteorder", b"little", 6)
    for key, data in (storages or {}).items():
        w.write_record(f"data/{key}", data, len(data))
    w.write_record("version", b"3\n", 2)
    w.write_end_of_file()
    del w
    return path


def G(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def U(text: str) -> bytes:
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def I(n: int) -> bytes:  # noqa: E743 - the pickle opcode's name
    if 0 <= n < 256:
        return b"K" + bytes([n])
    if -(2**31) <= n < 2**31:
        return b"J" + struct.pack("<i", n)
    raw = n.to_bytes((n.bit_length() + 8) // 8, "little", signed=True)
    return b"\x8b" + struct.pack("<I", len(raw)) + raw


def B(data: bytes) -> bytes:
    return b"B" + struct.pack("<I", len(data)) + data


MARK, TUPLE, EMPTY_TUPLE, REDUCE, BUILD, STOP = b"(", b"t", b")", b"R", b"b", b"."
EMPTY_DICT, EMPTY_LIST, SETITEM, SETITEMS, APPENDS, NONE = b"}", b"]", b"s", b"u", b"e", b"N"
TRUE, FALSE, BINPERSID, HDR = b"\x88", b"\x89", b"Q", b"\x80\x02"


def tup(*items: bytes) -> bytes:
    return MARK + b"".join(items) + TUPLE


def call(fn: bytes, *args: bytes) -> bytes:
    return fn + tup(*args) + REDUCE


def dct(**items: bytes) -> bytes:
    return EMPTY_DICT + (MARK + b"".join(U(k) + v for k, v in items.items()) + SETITEMS if items else b"")


def plist(*items: bytes) -> bytes:
    return EMPTY_LIST + MARK + b"".join(items) + APPENDS


def tensor(size: tuple[int, ...] = (4,), stride: tuple[int, ...] = (1,), numel: int = 4) -> bytes:
    pid = tup(U("storage"), G("torch", "FloatStorage"), U("0"), U("cpu"), I(numel)) + BINPERSID
    return call(G("torch._utils", "_rebuild_tensor_v2"), pid, I(0), tup(*map(I, size)), tup(*map(I, stride)),
                FALSE, call(G("collections", "OrderedDict")))  # fmt: skip


def checkpoint(path: Path, body: bytes, with_storage: bool = False) -> Path:
    """``body`` (one object's opcodes) as the data.pkl of a torch zip file."""
    storages = {"0": struct.pack("<4f", 1, 2, 3, 4)} if with_storage else None
    return write_zip(path, HDR + body + STOP, storages)
