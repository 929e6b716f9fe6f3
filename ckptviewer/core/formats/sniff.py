"""Tell a checkpoint's format from its content, and describe files that are not one."""

from __future__ import annotations

import os
import pickle
import stat
import struct
from pathlib import Path

from ..errors import CheckpointError, NotACheckpointError
from ..filemap import is_remote

TORCH_ZIP = "torch-zip"
TORCH_LEGACY = "torch-legacy"
TORCH_TAR = "torch-tar"
SAFETENSORS = "safetensors"
GGUF = "gguf"

# torch.save's legacy format starts with this number, pickled (torch/serialization.py)
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_HEADS = tuple(pickle.dumps(_LEGACY_MAGIC, protocol=p) for p in range(2, 6))

_MAGICS = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"BZh", "a bzip2-compressed file (decompress it first)"),
    (b"\xfd7zXZ\x00", "an xz-compressed file (decompress it first)"),
    (b"(\xb5/\xfd", "a zstd-compressed file (decompress it first)"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-zip archive"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (Keras/h5py weights?)"),
    (b"\x93NUMPY", "a NumPy .npy array"),
    (b"\x7fELF", "an executable (ELF)"),
]


def check_path(path: Path) -> os.stat_result:
    """Stat ``path`` and refuse what cannot be a checkpoint file, with a clear message."""
    if is_remote(path):
        return path.stat()  # type: ignore[return-value]  # a remote object is a file or a folder
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file") from None
    except PermissionError:
        raise CheckpointError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot access ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CheckpointError(
            f"{path}: is a directory; open a checkpoint file inside it "
            "(sharded and distributed checkpoint folders are not supported yet)"
        )
    if not stat.S_ISREG(st.st_mode):
        kind = "a named pipe" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise CheckpointError(f"{path}: not a regular file ({kind})")
    return st


def sniff(path: Path) -> str:
    """Return the format name of the checkpoint at ``path``, or raise with what it is."""
    st = check_path(path)
    if st.st_size == 0:
        raise NotACheckpointError(f"{path}: not a PyTorch checkpoint: the file is empty (0 bytes)")
    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except PermissionError:
        raise CheckpointError(f"{path}: permission denied") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: cannot read ({exc.strerror or exc})") from None

    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return TORCH_ZIP  # torch-zip, TorchScript or another zip: the zip reader tells
    if head[:4] == b"GGUF":
        return GGUF
    if _looks_like_safetensors(head, st.st_size):
        return SAFETENSORS
    if head.startswith(_LEGACY_HEADS):
        return TORCH_LEGACY
    if len(head) >= 262 and head[257:262] == b"ustar":
        return TORCH_TAR
    raise NotACheckpointError(f"{path}: not a PyTorch checkpoint: {describe(head, st.st_size)}")


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    # the header may lie about its length: that is reported by the reader, not here
    return n >= 2 and head[8:9] == b"{"


def describe(head: bytes, size: int) -> str:
    """A short human description of what a non-checkpoint file looks like."""
    for magic, what in _MAGICS:
        if head.startswith(magic):
            return what
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return "a Python pickle that torch.save did not write"
    # never quote the content: the file may be anything the user (or a link) pointed at
    if _is_text(head):
        kind = "JSON" if head.lstrip()[:1] in (b"{", b"[") else "text"
        return f"a {kind} file ({size} bytes)"
    return f"unrecognised binary data ({size} bytes)"


def _is_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # a multi-byte character cut at the end of the probe is still text
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * max(len(text), 1)
