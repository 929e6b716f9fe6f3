"""Desktop integration: register ckptviewer as the opener of checkpoint files, and undo it.

Linux (freedesktop): the .desktop entry, the MIME types and the icon go under
``$XDG_DATA_HOME`` (default ``~/.local/share``); the databases are refreshed when their
tools exist; ``xdg-mime`` makes ckptviewer the default application. A step skipped because
its tool is missing (or that failed) is reported with what it means, never silently dropped.
Everything written is listed in a manifest, so ``uninstall`` removes exactly that. Windows: per-user file
associations under ``HKCU\\Software\\Classes``. macOS: see the README.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

APP_ID = "ckptviewer"
MIME_TYPES = ("application/x-pytorch-checkpoint", "application/x-safetensors")
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
EXTENSIONS = (".pth", ".pt", ".ckpt", ".bin", ".safetensors")


def resource(name: str) -> bytes:
    """A file shipped in ckptviewer/resources."""
    return resources.files("ckptviewer.resources").joinpath(name).read_bytes()


def data_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")


def _manifest(base: Path) -> Path:
    return base / APP_ID / "installed.json"


def _launcher() -> str:
    """The command the .desktop entry runs: the installed gui-script if we can find it."""
    found = shutil.which("ckptviewer")
    if found:
        return found
    return f"{sys.executable} -m ckptviewer.gui.app"


def install(base: Path | None = None, run_tools: bool = True, notes: list[str] | None = None) -> list[Path]:
    """Register the desktop entry, MIME types and icons for this user; return the files written.

    Each step skipped or failed is appended to ``notes`` as one sentence: what, why, what it means.
    """
    if sys.platform == "win32":
        return _install_windows()
    base = base or data_home()
    files: dict[Path, bytes] = {
        base / "mime" / "packages" / f"{APP_ID}.xml": resource("ckptviewer-mime.xml"),
        base / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg": resource("ckptviewer.svg"),
    }
    for n in ICON_SIZES:
        files[base / "icons" / "hicolor" / f"{n}x{n}" / "apps" / f"{APP_ID}.png"] = resource(f"ckptviewer-{n}.png")
    entry = resource("ckptviewer.desktop").decode().replace("Exec=ckptviewer %F", f"Exec={_quote(_launcher())} %F")
    files[base / "applications" / f"{APP_ID}.desktop"] = entry.encode()
    written = []
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
    manifest = _manifest(base)
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps([str(p) for p in written], indent=1))
    if run_tools:
        (notes if notes is not None else []).extend(_refresh(base, default=True))
    return written


def uninstall(base: Path | None = None, run_tools: bool = True, notes: list[str] | None = None) -> list[Path]:
    """Remove exactly what :func:`install` wrote (per its manifest); return what was removed; ``notes``: as install."""
    if sys.platform == "win32":
        return _uninstall_windows()
    base = base or data_home()
    manifest = _manifest(base)
    if not manifest.is_file():
        return []
    removed = []
    for name in json.loads(manifest.read_text()):
        path = Path(name)
        if path.is_file() and base in path.parents:  # never outside the data home it was written to
            path.unlink()
            removed.append(path)
    manifest.unlink()
    try:
        manifest.parent.rmdir()
    except OSError:
        pass
    if run_tools:
        (notes if notes is not None else []).extend(_refresh(base, default=False))
    return removed


def _quote(command: str) -> str:
    # the Desktop Entry spec: arguments with spaces are double-quoted
    return " ".join(f'"{part}"' if " " in part else part for part in command.split(" "))


# what is lost when a tool is missing or fails, and where the tool comes from
_SKIPPED = {
    "update-mime-database": "the MIME database was not refreshed, so file managers may not yet recognise "
    "checkpoint files (package shared-mime-info)",
    "update-desktop-database": "the desktop entry's file types were not cached; most desktops still find it "
    "after logging in again (package desktop-file-utils)",
    "gtk-update-icon-cache": "the icon cache was not refreshed; the icon may appear only after logging in again",
    "xdg-mime": "ckptviewer was not made the default opener of checkpoint files; choose it in your file "
    "manager's Open With (package xdg-utils)",
}


def _refresh(base: Path, default: bool) -> list[str]:
    """Run the freedesktop tools that exist; one note for each one skipped or failed."""
    tools = [
        ["update-mime-database", str(base / "mime")],
        ["update-desktop-database", str(base / "applications")],
        ["gtk-update-icon-cache", "-f", "-t", str(base / "icons" / "hicolor")],
    ]
    if default:
        tools.append(["xdg-mime", "default", f"{APP_ID}.desktop", *MIME_TYPES])
    notes = []
    for cmd in tools:
        tool = cmd[0]
        if not shutil.which(tool):
            notes.append(f"skipped {tool} (not found): {_SKIPPED[tool]}")
            continue
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            notes.append(f"{tool} failed ({e}): {_SKIPPED[tool]}")
            continue
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or [""])[0][:200]
            notes.append(f"{tool} failed (exit {done.returncode}{': ' + said if said else ''}): {_SKIPPED[tool]}")
    return notes


def _install_windows() -> list[Path]:  # pragma: no cover - exercised on Windows only
    import winreg

    command = f'"{_launcher()}" "%1"'
    root = winreg.HKEY_CURRENT_USER
    with winreg.CreateKey(root, rf"Software\Classes\{APP_ID}.checkpoint\shell\open\command") as key:
        winreg.SetValueEx(key, "", 0, winreg.REG_SZ, command)
    for ext in EXTENSIONS:
        with winreg.CreateKey(root, rf"Software\Classes\{ext}\OpenWithProgids") as key:
            winreg.SetValueEx(key, f"{APP_ID}.checkpoint", 0, winreg.REG_NONE, b"")
    return []


def _uninstall_windows() -> list[Path]:  # pragma: no cover - exercised on Windows only
    import winreg

    root = winreg.HKEY_CURRENT_USER
    for ext in EXTENSIONS:
        try:
            with winreg.OpenKey(root, rf"Software\Classes\{ext}\OpenWithProgids", 0, winreg.KEY_SET_VALUE) as key:
                winreg.DeleteValue(key, f"{APP_ID}.checkpoint")
        except OSError:
            pass
    for sub in (r"\shell\open\command", r"\shell\open", r"\shell", ""):
        try:
            winreg.DeleteKey(root, rf"Software\Classes\{APP_ID}.checkpoint{sub}")
        except OSError:
            pass
    return []
