"""Run the fuzz targets for a bounded time: ``python -m tests.fuzz.run [--target NAME|all] [--seconds N]``.

Each target runs in its own child process: with atheris (coverage-guided libFuzzer over
instrumented ckptviewer code and ``pickle._Unpickler``), or, when atheris cannot be
imported, a plain mutation loop over the seeds under RLIMIT_AS and a per-input time
limit. Findings go to ``--crashes DIR/<target>/``: the input (``crash-*``, ``timeout-*``,
``oom-*``) and a ``.txt`` beside it with the signature and the traceback. A crash whose
signature is already known (a saved crasher in ``tests/fuzz/crashers/``, or one found
earlier in this run) is counted, not saved again, and fuzzing goes on.

Exit status: 0 when no new crasher appeared, 1 when one did (paths printed), 2 on usage.

Other modes: ``--replay FILE [--target T]`` runs one input once (what ``test_crashers``
does), ``--seeds-only DIR`` writes the seed corpus.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET_NAMES = ("unpickle", "zip_pkl", "zip_raw", "legacy", "safetensors", "dcp", "hf")
SAVED_CRASHERS = HERE / "crashers"
RLIMIT_AS = 3 << 30  # replays: what test_crashers uses
FUZZ_RLIMIT_AS = {"atheris": 4 << 30, "simple": 3 << 30}  # atheris: libFuzzer's -rss_limit_mb=3000 fires first
# core modules no target reaches (editing, saving, diffing): imported, not instrumented
NOT_INSTRUMENTED = [f"ckptviewer.core.{m}" for m in ("diff", "edits", "export", "recipe", "save", "scan", "inspect")]
ARTIFACT = re.compile(r"^(crash|timeout|oom|leak|slow-unit)-[0-9a-f]{40}$")


# --- signatures: what makes two findings the same bug -----------------------------------------------


def _short(filename: str) -> str:
    i = filename.rfind("/ckptviewer/")
    return filename[i + 1 :] if i >= 0 else os.path.basename(filename)


def exception_signature(exc: BaseException) -> str:
    """Type, innermost ckptviewer function and innermost function (no line numbers: code is edited)."""
    frames = traceback.extract_tb(exc.__traceback__)
    own = [f for f in frames if "/ckptviewer/" in f.filename]
    where = f"{_short(own[-1].filename)}:{own[-1].name}" if own else "-"
    last = f"{_short(frames[-1].filename)}:{frames[-1].name}" if frames else "-"
    name = type(exc).__name__
    if name == "ImportedDuringLoad":
        name += f"[{str(exc).split()[-1]}]"
    return f"{name} at {where} (raised in {last})"


def read_signature(txt: Path) -> str | None:
    try:
        for line in txt.read_text(errors="replace").splitlines():
            if line.startswith("signature: "):
                return line[len("signature: ") :].strip()
    except OSError:
        pass
    return None


def known_signatures(*folders: Path) -> set[str]:
    sigs = set()
    for folder in folders:
        if folder.is_dir():
            for txt in folder.rglob("*.txt"):
                if "soft" in txt.relative_to(folder).parts[:-1]:
                    continue  # tolerated exceptions are not crashes
                sig = read_signature(txt)
                if sig:
                    sigs.add(sig)
    return sigs


# --- the in-process harness (children and replays) ---------------------------------------------------


class Harness:
    """Runs one target on inputs; classifies outcomes; saves new findings; keeps counts."""

    def __init__(self, target: str, crashes: Path | None, stats_file: Path | None, reraise: bool) -> None:
        from . import targets

        self.targets = targets
        self.name = target
        self.fn = targets.TARGETS[target]
        self.crashes = crashes
        self.stats_file = stats_file
        self.reraise = reraise
        # a bug reached through another target (a DCP blob is a zip) is the same bug
        self.known = known_signatures(SAVED_CRASHERS, *([crashes.parent] if crashes else []))
        self.execs = 0
        self.outcomes: dict[str, int] = {}
        self.known_hits: dict[str, int] = {}
        self.soft: dict[str, int] = {}
        self.new: list[str] = []
        self._last_write = 0.0
        self.last_refusal = ""
        self.fuzz_start: float | None = None  # time.time() when fuzzing began (after start-up and warm-up)

    def run(self, data: bytes) -> str:
        from ckptviewer.core.errors import CheckpointError

        self.execs += 1
        try:
            self.fn(data)
            outcome = "opened"
        except CheckpointError as exc:
            outcome = "rejected"
            self.last_refusal = str(exc)
        except self.targets.SoftFinding as soft:
            outcome = "soft"
            sig = exception_signature(soft.exc)
            if sig not in self.soft:
                self._save("soft", data, sig, soft.exc)
            self.soft[sig] = self.soft.get(sig, 0) + 1
        except Exception as exc:
            sig = exception_signature(exc)
            if sig in self.known:
                self.known_hits[sig] = self.known_hits.get(sig, 0) + 1
                outcome = "known"
            else:
                self.known.add(sig)
                self.new.append(self._save("crash", data, sig, exc))
                self._count("crash")
                self.write_stats(force=True)
                if self.reraise:
                    raise
                outcome = "crash"
        self._count(outcome)
        self.write_stats()
        return outcome

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _save(self, kind: str, data: bytes, sig: str, exc: BaseException) -> str:
        if self.crashes is None:
            return ""
        folder = self.crashes / "soft" if kind == "soft" else self.crashes
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{kind}-{hashlib.sha1(data).hexdigest()}"
        path.write_bytes(data)
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        path.with_name(path.name + ".txt").write_text(
            f"target: {self.name}\nsignature: {sig}\nfound: {time.strftime('%Y-%m-%d %H:%M:%S')} "
            f"by tests/fuzz/run.py\n\n{tb}"
        )
        return str(path)

    def write_stats(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.stats_file is None or (not force and now - self._last_write < 1.0):
            return
        self._last_write = now
        doc = {"execs": self.execs, "outcomes": self.outcomes, "known_hits": self.known_hits, "soft": self.soft,
               "new": self.new, "fuzz_start": self.fuzz_start}  # fmt: skip
        tmp = self.stats_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        tmp.replace(self.stats_file)


def _import_core() -> None:
    """Every ckptviewer.core module (so instrumentation covers lazily imported ones too)."""
    import importlib
    import pkgutil

    import ckptviewer.core

    for info in pkgutil.walk_packages(ckptviewer.core.__path__, "ckptviewer.core."):
        importlib.import_module(info.name)


def _preimport(target: str) -> None:
    """Heavy dependencies, imported before instrumentation (and before fuzzing) so neither pays for them."""
    import warnings

    import numpy  # noqa: F401
    import safetensors.torch  # noqa: F401
    import torch

    if target == "dcp":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import torch.distributed.checkpoint
            import torch.distributed.checkpoint.filesystem
    torch.set_num_threads(1)


def _seed_files(dirs: list[Path]) -> list[Path]:
    return [p for d in dirs if d.is_dir() for p in sorted(d.iterdir()) if p.is_file()]


def _warm_up(harness: Harness, seeds: list[Path]) -> None:
    """Run the seeds once (lazy imports happen here, not during fuzzing); say which seeds do not open."""
    for path in seeds:
        try:
            outcome = harness.run(path.read_bytes())
        except Exception:  # a new crash on a seed: saved, and the fuzzer goes on
            outcome = "crash"
        if outcome != "opened":
            print(f"[{harness.name}] seed {path.name}: {outcome}", file=sys.stderr)
    harness.fuzz_start = time.time()
    harness.write_stats(force=True)


def pickle_tokens() -> list[bytes]:
    """Dictionary entries for pickles: every global the unpickler knows, in GLOBAL and STACK_GLOBAL form."""
    names = {"posix.system", "builtins.eval", "builtins.getattr", "os.system", "subprocess.Popen",
             "torch.FloatStorage", "torch.BFloat16Storage", "torch.LongStorage", "torch.UntypedStorage",
             "torch.QInt8Storage", "__builtin__.set", "copyreg._reconstructor", "torch.nn.modules.linear.Linear",
             "__torch__.Script", "numpy.core.multiarray._reconstruct", "numpy.dtype", "numpy.ndarray"}  # fmt: skip
    with contextlib.suppress(Exception):
        from ckptviewer.core import rebuild, unpickle

        names |= set(rebuild.CALLABLES) | set(rebuild.TYPE_NAMES) | set(unpickle._inert_types())
        names |= set(unpickle._torch_allowlist())
    with contextlib.suppress(Exception):
        from ckptviewer.core.formats import dcp

        names |= set(dcp.RECORDS)
    tokens = []
    for full in sorted(names):
        module, _, name = full.rpartition(".")
        if not module:
            continue
        m, n = module.encode(), name.encode()
        tokens.append(b"c" + m + b"\n" + n + b"\n")
        if len(m) < 256 and len(n) < 256:
            tokens.append(b"\x8c" + bytes([len(m)]) + m + b"\x94\x8c" + bytes([len(n)]) + n + b"\x94\x93")
    for word in (b"storage", b"cpu", b"cuda:0", b"little", b"big", b"module", b"_metadata", b"version"):
        tokens.append(b"X" + len(word).to_bytes(4, "little") + word)
    tokens += [b"\x80\x02", b"\x80\x05\x95", b"R", b"b", b"s", b"u", b"e", b"t", b"\x81", b"\x92", b"Q", b"h\x00",
               b"J\xff\xff\xff\x7f", b"\x8a\x08" + b"\xff" * 8, b"K\x00", b"M\xff\xff", b"0", b"2", b"(", b"}", b"]",
               b"\x85", b"\x86", b"\x87", b"\x8f", b"\x90", b"\x91", b"\x96"]  # fmt: skip
    return tokens


def json_tokens() -> list[bytes]:
    words = ["dtype", "shape", "data_offsets", "__metadata__", "weight_map", "metadata", "total_size", "F32", "F16",
             "BF16", "F64", "I64", "I32", "I16", "I8", "U8", "U16", "U32", "U64", "BOOL", "F8_E4M3", "F8_E5M2",
             "C64", "model-00001-of-00001.safetensors"]  # fmt: skip
    tokens = [f'"{w}"'.encode() for w in words]
    tokens += [b"18446744073709551615", b"9223372036854775808", b"-1", b"1e400", b"[", b"]", b"{", b"}", b"null"]
    return tokens


def tokens_for(target: str) -> list[bytes]:
    if target in ("safetensors", "hf"):
        return json_tokens() + (pickle_tokens() if target == "hf" else [])
    return pickle_tokens() + (json_tokens() if target in ("zip_raw",) else [])


def write_dict(path: Path, tokens: list[bytes]) -> Path:
    def esc(b: bytes) -> str:
        return "".join(chr(c) if 32 <= c < 127 and c not in (34, 92) else f"\\x{c:02x}" for c in b)

    path.write_text("".join(f'"{esc(t)}"\n' for t in dict.fromkeys(tokens) if t))
    return path


def child_atheris(opts: argparse.Namespace) -> None:
    """One target under atheris; never returns (libFuzzer exits the process)."""
    import pickle
    import types

    import atheris

    _preimport(opts.child)
    with atheris.instrument_imports(include=["ckptviewer"], exclude=NOT_INSTRUMENTED):
        _import_core()
    for value in vars(pickle._Unpickler).values():  # the opcode handlers the restricted unpickler inherits
        if isinstance(value, types.FunctionType):
            atheris.instrument_func(value)
    from . import targets
    from .mutators import MUTATORS

    targets.quiet()
    targets.set_strict(opts.strict)
    crashes = Path(opts.crashes) / opts.child
    harness = Harness(opts.child, crashes, Path(opts.stats), reraise=True)
    corpus, seeds = Path(opts.corpus) / opts.child, Path(opts.seed_dir) / opts.child
    corpus.mkdir(parents=True, exist_ok=True)
    _warm_up(harness, _seed_files([seeds]))
    targets.check_imports(True)
    mutate = MUTATORS[opts.child]

    def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
        try:
            return mutate(data, max_size, random.Random(seed), atheris.Mutate)
        except Exception:  # a mutator bug must not end the run: plain libFuzzer mutation instead
            return atheris.Mutate(data, max_size)

    dict_file = write_dict(Path(opts.stats).with_suffix(".dict"), tokens_for(opts.child))
    argv = [
        sys.argv[0], str(corpus), str(seeds), f"-max_len={opts.max_len}", f"-rss_limit_mb={opts.rss_limit_mb}",
        f"-timeout={opts.timeout}", f"-max_total_time={max(1, int(opts.seconds))}", f"-artifact_prefix={crashes}/",
        f"-dict={dict_file}", "-print_final_stats=1",
    ]  # fmt: skip
    if opts.random_seed is not None:
        argv.append(f"-seed={opts.random_seed}")
    crashes.mkdir(parents=True, exist_ok=True)
    atheris.Setup(argv, harness.run, custom_mutator=custom_mutator)
    atheris.Fuzz()


def child_simple(opts: argparse.Namespace) -> None:
    """One target under the plain mutation loop (no atheris): the supervisor watches ``--current``."""
    _preimport(opts.child)
    _import_core()
    from . import targets
    from .mutators import MUTATORS, mutate_bytes

    targets.quiet()
    targets.set_strict(opts.strict)
    crashes = Path(opts.crashes) / opts.child
    harness = Harness(opts.child, crashes, Path(opts.stats), reraise=False)
    corpus, seeds = Path(opts.corpus) / opts.child, Path(opts.seed_dir) / opts.child
    corpus.mkdir(parents=True, exist_ok=True)
    pool = [p.read_bytes() for p in _seed_files([seeds, corpus])]
    _warm_up(harness, _seed_files([seeds]))
    targets.check_imports(True)
    rng = random.Random(opts.random_seed if opts.random_seed is not None else os.getpid())
    tokens = tokens_for(opts.child)
    mutate = MUTATORS[opts.child]
    seen: set[str] = set()
    current = Path(opts.current)
    deadline = time.monotonic() + opts.seconds

    def base(data: bytes, max_size: int) -> bytes:
        return mutate_bytes(data, max_size, rng, tokens, pool)

    while time.monotonic() < deadline:
        data = rng.choice(pool)
        for _ in range(rng.randint(1, 3)):
            data = mutate(data, opts.max_len, rng, base)
        current.write_bytes(data)  # the supervisor saves it if this input hangs or kills the process
        before = len(harness.soft), harness.outcomes.get("rejected", 0)
        outcome = harness.run(data)
        # cheap feedback: keep inputs that reach a new outcome or a new refusal message
        key = _refusal_class(harness.last_refusal) if outcome == "rejected" else outcome
        if key not in seen or len(harness.soft) > before[0]:
            seen.add(key)
            pool.append(data)
            (corpus / hashlib.sha1(data).hexdigest()).write_bytes(data)
    harness.write_stats(force=True)
    current.unlink(missing_ok=True)


def _refusal_class(text: str) -> str:
    """A CheckpointError's message with numbers and paths blurred (a coarse 'new behaviour' key)."""
    text = re.sub(r"\S*/\S*", "P", text)
    return "rejected:" + re.sub(r"\d+", "N", text)[:80]


