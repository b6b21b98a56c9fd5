"""Default templates in the package, overridden file by file; `deckgen init` starts a guide."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from click.testing import CliRunner

import deckgen.build
from anki_helpers import card_for, import_apkg, open_collection
from conftest import FIXTURES, Project, copy_project, pdf_fonts
from deckgen.build import BuildOptions, build
from deckgen.cache import cache_dir
from deckgen.cli import main
from deckgen.pdf import html_to_pdf
from deckgen.resources import DEFAULTS, Templates

MARK = ".question { color: rgb(1, 2, 3); }"


@pytest.fixture
def bare(tmp_path: Path) -> Project:
    """The small project with no templates/ folder at all: deckgen's defaults throughout."""
    return copy_project(tmp_path, FIXTURES / "mini", templates=False)


def rebuilt(project: Project) -> list[str]:
    return build(BuildOptions(source=project.source, out=project.out,
                              templates=project.templates)).rebuilt


def card_css(project: Project, tmp_path: Path, name: str) -> str:
    col = open_collection(tmp_path / name)
    import_apkg(col, project.apkg())
    css: str = card_for(col, "softmax").note_type()["css"]
    col.close()
    return css


def test_a_project_without_templates_builds_with_the_defaults(bare: Project,
                                                             tmp_path: Path) -> None:
    assert not bare.templates.exists()
    assert rebuilt(bare) == ["deck", "cheatsheet", "study-guide", "flashcards"]
    default_css = (DEFAULTS / "anki" / "card.css").read_text(encoding="utf-8")
    assert card_css(bare, tmp_path, "anki") == default_css
    fonts = pdf_fonts((bare.out / "cheatsheet.pdf").read_bytes())
    assert {"Carlito", "Carlito-Bold"} <= fonts  # read from the package: not installed here


def test_one_overridden_file_changes_the_cards_and_nothing_else(bare: Project,
                                                               tmp_path: Path) -> None:
    assert rebuilt(bare)
    before = bare.outputs()
    css = bare.templates / "anki" / "card.css"
    css.parent.mkdir(parents=True)
    css.write_text((DEFAULTS / "anki" / "card.css").read_text(encoding="utf-8") + MARK + "\n")

    assert rebuilt(bare) == ["deck"]
    assert MARK in card_css(bare, tmp_path, "with")
    after = bare.outputs()
    assert after["cheatsheet.pdf"] == before["cheatsheet.pdf"]
    assert after["study-guide.pdf"] == before["study-guide.pdf"]

    css.unlink()  # back to the default: the deck follows
    assert rebuilt(bare) == ["deck"]
    assert MARK not in card_css(bare, tmp_path, "without")


def test_a_named_templates_folder_must_exist(bare: Project) -> None:
    result = bare.build()  # --templates names bare/templates, which is not there
    assert result.exit_code == 2
    assert "--templates" in result.stderr and "no such folder" in result.stderr
    assert not bare.out.exists()


def test_the_pdf_reads_exactly_the_effective_template_files(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    (own / "pdf").mkdir(parents=True)
    (own / "pdf" / "extra.css").write_text("p { color: red }")
    (own / ".hidden.css").write_text("p { color: blue }")
    secret = tmp_path / "secret.css"
    secret.write_text("p { color: green }")
    package_font = Path(str(DEFAULTS / "pdf" / "fonts" / "Carlito-Regular.ttf"))
    html = ('<style>@font-face { font-family: Served; src: url("pdf/fonts/Carlito-Regular.ttf") }'
            "body { font-family: Served }</style>"
            '<link rel="stylesheet" href="pdf/extra.css">'
            '<link rel="stylesheet" href=".hidden.css">'
            '<link rel="stylesheet" href="../secret.css">'
            f'<link rel="stylesheet" href="{package_font.as_uri()}">'
            "<p>text</p>")
    pdf, refused = html_to_pdf(html, own)
    root = own.resolve().as_uri()
    assert sorted(refused) == sorted([f"{root}/.hidden.css", secret.resolve().as_uri(),
                                      package_font.resolve().as_uri()])
    assert pdf_fonts(pdf) == {"Served"}  # the default font, served by name under the page's base


def test_the_effective_set_prefers_the_project_and_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / "anki").mkdir()
    (tmp_path / "anki" / "card.css").write_text("mine")
    (tmp_path / "anki" / ".card.css.swp").write_text("editor")
    effective = Templates(tmp_path)
    assert effective.read_text("anki/card.css") == "mine"
    assert "anki/.card.css.swp" not in effective.files
    assert set(effective.files) == set(Templates(tmp_path / "none").files)


