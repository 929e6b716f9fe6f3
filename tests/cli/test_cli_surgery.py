"""The real `ckpt` surgery subcommands in subprocesses: outputs that torch loads strictly,
exit codes, one-line errors, sources never written, and a save killed half-way.

Each run pays for importing torch (~2 s), so the files are made once and all the runs
start together on a thread pool in a module fixture; each test waits for its own. The
kill test runs last, on its own, with the one big file of the suite.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from tests.badfiles import random_bytes
from tests.core.test_surgery import (
    SpeechNet,
    TinyResNet,
    assert_bit_equal,
    assert_same_state,
    assert_same_tree,
    assert_transferred,
    fresh_10_class,
    imagenet_training_checkpoint,
    plain_state,
    sha256,
    trained_smallnet,
)
from tests.models import SmallNet, ddp_state_dict, training_checkpoint

# make test-slow (run by CI): every case runs ckpt in a subprocess (2-5 s each)
pytestmark = pytest.mark.slow

CKPT = Path(sys.executable).parent / "ckpt"
TIMEOUT = 120
MiB = 1 << 20


def ckpt(*args: str | Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    return subprocess.run(
        [*exe, *map(str, args)], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )


def ckpt_seq(*runs: list[str]) -> list[subprocess.CompletedProcess]:
    """Run several commands one after the other (each may use the previous one's output)."""
    return [ckpt(*args) for args in runs]


# name -> command lines run one after the other; SRC/, OUT/ and TL/ (the transfer-learning
# files) stand for the fixture's folders. The longest chain goes first, so that it
# overlaps with the others on the pool.
JOBS: dict[str, list[str]] = {
    "transfer": [
        "strip TL/imagenet_train.pth -o OUT/t_stripped.pth",
        "graft TL/fresh10.pth --from OUT/t_stripped.pth --exclude 'fc.*' -o OUT/t_result.pth",
        "compat OUT/t_result.pth TL/fresh10.pth",
        "compat OUT/t_stripped.pth TL/fresh10.pth",
    ],
    "strip": ["strip SRC/ddp.pth -o OUT/strip.pth --json"],
    "strip_train": ["strip SRC/train.pth -o OUT/strip_train.pth"],
    "weights_only": ["strip SRC/train.pth -o OUT/weights.pth --weights-only"],
    "to_safetensors": ["strip SRC/ddp.pth -o OUT/ddp.safetensors --json"],
    "meta": ["strip SRC/meta.safetensors -o OUT/meta.safetensors"],
    "extract": [
        "extract SRC/train.pth --keys 'model.module.fc.*' 'model.module.blocks.0.*' --reroot model.module. "
        "-o OUT/extract.pth --json"
    ],
    "drop_fc": ["drop SRC/plain.pth --keys 'fc.*' -o OUT/nofc.pth"],
    "drop_opt": ["drop SRC/train.pth --keys optimizer -o OUT/noopt.pth"],
    "rename_preview": [r"rename SRC/plain.pth --pattern '^blocks\.(\d+)\.' --repl 'layers.\1.' -o OUT/r.pth --dry-run"],
    "rename_collision": [r"rename SRC/plain.pth --pattern '^blocks\.\d+\.' --repl blocks.0. -o OUT/collide.pth"],
    "add_prefix": ["add-prefix SRC/plain.pth --prefix module. -o OUT/prefixed.pth"],
    "cast": ["cast SRC/train.pth --dtype bfloat16 -o OUT/bf16.pth --json"],
    "graft_refused": ["graft SRC/plain.pth --from SRC/wide.pth -o OUT/refused.pth"],
    "graft_skip": ["graft SRC/plain.pth --from SRC/wide.pth --skip-mismatched -o OUT/skip.pth"],
    "graft_map": [
        "graft SRC/bb.pth --from SRC/enc.pth --map encoder.=backbone. --include 'encoder.blocks.*' "
        "--exclude 'encoder.blocks.1*' -o OUT/mapped.pth"
    ],
    "graft_json": ["graft SRC/plain.pth --from SRC/ddp.pth --include 'blocks.*' -o OUT/graft_json.pth --json"],
    "graft_typo": ["graft SRC/plain.pth --from SRC/ddp.pth --exclude 'fc.*' --exclude 'head.*' -o OUT/typo.pth"],
    "graft_unrelated": ["graft SRC/resnet.pth --from SRC/speech.pth -o OUT/unrelated.pth"],
    "drop_typo_json": ["drop SRC/plain.pth --keys 'fc.*' 'head\x1b[2J.*' -o OUT/drop_typo.pth --json"],
    "extract_nothing": ["extract SRC/plain.pth --keys 'head.*' -o OUT/nothing.pth"],
    "compat_ok": ["compat SRC/ddp.pth SRC/plain.pth"],
    "compat_not": ["compat SRC/enc.pth SRC/bb.pth"],
    "compat_bad": ["compat SRC/garbage.pth SRC/plain.pth"],
    "over_source": ["convert SRC/plain.pth -o SRC/plain.pth --force"],
    "exists": ["convert SRC/plain.pth -o OUT/existing.pth"],
    "placeholder": ["convert SRC/with_object.pth -o OUT/object.pth"],
    "usage": ["strip SRC/plain.pth"],
}


def argv(line: str, where: dict[str, Path]) -> list[str]:
    """``line`` split like a shell would, with SRC/... OUT/... TL/... made real paths."""
    out = []
    for word in shlex.split(line):
        head, sep, rest = word.partition("/")
        out.append(str(where[head] / rest) if sep and head in where else word)
    return out


class Untrusted:  # a class the safe reader will not import: it opens as a placeholder
    def __init__(self) -> None:
        self.note = "made by a training script"


class Runs:
    """The source files, their hashes before any run, and the runs' futures by name."""

    def __init__(self, root: Path, pool: ThreadPoolExecutor) -> None:
        self.root = root
        self.out = root / "out"
        self.out.mkdir()
        d = self.d = root / "src"
        d.mkdir()
        self.want: dict[str, dict] = {}

        model = trained_smallnet()
        self.want["plain"] = plain_state(model)
        torch.save(ddp_state_dict(model, d), d / "ddp.pth")
        torch.save(self.want["plain"], d / "plain.pth")

        dp = nn.DataParallel(trained_smallnet())
        self.train = training_checkpoint(dp)  # keys model.module.*
        torch.save(self.train, d / "train.pth")
        self.want["train_model"] = {k.removeprefix("module."): v for k, v in self.train["model"].items()}

        self.meta = {"format": "pt", "note": "from the hub"}
        save_file({f"module.{k}": v.contiguous() for k, v in self.want["plain"].items()}, d / "meta.safetensors",
                  metadata=self.meta)  # fmt: skip

        wide = trained_smallnet()
        wide.fc = nn.Linear(8, 10)
        self.want["wide"] = plain_state(wide)
        torch.save({f"module.{k}": v for k, v in self.want["wide"].items()}, d / "wide.pth")

        enc, bb = plain_state(trained_smallnet()), plain_state(trained_smallnet())
        self.enc = {f"encoder.{k}": v for k, v in enc.items()}
        self.bb = {f"backbone.{k}": v for k, v in bb.items() if not k.startswith("fc.")}
        self.bb |= {"head.weight": bb["fc.weight"], "head.bias": bb["fc.bias"]}
        torch.save(self.enc, d / "enc.pth")
        torch.save(self.bb, d / "bb.pth")

        random_bytes(d, name="garbage.pth")  # never starts like a known format
        torch.save({"model": self.want["plain"], "extra": Untrusted()}, d / "with_object.pth")
        (self.out / "existing.pth").write_bytes(b"previous contents")

        self.want["resnet"], self.want["speech"] = plain_state(TinyResNet()), plain_state(SpeechNet())
        torch.save(self.want["resnet"], d / "resnet.pth")
        torch.save(self.want["speech"], d / "speech.pth")

        tl = d / "transfer"
        tl.mkdir()
        _, self.want["imagenet"] = imagenet_training_checkpoint(tl)
        _, self.want["fresh10"] = fresh_10_class(tl)

        self.hashes = {p.name: sha256(p) for p in d.rglob("*") if p.is_file()}
        where = {"SRC": d, "OUT": self.out, "TL": tl}
        self.futures: dict[str, Future] = {
            name: pool.submit(ckpt_seq, *(argv(line, where) for line in lines)) for name, lines in JOBS.items()
        }

    def result(self, name: str) -> list[subprocess.CompletedProcess]:
        return self.futures[name].result()

    def ok(self, name: str) -> subprocess.CompletedProcess:
        """The single run of ``name``, which must have succeeded."""
        (r,) = self.result(name)
        assert r.returncode == 0, f"exit {r.returncode}: {r.stderr}"
        assert "Traceback" not in r.stderr, r.stderr
        return r


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> Runs:
    pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2))
    try:
        yield Runs(tmp_path_factory.mktemp("cli_surgery"), pool)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def assert_one_line_error(r: subprocess.CompletedProcess, *words: str) -> str:
    assert r.returncode == 1, f"exit {r.returncode}, stderr: {r.stderr!r}"
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("ckpt: error:"), r.stderr
    for w in words:
        assert w in r.stderr, f"{w!r} not in {r.stderr!r}"
    return r.stderr


