"""Red team of issue 16: the run view (``ckpt run``, File ▸ Open Run…, the per-file figures cache) and the
weight-preparation commands (average, merge-lora, take-ema, resize-head) with hostile inputs.

Every attack runs the real ``ckpt`` (or a short Python script) in a child process limited to 3 GiB of
address space and a wall-clock time, with its own cache folder. Files are written by torch and
safetensors in the test; the hostile parts (names, JSON side files, adapter configs, cache files) by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from tests.hostile.limited import ckpt, script

HUGE = 10**400  # an integer past a float's range: JSON and pickles hold it, float() raises OverflowError


def clean(r: subprocess.CompletedProcess, ok: tuple[int, ...] = (0, 1)) -> None:
    """An exit status in ``ok``; a failure is one line, never an 'unexpected' error or a traceback."""
    where = f"rc {r.returncode}: {r.stderr[-800:]}"
    assert r.returncode in ok, where
    assert "unexpected" not in r.stderr.lower() and "traceback" not in r.stderr.lower(), where
    if r.returncode != 0:
        assert r.stderr.count("\n") == 1, where


@pytest.fixture
def cache(tmp_path) -> Path:
    folder = tmp_path / "cache"
    folder.mkdir(mode=0o700)
    return folder


def _save(path: Path, scale: float = 1.0, **extra) -> None:
    torch.manual_seed(int(scale * 10))
    torch.save({"model": {"w": torch.randn(8, 8) * scale, "b": torch.ones(4)}, **extra}, path)


# --- ckpt run: a hostile folder ----------------------------------------------------------------------------

HOSTILE_NAMES = [
    "step=1.pt",
    "step=2\x1b[31mRED\x1b]0;title\x07\n.pt",  # terminal escapes (colour, window title) and a newline
    "step=3\u202egnp.pt",  # a right-to-left override
    "step=4 '\"[*?]{a,b}.pt",  # quotes and glob metacharacters
    "step=99999999999999999999999.pt",  # a step past int64
    "step=" + "9" * 240 + ".pt",  # a step past int64 (and nearly past a file name's length)
]


def _hostile_run(folder: Path) -> Path:
    folder.mkdir()
    for i, name in enumerate(HOSTILE_NAMES):
        _save(folder / name, 1.0 + i)
    # the same key with another shape in one checkpoint
    torch.save({"model": {"w": torch.randn(3, 5), "b": torch.ones(4)}}, folder / "step=5.pt")
    (folder / "step=6.pt").symlink_to("/etc/passwd")
    (folder / "step=7.pt").symlink_to("/dev/zero")
    os.mkfifo(folder / "step=8.pt")  # a reader that opened it would wait forever
    (folder / "loop").symlink_to("loop")
    (folder / "up").symlink_to("..")  # the parent: not walked as a checkpoint folder
    (folder / "dangling.pt").symlink_to(folder / "nothing-here")
    return folder


def _no_raw_controls(text: str) -> None:
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text[:2000]


@pytest.mark.slow
def test_run_of_a_hostile_folder(tmp_path, cache):
    """Names with escapes, newlines, RTL overrides, quotes and glob characters; steps past int64; links
    to /etc/passwd, /dev/zero, a FIFO, a loop; one checkpoint with another shape for a key. The human
    output shows every name escaped, the JSON parses, no special file is read, nothing crashes."""
    run = _hostile_run(tmp_path / "run")
    human = ckpt(cache, "run", run, timeout=90)
    clean(human, ok=(0,))
    _no_raw_controls(human.stdout)
    assert "\\x1b[31mRED" in human.stdout and "\\u202e" in human.stdout
    as_json = ckpt(cache, "run", run, "--json", timeout=90)
    clean(as_json, ok=(0,))
    doc = json.loads(as_json.stdout)
    names = [c["name"] for c in doc["checkpoints"]]
    assert sorted(names) == sorted([*HOSTILE_NAMES, "step=5.pt"])
    skipped = {s["name"]: s["why"] for s in doc["skipped"]}
    assert {"step=7.pt", "step=8.pt", "loop", "dangling.pt"} <= set(skipped), skipped
    assert "not a regular file" in skipped["step=7.pt"] and "not a regular file" in skipped["step=8.pt"]
    # a number of 240 digits is no step: that checkpoint (and so the run) is not ordered by step
    steps = {c["name"]: c["step"] for c in doc["checkpoints"]}
    assert steps["step=" + "9" * 240 + ".pt"] is None
    assert steps["step=99999999999999999999999.pt"] is None
    w = next(s for s in doc["layers"] if s["key"] == "w")
    assert len(w["norm"]) == len(names)


@pytest.mark.slow
def test_run_by_a_glob_of_hostile_names(tmp_path, cache):
    """A glob that matches names holding glob metacharacters: each file once, nothing else."""
    run = tmp_path / "run"
    run.mkdir()
    for i, name in enumerate(["[a].pt", "*.pt", "?.pt"]):
        _save(run / name, 1.0 + i)
    r = ckpt(cache, "run", f"{run}/*.pt", "--json")
    clean(r, ok=(0,))
    assert sorted(c["name"] for c in json.loads(r.stdout)["checkpoints"]) == ["*.pt", "?.pt", "[a].pt"]


def test_huge_and_odd_numbers_in_trainer_state_and_metadata(tmp_path, cache):
    """trainer_state.json with 1000-digit integers, 1e999, deep nesting, non-UTF-8 bytes; pickled
    step/epoch/lr/loss of 10**400, NaN and Inf: a run, never OverflowError."""
    run = tmp_path / "run"
    run.mkdir()
    _save(run / "a.pt", 1.0, global_step=HUGE, epoch=HUGE, lr=HUGE, loss=HUGE, metrics={"val_loss": -HUGE})
    _save(run / "b.pt", 2.0, global_step=3, loss=float("nan"),
          optimizer={"state": {}, "param_groups": [{"lr": HUGE}]})  # fmt: skip
    _save(run / "c.pt", 3.0, global_step=4, loss=float("inf"), lr=float("-inf"))
    states = {
        "checkpoint-5": '{"global_step": 1'
        + "0" * 1000
        + ', "epoch": 1e999, "best_metric": '
        + "9" * 500
        + ', "log_history": [{"learning_rate": '
        + "1" * 600
        + ', "loss": -'
        + "2" * 700
        + "}]}",
        "checkpoint-6": "[" * 100_000 + "]" * 100_000,
        "checkpoint-7": b'{"global_step": 7, "x": "\xff\xfe"}',
        "checkpoint-8": '{"global_step": "8; rm -rf /", "epoch": [1], "log_history": {"loss": 1}}',
    }
    for name, text in states.items():
        (run / name).mkdir()
        save_file({"w": torch.randn(8, 8), "b": torch.ones(4)}, str(run / name / "model.safetensors"))
        data = text if isinstance(text, bytes) else text.encode()
        (run / name / "trainer_state.json").write_bytes(data)
    r = ckpt(cache, "run", run, "--json", timeout=90)
    clean(r, ok=(0,))
    doc = json.loads(r.stdout)
    by_name = {c["name"]: c for c in doc["checkpoints"]}
    assert len(by_name) == 7
    assert by_name["a.pt"]["step"] is None and by_name["a.pt"]["lr"] is None and by_name["a.pt"]["metrics"] == {}
    assert by_name["b.pt"]["lr"] is None
    assert by_name["checkpoint-5"]["step"] == 5  # from the name: the state's step is no number we can use
    assert by_name["checkpoint-8"]["step"] == 8


@pytest.mark.slow
def test_a_dcp_step_folder_with_a_hostile_metadata_is_skipped(tmp_path, cache):
    """A DCP step folder whose .metadata is a pickle that calls os.system: skipped with a reason, and the
    command never runs."""
    import pickle

    run = tmp_path / "run"
    run.mkdir()
    _save(run / "step_1.pt", 1.0)
    _save(run / "step_2.pt", 2.0)
    bad = run / "step_3"
    bad.mkdir()
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (bad / ".metadata").write_bytes(pickle.dumps(Evil()))
    (bad / "__0_0.distcp").write_bytes(b"\0" * 64)
    r = ckpt(cache, "run", run, "--json")
    clean(r, ok=(0,))
    doc = json.loads(r.stdout)
    assert [c["name"] for c in doc["checkpoints"]] == ["step_1.pt", "step_2.pt"]
    assert "step_3" in {s["name"] for s in doc["skipped"]}
    assert not marker.exists()


# --- the per-file figures cache ----------------------------------------------------------------------------

_CACHE_SCRIPT = """
    import json, math, os, sys
    from pathlib import Path
    from ckptviewer.core import run_cache
    from ckptviewer.core.run import analyse_run, list_run

    run, folder, elsewhere = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    listing = list_run(run, cache_dir=folder)
    truth = analyse_run(listing.checkpoints, cache_dir=folder)
    want = [s.norm for s in truth.layers], [s.rel_update for s in truth.layers]
    keys = [c.key for c in listing.checkpoints]
    results = {}

    def good(k):
        return json.loads((elsewhere / "good" / f"{k}.json").read_text())

    (elsewhere / "good").mkdir()
    for k in keys:
        (elsewhere / "good" / f"{k}.json").write_bytes((folder / f"{k}.json").read_bytes())

    def forged(k, change):
        doc = good(k)
        change(doc)
        return json.dumps(doc)

    def neg_norm(doc):
        for row in doc["layers"]:
            row[3] = -1.0

    def neg_d2(doc):
        for pair in doc["pairs"].values():
            pair["d2"] = {key: -4.0 for key in pair["d2"]}

    def huge_ints(doc):
        for row in doc["layers"]:
            row[3] = "HUGE"
            row[1] = [10**30]
        doc["info"]["lr"] = "HUGE"

    def other_key(doc):
        doc["key"] = "0" * 40

    cases = {
        "negative_norm": lambda k: forged(k, neg_norm),
        "negative_d2": lambda k: forged(k, neg_d2),
        "huge_ints": lambda k: forged(k, huge_ints).replace('"HUGE"', "1" + "0" * 400),
        "other_key": lambda k: forged(k, other_key),
        "not_json": lambda k: b"\\xff\\xfe{{{",
        "deep": lambda k: "[" * 200000 + "]" * 200000,
        "wrong_types": lambda k: json.dumps({"version": 2, "key": k, "info": [], "layers": {"a": 1},
                                            "pairs": {"x": {"d2": [], "equal": 3, "keys_equal": "yes"}}}),
        "fifo": lambda k: os.mkfifo(folder / f"{k}.json"),
        "link_to_passwd": lambda k: os.symlink("/etc/passwd", folder / f"{k}.json"),
        "a_folder": lambda k: os.mkdir(folder / f"{k}.json"),
    }
    for name, make in cases.items():
        for k in keys:
            p = folder / f"{k}.json"
            if p.is_dir() and not p.is_symlink():
                os.rmdir(p)
            elif p.is_symlink() or p.exists():
                p.unlink()
        for k in keys:
            doc = make(k)
            if isinstance(doc, bytes):
                (folder / f"{k}.json").write_bytes(doc)
            elif isinstance(doc, str):
                (folder / f"{k}.json").write_text(doc)
        try:
            got = analyse_run(list_run(run, cache_dir=folder).checkpoints, cache_dir=folder)
            same = ([s.norm for s in got.layers], [s.rel_update for s in got.layers]) == want
            results[name] = "same" if same else "forged"
        except Exception as exc:
            results[name] = f"{type(exc).__name__}: {exc}"
    # runs/ itself a link to another folder: nothing read or written there
    linked = folder.parent / "runs-link"
    os.symlink(elsewhere, linked)
    before = sorted(os.listdir(elsewhere))
    got = analyse_run(list_run(run, cache_dir=linked).checkpoints, cache_dir=linked)
    results["runs_is_a_link"] = "same" if [s.norm for s in got.layers] == want[0] else "forged"
    results["written_through_link"] = sorted(os.listdir(elsewhere)) != before
    print(json.dumps(results))
