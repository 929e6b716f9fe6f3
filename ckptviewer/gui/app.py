"""``ckptviewer [FILE] [--run DIR] [--device D] [--trust] [--screenshot OUT.png]``: the desktop app."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

MIN_SCREENSHOT = (1280, 800)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ckptviewer", description="Inspect PyTorch checkpoints.")
    p.add_argument("file", nargs="?", help="checkpoint to open")
    p.add_argument("other", nargs="?", help="a second checkpoint: compare FILE with it")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    p.add_argument("--trust", action="store_true", help="unpickle fully: RUNS CODE named by the file")
    p.add_argument("--run", metavar="DIR", help="open the run view of a folder (or glob) of checkpoints")
    p.add_argument("--select", metavar="KEY", help="select this tensor or module once FILE is open")
    p.add_argument("--screenshot", metavar="OUT.png", help="open FILE, save a screenshot of the window, exit")
    p.add_argument("--install-desktop", action="store_true", help="register ckptviewer as the opener of checkpoints")
    p.add_argument("--uninstall-desktop", action="store_true", help="remove exactly what --install-desktop added")
    p.add_argument("--timeout", type=float, default=120, help=argparse.SUPPRESS)
    # measuring start-up: print when FILE's layer tree was first painted (and with --select, its statistics)
    p.add_argument("--quit-after-first-paint", action="store_true", help=argparse.SUPPRESS)
    return p


def app_icon():
    """The application icon, every size shipped."""
    from PySide6.QtGui import QIcon, QPixmap

    from ..desktop import ICON_SIZES, resource

    icon = QIcon()
    for n in ICON_SIZES:
        pix = QPixmap()
        pix.loadFromData(resource(f"ckptviewer-{n}.png"))
        icon.addPixmap(pix)
    return icon


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.install_desktop or args.uninstall_desktop:
        from .. import desktop
        from ..formatting import plural

        notes: list[str] = []
        done = desktop.install(notes=notes) if args.install_desktop else desktop.uninstall(notes=notes)
        verb = "installed" if args.install_desktop else "removed"
        print(f"{verb} {plural(len(done), 'file')} under {desktop.data_home()}")
        for note in notes:  # what was not done, and what that means
            print(f"ckptviewer: {note}", file=sys.stderr)
        return 0
    if args.screenshot and not (args.file or args.run):
        print("ckptviewer: --screenshot needs a FILE (or --run DIR)", file=sys.stderr)
        return 2
    if args.quit_after_first_paint and not args.file:
        print("ckptviewer: --quit-after-first-paint needs a FILE", file=sys.stderr)
        return 2
    headless = bool(args.screenshot or args.quit_after_first_paint)  # no display needed, no single instance
    from .display import NO_DISPLAY_MESSAGE, has_display

    if not has_display():
        if not headless:  # Qt would abort inside QApplication with a misleading hint
            print(NO_DISPLAY_MESSAGE, file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a screenshot needs no display
    if not headless and not args.other and not args.run:
        # first, before QApplication, pyqtgraph and torch: a second launch is done in a blink
        from .single_instance import hand_off

        if hand_off([args.file] if args.file else []):
            return 0  # a running ckptviewer took the file and came to the front
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ckptviewer")
    app.setOrganizationName("ckptviewer")
    app.setDesktopFileName("ckptviewer")
    app.setWindowIcon(app_icon())
    from . import engine
    from .collector import GuiThreadCollector

    GuiThreadCollector(app)  # Qt objects are freed on the GUI thread, never in a worker's collection
    from .single_instance import InstanceServer
    from .tabs import TabbedWindow

    if args.quit_after_first_paint:
        return _first_paint(app, TabbedWindow(device=args.device), args)
    if args.screenshot and args.run:  # the run window, once the run is analysed
        return _run_screenshot(app, TabbedWindow(device=args.device), args)
    if args.screenshot:  # the window as users see it (menu bar, tab strip), 1280x800, no single instance
        shell = TabbedWindow(device=args.device)
        if args.select:
            shell.current.opened.connect(lambda _ckpt: shell.current.select_key(args.select))
        return _screenshot(app, shell, shell.current, args)
    from .excepthook import install

    shell = TabbedWindow(device=args.device)
    install(lambda message, details: shell.current.report_error(message, details))
    server = InstanceServer(parent=shell)
    server.open_requested.connect(lambda paths: _open_handed(shell, paths))
    page = shell.current
    if args.select:
        page.opened.connect(lambda _ckpt: page.select_key(args.select))
    shell.show()
    if args.file:
        page.open_file(args.file, trust=args.trust)
    if args.other:
        page.compare_with(args.other, first=args.file)
    if args.run:
        page.open_run(args.run)
    QTimer.singleShot(0, shell.raise_)
    code = app.exec()
    engine.join(60)  # closed while torch was still loading: the interpreter must not exit under the import
    return code


def _open_handed(shell, paths: list[str]) -> None:
    """Files a second launch handed over: each in a tab, and the window comes to the front."""
    for path in paths:
        shell.open_in_tab(path)
    shell.showNormal()
    shell.raise_()
    shell.activateWindow()


def _screenshot(app, window, page, args) -> int:
    """Open the file in ``page``, wait for the tree, statistics, plots and scan, grab ``window``."""
    from PySide6.QtCore import QTimer

    status = {"code": 1}
    out = Path(args.screenshot)
    window.resize(*MIN_SCREENSHOT)
    window.show()
    done = {"report": False, "scan": False}

    def maybe_grab(*_):
        if all(done.values()):
            QTimer.singleShot(300, grab)  # let the plots finish their first paint

    def grab():
        window.grab().save(str(out))
        status["code"] = 0
        app.quit()

    def on_report(key):
        if args.select is None or key == args.select:
            done["report"] = True
            maybe_grab()

    def on_scan(_report):
        done["scan"] = True
        maybe_grab()

    def on_error(message):
        print(f"ckptviewer: error: {message}", file=sys.stderr)
        app.quit()

    page.report_shown.connect(on_report)
    page.scan_done.connect(on_scan)
    page.error_reported.connect(on_error)
    page.open_file(args.file, trust=args.trust)
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    app.exec()
    window.close()
    if status["code"] == 0:
        print(out)
    return status["code"]


def _run_screenshot(app, shell, args) -> int:
    """--run DIR --screenshot OUT.png: list and analyse the run, grab its window (1280x800) once drawn."""
    from PySide6.QtCore import QTimer

    status = {"code": 1}
    out = Path(args.screenshot)
    page = shell.current

    def on_error(message: str, _details: str = "") -> None:
        print(f"ckptviewer: error: {message}", file=sys.stderr)
        app.quit()

    def grab(window) -> None:
        window.grab().save(str(out))
        status["code"] = 0
        app.quit()

    def opened(window) -> None:
        window.resize(*MIN_SCREENSHOT)
        window.error_reported.connect(on_error)
        window.ready.connect(lambda _report: QTimer.singleShot(300, lambda: grab(window)))  # plots' first paint

    page.run_opened.connect(opened)
    page.error_reported.connect(on_error)
    page.open_run(args.run)
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    app.exec()
    for window in page.run_windows:
        window.close()
    shell.close()
    if status["code"] == 0:
        print(out)
    return status["code"]


def _first_paint(app, shell, args) -> int:
    """--quit-after-first-paint: open FILE and print when its layer tree was first painted.

    Seconds count from the start of the process. With --select KEY it goes on until KEY's
    statistics are shown and also prints when the compute engine (torch) was in.
    """
    from PySide6.QtCore import QTimer

    from . import engine

    page = shell.current
    status = {"code": 1, "painted": False}

    def loaded(module: str) -> str:
        return "yes" if module in sys.modules else "no"

    def finish() -> None:
        status["code"] = 0
        app.quit()

    def on_painted() -> None:
        if status["painted"] or page.doc.tree is None or page.model.root is not page.doc.tree:
            return  # the start page, or a tree not yet the file's
        status["painted"] = True
        print(f"first-paint-s={engine.process_seconds():.3f}")
        print(f"loaded-at-first-paint: torch={loaded('torch')} pyqtgraph={loaded('pyqtgraph')}", flush=True)
        if args.select is None:
            finish()

    def on_report(key: str) -> None:
        if status["painted"] and key == args.select:
            ready = engine.ready_at if engine.ready_at is not None else float("nan")
            print(f"torch-ready-s={ready:.3f}")
            print(f"stats-s={engine.process_seconds():.3f}", flush=True)
            finish()

    def on_error(message: str) -> None:
        print(f"ckptviewer: error: {message}", file=sys.stderr)
        app.quit()

    page.tree.painted.connect(on_painted)
    page.report_shown.connect(on_report)
    page.error_reported.connect(on_error)
    if args.select:
        page.opened.connect(lambda _ckpt: page.select_key(args.select))
    shell.show()
    page.open_file(args.file, trust=args.trust)
    QTimer.singleShot(int(args.timeout * 1000), app.quit)
    app.exec()
    if engine.is_started() and not engine.is_ready():
        # the figures are out and nothing is left to save; waiting for the background import would
        # add seconds to the process, and an interpreter must not finalize under a running import
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status["code"])
    shell.close()
    return status["code"]


def main_exit() -> None:
    """gui-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    main_exit()