def replay(opts: argparse.Namespace) -> int:
    """Run one saved input through its target; 0 when it only raised CheckpointError (or nothing)."""
    import faulthandler

    path = Path(opts.replay)
    target = opts.target if opts.target not in (None, "all") else path.parent.name
    if target not in TARGET_NAMES:
        print(f"unknown target {target!r} (give --target)", file=sys.stderr)
        return 2
    faulthandler.enable()
    if opts.hang_dump:
        faulthandler.dump_traceback_later(opts.hang_dump, exit=True)
    _preimport(target)
    from ckptviewer.core.errors import CheckpointError

    from . import targets

    targets.quiet()
    targets.set_strict(opts.strict)
    data = path.read_bytes()
    try:
        targets.TARGETS[target](data)
        print(f"{target}: {path.name}: opened")
    except CheckpointError as exc:
        print(f"{target}: {path.name}: CheckpointError: {str(exc)[:300]}")
    except targets.SoftFinding as soft:
        print(f"{target}: {path.name}: soft finding (tolerated): {exception_signature(soft.exc)}: {soft}"[:500])
    except Exception as exc:
        traceback.print_exc()
        print(f"signature: {exception_signature(exc)}")
        return 1
    finally:
        targets.cleanup()
    return 0


# --- the parent: one child per target, restarts after a crash, summary -------------------------------


