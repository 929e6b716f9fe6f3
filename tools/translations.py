"""`make translations`: the window's catalogues updated from the code, then compiled.

    python tools/translations.py update   # lupdate every .ts, fill the English plural forms, lrelease
    python tools/translations.py check    # what CI checks: nothing missing, unfinished or stale

The sources are ``ckptviewer/resources/translations/ckptviewer_<code>.ts``. Locations are left
out of the .ts files (no churn when a line moves) and obsolete entries are dropped.

lupdate's Python parser skips a ``translate(context, text, None, n)`` whose count is not a
plain name (``len(x)``, ``a.n``): the check reads every call itself (ast) and fails on one
lupdate did not see, so no string can silently stay English.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "ckptviewer"
TS_DIR = PACKAGE / "resources" / "translations"
MARKERS = ("translate", "QT_TRANSLATE_NOOP")  # the calls whose (context, text) lupdate must find


def tool(name: str) -> str:
    """pyside6-lupdate / pyside6-lrelease from the PySide6 wheels (next to this Python first)."""
    beside = Path(sys.executable).parent / f"pyside6-{name}"
    if beside.exists():
        return str(beside)
    found = shutil.which(f"pyside6-{name}")
    if found is None:
        raise SystemExit(f"pyside6-{name} not found (it comes with PySide6)")
    return found


def sources() -> list[str]:
    """Every Python file of the package, relative to the repository (sorted: stable output)."""
    return sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*.py"))


def catalogues() -> list[Path]:
    return sorted(TS_DIR.glob("ckptviewer_*.ts"))


def language(ts: Path) -> str:
    return ts.stem.split("_", 1)[1]


def lupdate(ts: Path) -> None:
    """Bring ``ts`` up to date with the code (new strings unfinished, vanished ones dropped)."""
    args = [tool("lupdate"), "-silent", "-locations", "none", "-no-obsolete", "-target-language", language(ts)]
    subprocess.run([*args, *sources(), "-ts", str(ts)], cwd=ROOT, check=True)


def lrelease(ts: Path, qm: Path) -> None:
    subprocess.run([tool("lrelease"), "-silent", "-nounfinished", str(ts), "-qm", str(qm)], cwd=ROOT, check=True)


def write_ts(tree: ET.ElementTree, ts: Path) -> None:
    """The layout lupdate writes (so that its next run changes nothing it need not)."""
    ET.indent(tree, space="    ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    ts.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")


def messages(ts: Path) -> dict[tuple[str, str, str], ET.Element]:
    """(context, source, comment) -> its <message>."""
    out = {}
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            out[(name, message.findtext("source") or "", message.findtext("comment") or "")] = message
    return out


def problems(ts: Path, current: Path) -> list[str]:
    """What is wrong with the committed ``ts`` against ``current`` (the same file after lupdate)."""
    committed, fresh = messages(ts), messages(current)
    out = [f"{ts.name}: not in the catalogue: {c} / {s!r}" for (c, s, _) in fresh.keys() - committed.keys()]
    out += [f"{ts.name}: no longer in the code: {c} / {s!r}" for (c, s, _) in committed.keys() - fresh.keys()]
    for (c, s, _), message in committed.items():
        translation = message.find("translation")
        if translation is None:
            out.append(f"{ts.name}: no translation: {c} / {s!r}")
            continue
        kind = translation.get("type")
        texts = [f.text for f in translation.iter("numerusform")] or [translation.text]
        if kind in ("unfinished", "obsolete", "vanished") or not all(t and t.strip() for t in texts):
            out.append(f"{ts.name}: unfinished: {c} / {s!r}")
        elif message.get("numerus") == "yes" and not all(_count_marker(s) in (t or "") for t in texts):
            out.append(f"{ts.name}: a plural form without %n: {c} / {s!r}")
        else:
            placeholders = sorted(set(_placeholders(s)))
            for t in texts:
                if sorted(set(_placeholders(t or ""))) != placeholders:
                    out.append(f"{ts.name}: placeholders differ from the source's: {c} / {s!r} -> {t!r}")
    return out


def _count_marker(source: str) -> str:
    """%Ln (the count in the locale's digits and grouping) or %n, as the source has it."""
    return "%Ln" if "%Ln" in source else "%n"


def _placeholders(text: str) -> list[str]:
    import string

    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def marked_in_code() -> tuple[set[tuple[str, str]], list[str]]:
    """Every (context, text) the code marks, read with ast; and the calls lupdate cannot read."""
    found: set[tuple[str, str]] = set()
    unreadable: list[str] = []
    for rel in sources():
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name not in MARKERS or len(node.args) < 2:
                continue
            where = f"{rel}:{node.lineno}"
            context, text = node.args[0], node.args[1]
            literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in (context, text)]
            if not all(literal):
                continue  # a computed text: one marked elsewhere (QT_TRANSLATE_NOOP), looked up at run time
            if len(node.args) >= 4 and not isinstance(node.args[3], ast.Name):
                unreadable.append(f"{where}: the count is not a plain name (lupdate skips the call)")
            if node.keywords:
                unreadable.append(f"{where}: keyword arguments (lupdate skips the call)")
            found.add((context.value, text.value))
    return found, unreadable


def update() -> None:
    for ts in catalogues():
        lupdate(ts)
        lrelease(ts, ts.with_suffix(".qm"))


def check() -> list[str]:
    """Every problem with the committed catalogues: strings missing or stale, translations
    unfinished, a .qm not compiled from its .ts."""
    marked, out = marked_in_code()
    with tempfile.TemporaryDirectory() as tmp:
        for ts in catalogues():
            copy = Path(tmp) / ts.name
            shutil.copyfile(ts, copy)
            lupdate(copy)
            out += problems(ts, copy)
            seen = {(c, s) for (c, s, _) in messages(copy)}
            out += [f"{ts.name}: lupdate did not find {c} / {s!r}" for (c, s) in sorted(marked - seen)]
            qm = Path(tmp) / ts.with_suffix(".qm").name
            lrelease(ts, qm)
            shipped = ts.with_suffix(".qm")
            if not shipped.exists() or shipped.read_bytes() != qm.read_bytes():
                out.append(f"{shipped.name}: not compiled from {ts.name} (make translations)")
    return out


def main(argv: list[str]) -> int:
    if argv[1:] == ["update"]:
        update()
        found = check()
    elif argv[1:] == ["check"]:
        found = check()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