"""


def test_planted_and_corrupt_cache_files(tmp_path, cache):
    """Cache files forged (negative sums of squares, 400-digit integers, another file's key), corrupt (not
    JSON, nested 200,000 deep, wrong types), or not files (a FIFO, a link to /etc/passwd, a folder); the
    runs/ folder a link to elsewhere: each analysis shows the true figures, nothing crashes or hangs, and
    nothing is written through the link."""
    run = tmp_path / "run"
    run.mkdir()
    for i in range(3):
        _save(run / f"step_{i}.pt", 1.0 + i)
    folder = tmp_path / "runs"
    folder.mkdir(mode=0o700)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    got = script(cache, _CACHE_SCRIPT, run, folder, elsewhere, timeout=120)
    assert got.pop("written_through_link") is False
    assert got == dict.fromkeys(got, "same"), got


@pytest.mark.slow
def test_a_checkpoint_name_cannot_steer_the_cache_file_name(tmp_path, cache):
    """A checkpoint named like a path (``..``, slashes through a folder name, a 255-byte name): cache files
    land in runs/ under hex names only."""
    run = tmp_path / "run"
    run.mkdir()
    for name in ["a..%2F..%2Fetc.pt", "step_1..\\..\\x.pt", "x" * 250 + ".pt"]:
        _save(run / name, 1.0 + len(name) % 7)
    r = ckpt(cache, "run", run, "--json")
    clean(r, ok=(0,))
    written = [p for p in cache.rglob("*") if p.is_file()]
    runs = [p for p in written if p.parent.name == "runs"]
    assert len(runs) == 3, written
    assert all(len(p.stem) == 40 and set(p.stem) <= set("0123456789abcdef") for p in runs), runs


# --- merge-lora: hostile adapter_config.json ---------------------------------------------------------------

_MODULE = "a" * 60  # a long run of one letter: what polynomial and exponential backtracking feed on

ADAPTER_CONFIGS = {
    "polynomial_pattern": ({"rank_pattern": {"a*a*a*a*a*a*a*a*a*a*a*b": 4}}, "refused"),
    "polynomial_class_pattern": ({"alpha_pattern": {"[a-z]*" * 9 + "c": 4}}, "refused"),
    "optional_pattern": ({"rank_pattern": {"a?" * 40 + "a" * 40: 4}}, "refused"),
    "alternation_in_a_repeat": ({"rank_pattern": {"(?:a|aa)*c": 4}}, "refused"),
    "nested_repeat": ({"rank_pattern": {"(a*)*c": 4}}, "refused"),
    "repeat_in_a_lookahead": ({"rank_pattern": {"(?:(?=a*)a)+c": 4}}, "refused"),
    "not_a_regex": ({"rank_pattern": {"(": 4}}, "refused"),
    "pattern_list": ({"rank_pattern": ["a"]}, "refused"),
    "pattern_number": ({"alpha_pattern": 5}, "refused"),
    "huge_alpha": ({"lora_alpha": HUGE}, "refused"),
    "huge_alpha_by_pattern": ({"alpha_pattern": {"a+": HUGE}}, "refused"),
    "nan_alpha": ({"lora_alpha": float("nan")}, "refused"),
    "r_zero": ({"r": 0}, "refused"),
    "r_huge": ({"r": 10**30}, "refused"),
    "r_string": ({"r": "2; import os"}, "refused"),
    "target_modules_regex": ({"target_modules": "(a+)+$"}, "merged"),  # not used by the merge: no matching
    "plain_pattern": ({"rank_pattern": {r"a+": 2}}, "merged"),
}


def _adapter(folder: Path, config: dict, module: str = _MODULE) -> Path:
    folder.mkdir()
    save_file({f"base_model.model.{module}.lora_A.weight": torch.randn(2, 4),
               f"base_model.model.{module}.lora_B.weight": torch.randn(4, 2)},
              str(folder / "adapter_model.safetensors"))  # fmt: skip
    text = json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4, **config})
    (folder / "adapter_config.json").write_text(text)
    return folder


_MERGE_SCRIPT = """
    import json, sys, time
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.edits import EditError, merge_lora

    base = open_checkpoint(sys.argv[1], device="cpu")
    out = {}
    for folder in sys.argv[2:]:
        start = time.monotonic()
        try:
            merge_lora(base, open_checkpoint(folder, device="cpu"))
            out[folder.rsplit("/", 1)[-1]] = ["merged", ""]
        except EditError as exc:
            out[folder.rsplit("/", 1)[-1]] = ["refused", str(exc)]
    print(json.dumps(out))