def _limits(as_bytes: int) -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (as_bytes, as_bytes))
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)


def _engine(requested: str) -> str:
    if requested != "auto":
        return requested
    try:
        import atheris  # noqa: F401
    except ImportError:
        return "simple"
    return "atheris"


def _child_cmd(opts: argparse.Namespace, target: str, seconds: float, stats: Path, engine: str, current: Path) -> list:
    cmd = [sys.executable, "-m", "tests.fuzz.run", "--child", target, "--engine", engine, "--seconds", str(seconds),
           "--corpus", opts.corpus, "--crashes", opts.crashes, "--seed-dir", opts.seed_dir, "--stats", str(stats),
           "--max-len", str(opts.max_len), "--rss-limit-mb", str(opts.rss_limit_mb), "--timeout", str(opts.timeout),
           "--current", str(current)]  # fmt: skip
    if opts.random_seed is not None:
        cmd += ["--random-seed", str(opts.random_seed)]
    if opts.strict:
        cmd.append("--strict")
    return cmd


def _parse_libfuzzer(log: str) -> dict:
    out: dict = {}
    m = re.findall(r"cov: (\d+) ft: (\d+) corp: (\d+)", log)
    if m:
        out["cov"], out["ft"], out["corp"] = (int(x) for x in m[-1])
    m = re.findall(r"stat::number_of_executed_units: (\d+)", log)
    if m:
        out["execs"] = int(m[-1])
    return out


