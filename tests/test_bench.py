"""The benchmark script keeps working (its figures are for benchmarks/, never for tests)."""

from __future__ import annotations

import subprocess
import sys

from conftest import ROOT


def test_benchmark_runs_on_a_tiny_source() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), "--sizes", "30",
         "--pdf-sizes", "30", "--runs", "1"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for kind in ("deck-cold", "deck", "genanki", "pdf", "weasyprint", "build", "no-op"):
        assert f"30 entries  {kind} " in result.stdout
    assert "30: no-op / build" in result.stdout


def test_edit_loop_benchmark_runs_on_a_tiny_source() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "edits.py"), "--sources", "20", "--runs", "1"],
        capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for kind in ("full", "floor", "no-op", "answer", "gist", "card-css"):
        assert f"20       {kind} " in result.stdout
    for target in ("full / floor", "answer / full", "gist / full", "no-op / full"):
        assert f"20: {target}" in result.stdout
