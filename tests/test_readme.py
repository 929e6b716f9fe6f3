"""The README's promises: two commands first, then the install note, true to pyproject, Makefile and program."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ckptviewer.gui.display import NO_DISPLAY_MESSAGE

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def sections() -> list[str]:
    """The README cut at its `## ` headings: [0] is everything before the first."""
    return re.split(r"^(?=## )", README, flags=re.MULTILINE)


def code_blocks(text: str) -> list[list[str]]:
    """Each fenced block's lines, comments and blanks left out."""
    blocks = re.findall(r"^ *```\w*\n(.*?)^ *```", text, flags=re.MULTILINE | re.DOTALL)
    return [[line.split("#")[0].strip() for line in b.splitlines() if line.split("#")[0].strip()] for b in blocks]


def test_the_first_section_is_the_two_commands():
    assert code_blocks(sections()[0]) == [["make run", "make test"]]


def test_the_install_note_follows_and_matches_pyproject_and_the_makefile():
    note = sections()[1]
    assert note.startswith("## Before you install")
    assert [f"pip install torch --index-url {CPU_INDEX}", "pip install ."] in code_blocks(note)
    pyproject = (ROOT / "pyproject.toml").read_text()
    torch_req = re.findall(r'^\s*"(torch[<>=!~][^"]*)"', pyproject, flags=re.MULTILINE)  # a dependency line
    assert torch_req == ["torch>=2.6"] and f"`{torch_req[0]}`" in note  # what pip leaves alone, as said
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^TORCH +\?=", makefile, flags=re.MULTILINE)  # overridable, as said
    assert re.search(r"^TORCH_INDEX +\?=", makefile, flags=re.MULTILINE)
    assert f"make TORCH_INDEX={CPU_INDEX} run" in note and "make TORCH=torch==2.x run" in note


def test_the_install_note_says_what_the_program_says_without_a_display():
    note = " ".join(sections()[1].split())
    for advice in ("xvfb-run ckptviewer FILE", "ckptviewer FILE --screenshot out.png"):
        assert advice in NO_DISPLAY_MESSAGE and advice in note
    assert "status 2" in note


@pytest.mark.skipif(not shutil.which("make") or sys.platform == "win32", reason="needs make and a POSIX shell")
def test_make_run_without_a_display_ends_on_the_programs_one_line(tmp_path):
    """The Makefile's run recipe with stand-ins for the install, demo and tree, and the real ckptviewer."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in [("python", "exit 0"), ("ckpt", "exit 0"),
                       ("ckptviewer", f'exec "{sys.executable}" -m ckptviewer.gui.app "$@"')]:  # fmt: skip
        (bin_dir / name).write_text(f"#!/bin/sh\n{body}\n")
        (bin_dir / name).chmod(0o755)
    stamp = tmp_path / "stamp"
    stamp.touch()  # newer than pyproject.toml: nothing to install
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    r = subprocess.run(["make", "-s", "-C", str(ROOT), "run", f"BIN={bin_dir}", f"STAMP={stamp}",
                        f"DEMO={tmp_path / 'demo.pth'}"], env=env, capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stderr.splitlines() == [NO_DISPLAY_MESSAGE]  # no "make: *** Error 2" after it