def _describe_artifact(artifact: Path, target: str, log_tail: str, timeout: int) -> str:
    """Replay an artifact libFuzzer wrote (signal, timeout, oom) to get a signature and a Python stack."""
    cmd = [sys.executable, "-m", "tests.fuzz.run", "--replay", str(artifact), "--target", target,
           "--hang-dump", str(timeout + 20)]  # fmt: skip
    kind = artifact.name.split("-", 1)[0]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout + 60,
                              preexec_fn=lambda: _limits(RLIMIT_AS))  # fmt: skip
        rc, out = proc.returncode, proc.stdout + proc.stderr
    except subprocess.TimeoutExpired as exc:
        rc, out = None, f"(replay still running after {timeout + 60} s)\n" + str(exc.stdout or "")
    if rc is not None and rc < 0:
        what = f"signal {signal.Signals(-rc).name}"
    elif rc is None or "Timeout (" in out:
        what = "timeout"
    elif rc == 1 and "signature: " in out:
        what = out.rsplit("signature: ", 1)[1].splitlines()[0]
    elif rc == 0:
        what = f"{kind} (not reproduced by a replay)"
    else:
        what = f"{kind} (replay exit {rc})"
    frames = re.findall(r'File "([^"]+)", line \d+ in (\S+)', out)
    own = [f for f in frames if "/ckptviewer/" in f[0]]
    if what.startswith(("signal", "timeout")) or "not reproduced" in what:
        top = own[0] if own else frames[0] if frames else None
        where = f"{_short(top[0])}:{top[1]}" if top else "-"
        sig = f"{what} at {where}"
    else:
        sig = what
    text = (
        f"target: {target}\nsignature: {sig}\nfound: {time.strftime('%Y-%m-%d %H:%M:%S')} by tests/fuzz/run.py "
        f"(libFuzzer artifact, replayed)\n\n--- replay ---\n{out[-6000:]}\n--- fuzzer log ---\n{log_tail[-3000:]}"
    )
    artifact.with_name(artifact.name + ".txt").write_text(text)
    return sig


