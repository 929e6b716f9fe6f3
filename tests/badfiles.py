"""Factories for bad, damaged and hostile checkpoint files, built for real.

Every factory takes a directory (a pytest ``tmp_path``) and returns the path it wrote.
Files are made with torch itself, the ``zipfile`` module or plain byte manipulation;
nothing here mocks torch. The ``good_*`` factories build the valid file a bad one is
derived from, so a test can first show that only the damage makes it fail.
"""

from __future__ import annotations

import collections
import importlib
import io
import json
import math
import os
import pickle
import shlex
import struct
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import torch

# --- valid baselines -----------------------------------------------------------------------


def real_tensors() -> dict[str, torch.Tensor]:
    """A few real tensors, big enough that cutting a file in half lands inside their data."""
    g = torch.Generator().manual_seed(0)
    return {
        "layer.weight": torch.randn(64, 32, generator=g),
        "layer.bias": torch.randn(64, generator=g),
        "head.weight": torch.randn(10, 64, generator=g),
    }


def good_zip(tmp: Path, name: str = "good.pth") -> Path:
    """A valid torch.save zip checkpoint of :func:`real_tensors`."""
    path = tmp / name
    torch.save(real_tensors(), path)
    return path


def good_legacy(tmp: Path, name: str = "good_legacy.pth") -> Path:
    """A valid legacy-format (pre-1.6, non-zip) checkpoint of :func:`real_tensors`."""
    path = tmp / name
    torch.save(real_tensors(), path, _use_new_zipfile_serialization=False)
    return path


