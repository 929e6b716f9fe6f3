"""Is there a display to show a window on? Answered from the environment, before any Qt import.

Without one, Qt aborts the whole process inside QApplication ("could not load the Qt platform
plugin xcb", plus a misleading hint about libxcb-cursor). ckptviewer asks first and says what to
do instead. The same facts name the display in the single-instance key, so a launch on one display
never hands its file to a window on another.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys

# Qt platform plugins that draw without a display server
HEADLESS_PLATFORMS = frozenset({"offscreen", "minimal", "minimalegl", "vnc", "linuxfb", "eglfs", "vkkhrdisplay"})

# English, as the CLI's lines are: it goes to the terminal that launched ckptviewer, where no window (and so
# no installed translator) can exist; app.py's other pre-window lines (bad arguments) are English too
NO_DISPLAY_MESSAGE = (
    "ckptviewer: no display (DISPLAY and WAYLAND_DISPLAY are unset): run it from a desktop session, "
    "or `xvfb-run ckptviewer FILE`, or `ckptviewer FILE --screenshot out.png`, which works without one"
)


def _platforms(env: dict[str, str]) -> list[str]:
    """The plugin names QT_QPA_PLATFORM asks for ("wayland;xcb" is a fallback list, "vnc:size=..." has options)."""
    value = env.get("QT_QPA_PLATFORM", "")
    return [part.split(":", 1)[0].strip().lower() for part in value.split(";") if part.strip()]


def has_display(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt can start: a headless plugin was asked for, or a display server is named.

    Windows and macOS always have their own platform. Elsewhere (Linux, the BSDs) an X display
    (DISPLAY) or a Wayland one (WAYLAND_DISPLAY) must be named, or QT_QPA_PLATFORM must pick a
    plugin that needs neither (offscreen, minimal, vnc, ...).
    """
    env = dict(os.environ) if env is None else env
    platform = sys.platform if platform is None else platform
    if platform in ("win32", "darwin"):
        return True
    asked = _platforms(env)
    x11, wayland = bool(env.get("DISPLAY")), bool(env.get("WAYLAND_DISPLAY"))
    if not asked:  # Qt picks wayland or xcb from what is there
        return x11 or wayland
    for name in asked:
        if name in HEADLESS_PLATFORMS or (name == "xcb" and x11) or (name.startswith("wayland") and wayland):
            return True
        if name != "xcb" and not name.startswith("wayland"):
            return True  # a plugin we do not know: let Qt judge it
    return False


def display_tag(env: dict[str, str] | None = None) -> str:
    """A short file-name-safe name for where windows appear: the headless platform and the displays.

    Two launches share it exactly when a window of one would be seen by the user of the other:
    the same DISPLAY and WAYLAND_DISPLAY, and the same headless plugin if one was asked for (an
    offscreen window is seen by nobody, so a launch on the desktop never hands its file to one).
    """
    env = dict(os.environ) if env is None else env
    headless = [name for name in _platforms(env) if name in HEADLESS_PLATFORMS][:1]
    displays = [f"{var[0].lower()}{env[var]}" for var in ("WAYLAND_DISPLAY", "DISPLAY") if env.get(var)]
    tag = "-".join(headless + displays)
    tag = re.sub(r"[^A-Za-z0-9_.-]", "_", tag)
    if len(tag) > 40:  # a local socket's path must stay short (108 bytes on Linux)
        tag = tag[:31] + "-" + hashlib.sha1(tag.encode()).hexdigest()[:8]
    return tag