def fuzz_target(opts: argparse.Namespace, target: str, engine: str, work: Path) -> dict:
    crashes = Path(opts.crashes) / target
    crashes.mkdir(parents=True, exist_ok=True)
    saved = known_signatures(SAVED_CRASHERS)
    before = {p.name for p in crashes.iterdir()}
    result = {"target": target, "engine": engine, "execs": 0, "outcomes": {}, "known_hits": {}, "soft": {},
              "new": [], "restarts": 0, "errors": []}  # fmt: skip
    log_path = work / f"{target}.0.log"
    used = 0.0  # fuzzing seconds spent by children (start-up and warm-up not counted)
    n = 0
    while True:
        left = opts.seconds - used
        if left < 0.5 or n > opts.max_restarts:
            break
        stats = work / f"{target}.{n}.stats.json"
        current = work / f"{target}.current"
        log_path = work / f"{target}.{n}.log"
        current.unlink(missing_ok=True)  # a stale one would read as a hang
        cmd = _child_cmd(opts, target, left, stats, engine, current)
        with open(log_path, "w") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                    preexec_fn=lambda: _limits(FUZZ_RLIMIT_AS[engine]))  # fmt: skip
            rc = _supervise(proc, current, crashes, engine, opts, left)
        text = log_path.read_text(errors="replace")
        parsed = _parse_libfuzzer(text)
        try:
            doc = json.loads(stats.read_text())
        except (OSError, ValueError):
            doc = {}
        started = doc.get("fuzz_start")
        used += max(time.time() - started, 0.5) if started else left  # a child that never started: give up
        if not started and rc != 0:
            result["errors"].append(f"the child failed before fuzzing (exit {rc}); see {log_path}:\n{text[-1500:]}")
        result["execs"] += parsed.get("execs", doc.get("execs", 0))
        for key in ("cov", "ft", "corp"):
            if key in parsed:
                result[key] = parsed[key]
        for part in ("outcomes", "known_hits", "soft"):
            for k, v in doc.get(part, {}).items():
                result[part][k] = result[part].get(k, 0) + v
        n += 1
        if rc == 0 or opts.seconds - used < 0.5:
            break
        result["restarts"] += 1
        if opts.verbose:
            print(f"[{target}] child exited with {rc}; restarting ({log_path})", file=sys.stderr)
    # name and classify what appeared in this run
    for p in sorted(crashes.iterdir()):
        if p.name in before or not ARTIFACT.match(p.name):
            continue
        txt = p.with_name(p.name + ".txt")
        sig = read_signature(txt) if txt.exists() else None
        if sig is None:
            tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
            sig = _describe_artifact(p, target, tail, opts.timeout)
        result["new"].append({"path": str(p), "signature": sig, "known": sig in saved})
    return result


