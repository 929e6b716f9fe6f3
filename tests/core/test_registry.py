"""The edit operation registry (ckptviewer.core.edits.registry), unit by unit.

OPERATIONS describes every edit once; the ``ckpt`` surgery subcommands, the window's Edit
menu and the exported recipe are generated from it. These tests check the descriptions
themselves (names, options, defaults), ``Operation.apply`` on a real DDP checkpoint
written by torch, the CLI parser built from the registry, the recipe lines each report
replays with, and that an apply under a cancelled token stops.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from ckptviewer.cli import _parser
from ckptviewer.core.edits import OPERATIONS, EditError, Operation, Param
from ckptviewer.core.edits.registry import CHECK, CHOICE, FROM, LIST, MORE, SECOND, TEXT, recipe_step
from ckptviewer.core.open import open_checkpoint
from ckptviewer.core.progress import Cancelled, CancelToken, cancel_scope
from ckptviewer.core.recipe import literal, recipe

# ---------------------------------------------------------------- the checkpoints


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Linear(4, 3)
        self.bn = nn.BatchNorm1d(3)
        self.head = nn.Linear(3, 2)


PLAIN_KEYS = [
    "encoder.weight", "encoder.bias", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var",
    "bn.num_batches_tracked", "head.weight", "head.bias",
]  # fmt: skip
DDP_KEYS = [f"module.{k}" for k in PLAIN_KEYS]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """ddp.pth: a state_dict as DistributedDataParallel writes it (module. prefixes);
    plain.pth: another model's plain state_dict (the graft source)."""
    folder = tmp_path_factory.mktemp("registry")
    torch.manual_seed(0)
    target, source = Net(), Net()
    torch.save({f"module.{k}": v for k, v in target.state_dict().items()}, folder / "ddp.pth")
    torch.save(source.state_dict(), folder / "plain.pth")
    adapter = folder / "adapter"  # a PEFT LoRA adapter of Net's two Linear layers, as peft saves it
    adapter.mkdir()
    lora = {f"base_model.model.{m}.lora_{p}.weight": torch.randn(shape)
            for m, (n_in, n_out) in (("encoder", (4, 3)), ("head", (3, 2)))
            for p, shape in (("A", (2, n_in)), ("B", (n_out, 2)))}  # fmt: skip
    save_file(lora, adapter / "adapter_model.safetensors")
    (adapter / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 4}))
    ADAPTER.append(adapter)
    return {"ddp": folder / "ddp.pth", "plain": folder / "plain.pth", "adapter": adapter}


ADAPTER: list[Path] = []  # the adapter folder of the files fixture, for merge-lora


@pytest.fixture
def ddp(files):
    with open_checkpoint(files["ddp"], device="cpu") as ckpt:
        yield ckpt


@pytest.fixture
def plain(files):
    with open_checkpoint(files["plain"], device="cpu") as ckpt:
        yield ckpt


# the values each operation is applied with, and the keys it must give on ddp.pth
CASES: dict[str, tuple[dict, list[str]]] = {
    "strip": ({}, PLAIN_KEYS),
    "add_prefix": ({"prefix": "ddp."}, [f"ddp.{k}" for k in DDP_KEYS]),
    "extract": (
        {"keys": ["module.encoder.*", "module.head.*"], "reroot": "module."},
        ["encoder.weight", "encoder.bias", "head.weight", "head.bias"],
    ),
    "graft": ({"include": ["head.*"]}, DDP_KEYS),
    "rename": (
        {"pattern": r"^module\.head\.", "repl": "module.classifier."},
        [k.replace("module.head.", "module.classifier.") for k in DDP_KEYS],
    ),
    "drop": ({"keys": ["module.bn.*"]}, [k for k in DDP_KEYS if ".bn." not in k]),
    "cast": ({"dtype": "float16"}, DDP_KEYS),
    "average": ({}, DDP_KEYS),  # with plain.pth: the same model, keys aligned without module.
    "merge_lora": ({}, DDP_KEYS),  # with the adapter of encoder and head
    "take_ema": ({"ema_key": "module"}, PLAIN_KEYS),  # module.* taken as the EMA weights
    "resize_head": ({"keys": ["module.head.*"], "rows": "5"}, DDP_KEYS),
}


