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