# ---------------------------------------------------------------- strip, convert


def test_strip_ddp_loads_strictly_and_the_source_is_untouched(runs):
    doc = json.loads(runs.ok("strip").stdout)
    assert doc["edit"]["op"] == "strip" and doc["edit"]["params"]["prefixes"] == ["module."]
    assert doc["edit"]["renamed"][0] == {"from": "module.conv1.weight", "to": "conv1.weight"}
    assert doc["saved"]["verified"] is True and doc["saved"]["format"] == "torch-zip"
    got = torch.load(runs.out / "strip.pth", weights_only=True)
    SmallNet().load_state_dict(got, strict=True)
    assert_same_state(got, runs.want["plain"])
    assert sha256(runs.d / "ddp.pth") == runs.hashes["ddp.pth"]


@pytest.mark.slow
def test_strip_training_checkpoint_keeps_optimizer_epoch_args(runs):
    r = runs.ok("strip_train")
    assert "strip: 32 of 32 keys renamed" in r.stdout and "verified bit for bit" in r.stdout
    out = torch.load(runs.out / "strip_train.pth", weights_only=False)
    assert list(out) == list(runs.train)
    assert_same_state(out["model"], runs.want["train_model"])
    assert_same_tree(out["optimizer"], runs.train["optimizer"], "optimizer")
    assert out["epoch"] == 3 and out["args"] == runs.train["args"] and out["best_acc"] == 0.5
    assert sha256(runs.d / "train.pth") == runs.hashes["train.pth"]