def others(op: Operation, plain):
    """What ``op`` reads besides the checkpoint it edits: plain.pth (graft, average) or the adapter."""
    if op.sources == SECOND:
        return open_checkpoint(ADAPTER[0], device="cpu")
    return [plain] if op.sources == MORE else plain if op.sources == FROM else None


def apply(op: Operation, ckpt, source, values=None):
    return op.apply(ckpt, values, others(op, source))


# ---------------------------------------------------------------- descriptions


def test_the_registry_holds_the_eleven_edits_in_menu_order():
    assert list(OPERATIONS) == ["strip", "add_prefix", "extract", "graft", "rename", "drop", "cast",
                                "average", "merge_lora", "take_ema", "resize_head"]  # fmt: skip
    assert set(CASES) == set(OPERATIONS)  # every operation is exercised below
    for key, op in OPERATIONS.items():
        assert isinstance(op, Operation) and op.name == key


@pytest.mark.parametrize("attr", ["name", "command", "menu"])
def test_names_commands_and_menu_entries_are_unique(attr):
    values = [getattr(op, attr) for op in OPERATIONS.values()]
    assert len(set(values)) == len(values) == 11, values


def test_commands_menus_and_help_are_well_formed():
    for op in OPERATIONS.values():
        assert re.fullmatch(r"[a-z][a-z-]*", op.command), op.command
        assert op.command == op.name.replace("_", "-")
        assert op.menu.endswith("…") and op.menu[0].isupper(), op.menu
        assert op.help and "\n" not in op.help, op.name  # the CLI help is one line
        assert op.note, op.name
        assert op.params or op.sources, op.name  # merge-lora: its adapter says everything
    assert [op.name for op in OPERATIONS.values() if op.needs_source] == ["graft", "average", "merge_lora"]
    assert {op.name: op.sources for op in OPERATIONS.values() if op.needs_source} == {
        "graft": FROM, "average": MORE, "merge_lora": SECOND}  # fmt: skip


# what the surgery subcommands define themselves: a Param with one of these names would
# overwrite the parsed value (same argparse dest) or clash with the option
COMMON_DESTS = {"path", "output", "force", "dry_run", "force_compute", "trust", "json", "source", "run", "command"}
COMMON_OPTIONS = {"-o", "--output", "--force", "--dry-run", "--force-compute", "--trust", "--json", "--from"}


def test_every_param_has_a_unique_option_and_no_clash_with_the_common_ones():
    for op in OPERATIONS.values():
        names = [p.name for p in op.params]
        options = [p.option for p in op.params]
        assert len(set(names)) == len(names), op.name
        assert len(set(options)) == len(options), op.name
        assert not set(names) & COMMON_DESTS, op.name
        assert not set(options) & COMMON_OPTIONS, op.name
        for p in op.params:
            assert isinstance(p, Param)
            assert re.fullmatch(r"--[a-z][a-z-]*", p.option), p.option
            assert p.kind in (TEXT, LIST, CHECK, CHOICE), p
            assert p.label, p


def test_option_is_the_name_with_dashes_unless_a_flag_is_given():
    assert Param("skip_mismatched", "x").option == "--skip-mismatched"
    assert Param("maps", "x", LIST, flag="--map").option == "--map"
    graft = {p.name: p for p in OPERATIONS["graft"].params}
    assert graft["maps"].option == "--map"
    assert graft["skip_mismatched"].option == "--skip-mismatched"


def test_kind_specific_fields_are_consistent():
    for op in OPERATIONS.values():
        for p in op.params:
            if p.kind == CHECK:
                assert p.default is False and not p.required, p
            if p.kind == CHOICE:
                assert p.choices and p.default in p.choices, p
            if p.kind != CHOICE:
                assert p.choices == (), p
            if p.repeat:
                assert p.kind == LIST, p
    assert set(next(p for p in OPERATIONS["cast"].params if p.name == "dtype").choices) == {
        "float32", "float16", "bfloat16", "float64",
    }  # fmt: skip


