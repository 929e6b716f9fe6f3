"""Core's English messages the window says in Chinese by their shape (gui/core_messages.py): every
warning the edits below really write and every finding of a real training run is recognised."""

from __future__ import annotations

import pytest
import torch

from ckptviewer.core import open_checkpoint
from ckptviewer.core.edits import OPERATIONS
from ckptviewer.gui import i18n
from ckptviewer.gui.core_messages import edit_warning, run_finding_text
from tests.runs import make_run


@pytest.fixture
def chinese(qapp):
    i18n.install("zh_CN")
    yield
    i18n.install(i18n.SOURCE_LANGUAGE)


def _warnings(tmp_path) -> list[str]:
    """Warnings of real edits: cast (an int tensor; nothing left to cast), strip (no prefix), average
    (tensors outside the model), add-prefix and rename."""
    sd = {"fc.weight": torch.randn(3, 2), "fc.bias": torch.zeros(3), "steps": torch.tensor(4)}
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({"model": sd, "optimizer": {"state": {0: {"exp_avg": torch.zeros(3)}}}}, a)
    torch.save({"model": sd, "optimizer": {"state": {0: {"exp_avg": torch.ones(3)}}}}, b)
    ckpt, other = open_checkpoint(a), open_checkpoint(b)
    out = []
    out += OPERATIONS["cast"].apply(ckpt, {"dtype": "bfloat16", "keys": ["*"]})[1].warnings
    out += OPERATIONS["cast"].apply(ckpt, {"dtype": "float32", "keys": ["model.fc.*"]})[1].warnings
    out += OPERATIONS["strip"].apply(ckpt)[1].warnings
    out += OPERATIONS["average"].apply(ckpt, {}, [other])[1].warnings
    out += OPERATIONS["rename"].apply(ckpt, {"pattern": "^fc", "repl": "fc"})[1].warnings
    out += OPERATIONS["extract"].apply(ckpt, {"keys": ["model.fc.*", "nothing.*"]})[1].warnings
    return out


def test_the_edits_warnings_are_said_in_chinese(tmp_path, chinese):
    warnings = _warnings(tmp_path)
    assert len(warnings) >= 5  # the edits above did warn: the check below is not vacuous
    for w in warnings:
        said = edit_warning(w)
        assert said != w and any("\u4e00" <= c <= "\u9fff" for c in said), w


def test_the_findings_of_a_real_run_are_said_in_chinese(tmp_path, chinese):
    from ckptviewer.core.run import analyse_run, find_run

    report = analyse_run(find_run(make_run(tmp_path, zero_at=2)))
    kinds = {f.kind for f in report.findings}
    assert {"frozen", "first_nonfinite", "identical"} <= kinds
    for f in report.findings:
        said = run_finding_text(f.message)
        assert said != f.message and any("\u4e00" <= c <= "\u9fff" for c in said), f.message


def test_in_english_core_words_are_kept(tmp_path, qapp):
    i18n.install("en")
    for w in _warnings(tmp_path):
        assert edit_warning(w) == w


def test_an_unknown_message_is_shown_as_core_wrote_it(chinese):
    assert edit_warning("something new happened") == "something new happened"
    assert run_finding_text("model weights bit-identical to b.pth") == "模型权重与 b.pth 逐位相同"


# --- errors and refusals (gui/core_errors.py, gui/edit_refusals.py) ------------------------------------------


