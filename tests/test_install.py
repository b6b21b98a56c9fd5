"""The wheel, installed into a fresh venv outside the repository, makes and builds guides.

Slow (a wheel build, a venv, a pip install from the package index, one full build of this guide):
the one place that proves deckgen works as a user installs it, with nothing from the repository.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pypdf
import pytest

from anki_helpers import card_for, import_apkg, open_collection
from conftest import ROOT, pdf_fonts
from deckgen.cache import cache_dir
from deckgen.resources import DEFAULTS, Templates
from deckgen.source import load_guide

MARK = ".question { color: rgb(4, 5, 6); }"


@dataclass(frozen=True)
class Installed:
    """deckgen installed from its wheel into a venv of its own."""

    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]
    usual_cache: str  # the cache this test run's own builds use

    def bin(self, name: str) -> Path:
        return self.venv / ("Scripts" if os.name == "nt" else "bin") / name

    def run(self, *args: str | Path, cwd: Path,
            cold: bool = True) -> subprocess.CompletedProcess[str]:
        """The installed `deckgen` with `args`, in `cwd`; fails the test on a non-zero exit.

        `cold` uses a cache folder of its own, as on a new machine; otherwise the usual one.
        """
        env = self.env if cold else {**self.env, "DECKGEN_CACHE_DIR": self.usual_cache}
        result = subprocess.run([self.bin("deckgen"), *args], cwd=cwd, env=env,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stderr == ""
        return result


def _tree(dest: Path) -> Path:
    """The repository's files as a clean checkout has them (no venv, caches or outputs)."""
    shutil.copytree(ROOT, dest, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis"))
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    dist = work / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", dist,
                    _tree(work / "tree")], check=True, capture_output=True, timeout=600)
    (wheel,) = dist.glob("deckgen-*.whl")
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env["DECKGEN_CACHE_DIR"] = str(work / "cache")  # a first build on a new machine
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    result = Installed(wheel, venv, work, env, str(cache_dir()))
    # A normal install: dependencies from the package index (pip's cache makes it quick).
    subprocess.run([result.bin("python"), "-m", "pip", "install", "-q", wheel], check=True,
                   env=env, cwd=work, timeout=600)
    return result


def pdf_text(path: Path) -> tuple[int, str]:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return len(reader.pages), "\n".join(page.extract_text() for page in reader.pages)


def test_the_wheel_carries_every_default_template_and_clean_metadata(
    installed: Installed,
) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert {f"deckgen/templates/{name}" for name in Templates(Path("/nowhere")).files} <= names
    assert any(n.endswith("licenses/LICENSE") for n in names)
    text = metadata.decode()
    assert "License-Expression: MIT AND OFL-1.1" in text
    assert "Classifier: Environment :: Console" in text
    assert "Requires-Dist: weasyprint<71,>=68.1" in text
    check = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", installed.wheel],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


def test_the_installed_tool_starts_and_builds_a_guide_anywhere(installed: Installed) -> None:
    where = subprocess.run(
        [installed.bin("python"), "-c", "import deckgen; print(deckgen.__file__)"],
        cwd=installed.work, env=installed.env, capture_output=True, text=True)
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    version = subprocess.run([installed.bin("python"), "-m", "deckgen", "--version"],
                             env=installed.env, capture_output=True, text=True)
    assert version.stdout.strip() == "deckgen, version 0.1.0"

    installed.run("init", "my-guide", cwd=installed.work)
    guide = installed.work / "my-guide"
    built = installed.run("build", cwd=guide)
    assert "2 notes, 2 new or changed" in built.stdout

    col = open_collection(installed.work / "anki")
    assert import_apkg(col, guide / "build" / "my-study-guide.apkg")["new"] == 2
    card = card_for(col, "softmax")
    assert "What does softmax compute?" in card.question()
    assert r"\frac{e^{z_i}}{\sum_j e^{z_j}}" in card.answer()
    col.close()
    pages, text = pdf_text(guide / "build" / "cheatsheet.pdf")
    assert pages == 1 and "Softmax" in text and "My Study Guide" in text
    pages, text = pdf_text(guide / "build" / "study-guide.pdf")
    assert "What does deckgen make from this folder?" in text
    # The fonts come from the installed package: this machine has no Carlito of its own.
    fonts = pdf_fonts((guide / "build" / "study-guide.pdf").read_bytes())
    assert {"Carlito", "Carlito-Bold", "STIX-Two-Math"} <= fonts

    # One template file of the project's own: the cards change, nothing else is rebuilt.
    css = guide / "templates" / "anki" / "card.css"
    css.parent.mkdir(parents=True)
    css.write_text((DEFAULTS / "anki" / "card.css").read_text(encoding="utf-8") + MARK + "\n")
    rebuilt = installed.run("build", cwd=guide)
    assert [line for line in rebuilt.stdout.splitlines() if line.startswith("wrote")] == [
        f"wrote {Path('build') / 'my-study-guide.apkg'}"]
    col = open_collection(installed.work / "anki-restyled")
    import_apkg(col, guide / "build" / "my-study-guide.apkg")
    assert MARK in card_for(col, "softmax").note_type()["css"]
    col.close()


def test_the_installed_tool_builds_this_repositorys_guide(installed: Installed) -> None:
    project = installed.work / "llm-guide"
    shutil.copytree(ROOT / "source", project / "source")
    # The formulas typeset by this test run's other builds serve here too (the installed code is
    # the same, and the cache is keyed by it): a warm cache, so this takes half a minute, not two.
    installed.run("build", "-q", cwd=project, cold=False)
    (deck,) = (project / "build").glob("*.apkg")
    col = open_collection(installed.work / "anki-llm")
    guide, _ = load_guide(ROOT / "source")
    assert import_apkg(col, deck)["new"] == len(guide.entries) > 400
    col.close()
    pages, text = pdf_text(project / "build" / "cheatsheet.pdf")
    assert pages == 4 and "Scaled dot-product attention" in text
    pages, text = pdf_text(project / "build" / "study-guide.pdf")
    assert pages > 50 and "Write scaled dot-product attention" in text
