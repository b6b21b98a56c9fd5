"""Time and peak memory of `deckgen build` refusing hostile sources, each in a fresh process.

    python benchmarks/refusals.py

Each case is a copy of tests/fixtures/mini with one hostile category file, built once to have
last good outputs, then built again: that second run is measured (wall time, and its peak
resident memory from getrusage). The targets: under 1 s and under 200 MB.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAD = "name: Beta Things\nguide: The second category's one line.\nentries:\n"


def entry(number: int, answer: str) -> str:
    return (f"  - id: e{number}\n    term: T{number}\n    question: Q{number}?\n"
            f"    answer: {answer}\n    gist: G{number}.\n")


def alias_bomb() -> str:
    """The issue's case: one 100 KB answer `&s`, then `answer: *s` in 2,000 entries."""
    return HEAD + entry(0, "&s " + "word " * 20_000) + "".join(
        entry(n, "*s") for n in range(1, 2001))


def nested_alias_bomb() -> str:
    """Billion laughs: nine levels of ten aliases each."""
    lines = ["name: Beta", "guide: g", 'a0: &a0 "lol"']
    for level in range(1, 10):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\nentries: *a9\n"


CASES: dict[str, Callable[[], str]] = {
    "empty file (start-up alone)": lambda: "",
    "alias bomb (100 KB x 2,000)": alias_bomb,
    "billion laughs (10^9 strings)": nested_alias_bomb,
    "50 MB category file": lambda: HEAD + entry(1, "'" + "x" * (50 * 1024 * 1024) + "'"),
    "one 900 KB answer": lambda: HEAD + entry(1, "x" * 900_000),
    "list 100 deep": lambda: HEAD + entry(1, "|\n" + "\n".join(
        "      " + "  " * i + f"- level {i}" for i in range(100))),
    "800 '*', x, 800 '*'": lambda: HEAD + entry(1, "'" + "*" * 800 + "x" + "*" * 800 + "'"),
    "500-deep \\frac": lambda: HEAD + entry(1, "|\n      \\[" + "\\frac{" * 500 + "x"
                                           + "}{2}" * 500 + "\\]"),
}


def measure(name: str, text: str) -> tuple[float, float, str]:
    root = Path(tempfile.mkdtemp(prefix="deckgen-refuse-"))
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini", root / "source")
    command = [sys.executable, "-m", "deckgen", "build", "--source", str(root / "source"),
               "--out", str(root / "build"), "-q"]
    subprocess.run(command, check=True)
    (root / "source" / "02-beta.yaml").write_text(text, encoding="utf-8")
    # A fresh parent whose only child is the refused build, so its children's peak is that one's.
    process = subprocess.run([sys.executable, "-c", _TIMED, *command], capture_output=True,
                             text=True)
    *stderr, figures = process.stderr.strip().splitlines()
    elapsed, peak_kb, returncode = figures.split()
    assert returncode == "1", process.stderr
    shutil.rmtree(root)
    return float(elapsed), int(peak_kb) / 1024, stderr[0].split(": ", 2)[-1][:70]


_TIMED = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[1:]).returncode
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"{time.perf_counter() - started:.3f} {peak} {code}", file=sys.stderr)
"""


def main() -> None:
    print(f"{'case':32} {'time':>7} {'peak MB':>8}  message (best of 3 runs; peak: the largest)")
    for name, make in CASES.items():
        runs = [measure(name, make()) for _ in range(3)]
        elapsed = min(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        print(f"{name:32} {elapsed:6.2f}s {peak:8.0f}  {runs[0][2]}")


if __name__ == "__main__":
    main()