def test_defaults_give_fresh_lists_for_list_params():
    expected = {
        "strip": {"prefix": "", "weights_only": False},
        "add_prefix": {"prefix": "module."},
        "extract": {"keys": [], "reroot": ""},
        "graft": {"maps": [], "include": [], "exclude": [], "skip_mismatched": False},
        "rename": {"pattern": "", "repl": ""},
        "drop": {"keys": []},
        "cast": {"dtype": "bfloat16", "keys": []},
        "average": {"weights": []},
        "merge_lora": {},
        "take_ema": {"ema_key": ""},
        "resize_head": {"keys": [], "rows": "", "init": "kaiming", "seed": "0", "reinit": False},
    }
    for name, op in OPERATIONS.items():
        defaults = op.defaults()
        assert defaults == expected[name], name
        for p in op.params:
            if p.kind == LIST:
                assert type(defaults[p.name]) is list
    first, second = OPERATIONS["drop"].defaults(), OPERATIONS["drop"].defaults()
    first["keys"].append("x")
    assert second["keys"] == [] and OPERATIONS["drop"].defaults()["keys"] == []


# ---------------------------------------------------------------- apply


@pytest.mark.parametrize("name", ["strip", "add_prefix", "cast"])
def test_apply_with_only_defaults(ddp, name):
    new, report = OPERATIONS[name].apply(ddp)
    assert report.op == name
    want = {
        "strip": PLAIN_KEYS,
        "add_prefix": [f"module.{k}" for k in DDP_KEYS],
        "cast": DDP_KEYS,
    }[name]
    assert list(new.tensors) == want
    if name == "cast":
        assert new.tensors["module.encoder.weight"].dtype == torch.bfloat16
        assert new.tensors["module.bn.num_batches_tracked"].dtype == torch.int64
        assert report.summary == "8 of 9 model tensors cast to bfloat16, 1 not floating point"
    else:
        assert report.summary == "9 of 9 keys renamed"


def test_apply_drop_without_keys_is_refused_clearly(ddp):
    with pytest.raises(EditError, match=r"^drop: give the keys$"):
        OPERATIONS["drop"].apply(ddp)
    with pytest.raises(EditError, match=r"^drop: give the keys"):
        OPERATIONS["drop"].apply(ddp, {"keys": []})


def test_apply_graft_without_a_source_is_refused_clearly(ddp):
    with pytest.raises(EditError, match=r"^graft needs a source checkpoint$"):
        OPERATIONS["graft"].apply(ddp, {"include": ["head.*"]})


@pytest.mark.parametrize(
    "name, values",
    [
        pytest.param("drop", {}, id="drop"),
        # an empty pattern would insert the replacement between every character of every key
        pytest.param("rename", {"repl": "x."}, id="rename"),
        pytest.param("extract", {"reroot": "module."}, id="extract"),  # no keys must not mean every key
        pytest.param("add_prefix", {"prefix": ""}, id="add_prefix"),
    ],
)  # fmt: skip
def test_apply_with_a_required_param_missing_is_refused(ddp, name, values):
    with pytest.raises(EditError) as info:
        OPERATIONS[name].apply(ddp, values)
    assert str(info.value).startswith(f"{OPERATIONS[name].command}:")  # a clear message names the edit


def test_apply_with_invalid_values_raises_edit_error(ddp):
    with pytest.raises(EditError, match="invalid rename pattern"):
        OPERATIONS["rename"].apply(ddp, {"pattern": "(", "repl": ""})
    with pytest.raises(EditError, match="unsupported dtype 'int8'"):
        OPERATIONS["cast"].apply(ddp, {"dtype": "int8"})
    with pytest.raises(EditError, match=r"^extract: nothing to extract: --keys 'nothing\.\*' matched no tensor key$"):
        OPERATIONS["extract"].apply(ddp, {"keys": ["nothing.*"]})


