"""Each output is rebuilt when, and only when, one of its inputs changed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import deckgen.build
from conftest import Project
from deckgen.build import BuildOptions, build

ALL = ["deck", "cheatsheet", "study-guide", "flashcards"]


def options(project: Project, paper: str = "a4") -> BuildOptions:
    return BuildOptions(source=project.source, out=project.out, templates=project.templates,
                        paper=paper)


def rebuilt(project: Project, paper: str = "a4") -> list[str]:
    return build(options(project, paper)).rebuilt


@pytest.fixture
def fresh(mini: Project) -> Project:
    assert rebuilt(mini) == ALL
    return mini


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_nothing_changed_nothing_rebuilt_and_the_cli_says_so(fresh: Project) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in fresh.out.iterdir()}
    result = fresh.build()
    assert result.exit_code == 0
    assert result.stdout == f"everything in {fresh.out} is up to date\n"
    assert {p.name: p.stat().st_mtime_ns for p in fresh.out.iterdir()} == before


def test_touching_without_changing_rebuilds_nothing(fresh: Project) -> None:
    for path in fresh.source.iterdir():
        os.utime(path)
    assert rebuilt(fresh) == []


def test_a_source_edit_rebuilds_everything(fresh: Project) -> None:
    append(fresh.source / "02-beta.yaml", "")
    assert rebuilt(fresh) == []  # same bytes
    (fresh.source / "02-beta.yaml").write_text(
        (fresh.source / "02-beta.yaml").read_text().replace("lower is better", "lower wins"))
    assert rebuilt(fresh) == ALL
    assert rebuilt(fresh) == []


def test_a_card_template_edit_rebuilds_only_the_deck(fresh: Project) -> None:
    append(fresh.templates / "anki" / "card.css", "\n.question { color: teal; }\n")
    assert rebuilt(fresh) == ["deck"]


def test_a_document_template_edit_rebuilds_only_that_document(fresh: Project) -> None:
    append(fresh.templates / "pdf" / "cheatsheet.css", "\nh2 { letter-spacing: 0.01em; }\n")
    assert rebuilt(fresh) == ["cheatsheet"]
    append(fresh.templates / "pdf" / "fonts.css", "\n/* shared */\n")
    assert rebuilt(fresh) == ["cheatsheet", "study-guide", "flashcards"]


def test_another_paper_size_rebuilds_the_documents_only(fresh: Project) -> None:
    assert rebuilt(fresh, paper="letter") == ["cheatsheet", "study-guide", "flashcards"]
    assert rebuilt(fresh, paper="letter") == []


def test_a_deleted_or_altered_output_is_rebuilt(fresh: Project) -> None:
    (fresh.out / "study-guide.pdf").unlink()
    assert rebuilt(fresh) == ["study-guide"]
    assert (fresh.out / "study-guide.pdf").exists()
    with (fresh.out / "mini-deck.apkg").open("ab") as stream:
        stream.write(b"tampered")
    assert rebuilt(fresh) == ["deck"]


def test_a_new_deckgen_version_rebuilds_everything(
    fresh: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deckgen.build, "__version__", "99.0")
    assert rebuilt(fresh) == ALL


def test_a_lost_state_file_means_a_full_build(fresh: Project) -> None:
    (fresh.out / deckgen.build.STATE_FILE).unlink()
    assert rebuilt(fresh) == ALL


def test_the_lock_file_rewritten_by_a_deck_build_does_not_make_documents_stale(
    fresh: Project,
) -> None:
    (fresh.source / "deckgen.lock").unlink()
    assert rebuilt(fresh) == ["deck"]
    assert rebuilt(fresh) == []
