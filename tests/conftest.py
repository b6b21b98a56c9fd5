"""Shared helpers: a copy of the project to build in, the CLI, and Anki's own importer."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pypdf
import pytest
from click.testing import CliRunner, Result

from deckgen.cli import main
from deckgen.resources import copy_defaults

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Project:
    """A throwaway copy of the project: its source, templates and build folders."""

    root: Path

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def out(self) -> Path:
        return self.root / "build"

    def build(self, *extra: str) -> Result:
        """Run `deckgen build` on this project through the real CLI."""
        return CliRunner().invoke(
            main,
            ["build", "--source", str(self.source), "--out", str(self.out),
             "--templates", str(self.templates), *extra],
        )

    def apkg(self) -> Path:
        (deck,) = self.out.glob("*.apkg")
        return deck

    def outputs(self) -> dict[str, bytes]:
        """Every file in build/, by name."""
        return {p.name: p.read_bytes() for p in sorted(self.out.iterdir()) if p.is_file()}


def copy_project(dest: Path, source: Path = ROOT / "source", templates: bool = True) -> Project:
    """A project in `dest` with a copy of `source`; with `templates`, a full copy of deckgen's
    default templates in its templates/ folder (to edit), else none (the defaults are used)."""
    shutil.copytree(source, dest / "source", ignore=shutil.ignore_patterns("deckgen.lock"))
    if templates:
        copy_defaults(dest / "templates")
    return Project(dest)


@pytest.fixture
def project(tmp_path: Path) -> Project:
    """A copy of the real project's source and templates, not yet built."""
    return copy_project(tmp_path)


@pytest.fixture
def mini(tmp_path: Path) -> Project:
    """A two-category project small enough to build many times."""
    return copy_project(tmp_path, FIXTURES / "mini")


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The real project, built once for the tests that only read the outputs."""
    project = copy_project(tmp_path_factory.mktemp("built"))
    result = project.build()
    assert result.exit_code == 0, result.output
    yield project


def pdf_fonts(pdf: bytes) -> set[str]:
    """The names of the fonts a PDF embeds, without their subset prefix."""
    fonts = set()
    for page in pypdf.PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        for font in resources["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


def embedded_fonts(pages: Any) -> dict[str, bool]:
    """Each font the pages use, by name, and whether its file is embedded in the PDF."""
    fonts = {}
    for page in pages:
        resources: Any = page["/Resources"]
        for reference in resources["/Font"].values():
            font = reference.get_object()
            if "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            else:
                descriptor = font["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = any(
                k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
    return fonts