@pytest.mark.parametrize("name", list(CASES))
def test_each_operation_on_a_ddp_checkpoint_gives_the_expected_keys(ddp, plain, name):
    op = OPERATIONS[name]
    values, want = CASES[name]
    before = list(ddp.tensors)
    new, report = apply(op, ddp, plain, values)
    assert list(new.tensors) == want
    assert report.op == name  # the recipe names its steps by this (rep.op in OPERATIONS)
    assert report.record is not None
    assert new.history[-1] is report and len(new.history) == 1
    assert new.opened is ddp
    assert list(ddp.tensors) == before and ddp.history == ()  # the edit makes a copy


def test_apply_results_carry_the_tensors_they_should(ddp, plain):
    new, _ = OPERATIONS["graft"].apply(ddp, {"include": ["head.*"]}, plain)
    assert torch.equal(new.tensor("module.head.weight"), plain.tensor("head.weight"))
    assert torch.equal(new.tensor("module.encoder.weight"), ddp.tensor("module.encoder.weight"))
    assert not torch.equal(ddp.tensor("module.head.weight"), plain.tensor("head.weight"))

    new, report = OPERATIONS["cast"].apply(ddp, {"dtype": "float16"})
    assert new.tensor("module.head.weight").dtype == torch.float16
    assert torch.equal(new.tensor("module.head.weight"), ddp.tensor("module.head.weight").half())
    assert new.tensors["module.bn.num_batches_tracked"].dtype == torch.int64
    assert report.warnings == ["left as they are (not floating point): int64"]

    new, report = OPERATIONS["extract"].apply(ddp, CASES["extract"][0])
    assert torch.equal(new.tensor("encoder.bias"), ddp.tensor("module.encoder.bias"))
    assert report.summary == "4 of 9 tensors kept, 5 removed"


def test_values_override_defaults_and_check_params_reach_the_edit(ddp):
    new, report = OPERATIONS["strip"].apply(ddp, {"prefix": "module.encoder.", "weights_only": True})
    assert list(new.tensors)[:2] == ["weight", "bias"]
    assert list(new.tensors)[2:] == DDP_KEYS[2:]
    assert report.params == {"prefixes": ["module.encoder."], "weights_only": True}
    assert report.warnings == ["7 keys do not start with 'module.encoder.'"]


def test_graft_list_and_check_params_reach_the_edit(ddp, plain):
    graft = OPERATIONS["graft"]
    values = {"maps": ["bn.=encoder."], "include": ["bn.*"], "exclude": ["bn.weight", "bn.running_*", "bn.num_*"]}
    new, report = graft.apply(ddp, values, plain)
    assert report.record.pairs == (("module.encoder.bias", "bn.bias"),)
    assert report.changed == ["module.encoder.bias"]
    assert [s["key"] for s in report.skipped if s["reason"] == "excluded"] == [
        "bn.weight", "bn.running_mean", "bn.running_var", "bn.num_batches_tracked"]  # fmt: skip
    assert {s["reason"] for s in report.skipped} == {"excluded", "not in --include"}
    assert torch.equal(new.tensor("module.encoder.bias"), plain.tensor("bn.bias"))
    assert torch.equal(new.tensor("module.encoder.weight"), ddp.tensor("module.encoder.weight"))

    values = {"maps": ["bn.=encoder."], "include": ["bn.weight", "bn.bias"]}  # bn.weight: [3] vs [3, 4]
    with pytest.raises(EditError, match=r"1 shape/dtype mismatches: encoder\.weight:") as info:
        graft.apply(ddp, values, plain)
    assert [m["key"] for m in info.value.report.mismatches] == ["encoder.weight"]
    new, report = graft.apply(ddp, {**values, "skip_mismatched": True}, plain)
    assert report.record.pairs == (("module.encoder.bias", "bn.bias"),)
    assert report.summary.startswith("9 target tensors: 1 taken from plain.pth, 1 kept (shape/dtype differs in the ")
    with pytest.raises(EditError, match="a prefix map looks like SRC=DST"):
        graft.apply(ddp, {"maps": ["bad"]}, plain)