def _supervise(proc: subprocess.Popen, current: Path, crashes: Path, engine: str, opts, seconds: float) -> int:
    """Wait for a child; for the simple engine, save the input that hangs or kills it."""
    hard_deadline = time.monotonic() + seconds + opts.timeout + 120
    while True:
        try:
            rc = proc.wait(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            pass
        if time.monotonic() > hard_deadline:
            proc.kill()
            rc = proc.wait()
            break
        if engine == "simple" and current.exists():
            with contextlib.suppress(OSError):
                if time.time() - current.stat().st_mtime > opts.timeout:
                    proc.kill()
                    proc.wait()
                    _save_current(current, crashes, "timeout")
                    return -signal.SIGKILL
    if engine == "simple" and rc != 0 and current.exists():
        _save_current(current, crashes, "oom" if rc == -signal.SIGKILL else "crash")
    return rc


def _save_current(current: Path, crashes: Path, kind: str) -> None:
    with contextlib.suppress(OSError):
        data = current.read_bytes()
        (crashes / f"{kind}-{hashlib.sha1(data).hexdigest()}").write_bytes(data)
        current.unlink()


def _print_summary(results: list[dict], verbose: bool) -> list[str]:
    """Print the table; returns what makes the run fail: new crashers, and children that never fuzzed."""
    new_paths = []
    print("\n=== fuzz summary ===")
    for r in results:
        cov = f" cov={r['cov']} ft={r['ft']} corpus={r['corp']}" if "cov" in r else ""
        print(f"{r['target']:12s} engine={r['engine']} execs={r['execs']}{cov} restarts={r['restarts']} "
              f"outcomes={json.dumps(r['outcomes'], sort_keys=True)}")  # fmt: skip
        for sig, count in sorted(r["known_hits"].items()):
            print(f"    known  x{count}: {sig}")
        if verbose:
            for sig, count in sorted(r["soft"].items()):
                print(f"    soft   x{count}: {sig}")
        elif r["soft"]:
            print(f"    soft: {len(r['soft'])} kinds of tolerated exception (-v: list; examples: {r['target']}/soft/)")
        for item in r["new"]:
            tag = "KNOWN " if item["known"] else "NEW   "
            print(f"    {tag}{item['path']}\n           {item['signature']}")
            if not item["known"]:
                new_paths.append(item["path"])
        for error in r["errors"]:
            print(f"    ERROR  {error}")
    errors = [r["target"] for r in results if r["errors"]]
    if errors:
        print(f"\nthe fuzzer could not run: {', '.join(errors)} (ERROR lines above)")
    if new_paths:
        print(f"\n{len(new_paths)} new crasher(s):")
        for p in new_paths:
            print(f"  {p}  (details: {p}.txt)")
    else:
        print("\nno new crashers")
    return new_paths + errors


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__.split("\n")[0])
    ap.add_argument("--target", default="all", help=f"all or one of {', '.join(TARGET_NAMES)}")
    ap.add_argument("--seconds", type=float, default=120, help="fuzzing time per target (default 120)")
    ap.add_argument("--corpus", default=str(ROOT / "build" / "fuzz" / "corpus"), help="corpus folder (kept)")
    ap.add_argument("--crashes", default=str(ROOT / "build" / "fuzz" / "crashes"), help="findings folder")
    ap.add_argument("--seed-dir", default=None, help="seed corpus folder (default: CORPUS/../seeds, written if absent)")
    ap.add_argument("--engine", choices=("auto", "atheris", "simple"), default="auto")
    ap.add_argument("--max-len", type=int, default=128 << 10)
    ap.add_argument("--rss-limit-mb", type=int, default=3000)
    ap.add_argument("--timeout", type=int, default=10, help="seconds one input may take")
    ap.add_argument("--max-restarts", type=int, default=25, help="child restarts per target after crashes")
    ap.add_argument("--strict", action="store_true", help="unpickle target: only CheckpointError is acceptable")
    ap.add_argument("--random-seed", type=int, default=None)
    ap.add_argument("--regen-seeds", action="store_true")
    ap.add_argument("--jobs", type=int, default=1, help="targets fuzzed at the same time (default 1: one core)")
    ap.add_argument("-v", "--verbose", action="store_true")
    # internal modes
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--stats", help=argparse.SUPPRESS)
    ap.add_argument("--current", help=argparse.SUPPRESS)
    ap.add_argument("--replay", metavar="FILE", help="run one input through its target (folder name or --target)")
    ap.add_argument("--hang-dump", type=float, default=0, help="with --replay: dump the stack and exit after N s")
    ap.add_argument("--seeds-only", metavar="DIR", help="write the seed corpus to DIR and exit")
    opts = ap.parse_args(argv)

    if opts.replay:
        return replay(opts)
    if opts.seeds_only:
        from .seeds import write_seeds

        for target, d in write_seeds(opts.seeds_only).items():
            print(f"{target}: {d}")
        return 0
    corpus = Path(opts.corpus).resolve()
    opts.corpus = str(corpus)
    opts.crashes = str(Path(opts.crashes).resolve())
    opts.seed_dir = str(Path(opts.seed_dir).resolve()) if opts.seed_dir else str(corpus.parent / "seeds")
    if opts.child:
        if opts.engine == "atheris":
            child_atheris(opts)
        else:
            child_simple(opts)
        return 0

    names = TARGET_NAMES if opts.target == "all" else tuple(opts.target.split(","))
    bad = [n for n in names if n not in TARGET_NAMES]
    if bad:
        ap.error(f"unknown target(s) {', '.join(bad)}; choose from all, {', '.join(TARGET_NAMES)}")
    seed_dir = Path(opts.seed_dir)
    if opts.regen_seeds or not all((seed_dir / n).is_dir() and any((seed_dir / n).iterdir()) for n in names):
        subprocess.run([sys.executable, "-m", "tests.fuzz.run", "--seeds-only", str(seed_dir)], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
    engine = _engine(opts.engine)
    work = Path(opts.crashes).parent / "work"
    work.mkdir(parents=True, exist_ok=True)
    print(f"fuzzing {', '.join(names)} for {opts.seconds:g} s each with {engine} (crashes: {opts.crashes})", flush=True)

    def one(name: str) -> dict:
        r = fuzz_target(opts, name, engine, work)
        print(f"  {name}: {r['execs']} execs, {len([x for x in r['new'] if not x['known']])} new crasher(s)",
              flush=True)  # fmt: skip
        return r

    if opts.jobs > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(opts.jobs) as pool:
            results = list(pool.map(one, names))
    else:
        results = [one(name) for name in names]
    return 1 if _print_summary(results, opts.verbose) else 0


if __name__ == "__main__":
    sys.exit(main())