@pytest.mark.slow
def test_strip_weights_only_writes_the_bare_state_dict(runs):
    r = runs.ok("weights_only")
    assert "weights only" in r.stdout
    got = torch.load(runs.out / "weights.pth", weights_only=True)
    SmallNet().load_state_dict(got, strict=True)
    assert_same_state(got, runs.want["train_model"])


def test_strip_into_safetensors(runs):
    doc = json.loads(runs.ok("to_safetensors").stdout)
    assert doc["saved"]["format"] == "safetensors" and doc["saved"]["verified"] is True
    got = load_file(runs.out / "ddp.safetensors")
    SmallNet().load_state_dict(got, strict=True)
    for k, v in runs.want["plain"].items():
        assert_bit_equal(got[k], v, k)


@pytest.mark.slow
def test_safetensors_metadata_survives_strip(runs):
    runs.ok("meta")
    with safe_open(runs.out / "meta.safetensors", framework="pt") as f:
        assert f.metadata() == runs.meta
        assert set(f.keys()) == set(runs.want["plain"])
    assert sha256(runs.d / "meta.safetensors") == runs.hashes["meta.safetensors"]


# ---------------------------------------------------------------- extract, drop, rename, add-prefix, cast


def test_extract_with_reroot(runs):
    doc = json.loads(runs.ok("extract").stdout)
    assert doc["edit"]["summary"].startswith("4 of ")
    got = torch.load(runs.out / "extract.pth", weights_only=True)
    assert list(got) == ["blocks.0.weight", "blocks.0.bias", "fc.weight", "fc.bias"]
    for k in got:
        assert_bit_equal(got[k], runs.want["train_model"][k], k)