"""


def test_merge_lora_with_hostile_adapter_configs(tmp_path, cache):
    """Backtracking patterns (polynomial, exponential), patterns of the wrong type, a 400-digit alpha, NaN,
    r of 0, 10**30 or a string: each refused in one line (bounded length) or merged, within the time limit."""
    torch.save({f"{_MODULE}.weight": torch.randn(4, 4)}, tmp_path / "base.pt")
    folders = [_adapter(tmp_path / name, config) for name, (config, _) in ADAPTER_CONFIGS.items()]
    got = script(cache, _MERGE_SCRIPT, tmp_path / "base.pt", *folders, timeout=60)
    for name, (_, expected) in ADAPTER_CONFIGS.items():
        outcome, message = got[name]
        assert outcome == expected, (name, message)
        assert "\n" not in message and len(message) < 600, (name, message)


@pytest.mark.slow
def test_merge_lora_refuses_matching_patterns_on_a_huge_module_name(tmp_path, cache):
    """A module name of 10,000 characters with a pattern: refused, not matched (quadratic backtracking)."""
    module = "a." * 5_000 + "q"
    torch.save({f"{module}.weight": torch.randn(4, 4)}, tmp_path / "base.pt")
    adapter = _adapter(tmp_path / "adapter", {"rank_pattern": {r".*\.b": 4}}, module)
    r = ckpt(cache, "merge-lora", tmp_path / "base.pt", adapter, "-o", tmp_path / "out.pt", timeout=60)
    clean(r, ok=(1,))
    assert "module name over 256 characters" in r.stderr
    assert not (tmp_path / "out.pt").exists()


_RECIPE_SCRIPT = """
    import json, subprocess, sys
    from pathlib import Path
    from ckptviewer.core import open_checkpoint
    from ckptviewer.core.edits import merge_lora
    from ckptviewer.core.recipe import recipe

    base, adapter, out = sys.argv[1:4]
    new, _ = merge_lora(open_checkpoint(base, device="cpu"), open_checkpoint(adapter, device="cpu"))
    text = recipe(new, out)
    Path(out + ".py").write_text(text)
    r = subprocess.run([sys.executable, out + ".py"], capture_output=True, text=True)
    print(json.dumps({"rc": r.returncode, "stderr": r.stderr[-2000:], "text": text}))