# every parameter that selects keys, with values in which ``pattern`` matches nothing on
# ddp.pth (graft: from plain.pth); "warned" when the rest of the values still change
# something, "refused" when the pattern was all there was to act on
PATTERNS: dict[tuple[str, str], tuple[dict, str, str]] = {
    ("strip", "prefix"): ({"prefix": "ddp."}, "ddp.", "refused"),
    ("extract", "keys"): ({"keys": ["module.head.*", "module.classifier.*"]}, "module.classifier.*", "warned"),
    ("extract", "reroot"): ({"keys": ["module.head.*"], "reroot": "model."}, "model.", "warned"),
    ("graft", "maps"): ({"maps": ["decoder.=encoder."]}, "decoder.=encoder.", "warned"),
    ("graft", "include"): ({"include": ["head.*", "classifier.*"]}, "classifier.*", "warned"),
    ("graft", "exclude"): ({"exclude": ["classifier.*"]}, "classifier.*", "warned"),
    ("rename", "pattern"): ({"pattern": r"^module\.classifier\.", "repl": "x."}, r"^module\.classifier\.", "refused"),
    ("drop", "keys"): ({"keys": ["module.head.*", "module.classifier.*"]}, "module.classifier.*", "warned"),
    ("cast", "keys"): ({"keys": ["module.head.*", "module.classifier.*"]}, "module.classifier.*", "warned"),
    ("resize_head", "keys"): (
        {"keys": ["module.head.*", "module.classifier.*"], "rows": "5"},
        "module.classifier.*",
        "warned",
    ),
}
# text that is written, not matched; numbers; the EMA's key, refused when it names no EMA
NOT_PATTERNS = {("add_prefix", "prefix"), ("rename", "repl"), ("average", "weights"), ("resize_head", "rows"),
                ("resize_head", "seed"), ("take_ema", "ema_key")}  # fmt: skip


def test_every_text_or_list_param_is_known_as_a_pattern_or_not():
    """A new parameter must be decided on: does a value that selects nothing deserve a warning?"""
    typed = {(op.name, p.name) for op in OPERATIONS.values() for p in op.params if p.kind in (TEXT, LIST)}
    assert typed == set(PATTERNS) | NOT_PATTERNS


@pytest.mark.parametrize("case", list(PATTERNS), ids=lambda c: f"{c[0]}-{c[1]}")
def test_a_pattern_that_matches_nothing_is_named_in_the_report(ddp, plain, case):
    name, param = case
    values, pattern, outcome = PATTERNS[case]
    op = OPERATIONS[name]
    option = next(p.option for p in op.params if p.name == param)
    said = f"{option} {pattern!r} matched no "
    if outcome == "refused":
        with pytest.raises(EditError, match="nothing to ") as info:
            apply(op, ddp, plain, values)
        report = info.value.report
        assert said in str(info.value) and "\n" not in str(info.value)
    else:
        new, report = apply(op, ddp, plain, values)
        assert new.history[-1] is report
    assert [(u["param"], u["pattern"]) for u in report.unmatched] == [(param, pattern)]
    assert [w for w in report.warnings if "matched no" in w] == [report.unmatched[0]["message"]]
    assert report.unmatched[0]["message"].startswith(said)


@pytest.mark.parametrize("name", list(CASES))
def test_patterns_that_match_leave_no_warning(ddp, plain, name):
    _, report = apply(OPERATIONS[name], ddp, plain, CASES[name][0])
    assert report.unmatched == []
    assert not [w for w in report.warnings if "matched no" in w]
    for group, parts in report.counts.items():  # and what the report counts adds up
        assert sum(n for k, n in parts.items() if k != "total") == parts["total"], (name, group, parts)