def _cjk(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


# ASCII words a Chinese error keeps: names of formats, libraries, devices and of core's own fields
KEPT = {"PyTorch", "JSON", "zip", "pickle", "safetensors", "GGUF", "GGML", "LoRA", "EMA", "Linear", "SRC", "DST",
        "auto", "cpu", "cuda", "CUDA", "GPU", "B", "A", "r", "alpha", "kaiming", "PNG", "MiB", "GiB", "DoRA",
        "Range", "Trust", "pip", "install", "fsspec", "http", "Python", "NumPy", "torch"}  # fmt: skip


def _english_left(said: str, computed: list[str]) -> list[str]:
    """English words of ``said`` other than the computed parts (paths, keys, dtypes) and the kept names."""
    import re

    from tests.gui.test_translations import _english_words

    for part in sorted(computed, key=len, reverse=True):
        said = said.replace(part, " ")
    said = re.sub(r"'[^']*'", " ", said)  # what core quotes (repr): a key, a pattern or a value as it was given
    return _english_words(said, KEPT)


def _refused(fn) -> str:
    from ckptviewer.core.errors import CheckpointError

    with pytest.raises(CheckpointError) as caught:
        fn()
    return str(caught.value)


def _open_failures(tmp_path) -> list[tuple[str, list[str]]]:
    """(message, its computed parts) of files that core really refuses to open."""
    import struct
    import zipfile

    from safetensors.torch import save_file

    good = tmp_path / "good.pth"
    torch.save({"w": torch.randn(64, 64)}, good)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "readme.txt").write_text("not weights")
    (tmp_path / "notes.txt").write_text("hello\n" * 20)
    (tmp_path / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    (tmp_path / "empty.pth").write_bytes(b"")
    (tmp_path / "cut.pth").write_bytes(good.read_bytes()[:3000])  # a download cut short
    (tmp_path / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "config.json").write_text('{"hidden_size": 8}')
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("hello.txt", "hi")
    (tmp_path / "plain.pkl").write_bytes(__import__("pickle").dumps({"a": 1}, protocol=4))
    save_file({"w": torch.randn(32, 32)}, tmp_path / "w.safetensors")
    data = (tmp_path / "w.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(data[: len(data) // 2])
    (tmp_path / "claims.safetensors").write_bytes(struct.pack("<Q", 10**6) + b"{}" + bytes(8))
    (tmp_path / "old.gguf").write_bytes(b"GGUF" + struct.pack("<I", 1) + bytes(32))
    (tmp_path / "future.gguf").write_bytes(b"GGUF" + struct.pack("<I", 7) + bytes(32))
    (tmp_path / "short.gguf").write_bytes(b"GGUF" + struct.pack("<I", 3) + bytes(4))
    with zipfile.ZipFile(tmp_path / "new.pt2", "w") as zf:
        zf.writestr("m/archive_format", "pt2")
        zf.writestr("m/archive_version", "99")
    names = ["missing.pth", "folder", "notes.txt", "picture.png", "empty.pth", "cut.pth", "blob.bin", "config.json",
             "other.zip", "plain.pkl", "cut.safetensors", "claims.safetensors", "old.gguf", "future.gguf",
             "short.gguf", "new.pt2"]  # fmt: skip
    out = [(_refused(lambda n=n: open_checkpoint(tmp_path / n)), [str(tmp_path / n), "'w'", "'99'"]) for n in names]
    out.append((_refused(lambda: open_checkpoint(good, device="tpu")), ["'tpu'"]))
    from ckptviewer.core.run import find_run  # File ▸ Open Run… of a folder without checkpoints, of no folder

    run = tmp_path / "run"
    run.mkdir()
    (run / "notes.txt").write_text("lr 0.1\n")
    (run / "step_1.pt").write_bytes(bytes(range(200)))
    out += [(_refused(lambda: find_run(run)), [str(run), "notes.txt", "step_1.pt"])]
    out += [(_refused(lambda: find_run(tmp_path / "no_run")), [str(tmp_path / "no_run")])]
    return out


def test_open_failures_are_said_in_chinese(tmp_path, chinese):
    from ckptviewer.gui.core_errors import error_text

    for message, computed in _open_failures(tmp_path):
        said = error_text(message)
        assert said != message and _cjk(said), message
        assert _english_left(said, computed + ["the magic", "the version", "the tensor count"]) == [], (message, said)


def test_a_refused_work_limit_and_a_remote_failure_are_said_in_chinese(tmp_path, chinese):
    from ckptviewer.core.limits import check_dense, check_work
    from ckptviewer.gui.core_errors import error_text
    from tests.remote_servers import RangeHTTPServer

    messages = [
        _refused(lambda: check_work("fc.weight", 10**12, 10)),
        _refused(lambda: check_dense("fc.weight", 10**12, 4)),
    ]
    torch.save({"w": torch.randn(8, 8)}, tmp_path / "m.pth")
    server = RangeHTTPServer(tmp_path, honour_range=False).start()
    try:
        messages.append(_refused(lambda: open_checkpoint(f"{server.url}/missing.pth")))
        messages.append(_refused(lambda: open_checkpoint(f"{server.url}/m.pth")))  # no Range support
    finally:
        server.stop()
    for message in messages:
        said = error_text(message.split(": ", 1)[-1] if message.startswith("fc.weight") else message)
        assert said != message and _cjk(said), message
        assert _english_left(said, [server.url, "/missing.pth", "/m.pth", "GiB"]) == [], (message, said)


def test_in_english_errors_are_core_words(tmp_path, qapp):
    from ckptviewer.gui.core_errors import error_text

    i18n.install("en")
    for message, _ in _open_failures(tmp_path):
        assert error_text(message) == message


def _real_refusals(tmp_path) -> list[tuple[str, str, list[str]]]:
    """(operation, refusal, computed parts) of edits core really refuses."""
    import json

    from safetensors.torch import save_file

    sd = {"fc.weight": torch.randn(3, 2), "fc.bias": torch.zeros(3), "bn.num_batches_tracked": torch.tensor(4)}
    a, b, c = tmp_path / "a.pth", tmp_path / "b.pth", tmp_path / "c.pth"
    torch.save({"model": sd, "ema": {"fc.weight": torch.randn(4, 2)}}, a)
    torch.save({"model": {**sd, "fc.weight": torch.randn(4, 2), "extra.weight": torch.ones(2)}}, b)
    torch.save({"state_dict": {"module.other.weight": torch.randn(3, 2)}}, c)
    ckpt, other, third = open_checkpoint(a), open_checkpoint(b), open_checkpoint(c)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    save_file({"base_model.model.fc.lora_A.weight": torch.randn(2, 5), "base_model.model.fc.lora_B.weight":
               torch.zeros(3, 2), "base_model.model.gone.lora_A.weight": torch.randn(2, 2)},
              adapter / "adapter_model.safetensors")  # fmt: skip
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4}))
    dora = tmp_path / "dora"
    dora.mkdir()
    save_file({"base_model.model.fc.lora_A.weight": torch.randn(2, 2)}, dora / "adapter_model.safetensors")
    (dora / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "use_dora": True, "lora_bias": True}))
    ia3 = tmp_path / "ia3"
    ia3.mkdir()
    save_file({"base_model.model.fc.ia3_l": torch.ones(2)}, ia3 / "adapter_model.safetensors")
    (ia3 / "adapter_config.json").write_text(json.dumps({"peft_type": "IA3"}))
    lora, dora_ckpt, ia3_ckpt = open_checkpoint(adapter), open_checkpoint(dora), open_checkpoint(ia3)
    runs = [
        ("average", {"weights": ["1", "2", "3"]}, [other]), ("average", {"weights": ["1", "-1"]}, [other]),
        ("average", {"weights": ["0", "0"]}, [other]), ("average", {"weights": ["x", "1"]}, [other]),
        ("average", {"weights": ["inf", "1"]}, [other]), ("average", {}, []), ("average", {}, [other]),
        ("graft", {}, other), ("graft", {"maps": ["nothing"]}, other), ("graft", {}, third),
        ("graft", {"include": ["nothing.*"]}, other),
        ("take_ema", {}, None), ("take_ema", {"ema_key": "nowhere"}, None),
        ("resize_head", {"keys": ["fc.*"], "rows": "0"}, None),
        ("resize_head", {"keys": ["fc.*"], "rows": "5", "seed": "-1"}, None),
        ("resize_head", {"keys": ["nothing.*"], "rows": "5"}, None),
        ("resize_head", {"keys": ["bn.*"], "rows": "5"}, None),
        ("add_prefix", {"prefix": ""}, None), ("rename", {"pattern": "(fc", "repl": "x"}, None),
        ("rename", {"pattern": "[fc", "repl": "x"}, None), ("rename", {"pattern": ".*", "repl": "same"}, None),
        ("rename", {"pattern": "^nothing", "repl": "x"}, None),
        ("extract", {"keys": ["nothing.*"]}, None), ("drop", {"keys": ["nothing.*"]}, None),
        ("cast", {"dtype": "int8"}, None), ("cast", {"dtype": "float16", "keys": ["nothing.*"]}, None),
        ("merge_lora", {}, lora), ("merge_lora", {}, dora_ckpt), ("merge_lora", {}, ia3_ckpt),
        ("merge_lora", {}, ckpt),
    ]  # fmt: skip
    out = []
    for op, values, source in runs:
        message = _refused(lambda op=op, values=values, source=source: OPERATIONS[op].apply(ckpt, values, source))
        out.append((op, message, ["a.pth", "b.pth", "c.pth", "adapter", "int8", "ema", "nowhere", "gone", "IA3"]))
    return out