@pytest.mark.slow
def test_drop_classifier_head_and_optimizer(runs):
    assert "removed (2): fc.weight, fc.bias" in runs.ok("drop_fc").stdout
    got = torch.load(runs.out / "nofc.pth", weights_only=True)
    assert SmallNet().load_state_dict(got, strict=False).missing_keys == ["fc.weight", "fc.bias"]

    runs.ok("drop_opt")
    out = torch.load(runs.out / "noopt.pth", weights_only=False)
    assert list(out) == [k for k in runs.train if k != "optimizer"]
    assert_same_state(out["model"], runs.train["model"])


@pytest.mark.slow
def test_rename_dry_run_previews_before_and_after(runs):
    r = runs.ok("rename_preview")
    assert "rename: 24 of 32 keys renamed" in r.stdout
    assert "blocks.0.weight  ->  layers.0.weight" in r.stdout
    assert "dry run: nothing written" in r.stdout
    assert not (runs.out / "r.pth").exists()


def test_rename_collision_is_refused(runs):
    (r,) = runs.result("rename_collision")
    assert_one_line_error(r, "would both become", "blocks.0.weight")
    assert not (runs.out / "collide.pth").exists()


@pytest.mark.slow
def test_add_prefix(runs):
    runs.ok("add_prefix")
    got = torch.load(runs.out / "prefixed.pth", weights_only=True)
    nn.DataParallel(SmallNet()).load_state_dict(got, strict=True)
    assert list(got) == [f"module.{k}" for k in runs.want["plain"]]


def test_cast_to_bfloat16_leaves_integer_buffers_and_optimizer(runs):
    doc = json.loads(runs.ok("cast").stdout)
    assert "model.module.bn1.num_batches_tracked" not in doc["edit"]["changed"]
    assert any("int64" in w for w in doc["edit"]["warnings"])
    out = torch.load(runs.out / "bf16.pth", weights_only=False)
    for k, v in runs.train["model"].items():
        assert_bit_equal(out["model"][k], v.to(torch.bfloat16) if v.is_floating_point() else v, k)
    assert_same_tree(out["optimizer"], runs.train["optimizer"], "optimizer")


# ---------------------------------------------------------------- graft


@pytest.mark.slow
def test_graft_mismatch_refused_with_no_output(runs):
    (r,) = runs.result("graft_refused")
    line = assert_one_line_error(r, "graft refused: 2 shape/dtype mismatches", "fc.weight: [10, 8]", "fc.bias")
    assert "--skip-mismatched" in line
    assert r.stdout == ""
    assert not (runs.out / "refused.pth").exists()
    assert not list(runs.out.glob(".refused.pth.*"))


def test_graft_skip_mismatched_lists_and_keeps_target_tensors(runs):
    r = runs.ok("graft_skip")
    assert "kept from target (mismatch): fc.weight [10, 8] vs [4, 8]" in r.stdout
    assert "kept from target (mismatch): fc.bias [10] vs [4]" in r.stdout
    got = torch.load(runs.out / "skip.pth", weights_only=True)
    SmallNet().load_state_dict(got, strict=True)
    for k, v in runs.want["plain"].items():
        assert_bit_equal(got[k], v if k.startswith("fc.") else runs.want["wide"][k], k)


@pytest.mark.slow
def test_graft_with_map_include_exclude(runs):
    r = runs.ok("graft_map")
    assert (
        "graft: 32 target tensors: 18 taken from enc.pth, 6 kept (excluded), 6 kept (not in --include), "
        "2 kept (not in the source); "
        "32 source tensors: 18 taken, 6 excluded, 8 not in --include"
    ) in r.stdout
    assert r.stderr == ""  # every pattern matched something: no warning
    grafted = {f"backbone.blocks.{i}.{p}" for i in (0, *range(2, 10)) for p in ("weight", "bias")}
    got = torch.load(runs.out / "mapped.pth", weights_only=True)
    assert list(got) == list(runs.bb)
    for k, v in runs.bb.items():
        want = runs.enc["encoder." + k.removeprefix("backbone.")] if k in grafted else v
        assert_bit_equal(got[k], want, k)


def test_graft_json_report(runs):
    (r,) = runs.result("graft_json")
    written = (runs.out / "graft_json.pth").exists()
    assert r.returncode == 0, f"exit {r.returncode} (output file written: {written}): {r.stderr}"
    doc = json.loads(r.stdout)
    assert doc["edit"]["op"] == "graft" and len(doc["edit"]["changed"]) == 24
    assert "_source" not in doc["edit"]["params"] and doc["saved"]["verified"] is True


