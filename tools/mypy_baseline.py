"""mypy over the package, against a baseline that may only shrink.

``python tools/mypy_baseline.py`` fails on any error that is not in ``mypy-baseline.txt``
(errors are compared without line numbers, so moving code does not matter) and says when
errors in the baseline are gone (then run it with ``--update`` to shrink the baseline).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "mypy-baseline.txt"
LINE = re.compile(r"^(?P<path>[^:]+):\d+: error: (?P<message>.*)$")


def current() -> Counter[str]:
    proc = subprocess.run([sys.executable, "-m", "mypy", "ckptviewer"], cwd=ROOT, capture_output=True, text=True)
    errors: Counter[str] = Counter()
    for line in proc.stdout.splitlines():
        m = LINE.match(line)
        if m:
            errors[f"{m['path']}: {m['message']}"] += 1
    if proc.returncode not in (0, 1):
        sys.exit(f"mypy failed to run:\n{proc.stdout}\n{proc.stderr}")
    return errors


def main() -> int:
    errors = current()
    if "--update" in sys.argv:
        BASELINE.write_text("".join(f"{e}\n" for e in sorted(errors.elements())))
        print(f"mypy baseline: {sum(errors.values())} errors written to {BASELINE.name}")
        return 0
    baseline = Counter(BASELINE.read_text().splitlines()) if BASELINE.exists() else Counter()
    new = errors - baseline
    gone = baseline - errors
    if new:
        print(f"mypy: {sum(new.values())} new error(s) (not in {BASELINE.name}):")
        for e in sorted(new.elements()):
            print(f"  {e}")
        return 1
    print(f"mypy: {sum(errors.values())} errors, all in the baseline ({sum(baseline.values())})")
    if gone:
        print(
            f"mypy: {sum(gone.values())} baseline error(s) are gone: shrink it with "
            "python tools/mypy_baseline.py --update"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