def test_real_edit_refusals_are_said_in_chinese(tmp_path, chinese):
    """What the edit dialog shows for real refusals: Chinese, CLI options named by the dialog's field labels,
    no English word but keys, file names and dtypes."""
    from ckptviewer.gui.core_errors import error_text
    from ckptviewer.gui.edit_dialogs import window_words

    refusals = _real_refusals(tmp_path)
    assert len({m for _, m, _ in refusals}) >= 28  # really different refusals: the check is not vacuous
    for op, message, computed in refusals:
        said = window_words(error_text(message), OPERATIONS[op].params)
        assert _cjk(said), message
        assert _english_left(said, computed) == [], (message, said)


def test_preview_rows_of_a_refusal_are_said_in_chinese(tmp_path, chinese):
    """The problem rows of refused average, merge-lora and take-ema previews, and graft's skip reasons."""
    from ckptviewer.core.edits import EditError
    from ckptviewer.gui.edit_dialogs import report_rows

    sd = {"fc.weight": torch.randn(3, 2), "fc.bias": torch.zeros(3), "bn.weight": torch.ones(3)}
    a, b = tmp_path / "a.pth", tmp_path / "b.pth"
    torch.save({"model": sd, "ema": {"fc.weight": torch.randn(4, 2), "head.weight": torch.ones(1)}}, a)
    extra = {"fc.bias": torch.ones(3), "bn.weight": torch.zeros(3), "extra.weight": torch.ones(2)}
    torch.save({"model": {"fc.weight": torch.randn(4, 2), **extra}}, b)
    ckpt, other = open_checkpoint(a), open_checkpoint(b)
    rows = []
    for op, source in (("average", [other]), ("take_ema", None)):
        with pytest.raises(EditError) as caught:
            OPERATIONS[op].apply(ckpt, {}, source)
        rows += report_rows(caught.value.report, refused=True)
    _, report = OPERATIONS["graft"].apply(ckpt, {"skip_mismatched": True, "exclude": ["fc.bias"]}, other)
    rows += report_rows(report)
    problems = [change for _, change, severity in rows if severity in ("error", "muted")]
    assert len(problems) >= 6
    for change in problems:
        assert _cjk(change) and _english_left(change, ["a.pth", "b.pth", "'extra.weight'"]) == [], change