def test_init_starts_a_guide_that_builds_and_never_overwrites(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "guide"
    result = CliRunner().invoke(main, ["init", str(folder)])
    assert result.exit_code == 0, result.output
    written = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert written == [".gitignore", "README.md", "source/01-first-steps.yaml",
                       "source/deck.yaml"]
    assert "/build/" in (folder / ".gitignore").read_text().splitlines()
    snapshot = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}

    again = CliRunner().invoke(main, ["init", str(folder)])
    assert again.exit_code == 1
    assert "already there" in again.stderr and "Traceback" not in again.output
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == snapshot

    project = Project(folder)
    monkeypatch.chdir(folder)  # the default --templates (templates/, absent) as a user runs it
    built = CliRunner().invoke(main, ["build"])
    assert built.exit_code == 0, built.output
    assert "2 notes" in built.output
    col = open_collection(tmp_path / "anki")
    assert import_apkg(col, project.apkg())["new"] == 2
    answer = card_for(col, "softmax").answer()
    assert r"\[\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}\]" in answer
    col.close()


def test_init_refuses_a_folder_with_any_of_its_files_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    (tmp_path / "source" / "deck.yaml").write_text("title: Mine\n")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'source' / 'deck.yaml'}: already there" in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["deck.yaml", "source"]


def test_init_templates_copies_every_default_once(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["init", "--templates", str(tmp_path)])
    assert result.exit_code == 0, result.output
    copied = Templates(tmp_path / "templates")
    for name, default in Templates(tmp_path / "nowhere").files.items():
        assert (tmp_path / "templates" / name).read_bytes() == default.read_bytes(), name
    assert set(copied.files) == set(Templates(tmp_path / "nowhere").files)
    again = CliRunner().invoke(main, ["init", "--templates", str(tmp_path)])
    assert again.exit_code == 1 and "already there" in again.stderr


def test_the_cache_is_in_the_platforms_cache_folder(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.delenv("DECKGEN_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "deckgen"  # Linux: platformdirs honours XDG
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"


_WINDOWS_RESERVED = re.compile(r"(CON|PRN|AUX|NUL|COM\d|LPT\d)(\..*)?", re.IGNORECASE)


def assert_portable_names(folder: Path) -> None:
    """Every name under `folder` is valid on Linux, macOS and Windows, and unique ignoring case."""
    paths = [p.relative_to(folder) for p in folder.rglob("*")]
    for path in paths:
        for part in path.parts:
            assert not re.search(r'[<>:"\\|?*\x00-\x1f]', part), path
            assert not _WINDOWS_RESERVED.fullmatch(part), path
            assert not part.endswith((".", " ")), path
    assert len({str(p).lower() for p in paths}) == len(paths)


def test_everything_deckgen_writes_has_portable_names(
    bare: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "cache"))
    assert CliRunner().invoke(main, ["init", str(tmp_path / "new")]).exit_code == 0
    assert CliRunner().invoke(main, ["init", "--templates", str(tmp_path / "new")]).exit_code == 0
    assert rebuilt(bare)
    for folder in (tmp_path / "new", bare.out, bare.source, tmp_path / "cache"):
        assert_portable_names(folder)


def test_without_signal_masks_ctrl_c_waits_for_the_swap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(signal, "pthread_sigmask")  # as on Windows
    done = []
    with pytest.raises(KeyboardInterrupt), deckgen.build._signals_held():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("the block ran to its end")
    assert done == ["the block ran to its end"]
