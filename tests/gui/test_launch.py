"""Starting `ckptviewer`: without a display, and the single instance per user and display (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PySide6.QtCore import QDir

from ckptviewer.gui.display import has_display
from ckptviewer.gui.single_instance import InstanceServer, answers, server_name

START_TIMEOUT = 90  # a whole window process on a loaded 2-core machine; a guard against a hang
APP = [sys.executable, "-m", "ckptviewer.gui.app"]
DISPLAY_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "CKPTVIEWER_INSTANCE")


def stripped_env(**extra: str) -> dict[str, str]:
    """os.environ without any display, platform or instance override, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in DISPLAY_VARS}
    return {**env, **extra}


@pytest.mark.parametrize("platform", [None, "", "xcb", "wayland"])
def test_without_a_display_one_line_says_so_and_how_to_proceed(tmp_path, platform):
    env = stripped_env() if platform is None else stripped_env(QT_QPA_PLATFORM=platform)
    path = tmp_path / "m.pth"
    torch.save({"w": torch.ones(2)}, path)
    r = subprocess.run([*APP, str(path)], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr  # not Qt's abort, its plugin list and its libxcb-cursor hint
    assert lines[0].startswith("ckptviewer: no display")
    assert "xvfb-run ckptviewer FILE" in lines[0] and "--screenshot out.png" in lines[0]


@pytest.mark.slow
def test_screenshot_without_a_display_chooses_offscreen_itself(demo_checkpoint, tmp_path):
    out = tmp_path / "shot.png"
    r = subprocess.run([*APP, str(demo_checkpoint), "--screenshot", str(out)], env=stripped_env(),
                       capture_output=True, text=True, timeout=180)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert out.is_file() and out.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"QT_QPA_PLATFORM": ""}, False),
        ({"QT_QPA_PLATFORM": "xcb"}, False),
        ({"QT_QPA_PLATFORM": "wayland;xcb"}, False),
        ({"DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "wayland-0"}, False),
        ({"QT_QPA_PLATFORM": "wayland;xcb", "DISPLAY": ":0"}, True),
        ({"QT_QPA_PLATFORM": "offscreen"}, True),
        ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, True),
        ({"QT_QPA_PLATFORM": "minimal"}, True),
    ],
)
def test_has_display_reads_the_environment(env, expected):
    assert has_display(env, platform="linux") is expected
    assert has_display({}, platform="win32") and has_display({}, platform="darwin")


def test_instance_key_names_the_user_and_the_display():
    on93, on94 = server_name({"DISPLAY": ":93"}), server_name({"DISPLAY": ":94"})
    assert on93 != on94 and str(os.getuid()) in on93
    assert server_name({"DISPLAY": ":93", "QT_QPA_PLATFORM": "offscreen"}) != on93  # nobody sees that window
    assert server_name({"WAYLAND_DISPLAY": "wayland-1"}) != server_name({"WAYLAND_DISPLAY": "wayland-2"})
    long = server_name({"WAYLAND_DISPLAY": "/run/user/1000/" + "x" * 200})
    assert len(long) < 60 and all(c.isalnum() or c in "-_." for c in long)


def test_instance_socket_lives_in_the_users_runtime_folder_when_there_is_one(tmp_path):
    name = server_name({"DISPLAY": ":93", "XDG_RUNTIME_DIR": str(tmp_path)})
    assert Path(name).parent == tmp_path and Path(name).name == server_name({"DISPLAY": ":93"})
    assert server_name({"DISPLAY": ":93", "XDG_RUNTIME_DIR": str(tmp_path / "missing")}) == Path(name).name


def test_a_live_instance_keeps_its_name_and_a_closed_ones_is_taken_over():
    name = f"ckptviewer-live-{os.getpid()}"
    first = InstanceServer(name)
    try:
        assert first.listening
        second = InstanceServer(name)  # two launches at once: the first one won
        assert not second.listening and answers(name)
        second.close()
    finally:
        first.close()
    third = InstanceServer(name)
    assert third.listening
    third.close()


