"""A failed or interrupted build leaves the previous outputs exactly as they were."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import deckgen.pdf
from conftest import Project


def snapshot(project: Project) -> dict[str, bytes]:
    files = project.outputs()
    files["deckgen.lock"] = (project.source / "deckgen.lock").read_bytes()
    return files


def no_leftovers(project: Project) -> bool:
    folders = (project.out, project.source)
    return not [p for f in folders for p in f.iterdir() if p.name.startswith(".")]


def test_interrupt_while_rendering_keeps_the_previous_outputs(
    mini: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mini.build().exit_code == 0
    before = snapshot(mini)
    (mini.source / "02-beta.yaml").write_text(
        (mini.source / "02-beta.yaml").read_text().replace("lower is better", "lower wins"))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deckgen.pdf, "html_to_pdf", interrupted)
    result = mini.build()
    assert result.exit_code == 130
    assert "interrupted: the previous outputs are untouched" in result.stderr
    assert snapshot(mini) == before
    assert no_leftovers(mini)


def test_a_rename_failing_midway_puts_the_old_files_back(
    mini: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mini.build().exit_code == 0
    before = snapshot(mini)
    (mini.source / "01-alpha.yaml").write_text(
        (mini.source / "01-alpha.yaml").read_text().replace("Zero for", "Nought for"))
    real_replace = os.replace
    calls: list[Path] = []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        calls.append(Path(dst))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    result = mini.build()
    assert result.exit_code == 1
    assert "cannot write the outputs" in result.stderr
    assert snapshot(mini) == before
    assert no_leftovers(mini)


def test_first_build_into_a_new_folder_writes_everything(mini: Project) -> None:
    result = mini.build()
    assert result.exit_code == 0
    assert sorted(mini.outputs()) == [
        "cheatsheet.html", "cheatsheet.pdf", "mini-deck.apkg",
        "study-guide.html", "study-guide.pdf",
    ]
    assert no_leftovers(mini)
