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