class Launch:
    """Real `ckptviewer FILE` processes on one display (offscreen: nothing is drawn anywhere)."""

    def __init__(self, display: str) -> None:
        self.env = stripped_env(QT_QPA_PLATFORM="offscreen", DISPLAY=display)
        self.name = server_name(self.env)
        self.procs: list[subprocess.Popen] = []

    def start(self, path: Path, *, hand_off_child: bool = False) -> subprocess.Popen:
        """The program, or (``hand_off_child``) main() in a child that then prints every module it imported."""
        code = "import sys; from ckptviewer.gui.app import main; print(main(sys.argv[1:])); print(*sorted(sys.modules))"
        cmd = [sys.executable, "-c", code] if hand_off_child else APP
        proc = subprocess.Popen([*cmd, str(path)], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)  # fmt: skip
        self.procs.append(proc)
        return proc

    def wait_serving(self, proc: subprocess.Popen) -> None:
        """Until ``proc`` answers on this display's socket (it became the window, it did not hand off)."""
        deadline = time.monotonic() + START_TIMEOUT
        while not answers(self.name):
            assert proc.poll() is None, f"exited with {proc.returncode} instead of serving"
            assert time.monotonic() < deadline, "never started serving"
            time.sleep(0.2)

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=30)
        socket = Path(QDir.tempPath()) / self.name
        if socket.exists():
            socket.unlink()


@pytest.fixture
def launches():
    made: list[Launch] = []

    def make(display: str) -> Launch:
        made.append(Launch(display))
        return made[-1]

    yield make
    for launch in made:
        launch.close()


def unique_display(n: int) -> str:
    return f":{os.getpid() % 50_000 + 10_000}{n}"  # no clash with other test runs on this machine


def test_a_launch_on_another_display_keeps_its_file_one_on_the_same_display_hands_it_over(qtbot, launches, tmp_path):
    path = tmp_path / "m.pth"
    torch.save({"w": torch.ones(2)}, path)
    here, there = launches(unique_display(3)), launches(unique_display(4))
    assert here.name != there.name  # else "serving there" below would be this process answering
    server = InstanceServer(here.name)  # this process is the window on display `here`
    received: list[list[str]] = []
    server.open_requested.connect(received.append)
    assert server.listening
    try:
        other = there.start(path)
        qtbot.waitUntil(lambda: bool(received) or other.poll() is not None or answers(there.name),
                        timeout=START_TIMEOUT * 1000)  # fmt: skip
        assert received == [] and other.poll() is None  # it kept its file and became the window there
        child = here.start(path, hand_off_child=True)
        qtbot.waitUntil(lambda: child.poll() is not None, timeout=START_TIMEOUT * 1000)
        out, err = child.communicate()
        assert child.returncode == 0, err
        assert received == [[str(path.resolve())]]  # handed to this window
        exit_code, modules = out.splitlines()[:2]
        assert exit_code == "0"  # and it opened no window of its own
        imported = set(modules.split())
        assert "PySide6.QtNetwork" in imported  # the hand-off really ran in the child
        assert "torch" not in imported and "pyqtgraph" not in imported
        assert "PySide6.QtWidgets" not in imported  # not even a QApplication
    finally:
        server.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_a_socket_left_by_a_killed_instance_is_recovered(launches, tmp_path, sig):
    path = tmp_path / "m.pth"
    torch.save({"w": torch.ones(2)}, path)
    launch = launches(unique_display(5))
    dead = launch.start(path)
    launch.wait_serving(dead)
    dead.send_signal(sig)
    dead.wait(timeout=30)
    assert (Path(QDir.tempPath()) / launch.name).exists()  # what the killed one left behind
    assert not answers(launch.name)
    launch.wait_serving(launch.start(path))  # the next launch becomes the window
    child = launch.start(path, hand_off_child=True)
    out, err = child.communicate(timeout=120)
    assert child.returncode == 0 and out.splitlines()[0] == "0", err  # and takes later launches' files
