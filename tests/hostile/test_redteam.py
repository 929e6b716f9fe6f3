"""Second red team (round 2): attacks that are not "open a file" — the human CLI output on a
real terminal encoding, outputs written from hostile inputs, edits and the recipe, the window's
recipe export, output paths, CSV, concurrency — plus checks on corpus cases whose failure an
exit status cannot show (a listing that silently drops tensors, an output torch.load refuses).

Everything that could crash, hang or exhaust memory runs in a child process (``ckpt`` in a
subprocess with RLIMIT_AS 3 GiB and a time limit). The files come from tests/hostile/corpus.py
(the ``r2-*`` classes) or are built here with the same building blocks.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest
import torch

from tests.hostile.corpus import (
    EMPTY_DICT,
    MARK,
    MEMOIZE,
    PROTO4,
    SETITEM,
    SETITEMS,
    STOP,
    by_name,
    get,
    tensor_v2,
    torch_zip,
)
from tests.hostile_pickles import I, U

ROOT = Path(__file__).parents[2]
MEMORY_LIMIT = 3 << 30
DATA = {"data/0": b"\0" * 16}


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def ckpt(*args: object, timeout: float = 180, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """``ckpt ARGS`` in a child limited to 3 GiB, with a real UTF-8 (strict) stdout/stderr pipe."""
    environ = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
               **(env or {})}  # fmt: skip
    environ.pop("CKPT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "ckptviewer", *map(str, args)], capture_output=True, text=True,
                          errors="backslashreplace", timeout=timeout, cwd=str(ROOT), env=environ,
                          preexec_fn=_limit_memory, **kw)  # fmt: skip


def clean(r: subprocess.CompletedProcess, ok: tuple[int, ...] = (0, 1)) -> None:
    """An exit status in ``ok``; a failure is one line, never an 'unexpected' error or a traceback."""
    where = f"rc {r.returncode}: {r.stderr[-600:]}"
    assert r.returncode in ok, where
    assert "unexpected" not in r.stderr.lower() and "traceback" not in r.stderr.lower(), where
    if r.returncode not in (0, 3):
        assert r.stderr.count("\n") == 1, where


def build(name: str, tmp_path: Path) -> Path:
    """Write corpus case ``name`` into ``tmp_path``."""
    folder = tmp_path / name
    folder.mkdir()
    return by_name()[name].build(folder)


# --- the human CLI output on a real terminal encoding -------------------------------------------------


@pytest.mark.slow
def test_human_output_of_lone_surrogates_is_encodable(tmp_path):
    """A key 'w\\ud800x' (BINUNICODE decodes with surrogatepass; torch.load accepts the file): every
    human output must still be writable to a UTF-8 terminal (escaped), not 'unexpected UnicodeEncodeError'."""
    path = build("lone_surrogates_in_keys", tmp_path)
    runs = [
        ("info", path), ("tree", path), ("stats", path), ("scan", path), ("diff", path, path),
        ("strip", path, "-o", tmp_path / "s.pth", "--prefix", "w"),
        ("drop", path, "-o", tmp_path / "d.pth", "--keys", "meta"),
    ]  # fmt: skip
    failures = []
    for argv in runs:
        r = ckpt(*argv)
        if r.returncode != 0 or "unexpected" in r.stderr:
            failures.append(f"{argv[0]}: rc {r.returncode}: {r.stderr.strip()[:200]}")
    assert not failures, "\n".join(failures)


def test_safetensors_written_from_a_surrogate_key_loads_with_the_library(tmp_path):
    """convert -o x.safetensors of a key with a lone surrogate: ckptviewer's own verification reads
    the header with Python's json (which accepts the \\ud800 escape); the safetensors library does not.
    Either the output loads with the library or the convert is refused."""
    from safetensors.torch import load_file

    path = build("lone_surrogates_in_keys", tmp_path)
    out = tmp_path / "out.safetensors"
    r = ckpt("convert", path, "-o", out)
    clean(r)
    if r.returncode == 0:
        try:
            loaded = load_file(str(out))
        except Exception as exc:
            pytest.fail(f"'verified' safetensors output that the safetensors library refuses: {exc}")
        assert len(loaded) == 1


def test_csv_of_a_surrogate_key(tmp_path):
    """Statistics CSV (File > Export statistics) of a key with a lone surrogate: written (escaped or
    replaced) or refused as a CheckpointError, never a UnicodeEncodeError from the writer."""
    from ckptviewer.core import CheckpointError, open_checkpoint
    from ckptviewer.core.export import export_stats_csv
    from ckptviewer.core.stats import checkpoint_stats

    path = build("lone_surrogates_in_keys", tmp_path)
    with open_checkpoint(path, device="cpu") as c:
        stats = checkpoint_stats(c)
    try:
        export_stats_csv(stats, tmp_path / "stats.csv")
    except CheckpointError:
        return
    assert (tmp_path / "stats.csv").read_text(encoding="utf-8", errors="strict").count("\n") == 2


@pytest.mark.slow
def test_info_output_is_not_a_width_bomb(tmp_path):
    """One key of 16,000 characters (under the key limit) and 100,000 short ones: the table padded
    every row to the widest key (at 802a0f4 a 550 KB file printed 5 GB). The output must stay within
    a small multiple of the file."""
    body = tensor_v2("0", 4, (4,), (1,)) + MEMOIZE + b"0"
    items = b"".join(U(f"{i}") + get(0) for i in range(100_000))
    body += EMPTY_DICT + MARK + U("k" * 16_000) + get(0) + items + SETITEMS
    path = torch_zip(tmp_path / "wide.pth", PROTO4 + body + STOP, DATA)
    limit = 50 * path.stat().st_size + (1 << 20)
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-m", "ckptviewer", "info", str(path)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=str(ROOT), env=environ,
                            preexec_fn=_limit_memory)  # fmt: skip
    total, deadline = 0, time.monotonic() + 120
    try:
        while chunk := proc.stdout.read(1 << 20):
            total += len(chunk)
            if total > limit or time.monotonic() > deadline:
                break
    finally:
        proc.kill()
        proc.wait()
    assert total <= limit, f"ckpt info printed more than {total:,} bytes for a {path.stat().st_size:,}-byte file"


# --- the layer tree -------------------------------------------------------------------------------------


def test_tree_json_of_a_key_with_1200_dots(tmp_path):
    """A torch.save'd state_dict whose key has 1,200 dots (2.4 KB): TreeNode.to_json recurses per level."""
    path = tmp_path / "dots.pth"
    torch.save({"a." * 1200 + "w": torch.ones(2)}, path)
    clean(ckpt("tree", path, "--json"), ok=(0,))