def assert_written_and_verified(r: subprocess.CompletedProcess, path: Path) -> None:
    """The output is under its name, written atomically (no temporary left) and verified."""
    assert path.exists() and not list(path.parent.glob(f".{path.name}.*")), sorted(path.parent.iterdir())
    assert "verified bit for bit" in r.stdout, r.stdout


def test_graft_with_a_pattern_that_matches_nothing_warns_on_stderr_and_succeeds(runs):
    r = runs.ok("graft_typo")
    assert r.stderr == "ckpt: warning: --exclude 'head.*' matched no source key\n"
    assert "32 target tensors: 30 taken from ddp.pth, 2 kept (excluded); " in r.stdout
    assert "warning" not in r.stdout  # warnings go to stderr only
    assert_written_and_verified(r, runs.out / "typo.pth")
    got = torch.load(runs.out / "typo.pth", weights_only=True)
    SmallNet().load_state_dict(got, strict=True)
    for k, v in runs.want["plain"].items():
        assert_bit_equal(got[k], v, k)  # ddp.pth holds the same model: fc kept, the rest equal anyway


def test_graft_from_an_unrelated_model_warns_with_the_overlap(runs):
    r = runs.ok("graft_unrelated")
    t, s = runs.want["resnet"], runs.want["speech"]
    shared = [k for k in t if k in s]
    m, pct = len(shared), round(100 * len(shared) / len(t))
    assert r.stderr == (
        f"ckpt: warning: only {m} of {len(t)} target tensors ({pct}%) have a match in the source; "
        f"{len(s) - m} source tensors have no place in the target — are these the same architecture?\n"
    )
    assert_written_and_verified(r, runs.out / "unrelated.pth")
    got = torch.load(runs.out / "unrelated.pth", weights_only=True)
    for k in t:
        assert_bit_equal(got[k], s[k] if k in shared else t[k], k)


def test_drop_json_reports_the_unmatched_glob_and_stderr_says_it_escaped(runs):
    r = runs.ok("drop_typo_json")
    assert "\x1b" not in r.stderr and r.stderr.count("\n") == 1, repr(r.stderr)
    assert r.stderr == "ckpt: warning: --keys 'head\\x1b[2J.*' matched no key\n"
    doc = json.loads(r.stdout)
    edit = doc["edit"]
    assert edit["unmatched"] == [{"param": "keys", "pattern": "head\x1b[2J.*",
                                  "message": "--keys 'head\\x1b[2J.*' matched no key"}]  # fmt: skip
    assert edit["warnings"] == [edit["unmatched"][0]["message"]]
    n = len(runs.want["plain"])
    assert edit["counts"] == {"tensors": {"total": n, "dropped": 2, "kept": n - 2}}
    assert doc["saved"]["verified"] is True and doc["saved"]["n_tensors"] == n - 2
    got = torch.load(runs.out / "drop_typo.pth", weights_only=True)
    assert list(got) == [k for k in runs.want["plain"] if not k.startswith("fc.")]


def test_a_pattern_that_leaves_nothing_to_do_is_an_error_and_writes_nothing(runs):
    (r,) = runs.result("extract_nothing")
    assert_one_line_error(r, "extract: nothing to extract: --keys 'head.*' matched no tensor key")
    assert r.stdout == ""
    assert not (runs.out / "nothing.pth").exists() and not list(runs.out.glob(".nothing.pth.*"))


# ---------------------------------------------------------------- compat


def test_compat_exit_codes(runs):
    (ok,) = runs.result("compat_ok")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("compatible: 32 keys match")

    (no,) = runs.result("compat_not")
    assert no.returncode == 1, no.stderr
    assert no.stdout.startswith("NOT compatible: 0 keys match; 32 missing, 32 unexpected")
    assert "try --map encoder.=backbone." in no.stdout

    (bad,) = runs.result("compat_bad")
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("ckpt: error:") and bad.stderr.count("\n") == 1
    assert "garbage.pth" in bad.stderr and "Traceback" not in bad.stderr


# ---------------------------------------------------------------- transfer learning


