"""Structure-aware mutations: reach the unpickler and the validators, not the first magic check.

Every mutator is ``mutate(data, max_size, rng, base) -> bytes`` where ``base(data, max_size)``
is the byte-level mutation underneath (``atheris.Mutate``, libFuzzer's own mutations and
dictionary, or :func:`mutate_bytes` without atheris). A mutator that cannot parse its
input falls back to ``base`` on the raw bytes, so nothing gets stuck.

Imports only the standard library (it runs before ckptviewer is instrumented).
"""

from __future__ import annotations

import copy
import io
import itertools
import json
import pickletools
import random
import struct
import zipfile
from collections.abc import Callable

Base = Callable[[bytes, int], bytes]

# --- two-part inputs (DCP: .metadata + shard; HF: index json + shard) ----------------------------


def pack(first: bytes, second: bytes) -> bytes:
    """One fuzz input holding two files: u32 little-endian length of ``first``, ``first``, ``second``."""
    return struct.pack("<I", len(first)) + first + second


def unpack(data: bytes) -> tuple[bytes, bytes]:
    """The two files of a packed input; a short or lying length gives what is there."""
    if len(data) < 4:
        return data, b""
    (n,) = struct.unpack("<I", data[:4])
    return data[4 : 4 + n], data[4 + n :]


# --- byte-level mutation without atheris ----------------------------------------------------------

_INTERESTING = [
    b"\x00", b"\xff", b"\x7f", b"\x80", b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\xff\xff\xff\x7f",
    b"\x00\x00\x00\x80", b"\xff" * 8, b"\x00\x00\x00\x00\x00\x00\x00\x80", b"\x01\x00\x00\x00\x00\x00\x00\x00",
    b"-1", b"0", b"4294967296", b"9223372036854775807", b"1e309", b"NaN",
]  # fmt: skip


def mutate_bytes(
    data: bytes, max_size: int, rng: random.Random, tokens: list[bytes] = (), others: list[bytes] = ()
) -> bytes:
    """1-4 random byte edits (flip, set, insert, delete, duplicate, token, splice), at most ``max_size``."""
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        pos = rng.randrange(len(buf) + 1)
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.randrange(256)
        elif op == 2:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 3 and buf:
            del buf[pos : pos + rng.randint(1, 16)]
        elif op == 4 and buf:
            start = rng.randrange(len(buf))
            buf[pos:pos] = buf[start : start + rng.randint(1, 64)]
        elif op == 5:
            v = rng.choice(_INTERESTING)
            buf[pos : pos + (len(v) if rng.random() < 0.5 else 0)] = v
        elif op == 6 and tokens:
            buf[pos:pos] = rng.choice(tokens)
        elif op == 7 and others:
            other = rng.choice(others)
            if other:
                start = rng.randrange(len(other))
                buf[pos:] = other[start : start + rng.randint(1, 4096)] + buf[pos:][: rng.randint(0, 64)]
        elif op == 8 and buf:
            del buf[pos:]
    return bytes(buf[:max_size])


# --- zip: mutate the records inside a valid archive ------------------------------------------------


def read_zip(data: bytes) -> list[tuple[str, bytes]] | None:
    """The (name, bytes) records of a zip, or None if Python's zipfile cannot read it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return [(i.filename, zf.read(i)) for i in zf.infolist()]
    except Exception:  # any damage: the caller falls back to raw bytes
        return None


def write_zip(records: list[tuple[str, bytes]]) -> bytes:
    """A stored (uncompressed) zip of ``records`` in order, as torch writes them."""
    out = io.BytesIO()
    seen = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in records:
            if name in seen:
                continue
            seen.add(name)
            zf.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def mutate_zip(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Mostly data.pkl mutated inside a rebuilt zip; sometimes a storage record, byteorder or the record list."""
    records = read_zip(data)
    if not records:
        return base(data, max_size)
    pkl = next((i for i, (n, _) in enumerate(records) if n == "data.pkl" or n.endswith("/data.pkl")), None)
    prefix = records[pkl][0][: -len("data.pkl")] if pkl is not None else "archive/"
    storages = [i for i, (n, _) in enumerate(records) if n.startswith(prefix + "data/")]
    r = rng.random()
    if pkl is not None and r < 0.75:
        name, body = records[pkl]
        records[pkl] = (name, base(body, max(2 * len(body), 256)))
    elif storages and r < 0.85:
        i = rng.choice(storages)
        name, body = records[i]
        how = rng.randrange(3)
        if how == 0:
            body = body[: rng.randrange(len(body) + 1)]  # cut short
        elif how == 1:
            body = body + bytes(rng.randrange(64))  # longer than needed
        else:
            body = base(body, len(body) + 64)
        records[i] = (name, body)
    elif r < 0.9:
        order = rng.choice([b"little", b"big", b"", b"middle", b"\xff"])
        records = [(n, b) for n, b in records if not n.endswith("/byteorder")] + [(prefix + "byteorder", order)]
    elif r < 0.95 and len(records) > 1:
        del records[rng.randrange(len(records))]
    elif storages:
        i = rng.choice(storages)
        name, body = records[i]
        records[i] = (f"{prefix}data/{rng.choice(['0', '1', '7', '-1', '00', 'x'])}", body)
    else:
        return base(data, max_size)
    out = write_zip(records)
    return out if len(out) <= max_size else base(data, max_size)


# --- legacy torch.save: five pickles, then the storages ---------------------------------------------