def test_tree_of_a_key_with_100k_dots_stays_in_memory(tmp_path):
    """One key 'a.a.a…' of 100,000 parts (200 KB): build_tree keeps each node's full path (5 GB of
    paths) and the human tree indents each row by its depth."""
    body = EMPTY_DICT + U("a." * 100_000 + "w") + tensor_v2("0", 4, (4,), (1,)) + SETITEM
    path = torch_zip(tmp_path / "dots.pth", PROTO4 + body + STOP, DATA)
    clean(ckpt("tree", path, timeout=240))  # listed within memory, or refused as a key bomb


@pytest.mark.slow
def test_tree_of_2000_keys_of_8k_chars_stays_in_memory(tmp_path):
    """2,000 keys of ~8,000 characters and 4,000 parts each (one memo'd chain, 20 KB file): within the
    per-key and total key limits, but O(parts^2) node paths per key would be 32 GB."""
    pkl = PROTO4 + U("a." * 99 + "a") + MEMOIZE
    chain = EMPTY_DICT + U("w") + tensor_v2("0", 4, (4,), (1,)) + SETITEM
    for _ in range(40):
        chain = EMPTY_DICT + get(0) + chain + SETITEM
    body = (
        pkl + chain + MEMOIZE + b"0" + EMPTY_DICT + MARK + b"".join(U(f"k{i}") + get(1) for i in range(2000)) + SETITEMS
    )
    path = torch_zip(tmp_path / "many_deep.pth", body + STOP, DATA)
    clean(ckpt("tree", path, timeout=240))