def test_transfer_learning_through_the_cli(runs):
    strip_r, graft_r, compat_result, compat_stripped = runs.result("transfer")
    for r in (strip_r, graft_r):
        assert r.returncode == 0 and "verified bit for bit" in r.stdout, r.stderr
    assert "16 target tensors: 14 taken from t_stripped.pth, 2 kept (excluded); " in graft_r.stdout
    assert compat_result.returncode == 0 and compat_result.stdout.startswith("compatible"), compat_result.stdout
    assert compat_stripped.returncode == 1
    assert "shape mismatch: fc.weight source [1000, 32] vs target [10, 32]" in compat_stripped.stdout
    assert_transferred(runs.out / "t_result.pth", runs.want["imagenet"], runs.want["fresh10"])
    for name in ("imagenet_train.pth", "fresh10.pth"):
        assert sha256(runs.d / "transfer" / name) == runs.hashes[name]


# ---------------------------------------------------------------- refusals


@pytest.mark.slow
def test_saving_over_the_source_is_refused_even_with_force(runs):
    (r,) = runs.result("over_source")
    assert_one_line_error(r, "refusing to overwrite the source")
    assert sha256(runs.d / "plain.pth") == runs.hashes["plain.pth"]


def test_existing_output_without_force_is_refused(runs):
    (r,) = runs.result("exists")
    assert_one_line_error(r, "already exists", "--force")
    assert (runs.out / "existing.pth").read_bytes() == b"previous contents"


def test_placeholder_object_is_named_and_nothing_is_written(runs):
    (r,) = runs.result("placeholder")
    assert_one_line_error(r, "not loaded", "extra")
    assert not (runs.out / "object.pth").exists()
    assert not list(runs.out.glob(".object.pth.*"))


def test_missing_output_option_is_a_usage_error(runs):
    (r,) = runs.result("usage")
    assert r.returncode == 2 and "-o/--output" in r.stderr


# ---------------------------------------------------------------- atomicity: kill a save


KILL_SOURCE_BYTES = 256 * MiB  # writing it takes ~0.3 s here: a wide window to kill in


@pytest.fixture(scope="module")
def big_source(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kill")
    path = folder / "big.pth"
    n = 4
    torch.save({f"module.layer{i}.weight": torch.full((KILL_SOURCE_BYTES // 4 // n,), float(i)) for i in range(n)},
               path)  # fmt: skip
    yield path
    for p in folder.iterdir():  # the big files are not kept for pytest's last-3-runs history
        p.unlink()


def kill_while_saving(folder: Path, out_name: str, *args: str) -> Path:
    """Start ``ckpt ARGS``, SIGKILL it once its temporary file holds data; return that file."""
    exe = [str(CKPT)] if CKPT.exists() else [sys.executable, "-m", "ckptviewer"]
    proc = subprocess.Popen([*exe, *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder)
    deadline = time.monotonic() + TIMEOUT
    part = None
    try:
        while time.monotonic() < deadline:
            parts = list(folder.glob(f".{out_name}.*.part"))
            if parts and parts[0].stat().st_size >= 1 * MiB:
                part = parts[0]
                break
            if proc.poll() is not None:
                pytest.fail(f"ckpt ended (exit {proc.returncode}) before it was killed: {proc.stderr.read()}")
            time.sleep(0.001)
        else:
            pytest.fail("no temporary file appeared")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    # the temporary file is still there, so the kill came before the rename into place
    assert part.exists(), "the save completed before the kill: make KILL_SOURCE_BYTES larger"
    return part


def test_killed_save_leaves_no_output(big_source):
    folder = big_source.parent
    kill_while_saving(folder, "out.pth", "convert", "big.pth", "-o", "out.pth")
    assert not (folder / "out.pth").exists()


def test_killed_forced_save_keeps_the_previous_file(big_source):
    folder = big_source.parent
    previous = folder / "prev.pth"
    torch.save({"w": torch.arange(10.0)}, previous)
    old = previous.read_bytes()
    kill_while_saving(folder, "prev.pth", "convert", "big.pth", "-o", "prev.pth", "--force")
    assert previous.read_bytes() == old
    assert torch.equal(torch.load(previous, weights_only=True)["w"], torch.arange(10.0))