def split_pickles(data: bytes, count: int = 5) -> list[bytes] | None:
    """``count`` consecutive pickles and the rest of the file, or None if they do not parse."""
    out, pos = [], 0
    try:
        for _ in range(count):
            ops = list(pickletools.genops(io.BytesIO(data[pos:])))
            if not ops:
                return None
            end = ops[-1][2] + 1  # the STOP opcode's position, plus itself
            out.append(data[pos : pos + end])
            pos += end
    except Exception:  # a damaged pickle stream: raw mutation instead
        return None
    out.append(data[pos:])
    return out


def mutate_legacy(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Mutate one of the pickles (mostly the object) or the storage bytes, keep the rest intact."""
    parts = split_pickles(data)
    if parts is None or rng.random() < 0.15:
        return base(data, max_size)
    i = rng.choices([0, 1, 2, 3, 4, 5], weights=[1, 1, 1, 12, 2, 3])[0]
    parts[i] = base(parts[i], max(2 * len(parts[i]), 256))
    out = b"".join(parts)
    return out if len(out) <= max_size else base(data, max_size)


# --- JSON: safetensors headers, HF indexes ----------------------------------------------------------

_JSON_VALUES = [
    0, 1, -1, 2**31, 2**32, 2**53 + 1, 2**63 - 1, 2**63, 2**64, -(2**63), 1e308, 0.5, True, None, "", "F32",
    "BF16", "F16", "I64", "U8", "BOOL", "F8_E4M3", "C64", "F64", "..", ".", "a/b", "x" * 300, [], {}, [0],
    [2**40, 2**40], [1, 0], [0, 0], {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
]  # fmt: skip


MAX_JSON_NODES = 5000  # structural edits look at this many nodes at most (bounded time and memory)


def _json_nodes(obj, path=()):
    yield path, obj
    if len(path) > 32:
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _json_nodes(v, (*path, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _json_nodes(v, (*path, i))


def mutate_json_value(obj, rng: random.Random):
    """One structural edit of parsed JSON: replace, delete, copy or nest a random node (copies, never shares)."""
    nodes = list(itertools.islice(_json_nodes(obj), MAX_JSON_NODES))
    path, node = rng.choice(nodes)
    if not path:
        return rng.choice([obj, [obj], {"__metadata__": obj}, rng.choice(_JSON_VALUES)])
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    last = path[-1]
    op = rng.randrange(6)
    if op == 0:
        parent[last] = copy.deepcopy(rng.choice(_JSON_VALUES))
    elif op == 1:
        del parent[last]
    elif op == 2 and isinstance(parent, dict):
        parent[rng.choice(["__metadata__", "weight_map", "x", str(last) + "2", ""])] = copy.deepcopy(node)
    elif op == 3 and isinstance(node, int) and not isinstance(node, bool):
        parent[last] = rng.choice([node + 1, node - 1, node * 2, -node, node + 2**32, node // 2])
    elif op == 4 and isinstance(node, list):
        node.append(copy.deepcopy(rng.choice(_JSON_VALUES) if rng.random() < 0.5 or not node else node[0]))
    else:
        other = rng.choice(nodes)[1]
        if isinstance(other, (dict, list)) and len(json.dumps(other)) > 4096:
            other = rng.choice(_JSON_VALUES)
        parent[last] = copy.deepcopy(other)  # a copy: never a cycle, never a shared subtree
    return obj


def mutate_json(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Half structural edits of the parsed document, half byte edits."""
    if rng.random() < 0.5 or len(data) > 32 << 10:
        return base(data, max_size)
    try:
        obj = json.loads(data)
    except Exception:  # not JSON (any more): byte edits
        return base(data, max_size)
    try:
        for _ in range(rng.randint(1, 3)):
            obj = mutate_json_value(obj, rng)
        out = json.dumps(obj, separators=(",", ":")).encode()
    except (RecursionError, ValueError, TypeError):  # deeply nested input: byte edits
        return base(data, max_size)
    return out if len(out) <= max_size else base(data, max_size)


def mutate_safetensors(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Mutate the JSON header (and fix its length prefix), or the whole file's bytes."""
    if len(data) < 8 or rng.random() < 0.25:
        return base(data, max_size)
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        return base(data, max_size)
    header, rest = data[8 : 8 + n], data[8 + n :]
    header = mutate_json(header, max_size, rng, base)
    if rng.random() < 0.1:
        rest = rest[: rng.randrange(len(rest) + 1)]
    out = struct.pack("<Q", len(header)) + header + rest
    return out if len(out) <= max_size else base(data, max_size)


def mutate_dcp(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Mostly the .metadata pickle; sometimes the shard file."""
    meta, shard = unpack(data)
    if rng.random() < 0.8:
        meta = base(meta, max(2 * len(meta), 256))
    else:
        shard = base(shard, len(shard) + 256)
    out = pack(meta, shard)
    return out if len(out) <= max_size else base(data, max_size)


def mutate_hf(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    """Mostly the index JSON (structurally or bytewise); sometimes the shard."""
    index, shard = unpack(data)
    if rng.random() < 0.7:
        index = mutate_json(index, max(2 * len(index), 256), rng, base)
    elif shard[:2] == b"PK":
        shard = mutate_zip(shard, len(shard) + 4096, rng, base)
    else:
        shard = mutate_safetensors(shard, len(shard) + 4096, rng, base)
    out = pack(index, shard)
    return out if len(out) <= max_size else base(data, max_size)


def mutate_raw(data: bytes, max_size: int, rng: random.Random, base: Base) -> bytes:
    return base(data, max_size)


MUTATORS: dict[str, Callable[[bytes, int, random.Random, Base], bytes]] = {
    "unpickle": mutate_raw,
    "zip_pkl": mutate_zip,
    "zip_raw": mutate_raw,
    "legacy": mutate_legacy,
    "safetensors": mutate_safetensors,
    "dcp": mutate_dcp,
    "hf": mutate_hf,
}
