"""Reader for GGUF files (llama.cpp): header, key-value metadata and tensor infos parsed
with limits; tensor data read (and dequantized) only when a statistic needs it.

The header is parsed here, not by ``gguf.GGUFReader`` (which memory-maps the whole file
and trusts its counts): every count, length and offset is checked against the bytes that
are left and against fixed limits before anything is allocated. Listing imports neither
torch nor the ``gguf`` package (numpy, yaml: ~0.13 s); the GGML type table below is
checked against ``gguf.GGML_QUANT_SIZES`` by the tests, and ``gguf.quants.dequantize``
does the dequantizing.

Shapes are shown in PyTorch order: GGUF lists dimensions fastest-varying first
(``ne[0]`` is a row's length), so they are reversed. Plain types (F32, F16, BF16, F64,
I8..I64) become :class:`LazyTensor` records over the file's memory map; quantized types
become :class:`GgufQuantTensor`, dequantized to float32 in chunks when materialized.
"""

from __future__ import annotations

import bisect
import itertools
import math
import struct
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from ..dtype_names import itemsize, torch_dtype
from ..errors import CheckpointError
from ..filemap import file_backed_empty, map_file, view
from ..lazy import DeferredTensor, LazyTensor, StorageRef, contiguous_stride
from . import Loaded
from .sniff import GGUF

if TYPE_CHECKING:
    import torch

MAX_HEADER = 256 << 20  # header bytes (a 256k-token vocabulary takes a few MB)
MAX_TENSORS = 1 << 20
MAX_KVS = 1 << 16  # a model has some 50
MAX_NAME = 1 << 16  # bytes of a key or tensor name (llama.cpp's names are at most 64)
MAX_NESTING = 4  # arrays of arrays
# items walked one by one over the whole header (~0.25 µs a string, ~4 µs an inner array):
# a vocabulary and its merges are a few 100,000 strings; arrays of arrays are rare and short
MAX_STRINGS = 1 << 22
MAX_INNER_ARRAYS = 1 << 16
MAX_DIMS = 8
MAX_ALIGNMENT = 1 << 20
DEFAULT_ALIGNMENT = 32
SHOWN_ITEMS = 8  # a long array in the metadata: its length and this many first items
SHORT_ARRAY = 16  # arrays up to this long are shown whole
MAX_TEXT = 2000  # characters of a string value kept for display
MAX_DEQUANT_BYTES = 8 << 30  # float32 bytes one quantized tensor may dequantize to
CHUNK_VALUES = 1 << 20  # values dequantized per step
_READ = 1 << 20  # header bytes read per request

# GGML type id -> (name, values per block, bytes per block); see gguf.GGML_QUANT_SIZES
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84), 11: ("Q3_K", 256, 110),
    12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210), 15: ("Q8_K", 256, 292),
    16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98), 19: ("IQ1_S", 256, 50),
    20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82), 23: ("IQ4_XS", 256, 136),
    24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8), 28: ("F64", 1, 8),
    29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54), 35: ("TQ2_0", 256, 66),
    39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}  # fmt: skip
# GGML types stored as plain little-endian elements -> torch's dtype name
PLAIN = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "F64": "float64",
         "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64"}  # fmt: skip

# GGUF value types: id -> (name, struct code); 8 string and 9 array are read apart
STRING, ARRAY = 8, 9
VALUE_TYPES: dict[int, tuple[str, str]] = {
    0: ("uint8", "B"), 1: ("int8", "b"), 2: ("uint16", "H"), 3: ("int16", "h"), 4: ("uint32", "I"),
    5: ("int32", "i"), 6: ("float32", "f"), 7: ("bool", "B"), 10: ("uint64", "Q"), 11: ("int64", "q"),
    12: ("float64", "d"),
}  # fmt: skip
TYPE_NAMES = {**{k: v[0] for k, v in VALUE_TYPES.items()}, STRING: "string", ARRAY: "array"}


def encoding_text(ggml_type: int) -> str:
    """How a GGML type stores values: ``"Q4_K, 256-value blocks of 144 bytes"``."""
    known = GGML_TYPES.get(ggml_type)
    if known is None:
        return f"GGML type {ggml_type} (unknown)"
    name, block, size = known
    return f"{name}, {block}-value blocks of {size} bytes"