@pytest.mark.parametrize("name", list(CASES))
def test_apply_under_a_cancelled_token_raises_cancelled(ddp, plain, name):
    op = OPERATIONS[name]
    values, _ = CASES[name]
    tok = CancelToken()
    tok.cancel()
    with cancel_scope(tok), pytest.raises(Cancelled):
        apply(op, ddp, plain, values)
    # the same edit outside the scope runs: the cancel belonged to that scope only
    new, _ = apply(op, ddp, plain, values)
    assert list(new.tensors) == CASES[name][1]


# ---------------------------------------------------------------- the CLI generated from it


def _argv(op: Operation) -> tuple[list[str], dict]:
    """A command line giving every parameter of ``op``, and the values it must parse to."""
    argv = [op.command, "in.pth", *_source_argv(op), "-o", "out.pth"]
    want: dict = {}
    for p in op.params:
        if p.kind == CHECK:
            argv += [p.option]
            want[p.name] = True
        elif p.kind == LIST:
            argv += [p.option, "a=b", p.option, "c.*"] if p.repeat else [p.option, "a=b", "c.*"]
            want[p.name] = ["a=b", "c.*"]
        elif p.kind == CHOICE:
            argv += [p.option, p.choices[-1]]
            want[p.name] = p.choices[-1]
        else:
            argv += [p.option, "x."]
            want[p.name] = "x."
    return argv, want


def _source_argv(op: Operation) -> list[str]:
    """The other input on the command line: --from SOURCE, or a positional after IN."""
    return ["--from", "src.pth"] if op.sources == FROM else ["src.pth"] if op.needs_source else []


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_every_command_and_option_is_accepted_by_the_cli_parser(name):
    op = OPERATIONS[name]
    argv, want = _argv(op)
    args = _parser().parse_args(argv)
    assert isinstance(args, argparse.Namespace)
    assert args.command == op.command
    assert args.path == "in.pth" and args.output == "out.pth"
    assert callable(args.run)
    for pname, value in want.items():
        assert getattr(args, pname) == value, pname
    if op.needs_source:
        assert args.source == (["src.pth"] if op.sources == MORE else "src.pth")


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_cli_options_left_out_mean_the_registry_defaults(name):
    op = OPERATIONS[name]
    argv = [op.command, "in.pth", *_source_argv(op), "-o", "out.pth"]
    given = {p.name for p in op.params if p.required}
    for p in op.params:
        if p.required:
            argv += [p.option, p.choices[0] if p.kind == CHOICE else "x.*"]
    args = _parser().parse_args(argv)
    defaults = op.defaults()
    for p in op.params:
        if p.name not in given:
            # None is dropped by the CLI before apply(), which then takes the default
            assert getattr(args, p.name) in (None, defaults[p.name]), p.name


@pytest.mark.parametrize(
    "name, param", [(op.name, p.name) for op in OPERATIONS.values() for p in op.params if p.required]
)
def test_cli_refuses_a_missing_required_option(name, param, capsys):
    op = OPERATIONS[name]
    argv, _ = _argv(op)
    p = next(x for x in op.params if x.name == param)
    i = argv.index(p.option)
    n = 1 + (2 if p.kind == LIST and not p.repeat else 1)
    del argv[i : i + n]
    if p.kind == LIST and p.repeat:  # the second occurrence
        i = argv.index(p.option)
        del argv[i : i + 2]
    assert p.option not in argv
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(argv)
    assert info.value.code == 2
    assert p.option in capsys.readouterr().err


def test_help_lists_every_command_and_each_command_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        _parser().parse_args(["--help"])
    assert info.value.code == 0
    top = capsys.readouterr().out
    for op in OPERATIONS.values():
        assert re.search(rf"^\s+{re.escape(op.command)}\s", top, re.M), op.command
        with pytest.raises(SystemExit) as info:
            _parser().parse_args([op.command, "--help"])
        assert info.value.code == 0
        text = capsys.readouterr().out
        assert text.startswith(f"usage: ckpt {op.command} "), text[:80]
        for p in op.params:
            assert p.option in text, (op.name, p.option)
            if p.metavar:
                assert p.metavar in text, (op.name, p.metavar)
        assert (" ".join(op.help.split()[:3])) in " ".join(text.split())