def write_safetensors(path: Path, header: dict, data: bytes) -> Path:
    """Write a safetensors file by hand: 8-byte little-endian header length, JSON, data."""
    raw = json.dumps(header, separators=(",", ":")).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def good_safetensors(tmp: Path, name: str = "good.safetensors") -> Path:
    """A valid hand-written safetensors file: one 4x4 float32 tensor (64 bytes)."""
    header = {"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 64]}}
    return write_safetensors(tmp / name, header, torch.arange(16, dtype=torch.float32).numpy().tobytes())


def rewrite_zip(src: Path, dst: Path, edit: Callable[[str, bytes], bytes | None]) -> Path:
    """Copy the zip ``src`` to ``dst`` entry by entry, passing each through ``edit``.

    ``edit(name, data)`` returns the bytes to write, or None to leave the entry out.
    Entries keep their ZipInfo (name, stored/uncompressed, order), as torch wrote them.
    """
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = edit(info.filename, zin.read(info))
            if data is not None:
                zout.writestr(info, data)
    return dst


def copied_zip(tmp: Path) -> Path:
    """A valid checkpoint rewritten by :func:`rewrite_zip` with no change (a control)."""
    return rewrite_zip(good_zip(tmp), tmp / "copied.pth", lambda name, data: data)


# --- not a checkpoint at all ------------------------------------------------------------------


def empty_file(tmp: Path) -> Path:
    path = tmp / "empty.pth"
    path.write_bytes(b"")
    return path


# first bytes that would make random data look like a known format (zip, pickle, images, ...)
_MAGIC_FIRST_BYTES = set(b"PG%7\x80\x89\xff\x1f\xfd(\x93\x7fB")


def random_bytes(tmp: Path, size: int = 4096, name: str = "random.pth") -> Path:
    """``os.urandom`` data; a draw that happens to start like a known format is redrawn.

    About 1 in 256 draws has ``{`` at offset 8 and would be read as a safetensors header,
    so those are redrawn too: the test is about unrecognisable bytes.
    """
    while True:
        data = os.urandom(size)
        if data[0] not in _MAGIC_FIRST_BYTES and data[8:9] != b"{":
            break
    path = tmp / name
    path.write_bytes(data)
    return path


def text_file(tmp: Path) -> Path:
    path = tmp / "notes.pth"
    path.write_text("These are my training notes, not a checkpoint.\nlr=0.01\n")
    return path


def plain_zip(tmp: Path) -> Path:
    """A zip archive that is not a checkpoint: just a README."""
    path = tmp / "docs.pth"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("README.md", "# Hello\nThis zip holds no model.\n")
    return path


def directory(tmp: Path) -> Path:
    path = tmp / "checkpoint_dir"
    path.mkdir()
    (path / "model.pth").write_bytes(b"")
    return path


def missing_path(tmp: Path) -> Path:
    return tmp / "does_not_exist.pth"


def named_pipe(tmp: Path) -> Path:
    """A FIFO with no writer: opening it for reading would block forever."""
    path = tmp / "pipe.pth"
    os.mkfifo(path)
    return path


def unreadable_file(parent: Path) -> Path:
    """A valid checkpoint with mode 000 in ``parent`` (root can still read it)."""
    path = good_zip(parent, "secret.pth")
    path.chmod(0)
    return path


# --- damaged torch zip files ------------------------------------------------------------------


def truncated_zip(tmp: Path) -> Path:
    """torch.save, then the file cut in half (the zip's central directory is lost)."""
    src = good_zip(tmp)
    data = src.read_bytes()
    path = tmp / "truncated.pth"
    path.write_bytes(data[: len(data) // 2])
    return path


def zip_storage_names(path: Path) -> list[str]:
    """The ``<archive>/data/N`` storage records of a torch zip checkpoint."""
    with zipfile.ZipFile(path) as zf:
        return [n for n in zf.namelist() if n.split("/")[-2:-1] == ["data"]]


def zip_missing_storage(tmp: Path) -> tuple[Path, str]:
    """A torch zip rewritten without one ``archive/data/N`` record; returns (path, record)."""
    src = good_zip(tmp)
    dropped = zip_storage_names(src)[0]
    path = rewrite_zip(src, tmp / "missing_storage.pth", lambda name, data: None if name == dropped else data)
    return path, dropped


def zip_short_storage(tmp: Path) -> Path:
    """A torch zip whose first storage record was rewritten with a quarter of its bytes."""
    src = good_zip(tmp)
    first = zip_storage_names(src)[0]
    return rewrite_zip(
        src, tmp / "short_storage.pth", lambda name, data: data[: len(data) // 4] if name == first else data
    )


class _Storage:
    """Stands for one float32 storage of ``numel`` elements while pickling data.pkl."""

    def __init__(self, key: str, numel: int) -> None:
        self.key, self.numel = key, numel


class _TensorRecord:
    """Pickles exactly as torch.save writes a tensor, with any shape and stride."""

    def __init__(self, storage: _Storage, shape: tuple[int, ...], stride: tuple[int, ...]) -> None:
        self.storage, self.shape, self.stride = storage, shape, stride

    def __reduce__(self):
        args = (self.storage, 0, self.shape, self.stride, False, collections.OrderedDict())
        return (torch._utils._rebuild_tensor_v2, args)


class _TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", torch.FloatStorage, obj.key, "cpu", obj.numel)
        return None


def zip_lying_shape(tmp: Path, claimed: tuple[int, ...] = (1000, 1000)) -> Path:
    """A torch zip whose data.pkl says a tensor has shape ``claimed`` while its storage
    (record and declared size) holds 16 floats. Built from torch.save's own file with
    only data.pkl rewritten.
    """
    src = tmp / "honest.pth"
    torch.save({"w": torch.arange(16, dtype=torch.float32)}, src)
    buf = io.BytesIO()
    stride = tuple(math.prod(claimed[i + 1 :]) for i in range(len(claimed)))
    _TorchPickler(buf, protocol=2).dump({"w": _TensorRecord(_Storage("0", 16), claimed, stride)})
    return rewrite_zip(
        src, tmp / "lying_shape.pth", lambda name, data: buf.getvalue() if name.endswith("/data.pkl") else data
    )


# --- damaged safetensors files ----------------------------------------------------------------


def safetensors_shape_lie(tmp: Path) -> Path:
    """The header says shape [4, 4] of F32 (64 bytes) but data_offsets span 16 bytes."""
    header = {"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 16]}}
    return write_safetensors(tmp / "shape_lie.safetensors", header, bytes(16))


def safetensors_offsets_past_end(tmp: Path) -> Path:
    """Shape and offsets agree (1000 floats) but the file holds only 64 data bytes."""
    header = {"w": {"dtype": "F32", "shape": [1000], "data_offsets": [0, 4000]}}
    return write_safetensors(tmp / "past_end.safetensors", header, bytes(64))


HUGE_HEADER_LEN = 2**62


def safetensors_huge_header_len(tmp: Path) -> Path:
    """A real header and data, but the 8-byte header length claims 2**62 bytes."""
    good = good_safetensors(tmp).read_bytes()
    path = tmp / "huge_header.safetensors"
    path.write_bytes(struct.pack("<Q", HUGE_HEADER_LEN) + good[8:])
    return path


# --- damaged legacy files ---------------------------------------------------------------------


def truncated_legacy(tmp: Path, keep: float = 0.5) -> Path:
    """A legacy-format checkpoint cut to ``keep`` of its length."""
    data = good_legacy(tmp).read_bytes()
    path = tmp / f"truncated_legacy_{int(keep * 100)}.pth"
    path.write_bytes(data[: int(len(data) * keep)])
    return path


# --- hostile pickles --------------------------------------------------------------------------
# Each payload, if unpickled by plain torch.load(weights_only=False), creates ``marker``.


def touch_command(marker: Path) -> str:
    return f"touch {shlex.quote(str(marker))}"


class SystemPayload:
    """Unpickles as os.system("touch MARKER") (pickled as the global posix.system)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (touch_command(self.marker),))


class EvalPayload:
    """Unpickles as builtins.eval("__import__('os').system('touch MARKER')")."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (eval, (f"__import__('os').system({touch_command(self.marker)!r})",))


class PopenPayload:
    """Unpickles as subprocess.Popen(["touch", MARKER])."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (subprocess.Popen, (["touch", str(self.marker)],))


class _Import:
    # importlib.import_module, not builtins.__import__: PySide6 (shiboken) replaces
    # builtins.__import__ with its own __feature_import__ once imported, which would
    # change the pickled global name from one test process to the next
    def __init__(self, module: str) -> None:
        self.module = module

    def __reduce__(self):
        return (importlib.import_module, (self.module,))


class _GetAttr:
    def __init__(self, obj: object, name: str) -> None:
        self.obj, self.name = obj, name

    def __call__(self, *args: object) -> None:  # pickle requires the reduce callable to be callable
        raise AssertionError("only pickled, never called")

    def __reduce__(self):
        return (getattr, (self.obj, self.name))


class GetattrChainPayload:
    """Nested REDUCEs: getattr(importlib.import_module("os"), "system")("touch MARKER").

    No global in the pickle names os.system; it is reached through
    importlib.import_module and builtins.getattr, the result of one REDUCE being the
    callable of the next.
    """

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (_GetAttr(_Import("os"), "system"), (touch_command(self.marker),))


PAYLOADS = {
    "system": SystemPayload,
    "eval": EvalPayload,
    "popen": PopenPayload,
    "getattr_chain": GetattrChainPayload,
}


def hostile_checkpoint(tmp: Path, kind: str, marker: Path, *, legacy: bool = False) -> Path:
    """A torch.save checkpoint: real tensors, plus a payload of ``kind`` inside the dict."""
    payload = PAYLOADS[kind](marker)
    obj = {"model": real_tensors(), "epoch": 3, "hook": payload}
    path = tmp / f"hostile_{kind}{'_legacy' if legacy else ''}.pth"
    if legacy:
        torch.save(obj, path, _use_new_zipfile_serialization=False)
    else:
        torch.save(obj, path)
    return path


# --- running Python as someone who cannot read a mode-000 file ---------------------------------

_DROP_READ_CAPS = "-dac_override,-dac_read_search"


def world_traversable_dir() -> Path:
    """A fresh directory under the system temp dir that any user can enter (mode 0755).

    pytest's tmp_path lives under a 0700 directory of the user running the tests, which
    another uid could not even reach. The caller removes it.
    """
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="ckpt-unreadable-"))
    path.chmod(0o755)
    return path


def read_denied_runner(python: str, unreadable: Path) -> tuple[list[str], dict] | str:
    """How to run ``python`` so that opening ``unreadable`` (mode 000) is refused.

    Returns ``(argv_prefix, subprocess_kwargs)``, or a reason to skip. As a normal user
    mode 000 is enough. As root (who reads anything), the command runs as uid 65534
    (nobody); if that uid cannot execute ``python`` (say a venv under /root), it runs as
    root with the capabilities that bypass file permissions (CAP_DAC_OVERRIDE,
    CAP_DAC_READ_SEARCH) dropped by ``setpriv``. Either way a probe first checks that the
    interpreter starts, imports ckptviewer, and really gets EACCES on the file.
    """
    import shutil

    probe = ["-c", "import sys, ckptviewer; open(sys.argv[1], 'rb')", str(unreadable)]
    cwd = str(unreadable.parent)
    if os.geteuid() != 0:
        candidates: list[tuple[str, list[str], dict]] = [("the current user", [], {})]
    else:
        candidates = [("uid 65534", [], {"user": 65534, "group": 65534, "extra_groups": []})]
        setpriv = shutil.which("setpriv")
        if setpriv:
            prefix = [setpriv, "--bounding-set", _DROP_READ_CAPS, "--inh-caps", _DROP_READ_CAPS, "--"]
            candidates.append(("root without CAP_DAC_OVERRIDE/CAP_DAC_READ_SEARCH", prefix, {}))
    reasons = []
    for who, prefix, kwargs in candidates:
        try:
            r = subprocess.run([*prefix, python, *probe], cwd=cwd, capture_output=True, text=True, timeout=60, **kwargs)
        except (OSError, subprocess.SubprocessError) as exc:
            reasons.append(f"{who}: cannot run {python} ({exc})")
            continue
        if r.returncode != 0 and "PermissionError" in r.stderr:
            return prefix, {"cwd": cwd, **kwargs}
        why = "can read a mode-000 file" if r.returncode == 0 else f"probe failed: {r.stderr.strip()[-200:]}"
        reasons.append(f"{who}: {why}")
    return "no way to run Python unable to read a mode-000 file here: " + "; ".join(reasons)