# --- edits: time, keys, recipe ---------------------------------------------------------------------------


@pytest.mark.slow
def test_drop_of_many_matching_entries_is_not_quadratic(tmp_path):
    """drop --keys 'optimizer.state.*' over 40,000 state entries: each match scans every tensor key
    (1.6e9 string tests, minutes) for a 400 KB file."""
    body = tensor_v2("0", 4, (4,), (1,)) + MEMOIZE + b"0"
    state = EMPTY_DICT + MARK + b"".join(I(i) + get(0) for i in range(40_000)) + SETITEMS
    body += EMPTY_DICT + MARK + U("model") + EMPTY_DICT + U("w") + get(0) + SETITEM
    body += U("optimizer") + EMPTY_DICT + U("state") + state + SETITEM + SETITEMS
    path = torch_zip(tmp_path / "drop.pth", PROTO4 + body + STOP, DATA)
    try:
        r = ckpt("drop", path, "-o", tmp_path / "out.pth", "--keys", "optimizer.state.*", timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("drop of 40,000 matching entries ran past 90 s")
    clean(r)


@pytest.mark.slow
def test_rename_of_a_state_dict_under_8k_dotted_parts(tmp_path):
    """rename on corpus case state_dict_path_of_8k_dotted_parts (raw_path was O(levels x parts^2))."""
    path = build("state_dict_path_of_8k_dotted_parts", tmp_path)
    try:
        r = ckpt("rename", path, "-o", tmp_path / "out.pth", "--pattern", "^module\\.", "--repl", "", timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("rename ran past 90 s on a 2.5 KB file")
    clean(r)


@pytest.mark.slow
def test_graft_and_compat_with_int_keys(tmp_path):
    """Two torch.save'd state_dicts with int keys ({'model': {0: t, 1: t}}): graft looks the keys up
    by their string form ('0') and fails with 'unexpected KeyError'."""
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({"model": {0: torch.ones(2), 1: torch.zeros(3)}}, a)
    torch.save({"model": {0: torch.full((2,), 5.0), 1: torch.ones(3)}}, b)
    clean(ckpt("compat", a, b), ok=(0, 1, 2))
    r = ckpt("graft", a, "--from", b, "-o", tmp_path / "g.pth")
    clean(r)
    if r.returncode == 0:
        assert torch.equal(torch.load(tmp_path / "g.pth", weights_only=True)["model"][0], torch.full((2,), 5.0))


def test_recipe_of_a_state_dict_under_a_huge_int_key(tmp_path):
    """The model sits under an int of 5,000 digits: the recipe's literal() calls repr(), which Python
    refuses past 4,300 digits (ValueError, not a RecipeError: the window's export does not expect it)."""
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.edits import strip
    from ckptviewer.core.recipe import RecipeError, recipe

    path = build("huge_int_key_above_the_state_dict", tmp_path)
    new, _ = strip(open_checkpoint(path, device="cpu"))
    try:
        text = recipe(new, str(tmp_path / "out.pth"))
    except RecipeError:
        return
    compile(text, "recipe.py", "exec")


def test_recipe_with_every_edit_type_and_hostile_keys(tmp_path):
    """strip, add_prefix, rename, drop, cast and graft over keys with quotes, newlines, a lone
    surrogate and code-looking text: the script runs (no marker) and gives the saved tensors bit for bit."""
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.edits import add_prefix, cast, drop, graft, rename, strip
    from ckptviewer.core.recipe import recipe
    from ckptviewer.core.save import _bit_equal, save

    marker = tmp_path / "MARKER"
    evil = [f"a'\"\"\"\n__import__('os').system('touch {marker}')#", "b\ud800\r\x1b[2K", "c\\\n#'", "d"]
    sd = {f"module.{k}": torch.arange(4.0) + i for i, k in enumerate(evil)}
    target, source = tmp_path / "t.pth", tmp_path / "s.pth"
    torch.save({"model": sd, "optimizer": {"state": {0: {"m": torch.ones(1)}}}}, target)
    torch.save({f"module.{evil[3]}": torch.full((4,), 7.0)}, source)
    c = open_checkpoint(target, device="cpu")
    c, _ = strip(c)
    c, _ = add_prefix(c, "x'\n.")
    c, _ = rename(c, r"^x'\n\.", "y.")
    c, _ = drop(c, ["optimizer"])
    c, _ = graft(c, open_checkpoint(source, device="cpu"), maps=[("", "y.")])
    c, _ = cast(c, "float16")
    out, replayed = tmp_path / "gui.pth", tmp_path / "replayed.pth"
    save(c, out)
    script = tmp_path / "recipe.py"
    script.write_text(recipe(c, str(out)), encoding="utf-8")
    r = subprocess.run([sys.executable, str(script), str(replayed)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert not marker.exists()
    a, b = open_checkpoint(out, device="cpu"), open_checkpoint(replayed, device="cpu")
    assert list(a.tensors) == list(b.tensors)
    assert all(_bit_equal(a.tensor(k), b.tensor(k)) for k in a.tensors)


# --- outputs written from hostile inputs ------------------------------------------------------------------


def _records(path: Path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read(next(n for n in z.namelist() if n.endswith("data.pkl")))


@pytest.mark.parametrize("name", ["storage_class_as_a_value", "numpy_dtype_object_as_a_value"])
def test_outputs_never_name_ckptviewer_internals(tmp_path, name):
    """A stand-in ckptviewer made while reading (StorageType for torch.FloatStorage, NumpyDtype for
    numpy.dtype) must not be pickled into an output as ckptviewer.core.* (an output that names our
    classes is not what the input held; torch.load(weights_only=True) refuses it)."""
    path = build(name, tmp_path)
    out = tmp_path / "out.pth"
    r = ckpt("convert", path, "-o", out)
    clean(r)
    if r.returncode == 0:
        assert b"ckptviewer" not in _records(out), "the output pickles ckptviewer's own classes"


def test_an_output_loads_where_its_input_loaded(tmp_path):
    """torch.load(weights_only=True) reads storage_class_as_a_value; it must read the convert of it."""
    path = build("storage_class_as_a_value", tmp_path)
    torch.load(path, weights_only=True)
    out = tmp_path / "out.pth"
    r = ckpt("convert", path, "-o", out)
    clean(r)
    if r.returncode == 0:
        torch.load(out, weights_only=True)


def test_memoryview_in_the_tree_is_saved_or_refused(tmp_path):
    """READONLY_BUFFER leaves a memoryview in the structure: strip must write it or refuse cleanly."""
    path = build("memoryview_from_readonly_buffer", tmp_path)
    clean(ckpt("strip", path, "-o", tmp_path / "out.pth", "--prefix", "w"))


def test_dcp_listing_shows_every_tensor(tmp_path):
    """A DCP entry named 'model' (a non-tensor entry) after 'model.w' and 'model.b' must not drop
    the tensors from the listing (scan, convert and the window would never see them)."""
    from ckptviewer.core import CheckpointError, open_checkpoint

    path = build("dcp_entry_named_like_a_group", tmp_path)
    try:
        c = open_checkpoint(path, device="cpu")
    except CheckpointError:
        return  # refusing the ambiguity is fine
    assert {"model.w", "model.b"} <= set(c.tensors), f"listed {list(c.tensors)}: the DCP tensors were dropped"


# --- output paths -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_odd_output_paths(tmp_path):
    """A FIFO (with and without --force), a symlink loop, a dangling link, a path whose parent is a
    file, and a name with a newline and ESC: no hang (a FIFO must never be opened for writing), one
    clean line or a verified file, the name printed escaped."""
    src = tmp_path / "in.pth"
    torch.save({"module.w": torch.ones(2)}, src)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.pth"
    loop.symlink_to(loop)
    dangling = tmp_path / "dangling.pth"
    dangling.symlink_to(tmp_path / "nowhere" / "x.pth")
    (tmp_path / "afile").write_text("x")
    weird = tmp_path / "out\n\x1b[2Kverified.pth"
    runs = [
        (("strip", src, "-o", fifo), (1,)),
        (("strip", src, "-o", fifo, "--force"), (0, 1)),
        (("strip", src, "-o", loop, "--force"), (0, 1)),
        (("strip", src, "-o", dangling), (0, 1)),
        (("strip", src, "-o", tmp_path / "afile" / "x.pth"), (1,)),
        (("strip", src, "-o", weird), (0,)),
    ]
    for argv, ok in runs:
        try:
            r = ckpt(*argv, timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{argv}: hung (a FIFO opened?)")
        clean(r, ok)
        assert "\x1b" not in r.stdout + r.stderr
    assert (tmp_path / "nowhere").exists() is False


@pytest.mark.slow
def test_concurrent_surgeries_into_one_output(tmp_path):
    """Four strips racing to one output with --force: each ends cleanly, the file left is whole and verified."""
    src = tmp_path / "in.pth"
    torch.save({f"module.l{i}": torch.randn(256, 256) for i in range(8)}, src)
    out = tmp_path / "out.pth"
    results: list[subprocess.CompletedProcess] = []
    threads = [threading.Thread(target=lambda: results.append(ckpt("strip", src, "-o", out, "--force")))
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        clean(r)
    assert any(r.returncode == 0 for r in results)
    assert set(torch.load(out, weights_only=True)) == {f"l{i}" for i in range(8)}
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


# --- the window --------------------------------------------------------------------------------------------


def _bytes_key_file(tmp_path: Path) -> Path:
    """The model state_dict under the bytes key b'model' (literal() refuses bytes: a RecipeError)."""
    body = EMPTY_DICT + b"C\x05model" + EMPTY_DICT + MARK + U("module.w") + tensor_v2("0", 4, (4,), (1,))
    body += U("module.b") + tensor_v2("0", 4, (4,), (1,)) + SETITEMS + SETITEM
    return torch_zip(tmp_path / "bytes_key.pth", PROTO4 + body + STOP, DATA)


@pytest.mark.parametrize("kind", ["bytes_key", "huge_int_key"])
def test_window_recipe_export_refusal_does_not_escape_the_slot(qtbot, tmp_path, monkeypatch, kind):
    """File > Export recipe is enabled after an edit (replayable() checks only the files); the keys are
    checked when the script is written: a bytes key raises RecipeError, an int of 5,000 digits a
    ValueError from repr(). gui/editing.py export_recipe catches neither: the exception escapes the
    Qt slot (a traceback on stderr, nothing shown to the user)."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QFileDialog

    from ckptviewer.gui.main_window import MainWindow

    path = _bytes_key_file(tmp_path) if kind == "bytes_key" else build("huge_int_key_above_the_state_dict", tmp_path)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    window = MainWindow(settings=settings)
    qtbot.addWidget(window)
    monkeypatch.setattr(window.editor, "confirm_discard", lambda: True)  # no modal question at teardown
    window.show()
    try:
        with qtbot.waitSignal(window.opened, timeout=60_000):
            window.open_file(path)
        dialog = window.editor.edit("strip")
        qtbot.waitUntil(lambda: dialog.outcome is not None, timeout=60_000)
        dialog.accept()
        qtbot.waitUntil(lambda: bool(window.ckpt and window.ckpt.history), timeout=60_000)
        qtbot.waitUntil(window.editor.recipe_action.isEnabled, timeout=60_000)
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(tmp_path / "recipe.py"), ""))
        escaped: list[BaseException] = []
        previous = sys.excepthook
        sys.excepthook = lambda kind, exc, tb: escaped.append(exc)
        try:
            window.editor.recipe_action.trigger()
            qtbot.wait(200)
        finally:
            sys.excepthook = previous
        assert not escaped, f"an exception escaped the recipe slot: {escaped[0]!r}"
    finally:
        window.runner.shutdown(10_000)
