"""Children for the red-team tests: the real ``ckpt`` (or a short script) in its own process, limited
to 3 GiB of address space and a wall-clock time, with its own cache folder and no CKPT_DEBUG."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).parents[2]
MEMORY_LIMIT = 3 << 30


def limit_memory() -> None:
    """preexec_fn of a child: at most MEMORY_LIMIT of address space."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def child_env(cache: Path, extra: dict | None = None) -> dict:
    """The environment of a child: the repository importable, UTF-8, ``cache`` as CKPT_CACHE_DIR, Qt offscreen."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8",
           "CKPT_CACHE_DIR": str(cache), "QT_QPA_PLATFORM": "offscreen", **(extra or {})}  # fmt: skip
    env.pop("CKPT_DEBUG", None)
    return env


def ckpt(cache: Path, *args: object, timeout: float = 60, env: dict | None = None) -> subprocess.CompletedProcess:
    """``ckpt ARGS`` in a limited child with its own cache folder."""
    return subprocess.run([sys.executable, "-m", "ckptviewer", *map(str, args)], capture_output=True, text=True,
                          errors="backslashreplace", timeout=timeout, cwd=str(ROOT), env=child_env(cache, env),
                          preexec_fn=limit_memory)  # fmt: skip


def script(cache: Path, code: str, *args: object, timeout: float = 60, env: dict | None = None) -> dict:
    """Run ``code`` (which prints one JSON line last) in a limited child; its result."""
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code), *map(str, args)], capture_output=True,
                       text=True, timeout=timeout, cwd=str(ROOT), env=child_env(cache, env),
                       preexec_fn=limit_memory)  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads(r.stdout.strip().splitlines()[-1])