# ---------------------------------------------------------------- the recipe


@pytest.mark.parametrize("name", list(CASES))
def test_recipe_replays_each_operation_with_its_registry_lines(ddp, plain, name):
    op = OPERATIONS[name]
    new, report = apply(op, ddp, plain, CASES[name][0])
    text = recipe(new, "out.pth")
    ast.parse(text)
    step = recipe_step(report.record, 1, literal)
    assert step.lines and step.lines != ["# (no change to replay)"]
    lines = text.splitlines()
    start = lines.index(f"# 1. {name}")
    body = lines[start + 1 :]
    if op.sources == SECOND:  # the adapter's weights file, a safetensors file
        assert [Path(s.opened.path) for s in step.sources] == [ADAPTER[0]]
        assert body[0] == f"SOURCE_1 = {literal(str((ADAPTER[0] / 'adapter_model.safetensors').resolve()))}"
        assert body[1:3] == ["from safetensors.torch import load_file", "source_1 = load_file(SOURCE_1)"]
        body = body[3:]
    elif op.needs_source:
        assert [s.opened for s in step.sources] == [plain]
        assert body[0] == f"SOURCE_1 = {literal(str(Path(plain.path).resolve()))}"
        assert body[1] == "source_1 = torch.load(SOURCE_1, map_location='cpu', weights_only=True)"
        body = body[2:]
    else:
        assert step.sources == []
    assert body[: len(step.lines)] == step.lines
    assert "weights_only=False" not in text


def test_recipe_numbers_a_chain_of_every_operation(ddp, plain):
    ckpt = ddp
    chain = [
        ("strip", {}),
        ("add_prefix", {"prefix": "net."}),
        ("rename", {"pattern": r"\.head\.", "repl": ".classifier."}),
        ("graft", {"maps": ["encoder.=net.encoder."], "include": ["encoder.*"]}),
        ("cast", {"dtype": "float64"}),
        ("drop", {"keys": ["net.bn.running_*"]}),
        ("extract", {"keys": ["net.*"], "reroot": "net."}),
    ]
    for name, values in chain:
        ckpt, _ = apply(OPERATIONS[name], ckpt, plain, values)
    assert list(ckpt.tensors) == [
        "encoder.weight", "encoder.bias", "bn.weight", "bn.bias", "bn.num_batches_tracked",
        "classifier.weight", "classifier.bias",
    ]  # fmt: skip
    assert torch.equal(ckpt.tensor("encoder.weight"), plain.tensor("encoder.weight").double())  # grafted, cast
    assert torch.equal(ckpt.tensor("classifier.bias"), ddp.tensor("module.head.bias").double())
    assert [r.op for r in ckpt.history] == [n for n, _ in chain]
    text = recipe(ckpt)
    ast.parse(text)
    headers = [line for line in text.splitlines() if re.fullmatch(r"# \d+\. \w+", line)]
    assert headers == [f"# {i}. {n}" for i, (n, _) in enumerate(chain, 1)]


def _undefined_names(text: str) -> set[str]:
    """Names a script reads that it never binds (and that are not builtins)."""
    tree = ast.parse(text)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)} - bound


def test_undefined_names_finds_an_unbound_call():
    assert _undefined_names("def f(x):\n    return g(x) + len(x)\n") == {"g"}


def test_recipe_uses_no_name_it_does_not_define(ddp, plain):
    """The helpers are copied from ckptviewer's source (structure.RECIPE_FUNCTIONS): whatever
    they call inside ckptviewer (e.g. the cancel check in children()) must not reach the script."""
    for name, (values, _) in CASES.items():
        new, _ = apply(OPERATIONS[name], ddp, plain, values)
        text = recipe(new)
        assert _undefined_names(text) == set(), name
        assert "check_current" not in text