class GgufFile:
    """Serves the bytes of a GGUF file's tensors: a private memory map, or plain reads."""

    byteorder = "little"

    def __init__(self, path: Path, size: int, data_start: int) -> None:
        self.path, self.size, self.data_start = path, size, data_start
        self._lock = threading.Lock()
        self._file_storage: torch.UntypedStorage | None = None

    def file_offset(self, ref: StorageRef) -> int:
        return self.data_start + int(ref.key) + ref.byte_offset

    def untyped_storage(
        self, ref: StorageRef, start: int = 0, stop: int | None = None, dtype: torch.dtype | None = None
    ) -> torch.UntypedStorage:
        """Bytes ``start:stop`` of ``ref``: a view of the file's private memory map."""
        stop = ref.nbytes if stop is None else stop
        if not 0 <= start <= stop <= ref.nbytes:
            raise CheckpointError(f"{self.path}: a tensor reaches outside its data")
        with self._lock:
            if self._file_storage is None:
                self._file_storage = map_file(self.path, self.size)
        size = dtype.itemsize if dtype is not None else itemsize(ref.dtype_name)
        return view(self._file_storage, self.path, self.file_offset(ref) + start, stop - start, size)


class GgufQuantTensor(DeferredTensor):
    """A tensor stored in a GGML block type (Q4_0, Q8_0, Q4_K, ...): listed with its
    encoding and stored bytes; materialized as float32 by ``gguf.quants.dequantize``.

    An unknown GGML type is listed (its bytes are those up to the next tensor) and refuses
    to materialize.
    """

    def __init__(self, source: GgufFile, name: str, shape: tuple[int, ...], ggml_type: int, offset: int, nbytes: int):
        self.source, self.name, self._shape, self.ggml_type = source, name, shape, ggml_type
        self.offset, self.stored_nbytes = offset, nbytes
        self.encoding = encoding_text(ggml_type)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._shape

    @property
    def dtype_name(self) -> str:
        return "float32"

    @property
    def dtype(self) -> torch.dtype:  # type: ignore[override]  # torch's dtype on demand, not stored
        return torch_dtype("float32")

    def materialize(self) -> torch.Tensor:
        """The values as float32, dequantized chunk by chunk from plain reads of the file."""
        import torch

        from ..progress import check_current

        path = self.source.path
        known = GGML_TYPES.get(self.ggml_type)
        if known is None:
            raise CheckpointError(
                f"{path}: tensor {self.name!r} is stored in GGML type {self.ggml_type}, which ckptviewer cannot "
                "decode: no statistics for it"
            )
        name, block, size = known
        if self.numel * 4 > MAX_DEQUANT_BYTES:
            raise CheckpointError(
                f"{path}: tensor {self.name!r} would take {self.numel * 4 / (1 << 30):.1f} GiB dequantized "
                f"to float32, more than the {MAX_DEQUANT_BYTES >> 30} GiB limit"
            )
        try:  # an optional dependency (ckptviewer[gguf]); listing needs none of it
            import gguf
            import gguf.quants
            import numpy as np
        except ImportError:
            raise CheckpointError(
                f"{path}: tensor {self.name!r} is stored as {name}: its values need the gguf package "
                "(pip install 'ckptviewer[gguf]')"
            ) from None
        try:
            qtype = gguf.GGMLQuantizationType(self.ggml_type)
        except ValueError:  # a type newer than the installed package
            raise CheckpointError(
                f"{path}: tensor {self.name!r} is stored as {name}, which the installed gguf package does not "
                "know: no statistics for it (a newer gguf may)"
            ) from None
        out = file_backed_empty(self.numel, torch.float32)  # large: in a file the kernel may page out
        blocks_per_chunk = max(1, CHUNK_VALUES // block)
        n_blocks = self.numel // block
        done = 0
        with path.open("rb") as f:  # plain reads: a remote object's file reads them by range
            f.seek(self.source.data_start + self.offset)
            while done < n_blocks:
                check_current()
                n = min(blocks_per_chunk, n_blocks - done)
                part = _read(f, n * size)
                if len(part) != n * size:
                    raise CheckpointError(f"{path}: tensor {self.name!r} is cut short (truncated file?)")
                try:
                    with np.errstate(all="ignore"):  # NaN/Inf scales give NaN/Inf values: the scan's to report
                        values = gguf.quants.dequantize(np.frombuffer(part, dtype=np.uint8), qtype)
                except NotImplementedError:
                    raise CheckpointError(
                        f"{path}: tensor {self.name!r} is stored as {name}, which the installed gguf package "
                        "cannot dequantize: no statistics for it"
                    ) from None
                out[done * block : (done + n) * block] = torch.from_numpy(np.ascontiguousarray(values, np.float32))
                done += n
        return out.reshape(self.shape)


def _read(f: IO[bytes], n: int) -> bytes:
    """``n`` bytes from ``f``, fewer only at its end (a remote file may return short reads)."""
    parts = [f.read(n)]
    got = len(parts[0])
    while got < n and parts[-1]:
        parts.append(f.read(n - got))
        got += len(parts[-1])
    return parts[0] if len(parts) == 1 else b"".join(parts)


class _Header:
    """A cursor over the header: every read and skip is checked against the file's size
    and the header limit first; bytes are read from the file 1 MiB at a time."""

    def __init__(self, f: IO[bytes], path: Path, size: int) -> None:
        self.f, self.path, self.size = f, path, size
        self.pos = 0
        self._buf = b""
        self._buf_at = 0
        self.walked = {STRING: 0, ARRAY: 0}  # strings and inner arrays walked one by one

    def fail(self, why: str) -> CheckpointError:
        return CheckpointError(f"{self.path}: GGUF header {why}")

    def _check(self, n: int, what: str) -> None:
        if n < 0 or n > self.size - self.pos:
            raise self.fail(f"is cut short: {what} needs {n:,} bytes at byte {self.pos:,} of {self.size:,}")
        if self.pos + n > MAX_HEADER:
            raise self.fail(f"is larger than the {MAX_HEADER >> 20} MiB limit (at {what})")

    def take(self, n: int, what: str) -> bytes:
        """The next ``n`` bytes."""
        self._check(n, what)
        at = self.pos - self._buf_at
        if at < 0 or at + n > len(self._buf):
            self.f.seek(self.pos)
            want = min(max(n, _READ), self.size - self.pos, MAX_HEADER - self.pos)
            self._buf, self._buf_at, at = self.f.read(want), self.pos, 0
            if len(self._buf) < n:
                raise self.fail(f"is cut short: the file ended inside {what}")
        self.pos += n
        return self._buf[at : at + n]

    def skip(self, n: int, what: str) -> None:
        """Step over ``n`` bytes without reading them."""
        self._check(n, what)
        self.pos += n

    def skip_strings(self, count: int, what: str) -> None:
        """Step over ``count`` strings (a vocabulary: 150,000 of them) reading only their lengths."""
        length_at = struct.Struct("<Q").unpack_from
        limit = min(self.size, MAX_HEADER)
        for _ in range(count):
            at = self.pos - self._buf_at
            if at < 0 or at + 8 > len(self._buf):
                self.take(8, f"a string's length in {what}")  # refills the buffer from here
                self.pos -= 8
                at = 0
            (n,) = length_at(self._buf, at)
            if n > limit - self.pos - 8:
                self.pos += 8
                self._check(n, f"a string in {what}")  # raises: cut short, or past the header limit
            self.pos += 8 + n

    def left(self) -> int:
        """Bytes that may still be read as header."""
        return min(self.size, MAX_HEADER) - self.pos

    def u32(self, what: str) -> int:
        return int.from_bytes(self.take(4, what), "little")

    def u64(self, what: str) -> int:
        return int.from_bytes(self.take(8, what), "little")

    def string(self, what: str, limit: int | None = None) -> str:
        """A length-prefixed UTF-8 string; past ``limit`` bytes it is cut (and the rest skipped)
        where ``limit`` is given, refused where ``MAX_NAME`` applies."""
        n = self.u64(f"the length of {what}")
        if limit is None and n > MAX_NAME:
            raise self.fail(f"gives {what} a length of {n:,} bytes (more than {MAX_NAME:,})")
        return self.string_body(n, what, limit)

    def string_body(self, n: int, what: str, limit: int | None) -> str:
        """The ``n`` bytes of a string whose length was read, decoded (invalid UTF-8 replaced)."""
        self._check(n, what)
        if limit is not None and n > limit:
            text = self.take(limit, what).decode("utf-8", errors="replace")
            self.skip(n - limit, what)
            return f"{text}… ({n:,} bytes)"
        return self.take(n, what).decode("utf-8", errors="replace")

    def count(self, n: int, min_bytes: int, cap: int, what: str) -> int:
        """``n`` items of at least ``min_bytes`` each: refused past ``cap`` or past the bytes left."""
        if n > cap:
            raise self.fail(f"claims {n:,} {what} (more than {cap:,})")
        if n * min_bytes > self.left():
            raise self.fail(f"claims {n:,} {what}, more than its {self.left():,} remaining bytes can hold")
        return n

    def value(self, vtype: int, what: str, depth: int = 0) -> Any:
        """One value of type ``vtype``, JSON-safe; long arrays summarised."""
        if vtype == STRING:
            return self.string(what, MAX_TEXT * 4)
        if vtype == ARRAY:
            return self.array(what, depth + 1)
        known = VALUE_TYPES.get(vtype)
        if known is None:
            raise self.fail(f"gives {what} an unknown value type {vtype}")
        name, code = known
        (x,) = struct.unpack("<" + code, self.take(struct.calcsize(code), what))
        return _json_safe(name, x)

    def array(self, what: str, depth: int) -> Any:
        if depth > MAX_NESTING:
            raise self.fail(f"nests arrays more than {MAX_NESTING} deep in {what}")
        itype = self.u32(f"the item type of {what}")
        n = self.u64(f"the length of {what}")
        if itype in VALUE_TYPES:
            name, code = VALUE_TYPES[itype]
            step = struct.calcsize(code)
            self.count(n, step, 1 << 62, f"{name} items in {what}")
            shown = n if n <= SHORT_ARRAY else SHOWN_ITEMS
            raw = self.take(shown * step, what)
            items = [_json_safe(name, x) for x in struct.unpack(f"<{shown}{code}", raw)]
            self.skip((n - shown) * step, what)  # numbers are stepped over, never read
        elif itype in (STRING, ARRAY):
            name = TYPE_NAMES[itype]
            cap = MAX_STRINGS if itype == STRING else MAX_INNER_ARRAYS
            self.count(n, 8 if itype == STRING else 12, cap, f"{name} items in {what}")
            self.walked[itype] += n
            if self.walked[itype] > cap:
                raise self.fail(f"holds more than {cap:,} {name}s inside arrays in its metadata")
            shown = n if n <= SHORT_ARRAY else SHOWN_ITEMS
            if itype == STRING:
                items = [self.string(what, MAX_TEXT * 4) for _ in range(shown)]
                self.skip_strings(n - shown, what)
            else:
                items = [self.array(what, depth + 1) for _ in range(shown)]
                for _ in range(n - shown):
                    self.array(what, depth + 1)
        else:
            raise self.fail(f"gives the items of {what} an unknown value type {itype}")
        if n <= SHORT_ARRAY:
            return items
        return {"__class__": "GGUF array", "type": name, "length": n, "first": items}


def _json_safe(name: str, x: Any) -> Any:
    if name == "bool":
        return bool(x)
    if isinstance(x, float) and not math.isfinite(x):
        return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")
    return x


def load_gguf(path: Path, size: int) -> Loaded:
    """List a GGUF file from its header: tensors (lazy), key-value metadata, checked layout."""
    with path.open("rb") as f:
        h = _Header(f, path, size)
        magic = h.take(4, "the magic")
        if magic != b"GGUF":
            raise h.fail("does not start with GGUF")
        raw_version = h.take(4, "the version")
        version = int.from_bytes(raw_version, "little")
        if version not in (2, 3):
            if int.from_bytes(raw_version, "big") in (1, 2, 3):
                raise CheckpointError(f"{path}: a big-endian GGUF file; only little-endian GGUF files can be read")
            if version == 1:
                raise CheckpointError(f"{path}: GGUF version 1 (before August 2023) is not supported (2 and 3 are)")
            raise CheckpointError(f"{path}: unknown GGUF version {version} (versions 2 and 3 can be read)")
        n_tensors = h.count(h.u64("the tensor count"), 8 + 4 + 4 + 8, MAX_TENSORS, "tensors")
        n_kv = h.count(h.u64("the key-value count"), 8 + 4 + 1, MAX_KVS, "key-value pairs")
        kv: dict[str, Any] = {}
        alignment = DEFAULT_ALIGNMENT
        for _ in range(n_kv):
            key = h.string("a metadata key")
            vtype = h.u32(f"the type of metadata key {key!r}")
            if key in kv:
                raise h.fail(f"holds the metadata key {key!r} twice")
            value = h.value(vtype, f"metadata key {key!r}")
            if key == "general.alignment":
                if vtype != 4 or not 0 < value <= MAX_ALIGNMENT or value & (value - 1):
                    raise h.fail(f"gives general.alignment as {str(value)[:40]} (a power of two up to 2**20 expected)")
                alignment = value
            kv[key] = value
        infos = []
        names: set[str] = set()
        for _ in range(n_tensors):
            name = h.string("a tensor name")
            if name in names:
                raise h.fail(f"names the tensor {name!r} twice")
            names.add(name)
            what = f"the info of tensor {name!r}"  # once per tensor: 100,000s of them
            n_dims = h.u32(what)
            if n_dims > MAX_DIMS:
                raise h.fail(f"gives tensor {name!r} {n_dims:,} dimensions (at most {MAX_DIMS})")
            dims = list(struct.unpack(f"<{n_dims}Q", h.take(8 * n_dims, what)))
            ggml_type, offset = struct.unpack("<IQ", h.take(12, what))
            infos.append((name, dims, ggml_type, offset))
        data_start = -(-h.pos // alignment) * alignment
    if infos and data_start > size:
        raise CheckpointError(f"{path}: GGUF header ends at byte {h.pos:,} but the file has no tensor data after it")
    return _assemble(path, size, version, alignment, data_start, kv, infos)


def _assemble(
    path: Path, size: int, version: int, alignment: int, data_start: int, kv: dict[str, Any], infos: list
) -> Loaded:
    data_len = max(0, size - data_start)
    source = GgufFile(path, size, data_start)

    def bad(name: str, why: str) -> CheckpointError:
        return CheckpointError(f"{path}: GGUF tensor {name!r} {why}")

    spans: list[tuple[int, int, str]] = []
    unknown: list[tuple[int, str]] = []
    planned: list[tuple[str, list[int], int, int, int | None]] = []
    for name, dims, ggml_type, offset in infos:
        numel = 1
        for d in dims:
            numel *= d
            if numel >= 1 << 62 or d >= 1 << 62:  # an empty tensor's other sizes must fit torch's int64 too
                raise bad(name, f"claims dimensions {dims[:8]}: too large")
        if offset % alignment:
            raise bad(name, f"starts at data offset {offset:,}, not a multiple of the alignment {alignment}")
        if offset > data_len:
            raise bad(name, f"starts at data offset {offset:,}, past the end of the file's {data_len:,} data bytes")
        known = GGML_TYPES.get(ggml_type)
        if known is None:
            unknown.append((offset, name))
            planned.append((name, dims, ggml_type, offset, None))
            continue
        tname, block, tsize = known
        if dims and dims[0] % block:
            raise bad(name, f"has rows of {dims[0]:,} values, not a whole number of {tname}'s {block}-value blocks")
        if numel % block:
            raise bad(name, f"has {numel:,} values, not a whole number of {tname}'s {block}-value blocks")
        nbytes = numel // block * tsize
        if offset + nbytes > data_len:
            raise bad(
                name,
                f"needs bytes {offset:,}..{offset + nbytes:,} of the data, but the file holds only {data_len:,} "
                "(truncated or damaged file)",
            )
        spans.append((offset, offset + nbytes, name))
        planned.append((name, dims, ggml_type, offset, nbytes))
    spans.sort()
    for (_, end, first), (begin, _, second) in itertools.pairwise(spans):
        if begin < end:
            raise CheckpointError(f"{path}: GGUF tensors {first!r} and {second!r} overlap in the file")
    # an unknown type's bytes: up to the next tensor's start (or the end of the data)
    starts = sorted({s for s, _, _ in spans} | {s for s, _ in unknown})
    root: dict[str, Any] = {}
    warnings: list[str] = []
    for name, dims, ggml_type, offset, stored in planned:
        shape = tuple(reversed(dims))  # GGUF lists the fastest-varying dimension first
        if stored is None:
            i = bisect.bisect_right(starts, offset)
            stop = starts[i] if i < len(starts) else data_len
            root[name] = GgufQuantTensor(source, name, shape, ggml_type, offset, stop - offset)
            continue
        nbytes = stored
        tname = GGML_TYPES[ggml_type][0]
        dtype = PLAIN.get(tname)
        if dtype is None:
            root[name] = GgufQuantTensor(source, name, shape, ggml_type, offset, nbytes)
        else:
            ref = StorageRef(str(offset), dtype, nbytes // itemsize(dtype), None, source)
            root[name] = LazyTensor(ref, 0, shape, contiguous_stride(shape), dtype)
    if unknown:
        listed = ", ".join(repr(n) for _, n in unknown[:3]) + (", ..." if len(unknown) > 3 else "")
        warnings.append(f"{len(unknown)} tensor(s) in GGML types ckptviewer cannot decode: {listed} (no statistics)")
    header = {"version": version, "alignment": alignment, "data_offset": data_start, "n_tensors": len(infos),
              "n_kv": len(kv)}  # fmt: skip
    return Loaded(
        format=GGUF,
        root=root,
        warnings=warnings,
        extra_metadata={"gguf": kv, "gguf_file": header},
        files=[path],
    )