"""


@pytest.mark.slow
def test_merge_lora_recipe_of_a_hostile_adapter(tmp_path, cache):
    """An adapter folder named with quotes, a newline and $(...), module names that close a string and call
    os.system: the recipe holds them as literals only, and replaying it runs nothing from the file."""
    marker = tmp_path / "pwned"
    module = f'm""")\nimport os; os.system(\'touch {marker}\') #'
    torch.save({f"{module}.weight": torch.randn(4, 4)}, tmp_path / "base.pt")
    adapter = _adapter(tmp_path / "evil'\"\n$(touch pwn)", {"rank_pattern": {"m.*": 2}}, module)
    out = tmp_path / "merged.pth"
    got = script(cache, _RECIPE_SCRIPT, tmp_path / "base.pt", adapter, out, timeout=120)
    assert got["rc"] == 0, got["stderr"]
    assert out.exists() and not marker.exists() and not (tmp_path / "pwn").exists()
    assert torch.load(out, weights_only=True)[f"{module}.weight"].shape == (4, 4)


# --- resize-head, average: absurd parameters ------------------------------------------------------------------


_CLI_SCRIPT = """
    import contextlib, io, json, sys
    from ckptviewer.cli import main

    out = []
    for argv in json.loads(sys.argv[1]):
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            try:
                rc = main(argv)
            except SystemExit as exc:
                rc = exc.code if isinstance(exc.code, int) else 2
        out.append([rc, err.getvalue()])
    print(json.dumps(out))
"""

ROWS = ["1000000000000", "9" * 30, "0", "-3", "1e3", "nan"]  # 16 TB, past int64, zero, negative, not integers
WEIGHTS = [  # (weights, averaged): sums past a float's range and denormals are proportions all the same
    (["1e308", "1e308"], True), (["1e308", "1"], True), (["1e-320", "1"], True), (["nan", "1"], False),
    (["inf", "1"], False), (["-1", "2"], False), (["0", "0"], False), (["1" + "0" * 400, "1"], False),
]  # fmt: skip


def test_resize_head_and_average_with_absurd_parameters(tmp_path, cache):
    """resize-head --rows and average --weights of every absurd kind (the in-process CLI, one child): each
    refused in one line with no output file, or averaged in proportion."""
    torch.save({"fc.weight": torch.randn(3, 4), "fc.bias": torch.zeros(3)}, tmp_path / "h.pt")
    torch.save({"w": torch.ones(3, 4)}, tmp_path / "a.pt")
    torch.save({"w": torch.full((3, 4), 3.0)}, tmp_path / "b.pt")
    a, b, h = (str(tmp_path / name) for name in ("a.pt", "b.pt", "h.pt"))
    argvs = [["resize-head", h, "--keys", "fc.*", "--rows", rows, "-o", str(tmp_path / f"r{i}.pt")]
             for i, rows in enumerate(ROWS)]  # fmt: skip
    argvs += [["average", a, b, "--weights", *w, "-o", str(tmp_path / f"a{i}.pt")] for i, (w, _) in enumerate(WEIGHTS)]
    got = script(cache, _CLI_SCRIPT, json.dumps(argvs), timeout=60)
    for argv, (rc, err) in zip(argvs, got):
        assert "unexpected" not in err.lower() and "traceback" not in err.lower(), (argv, err)
        assert rc == 0 or err.count("\n") == 1, (argv, err)
    for i, rows in enumerate(ROWS):
        assert got[i][0] == 1 and not (tmp_path / f"r{i}.pt").exists(), (rows, got[i])
    for i, (weights, ok) in enumerate(WEIGHTS):
        rc, err = got[len(ROWS) + i]
        out = tmp_path / f"a{i}.pt"
        assert (rc, out.exists()) == ((0, True) if ok else (1, False)), (weights, err)
        if ok:
            w = torch.load(out, weights_only=True)["w"]
            assert torch.isfinite(w).all() and 1.0 <= float(w.min()) <= float(w.max()) <= 3.0, weights


# --- the run window ---------------------------------------------------------------------------------------

_WINDOW_SCRIPT = """
    import json, sys
    from pathlib import Path
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from ckptviewer.core.run import analyse_run, list_run
    from ckptviewer.gui.run_view import RunWindow

    crashed = []
    sys.excepthook = lambda kind, exc, tb: crashed.append(f"{kind.__name__}: {exc}")
    listing = list_run(Path(sys.argv[1]))
    report = analyse_run(listing.checkpoints, skipped=listing.skipped, root=listing.root)
    window = RunWindow(listing.root, listing.checkpoints, device="cpu", report=report)
    window.show()
    window.show_report(report)
    for _ in range(20):
        app.processEvents()
    window.grab()
    texts = [window.windowTitle(), window.summary.text()]
    table = window.table
    for r in range(table.rowCount()):
        for c in range(table.columnCount()):
            item = table.item(r, c)
            if item is not None:
                texts += [item.text(), item.toolTip()]
    findings = window.findings
    texts += [findings.item(i).text() for i in range(findings.count())]
    texts += [findings.item(i).toolTip() for i in range(findings.count())]
    window.close()
    app.processEvents()
    print(json.dumps({"crashed": crashed, "texts": texts, "findings": findings.count()}))
"""


@pytest.mark.slow
def test_run_window_of_a_hostile_folder(tmp_path, cache):
    """The window of the hostile run: drawn without an exception in a slot; file-derived text is shown
    escaped (no raw escape, bell or RTL override in any cell, tooltip or title)."""
    run = _hostile_run(tmp_path / "run")
    got = script(cache, _WINDOW_SCRIPT, run, timeout=180)
    assert got["crashed"] == [] and got["findings"] >= 1
    for text in got["texts"]:
        _no_raw_controls(text)


@pytest.mark.slow
def test_run_of_thousands_of_files(tmp_path, cache):
    """5,000 entries beside 3 checkpoints (text files, empty files, folders): listed, skipped, in one line each
    of the human output; the run analysed."""
    run = tmp_path / "run"
    run.mkdir()
    for i in range(3):
        _save(run / f"step_{i}.pt", 1.0 + i)
    for i in range(2500):
        (run / f"log_{i}.txt").write_text("loss 0.1\n")
        (run / f"empty_{i}.pt").write_bytes(b"")
    r = ckpt(cache, "run", run, "--json", timeout=300)
    clean(r, ok=(0,))
    doc = json.loads(r.stdout)
    assert len(doc["checkpoints"]) == 3 and len(doc["skipped"]) == 5000
