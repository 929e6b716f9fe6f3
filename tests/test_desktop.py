"""Desktop integration: install and uninstall into a temporary XDG_DATA_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ckptviewer import desktop


def test_install_writes_entry_mime_and_icons_and_uninstall_removes_exactly_them(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # xdg-mime default writes there
    base = tmp_path / "share"
    mine = base / "applications" / "someone-else.desktop"
    mine.parent.mkdir(parents=True)
    mine.write_text("[Desktop Entry]\nType=Application\nName=x\nExec=x\n")
    written = desktop.install(base)
    entry = base / "applications" / "ckptviewer.desktop"
    assert entry in written and (base / "mime" / "packages" / "ckptviewer.xml").is_file()
    for n in desktop.ICON_SIZES:
        assert (base / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "ckptviewer.png").is_file()
    text = entry.read_text()
    assert "MimeType=application/x-pytorch-checkpoint;application/x-safetensors;" in text
    assert "%F" in text.split("Exec=")[1].splitlines()[0]
    mime = ET.parse(base / "mime" / "packages" / "ckptviewer.xml").getroot()
    globs = {g.get("pattern") for g in mime.iter("{http://www.freedesktop.org/standards/shared-mime-info}glob")}
    assert {"*.pth", "*.pt", "*.ckpt", "*.bin", "*.safetensors"} <= globs
    if shutil.which("update-mime-database"):
        assert (base / "mime" / "mime.cache").is_file()  # the database was refreshed
    removed = desktop.uninstall(base)
    assert set(removed) == set(written)
    assert mine.is_file()  # nothing else touched
    assert not entry.exists() and not (base / "ckptviewer").exists()


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils is not installed")
def test_desktop_entry_passes_desktop_file_validate(tmp_path):
    desktop.install(tmp_path, run_tools=False)
    r = subprocess.run(["desktop-file-validate", str(tmp_path / "applications" / "ckptviewer.desktop")],
                       capture_output=True, text=True)  # fmt: skip
    assert r.returncode == 0 and "error" not in r.stdout.lower(), r.stdout + r.stderr


def test_command_line_flags(tmp_path):
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "QT_QPA_PLATFORM": "offscreen"}  # fmt: skip
    run = [sys.executable, "-m", "ckptviewer.gui.app"]
    r = subprocess.run([*run, "--install-desktop"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and (Path(tmp_path) / "applications" / "ckptviewer.desktop").is_file(), r.stderr
    r = subprocess.run([*run, "--uninstall-desktop"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and not (Path(tmp_path) / "applications" / "ckptviewer.desktop").exists()


def test_install_without_the_freedesktop_tools_says_what_it_skipped_and_why(tmp_path):
    bare = tmp_path / "bin"  # a PATH with none of xdg-mime, update-*-database, gtk-update-icon-cache
    bare.mkdir()
    env = {**os.environ, "PATH": str(bare), "XDG_DATA_HOME": str(tmp_path / "share"),
           "XDG_CONFIG_HOME": str(tmp_path / "config")}  # fmt: skip
    run = [sys.executable, "-m", "ckptviewer.gui.app"]
    r = subprocess.run([*run, "--install-desktop"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "share" / "applications" / "ckptviewer.desktop").is_file()  # the files are still written
    notes = r.stderr.splitlines()
    assert len(notes) == 4, r.stderr
    said = dict(zip(["update-mime-database", "update-desktop-database", "gtk-update-icon-cache", "xdg-mime"], notes))
    for tool, line in said.items():
        assert line.startswith(f"ckptviewer: skipped {tool} (not found): "), line
    assert "not made the default opener" in said["xdg-mime"] and "xdg-utils" in said["xdg-mime"]
    assert "MIME database was not refreshed" in said["update-mime-database"]
    r = subprocess.run([*run, "--uninstall-desktop"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "xdg-mime" not in r.stderr  # removing never sets a default
    assert len(r.stderr.splitlines()) == 3, r.stderr


def test_install_runs_the_tools_it_finds_and_reports_one_that_fails(tmp_path, monkeypatch):
    tools = tmp_path / "bin"
    tools.mkdir()
    calls = tmp_path / "calls.txt"
    for name, code in [("xdg-mime", 0), ("update-desktop-database", 3)]:
        script = tools / name
        script.write_text(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\necho "no database here" >&2\nexit {code}\n')
        script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tools))
    notes: list[str] = []
    desktop.install(tmp_path / "share", notes=notes)
    ran = calls.read_text().splitlines()
    assert f"xdg-mime default ckptviewer.desktop {' '.join(desktop.MIME_TYPES)}" in ran
    assert not any("xdg-mime" in note for note in notes)  # found and succeeded: nothing to say
    failed = [note for note in notes if note.startswith("update-desktop-database failed")]
    assert failed == [
        "update-desktop-database failed (exit 3: no database here): the desktop entry's file types were not cached; "
        "most desktops still find it after logging in again (package desktop-file-utils)"
    ]
    assert {note.split(" ")[1] for note in notes if note.startswith("skipped")} == {
        "update-mime-database",
        "gtk-update-icon-cache",
    }