def _sample(node, known: dict) -> str:
    """A value core could put in an f-string's ``{...}``, guessed from the expression (for the rule check);
    ``known``: the function's local names assigned a literal or an f-string, said as that."""
    import ast

    text = ast.unparse(node.value)
    if isinstance(node.value, ast.Name) and node.value.id in known:
        return _render(known[node.value.id], known)
    if text.startswith("plural("):
        return f"2 {node.value.args[1].value}s"
    if node.format_spec is not None or text.startswith("len("):
        return "2"
    if "human_bytes" in text:
        return "1.0 GiB"
    if "first_differences" in text:
        return "fc.weight: not in b.pth; fc.bias: only in b.pth (+3 more)"
    if "op" in text or "command" in text:
        return "merge-lora"
    if isinstance(node.value, ast.IfExp):
        return node.value.body.value
    if ".join(" in text:
        return "fc.*, head.*"
    if "MAX_" in text:
        return "256"
    return "'fc.weight'" if node.conversion == ord("r") else "fc.weight"


def _refusal_templates() -> list[tuple[str, str]]:
    """(where, a message) for every ``raise EditError(...)`` of core/edits, its computed parts sampled."""
    import ast
    from pathlib import Path

    import ckptviewer.core.edits as edits

    out = []
    for path in sorted(Path(edits.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        locals_of = _function_locals(tree)
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            if getattr(node.exc.func, "id", None) != "EditError":
                continue
            known = locals_of.get(node.lineno, {})
            out.append((f"{path.name}:{node.lineno}", _render(node.exc.args[0], known)))
    return out


def _render(node, known: dict) -> str:
    import ast

    parts = node.values if isinstance(node, ast.JoinedStr) else [node]
    return "".join(p.value if isinstance(p, ast.Constant) else _sample(p, known) for p in parts)


# what the callers of these functions pass as the parameters their refusals quote
PARAMETERS = {"numbers": {"what": "--weights"}, "refuse_if_unmatched": {"what": "cast"}}


def _function_locals(tree) -> dict[int, dict]:
    """{line: {name: the literal or f-string assigned to it in the function around that line}}."""
    import ast

    out: dict[int, dict] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef):
            literal = (ast.Constant, ast.JoinedStr)
            names = {t.id: a.value for a in ast.walk(fn) if isinstance(a, ast.Assign) and isinstance(a.value, literal)
                     for t in a.targets if isinstance(t, ast.Name)}  # fmt: skip
            names.update({k: ast.Constant(v) for k, v in PARAMETERS.get(fn.name, {}).items()})
            for line in range(fn.lineno, (fn.end_lineno or fn.lineno) + 1):
                out[line] = names
    return out


def test_every_edit_refusal_of_core_has_a_translation(chinese):
    """A new ``raise EditError`` without a pattern in gui/edit_refusals.py fails here."""
    from ckptviewer.gui.edit_refusals import edit_refusal, refusal_rule

    templates = _refusal_templates()
    assert len(templates) >= 40
    missing = [f"{where}: {text}" for where, text in templates if refusal_rule(text) is None]
    assert missing == []
    for where, text in templates:
        said = edit_refusal(text)
        assert said is not None and _cjk(said), where


def test_an_unknown_error_is_shown_as_core_wrote_it(chinese):
    from ckptviewer.gui.core_errors import error_text

    assert error_text("/x/y.pth: something new went wrong") == "/x/y.pth: something new went wrong"
    assert error_text("a: b: no such file") == "a: b：文件不存在"  # a place holding ": " itself
